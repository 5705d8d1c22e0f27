"""Chinese hours cells become valid OSM opening_hours, or unknown with a warning; never an error."""

from __future__ import annotations

import opening_hours
import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from stations.ingest.hours_zh import normalise_hours
from stations.model import Status

# What office sheets write -> the OSM expression (each checked by hand against the text).
UNDERSTOOD = [
    ("24小时", "24/7"),
    ("全天", "24/7"),
    ("全天候开放", "24/7"),
    ("7×24小时", "24/7"),
    ("7*24", "24/7"),
    ("7x24小时服务", "24/7"),
    ("7X24", "24/7"),
    ("00:00-24:00", "24/7"),
    ("0:00—24:00", "24/7"),
    ("8:00-18:00", "08:00-18:00"),
    ("8：00—18：00", "08:00-18:00"),
    ("８：００～１８：００", "08:00-18:00"),
    ("8:00～18:00", "08:00-18:00"),
    ("8:00 - 18:00", "08:00-18:00"),
    ("8:00至18:00", "08:00-18:00"),
    ("8点到18点", "08:00-18:00"),
    ("8.30-17.30", "08:30-17:30"),
    ("早8点至晚6点", "08:00-18:00"),
    ("早上8点半至晚上9点", "08:30-21:00"),
    ("下午2点-6点", "14:00-18:00"),
    ("晚上10点-早上6点", "22:00-06:00"),
    ("22:00-06:00", "22:00-06:00"),
    ("上午8:30-12:00 下午14:00-18:00", "08:30-12:00,14:00-18:00"),
    ("上午8:30-12:00，下午2:30-5:30", "08:30-12:00,14:30-17:30"),
    ("8:00-18:00（午休12:00-14:00）", "08:00-12:00,14:00-18:00"),
    ("周一至周五 9:00-17:00", "Mo-Fr 09:00-17:00"),
    ("星期一到星期五9:00-17:00", "Mo-Fr 09:00-17:00"),
    ("周一至五 9:00-17:00", "Mo-Fr 09:00-17:00"),
    ("工作日 9:00-17:00", "Mo-Fr 09:00-17:00; PH off"),
    ("周一至周日 8:00-18:00", "08:00-18:00"),
    ("每天 5:00-23:00", "05:00-23:00"),
    ("全年无休 8:00-22:00", "08:00-22:00"),
    ("周一、周三、周五 9:00-12:00", "Mo,We,Fr 09:00-12:00"),
    ("周六日 9-17", "Sa,Su 09:00-17:00"),
    ("周一至周五 9:00-17:00，周末休息", "Mo-Fr 09:00-17:00; Sa,Su off"),
    ("周一至周五8:00-18:00；周六9:00-12:00", "Mo-Fr 08:00-18:00; Sa 09:00-12:00"),
    ("周一至周五24小时", "Mo-Fr 00:00-24:00"),
    ("开放时间：周一至周五8:00-12:00,14:30-17:30",
     "Mo-Fr 08:00-12:00,14:30-17:30"),
    ("24小时，节假日休息", "24/7; PH off"),
    ("周一至周五 9:00-17:00（法定节假日休息）", "Mo-Fr 09:00-17:00; PH off"),
    ("8:00-20:00，节假日照常开放", "08:00-20:00"),
    ("夏季(5月-9月)7:00-19:00，冬季8:00-18:00", "May-Sep 07:00-19:00; Oct-Apr 08:00-18:00"),
    ("夏季（5月-9月）7:00-19:00；冬季（10月-4月）8:00-18:00",
     "May-Sep 07:00-19:00; Oct-Apr 08:00-18:00"),
    ("夏季7:00-19:00，冬季8:00-18:00", "May-Sep 07:00-19:00; Oct-Apr 08:00-18:00"),
    ("夏令时8:00-18:00", "May-Sep 08:00-18:00; Oct-Apr unknown"),
    ("5月1日-9月30日 7:00-19:00", "May01-Sep30 07:00-19:00"),
    ("9:00-17:00(周一至周五)", "Mo-Fr 09:00-17:00"),
    ("9:00-21:00（全年无休）", "09:00-21:00"),
    ("8:00-18:00 周一至周五 周六休息", "Mo-Fr 08:00-18:00; Sa off"),
    ("8:00-18:00（周末及节假日休息）", "08:00-18:00; Sa,Su off; PH off"),
    ("24小时开放（节假日无休）", "24/7"),
    ("周六和周日 9-17", "Sa,Su 09:00-17:00"),
    ("周一至周五上午8:30-12:00，下午14:30-17:30", "Mo-Fr 08:30-12:00,14:30-17:30"),
    ("周一至周五8:00-18:00，周六、周日及节假日9:00-17:00",
     "Mo-Fr 08:00-18:00; Sa,Su,PH 09:00-17:00"),
    ("晚上10点至凌晨2点", "22:00-02:00"),
    ("全天24小时", "24/7"),
    ("Mo-Fr 08:00-18:00; PH off", "Mo-Fr 08:00-18:00; PH off"),
    ("24/7", "24/7"),
    ('Mo-Fr 08:00-18:00 "午休"', 'Mo-Fr 08:00-18:00 "午休"'),
]


