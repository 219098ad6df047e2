"""Indicator packs: a folder of YAML files, loaded into typed records.

    <pack>/pack.yaml              id, title, version, languages, gazetteer
    <pack>/languages/<lang>.yaml  concepts (term lists) and polarity cues of one language
    <pack>/indicators/*.yaml      indicators, each with its own examples
    <pack>/weapons.yaml           delivery systems   (entities of type weapon)
    <pack>/actors.yaml            people and bodies  (entities of type actor / organization)
    <pack>/places.yaml            named watch areas  (entities of type place)
    <pack>/eval/<lang>.jsonl      labelled sentences for `tocsin eval`

The format is described by ``schema/indicator.schema.json``.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

from tocsin.indicators.yamlfile import LINE, PackError, load_yaml

BUILTIN = "nuclear"
CUE_KINDS = ("negation", "negation_exceptions", "denial", "hypothetical", "reported",
             "clause")


@dataclass(frozen=True)
class Clause:
    all: tuple[str, ...] = ()
    any: tuple[str, ...] = ()
    none: tuple[str, ...] = ()


@dataclass(frozen=True)
class Example:
    language: str
    text: str
    expect: bool  # True: must match; False: must not
    polarity: str | None
    where: str


@dataclass
class Indicator:
    id: str
    title: str
    category: str
    severity: int
    status: str
    description: str
    clauses: tuple[Clause, ...]
    terms: dict[str, list[str]]
    references: list[str]
    falsepositives: list[str]
    examples: list[Example]
    where: str
    raw: dict[str, Any] = field(repr=False, default_factory=dict)


@dataclass
class Entity:
    type: str  # actor | organization | place | weapon
    id: str
    name: str
    names: dict[str, list[str]]
    ambiguous: frozenset[str]
    attrs: dict[str, Any]
    where: str


@dataclass
class Pack:
    id: str
    title: str
    version: str
    languages: tuple[str, ...]
    path: Path
    concepts: dict[str, dict[str, list[str]]]  # language -> concept -> terms
    cues: dict[str, dict[str, list[str]]]  # language -> cue kind -> terms
    indicators: list[Indicator]
    entities: list[Entity]
    gazetteer: dict[str, Any]
    digest: str
    files: dict[str, Any] = field(repr=False, default_factory=dict)  # path -> raw data
    anchors: tuple[str, ...] = ()  # concepts that make a sentence speak of nuclear matters
    overrides: dict[str, list[str]] = field(default_factory=dict)  # exclusion -> lifted by
    sentence_exclusions: tuple[str, ...] = ()  # exclusions that veto the whole sentence

    def concept_names(self) -> set[str]:
        return {name for per_lang in self.concepts.values() for name in per_lang}


def builtin_pack_path(name: str = BUILTIN) -> Path:
    return Path(str(resources.files("tocsin.packs").joinpath(name)))


def resolve_pack(name_or_path: str | Path | None) -> Path:
    """A pack given by built-in name or by folder path."""
    if name_or_path is None:
        return builtin_pack_path()
    candidate = Path(name_or_path)
    if candidate.is_dir():
        return candidate
    if isinstance(name_or_path, str) and "/" not in name_or_path:
        builtin = builtin_pack_path(name_or_path)
        if builtin.is_dir():
            return builtin
    raise PackError(f"{name_or_path}: no such pack (give a folder or a built-in name: "
                    f"{BUILTIN})")


def pack_files(path: Path) -> list[Path]:
    files = [p for p in sorted(path.rglob("*")) if p.is_file()
             and p.suffix in (".yaml", ".yml", ".jsonl") and not p.name.startswith(".")]
    return files


def pack_digest(path: Path) -> str:
    digest = hashlib.sha256()
    for file in pack_files(path):
        if file.relative_to(path).parts[0] == "watches":
            continue  # watches do not change what detection compiles
        digest.update(str(file.relative_to(path)).encode())
        digest.update(b"\x00")
        digest.update(file.read_bytes())
    return digest.hexdigest()


def _where(file: Path, node: Any) -> str:
    line = node.get(LINE) if isinstance(node, dict) else None
    return f"{file}:{line}" if line else str(file)


def _str_list(value: Any) -> list[str]:
    if value is None:
        return []
    if isinstance(value, str):
        return [value]
    bad = [v for v in value if isinstance(v, bool) or v is None]
    if bad:
        # YAML reads a bare no/yes/off/on as a boolean and a bare ~ as null: quote them.
        raise PackError(f"{bad!r} in {list(value)!r}: quote yes/no/on/off/null terms")
    return [str(v) for v in value]


def read_meta(path: Path) -> dict[str, Any]:
    """A pack folder's pack.yaml (id, title, version...), checked to be one."""
    meta_file = path / "pack.yaml"
    if not meta_file.is_file():
        raise PackError(f"{path}: not a pack (no pack.yaml)")
    meta = load_yaml(meta_file) or {}
    if not isinstance(meta, dict) or "id" not in meta:
        raise PackError(f"{meta_file}:1: pack.yaml needs at least `id` and `languages`")
    return meta


