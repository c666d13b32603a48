"""Onward's wire contracts: event models, the topic registry and the identifier rules they rely on."""
