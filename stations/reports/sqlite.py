"""Reports of an embedded deployment: their own SQLite file beside the GeoPackage.

The file is ``geodata/reports.sqlite``, never the GeoPackage itself: the GeoPackage is rebuilt
from the office sheets and replaced atomically, and nothing a rider sends can change station
data.  The file is in WAL mode, so the API can add reports while a planner lists them.  Another
process holding the write lock makes an operation wait at most ``busy_timeout_s`` and then
raise :class:`~stations.errors.ReportStoreBusy`, never hang.
"""

from __future__ import annotations

import contextlib
import os
import secrets
import sqlite3
import time
from collections.abc import Callable, Collection, Iterator
from pathlib import Path
from typing import Final

from ..errors import ReportNotFound, ReportRejected, ReportStoreBusy
from ..model import DEFAULT_GEOPACKAGE
from . import model as rules
from .model import Added, Outcome, Report, ReportDump, ReportLimits, StoredReport

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
    resolved_at TEXT,
    network_key TEXT NOT NULL DEFAULT ''
);
CREATE TABLE IF NOT EXISTS settings (key TEXT PRIMARY KEY, value TEXT NOT NULL);
"""
# Columns added after the first files were written: a file that lacks one gets it when opened.
_LATER_COLUMNS = {
    "network_key": "TEXT NOT NULL DEFAULT ''",
    "outcome": "TEXT NOT NULL DEFAULT ''",
    "resolved_by": "TEXT NOT NULL DEFAULT ''",
    "resolution_note": "TEXT NOT NULL DEFAULT ''",
}
_INDEXES = """
CREATE INDEX IF NOT EXISTS reports_client ON reports (client_key, created_epoch);
CREATE INDEX IF NOT EXISTS reports_network ON reports (network_key, created_epoch);
CREATE INDEX IF NOT EXISTS reports_created ON reports (created_epoch);
CREATE INDEX IF NOT EXISTS reports_station ON reports (station_id, kind, created_epoch);
CREATE INDEX IF NOT EXISTS reports_open ON reports (resolved_at, station_id);
"""
_COLUMNS = ("id, station_id, kind, note, created_at, resolved_at, outcome, resolved_by, "
            "resolution_note")


def default_reports_path(geopackage: str | os.PathLike[str] = DEFAULT_GEOPACKAGE) -> Path:
    """Where the reports of a GeoPackage live: a SQLite file in the same folder."""
    return Path(geopackage).with_name(REPORTS_FILE_NAME)


class SQLiteReportStore:
    """:class:`~stations.reports.base.ReportStore` in a SQLite file of its own."""

    def __init__(
        self,
        path: str | os.PathLike[str],
        *,
        limits: ReportLimits = rules.DEFAULT_LIMITS,
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
            for name, declaration in _LATER_COLUMNS.items():
                if name not in columns:
                    connection.execute(f"ALTER TABLE reports ADD COLUMN {name} {declaration}")
            for statement in _INDEXES.split(";"):
                connection.execute(statement)
            connection.execute(
                "INSERT OR IGNORE INTO settings (key, value) VALUES ('client_salt', ?)",
                (secrets.token_hex(16),),
            )

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
                f"try again in {rules.BUSY_RETRY_AFTER_S} s", rules.BUSY_RETRY_AFTER_S) from None
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

    @staticmethod
    def _salt(connection: sqlite3.Connection) -> str:
        return str(connection.execute(
            "SELECT value FROM settings WHERE key = 'client_salt'").fetchone()[0])

    def add(self, station_id: str, kind: str, note: str = "", *, client: str) -> Added:
        station_id, kind, note = rules.checked_report(station_id, kind, note)
        now = self._clock()
        with self._transaction() as connection:
            same = connection.execute(
                f"SELECT {_COLUMNS} FROM reports WHERE station_id = ? AND kind = ?"
                " AND created_epoch > ? AND resolved_at IS NULL ORDER BY id LIMIT 1",
                (station_id, kind, now - self.limits.dedupe_window_s),
            ).fetchone()
            if same is not None:
                return Added(_report(same), new=False)

            def count_since(column: str, key: str, since: float) -> tuple[int, float | None]:
                where = "resolved_at IS NULL AND created_epoch > ?"
                params: list[object] = [since]
                if column:
                    where += f" AND {column} = ?"
                    params.append(key)
                count, oldest = connection.execute(
                    f"SELECT COUNT(*), MIN(created_epoch) FROM reports WHERE {where}", params
                ).fetchone()
                return int(count), oldest

            address_key, network_key = rules.admit(count_since, self.limits,
                                                   self._salt(connection), client, now)
            cursor = connection.execute(
                "INSERT INTO reports (station_id, kind, note, created_at, created_epoch,"
                " client_key, network_key) VALUES (?, ?, ?, ?, ?, ?, ?)",
                (station_id, kind, note, rules.local_iso(now), now, address_key, network_key),
            )
            row = connection.execute(f"SELECT {_COLUMNS} FROM reports WHERE id = ?",
                                     (cursor.lastrowid,)).fetchone()
        return Added(_report(row), new=True)

    def get(self, report_id: int) -> Report:
        with self._connect() as connection:
            return self._get(connection, report_id)

    def _get(self, connection: sqlite3.Connection, report_id: int) -> Report:
        row = connection.execute(
            f"SELECT {_COLUMNS} FROM reports WHERE id = ?", (report_id,)
        ).fetchone()
        if row is None:
            raise ReportNotFound(f"no report number {report_id} / 没有第 {report_id} 号反馈")
        return _report(row)

    def reports(self, *, include_resolved: bool = False, station_id: str | None = None,
                station_ids: Collection[str] | None = None) -> list[Report]:
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
        found = [_report(row) for row in rows]
        if station_ids is None:
            return found
        wanted = set(station_ids)
        return [report for report in found if report.station_id in wanted]

    def resolve(self, report_id: int, *, who: str, note: str = "",
                outcome: Outcome | str = Outcome.RESOLVED) -> Report:
        who, note, outcome = rules.checked_resolution(who, note, outcome)
        with self._transaction() as connection:
            connection.execute(
                "UPDATE reports SET resolved_at = ?, outcome = ?, resolved_by = ?,"
                " resolution_note = ? WHERE id = ? AND resolved_at IS NULL",
                (rules.local_iso(self._clock()), outcome.value, who, note, report_id))
            changed = connection.execute("SELECT changes()").fetchone()[0]
            report = self._get(connection, report_id)
        if not changed:
            raise rules.already_resolved(report)
        return report

    def purge(self, older_than_days: float,
              archive: Callable[[list[Report]], None] | None = None) -> list[Report]:
        cutoff = rules.purge_cutoff(self._clock(), older_than_days)
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

    def dump(self) -> ReportDump:
        with self._connect() as connection:
            rows = connection.execute(
                f"SELECT {_COLUMNS}, created_epoch, client_key, network_key FROM reports"
                " ORDER BY id").fetchall()
            salt = self._salt(connection)
        return ReportDump(salt, [StoredReport(_report(row), row["created_epoch"],
                                              row["client_key"], row["network_key"])
                                 for row in rows])

    def load(self, dump: ReportDump) -> None:
        with self._transaction() as connection:
            (count,) = connection.execute("SELECT COUNT(*) FROM reports").fetchone()
            if count:
                raise ReportRejected(f"{self.path} already holds {count} reports; "
                                     "migrate into an empty report file")
            connection.execute("UPDATE settings SET value = ? WHERE key = 'client_salt'",
                               (dump.salt,))
            connection.executemany(
                "INSERT INTO reports (id, station_id, kind, note, created_at, resolved_at,"
                " outcome, resolved_by, resolution_note, created_epoch, client_key,"
                " network_key) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                [(r.id, r.station_id, r.kind, r.note, r.created_at, r.resolved_at or None,
                  r.outcome, r.resolved_by, r.resolution_note, s.created_epoch, s.client_key,
                  s.network_key) for s in dump.reports for r in (s.report,)])

    def close(self) -> None:
        """Nothing to release: every operation opens and closes its own connection."""


def _report(row: sqlite3.Row) -> Report:
    return Report(int(row["id"]), row["station_id"], row["kind"], row["note"],
                  row["created_at"], row["resolved_at"] or "", row["outcome"],
                  row["resolved_by"], row["resolution_note"])


def open_report_counts(db: str | os.PathLike[str]) -> dict[str, int]:
    """Open reports per station id, for maps that mark stations with problems.

    A missing file means nobody has reported anything yet: the answer is an empty dict, and
    no file is created.
    """
    if not Path(db).is_file():
        return {}
    return SQLiteReportStore(db).open_counts()
