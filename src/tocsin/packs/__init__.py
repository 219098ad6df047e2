"""Built-in indicator packs (data only)."""
