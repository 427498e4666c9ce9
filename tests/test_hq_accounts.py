"""HQ's reviewers have accounts of their own, and the web page's sessions live in HQ's store.

An account keeps a salted scrypt hash (never the password); with accounts, the login takes
a reviewer's own password and the review log records the authenticated name, whatever the
form says; HQ's shared password no longer opens the page. A session survives a restart of
the server (a new app on the same database), ends at logout, and expires.
"""
from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from sqlalchemy import event
from sqlalchemy.engine import Engine
from cycle import fill, fixed, sample, start, submit
from hq_db import BACKENDS, fresh_url
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from xlplan.cli import app as cli
from xlplan.excel import use_development_license
from xlplan.hq import accounts, review
from xlplan.hq.tokens import Tokens

use_development_license()  # xlwings' free noncommercial key: tests only
from xlplan.excel.server import Settings, create_app  # noqa: E402

SHARED = "hq-shared-2027"
runner = CliRunner()


@pytest.fixture()
def hq(tmp_path):
    store, sent = start(tmp_path)
    submit(store, fill(sent["南区营业部"], fixed(sample("annual_plan", 0.8)), tmp_path / "in" / "south.xlsx"))
    tokens = tmp_path / "tokens.json"
    Tokens(tokens).issue("南区营业部")

    def server():  # a fresh server process on the same database: nothing kept in memory
        return create_app(Settings(public_url="https://plan.example.com", tokens=tokens, db=store.url,
                                   hq_password=SHARED))
    yield store, server, tmp_path
    store.close()


def login(client: TestClient, name: str, password: str) -> int:
    return client.post("/hq/login", data={"reviewer": name, "password": password},
                       follow_redirects=False).status_code


def csrf_of(client: TestClient) -> str:
    return client.get("/hq/").text.split('name="csrf" value="', 1)[1].split('"', 1)[0]


def test_an_account_keeps_a_salted_hash_never_the_password(hq):
    store, _, folder = hq
    accounts.add(store, "张经理", "correct horse battery")
    accounts.add(store, "李主任", "correct horse battery")
    one, two = store.hq_user("张经理"), store.hq_user("李主任")
    assert one["salt"] != two["salt"] and one["hash"] != two["hash"]  # the same password, different hashes
    assert one["params"].startswith("scrypt:")
    assert b"correct horse battery" not in (folder / "hq.db").read_bytes()
    assert accounts.check(store, "张经理", "correct horse battery") == "张经理"
    assert accounts.check(store, "张经理", "correct horse batterY") is None
    assert accounts.check(store, "王总", "correct horse battery") is None
    with pytest.raises(accounts.AccountError, match="张经理 has an account already"):
        accounts.add(store, "张经理", "another password!")
    with pytest.raises(accounts.AccountError, match="at least 10 characters"):
        accounts.add(store, "王总", "short")


def test_with_accounts_the_log_records_the_authenticated_name(hq):
    store, server, _ = hq
    accounts.add(store, "张经理", "correct horse battery")
    client = TestClient(server())
    assert login(client, "张经理", SHARED) == 401  # the shared password no longer opens the page
    assert login(client, "王总", "correct horse battery") == 401  # a name without an account
    assert login(client, "张经理", "wrong password!!") == 401
    assert login(client, " 张经理 ", "correct horse battery") == 303
    csrf = csrf_of(client)
    sub = review.find(store, "南区营业部")
    # the form cannot choose the name the log records
    answer = client.post(f"/hq/submission/{sub['id']}/approve", data={"csrf": csrf, "note": "同意", "reviewer": "王总"},
                         follow_redirects=False)
    assert answer.status_code == 303
    assert store.review_events(sub["id"])[-1]["actor"] == "张经理"


def test_a_session_survives_a_restart_ends_at_logout_and_expires(hq, monkeypatch):
    store, server, _ = hq
    accounts.add(store, "张经理", "correct horse battery")
    first = TestClient(server())
    assert login(first, "张经理", "correct horse battery") == 303
    cookie = first.cookies.get("xlplan_hq")
    assert cookie and store.session(cookie, accounts.now()) is None  # only its hash is kept
    # the server restarts: a new app on the same database takes the same cookie
    second = TestClient(server())
    second.cookies.set("xlplan_hq", cookie)
    assert second.get("/hq/", follow_redirects=False).status_code == 200
    # twelve hours later it has expired
    later = accounts.now() + dt.timedelta(hours=accounts.SESSION_HOURS, seconds=1)
    monkeypatch.setattr(accounts, "now", lambda: later)
    assert second.get("/hq/", follow_redirects=False).headers["location"] == "/hq/login"
    monkeypatch.undo()
    assert second.get("/hq/", follow_redirects=False).status_code == 303  # removed when found expired
    # a fresh one ends at logout, in every server
    fresh = TestClient(server())
    assert login(fresh, "张经理", "correct horse battery") == 303
    csrf = csrf_of(fresh)
    other = TestClient(server())
    other.cookies.set("xlplan_hq", fresh.cookies.get("xlplan_hq"))
    assert other.get("/hq/", follow_redirects=False).status_code == 200
    assert fresh.post("/hq/logout", data={"csrf": csrf}, follow_redirects=False).status_code == 303
    assert other.get("/hq/", follow_redirects=False).status_code == 303


