"""Chinese phone numbers: which cells look right, and their international form."""

from __future__ import annotations

import pytest

from stations.phones import international_phone, phone_looks_right


@pytest.mark.parametrize("phone", ["0771-12351", "13800138000", "+86 138 0013 8000",
                                   "12351", "(0771)5551234转8001", "0771-1234567/13800138000"])
def test_phones_that_look_right(phone):
    assert phone_looks_right(phone)


@pytest.mark.parametrize(("written", "international"), [
    ("13800138000", "+86 138 0013 8000"),
    ("138-0013-8000", "+86 138 0013 8000"),
    ("+86 138 0013 8000", "+86 138 0013 8000"),
    ("010-12345678", "+86 10 12345678"),         # Beijing: two-digit area code
    ("(020) 8765 4321", "+86 20 87654321"),      # Guangzhou
    ("0771-5551234", "+86 771 5551234"),         # Nanning: three digits
    ("0755 8888 6666", "+86 755 88886666"),
    ("400-888-1234", "+86 400 888 1234"),
    ("0771-5551234、13800138000", "+86 771 5551234;+86 138 0013 8000"),
])
def test_numbers_in_international_form(written, international):
    assert international_phone(written) == international


@pytest.mark.parametrize("written", [
    "12351",                       # a hotline, not diallable from abroad
    "0771-12351",                  # the hotline behind an area code
    "0771-5551234/12351",          # one part unrecognised: the cell stays whole
    "(0771)5551234转8001",         # an extension
    "电话待定",
    "",
])
def test_what_cannot_be_put_in_international_form_stays_as_written(written):
    assert international_phone(written) == written
