"""Exceptions raised by the stations package.

Every error the package raises on purpose derives from :class:`StationsError`, so the CLI and the
API can turn them into a clear message or an HTTP status without catching unrelated bugs.
"""

from __future__ import annotations


class StationsError(Exception):
    """Root of all errors the package raises on purpose."""


class SourceError(StationsError):
    """A source table cannot be read at all (missing file, unknown format, unreadable encoding)."""


class ValidationFailed(StationsError):
    """A build found problems and was asked to be strict about them."""


class DataFileError(StationsError):
    """A GeoPackage is missing, corrupt or does not have the station schema."""


class UnknownCoordinateSystem(StationsError, ValueError):
    """A coordinate system name that is not one of wgs84, gcj02 or bd09."""
