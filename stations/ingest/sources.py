"""Read station source tables (CSV, XLSX, GeoJSON) into plain text columns.

Union offices export their lists from Excel or WPS: CSV in UTF-8, UTF-8 with a byte-order mark
or GB18030, XLSX workbooks (every sheet; a sheet's name is a district hint), sometimes GeoJSON
from a GIS.  This module turns any of them into a :class:`SourceTable`: one text column per
field (:mod:`.headings`), laid out by :mod:`.layout`, plus the row numbers the user sees, so
that every later problem can point at ``nanning.csv row 14 (第14行)``.

Nothing is judged here beyond "can the file be read at all"; row-level checks live in
:mod:`stations.ingest.validate`.
"""

from __future__ import annotations

import csv
import io
import json
import math
import os
import tomllib
import zipfile
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, time
from pathlib import Path

import numpy as np
import pandas as pd

from ..crs import CoordinateSystem
from ..errors import SourceError
from ..model import TEXT_FIELDS
from .amenities import ticked_codes
from .headings import MADE_FIELDS, SOURCE_FIELDS, Headings
from .layout import Sheet, fill_merged, locate_table
from .problems import Problem, Severity

ENCODINGS = ("auto", "utf-8", "utf-8-sig", "gb18030")

# A real station sheet is a few megabytes; anything that unpacks to more is refused before
# calamine sees it (a zip bomb renamed to .xlsx must fail cleanly, not fill the memory).
MAX_XLSX_UNCOMPRESSED_BYTES = 512 * 1024 * 1024
MAX_XLSX_COMPRESSION_RATIO = 200
_RATIO_CHECK_MIN_BYTES = 16 * 1024 * 1024

# A station sheet has a few dozen columns.  A line with a million cells would make a table of
# millions of empty cells (minutes and gigabytes) before any row could be checked.
MAX_COLUMNS = 1000
SHEET_MARK = " › "  # between a workbook's file name and a sheet name in reports


@dataclass(frozen=True, slots=True)
class SourceSpec:
    """One source file and how to read it (one ``[[sources]]`` entry of the manifest)."""

    path: Path
    crs: CoordinateSystem
    encoding: str = "auto"
    mapping: Mapping[str, str] = field(default_factory=dict)
    defaults: Mapping[str, str] = field(default_factory=dict)
    label: str = ""
    id_prefix: str = ""

    @property
    def name(self) -> str:
        """How problems name the file: as the manifest or the command line wrote it."""
        return self.label or str(self.path)


@dataclass(slots=True)
class SourceTable:
    """The rows of one source as text, in :data:`SOURCE_FIELDS` columns.

    ``rows`` holds the user-visible row number of each frame row and ``places`` the file (and
    sheet) it is in; ``hints`` is each row's sheet name, which may name its district.
    ``problems`` are the ones found while reading (a GeoJSON feature that is not a point) and
    notes on the layout (headings read, note rows left out).
    """

    spec: SourceSpec
    frame: pd.DataFrame
    rows: np.ndarray
    problems: list[Problem] = field(default_factory=list)
    places: np.ndarray | None = None
    hints: np.ndarray | None = None

    def __post_init__(self) -> None:
        if self.places is None:
            self.places = np.full(len(self.frame), self.spec.name, dtype=object)
        if self.hints is None:
            self.hints = np.full(len(self.frame), "", dtype=object)

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
    id_prefix: str = "",
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
        id_prefix=id_prefix,
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
        unknown = sorted(set(entry) - {"path", "crs", "encoding", "mapping", "defaults",
                                           "id_prefix"})
        if unknown:
            raise SourceError(f"{where}: unknown keys {unknown}")
        specs.append(make_spec(
            path.parent / entry["path"],
            entry["crs"],
            encoding=entry.get("encoding", "auto"),
            mapping=entry.get("mapping"),
            defaults=entry.get("defaults"),
            label=str(entry["path"]),
            id_prefix=str(entry.get("id_prefix", "")),
        ))
    return specs


