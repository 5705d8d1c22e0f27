"""Reading where riders searched from, for planners: the privacy threshold applies here.

The counts are written by :class:`stations.planning.search_counts.SearchCounter` in the server.
Cells with fewer than ``min_count`` searches over the period read are left out, so a single
rider's searches cannot be picked out of what planners see.
"""

from __future__ import annotations

import datetime as dt
import sqlite3
from dataclasses import dataclass
from pathlib import Path
from typing import Final

import numpy as np
import numpy.typing as npt
import pandas as pd

from ..errors import PlanningError
from .demand import Demand, demand_points
from .reach import Reach, gap_text, within
from .search_counts import DEFAULT_CELL_M, cell_centres

DEFAULT_MIN_COUNT: Final = 10


@dataclass(frozen=True)
class SearchCells:
    """Cells with at least ``min_count`` searches between ``since`` and ``until`` (inclusive)."""

    lon: npt.NDArray[np.float64]
    lat: npt.NDArray[np.float64]
    searches: npt.NDArray[np.int64]
    since: dt.date
    until: dt.date
    min_count: int

    def as_demand(self) -> Demand:
        """The cells as demand points weighted by their searches."""
        return demand_points(self.lon, self.lat, self.searches, label="searches")


def read_search_counts(path: Path, since: dt.date, until: dt.date,
                       min_count: int = DEFAULT_MIN_COUNT,
                       cell_m: float = DEFAULT_CELL_M) -> SearchCells:
    """Searches per cell over a period; cells under ``min_count`` are suppressed."""
    if min_count < 1:
        raise PlanningError(f"min count: must be at least 1, got {min_count}")
    if until < since:
        raise PlanningError(f"period: {until} is before {since}")
    if not Path(path).is_file():
        raise PlanningError(f"searches: no search counts file {path}; turn counting on with "
                            "STATIONS_SEARCH_COUNTS=1 on the server")
    with sqlite3.connect(f"file:{path}?mode=ro", uri=True) as db:
        rows = db.execute(
            "SELECT row, col, SUM(count) AS n FROM search_counts WHERE day BETWEEN ? AND ? "
            "AND cell_m = ? GROUP BY row, col HAVING n >= ? ORDER BY n DESC, row, col",
            (since.isoformat(), until.isoformat(), float(cell_m), int(min_count))).fetchall()
    db.close()
    table = np.array(rows, dtype=np.int64).reshape(-1, 3)
    lon, lat = cell_centres(table[:, 0], table[:, 1], cell_m)
    return SearchCells(lon, lat, table[:, 2], since, until, int(min_count))


def search_gaps(cells: SearchCells, reach: Reach, top: int = 10) -> pd.DataFrame:
    """The busiest cells with no station within reach, with a sentence for planners."""
    nearest = reach.nearest_m(cells.lon, cells.lat)
    far = np.flatnonzero(~within(nearest, reach.reach_m))[:top]
    days = (cells.until - cells.since).days + 1
    return pd.DataFrame({
        "lon": np.round(cells.lon[far], 6), "lat": np.round(cells.lat[far], 6),
        "searches": cells.searches[far], "nearest_m": np.round(nearest[far], 0),
        "text": [f"骑手在此搜索 {n:,} 次（{days} 天），最近驿站 {gap_text(d)}; riders searched "
                 f"here {n:,} times in {days} days, nearest station {gap_text(d)}"
                 for n, d in zip(cells.searches[far], nearest[far], strict=True)],
    })
