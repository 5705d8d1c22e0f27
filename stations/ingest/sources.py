"""Read station source tables (CSV, XLSX, GeoJSON) into plain text columns.

Union offices export their lists from Excel or WPS: CSV in UTF-8, UTF-8 with a byte-order mark
or GB18030, XLSX workbooks, sometimes GeoJSON from a GIS.  Their headings are Chinese
(``驿站名称``, ``经度`` ...) or the schema's English names.  This module turns any of them into a
:class:`SourceTable`: one text column per schema field, plus the row numbers the user sees, so
that every later problem can point at ``nanning.csv:14``.

Nothing is judged here beyond "can the file be read at all"; row-level checks live in
:mod:`stations.ingest.validate`.
"""

from __future__ import annotations

import csv
import io
import json
import math
import os
import re
import tomllib
import zipfile
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, time
from pathlib import Path

import numpy as np
import pandas as pd

from ..crs import CoordinateSystem
from ..errors import SourceError
from ..model import TEXT_FIELDS, normalise_label
from .problems import Problem

# Fields a source column can feed: the text fields, the coordinates and the amenity cell.
SOURCE_FIELDS: tuple[str, ...] = (*TEXT_FIELDS, "lon", "lat", "amenities")
COORDINATE_FIELDS = ("lon", "lat")

# Headings seen in Chinese office sheets and English exports, by field.  Headings are
# compared after normalise_label and with any bracketed note removed ("经度(GCJ-02)").
HEADING_ALIASES: dict[str, tuple[str, ...]] = {
    "id": ("编号", "站点编号", "驿站编号", "序号编码", "code", "station id", "station_id"),
    "name": ("驿站名称", "名称", "站点名称", "服务站名称", "阵地名称", "station name", "title"),
    "name_en": ("英文名称", "英文名", "name en", "english name"),
    "address": ("详细地址", "地址", "站点地址", "位置", "addr", "street address"),
    "province": ("省份", "省", "所在省份", "state"),
    "city": ("城市", "市", "所在城市", "所属城市", "地市"),
    "district": ("所在区县", "区县", "区", "县区", "所属区县", "county"),
    "operator": ("运营单位", "运营工会", "主办单位", "建设单位", "管理单位", "所属工会"),
    "phone": ("联系电话", "电话", "联系方式", "服务电话", "tel", "telephone"),
    "opening_hours": ("开放时间", "开放时段", "服务时间", "营业时间", "hours", "opening hours"),
    "status": ("状态", "运营状态", "开放状态"),
    "source": ("来源", "数据来源", "信息来源"),
    "updated_at": ("更新时间", "更新日期", "updated", "last updated"),
    "lon": ("经度", "longitude", "lng", "long", "x"),
    "lat": ("纬度", "latitude", "y"),
    "amenities": ("服务设施", "设施", "配套设施", "服务功能", "服务项目", "amenity", "facilities"),
}

# Columns a table cannot do without: everything else may be filled by defaults or be empty.
REQUIRED_COLUMNS = ("name", "lon", "lat")
HEADING_SEARCH_ROWS = 10
# Rows as read: headings (None while the heading row is still to be found), cells as text,
# the user-visible row numbers, and problems found while reading.
RawTable = tuple[list[str] | None, pd.DataFrame, np.ndarray, list[Problem]]

ENCODINGS = ("auto", "utf-8", "utf-8-sig", "gb18030")

# A real station sheet is a few megabytes; anything that unpacks to more is refused before
# openpyxl sees it (a zip bomb renamed to .xlsx must fail cleanly, not fill the memory).
MAX_XLSX_UNCOMPRESSED_BYTES = 512 * 1024 * 1024
MAX_XLSX_COMPRESSION_RATIO = 200
_RATIO_CHECK_MIN_BYTES = 16 * 1024 * 1024

# A station sheet has a few dozen columns.  A line with a million cells would make a table of
# millions of empty cells (minutes and gigabytes) before any row could be checked.
MAX_COLUMNS = 1000

_BRACKETED = re.compile(r"[(（\[【].*?[)）\]】]")


