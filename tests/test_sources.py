"""Reading source tables: encodings, headings, XLSX (and zip bombs), GeoJSON, manifests."""

from __future__ import annotations

import json
import zipfile
from pathlib import Path

import openpyxl
import pytest
from source_tables import GOOD_ROW, read_csv_rows, row, write_csv

from stations.crs import CoordinateSystem
from stations.errors import SourceError, UnknownCoordinateSystem
from stations.ingest import sources
from stations.ingest.sources import make_spec, read_manifest, read_mapping_file, read_source


@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig", "gb18030"])
def test_csv_encodings_are_detected(tmp_path, encoding):
    table = read_csv_rows(tmp_path / "s.csv", [row()], encoding=encoding)
    assert table.frame["name"].tolist() == ["民族大道枫林路口工会驿站"]
    assert table.frame["id"].tolist() == ["NN-101"]  # no BOM left on the first heading


def test_gb18030_file_is_really_not_utf8(tmp_path):
    path = write_csv(tmp_path / "s.csv", [row()], encoding="gb18030")
    with pytest.raises(UnicodeDecodeError):
        path.read_bytes().decode("utf-8")


def test_declared_encoding_that_does_not_fit_names_the_file(tmp_path):
    path = write_csv(tmp_path / "gbk.csv", [row()], encoding="gb18030")
    with pytest.raises(SourceError, match=r"gbk\.csv: not readable as utf-8"):
        read_source(make_spec(path, "wgs84", encoding="utf-8", label="gbk.csv"))


def test_unreadable_encoding_is_a_clear_error(tmp_path):
    path = tmp_path / "broken.csv"
    path.write_bytes("名称,经度,纬度\n".encode() + b"\xff\xfe\xfd\x80,1,2\n")
    with pytest.raises(SourceError, match=r"broken\.csv: unreadable text encoding"):
        read_source(make_spec(path, "wgs84", label="broken.csv"))


def test_utf16_is_named(tmp_path):
    path = tmp_path / "u16.csv"
    path.write_bytes("名称,经度,纬度\n".encode("utf-16"))
    with pytest.raises(SourceError, match="UTF-16"):
        read_source(make_spec(path, "wgs84"))


def test_english_schema_headings(tmp_path):
    english = {"id": "E-1", "name": "Station", "address": "a", "city": "南宁市",
               "lon": "108.3", "lat": "22.8", "amenities": "microwave"}
    table = read_csv_rows(tmp_path / "e.csv", [english])
    assert table.frame.loc[0, ["id", "city", "lon", "amenities"]].tolist() == [
        "E-1", "南宁市", "108.3", "microwave"]


def test_headings_with_notes_and_short_chinese_forms(tmp_path):
    cells = {"序号": "1", "名称": "驿站", "地址": "路口", "城市": "南宁市", "区县": "青秀区",
             "经度(GCJ-02)": "108.3", "纬度（GCJ-02）": "22.8", "运营单位": "南宁市总工会"}
    frame = read_csv_rows(tmp_path / "s.csv", [cells]).frame
    assert frame.loc[0, ["name", "address", "district", "lon", "lat", "operator"]].tolist() == [
        "驿站", "路口", "青秀区", "108.3", "22.8", "南宁市总工会"]


def test_mapping_names_other_headings(tmp_path):
    path = write_csv(tmp_path / "s.csv", [{"站名": "驿站", "东经": "108.3", "北纬": "22.8"}])
    spec = make_spec(path, "wgs84", mapping={"站名": "name", "东经": "lon", "北纬": "lat"})
    assert read_source(spec).frame.loc[0, ["name", "lon", "lat"]].tolist() == [
        "驿站", "108.3", "22.8"]


