"""An API replica's view of a PostGIS store: the in-memory index, kept current incrementally.

Queries never touch the database: ``/nearest`` answers from the same in-memory
:class:`~stations.service.StationService` as with a GeoPackage.  A listener thread waits for
``NOTIFY stations_changed`` (sent by every committed change set), asks the store for the
stations changed since the sequence number it holds, and swaps in a patched snapshot (see
:meth:`StationService.with_changes`).  If the database goes away, the replica keeps serving its
last snapshot, reports ``stale_since`` in ``/health``, and reconnects with exponential backoff;
on reconnecting it catches up from its sequence number, so nothing committed meanwhile is
missed.
"""

from __future__ import annotations

import datetime as dt
import logging
import threading
from collections.abc import Callable, Sequence

import numpy as np
import orjson
import psycopg

from ..background import Background
from ..errors import StoreUnavailable
from ..gpkg_rows import StationChunk
from ..hours import Clock, china_minute
from ..index import StationIndex
from ..service import CHUNK_TEXT_FIELDS, StationService
from .base import StoredStation
from .postgis import PostGISStore
from .records import amenity_bits, properties_json

log = logging.getLogger(__name__)

# With no notification for this long, the replica asks anyway: a connection can die silently.
POLL_INTERVAL_S = 5.0
BACKOFF_FIRST_S = 0.5
BACKOFF_MAX_S = 30.0
# Stations outside the k-d tree (moved, added) and tree points skipped (moved, deleted) from
# which the tree is rebuilt in the background; until then queries search them linearly.
REBUILD_INDEX_AT = 512
# A writer waits this long for the follower to serve its change before fetching it itself.
ENTRY_WAIT_S = 2.0


def station_chunk(stations: Sequence[StoredStation]) -> StationChunk:
    """Stations as one chunk of columns, as :class:`StationService` is built from."""
    records = [s.record for s in stations]
    return StationChunk(
        text={name: tuple(str(r[name]) for r in records) for name in CHUNK_TEXT_FIELDS},
        id_json=tuple(orjson.dumps(r["id"]) for r in records),
        properties_json=tuple(properties_json(r) for r in records),
        amenity_bits=tuple(amenity_bits(r) for r in records),
        lon=np.array([r["lon"] for r in records], dtype=np.float64),
        lat=np.array([r["lat"] for r in records], dtype=np.float64),
    )


def service_from_stations(stations: Sequence[StoredStation], data_version: str,
                          clock: Clock = china_minute) -> StationService:
    return StationService.from_chunks([station_chunk(stations)], data_version, clock=clock)


class StoreStations:
    """The current :class:`StationService` of a PostGIS store (same duties as
    :class:`stations.live.LiveStations` has for a file)."""

    def __init__(self, store: PostGISStore, clock: Clock = china_minute,
                 wall_clock: Callable[[], dt.datetime] = lambda: dt.datetime.now(dt.UTC)
                 ) -> None:
        self.store = store
        self.clock = clock
        self.wall_clock = wall_clock
        self.path = "postgis"
        self.reloads = 0
        self.stale_since: str | None = None
        self._lock = threading.Lock()
        self._served = threading.Condition(self._lock)
        self._follower = Background("stations-replica", self._follow)
        self._rebuilder = Background("stations-index", self._rebuild)
        self._rebuild_wanted = threading.Event()
        self._load_all()

    def _load_all(self) -> None:
        chunks, data_version, sequence = self.store.service_chunks()
        self.current = StationService.from_chunks(chunks, data_version, clock=self.clock)
        self.sequence = sequence

    def check_now(self) -> bool:
        """Fetch what changed since our sequence number; True when data was swapped.

        Raises StoreUnavailable when the database cannot be reached (the caller decides
        whether that makes the replica stale).
        """
        with self._lock:
            changes = self.store.changes_since(self.sequence)
            if changes.sequence == self.sequence:
                return False
            if changes.sequence < self.sequence:
                self._load_all()  # the database was reloaded behind our back: start over
            else:
                self.current = self.current.with_changes(station_chunk(changes.upserted),
                                                         changes.data_version, changes.deleted)
                self.sequence = changes.sequence
                if self.current.index.overlay_size >= REBUILD_INDEX_AT:
                    self._rebuild_wanted.set()
            self.reloads += 1
            self._served.notify_all()
            return True

    def serve_entry(self, entry: int, timeout_s: float = ENTRY_WAIT_S) -> None:
        """Return once history entry ``entry`` (a write just committed) is being served.

        The follower applies each burst of commits in one refresh; a writer waits for it
        instead of refreshing on its own, so a hundred concurrent edits cost a few refreshes,
        not a hundred queued behind one lock.  Without a running follower (or if it is late)
        the writer refreshes itself.
        """
        if self._follower.running:
            with self._served:
                if self._served.wait_for(lambda: self.sequence >= entry, timeout_s):
                    return
        self.check_now()

    def start(self) -> None:
        self._follower.start()
        self._rebuilder.start()

    def stop(self) -> None:
        self._follower.stop()
        self._rebuilder.stop()

    def _rebuild(self, stopping: threading.Event) -> None:
        """Rebuild the k-d tree of the served snapshot once enough stations moved (see
        :meth:`StationIndex.updated`).  The fresh index answers exactly as the one it
        replaces, so it is swapped into the snapshot in one assignment, requests in flight
        or not; a snapshot replaced meanwhile is rebuilt again."""
        while not stopping.is_set():
            if not self._rebuild_wanted.wait(POLL_INTERVAL_S):
                continue
            self._rebuild_wanted.clear()
            served = self.current
            if served.index.overlay_size >= REBUILD_INDEX_AT:
                served.index = StationIndex(served.lon, served.lat)
                if self.current is not served:
                    self._rebuild_wanted.set()

    def _follow(self, stopping: threading.Event) -> None:
        backoff = BACKOFF_FIRST_S
        while not stopping.is_set():
            try:
                with self.store.listen() as conn:
                    self.check_now()  # catch up on what was committed while not listening
                    self._fresh()
                    backoff = BACKOFF_FIRST_S
                    self._wait_for_changes(conn, stopping)
            except (psycopg.Error, StoreUnavailable) as exc:
                self._stale(exc)
                stopping.wait(backoff)
                backoff = min(backoff * 2, BACKOFF_MAX_S)
            except Exception:  # a follower that dies silently would freeze the data forever
                log.exception("following the station database failed")
                stopping.wait(backoff)

    def _wait_for_changes(self, conn: psycopg.Connection, stopping: threading.Event) -> None:
        while not stopping.is_set():
            notified = any(True for _ in conn.notifies(timeout=POLL_INTERVAL_S, stop_after=1))
            if not notified:
                conn.execute("SELECT 1")  # notices a dead connection while idle
            self.check_now()

    def _stale(self, exc: Exception) -> None:
        if self.stale_since is None:
            self.stale_since = self.wall_clock().isoformat(timespec="seconds")
            log.error("lost the station database; serving data version %s from %s on: %s",
                      self.current.data_version, self.stale_since, exc)

    def _fresh(self) -> None:
        if self.stale_since is not None:
            log.info("station database back; it was unreachable since %s", self.stale_since)
        self.stale_since = None
