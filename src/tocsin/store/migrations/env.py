"""Alembic environment: uses the connection tocsin hands over, or TOCSIN_DB by hand."""

from __future__ import annotations

import os

import sqlalchemy as sa
from alembic import context

from tocsin.store.schema import managed, metadata

config = context.config
target_metadata = metadata


def run_migrations_online() -> None:
    connection = config.attributes.get("connection")
    if connection is not None:
        context.configure(connection=connection, target_metadata=target_metadata,
                          include_name=managed,
                          render_as_batch=connection.dialect.name == "sqlite")
        with context.begin_transaction():
            context.run_migrations()
        return
    url = config.get_main_option("sqlalchemy.url") or os.environ.get("TOCSIN_DB")
    if not url:
        raise SystemExit("set TOCSIN_DB (or sqlalchemy.url) to the database to migrate")
    engine = sa.create_engine(url)
    with engine.connect() as conn:
        context.configure(connection=conn, target_metadata=target_metadata,
                          include_name=managed,
                          render_as_batch=conn.dialect.name == "sqlite")
        with context.begin_transaction():
            context.run_migrations()


run_migrations_online()
