"""What an import found in each row, said in Chinese with the English beside it.

Office staff read these reports, so every entry names the file (and sheet), the record number
as ``row 4 (第4行)`` and the field.  Reading and validating both produce them; keeping the type
in its own module lets the reader and the validator share it without depending on each other.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass


class Severity(enum.StrEnum):
    """An error rejects the row; a warning keeps it; a note says what was inferred or
    normalised."""

    ERROR = "error"
    WARNING = "warning"
    NOTE = "note"


_PREFIX = {Severity.ERROR: "", Severity.WARNING: "警告 warning: ", Severity.NOTE: "说明 note: "}


def row_words(row: int) -> str:
    """``row 4 (第4行)``: the record number as a spreadsheet shows it."""
    return f"row {row} (第{row}行)"


def where(file: str, row: int) -> str:
    """``nanning.csv row 4 (第4行)``."""
    return f"{file} {row_words(row)}"


@dataclass(frozen=True, slots=True)
class Problem:
    """One thing found in one row of one source file.

    ``row`` is the row number as shown by a spreadsheet (the heading row is 1 when nothing is
    above it), or the feature number counted from 1 for GeoJSON.  ``zh`` is the message in
    Chinese, shown before the English ``message`` when present.
    """

    file: str
    row: int
    field: str
    message: str
    severity: Severity = Severity.ERROR
    zh: str = ""

    @property
    def text(self) -> str:
        return f"{self.zh} / {self.message}" if self.zh else self.message

    def __str__(self) -> str:
        return f"{where(self.file, self.row)}: {self.field}: {_PREFIX[self.severity]}{self.text}"
