"""Opening hours in words for riders, in Chinese and English, with a fallback for complex rules."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from stations.hours import describe_hours

WORDS = [
    ("24/7", "24小时开放", "Open 24 hours"),
    ("05:00-23:00", "每天 05:00–23:00", "Daily 05:00–23:00"),
    ("Mo-Su 05:00-23:00", "每天 05:00–23:00", "Daily 05:00–23:00"),
    ("Mo-Fr 08:00-18:00", "周一至周五 08:00–18:00", "Mon–Fri 08:00–18:00"),
    ("Mo,We,Fr 09:00-12:00", "周一、周三、周五 09:00–12:00", "Mon, Wed, Fri 09:00–12:00"),
    ("08:30-12:00,14:00-18:00", "每天 08:30–12:00、14:00–18:00",
     "Daily 08:30–12:00, 14:00–18:00"),
    ("Mo-Fr 09:00-17:00; PH off", "周一至周五 09:00–17:00；法定节假日休息",
     "Mon–Fri 09:00–17:00; closed on public holidays"),
    ("24/7; PH off", "24小时开放；法定节假日休息", "Open 24 hours; closed on public holidays"),
    ("Mo-Fr 09:00-17:00; Sa,Su off", "周一至周五 09:00–17:00；周六、周日休息",
     "Mon–Fri 09:00–17:00; closed Sat, Sun"),
    ("May-Sep 07:00-19:00; Oct-Apr 08:00-18:00", "5月至9月 07:00–19:00；10月至4月 08:00–18:00",
     "May–Sep 07:00–19:00; Oct–Apr 08:00–18:00"),
    ("May-Sep 08:00-18:00; Oct-Apr unknown", "5月至9月 08:00–18:00；10月至4月 时间未知",
     "May–Sep 08:00–18:00; Oct–Apr hours unknown"),
    ("Mo-Fr 00:00-24:00", "周一至周五 24小时", "Mon–Fri 24 hours"),
    ("22:00-06:00", "每天 22:00–06:00", "Daily 22:00–06:00"),
    ("Mo-Fr 08:00-18:00; Sa,Su,PH 09:00-17:00",
     "周一至周五 08:00–18:00；周六、周日、法定节假日 09:00–17:00",
     "Mon–Fri 08:00–18:00; Sat, Sun, public holidays 09:00–17:00"),
]


@pytest.mark.parametrize(("osm", "zh", "en"), WORDS)
def test_hours_in_words(osm, zh, en):
    assert describe_hours(osm, "zh") == zh
    assert describe_hours(osm, "en") == en


@pytest.mark.parametrize("osm", ['Mo-Fr 08:00-18:00 "午休"', "week 1-20 Mo 08:00-12:00",
                                 "May01-Sep30 07:00-19:00", "Mo-Fr 08:00-18:00 || unknown",
                                 "sunrise-sunset"])
def test_rules_too_complex_for_words_are_shown_as_written(osm):
    assert describe_hours(osm, "zh") == f"开放时间：{osm}"
    assert describe_hours(osm, "en") == f"Opening hours: {osm}"


@pytest.mark.parametrize("osm", [None, "", "  ", "unknown", "whenever the warden is in"])
def test_missing_or_invalid_hours_are_unknown(osm):
    assert describe_hours(osm, "zh") == "开放时间未知"
    assert describe_hours(osm, "en") == "Hours unknown"


def test_only_chinese_and_english():
    with pytest.raises(ValueError, match="lang"):
        describe_hours("24/7", "fr")


@settings(max_examples=200, deadline=None)
@given(st.text(alphabet="MoTuWeFrSaSuPH0123456789:-,; offJanMayunknw\"", max_size=40),
       st.sampled_from(["zh", "en"]))
def test_any_text_gets_words(osm, lang):
    assert describe_hours(osm, lang)
