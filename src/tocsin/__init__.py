"""tocsin: offline-first early warning of nuclear escalation from open sources.

``tocsin.analyze(text)`` finds the warning signs in one text; ``tocsin.open_store(url)``
opens a store for everything else (ingest, search, alerts, reviews, grades, replay,
backtest). See ``tocsin.api``. Names load on first use, so importing tocsin is cheap.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

if TYPE_CHECKING:
    from tocsin.api import Analyzer, Realerted, Tocsin, analyze, load, open_store
    from tocsin.errors import InputError, NotFound, TocsinError

__all__ = ["Analyzer", "InputError", "NotFound", "Realerted", "Tocsin", "TocsinError",
           "__version__", "analyze", "load", "open_store"]
_API = ("Analyzer", "Realerted", "Tocsin", "analyze", "load", "open_store")
_ERRORS = ("TocsinError", "NotFound", "InputError")


def __getattr__(name: str) -> Any:
    if name in _API:
        from tocsin import api

        return getattr(api, name)
    if name in _ERRORS:
        from tocsin import errors

        return getattr(errors, name)
    raise AttributeError(f"module 'tocsin' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(__all__)
