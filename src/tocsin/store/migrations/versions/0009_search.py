"""full-text search over documents: SQLite FTS5 (an external-content index kept by
triggers), PostgreSQL text search (a GIN expression index)

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-08
"""

from __future__ import annotations

from alembic import op

from tocsin.store.search import POSTGRES_VECTOR

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None

# unicode61 folds case for Cyrillic and Latin alike; remove_diacritics 2 finds "Kyiv" in
# "Kýiv" and folds й/ё only where Unicode decomposes them (й is kept: it is a letter).
SQLITE = [
    "CREATE VIRTUAL TABLE documents_fts USING fts5(title, text, content='documents', "
    "content_rowid='id', tokenize='unicode61 remove_diacritics 2')",
    "CREATE TRIGGER documents_fts_insert AFTER INSERT ON documents BEGIN "
    "INSERT INTO documents_fts(rowid, title, text) VALUES (new.id, new.title, new.text); END",
    "CREATE TRIGGER documents_fts_delete AFTER DELETE ON documents BEGIN "
    "INSERT INTO documents_fts(documents_fts, rowid, title, text) "
    "VALUES ('delete', old.id, old.title, old.text); END",
    "CREATE TRIGGER documents_fts_update AFTER UPDATE OF title, text ON documents BEGIN "
    "INSERT INTO documents_fts(documents_fts, rowid, title, text) "
    "VALUES ('delete', old.id, old.title, old.text); "
    "INSERT INTO documents_fts(rowid, title, text) VALUES (new.id, new.title, new.text); END",
    "INSERT INTO documents_fts(documents_fts) VALUES ('rebuild')",
]


def upgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        for statement in SQLITE:
            op.execute(statement)
    else:
        op.execute(f"CREATE INDEX ix_documents_search ON documents USING gin ({POSTGRES_VECTOR})")


def downgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        for name in ("insert", "delete", "update"):
            op.execute(f"DROP TRIGGER IF EXISTS documents_fts_{name}")
        op.execute("DROP TABLE IF EXISTS documents_fts")
    else:
        op.execute("DROP INDEX IF EXISTS ix_documents_search")
