"""Onward's shared plumbing: settings, database, outbox relay, idempotent consumer, auth, logs, CLI.

Written once here and used by all three services (house rule 6: one way to do each thing).
"""
