"""Exceptions raised by the stations package.

Every error the package raises on purpose derives from :class:`StationsError`, so the CLI and the
API can turn them into a clear message or an HTTP status without catching unrelated bugs.
"""

from __future__ import annotations


class StationsError(Exception):
    """Root of all errors the package raises on purpose."""


class SourceError(StationsError):
    """A source table cannot be read at all (missing file, unknown format, unreadable encoding)."""


class DataFileError(StationsError):
    """A GeoPackage is missing, corrupt or does not have the station schema."""


class UnknownCoordinateSystem(StationsError, ValueError):
    """A coordinate system name that is not one of wgs84, gcj02 or bd09."""


class ReportRejected(StationsError, ValueError):
    """A problem report that breaks the rules (unknown kind, note too long)."""


class RetryLater(StationsError):
    """Refused for now; ``retry_after_s`` says when trying again can succeed."""

    def __init__(self, message: str, retry_after_s: int) -> None:
        super().__init__(message)
        self.retry_after_s = retry_after_s


class ReportRateLimited(RetryLater):
    """An address, a network or everyone together sent too many problem reports lately."""


class ReportStoreBusy(RetryLater):
    """Another process held the report file's write lock for longer than the busy timeout."""


class ReportStoreFull(StationsError):
    """Too many recent reports are open; planners must resolve or purge some."""


class CrossSiteRequest(StationsError):
    """A browser request sent from another site's page to an endpoint that accepts none."""


class UnsupportedMediaType(StationsError):
    """A request body whose Content-Type the endpoint does not take."""


class ReportNotFound(StationsError, LookupError):
    """No problem report has the given number."""


class ReportAlreadyResolved(StationsError):
    """A report that was resolved or dismissed before; ``report`` is it as it stands."""

    def __init__(self, message: str, report: dict[str, object]) -> None:
        super().__init__(message)
        self.report = report


class MapError(StationsError, ValueError):
    """A map cannot be built from the options given (unknown base map, bad radius, no stations)."""


class UnknownExportFormat(StationsError, ValueError):
    """A feed format name that no exporter has."""


class ExportError(StationsError):
    """A feed cannot be written (for example, an empty station table for vector tiles)."""


class InvalidInput(StationsError, ValueError):
    """A query parameter or body field that is missing, malformed or out of range.

    ``field`` names the parameter as the caller wrote it (``lat``, ``amenity``, ``points.3``);
    ``kind`` is a short machine-readable type such as ``less_than_equal`` or ``enum``.
    """

    def __init__(self, field: str, message: str, kind: str = "value_error",
                 value: object = None) -> None:
        super().__init__(f"{field}: {message}")
        self.field = field
        self.message = message
        self.kind = kind
        self.value = value


class StationNotFound(StationsError, LookupError):
    """No station has the given id."""


class PayloadTooLarge(StationsError):
    """A request body larger than the configured limit."""


class NotAuthenticated(StationsError):
    """A write without a valid office key (missing, unknown or revoked)."""


class OutOfScope(StationsError, PermissionError):
    """An office key used on a station outside the province, city or district it covers."""


class PreconditionRequired(StationsError):
    """A write that does not say which version of the station it changes (no ``If-Match``)."""


class VersionConflict(StationsError):
    """A write based on a version of a station that is no longer current.

    ``current`` is the station as it is now (with its version), or None when it was deleted,
    so the caller can show both sides and decide.
    """

    def __init__(self, message: str, station_id: str, current: dict[str, object] | None) -> None:
        super().__init__(message)
        self.station_id = station_id
        self.current = current


class StationExists(VersionConflict):
    """A new station whose id is already taken."""


class HistoryNotFound(StationsError, LookupError):
    """No history entry has the given number."""


class StoreUnavailable(StationsError):
    """The station database cannot be reached (the server keeps its last snapshot)."""


class PlanningError(StationsError, ValueError):
    """Planning input that cannot be used (reach out of range, demand file without weights)."""


class DistrictError(PlanningError):
    """Boundaries cannot be loaded or used (package missing, file without a code column)."""
