"""Small study areas made in code for the planning tests: two 10 km squares side by side."""

from __future__ import annotations

import math

import geopandas as gpd
import shapely

from stations.index import EARTH_RADIUS_M

LON0, LAT0 = 116.30, 39.85  # south-west corner, in Beijing (where GCJ-02 shifts ~500 m)
KM_LAT = 1000 / (math.pi * EARTH_RADIUS_M / 180)
KM_LON = KM_LAT / math.cos(math.radians(LAT0 + 5 * KM_LAT))


def square(x0_km: float, y0_km: float, size_km: float) -> shapely.Polygon:
    """A WGS84 square (in km east and north of the corner), densified so it stays square."""
    box = shapely.box(LON0 + x0_km * KM_LON, LAT0 + y0_km * KM_LAT,
                      LON0 + (x0_km + size_km) * KM_LON, LAT0 + (y0_km + size_km) * KM_LAT)
    return shapely.segmentize(box, KM_LAT / 10)


def at_km(x_km: float, y_km: float) -> tuple[float, float]:
    """WGS84 lon/lat of a point x km east and y km north of the corner."""
    return LON0 + x_km * KM_LON, LAT0 + y_km * KM_LAT


def two_districts() -> gpd.GeoDataFrame:
    """甲区 (code 110901) west of 乙区 (110902); each 10 km x 10 km."""
    return gpd.GeoDataFrame(
        {"code": ["110901", "110902"], "name": ["甲区", "乙区"], "level": "district",
         "province": "北京市", "city": "北京市"},
        geometry=[square(0, 0, 10), square(10, 0, 10)], crs="EPSG:4326")
