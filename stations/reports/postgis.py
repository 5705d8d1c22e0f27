"""Reports of a national deployment: tables of the PostGIS station database.

Every API replica writes to the same ``reports`` table (migration ``0002.reports``), so an
office sees a report whichever replica took it, and the budgets hold across replicas: a new
report first locks the one row of ``report_state`` (which also holds the salt of the client
hashes), then deduplicates, counts and inserts in the same transaction.  Reports arrive at most
a few per second, so taking them one at a time costs nothing that matters.  A lock held longer
than ``busy_timeout_s`` (``lock_timeout``), or no free connection in that time, is
:class:`~stations.errors.ReportStoreBusy`: the API answers 503 with ``Retry-After``.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import time
from collections.abc import Callable, Collection, Iterator

import psycopg
import psycopg_pool

from ..errors import ReportNotFound, ReportRejected, ReportStoreBusy, StoreUnavailable
from . import model as rules
from .model import Added, Outcome, Report, ReportDump, ReportLimits, StoredReport

_COLUMNS = ("id, station_id, kind, note, created_at, resolved_at, outcome, resolved_by, "
            "resolution_note")


def _moment(epoch: float) -> dt.datetime:
    return dt.datetime.fromtimestamp(epoch, dt.UTC)


class PostGISReportStore:
    """:class:`~stations.reports.base.ReportStore` in the station database.

    It borrows the connection pool of the :class:`~stations.store.postgis.PostGISStore` that
    opened (and checked the schema of) the database; closing that store closes this one.
    """

    def __init__(self, pool: psycopg_pool.ConnectionPool, *,
                 limits: ReportLimits = rules.DEFAULT_LIMITS,
                 clock: Callable[[], float] = time.time) -> None:
        self.pool = pool
        self.limits = limits
        self._clock = clock

    @contextlib.contextmanager
    def _transaction(self) -> Iterator[psycopg.Connection]:
        """One transaction that waits for locks and connections at most ``busy_timeout_s``."""
        wait_s = self.limits.busy_timeout_s
        try:
            with self.pool.connection(timeout=wait_s) as conn, conn.transaction():
                conn.execute("SELECT set_config('lock_timeout', %s, true)",
                             (f"{max(1, round(wait_s * 1000))}ms",))
                yield conn
        except (psycopg.errors.LockNotAvailable, psycopg_pool.PoolTimeout):
            raise ReportStoreBusy(
                "报告库正忙 the report tables are busy with other writers; try again in "
                f"{rules.BUSY_RETRY_AFTER_S} s", rules.BUSY_RETRY_AFTER_S) from None
        except psycopg.OperationalError as exc:
            raise StoreUnavailable(f"the station database is unavailable: {exc}") from exc

    def add(self, station_id: str, kind: str, note: str = "", *, client: str) -> Added:
        station_id, kind, note = rules.checked_report(station_id, kind, note)
        now = self._clock()
        with self._transaction() as conn:
            (salt,) = conn.execute(
                "SELECT client_salt FROM report_state FOR UPDATE").fetchone()  # type: ignore[misc]
            same = conn.execute(
                f"SELECT {_COLUMNS} FROM reports WHERE station_id = %s AND kind = %s"
                " AND created_at > %s AND resolved_at IS NULL ORDER BY id LIMIT 1",
                (station_id, kind, _moment(now - self.limits.dedupe_window_s))).fetchone()
            if same is not None:
                return Added(_report(*same), new=False)

            def count_since(column: str, key: str, since: float) -> tuple[int, float | None]:
                where = "resolved_at IS NULL AND created_at > %s"
                params: list[object] = [_moment(since)]
                if column:
                    where += f" AND {column} = %s"
                    params.append(key)
                count, oldest = conn.execute(
                    "SELECT count(*), extract(epoch FROM min(created_at))::float8 FROM reports"
                    f" WHERE {where}", params).fetchone()  # type: ignore[misc]
                return int(count), oldest

            address_key, network_key = rules.admit(count_since, self.limits, salt, client, now)
            row = conn.execute(
                "INSERT INTO reports (station_id, kind, note, created_at, client_key,"
                f" network_key) VALUES (%s, %s, %s, %s, %s, %s) RETURNING {_COLUMNS}",
                (station_id, kind, note, _moment(now), address_key, network_key)).fetchone()
        return Added(_report(*row), new=True)  # type: ignore[misc]

    def get(self, report_id: int) -> Report:
        with self._transaction() as conn:
            return self._get(conn, report_id)

    @staticmethod
    def _get(conn: psycopg.Connection, report_id: int) -> Report:
        row = conn.execute(f"SELECT {_COLUMNS} FROM reports WHERE id = %s",
                           (report_id,)).fetchone()
        if row is None:
            raise ReportNotFound(f"no report number {report_id} / 没有第 {report_id} 号反馈")
        return _report(*row)

    def reports(self, *, include_resolved: bool = False, station_id: str | None = None,
                station_ids: Collection[str] | None = None) -> list[Report]:
        clauses, params = ["true"], []
        if not include_resolved:
            clauses.append("resolved_at IS NULL")
        if station_id is not None:
            clauses.append("station_id = %s")
            params.append(station_id)
        if station_ids is not None:
            clauses.append("station_id = ANY(%s)")
            params.append(list(station_ids))
        with self._transaction() as conn:
            rows = conn.execute(f"SELECT {_COLUMNS} FROM reports WHERE "
                                f"{' AND '.join(clauses)} ORDER BY id", params).fetchall()
        return [_report(*row) for row in rows]

    def resolve(self, report_id: int, *, who: str, note: str = "",
                outcome: Outcome | str = Outcome.RESOLVED) -> Report:
        who, note, outcome = rules.checked_resolution(who, note, outcome)
        with self._transaction() as conn:
            row = conn.execute(
                "UPDATE reports SET resolved_at = %s, outcome = %s, resolved_by = %s,"
                " resolution_note = %s WHERE id = %s AND resolved_at IS NULL"
                f" RETURNING {_COLUMNS}",
                (_moment(self._clock()), outcome.value, who, note, report_id)).fetchone()
            if row is None:
                raise rules.already_resolved(self._get(conn, report_id))
        return _report(*row)

    def purge(self, older_than_days: float,
              archive: Callable[[list[Report]], None] | None = None) -> list[Report]:
        cutoff = _moment(rules.purge_cutoff(self._clock(), older_than_days))
        with self._transaction() as conn:
            rows = conn.execute(f"SELECT {_COLUMNS} FROM reports WHERE created_at < %s "
                                "ORDER BY id FOR UPDATE", (cutoff,)).fetchall()
            old = [_report(*row) for row in rows]
            if archive is not None:
                archive(old)
            conn.execute("DELETE FROM reports WHERE id = ANY(%s)", ([r.id for r in old],))
        return old

    def open_counts(self) -> dict[str, int]:
        with self._transaction() as conn:
            rows = conn.execute("SELECT station_id, count(*) FROM reports WHERE resolved_at IS "
                                "NULL GROUP BY station_id ORDER BY station_id").fetchall()
        return {str(station): int(count) for station, count in rows}

    def dump(self) -> ReportDump:
        with self._transaction() as conn:
            (salt,) = conn.execute("SELECT client_salt FROM report_state").fetchone()  # type: ignore[misc]
            rows = conn.execute(
                f"SELECT {_COLUMNS}, extract(epoch FROM created_at)::float8, client_key,"
                " network_key FROM reports ORDER BY id").fetchall()
        return ReportDump(salt, [StoredReport(_report(*row[:9]), *row[9:]) for row in rows])

    def load(self, dump: ReportDump) -> None:
        with self._transaction() as conn:
            (count,) = conn.execute("SELECT count(*) FROM reports").fetchone()  # type: ignore[misc]
            if count:
                raise ReportRejected(f"the target database already holds {count} reports; "
                                     "migrate into an empty database")
            conn.execute("UPDATE report_state SET client_salt = %s", (dump.salt,))
            with conn.cursor() as cursor:
                cursor.executemany(
                    "INSERT INTO reports (id, station_id, kind, note, created_at, resolved_at,"
                    " outcome, resolved_by, resolution_note, client_key, network_key)"
                    " VALUES (%s, %s, %s, %s, %s, %s::timestamptz, %s, %s, %s, %s, %s)",
                    [(r.id, r.station_id, r.kind, r.note, _moment(s.created_epoch),
                      r.resolved_at or None, r.outcome, r.resolved_by, r.resolution_note,
                      s.client_key, s.network_key) for s in dump.reports for r in (s.report,)])
            conn.execute("SELECT setval(pg_get_serial_sequence('reports', 'id'), "
                         "greatest(max(id), 1), max(id) IS NOT NULL) FROM reports")

    def close(self) -> None:
        """Nothing to release: the pool belongs to the station store."""


def _report(report_id: int, station_id: str, kind: str, note: str, created_at: dt.datetime,
            resolved_at: dt.datetime | None, outcome: str, resolved_by: str,
            resolution_note: str) -> Report:
    return Report(int(report_id), station_id, kind, note, rules.local_iso(created_at),
                  "" if resolved_at is None else rules.local_iso(resolved_at), outcome, resolved_by,
                  resolution_note)
