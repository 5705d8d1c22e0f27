"""Validate source rows and turn the good ones into a station frame in WGS84.

Every check runs over whole columns (numpy / pandas, or once per distinct value for the
checks that need a parser), so a national table of 150,000 rows validates in seconds.  A
problem names the file, the row the user sees, the field and what is wrong.  Errors reject the
row; warnings keep it.

Rules, in the order a row meets them:

* required fields (id, name, address, city) are present;
* lon and lat are finite numbers in range; swapped columns and points far outside China are
  reported as such;
* status is one of the known values (English or Chinese);
* opening_hours follows the OpenStreetMap syntax;
* ids are unique across all sources (the first use keeps it);
* amenity labels are known (unknown ones are dropped with a "did you mean" warning);
* phone numbers look like Chinese phone numbers (warning);
* two stations with the same or a similar name within :data:`DUPLICATE_RADIUS_M` metres are
  probably one station entered twice (warning).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from functools import lru_cache

import geopandas as gpd
import numpy as np
import numpy.typing as npt
import opening_hours
import pandas as pd
from rapidfuzz import fuzz, process
from scipy.spatial import cKDTree

from ..crs import outside_china, to_wgs84
from ..geodata import station_frame
from ..index import chord_for_distance, haversine_m, unit_vectors
from ..model import (
    AMENITIES,
    AMENITY_BY_CODE,
    AMENITY_LABEL_INDEX,
    FIELD_LABELS_ZH,
    REQUIRED_FIELDS,
    STATUS_LABELS_ZH,
    TEXT_FIELDS,
    Status,
    normalise_label,
)
from ..phones import phone_looks_right
from .problems import Problem, Severity
from .sources import SourceTable

DUPLICATE_RADIUS_M = 30.0
SIMILAR_NAME_SCORE = 80.0
AMENITY_SUGGESTION_SCORE = 60.0

AMENITY_SEPARATORS = re.compile(r"[、,;，；/|\n]+")
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
# Coordinates typed with a Chinese input method: full-width digits, a degree sign.
_NUMBER_FOLD = str.maketrans("０１２３４５６７８９．－＋", "0123456789.-+", "°")
# Mobile (1xx xxxx xxxx), landline with or without area code, short hotlines (12351).


@dataclass(slots=True)
class ValidationResult:
    """The stations that passed, every problem found, and the row counts."""

    stations: gpd.GeoDataFrame
    problems: list[Problem]
    rows_read: int
    rows_rejected: int

    @property
    def rows_stored(self) -> int:
        return len(self.stations)

    @property
    def errors(self) -> int:
        return sum(p.severity is Severity.ERROR for p in self.problems)

    @property
    def warnings(self) -> int:
        return sum(p.severity is Severity.WARNING for p in self.problems)


@dataclass(slots=True)
class _Findings:
    """Problems collected column by column, turned into :class:`Problem` objects at the end."""

    files: npt.NDArray[np.object_]
    rows: npt.NDArray[np.int64]
    order: npt.NDArray[np.int64]
    rejected: npt.NDArray[np.bool_]
    found: list[tuple[int, int, Problem]] = field(default_factory=list)

    def add(self, where: npt.ArrayLike, name: str, message: Callable[[int], str],
            severity: Severity = Severity.ERROR) -> None:
        """Report ``message(i)`` for every row ``i`` in ``where`` (a mask or positions)."""
        positions = np.asarray(where)
        if positions.dtype == bool:
            positions = np.flatnonzero(positions)
        if severity is Severity.ERROR:
            self.rejected[positions] = True
        for i in positions.tolist():
            problem = Problem(self.files[i], int(self.rows[i]), name, message(i), severity)
            self.found.append((int(self.order[i]), int(self.rows[i]), problem))

    def problems(self) -> list[Problem]:
        return [p for _, _, p in sorted(self.found, key=lambda item: item[:2])]


def validate_tables(tables: Sequence[SourceTable]) -> ValidationResult:
    """Check every row of ``tables`` and return the good rows as a WGS84 station frame."""
    frame = pd.concat([t.frame for t in tables], ignore_index=True) if tables else None
    if frame is None or frame.empty:
        problems = [p for t in tables for p in t.problems]
        return ValidationResult(station_frame({}, [], []), problems, 0, 0)
    n = len(frame)
    source_index = np.repeat(np.arange(len(tables)), [len(t.frame) for t in tables])
    findings = _Findings(
        files=np.array([t.name for t in tables], dtype=object)[source_index],
        rows=np.concatenate([t.rows for t in tables]),
        order=source_index,
        rejected=np.zeros(n, dtype=bool),
    )
    read_failed = _reading_problems(tables, findings)

    for name in REQUIRED_FIELDS:
        findings.add(frame[name].to_numpy() == "", name,
                     lambda _i, name=name: f"missing; every station needs {_field_label(name)}")
    lon, lat = _check_coordinates(frame, findings, skip=read_failed)
    status = _check_status(frame, findings)
    _check_opening_hours(frame, findings)
    _check_duplicate_ids(frame, findings)
    amenity_flags = _check_amenities(frame, findings)
    _check_phones(frame, findings)

    wgs_lon, wgs_lat = _to_wgs84(lon, lat, tables, source_index, ~findings.rejected)
    _check_duplicate_stations(frame, wgs_lon, wgs_lat, findings)

    keep = ~findings.rejected
    columns: dict[str, object] = {name: frame[name].to_numpy()[keep] for name in TEXT_FIELDS}
    columns["status"] = status[keep]
    for amenity, flags in zip(AMENITIES, amenity_flags.T, strict=True):
        columns[amenity.column] = flags[keep]
    stations = station_frame(columns, wgs_lon[keep], wgs_lat[keep])
    return ValidationResult(stations, findings.problems(), n, int(findings.rejected.sum()))


def _field_label(name: str) -> str:
    label = FIELD_LABELS_ZH.get(name)
    return f"{label} ({name})" if label else name


def _reading_problems(tables: Sequence[SourceTable], findings: _Findings) -> np.ndarray:
    """Record problems found while reading (they reject their row); return those rows."""
    failed = np.zeros(len(findings.rows), dtype=bool)
    offset = 0
    for table in tables:
        positions = {int(row): offset + i for i, row in enumerate(table.rows.tolist())}
        for problem in table.problems:
            i = positions[problem.row]
            failed[i] = True
            findings.add([i], problem.field, lambda _i, p=problem: p.message, problem.severity)
        offset += len(table.frame)
    return failed


# --- coordinates ----------------------------------------------------------------------------

def _check_coordinates(
    frame: pd.DataFrame, findings: _Findings, skip: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Parse lon/lat; report missing, non-numeric, non-finite, swapped, out-of-range points."""
    text = {name: frame[name].to_numpy(dtype=object) for name in ("lon", "lat")}
    numbers = {name: _parse_numbers(frame[name]) for name in ("lon", "lat")}
    bad = skip.copy()
    for name in ("lon", "lat"):
        values, raw = numbers[name], text[name]
        empty = (raw == "") & ~skip
        findings.add(empty, name, lambda _i, name=name: f"missing; every station needs a "
                     f"{'longitude (经度)' if name == 'lon' else 'latitude (纬度)'}")
        considered = ~empty & ~skip
        not_number = considered & np.isnan(values) & ~_looks_like_nan(raw)
        findings.add(not_number, name, lambda i, raw=raw: f"{raw[i]!r} is not a number")
        not_finite = considered & ~not_number & ~np.isfinite(values)
        findings.add(not_finite, name, lambda i, raw=raw: f"{raw[i]!r} is not a finite number")
        bad |= empty | ~np.isfinite(values)
    lon, lat = numbers["lon"], numbers["lat"]
    finite = ~bad
    with np.errstate(invalid="ignore"):
        swapped = finite & outside_china(lon, lat) & ~outside_china(lat, lon)
        findings.add(swapped, "lon/lat", lambda i: (
            f"({text['lon'][i]}, {text['lat'][i]}) lies outside China but swapped it lies in "
            "China: the longitude and latitude columns look swapped"))
        checked = finite & ~swapped
        limits = {"lon": (180.0, "longitude"), "lat": (90.0, "latitude")}
        out_of_range = np.zeros(len(lon), dtype=bool)
        for name, (limit, word) in limits.items():
            outside_range = checked & (np.abs(numbers[name]) > limit)
            findings.add(outside_range, name, lambda i, name=name, limit=limit, word=word: (
                f"{text[name][i]} is not a {word} (must be between -{limit:g} and {limit:g})"))
            out_of_range |= outside_range
        far = checked & ~out_of_range & outside_china(lon, lat)
    findings.add(far, "lon/lat", lambda i: (
        f"({text['lon'][i]}, {text['lat'][i]}) is far outside China; check the coordinates "
        "and their order (lon, lat)"))
    return lon, lat


