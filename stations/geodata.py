"""Read and write the station GeoPackage, the project's single source of truth.

The GeoPackage holds three layers:

``stations``
    a point layer in EPSG:4326 with an R-tree spatial index: the text fields of
    :data:`stations.model.TEXT_FIELDS` and one boolean ``has_<amenity>`` column per amenity;
``amenities``
    the amenity vocabulary (code, Chinese and English label, icon, column name);
``build_info``
    key/value rows, among them ``data_version``: a hash of the station content that the API
    uses for ETags and to notice a rebuilt file.

Writing is atomic: the new file is written and verified beside the old one and then moved over
it with :func:`os.replace`, so readers see either the old file or the new one, never a part.
A write killed before it could clean up leaves its temporary file (and SQLite journal) behind;
the next write of the same GeoPackage removes them (:func:`remove_stale_temporaries`).
"""

from __future__ import annotations

import contextlib
import os
import re
import time
from collections.abc import Mapping
from pathlib import Path

import geopandas as gpd
import numpy as np
import numpy.typing as npt
import pandas as pd
import pyogrio
import shapely

from .errors import DataFileError
from .gpkg_rows import check_stations, require_geopackage
from .model import (
    AMENITIES,
    AMENITIES_TABLE,
    AMENITY_COLUMNS,
    BUILD_INFO_TABLE,
    CRS_WGS84,
    STATIONS_LAYER,
    TEXT_FIELDS,
)
from .store import records as store_records

# GDAL stamps gpkg_contents.last_change with the current time unless told otherwise; a fixed
# stamp makes two builds from the same sources byte-for-byte comparable.
_FIXED_GPKG_TIMESTAMP = "2000-01-01T00:00:00Z"
SCHEMA_VERSION = "2"
# A temporary GeoPackage unchanged for this long is left over even if its process id is in use.
STALE_TEMPORARY_S = 3600
_JOURNAL_ENDINGS = ("-journal", "-wal", "-shm")


def station_frame(
    columns: Mapping[str, object],
    lon: npt.ArrayLike,
    lat: npt.ArrayLike,
) -> gpd.GeoDataFrame:
    """Build a station GeoDataFrame in the canonical column order, sorted by ``id``.

    ``columns`` maps field names to sequences (or scalars); text fields that are absent become
    empty strings and amenity columns that are absent become ``False``.  Coordinates are WGS84.
    """
    lon_arr = np.asarray(lon, dtype=np.float64)
    n = lon_arr.shape[0]
    data: dict[str, object] = {}
    for field in TEXT_FIELDS:
        values = columns.get(field, "")
        series = pd.Series(values if not isinstance(values, str) else [values] * n, dtype=object)
        data[field] = series.fillna("").astype(str).to_numpy()
    for column in AMENITY_COLUMNS:
        values = columns.get(column, False)
        data[column] = np.broadcast_to(np.asarray(values, dtype=bool), (n,)).copy()
    geometry = shapely.points(lon_arr, np.asarray(lat, dtype=np.float64))
    frame = gpd.GeoDataFrame(data, geometry=geometry, crs=CRS_WGS84)
    return frame.sort_values("id", kind="stable").reset_index(drop=True)


def data_version(stations: gpd.GeoDataFrame) -> str:
    """The content version of a station table: the same as a store holding the same stations
    reports (see :mod:`stations.store.records`), whatever the row order or file bytes."""
    text = stations[list(TEXT_FIELDS)].astype(str).to_numpy().tolist()
    flags = stations[list(AMENITY_COLUMNS)].to_numpy(dtype=bool).tolist()
    lon, lat = stations.geometry.x.tolist(), stations.geometry.y.tolist()
    return store_records.data_version(
        store_records.digest({**dict(zip(TEXT_FIELDS, row, strict=True)),
                              "amenities": [a.code for a, f in zip(AMENITIES, has, strict=True)
                                            if f], "lon": x, "lat": y})
        for row, has, x, y in zip(text, flags, lon, lat, strict=True))


def amenity_table() -> pd.DataFrame:
    """The amenity vocabulary as a plain table, in display order."""
    return pd.DataFrame(
        {
            "code": [a.code for a in AMENITIES],
            "label_zh": [a.label_zh for a in AMENITIES],
            "label_en": [a.label_en for a in AMENITIES],
            "icon": [a.icon for a in AMENITIES],
            "column_name": [a.column for a in AMENITIES],
            "sort_order": list(range(len(AMENITIES))),
        }
    )


def write_stations(
    stations: gpd.GeoDataFrame,
    path: str | os.PathLike[str],
    extra_info: Mapping[str, str] | None = None,
) -> str:
    """Write ``stations`` to the GeoPackage at ``path`` atomically and return its data version.

    The file is first written to a hidden temporary file in the same folder, read back and
    checked; only then does it replace ``path``.  On any failure the temporary file is removed
    and the old GeoPackage, if there was one, is left untouched.
    """
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    version = data_version(stations)
    info = {"schema_version": SCHEMA_VERSION, "data_version": version,
            "station_count": str(len(stations)), **(extra_info or {})}
    remove_stale_temporaries(target)
    temporary = _temporary_path(target, os.getpid())
    try:
        with pyogrio_config({"OGR_CURRENT_DATE": _FIXED_GPKG_TIMESTAMP}):
            pyogrio.write_dataframe(
                stations, temporary, layer=STATIONS_LAYER, driver="GPKG",
                layer_options={"SPATIAL_INDEX": "YES", "FID": "fid"},
            )
            pyogrio.write_dataframe(amenity_table(), temporary, layer=AMENITIES_TABLE,
                                    driver="GPKG")
            pyogrio.write_dataframe(
                pd.DataFrame({"key": list(info), "value": list(info.values())}),
                temporary, layer=BUILD_INFO_TABLE, driver="GPKG",
            )
        if read_build_info(temporary).get("data_version") != version:
            raise DataFileError(f"{temporary}: written file does not read back")
        os.replace(temporary, target)
    finally:
        for leftover in (temporary, *_journals(temporary)):
            leftover.unlink(missing_ok=True)
    return version


