"""API settings, read from ``STATIONS_*`` environment variables when the app is created."""

from __future__ import annotations

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
    roads: Path | None = Field(
        None, description="OpenStreetMap extract (.osm.pbf) for by=road answers; none: "
        "straight-line only")
    reload_interval_s: float = Field(
        2.0, description="how often to check the GeoPackage for a rebuild; 0 turns it off")
    max_batch_points: int = Field(10_000, ge=1, description="points per POST /nearest/batch")
    max_body_bytes: int = Field(1_000_000, ge=1024, description="largest request body accepted")
    ogc_default_limit: int = Field(100, ge=1, description="OGC items page size by default")
    ogc_max_limit: int = Field(1000, ge=1, description="larger OGC limits are clamped to this")
    gzip_min_bytes: int = Field(1400, ge=0, description="gzip bodies at least this large")
    cors_origins: list[str] = Field(["*"], description="origins allowed by CORS; * for all")
    fast_path: bool = Field(
        True, description="answer GET /nearest before the framework's routing (same answers)")
