"""An office's sheet uploaded in the console: read, kept to the office's area, reviewed, applied.

The sheet is read exactly as ``stations import`` reads it (:mod:`stations.ingest`), and the
change set is the same (:func:`stations.ingest.changes.diff`), made against the office's own
stations only: a row outside the office's area is refused with its row number, and only the
office's stations can be missing from its sheet.  The review (with the version of every
station it was made from) waits server-side, keyed to the session, until the user applies it
or cancels; it is bounded in size and age.  The readers (pandas, GDAL) load on the first
upload, not with the server.
"""

from __future__ import annotations

import base64
import datetime as dt
import json
import tempfile
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Final

import numpy as np

from ..crs import CoordinateSystem
from ..errors import InvalidInput, StationNotFound
from ..store import Scope, Snapshot, StationStore
from ..store.base import iso
from ..store.records import data_version
from .accounts import session_key
from .db import ConsoleDb

if TYPE_CHECKING:
    import geopandas as gpd

    from ..ingest.changes import ChangeSet

SHEET_SUFFIXES: Final = (".csv", ".xlsx")
REVIEW_MINUTES: Final = 30
# A review is the sheet's stations twice (as read, and as changes): a sheet of a few thousand
# stations fits; more is an import for `stations import` on the server.
MAX_REVIEW_BYTES: Final = 8 * 1024 * 1024
MAX_LISTED: Final = 200  # problem lines shown on the page


@dataclass(slots=True)
class SheetReview:
    """What a sheet would change for one office, what was refused, and the sheet itself (to
    compare it again after a colleague's edit), as the user saw it."""

    file: str
    crs: str
    summary: str
    changes: ChangeSet
    sheet: str  # the uploaded bytes, base64
    problems: list[str] = field(default_factory=list)
    refused: list[str] = field(default_factory=list)

    def to_json(self) -> str:
        return json.dumps({**asdict(self), "changes": self.changes.as_dict()},
                          ensure_ascii=False, separators=(",", ":"))

    @classmethod
    def from_json(cls, text: str) -> SheetReview:
        from ..ingest.changes import ChangeSet

        values = json.loads(text)
        values["changes"] = ChangeSet.from_dict(values["changes"])
        return cls(**values)


def review_sheet(store: StationStore, scope: Scope, content: bytes, filename: str,
                 crs: str) -> SheetReview:
    """Read an uploaded sheet and compare it with the office's stations; writes nothing.

    Raises :class:`~stations.errors.InvalidInput` naming the field for a sheet of the wrong
    kind, and :class:`~stations.errors.SourceError` for one that cannot be read at all.
    """
    from ..ingest.build import BuildReport, check_sources
    from ..ingest.changes import diff
    from ..ingest.sources import make_spec

    suffix = Path(filename).suffix.lower()
    if suffix not in SHEET_SUFFIXES:
        raise InvalidInput("sheet", f"must be a .csv or .xlsx file, not {suffix or 'none'!r} "
                           "/ 请上传 .csv 或 .xlsx 表格", "value_error", filename)
    try:
        system = CoordinateSystem.parse(crs).value
    except ValueError as exc:
        raise InvalidInput("crs", str(exc), "enum", crs) from None
    with tempfile.TemporaryDirectory(prefix="stations-sheet-") as folder:
        path = Path(folder) / f"sheet{suffix}"
        path.write_bytes(content)
        spec = make_spec(path, system, label=Path(filename).name)
        result = check_sources([spec])
    mine = store.stations_in(scope)
    keep, refused = _in_scope(store, scope, {s.id for s in mine}, result.stations,
                              result.places)
    stations = result.stations[np.asarray(keep, dtype=bool)]
    snapshot = Snapshot(mine, data_version(s.digest for s in mine), 0)
    changes = diff(stations, snapshot, result.made_ids & set(stations["id"]))
    return SheetReview(spec.name, system, BuildReport.from_validation(result, [spec]).summary(),
                       changes, base64.b64encode(content).decode(),
                       [str(p) for p in result.problems], refused)


def _in_scope(store: StationStore, scope: Scope, mine: set[str], stations: gpd.GeoDataFrame,
              places: list[str]) -> tuple[list[bool], list[str]]:
    """Which sheet stations the office may write, and a line for each refused one."""
    keep, refused = [], []
    rows = stations[["id", "name", "division_code", "province", "city", "district"]]
    for record, place in zip(rows.to_dict("records"), places, strict=True):
        if not scope.covers(record):
            why = f"不在本单位管辖范围 / outside this office's area ({scope.describe()})"
        elif record["id"] not in mine and _exists(store, str(record["id"])):
            why = "此编号属于其他单位的驿站 / this id is another office's station"
        else:
            why = ""
        keep.append(not why)
        if why:
            refused.append(f"{place}: {record['id']} {record['name']}: {why}")
    return keep, refused


def _exists(store: StationStore, station_id: str) -> bool:
    try:
        store.get(station_id)
    except StationNotFound:
        return False
    return True


def review_again(store: StationStore, scope: Scope, review: SheetReview) -> SheetReview:
    """The same sheet compared with the office's stations as they are now."""
    return review_sheet(store, scope, base64.b64decode(review.sheet), review.file, review.crs)


class PendingReviews:
    """One review per session, waiting for apply or cancel; gone with the session, or after
    :data:`REVIEW_MINUTES`."""

    def __init__(self, db: ConsoleDb) -> None:
        self.db = db

    def keep(self, token: str, review: SheetReview, at: dt.datetime) -> None:
        body = review.to_json()
        if len(body.encode()) > MAX_REVIEW_BYTES:
            raise InvalidInput("sheet", f"too many stations to review here (over "
                               f"{MAX_REVIEW_BYTES // 2**20} MB); import it with `stations "
                               "import` / 表格过大，请用命令导入", "too_long", None)
        key = session_key(token)
        with self.db.transaction() as sql:
            sql("DELETE FROM sheet_reviews WHERE token_hash = %s OR created_at < %s",
                (key, iso(at - dt.timedelta(minutes=REVIEW_MINUTES))))
            sql("INSERT INTO sheet_reviews (token_hash, created_at, body) VALUES (%s, %s, %s)",
                (key, iso(at), body))

    def get(self, token: str, at: dt.datetime) -> SheetReview | None:
        with self.db.transaction(write=False) as sql:
            row = sql("SELECT created_at, body FROM sheet_reviews WHERE token_hash = %s",
                      (session_key(token),)).fetchone()
        if row is None or dt.datetime.fromisoformat(row[0]) < at - dt.timedelta(
                minutes=REVIEW_MINUTES):
            return None
        return SheetReview.from_json(row[1])

    def drop(self, token: str) -> None:
        with self.db.transaction() as sql:
            sql("DELETE FROM sheet_reviews WHERE token_hash = %s", (session_key(token),))


def decisions(form: Mapping[str, str], changes: ChangeSet) -> dict[str, str]:
    """Keep or close for each missing station: its own choice, else the one for all."""
    default = form.get("missing_all", "")
    return {str(r["id"]): form.get(f"missing.{i}") or default
            for i, r in enumerate(changes.missing)}
