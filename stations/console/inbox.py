"""Riders' reports as the console's inbox shows them: by station, what is open first.

Staff answer a report better when they see what was done before: each station's group keeps
its open reports (newest first), the reports closed last with their outcome and note, and the
station's own recent edits (a moved pin, new hours) beside them.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Final

from ..reports import Report
from ..store import HistoryEntry, StationStore, StoredStation

CLOSED_SHOWN: Final = 3
RECENT_EDITS: Final = 3


@dataclass(frozen=True)
class ReportGroup:
    """One station's reports in the inbox, and the station's recent edits."""

    station: StoredStation
    open: list[Report] = field(default_factory=list)
    closed: list[Report] = field(default_factory=list)
    edits: list[HistoryEntry] = field(default_factory=list)


def group_reports(reports: Iterable[Report], stations: Mapping[str, StoredStation],
                  store: StationStore, *, whole: bool = False) -> list[ReportGroup]:
    """Groups for the stations with open reports (or, ``whole``, for every station given),
    the one with the newest open report first; ``whole`` keeps every closed report too."""
    open_by: dict[str, list[Report]] = {}
    closed_by: dict[str, list[Report]] = {}
    for report in reports:
        if report.station_id in stations:
            (open_by if report.is_open else closed_by).setdefault(report.station_id, []).append(
                report)
    shown = stations if whole else open_by
    groups = []
    for station_id in shown:
        opened = sorted(open_by.get(station_id, []), key=lambda r: r.created_at, reverse=True)
        closed = sorted(closed_by.get(station_id, []), key=lambda r: r.resolved_at, reverse=True)
        groups.append(ReportGroup(stations[station_id], opened,
                                  closed if whole else closed[:CLOSED_SHOWN],
                                  store.history(station_id, limit=RECENT_EDITS)))
    groups.sort(key=lambda g: g.open[0].created_at if g.open else "", reverse=True)
    return groups


def kind_counts(groups: Iterable[ReportGroup]) -> dict[str, int]:
    """Open reports per kind."""
    counts: dict[str, int] = {}
    for group in groups:
        for report in group.open:
            counts[report.kind] = counts.get(report.kind, 0) + 1
    return counts
