"""Options that several subcommands share, defined once so they mean the same thing everywhere.

``--data GPKG`` is the station GeoPackage read, ``--output/-o`` is where a command writes,
``--reports DB`` is the problem report file.  Old spellings (``--out``, ``--db``) still work
and print a note naming the new one.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from ..model import DEFAULT_GEOPACKAGE
from ..reports import default_reports_path


class StoreWithNote(argparse.Action):
    """Store the value; an old spelling in ``deprecated`` also prints a note naming the new one."""

    def __init__(self, option_strings: Sequence[str], dest: str,
                 deprecated: Sequence[str] = (), **kwargs: Any) -> None:
        super().__init__(option_strings, dest, **kwargs)
        self.deprecated = tuple(deprecated)

    def __call__(self, parser: argparse.ArgumentParser, namespace: argparse.Namespace,
                 values: Any, option_string: str | None = None) -> None:
        if option_string in self.deprecated:
            deprecation_note(parser.prog, option_string or "", self.option_strings[0])
        setattr(namespace, self.dest, values)


def deprecation_note(prog: str, old: str, new: str) -> None:
    """Tell, on stderr, that an old spelling still works but will go."""
    print(f"{prog}: note: {old} is deprecated and will go; use {new}", file=sys.stderr)


def add_data_option(parser: argparse.ArgumentParser) -> None:
    """``--data GPKG``: the station GeoPackage a command reads."""
    parser.add_argument("--data", default=DEFAULT_GEOPACKAGE, metavar="GPKG",
                        help=f"station GeoPackage (default: {DEFAULT_GEOPACKAGE})")


def add_database_option(parser: argparse.ArgumentParser, what: str) -> None:
    """``--database URL``: a PostGIS store (``postgresql://…``) used instead of ``--data``."""
    parser.add_argument("--database", metavar="URL",
                        help=f"PostGIS store, postgresql://user@host/db: {what}")


def add_output_option(parser: argparse.ArgumentParser, *, what: str, metavar: str,
                      default: object = None, old: Sequence[str] = ()) -> None:
    """``--output/-o``: where the command writes ``what``; ``old`` spellings still work."""
    shown = f" (default: {default})" if default is not None else ""
    parser.add_argument("--output", "-o", *old, dest="output", default=default,
                        metavar=metavar, action=StoreWithNote, deprecated=old,
                        help=f"{what}{shown}")


def add_reports_option(parser: argparse.ArgumentParser, old: Sequence[str] = ()) -> None:
    """``--reports DB``: the problem report file, by default beside the ``--data`` GeoPackage."""
    parser.add_argument("--reports", *old, dest="reports", type=Path, metavar="DB",
                        action=StoreWithNote, deprecated=old,
                        help="problem report file (default: reports.sqlite beside the "
                        "--data GeoPackage)")


def add_progress_option(parser: argparse.ArgumentParser, when: str = "") -> None:
    """``--progress/--no-progress``: a progress bar on stderr, by default only on a terminal."""
    parser.add_argument("--progress", action=argparse.BooleanOptionalAction, default=None,
                        help="show a progress bar on stderr (default: only when stderr is a "
                        f"terminal{when})")


def reports_path(args: argparse.Namespace) -> Path:
    """The report file the options name: ``--reports``, or the one beside ``--data``."""
    return Path(args.reports) if args.reports else default_reports_path(args.data)
