"""Text from outside (sheet cells, riders' notes): which characters are controls.

A control character is reported or removed as a whole character, never by cutting the text at
it (a NUL once truncated ``A\\x00B 名字`` to ``A``).  Characters that are part of writing are
not controls: the zero-width joiner inside 👩‍🔧, variation selectors, and characters newer than
Python's Unicode tables (this year's emoji are "unassigned" to an older Python).
"""

from __future__ import annotations

import re

# C0 and C1 controls (tab and line breaks are handled by the caller), DEL, and the
# bidirectional overrides that can make a terminal show text in a misleading order.
CONTROL_CHARACTERS = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")
LINE_BREAKS = re.compile(r"[\t\r\n\u2028\u2029]+")


def first_control(text: str) -> tuple[int, str] | None:
    """The 1-based position and ``U+XXXX`` name of the first control character, if any."""
    found = CONTROL_CHARACTERS.search(LINE_BREAKS.sub(" ", text))
    if found is None:
        return None
    return found.start() + 1, f"U+{ord(found.group()):04X}"


def without_controls(text: str) -> str:
    """``text`` with control characters removed; line breaks are kept."""
    return CONTROL_CHARACTERS.sub("", text)
