"""``stations build``, ``validate`` and ``info``: messages, exit codes, no tracebacks."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from source_tables import row, rows_with_ids, write_csv

from stations.cli import main
from stations.geodata import read_stations


@pytest.fixture
def workdir(tmp_path, monkeypatch) -> Path:
    """An empty working directory, like a fresh clone's root."""
    monkeypatch.chdir(tmp_path)
    return tmp_path


def test_build_clean_exits_0(workdir, capsys):
    write_csv(workdir / "nanning.csv", rows_with_ids(3))
    assert main(["build", "nanning.csv", "--crs", "gcj02", "--output", "out.gpkg"]) == 0
    out = capsys.readouterr().out
    assert "3 rows read = 3 stored + 0 rejected; 0 errors, 0 warnings, 3 notes" in out
    assert "wrote out.gpkg" in out
    assert len(read_stations(workdir / "out.gpkg")) == 3


def test_build_with_rejected_rows_exits_1_and_names_the_row(workdir, capsys):
    rows = [*rows_with_ids(12), row(编号="NN-100", 纬度="91.5")]
    write_csv(workdir / "nanning.csv", rows)
    assert main(["build", "nanning.csv", "--crs", "gcj02", "-o", "out.gpkg"]) == 1
    out = capsys.readouterr().out.splitlines()
    assert ("nanning.csv row 14 (第14行): lat: 91.5 不是纬度（应在 ±90 之间） / "
            "91.5 is not a latitude (must be between -90 and 90)") in out
    assert out[-1].startswith("13 rows read = 12 stored + 1 rejected; 1 errors, 0 warnings")
    assert len(read_stations(workdir / "out.gpkg")) == 12


def test_build_with_warnings_only_exits_1(workdir, capsys):
    write_csv(workdir / "s.csv", [row(联系电话="unknown")])
    assert main(["build", "s.csv", "--crs", "gcj02", "-o", "out.gpkg"]) == 1
    assert "s.csv row 2 (第2行): phone: 警告 warning:" in capsys.readouterr().out
    assert (workdir / "out.gpkg").is_file()


def test_strict_build_exits_2_and_writes_nothing(workdir, capsys):
    write_csv(workdir / "s.csv", [row(联系电话="unknown")])
    assert main(["build", "s.csv", "--crs", "gcj02", "-o", "out.gpkg", "--strict"]) == 2
    assert "nothing written" in capsys.readouterr().out
    assert not (workdir / "out.gpkg").exists()


def test_build_from_the_default_manifest(workdir, capsys):
    sources = workdir / "geodata" / "sources"
    sources.mkdir(parents=True)
    write_csv(sources / "nanning.csv", [{k: v for k, v in r.items() if k != "城市"}
                                        for r in rows_with_ids(2)])
    (sources / "sources.toml").write_text(
        '[[sources]]\npath = "nanning.csv"\ncrs = "gcj02"\ndefaults = { city = "南宁市" }\n',
        encoding="utf-8")
    assert main(["build"]) == 0
    stored = read_stations(workdir / "geodata" / "stations.gpkg")
    assert stored["city"].tolist() == ["南宁市", "南宁市"]
    assert "wrote geodata/stations.gpkg" in capsys.readouterr().out


def test_validate_reports_and_writes_nothing(workdir, capsys):
    write_csv(workdir / "s.csv", [row(), row(编号="NN-102", 状态="坏了")])
    assert main(["validate", "s.csv", "--crs", "gcj02"]) == 1
    out = capsys.readouterr().out
    assert "s.csv row 3 (第3行): status: 「坏了」不是有效状态 / '坏了' is not a status" in out
    assert "2 rows read = 1 valid + 1 rejected" in out
    assert sorted(p.name for p in workdir.iterdir()) == ["s.csv"]
    write_csv(workdir / "s.csv", [row()])
    assert main(["validate", "s.csv", "--crs", "gcj02"]) == 0


