"""API settings, read from ``STATIONS_*`` environment variables when the app is created."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

from ..model import DEFAULT_GEOPACKAGE


class ApiSettings(BaseSettings):
    """Everything the web API can be configured with; each field is ``STATIONS_<NAME>``."""

    model_config = SettingsConfigDict(env_prefix="STATIONS_", extra="ignore")

    data: Path = Field(Path(DEFAULT_GEOPACKAGE), description="station GeoPackage to serve")
    reports: Path | None = Field(
        None, description="SQLite file for riders' problem reports; default reports.sqlite "
        "beside the GeoPackage")
    reload_interval_s: float = Field(
        2.0, description="how often to check the GeoPackage for a rebuild; 0 turns it off")
    max_batch_points: int = Field(10_000, ge=1, description="points per POST /nearest/batch")
    max_batch_answers: int = Field(
        100_000, ge=1, description="points × k per POST /nearest/batch; more is refused (422) "
        "before any work")
    batch_gzip_level: int = Field(
        1, ge=1, le=9, description="gzip level of batch answers (large, mostly digits: level 1 "
        "is several times faster than 9 for a few per cent more bytes)")
    max_body_bytes: int = Field(1_000_000, ge=1024, description="largest request body accepted")
    ogc_default_limit: int = Field(100, ge=1, description="OGC items page size by default")
    ogc_max_limit: int = Field(1000, ge=1, description="larger OGC limits are clamped to this")
    gzip_min_bytes: int = Field(1400, ge=0, description="gzip bodies at least this large")
    cors_origins: list[str] = Field(["*"], description="origins allowed by CORS; * for all")
    clock_at: dt.datetime | None = Field(
        None, description="for tests and demos only: answer as if it always were this moment "
        "(ISO 8601; without an offset it is Asia/Shanghai time) instead of reading the clock")
    fast_path: bool = Field(
        True, description="answer GET /nearest before the framework's routing (same answers)")
