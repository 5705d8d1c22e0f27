"""Options shared by ``stations build`` and ``stations validate``: which sources, how to read them,
and how to print the problem report."""

from __future__ import annotations

import argparse
from collections.abc import Sequence
from pathlib import Path

from ..crs import CoordinateSystem
from ..errors import SourceError
from ..ingest.problems import Problem, Severity
from ..ingest.sources import ENCODINGS, SourceSpec, make_spec, read_manifest, read_mapping_file
from ..model import DEFAULT_MANIFEST
from .options import add_progress_option

DEFAULT_MAX_PROBLEMS = 200


def add_source_arguments(parser: argparse.ArgumentParser) -> None:
    """Options that choose and read the source tables."""
    parser.add_argument(
        "files", nargs="*", metavar="FILE",
        help="source tables (.csv, .xlsx, .geojson) to read instead of the manifest; "
        "needs --crs",
    )
    parser.add_argument(
        "--manifest", default=DEFAULT_MANIFEST, metavar="TOML",
        help=f"source manifest used when no FILE is given (default: {DEFAULT_MANIFEST})",
    )
    parser.add_argument(
        "--crs", choices=[c.value for c in CoordinateSystem],
        help="coordinate system the FILEs are written in: wgs84 (GPS, QGIS), gcj02 (Amap, "
        "Tencent) or bd09 (Baidu); required with FILE",
    )
    parser.add_argument(
        "--mapping", metavar="TOML",
        help='TOML file of extra "heading" = "field" lines for headings the program does not '
        "know (applies to the FILEs)",
    )
    parser.add_argument(
        "--encoding", choices=ENCODINGS, default="auto",
        help="text encoding of CSV FILEs (default: auto, which tells UTF-8, UTF-8 with BOM "
        "and GB18030 apart)",
    )
    parser.add_argument(
        "--id-prefix", default="", metavar="PREFIX",
        help="prefix of the ids made for rows without one (e.g. NN-); the manifest's "
        "id_prefix for manifest sources",
    )
    parser.add_argument(
        "--max-problems", type=int, default=DEFAULT_MAX_PROBLEMS, metavar="N",
        help=f"print at most N problem lines (default: {DEFAULT_MAX_PROBLEMS}; 0 prints all)",
    )
    add_progress_option(parser)


def source_specs(args: argparse.Namespace) -> list[SourceSpec]:
    """The sources the options name: the FILEs with --crs, or the manifest's entries."""
    if not args.files:
        # Options for FILEs given without FILEs are a mistake; building from the manifest
        # instead would silently replace the served GeoPackage.
        for option, given in (("--crs", args.crs), ("--mapping", args.mapping),
                              ("--encoding", args.encoding != "auto")):
            if given:
                raise SourceError(f"{option} applies to FILEs, and no FILE was given: name the "
                                  f"source tables, or drop {option} to read the manifest "
                                  f"{args.manifest}")
        return read_manifest(args.manifest)
    if args.crs is None:
        raise SourceError("--crs is required with FILE: say which coordinate system the "
                          "files use (wgs84, gcj02 or bd09)")
    mapping = read_mapping_file(args.mapping) if args.mapping else {}
    return [make_spec(Path(f), args.crs, encoding=args.encoding, mapping=mapping, label=f,
                      id_prefix=args.id_prefix) for f in args.files]


def print_problems(problems: Sequence[Problem], limit: int) -> None:
    """One line per problem on stdout, at most ``limit`` of them (0: all)."""
    shown = problems if limit <= 0 else problems[:limit]
    for problem in shown:
        print(problem)
    if len(shown) < len(problems):
        print(f"... and {len(problems) - len(shown)} more problems "
              "(use --max-problems 0 to list all)")


def exit_code(problems: Sequence[Problem], written: bool = True) -> int:
    """0 when clean (notes on what was inferred are not problems), 1 when rows had errors or
    warnings, 2 when nothing could be written."""
    from . import EXIT_ERROR, EXIT_OK, EXIT_PROBLEMS  # the package defines them after import

    if not written:
        return EXIT_ERROR
    return EXIT_PROBLEMS if any(p.severity is not Severity.NOTE for p in problems) else EXIT_OK
