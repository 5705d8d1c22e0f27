"""Problem reports that riders send about a station ("closed at night", "microwave broken", ...).

Reports are text from strangers.  They live in their own SQLite file beside the GeoPackage
(``geodata/reports.sqlite``), never inside it: the GeoPackage is rebuilt from the office sheets
and replaced atomically, and nothing a rider sends can change station data.  Planners read the
reports with ``stations reports list``, close them with ``stations reports resolve`` and remove
old ones with ``stations reports purge``.

Anyone can send a report, so every size is bounded (:class:`ReportLimits`): the note, the station
id, a budget per address (an IPv6 address counts by its /64), per network (/24, /48) and for
everyone per hour, and the number of open reports.  The same kind for the same station is kept
once while it is open and recent; a second one returns the first.  Resolved reports and old ones
stop counting toward every cap.  Clients are counted by salted hashes of their address and
network; the address itself is never stored.

The file is in WAL mode, so the API can add reports while a planner lists them.  Another process
holding the write lock makes an operation wait at most ``busy_timeout_s`` and then raise
:class:`~stations.errors.ReportStoreBusy`, never hang.
"""

from __future__ import annotations

import contextlib
import hashlib
import ipaddress
import math
import os
import secrets
import sqlite3
import time
import unicodedata
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Final, NamedTuple
from zoneinfo import ZoneInfo

from .errors import (
    ReportNotFound,
    ReportRateLimited,
    ReportRejected,
    ReportStoreBusy,
    ReportStoreFull,
)
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
REPORTS_FILE_NAME: Final = "reports.sqlite"
DAY_S: Final = 86_400
HOUR_S: Final = 3_600
BUSY_RETRY_AFTER_S: Final = 5


@dataclass(frozen=True, slots=True)
class Budget:
    """At most ``count`` open reports in any ``window_s`` seconds."""

    count: int
    window_s: float


@dataclass(frozen=True, slots=True)
class ReportLimits:
    """Every cap on what strangers can add; the API takes them from its settings."""

    per_address: Budget = Budget(5, 600)
    per_network: Budget = Budget(30, HOUR_S)
    everyone: Budget = Budget(600, HOUR_S)
    dedupe_window_s: float = DAY_S
    max_open: int = 100_000
    counted_days: float = 30.0
    busy_timeout_s: float = 2.0


