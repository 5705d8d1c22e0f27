"""Build the station GeoPackage from source tables: read, validate, write atomically.

Good rows are kept and bad rows are skipped and listed, unless the build is strict, in which
case any problem means nothing is written.  The old GeoPackage stays in place until a complete
new one replaces it (see :func:`stations.geodata.write_stations`).
"""

from __future__ import annotations

import os
import sys
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import pyogrio.errors
from tqdm import tqdm

from ..errors import DataFileError
from ..geodata import write_stations
from .problems import Problem
from .sources import SourceSpec, read_source
from .validate import ValidationResult, validate_tables


@dataclass(slots=True)
class BuildReport:
    """What a build read, stored and rejected; ``written`` says whether the file was replaced.

    ``rows_read == rows_stored + rows_rejected`` always holds.
    """

    sources: list[str]
    output: Path | None
    rows_read: int
    rows_stored: int
    rows_rejected: int
    problems: list[Problem] = field(default_factory=list)
    errors: int = 0
    warnings: int = 0
    notes: int = 0
    written: bool = False
    data_version: str = ""
    refusal: str = ""

    @classmethod
    def from_validation(cls, result: ValidationResult, sources: Sequence[SourceSpec],
                        output: str | os.PathLike[str] | None = None) -> BuildReport:
        """The counts and problems of a validation, before anything is written."""
        return cls(
            sources=[s.name for s in sources],
            output=Path(output) if output is not None else None,
            rows_read=result.rows_read,
            rows_stored=result.rows_stored,
            rows_rejected=result.rows_rejected,
            problems=result.problems,
            errors=result.errors,
            warnings=result.warnings,
            notes=result.notes,
        )

    def summary(self) -> str:
        """One line that adds up: read = stored + rejected, and the problem counts."""
        stored_word = "stored" if self.written else "valid"
        line = (f"{self.rows_read} rows read = {self.rows_stored} {stored_word} + "
                f"{self.rows_rejected} rejected; {self.errors} errors, {self.warnings} warnings, "
                f"{self.notes} notes (inferred or normalised)")
        if self.written:
            line += f"; wrote {self.output} (data version {self.data_version})"
        elif self.refusal:
            line += f"; {self.refusal}"
        return line


def progress_bar(total: int, enabled: bool | None, description: str) -> tqdm:
    """A tqdm bar on stderr; ``enabled=None`` shows it only when stderr is a terminal."""
    return tqdm(total=total, desc=description, unit="step", file=sys.stderr,
                disable=None if enabled is None else not enabled, leave=False)


def check_sources(sources: Sequence[SourceSpec], progress: bool | None = False
                  ) -> ValidationResult:
    """Read and validate ``sources`` without writing anything."""
    with progress_bar(len(sources) + 1, progress, "reading") as bar:
        tables = []
        for spec in sources:
            bar.set_description(f"reading {spec.name}")
            tables.append(read_source(spec))
            bar.update()
        bar.set_description(f"validating {sum(len(t.frame) for t in tables)} rows")
        result = validate_tables(tables)
        bar.update()
    return result


def build_geopackage(
    sources: Sequence[SourceSpec],
    output: str | os.PathLike[str],
    strict: bool = False,
    progress: bool | None = False,
) -> BuildReport:
    """Validate ``sources`` and write the good rows to the GeoPackage ``output``.

    Nothing is written when no row is valid, or when ``strict`` and any problem was found;
    the report's ``refusal`` then says why.
    """
    if Path(output).is_dir():
        raise DataFileError(f"{output}: is a folder; name the GeoPackage file to write")
    result = check_sources(sources, progress)
    report = BuildReport.from_validation(result, sources, output)
    if strict and result.errors + result.warnings:
        report.refusal = (f"--strict: {result.errors + result.warnings} problems, "
                          "nothing written")
    elif result.rows_stored == 0:
        report.refusal = "no valid station, nothing written"
    if report.refusal:
        return report
    with progress_bar(1, progress, f"writing {len(result.stations)} stations") as bar:
        try:
            report.data_version = write_stations(
                result.stations, output, extra_info={"sources": ", ".join(report.sources)}
            )
        except (OSError, pyogrio.errors.DataSourceError) as exc:
            raise DataFileError(f"{output}: cannot write the GeoPackage: {exc}") from exc
        bar.update()
    report.written = True
    return report
