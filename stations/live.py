"""Keep serving the newest good GeoPackage: load once, then swap in rebuilt files.

``stations build`` replaces the GeoPackage with :func:`os.replace`, which changes the file's
inode and modification time.  A background thread notices that, loads and checks the new file
away from the event loop, and then swaps one reference (a single assignment, atomic for the
threads reading it).  The file is read so that the loading thread rarely lets go of the GIL
(see :mod:`stations.gpkg_rows`), and while it loads, threads take turns with the GIL every
:data:`LOADING_SWITCH_S` instead of every 5 ms: each time the loader lets go of the GIL (a
numpy operation, SQLite, the tree build), a saturated event loop would otherwise keep it for a
whole switch interval, and a load lets go of it some fifty times (20,000 stations).  A request reads
:attr:`LiveStations.current` once and keeps that snapshot to the end, so requests in flight
finish on the data they started with.  A file that cannot be loaded (corrupt, half-written,
wrong schema) is logged and refused; the old data keeps being served, and the file is tried
again only once it changes again.
"""

from __future__ import annotations

import logging
import os
import sys
import threading
import time
from pathlib import Path
from typing import TYPE_CHECKING

from .background import Background
from .errors import DataFileError
from .hours import Clock, china_minute
from .service import FileIdentity, StationService

if TYPE_CHECKING:
    from .roads import RoadNetwork

log = logging.getLogger(__name__)

LOADING_SWITCH_S = 0.0005


class LiveStations:
    """The current :class:`StationService` for one GeoPackage path, reloaded when replaced."""

    def __init__(self, path: str | os.PathLike[str], interval_s: float = 2.0,
                 clock: Clock = china_minute, roads: RoadNetwork | None = None) -> None:
        self.path = Path(path)
        self.interval_s = interval_s
        self.clock = clock
        self.roads = roads
        self.current = self._load()
        self.last_refused: FileIdentity | None = None
        self.reloads = 0
        self._watcher = Background("stations-reload", self._watch)
        self._lock = threading.Lock()

    def check_now(self) -> bool:
        """Load the file while it differs from the data being served; True when data was
        swapped.

        A file replaced again while it was being loaded does not make the load wasted: what was
        loaded is newer than what is served, so it is swapped in, and the newer file is loaded
        at once, without waiting for the next check.  However slow loads are, the newest file
        wins and every file that stays in place for one load is served.
        """
        swapped = False
        with self._lock:
            while True:
                identity = FileIdentity.of(self.path)
                if identity is None or identity in (self.current.identity, self.last_refused):
                    return swapped
                started, cpu_started = time.perf_counter(), time.thread_time()
                try:
                    fresh = self._load()
                except DataFileError as exc:
                    if FileIdentity.of(self.path) != identity:
                        continue  # replaced while being read: read the newer file
                    self.last_refused = identity
                    log.error("refused %s, still serving data version %s: %s",
                              self.path, self.current.data_version, exc)
                    return swapped
                previous, self.current = self.current, fresh
                self.reloads += 1
                swapped = True
                log.info("reloaded %s: data version %s -> %s, %d stations, loaded in %.2f s "
                         "(%.2f s of CPU)", self.path, previous.data_version, fresh.data_version,
                         fresh.count, time.perf_counter() - started,
                         time.thread_time() - cpu_started)

    def serve_entry(self, entry: int) -> None:
        """Serve a change just written into the file (``entry``: its history number) now."""
        self.check_now()

    def _load(self) -> StationService:
        """Load the GeoPackage and, with a road network, prepare its stations on the roads."""
        switch_s = sys.getswitchinterval()
        sys.setswitchinterval(min(switch_s, LOADING_SWITCH_S))
        try:
            service = StationService.load(self.path, self.clock)
            if self.roads is not None:
                service.roads = self.roads.prepare(service.lon, service.lat)
        finally:
            sys.setswitchinterval(switch_s)
        return service

    def start(self) -> None:
        """Watch the file from a daemon thread (no-op when the interval is zero or less)."""
        if self.interval_s > 0:
            self._watcher.start()

    def stop(self) -> None:
        self._watcher.stop()

    def _watch(self, stopping: threading.Event) -> None:
        while not stopping.wait(self.interval_s):
            try:
                self.check_now()
            except Exception:  # a watcher that dies silently would freeze the data forever
                log.exception("checking %s for a new version failed", self.path)
