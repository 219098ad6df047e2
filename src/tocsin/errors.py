"""One exception base for tocsin; every message says what, where, and what to do."""

from __future__ import annotations


class TocsinError(Exception):
    """Base of every error tocsin raises on purpose."""


class ConfigError(TocsinError):
    """A setting is missing or invalid; the message names the setting."""


class NotFound(TocsinError):
    """An id or a name that the store or the pack does not hold (the message says where
    to find the right ones)."""


class StoreError(TocsinError):
    """The database cannot be opened, migrated or written."""


class InputError(TocsinError):
    """One input cannot be turned into a document.

    ``reason`` is a short stable code (``empty``, ``too-large``, ``undecodable``,
    ``invalid-json``, ``forbidden-xml``, ...) used to count and filter the quarantine;
    ``where`` is the file (and line) or ``<stdin>:line``.
    """

    def __init__(self, reason: str, message: str, where: str = "", line: int | None = None):
        self.reason = reason
        self.message = message
        self.where = where
        self.line = line
        super().__init__(f"{self.location}: {reason}: {message}" if self.location else message)

    @property
    def location(self) -> str:
        if self.line is None:
            return self.where
        return f"{self.where}:{self.line}"
