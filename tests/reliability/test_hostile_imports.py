"""Hostile source files through `stations build` and `stations validate`.

Every file gets a clear error or a per-row report, never a traceback; the GeoPackage already in
place is untouched unless good rows were stored; and the summary line adds up: rows read = rows
stored + rows rejected.
"""

from __future__ import annotations

import io
import json
import re
import struct
import zipfile
from collections.abc import Callable
from pathlib import Path

import openpyxl
import pytest
from conftest import make_sample_frame

from stations.cli import main
from stations.geodata import read_stations, write_stations

HEADING = "id,name,address,city,lon,lat\n"
GOOD_ROW = "GOOD-1,朝阳广场工会驿站,南宁市兴宁区朝阳路1号,南宁市,108.3190,22.8180\n"
SUMMARY = re.compile(r"(\d+) rows read = (\d+) (?:stored|valid) \+ (\d+) rejected")


def write_text(path: Path, text: str, encoding: str = "utf-8") -> None:
    path.write_bytes(text.encode(encoding))


def empty(path: Path) -> None:
    path.write_bytes(b"")


def heading_only(path: Path) -> None:
    write_text(path, HEADING)


def pipe_delimited(path: Path) -> None:
    write_text(path, (HEADING + GOOD_ROW).replace(",", "|"))


def mixed_encodings(path: Path) -> None:
    gb_row = "GB-1,五象大道工会驿站,南宁市良庆区五象大道,南宁市,108.39,22.77\n"
    path.write_bytes("编号,驿站名称,详细地址,城市,经度,纬度\n".encode() + GOOD_ROW.encode()
                     + gb_row.encode("gb18030"))


def mixed_encodings_garbling(path: Path) -> None:
    """UTF-8 lines whose bytes also happen to be valid GB18030: decoding the whole file as
    GB18030 would succeed and store 朝阳 as 鏈濋槼."""
    utf8 = "编号,名称,地址,城市,经度,纬度\nGOOD-1,朝阳广场工会驿站,民族大道,南宁,108.3190,22.8180\n"
    gb_row = "GB-1,五象大道工会驿站,南宁市良庆区五象大道,南宁市,108.39,22.77\n"
    path.write_bytes(utf8.encode() + gb_row.encode("gb18030"))


def million_column_heading(path: Path) -> None:
    write_text(path, HEADING.rstrip("\n") + ",c" * 1_000_000 + "\n" + GOOD_ROW)


def million_column_row(path: Path) -> None:
    write_text(path, HEADING + GOOD_ROW + "x," * 1_000_000 + "\n")


def zip_bomb_xlsx(path: Path) -> None:
    """A real workbook whose sheet is padded to 300 MB of spaces: 300 kB on disk."""
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    sheet.append(["id", "name", "address", "city", "lon", "lat"])
    sheet.append(["GOOD-1", "朝阳广场工会驿站", "南宁市兴宁区朝阳路1号", "南宁市", 108.319, 22.818])
    plain = io.BytesIO()
    workbook.save(plain)
    with zipfile.ZipFile(plain) as source, zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as out:
        for info in source.infolist():
            data = source.read(info.filename)
            if info.filename != "xl/worksheets/sheet1.xml":
                out.writestr(info.filename, data)
                continue
            head, tail = data.split(b"</sheetData>")
            with out.open(info.filename, "w") as member:
                member.write(head)
                for _ in range(75):
                    member.write(b" " * (4 << 20))
                member.write(b"</sheetData>" + tail)


def formula_cells_xlsx(path: Path) -> None:
    """Formulas typed into a workbook are not run: without a cached value a cell is empty."""
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    sheet.append(["id", "name", "address", "city", "lon", "lat"])
    sheet.append(["GOOD-1", "朝阳广场工会驿站", "南宁市兴宁区朝阳路1号", "南宁市", 108.319, 22.818])
    sheet.append(["F-1", '=HYPERLINK("http://x.example/","点我")', "南宁市青秀区", "南宁市",
                  "=1/0", 22.8])
    workbook.save(path)


