"""The tocsin command line: thin commands over ``tocsin.api``, one module per area."""

from tocsin.cli import alerts, delivery, find, main, rules, sources, stories  # noqa: F401
from tocsin.cli.common import EXIT_REJECTED, app

__all__ = ["EXIT_REJECTED", "app"]
