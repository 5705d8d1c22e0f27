"""Opening hours as office sheets write them (``24小时``, ``周一至周五 9:00-17:00``) to OSM.

Offices write hours for people, not parsers.  The text is read as a short sequence of known
pieces (seasons, month ranges, day selectors, time ranges, "24 hours", "closed on holidays",
"temporarily closed") and rebuilt as an OSM ``opening_hours`` expression.  A cell with any
piece that is not understood gives no expression at all, with a warning: hours are never
guessed, and a station is never rejected for its hours.

Conventions that the text cannot settle alone, each stated in the note it produces:

* 工作日 (working days) is ``Mo-Fr`` with public holidays off (``PH off``).
* 夏季/冬季 without months: summer is May-September, winter October-April (the split most
  Chinese offices use for 夏季/冬季作息时间); a season without months next to one with months
  takes the rest of the year.
* A range whose end is earlier than its start, both before noon and without 上午/下午
  (``8:30-5:30``), ends in the afternoon; a late start (``22:00-6:00``) runs overnight.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field
from functools import lru_cache

import opening_hours

from stations.model import Status

__all__ = ["ParsedHours", "normalise_hours"]

MAX_LENGTH = 200
DAY_CODES = ("Mo", "Tu", "We", "Th", "Fr", "Sa", "Su")
MONTH_CODES = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")
ALL_DAYS = frozenset(range(7))
PUBLIC_HOLIDAYS = 7  # a day number beside Monday (0) to Sunday (6): OSM's PH
WEEKEND = frozenset({5, 6})
WORKDAYS = frozenset(range(5))
FULL_DAY = (0, 24 * 60)
SEASON_DEFAULT = {"summer": (5, 9), "winter": (10, 4)}
SEASON_ZH = {"summer": "夏季", "winter": "冬季"}


@dataclass(frozen=True, slots=True)
class ParsedHours:
    """What a sheet's hours cell says, for the import report and the station record.

    ``osm`` is a valid OSM ``opening_hours`` expression, or ``None`` when the hours are not
    known.  ``status`` is :attr:`Status.TEMPORARILY_CLOSED` when the cell says the station is
    closed for now (暂停开放), else ``None``.  The notes say what was normalised or why the
    hours are unknown; ``warning`` is true when the office should look at the cell again.
    """

    osm: str | None
    status: Status | None
    note_zh: str
    note_en: str
    warning: bool


@lru_cache(maxsize=8192)
def _normalise_text(text: str) -> ParsedHours:
    shown = text if len(text) <= 40 else text[:40] + "…"
    if len(text) > MAX_LENGTH:
        return _unknown(shown, f"超过 {MAX_LENGTH} 字", f"longer than {MAX_LENGTH} characters")
    reading = _Reading.of(text)
    if reading.failed_at is None and (reading.osm or reading.status):
        return _understood(shown, reading)
    if _looks_like_osm(text):
        return ParsedHours(text, None, f"“{shown}”已是 OSM 格式，原样保留",
                           f"{shown!r} is already OSM opening_hours; kept as is", False)
    if reading.failed_at is not None:
        return _unknown(shown, f"无法识别“{reading.failed_at}”",
                        f"did not understand {reading.failed_at!r}")
    return _unknown(shown, "缺少具体时间", "no times given")


def normalise_hours(value: object) -> ParsedHours:
    """Read one hours cell (any value: str, None, NaN, a number); never raises.

    Examples: ``24小时`` -> ``24/7``; ``周一至周五 9:00-17:00`` -> ``Mo-Fr 09:00-17:00``;
    ``暂停开放`` -> no hours, status temporarily closed; ``有人就开`` -> no hours, a warning.
    """
    missing = value is None or (isinstance(value, float) and value != value)
    text = "" if missing else str(value).strip()
    if not text:
        return ParsedHours(None, None, "未填写开放时间", "no opening hours given", False)
    return _normalise_text(text)


def _unknown(shown: str, why_zh: str, why_en: str) -> ParsedHours:
    return ParsedHours(None, None, f"开放时间“{shown}”{why_zh}，按未知处理",
                       f"opening hours {shown!r}: {why_en}; kept as unknown", True)


def _understood(shown: str, reading: _Reading) -> ParsedHours:
    zh: list[str] = []
    en: list[str] = []
    if reading.osm:
        zh.append(f"规范为 {reading.osm}")
        en.append(f"normalised to {reading.osm}")
    if reading.status:
        zh.append("站点状态记为暂停开放")
        en.append("station marked temporarily closed")
    zh += [remark for remark, _ in reading.remarks]
    en += [remark for _, remark in reading.remarks]
    return ParsedHours(reading.osm, reading.status, f"“{shown}”：" + "；".join(zh),
                       f"{shown!r}: " + "; ".join(en), False)


def _looks_like_osm(text: str) -> bool:
    """OSM syntax beyond plain times (those the reader above checks), e.g. ``Mo-Fr 08:00-18:00``."""
    unquoted = re.sub(r'"[^"]*"', "", text)
    if not unquoted.isascii() or not re.search(r"[A-Za-z]", unquoted):
        return False
    return _valid_osm(text)


def _valid_osm(expression: str) -> bool:
    try:
        return bool(opening_hours.validate(expression))
    except Exception:  # the Rust parser's error types vary between releases
        return False


# --- reading the text -------------------------------------------------------------------

_DASHES = str.maketrans({c: "-" for c in "—–―‐‑‒−~〜～_"})
_DAY_NUMBERS = {"一": 0, "二": 1, "三": 2, "四": 3, "五": 4, "六": 5, "日": 6, "天": 6, "七": 6}
_DAY = r"(?:周|星期|礼拜)"
_DAYNUM = r"([一二三四五六日天七])"

_STATUS = re.compile(r"暂停(?:开放|服务|使用|营业)?|暂时(?:关闭|停用|停止开放)|临时关闭|"
                     r"装修中?|停用")
_PH_OFF = re.compile(r"(?:法定)?(?:节假日|节日|假日|假期|公休日)(?:期间)?"
                     r"(?:休息|闭馆|闭站|不开放|关闭|除外|不营业|休)")
_PH_OPEN = re.compile(r"(?:含|包括)?(?:法定)?(?:节假日|节日|假日)(?:照常|正常|均|也)?"
                      r"(?:开放|营业|不休息?|无休)")
_PH_DAYS = re.compile(r"(?:法定)?(?:节假日|节日|假日)")
_ALL_DAY = re.compile(r"7[x×*/]24(?:小时|h)?|24/7|24(?:小时|h|hours?)|全天候?|全日|通宵", re.I)
_SEASON = re.compile(r"(夏|冬)(?:季|令时?|天)(?:作息)?")
_MONTHS = re.compile(r"(\d{1,2})月?(?:(\d{1,2})日)?(?:-|至|到)(\d{1,2})月(?:(\d{1,2})日)?(?:份)?")
_WEEKEND = re.compile(r"周末|双休日|周六日|周六周日|星期六日|星期六星期日")
_EVERY_DAY = re.compile(r"每天|每日|天天|全年无休|全周|一周七天|7天")
_WORKDAY = re.compile(r"工作日")
_DAYS = re.compile(rf"(?:每周|每星期)?{_DAY}{_DAYNUM}(?:(?:-|至|到){_DAY}?{_DAYNUM})?")
_OFF = re.compile(r"休息|闭馆|闭站|关闭|不开放|歇业|休馆|不营业|休")
_BREAK = re.compile(r"午休|(?:中午|午间)休息")
_TIME = re.compile(r"(凌晨|早上|早晨|早|上午|中午|下午|傍晚|晚上|晚)?(\d{1,2})"
                   r"(?:[:.](\d{2})(?!\d)|[点时](?:(\d{1,2})分?|(半)|整)?)?(?!\d)")
_RANGE_SEPARATOR = re.compile(r"\s*(?:-|至|到)\s*")
_FILLER = re.compile(r"(?:开放|营业|服务|办公|工作|上班)(?:时间|时段)?|对外|时间|全年|均|都|照常|"
                     r"正常|为|从|起|每周|开始|结束|止|左右")
_SEPARATORS = " \t\r\n,;、。:()[]【】<>《》/|&+和及或\"'“”‘’"

_LIST_SEPARATORS = "、/&+和及"
_AFTERNOON = {"下午", "傍晚", "晚上", "晚"}


@dataclass
class _Rule:
    months: tuple[int, int, int | None, int | None] | None = None
    season: str | None = None
    days: frozenset[int] | None = None
    ranges: list[tuple[int, int]] = field(default_factory=list)
    breaks: list[tuple[int, int]] = field(default_factory=list)
    off: bool = False

    @property
    def empty(self) -> bool:
        return not (self.ranges or self.breaks or self.off or self.days is not None)


@dataclass
class _Reading:
    """The text read piece by piece into rules; ``failed_at`` names the first piece not known."""

    rules: list[_Rule] = field(default_factory=list)
    status: Status | None = None
    public_holidays_off: bool = False
    remarks: list[tuple[str, str]] = field(default_factory=list)
    failed_at: str | None = None
    osm: str | None = None
    break_pending: bool = False
    gap: str = ""  # the separators before the piece being read

    @classmethod
    def of(cls, text: str) -> _Reading:
        reading = cls()
        reading._read(unicodedata.normalize("NFKC", text).translate(_DASHES))
        if reading.failed_at is None:
            reading._finish()
        return reading

    @property
    def rule(self) -> _Rule:
        return self.rules[-1]

    def _remark(self, zh: str, en: str) -> None:
        if (zh, en) not in self.remarks:
            self.remarks.append((zh, en))

    def _new_rule(self, keep_season: bool) -> None:
        season = (self.rule.months, self.rule.season) if keep_season else (None, None)
        if self.rules and self.rule.empty and self.rule.months is None and self.rule.season is None:
            self.rules.pop()
        self.rules.append(_Rule(months=season[0], season=season[1]))

    def _read(self, text: str) -> None:
        self.rules.append(_Rule())
        pos = gap_start = 0
        while pos < len(text):
            if text[pos] in _SEPARATORS:
                pos += 1
                continue
            self.gap, gap_start = text[gap_start:pos], pos
            end = self._piece(text, pos)
            if end is None:
                self.failed_at = text[pos:pos + 12]
                return
            pos = gap_start = end

    def _piece(self, text: str, pos: int) -> int | None:
        """Read the piece that starts at ``pos``; its end, or None when nothing fits."""
        if m := _STATUS.match(text, pos):
            self.status = Status.TEMPORARILY_CLOSED
        elif m := _PH_OFF.match(text, pos):
            self.public_holidays_off = True
            if self.rule.days is not None and not self.rule.ranges:
                self.rule.off = True  # 周末及节假日休息
        elif m := _PH_OPEN.match(text, pos):
            self._remark("节假日照常开放", "open on public holidays as on other days")
        elif m := _PH_DAYS.match(text, pos):
            self._add_days(frozenset({PUBLIC_HOLIDAYS}))
        elif m := _ALL_DAY.match(text, pos):
            self._add_range(FULL_DAY)
        elif m := _SEASON.match(text, pos):
            self._new_rule(keep_season=False)
            self.rule.season = "summer" if m.group(1) == "夏" else "winter"
        elif m := _MONTHS.match(text, pos):
            if not self._set_months(m):
                return None
        elif m := _BREAK.match(text, pos):
            if not self._start_break(text, m.end()):
                return None
        elif m := _WEEKEND.match(text, pos):
            self._add_days(WEEKEND)
        elif m := _EVERY_DAY.match(text, pos):
            self._add_days(ALL_DAYS)
        elif m := _WORKDAY.match(text, pos):
            self._add_days(WORKDAYS)
            self.public_holidays_off = True
            self._remark("工作日按周一至周五、法定节假日休息计",
                         "working days read as Monday to Friday, closed on public holidays")
        elif m := _DAYS.match(text, pos):
            self._add_days(_day_span(m.group(1), m.group(2)))
        elif m := _OFF.match(text, pos):
            if self.rule.days is None or self.rule.ranges:
                return None
            self.rule.off = True
        else:
            return self._time_range(text, pos) or (
                m.end() if (m := _FILLER.match(text, pos)) else None)
        return m.end()

    def _set_months(self, m: re.Match[str]) -> bool:
        first, last = int(m.group(1)), int(m.group(3))
        first_day = int(m.group(2)) if m.group(2) else None
        last_day = int(m.group(4)) if m.group(4) else None
        if not (1 <= first <= 12 and 1 <= last <= 12):
            return False
        if any(d is not None and not 1 <= d <= 31 for d in (first_day, last_day)):
            return False
        if (first_day is None) != (last_day is None):
            return False
        if self.rule.months is not None or self.rule.ranges or self.rule.days is not None:
            self._new_rule(keep_season=False)
        self.rule.months = (first, last, first_day, last_day)
        return True

    def _add_days(self, days: frozenset[int]) -> None:
        """Days join the days before them only in a list (周一、周三); else they start a rule."""
        listed = self.gap != "" and all(c in _LIST_SEPARATORS for c in self.gap)
        if self.rule.ranges or self.rule.off or (self.rule.days is not None and not listed):
            self._new_rule(keep_season=True)
        self.rule.days = days if self.rule.days is None else self.rule.days | days

    def _add_range(self, span: tuple[int, int]) -> None:
        if self.rule.off:
            self._new_rule(keep_season=True)
        if self.break_pending:
            self.rule.breaks.append(span)
            self.break_pending = False
        elif span not in self.rule.ranges:  # 全天24小时
            self.rule.ranges.append(span)

    def _start_break(self, text: str, after: int) -> bool:
        """午休 names a break: the time range right after it, or else the one just before."""
        while after < len(text) and text[after] in _SEPARATORS:
            after += 1
        if _match_range(text, after) is not None:
            self.break_pending = True
        elif self.rule.ranges:
            self.rule.breaks.append(self.rule.ranges.pop())
        else:
            return False
        return True

    def _time_range(self, text: str, pos: int) -> int | None:
        found = _match_range(text, pos)
        if found is None:
            return None
        end, span, read_as_pm = found
        if read_as_pm:
            self._remark("结束时间按下午理解", "an end time earlier than the start read as pm")
        self._add_range(span)
        return end

    def _finish(self) -> None:
        if self.break_pending:
            self.failed_at = "午休"
            return
        rules = _days_after_times([rule for rule in self.rules if not rule.empty])
        if any(not (rule.ranges or rule.off) for rule in rules):
            return  # days without times: not enough to say when it is open
        self._place_seasons(rules)
        parts = []
        # In OSM a later rule overrides an earlier one on the days both name: closures last.
        for rule in sorted(rules, key=lambda rule: rule.off):
            part = _rule_expression(rule)
            if part is None:
                self.failed_at = "午休"
                return
            parts.append(part)
        seasons = {rule.season: rule.months for rule in rules if rule.season}
        if len(seasons) == 1 and (months := next(iter(seasons.values()))) and months[2] is None:
            parts.append(f"{_month_selector(_other_months(months))} unknown")
            self._remark("另一季未写时间，按未知处理", "the other season has no hours: unknown")
        if self.public_holidays_off and parts:
            parts.append("PH off")
        expression = "; ".join(parts)
        if expression and not _valid_osm(expression):
            self.failed_at = expression
            return
        self.osm = expression or None

    def _place_seasons(self, rules: list[_Rule]) -> None:
        """Give 夏季/冬季 without months their months (see the module docstring)."""
        named = {rule.season: rule.months for rule in rules if rule.season and rule.months}
        for rule in rules:
            if rule.season is None or rule.months is not None:
                continue
            other = "winter" if rule.season == "summer" else "summer"
            if other in named and named[other] is not None and named[other][2] is None:
                rule.months = _other_months(named[other])
                self._remark(f"{SEASON_ZH[rule.season]}未注明月份，取另一季以外的月份",
                             f"{rule.season} without months takes the other months of the year")
            else:
                first, last = SEASON_DEFAULT[rule.season]
                rule.months = (first, last, None, None)
                self._remark(f"{SEASON_ZH[rule.season]}未注明月份，按{first}月至{last}月计",
                             f"{rule.season} without months read as "
                             f"{MONTH_CODES[first - 1]}-{MONTH_CODES[last - 1]}")


def _days_after_times(rules: list[_Rule]) -> list[_Rule]:
    """``8:00-18:00（周一至周五）``: days written after the times they qualify."""
    merged: list[_Rule] = []
    for rule in rules:
        before = merged[-1] if merged else None
        if (before is not None and rule.days is not None and not (rule.ranges or rule.off)
                and before.ranges and before.days is None and before.months == rule.months):
            before.days = rule.days
        else:
            merged.append(rule)
    return merged


def _other_months(months: tuple[int, int, int | None, int | None]
                  ) -> tuple[int, int, int | None, int | None]:
    """The months of the year outside ``months`` (May-Sep -> Oct-Apr)."""
    first, last = months[:2]
    return (last % 12 + 1, (first - 2) % 12 + 1, None, None)


def _match_range(text: str, pos: int) -> tuple[int, tuple[int, int], bool] | None:
    """A time range at ``pos``: its end, its minutes, and whether its end was read as pm."""
    start = _TIME.match(text, pos)
    separator = _RANGE_SEPARATOR.match(text, start.end()) if start else None
    end = _TIME.match(text, separator.end()) if separator else None
    if not (start and end):
        return None
    first, last = _minutes(start), _minutes(end)
    if first is None or last is None or first >= 24 * 60:
        return None
    read_as_pm = False
    if end.group(1) is None and last < 12 * 60 and last + 12 * 60 > first:
        if start.group(1) in _AFTERNOON:
            last += 12 * 60  # 下午2:00-6:00
        elif start.group(1) is None and last <= first < 12 * 60:
            last += 12 * 60  # 8:30-5:30
            read_as_pm = True
    if last == first or last > 24 * 60:
        return None
    return end.end(), (first, last), read_as_pm


def _day_span(first: str, last: str | None) -> frozenset[int]:
    a = _DAY_NUMBERS[first]
    b = _DAY_NUMBERS[last] if last else a
    return frozenset(range(a, b + 1)) if a <= b else frozenset([*range(a, 7), *range(b + 1)])


def _minutes(m: re.Match[str]) -> int | None:
    prefix, hours = m.group(1), int(m.group(2))
    minutes = int(m.group(3) or m.group(4) or 0) + (30 if m.group(5) else 0)
    if (prefix in _AFTERNOON and hours < 12) or (prefix == "中午" and hours < 3):
        hours += 12
    elif prefix in _AFTERNOON and hours == 12 and prefix != "下午":
        hours = 24  # 晚12点: midnight
    elif prefix == "凌晨" and hours == 12:
        hours = 0
    if minutes > 59 or hours > 24 or (hours == 24 and minutes):
        return None
    return hours * 60 + minutes


def _clock(minutes: int) -> str:
    return f"{minutes // 60:02d}:{minutes % 60:02d}"


def _without_breaks(rule: _Rule) -> list[tuple[int, int]] | None:
    ranges = sorted(rule.ranges)
    for first, last in rule.breaks:
        holder = next((r for r in ranges if r[0] < first and last < r[1]), None)
        if holder is None:
            return None
        ranges.remove(holder)
        ranges += [(holder[0], first), (last, holder[1])]
        ranges.sort()
    return ranges


def _rule_expression(rule: _Rule) -> str | None:
    selectors = []
    if rule.months is not None:
        selectors.append(_month_selector(rule.months))
    if rule.days is not None and rule.days != ALL_DAYS:
        selectors.append(_day_selector(rule.days))
    if rule.off:
        return " ".join([*selectors, "off"])
    ranges = _without_breaks(rule)
    if ranges is None:
        return None
    if ranges == [FULL_DAY] and not selectors:
        return "24/7"
    times = ",".join(f"{_clock(a)}-{_clock(b)}" for a, b in ranges)
    return " ".join([*selectors, times])


def _month_selector(months: tuple[int, int, int | None, int | None]) -> str:
    first, last, first_day, last_day = months
    if first_day is None or last_day is None:
        return MONTH_CODES[first - 1] if first == last else \
            f"{MONTH_CODES[first - 1]}-{MONTH_CODES[last - 1]}"
    return f"{MONTH_CODES[first - 1]}{first_day:02d}-{MONTH_CODES[last - 1]}{last_day:02d}"


def _day_selector(days: frozenset[int]) -> str:
    """OSM weekdays for a set of day numbers (0 = Monday, 7 = public holidays): runs of three
    or more as ranges."""
    parts, run = [], []
    for day in [*sorted(days - {PUBLIC_HOLIDAYS}), None]:
        if day is not None and (not run or day == run[-1] + 1):
            run.append(day)
            continue
        if len(run) >= 3:
            parts.append(f"{DAY_CODES[run[0]]}-{DAY_CODES[run[-1]]}")
        else:
            parts += [DAY_CODES[d] for d in run]
        run = [day] if day is not None else []
    return ",".join([*parts, "PH"] if PUBLIC_HOLIDAYS in days else parts)
