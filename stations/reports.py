"""Problem reports that riders send about a station ("closed at night", "microwave broken", ...).

Reports are text from strangers.  They live in their own SQLite file beside the GeoPackage
(``geodata/reports.sqlite``), never inside it: the GeoPackage is rebuilt from the office sheets
and replaced atomically, and nothing a rider sends can change station data.  Planners read the
reports with ``stations reports list`` and close them with ``stations reports resolve``.

The file is opened in WAL mode, so the API can add reports while a planner lists them.  Every
size is bounded: the note length, the station id length, the number of stored reports and the
number of reports one client may send in a time window.  Clients are counted by a salted hash
of their address; the address itself is never stored.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import secrets
import sqlite3
import time
import unicodedata
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Final
from zoneinfo import ZoneInfo

from .errors import ReportNotFound, ReportRateLimited, ReportRejected
from .model import DEFAULT_GEOPACKAGE, TIMEZONE
from .text import without_controls


@dataclass(frozen=True, slots=True)
class ReportKind:
    """One kind of problem a rider can report, with the labels the page and the CLI show."""

    code: str
    label_zh: str
    label_en: str


REPORT_KINDS: Final[tuple[ReportKind, ...]] = (
    ReportKind("closed_at_night", "夜间不开门", "Closed at night"),
    ReportKind("microwave_broken", "微波炉坏了", "Microwave broken"),
    ReportKind("charger_missing", "没有充电器", "Charger missing"),
    ReportKind("wrong_location", "位置不对", "Wrong location"),
    ReportKind("other", "其他问题", "Other problem"),
)
REPORT_KIND_CODES: Final[tuple[str, ...]] = tuple(kind.code for kind in REPORT_KINDS)

MAX_NOTE_CHARS: Final = 280
MAX_STATION_ID_CHARS: Final = 64
MAX_STORED_REPORTS: Final = 100_000
RATE_LIMIT_COUNT: Final = 5
RATE_LIMIT_WINDOW_S: Final = 600
REPORTS_FILE_NAME: Final = "reports.sqlite"

_SCHEMA = """
CREATE TABLE IF NOT EXISTS reports (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    station_id TEXT NOT NULL,
    kind TEXT NOT NULL,
    note TEXT NOT NULL DEFAULT '',
    created_at TEXT NOT NULL,
    created_epoch REAL NOT NULL,
    client_key TEXT NOT NULL,
    resolved_at TEXT
);
CREATE INDEX IF NOT EXISTS reports_client ON reports (client_key, created_epoch);
CREATE INDEX IF NOT EXISTS reports_open ON reports (resolved_at, station_id);
CREATE TABLE IF NOT EXISTS settings (key TEXT PRIMARY KEY, value TEXT NOT NULL);
"""


@dataclass(frozen=True, slots=True)
class Report:
    """One stored report.  ``resolved_at`` is empty while the report is open."""

    id: int
    station_id: str
    kind: str
    note: str
    created_at: str
    resolved_at: str

    @property
    def is_open(self) -> bool:
        return not self.resolved_at

    def as_dict(self) -> dict[str, object]:
        return {"id": self.id, "station_id": self.station_id, "kind": self.kind,
                "note": self.note, "created_at": self.created_at,
                "resolved_at": self.resolved_at or None, "open": self.is_open}


def default_reports_path(geopackage: str | os.PathLike[str] = DEFAULT_GEOPACKAGE) -> Path:
    """Where the reports of a GeoPackage live: a SQLite file in the same folder."""
    return Path(geopackage).with_name(REPORTS_FILE_NAME)


def clean_note(note: str) -> str:
    """Normalise a rider's note and check its length; control characters other than line
    breaks are dropped so that a note cannot rewrite a planner's terminal, while emoji joined
    with a zero-width joiner and emoji newer than Python's tables are kept."""
    text = unicodedata.normalize("NFC", note).replace("\r\n", "\n").replace("\r", "\n")
    text = without_controls(text.replace("\t", " "))
    text = text.strip()
    if len(text) > MAX_NOTE_CHARS:
        raise ReportRejected(f"note: at most {MAX_NOTE_CHARS} characters, got {len(text)}")
    return text


def check_kind(kind: str) -> str:
    if kind not in REPORT_KIND_CODES:
        raise ReportRejected(f"kind: {kind!r} is not one of {', '.join(REPORT_KIND_CODES)}")
    return kind