@dataclass(frozen=True, slots=True)
class SourceSpec:
    """One source file and how to read it (one ``[[sources]]`` entry of the manifest)."""

    path: Path
    crs: CoordinateSystem
    encoding: str = "auto"
    mapping: Mapping[str, str] = field(default_factory=dict)
    defaults: Mapping[str, str] = field(default_factory=dict)
    label: str = ""

    @property
    def name(self) -> str:
        """How problems name the file: as the manifest or the command line wrote it."""
        return self.label or str(self.path)


@dataclass(slots=True)
class SourceTable:
    """The rows of one source as text, in :data:`SOURCE_FIELDS` columns.

    ``rows`` holds the user-visible row number of each frame row; ``problems`` are the ones
    found while reading (for example a GeoJSON feature that is not a point).
    """

    spec: SourceSpec
    frame: pd.DataFrame
    rows: np.ndarray
    problems: list[Problem] = field(default_factory=list)

    @property
    def name(self) -> str:
        return self.spec.name


def make_spec(
    path: str | os.PathLike[str],
    crs: str | CoordinateSystem,
    encoding: str = "auto",
    mapping: Mapping[str, str] | None = None,
    defaults: Mapping[str, object] | None = None,
    label: str = "",
) -> SourceSpec:
    """A checked :class:`SourceSpec`; bad settings raise :class:`SourceError` naming them."""
    where = label or str(path)
    if encoding not in ENCODINGS:
        raise SourceError(
            f"{where}: unknown encoding {encoding!r}; allowed: {', '.join(ENCODINGS)}"
        )
    mapping = dict(mapping or {})
    _check_mapping(mapping, where)
    unknown = sorted(set(defaults or {}) - set(TEXT_FIELDS))
    if unknown:
        raise SourceError(f"{where}: defaults for unknown fields {unknown}; "
                          f"allowed: {', '.join(TEXT_FIELDS)}")
    return SourceSpec(
        path=Path(path),
        crs=CoordinateSystem.parse(crs),
        encoding=encoding,
        mapping=mapping,
        defaults={k: str(v) for k, v in (defaults or {}).items()},
        label=label,
    )


def _check_mapping(mapping: Mapping[str, object], where: str) -> None:
    for heading, target in mapping.items():
        if not isinstance(target, str) or target not in SOURCE_FIELDS:
            raise SourceError(
                f"{where}: mapping {heading!r} = {target!r} names no field; "
                f"allowed: {', '.join(SOURCE_FIELDS)}"
            )


def _load_toml(path: Path) -> dict[str, object]:
    try:
        with path.open("rb") as handle:
            return tomllib.load(handle)
    except FileNotFoundError:
        raise SourceError(f"{path}: no such file") from None
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise SourceError(f"{path}: not valid TOML: {exc}") from None


def read_mapping_file(path: str | os.PathLike[str]) -> dict[str, str]:
    """A TOML mapping file of ``"heading" = "field"`` lines."""
    path = Path(path)
    mapping = _load_toml(path)
    _check_mapping(mapping, str(path))
    return {str(k): str(v) for k, v in mapping.items()}


def read_manifest(path: str | os.PathLike[str]) -> list[SourceSpec]:
    """The sources listed in a ``sources.toml`` manifest; paths are relative to the manifest."""
    path = Path(path)
    document = _load_toml(path)
    entries = document.get("sources")
    if not isinstance(entries, list) or not entries:
        raise SourceError(f"{path}: no [[sources]] entries")
    specs = []
    for number, entry in enumerate(entries, start=1):
        where = f"{path}: [[sources]] entry {number}"
        if not isinstance(entry, dict) or "path" not in entry or "crs" not in entry:
            raise SourceError(f"{where} needs both path and crs")
        unknown = sorted(set(entry) - {"path", "crs", "encoding", "mapping", "defaults"})
        if unknown:
            raise SourceError(f"{where}: unknown keys {unknown}")
        specs.append(make_spec(
            path.parent / entry["path"],
            entry["crs"],
            encoding=entry.get("encoding", "auto"),
            mapping=entry.get("mapping"),
            defaults=entry.get("defaults"),
            label=str(entry["path"]),
        ))
    return specs


