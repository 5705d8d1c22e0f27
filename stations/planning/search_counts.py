"""Counting where riders search from, on the server's hot path (kept free of pandas and GDAL).

Opt-in per deployment (``STATIONS_SEARCH_COUNTS=1``).  What is kept is only a count per grid cell
and day: never a position, never a client address, never a time of day.  Counting costs a
dictionary increment on the event loop; a background thread adds the counts to SQLite every
``flush_s`` seconds, so the hot path never waits for a disk.  Reading (with the privacy
threshold) is :mod:`stations.planning.searches`.

Cells: rows of :data:`DEFAULT_CELL_M` of latitude; within a row, columns of the same width in
metres at the row's middle latitude, so cells are about square anywhere in China.
"""

from __future__ import annotations

import datetime as dt
import math
import sqlite3
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Final

import numpy as np
import numpy.typing as npt

from ..background import Background

DEFAULT_CELL_M: Final = 500.0
_METRES_PER_DEGREE: Final = 111_195.0
SCHEMA: Final = """
CREATE TABLE IF NOT EXISTS search_counts (
    day TEXT NOT NULL, cell_m REAL NOT NULL, row INTEGER NOT NULL, col INTEGER NOT NULL,
    count INTEGER NOT NULL, PRIMARY KEY (day, cell_m, row, col))
"""
Today = Callable[[], dt.date]


def cell_of(lon: float, lat: float, cell_m: float = DEFAULT_CELL_M) -> tuple[int, int]:
    """(row, column) of the cell holding a WGS84 point."""
    step = cell_m / _METRES_PER_DEGREE
    row = math.floor(lat / step)
    width = step / max(math.cos(math.radians((row + 0.5) * step)), 0.01)
    return row, math.floor(lon / width)


def cell_centres(row: npt.ArrayLike, col: npt.ArrayLike, cell_m: float = DEFAULT_CELL_M
                 ) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.float64]]:
    """WGS84 centres of cells (the inverse of :func:`cell_of`)."""
    step = cell_m / _METRES_PER_DEGREE
    lat = (np.asarray(row, dtype=np.float64) + 0.5) * step
    width = step / np.maximum(np.cos(np.radians(lat)), 0.01)
    return (np.asarray(col, dtype=np.float64) + 0.5) * width, lat


class SearchCounter:
    """In-memory counts of searches per cell and day, written to SQLite off the event loop."""

    def __init__(self, path: Path, today: Today, cell_m: float = DEFAULT_CELL_M,
                 flush_s: float = 60.0) -> None:
        self.path = Path(path)
        self.today = today
        self.cell_m = float(cell_m)
        self.flush_s = flush_s
        self._counts: dict[tuple[str, int, int], int] = {}
        self._lock = threading.Lock()
        self._flusher = Background("search-counts", self._run)

    def record(self, lon: float, lat: float) -> None:
        """Count one search from a WGS84 point (the point itself is not kept)."""
        row, col = cell_of(lon, lat, self.cell_m)
        key = (self.today().isoformat(), row, col)
        with self._lock:
            self._counts[key] = self._counts.get(key, 0) + 1

    def flush(self) -> int:
        """Add the counts gathered so far to the file; returns how many cells were written."""
        with self._lock:
            pending, self._counts = self._counts, {}
        if not pending:
            return 0
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with sqlite3.connect(self.path, timeout=30) as db:
            db.execute(SCHEMA)
            db.executemany(
                "INSERT INTO search_counts VALUES (?, ?, ?, ?, ?) ON CONFLICT (day, cell_m, row,"
                " col) DO UPDATE SET count = count + excluded.count",
                [(day, self.cell_m, row, col, n) for (day, row, col), n in pending.items()])
        db.close()
        return len(pending)

    def _run(self, stopping: threading.Event) -> None:
        while not stopping.wait(self.flush_s):
            self.flush()

    def start(self) -> None:
        """Flush every ``flush_s`` seconds on a background thread."""
        self._flusher.start()

    def stop(self) -> None:
        """Stop the thread (after the flush it may be in) and write what is left."""
        self._flusher.stop(timeout_s=None)
        self.flush()
