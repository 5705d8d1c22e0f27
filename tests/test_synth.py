"""The synthetic national table: deterministic, realistic in shape, and readable by the build."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy.spatial import cKDTree

from stations.cli import main
from stations.crs import outside_china
from stations.index import EARTH_RADIUS_M, haversine_m, unit_vectors
from stations.model import AMENITY_CODES, TEXT_FIELDS, Status
from stations.synth import AMENITY_SHARES, CITIES, MIN_SPACING_M, synthesize_table

COUNT = 20_000


@pytest.fixture(scope="module")
def table() -> pd.DataFrame:
    return synthesize_table(COUNT, seed=7)


def test_same_seed_same_table_other_seed_other_table(table):
    pd.testing.assert_frame_equal(table, synthesize_table(COUNT, seed=7))
    other = synthesize_table(COUNT, seed=8)
    assert not np.array_equal(table["lon"].to_numpy(), other["lon"].to_numpy())


def test_count_and_columns(table):
    assert len(table) == COUNT
    made = ("division_code", "opening_hours_text")  # the import works these out itself
    assert list(table.columns) == [*(f for f in TEXT_FIELDS if f not in made), "lon", "lat",
                                   "amenities"]
    assert len(synthesize_table(1, seed=0)) == 1
    assert len(synthesize_table(0, seed=0)) == 0


def test_negative_count_is_refused():
    with pytest.raises(ValueError, match="count"):
        synthesize_table(-1)


def test_ids_unique_and_required_fields_filled(table):
    assert table["id"].is_unique
    for field in ("id", "name", "address", "province", "city", "district", "operator", "phone"):
        assert (table[field].str.len() > 0).all(), field


def test_every_point_is_inside_china(table):
    assert not outside_china(table["lon"], table["lat"]).any()


def test_stations_cluster_near_their_city_centre(table):
    centres = {city.name: (city.lon, city.lat) for city in CITIES}
    centre = np.array([centres[name] for name in table["city"]])
    distance_m = haversine_m(table["lon"].to_numpy(), table["lat"].to_numpy(),
                              centre[:, 0], centre[:, 1])
    assert np.median(distance_m) < 15_000
    assert np.quantile(distance_m, 0.99) < 80_000


def test_bigger_cities_get_more_stations(table):
    per_city = table["city"].value_counts()
    assert per_city["上海市"] > 5 * per_city["拉萨市"]
    assert per_city.index.isin([city.name for city in CITIES]).all()
    assert len(per_city) >= 60  # every city of the table shows up in 20,000 stations


def test_district_and_province_belong_to_the_city(table):
    districts = {city.name: set(city.districts) for city in CITIES}
    provinces = {city.name: city.province for city in CITIES}
    sample = table.sample(2000, random_state=1)
    for city, district, province in sample[["city", "district", "province"]].itertuples(
            index=False):
        assert district in districts[city]
        assert province == provinces[city]


def test_no_two_stations_look_like_one_station_entered_twice(table):
    lon, lat = table["lon"].to_numpy(), table["lat"].to_numpy()
    points = unit_vectors(lon, lat) * EARTH_RADIUS_M
    nearest_m, nearest = cKDTree(points).query(points, k=[2])  # k=1 is the point itself
    ground_m = haversine_m(lon, lat, lon[nearest[:, 0]], lat[nearest[:, 0]])
    # Coordinates are rounded to 1e-6 degrees (about 0.1 m), hence the small allowance.
    assert ground_m.min() > MIN_SPACING_M - 1.0
    assert nearest_m.min() > MIN_SPACING_M - 1.0


def test_amenity_shares_match_the_target_mix(table):
    assert set(AMENITY_SHARES) == set(AMENITY_CODES)
    lists = table["amenities"].str.split(";")
    for code, share in AMENITY_SHARES.items():
        observed = lists.map(lambda codes, code=code: code in codes).mean()
        assert observed == pytest.approx(share, abs=0.02), code
    assert set(code for codes in lists for code in codes) <= set(AMENITY_CODES)


def test_opening_hours_and_status_mix(table):
    assert table["opening_hours"].eq("24/7").mean() == pytest.approx(0.80, abs=0.02)
    assert set(table["status"]) == {status.value for status in Status}
    assert table["status"].eq("open").mean() == pytest.approx(0.95, abs=0.01)


def test_names_read_like_union_station_names(table):
    assert table["name"].str.fullmatch(r".+[区县镇道].+口(工会驿站|户外劳动者服务站)").all()
    assert table["phone"].str.fullmatch(r"0\d{2,3}-12351").all()
    assert table["updated_at"].str.fullmatch(r"2024-\d\d-\d\dT\d\d:\d\d:00\+08:00").all()


def test_cli_writes_a_utf8_csv_that_reads_back(tmp_path, capsys):
    output = tmp_path / "national.csv"
    assert main(["synth", "--count", "500", "--seed", "3", "--output", str(output)]) == 0
    assert "500 synthetic stations" in capsys.readouterr().err
    text = output.read_bytes().decode("utf-8")  # raises if not UTF-8
    assert "工会驿站" in text
    back = pd.read_csv(output, dtype=str, keep_default_na=False)
    expected = synthesize_table(500, seed=3)
    assert list(back.columns) == list(expected.columns)
    assert back["id"].tolist() == expected["id"].tolist()
    assert back["name"].tolist() == expected["name"].tolist()
    np.testing.assert_allclose(back["lon"].astype(float), expected["lon"], atol=1e-9)
    assert not list(tmp_path.glob(".*partial"))


@pytest.mark.parametrize("bad", ["0", "-5", "abc", "1.5", "99999999999"])
def test_cli_refuses_bad_counts_cleanly(tmp_path, capsys, bad):
    with pytest.raises(SystemExit) as exit_info:
        main(["synth", "--count", bad, "--output", str(tmp_path / "x.csv")])
    assert exit_info.value.code == 2
    err = capsys.readouterr().err
    assert "--count" in err and "Traceback" not in err
    assert not (tmp_path / "x.csv").exists()


def test_cli_reports_a_missing_output_folder(tmp_path, capsys):
    target = tmp_path / "no-such-folder" / "x.csv"
    assert main(["synth", "--count", "5", "--output", str(target)]) == 2
    err = capsys.readouterr().err
    assert "no-such-folder" in err and "does not exist" in err


def test_synthetic_table_builds_into_a_geopackage(tmp_path):
    """The table is meant for `stations build`: every row must pass validation."""
    from stations.geodata import read_stations

    source = tmp_path / "national.csv"
    gpkg = tmp_path / "national.gpkg"
    assert main(["synth", "--count", "300", "--seed", "11", "--output", str(source)]) == 0
    code = main(["build", str(source), "--crs", "wgs84", "--output", str(gpkg), "--strict",
                 "--no-progress"])
    assert code == 0
    stations = read_stations(gpkg)
    assert len(stations) == 300
    expected = synthesize_table(300, seed=11).set_index("id")
    got = stations.set_index("id")
    assert (got.loc[expected.index, "has_microwave"]
            == expected["amenities"].str.contains("microwave")).all()