def read_source(spec: SourceSpec) -> SourceTable:
    """Read one source file; a file that cannot be read at all raises :class:`SourceError`."""
    if not spec.path.is_file():
        raise SourceError(f"{spec.name}: no such file")
    suffix = spec.path.suffix.lower()
    readers = {".csv": _read_csv, ".txt": _read_csv, ".tsv": _read_csv, ".xlsx": _read_xlsx,
               ".xlsm": _read_xlsx, ".geojson": _read_geojson, ".json": _read_geojson}
    reader = readers.get(suffix)
    if reader is None:
        raise SourceError(f"{spec.name}: unknown file type {suffix or '(none)'!r}; "
                          "expected .csv, .xlsx or .geojson (save .xls and .et sheets as .xlsx)")
    try:
        headings, records, rows, problems = reader(spec)
    except OSError as exc:
        raise SourceError(f"{spec.name}: cannot read the file: {exc.strerror or exc}") from None
    if headings is None:
        if records.empty:
            raise SourceError(f"{spec.name}: the file is empty")
        headings, records, rows = _split_heading_row(records, rows, spec.mapping)
    frame = _to_fields(spec, headings, records)
    return SourceTable(spec, frame, np.asarray(rows, dtype=np.int64), problems)


# --- headings -------------------------------------------------------------------------------

def _heading_key(heading: str) -> str:
    return normalise_label(_BRACKETED.sub("", heading).replace("*", ""))


_HEADING_INDEX: dict[str, str] = {
    _heading_key(alias): field_name
    for field_name, aliases in HEADING_ALIASES.items()
    for alias in (field_name, *aliases)
}


def recognise_headings(headings: Iterable[str], mapping: Mapping[str, str]) -> dict[int, str]:
    """Column position -> field for every heading that names a field (mapping first)."""
    extra = {_heading_key(k): v for k, v in mapping.items()}
    extra.update({normalise_label(k): v for k, v in mapping.items()})
    fields: dict[int, str] = {}
    for position, heading in enumerate(headings):
        text = str(heading)
        target = (extra.get(normalise_label(text)) or extra.get(_heading_key(text))
                  or _HEADING_INDEX.get(_heading_key(text)))
        if target and target not in fields.values():
            fields[position] = target
    return fields


def _split_heading_row(
    grid: pd.DataFrame, numbers: np.ndarray, mapping: Mapping[str, str]
) -> tuple[list[str], pd.DataFrame, np.ndarray]:
    """Find the heading row: office sheets often put a title (…一览表) or notes above it.

    The first of the top rows that names every required column is taken, else the first row
    (whose headings the error message then shows).
    """
    first = 0
    for i in range(min(HEADING_SEARCH_ROWS, len(grid))):
        fields = recognise_headings(grid.iloc[i].tolist(), mapping).values()
        if set(REQUIRED_COLUMNS) <= set(fields):
            first = i
            break
    headings = [str(h) for h in grid.iloc[first]]
    body = grid.iloc[first + 1:].reset_index(drop=True)
    body.columns = range(body.shape[1])
    return headings, body, numbers[first + 1:]


def _to_fields(spec: SourceSpec, headings: list[str], records: pd.DataFrame) -> pd.DataFrame:
    """Rename recognised columns to field names, add empty missing ones, apply defaults."""
    fields = recognise_headings(headings, spec.mapping)
    found = set(fields.values())
    missing = [f for f in REQUIRED_COLUMNS if f not in found]
    if missing:
        shown = ", ".join(repr(h) for h in headings if str(h).strip()) or "(none)"
        raise SourceError(
            f"{spec.name}: no column for {', '.join(missing)}; headings found: {shown}. "
            "Use the schema's field names, the usual Chinese headings, or a --mapping file"
        )
    positions = {name: position for position, name in fields.items()}
    empty = np.full(len(records), "", dtype=object)
    columns: dict[str, np.ndarray] = {}
    for name in SOURCE_FIELDS:
        position = positions.get(name)
        values = empty if position is None else _stripped(records.iloc[:, position].to_numpy())
        if name in spec.defaults:
            values = np.where(values == "", spec.defaults[name], values).astype(object)
        columns[name] = values
    # Plain object columns: Python strings, no conversions while validating column by column.
    frame = pd.DataFrame(columns, dtype=object)
    return frame


