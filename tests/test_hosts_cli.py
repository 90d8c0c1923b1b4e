"""`main.py hosts`: keys printed once and stored only as their sha256, rotated and revoked, one line for bad
input; the real CLI against SQLite, PostgreSQL and MariaDB."""

from __future__ import annotations

import hashlib
import subprocess

import pytest
from db_servers import assert_succeeded, fetch

from tests.conftest import MAIN, Workspace

pytest_plugins = ["db_servers"]


def hosts(workspace: Workspace, *args: str) -> subprocess.CompletedProcess[str]:
    return workspace.run("hosts", *args, script=MAIN)


def stored_hash(database_url: str, name: str) -> str | None:
    return fetch(database_url, "SELECT key_hash FROM hosts WHERE name = :name", name=name)[0][0]


def test_a_key_is_printed_once_stored_hashed_rotated_and_revoked(workspace: Workspace, database_url: str) -> None:
    workspace.write_env(DATABASE_URL=database_url)
    added = hosts(workspace, "add", "web1")
    assert_succeeded(added)
    key = added.stdout.strip()
    assert key.startswith("ahk_") and len(key) > 40 and added.stdout == key + "\n"  # stdout: the key alone
    assert added.stderr.splitlines()[-1] == "host web1 added; its key is shown this once"
    assert stored_hash(database_url, "web1") == hashlib.sha256(key.encode()).hexdigest()
    dump = " ".join(str(value) for row in fetch(database_url, "SELECT * FROM hosts") for value in row)
    assert key not in dump

    listed = hosts(workspace, "list")
    assert_succeeded(listed)
    assert listed.stdout.startswith("web1: never seen; key since ") and listed.stdout.endswith(", not used yet\n")
    assert key not in listed.stdout

    rotated = hosts(workspace, "rotate", "web1")
    assert_succeeded(rotated)
    new_key = rotated.stdout.strip()
    assert new_key != key and stored_hash(database_url, "web1") == hashlib.sha256(new_key.encode()).hexdigest()

    assert_succeeded(hosts(workspace, "revoke", "web1"))
    assert stored_hash(database_url, "web1") is None
    assert hosts(workspace, "list").stdout == "web1: never seen; key revoked, not used yet\n"


@pytest.mark.slow
def test_bad_names_and_unknown_or_taken_hosts_are_one_line_and_exit_2(workspace: Workspace) -> None:
    assert_succeeded(hosts(workspace, "add", "db1"))
    cases = {
        ("add", "db1"): "error: NAME='db1' is taken; `main.py hosts rotate db1` gives it a new key",
        ("rotate", "nope"): "error: NAME='nope' is not a host; `main.py hosts list` shows them",
        ("revoke", "nope"): "error: NAME='nope' is not a host; `main.py hosts list` shows them",
        ("add", " web"): "error: NAME=' web' is invalid; expected a host name of 1 to 255 characters on one line, "
        "without control characters or white space at either end",
        ("add", "x" * 256): f"error: NAME='{'x' * 256}' is invalid; expected a host name of 1 to 255 characters on "
        "one line, without control characters or white space at either end",
    }
    for args, line in cases.items():
        result = hosts(workspace, *args)
        assert (result.returncode, result.stdout, result.stderr.splitlines()) == (2, "", [line]), args
    [only] = hosts(workspace, "list").stdout.splitlines()  # nothing half-written by the refused commands
    assert only.startswith("db1: never seen; key since ")


def test_no_hosts_says_how_to_add_one(workspace: Workspace) -> None:
    listed = hosts(workspace, "list")
    assert_succeeded(listed)
    assert listed.stdout == "no hosts: add one with `main.py hosts add NAME`\n"
