"""Coordinate transforms against independent implementations, published points and round trips.

The peers are ``prcoords`` and ``coordTransform`` from PyPI: pure-Python, one point at a time,
written by other people from the same public algorithm.  Agreement with them to 1e-9 degrees
on thousands of random points is what tells us the vectorised formulas carry no typo.
"""

from __future__ import annotations

import math
import warnings

import coordTransform
import numpy as np
import prcoords
import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from stations import crs
from stations.crs import CoordinateSystem
from stations.errors import StationsError, UnknownCoordinateSystem
from stations.index import haversine_m

FORWARD_TOLERANCE_DEG = 1e-9
ROUND_TRIP_TOLERANCE_M = 0.01

# The box in which the offsets apply (crs.outside_china) and a box well inside it that covers
# mainland China from Xinjiang to Heilongjiang and Hainan; coordTransform uses a smaller box.
BOX = (72.004, 137.8347, 0.8293, 55.8271)
MAINLAND = (75.0, 134.0, 18.0, 53.0)


@pytest.fixture(scope="module")
def china_points() -> tuple[np.ndarray, np.ndarray]:
    """5,000 random WGS84 points over mainland China (fixed seed)."""
    rng = np.random.default_rng(20240610)
    west, east, south, north = MAINLAND
    return rng.uniform(west, east, 5000), rng.uniform(south, north, 5000)


def per_point(function, lon, lat, lat_first=False) -> tuple[np.ndarray, np.ndarray]:
    """Run a scalar peer function over every point; return (lon, lat) arrays."""
    if lat_first:
        pairs = [function((float(y), float(x))) for x, y in zip(lon, lat, strict=True)]
        out = np.array(pairs, dtype=float)
        return out[:, 1], out[:, 0]
    pairs = [function(float(x), float(y)) for x, y in zip(lon, lat, strict=True)]
    out = np.array(pairs, dtype=float)
    return out[:, 0], out[:, 1]


# --- forward transforms against the peers ------------------------------------------------------

@pytest.mark.parametrize(
    ("ours", "peer", "lat_first"),
    [
        (crs.wgs84_to_gcj02, coordTransform.wgs84_to_gcj02, False),
        (crs.wgs84_to_gcj02, prcoords.wgs_gcj, True),
        (crs.wgs84_to_bd09, coordTransform.wgs84_to_bd09, False),
        (crs.wgs84_to_bd09, prcoords.wgs_bd, True),
    ],
    ids=["gcj02-coordTransform", "gcj02-prcoords", "bd09-coordTransform", "bd09-prcoords"],
)
def test_forward_matches_independent_implementations(china_points, ours, peer, lat_first):
    lon, lat = china_points
    our_lon, our_lat = ours(lon, lat)
    peer_lon, peer_lat = per_point(peer, lon, lat, lat_first)
    assert np.max(np.abs(our_lon - peer_lon)) < FORWARD_TOLERANCE_DEG
    assert np.max(np.abs(our_lat - peer_lat)) < FORWARD_TOLERANCE_DEG
    # The comparison means something only if the transform moved every point by a map-visible
    # amount (GCJ-02 shifts by tens of metres in the far west, hundreds in the east).
    assert np.min(haversine_m(lon, lat, our_lon, our_lat)) > 10


def test_gcj02_to_bd09_matches_independent_implementations(china_points):
    lon, lat = crs.wgs84_to_gcj02(*china_points)
    our_lon, our_lat = crs.gcj02_to_bd09(lon, lat)
    for peer, lat_first in ((coordTransform.gcj02_to_bd09, False), (prcoords.gcj_bd, True)):
        peer_lon, peer_lat = per_point(peer, lon, lat, lat_first)
        assert np.max(np.abs(our_lon - peer_lon)) < FORWARD_TOLERANCE_DEG
        assert np.max(np.abs(our_lat - peer_lat)) < FORWARD_TOLERANCE_DEG


