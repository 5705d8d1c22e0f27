"""``stations serve``: run the nearest-station API and OGC API - Features with uvicorn."""

from __future__ import annotations

import argparse
import os

import uvicorn

from ..api.protocol import CappedHeadProtocol
from ..errors import StationsError
from ..model import DEFAULT_GEOPACKAGE
from ..service import StationService
from . import SUBCOMMANDS

EPILOG = """examples:
  stations serve                                  # geodata/stations.gpkg on 127.0.0.1:8000
  stations serve --data build/stations.gpkg --host 0.0.0.0 --port 8080 --workers 2
  stations serve --roads xian.osm.pbf             # also answer GET /nearest?by=road

The GeoPackage is watched: rebuild it (stations build) and the server serves the new data
without a restart; a corrupt or half-written file is refused and the old data kept.
Other settings come from STATIONS_* environment variables (see docs/api.md).
"""


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "serve",
        help=SUBCOMMANDS["serve"],
        description="Serve GET /nearest, POST /nearest/batch, /stations/{id}, /amenities, "
        "/health and OGC API - Features (/collections/stations/items) over HTTP.",
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--data", default=DEFAULT_GEOPACKAGE,
                        help=f"station GeoPackage (default: {DEFAULT_GEOPACKAGE})")
    parser.add_argument("--roads", metavar="FILE",
                        help="OpenStreetMap extract (.osm.pbf) for GET /nearest?by=road "
                        "(see docs/roads.md); without it by=road answers 422")
    parser.add_argument("--host", default="127.0.0.1", help="address to listen on")
    parser.add_argument("--port", type=int, default=8000, help="port (default: 8000)")
    parser.add_argument("--workers", type=int, default=1,
                        help="worker processes; each holds its own copy of the data")
    parser.add_argument("--reload-interval", type=float, default=2.0, metavar="SECONDS",
                        help="how often to look for a rebuilt GeoPackage; 0 turns it off")
    parser.add_argument("--limit-concurrency", type=int, default=1000, metavar="N",
                        help="connections and requests at once per worker; more get 503 "
                        "(default: %(default)s)")
    parser.add_argument("--timeout-keep-alive", type=float, default=5.0, metavar="SECONDS",
                        help="close idle keep-alive connections after this long "
                        "(default: %(default)s)")
    parser.add_argument("--log-level", default="info",
                        choices=["critical", "error", "warning", "info", "debug"])
    parser.set_defaults(handler=serve)


def serve(args: argparse.Namespace) -> int:
    if args.workers < 1:
        raise StationsError("--workers must be at least 1")
    if args.limit_concurrency < 1 or args.timeout_keep_alive <= 0:
        raise StationsError("--limit-concurrency and --timeout-keep-alive must be positive")
    # Bounded so that a flood of slow or idle clients cannot hold every socket; request heads
    # are capped by the protocol, request bodies by STATIONS_MAX_BODY_BYTES.
    common = {"host": args.host, "port": args.port, "log_level": args.log_level,
              "http": CappedHeadProtocol,
              "access_log": False, "limit_concurrency": args.limit_concurrency,
              "timeout_keep_alive": args.timeout_keep_alive, "timeout_graceful_shutdown": 10}
    if args.workers == 1:
        from ..api.app import create_app  # the web stack loads only for this command
        from ..api.settings import ApiSettings

        settings = ApiSettings(data=args.data, reload_interval_s=args.reload_interval,
                               roads=args.roads)
        uvicorn.run(create_app(settings), **common)  # a bad file raises DataFileError here
    else:
        StationService.load(args.data)  # refuse a bad file before starting the workers
        if args.roads is not None:
            if not os.path.isfile(args.roads):
                raise StationsError(f"--roads {args.roads}: no such file")
            os.environ["STATIONS_ROADS"] = str(args.roads)
        # Worker processes build their own app from the environment.
        os.environ["STATIONS_DATA"] = str(args.data)
        os.environ["STATIONS_RELOAD_INTERVAL_S"] = str(args.reload_interval)
        uvicorn.run("stations.api.app:create_app", factory=True, workers=args.workers,
                    **common)
    return 0
