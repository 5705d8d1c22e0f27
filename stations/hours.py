"""Is a station open at a given moment?

Stations publish OSM ``opening_hours`` expressions (``24/7``, ``Mo-Fr 08:00-18:00; PH off``)
and a :class:`~stations.model.Status`.  A station is open when its status is ``open`` and its
hours say open at that moment, in China's time zone (Asia/Shanghai) with Chinese public
holidays for ``PH``.  The answer is ``None`` (unknown) when the hours are empty, unparseable or
themselves say ``unknown``: a rider should not be told a station is closed when we do not know.

Tens of thousands of stations share a few hundred distinct expressions, so each distinct
expression is parsed once and evaluated once per moment; ``24/7`` needs no evaluation at all.
"""

from __future__ import annotations

import datetime as dt
import logging
import re
import time
from collections.abc import Callable, Sequence
from functools import lru_cache
from zoneinfo import ZoneInfo

import numpy as np
import numpy.typing as npt
import opening_hours

from .errors import InvalidInput
from .model import TIMEZONE, Status

log = logging.getLogger(__name__)

CHINA = ZoneInfo(TIMEZONE)
ALWAYS_OPEN = "24/7"

# Per-station state codes, so whole tables of answers are small integer arrays.
OPEN, CLOSED, UNKNOWN = 1, 0, -1
_STATE_CODES = {
    opening_hours.State.OPEN: OPEN,
    opening_hours.State.CLOSED: CLOSED,
    opening_hours.State.UNKNOWN: UNKNOWN,
}
# The three answers to "open now?" as the API names them (``open_state``).
OPEN_STATES = {"open": OPEN, "closed": CLOSED, "unknown": UNKNOWN}
STATE_NAMES = {code: name for name, code in OPEN_STATES.items()}


# What "now" is for a query that names no moment.  The default is the wall clock
# (:func:`china_minute`); tests and demos pass :func:`fixed_clock` so answers do not depend on
# the hour they run at.  A naive value is Asia/Shanghai wall-clock time.
Clock = Callable[[], dt.datetime]


def fixed_clock(at: dt.datetime) -> Clock:
    """A clock that always says ``at`` (to the minute): for tests and demos."""
    minute = china_minute(at)
    return lambda: minute


def china_now() -> dt.datetime:
    """The current time in Asia/Shanghai."""
    return dt.datetime.now(CHINA)


