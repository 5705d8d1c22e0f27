"""``stations serve``: run the nearest-station API and OGC API - Features with uvicorn."""

from __future__ import annotations

import argparse
import copy
import os
from typing import Any

import uvicorn
from uvicorn.config import LOGGING_CONFIG
from uvicorn.supervisors import Multiprocess

from ..api.protocol import (
    BODY_TIMEOUT_S,
    HEADER_TIMEOUT_S,
    MAX_CONNECTIONS_PER_ADDRESS,
    GuardedConfig,
)
from ..errors import StationsError
from ..service import MAX_RADIUS_M, StationService
from . import SUBCOMMANDS
from .options import add_data_option, add_database_option, add_reports_option

EPILOG = """examples:
  stations serve                                  # geodata/stations.gpkg on 127.0.0.1:8000
  stations serve --data build/stations.gpkg --host 0.0.0.0 --port 8080 --workers 2
  stations serve --roads xian.osm.pbf             # also answer GET /nearest?by=road
  stations serve --database postgresql://stations@db/stations --host 0.0.0.0

The GeoPackage is watched: rebuild it (stations build) and the server serves the new data
without a restart; a corrupt or half-written file is refused and the old data kept.
With --database postgresql://… the server is one replica of a PostGIS store: it answers from
its own in-memory index and follows committed changes (see docs/store.md).
Other settings come from STATIONS_* environment variables (see docs/api.md).
"""


def log_config(level: str) -> dict[str, Any]:
    """uvicorn's logging set-up, with the server's own messages (data reloaded or refused, and
    how long a load took) at ``level`` beside uvicorn's."""
    config = copy.deepcopy(LOGGING_CONFIG)
    config["loggers"]["stations"] = {"handlers": ["default"], "level": level.upper(),
                                     "propagate": False}
    return config


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "serve",
        help=SUBCOMMANDS["serve"],
        description="Serve GET /nearest, POST /nearest/batch, /stations/{id}, /amenities, "
        "/health and OGC API - Features (/collections/stations/items) over HTTP.",
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    add_data_option(parser)
    add_database_option(parser, "serve it instead of --data; this process keeps its own "
                        "index and follows changes")
    parser.add_argument("--roads", metavar="FILE",
                        help="OpenStreetMap extract (.osm.pbf) for GET /nearest?by=road "
                        "(see docs/roads.md); without it by=road answers 422")
    add_reports_option(parser)
    parser.add_argument("--host", default="127.0.0.1", help="address to listen on")
    parser.add_argument("--port", type=int, default=8000, help="port (default: 8000)")
    parser.add_argument("--workers", type=int, default=1,
                        help="worker processes; each holds its own copy of the data")
    parser.add_argument("--reload-interval", type=float, default=2.0, metavar="SECONDS",
                        help="how often to look for a rebuilt GeoPackage; 0 turns it off")
    parser.add_argument("--reach-m", type=float, default=None, metavar="METRES",
                        help="riding reach: the rider page lists stations within it, and the "
                        "nearest one beyond it when there is none (default: STATIONS_REACH_M "
                        "or 20000)")
    parser.add_argument("--limit-concurrency", type=int, default=1000, metavar="N",
                        help="connections and requests at once per worker; more get 503 "
                        "(default: %(default)s)")
    parser.add_argument("--timeout-keep-alive", type=float, default=5.0, metavar="SECONDS",
                        help="close idle keep-alive connections after this long "
                        "(default: %(default)s)")
    parser.add_argument("--header-timeout", type=float, default=HEADER_TIMEOUT_S,
                        metavar="SECONDS",
                        help="a request line and headers not received within this long get 408 "
                        "and the connection is closed; 0 turns it off (default: %(default)s)")
    parser.add_argument("--body-timeout", type=float, default=BODY_TIMEOUT_S, metavar="SECONDS",
                        help="a request body not received within this long after the headers "
                        "gets 408; 0 turns it off (default: %(default)s)")
    parser.add_argument("--max-connections-per-address", type=int,
                        default=MAX_CONNECTIONS_PER_ADDRESS, metavar="N",
                        help="connections one client address may hold at once; more get 503; "
                        "0 turns it off, as behind a reverse proxy (default: %(default)s)")
    parser.add_argument("--log-level", default="info",
                        choices=["critical", "error", "warning", "info", "debug"])
    parser.set_defaults(handler=serve)


def serve(args: argparse.Namespace) -> int:
    if args.workers < 1:
        raise StationsError("--workers must be at least 1")
    if args.limit_concurrency < 1 or args.timeout_keep_alive <= 0:
        raise StationsError("--limit-concurrency and --timeout-keep-alive must be positive")
    if args.reach_m is not None and not 0 < args.reach_m <= MAX_RADIUS_M:
        raise StationsError(f"--reach-m must be greater than 0 and at most {MAX_RADIUS_M:g} "
                            f"metres, got {args.reach_m:g}")
    reach = {} if args.reach_m is None else {"reach_m": args.reach_m}
    if args.header_timeout < 0 or args.body_timeout < 0 or args.max_connections_per_address < 0:
        raise StationsError("--header-timeout, --body-timeout and --max-connections-per-address "
                            "must be 0 (off) or positive")
    # Bounded so that a flood of slow or idle clients cannot hold every socket (see
    # stations/api/protocol.py); request bodies are capped by STATIONS_MAX_BODY_BYTES.
    common = {"host": args.host, "port": args.port, "log_level": args.log_level,
              "log_config": log_config(args.log_level), "access_log": False,
              "limit_concurrency": args.limit_concurrency,
              "timeout_keep_alive": args.timeout_keep_alive, "timeout_graceful_shutdown": 10,
              "header_timeout_s": args.header_timeout, "body_timeout_s": args.body_timeout,
              "max_connections_per_address": args.max_connections_per_address}
    if args.workers == 1:
        from ..api.app import create_app  # the web stack loads only for this command
        from ..api.settings import ApiSettings

        settings = ApiSettings(data=args.data, reports=args.reports, database=args.database,
                               reload_interval_s=args.reload_interval, roads=args.roads,
                               **reach)
        config = GuardedConfig(create_app(settings), **common)  # a bad file raises here
        server = uvicorn.Server(config)
        server.run()
    else:
        if args.database:
            os.environ["STATIONS_DATABASE"] = args.database
        else:
            StationService.load(args.data)  # refuse a bad file before starting the workers
        if args.roads is not None:
            if not os.path.isfile(args.roads):
                raise StationsError(f"--roads {args.roads}: no such file")
            os.environ["STATIONS_ROADS"] = str(args.roads)
        # Worker processes build their own app from the environment.
        os.environ["STATIONS_DATA"] = str(args.data)
        os.environ["STATIONS_RELOAD_INTERVAL_S"] = str(args.reload_interval)
        if args.reports:
            os.environ["STATIONS_REPORTS"] = str(args.reports)
        if args.reach_m is not None:
            os.environ["STATIONS_REACH_M"] = str(args.reach_m)
        config = GuardedConfig("stations.api.app:create_app", factory=True,
                               workers=args.workers, **common)
        Multiprocess(config, sockets=[config.bind_socket()]).run()
        return 0
    if not server.started:  # the port was taken, for one: uvicorn has logged why
        raise StationsError(f"could not serve on {args.host}:{args.port}")
    return 0
