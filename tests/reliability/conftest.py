"""Fixtures for the reliability tests."""

from __future__ import annotations

# Headless Chromium, shared with the map tests.
from test_maps_browser import browser  # noqa: F401
