"""Province, city, district and GB/T 2260 code from addresses, district columns and defaults."""

from __future__ import annotations

import math

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from stations.ingest.divisions import (
    city_centre,
    division_name,
    infer_division,
    infer_divisions,
)

# (address, district column, sheet, defaults) -> (province, city, district, code); codes checked
# by hand against the GB/T 2260 list.
FOUND = [
    (("广西壮族自治区南宁市青秀区民族大道100号", None, None, {}),
     ("广西壮族自治区", "南宁市", "青秀区", "450103")),
    (("南宁青秀区民族大道100号", None, None, {}), ("广西壮族自治区", "南宁市", "青秀区", "450103")),
    (("广西南宁市青秀区民族大道", None, None, {}),
     ("广西壮族自治区", "南宁市", "青秀区", "450103")),
    (("青秀区民族大道100号", None, None, {}), ("广西壮族自治区", "南宁市", "青秀区", "450103")),
    (("民族大道100号", "青秀区", None, {}), ("广西壮族自治区", "南宁市", "青秀区", "450103")),
    (("民族大道100号", "青秀", None, {}), ("广西壮族自治区", "南宁市", "青秀区", "450103")),
    (("民族大道100号", None, "青秀区", {}), ("广西壮族自治区", "南宁市", "青秀区", "450103")),
    (("民族大道100号", None, "南宁市工会驿站一览表", {}),
     ("广西壮族自治区", "南宁市", None, "450100")),
    (("广西南宁民族大道", None, None, {}), ("广西壮族自治区", "南宁市", None, "450100")),
    (("民族大道（青秀区）", None, None, {}), ("广西壮族自治区", "南宁市", "青秀区", "450103")),
    (("民族大道100号", None, None, {"province": "广西", "city": "南宁"}),
     ("广西壮族自治区", "南宁市", None, "450100")),
    (("民族大道100号", "兴宁区", None, {"city": "南宁市"}),
     ("广西壮族自治区", "南宁市", "兴宁区", "450102")),
    (("鼓楼区中山路1号", None, None, {"province": "福建"}),
     ("福建省", "福州市", "鼓楼区", "350102")),
    (("中山路1号", "鼓楼区", None, {"city": "南京"}), ("江苏省", "南京市", "鼓楼区", "320106")),
    (("徐州市鼓楼区中山北路", None, None, {}), ("江苏省", "徐州市", "鼓楼区", "320302")),
    (("北京市朝阳区建国路", None, None, {}), ("北京市", "北京市", "朝阳区", "110105")),
    (("吉林长春朝阳区人民大街", None, None, {}), ("吉林省", "长春市", "朝阳区", "220104")),
    (("上海浦东新区世纪大道", None, None, {}), ("上海市", "上海市", "浦东新区", "310115")),
    (("济南市中区经七路", None, None, {}), ("山东省", "济南市", "市中区", "370103")),
    (("青岛市北区辽宁路", None, None, {}), ("山东省", "青岛市", "市北区", "370203")),
    (("湖北省仙桃市仙桃大道", None, None, {}), ("湖北省", "仙桃市", None, "429004")),
    (("中国广东省东莞市南城街道", None, None, {}), ("广东省", "东莞市", None, "441900")),
    (("黔南州都匀市剑江路", None, None, {}),
     ("贵州省", "黔南布依族苗族自治州", "都匀市", "522701")),
    (("延边朝鲜族自治州延吉市", None, None, {}),
     ("吉林省", "延边朝鲜族自治州", "延吉市", "222401")),
    (("广西壮族自治区 南宁市 青秀区", None, None, {}),
     ("广西壮族自治区", "南宁市", "青秀区", "450103")),
    (("重庆市梁平区双桂街道", None, None, {}), ("重庆市", "重庆市", "梁平区", "500155")),
]


@pytest.mark.parametrize(("given_", "expected"), FOUND)
def test_divisions_found(given_, expected):
    address, district, sheet, defaults = given_
    division = infer_division(address, district, sheet, **defaults)
    assert (division.province, division.city, division.district, division.code) == expected
    assert division.problem is None and division.candidates == ()
    assert expected[3] in division.note_zh and expected[3] in division.note_en


def test_old_county_names_are_read_and_said():
    division = infer_division("重庆市梁平县双桂街道")
    assert (division.district, division.code) == ("梁平区", "500155")
    assert "梁平县”现为梁平区" in division.note_zh and division.warning


@pytest.mark.parametrize(("address", "district", "defaults", "codes"), [
    ("鼓楼区中山路1号", None, {}, ("320106", "320302", "350102", "410204")),
    ("中山路1号", "城关区", {}, ("540102", "620102")),
    ("朝阳区建国路", None, {}, ("110105", "220104")),
    ("中山路1号", "鼓楼区", {"province": "江苏"}, ("320106", "320302")),
])
def test_a_district_in_several_cities_is_ambiguous_not_guessed(address, district, defaults,
                                                               codes):
    division = infer_division(address, district, **defaults)
    assert division.problem == "ambiguous"
    assert division.code is None and division.district is None
    assert division.candidates == codes
    assert "请填写城市" in division.note_zh and "give the city" in division.note_en