def test_max_problems_limits_the_listing(workdir, capsys):
    write_csv(workdir / "s.csv", [row(编号=f"N{i}", 联系电话="x", 经度=f"{108 + i / 100}")
                                  for i in range(5)])
    assert main(["validate", "s.csv", "--crs", "gcj02", "--max-problems", "4"]) == 1
    out = capsys.readouterr().out
    assert out.count("phone: 警告 warning") == 2  # each row: its division note, its phone
    assert "... and 6 more problems (use --max-problems 0 to list all)" in out


@pytest.mark.parametrize(("args", "message"), [
    (["build", "missing.csv", "--crs", "wgs84"], "missing.csv: no such file"),
    (["build", "s.csv"], "--crs is required with FILE"),
    (["validate", "wrong.csv", "--crs", "wgs84"], "wrong.csv: no heading row names a station name"),
    (["validate", "broken.csv", "--crs", "wgs84"], "broken.csv: unreadable text encoding"),
    (["build", "s.csv", "--crs", "wgs84", "--mapping", "none.toml"], "none.toml: no such file"),
    (["build"], "geodata/sources/sources.toml: no such file"),
    (["info", "--data", "none.gpkg"], "none.gpkg: no such GeoPackage"),
    (["info", "--data", "."], ".: is a folder, not a GeoPackage file"),
    (["map", "--data", ".", "--city", "南宁市", "-o", "out"], ".: is a folder, not a GeoPackage"),
    (["build", "s.csv", "--crs", "gcj02", "-o", "."], ".: is a folder"),
    (["build", "s.csv", "--crs", "gcj02", "-o", "s.csv/x.gpkg"], "cannot write the GeoPackage"),
])
def test_bad_input_is_a_clean_message_and_exit_2(workdir, capsys, args, message):
    write_csv(workdir / "s.csv", [row()])
    write_csv(workdir / "wrong.csv", [{"站名": "x", "经度": "108", "纬度": "22"}])
    (workdir / "broken.csv").write_bytes(b"\x80\xff\xfd,1\n")
    assert main(args) == 2
    err = capsys.readouterr().err
    assert message in err
    assert "Traceback" not in err


def test_info_counts_per_city_and_amenity(sample_gpkg, capsys):
    assert main(["info", "--data", str(sample_gpkg)]) == 0
    out = capsys.readouterr().out
    assert f"{sample_gpkg}: 6 stations, data version " in out
    assert "  南宁市  4\n" in out and "  重庆市  2\n" in out
    assert "微波炉 Microwave (microwave)  4\n" in out
    assert "饮水 Drinking water (drinking_water)  6\n" in out
    assert "暂停开放 temporarily_closed  1\n" in out


@pytest.mark.parametrize(("command", "options"), [
    ("build", ["--manifest", "--crs", "--mapping", "--encoding", "--max-problems",
               "--progress", "--output", "--strict", "exit codes"]),
    ("validate", ["--manifest", "--crs", "--mapping", "--encoding", "--max-problems",
                  "exit codes"]),
    ("info", ["--data", "GPKG"]),
])
def test_help_explains_every_option(capsys, command, options):
    with pytest.raises(SystemExit) as exit_info:
        main([command, "--help"])
    assert exit_info.value.code == 0
    out = capsys.readouterr().out
    assert all(option in out for option in options)


def test_console_script_error_has_no_traceback(tmp_path):
    script = Path(sys.executable).with_name("stations")
    completed = subprocess.run(
        [str(script), "build", "nowhere.xlsx", "--crs", "bd09", "-o", "x.gpkg"],
        cwd=tmp_path, capture_output=True, text=True, timeout=120, check=False,
    )
    assert completed.returncode == 2
    assert completed.stderr.strip() == ("stations build: error: nowhere.xlsx: "
                                        "no such file (找不到文件)")
    assert not (tmp_path / "x.gpkg").exists()