class ReportStore:
    """The report file: add, list and resolve reports, and count the open ones per station."""

    def __init__(
        self,
        path: str | os.PathLike[str],
        *,
        rate_limit: int = RATE_LIMIT_COUNT,
        rate_window_s: float = RATE_LIMIT_WINDOW_S,
        max_reports: int = MAX_STORED_REPORTS,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.path = Path(path)
        if self.path.suffix.lower() == ".gpkg":
            raise ReportRejected(f"{self.path}: reports are never stored inside a GeoPackage")
        self.rate_limit = rate_limit
        self.rate_window_s = rate_window_s
        self.max_reports = max_reports
        self._clock = clock
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with self._connect() as connection:
            connection.executescript(_SCHEMA)
            connection.execute(
                "INSERT OR IGNORE INTO settings (key, value) VALUES ('client_salt', ?)",
                (secrets.token_hex(16),),
            )
            self._salt = connection.execute(
                "SELECT value FROM settings WHERE key = 'client_salt'"
            ).fetchone()[0]

    @contextlib.contextmanager
    def _connect(self) -> Iterator[sqlite3.Connection]:
        """A short-lived connection per operation, so the store is safe across threads."""
        connection = sqlite3.connect(self.path, timeout=10.0, isolation_level=None)
        connection.row_factory = sqlite3.Row
        try:
            connection.execute("PRAGMA journal_mode=WAL")
            connection.execute("PRAGMA synchronous=NORMAL")
            yield connection
        finally:
            connection.close()

    def journal_mode(self) -> str:
        with self._connect() as connection:
            return str(connection.execute("PRAGMA journal_mode").fetchone()[0])

    def client_key(self, client: str) -> str:
        """A salted hash of the client address: enough to count, useless to identify."""
        return hashlib.sha256(f"{self._salt}:{client}".encode()).hexdigest()[:32]

    def add(self, station_id: str, kind: str, note: str = "", *, client: str) -> Report:
        """Store one report, or raise :class:`ReportRejected` / :class:`ReportRateLimited`.

        The rate-limit check and the insert happen in one write transaction, so parallel
        requests from one client cannot slip past the limit together.
        """
        if not station_id or len(station_id) > MAX_STATION_ID_CHARS:
            raise ReportRejected(f"station_id: 1 to {MAX_STATION_ID_CHARS} characters")
        kind = check_kind(kind)
        note = clean_note(note)
        now = self._clock()
        key = self.client_key(client)
        with self._connect() as connection:
            connection.execute("BEGIN IMMEDIATE")
            try:
                self._check_limits(connection, key, now)
                cursor = connection.execute(
                    "INSERT INTO reports (station_id, kind, note, created_at, created_epoch,"
                    " client_key) VALUES (?, ?, ?, ?, ?, ?)",
                    (station_id, kind, note, _local_iso(now), now, key),
                )
                connection.execute("COMMIT")
            except BaseException:
                connection.execute("ROLLBACK")
                raise
            report_id = cursor.lastrowid
        return self.get(int(report_id or 0))

    def _check_limits(self, connection: sqlite3.Connection, key: str, now: float) -> None:
        recent = connection.execute(
            "SELECT COUNT(*), MIN(created_epoch) FROM reports"
            " WHERE client_key = ? AND created_epoch > ?",
            (key, now - self.rate_window_s),
        ).fetchone()
        if recent[0] >= self.rate_limit:
            retry_after = max(1, int(recent[1] + self.rate_window_s - now + 0.999))
            raise ReportRateLimited(
                f"too many reports: at most {self.rate_limit} every "
                f"{int(self.rate_window_s // 60)} minutes; try again in {retry_after} s",
                retry_after,
            )
        (stored,) = connection.execute("SELECT COUNT(*) FROM reports").fetchone()
        if stored >= self.max_reports:
            raise ReportRejected(f"the report store is full ({self.max_reports} reports)")

    def get(self, report_id: int) -> Report:
        with self._connect() as connection:
            row = connection.execute(
                f"SELECT {_COLUMNS} FROM reports WHERE id = ?", (report_id,)
            ).fetchone()
        if row is None:
            raise ReportNotFound(f"no report number {report_id} in {self.path}")
        return _report(row)

    def reports(self, *, include_resolved: bool = False, station_id: str | None = None
                ) -> list[Report]:
        """Reports, oldest first; only the open ones unless ``include_resolved``."""
        clauses, params = [], []
        if not include_resolved:
            clauses.append("resolved_at IS NULL")
        if station_id is not None:
            clauses.append("station_id = ?")
            params.append(station_id)
        where = f" WHERE {' AND '.join(clauses)}" if clauses else ""
        with self._connect() as connection:
            rows = connection.execute(
                f"SELECT {_COLUMNS} FROM reports{where} ORDER BY id", params
            ).fetchall()
        return [_report(row) for row in rows]

    def resolve(self, report_id: int) -> Report:
        """Mark a report as dealt with (idempotent: the first resolution time is kept)."""
        with self._connect() as connection:
            cursor = connection.execute(
                "UPDATE reports SET resolved_at = COALESCE(resolved_at, ?) WHERE id = ?",
                (_local_iso(self._clock()), report_id),
            )
        if cursor.rowcount == 0:
            raise ReportNotFound(f"no report number {report_id} in {self.path}")
        return self.get(report_id)

    def open_counts(self) -> dict[str, int]:
        with self._connect() as connection:
            rows = connection.execute(
                "SELECT station_id, COUNT(*) FROM reports WHERE resolved_at IS NULL"
                " GROUP BY station_id ORDER BY station_id"
            ).fetchall()
        return {str(station): int(count) for station, count in rows}


_COLUMNS = "id, station_id, kind, note, created_at, resolved_at"


def _report(row: sqlite3.Row) -> Report:
    return Report(int(row["id"]), row["station_id"], row["kind"], row["note"],
                  row["created_at"], row["resolved_at"] or "")


def _local_iso(epoch: float) -> str:
    return datetime.fromtimestamp(epoch, UTC).astimezone(ZoneInfo(TIMEZONE)).isoformat(
        timespec="seconds")


def open_report_counts(db: str | os.PathLike[str]) -> dict[str, int]:
    """Open reports per station id, for maps that mark stations with problems.

    A missing file means nobody has reported anything yet: the answer is an empty dict, and
    no file is created.
    """
    if not Path(db).is_file():
        return {}
    return ReportStore(db).open_counts()
