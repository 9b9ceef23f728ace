"""Shared state in Redis: one module per component, each a twin of the SQLite class it
replaces, with the same public methods. ``sandbox.state.select`` picks SQLite or these.

With ``--redis URL`` several sandbox processes, on one machine or many behind a load balancer,
act as one sandbox: records, rate-limit counters, API keys, OAuth grants and the signing key,
webhook subscriptions and deliveries, idempotency keys, scenarios and the request journal all
live in that Redis, under one prefix per spec (``connection.spec_prefix``).
"""