def lying_zip_xlsx(path: Path) -> None:
    """The same bomb with headers that claim 2 kB: the size check passes, unpacking must not."""
    zip_bomb_xlsx(path)
    with zipfile.ZipFile(path) as archive:
        real = archive.getinfo("xl/worksheets/sheet1.xml").file_size
    data = bytearray(path.read_bytes())
    for signature, offset in ((b"PK\x03\x04", 22), (b"PK\x01\x02", 24)):
        start = 0
        while (start := data.find(signature, start)) >= 0:
            if struct.unpack_from("<I", data, start + offset)[0] == real:
                struct.pack_into("<I", data, start + offset, 2048)
            start += 4
    path.write_bytes(bytes(data))


def text_renamed_xlsx(path: Path) -> None:
    write_text(path, HEADING + GOOD_ROW)


def geojson_non_points(path: Path) -> None:
    def feature(geometry: object, number: int) -> dict[str, object]:
        return {"type": "Feature", "geometry": geometry,
                "properties": {"id": f"G-{number}", "name": f"驿站{number}",
                               "address": "南宁市青秀区", "city": "南宁市"}}

    geometries = [
        {"type": "Point", "coordinates": [108.32, 22.82]},
        {"type": "LineString", "coordinates": [[108.3, 22.8], [108.4, 22.9]]},
        {"type": "Polygon", "coordinates": [[[108.3, 22.8], [108.4, 22.8], [108.4, 22.9],
                                             [108.3, 22.8]]]},
        {"type": "MultiPoint", "coordinates": [[108.3, 22.8]]},
        {"type": "GeometryCollection", "geometries": []},
        {"type": "Point", "coordinates": []},
        None,
    ]
    path.write_text(json.dumps({"type": "FeatureCollection", "features": [
        feature(g, n) for n, g in enumerate(geometries, start=1)]}, ensure_ascii=False))


def geojson_not_a_collection(path: Path) -> None:
    path.write_text('{"type": "Feature", "geometry": null}')


def binary_geojson(path: Path) -> None:
    path.write_bytes(bytes(range(256)) * 64)


def bad_numbers(path: Path) -> None:
    rows = [f"BAD-{n},坏坐标{n},南宁市青秀区,南宁市,{lon},{lat}\n" for n, (lon, lat) in
            enumerate([("NaN", "22.8"), ("inf", "22.8"), ("-Infinity", "22.8"),
                       ("1e308", "22.8"), ("108.3", "1e308"), ("108.3", "-1e308"),
                       ("1e-320", "nan"), ("0x6C", "22.8"), ("108.3", "")], start=1)]
    write_text(path, HEADING + GOOD_ROW + "".join(rows))


def formulas(path: Path) -> None:
    write_text(path, HEADING
               + 'F-1,"=HYPERLINK(""http://x.example/?"",""点我领取补贴"")",'
               '南宁市青秀区,南宁市,108.3960,22.8170\n'
               + "F-2,@SUM(1+1)*cmd|' /C calc'!A0,+1-2,南宁市,108.3900,22.7700\n"
               + GOOD_ROW)


# name, writer, file suffix, expected exit code, rows stored, text the output must contain
CASES: list[tuple[str, Callable[[Path], None], str, int, int, str]] = [
    ("empty", empty, "csv", 2, 0, "empty"),
    ("heading only", heading_only, "csv", 2, 0, "0 rows read = 0"),
    ("wrong delimiter", pipe_delimited, "csv", 2, 0, "name"),
    ("mixed encodings", mixed_encodings, "csv", 2, 0, "line 3"),
    ("mixed encodings that decode", mixed_encodings_garbling, "csv", 2, 0,
     "mixed text encodings: line 3"),
    ("million-column heading", million_column_heading, "csv", 2, 0, "1,000,006 columns"),
    ("million-column row", million_column_row, "csv", 2, 0, "1,000,001 columns"),
    ("zip bomb as xlsx", zip_bomb_xlsx, "xlsx", 2, 0, "refused"),
    ("zip bomb with lying sizes", lying_zip_xlsx, "xlsx", 2, 0, "larger than its declared"),
    ("formula cells in xlsx", formula_cells_xlsx, "xlsx", 1, 1,
     "formula.xlsx row 3 (第3行): name: 缺少名称"),
    ("text renamed xlsx", text_renamed_xlsx, "xlsx", 2, 0, "not an XLSX workbook"),
    ("geojson non-points", geojson_non_points, "geojson", 1, 1, "a LineString is not a point"),
    ("geojson not a collection", geojson_not_a_collection, "geojson", 2, 0,
     "not a GeoJSON FeatureCollection"),
    ("binary geojson", binary_geojson, "geojson", 2, 0, "binary.geojson"),
    ("NaN Inf 1e308 coordinates", bad_numbers, "csv", 1, 1, "finite"),
    ("formulas in text cells", formulas, "csv", 0, 3, "3 rows read = 3 stored"),
]


