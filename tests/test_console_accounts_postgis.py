"""Console accounts in PostGIS: replicas share accounts, sessions and lockouts; ``stations
staff --database`` manages them; ``stations migrate`` carries them both ways."""

from __future__ import annotations

import io
import json

import httpx
import pytest
from live_server import running_server
from store_fixtures import fresh_database, needs_database, sample_store
from test_console import NOON, PASSWORD

from stations.api.app import create_app
from stations.api.settings import ApiSettings
from stations.cli import main
from stations.console.accounts import Accounts, SignInLocked, open_accounts
from stations.store import Scope, open_store

pytestmark = [pytest.mark.postgis, needs_database]


@pytest.fixture
def pg_store(tmp_path):
    yield from sample_store("postgis", tmp_path)


def sign_in(url: str, username: str = "nn", password: str = PASSWORD) -> httpx.Response:
    return httpx.post(f"{url}/console/login", data={"username": username, "password": password})


def test_an_account_signed_in_on_one_replica_works_on_the_other(pg_store, tmp_path):
    settings = ApiSettings(database=pg_store.url, data=tmp_path / "absent.gpkg")
    first, second = create_app(settings), create_app(settings)
    first.state.accounts.create("nn", PASSWORD, "南宁市总工会", Scope(city="南宁市"), NOON)
    with running_server(first) as url_a, running_server(second) as url_b:
        signed = sign_in(url_a)
        assert signed.status_code == 303
        cookies = {"stations_console": signed.cookies["stations_console"]}
        page = httpx.get(f"{url_b}/console", cookies=cookies)
        assert page.status_code == 200 and "南宁市总工会" in page.text and "NN-001" in page.text
        assert "YY-001" not in page.text
        csrf = page.text.split('name="csrf" value="', 1)[1].split('"', 1)[0]
        out = httpx.post(f"{url_b}/console/logout", data={"csrf": csrf}, cookies=cookies)
        assert out.status_code == 303
        assert httpx.get(f"{url_a}/console", cookies=cookies).status_code == 303  # signed out
        # Failed sign-ins count on every replica: five on one lock the account on the other.
        for url in (url_a, url_b, url_a, url_b, url_a):
            assert sign_in(url, password="wrong password").status_code == 401
        assert sign_in(url_b).status_code == 429


def test_staff_commands_work_on_the_database(pg_store, monkeypatch, capsys):
    monkeypatch.setattr("sys.stdin", io.StringIO(PASSWORD + "\n"))
    assert main(["staff", "create", "--database", pg_store.url, "--username", "qx01",
                 "--office", "青秀区总工会", "--district", "青秀区", "--password-stdin"]) == 0
    assert main(["staff", "list", "--database", pg_store.url]) == 0
    listed = [json.loads(line) for line in capsys.readouterr().out.splitlines()[1:]]
    assert listed == [{"username": "qx01", "office": "青秀区总工会", "disabled": False,
                       "scope": {"division": "", "province": "", "city": "", "district": "青秀区"}}]
    accounts = open_accounts(pg_store)
    _, staff = accounts.sign_in("qx01", PASSWORD, NOON)
    assert staff.scope == Scope(district="青秀区")
    assert main(["staff", "disable", "--database", pg_store.url, "qx01"]) == 0
    with pytest.raises(Exception, match="wrong user name"):
        accounts.sign_in("qx01", PASSWORD, NOON)


def test_migrate_carries_the_accounts_with_their_lockouts(sample_gpkg, tmp_path, capsys):
    accounts = Accounts(sample_gpkg.with_name("console.sqlite"))
    accounts.create("nn", PASSWORD, "南宁市总工会", Scope(city="南宁市"), NOON)
    for _ in range(5):
        with pytest.raises(Exception, match="wrong user name"):
            accounts.sign_in("nn", "wrong password", NOON)
    url = fresh_database()
    assert main(["migrate", "--from", str(sample_gpkg), "--to", url]) == 0
    assert "and 1 staff accounts" in capsys.readouterr().out
    store = open_store(url)
    try:
        moved = open_accounts(store)
        assert moved.export() == accounts.export()  # the hash and the lockout came along
        with pytest.raises(SignInLocked):
            moved.sign_in("nn", PASSWORD, NOON)
    finally:
        store.close()
    (tmp_path / "back").mkdir()
    back = tmp_path / "back" / "stations.gpkg"
    assert main(["migrate", "--from", url, "--to", str(back)]) == 0
    assert Accounts(back.with_name("console.sqlite")).export() == accounts.export()