def test_missing_column_lists_the_headings_found(tmp_path):
    path = write_csv(tmp_path / "s.csv", [{"站名": "驿站", "经度": "108.3", "纬度": "22.8"}])
    with pytest.raises(SourceError, match=r"s\.csv: no heading row names a station name.*"
                                          r"first row: '站名', '经度', '纬度'.*--mapping"):
        read_source(make_spec(path, "wgs84", label="s.csv"))


def test_row_numbers_are_the_spreadsheet_rows(tmp_path):
    path = tmp_path / "s.csv"
    path.write_text("名称,经度,纬度\n甲,108.3,22.8\n,,\n\n乙,108.4,22.9\n", encoding="utf-8")
    table = read_source(make_spec(path, "wgs84"))
    assert table.frame["name"].tolist() == ["甲", "乙"]
    assert table.rows.tolist() == [2, 5]


def test_title_rows_above_the_headings_are_skipped(tmp_path):
    path = tmp_path / "s.csv"
    path.write_text("南宁市户外劳动者服务站点一览表,,\n（2024年6月更新）,,\n名称,经度,纬度\n"
                    "甲,108.3,22.8\n", encoding="utf-8")
    table = read_source(make_spec(path, "wgs84"))
    assert table.frame["name"].tolist() == ["甲"]
    assert table.rows.tolist() == [4]


def test_formula_like_text_is_kept_as_text(tmp_path):
    cells = row(驿站名称='=HYPERLINK("x")', 联系电话="+86 771")
    table = read_csv_rows(tmp_path / "s.csv", [cells])
    assert table.frame.loc[0, "name"] == '=HYPERLINK("x")'
    assert table.frame.loc[0, "phone"] == "+86 771"


def test_defaults_fill_empty_cells_only(tmp_path):
    path = write_csv(tmp_path / "s.csv", [row(), row(编号="NN-102", 城市="")])
    spec = make_spec(path, "gcj02", defaults={"city": "南宁市", "operator": "南宁市建设工会"})
    frame = read_source(spec).frame
    assert frame["city"].tolist() == ["南宁市", "南宁市"]
    assert frame["operator"].tolist() == ["南宁市建设工会"] * 2


@pytest.mark.parametrize("content", [b"", b"\n\n", b",,\n,,\n"])
def test_empty_csv(tmp_path, content):
    (tmp_path / "s.csv").write_bytes(content)
    with pytest.raises(SourceError, match=r"s\.csv: the file is empty"):
        read_source(make_spec(tmp_path / "s.csv", "wgs84", label="s.csv"))


def test_empty_workbook(tmp_path):
    openpyxl.Workbook().save(tmp_path / "s.xlsx")
    with pytest.raises(SourceError, match=r"s\.xlsx: the file is empty"):
        read_source(make_spec(tmp_path / "s.xlsx", "wgs84", label="s.xlsx"))


def test_tab_separated_text(tmp_path):
    path = tmp_path / "s.txt"
    path.write_text("名称\t经度\t纬度\n驿站\t108.3\t22.8\n", encoding="utf-8")
    assert read_source(make_spec(path, "wgs84")).frame.loc[0, "lat"] == "22.8"


def test_missing_file_and_unknown_type(tmp_path):
    with pytest.raises(SourceError, match=r"nope\.csv: no such file"):
        read_source(make_spec(tmp_path / "nope.csv", "wgs84", label="nope.csv"))
    (tmp_path / "s.ods").write_bytes(b"x")
    with pytest.raises(SourceError, match=r"unknown file type '\.ods'"):
        read_source(make_spec(tmp_path / "s.ods", "wgs84"))


def test_bad_settings_are_named():
    with pytest.raises(SourceError, match="unknown encoding 'latin-1'"):
        make_spec("s.csv", "wgs84", encoding="latin-1")
    with pytest.raises(SourceError, match="'站名' = 'title' names no field"):
        make_spec("s.csv", "wgs84", mapping={"站名": "title"})
    with pytest.raises(SourceError, match=r"defaults for unknown fields \['colour'\]"):
        make_spec("s.csv", "wgs84", defaults={"colour": "red"})
    with pytest.raises(UnknownCoordinateSystem, match="allowed: wgs84, gcj02, bd09"):
        make_spec("s.csv", "utm")


