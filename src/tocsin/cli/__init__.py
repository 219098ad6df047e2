"""The tocsin command line: thin commands over ``tocsin.api``, one module per area.

The modules register their commands when imported, in the order of the flow (ingest and
documents, finding, stories, detection, alerts, delivery, sources): `tocsin --help`
lists them so.
"""

from importlib import import_module

from tocsin.cli.common import EXIT_REJECTED, app

for _area in ("main", "find", "stories", "rules", "alerts", "delivery", "sources"):
    import_module(f"tocsin.cli.{_area}")

__all__ = ["EXIT_REJECTED", "app"]
