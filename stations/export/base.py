"""What every feed writer offers, and the helpers they share.

A feed writer (an :class:`Exporter`) turns the station frame into one file format for one kind
of consumer.  It knows its media type, file extension and coordinate system, so the command line
and the API can name and serve the file without knowing the format.  Writers take a canonical
station frame (see :func:`stations.geodata.station_frame`) in WGS84 and convert coordinates
themselves, so a GCJ-02 file can never be written from coordinates that are still WGS84.
"""

from __future__ import annotations

import contextlib
import io
import os
import re
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, BinaryIO, NamedTuple, Protocol, runtime_checkable

import numpy as np
import numpy.typing as npt
from lxml import etree

from ..crs import CoordinateSystem, from_wgs84
from ..model import AMENITIES, STATUS_LABELS_ZH, TEXT_FIELDS, Status

if TYPE_CHECKING:
    import geopandas as gpd

# Seven decimal places of a degree are about 1 cm on the ground: finer digits are noise, and
# RFC 7946 recommends not publishing more precision than the data has.
COORDINATE_DECIMALS = 7
FEED_NAME_ZH = "工会驿站（户外劳动者服务站点）"
FEED_NAME_EN = "Trade-union rest stations for outdoor workers"
CATEGORY_ZH = "户外劳动者服务站点"
CRS_LABELS = {
    CoordinateSystem.WGS84: "WGS84",
    CoordinateSystem.GCJ02: "GCJ-02",
    CoordinateSystem.BD09: "BD-09",
}

Target = BinaryIO | str | os.PathLike[str]
_LABEL_ZH = {a.code: a.label_zh for a in AMENITIES}
# Characters XML 1.0 cannot hold at all, not even escaped.
_XML_INVALID = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")


@runtime_checkable
class Exporter(Protocol):
    """One feed format: how it is named, served and written."""

    name: str
    media_type: str
    extension: str
    crs: CoordinateSystem
    description: str

    def write(self, stations: gpd.GeoDataFrame, target: Target) -> None:
        """Write ``stations`` to a binary stream or to a file path."""


def default_filename(exporter: Exporter) -> str:
    """``stations.kml`` for WGS84 formats, ``stations-gcj02.csv`` when the offset matters."""
    suffix = "" if exporter.crs is CoordinateSystem.WGS84 else f"-{exporter.crs.value}"
    return f"stations{suffix}{exporter.extension}"


def export_bytes(exporter: Exporter, stations: gpd.GeoDataFrame) -> bytes:
    """The whole feed in memory (the API serves it from there)."""
    buffer = io.BytesIO()
    exporter.write(stations, buffer)
    return buffer.getvalue()


@contextlib.contextmanager
def binary_output(target: Target) -> Iterator[BinaryIO]:
    """Yield a binary stream for ``target``; a path is written beside and then moved in place.

    Writing to a hidden temporary file first means a feed that a web server publishes from the
    same folder is never seen half written, and a failed export leaves the old file alone.
    """
    if not isinstance(target, str | os.PathLike):
        yield target
        return
    path = Path(target)
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        with temporary.open("wb") as stream:
            yield stream
        os.replace(temporary, path)
    finally:
        with contextlib.suppress(FileNotFoundError):
            temporary.unlink()


def coordinates(stations: gpd.GeoDataFrame, crs: CoordinateSystem) -> tuple[
        npt.NDArray[np.float64], npt.NDArray[np.float64]]:
    """Longitudes and latitudes in ``crs``, rounded to :data:`COORDINATE_DECIMALS`."""
    lon, lat = from_wgs84(stations.geometry.x.to_numpy(), stations.geometry.y.to_numpy(), crs)
    return np.round(lon, COORDINATE_DECIMALS), np.round(lat, COORDINATE_DECIMALS)


def amenity_codes(stations: gpd.GeoDataFrame) -> list[list[str]]:
    """Per station, the codes of its amenities in vocabulary order."""
    flags = stations[[a.column for a in AMENITIES]].to_numpy(dtype=bool)
    codes = np.array([a.code for a in AMENITIES], dtype=object)
    return [codes[row].tolist() for row in flags]


def amenity_labels_zh(codes: list[str]) -> list[str]:
    """Chinese labels for amenity codes, in the same order."""
    return [_LABEL_ZH[code] for code in codes]


def status_label_zh(status: str) -> str:
    """``开放`` for ``open``; an unknown status is shown as it is."""
    try:
        return STATUS_LABELS_ZH[Status(status)]
    except ValueError:
        return status


def text_columns(stations: gpd.GeoDataFrame, fields: tuple[str, ...]) -> dict[str, list[str]]:
    """Text fields as plain Python lists (much faster to loop over than DataFrame rows)."""
    return {field: stations[field].astype(str).tolist() for field in fields}


def summary_zh(codes: list[str], opening_hours: str, status: str) -> str:
    """One line a person reads in a list or balloon: amenities, hours and status, in Chinese."""
    parts = [f"服务设施：{'、'.join(amenity_labels_zh(codes)) or '无'}"]
    if opening_hours:
        parts.append(f"开放时间：{opening_hours}")
    parts.append(f"状态：{status_label_zh(status)}")
    return "；".join(parts)


def xml_text(text: str) -> str:
    """Drop the control characters XML 1.0 cannot hold (they carry no meaning in a name)."""
    return _XML_INVALID.sub("", text)


class StationRow(NamedTuple):
    """One station as the writers need it: text fields, amenity codes, coordinates."""

    values: dict[str, str]
    codes: list[str]
    lon: float
    lat: float


def station_rows(stations: gpd.GeoDataFrame, crs: CoordinateSystem,
                 for_xml: bool = False) -> Iterator[StationRow]:
    """Every station with its coordinates in ``crs``; ``for_xml`` drops XML-illegal characters."""
    lon, lat = coordinates(stations, crs)
    columns = text_columns(stations, TEXT_FIELDS)
    for i, codes in enumerate(amenity_codes(stations)):
        values = {field: columns[field][i] for field in TEXT_FIELDS}
        if for_xml:
            values = {field: xml_text(value) for field, value in values.items()}
        yield StationRow(values, codes, float(lon[i]), float(lat[i]))


@contextlib.contextmanager
def xml_document(target: Target) -> Iterator[etree.xmlfile]:
    """An incremental UTF-8 XML writer on ``target``, declaration written: the whole feed is
    never held in memory as one tree."""
    with binary_output(target) as stream, etree.xmlfile(stream, encoding="utf-8") as xf:
        xf.write_declaration()
        yield xf
