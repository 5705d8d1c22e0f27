"""``GET /feeds/{format}``: the map-app feeds of ``stations export``, served with validators.

Map apps and union apps poll feeds.  Every response carries an ``ETag`` made from the
GeoPackage's data version and a ``Last-Modified`` from the time that GeoPackage was written, so
a poll with ``If-None-Match`` (or, failing that, ``If-Modified-Since``) costs a 304 and no body.
A feed is built on its first request and kept until the GeoPackage is replaced; the export code
itself knows nothing of HTTP (:mod:`stations.export`).
"""

from __future__ import annotations

import enum
import gzip
import logging
import os
import re
import threading
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.utils import format_datetime, parsedate_to_datetime
from pathlib import Path
from typing import TYPE_CHECKING

import orjson
from fastapi import APIRouter, Request, Response

from ..errors import DataFileError
from ..export import EXPORTERS, Exporter, default_filename, export_bytes, get_exporter
from .http import JSON, accepts_gzip

if TYPE_CHECKING:
    import geopandas as gpd

log = logging.getLogger(__name__)
FeedFormat = enum.StrEnum("FeedFormat", {name: name for name in EXPORTERS})
# Clients may keep a copy but must ask (cheaply, with the validators) before using it.
FEED_CACHE_CONTROL = "public, no-cache"
# Archives that are compressed inside and read by byte range (the PMTiles map protocol).
RANGE_MEDIA_TYPES = frozenset({"application/vnd.pmtiles"})

router = APIRouter(tags=["feeds for map apps"])


@dataclass(frozen=True, slots=True)
class Feed:
    """One built feed and the validators that describe it.

    Text feeds are kept gzipped only (a national KML is 250 MB plain, about a tenth gzipped)
    and sent as they are to the clients that accept gzip, which is nearly all; the others get
    them unpacked.  Feeds that are compressed inside (PMTiles) are kept plain, so that map
    clients can fetch byte ranges of them.
    """

    media_type: str
    filename: str
    etag: str
    last_modified: datetime
    plain: bytes | None = None
    gzipped: bytes | None = None

    def body(self) -> bytes:
        return self.plain if self.plain is not None else gzip.decompress(self.gzipped or b"")


@dataclass(frozen=True, slots=True)
class _Snapshot:
    """The GeoPackage as last read: which file it was, its stations, when it was written."""

    identity: tuple[int, int, int]
    stations: gpd.GeoDataFrame
    modified: datetime


@dataclass
class FeedStore:
    """Feeds of one GeoPackage, built on demand and dropped when the file is replaced.

    Each format is built under its own lock, so a slow first build of one feed does not hold up
    requests for the others.  A replacement that cannot be read (half-copied, corrupt) is
    logged and the feeds of the last good file keep being served, as the nearest-station API
    keeps serving its data.
    """

    path: Path
    _snapshot: _Snapshot | None = None
    _refused: tuple[int, int, int] | None = None  # a broken file is read and logged once
    _feeds: dict[str, tuple[_Snapshot, Feed]] = field(default_factory=dict)
    _read_lock: threading.Lock = field(default_factory=threading.Lock)
    _build_locks: dict[str, threading.Lock] = field(
        default_factory=lambda: {name: threading.Lock() for name in EXPORTERS})

    def feed(self, name: str) -> Feed:
        exporter = get_exporter(name)
        snapshot = self._current()
        with self._build_locks[exporter.name]:
            cached = self._feeds.get(exporter.name)
            if cached is None or cached[0] is not snapshot:
                cached = (snapshot, _build(exporter, snapshot))
                self._feeds[exporter.name] = cached
            return cached[1]

    def _current(self) -> _Snapshot:
        # GDAL and geopandas (about 100 MB) load with the first feed request, not with the
        # server: most servers answer /nearest and never build a feed.
        from ..geodata import read_stations

        with self._read_lock:
            try:
                stat = os.stat(self.path)
                identity = (stat.st_ino, stat.st_size, stat.st_mtime_ns)
                if self._snapshot is not None and identity in (self._snapshot.identity,
                                                               self._refused):
                    return self._snapshot
                stations = read_stations(self.path)
            except (OSError, DataFileError) as exc:
                if self._snapshot is None:
                    raise DataFileError(
                        f"{self.path}: cannot read the station GeoPackage: {exc}") from exc
                log.error("feeds: still serving %s as last read: %s", self.path, exc)
                self._refused = identity if isinstance(exc, DataFileError) else None
                return self._snapshot
            # HTTP dates have whole seconds; truncate so If-Modified-Since compares equal.
            modified = datetime.fromtimestamp(int(stat.st_mtime), tz=UTC)
            self._snapshot = _Snapshot(identity, stations, modified)
            self._feeds.clear()  # let the old stations go; each feed is rebuilt on request
            return self._snapshot


def _build(exporter: Exporter, snapshot: _Snapshot) -> Feed:
    version = snapshot.stations.attrs.get("data_version", "")
    body = export_bytes(exporter, snapshot.stations)
    stored = ({"plain": body} if exporter.media_type in RANGE_MEDIA_TYPES
              else {"gzipped": gzip.compress(body, compresslevel=6, mtime=0)})
    return Feed(
        media_type=exporter.media_type,
        filename=default_filename(exporter),
        etag=f'W/"{version}-{exporter.name}"',
        last_modified=snapshot.modified,
        **stored,
    )


_STORE_LOCK = threading.Lock()