# --- inverse transforms ------------------------------------------------------------------------

@pytest.mark.parametrize(
    ("forward", "inverse"),
    [
        (crs.wgs84_to_gcj02, crs.gcj02_to_wgs84),
        (crs.gcj02_to_bd09, crs.bd09_to_gcj02),
        (crs.wgs84_to_bd09, crs.bd09_to_wgs84),
    ],
    ids=["gcj02", "bd09-from-gcj02", "bd09"],
)
def test_inverse_round_trips_within_a_centimetre(china_points, forward, inverse):
    lon, lat = china_points
    back_lon, back_lat = inverse(*forward(lon, lat))
    assert np.max(haversine_m(lon, lat, back_lon, back_lat)) < ROUND_TRIP_TOLERANCE_M
    # And the other way round: the inverse of a point, sent forward, lands on the point.
    again_lon, again_lat = forward(*inverse(lon, lat))
    assert np.max(haversine_m(lon, lat, again_lon, again_lat)) < ROUND_TRIP_TOLERANCE_M


def test_inverse_is_better_than_the_one_step_approximation(china_points):
    """coordTransform inverts GCJ-02 in one step (metres off); ours must not be that."""
    lon, lat = china_points
    gcj_lon, gcj_lat = crs.wgs84_to_gcj02(lon, lat)
    ours = haversine_m(lon, lat, *crs.gcj02_to_wgs84(gcj_lon, gcj_lat))
    rough = haversine_m(lon, lat, *per_point(coordTransform.gcj02_to_wgs84, gcj_lon, gcj_lat))
    assert np.max(rough) > 0.5
    assert np.max(ours) < ROUND_TRIP_TOLERANCE_M


@pytest.mark.parametrize(
    ("ours", "peer", "tolerance_m"),
    [
        (crs.gcj02_to_wgs84, prcoords.gcj_wgs_bored, 0.01),
        # prcoords stops its BD-09 iteration at about 1e-5 degrees, so it is itself only
        # good to a few centimetres there.
        (crs.bd09_to_wgs84, prcoords.bd_wgs_bored, 0.05),
    ],
    ids=["gcj02", "bd09"],
)
def test_inverse_matches_iterative_peer(china_points, ours, peer, tolerance_m):
    lon, lat = china_points
    our_lon, our_lat = ours(lon, lat)
    peer_lon, peer_lat = per_point(peer, lon, lat, lat_first=True)
    assert np.max(haversine_m(our_lon, our_lat, peer_lon, peer_lat)) < tolerance_m


# --- published reference points ----------------------------------------------------------------

# Tiananmen area point (116.404, 39.915) with the outputs printed in the test script of the
# JavaScript library wandergis/coordtransform (test/app.js), which Hutool's CoordinateUtilTest
# also uses as its expected values.  Its forward results are exact; its inverses are the
# one-step approximations, so those are only checked to a few metres.
WANDERGIS_INPUT = (116.404, 39.915)
WANDERGIS_WGS84_TO_GCJ02 = (116.41024449916938, 39.91640428150164)
WANDERGIS_GCJ02_TO_BD09 = (116.41036949371029, 39.92133699351021)
WANDERGIS_GCJ02_TO_WGS84 = (116.39775550083061, 39.91359571849836)
WANDERGIS_BD09_TO_GCJ02 = (116.39762729119315, 39.90865673957631)

