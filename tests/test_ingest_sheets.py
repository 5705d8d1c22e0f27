"""Office sheets as offices keep them: made in code, imported without a mapping file."""

from __future__ import annotations

import pytest
from office_sheets import (
    check_positions,
    excel_csv,
    nanning_rows,
    office_csv,
    office_workbook,
    true_positions,
)

from stations.cli import main
from stations.crs import from_wgs84
from stations.errors import SourceError
from stations.geodata import read_stations, station_frame, write_stations
from stations.ingest.build import check_sources
from stations.ingest.positions import parse_coordinate, parse_position
from stations.ingest.problems import Severity
from stations.ingest.sources import make_spec, read_source
from stations.reports import clean_note


def test_nanning_sheet_imports_every_good_station(tmp_path):
    office_csv(tmp_path / "南宁.csv")
    spec = make_spec(tmp_path / "南宁.csv", "bd09", label="南宁.csv")  # no city anywhere
    result = check_sources([spec])
    assert (result.rows_read, result.rows_stored, result.rows_rejected) == (33, 30, 3)
    check_positions(result.stations, 30)
    errors = {(p.row, p.field) for p in result.problems if p.severity is Severity.ERROR}
    assert errors == {(35, "lon"), (36, "name"), (37, "lon/lat")}
    text = "\n".join(str(p) for p in result.problems)
    assert "南宁.csv row 35 (第35行): lon: 「东经」不是数字 / '东经' is not a number" in text
    assert "合计" in text and "填表人" in text  # note rows named, not counted
    stations = result.stations.set_index("name")
    assert set(stations["division_code"]) == {"450103"}
    assert set(stations["city"]) == {"南宁市"} and set(stations["province"]) == {"广西壮族自治区"}
    assert stations.loc["青秀区第1工会驿站", "opening_hours"] == "24/7"
    assert stations.loc["青秀区第1工会驿站", "opening_hours_text"] == "24小时"
    assert stations.loc["青秀区第5工会驿站", "opening_hours"] == ""  # unknown, kept
    assert stations["has_wifi"].all() and stations["has_phone_charging"].all()
    again = check_sources([spec])
    assert sorted(again.stations["id"]) == sorted(result.stations["id"])  # stable made ids


def test_workbook_with_title_rows_merged_districts_and_several_sheets(tmp_path):
    office_workbook(tmp_path / "南宁.xlsx")
    spec = make_spec(tmp_path / "南宁.xlsx", "gcj02", label="南宁.xlsx")
    table = read_source(spec)
    assert table.frame["district"].tolist() == ["青秀区"] * 6 + ["兴宁区"] * 6
    assert table.rows.tolist() == [3, 4, 5, 6, 7, 8] * 2
    result = check_sources([spec])
    assert (result.rows_read, result.rows_stored) == (12, 12)
    check_positions(result.stations, 12)
    assert result.stations["has_air_conditioning"].all()
    assert sorted(result.stations["division_code"]) == ["450102"] * 6 + ["450103"] * 6
    assert result.stations["has_microwave"].sum() == 6
    assert any("南宁.xlsx › 兴宁区 row 3 (第3行)" in str(p) for p in result.problems)
    skipped = [str(p) for p in result.problems if p.field == "heading" and
               p.severity is Severity.WARNING]
    assert len(skipped) == 1 and skipped[0].startswith("南宁.xlsx › 说明 row 1 (第1行): heading: ")
    assert "找不到表头（名称和经纬度列），此工作表（2 行，首行「填表说明」）未导入" in skipped[0]
    assert "the sheet (2 filled rows, first: '填表说明') is not imported" in skipped[0]


@pytest.mark.parametrize(("text", "lon", "lat", "crs"), [
    ("108.36,22.81", 108.36, 22.81, None),
    ("22.81，108.36", 108.36, 22.81, None),
    ("１０８．３６ ２２．８１", 108.36, 22.81, None),
    ("108°21'36\"E, 22°48'36\"N", 108.36, 22.81, None),
    ("https://uri.amap.com/marker?position=108.36,22.81&name=驿站", 108.36, 22.81, "gcj02"),
    ("http://api.map.baidu.com/marker?location=22.81,108.36&title=x&output=html", 108.36, 22.81,
     "bd09"),
    ("https://api.map.baidu.com/marker?location=22.81,108.36&coord_type=gcj02", 108.36, 22.81,
     "gcj02"),
])
def test_positions_as_pasted(text, lon, lat, crs):
    position = parse_position(text)
    assert position is not None
    assert (position.lon, position.lat) == pytest.approx((lon, lat))
    assert (position.crs.value if position.crs else None) == crs


def test_dms_coordinate_in_one_column():
    assert parse_coordinate("北纬22度48分36秒") == pytest.approx(22.81)
    assert parse_coordinate("abc") is None


def test_a_link_naming_its_system_wins_with_a_note(tmp_path):
    lon, lat = true_positions(1)
    blon, blat = from_wgs84(lon, lat, "bd09")
    link = f"https://api.map.baidu.com/marker?location={blat[0]:.7f},{blon[0]:.7f}&title=x"
    excel_csv(tmp_path / "s.csv", [["名称", "地址", "城市", "定位"],
                                   ["青秀区第1工会驿站", "南宁市", "南宁市", link]])
    result = check_sources([make_spec(tmp_path / "s.csv", "gcj02")])
    check_positions(result.stations, 1)
    assert any("bd09" in p.message and p.severity is Severity.NOTE for p in result.problems)


