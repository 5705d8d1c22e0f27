"""Synthetic grid cities written as real ``.osm.pbf`` files, for tests and the benchmark.

A grid of streets with a river across it that only a few bridges cross, some streets missing
(so that routes detour), every tenth street a footway (walkers only) and every seventh a
one-way street: the cases where the straight-line nearest station is not the nearest to ride.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
import osmium
from osmium.osm.mutable import Node, Way

from ..index import EARTH_RADIUS_M


@dataclass(frozen=True, slots=True)
class GridCity:
    """Shape of the city: ``columns`` x ``rows`` crossings ``spacing_m`` apart."""

    columns: int = 60
    rows: int = 40
    spacing_m: float = 100.0
    bridges: int = 3
    missing_share: float = 0.1
    lon0: float = 108.90
    lat0: float = 34.20
    seed: int = 0

    @property
    def river_row(self) -> int:
        """The river runs between this row of crossings and the next."""
        return self.rows // 2 - 1

    @property
    def step_deg(self) -> tuple[float, float]:
        lat_step = np.degrees(self.spacing_m / EARTH_RADIUS_M)
        return lat_step / np.cos(np.radians(self.lat0)), lat_step

    def position(self, column: npt.ArrayLike, row: npt.ArrayLike
                 ) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.float64]]:
        d_lon, d_lat = self.step_deg
        return self.lon0 + np.asarray(column) * d_lon, self.lat0 + np.asarray(row) * d_lat

    def bounds(self) -> tuple[float, float, float, float]:
        (west, east), (south, north) = self.position([0, self.columns - 1],
                                                     [0, self.rows - 1])
        return float(west), float(south), float(east), float(north)




def write_grid_city(path: str | os.PathLike[str], city: GridCity = GridCity()) -> None:
    """Write the city's nodes and streets to ``path`` (format from the extension)."""
    rng = np.random.default_rng(city.seed)
    columns, rows = city.columns, city.rows
    bridge_columns = set(np.linspace(0, columns - 1, city.bridges + 2)[1:-1].round()
                         .astype(int).tolist())
    lon, lat = city.position(*np.meshgrid(np.arange(columns), np.arange(rows)))
    with osmium.SimpleWriter(str(path), overwrite=True) as writer:
        for row in range(rows):
            for column in range(columns):
                writer.add_node(Node(id=1 + row * columns + column,
                                     location=(float(lon[row, column]),
                                               float(lat[row, column]))))
        way_id = 1
        for row in range(rows):  # east-west streets
            present = rng.random(columns - 1) >= city.missing_share
            tags = {"highway": "footway" if row % 10 == 5 else "residential"}
            if row % 7 == 3:
                tags["oneway"] = "yes" if row % 2 else "-1"
            for run in _runs(present):
                nodes = [1 + row * columns + c for c in range(run[0], run[1] + 1)]
                writer.add_way(Way(id=way_id, nodes=nodes, tags=tags))
                way_id += 1
        for column in range(columns):  # north-south streets, crossing the river on bridges
            present = rng.random(rows - 1) >= city.missing_share
            present[city.river_row] = column in bridge_columns
            if column in bridge_columns:
                present[city.river_row - 1:city.river_row + 2] = True
            tags = {"highway": "tertiary" if column in bridge_columns else "residential"}
            if column % 7 == 3 and column not in bridge_columns:
                tags["oneway"] = "yes"
            for run in _runs(present):
                nodes = [1 + r * columns + column for r in range(run[0], run[1] + 1)]
                writer.add_way(Way(id=way_id, nodes=nodes, tags=tags))
                way_id += 1


def _runs(present: np.ndarray) -> list[tuple[int, int]]:
    """Runs of present segments as (first node, last node) along the street."""
    runs: list[tuple[int, int]] = []
    start = None
    for i, here in enumerate([*present.tolist(), False]):
        if here and start is None:
            start = i
        elif not here and start is not None:
            runs.append((start, i))
            start = None
    return runs
