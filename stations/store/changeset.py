"""Checking a change set against the stations it touches, shared by both stores.

A store locks and reads the current rows, asks :func:`plan_changes` what to write, writes it
and records the history entry.  Every refusal (stale version, taken id, outside the office's
scope, bad field) is raised here, before anything is written.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from ..errors import InvalidInput, StationExists, StationNotFound, VersionConflict
from .base import Change, Scope, StationChange, StoredStation
from .records import digest, digest_bits, normalise


@dataclass(frozen=True, slots=True)
class Plan:
    """What to write: the new state of each changed station, the deleted ids, the history
    lines, and the XOR that turns the old ``data_version`` bits into the new ones."""

    written: list[StoredStation]
    deleted: list[str]
    changes: list[StationChange]
    version_xor: int

    @property
    def count_delta(self) -> int:
        return sum(1 for c in self.changes if c.before is None) - len(self.deleted)


def plan_changes(changes: Sequence[Change], current: Mapping[str, StoredStation],
                 scope: Scope | None = None) -> Plan:
    """Check every change and work out the writes; unchanged stations are left out."""
    seen: set[str] = set()
    written: list[StoredStation] = []
    deleted: list[str] = []
    lines: list[StationChange] = []
    version_xor = 0
    for change in changes:
        station_id = change.station_id
        if station_id in seen:
            raise InvalidInput("id", f"station {station_id!r} appears twice in one change set",
                               "value_error", station_id)
        seen.add(station_id)
        before = current.get(station_id)
        _check_version(change, before)
        after = None if change.after is None else normalise(change.after)
        if after is not None and after["id"] != station_id:
            raise InvalidInput("id", "a station's id cannot be changed", "value_error",
                               str(after["id"]))
        if scope is not None:
            scope.check(before.record if before else None)
            scope.check(after)
        if before is not None and after == before.record:
            continue
        if after is None:
            assert before is not None  # _check_version refused deleting a missing station
            deleted.append(station_id)
            version_xor ^= digest_bits(before.digest)
            lines.append(StationChange(station_id, before.record, None, 0))
            continue
        new = StoredStation(after, (before.version if before else 0) + 1, digest(after))
        written.append(new)
        version_xor ^= digest_bits(new.digest) ^ (digest_bits(before.digest) if before else 0)
        lines.append(StationChange(station_id, before.record if before else None, after,
                                   new.version))
    return Plan(written, deleted, lines, version_xor)


def _check_version(change: Change, before: StoredStation | None) -> None:
    expected = change.expected_version
    station_id = change.station_id
    if expected == 0 and before is not None:
        raise StationExists(f"station {station_id!r} already exists / 编号已被使用",
                            station_id, before.as_dict())
    if expected is not None and expected > 0:
        if before is None:
            raise VersionConflict(f"station {station_id!r} no longer exists / 站点已被删除",
                                  station_id, None)
        if before.version != expected:
            raise VersionConflict(
                f"station {station_id!r} is at version {before.version}, not {expected}: "
                "someone changed it meanwhile / 站点已被他人修改", station_id, before.as_dict())
    if change.after is None and before is None:
        raise StationNotFound(f"no station has id {station_id!r}")
