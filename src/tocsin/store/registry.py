"""The source registry: list, add, show and grade sources; load them from YAML.

A grade is the NATO Admiralty reliability of a source, A (completely reliable) to F
(cannot be judged, the default). Every change is kept in ``source_grades`` with who
made it, when, and why.
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import sqlalchemy as sa
import yaml

from tocsin.errors import StoreError
from tocsin.store.db import GRADES, Store, clean_field, slugify
from tocsin.store.schema import documents, source_grades, sources

GRADE_MEANINGS = {
    "A": "completely reliable", "B": "usually reliable", "C": "fairly reliable",
    "D": "not usually reliable", "E": "unreliable", "F": "reliability cannot be judged",
}
FIELDS = ("id", "name", "kind", "language", "country", "state_affiliated", "homepage", "feed",
          "aliases", "grade")


def load_registry_file(path: Path) -> list[dict[str, Any]]:
    """Sources from a YAML file with a top-level ``sources:`` list."""
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as exc:
        raise StoreError(f"{path}: cannot read the source registry: {exc}") from exc
    records = (data or {}).get("sources") if isinstance(data, dict) else None
    if not isinstance(records, list):
        raise StoreError(f"{path}: expected a top-level `sources:` list")
    for index, record in enumerate(records):
        if not isinstance(record, dict) or not record.get("name"):
            raise StoreError(f"{path}: sources[{index}] needs at least a `name`")
        where = f"{path}: sources[{index}] ({record['name']})"
        unknown = set(record) - set(FIELDS)
        if unknown:
            raise StoreError(f"{where}: unknown field(s) {sorted(unknown)}; "
                             f"known: {list(FIELDS)}")
        for key, value in record.items():
            if value is None:
                continue
            if key == "aliases":
                if not isinstance(value, list) or not all(isinstance(a, str) for a in value):
                    raise StoreError(f"{where}: aliases must be a list of names, e.g. [NGW]")
            elif key == "state_affiliated":
                if not isinstance(value, bool):
                    raise StoreError(f"{where}: state_affiliated must be true or false")
            elif not isinstance(value, str):
                # YAML reads NO (Norway) as false and 1 as a number: quote them
                raise StoreError(f"{where}: {key} must be a quoted string, got {value!r}")
    return records


def source_names(engine: Any) -> list[dict[str, Any]]:
    """Id, name, aliases and language of every source: what attributions look up."""
    with engine.connect() as conn:
        return [dict(r._mapping) for r in conn.execute(
            sa.select(sources.c.id, sources.c.name, sources.c.aliases, sources.c.language))]


def list_sources(store: Store) -> list[dict[str, Any]]:
    # Counted in a subquery: PostgreSQL cannot GROUP BY a json column (aliases).
    counts = (sa.select(documents.c.source_id, sa.func.count().label("n"))
              .group_by(documents.c.source_id).subquery())
    query = (sa.select(sources, sa.func.coalesce(counts.c.n, 0).label("documents"))
             .select_from(sources.outerjoin(counts, counts.c.source_id == sources.c.id))
             .order_by(sources.c.name))
    with store.engine.connect() as conn:
        return [dict(r._mapping) for r in conn.execute(query)]


def find_source(store: Store, key: str) -> dict[str, Any] | None:
    """A source by id, name or alias (case-insensitive, Cyrillic included)."""
    wanted = key.casefold()
    for row in list_sources(store):
        names = [row["id"], row["name"], *(row["aliases"] or [])]
        if wanted in {str(n).casefold() for n in names}:
            return row
    return None


def grade_history(store: Store, source_id: str) -> list[dict[str, Any]]:
    with store.engine.connect() as conn:
        rows = conn.execute(sa.select(source_grades)
                            .where(source_grades.c.source_id == source_id)
                            .order_by(source_grades.c.changed_at, source_grades.c.id))
        return [dict(r._mapping) for r in rows]


def add_source(store: Store, record: dict[str, Any], changed_by: str) -> str:
    record = {k: clean_field(v) for k, v in record.items()}
    source_id = record.get("id") or slugify(record["name"])
    if find_source(store, source_id) or find_source(store, record["name"]):
        raise StoreError(f"a source named {record['name']!r} ({source_id}) already exists; "
                         "use `tocsin sources grade` to change its grade")
    store.upsert_sources([{**record, "id": source_id}], changed_by=changed_by, note="added")
    return source_id


def set_grade(store: Store, key: str, grade: str, changed_by: str,
              note: str = "") -> dict[str, Any]:
    grade = grade.upper()
    if grade not in GRADES:
        raise StoreError(f"grade {grade!r} is not one of A-F ({', '.join(GRADES)})")
    source = find_source(store, key)
    if source is None:
        raise StoreError(f"no source {key!r}; see `tocsin sources list`")
    with store.engine.begin() as conn:
        conn.execute(sources.update().where(sources.c.id == source["id"]).values(grade=grade))
        conn.execute(source_grades.insert().values(
            source_id=source["id"], grade=grade, previous=source["grade"], changed_by=changed_by,
            changed_at=datetime.now(UTC), note=note))
    return {**source, "grade": grade}
