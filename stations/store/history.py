"""Reverting a history entry: apply its "before" states as a new, recorded change set.

A revert is itself a change set checked like any other: each station must still be at the
version that entry left it at, so a revert never silently undoes a later edit; if one came
in between, the revert is refused with a version conflict naming the station.
"""

from __future__ import annotations

import datetime as dt

from .base import Change, HistoryEntry, Scope, StationStore


def revert(store: StationStore, entry_id: int, *, who: str, at: dt.datetime,
           scope: Scope | None = None, note: str = "") -> HistoryEntry:
    """Undo history entry ``entry_id``; raises HistoryNotFound, VersionConflict, OutOfScope."""
    entry = store.history_entry(entry_id)
    changes = [Change(line.station_id, line.before,
                      expected_version=line.version if line.after is not None else 0)
               for line in entry.changes]
    return store.apply(changes, who=who, action="revert", at=at, scope=scope,
                       note=note or f"revert of #{entry_id}", revert_of=entry_id)