def china_minute(at: dt.datetime | None = None) -> dt.datetime:
    """``at`` (default: now) to the minute, as naive Asia/Shanghai wall-clock time.

    Opening hours, and the ETags of answers that say what is open, change by the minute; "now"
    is asked on every request, so it is worked out once a minute.
    """
    if at is not None:
        return china_local(at).replace(second=0, microsecond=0)
    return _minute_starting(int(time.time() // 60))


@lru_cache(maxsize=1)
def _minute_starting(epoch_minute: int) -> dt.datetime:
    return dt.datetime.fromtimestamp(epoch_minute * 60, CHINA).replace(tzinfo=None)


def china_local(at: dt.datetime | None) -> dt.datetime:
    """``at`` as naive Asia/Shanghai wall-clock time (naive input is taken as already local)."""
    if at is None:
        return china_now().replace(tzinfo=None)
    if at.tzinfo is None:
        return at
    try:
        return at.astimezone(CHINA).replace(tzinfo=None)
    except OverflowError:  # hours from year 1 or 9999: the nearest moment datetime can hold
        return dt.datetime.min if at.year == 1 else dt.datetime.max


def parse_moment(text: str, field: str = "at") -> dt.datetime:
    """An ISO 8601 date-time; without an offset it is read as Asia/Shanghai time."""
    try:
        moment = dt.datetime.fromisoformat(text.strip())
    except ValueError:
        raise InvalidInput(field, "must be an ISO 8601 date-time such as "
                           "2024-06-10T12:00:00+08:00", "datetime_parsing", text) from None
    return moment if moment.tzinfo else moment.replace(tzinfo=CHINA)


@lru_cache(maxsize=4096)
def parse_hours(expression: str) -> opening_hours.OpeningHours | None:
    """The parsed expression, or ``None`` when it is empty or not valid OSM syntax."""
    if not expression.strip():
        return None
    try:
        return opening_hours.OpeningHours(expression, country="CN")
    except (SyntaxError, ValueError, opening_hours.ParserError):
        log.warning("cannot parse opening_hours %r; its stations count as unknown", expression)
        return None


def hours_state(expression: str, local: dt.datetime) -> int:
    """OPEN, CLOSED or UNKNOWN for one expression at naive Shanghai time ``local``."""
    if expression.strip() == ALWAYS_OPEN:
        return OPEN
    parsed = parse_hours(expression)
    if parsed is None:
        return UNKNOWN
    try:
        return _STATE_CODES[parsed.state(local)[0]]
    except (ValueError, OverflowError, RuntimeError):
        return UNKNOWN


def is_open(opening_hours_text: str, status: str, at: dt.datetime | None = None) -> bool | None:
    """Whether one station is open at ``at`` (default: now in Shanghai); ``None`` if unknown."""
    if status != Status.OPEN:
        return False
    state = hours_state(opening_hours_text, china_local(at))
    return None if state == UNKNOWN else state == OPEN


class HoursTable:
    """Opening states of many stations at once, parsing each distinct expression once."""

    def __init__(self, expression_codes: npt.ArrayLike, distinct: Sequence[str],
                 status_open: npt.ArrayLike) -> None:
        """``expression_codes[i]`` indexes ``distinct`` for station i; ``status_open[i]`` says
        whether its status is ``open``."""
        self._codes = np.asarray(expression_codes, dtype=np.int32)
        self._distinct = list(distinct)
        self._status_open = np.asarray(status_open, dtype=bool)
        for expression in self._distinct:
            parse_hours(expression)
        # One (minute, states) pair, replaced in one assignment so threads never see a mix.
        self._cache: tuple[dt.datetime, npt.NDArray[np.int8]] | None = None

    @classmethod
    def from_values(cls, expressions: Sequence[str], statuses: Sequence[str]) -> HoursTable:
        code_of: dict[str, int] = {}
        codes = [code_of.setdefault(e, len(code_of)) for e in expressions]
        return cls(codes, list(code_of), [s == Status.OPEN for s in statuses])

    @property
    def distinct_expressions(self) -> int:
        return len(self._distinct)

    def states(self, at: dt.datetime | None = None) -> npt.NDArray[np.int8]:
        """OPEN / CLOSED / UNKNOWN per station at ``at`` (to the minute), status included."""
        local = china_minute(at)
        cache = self._cache
        if cache is not None and cache[0] == local:
            return cache[1]
        per_expression = np.array([hours_state(e, local) for e in self._distinct] or [UNKNOWN],
                                  dtype=np.int8)
        states = np.where(self._status_open, per_expression[self._codes], CLOSED).astype(np.int8)
        self._cache = (local, states)
        return states

    def state_mask(self, allowed: frozenset[int], at: dt.datetime | None = None
                   ) -> npt.NDArray[np.bool_]:
        """True for stations whose state at ``at`` is one of ``allowed``."""
        return np.isin(self.states(at), list(allowed))

    def taken(self, keep: npt.NDArray[np.bool_]) -> HoursTable:
        """A new table of the stations ``keep`` marks (a store's deletions)."""
        return HoursTable(self._codes[keep], self._distinct, self._status_open[keep])

    def with_rows(self, rows: Sequence[int], expressions: Sequence[str],
                  status_open: Sequence[bool]) -> HoursTable:
        """A new table with the stations at ``rows`` given new hours and status; rows past the
        end are stations added at the end (a store's incremental refresh)."""
        size = max(len(self._codes), max(rows, default=-1) + 1)
        extra = size - len(self._codes)
        codes = np.concatenate([self._codes, np.zeros(extra, dtype=np.int32)])
        open_flags = np.concatenate([self._status_open, np.zeros(extra, dtype=bool)])
        distinct = list(self._distinct)
        code_of = {expression: code for code, expression in enumerate(distinct)}
        for row, expression, is_open in zip(rows, expressions, status_open, strict=True):
            if expression not in code_of:
                code_of[expression] = len(distinct)
                distinct.append(expression)
            codes[row] = code_of[expression]
            open_flags[row] = is_open
        return HoursTable(codes, distinct, open_flags)


# --- hours in words, for riders -----------------------------------------------------------

_MONTH = r"(?:Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec)"
_WEEKDAY = r"(?:Mo|Tu|We|Th|Fr|Sa|Su)"
_TIME_SPAN = r"\d\d:\d\d-\d\d:\d\d"
_DESCRIBABLE_RULE = re.compile(
    rf"(?:(?P<months>{_MONTH}(?:-{_MONTH})?) )?"
    rf"(?:(?P<days>PH|{_WEEKDAY}(?:-{_WEEKDAY})?(?:,{_WEEKDAY}(?:-{_WEEKDAY})?)*(?:,PH)?) ?)?"
    rf"(?P<what>{_TIME_SPAN}(?:,{_TIME_SPAN})*|off|closed|unknown)?")
_MONTH_NAMES = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")
_DAY_WORDS = {"Mo": ("周一", "Mon"), "Tu": ("周二", "Tue"), "We": ("周三", "Wed"),
              "Th": ("周四", "Thu"), "Fr": ("周五", "Fri"), "Sa": ("周六", "Sat"),
              "Su": ("周日", "Sun"), "PH": ("法定节假日", "public holidays")}
_UNKNOWN_WORDS = {"zh": "开放时间未知", "en": "Hours unknown"}


@lru_cache(maxsize=4096)
def describe_hours(osm: str | None, lang: str) -> str:
    """An OSM ``opening_hours`` expression in words for riders, in ``lang`` ("zh" or "en").

    ``24/7`` -> 24小时开放 / Open 24 hours; ``Mo-Fr 08:00-18:00`` -> 周一至周五 08:00–18:00 /
    Mon–Fri 08:00–18:00; ``05:00-23:00`` -> 每天 05:00–23:00 / Daily 05:00–23:00.  Rules too
    complex to put in words (week numbers, dates, sunrise, comments) come back as the
    expression itself after 开放时间： / Opening hours:, and empty or invalid hours as
    开放时间未知 / Hours unknown.
    """
    if lang not in _UNKNOWN_WORDS:
        raise ValueError(f"lang must be 'zh' or 'en', not {lang!r}")
    text = (osm or "").strip()
    if not text or text == "unknown" or parse_hours(text) is None:
        return _UNKNOWN_WORDS[lang]
    rules = [rule.strip() for rule in text.split(";") if rule.strip()]
    words = [_rule_words(rule, lang == "zh") for rule in rules]
    if any(w is None for w in words):
        return f"开放时间：{text}" if lang == "zh" else f"Opening hours: {text}"
    if lang == "zh":
        return "；".join(w for w in words if w)
    described = "; ".join(w for w in words if w)
    return described[:1].upper() + described[1:]


def hours_for_riders(osm: str, recorded: str, lang: str) -> str:
    """The hours as riders read them: the OSM hours in words, or, when the office's own text
    could not be turned into OSM hours, that text as recorded (a person reads 工作日白天 where
    a program cannot)."""
    if not osm.strip() and recorded.strip():
        return recorded.strip() if lang == "zh" else f"As recorded: {recorded.strip()}"
    return describe_hours(osm, lang)


def _rule_words(rule: str, zh: bool) -> str | None:
    if rule == ALWAYS_OPEN:
        return "24小时开放" if zh else "open 24 hours"
    match = _DESCRIBABLE_RULE.fullmatch(rule)
    if match is None or not (match["what"] or match["days"]):
        return None
    months, days, what = match["months"], match["days"], match["what"] or "open"
    when = []
    if months:
        when.append(_months_words(months, zh))
    if days == "PH":
        when.append("法定节假日" if zh else "on public holidays")
    elif days and days != "Mo-Su":
        when.append(_days_words(days, zh))
    elif not months:
        when.append("每天" if zh else "daily")
    if what in ("off", "closed"):
        return "".join(when) + "休息" if zh else "closed " + " ".join(when)
    if what == "unknown":
        return " ".join(when) + (" 时间未知" if zh else " hours unknown")
    if what in ("open", "00:00-24:00"):
        return " ".join([*when, "24小时" if zh else "24 hours"])
    spans = [span.replace("-", "–") for span in what.split(",")]
    return " ".join([*when, ("、" if zh else ", ").join(spans)])


def _months_words(months: str, zh: bool) -> str:
    ends = months.split("-")
    if zh:
        return "至".join(f"{_MONTH_NAMES.index(m) + 1}月" for m in ends)
    return "–".join(ends)


def _days_words(days: str, zh: bool) -> str:
    parts = []
    for part in days.split(","):
        ends = [_DAY_WORDS[d][0 if zh else 1] for d in part.split("-")]
        parts.append(("至" if zh else "–").join(ends))
    return ("、" if zh else ", ").join(parts)