def test_without_accounts_the_shared_password_still_opens_the_page(hq):
    store, server, _ = hq
    client = TestClient(server())
    assert login(client, "张经理", SHARED) == 303
    assert "张经理" in client.get("/hq/").text


def test_without_accounts_or_a_shared_password_the_login_says_what_to_do(tmp_path):
    store, _ = start(tmp_path)
    tokens = tmp_path / "tokens.json"
    Tokens(tokens).issue("南区营业部")
    client = TestClient(create_app(Settings(tokens=tokens, db=store.url)))
    answer = client.post("/hq/login", data={"reviewer": "张经理", "password": "anything at all"})
    assert answer.status_code == 401 and "xlplan hq-user add" in answer.text
    accounts.add(store, "张经理", "correct horse battery")  # accounts made while the server runs count
    assert login(client, "张经理", "correct horse battery") == 303
    store.close()


def test_the_login_asks_whether_an_account_exists_without_reading_every_account(hq):
    """Every login asks whether HQ has accounts; the answer is one EXISTS, not the list of them."""
    store, server, _ = hq
    for n in range(3):
        accounts.add(store, f"审核员{n}", "correct horse battery")
    client = TestClient(server())
    statements: list[str] = []

    def seen(conn, cursor, statement, *rest):
        statements.append(" ".join(statement.split()))

    event.listen(Engine, "before_cursor_execute", seen)
    try:
        assert login(client, "审核员1", "correct horse battery") == 303
    finally:
        event.remove(Engine, "before_cursor_execute", seen)
    on_accounts = [s for s in statements if "FROM hq_users" in s]
    assert on_accounts and any("EXISTS" in s for s in on_accounts), statements
    # each one reads a named account or asks EXISTS: none reads them all
    assert all("WHERE hq_users.name =" in s or "EXISTS" in s for s in on_accounts), on_accounts


def test_hq_user_on_the_command_line(tmp_path):
    db = ["--db", f"sqlite:///{tmp_path / 'hq.db'}"]
    secret = tmp_path / "pw.txt"
    secret.write_text("correct horse battery\n", encoding="utf-8")
    result = runner.invoke(cli, ["hq-user", "add", "张经理", "--password-file", str(secret), *db])
    assert result.exit_code == 0 and "张经理 can log in" in result.stdout, result.output
    result = runner.invoke(cli, ["hq-user", "add", "李主任", *db], input="correct horse battery\n"
                                                                         "correct horse battery\n")
    assert result.exit_code == 0, result.output
    result = runner.invoke(cli, ["hq-user", "add", "张经理", "--password-file", str(secret), *db])
    assert result.exit_code == 2 and "张经理 has an account already" in result.stderr
    short = tmp_path / "short.txt"
    short.write_text("short\n", encoding="utf-8")
    result = runner.invoke(cli, ["hq-user", "add", "王总", "--password-file", str(short), *db])
    assert result.exit_code == 2 and "at least 10 characters" in result.stderr and "Traceback" not in result.output
    listed = runner.invoke(cli, ["hq-user", "list", *db])
    assert listed.exit_code == 0 and "张经理" in listed.stdout and "李主任" in listed.stdout
    assert "correct horse" not in listed.stdout
    result = runner.invoke(cli, ["hq-user", "remove", "李主任", *db])
    assert result.exit_code == 0
    assert "李主任" not in runner.invoke(cli, ["hq-user", "list", *db]).stdout
    result = runner.invoke(cli, ["hq-user", "remove", "李主任", *db])
    assert result.exit_code == 2 and "no such account" in result.stderr
    assert Path(tmp_path / "hq.db").is_file()


@pytest.mark.parametrize("backend", BACKENDS)
def test_accounts_and_sessions_are_kept_by_both_databases(backend, tmp_path):
    from xlplan.hq.store import Store

    store = Store(fresh_url(backend, tmp_path))
    assert not store.has_hq_users()
    accounts.add(store, "张经理", "correct horse battery")
    assert store.has_hq_users()
    assert accounts.check(store, "张经理", "correct horse battery") == "张经理"
    session = accounts.start_session(store, "张经理")
    assert accounts.session(store, session.key) == session
    accounts.end_session(store, session.key)
    assert accounts.session(store, session.key) is None
    session = accounts.start_session(store, "张经理")
    accounts.remove(store, "张经理")  # its sessions end with it
    assert accounts.session(store, session.key) is None and store.hq_users() == []
    assert not store.has_hq_users()
    store.close()