# City centres with WGS84, GCJ-02 and BD-09 values, rounded to 7 decimals, from the fixture
# test/fixtures/china-cities.json of the JavaScript library hujiulong/gcoord.  The values were
# collected from the map services, not computed by our formula, so they agree to about a metre.
GCOORD_CITIES = [
    # name, WGS84, GCJ-02, BD-09
    ("驻马店市", (114.0164322, 33.0133556), (114.022306, 33.0115324), (114.0287781, 33.0176697)),
    ("邵阳市", (111.4622119, 27.242124), (111.4677938, 27.2388981), (111.4742271, 27.2451662)),
    ("那曲地区", (92.0499619, 31.4784436), (92.0512438, 31.4762063), (92.0576832, 31.4824421)),
    ("郑州市", (113.6192856, 34.7478004), (113.6253334, 34.7466173), (113.6317519, 34.7528605)),
    ("梧州市", (111.2740147, 23.4795593), (111.2791187, 23.4769675), (111.2856358, 23.4828109)),
    ("沈阳市", (123.4253306, 41.8032629), (123.4314787, 41.8057023), (123.438095, 41.8114013)),
    ("河池市", (108.0810066, 24.695685), (108.0852626, 24.6929343), (108.0917615, 24.6988503)),
    ("酒泉市", (98.4937175, 39.7319946), (98.4943595, 39.7328234), (98.5008441, 39.7388949)),
    ("钦州市", (108.6503952, 21.9828281), (108.6541485, 21.9799392), (108.6607283, 21.9856319)),
    ("锡林郭勒盟", (116.0414035, 43.9312805), (116.0482308, 43.9334573),
     (116.0546232, 43.9397782)),
]


def test_published_forward_values():
    lon, lat = crs.wgs84_to_gcj02(*WANDERGIS_INPUT)
    assert (float(lon), float(lat)) == pytest.approx(WANDERGIS_WGS84_TO_GCJ02, abs=1e-12)
    lon, lat = crs.gcj02_to_bd09(*WANDERGIS_INPUT)
    assert (float(lon), float(lat)) == pytest.approx(WANDERGIS_GCJ02_TO_BD09, abs=1e-12)


@pytest.mark.parametrize(
    ("inverse", "one_step_value"),
    [(crs.gcj02_to_wgs84, WANDERGIS_GCJ02_TO_WGS84), (crs.bd09_to_gcj02, WANDERGIS_BD09_TO_GCJ02)],
    ids=["gcj02", "bd09"],
)
def test_published_inverse_values_within_approximation_error(inverse, one_step_value):
    lon, lat = inverse(*WANDERGIS_INPUT)
    assert haversine_m(lon, lat, *one_step_value) < 5.0


@pytest.mark.parametrize(("city", "wgs84", "gcj02", "bd09"), GCOORD_CITIES,
                         ids=[row[0] for row in GCOORD_CITIES])
def test_published_city_values(city, wgs84, gcj02, bd09):
    for source, target, name in ((wgs84, gcj02, "gcj02"), (wgs84, bd09, "bd09")):
        lon, lat = crs.from_wgs84(*source, name)
        assert haversine_m(lon, lat, *target) < 1.5, (city, name)
        lon, lat = crs.to_wgs84(*target, name)
        assert haversine_m(lon, lat, *source) < 1.5, (city, name)
    lon, lat = crs.gcj02_to_bd09(*gcj02)
    assert haversine_m(lon, lat, *bd09) < 1.5, city


# --- outside China -----------------------------------------------------------------------------

OUTSIDE_CHINA = {
    "London": (-0.1276, 51.5072),
    "New York": (-74.006, 40.7128),
    "Tokyo": (139.6917, 35.6895),
    "Moscow": (37.6173, 55.7558),
    "Sydney": (151.2093, -33.8688),
    "Delhi": (77.209, 28.6139 - 28.0),  # south of the box's latitude range
    "Tehran": (51.389, 35.6892),
}
ALL_CONVERSIONS = (
    crs.wgs84_to_gcj02, crs.gcj02_to_wgs84, crs.gcj02_to_bd09,
    crs.bd09_to_gcj02, crs.wgs84_to_bd09, crs.bd09_to_wgs84,
)


