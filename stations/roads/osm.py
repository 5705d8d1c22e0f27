"""Read the highways of an OpenStreetMap extract (``.osm.pbf``) with pyosmium.

Only ways tagged ``highway`` are kept, with their node ids, node coordinates and the few tags
the travel profiles look at (:data:`TAG_KEYS`); everything else in the extract is skipped.
The result is flat arrays, so the graph is built with numpy rather than per-way Python.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import numpy.typing as npt
import osmium

from ..errors import DataFileError

# Tags that decide whether, and in which direction, a profile may use a way (see profiles.py).
TAG_KEYS = ("highway", "access", "vehicle", "bicycle", "foot", "oneway", "oneway:bicycle",
            "junction", "cycleway", "area", "motorroad")


@dataclass(frozen=True, slots=True)
class Highways:
    """Every highway way as a run of node references.

    Way ``w`` has the references ``way_start[w]:way_start[w + 1]`` of ``node_id``, ``lon`` and
    ``lat``; a node whose location is missing from a clipped extract has NaN coordinates.
    """

    node_id: npt.NDArray[np.int64]
    lon: npt.NDArray[np.float64]
    lat: npt.NDArray[np.float64]
    way_start: npt.NDArray[np.int64]
    tags: list[dict[str, str]]

    @property
    def way_count(self) -> int:
        return len(self.tags)


def read_highways(path: str | os.PathLike[str]) -> Highways:
    """Highways of an ``.osm.pbf`` (or any format osmium reads); DataFileError if unreadable."""
    path = Path(path)
    if not path.is_file():
        raise DataFileError(f"road network {path}: no such file")
    ids: list[int] = []
    lons: list[float] = []
    lats: list[float] = []
    starts = [0]
    tags: list[dict[str, str]] = []
    processor = (osmium.FileProcessor(str(path), osmium.osm.NODE | osmium.osm.WAY)
                 .with_locations()
                 .with_filter(osmium.filter.KeyFilter("highway")))
    try:
        for way in processor:
            if not way.is_way():
                continue
            for ref in way.nodes:
                ids.append(ref.ref)
                location = ref.location
                if location.valid():
                    lons.append(location.lon)
                    lats.append(location.lat)
                else:
                    lons.append(np.nan)
                    lats.append(np.nan)
            starts.append(len(ids))
            way_tags = way.tags
            tags.append({key: way_tags[key] for key in TAG_KEYS if key in way_tags})
    except RuntimeError as exc:  # osmium's own parse errors
        raise DataFileError(f"road network {path}: not a readable OSM file: {exc}") from None
    return Highways(np.asarray(ids, dtype=np.int64), np.asarray(lons, dtype=np.float64),
                    np.asarray(lats, dtype=np.float64), np.asarray(starts, dtype=np.int64),
                    tags)
