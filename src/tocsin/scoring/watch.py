"""Watches: a theatre as data (scope, weights, baselines, levels, alert rules).

A watch lives in a pack's ``watches/`` folder, one YAML file per watch. It is checked
when loaded; a problem raises PackError naming the file and line.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from tocsin.indicators.pack import Pack
from tocsin.indicators.yamlfile import LINE, PackError, load_yaml, strip_lines

GRADES = "ABCDEF"
POLARITIES = ("asserted", "reported", "hypothetical", "denied")
LEVELS = ("watch", "warning", "critical")


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Scope(_Strict):
    countries: frozenset[str] = frozenset()
    actors: frozenset[str] = frozenset()
    places: frozenset[str] = frozenset()
    weapons: frozenset[str] = frozenset()


class Category(_Strict):
    weight: float = Field(1.0, ge=0)
    against: bool = False


class Baseline(_Strict):
    bucket: Literal["day", "hour"] = "day"
    days: int = Field(28, ge=1, le=366)
    min_history: int = Field(7, ge=0)
    floor: float = Field(0.5, gt=0)
    band: float = Field(1.0, ge=0)  # spreads above the median that are still usual


class IndexShape(_Strict):
    category_scale: float = Field(1.5, gt=0)
    scale: float = Field(3.0, gt=0)


class Rule(_Strict):
    id: str
    kind: Literal["index", "spike", "confirmed", "convergence"]
    level: Literal["watch", "warning", "critical"] = "warning"
    min_anomaly: float = 3.0
    min_value: float = 1.0
    min_origins: int = Field(2, ge=1)
    min_severity: int = Field(4, ge=1, le=5)
    max_grade: Literal["A", "B", "C", "D", "E", "F"] = "C"
    min_categories: int = Field(3, ge=2)
    min_index: float = Field(0, ge=0, le=100)
    exclude_categories: frozenset[str] = frozenset()

    def applies(self, category: str) -> bool:
        return category not in self.exclude_categories


class Watch(_Strict):
    id: str = Field(pattern=r"^[a-z0-9][a-z0-9-]*$")
    title: str = ""
    description: str = ""
    scope: Scope = Scope()
    reliability: dict[str, float] = Field(
        default_factory=lambda: {"A": 1.0, "B": 0.85, "C": 0.7, "D": 0.4, "E": 0.25, "F": 0.5})
    severity: dict[int, float] = Field(
        default_factory=lambda: {1: 0.2, 2: 0.4, 3: 0.6, 4: 0.8, 5: 1.0})
    polarity: dict[str, float] = Field(
        default_factory=lambda: {"asserted": 1.0, "reported": 0.8, "hypothetical": 0.2,
                                 "denied": 0.0})
    credibility: dict[int, float] = Field(
        default_factory=lambda: {1: 1.0, 2: 0.9, 3: 0.75, 4: 0.5, 5: 0.1, 6: 0.5})
    # per category, polarity factors that differ from `polarity` (threats are conditional)
    category_polarity: dict[str, dict[str, float]] = Field(default_factory=dict)
    # weight kept by an origin that both affirms and denies an indicator in one bucket
    contested: float = Field(0.5, ge=0, le=1)
    credibility_window_days: float = Field(3, gt=0)
    categories: dict[str, Category] = Field(default_factory=dict)
    indicators: dict[str, float] = Field(default_factory=dict)
    baseline: Baseline = Baseline()
    index: IndexShape = IndexShape()
    levels: dict[str, float] = Field(
        default_factory=lambda: {"watch": 25.0, "warning": 45.0, "critical": 70.0})
    rules: tuple[Rule, ...] = ()
    cooldown_hours: float = Field(72, gt=0)
    max_alert_days: float = Field(14, gt=0)
    where: str = ""

    @field_validator("reliability")
    @classmethod
    def _grades(cls, value: dict[str, float]) -> dict[str, float]:
        if set(value) != set(GRADES):
            raise ValueError(f"needs exactly the grades {list(GRADES)}")
        return value

    @field_validator("severity")
    @classmethod
    def _severities(cls, value: dict[int, float]) -> dict[int, float]:
        if set(value) != {1, 2, 3, 4, 5}:
            raise ValueError("needs the keys 1 to 5")
        return value

    @field_validator("polarity")
    @classmethod
    def _polarities(cls, value: dict[str, float]) -> dict[str, float]:
        if set(value) != set(POLARITIES):
            raise ValueError(f"needs exactly {list(POLARITIES)}")
        return value

    @field_validator("credibility")
    @classmethod
    def _credibilities(cls, value: dict[int, float]) -> dict[int, float]:
        if set(value) != {1, 2, 3, 4, 5, 6}:
            raise ValueError("needs the keys 1 to 6")
        return value

    @field_validator("levels")
    @classmethod
    def _levels(cls, value: dict[str, float]) -> dict[str, float]:
        if set(value) != set(LEVELS) or not (
                0 < value["watch"] < value["warning"] < value["critical"] <= 100):
            raise ValueError("needs 0 < watch < warning < critical <= 100")
        return value

    @field_validator("rules")
    @classmethod
    def _unique(cls, value: tuple[Rule, ...]) -> tuple[Rule, ...]:
        if len({r.id for r in value}) != len(value):
            raise ValueError("rule ids must be unique")
        return value

    def level_of(self, index: float) -> str | None:
        """The highest level ``index`` reaches, or None below `watch`."""
        reached = [name for name in LEVELS if index >= self.levels[name]]
        return reached[-1] if reached else None

    def category(self, name: str) -> Category:
        return self.categories.get(name, Category())


def level_rank(level: str | None) -> int:
    return LEVELS.index(level) + 1 if level in LEVELS else 0


def _check_against_pack(watch: Watch, pack: Pack, file: Path, data: dict[str, Any]) -> None:
    """Names the watch uses that the pack does not define; each problem with its line."""
    categories = {i.category for i in pack.indicators}
    indicators = {i.id for i in pack.indicators}
    ids: dict[str, set[str]] = {}
    for entity in pack.entities:
        ids.setdefault(entity.type, set()).add(entity.id)
    actors = ids.get("actor", set()) | ids.get("organization", set())
    problems: list[tuple[tuple[Any, ...], str]] = []
    problems += [(("categories", c), f"unknown category {c!r}") for c in watch.categories
                 if c not in categories]
    for c, factors in watch.category_polarity.items():
        if c not in categories:
            problems.append((("category_polarity", c), f"unknown category {c!r}"))
        problems += [(("category_polarity", c), f"unknown polarity {p!r}")
                     for p in factors if p not in POLARITIES]
    problems += [(("indicators",), f"unknown indicator {i!r}") for i in watch.indicators
                 if i not in indicators]
    for n, rule in enumerate(watch.rules):
        problems += [(("rules", n), f"rule {rule.id}: unknown category {c!r}")
                     for c in sorted(rule.exclude_categories) if c not in categories]
    for kind, known in (("actors", actors), ("places", ids.get("place", set())),
                        ("weapons", ids.get("weapon", set()))):
        problems += [(("scope",), f"scope.{kind}: unknown {kind[:-1]} {x!r}")
                     for x in sorted(getattr(watch.scope, kind)) if x not in known]
    if problems:
        raise PackError("; ".join(
            f"{file}:{_line_of(data, path) or data.get(LINE, 1)}: {message}"
            for path, message in problems))


def _read(file: Path) -> tuple[Watch, dict[str, Any]]:
    data = load_yaml(file)
    if not isinstance(data, dict):
        raise PackError(f"{file}:1: a watch must be a mapping")
    where = f"{file}:{data.get(LINE, 1)}"
    try:
        return Watch.model_validate({**strip_lines(data), "where": where}), data
    except ValidationError as exc:
        first = exc.errors()[0]
        path = ".".join(str(p) for p in first["loc"])
        line = _line_of(data, first["loc"]) or data.get(LINE, 1)
        message = str(first["msg"]).removeprefix("Value error, ")
        raise PackError(f"{file}:{line}: {path}: {message}") from exc


def _line_of(data: Any, loc: tuple[Any, ...]) -> int | None:
    line = None
    node = data
    for key in loc:
        if isinstance(node, dict) and key in node:
            node = node[key]
        elif isinstance(node, list) and isinstance(key, int) and key < len(node):
            node = node[key]
        else:
            break
        if isinstance(node, dict):
            line = node.get(LINE, line)
    return line


def load_watches(pack: Pack) -> dict[str, Watch]:
    """The watches of ``pack``, by id (empty if the pack has none)."""
    watches: dict[str, Watch] = {}
    for file in sorted((pack.path / "watches").glob("*.yaml")):
        watch, data = _read(file)
        if watch.id in watches:
            raise PackError(f"{watch.where}: watch {watch.id!r} is defined twice")
        _check_against_pack(watch, pack, file, data)
        watches[watch.id] = watch
    return watches


def select(watches: dict[str, Watch], name: str | None) -> list[Watch]:
    """One watch by id, or all of them."""
    if name is None:
        return list(watches.values())
    if name not in watches:
        known = ", ".join(watches) or "none"
        raise PackError(f"no watch {name!r} in the pack (known: {known})")
    return [watches[name]]