# --- XLSX -----------------------------------------------------------------------------------

def write_xlsx(path: Path, headings: list[str], rows: list[list[object]]) -> Path:
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    sheet.append(headings)
    for values in rows:
        sheet.append(values)
    workbook.save(path)
    return path


def test_xlsx_cells_become_text_with_sheet_row_numbers(tmp_path):
    headings = list(GOOD_ROW)
    good = list(GOOD_ROW.values())
    numeric = [*good[:5], 108.396, 22.817, *good[7:9], 12351.0, "开放"]
    path = write_xlsx(tmp_path / "s.xlsx", headings, [good, [None] * len(good), numeric])
    table = read_source(make_spec(path, "gcj02"))
    assert table.rows.tolist() == [2, 4]
    assert table.frame["lon"].tolist() == ["108.3960", "108.396"]
    assert table.frame["phone"].tolist() == ["0771-12351", "12351"]


def test_xlsx_with_a_title_row(tmp_path):
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    sheet["A1"] = "云阳县工会驿站一览表"
    sheet.append([])
    sheet.append(["驿站名称", "经度", "纬度"])
    sheet.append(["月光草坪工会驿站", 108.699, 30.932])
    workbook.save(tmp_path / "s.xlsx")
    table = read_source(make_spec(tmp_path / "s.xlsx", "wgs84"))
    assert table.frame[["name", "lat"]].values.tolist() == [["月光草坪工会驿站", "30.932"]]
    assert table.rows.tolist() == [4]


def test_xlsx_zip_bomb_is_refused_before_opening(tmp_path, monkeypatch):
    path = tmp_path / "bomb.xlsx"
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("xl/worksheets/sheet1.xml", b"\0" * (40 * 1024 * 1024))
    assert path.stat().st_size < 200_000

    def must_not_open(*_args, **_kwargs):
        raise AssertionError("openpyxl was asked to open a zip bomb")

    monkeypatch.setattr(openpyxl, "load_workbook", must_not_open)
    with pytest.raises(SourceError, match=r"bomb\.xlsx: refused: .* compressed \d+:1"):
        read_source(make_spec(path, "wgs84", label="bomb.xlsx"))


def test_xlsx_declared_total_size_is_limited(tmp_path, monkeypatch):
    path = write_xlsx(tmp_path / "s.xlsx", ["名称", "经度", "纬度"], [["驿站", 108.3, 22.8]])
    monkeypatch.setattr(sources, "MAX_XLSX_UNCOMPRESSED_BYTES", 1000)
    with pytest.raises(SourceError, match=r"would unpack to .* bytes"):
        read_source(make_spec(path, "wgs84"))


def test_file_that_is_not_a_workbook(tmp_path):
    path = tmp_path / "fake.xlsx"
    path.write_text("名称,经度,纬度\n", encoding="utf-8")
    with pytest.raises(SourceError, match=r"fake\.xlsx: not an XLSX workbook"):
        read_source(make_spec(path, "wgs84", label="fake.xlsx"))


# --- GeoJSON --------------------------------------------------------------------------------

def feature(geometry: dict[str, object] | None, **properties: object) -> dict[str, object]:
    return {"type": "Feature", "geometry": geometry, "properties": properties}


def write_geojson(path: Path, features: list[dict[str, object]]) -> Path:
    path.write_text(json.dumps({"type": "FeatureCollection", "features": features},
                               ensure_ascii=False), encoding="utf-8")
    return path