def test_control_characters_and_long_fields_are_reported_not_cut(tmp_path):
    excel_csv(tmp_path / "s.csv", [
        ["名称", "地址", "城市", "经度", "纬度"],
        ["A\x00B 驿站", "南宁市", "南宁市", "108.3", "22.8"],
        ["好驿站", "南" * 2_000_000, "南宁市", "108.31", "22.81"],
        ["👩‍🔧 驿站 🫩", "南宁市\n青秀区", "南宁市", "108.32", "22.82"]])
    result = check_sources([make_spec(tmp_path / "s.csv", "wgs84", label="s.csv")])
    errors = [str(p) for p in result.problems if p.severity is Severity.ERROR]
    assert errors[0].startswith("s.csv row 2 (第2行): name: ")
    assert "U+0000 at character 2" in errors[0]
    assert any(e.startswith("s.csv row 3 (第3行): address: ") and "2,000,000 characters is "
               "longer than the limit for address (500)" in e for e in errors)
    assert (result.rows_read, result.rows_stored, result.rows_rejected) == (3, 1, 2)
    station = result.stations.iloc[0]
    assert (station["name"], station["address"]) == ("👩‍🔧 驿站 🫩", "南宁市 青秀区")


def test_a_folder_given_as_a_file_says_so(tmp_path):
    with pytest.raises(SourceError, match="is a folder, not a file"):
        read_source(make_spec(tmp_path, "wgs84"))


def test_repeated_row_makes_one_station(tmp_path):
    row = ["青秀区第1工会驿站", "南宁市", "南宁市", "108.3", "22.8"]
    excel_csv(tmp_path / "s.csv", [["名称", "地址", "城市", "经度", "纬度"], row, row])
    result = check_sources([make_spec(tmp_path / "s.csv", "wgs84", label="s.csv")])
    assert (result.rows_read, result.rows_stored, result.rows_rejected) == (2, 1, 1)
    assert any("repeats s.csv row 2 (第2行)" in p.message for p in result.problems)


def test_note_cleaning_keeps_joined_and_new_emoji():
    assert clean_note("修好了👩‍🔧\U0001FAE9\x00\u202e") == "修好了👩‍🔧\U0001FAE9"


def test_reimport_change_set_review_and_apply(tmp_path, capsys):
    data = tmp_path / "stations.gpkg"
    write_stations(station_frame({}, [], []), data)
    rows = nanning_rows("bd09", 6)
    heading = ["驿站名称", "详细地址", "城市", "经度", "纬度", "联系电话", "开放时间", "服务设施"]
    for row in rows:
        row[2] = "南宁市"
    rows[0][0] = "<script>alert(1)</script>驿站"
    excel_csv(tmp_path / "m1.csv", [heading, *rows])
    args = ["import", str(tmp_path / "m1.csv"), "--crs", "bd09", "--data", str(data),
            "--id-prefix", "NN-"]
    assert main(args) in (0, 1)
    first = read_stations(data)
    assert len(first) == 6 and first["id"].str.startswith("NN-450103-").all()
    # Next month: one station moved ~200 m, one phone changed, one gone.
    moved_lon, moved_lat = from_wgs84(true_positions(6)[0][1] + 0.002, true_positions(6)[1][1],
                                      "bd09")
    rows[1][3], rows[1][4] = f"{float(moved_lon):.7f}", f"{float(moved_lat):.7f}"
    rows[2][5] = "0771-5555555"
    excel_csv(tmp_path / "m2.csv", [heading, *rows[:5]])
    review = tmp_path / "review.html"
    args[1] = str(tmp_path / "m2.csv")
    capsys.readouterr()
    assert main([*args, "--dry-run", "--review", str(review)]) in (0, 1)
    out = capsys.readouterr().out
    assert "新增 0 added, 修改 2 changed" in out and "缺失 1 missing" in out
    assert "0771-12351' -> '0771-5555555'" in out
    key = out.split("review key: ")[1].split()[0]
    page = review.read_text(encoding="utf-8")
    assert "<script>alert(1)" not in page and "http" not in page.split("<style>")[0]
    assert read_stations(data).equals(first)  # dry run wrote nothing
    assert main([*args, "--confirm", key]) == 2  # missing station: a decision is needed
    assert "--missing keep or --missing close" in capsys.readouterr().err
    assert main([*args, "--confirm", "0" * 12, "--missing", "close"]) == 2
    assert main([*args, "--confirm", key, "--missing", "close"]) in (0, 1)
    after = read_stations(data).set_index("name")
    assert len(after) == 6
    assert after.loc[rows[5][0], "status"] == "closed"
    assert after.loc[rows[2][0], "phone"] == "0771-5555555"
    assert set(after["id"]) == set(first["id"])  # the moved station kept its id


def test_manifest_id_prefix_and_sheet_notes(tmp_path):
    excel_csv(tmp_path / "s.csv", [["序号", "名称", "地址", "城市", "经度", "纬度", "营业时段"],
                                   ["1", "青秀区第1工会驿站", "南宁市青秀区", "南宁市", "108.3",
                                    "22.8", "全天"]])
    (tmp_path / "sources.toml").write_text(
        '[[sources]]\npath = "s.csv"\ncrs = "wgs84"\nid_prefix = "NN-"\n', encoding="utf-8")
    from stations.ingest.sources import read_manifest

    result = check_sources(read_manifest(tmp_path / "sources.toml"))
    assert result.stations["id"].iloc[0].startswith("NN-450103-")
    notes = [str(p) for p in result.problems if p.field == "heading"]
    assert any("序号" in n and "never an id" in n for n in notes)
    assert any("'营业时段'" in n and "closest known: 营业时间 (opening_hours)" in n
               for n in notes)
