"""The station store interface that the GeoPackage file and PostGIS both implement.

Everything that changes stations (office edits over HTTP, reverts, sheet imports) goes through
:meth:`StationStore.apply`: one atomic change set, checked against each station's version and
the office's scope, recorded as one history entry with who, when, before and after.  Readers
take a :class:`Snapshot` and, to stay current without reloading everything, ask for the
stations that changed since the snapshot's ``sequence``.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Protocol, runtime_checkable

from ..errors import OutOfScope
from .records import Record


@dataclass(frozen=True, slots=True)
class StoredStation:
    """A station as the store holds it: the record, its version (1 when created, +1 on each
    change) and its content digest."""

    record: Record
    version: int
    digest: str

    @property
    def id(self) -> str:
        return str(self.record["id"])

    def as_dict(self) -> dict[str, object]:
        """The record with its ``version``: what the office API sends."""
        return {**self.record, "version": self.version}


@dataclass(frozen=True, slots=True)
class Snapshot:
    """All stations in id order, the ``data_version`` of exactly those, and the history
    sequence number they include (the starting point for :meth:`StationStore.changes_since`)."""

    stations: list[StoredStation]
    data_version: str
    sequence: int


@dataclass(frozen=True, slots=True)
class Changes:
    """Stations that changed after a sequence number: their current state, and deleted ids."""

    upserted: list[StoredStation]
    deleted: list[str]
    data_version: str
    sequence: int


@dataclass(frozen=True, slots=True)
class Change:
    """One station's new state in a change set.

    ``after`` None deletes the station.  ``expected_version`` is the version the writer saw:
    0 means "must not exist yet"; None skips the check (a sheet import replacing what is there).
    """

    station_id: str
    after: Record | None
    expected_version: int | None = None


@dataclass(frozen=True, slots=True)
class StationChange:
    """One station's part of a history entry; ``version`` is its version after the change
    (0 after a deletion)."""

    station_id: str
    before: Record | None
    after: Record | None
    version: int

    def as_dict(self) -> dict[str, object]:
        return {"station_id": self.station_id, "before": self.before, "after": self.after,
                "version": self.version}


@dataclass(frozen=True, slots=True)
class HistoryEntry:
    """One applied change set.  ``revert_of`` names the entry it undid, if it is a revert."""

    id: int
    at: str
    who: str
    action: str
    note: str
    changes: list[StationChange]
    revert_of: int | None = None

    def as_dict(self) -> dict[str, object]:
        return {"id": self.id, "at": self.at, "who": self.who, "action": self.action,
                "note": self.note, "revert_of": self.revert_of,
                "changes": [change.as_dict() for change in self.changes]}


@dataclass(frozen=True, slots=True)
class Scope:
    """Where an office may edit: stations whose division code starts with ``division`` and
    whose province, city and district equal the names given (empty means any)."""

    division: str = ""
    province: str = ""
    city: str = ""
    district: str = ""

    def __post_init__(self) -> None:
        if not any((self.division, self.province, self.city, self.district)):
            raise ValueError("a scope needs a division code prefix or a province, city or "
                             "district name")

    def covers(self, record: Mapping[str, object]) -> bool:
        return (str(record.get("division_code", "")).startswith(self.division)
                and all(not wanted or record.get(name) == wanted
                        for name, wanted in (("province", self.province), ("city", self.city),
                                             ("district", self.district))))

    def check(self, record: Mapping[str, object] | None) -> None:
        """Raise :class:`OutOfScope` unless the record is inside the scope."""
        if record is not None and not self.covers(record):
            raise OutOfScope(f"station {record.get('id')!r} is outside this office's area "
                             f"({self.describe()}) / 不在本单位管辖范围")

    def where(self, column: Callable[[str], str], mark: str) -> tuple[str, list[object]]:
        """SQL conditions for this scope's stations, and their parameters; ``column(name)`` is
        the SQL of a field, ``mark`` the driver's parameter marker."""
        parts = [f"substr(coalesce({column('division_code')}, ''), 1, {mark}) = {mark}"] \
            if self.division else []
        params: list[object] = [len(self.division), self.division] if self.division else []
        for name in ("province", "city", "district"):
            if getattr(self, name):
                parts.append(f"{column(name)} = {mark}")
                params.append(getattr(self, name))
        return " AND ".join(parts), params

    def describe(self) -> str:
        parts = [f"division {self.division}*"] if self.division else []
        parts += [value for value in (self.province, self.city, self.district) if value]
        return " ".join(parts)

    def as_dict(self) -> dict[str, str]:
        return {"division": self.division, "province": self.province, "city": self.city,
                "district": self.district}


@dataclass(frozen=True, slots=True)
class OfficeKey:
    """An office's API key as stored: never the secret, only its hash."""

    key_id: str
    office: str
    scope: Scope
    created_at: str
    revoked_at: str = ""
    secret_hash: str = field(default="", repr=False)

    def as_dict(self) -> dict[str, object]:
        return {"key_id": self.key_id, "office": self.office, "scope": self.scope.as_dict(),
                "created_at": self.created_at, "revoked_at": self.revoked_at or None}


@runtime_checkable
class StationStore(Protocol):
    """What the API, the importer and the command line need from where stations live."""

    def snapshot(self) -> Snapshot:
        """Every station with its version, in id order, read in one transaction."""

    def get(self, station_id: str) -> StoredStation:
        """One station; raises StationNotFound."""

    def stations_in(self, scope: Scope) -> list[StoredStation]:
        """The stations an office covers, in id order (selected by the database)."""

    def apply(self, changes: Sequence[Change], *, who: str, action: str, at: dt.datetime,
              note: str = "", scope: Scope | None = None, revert_of: int | None = None
              ) -> HistoryEntry:
        """Apply a change set atomically and record it as one history entry.

        Raises VersionConflict (a station's version is not the expected one, or a new
        station's id is taken), OutOfScope (``scope`` given and a station before or after
        lies outside it) or StationNotFound; then nothing changes.
        """

    def history(self, station_id: str | None = None, limit: int = 50,
                before: int | None = None) -> list[HistoryEntry]:
        """History entries, newest first (only those touching ``station_id`` if given)."""

    def history_entry(self, entry_id: int) -> HistoryEntry:
        """One history entry; raises HistoryNotFound."""

    def changes_since(self, sequence: int) -> Changes:
        """Stations changed by history entries after ``sequence``."""

    def create_key(self, office: str, scope: Scope, at: dt.datetime) -> tuple[OfficeKey, str]:
        """A new office key and its secret (shown once; only its hash is kept)."""

    def office_keys(self) -> list[OfficeKey]:
        """All office keys, revoked ones included."""

    def revoke_key(self, key_id: str, at: dt.datetime) -> OfficeKey:
        """Revoke a key; raises NotAuthenticated if there is no such key."""

    def find_key(self, key_id: str) -> OfficeKey | None:
        """The key with this id, revoked or not."""

    def load(self, stations: Sequence[StoredStation], history: Sequence[HistoryEntry],
             keys: Sequence[OfficeKey], version_bits: int) -> None:
        """Fill an empty store with what another store holds (``stations migrate``)."""

    def close(self) -> None:
        """Release connections."""


def iso(at: dt.datetime) -> str:
    """A timestamp as stored in history and keys: UTC, ISO 8601, to the microsecond."""
    if at.tzinfo is None:
        raise ValueError("timestamps must be timezone-aware")
    return at.astimezone(dt.UTC).isoformat(timespec="microseconds")