@pytest.mark.parametrize("convert", ALL_CONVERSIONS, ids=lambda f: f.__name__)
def test_points_outside_china_are_unchanged(convert):
    lon = np.array([p[0] for p in OUTSIDE_CHINA.values()])
    lat = np.array([p[1] for p in OUTSIDE_CHINA.values()])
    out_lon, out_lat = convert(lon, lat)
    np.testing.assert_array_equal(out_lon, lon)
    np.testing.assert_array_equal(out_lat, lat)


def test_outside_china_box_edges():
    west, east, south, north = BOX
    lon = np.array([west - 1e-6, west, east, east + 1e-6, 100.0, 100.0, 100.0, 100.0])
    lat = np.array([30.0, 30.0, 30.0, 30.0, south - 1e-6, south, north, north + 1e-6])
    expected = [True, False, False, True, True, False, False, True]
    assert crs.outside_china(lon, lat).tolist() == expected


def test_mixed_inside_and_outside_points_in_one_array():
    lon = np.array([108.396, -0.1276])
    lat = np.array([22.817, 51.5072])
    out_lon, out_lat = crs.wgs84_to_gcj02(lon, lat)
    assert out_lon[0] != lon[0] and out_lat[0] != lat[0]
    assert (out_lon[1], out_lat[1]) == (lon[1], lat[1])


def test_nan_stays_nan_without_warnings():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        lon, lat = crs.gcj02_to_wgs84(np.array([np.nan, 108.4]), np.array([22.8, np.nan]))
    assert np.isnan(lon[0]) and np.isnan(lat[1])


# --- properties --------------------------------------------------------------------------------

MARGIN_DEG = 0.02  # larger than any GCJ-02 + BD-09 shift, so images stay inside the box
inner_lon = st.floats(BOX[0] + MARGIN_DEG, BOX[1] - MARGIN_DEG)
inner_lat = st.floats(BOX[2] + MARGIN_DEG, BOX[3] - MARGIN_DEG)
box_lon = st.floats(BOX[0], BOX[1])
box_lat = st.floats(BOX[2], BOX[3])
FORWARD_INVERSE_PAIRS = (
    (crs.wgs84_to_gcj02, crs.gcj02_to_wgs84),
    (crs.gcj02_to_bd09, crs.bd09_to_gcj02),
    (crs.wgs84_to_bd09, crs.bd09_to_wgs84),
)


@settings(max_examples=300, deadline=None)
@given(lon=inner_lon, lat=inner_lat)
@example(lon=108.396, lat=22.817)  # 民族大道枫林路口, Nanning
@example(lon=BOX[0] + MARGIN_DEG, lat=BOX[3] - MARGIN_DEG)
def test_property_forward_then_inverse_is_identity(lon, lat):
    for forward, inverse in FORWARD_INVERSE_PAIRS:
        back = inverse(*forward(lon, lat))
        assert haversine_m(lon, lat, *back) < ROUND_TRIP_TOLERANCE_M, forward.__name__


@settings(max_examples=300, deadline=None)
@given(lon=box_lon, lat=box_lat)
# Within a few hundred metres of the box edge the forward transform jumps; an inverse that
# iterated the box-tested forward function oscillated there and returned its input unchanged.
@example(lon=72.0045, lat=30.0)
@example(lon=BOX[0], lat=BOX[2])
def test_property_inverse_then_forward_lands_on_target(lon, lat):
    for forward, inverse in FORWARD_INVERSE_PAIRS:
        source = inverse(lon, lat)
        if crs.outside_china(*source):
            continue  # no point inside the box maps onto this target: nothing to invert
        assert haversine_m(lon, lat, *forward(*source)) < ROUND_TRIP_TOLERANCE_M, inverse.__name__


# --- input shapes and the public entry points ----------------------------------------------------

def test_scalars_give_zero_dimensional_float_arrays():
    lon, lat = crs.wgs84_to_gcj02(108.396, 22.817)
    assert lon.shape == () and lat.shape == ()
    assert lon.dtype == np.float64
    assert math.isfinite(float(lon))