@pytest.mark.parametrize(("text", "osm"), UNDERSTOOD)
def test_office_hours_become_osm(text, osm):
    parsed = normalise_hours(text)
    assert parsed.osm == osm
    assert parsed.status is None
    assert not parsed.warning
    assert opening_hours.validate(parsed.osm)
    assert (osm in parsed.note_zh and osm in parsed.note_en) or "OSM" in parsed.note_zh


@pytest.mark.parametrize("text", ["有人就开", "周一至周五", "看情况", "2024", "0771-1234567",
                                  "8:00", "25:00-26:00", "18:00-18:00", "周末休息 8:00-18:00 午休",
                                  "随到随开，电话联系", "周一至周五，周六 9-12",
                                  "x" * 500])
def test_text_not_understood_is_unknown_with_a_warning(text):
    parsed = normalise_hours(text)
    assert parsed.osm is None and parsed.status is None
    assert parsed.warning
    assert "未知" in parsed.note_zh and "unknown" in parsed.note_en


@pytest.mark.parametrize("value", [None, "", "   ", float("nan")])
def test_empty_cells_have_no_hours_and_no_warning(value):
    parsed = normalise_hours(value)
    assert parsed.osm is None and not parsed.warning
    assert parsed.note_zh == "未填写开放时间"


@pytest.mark.parametrize("text", ["暂停开放", "暂停服务", "临时关闭", "装修中，暂停开放"])
def test_temporarily_closed_is_a_status_not_hours(text):
    parsed = normalise_hours(text)
    assert parsed.osm is None
    assert parsed.status == Status.TEMPORARILY_CLOSED
    assert not parsed.warning
    assert "暂停开放" in parsed.note_zh and "temporarily closed" in parsed.note_en


def test_hours_and_a_closure_are_both_kept():
    parsed = normalise_hours("8:00-18:00（暂停开放）")
    assert (parsed.osm, parsed.status) == ("08:00-18:00", Status.TEMPORARILY_CLOSED)


def test_conventions_are_said_in_the_note():
    assert "工作日按周一至周五" in normalise_hours("工作日 9:00-17:00").note_zh
    summer = normalise_hours("夏季7:00-19:00，冬季8:00-18:00")
    assert "按5月至9月计" in summer.note_zh and "read as May-Sep" in summer.note_en
    afternoon = normalise_hours("8:30-5:30")
    assert afternoon.osm == "08:30-17:30" and "下午" in afternoon.note_zh


def test_numbers_from_spreadsheets_are_read_as_text():
    assert normalise_hours(24).warning


# Pieces offices use, so that generated cells reach deep into the reader.
PIECES = st.sampled_from([
    "24小时", "全天", "7×24", "周一", "至", "周五", "周末", "工作日", "每天", "8:00", "18:00",
    "-", "—", "～", "点", "半", "早", "晚", "下午", "上午", "夏季", "冬季", "(5月-9月)", "5月",
    "休息", "节假日休息", "暂停开放", "午休", "，", "；", " ", "12:00", "24:00", "0", "9",
    "Mo-Fr", "off", "PH", "\"", "、", "日", "至9月30日", "Mo", "24/7", ";",
])


@settings(max_examples=400, deadline=None)
@given(st.one_of(st.text(max_size=60), st.lists(PIECES, max_size=12).map("".join)))
@example("周一至周五 9:00-17:00 周末休息 午休")
@example("午休")
@example("冬季(12月-1月)8-18")
def test_never_raises_and_any_expression_parses(text):
    parsed = normalise_hours(text)
    if parsed.osm is not None:
        assert opening_hours.validate(parsed.osm)
        opening_hours.OpeningHours(parsed.osm)
    assert parsed.note_zh and parsed.note_en
    assert parsed.warning == (parsed.osm is None and parsed.status is None
                              and bool(text.strip()))


def test_closed_days_win_over_hours_for_every_day():
    assert normalise_hours("周末休息，8:00-18:00").osm == "08:00-18:00; Sa,Su off"
