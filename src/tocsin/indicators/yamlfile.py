"""YAML with line numbers, so that every pack problem can say file:line.

Parsing goes through libyaml (PyYAML's C loader, ten times faster than the pure-Python
one: the built-in pack's files take ~50 ms instead of ~500 ms). libyaml reports the
start of every node too, so the line numbers are the same. When a file does not parse,
it is read again with the pure-Python loader, whose messages are the reference for what
went wrong and where; PyYAML built without libyaml uses the pure-Python loader always.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from tocsin.errors import TocsinError

LINE = "__line__"
# PyYAML without libyaml has no CSafeLoader: everything then goes the pure-Python way.
_FAST_BASE: type[yaml.SafeLoader] = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


class PackError(TocsinError):
    """A pack file cannot be read; the message starts with file:line."""


class _LineLoader(yaml.SafeLoader):
    """SafeLoader that records, in each mapping, the line where it starts."""


class _FastLineLoader(_FAST_BASE):  # type: ignore[valid-type,misc]
    """The same over libyaml."""


def _construct_mapping(loader: yaml.SafeLoader, node: yaml.MappingNode) -> dict[str, Any]:
    mapping = {str(k): v for k, v in loader.construct_mapping(node, deep=True).items()}
    mapping[LINE] = node.start_mark.line + 1
    return mapping


for _loader in (_LineLoader, _FastLineLoader):
    _loader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _construct_mapping)


def load_yaml(path: Path) -> Any:
    """Parse one YAML file; mappings carry ``__line__``. Raises PackError with file:line."""
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise PackError(f"{path}: cannot read: {exc}") from exc
    try:
        return yaml.load(text, Loader=_FastLineLoader)  # noqa: S506 - a SafeLoader
    except yaml.YAMLError:
        pass  # located below, by the reference loader
    try:
        return yaml.load(text, Loader=_LineLoader)  # noqa: S506 - a SafeLoader subclass
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark
        where = f"{path}:{mark.line + 1}" if mark else str(path)
        raise PackError(f"{where}: invalid YAML: {exc.problem}") from exc
    except yaml.YAMLError as exc:
        raise PackError(f"{path}: invalid YAML: {exc}") from exc


def load_plain(text: str) -> Any:
    """Parse YAML that needs no line numbers (the package's own data files), fast."""
    return yaml.load(text, Loader=_FAST_BASE)  # noqa: S506 - a SafeLoader


def strip_lines(value: Any) -> Any:
    """The same data without the ``__line__`` keys (for JSON Schema validation, output)."""
    if isinstance(value, dict):
        return {k: strip_lines(v) for k, v in value.items() if k != LINE}
    if isinstance(value, list):
        return [strip_lines(v) for v in value]
    return value
