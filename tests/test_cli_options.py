"""The command line, consistently: every subcommand documents itself, and an option spelled the
same means the same thing everywhere (``--data``, ``--output/-o``, ``--reports``, ...)."""

from __future__ import annotations

import argparse
import shutil
from collections import defaultdict
from collections.abc import Iterator
from pathlib import Path

import pytest

from stations.cli import main, make_parser
from stations.model import DEFAULT_GEOPACKAGE
from stations.reports import SQLiteReportStore


def commands(parser: argparse.ArgumentParser, words: tuple[str, ...] = ()
             ) -> Iterator[tuple[tuple[str, ...], argparse.ArgumentParser]]:
    """Every registered (sub)command with its parser, nested actions included."""
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for name, sub in action.choices.items():
                yield (*words, name), sub
                yield from commands(sub, (*words, name))


ALL_COMMANDS = sorted(commands(make_parser()))


@pytest.mark.parametrize("words", [words for words, _ in ALL_COMMANDS], ids=" ".join)
def test_every_command_and_action_has_help(words, capsys):
    with pytest.raises(SystemExit) as exit_info:
        main([*words, "--help"])
    assert exit_info.value.code == 0
    assert f"usage: stations {' '.join(words)}" in capsys.readouterr().out


def test_an_option_means_the_same_thing_in_every_command():
    meaning: dict[str, set[tuple[object, ...]]] = defaultdict(set)
    where: dict[str, list[str]] = defaultdict(list)
    for words, parser in ALL_COMMANDS:
        for action in parser._actions:
            if isinstance(action, argparse._HelpAction | argparse._SubParsersAction):
                continue
            for option in action.option_strings:
                # The same destination, and a flag everywhere or a value everywhere.
                meaning[option].add((action.dest, action.nargs == 0))
                where[option].append(" ".join(words))
    different = {option: sorted(map(str, m)) for option, m in meaning.items() if len(m) > 1}
    assert different == {}
    # The shared options are where they belong, spelled one way, with one metavar.
    assert {"build", "export", "map", "synth"} <= set(where["--output"])
    assert {"export", "info", "map", "serve", "reports list", "reports purge"} <= set(
        where["--data"])
    assert {"map", "serve", "reports list", "reports resolve", "reports purge"} <= set(
        where["--reports"])
    assert meaning["-o"] == {("output", False)}
    for words, parser in ALL_COMMANDS:
        for action in parser._actions:
            if "--output" in action.option_strings:
                assert "-o" in action.option_strings, words
            if "--data" in action.option_strings:  # a store that may also be a PostGIS URL
                assert action.metavar.startswith("GPKG"), words
            if "--reports" in action.option_strings:
                assert action.metavar == "DB", words
    assert not {"--gpkg", "--out-dir", "--outdir", "--geopackage"} & set(meaning)


def test_data_option_defaults_to_the_served_geopackage():
    for words, parser in ALL_COMMANDS:
        for action in parser._actions:
            if "--data" in action.option_strings:
                assert action.default == DEFAULT_GEOPACKAGE, words


def test_info_takes_data_and_still_the_old_positional(sample_gpkg, capsys):
    assert main(["info", "--data", str(sample_gpkg)]) == 0
    out, err = capsys.readouterr()
    assert out.startswith(f"{sample_gpkg}: 6 stations") and err == ""
    assert main(["info", str(sample_gpkg)]) == 0
    out, err = capsys.readouterr()
    assert out.startswith(f"{sample_gpkg}: 6 stations")
    assert "deprecated" in err and "--data GPKG" in err
    assert main(["info", str(sample_gpkg), "--data", "other.gpkg"]) == 2
    assert "two GeoPackages" in capsys.readouterr().err


def test_map_out_is_an_alias_of_output(sample_gpkg, tmp_path, capsys):
    out = tmp_path / "maps"
    assert main(["map", "--data", str(sample_gpkg), "--out", str(out), "--kind", "stations",
                 "--no-progress", "--cdn"]) == 0
    assert (out / "stations.html").is_file()
    assert "--out is deprecated" in capsys.readouterr().err


def test_map_reports_db_is_the_shared_reports_option(sample_gpkg, tmp_path, capsys):
    elsewhere = tmp_path / "elsewhere.sqlite"
    SQLiteReportStore(elsewhere).add("NN-003", "other", client="a")
    out = tmp_path / "maps"
    assert main(["map", "--data", str(sample_gpkg), "-o", str(out), "--reports",
                 str(elsewhere), "--kind", "stations", "--no-progress", "--cdn"]) == 0
    assert "⚠" in (out / "stations.html").read_text(encoding="utf-8")


@pytest.mark.parametrize(("city", "message"), [
    ("南宁", "did you mean 南宁市?"),
    (" 重庆 ", "did you mean 重庆市?"),
    ("北京市", "cities in the data include: 南宁市, 重庆市"),
])
def test_map_city_suggests_the_city_in_the_data(sample_gpkg, tmp_path, capsys, city, message):
    assert main(["map", "--data", str(sample_gpkg), "-o", str(tmp_path), "--city", city,
                 "--no-progress"]) == 2
    assert message in capsys.readouterr().err


@pytest.mark.parametrize("extra", [["--crs", "gcj02"], ["--mapping", "m.toml"],
                                   ["--encoding", "gb18030"]])
@pytest.mark.parametrize("command", ["build", "validate"])
def test_file_options_without_files_are_an_error(tmp_path, monkeypatch, capsys, command, extra):
    """``stations build --crs gcj02`` used to rebuild geodata/stations.gpkg from the manifest."""
    sources = Path(__file__).parent.parent / "geodata" / "sources"
    if sources.is_dir():
        shutil.copytree(sources, tmp_path / "geodata" / "sources")
    monkeypatch.chdir(tmp_path)
    assert main([command, *extra]) == 2
    err = capsys.readouterr().err
    assert f"{extra[0]} applies to FILEs, and no FILE was given" in err
    assert not (tmp_path / "geodata" / "stations.gpkg").exists()
