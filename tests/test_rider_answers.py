"""What the service tells a rider: three open states at a chosen moment, and reach.

Moments are Shanghai time and always given, never read from the clock: a weekday noon when
office-hours stations are open, and a weekend night when they are not.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import numpy as np
import orjson
import pytest
from conftest import make_unknown_hours_frame

from stations.errors import InvalidInput
from stations.geodata import read_stations, write_stations
from stations.index import haversine_m
from stations.model import DEFAULT_GEOPACKAGE
from stations.service import NearestOptions, StationService

SHANGHAI = dt.timezone(dt.timedelta(hours=8))
WEEKDAY_NOON = dt.datetime(2024, 6, 12, 12, 0, tzinfo=SHANGHAI)      # a Wednesday
WEEKEND_NIGHT = dt.datetime(2024, 6, 15, 23, 30, tzinfo=SHANGHAI)    # a Saturday
NANNING = (108.37, 22.80)
SHIPPED = Path(__file__).resolve().parents[1] / DEFAULT_GEOPACKAGE
YUNYANG = (108.70, 30.93)


@pytest.fixture(scope="module")
def service(tmp_path_factory: pytest.TempPathFactory) -> StationService:
    path = tmp_path_factory.mktemp("riders") / "stations.gpkg"
    write_stations(make_unknown_hours_frame(), path)
    return StationService.load(Path(path))


def answer(service: StationService, lon: float, lat: float, **options: object) -> dict:
    return orjson.loads(service.find_nearest(lon, lat, NearestOptions(**options)))


def states(service: StationService, at: dt.datetime, **options: object) -> dict[str, str]:
    features = answer(service, *NANNING, k=10, at=at, **options)["features"]
    return {f["id"]: f["properties"]["open_state"] for f in features}


def test_three_states_on_a_weekday_noon(service):
    assert states(service, WEEKDAY_NOON) == {
        "NN-001": "open", "NN-002": "open", "NN-003": "open",  # 24/7, 24/7, Mo-Fr 08:00-18:00
        "NN-004": "closed",                                    # temporarily closed, though 24/7
        "YY-001": "unknown", "YY-002": "open",                 # no hours; 06:00-22:00
    }


def test_three_states_on_a_weekend_night(service):
    assert states(service, WEEKEND_NIGHT) == {
        "NN-001": "open", "NN-002": "open", "NN-003": "closed", "NN-004": "closed",
        "YY-001": "unknown", "YY-002": "closed",
    }


def test_open_now_stays_true_false_null_beside_open_state(service):
    features = answer(service, *NANNING, k=10, at=WEEKEND_NIGHT)["features"]
    expected = {"open": True, "closed": False, "unknown": None}
    for feature in features:
        props = feature["properties"]
        assert props["open_now"] is expected[props["open_state"]]


def test_filter_on_open_states(service):
    assert set(states(service, WEEKEND_NIGHT, open_state=("open", "unknown"))) == {
        "NN-001", "NN-002", "YY-001"}
    assert set(states(service, WEEKEND_NIGHT, open_state=("unknown",))) == {"YY-001"}
    assert set(states(service, WEEKEND_NIGHT, open_state=("closed",))) == {
        "NN-003", "NN-004", "YY-002"}
    # open_now=true keeps meaning "known to be open"; with open_state, both must hold.
    assert set(states(service, WEEKDAY_NOON, open_now=True)) == {
        "NN-001", "NN-002", "NN-003", "YY-002"}
    assert states(service, WEEKDAY_NOON, open_now=True, open_state=("unknown",)) == {}
    everything = states(service, WEEKDAY_NOON)
    assert states(service, WEEKDAY_NOON, open_state=("closed", "unknown", "open")) == everything


def test_unknown_open_state_names_the_field():
    with pytest.raises(InvalidInput) as caught:
        NearestOptions(open_state=("open", "maybe"))
    assert caught.value.field == "open_state"
    assert "unknown" in caught.value.message


def test_stations_and_pages_carry_the_open_state(service):
    feature = orjson.loads(service.station("NN-003", at=WEEKEND_NIGHT))
    assert feature["properties"]["open_state"] == "closed"
    page = service.page(0, 10, open_state=("open", "unknown"), at=WEEKEND_NIGHT)
    assert [orjson.loads(f)["id"] for f in page.features] == ["NN-001", "NN-002", "YY-001"]
    assert page.number_matched == 3
    assert {orjson.loads(f)["properties"]["open_state"] for f in page.features} == {
        "open", "unknown"}


def test_within_reach_lists_only_stations_within_reach(service):
    found = answer(service, *NANNING, k=8, radius_m=20_000, at=WEEKDAY_NOON)
    assert [f["id"] for f in found["features"]] == ["NN-001", "NN-002", "NN-004", "NN-003"]
    assert "nearestBeyondReach" not in found
    assert found["distance_basis"] == "straight"


def test_nothing_within_reach_offers_the_nearest_station_beyond(service):
    far = (108.0, 26.0)  # rural Guangxi, 350 km from Nanning
    found = answer(service, *far, k=8, radius_m=20_000, open_state=("open", "unknown"),
                   at=WEEKEND_NIGHT)
    assert found["features"] == [] and found["numberReturned"] == 0
    beyond = found["nearestBeyondReach"]
    assert beyond["id"] == "NN-001"  # NN-003 is nearer but closed on a Saturday night
    expected = float(haversine_m(*far, 108.396, 22.817))
    assert beyond["properties"]["distance_m"] == pytest.approx(expected, abs=0.1)
    assert beyond["properties"]["distance_m"] > 20_000
    # Nothing passes the filters anywhere: no station to offer either.
    lonely = answer(service, *far, k=8, radius_m=20_000, amenities=("legal_aid",))
    assert lonely["features"] == [] and "nearestBeyondReach" not in lonely


def test_batch_offers_the_nearest_beyond_reach_per_point(service):
    points = np.array([NANNING, (108.0, 26.0), YUNYANG])
    options = NearestOptions(k=3, radius_m=20_000, at=WEEKDAY_NOON)
    found = orjson.loads(service.find_nearest_batch(points[:, 0], points[:, 1], options))
    for (lon, lat), result in zip(points, found["results"], strict=True):
        single = answer(service, lon, lat, k=3, radius_m=20_000, at=WEEKDAY_NOON)
        assert result == {name: value for name, value in single.items() if name != "crs"}
    assert "nearestBeyondReach" in found["results"][1]
    assert "nearestBeyondReach" not in found["results"][0]


def test_features_carry_the_hours_in_words_never_osm_syntax(service):
    features = answer(service, *NANNING, k=10, at=WEEKDAY_NOON)["features"]
    words = {f["id"]: (f["properties"]["hours_zh"], f["properties"]["hours_en"])
             for f in features}
    assert words["NN-001"] == ("24小时开放", "Open 24 hours")
    assert words["NN-003"] == ("周一至周五 08:00–18:00", "Mon–Fri 08:00–18:00")
    assert words["YY-002"] == ("每天 06:00–22:00", "Daily 06:00–22:00")
    assert words["YY-001"] == ("开放时间未知", "Hours unknown")
    station = orjson.loads(service.station("NN-003"))["properties"]
    assert station["hours_zh"] == "周一至周五 08:00–18:00"


def test_riders_in_every_sample_city_get_stations_within_reach_only():
    """The shipped sample, as the rider page asks it: from every station's own position, the
    list holds only stations within 20 km (none from other provinces), the station itself
    included unless it is closed, and those with unrecorded hours are not left out."""
    shipped = StationService.load(SHIPPED)
    stations = read_stations(SHIPPED).set_index("id")
    unknown_listed = 0
    for station_id, station in stations.iterrows():
        found = answer(shipped, station.geometry.x, station.geometry.y, k=8, radius_m=20_000,
                       open_state=("open", "unknown"), at=WEEKDAY_NOON)
        listed = {f["id"]: f["properties"] for f in found["features"]}
        assert all(p["distance_m"] <= 20_000 for p in listed.values()), station_id
        assert {p["province"] for p in listed.values()} <= {station["province"]}, station_id
        if station["status"] == "open":
            assert station_id in listed, station_id
        unknown_listed += sum(p["open_state"] == "unknown" for p in listed.values())
    assert unknown_listed > 0
    central_xian = answer(shipped, 108.94, 34.26, k=8, radius_m=20_000,
                          open_state=("open", "unknown"), at=WEEKEND_NIGHT)["features"]
    assert len(central_xian) == 8
    assert {f["properties"]["city"] for f in central_xian} == {"西安市"}
    assert 1_000 < central_xian[0]["properties"]["distance_m"] < 2_000


def test_hours_no_program_could_read_are_shown_as_recorded(tmp_path):
    frame = make_unknown_hours_frame()
    frame.loc[frame["id"] == "YY-001", "opening_hours_text"] = "工作日白天，节假日看情况"
    write_stations(frame, tmp_path / "stations.gpkg")
    recorded = StationService.load(tmp_path / "stations.gpkg")
    props = orjson.loads(recorded.station("YY-001", at=WEEKDAY_NOON))["properties"]
    assert props["open_state"] == "unknown"
    assert props["hours_zh"] == "工作日白天，节假日看情况"
    assert props["hours_en"] == "As recorded: 工作日白天，节假日看情况"
