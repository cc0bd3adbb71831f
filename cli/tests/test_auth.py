"""Where the CLI's API key comes from, how refusals name it without showing it, ``whoami``.

Against the fake server (conftest): each test runs in an empty folder with no IMGSEARCH_*
variables, so ``data/admin-credentials`` below is the one the test writes.
"""

import json
from pathlib import Path
from typing import Any

import pytest

from imgsearch_cli.auth import parse_credentials, resolve_credential
from imgsearch_cli.main import main

DEFAULT_FILE = Path("data") / "admin-credentials"


def credentials_file(path: Path, key: str) -> Path:
    """As ``python -m ingestapi.bootstrap`` writes it."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(
        f"IMGSEARCH_USER=admin\nIMGSEARCH_PASSWORD=x7-Secret\nIMGSEARCH_API_KEY={key}\n"
    )
    path.chmod(0o600)
    return path


def whoami(fake_api, capsys, *argv: str) -> tuple[int, dict[str, Any]]:
    status = main(["whoami", "--json", "--url", fake_api.url, *argv])
    return status, json.loads(capsys.readouterr().out)


def test_the_key_comes_from_the_flag_then_the_variable_then_the_named_file_then_data(
    fake_api, capsys, monkeypatch, tmp_path
) -> None:
    flag, variable, named, default = (fake_api.identity.add_key("editor") for _ in range(4))
    monkeypatch.setenv("IMGSEARCH_API_KEY", variable)
    monkeypatch.setenv("IMGSEARCH_CREDENTIALS", str(credentials_file(tmp_path / "mine", named)))
    credentials_file(DEFAULT_FILE, default)

    assert whoami(fake_api, capsys, "--api-key", flag)[1]["name"] == flag[:12]
    assert whoami(fake_api, capsys)[1]["name"] == variable[:12]
    monkeypatch.delenv("IMGSEARCH_API_KEY")
    assert whoami(fake_api, capsys)[1]["name"] == named[:12]
    monkeypatch.delenv("IMGSEARCH_CREDENTIALS")
    assert whoami(fake_api, capsys)[1]["name"] == default[:12]
    DEFAULT_FILE.unlink()
    status, me = whoami(fake_api, capsys)
    assert status == 1 and me["authenticated"] is False


def test_the_local_admin_file_is_never_sent_to_another_machine() -> None:
    credentials_file(DEFAULT_FILE, "isk_" + "a" * 43)
    assert resolve_credential(None, {}, "http://127.0.0.1:3000").key == "isk_" + "a" * 43
    assert resolve_credential(None, {}, "http://localhost:3000").key is not None
    assert resolve_credential(None, {}, "https://search.example.org").key is None
    assert resolve_credential(None, {}, "http://10.0.0.8:3000").key is None


def test_a_credentials_file_is_read_as_a_shell_would() -> None:
    text = """# written by make dev
export IMGSEARCH_USER=admin
IMGSEARCH_PASSWORD='p@ss word#1'
IMGSEARCH_API_KEY="isk_abc"   # the admin's key

