"""tocsin: offline-first early warning of nuclear escalation from open sources."""

__version__ = "0.1.0"