def read_source(spec: SourceSpec) -> SourceTable:
    """Read one source file; a file that cannot be read at all raises :class:`SourceError`."""
    if spec.path.is_dir():
        raise SourceError(f"{spec.name}: is a folder, not a file (这是文件夹，不是文件); "
                          "name the sheet file itself")
    if not spec.path.is_file():
        raise SourceError(f"{spec.name}: no such file (找不到文件)")
    suffix = spec.path.suffix.lower()
    readers = {".csv": _read_csv, ".txt": _read_csv, ".tsv": _read_csv, ".xlsx": _read_xlsx,
               ".xlsm": _read_xlsx}
    if suffix in (".geojson", ".json"):
        return _read_geojson(spec)
    reader = readers.get(suffix)
    if reader is None:
        raise SourceError(f"{spec.name}: unknown file type {suffix or '(none)'!r}; "
                          "expected .csv, .xlsx or .geojson (save .xls and .et sheets as .xlsx)")
    try:
        sheets = reader(spec)
    except OSError as exc:
        raise SourceError(f"{spec.name}: cannot read the file: {exc.strerror or exc}") from None
    return _tables_from_sheets(spec, sheets)


def _tables_from_sheets(spec: SourceSpec, sheets: list[Sheet]) -> SourceTable:
    """Locate the table in every sheet and put the station rows of all of them together."""
    if all(sheet.grid.empty for sheet in sheets):
        raise SourceError(f"{spec.name}: the file is empty")
    frames, numbers, places, hints, problems = [], [], [], [], []
    skipped: list[Problem] = []
    for sheet in sheets:
        place = spec.name + (SHEET_MARK + sheet.name if len(sheets) > 1 else "")
        located = locate_table(sheet, dict(spec.mapping))
        if located is None:
            skipped += _skipped_sheet(place, sheet)
            continue
        frames.append(_to_fields(spec, located.headings, located.body))
        numbers.append(located.numbers)
        places.append(np.full(len(located.body), place, dtype=object))
        hints.append(np.full(len(located.body), sheet.name, dtype=object))
        problems += _layout_notes(place, located.heading_row, located.headings,
                                  located.note_rows)
    if not frames:
        first = sheets[0].grid
        shown = ", ".join(repr(str(h)) for h in (first.iloc[0] if len(first) else [])
                          if str(h).strip()) or "(none)"
        raise SourceError(
            f"{spec.name}: no heading row names a station name and its position (表头中找不到"
            f"名称和经纬度列) in the top rows; first row: {shown}. Use the usual headings "
            "(驿站名称, 经度, 纬度 ...), the schema's field names or a --mapping file")
    return SourceTable(spec, pd.concat(frames, ignore_index=True), np.concatenate(numbers),
                       problems + skipped, np.concatenate(places), np.concatenate(hints))


def _skipped_sheet(place: str, sheet: Sheet) -> list[Problem]:
    """A warning for a sheet with cells but no station table: its rows are not counted, so
    a district sheet whose headings were not recognised must not go unnoticed."""
    if sheet.grid.empty:
        return []
    first = " ".join(str(v) for v in sheet.grid.iloc[0] if str(v).strip())[:60]
    rows = len(sheet.grid)
    return [Problem(place, int(sheet.numbers[0]), "heading",
                    f"no heading row names a station name and its position; the sheet "
                    f"({rows} filled rows, first: {first!r}) is not imported",
                    Severity.WARNING,
                    f"找不到表头（名称和经纬度列），此工作表（{rows} 行，首行「{first}」）未导入")]


def _layout_notes(place: str, heading_row: int, headings: Headings,
                  note_rows: list[tuple[int, str]]) -> list[Problem]:
    """Notes on what was read and what was left out of one sheet."""
    notes = []

    def note(row: int, zh: str, en: str) -> None:
        notes.append(Problem(place, row, "heading", en, Severity.NOTE, zh))

    for heading, closest in headings.unknown:
        hint = f"; closest known: {closest}" if closest else ""
        zh_hint = f"；最接近的已知表头：{closest}" if closest else ""
        note(heading_row, f"未知表头「{heading}」，已忽略{zh_hint}",
             f"unknown heading {heading!r} ignored{hint}")
    for heading in headings.ignored:
        note(heading_row, f"「{heading}」列不导入（序号只是行号，不作编号）",
             f"column {heading!r} not imported (a row number or remark, never an id)")
    if headings.ticks:
        columns = "、".join(sorted(set(headings.ticks.values())))
        note(heading_row, f"每项设施一列（打√/是/有/1）：{columns}",
             f"one ticked column per amenity: {columns}")
    for row, text in note_rows:
        note(row, f"表尾说明行「{text}」不是驿站，已跳过",
             f"note row {text!r} under the table is not a station, skipped")
    return notes


