"""Problems collected column by column while validating, turned into reports at the end.

Checks run over whole columns; each one says which rows it found something in and how to word
it.  Errors mark their rows rejected; warnings and notes keep them.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt

from .problems import Problem, Severity, where

Wording = Callable[[int], str | tuple[str, str]]  # row -> English, or (Chinese, English)


@dataclass(slots=True)
class Findings:
    """Per-row places (file and sheet), row numbers and source order, and what was found."""

    files: npt.NDArray[np.object_]
    rows: npt.NDArray[np.int64]
    order: npt.NDArray[np.int64]
    rejected: npt.NDArray[np.bool_]
    found: list[tuple[int, int, Problem]] = field(default_factory=list)

    def add(self, where: npt.ArrayLike, name: str, message: Wording,
            severity: Severity = Severity.ERROR) -> None:
        """Report ``message(i)`` for every row ``i`` in ``where`` (a mask or positions)."""
        positions = np.asarray(where)
        if positions.size == 0:
            return
        if positions.dtype == bool:
            positions = np.flatnonzero(positions)
        if severity is Severity.ERROR:
            self.rejected[positions] = True
        for i in positions.tolist():
            said = message(i)
            zh, en = said if isinstance(said, tuple) else ("", said)
            problem = Problem(self.files[i], int(self.rows[i]), name, en, severity, zh)
            self.found.append((int(self.order[i]), int(self.rows[i]), problem))

    def place(self, i: int) -> str:
        """``nanning.csv row 3 (第3行)`` for row ``i``."""
        return where(self.files[i], int(self.rows[i]))

    def problems(self) -> list[Problem]:
        return [p for _, _, p in sorted(self.found, key=lambda item: item[:2])]