not a setting
IMGSEARCH_URL='unclosed
"""
    assert parse_credentials(text) == {
        "IMGSEARCH_USER": "admin",
        "IMGSEARCH_PASSWORD": "p@ss word#1",
        "IMGSEARCH_API_KEY": "isk_abc",
    }


def test_a_named_credentials_file_that_is_missing_is_an_error_not_an_anonymous_call(
    fake_api, capsys, monkeypatch, tmp_path
) -> None:
    monkeypatch.setenv("IMGSEARCH_CREDENTIALS", str(tmp_path / "nope"))
    assert main(["search", "a cat", "--url", fake_api.url]) == 2
    assert f"cannot read the credentials file {tmp_path / 'nope'}" in capsys.readouterr().err
    assert fake_api.searches == [] and fake_api.identity.refused == []


def test_a_credentials_file_without_a_key_is_an_error(fake_api, capsys) -> None:
    DEFAULT_FILE.parent.mkdir()
    DEFAULT_FILE.write_text("IMGSEARCH_USER=admin\n")
    assert main(["search", "a cat", "--url", fake_api.url]) == 2
    assert "data/admin-credentials has no IMGSEARCH_API_KEY= line" in capsys.readouterr().err
    assert fake_api.searches == []


def test_a_refused_key_is_named_by_its_prefix_and_its_file_never_in_full(fake_api, capsys) -> None:
    key = fake_api.identity.add_key("admin")
    credentials_file(DEFAULT_FILE, key)
    assert main(["keys", "revoke", key[:12], "--url", fake_api.url]) == 0
    capsys.readouterr()

    assert main(["search", "a cat", "--url", fake_api.url]) == 2

    out, err = capsys.readouterr()
    assert "the server answered 401: the API key is unknown, revoked or expired" in err
    hint = f"hint: sent API key {key[:12]}… from data/admin-credentials: is it revoked or expired?"
    assert hint in err
    assert key not in out + err and key[:13] not in out + err


def test_too_weak_a_key_gets_the_servers_reason_and_which_key_it_was(fake_api, capsys) -> None:
    key = fake_api.identity.add_key("viewer")
    assert main(["keys", "list", "--url", fake_api.url, "--api-key", key]) == 2
    err = capsys.readouterr().err
    assert f"403: this needs the admin role; API key {key[:12]}… has viewer" in err
    assert f"hint: sent API key {key[:12]}… from --api-key: `imgsearch whoami`" in err
    assert key not in err


def test_a_key_not_of_ours_is_not_shown_at_all(fake_api, capsys) -> None:
    assert main(["search", "a cat", "--url", fake_api.url, "--api-key", "hunter2"]) == 2
    err = capsys.readouterr().err
    assert "hint: sent API key (not an isk_… key) from --api-key" in err
    assert "hunter2" not in err and "hunt" not in err


def test_a_call_without_a_key_says_where_one_may_come_from(fake_api, capsys) -> None:
    assert main(["search", "a cat", "--url", fake_api.url]) == 2
    err = capsys.readouterr().err
    assert "the server answered 401: this needs a credential" in err
    assert "hint: no API key was sent: pass --api-key, set IMGSEARCH_API_KEY" in err


def test_public_reads_need_no_key(fake_api, capsys) -> None:
    fake_api.identity.public_read = True
    assert main(["search", "a cat", "--url", fake_api.url]) == 0
    assert "red-circle-0000.jpg" in capsys.readouterr().out


def test_ingest_stops_at_the_first_refusal_and_says_why(fake_api, capsys, tmp_path) -> None:
    for i in range(20):
        (tmp_path / f"{i}.png").write_bytes(b"\x89PNG\r\n\x1a\n" + bytes([i]))
    key = fake_api.identity.add_key("viewer")
    argv = ["--batch-size", "1", "--concurrency", "1", "--api-key", key, str(tmp_path)]

    assert main(["ingest", "--url", fake_api.url, *argv]) == 2

    out, err = capsys.readouterr()
    assert "403: this needs the editor role" in err and f"{key[:12]}… from --api-key" in err
    assert fake_api.uploads == [] and out == ""
    # The batches still queued were dropped (one or two were on their way meanwhile).
    assert 1 <= len(fake_api.identity.refused) < 20


def test_whoami_names_the_key_its_role_and_where_it_came_from(
    fake_api, capsys, monkeypatch
) -> None:
    key = fake_api.identity.add_key("editor")
    monkeypatch.setenv("IMGSEARCH_API_KEY", key)
    assert main(["whoami", "--url", fake_api.url]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines == [
        f"{key[:12]}: API key, role editor",
        f"API key {key[:12]}… from IMGSEARCH_API_KEY, used",
    ]


def test_whoami_exits_1_for_a_key_the_server_does_not_accept(fake_api, capsys) -> None:
    key = fake_api.identity.add_key("editor", expires_in_s=1)
    fake_api.identity.keys[key]["expires_at"] = "2020-01-01T00:00:00+00:00"
    assert main(["whoami", "--url", fake_api.url, "--api-key", key]) == 1
    out = capsys.readouterr().out
    assert "Not signed in (reads need a credential too)." in out
    assert f"API key {key[:12]}… from --api-key, not accepted by the server" in out


def test_whoami_without_a_key_says_whether_reads_are_public(fake_api, capsys) -> None:
    fake_api.identity.public_read = True
    assert main(["whoami", "--url", fake_api.url]) == 1
    assert capsys.readouterr().out == "Not signed in (reads are public).\n"


def test_blanks_around_a_key_are_dropped(fake_api, capsys, monkeypatch) -> None:
    key = fake_api.identity.add_key("viewer")
    monkeypatch.setenv("IMGSEARCH_API_KEY", f" {key}\n")
    assert whoami(fake_api, capsys)[1]["name"] == key[:12]


@pytest.mark.parametrize("bad", ["{key}\nX-Other: 1", "{key} {key}", "{key}é"])
def test_a_key_that_cannot_go_in_a_header_is_refused_without_showing_it(
    fake_api, capsys, monkeypatch, bad
) -> None:
    key = fake_api.identity.add_key("viewer")
    monkeypatch.setenv("IMGSEARCH_API_KEY", bad.format(key=key))
    assert main(["search", "a cat", "--url", fake_api.url]) == 2
    err = capsys.readouterr().err
    assert "the API key from IMGSEARCH_API_KEY has blanks or unusual characters" in err
    assert key[:13] not in err and fake_api.searches == []