def _stripped(values: np.ndarray) -> np.ndarray:
    return np.array([str(v).strip() for v in values], dtype=object)


def check_width(width: int, name: str) -> None:
    """Refuse a table wider than :data:`MAX_COLUMNS` before it is laid out."""
    if width > MAX_COLUMNS:
        raise SourceError(f"{name}: refused: {width:,} columns (at most {MAX_COLUMNS:,}); "
                          "is the delimiter right?")


def _text_records(rows: list[list[str]], width: int) -> pd.DataFrame:
    padded = [(r + [""] * width)[:width] for r in rows]
    return pd.DataFrame(padded, columns=range(width), dtype=object)


# --- CSV ------------------------------------------------------------------------------------

def decode_text(data: bytes, encoding: str, name: str) -> str:
    """Decode a CSV as declared, or guess between UTF-8 (with or without BOM) and GB18030."""
    if encoding != "auto":
        try:
            return data.decode(encoding)
        except UnicodeDecodeError as exc:
            raise SourceError(f"{name}: not readable as {encoding} "
                              f"(byte {exc.start}); save the file as UTF-8") from None
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        raise SourceError(f"{name}: the file is UTF-16; save it as CSV UTF-8 or GB18030")
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        valid_utf8 = data[:exc.start]
    try:
        text = data.decode("gb18030")
    except UnicodeDecodeError:
        text = None
    if text is not None:
        _refuse_mixed_encodings(valid_utf8, name)
        return text
    line = valid_utf8.count(b"\n") + 1
    raise SourceError(f"{name}: unreadable text encoding (neither UTF-8 nor GB18030) at line "
                      f"{line}; save the file as CSV UTF-8")


def _refuse_mixed_encodings(valid_utf8: bytes, name: str) -> None:
    """A file that is UTF-8 Chinese up to some line and then not (rows pasted from a GB18030
    sheet) would decode as GB18030 into garbled names and cities; refuse it instead."""
    chinese = sum(ord(c) > 0x7F for c in valid_utf8.decode("utf-8", "ignore"))
    if chinese >= 4:  # GB18030 text is almost never several valid UTF-8 characters in a row
        line = valid_utf8.count(b"\n") + 1
        raise SourceError(f"{name}: mixed text encodings: line {line} is not UTF-8 but the lines "
                          "before it are; save the whole file as CSV UTF-8")


def _read_csv(spec: SourceSpec) -> RawTable:
    text = decode_text(spec.path.read_bytes(), spec.encoding, spec.name)
    first_line = text.split("\n", 1)[0]
    delimiter = max((",", "\t", ";"), key=first_line.count)
    check_width(first_line.count(delimiter) + 1, spec.name)  # pandas sizes rows by this line
    try:
        table = pd.read_csv(
            io.StringIO(text), sep=delimiter, dtype=object, keep_default_na=False,
            skip_blank_lines=False, header=None, quoting=csv.QUOTE_MINIMAL, engine="c",
        )
    except pd.errors.EmptyDataError:
        raise SourceError(f"{spec.name}: the file is empty") from None
    except pd.errors.ParserError as exc:
        raise SourceError(f"{spec.name}: not a well-formed CSV table: {exc}") from None
    table = table.fillna("")
    rows = np.arange(1, len(table) + 1)
    keep = (table != "").any(axis=1).to_numpy()
    return None, table[keep].reset_index(drop=True), rows[keep], []


# --- XLSX -----------------------------------------------------------------------------------

def check_zip_sizes(path: Path, name: str) -> None:
    """Refuse archives whose declared contents are absurd, before anything unpacks them."""
    try:
        with zipfile.ZipFile(path) as archive:
            members = archive.infolist()
    except (zipfile.BadZipFile, OSError) as exc:
        raise SourceError(f"{name}: not an XLSX workbook ({exc})") from None
    total = sum(m.file_size for m in members)
    if total > MAX_XLSX_UNCOMPRESSED_BYTES:
        raise SourceError(f"{name}: refused: the workbook would unpack to {total:,} bytes "
                          f"(limit {MAX_XLSX_UNCOMPRESSED_BYTES:,})")
    for member in members:
        ratio = member.file_size / max(member.compress_size, 1)
        if member.file_size > _RATIO_CHECK_MIN_BYTES and ratio > MAX_XLSX_COMPRESSION_RATIO:
            raise SourceError(f"{name}: refused: {member.filename} is compressed "
                              f"{ratio:.0f}:1, which only a zip bomb is")


