"""Where the table is inside a sheet as offices lay it out.

Above the headings there is often a title (``南宁市工会驿站一览表``) and a date line, so the
headings are in row 2 or 3; below the stations come notes (``合计``, ``备注：``, ``填表人：``);
blank rows separate groups; in XLSX a district is merged over the rows of its stations.  This
module finds the heading row, drops note rows and fills merged cells, so that what reaches the
validator is one row per station.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from .headings import Headings, recognise_headings

HEADING_SEARCH_ROWS = 10
# A row whose first filled cell starts like this is a note under the table, not a station.
_NOTE_ROW = re.compile(r"^\s*(合\s*计|总\s*计|小\s*计|共计|备\s*注|注\s*[:：]|说明|填表人|填报人|"
                       r"制表人|制表|审核人|审核|负责人|联系人\s*[:：]|填表日期|填报日期|"
                       r"填报单位|日期\s*[:：])")
Cells = list[list[object]]


@dataclass(slots=True)
class Sheet:
    """One sheet as text: cells, the row number of each row, and the sheet's name."""

    name: str
    grid: pd.DataFrame
    numbers: np.ndarray


@dataclass(slots=True)
class LocatedTable:
    """A sheet's heading row and the station rows under it (note rows removed)."""

    headings: Headings
    heading_row: int
    body: pd.DataFrame
    numbers: np.ndarray
    note_rows: list[tuple[int, str]] = field(default_factory=list)


def fill_merged(cells: Cells, ranges: list[tuple[tuple[int, int], tuple[int, int]]]) -> None:
    """Give every cell of a merged range the value of its top-left cell, in place."""
    for (top, left), (bottom, right) in ranges:
        if top >= len(cells) or left >= len(cells[top]):
            continue
        value = cells[top][left]
        for r in range(top, min(bottom, len(cells) - 1) + 1):
            row = cells[r]
            for c in range(left, min(right, len(row) - 1) + 1):
                row[c] = value


def locate_table(sheet: Sheet, mapping: dict[str, str]) -> LocatedTable | None:
    """The first of the top rows that names a name column and a position; None if no row
    does (a sheet of notes in a workbook)."""
    grid = sheet.grid
    for i in range(min(HEADING_SEARCH_ROWS, len(grid))):
        headings = recognise_headings(grid.iloc[i].tolist(), mapping)
        if headings.has("name") and headings.locates:
            body = grid.iloc[i + 1:].reset_index(drop=True)
            numbers = sheet.numbers[i + 1:]
            first = _first_filled(body)
            notes = first.str.match(_NOTE_ROW).to_numpy(dtype=bool)
            note_rows = [(int(n), str(t)[:40]) for n, t in
                         zip(numbers[notes], first[notes], strict=True)]
            return LocatedTable(headings, int(sheet.numbers[i]),
                                body[~notes].reset_index(drop=True), numbers[~notes], note_rows)
    return None


def _first_filled(body: pd.DataFrame) -> pd.Series:
    """Each row's first non-empty cell."""
    first = np.full(len(body), "", dtype=object)
    for column in reversed(range(body.shape[1])):
        cells = body.iloc[:, column].to_numpy(dtype=object)
        first = np.where(cells != "", cells, first)
    return pd.Series(first, dtype=object)
