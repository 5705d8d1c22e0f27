"""``stations keys create|list|revoke``: office API keys for editing stations over HTTP."""

from __future__ import annotations

import argparse
import datetime as dt
import json

from ..errors import InvalidInput
from ..store import OfficeKey, Scope, open_store
from . import SUBCOMMANDS
from .options import add_data_option, add_database_option

EPILOG = """examples:
  stations keys create --office 南宁市总工会 --city 南宁市
  stations keys create --office 青秀区总工会 --division 450103
  stations keys create --office 广西总工会 --province 广西壮族自治区 --database postgresql://…
  stations keys list
  stations keys revoke k3f9a0c12b4d1

The key is printed once; only its hash is stored.  An office sends it as
`Authorization: Bearer <key>` and may change only the stations inside its area.
"""


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = subparsers.add_parser(
        "keys", help=SUBCOMMANDS["keys"], epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
        description="Office keys live in the store: the GeoPackage (--data) or PostGIS "
        "(--database).")
    actions = parser.add_subparsers(dest="action", metavar="ACTION", required=True)

    create = actions.add_parser("create", help="make a key for an office and print it once")
    add_store_options(create)
    add_office_options(create)
    create.set_defaults(handler=create_key)

    listing = actions.add_parser("list", help="show every key (never the secrets)")
    add_store_options(listing)
    listing.add_argument("--json", action="store_true", help="print JSON lines")
    listing.set_defaults(handler=list_keys)

    revoke = actions.add_parser("revoke", help="stop a key from working")
    add_store_options(revoke)
    revoke.add_argument("key_id", metavar="KEY_ID", help="as shown by 'stations keys list'")
    revoke.set_defaults(handler=revoke_key)


def add_store_options(parser: argparse.ArgumentParser) -> None:
    """``--data`` / ``--database``: which store a command works on."""
    add_data_option(parser)
    add_database_option(parser, "keys kept there instead of in --data")


def add_office_options(parser: argparse.ArgumentParser) -> None:
    """``--office`` and the scope of the stations it keeps (shared with ``stations staff``)."""
    parser.add_argument("--office", required=True, help="office name, shown in the history")
    parser.add_argument("--division", default="", metavar="CODE",
                        help="GB/T 2260 division code prefix, e.g. 45 (province), 4501 (city)")
    for level in ("province", "city", "district"):
        parser.add_argument(f"--{level}", default="", help=f"{level} name as in the data")


def office_scope(args: argparse.Namespace) -> tuple[str, Scope]:
    """The office name and scope given by :func:`add_office_options`, checked."""
    try:
        scope = Scope(args.division.strip(), args.province.strip(), args.city.strip(),
                      args.district.strip())
    except ValueError as exc:
        raise InvalidInput("--division/--province/--city/--district", str(exc)) from None
    if not args.office.strip():
        raise InvalidInput("--office", "must not be empty")
    return args.office.strip(), scope


def store_of(args: argparse.Namespace):  # type: ignore[no-untyped-def]
    return open_store(args.database or args.data)


def create_key(args: argparse.Namespace) -> int:
    office, scope = office_scope(args)
    store = store_of(args)
    try:
        key, secret = store.create_key(office, scope, dt.datetime.now(dt.UTC))
    finally:
        store.close()
    print(f"created {key.key_id} for {key.office} ({scope.describe()})")
    print("key (shown once, store it safely / 仅显示一次):")
    print(secret)
    return 0


def list_keys(args: argparse.Namespace) -> int:
    store = store_of(args)
    try:
        keys = store.office_keys()
    finally:
        store.close()
    for key in keys:
        print(json.dumps(key.as_dict(), ensure_ascii=False) if args.json else _line(key))
    return 0


def revoke_key(args: argparse.Namespace) -> int:
    store = store_of(args)
    try:
        key = store.revoke_key(args.key_id, dt.datetime.now(dt.UTC))
    finally:
        store.close()
    print(f"revoked {key.key_id} ({key.office}) at {key.revoked_at}")
    return 0


def _line(key: OfficeKey) -> str:
    state = f"revoked {key.revoked_at}" if key.revoked_at else "active"
    return f"{key.key_id}  {key.office}  [{key.scope.describe()}]  {key.created_at}  {state}"
