"""Alerts: deciding when to warn, and delivering the warnings through channels."""
