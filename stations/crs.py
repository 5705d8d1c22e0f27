"""Conversions between WGS84, GCJ-02 and BD-09, vectorised with numpy.

Chinese map apps do not show WGS84: Amap and Tencent use GCJ-02 and Baidu uses BD-09, both
deliberate, non-linear offsets of a few hundred metres.  Stations are stored in WGS84; these
functions convert the coordinates riders and apps send in, and the feeds we send out.

The forward transforms follow the public GCJ-02 algorithm (Krasovsky 1940 ellipsoid constants)
and the public BD-09 rotation.  The inverse transforms have no closed form, so they iterate the
forward transform until the round trip is below :data:`INVERSE_TOLERANCE_DEG` (about 1 mm).
Points outside the rough box around China are returned unchanged, as the map apps do.

Every function takes scalars or arrays of longitudes and latitudes (degrees) and returns
``(lon, lat)`` as float64 arrays (0-d for scalars).
"""

from __future__ import annotations

import enum
from collections.abc import Callable

import numpy as np
import numpy.typing as npt

from .errors import UnknownCoordinateSystem

ArrayLike = npt.ArrayLike
FloatArray = npt.NDArray[np.float64]
LonLat = tuple[FloatArray, FloatArray]
_Formula = Callable[[FloatArray, FloatArray], LonLat]

_KRASOVSKY_A = 6378245.0
_KRASOVSKY_EE = 0.00669342162296594323
_BD_X_PI = np.pi * 3000.0 / 180.0

# 1e-8 degrees is about 1.1 mm on the ground, well below the 0.01 m the inverses promise.
INVERSE_TOLERANCE_DEG = 1e-8
_MAX_ITERATIONS = 40


class CoordinateSystem(enum.StrEnum):
    """The coordinate systems riders' apps speak."""

    WGS84 = "wgs84"
    GCJ02 = "gcj02"
    BD09 = "bd09"

    @classmethod
    def parse(cls, name: str | CoordinateSystem) -> CoordinateSystem:
        """Accept the usual spellings (``WGS-84``, ``GCJ02``, ``bd-09``, ``EPSG:4326``)."""
        if isinstance(name, CoordinateSystem):
            return name
        key = "".join(str(name).split()).lower().replace("-", "").replace("_", "")
        key = _ALIASES.get(key, key)
        try:
            return cls(key)
        except ValueError:
            allowed = ", ".join(c.value for c in cls)
            raise UnknownCoordinateSystem(
                f"unknown coordinate system {name!r}; allowed: {allowed}"
            ) from None


# Other names for the three systems, after parse() has dropped case, spaces, "-" and "_".
# "bd09ll" and "gcj02ll" are the names Baidu's and Tencent's web APIs use; "autonavi" is Amap's.
_ALIASES: dict[str, str] = {
    "epsg:4326": "wgs84", "epsg4326": "wgs84", "4326": "wgs84", "wgs1984": "wgs84",
    "gps": "wgs84",
    "gcj": "gcj02", "gcj02ll": "gcj02", "amap": "gcj02", "gaode": "gcj02", "autonavi": "gcj02",
    "tencent": "gcj02", "mars": "gcj02",
    "baidu": "bd09", "bd": "bd09", "bd09ll": "bd09",
}


def _as_arrays(lon: ArrayLike, lat: ArrayLike) -> LonLat:
    return np.asarray(lon, dtype=np.float64), np.asarray(lat, dtype=np.float64)


def outside_china(lon: ArrayLike, lat: ArrayLike) -> npt.NDArray[np.bool_]:
    """True where a point lies outside the box in which the Chinese offsets apply."""
    x, y = _as_arrays(lon, lat)
    return ~((x >= 72.004) & (x <= 137.8347) & (y >= 0.8293) & (y <= 55.8271))


def _gcj_offset(lon: FloatArray, lat: FloatArray) -> LonLat:
    """The GCJ-02 shift in degrees at a WGS84 position (the public algorithm)."""
    x = lon - 105.0
    y = lat - 35.0
    pi = np.pi
    common = (20.0 * np.sin(6.0 * x * pi) + 20.0 * np.sin(2.0 * x * pi)) * 2.0 / 3.0
    dlat = -100.0 + 2.0 * x + 3.0 * y + 0.2 * y * y + 0.1 * x * y + 0.2 * np.sqrt(np.abs(x))
    dlat += common
    dlat += (20.0 * np.sin(y * pi) + 40.0 * np.sin(y / 3.0 * pi)) * 2.0 / 3.0
    dlat += (160.0 * np.sin(y / 12.0 * pi) + 320.0 * np.sin(y * pi / 30.0)) * 2.0 / 3.0
    dlon = 300.0 + x + 2.0 * y + 0.1 * x * x + 0.1 * x * y + 0.1 * np.sqrt(np.abs(x))
    dlon += common
    dlon += (20.0 * np.sin(x * pi) + 40.0 * np.sin(x / 3.0 * pi)) * 2.0 / 3.0
    dlon += (150.0 * np.sin(x / 12.0 * pi) + 300.0 * np.sin(x / 30.0 * pi)) * 2.0 / 3.0
    radlat = np.radians(lat)
    magic = 1.0 - _KRASOVSKY_EE * np.sin(radlat) ** 2
    sqrtmagic = np.sqrt(magic)
    dlat = (dlat * 180.0) / ((_KRASOVSKY_A * (1.0 - _KRASOVSKY_EE)) / (magic * sqrtmagic) * pi)
    dlon = (dlon * 180.0) / (_KRASOVSKY_A / sqrtmagic * np.cos(radlat) * pi)
    return dlon, dlat


