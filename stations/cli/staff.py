"""``stations staff create|list|disable``: accounts for the office console."""

from __future__ import annotations

import argparse
import datetime as dt
import getpass
import json
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from ..console.accounts import CONSOLE_FILE_NAME, Accounts, open_accounts
from ..store import open_store
from . import SUBCOMMANDS
from .keys import add_office_options, office_scope
from .options import add_data_option, add_database_option

EPILOG = """examples:
  stations staff create --username liwei --office 南宁市总工会 --city 南宁市
  printf '%s\\n' "$PASSWORD" | stations staff create --username qx01 --office 青秀区总工会 \\
      --division 450103 --password-stdin
  stations staff list
  stations staff disable liwei
  stations staff list --database postgresql://stations@db/stations

The password is asked for (or read from standard input), never taken as an argument.
"""


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = subparsers.add_parser(
        "staff", help=SUBCOMMANDS["staff"], epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
        description="Staff accounts sign in to the office console at /console; each belongs "
        "to an office and sees and edits only the stations in its area.")
    actions = parser.add_subparsers(dest="action", metavar="ACTION", required=True)
    create = actions.add_parser("create", help="make an account")
    _accounts_options(create)
    create.add_argument("--username", required=True)
    add_office_options(create)
    create.add_argument("--password-stdin", action="store_true",
                        help="read the password from the first line of standard input")
    create.set_defaults(handler=create_account)
    listing = actions.add_parser("list", help="show the accounts")
    _accounts_options(listing)
    listing.set_defaults(handler=list_accounts)
    disable = actions.add_parser("disable", help="stop an account from signing in")
    _accounts_options(disable)
    disable.add_argument("username")
    disable.set_defaults(handler=disable_account)


def _accounts_options(parser: argparse.ArgumentParser) -> None:
    add_data_option(parser)
    add_database_option(parser, "accounts kept there, shared by every replica")
    parser.add_argument("--accounts", type=Path, metavar="DB",
                        help=f"the accounts file (default: {CONSOLE_FILE_NAME} beside --data)")


@contextmanager
def _accounts(args: argparse.Namespace) -> Iterator[Accounts]:
    """The accounts of the store the options name (``stations serve`` finds the same)."""
    file = args.accounts or Path(args.data).with_name(CONSOLE_FILE_NAME)
    if not args.database:
        yield Accounts(file)
        return
    store = open_store(args.database)
    try:
        yield open_accounts(store, file)
    finally:
        store.close()


def create_account(args: argparse.Namespace) -> int:
    office, scope = office_scope(args)
    if args.password_stdin:
        password = sys.stdin.readline().rstrip("\r\n")
    else:
        password = getpass.getpass("密码 Password: ")
        if getpass.getpass("再输一次 Again: ") != password:
            print("stations staff: error: password: the two entries differ", file=sys.stderr)
            return 2
    with _accounts(args) as accounts:
        accounts.create(args.username, password, office, scope, dt.datetime.now(dt.UTC))
    print(f"created {args.username.strip()} for {office} ({scope.describe()})")
    return 0


def list_accounts(args: argparse.Namespace) -> int:
    with _accounts(args) as accounts:
        for account in accounts.list():
            print(json.dumps(account, ensure_ascii=False))
    return 0


def disable_account(args: argparse.Namespace) -> int:
    with _accounts(args) as accounts:
        accounts.disable(args.username)
    print(f"disabled {args.username}")
    return 0
