"""Every subcommand is registered, documents itself, and a broken pipe is not a traceback."""

from __future__ import annotations

import subprocess
import sys

import pytest

from stations.cli import SUBCOMMANDS, main, make_parser

EXPECTED_COMMANDS = {"build", "validate", "info", "synth", "serve", "map", "export", "reports",
                     "keys", "migrate", "import", "coverage", "plan", "planning-report", "staff"}


def _registered_commands() -> set[str]:
    parser = make_parser()
    subparsers = next(a for a in parser._actions if a.dest == "command")
    return set(subparsers.choices)


def test_all_subcommands_registered():
    assert _registered_commands() == EXPECTED_COMMANDS == set(SUBCOMMANDS)


def test_serve_loads_neither_gdal_nor_pandas():
    """The API server's memory budget has no room for libraries only build and map need."""
    script = (
        "import sys; from stations.cli import make_parser; make_parser(load=['serve']); "
        "import stations.api.app; "
        "print(sorted({'pandas', 'geopandas', 'pyogrio', 'folium'} & set(sys.modules)))"
    )
    loaded = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                            check=True).stdout.strip()
    assert loaded == "[]"


@pytest.mark.parametrize("command", sorted(EXPECTED_COMMANDS))
def test_every_subcommand_has_help(command, capsys):
    with pytest.raises(SystemExit) as exit_info:
        main([command, "--help"])
    assert exit_info.value.code == 0
    out = capsys.readouterr().out
    assert f"usage: stations {command}" in out
    assert "--help" in out


def test_unknown_subcommand_is_a_usage_error(capsys):
    with pytest.raises(SystemExit) as exit_info:
        main(["fly"])
    assert exit_info.value.code == 2
    assert "invalid choice" in capsys.readouterr().err


def test_closed_pipe_ends_quietly(tmp_path):
    """``stations validate big.csv | head -1`` must not end in a BrokenPipeError traceback."""
    table = tmp_path / "bad.csv"
    lines = ["id,name,address,city,lon,lat"]
    lines += [f"X{i},驿站{i},某路,南宁市,not-a-number,22.8" for i in range(20_000)]
    table.write_text("\n".join(lines), encoding="utf-8")
    producer = subprocess.Popen(
        [sys.executable, "-m", "stations", "validate", str(table), "--crs", "wgs84"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    assert producer.stdout is not None
    first = producer.stdout.readline()
    producer.stdout.close()  # far more than a pipe buffer is still unwritten
    _, err = producer.communicate(timeout=120)
    assert b"lon" in first
    assert b"Traceback" not in err
    assert b"BrokenPipeError" not in err


def test_keys_are_created_listed_and_revoked(sample_gpkg, capsys):
    assert main(["keys", "create", "--data", str(sample_gpkg), "--office", "南宁市总工会",
                 "--city", "南宁市"]) == 0
    secret = capsys.readouterr().out.strip().splitlines()[-1]
    key_id = secret.partition(".")[0]
    assert main(["keys", "list", "--data", str(sample_gpkg)]) == 0
    listed = capsys.readouterr().out
    assert key_id in listed and "active" in listed and secret not in listed
    assert main(["keys", "revoke", "--data", str(sample_gpkg), key_id]) == 0
    assert main(["keys", "list", "--data", str(sample_gpkg)]) == 0
    assert "revoked" in capsys.readouterr().out
    assert main(["keys", "create", "--data", str(sample_gpkg), "--office", "x"]) == 2
    assert "--division" in capsys.readouterr().err
    assert main(["keys", "revoke", "--data", str(sample_gpkg), "knope"]) == 2
