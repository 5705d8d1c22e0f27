"""The report store interface that the SQLite file and PostGIS both implement.

Embedded deployments keep reports in their own SQLite file beside the GeoPackage
(:mod:`.sqlite`); a PostGIS deployment keeps them in the station database (:mod:`.postgis`),
so every API replica sees the same reports and spends the same budgets.
"""

from __future__ import annotations

from collections.abc import Callable, Collection
from typing import Protocol, runtime_checkable

from .model import Added, Outcome, Report, ReportDump, ReportLimits


@runtime_checkable
class ReportStore(Protocol):
    """What the rider API, the office API, the console and the CLI need from a report store."""

    limits: ReportLimits

    def add(self, station_id: str, kind: str, note: str = "", *, client: str) -> Added:
        """Store one report, or return the open one that already says the same.

        Raises ReportRejected for a bad field, ReportRateLimited when a budget is spent,
        ReportStoreFull when too many reports are open and ReportStoreBusy when another
        writer holds the store longer than the busy timeout.  The checks and the insert are
        one transaction, so parallel requests (on any replica) cannot slip past a budget.
        """

    def get(self, report_id: int) -> Report:
        """One report; raises ReportNotFound."""

    def reports(self, *, include_resolved: bool = False, station_id: str | None = None,
                station_ids: Collection[str] | None = None) -> list[Report]:
        """Reports, oldest first; only the open ones unless ``include_resolved``; only those
        about ``station_id``, or about any of ``station_ids`` (an office's stations), if given."""

    def resolve(self, report_id: int, *, who: str, note: str = "",
                outcome: Outcome | str = Outcome.RESOLVED) -> Report:
        """Close an open report: resolved (dealt with) or dismissed (not a real problem), with
        who closed it, when (the store's clock) and a note.

        Raises ReportNotFound, ReportRejected for a bad note or outcome, and
        ReportAlreadyResolved (with the report as it is) when it was closed before: the first
        closing, its note and its author are kept.
        """

    def purge(self, older_than_days: float,
              archive: Callable[[list[Report]], None] | None = None) -> list[Report]:
        """Delete the reports created more than ``older_than_days`` ago and return them.

        ``archive`` is called with exactly those reports inside the write transaction, before
        they are deleted: if it raises, nothing is deleted.
        """

    def open_counts(self) -> dict[str, int]:
        """Open reports per station id."""

    def dump(self) -> ReportDump:
        """Every report with its client hashes, and the salt (``stations migrate``)."""

    def load(self, dump: ReportDump) -> None:
        """Fill an empty store with another store's reports, numbers and salt kept."""

    def close(self) -> None:
        """Release what the store holds open."""