def _parse_numbers(column: pd.Series) -> np.ndarray:
    """Numbers from text, NaN where there is none; full-width digits are tried second."""
    values = pd.to_numeric(column, errors="coerce").to_numpy(dtype=np.float64, copy=True)
    retry = np.isnan(values) & (column.to_numpy() != "")
    if retry.any():
        folded = column[retry].str.translate(_NUMBER_FOLD)
        values[retry] = pd.to_numeric(folded, errors="coerce").to_numpy(dtype=np.float64)
    return values


def _looks_like_nan(raw: np.ndarray) -> np.ndarray:
    """Cells that spell NaN: pandas parses them as missing, the user wrote them as a number."""
    return np.isin(np.char.lower(raw.astype(str)), ("nan", "-nan", "+nan"))


def _to_wgs84(
    lon: np.ndarray, lat: np.ndarray, tables: Sequence[SourceTable],
    source_index: np.ndarray, usable: np.ndarray,
) -> tuple[np.ndarray, np.ndarray]:
    """Convert each source's usable rows from its declared coordinate system to WGS84."""
    out_lon = np.full(len(lon), np.nan)
    out_lat = np.full(len(lat), np.nan)
    for number, table in enumerate(tables):
        rows = usable & (source_index == number)
        out_lon[rows], out_lat[rows] = to_wgs84(lon[rows], lat[rows], table.spec.crs)
    return out_lon, out_lat