def _to_fields(spec: SourceSpec, headings: Headings, records: pd.DataFrame) -> pd.DataFrame:
    """Rename recognised columns to field names, add empty missing ones, apply defaults."""
    positions = {name: position for position, name in headings.fields.items()}
    empty = np.full(len(records), "", dtype=object)
    columns: dict[str, np.ndarray] = {}
    for name in SOURCE_FIELDS:
        position = positions.get(name)
        values = empty if position is None or name in MADE_FIELDS else _stripped(
            records.iloc[:, position].to_numpy())
        if name in spec.defaults:
            values = np.where(values == "", spec.defaults[name], values).astype(object)
        columns[name] = values
    if headings.ticks:
        ticked = ticked_codes({code: records.iloc[:, column].to_numpy()
                               for column, code in headings.ticks.items()}, len(records))
        both = (columns["amenities"] != "") & (ticked != "")
        columns["amenities"] = np.where(both, columns["amenities"] + "、" + ticked,
                                        np.where(ticked != "", ticked, columns["amenities"]))
    # Plain object columns: Python strings, no conversions while validating column by column.
    return pd.DataFrame(columns, dtype=object)


def _stripped(values: np.ndarray) -> np.ndarray:
    return np.array([str(v).strip(" \u3000") for v in values], dtype=object)


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


def _read_csv(spec: SourceSpec) -> list[Sheet]:
    """The CSV's records as text; a record keeps its number even when a quoted cell spans
    lines, and a NUL stays in its cell for the validator to report."""
    text = decode_text(spec.path.read_bytes(), spec.encoding, spec.name)
    top = text[:65536].split("\n", 5)[:5]
    delimiter = max((",", "\t", ";"), key=lambda d: max(line.count(d) for line in top))
    # Long cells reach the validator, which refuses them by field and limit.
    csv.field_size_limit(max(csv.field_size_limit(), len(text) + 1))
    try:
        records = list(csv.reader(io.StringIO(text, newline=""), delimiter=delimiter))
    except csv.Error as exc:
        raise SourceError(f"{spec.name}: not a well-formed CSV table: {exc}") from None
    return [_sheet("", records, spec.name)]


def _sheet(name: str, records: list[list[object]], where: str) -> Sheet:
    """A sheet of text cells without its blank rows; rows keep their numbers.  Cells are
    turned into text column by column: a 100,000-row sheet is a few columns, not many rows."""
    width = max((len(r) for r in records), default=0)
    check_width(width, where)
    padded = [r if len(r) == width else [*r, *[""] * (width - len(r))] for r in records]
    columns = [np.array([(v if type(v) is str else cell_text(v)).strip() for v in column],
                        dtype=object) for column in zip(*padded, strict=True)]
    filled = np.logical_or.reduce([c != "" for c in columns]) if columns else \
        np.zeros(len(records), dtype=bool)
    grid = pd.DataFrame({k: c[filled] for k, c in enumerate(columns)}, dtype=object,
                        columns=range(width))
    return Sheet(name, grid, np.flatnonzero(filled) + 1)


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


def _read_xlsx(spec: SourceSpec) -> list[Sheet]:
    """Every sheet of the workbook, merged cells filled into each cell they cover."""
    from python_calamine import CalamineError, CalamineWorkbook  # only XLSX sources need it

    check_zip_sizes(spec.path, spec.name)
    try:
        workbook = CalamineWorkbook.from_path(str(spec.path))
    except (CalamineError, ValueError, OSError) as exc:
        raise SourceError(f"{spec.name}: cannot open the workbook: {exc}") from None
    sheets = []
    try:
        for name in workbook.sheet_names:
            sheet = workbook.get_sheet_by_name(name)
            cells = sheet.to_python(skip_empty_area=False)
            fill_merged(cells, sheet.merged_cell_ranges or [])
            sheets.append(_sheet(name, cells, f"{spec.name}{SHEET_MARK}{name}"))
    except (CalamineError, ValueError) as exc:
        raise SourceError(f"{spec.name}: cannot read the workbook: {exc}") from None
    finally:
        workbook.close()
    return sheets


# --- GeoJSON --------------------------------------------------------------------------------

def _read_geojson(spec: SourceSpec) -> SourceTable:
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
    grid = _text_records([headings, *records], len(headings))
    table = _tables_from_sheets(spec, [Sheet("", grid, np.arange(len(records) + 1))])
    table.problems += problems
    return table


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
