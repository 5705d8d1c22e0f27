"""Chinese phone numbers as union offices write them, checked and put in international form.

Station sheets hold mobiles (138 0000 0000), landlines behind an area code (0771-12351,
010-12351), national 400/800 numbers and short hotlines (12351), sometimes several in one cell.
OpenStreetMap and other international consumers want ``+86`` numbers without the trunk 0.
"""

from __future__ import annotations

import re

_PART = re.compile(r"(?:\+?86)?\d{5,12}(?:(?:转|ext\.?|x)\d{1,6})?", re.IGNORECASE)
_SEPARATORS = re.compile(r"[/、;,，；]| or |或")
_NOISE = re.compile(r"[\s\-()（）]")
# Beijing (010) and the 02x cities have two-digit area codes; every other area code has three.
_TWO_DIGIT_AREA = re.compile(r"0(10|2\d)(\d{7,8})")
_THREE_DIGIT_AREA = re.compile(r"0([3-9]\d\d)(\d{7,8})")
_MOBILE = re.compile(r"(1\d\d)(\d{4})(\d{4})")
_NATIONAL = re.compile(r"([48]00)(\d{3})(\d{4})")


def _parts(value: str) -> list[str]:
    return [_NOISE.sub("", p) for p in _SEPARATORS.split(value)]


def phone_looks_right(value: str) -> bool:
    """Empty, or one or more mobile, landline or hotline numbers."""
    if value == "":
        return True
    parts = _parts(value)
    return all(_PART.fullmatch(p) for p in parts if p) and any(parts)


def international_phone(value: str) -> str:
    """``value`` as ``+86 …`` numbers joined by ``;`` (OpenStreetMap's form).

    Short hotlines such as 12351 cannot be dialled from abroad and stay as written; so does a
    cell in which any number is not recognised, rather than lose part of it.
    """
    numbers = []
    for part in filter(None, _parts(value)):
        digits = part.removeprefix("+86")
        for pattern in (_MOBILE, _NATIONAL, _TWO_DIGIT_AREA, _THREE_DIGIT_AREA):
            match = pattern.fullmatch(digits)
            if match:
                numbers.append("+86 " + " ".join(match.groups()))
                break
        else:
            return value
    return ";".join(numbers) or value
