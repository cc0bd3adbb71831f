"""``imgsearch keys create|list|revoke`` against the fake server (conftest), with an admin key."""

import argparse
import json
import re
from datetime import datetime

import pytest

from imgsearch_cli.keys import parse_expiry
from imgsearch_cli.main import main


@pytest.fixture(autouse=True)
def admin_key(use_key) -> str:
    return use_key("admin")


def test_create_prints_the_key_alone_on_stdout_and_warns_on_stderr(fake_api, capsys) -> None:
    assert main(["keys", "create", "--name", "ci", "--role", "editor", "--url", fake_api.url]) == 0
    out, err = capsys.readouterr()
    key = out.strip()
    assert out == f"{key}\n" and len(key) == 47
    record = fake_api.identity.caller(f"Bearer {key}")
    assert record is not None and (record["name"], record["role"]) == ("ci", "editor")
    assert record["expires_at"] is None
    assert f"Made API key {key[:12]} “ci” (role editor)." in err
    assert "Store it now: it is shown this once" in err and key not in err


def test_create_json_is_the_whole_answer_key_included(fake_api, capsys) -> None:
    argv = ["keys", "create", "--name", "ci", "--role", "viewer", "--expires", "12h", "--json"]
    assert main([*argv, "--url", fake_api.url]) == 0
    answer = json.loads(capsys.readouterr().out)
    assert answer["prefix"] == answer["key"][:12] and answer["role"] == "viewer"
    lifetime = datetime.fromisoformat(answer["expires_at"]) - datetime.fromisoformat(
        answer["created_at"]
    )
    assert abs(lifetime.total_seconds() - 12 * 3600) < 5


@pytest.mark.parametrize(
    ("value", "seconds"),
    [("30d", 2_592_000), ("12h", 43_200), ("90m", 5_400), ("3600s", 3_600), (" 1d ", 86_400)],
)
def test_expires_takes_days_hours_minutes_or_seconds(value, seconds) -> None:
    assert parse_expiry(value) == seconds


@pytest.mark.parametrize("value", ["", "30", "0d", "-5m", "1.5h", "1w", "d", "30 d", "12H"])
def test_expires_refuses_anything_else(value) -> None:
    with pytest.raises(argparse.ArgumentTypeError, match="is not a duration"):
        parse_expiry(value)


def test_a_bad_expiry_is_a_usage_error_and_makes_no_key(fake_api, capsys) -> None:
    before = len(fake_api.identity.keys)
    argv = ["keys", "create", "--name", "ci", "--role", "editor", "--expires", "1w"]
    with pytest.raises(SystemExit) as exit_info:
        main([*argv, "--url", fake_api.url])
    assert exit_info.value.code == 2
    assert "'1w' is not a duration" in capsys.readouterr().err
    assert len(fake_api.identity.keys) == before


def test_list_shows_one_line_per_key_with_times_in_utc(fake_api, capsys, admin_key) -> None:
    ci = fake_api.identity.add_key("editor", name="ci")
    fake_api.identity.keys[ci].update(
        created_at="2026-11-30T14:02:11Z",
        expires_at="2026-12-30T15:02:11+01:00",
        last_used_at=1_796_047_500_000,  # unix milliseconds, as the catalog keeps them
        revoked_at="2026-12-01T09:00:00+00:00",
    )
    assert main(["keys", "list", "--url", fake_api.url]) == 0
    lines = capsys.readouterr().out.splitlines()
    header = ["prefix", "name", "role", "created", "expires", "last", "used", "revoked"]
    assert lines[0].split() == header
    assert [line.split()[0] for line in lines[1:]] == [admin_key[:12], ci[:12]]
    assert lines[1].split()[1:3] == ["test-admin", "admin"]
    expires, used_day, used_time, revoked = lines[1].split()[5:]  # used by this very list
    assert (expires, revoked) == ("never", "-")
    assert re.fullmatch(r"\d{4}-\d\d-\d\d \d\d:\d\d", f"{used_day} {used_time}")
    assert lines[2].split()[1:] == [
        "ci",
        "editor",
        *("2026-11-30", "14:02"),
        *("2026-12-30", "14:02"),
        *("2026-11-30", "14:05"),
        *("2026-12-01", "09:00"),
    ]


def test_list_json_is_the_api_answer(fake_api, capsys, admin_key) -> None:
    assert main(["keys", "list", "--json", "--url", fake_api.url]) == 0
    [record] = json.loads(capsys.readouterr().out)["keys"]
    assert record["prefix"] == admin_key[:12] and "key" not in record


def test_revoke_refuses_the_key_from_the_next_request_on(fake_api, capsys) -> None:
    ci = fake_api.identity.add_key("editor", name="ci")
    assert main(["keys", "revoke", ci[:12], "--url", fake_api.url]) == 0
    assert capsys.readouterr().out == f"Revoked API key {ci[:12]}.\n"
    assert main(["whoami", "--url", fake_api.url, "--api-key", ci]) == 1


def test_revoke_of_a_whole_key_sends_only_its_prefix_and_never_shows_it(fake_api, capsys) -> None:
    leaked = fake_api.identity.add_key("editor", name="leaked")
    assert main(["keys", "revoke", leaked, "--url", fake_api.url]) == 0
    assert fake_api.identity.keys[leaked]["revoked_at"] is not None
    out, err = capsys.readouterr()
    assert leaked not in out + err and f"{leaked[:12]}." in out


@pytest.mark.parametrize("value", ["abc", "isk_short", "key_abcdefgh1234"])
def test_revoke_refuses_what_is_not_a_prefix_without_echoing_it(fake_api, capsys, value) -> None:
    with pytest.raises(SystemExit) as exit_info:
        main(["keys", "revoke", value, "--url", fake_api.url])
    assert exit_info.value.code == 2
    err = capsys.readouterr().err
    assert "give the key's prefix" in err and value not in err
    assert all(record["revoked_at"] is None for record in fake_api.identity.keys.values())


def test_revoke_of_an_unknown_prefix_says_so(fake_api, capsys) -> None:
    assert main(["keys", "revoke", "isk_00000000", "--url", fake_api.url]) == 2
    assert "the server answered 404: no API key 'isk_00000000'" in capsys.readouterr().err


def test_keys_need_an_admin(fake_api, capsys, use_key) -> None:
    use_key("editor")
    assert main(["keys", "create", "--name", "x", "--role", "admin", "--url", fake_api.url]) == 2
    assert "403: this needs the admin role" in capsys.readouterr().err
    assert [record["name"] for record in fake_api.identity.keys.values()] == [
        "test-admin",
        "test-editor",
    ]
