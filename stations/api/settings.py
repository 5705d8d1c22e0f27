"""API settings, read from ``STATIONS_*`` environment variables when the app is created."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

from ..crs import CoordinateSystem
from ..model import DEFAULT_GEOPACKAGE
from ..reports import HOUR_S, Budget, ReportLimits
from ..service import MAX_RADIUS_M

_REPORTS = ReportLimits()  # the defaults are defined once, there


class ApiSettings(BaseSettings):
    """Everything the web API can be configured with; each field is ``STATIONS_<NAME>``."""

    model_config = SettingsConfigDict(env_prefix="STATIONS_", extra="ignore")

    data: Path = Field(Path(DEFAULT_GEOPACKAGE), description="station GeoPackage to serve")
    database: str | None = Field(
        None, description="postgresql:// URL of a PostGIS store to serve instead of the "
        "GeoPackage; this process becomes one of its replicas")
    console_accounts: Path | None = Field(
        None, description="SQLite file for the office console's staff accounts and sessions; "
        "default console.sqlite beside the GeoPackage (with --database they live in the "
        "database)")
    console_sheet_crs: CoordinateSystem = Field(
        CoordinateSystem.GCJ02, description="coordinate system the console's upload form "
        "offers first for an office's sheet (wgs84, gcj02 or bd09)")
    console_sheet_max_bytes: int = Field(
        2_000_000, ge=1024, description="largest sheet (CSV or XLSX) the console accepts")
    reports: Path | None = Field(
        None, description="SQLite file for riders' problem reports; default reports.sqlite "
        "beside the GeoPackage")
    roads: Path | None = Field(
        None, description="OpenStreetMap extract (.osm.pbf) for by=road answers; none: "
        "straight-line only")
    report_origins: list[str] = Field(
        [], description="origins besides the API's own whose pages may send problem reports, "
        "e.g. https://app.example.org")
    reports_per_address: int = Field(
        _REPORTS.per_address.count, ge=1,
        description="reports per address (IPv6: per /64) in reports_address_window_s")
    reports_address_window_s: float = Field(
        _REPORTS.per_address.window_s, gt=0, description="window of the per-address budget")
    reports_per_network: int = Field(
        _REPORTS.per_network.count, ge=1, description="reports per hour per /24 (IPv6: /48)")
    reports_per_hour: int = Field(
        _REPORTS.everyone.count, ge=1, description="reports per hour from everyone together")
    reports_dedupe_window_s: float = Field(
        _REPORTS.dedupe_window_s, ge=0, description="a report of the same kind for the same "
        "station within this time returns the open one instead of storing another")
    reports_max_open: int = Field(
        _REPORTS.max_open, ge=1, description="open reports kept at most (then 503)")
    reports_counted_days: float = Field(
        _REPORTS.counted_days, gt=0,
        description="open reports older than this stop counting toward reports_max_open")
    reports_busy_timeout_s: float = Field(
        _REPORTS.busy_timeout_s, gt=0,
        description="wait this long for another writer of the report file, then answer 503")
    reload_interval_s: float = Field(
        2.0, description="how often to check the GeoPackage for a rebuild; 0 turns it off")
    max_batch_points: int = Field(10_000, ge=1, description="points per POST /nearest/batch")
    max_batch_answers: int = Field(
        100_000, ge=1, description="points × k per POST /nearest/batch; more is refused (422) "
        "before any work")
    batch_gzip_level: int = Field(
        1, ge=0, le=3, description="gzip level of batch answers, ISA-L's 0 to 3 (large, mostly "
        "digits: level 1 is several times faster than zlib's for about the same size)")
    max_body_bytes: int = Field(1_000_000, ge=1024, description="largest request body accepted")
    ogc_default_limit: int = Field(100, ge=1, description="OGC items page size by default")
    ogc_max_limit: int = Field(1000, ge=1, description="larger OGC limits are clamped to this")
    gzip_min_bytes: int = Field(1400, ge=0, description="gzip bodies at least this large")
    cors_origins: list[str] = Field(["*"], description="origins allowed by CORS; * for all")
    reach_m: float = Field(
        20_000.0, gt=0, le=MAX_RADIUS_M, description="riding reach in metres: the rider page "
        "lists stations within it, and the nearest one beyond it when there is none")
    clock_at: dt.datetime | None = Field(
        None, description="for tests and demos only: answer as if it always were this moment "
        "(ISO 8601; without an offset it is Asia/Shanghai time) instead of reading the clock")
    fast_path: bool = Field(
        True, description="answer GET /nearest before the framework's routing (same answers)")
    search_counts: bool = Field(
        False, description="count GET /nearest searches per ~500 m cell and day for planners "
        "(no positions or addresses are kept); opt-in")
    search_counts_file: Path | None = Field(
        None, description="SQLite file for the search counts; default searches.sqlite beside "
        "the GeoPackage")
    search_counts_flush_s: float = Field(
        60.0, gt=0, description="how often the search counts are written to their file")

    def report_limits(self) -> ReportLimits:
        """The report budgets and caps these settings give."""
        return ReportLimits(
            per_address=Budget(self.reports_per_address, self.reports_address_window_s),
            per_network=Budget(self.reports_per_network, HOUR_S),
            everyone=Budget(self.reports_per_hour, HOUR_S),
            dedupe_window_s=self.reports_dedupe_window_s,
            max_open=self.reports_max_open,
            counted_days=self.reports_counted_days,
            busy_timeout_s=self.reports_busy_timeout_s,
        )
