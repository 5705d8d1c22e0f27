"""Opening hours are evaluated in Shanghai time, with status and unknowns respected."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pytest

from stations import hours
from stations.errors import InvalidInput
from stations.hours import (
    CLOSED,
    OPEN,
    UNKNOWN,
    HoursTable,
    china_local,
    china_minute,
    fixed_clock,
    is_open,
    parse_moment,
)

MONDAY_NOON_CHINA = dt.datetime(2024, 6, 10, 12, 0, tzinfo=dt.timezone(dt.timedelta(hours=8)))


def test_weekday_hours():
    assert is_open("Mo-Fr 08:00-18:00", "open", MONDAY_NOON_CHINA) is True
    saturday = MONDAY_NOON_CHINA + dt.timedelta(days=5)
    assert is_open("Mo-Fr 08:00-18:00", "open", saturday) is False


def test_time_is_converted_to_shanghai():
    # 02:00 UTC is 10:00 in Shanghai (open); 12:00 UTC is 20:00 in Shanghai (closed).
    assert is_open("08:00-18:00", "open", dt.datetime(2024, 6, 10, 2, tzinfo=dt.UTC)) is True
    assert is_open("08:00-18:00", "open", dt.datetime(2024, 6, 10, 12, tzinfo=dt.UTC)) is False


def test_status_overrides_hours():
    assert is_open("24/7", "temporarily_closed", MONDAY_NOON_CHINA) is False
    assert is_open("24/7", "closed", MONDAY_NOON_CHINA) is False
    assert is_open("24/7", "open", MONDAY_NOON_CHINA) is True


def test_unknown_hours_are_not_reported_closed():
    assert is_open("", "open", MONDAY_NOON_CHINA) is None
    assert is_open("whenever the warden is in", "open", MONDAY_NOON_CHINA) is None
    assert is_open("Mo-Fr 08:00-18:00 unknown", "open", MONDAY_NOON_CHINA) is None


def test_chinese_public_holidays():
    national_day = dt.datetime(2024, 10, 1, 12, 0)  # a Tuesday, a public holiday
    assert is_open("Mo-Fr 08:00-18:00", "open", national_day) is True
    assert is_open("Mo-Fr 08:00-18:00; PH off", "open", national_day) is False


def test_table_parses_each_expression_once_and_matches_single_answers():
    expressions = ["24/7", "Mo-Fr 08:00-18:00", "24/7", "", "06:00-22:00", "Mo-Fr 08:00-18:00"]
    statuses = ["open", "open", "temporarily_closed", "open", "open", "open"]
    table = HoursTable.from_values(expressions, statuses)
    assert table.distinct_expressions == 4
    for moment in (MONDAY_NOON_CHINA, MONDAY_NOON_CHINA + dt.timedelta(hours=11)):
        states = table.states(moment)
        expected = [is_open(e, s, moment) for e, s in zip(expressions, statuses, strict=True)]
        assert [{OPEN: True, CLOSED: False, UNKNOWN: None}[int(x)] for x in states] == expected
    late = table.state_mask(frozenset({OPEN}), MONDAY_NOON_CHINA + dt.timedelta(hours=11))
    assert late.tolist() == [True, False, False, False, False, False]
    assert np.array_equal(table.states(MONDAY_NOON_CHINA), table.states(MONDAY_NOON_CHINA))


def test_parse_moment():
    assert parse_moment("2024-06-10T12:00:00+08:00") == MONDAY_NOON_CHINA
    assert china_local(parse_moment("2024-06-10T12:00")) == dt.datetime(2024, 6, 10, 12)
    with pytest.raises(InvalidInput) as caught:
        parse_moment("noon", field="at")
    assert caught.value.field == "at"


def test_china_minute_is_shanghai_wall_clock_to_the_minute(monkeypatch):
    # The system clock is set by hand: 2024-06-10 04:07:42 UTC is 12:07 in Shanghai.
    monday_0407_utc = dt.datetime(2024, 6, 10, 4, 7, 42, tzinfo=dt.UTC).timestamp()
    monkeypatch.setattr(hours.time, "time", lambda: monday_0407_utc)
    assert china_minute() == dt.datetime(2024, 6, 10, 12, 7)
    assert fixed_clock(MONDAY_NOON_CHINA.replace(second=9))() == dt.datetime(2024, 6, 10, 12, 0)
    assert china_minute(MONDAY_NOON_CHINA.replace(minute=7, second=42)) == dt.datetime(
        2024, 6, 10, 12, 7)
