"""Where the console keeps accounts, sessions and pending sheet reviews: SQLite or PostgreSQL.

Beside a GeoPackage the console uses a small SQLite file (``console.sqlite``); a server run
with ``--database`` keeps them in the PostGIS database instead, so that every replica knows
the same accounts, lockouts and sessions.  Both run the same SQL (the PostgreSQL migration
``0003.console-accounts.sql`` is also the SQLite schema), written with ``%s`` parameters.
"""

from __future__ import annotations

import contextlib
import sqlite3
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, Final, Protocol

from ..errors import StoreUnavailable

if TYPE_CHECKING:
    import psycopg_pool

SCHEMA_FILE: Final = Path(__file__).parents[1] / "store" / "migrations" / \
    "0003.console-accounts.sql"


class Cursor(Protocol):
    rowcount: int

    def fetchone(self) -> Any: ...

    def fetchall(self) -> list[Any]: ...


class Transaction(Protocol):
    def __call__(self, sql: str, params: Sequence[object] = ()) -> Cursor: ...


class ConsoleDb(Protocol):
    """One transaction at a time over the console's tables."""

    #: appended to a SELECT that reads a row about to be updated (row lock where there are rows)
    for_update: str
    #: raised when a primary key is taken
    integrity_error: type[Exception]

    def transaction(self, write: bool = True) -> contextlib.AbstractContextManager[Transaction]:
        """One transaction; ``write=False`` for one that only reads."""


class SqliteDb:
    """The tables in a SQLite file; writers serialise on the file's lock (``BEGIN IMMEDIATE``),
    so two processes serving the same file count failed sign-ins correctly, while readers (the
    session check of every page) take no lock from each other or from a writer (WAL)."""

    for_update = ""
    integrity_error = sqlite3.IntegrityError

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        with contextlib.closing(self._connect()) as db:
            db.execute("PRAGMA journal_mode=WAL")  # kept by the file
            db.executescript(SCHEMA_FILE.read_text(encoding="utf-8"))

    def _connect(self) -> sqlite3.Connection:
        db = sqlite3.connect(self.path, timeout=10.0, isolation_level=None,
                             check_same_thread=False)
        db.execute("PRAGMA foreign_keys=ON")
        return db

    @contextlib.contextmanager
    def transaction(self, write: bool = True) -> Iterator[Transaction]:
        with contextlib.closing(self._connect()) as db:
            db.execute("BEGIN IMMEDIATE" if write else "BEGIN")
            try:
                yield lambda sql, params=(): db.execute(sql.replace("%s", "?"), tuple(params))
            except BaseException:
                db.execute("ROLLBACK")
                raise
            db.execute("COMMIT")


class PostgresDb:
    """The tables in the PostGIS database (created by its migrations), on the store's pool;
    reads need no flag there (MVCC), writers lock the rows they update."""

    for_update = " FOR UPDATE"

    def __init__(self, pool: psycopg_pool.ConnectionPool) -> None:
        import psycopg

        self.pool = pool
        self.integrity_error = psycopg.errors.UniqueViolation

    @contextlib.contextmanager
    def transaction(self, write: bool = True) -> Iterator[Transaction]:
        import psycopg
        import psycopg_pool

        try:
            with self.pool.connection() as conn, conn.transaction():
                yield conn.execute  # type: ignore[misc]
        except (psycopg.OperationalError, psycopg_pool.PoolTimeout) as exc:
            raise StoreUnavailable(f"the console database is unavailable: {exc}") from exc