def test_geojson_points_and_feature_ids(tmp_path):
    point = {"type": "Point", "coordinates": [108.396, 22.817]}
    first = {**feature(point, 名称="甲站", 服务设施=["饮水", "微波炉"]), "id": "G-1"}
    path = write_geojson(tmp_path / "s.geojson", [first, feature(point, 名称="乙站", id="G-2")])
    table = read_source(make_spec(path, "wgs84"))
    assert table.frame[["id", "name", "lon", "lat"]].values.tolist() == [
        ["G-1", "甲站", "108.396", "22.817"], ["G-2", "乙站", "108.396", "22.817"]]
    assert table.frame.loc[0, "amenities"] == "饮水;微波炉"
    assert table.rows.tolist() == [1, 2]
    assert table.problems == []


def test_geojson_non_points_are_row_problems(tmp_path):
    line = {"type": "LineString", "coordinates": [[108.3, 22.8], [108.4, 22.9]]}
    point = {"type": "Point", "coordinates": [108.3, 22.8]}
    features = [feature(point, name="甲"), feature(line, name="乙"), feature(None, name="丙")]
    path = write_geojson(tmp_path / "s.geojson", features)
    table = read_source(make_spec(path, "wgs84", label="s.geojson"))
    assert [(p.row, p.field) for p in table.problems] == [(2, "geometry"), (3, "geometry")]
    assert "a LineString is not a point" in table.problems[0].message


def test_geojson_that_is_not_a_feature_collection(tmp_path):
    path = tmp_path / "s.geojson"
    path.write_text('{"type": "Point", "coordinates": [1, 2]}', encoding="utf-8")
    with pytest.raises(SourceError, match="not a GeoJSON FeatureCollection"):
        read_source(make_spec(path, "wgs84"))
    path.write_text("{not json", encoding="utf-8")
    with pytest.raises(SourceError, match="not valid JSON"):
        read_source(make_spec(path, "wgs84"))


# --- manifest and mapping file --------------------------------------------------------------

def test_manifest_paths_are_relative_to_it(tmp_path):
    folder = tmp_path / "sources"
    folder.mkdir()
    (folder / "sources.toml").write_text(
        '[[sources]]\npath = "nanning.csv"\ncrs = "gcj02"\nencoding = "gb18030"\n'
        'mapping = { "站名" = "name" }\ndefaults = { operator = "南宁市建设工会" }\n\n'
        '[[sources]]\npath = "yunyang.geojson"\ncrs = "bd09"\n', encoding="utf-8")
    first, second = read_manifest(folder / "sources.toml")
    assert first.path == folder / "nanning.csv"
    assert first.name == "nanning.csv"
    assert (first.crs, first.encoding) == (CoordinateSystem.GCJ02, "gb18030")
    assert dict(first.mapping) == {"站名": "name"}
    assert dict(first.defaults) == {"operator": "南宁市建设工会"}
    assert (second.crs, second.encoding) == (CoordinateSystem.BD09, "auto")


@pytest.mark.parametrize(("text", "message"), [
    ('[[sources]]\npath = "a.csv"\n', "needs both path and crs"),
    ('[[sources]]\npath = "a.csv"\ncrs = "wgs84"\nsheet = 2\n', r"unknown keys \['sheet'\]"),
    ('title = "x"\n', r"no \[\[sources\]\] entries"),
    ("[[sources]\n", "not valid TOML"),
])
def test_bad_manifest_is_named(tmp_path, text, message):
    path = tmp_path / "sources.toml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(SourceError, match=message):
        read_manifest(path)


def test_mapping_file(tmp_path):
    path = tmp_path / "map.toml"
    path.write_text('"站名" = "name"\n"东经" = "lon"\n', encoding="utf-8")
    assert read_mapping_file(path) == {"站名": "name", "东经": "lon"}
    path.write_text('"站名" = "nom"\n', encoding="utf-8")
    with pytest.raises(SourceError, match=r"map\.toml: mapping '站名' = 'nom' names no field"):
        read_mapping_file(path)
    with pytest.raises(SourceError, match="no such file"):
        read_mapping_file(tmp_path / "missing.toml")