@pytest.fixture
def old_gpkg(tmp_path: Path) -> Path:
    path = tmp_path / "stations.gpkg"
    write_stations(make_sample_frame(), path)
    return path


def run_cli(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def check_summary(out: str, expected_stored: int) -> None:
    """The summary line is printed and adds up."""
    match = SUMMARY.search(out)
    assert match, f"no summary line in:\n{out}"
    read, stored, rejected = map(int, match.groups())
    assert read == stored + rejected
    assert stored == expected_stored


@pytest.mark.parametrize(("label", "writer", "suffix", "exit_code", "stored", "message"), CASES,
                         ids=[case[0] for case in CASES])
def test_hostile_file_through_build(tmp_path, capsys, old_gpkg, label, writer, suffix,
                                    exit_code, stored, message):
    source = tmp_path / f"{label.split()[0]}.{suffix}"
    writer(source)
    before = old_gpkg.read_bytes()
    code, out, err = run_cli(capsys, "build", str(source), "--crs", "wgs84",
                             "--output", str(old_gpkg))
    assert "Traceback" not in out + err
    assert code == exit_code, out + err
    assert message in out + err
    if code == 2:
        # Nothing written: the served GeoPackage is the old one, byte for byte.
        assert old_gpkg.read_bytes() == before
        assert err.startswith("stations build: error:") or SUMMARY.search(out)
    else:
        check_summary(out, stored)
        assert len(read_stations(old_gpkg)) == stored
    if SUMMARY.search(out):
        check_summary(out, stored)
    assert not list(tmp_path.glob("*.partial")) and not list(tmp_path.glob(".*.gpkg*"))


@pytest.mark.parametrize(("label", "writer", "suffix", "exit_code", "stored", "message"), CASES,
                         ids=[case[0] for case in CASES])
def test_hostile_file_through_validate(tmp_path, capsys, label, writer, suffix, exit_code,
                                       stored, message):
    source = tmp_path / f"{label.split()[0]}.{suffix}"
    writer(source)
    code, out, err = run_cli(capsys, "validate", str(source), "--crs", "wgs84")
    assert "Traceback" not in out + err
    # Like build: 2 when a build would write nothing, 1 when some rows have problems.
    assert code == exit_code, out + err
    assert message.replace("stored", "valid") in out + err
    assert list(tmp_path.iterdir()) == [source]  # validate writes nothing


def test_bad_coordinates_are_reported_row_by_row(tmp_path, capsys, old_gpkg):
    source = tmp_path / "numbers.csv"
    bad_numbers(source)
    code, out, _ = run_cli(capsys, "build", str(source), "--crs", "wgs84",
                           "--output", str(old_gpkg))
    assert code == 1
    check_summary(out, 1)
    assert "10 rows read = 1 stored + 9 rejected" in out
    for row in range(3, 12):  # line 1 is the heading, line 2 the good row
        assert re.search(rf"numbers\.csv row {row} \(第{row}行\): (lon|lat):", out), row
    assert read_stations(old_gpkg)["id"].tolist() == ["GOOD-1"]


def test_formulas_are_stored_as_plain_text(tmp_path, capsys, old_gpkg):
    """Text cells keep what was typed; neutralising formulas is the CSV exporters' job."""
    source = tmp_path / "formulas.csv"
    formulas(source)
    assert run_cli(capsys, "build", str(source), "--crs", "wgs84",
                   "--output", str(old_gpkg))[0] == 0
    stations = read_stations(old_gpkg).set_index("id")
    assert stations.loc["F-1", "name"] == '=HYPERLINK("http://x.example/?","点我领取补贴")'
    assert stations.loc["F-2", "address"] == "+1-2"
