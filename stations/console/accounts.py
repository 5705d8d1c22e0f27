"""Staff accounts and sign-in sessions, kept in a small SQLite file beside the station data.

Passwords are hashed with Argon2id (argon2-cffi); session tokens and CSRF tokens are random
(256 bits) and only their SHA-256 is stored, so a copy of the file signs nobody in.  Repeated
failed sign-ins lock the account for a time that doubles with each further failure.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import secrets
import sqlite3
import threading
from contextlib import closing
from dataclasses import dataclass
from pathlib import Path
from typing import Final

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from ..errors import InvalidInput, StationsError
from ..store import Scope

SESSION_HOURS: Final = 12
FREE_FAILURES: Final = 5
FIRST_LOCK_S: Final = 30.0
MAX_LOCK_S: Final = 3600.0
MIN_PASSWORD: Final = 10
CONSOLE_FILE_NAME: Final = "console.sqlite"
_HASHER = PasswordHasher()
# Compared against when the user name is unknown, so that the answer takes as long.
_DUMMY_HASH = _HASHER.hash("not a password of anyone")

_SCHEMA = """
CREATE TABLE IF NOT EXISTS staff (
    username TEXT PRIMARY KEY, office TEXT NOT NULL, scope TEXT NOT NULL,
    password TEXT NOT NULL, failures INTEGER NOT NULL DEFAULT 0,
    locked_until TEXT NOT NULL DEFAULT '', disabled INTEGER NOT NULL DEFAULT 0,
    created_at TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS sessions (
    token_hash TEXT PRIMARY KEY, username TEXT NOT NULL REFERENCES staff(username),
    csrf TEXT NOT NULL, expires_at TEXT NOT NULL);
"""


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


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


class Accounts:
    """Staff accounts and sessions in one SQLite file; safe to share between threads."""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self._lock = threading.Lock()
        with closing(self._connect()) as db, db:
            db.executescript(_SCHEMA)

    def _connect(self) -> sqlite3.Connection:
        db = sqlite3.connect(self.path, timeout=5.0, check_same_thread=False)
        db.execute("PRAGMA journal_mode=WAL")
        return db

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
        with self._lock, closing(self._connect()) as db, db:
            try:
                db.execute("INSERT INTO staff (username, office, scope, password, created_at) "
                           "VALUES (?, ?, ?, ?, ?)",
                           (name, office, json.dumps(scope.as_dict()), _HASHER.hash(password),
                            at.isoformat()))
            except sqlite3.IntegrityError:
                raise InvalidInput("username", "is taken", "value_error", username) from None

    def list(self) -> list[dict[str, object]]:
        with closing(self._connect()) as db:
            rows = db.execute("SELECT username, office, scope, disabled FROM staff "
                              "ORDER BY username").fetchall()
        return [{"username": u, "office": o, "scope": json.loads(s), "disabled": bool(d)}
                for u, o, s, d in rows]

    def disable(self, username: str) -> None:
        with self._lock, closing(self._connect()) as db, db:
            if db.execute("UPDATE staff SET disabled = 1 WHERE username = ?",
                          (username,)).rowcount == 0:
                raise InvalidInput("username", "no such account", "value_error", username)
            db.execute("DELETE FROM sessions WHERE username = ?", (username,))

    def sign_in(self, username: str, password: str, at: dt.datetime) -> tuple[str, Staff]:
        """A new session token for a right password; failures count towards a lockout."""
        with self._lock:
            with closing(self._connect()) as db, db:
                refusal, staff = self._check(db, username, password, at)
                if staff is not None:
                    token = secrets.token_urlsafe(32)
                    db.execute("DELETE FROM sessions WHERE expires_at < ?", (at.isoformat(),))
                    db.execute("INSERT INTO sessions VALUES (?, ?, ?, ?)",
                               (_digest(token), username, staff.csrf,
                                (at + dt.timedelta(hours=SESSION_HOURS)).isoformat()))
            # Raised after the transaction, so that a counted failure is committed.
            if refusal is not None:
                raise refusal
        assert staff is not None
        return token, staff

    @staticmethod
    def _check(db: sqlite3.Connection, username: str, password: str, at: dt.datetime
               ) -> tuple[StationsError | None, Staff | None]:
        row = db.execute("SELECT office, scope, password, failures, locked_until, disabled "
                         "FROM staff WHERE username = ?", (username,)).fetchone()
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
                lock = (at + dt.timedelta(seconds=seconds)).isoformat()
            db.execute("UPDATE staff SET failures = ?, locked_until = ? WHERE username = ?",
                       (failures, lock, username))
            return refused, None
        db.execute("UPDATE staff SET failures = 0, locked_until = '' WHERE username = ?",
                   (username,))
        return None, Staff(username, office, Scope(**json.loads(scope)),
                           secrets.token_urlsafe(32))

    def session(self, token: str | None, at: dt.datetime) -> Staff | None:
        """The staff member a session token belongs to, while it is valid."""
        if not token or len(token) > 100:
            return None
        with closing(self._connect()) as db:
            row = db.execute(
                "SELECT s.username, s.office, s.scope, x.csrf, x.expires_at FROM sessions x "
                "JOIN staff s USING (username) WHERE x.token_hash = ? AND s.disabled = 0",
                (_digest(token),)).fetchone()
        if row is None or dt.datetime.fromisoformat(row[4]) <= at:
            return None
        return Staff(row[0], row[1], Scope(**json.loads(row[2])), row[3])

    def sign_out(self, token: str | None) -> None:
        if token:
            with self._lock, closing(self._connect()) as db, db:
                db.execute("DELETE FROM sessions WHERE token_hash = ?", (_digest(token),))


def _verify(hashed: str, password: str) -> bool:
    try:
        return _HASHER.verify(hashed, password)
    except (VerificationError, InvalidHashError):
        return False