def feed_store(request: Request) -> FeedStore:
    """The app's feed store, made on first use for the GeoPackage in the app's settings."""
    state = request.app.state
    with _STORE_LOCK:
        store = getattr(state, "feed_store", None)
        if store is None:
            store = state.feed_store = FeedStore(Path(state.settings.data))
    return store


@router.get("/feeds")
def list_feeds(request: Request) -> dict[str, object]:
    """The feed formats, each with its coordinate system, media type, file name and link."""
    return {"feeds": [
        {
            "format": exporter.name,
            "crs": exporter.crs.value,
            "media_type": exporter.media_type,
            "filename": default_filename(exporter),
            "description": exporter.description,
            "href": str(request.url_for("get_feed", format=exporter.name)),
        }
        for exporter in EXPORTERS.values()
    ]}


@router.get("/feeds/{format}", name="get_feed", response_class=Response, responses={
    200: {"description": "the feed, in the format's media type",
          "content": {e.media_type: {} for e in EXPORTERS.values()}},
    206: {"description": "one byte range of an archive (PMTiles), as the Range header asked"},
    304: {"description": "the client's copy (If-None-Match / If-Modified-Since) is current"},
    416: {"description": "the Range header asks for nothing inside the archive",
          "content": {JSON: {}}},
})
@router.head("/feeds/{format}", include_in_schema=False)
def get_feed(format: FeedFormat, request: Request) -> Response:
    """One feed; 304 when the client's copy is current, 206 for a byte range of an archive."""
    feed = feed_store(request).feed(format.value)
    headers = {
        "ETag": feed.etag,
        "Last-Modified": format_datetime(feed.last_modified, usegmt=True),
        "Cache-Control": FEED_CACHE_CONTROL,
        "Content-Disposition": f'inline; filename="{feed.filename}"',
    }
    if feed.gzipped is not None:
        headers["Vary"] = "Accept-Encoding"
    else:
        headers["Accept-Ranges"] = "bytes"
    if not_modified(request, feed):
        return Response(status_code=304, headers=headers)
    if feed.gzipped is not None and accepts_gzip(request.headers.get("accept-encoding", "")):
        return Response(feed.gzipped, media_type=feed.media_type,
                        headers={**headers, "Content-Encoding": "gzip"})
    body = feed.body()
    wanted = request.headers.get("range")
    # A weak ETag cannot satisfy If-Range, so a request with one gets the whole feed.
    if feed.plain is not None and wanted and "if-range" not in request.headers:
        try:
            span = byte_range(wanted, len(body))
        except RangeNotSatisfiable:
            detail = f"Range: nothing of the {len(body)}-byte feed is in the range asked for"
            return Response(orjson.dumps({"detail": detail}), status_code=416,
                            media_type=JSON, headers={
                                **headers, "Content-Range": f"bytes */{len(body)}"})
        if span is not None:
            start, end = span
            return Response(body[start:end + 1], status_code=206, media_type=feed.media_type,
                            headers={**headers,
                                     "Content-Range": f"bytes {start}-{end}/{len(body)}"})
    return Response(body, media_type=feed.media_type, headers=headers)


class RangeNotSatisfiable(Exception):
    """A byte range that starts past the end of the feed (answered with 416)."""


# ASCII digits only (``\d`` would take ``²`` or Arabic-Indic digits), and no more than
# MAX_OFFSET_DIGITS of them are turned into a number: longer offsets lie past any feed.
_SINGLE_BYTE_RANGE = re.compile(r"\s*bytes\s*=\s*([0-9]*)\s*-\s*([0-9]*)\s*",
                                re.IGNORECASE | re.ASCII)
MAX_OFFSET_DIGITS = 15
_BEYOND_ANY_FEED = 10**MAX_OFFSET_DIGITS


def _offset(digits: str) -> int:
    return int(digits) if len(digits) <= MAX_OFFSET_DIGITS else _BEYOND_ANY_FEED


def byte_range(header: str, size: int) -> tuple[int, int] | None:
    """The inclusive offsets of ``bytes=first-last``, ``bytes=first-`` or ``bytes=-suffix``.

    None when the header is not one byte range (another unit, several ranges, malformed): the
    whole feed is sent then, as RFC 9110 allows.  :class:`RangeNotSatisfiable` when it asks for
    nothing inside the feed.
    """
    match = _SINGLE_BYTE_RANGE.fullmatch(header)
    if match is None or match.groups() == ("", ""):
        return None
    first, last = match.groups()
    if first == "":
        if _offset(last) == 0 or size == 0:
            raise RangeNotSatisfiable(header)
        return max(size - _offset(last), 0), size - 1
    start = _offset(first)
    end = min(_offset(last), size - 1) if last else size - 1
    if start > end:
        if last and _offset(last) < start:
            return None  # last before first: invalid, so ignored
        raise RangeNotSatisfiable(header)
    return start, end


def not_modified(request: Request, feed: Feed) -> bool:
    """RFC 9110 section 13.2.2: If-None-Match decides when present, else If-Modified-Since."""
    if_none_match = request.headers.get("if-none-match")
    if if_none_match is not None:
        tags = {tag.strip().removeprefix("W/") for tag in if_none_match.split(",")}
        return "*" in tags or feed.etag.removeprefix("W/") in tags
    if_modified_since = request.headers.get("if-modified-since")
    if if_modified_since is None:
        return False
    try:
        since = parsedate_to_datetime(if_modified_since)
    except (TypeError, ValueError):
        return False  # an unreadable date is ignored, as the RFC asks
    if since.tzinfo is None:
        since = since.replace(tzinfo=UTC)
    return feed.last_modified <= since