def test_ambiguous_in_one_province_still_names_the_province():
    division = infer_division("中山路1号", "鼓楼区", province="江苏省")
    assert division.province == "江苏省" and division.city is None


@pytest.mark.parametrize(("address", "district", "defaults"), [
    ("广西壮族自治区南宁市青秀区民族大道", "兴宁区", {}),
    ("民族大道", "青秀区", {"city": "柳州市"}),
    ("南宁市民族大道", None, {"province": "广东"}),
])
def test_sources_that_disagree_are_a_conflict(address, district, defaults):
    division = infer_division(address, district, **defaults)
    assert division.problem == "conflict" and division.code is None
    assert "矛盾" in division.note_zh and "disagree" in division.note_en


@pytest.mark.parametrize("address", ["中山路1号", "民族大道100号", "", None, math.nan, "新城市场"])
def test_nothing_named_is_not_found(address):
    division = infer_division(address)
    assert division.problem == "not_found" and division.code is None and division.warning


def test_a_road_named_after_a_city_is_not_that_city():
    assert infer_division("中山路1号").city is None
    assert infer_division("南宁市中山路1号").city == "南宁市"


def test_unknown_district_column_is_reported_but_the_city_still_found():
    division = infer_division("民族大道", "高新区", city="南宁")
    assert (division.city, division.code, division.problem) == ("南宁市", "450100", None)
    assert "区县列“高新区”不在行政区划表中" in division.note_zh and division.warning


def test_a_default_province_is_not_read_as_the_city_of_the_same_name():
    division = infer_division("人民大街", province="吉林")
    assert (division.province, division.city, division.code) == ("吉林省", None, "220000")
    assert "未能确定城市" in division.note_zh


def test_whole_columns_match_single_rows_and_repeats_are_worked_out_once():
    addresses = ["南宁青秀区民族大道1号", None, "民族大道2号", "南宁青秀区民族大道1号"]
    districts = [None, "兴宁区", math.nan, None]
    cities = ["南宁市"] * 4
    out = infer_divisions(addresses, districts, cities=cities)
    assert [d.code for d in out] == ["450103", "450102", "450100", "450103"]
    assert out[0] is out[3]
    assert out == [infer_division(a, d, city=c) for a, d, c in zip(addresses, districts, cities,
                                                                    strict=True)]
    by_sheet = infer_divisions(["民族大道"] * 2, sheets=["青秀区", "兴宁区"],
                               provinces=["广西"] * 2)
    assert [d.code for d in by_sheet] == ["450103", "450102"]
    with pytest.raises(ValueError, match="as many rows"):
        infer_divisions(addresses, districts[:2])


def test_names_and_centres_of_codes():
    assert division_name("450103") == "青秀区"
    assert division_name("500155") == "梁平区"
    assert division_name("999999") is None
    lon, lat = city_centre("450103")  # Nanning's centre, for a district inside it
    assert abs(lon - 108.36) < 0.1 and abs(lat - 22.82) < 0.1
    assert city_centre("110105") == city_centre("110000")
    assert city_centre("999999") is None


@settings(max_examples=300, deadline=None)
@given(st.one_of(st.text(max_size=40),
                 st.lists(st.sampled_from(["广西", "南宁", "南宁市", "青秀区", "鼓楼区", "县",
                                           "市", "区", "梁平县", "中山", "吉林", "北京市", "路",
                                           "１", " ", "中国", "市中区"]),
                          max_size=6).map("".join)),
       st.one_of(st.none(), st.text(max_size=8), st.sampled_from(["青秀", "城关区", "兴宁区"])),
       st.sampled_from([None, "吉林", "广西壮族自治区", "北京"]))
@example("市", "区", None)
def test_never_raises(address, district, province):
    division = infer_division(address, district, province=province)
    assert (division.code is None) == (division.problem is not None)
    if division.code is not None:
        assert division_name(division.code) in (division.district, division.city,
                                                division.province)
    assert division.note_zh and division.note_en


def test_a_township_named_like_a_district_is_not_that_district():
    # 东区街道 is a township of 中山市, not 东区 of 攀枝花市.
    division = infer_division("广东省中山市东区街道兴中道1号", "东区街道")
    assert (division.city, division.code, division.problem) == ("中山市", "442000", None)
    assert infer_division("东区街道兴中道1号").code is None


def test_a_district_column_the_table_does_not_know_in_the_addressed_city_is_a_warning():
    # The table has no 江北区 in 重庆市 (now 两江新区); its only 江北区 is in 宁波市.
    division = infer_division("重庆市江北区建新北路1号", "江北区")
    assert (division.city, division.code, division.problem) == ("重庆市", "500000", None)
    assert "区县列“江北区”不在重庆市的行政区划表中" in division.note_zh
    assert "not in the division table under 重庆市" in division.note_en and division.warning