def test_arrays_lists_and_shapes_agree_with_scalars():
    lon = [[108.396, 108.39], [108.697, 116.404]]
    lat = [[22.817, 22.77], [30.93, 39.915]]
    out_lon, out_lat = crs.bd09_to_wgs84(lon, lat)
    assert out_lon.shape == (2, 2)
    for i in range(2):
        for j in range(2):
            one_lon, one_lat = crs.bd09_to_wgs84(lon[i][j], lat[i][j])
            assert out_lon[i, j] == pytest.approx(float(one_lon), abs=1e-12)
            assert out_lat[i, j] == pytest.approx(float(one_lat), abs=1e-12)


def test_scalar_latitude_broadcasts_over_longitudes():
    out_lon, out_lat = crs.wgs84_to_gcj02(np.array([108.0, 109.0, 110.0]), 22.8)
    assert out_lon.shape == out_lat.shape == (3,)
    assert len(set(out_lat.tolist())) == 3  # the shift depends on longitude too


def test_empty_arrays():
    lon, lat = crs.gcj02_to_wgs84(np.array([]), np.array([]))
    assert lon.shape == lat.shape == (0,)


@pytest.mark.parametrize("name", list(CoordinateSystem))
def test_to_and_from_wgs84_dispatch(china_points, name):
    lon, lat = china_points
    there = crs.from_wgs84(lon, lat, name)
    back = crs.to_wgs84(*there, name)
    assert np.max(haversine_m(lon, lat, *back)) < ROUND_TRIP_TOLERANCE_M
    expected = {"wgs84": (lon, lat), "gcj02": crs.wgs84_to_gcj02(lon, lat),
                "bd09": crs.wgs84_to_bd09(lon, lat)}[name.value]
    np.testing.assert_array_equal(there[0], expected[0])
    np.testing.assert_array_equal(there[1], expected[1])


def test_wgs84_identity_returns_copies():
    lon = np.array([108.396])
    lat = np.array([22.817])
    out_lon, out_lat = crs.to_wgs84(lon, lat, "wgs84")
    out_lon[0] = 0.0
    assert lon[0] == 108.396 and out_lat is not lat


# --- CoordinateSystem.parse --------------------------------------------------------------------

@pytest.mark.parametrize(
    ("spelling", "expected"),
    [
        ("wgs84", "wgs84"), ("WGS-84", "wgs84"), ("WGS 84", "wgs84"), ("EPSG:4326", "wgs84"),
        ("epsg-4326", "wgs84"), ("4326", "wgs84"), ("GPS", "wgs84"), (" wgs_84 ", "wgs84"),
        ("gcj02", "gcj02"), ("GCJ-02", "gcj02"), ("gcj_02", "gcj02"), ("amap", "gcj02"),
        ("Gaode", "gcj02"), ("autonavi", "gcj02"), ("tencent", "gcj02"), ("mars", "gcj02"),
        ("bd09", "bd09"), ("BD-09", "bd09"), ("bd09ll", "bd09"), ("Baidu", "bd09"),
        (CoordinateSystem.GCJ02, "gcj02"),
    ],
)
def test_parse_accepts_usual_spellings(spelling, expected):
    assert CoordinateSystem.parse(spelling) is CoordinateSystem(expected)


@pytest.mark.parametrize("bad", ["utm", "", "bd09mc", "EPSG:3857", "wgs85"])
def test_parse_rejects_unknown_names_and_lists_allowed(bad):
    with pytest.raises(UnknownCoordinateSystem) as info:
        CoordinateSystem.parse(bad)
    message = str(info.value)
    assert repr(bad) in message
    assert "wgs84, gcj02, bd09" in message
    # Callers may catch it as the package's error or as a plain ValueError.
    assert isinstance(info.value, StationsError) and isinstance(info.value, ValueError)


def test_conversions_reject_unknown_system_names():
    with pytest.raises(UnknownCoordinateSystem):
        crs.to_wgs84(108.0, 22.0, "web-mercator")