# --- values checked once per distinct value ------------------------------------------------

def _per_distinct(column: pd.Series, check: Callable[[str], object]) -> list[object]:
    """``check`` applied to every distinct value, spread back to the rows."""
    codes, uniques = pd.factorize(column, sort=False)
    results = [check(value) for value in uniques]
    return [results[c] for c in codes]


def _check_status(frame: pd.DataFrame, findings: _Findings) -> np.ndarray:
    parsed = _per_distinct(frame["status"], lambda v: _STATUS_ALIASES.get(normalise_label(v)))
    values = np.array([s.value if s else "" for s in parsed], dtype=object)
    allowed = ", ".join(f"{s.value} ({STATUS_LABELS_ZH[s]})" for s in Status)
    raw = frame["status"].to_numpy()
    findings.add(values == "", "status",
                 lambda i: f"{raw[i]!r} is not a status; allowed: {allowed}")
    return values


def opening_hours_problem(value: str) -> str | None:
    """Why ``value`` is not valid OpenStreetMap opening_hours syntax, or None when it is."""
    if value == "" or opening_hours.validate(value):
        return None
    hint = "write e.g. 24/7 or Mo-Fr 08:00-18:00"
    if any(word in value for word in ("24小时", "全天", "24h", "24 小时")):
        hint = "write 24/7 for a station open 24 hours"
    try:
        opening_hours.OpeningHours(value)
    except Exception as exc:  # the parser's own error type varies between versions
        where = re.search(r"-->\s*\d+:(\d+)", str(exc))
        if where:
            hint = f"unexpected text at character {where.group(1)}; {hint}"
    return f"{value!r} is not valid opening_hours syntax ({hint})"