def _shift_to_gcj02(lon: FloatArray, lat: FloatArray) -> LonLat:
    """The GCJ-02 formula itself, applied everywhere (no box test)."""
    dlon, dlat = _gcj_offset(lon, lat)
    return lon + dlon, lat + dlat


def _rotate_to_bd09(lon: FloatArray, lat: FloatArray) -> LonLat:
    """The BD-09 formula itself, applied everywhere (no box test)."""
    z = np.hypot(lon, lat) + 0.00002 * np.sin(lat * _BD_X_PI)
    theta = np.arctan2(lat, lon) + 0.000003 * np.cos(lon * _BD_X_PI)
    return z * np.cos(theta) + 0.0065, z * np.sin(theta) + 0.006


def _shift_to_bd09(lon: FloatArray, lat: FloatArray) -> LonLat:
    """WGS84 to BD-09 goes through GCJ-02, as Baidu defines it."""
    return _rotate_to_bd09(*_shift_to_gcj02(lon, lat))


def _inside_only(formula: _Formula, lon: ArrayLike, lat: ArrayLike) -> LonLat:
    """Apply ``formula`` inside the China box and leave other points as they are."""
    x, y = _as_arrays(lon, lat)
    fx, fy = formula(x, y)
    outside = outside_china(x, y)
    return np.where(outside, x, fx), np.where(outside, y, fy)


def _invert(formula: _Formula, lon: ArrayLike, lat: ArrayLike) -> LonLat:
    """Solve ``formula(p) == target`` by fixed-point iteration; the offsets vary slowly.

    The iteration uses the bare formula, not the box-tested forward function: within a few
    hundred metres of the box edge the forward function jumps, and iterating across that jump
    would oscillate instead of converging.  Targets outside the box are returned unchanged.
    """
    target_x, target_y = _as_arrays(lon, lat)
    outside = outside_china(target_x, target_y)
    # Points outside the box come back unchanged; iterate them from a harmless spot inside it,
    # since near the poles the formula divides by cos(lat) and overflows.
    solve_x, solve_y = np.where(outside, 105.0, target_x), np.where(outside, 35.0, target_y)
    x, y = solve_x.copy(), solve_y.copy()
    for _ in range(_MAX_ITERATIONS):
        fx, fy = formula(x, y)
        err_x, err_y = fx - solve_x, fy - solve_y
        x = x - err_x
        y = y - err_y
        # NaN never converges; leave it to come out as NaN rather than iterate for nothing.
        worst = np.maximum(np.abs(err_x), np.abs(err_y))
        if not np.any(worst >= INVERSE_TOLERANCE_DEG):
            break
    return np.where(outside, target_x, x), np.where(outside, target_y, y)


def wgs84_to_gcj02(lon: ArrayLike, lat: ArrayLike) -> LonLat:
    """WGS84 to GCJ-02 (Amap, Tencent)."""
    return _inside_only(_shift_to_gcj02, lon, lat)


def gcj02_to_bd09(lon: ArrayLike, lat: ArrayLike) -> LonLat:
    """GCJ-02 to BD-09 (Baidu)."""
    return _inside_only(_rotate_to_bd09, lon, lat)


def wgs84_to_bd09(lon: ArrayLike, lat: ArrayLike) -> LonLat:
    """WGS84 to BD-09 (through GCJ-02, as Baidu defines it)."""
    return _inside_only(_shift_to_bd09, lon, lat)


def gcj02_to_wgs84(lon: ArrayLike, lat: ArrayLike) -> LonLat:
    """GCJ-02 to WGS84, exact to about a millimetre."""
    return _invert(_shift_to_gcj02, lon, lat)


def bd09_to_gcj02(lon: ArrayLike, lat: ArrayLike) -> LonLat:
    """BD-09 to GCJ-02, exact to about a millimetre."""
    return _invert(_rotate_to_bd09, lon, lat)


def bd09_to_wgs84(lon: ArrayLike, lat: ArrayLike) -> LonLat:
    """BD-09 to WGS84, exact to about a millimetre."""
    return _invert(_shift_to_bd09, lon, lat)


def _unchanged(lon: ArrayLike, lat: ArrayLike) -> LonLat:
    """The identity conversion; copies, so callers never share arrays with their input."""
    return np.array(lon, dtype=np.float64), np.array(lat, dtype=np.float64)


_TO_WGS84 = {
    CoordinateSystem.WGS84: _unchanged,
    CoordinateSystem.GCJ02: gcj02_to_wgs84,
    CoordinateSystem.BD09: bd09_to_wgs84,
}
_FROM_WGS84 = {
    CoordinateSystem.WGS84: _unchanged,
    CoordinateSystem.GCJ02: wgs84_to_gcj02,
    CoordinateSystem.BD09: wgs84_to_bd09,
}


def to_wgs84(lon: ArrayLike, lat: ArrayLike, crs: str | CoordinateSystem) -> LonLat:
    """Convert coordinates given in ``crs`` to WGS84."""
    return _TO_WGS84[CoordinateSystem.parse(crs)](lon, lat)


def from_wgs84(lon: ArrayLike, lat: ArrayLike, crs: str | CoordinateSystem) -> LonLat:
    """Convert WGS84 coordinates to ``crs``."""
    return _FROM_WGS84[CoordinateSystem.parse(crs)](lon, lat)
