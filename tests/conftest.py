"""Shared fixtures: a handful of stations made in code, and a real GeoPackage written by GDAL."""

from __future__ import annotations

import os
from pathlib import Path

import geopandas as gpd
import pytest

from stations.geodata import station_frame, write_stations
from stations.model import AMENITIES

# Six stations in two cities; positions are WGS84.  The name of S006 is hostile on purpose:
# every page and popup must show it as text.
SAMPLE_ROWS = [
    # id, name, name_en, city, district, lon, lat, opening_hours, status, amenities
    ("NN-001", "民族大道枫林路口工会驿站", "Minzu Avenue Fenglin Road Station", "南宁市", "青秀区",
     108.3960, 22.8170, "24/7", "open",
     ("drinking_water", "fridge", "microwave", "air_conditioning", "washing_machine",
      "phone_charging")),
    ("NN-002", "五象大道体强路口工会驿站", "", "南宁市", "良庆区",
     108.3900, 22.7700, "24/7", "open",
     ("drinking_water", "microwave", "air_conditioning", "phone_charging", "ebike_charging")),
    ("NN-003", "朝阳广场户外劳动者服务站", "", "南宁市", "兴宁区",
     108.3190, 22.8180, "Mo-Fr 08:00-18:00", "open", ("drinking_water", "toilet")),
    ("NN-004", "琅东客运站工会驿站", "", "南宁市", "青秀区",
     108.4050, 22.8200, "24/7", "temporarily_closed", ("drinking_water", "microwave")),
    ("YY-001", "月光草坪工会驿站", "Moonlight Lawn Station", "重庆市", "云阳县",
     108.6970, 30.9300, "24/7", "open",
     ("drinking_water", "microwave", "phone_charging", "reading_corner", "union_signup")),
    ("YY-002", "<img src=x onerror=alert(1)>", "", "重庆市", "云阳县",
     108.7010, 30.9350, "06:00-22:00", "open", ("drinking_water",)),
]


def make_sample_frame() -> gpd.GeoDataFrame:
    """The six sample stations as a canonical station frame."""
    columns: dict[str, list[object]] = {
        "id": [], "name": [], "name_en": [], "city": [], "district": [],
        "opening_hours": [], "status": [],
    }
    amenity_columns: dict[str, list[bool]] = {}
    for row in SAMPLE_ROWS:
        for key, value in zip(columns, (*row[:5], row[7], row[8]), strict=True):
            columns[key].append(value)
    for amenity in AMENITIES:
        amenity_columns[amenity.column] = [amenity.code in row[9] for row in SAMPLE_ROWS]
    n = len(SAMPLE_ROWS)
    extra = {
        "address": [f"{row[3]}{row[4]}{row[1]}旁" for row in SAMPLE_ROWS],
        "province": ["广西壮族自治区" if row[3] == "南宁市" else "重庆市" for row in SAMPLE_ROWS],
        "operator": ["南宁市建设工会"] * 4 + ["云阳县总工会"] * 2,
        "phone": ["0771-12351"] * 4 + ["023-12351"] * 2,
        "source": ["test fixture"] * n,
        "updated_at": ["2024-06-10T09:00:00+08:00"] * n,
    }
    return station_frame(
        {**columns, **extra, **amenity_columns},
        [row[5] for row in SAMPLE_ROWS],
        [row[6] for row in SAMPLE_ROWS],
    )


@pytest.fixture
def sample_frame() -> gpd.GeoDataFrame:
    return make_sample_frame()


@pytest.fixture
def sample_gpkg(tmp_path: Path) -> Path:
    """The six sample stations in a real GeoPackage written by GDAL."""
    path = tmp_path / "stations.gpkg"
    write_stations(make_sample_frame(), path)
    return path


def make_unknown_hours_frame() -> gpd.GeoDataFrame:
    """The sample with YY-001's hours unrecorded, as they are for most real stations."""
    frame = make_sample_frame()
    frame.loc[frame["id"] == "YY-001", "opening_hours"] = ""
    return frame


@pytest.fixture(autouse=True, scope="session")
def _planning_cache(tmp_path_factory: pytest.TempPathFactory):
    """Converted district boundaries go to a cache of the test run, not the user's."""
    previous = os.environ.get("STATIONS_CACHE_DIR")
    os.environ["STATIONS_CACHE_DIR"] = str(tmp_path_factory.mktemp("stations-cache"))
    yield
    if previous is None:
        os.environ.pop("STATIONS_CACHE_DIR", None)
    else:
        os.environ["STATIONS_CACHE_DIR"] = previous
