"""Onward's three services; each owns its database and its Kafka consumer group."""