def _check_opening_hours(frame: pd.DataFrame, findings: _Findings) -> None:
    messages = np.array(_per_distinct(frame["opening_hours"], opening_hours_problem),
                        dtype=object)
    findings.add(messages != None, "opening_hours", lambda i: messages[i])  # noqa: E711


def _check_duplicate_ids(frame: pd.DataFrame, findings: _Findings) -> None:
    ids = frame["id"]
    repeated = (ids.duplicated(keep="first") & (ids != "")).to_numpy()
    if not repeated.any():
        return
    first_use = {value: i for i, value in reversed(list(enumerate(ids.tolist())))}
    values = ids.to_numpy()
    findings.add(repeated, "id", lambda i: (
        f"id {values[i]!r} is already used at "
        f"{findings.files[first_use[values[i]]]}:{findings.rows[first_use[values[i]]]}"))


def _check_phones(frame: pd.DataFrame, findings: _Findings) -> None:
    looks_wrong = np.array(_per_distinct(frame["phone"], lambda v: not phone_looks_right(v)),
                           dtype=bool)
    raw = frame["phone"].to_numpy()
    findings.add(looks_wrong, "phone",
                 lambda i: f"{raw[i]!r} does not look like a phone number", Severity.WARNING)


# --- amenities ------------------------------------------------------------------------------

@dataclass(frozen=True, slots=True)
class AmenityCell:
    """What one amenity cell says: the known codes, and the labels that matched nothing."""

    codes: frozenset[str]
    unknown: tuple[str, ...]


def parse_amenities(cell: str) -> AmenityCell:
    """Split an amenity cell on 、 , ; ， ； or spaces and map each label onto the vocabulary.

    A label that contains spaces ("Drinking water") is first tried whole, then word by word.
    """
    codes: set[str] = set()
    unknown: list[str] = []
    for token in AMENITY_SEPARATORS.split(cell):
        token_codes = _label_codes(token)
        if token_codes is None:
            unknown.append(token.strip())
        else:
            codes.update(token_codes)
    return AmenityCell(frozenset(codes), tuple(unknown))


@lru_cache(maxsize=4096)
def _label_codes(token: str) -> tuple[str, ...] | None:
    """The codes one label names (none for a blank label), or None when it is unknown."""
    label = normalise_label(token)
    if not label:
        return ()
    code = AMENITY_LABEL_INDEX.get(label)
    if code:
        return (code,)
    words = [AMENITY_LABEL_INDEX.get(w) for w in label.split(" ")]
    if len(words) > 1 and all(words):
        return tuple(w for w in words if w)
    return None


@lru_cache(maxsize=4096)
def suggest_amenity(label: str) -> str | None:
    """The closest vocabulary entry as ``微波炉 (microwave)``, or None when nothing is close."""
    folded = normalise_label(label)
    choices = list(AMENITY_LABEL_INDEX)
    match = AMENITY_LABEL_INDEX.get(folded.replace(" ", ""))
    if match is None:
        best = process.extractOne(folded, choices, scorer=fuzz.WRatio,
                                  score_cutoff=AMENITY_SUGGESTION_SCORE)
        if best is None:
            return None
        match = AMENITY_LABEL_INDEX[best[0]]
    return f"{AMENITY_BY_CODE[match].label_zh} ({match})"


def unknown_amenity_message(label: str) -> str:
    suggestion = suggest_amenity(label)
    known = "; did you mean " + suggestion + "?" if suggestion else ""
    return f"unknown amenity {label!r} (ignored){known}"


def _check_amenities(frame: pd.DataFrame, findings: _Findings) -> np.ndarray:
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
                              findings: _Findings) -> None:
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
            f"likely the same station as {findings.files[a]}:{findings.rows[a]} "
            f"({ids[a]} {names[a]}), {metres:.0f} m away"), Severity.WARNING)
