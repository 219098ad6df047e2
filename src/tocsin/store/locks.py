"""Locks held across processes, for the steps that need one order in the whole store.

Several `tocsin ingest` (later `tocsin watch`) processes may share one store. Documents
can be prepared and detected in parallel, but three steps must see everything committed
before them and must not interleave: migrating, writing a batch together with putting
it into stories (story ids and ids in commit order), and alerting (two processes saving
the same development would raise it twice and notify twice), plus delivering from the
outbox. Each takes a named lock:

- SQLite: ``flock`` on a small file beside the database (``tocsin.db.<name>.lock``),
  so waiting for it never holds SQLite's own write lock; the kernel releases it when a
  process dies, even by ``kill -9``.
- PostgreSQL: a session advisory lock on a connection of its own, released when the
  connection closes (and by the server when a process dies).

Locks are re-entrant within a thread, so a stage that takes one may be called by a
caller that holds it already.
"""

from __future__ import annotations

import hashlib
import os
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from pathlib import Path

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from tocsin.errors import StoreError
from tocsin.store.schema import generations

Waiting = Callable[[str], None]

_held = threading.local()  # names of the locks this thread holds, per database
_local: dict[str, threading.Lock] = {}  # in-memory databases: one process only
_local_guard = threading.Lock()


def _key(engine: Engine, name: str) -> str:
    return f"{engine.url.render_as_string(hide_password=True)}#{name}"


def lock_path(engine: Engine, name: str) -> Path | None:
    """The lock file of a SQLite database on disk; None for other databases."""
    database = engine.url.database
    if engine.dialect.name != "sqlite" or not database or database == ":memory:" \
            or database.startswith("file::memory:"):
        return None
    path = Path(database)
    return path.with_name(f"{path.name}.{name}.lock")


def advisory_key(name: str) -> int:
    """A stable signed 64-bit key for PostgreSQL's advisory locks."""
    digest = hashlib.blake2b(f"tocsin:{name}".encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big", signed=True)


@contextmanager
def exclusive(engine: Engine, name: str, on_wait: Waiting | None = None) -> Iterator[None]:
    """Hold the store-wide lock ``name`` for the block; ``on_wait`` is told (once) when
    another process holds it and this one waits."""
    held: set[str] = getattr(_held, "names", None) or set()
    _held.names = held
    key = _key(engine, name)
    if key in held:
        yield
        return
    if engine.dialect.name == "postgresql":
        hold = _advisory(engine, name, on_wait)
    elif (path := lock_path(engine, name)) is not None:
        hold = _flock(path, name, on_wait)
    else:
        hold = _in_process(key)
    with hold:
        held.add(key)
        try:
            yield
        finally:
            held.discard(key)


@contextmanager
def _flock(path: Path, name: str, on_wait: Waiting | None) -> Iterator[None]:
    import fcntl  # POSIX only; imported here so that the module loads everywhere

    try:
        fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    except OSError as exc:
        raise StoreError(f"cannot open the lock file {path}: {exc}") from exc
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            if on_wait is not None:
                on_wait(_holder(fd, name))
            fcntl.flock(fd, fcntl.LOCK_EX)
        # Who holds it, for the message another process prints while it waits.
        with suppress(OSError):
            os.ftruncate(fd, 0)
            os.pwrite(fd, f"{os.getpid()}\n".encode(), 0)
        yield
    finally:
        os.close(fd)  # closing releases the lock


def _holder(fd: int, name: str) -> str:
    try:
        pid = os.pread(fd, 32, 0).decode("ascii", "replace").strip()
    except OSError:
        pid = ""
    return f"another tocsin process{f' (pid {pid})' if pid.isdigit() else ''} holds the " \
           f"{name} lock; waiting for it"


@contextmanager
def _advisory(engine: Engine, name: str, on_wait: Waiting | None) -> Iterator[None]:
    key = advisory_key(name)
    with engine.connect() as conn:
        got = conn.execute(sa.text("SELECT pg_try_advisory_lock(:k)"), {"k": key}).scalar()
        conn.commit()
        if not got:
            if on_wait is not None:
                on_wait(f"another tocsin process holds the {name} lock; waiting for it")
            conn.execute(sa.text("SELECT pg_advisory_lock(:k)"), {"k": key})
            conn.commit()
        try:
            yield
        finally:
            with suppress(sa.exc.SQLAlchemyError):
                conn.execute(sa.text("SELECT pg_advisory_unlock(:k)"), {"k": key})
                conn.commit()


@contextmanager
def _in_process(key: str) -> Iterator[None]:
    with _local_guard:
        lock = _local.setdefault(key, threading.Lock())
    with lock:
        yield


def bump(conn: sa.Connection, name: str) -> int:
    """Count one more commit of the stage ``name`` (inside its transaction); returns the
    generation the commit makes."""
    done = conn.execute(generations.update().where(generations.c.name == name)
                        .values(value=generations.c.value + 1))
    if done.rowcount == 0:
        conn.execute(generations.insert().values(name=name, value=1))
    return int(conn.execute(sa.select(generations.c.value)
                            .where(generations.c.name == name)).scalar_one())


def generation(conn: sa.Connection, name: str) -> int:
    value = conn.execute(sa.select(generations.c.value)
                         .where(generations.c.name == name)).scalar()
    return int(value or 0)
