"""Cell hygiene before any field is read: control characters and field length limits.

A NUL or another control character in a cell rejects the row with the field and the
character's position, instead of cutting the text at it; line breaks inside a cell (Alt+Enter
in Excel) become spaces.  Each field has a length limit far above any real value, so a
2,000,000-character address is refused by name and limit instead of being stored.
"""

from __future__ import annotations

import re

import numpy as np
import pandas as pd

from ..text import CONTROL_CHARACTERS, LINE_BREAKS, first_control
from .findings import Findings
from .headings import field_label

_UNUSUAL = re.compile(f"{CONTROL_CHARACTERS.pattern}|{LINE_BREAKS.pattern}")
DEFAULT_LIMIT = 200
FIELD_LIMITS = {"name": 200, "name_en": 300, "address": 500, "operator": 200, "phone": 200,
                "opening_hours": 500, "source": 2000, "amenities": 2000, "position": 2000}


def clean_cells(frame: pd.DataFrame, findings: Findings) -> None:
    """Fold line breaks to spaces in place, and reject rows with control characters or
    over-long fields."""
    for name in frame.columns:
        text = frame[name].to_numpy(dtype=object, copy=True)
        codes, distinct = pd.factorize(text)  # an amenity column has few distinct cells
        lengths = np.fromiter(map(len, distinct), dtype=np.int64, count=len(distinct))[codes]
        control = has_break = np.zeros(len(text), dtype=bool)
        if _UNUSUAL.search(" ".join(distinct)):  # one search clears a whole column, as most are
            has_break = _matches(LINE_BREAKS, text)
            text[has_break] = [" ".join(LINE_BREAKS.sub(" ", v).split()) for v in text[has_break]]
            lengths[has_break] = [len(v) for v in text[has_break]]
            control = _matches(CONTROL_CHARACTERS, text)
        limit = FIELD_LIMITS.get(name, DEFAULT_LIMIT)
        too_long = lengths > limit
        findings.add(too_long, name, lambda i, t=text, limit=limit, name=name: (
            f"{field_label(name)}过长：{len(t[i]):,} 字，上限 {limit:,} 字",
            f"{len(t[i]):,} characters is longer than the limit for {name} ({limit:,})"))
        control &= ~too_long
        findings.add(control, name, lambda i, t=text: _control_message(t[i]))
        # A rejected cell is not read further: its text goes no further than the report.
        if (has_break | too_long | control).any():
            frame[name] = np.where(too_long | control, "", text)


def _matches(pattern: re.Pattern[str], text: np.ndarray) -> np.ndarray:
    return np.fromiter((pattern.search(v) is not None for v in text), dtype=bool,
                       count=len(text))


def _control_message(value: str) -> tuple[str, str]:
    position, code = first_control(value) or (0, "?")
    return (f"第{position}个字符是控制字符 {code}，请删除后重新导入",
            f"control character {code} at character {position}; remove it and import again")
