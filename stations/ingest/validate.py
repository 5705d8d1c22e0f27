"""Validate source rows and turn the good ones into a station frame in WGS84.

Every check runs over whole columns (numpy / pandas, or once per distinct value for the
checks that need a parser), so a national table of 150,000 rows validates in seconds.  A
problem names the file, the row the user sees, the field and what is wrong, in Chinese with the
English beside it.  Errors reject the row; warnings keep it; notes say what was inferred or
normalised.

Rules, in the order a row meets them:

* cells hold no control characters and no text longer than the field's limit (:mod:`.cells`);
* name and address are present;
* the position is readable (:mod:`.positions`), finite, in range, inside China; swapped
  columns are reported as such;
* province, city, district and the GB/T 2260 code are inferred where the sheet lacks them
  (:mod:`.divisions`); a row whose city nothing names is rejected;
* opening hours in Chinese become OSM ``opening_hours`` (:mod:`.hours_zh`); hours that cannot be
  read leave the hours unknown with a warning, never a rejection;
* status is one of the known values (English or Chinese);
* ids are made where the sheet has none (:mod:`.ids`); given ids are unique across all sources;
* a repeated row (same name, same place) is kept once and the repeat reported;
* amenity labels are known (unknown ones are dropped with a "did you mean" warning);
* phone numbers look like Chinese phone numbers (warning);
* two stations with a similar name within :data:`DUPLICATE_RADIUS_M` metres are probably one
  station entered twice (warning).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import geopandas as gpd
import numpy as np
import pandas as pd
from rapidfuzz import fuzz
from scipy.spatial import cKDTree

from ..crs import CoordinateSystem, outside_china, to_wgs84
from ..geodata import station_frame
from ..index import chord_for_distance, haversine_m, unit_vectors
from ..model import AMENITIES, STATUS_LABELS_ZH, TEXT_FIELDS, Status, normalise_label
from ..phones import phone_looks_right
from .amenities import parse_amenities, unknown_amenity_message
from .cells import clean_cells
from .divisions import city_centre, infer_divisions
from .findings import Findings
from .headings import POSITION, field_label
from .hours_zh import normalise_hours
from .ids import make_ids
from .positions import Position, parse_coordinate, parse_position
from .problems import Problem, Severity
from .sources import SourceTable

DUPLICATE_RADIUS_M = 30.0
SIMILAR_NAME_SCORE = 80.0
REQUIRED_TEXT = ("name", "address")
FAR_FROM_CITY_M = 300_000.0  # cities such as 酒泉 or 百色 span hundreds of km
MUNICIPALITIES = ("11", "12", "31", "50")  # a municipality spans hundreds of kilometres

_STATUS_ALIASES: dict[str, Status] = {
    **{normalise_label(s.value): s for s in Status},
    **{normalise_label(label): s for s, label in STATUS_LABELS_ZH.items()},
    "": Status.OPEN,
    "正常": Status.OPEN,
    "运营": Status.OPEN,
    "运行": Status.OPEN,
    "开放中": Status.OPEN,
    "暂停": Status.TEMPORARILY_CLOSED,
    "暂停服务": Status.TEMPORARILY_CLOSED,
    "维修": Status.TEMPORARILY_CLOSED,
    "装修": Status.TEMPORARILY_CLOSED,
    "temporarily closed": Status.TEMPORARILY_CLOSED,
    "关闭": Status.CLOSED,
    "停用": Status.CLOSED,
    "撤销": Status.CLOSED,
}


@dataclass(slots=True)
class ValidationResult:
    """The stations that passed, every problem found, and the row counts.

    ``rows_read == rows_stored + rows_rejected``: a repeated row counts as rejected.
    ``places`` says where each station was read (``nanning.csv row 4 (第4行)``), so that a
    later refusal of a good row (outside an office's area) can point at it too.
    """

    stations: gpd.GeoDataFrame
    problems: list[Problem]
    rows_read: int
    rows_rejected: int
    made_ids: set[str] = field(default_factory=set)
    places: list[str] = field(default_factory=list)

    @property
    def rows_stored(self) -> int:
        return len(self.stations)

    @property
    def errors(self) -> int:
        return sum(p.severity is Severity.ERROR for p in self.problems)

    @property
    def warnings(self) -> int:
        return sum(p.severity is Severity.WARNING for p in self.problems)

    @property
    def notes(self) -> int:
        return sum(p.severity is Severity.NOTE for p in self.problems)


def validate_tables(tables: Sequence[SourceTable]) -> ValidationResult:
    """Check every row of ``tables`` and return the good rows as a WGS84 station frame."""
    frame = pd.concat([t.frame for t in tables], ignore_index=True) if tables else None
    if frame is None or frame.empty:
        problems = [p for t in tables for p in t.problems]
        return ValidationResult(station_frame({}, [], []), problems, 0, 0)
    n = len(frame)
    source_index = np.repeat(np.arange(len(tables)), [len(t.frame) for t in tables])
    findings = Findings(
        files=np.concatenate([t.places for t in tables]),
        rows=np.concatenate([t.rows for t in tables]),
        order=source_index,
        rejected=np.zeros(n, dtype=bool),
    )
    read_failed = _reading_problems(tables, findings)
    clean_cells(frame, findings)

    for name in REQUIRED_TEXT:
        findings.add(frame[name].to_numpy() == "", name, lambda _i, name=name: (
            f"缺少{field_label(name)}", f"missing; every station needs {field_label(name)}"))
    declared = np.array([t.spec.crs.value for t in tables], dtype=object)[source_index]
    lon, lat, crs = _read_positions(frame, declared, findings, skip=read_failed)
    _infer_divisions(frame, np.concatenate([t.hints for t in tables]), findings)
    hours_status = _normalise_hours(frame, findings)
    status = _check_status(frame, hours_status, findings)
    amenity_flags = _check_amenities(frame, findings)
    _check_phones(frame, findings)

    wgs_lon, wgs_lat = _to_wgs84(lon, lat, crs, ~findings.rejected)
    _check_far_from_city(frame, wgs_lon, wgs_lat, findings)
    given_id = frame["id"].to_numpy() != ""
    prefixes = np.array([t.spec.id_prefix for t in tables], dtype=object)[source_index]
    _make_ids(frame, prefixes, wgs_lon, wgs_lat, findings)
    _check_duplicate_ids(frame, findings)
    _check_duplicate_stations(frame, wgs_lon, wgs_lat, findings)

    keep = ~findings.rejected
    columns: dict[str, object] = {name: frame[name].to_numpy()[keep] for name in TEXT_FIELDS}
    columns["status"] = status[keep]
    for amenity, flags in zip(AMENITIES, amenity_flags.T, strict=True):
        columns[amenity.column] = flags[keep]
    stations = station_frame(columns, wgs_lon[keep], wgs_lat[keep])
    made = set(frame["id"].to_numpy()[keep & ~given_id].tolist())
    return ValidationResult(stations, findings.problems(), n, int(findings.rejected.sum()),
                            made, [findings.place(i) for i in np.flatnonzero(keep).tolist()])


def _reading_problems(tables: Sequence[SourceTable], findings: Findings) -> np.ndarray:
    """Record problems found while reading (errors reject their row); return those rows."""
    failed = np.zeros(len(findings.rows), dtype=bool)
    offset = 0
    for number, table in enumerate(tables):
        positions = {(place, int(row)): offset + i for i, (place, row) in enumerate(
            zip(table.places.tolist(), table.rows.tolist(), strict=True))}
        for problem in table.problems:
            i = positions.get((problem.file, problem.row))
            if i is None:  # about the sheet (its headings, a note row), not a station row
                findings.found.append((number, problem.row, problem))
                continue
            failed[i] |= problem.severity is Severity.ERROR
            findings.add([i], problem.field, lambda _i, p=problem: (p.zh, p.message),
                         problem.severity)
        offset += len(table.frame)
    return failed


# --- positions ------------------------------------------------------------------------------

def _read_positions(frame: pd.DataFrame, declared: np.ndarray, findings: Findings,
                    skip: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """lon, lat and the coordinate system of each row; unusable positions reject the row."""
    crs = declared.copy()
    numbers = {name: pd.to_numeric(frame[name], errors="coerce").to_numpy(
        dtype=np.float64, copy=True) for name in ("lon", "lat")}
    text = {name: frame[name].to_numpy(dtype=object) for name in ("lon", "lat")}
    # A position cell, or both numbers pasted into the longitude cell.
    pasted = frame[POSITION].to_numpy(dtype=object).copy()
    in_lon = (text["lat"] == "") & (pasted == "") & (text["lon"] != "") & np.isnan(numbers["lon"])
    pasted[in_lon] = text["lon"][in_lon]
    combined = (pasted != "") & ((text["lon"] == "") | in_lon) & ~skip
    for i, position in _per_distinct_rows(pasted, combined, parse_position):
        if position is None:
            findings.add([i], POSITION, lambda i, p=pasted: (
                f"无法从「{p[i][:60]}」读出经纬度", f"no position can be read from {p[i][:60]!r}"))
            continue
        numbers["lon"][i], numbers["lat"][i] = position.lon, position.lat
        _note_position(i, position, declared[i], crs, findings)
    for name in ("lon", "lat"):
        retry = np.isnan(numbers[name]) & (text[name] != "") & ~combined
        for i, value in _per_distinct_rows(text[name], retry, parse_coordinate):
            if value is not None:
                numbers[name][i] = value
    lon, lat = numbers["lon"], numbers["lat"]
    _check_coordinates(text, lon, lat, combined | skip | findings.rejected, findings)
    return lon, lat, crs


def _per_distinct_rows(values: np.ndarray, rows: np.ndarray, parse: Callable[[str], object]
                       ) -> list[tuple[int, object]]:
    """(row, parse(value)) for the rows asked for, parsing each distinct value once."""
    cache: dict[str, object] = {}
    out = []
    for i in np.flatnonzero(rows).tolist():
        value = values[i]
        if value not in cache:
            cache[value] = parse(value)
        out.append((i, cache[value]))
    return out


def _note_position(i: int, position: Position, declared: str, crs: np.ndarray,
                   findings: Findings) -> None:
    if position.crs is None:
        return
    crs[i] = position.crs.value
    if position.crs.value == declared:
        return
    findings.add([i], POSITION, lambda _i: (
        f"{position.source_zh}自带坐标系 {position.crs.value}，优先于声明的 {declared}",
        f"the {position.source_en} names its own system {position.crs.value}, which wins "
        f"over the declared {declared}"), Severity.NOTE)


def _check_coordinates(text: dict[str, np.ndarray], lon: np.ndarray, lat: np.ndarray,
                       skip_missing: np.ndarray, findings: Findings) -> None:
    """Report missing, non-numeric, non-finite, swapped and out-of-range points."""
    words = {"lon": ("经度", "longitude"), "lat": ("纬度", "latitude")}
    values = {"lon": lon, "lat": lat}
    bad = np.zeros(len(lon), dtype=bool)
    for name in ("lon", "lat"):
        raw, number = text[name], values[name]
        zh, en = words[name]
        empty = np.isnan(number) & (raw == "") & ~skip_missing
        findings.add(empty, name, lambda _i, zh=zh, en=en: (
            f"缺少{zh}", f"missing; every station needs a {en} ({zh})"))
        not_number = np.isnan(number) & (raw != "") & ~skip_missing & ~_looks_like_nan(raw)
        findings.add(not_number, name, lambda i, raw=raw: (
            f"「{raw[i][:60]}」不是数字", f"{raw[i][:60]!r} is not a number"))
        not_finite = ~np.isfinite(number) & ~empty & ~not_number & ~skip_missing
        findings.add(not_finite, name, lambda i, raw=raw: (
            f"「{raw[i][:60]}」不是有限数字", f"{raw[i][:60]!r} is not a finite number"))
        bad |= ~np.isfinite(number)
    shown = {name: np.where(text[name] != "", text[name], values[name].astype(str))
             for name in ("lon", "lat")}
    finite = ~bad & ~findings.rejected
    with np.errstate(invalid="ignore"):
        swapped = finite & outside_china(lon, lat) & ~outside_china(lat, lon)
        findings.add(swapped, "lon/lat", lambda i: (
            "经度和纬度两列似乎填反了",
            f"({shown['lon'][i]}, {shown['lat'][i]}) lies outside China but swapped it lies in "
            "China: the longitude and latitude columns look swapped"))
        checked = finite & ~swapped
        out_of_range = np.zeros(len(lon), dtype=bool)
        for name, limit in (("lon", 180.0), ("lat", 90.0)):
            zh, en = words[name]
            outside = checked & (np.abs(values[name]) > limit)
            findings.add(outside, name, lambda i, name=name, limit=limit, zh=zh, en=en: (
                f"{shown[name][i]} 不是{zh}（应在 ±{limit:g} 之间）",
                f"{shown[name][i]} is not a {en} (must be between -{limit:g} and {limit:g})"))
            out_of_range |= outside
        far = checked & ~out_of_range & outside_china(lon, lat)
    findings.add(far, "lon/lat", lambda i: (
        "位置远在中国境外，请检查经纬度及其顺序",
        f"({shown['lon'][i]}, {shown['lat'][i]}) is far outside China; check the coordinates "
        "and their order (lon, lat)"))


def _looks_like_nan(raw: np.ndarray) -> np.ndarray:
    """Cells that spell NaN: pandas parses them as missing, the user wrote them as a number."""
    return np.isin(np.char.lower(raw.astype(str)), ("nan", "-nan", "+nan"))


def _to_wgs84(lon: np.ndarray, lat: np.ndarray, crs: np.ndarray, usable: np.ndarray
              ) -> tuple[np.ndarray, np.ndarray]:
    """Convert the usable rows from their coordinate system to WGS84."""
    out_lon = np.full(len(lon), np.nan)
    out_lat = np.full(len(lat), np.nan)
    for system in CoordinateSystem:
        rows = usable & (crs == system.value)
        out_lon[rows], out_lat[rows] = to_wgs84(lon[rows], lat[rows], system)
    return out_lon, out_lat


# --- what the sheet does not say ------------------------------------------------------------

def _per_distinct(column: pd.Series, check: Callable[[str], object]) -> list[object]:
    """``check`` applied to every distinct value, spread back to the rows."""
    codes, uniques = pd.factorize(column, sort=False)
    results = [check(value) for value in uniques]
    return [results[c] for c in codes]


def _infer_divisions(frame: pd.DataFrame, hints: np.ndarray, findings: Findings) -> None:
    """Province, city, district and division code from the address, district column, sheet
    name and defaults; a row whose city nothing names is rejected."""
    columns = [frame[name].to_numpy(dtype=object) for name in
               ("address", "district", "province", "city")]
    address, district, province, city = columns
    found = infer_divisions(address, district, hints, province, city)
    codes = np.array([d.code or "" for d in found], dtype=object)
    frame["division_code"] = codes
    inferred = np.zeros(len(found), dtype=bool)
    for name, values in (("province", province), ("city", city), ("district", district)):
        named = np.array([getattr(d, name) or "" for d in found], dtype=object)
        fill = (values == "") & (named != "")
        inferred |= fill
        frame[name] = np.where(fill, named, values)
    usable = ~findings.rejected
    no_city = (frame["city"].to_numpy() == "") & usable
    findings.add(no_city, "city", lambda i: (
        f"缺少城市：地址和清单默认值都没有写明城市（{found[i].note_zh}）",
        f"missing; neither the address nor the manifest's defaults name the city "
        f"({found[i].note_en})"))
    # Doubts about the division matter when the city had to be inferred; when the sheet names
    # the city (a 镇 or 街道 in the district column of 东莞市) they are only a note.
    doubtful = np.array([d.warning for d in found], dtype=bool) & usable & ~no_city
    warned = doubtful & (city == "")
    findings.add(warned, "division_code", lambda i: (found[i].note_zh, found[i].note_en),
                 Severity.WARNING)
    findings.add((inferred | doubtful) & usable & ~no_city & ~warned, "division_code",
                 lambda i: (found[i].note_zh, found[i].note_en), Severity.NOTE)


def _check_far_from_city(frame: pd.DataFrame, lon: np.ndarray, lat: np.ndarray,
                         findings: Findings) -> None:
    """Warn about a point far from the centre of the city its division names."""
    codes = frame["division_code"].to_numpy(dtype=object)
    centres = {code: city_centre(code) or (np.nan, np.nan) for code in set(codes.tolist())
               if code and code[:2] not in MUNICIPALITIES}
    centre = np.array([centres.get(code, (np.nan, np.nan)) for code in codes.tolist()],
                      dtype=np.float64).reshape(-1, 2)
    metres = haversine_m(lon, lat, centre[:, 0], centre[:, 1])
    with np.errstate(invalid="ignore"):
        far = (metres > FAR_FROM_CITY_M) & ~findings.rejected
    city = frame["city"].to_numpy(dtype=object)
    findings.add(far, "lon/lat", lambda i: (
        f"位置距{city[i]}中心 {metres[i] / 1000:.0f} 公里，请核对坐标",
        f"{metres[i] / 1000:.0f} km from the centre of {city[i]}; check the position"),
        Severity.WARNING)


def _normalise_hours(frame: pd.DataFrame, findings: Findings) -> np.ndarray:
    """OSM opening_hours from the sheet's hours, the original kept beside them; unknown hours
    are a warning, never a rejection.  Returns the status the hours imply, if any."""
    original = frame["opening_hours"].to_numpy(dtype=object).copy()
    parsed = _per_distinct(frame["opening_hours"], normalise_hours)
    frame["opening_hours_text"] = original
    frame["opening_hours"] = np.array([p.osm or "" for p in parsed], dtype=object)
    for severity, wanted in ((Severity.WARNING, True), (Severity.NOTE, False)):
        rows = [i for i, p in enumerate(parsed)
                if original[i] and p.warning is wanted and (wanted or p.osm != original[i])]
        findings.add(rows, "opening_hours", lambda i: (parsed[i].note_zh, parsed[i].note_en),
                     severity)
    return np.array([p.status.value if p.status else "" for p in parsed], dtype=object)


def _make_ids(frame: pd.DataFrame, prefixes: np.ndarray, lon: np.ndarray, lat: np.ndarray,
              findings: Findings) -> None:
    """Ids for the rows without one, and one station for a repeated row."""
    ids = frame["id"].to_numpy(dtype=object).copy()
    missing = (ids == "") & ~findings.rejected
    made = make_ids(prefixes[missing], frame["division_code"].to_numpy()[missing],
                    frame["name"].to_numpy()[missing], lon[missing], lat[missing])
    ids[missing] = made
    frame["id"] = ids
    positions = np.flatnonzero(missing)
    codes, uniques = pd.factorize(made)
    first = np.zeros(len(uniques), dtype=np.intp)  # the first row of each made id
    first[codes[::-1]] = positions[::-1]
    repeated = first[codes] != positions
    kept = dict(zip(positions[repeated].tolist(), first[codes[repeated]].tolist(), strict=True))
    findings.add(positions[repeated], "name", lambda i: (
        f"与{findings.place(kept[i])}重复（同名、同一位置），只保留一条",
        f"repeats {findings.place(kept[i])} (same name, same place): kept once"))
    findings.add(positions[~repeated], "id", lambda i: (
        f"表中无编号，生成编号 {ids[i]}", f"no id in the sheet; made id {ids[i]}"),
        Severity.NOTE)


def _check_status(frame: pd.DataFrame, hours_status: np.ndarray, findings: Findings
                  ) -> np.ndarray:
    parsed = _per_distinct(frame["status"], lambda v: _STATUS_ALIASES.get(normalise_label(v)))
    values = np.array([s.value if s else "" for s in parsed], dtype=object)
    raw = frame["status"].to_numpy()
    closed_by_hours = (hours_status != "") & (raw == "")
    values[closed_by_hours] = hours_status[closed_by_hours]
    findings.add(closed_by_hours, "status", lambda i: (
        f"开放时间写明暂停开放，状态记为 {values[i]}",
        f"the opening hours say closed for now; status set to {values[i]}"), Severity.NOTE)
    allowed = ", ".join(f"{s.value} ({STATUS_LABELS_ZH[s]})" for s in Status)
    findings.add(values == "", "status", lambda i: (
        f"「{raw[i]}」不是有效状态", f"{raw[i]!r} is not a status; allowed: {allowed}"))
    return values


def _check_duplicate_ids(frame: pd.DataFrame, findings: Findings) -> None:
    ids = frame["id"]
    repeated = (ids.duplicated(keep="first") & (ids != "")).to_numpy() & ~findings.rejected
    if not repeated.any():
        return
    first_use = {value: i for i, value in reversed(list(enumerate(ids.tolist())))}
    values = ids.to_numpy()
    findings.add(repeated, "id", lambda i: (
        f"编号 {values[i]} 已在{findings.place(first_use[values[i]])}使用",
        f"id {values[i]!r} is already used at {findings.place(first_use[values[i]])}"))


def _check_phones(frame: pd.DataFrame, findings: Findings) -> None:
    looks_wrong = np.array(_per_distinct(frame["phone"], lambda v: not phone_looks_right(v)),
                           dtype=bool)
    raw = frame["phone"].to_numpy()
    findings.add(looks_wrong, "phone",
                 lambda i: (f"「{raw[i]}」不像电话号码",
                            f"{raw[i]!r} does not look like a phone number"), Severity.WARNING)


# --- amenities ------------------------------------------------------------------------------

def _check_amenities(frame: pd.DataFrame, findings: Findings) -> np.ndarray:
    """A (rows x amenities) boolean matrix; unknown labels are warnings."""
    codes, uniques = pd.factorize(frame["amenities"], sort=False)
    cells = [parse_amenities(value) for value in uniques]
    table = np.array([[a.code in cell.codes for a in AMENITIES] for cell in cells],
                     dtype=bool).reshape(len(cells), len(AMENITIES))
    has_unknown = np.array([bool(cell.unknown) for cell in cells], dtype=bool)
    rows = np.flatnonzero(has_unknown[codes]) if len(cells) else np.array([], dtype=np.int64)
    for i in rows.tolist():
        for label in cells[codes[i]].unknown:
            findings.add([i], "amenities", lambda _i, label=label: unknown_amenity_message(label),
                         Severity.WARNING)
    return table[codes] if len(cells) else np.zeros((0, len(AMENITIES)), dtype=bool)


# --- likely duplicate stations --------------------------------------------------------------

def _check_duplicate_stations(frame: pd.DataFrame, lon: np.ndarray, lat: np.ndarray,
                              findings: Findings) -> None:
    """Warn about a station within ~30 m of an earlier one with the same or a similar name."""
    candidates = np.flatnonzero(~findings.rejected)
    if len(candidates) < 2:
        return
    tree = cKDTree(unit_vectors(lon[candidates], lat[candidates]))
    pairs = tree.query_pairs(chord_for_distance(DUPLICATE_RADIUS_M), output_type="ndarray")
    if len(pairs) == 0:
        return
    first, second = np.sort(candidates[pairs], axis=1).T
    names = frame["name"].to_numpy()
    ids = frame["id"].to_numpy()
    distances = haversine_m(lon[first], lat[first], lon[second], lat[second])
    for a, b, metres in zip(first.tolist(), second.tolist(), distances.tolist(), strict=True):
        if fuzz.ratio(normalise_label(names[a]), normalise_label(names[b])) < SIMILAR_NAME_SCORE:
            continue
        findings.add([b], "name", lambda _i, a=a, metres=metres: (
            f"可能与{findings.place(a)}（{ids[a]} {names[a]}）是同一驿站，相距 {metres:.0f} 米",
            f"likely the same station as {findings.place(a)} "
            f"({ids[a]} {names[a]}), {metres:.0f} m away"), Severity.WARNING)
