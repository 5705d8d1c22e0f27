"""Problems found in source rows, reported with the file and row number the user sees.

Reading and validating both produce problems; keeping the type in its own module lets the
reader (``sources.py``) and the validator (``validate.py``) share it without depending on
each other.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass


class Severity(enum.StrEnum):
    """An error rejects the row; a warning keeps it and reports it."""

    ERROR = "error"
    WARNING = "warning"


@dataclass(frozen=True, slots=True)
class Problem:
    """One thing wrong with one row of one source file.

    ``row`` is the row number as shown by a spreadsheet (the heading row is 1, the first data
    row is 2), or the feature number counted from 1 for GeoJSON.
    """

    file: str
    row: int
    field: str
    message: str
    severity: Severity = Severity.ERROR

    def __str__(self) -> str:
        prefix = "" if self.severity is Severity.ERROR else "warning: "
        return f"{self.file}:{self.row}: {self.field}: {prefix}{self.message}"
