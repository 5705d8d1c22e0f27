"""Staff accounts and sign-in sessions, beside the station data (:mod:`.db`: a SQLite file, or
the PostGIS database, shared by every replica).

Passwords are hashed with Argon2id (argon2-cffi); session tokens and CSRF tokens are random
(256 bits) and only their SHA-256 is stored, so a copy of the file signs nobody in.  Repeated
failed sign-ins lock the account for a time that doubles with each further failure.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import secrets
from dataclasses import dataclass
from pathlib import Path
from typing import Final

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from ..errors import InvalidInput, StationsError
from ..store import Scope, StationStore
from ..store.base import iso
from .db import ConsoleDb, PostgresDb, SqliteDb, Transaction

SESSION_HOURS: Final = 12
FREE_FAILURES: Final = 5
FIRST_LOCK_S: Final = 30.0
MAX_LOCK_S: Final = 3600.0
MIN_PASSWORD: Final = 10
CONSOLE_FILE_NAME: Final = "console.sqlite"
_HASHER = PasswordHasher()
# Compared against when the user name is unknown, so that the answer takes as long.
_DUMMY_HASH = _HASHER.hash("not a password of anyone")

class SignInRefused(StationsError):
    """Wrong user name or password (the message never says which)."""


class SignInLocked(StationsError):
    """Too many failed attempts; ``retry_after_s`` says when to try again."""

    def __init__(self, retry_after_s: float) -> None:
        super().__init__(f"too many failed sign-ins; try again in {retry_after_s:.0f} s / "
                         f"登录失败次数过多，请 {retry_after_s:.0f} 秒后再试")
        self.retry_after_s = retry_after_s


@dataclass(frozen=True)
class Staff:
    """A signed-in member of staff: who, for which office, over which stations."""

    username: str
    office: str
    scope: Scope
    csrf: str = ""


def session_key(token: str) -> str:
    """What the database keeps of a session token (and keys the session's data by)."""
    return hashlib.sha256(token.encode()).hexdigest()


class Accounts:
    """Staff accounts and sessions in a :class:`~.db.ConsoleDb`; safe to share between threads
    and, on PostgreSQL, between replicas (a sign-in locks its account's row)."""

    def __init__(self, db: ConsoleDb | str | Path) -> None:
        self.db: ConsoleDb = SqliteDb(db) if isinstance(db, str | Path) else db

    def create(self, username: str, password: str, office: str, scope: Scope,
               at: dt.datetime) -> None:
        """Add an account; a short password or a taken name is refused naming the field."""
        name = username.strip()
        if not name or len(name) > 100 or not name.isprintable():
            raise InvalidInput("username", "must be 1..100 printable characters", "value_error",
                               username)
        if len(password) < MIN_PASSWORD:
            raise InvalidInput("password", f"must be at least {MIN_PASSWORD} characters",
                               "string_too_short", None)
        try:
            with self.db.transaction() as sql:
                sql("INSERT INTO staff (username, office, scope, password, created_at) "
                    "VALUES (%s, %s, %s, %s, %s)",
                    (name, office, json.dumps(scope.as_dict()), _HASHER.hash(password), iso(at)))
        except self.db.integrity_error:
            raise InvalidInput("username", "is taken", "value_error", username) from None

    def list(self) -> list[dict[str, object]]:
        with self.db.transaction(write=False) as sql:
            rows = sql("SELECT username, office, scope, disabled FROM staff "
                       "ORDER BY username").fetchall()
        return [{"username": u, "office": o, "scope": json.loads(s), "disabled": bool(d)}
                for u, o, s, d in rows]

    def disable(self, username: str) -> None:
        with self.db.transaction() as sql:
            if sql("UPDATE staff SET disabled = 1 WHERE username = %s",
                   (username,)).rowcount == 0:
                raise InvalidInput("username", "no such account", "value_error", username)
            sql("DELETE FROM sessions WHERE username = %s", (username,))

    def sign_in(self, username: str, password: str, at: dt.datetime) -> tuple[str, Staff]:
        """A new session token for a right password; failures count towards a lockout."""
        with self.db.transaction() as sql:
            refusal, staff = self._check(sql, username, password, at)
            if staff is not None:
                token = secrets.token_urlsafe(32)
                sql("DELETE FROM sessions WHERE expires_at < %s", (iso(at),))
                sql("INSERT INTO sessions (token_hash, username, csrf, expires_at) "
                    "VALUES (%s, %s, %s, %s)",
                    (session_key(token), username, staff.csrf,
                     iso(at + dt.timedelta(hours=SESSION_HOURS))))
        # Raised after the transaction, so that a counted failure is committed.
        if refusal is not None:
            raise refusal
        assert staff is not None
        return token, staff

    def _check(self, sql: Transaction, username: str, password: str, at: dt.datetime
               ) -> tuple[StationsError | None, Staff | None]:
        row = sql("SELECT office, scope, password, failures, locked_until, disabled "
                  "FROM staff WHERE username = %s" + self.db.for_update, (username,)).fetchone()
        refused = SignInRefused("wrong user name or password / 用户名或密码错误")
        if row is None:
            _verify(_DUMMY_HASH, password)
            return refused, None
        office, scope, hashed, failures, locked_until, disabled = row
        if locked_until and dt.datetime.fromisoformat(locked_until) > at:
            return SignInLocked((dt.datetime.fromisoformat(locked_until) - at)
                                .total_seconds()), None
        if disabled or not _verify(hashed, password):
            failures += 1
            lock = ""
            if failures >= FREE_FAILURES:
                seconds = min(MAX_LOCK_S, FIRST_LOCK_S * 2 ** (failures - FREE_FAILURES))
                lock = iso(at + dt.timedelta(seconds=seconds))
            sql("UPDATE staff SET failures = %s, locked_until = %s WHERE username = %s",
                (failures, lock, username))
            return refused, None
        sql("UPDATE staff SET failures = 0, locked_until = '' WHERE username = %s", (username,))
        return None, Staff(username, office, Scope(**json.loads(scope)),
                           secrets.token_urlsafe(32))

    def session(self, token: str | None, at: dt.datetime) -> Staff | None:
        """The staff member a session token belongs to, while it is valid."""
        if not token or len(token) > 100:
            return None
        with self.db.transaction(write=False) as sql:
            row = sql("SELECT s.username, s.office, s.scope, x.csrf, x.expires_at FROM sessions x "
                      "JOIN staff s ON s.username = x.username "
                      "WHERE x.token_hash = %s AND s.disabled = 0",
                      (session_key(token),)).fetchone()
        if row is None or dt.datetime.fromisoformat(row[4]) <= at:
            return None
        return Staff(row[0], row[1], Scope(**json.loads(row[2])), row[3])

    def sign_out(self, token: str | None) -> None:
        if token:
            with self.db.transaction() as sql:
                sql("DELETE FROM sessions WHERE token_hash = %s", (session_key(token),))

    # ----- carried by ``stations migrate`` ---------------------------------------------------

    def export(self) -> list[tuple[object, ...]]:
        """Every account as stored (password hashes, lockouts), for another console database."""
        with self.db.transaction(write=False) as sql:
            return [tuple(row) for row in sql(f"SELECT {_STAFF_COLUMNS} FROM staff "
                                              "ORDER BY username").fetchall()]

    def load(self, rows: list[tuple[object, ...]]) -> None:
        """Add accounts exported from another console database; a name taken is refused."""
        try:
            with self.db.transaction() as sql:
                for row in rows:
                    sql(f"INSERT INTO staff ({_STAFF_COLUMNS}) VALUES "
                        f"({', '.join(['%s'] * len(row))})", row)
        except self.db.integrity_error:
            raise InvalidInput("username", "an account of the same name is already in the "
                               "target", "value_error", None) from None


_STAFF_COLUMNS = "username, office, scope, password, failures, locked_until, disabled, created_at"


def open_accounts(store: StationStore, file: Path | None = None) -> Accounts:
    """The accounts kept with ``store``: in its PostGIS database, or in the SQLite ``file``
    (default: :data:`CONSOLE_FILE_NAME` beside the GeoPackage)."""
    from ..store.gpkg import GeoPackageStore

    if isinstance(store, GeoPackageStore):
        return Accounts(SqliteDb(file or store.path.with_name(CONSOLE_FILE_NAME)))
    from ..store.postgis import PostGISStore  # psycopg loads only for database deployments

    assert isinstance(store, PostGISStore)
    return Accounts(PostgresDb(store.pool))


def _verify(hashed: str, password: str) -> bool:
    try:
        return _HASHER.verify(hashed, password)
    except (VerificationError, InvalidHashError):
        return False