def cell_text(value: object) -> str:
    """A spreadsheet or JSON value as the text a person would read in the cell."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        if math.isfinite(value) and value.is_integer() and abs(value) < 1e15:
            return str(int(value))
        return repr(value)
    if isinstance(value, datetime | date | time):
        return value.isoformat()
    return str(value)


def _read_xlsx(spec: SourceSpec) -> RawTable:
    import openpyxl  # imported here: only XLSX sources pay for it

    check_zip_sizes(spec.path, spec.name)
    try:
        workbook = openpyxl.load_workbook(spec.path, read_only=True, data_only=True)
    except Exception as exc:  # openpyxl raises many types for damaged workbooks
        raise SourceError(f"{spec.name}: cannot open the workbook: {exc}") from None
    try:
        sheet = workbook.worksheets[0]
        rows_iter: Iterator[tuple[object, ...]] = sheet.iter_rows(values_only=True)
        records: list[list[str]] = []
        numbers: list[int] = []
        for number, values in enumerate(rows_iter, start=1):
            texts = [cell_text(v).strip() for v in values]
            if any(texts):
                records.append(texts)
                numbers.append(number)
    finally:
        workbook.close()
    width = max((len(r) for r in records), default=0)
    check_width(width, spec.name)
    return None, _text_records(records, width), np.asarray(numbers), []


# --- GeoJSON --------------------------------------------------------------------------------

def _read_geojson(spec: SourceSpec) -> RawTable:
    try:
        document = json.loads(decode_text(spec.path.read_bytes(), spec.encoding, spec.name))
    except json.JSONDecodeError as exc:
        raise SourceError(f"{spec.name}: not valid JSON: {exc}") from None
    if not isinstance(document, dict) or document.get("type") != "FeatureCollection":
        raise SourceError(f"{spec.name}: not a GeoJSON FeatureCollection")
    features = [f if isinstance(f, dict) else {} for f in document.get("features") or []]
    properties = [_feature_properties(f) for f in features]
    headings: list[str] = []
    for feature_properties in properties:
        headings += [key for key in feature_properties if key not in headings]
    check_width(len(headings), spec.name)
    headings += ["lon", "lat"]
    records: list[list[str]] = []
    problems: list[Problem] = []
    for number, (feature, feature_properties) in enumerate(zip(features, properties, strict=True),
                                                           start=1):
        values = [_property_text(feature_properties.get(h)) for h in headings[:-2]]
        lon, lat = _point_coordinates(feature.get("geometry"), spec.name, number, problems)
        records.append([*values, lon, lat])
    rows = np.arange(1, len(records) + 1)
    return headings, _text_records(records, len(headings)), rows, problems


def _feature_properties(feature: dict[str, object]) -> dict[str, object]:
    """The feature's properties, with the feature's own ``id`` when the properties lack one."""
    properties = feature.get("properties")
    properties = dict(properties) if isinstance(properties, dict) else {}
    if "id" in feature and "id" not in properties:
        properties["id"] = feature["id"]
    return properties


def _property_text(value: object) -> str:
    if isinstance(value, list):
        return ";".join(cell_text(v) for v in value)
    return cell_text(value)


def _point_coordinates(
    geometry: object, name: str, number: int, problems: list[Problem]
) -> tuple[str, str]:
    """The point's coordinates as text; any other geometry is a problem for that feature."""
    if isinstance(geometry, dict) and geometry.get("type") == "Point":
        coordinates = geometry.get("coordinates")
        if isinstance(coordinates, list) and len(coordinates) >= 2:
            return cell_text(coordinates[0]), cell_text(coordinates[1])
        problems.append(Problem(name, number, "geometry", "the Point has no coordinates"))
        return "", ""
    kind = geometry.get("type") if isinstance(geometry, dict) else None
    message = (f"a {kind} is not a point; a station is one Point" if kind
               else "the feature has no geometry; a station is one Point")
    problems.append(Problem(name, number, "geometry", message))
    return "", ""