_SCHEMA = """
CREATE TABLE IF NOT EXISTS reports (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    station_id TEXT NOT NULL,
    kind TEXT NOT NULL,
    note TEXT NOT NULL DEFAULT '',
    created_at TEXT NOT NULL,
    created_epoch REAL NOT NULL,
    client_key TEXT NOT NULL,
    resolved_at TEXT,
    network_key TEXT NOT NULL DEFAULT ''
);
CREATE TABLE IF NOT EXISTS settings (key TEXT PRIMARY KEY, value TEXT NOT NULL);
"""
# Files written before the per-network budget lack network_key; it is added when opened.
_NETWORK_COLUMN = "ALTER TABLE reports ADD COLUMN network_key TEXT NOT NULL DEFAULT ''"
_INDEXES = """
CREATE INDEX IF NOT EXISTS reports_client ON reports (client_key, created_epoch);
CREATE INDEX IF NOT EXISTS reports_network ON reports (network_key, created_epoch);
CREATE INDEX IF NOT EXISTS reports_created ON reports (created_epoch);
CREATE INDEX IF NOT EXISTS reports_station ON reports (station_id, kind, created_epoch);
CREATE INDEX IF NOT EXISTS reports_open ON reports (resolved_at, station_id);
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


class Added(NamedTuple):
    """What :meth:`ReportStore.add` did: ``new`` is False when an open report said it already."""

    report: Report
    new: bool


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


def client_groups(client: str) -> tuple[str, str]:
    """The address and the network a client is counted in.

    One IPv4 address is one rider; an IPv6 rider usually holds a whole /64, so that is the
    address.  Networks are /24 (IPv4) and /48 (IPv6).  Text that is no IP address (a test
    client's name) is its own address and network.
    """
    try:
        address = ipaddress.ip_address(client)
    except ValueError:
        return client, client
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped:
        address = address.ipv4_mapped
    if address.version == 4:
        return str(address), str(ipaddress.ip_network(f"{address}/24", strict=False))
    return (str(ipaddress.ip_network(f"{address}/64", strict=False)),
            str(ipaddress.ip_network(f"{address}/48", strict=False)))


class ReportStore:
    """The report file: add, list, resolve and purge reports, count the open ones per station."""

    def __init__(
        self,
        path: str | os.PathLike[str],
        *,
        limits: ReportLimits = ReportLimits(),
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.path = Path(path)
        if self.path.suffix.lower() == ".gpkg":
            raise ReportRejected(f"{self.path}: reports are never stored inside a GeoPackage")
        self.limits = limits
        self._clock = clock
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with self._connect() as connection:
            connection.execute("PRAGMA journal_mode=WAL")  # kept by the file from now on
        with self._transaction() as connection:
            for statement in _SCHEMA.split(";"):
                connection.execute(statement)
            columns = {row[1] for row in connection.execute("PRAGMA table_info(reports)")}
            if "network_key" not in columns:
                connection.execute(_NETWORK_COLUMN)
            for statement in _INDEXES.split(";"):
                connection.execute(statement)
            connection.execute(
                "INSERT OR IGNORE INTO settings (key, value) VALUES ('client_salt', ?)",
                (secrets.token_hex(16),),
            )
            self._salt = connection.execute(
                "SELECT value FROM settings WHERE key = 'client_salt'"
            ).fetchone()[0]

    @contextlib.contextmanager
    def _connect(self) -> Iterator[sqlite3.Connection]:
        """A short-lived connection per operation, so the store is safe across threads.

        Waiting for another writer ends after ``busy_timeout_s`` with :class:`ReportStoreBusy`.
        """
        connection = sqlite3.connect(self.path, timeout=self.limits.busy_timeout_s,
                                     isolation_level=None)
        connection.row_factory = sqlite3.Row
        try:
            connection.execute("PRAGMA synchronous=NORMAL")
            yield connection
        except sqlite3.OperationalError as exc:
            if "locked" not in str(exc) and "busy" not in str(exc):
                raise
            raise ReportStoreBusy(
                f"报告库正忙 the report file {self.path.name} is locked by another writer; "
                f"try again in {BUSY_RETRY_AFTER_S} s", BUSY_RETRY_AFTER_S) from None
        finally:
            connection.close()

    @contextlib.contextmanager
    def _transaction(self) -> Iterator[sqlite3.Connection]:
        """One write transaction: checks and changes inside it see no other writer."""
        with self._connect() as connection:
            connection.execute("BEGIN IMMEDIATE")
            try:
                yield connection
                connection.execute("COMMIT")
            except BaseException:
                if connection.in_transaction:
                    connection.execute("ROLLBACK")
                raise

    def journal_mode(self) -> str:
        with self._connect() as connection:
            return str(connection.execute("PRAGMA journal_mode").fetchone()[0])

    def _key(self, group: str) -> str:
        """A salted hash of an address or network: enough to count, useless to identify."""
        return hashlib.sha256(f"{self._salt}:{group}".encode()).hexdigest()[:32]

    def add(self, station_id: str, kind: str, note: str = "", *, client: str) -> Added:
        """Store one report, or return the open one that already says the same.

        Raises :class:`ReportRejected` for a bad field, :class:`ReportRateLimited` when a
        budget is spent and :class:`ReportStoreFull` when too many reports are open.  The
        checks and the insert happen in one write transaction, so parallel requests cannot
        slip past a budget together.
        """
        if not station_id or len(station_id) > MAX_STATION_ID_CHARS:
            raise ReportRejected(f"station_id: 1 to {MAX_STATION_ID_CHARS} characters")
        kind = check_kind(kind)
        note = clean_note(note)
        now = self._clock()
        address_key, network_key = (self._key(group) for group in client_groups(client))
        with self._transaction() as connection:
            same = connection.execute(
                f"SELECT {_COLUMNS} FROM reports WHERE station_id = ? AND kind = ?"
                " AND created_epoch > ? AND resolved_at IS NULL ORDER BY id LIMIT 1",
                (station_id, kind, now - self.limits.dedupe_window_s),
            ).fetchone()
            if same is not None:
                return Added(_report(same), new=False)
            self._check_budgets(connection, address_key, network_key, now)
            self._check_room(connection, now)
            cursor = connection.execute(
                "INSERT INTO reports (station_id, kind, note, created_at, created_epoch,"
                " client_key, network_key) VALUES (?, ?, ?, ?, ?, ?, ?)",
                (station_id, kind, note, _local_iso(now), now, address_key, network_key),
            )
            row = connection.execute(f"SELECT {_COLUMNS} FROM reports WHERE id = ?",
                                     (cursor.lastrowid,)).fetchone()
        return Added(_report(row), new=True)

    def _check_budgets(self, connection: sqlite3.Connection, address_key: str,
                       network_key: str, now: float) -> None:
        """Refuse when the address, its network or everyone together sent enough lately."""
        limits = self.limits
        for who, column, key, budget in (
            ("this address 此地址", "client_key", address_key, limits.per_address),
            ("this network 此网络", "network_key", network_key, limits.per_network),
            ("everyone 所有人", "", "", limits.everyone),
        ):
            where = "resolved_at IS NULL AND created_epoch > ?"
            params: list[object] = [now - budget.window_s]
            if column:
                where += f" AND {column} = ?"
                params.append(key)
            count, oldest = connection.execute(
                f"SELECT COUNT(*), MIN(created_epoch) FROM reports WHERE {where}", params
            ).fetchone()
            if count >= budget.count:
                retry_after = max(1, math.ceil(oldest + budget.window_s - now))
                raise ReportRateLimited(
                    f"报告太多 too many reports from {who}: at most {budget.count} every "
                    f"{_duration(budget.window_s)}; try again in {retry_after} s", retry_after)

    def _check_room(self, connection: sqlite3.Connection, now: float) -> None:
        """Refuse when too many recent reports are open; resolved and old ones do not count."""
        (open_recent,) = connection.execute(
            "SELECT COUNT(*) FROM reports WHERE resolved_at IS NULL AND created_epoch > ?",
            (now - self.limits.counted_days * DAY_S,),
        ).fetchone()
        if open_recent >= self.limits.max_open:
            raise ReportStoreFull(
                f"报告库已满 the report store is full ({open_recent} open reports from the last "
                f"{self.limits.counted_days:g} days); planners resolve or purge some")

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
        with self._transaction() as connection:
            cursor = connection.execute(
                "UPDATE reports SET resolved_at = COALESCE(resolved_at, ?) WHERE id = ?",
                (_local_iso(self._clock()), report_id),
            )
        if cursor.rowcount == 0:
            raise ReportNotFound(f"no report number {report_id} in {self.path}")
        return self.get(report_id)

    def purge(self, older_than_days: float,
              archive: Callable[[list[Report]], None] | None = None) -> list[Report]:
        """Delete the reports created more than ``older_than_days`` ago and return them.

        ``archive`` is called with exactly those reports inside the write transaction, before
        they are deleted: if it raises, nothing is deleted.
        """
        if not older_than_days >= 0:
            raise ReportRejected(f"older than: a number of days >= 0, not {older_than_days}")
        cutoff = self._clock() - older_than_days * DAY_S
        with self._transaction() as connection:
            rows = connection.execute(
                f"SELECT {_COLUMNS} FROM reports WHERE created_epoch < ? ORDER BY id", (cutoff,)
            ).fetchall()
            old = [_report(row) for row in rows]
            if archive is not None:
                archive(old)
            connection.execute("DELETE FROM reports WHERE created_epoch < ?", (cutoff,))
        return old

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


def _duration(seconds: float) -> str:
    if seconds % HOUR_S == 0:
        hours = int(seconds // HOUR_S)
        return "hour" if hours == 1 else f"{hours} hours"
    if seconds % 60 == 0:
        return f"{int(seconds // 60)} minutes"
    return f"{seconds:g} s"


def open_report_counts(db: str | os.PathLike[str]) -> dict[str, int]:
    """Open reports per station id, for maps that mark stations with problems.

    A missing file means nobody has reported anything yet: the answer is an empty dict, and
    no file is created.
    """
    if not Path(db).is_file():
        return {}
    return ReportStore(db).open_counts()