def _temporary_path(target: Path, pid: int) -> Path:
    return target.with_name(f".{target.stem}.{pid}.tmp{target.suffix}")


def _journals(database: Path) -> tuple[Path, ...]:
    """The files SQLite keeps beside a database while writing it."""
    return tuple(database.with_name(database.name + end) for end in _JOURNAL_ENDINGS)


def remove_stale_temporaries(target: str | os.PathLike[str], *, now: float | None = None,
                             max_age_s: float = STALE_TEMPORARY_S) -> list[Path]:
    """Remove the temporary GeoPackages, and their SQLite journals, that writes of ``target``
    killed before they could clean up (``kill -9``, power loss) left beside it.

    A file is stale when the process named in it is gone, or when it has not changed for
    ``max_age_s`` (a process id can be reused).  Returns the files removed.
    """
    target = Path(target)
    pattern = re.compile(rf"\.{re.escape(target.stem)}\.(\d{{1,10}})\.tmp"
                         rf"{re.escape(target.suffix)}(?:{'|'.join(_JOURNAL_ENDINGS)})?")
    moment = time.time() if now is None else now
    removed = []
    with contextlib.suppress(FileNotFoundError):
        for candidate in target.parent.iterdir():
            match = pattern.fullmatch(candidate.name)
            if match is None or int(match.group(1)) == os.getpid():
                continue
            with contextlib.suppress(FileNotFoundError):
                recent = moment - candidate.lstat().st_mtime < max_age_s
                if recent and _process_alive(int(match.group(1))):
                    continue  # another build is writing it right now
                candidate.unlink()
                removed.append(candidate)
    return removed


def _process_alive(pid: int) -> bool:
    """Whether a process with this id exists (on Windows, assume it does: age decides)."""
    if os.name == "nt":
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except (PermissionError, OverflowError):
        return True
    return True


@contextlib.contextmanager
def pyogrio_config(options: Mapping[str, str]):  # type: ignore[no-untyped-def]
    """Set GDAL configuration options for the duration of a block."""
    previous = {key: pyogrio.get_gdal_config_option(key) for key in options}
    pyogrio.set_gdal_config_options(dict(options))
    try:
        yield
    finally:
        pyogrio.set_gdal_config_options(previous)


def read_build_info(path: str | os.PathLike[str]) -> dict[str, str]:
    """The ``build_info`` key/value table of a station GeoPackage."""
    table = _read_layer(path, BUILD_INFO_TABLE)
    return dict(zip(table["key"].astype(str), table["value"].astype(str), strict=True))


def read_stations(path: str | os.PathLike[str]) -> gpd.GeoDataFrame:
    """Read the station layer into a GeoDataFrame in WGS84.

    The frame carries the file's ``data_version`` in ``frame.attrs["data_version"]``.  A file
    that is missing, corrupt, or lacks the station schema raises :class:`DataFileError`.
    """
    info = read_build_info(path)
    frame = _read_layer(path, STATIONS_LAYER)
    missing = [c for c in (*TEXT_FIELDS, *AMENITY_COLUMNS) if c not in frame.columns]
    if missing or not isinstance(frame, gpd.GeoDataFrame):
        raise DataFileError(f"{path}: layer {STATIONS_LAYER!r} lacks columns {missing}")
    if str(info.get("station_count")) != str(len(frame)):
        raise DataFileError(
            f"{path}: holds {len(frame)} stations but its build_info says "
            f"{info.get('station_count')}; the file is incomplete"
        )
    for field in TEXT_FIELDS:
        frame[field] = frame[field].fillna("").astype(str)
    for column in AMENITY_COLUMNS:
        frame[column] = frame[column].fillna(False).astype(bool)
    points = frame.geom_type == "Point"
    if not points.all() or frame.geometry.is_empty.any():
        bad = frame.loc[~points | frame.geometry.is_empty, "id"].iloc[0]
        raise DataFileError(f"{path}: station {bad!r} has no point geometry")
    check_stations(path, frame["id"].tolist(), frame.geometry.x.to_numpy(),
                   frame.geometry.y.to_numpy())
    # The version of the content read, not of what the build wrote (see StationService.load).
    frame.attrs["data_version"] = data_version(frame)
    return frame


def _read_layer(path: str | os.PathLike[str], layer: str) -> pd.DataFrame:
    require_geopackage(path)
    try:
        return pyogrio.read_dataframe(path, layer=layer)
    except Exception as exc:  # GDAL reports corruption with several exception types
        raise DataFileError(f"{path}: cannot read layer {layer!r}: {exc}") from exc
