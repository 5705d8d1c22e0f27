"""``stations synth``: write a synthetic national station table for scale tests and benchmarks."""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

import pyarrow as pa
import pyarrow.csv as pa_csv

from ..errors import StationsError
from ..synth import CITIES, synthesize_table
from . import SUBCOMMANDS
from .options import add_output_option

MAX_COUNT = 10_000_000
DEFAULT_OUTPUT = "synthetic-stations.csv"


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = subparsers.add_parser(
        "synth",
        help=SUBCOMMANDS["synth"],
        description="Write COUNT made-up stations clustered around "
        f"{len(CITIES)} real city centres, with names, addresses, opening hours and amenities "
        "like real 工会驿站, as a UTF-8 CSV that 'stations build FILE --crs wgs84' reads. "
        "Coordinates are WGS84.  The same seed always gives the same table.",
    )
    parser.add_argument("--count", "-n", type=_station_count, default=1000,
                        help=f"number of stations, 1 to {MAX_COUNT:,} (default: %(default)s)")
    parser.add_argument("--seed", "-s", type=int, default=0,
                        help="random seed; equal seeds give equal tables (default: %(default)s)")
    add_output_option(parser, what="CSV file to write, replaced if it exists",
                      metavar="FILE.csv", default=DEFAULT_OUTPUT)
    parser.set_defaults(handler=run)


def _station_count(text: str) -> int:
    try:
        count = int(text.replace("_", "").replace(",", ""))
    except ValueError:
        raise argparse.ArgumentTypeError(f"--count must be a whole number, not {text!r}") from None
    if not 1 <= count <= MAX_COUNT:
        raise argparse.ArgumentTypeError(
            f"--count must be between 1 and {MAX_COUNT:,}, not {count}"
        )
    return count


def run(args: argparse.Namespace) -> int:
    output = Path(args.output)
    if not output.parent.is_dir():
        raise StationsError(f"cannot write {output}: folder {output.parent} does not exist")
    started = time.perf_counter()
    table = synthesize_table(args.count, args.seed)
    # Write beside the target and move it into place, so an interrupted run leaves no half file.
    partial = output.with_name(f".{output.name}.partial")
    try:
        # pyarrow writes UTF-8 CSV about five times faster than pandas for a national table.
        pa_csv.write_csv(pa.Table.from_pandas(table, preserve_index=False), partial)
        os.replace(partial, output)
    except OSError as exc:
        partial.unlink(missing_ok=True)
        raise StationsError(f"cannot write {output}: {exc.strerror or exc}") from None
    seconds = time.perf_counter() - started
    print(f"wrote {len(table):,} synthetic stations in {table['city'].nunique()} cities to "
          f"{output} ({seconds:.1f} s)", file=sys.stderr)
    return 0
