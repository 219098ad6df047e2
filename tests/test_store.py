"""The store: migrations agree with the schema; documents survive a round trip intact."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tocsin.errors import StoreError
from tocsin.model import Document, Rejection
from tocsin.store.db import alembic_config, open_store
from tocsin.store.queries import get_document
from tocsin.store.schema import managed, metadata
from tocsin.text.normalize import normalize
from tocsin.text.prepare import document_hash


def make_doc(text: str, source: str = "Desk", published: datetime | None = None) -> Document:
    return Document(
        doc_hash=document_hash(source, text), source=source, text=text, title="t", url=None,
        language="uk", language_confidence=0.9, published_at=published, published_raw=None,
        date_flag=None, sentences=[(0, len(text))], origin="test")


def test_migrations_build_exactly_the_schema(tmp_path: Path) -> None:
    store = open_store(f"sqlite:///{tmp_path / 'a.db'}")
    with store.engine.connect() as conn:
        context = MigrationContext.configure(conn, opts={"include_name": managed})
        diff = compare_metadata(context, metadata)
    assert diff == []
    with store.engine.connect() as conn:
        assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        assert conn.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1


def test_opening_twice_is_harmless(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'a.db'}"
    open_store(url).close()
    store = open_store(url)
    with store.engine.connect() as conn:
        version = conn.exec_driver_sql("SELECT version_num FROM alembic_version").scalar()
    head = ScriptDirectory.from_config(alembic_config()).get_current_head()
    assert version == head and head is not None


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory):
    s = open_store(f"sqlite:///{tmp_path_factory.mktemp('db') / 'rt.db'}")
    yield s
    s.close()


@settings(max_examples=60, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    text=st.text(alphabet=st.characters(codec="utf-8", exclude_categories=("Cs",)), min_size=1)
    | st.sampled_from(["Ядерна безпека — «понад усе»", "l'arme nucléaire", "Ё ё ї ґ"]),
    source=st.sampled_from(["Сводка-24", "L'Écho des Deux Rives", "Desk"]),
    minutes=st.integers(min_value=0, max_value=60 * 24 * 365 * 4),
)
def test_round_trip_keeps_text_and_time_exactly(store, text: str, source: str,
                                                minutes: int) -> None:
    text = normalize(text) or "x"
    published = datetime(2022, 1, 1, tzinfo=UTC) + timedelta(minutes=minutes, microseconds=7)
    run = store.begin_run(["test"])
    doc = make_doc(text, source, published)
    result = store.write_batch(run, [doc], [])
    new, known = result.new, result.known
    assert new + known == 1
    with store.engine.connect() as conn:
        doc_id = conn.execute(sa.text("SELECT id FROM documents WHERE doc_hash = :h"),
                              {"h": doc.doc_hash}).scalar_one()
    stored = get_document(store.engine, str(doc_id))
    assert stored is not None
    assert stored["text"] == text and stored["source"] == source
    if new:
        assert stored["published_at"] == published


def test_a_failing_batch_leaves_nothing_behind(tmp_path: Path) -> None:
    store = open_store(f"sqlite:///{tmp_path / 'a.db'}")
    run = store.begin_run(["x"])
    good = make_doc("A good document about grain.")
    bad = make_doc("Naive time", published=datetime(2023, 1, 1))  # naive: refused
    with pytest.raises(StoreError):
        store.write_batch(run, [good, bad], [Rejection("f", "empty", "no text")])
    with store.engine.connect() as conn:
        assert conn.exec_driver_sql("SELECT count(*) FROM documents").scalar() == 0
        assert conn.exec_driver_sql("SELECT count(*) FROM quarantine").scalar() == 0
        assert conn.exec_driver_sql("SELECT count(*) FROM sources").scalar() == 0
    assert store.write_batch(run, [good], []).new == 1


def test_sources_registry_resolves_aliases_and_checks_grades(tmp_path: Path) -> None:
    store = open_store(f"sqlite:///{tmp_path / 'a.db'}")
    store.upsert_sources([{"id": "svodka-24", "name": "Сводка-24", "aliases": ["Сводка 24"],
                           "grade": "e", "kind": "aggregator"}])
    run = store.begin_run(["x"])
    store.write_batch(run, [make_doc("один", source="сводка 24"), make_doc("два", "Новый")], [])
    with store.engine.connect() as conn:
        rows = dict(conn.exec_driver_sql(
            "SELECT d.text, s.id || ':' || s.grade FROM documents d JOIN sources s "
            "ON s.id = d.source_id").all())
    assert rows == {"один": "svodka-24:E", "два": "новый:F"}
    with pytest.raises(StoreError, match="grade 'Z'"):
        store.upsert_sources([{"name": "Bad", "grade": "Z"}])


def test_unusable_database_url_is_a_clear_error() -> None:
    with pytest.raises(StoreError, match="invalid database URL"):
        open_store("nosuchdialect://x")


def test_migrations_go_down_and_up_again(tmp_path: Path) -> None:
    from alembic import command

    store = open_store(f"sqlite:///{tmp_path / 'a.db'}")
    config = alembic_config()
    with store.engine.begin() as connection:
        config.attributes["connection"] = connection
        command.downgrade(config, "base")
    with store.engine.connect() as conn:
        tables = set(sa.inspect(conn).get_table_names())
    assert tables <= {"alembic_version"}
    store.migrate()
    with store.engine.connect() as conn:
        context = MigrationContext.configure(conn, opts={"include_name": managed})
        assert compare_metadata(context, metadata) == []


def test_the_head_a_store_is_checked_against_is_alembics(tmp_path: Path) -> None:
    from tocsin.store.db import HEAD

    assert ScriptDirectory.from_config(alembic_config()).get_current_head() == HEAD
    store = open_store(f"sqlite:///{tmp_path / 'a.db'}")
    try:  # a store at the head opens without Alembic; one behind it is migrated
        assert store.version() == HEAD
        with store.engine.begin() as conn:
            conn.execute(sa.text("UPDATE alembic_version SET version_num = '0010'"))
            conn.exec_driver_sql("DROP INDEX IF EXISTS ix_documents_effective_time")
        store.migrate()
        assert store.version() == HEAD
    finally:
        store.close()