def load_pack(name_or_path: str | Path | None = None) -> Pack:
    """Read a pack folder. Structural problems raise PackError with file:line; softer
    problems are reported by ``lint``."""
    path = resolve_pack(name_or_path)
    meta_file = path / "pack.yaml"
    meta = read_meta(path)
    languages = tuple(_str_list(meta.get("languages")))
    files: dict[str, Any] = {str(meta_file): meta}

    concepts: dict[str, dict[str, list[str]]] = {}
    cues: dict[str, dict[str, list[str]]] = {}
    for file in sorted((path / "languages").glob("*.yaml")):
        data = load_yaml(file) or {}
        files[str(file)] = data
        lang = str(data.get("language") or file.stem)
        try:
            concepts[lang] = {str(k): _str_list(v) for k, v in
                              (data.get("concepts") or {}).items() if k != LINE}
            cues[lang] = {k: _str_list((data.get("cues") or {}).get(k)) for k in CUE_KINDS}
        except PackError as exc:
            raise PackError(f"{file}: {exc}") from exc

    indicators: list[Indicator] = []
    for file in sorted((path / "indicators").glob("*.yaml")):
        data = load_yaml(file) or {}
        files[str(file)] = data
        for node in data.get("indicators") or []:
            indicators.append(_indicator(file, node))

    entities: list[Entity] = []
    for name, default_type in (("weapons", "weapon"), ("actors", "actor"), ("places", "place")):
        file = path / f"{name}.yaml"
        if not file.is_file():
            continue
        data = load_yaml(file) or {}
        files[str(file)] = data
        for node in data.get(name) or []:
            entities.append(_entity(file, node, default_type))

    return Pack(
        id=str(meta["id"]), title=str(meta.get("title") or meta["id"]),
        version=str(meta.get("version") or "0"), languages=languages, path=path,
        concepts=concepts, cues=cues, indicators=indicators, entities=entities,
        gazetteer=dict(meta.get("gazetteer") or {}), digest=pack_digest(path), files=files,
        anchors=tuple(_str_list(meta.get("anchors"))),
        overrides={str(k): _str_list(v) for k, v in (meta.get("overrides") or {}).items()
                   if k != LINE},
        sentence_exclusions=tuple(_str_list(meta.get("sentence_exclusions"))),
    )


def _indicator(file: Path, node: Any) -> Indicator:
    where = _where(file, node)
    if not isinstance(node, dict) or "id" not in node:
        raise PackError(f"{where}: an indicator must be a mapping with an `id`")
    # `requires` (concepts every clause needs, e.g. state-actor) and `exclude` (concepts
    # that veto every clause, e.g. history) apply to all clauses.
    requires = _str_list(node.get("requires"))
    exclude = _str_list(node.get("exclude"))
    match = node.get("match")
    items = [{"any": ["self"]}] if match is None else (
        match if isinstance(match, list) else [match])
    clauses = tuple(
        Clause(all=tuple(_str_list(c.get("all")) + requires),
               any=tuple(_str_list(c.get("any"))),
               none=tuple(_str_list(c.get("none")) + exclude))
        for c in items if isinstance(c, dict))
    examples: list[Example] = []
    for expect_key, expect in (("match", True), ("nomatch", False)):
        for ex in (node.get("examples") or {}).get(expect_key) or []:
            if isinstance(ex, dict):
                examples.append(Example(str(ex.get("lang", "")), str(ex.get("text", "")), expect,
                                        ex.get("polarity"), _where(file, ex)))
    terms = {str(k): _str_list(v) for k, v in (node.get("terms") or {}).items() if k != LINE}
    return Indicator(
        id=str(node["id"]), title=str(node.get("title", "")),
        category=str(node.get("category", "")), severity=int(node.get("severity") or 0),
        status=str(node.get("status", "experimental")),
        description=str(node.get("description", "")), clauses=clauses, terms=terms,
        references=_str_list(node.get("references")),
        falsepositives=_str_list(node.get("falsepositives")), examples=examples, where=where,
        raw=node,
    )


def _entity(file: Path, node: Any, default_type: str) -> Entity:
    where = _where(file, node)
    if not isinstance(node, dict) or "id" not in node or "names" not in node:
        raise PackError(f"{where}: an entity needs `id` and `names`")
    kind = default_type
    if default_type == "actor" and node.get("type") == "organization":
        kind = "organization"
    names = {str(k): _str_list(v) for k, v in (node.get("names") or {}).items() if k != LINE}
    attrs = {k: v for k, v in node.items() if k not in ("id", "name", "names", "ambiguous", LINE)}
    return Entity(type=kind, id=str(node["id"]), name=str(node.get("name") or node["id"]),
                  names=names, ambiguous=frozenset(_str_list(node.get("ambiguous"))),
                  attrs=attrs, where=where)
