"""A river city drawn by hand and written with pyosmium, for the road tests.

Metres east (x) and north (y) of a point in Xi'an.  A river runs between the south street
(y = 0) and the north street (y = 300); three road bridges cross it at x = 0, 1000 and 2000,
and a footbridge (walkers only) at x = 500.

Stations: A at (600, 320) just north of the river, B at (1300, -20) south of it, C at
(600, 5000) far from every road.  A rider at (520, -20) is 349 m from A and 780 m from B as the
crow flies, but rides 20 + 480 + 300 + 400 + 20 = 1220 m to A (over the x = 1000 bridge) and
20 + 780 + 20 = 820 m to B; on foot the footbridge makes A 20 + 20 + 300 + 100 + 20 = 460 m.
"""

from __future__ import annotations

import math
from pathlib import Path

import osmium
from osmium.osm.mutable import Node, Way

from stations.geodata import write_stations
from stations.index import EARTH_RADIUS_M

LON0, LAT0 = 108.95, 34.25
RIDER = (520.0, -20.0)
STATION_XY = {"A": (600.0, 320.0), "B": (1300.0, -20.0), "C": (600.0, 5000.0)}
EBIKE_M = {"A": 1220.0, "B": 820.0}
WALK_M = {"A": 460.0, "B": 820.0}


def lonlat(x: float, y: float) -> tuple[float, float]:
    metres_per_degree = EARTH_RADIUS_M * math.pi / 180
    return (LON0 + x / (metres_per_degree * math.cos(math.radians(LAT0))),
            LAT0 + y / metres_per_degree)


def write_river_city(path: Path, bridges: tuple[int, ...] = (0, 1000, 2000)) -> Path:
    xs = (0, 500, 1000, 1500, 2000)
    south = {x: 1 + i for i, x in enumerate(xs)}
    north = {x: 11 + i for i, x in enumerate(xs)}
    with osmium.SimpleWriter(str(path), overwrite=True) as writer:
        for x in xs:
            writer.add_node(Node(id=south[x], location=lonlat(x, 0)))
            writer.add_node(Node(id=north[x], location=lonlat(x, 300)))
        street = {"highway": "residential", "name": "河边路"}
        writer.add_way(Way(id=1, nodes=[south[x] for x in xs], tags=street))
        writer.add_way(Way(id=2, nodes=[north[x] for x in xs], tags=street))
        for way_id, x in ((3, 0), (4, 1000), (5, 2000)):
            if x not in bridges:
                continue
            writer.add_way(Way(id=way_id, nodes=[south[x], north[x]],
                               tags={"highway": "tertiary", "bridge": "yes"}))
        writer.add_way(Way(id=6, nodes=[south[500], north[500]],
                           tags={"highway": "footway", "bridge": "yes"}))
    return path


def write_river_stations(path: Path) -> Path:
    """NN-001 at A (has a fridge), NN-002 at B (e-bike charging), NN-003 at C (off the road)."""
    from conftest import make_sample_frame
    from shapely.geometry import Point

    frame = make_sample_frame().iloc[:3].copy()
    frame["geometry"] = [Point(*lonlat(*STATION_XY[name])) for name in "ABC"]
    write_stations(frame, path)
    return path


def write_river_district(path: Path) -> Path:
    """One district (code 610199) around the river city, written by GDAL (GeoPackage)."""
    import geopandas as gpd
    import pyogrio
    import shapely

    west, south = lonlat(-50, -100)
    east, north = lonlat(2050, 400)
    frame = gpd.GeoDataFrame({"code": ["610199"], "name": ["河区"]},
                             geometry=[shapely.box(west, south, east, north)], crs="EPSG:4326")
    pyogrio.write_dataframe(frame, path)
    return path
