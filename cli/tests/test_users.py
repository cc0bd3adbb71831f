"""``imgsearch users …`` against the fake server (conftest), with an admin key.

Password prompts: the terminal is the boundary, so ``sys.stdin`` and ``getpass.getpass`` are
replaced by a stand-in terminal and scripted answers.
"""

import getpass
import io
import json
import sys

import pytest

from imgsearch_cli.main import main


@pytest.fixture(autouse=True)
def admin_key(use_key) -> str:
    return use_key("admin")


class Terminal(io.StringIO):
    """stdin as a terminal, at whose prompts ``answers`` are typed in order."""

    def __init__(self) -> None:
        super().__init__()
        self.answers: list[str] = []
        self.prompts: list[str] = []

    def isatty(self) -> bool:
        return True

    def getpass(self, prompt: str = "") -> str:
        self.prompts.append(prompt)
        return self.answers.pop(0)


@pytest.fixture
def terminal(monkeypatch: pytest.MonkeyPatch) -> Terminal:
    terminal = Terminal()
    monkeypatch.setattr(sys, "stdin", terminal)
    monkeypatch.setattr(getpass, "getpass", terminal.getpass)
    return terminal


def users_command(fake_api, *argv: str) -> int:
    return main(["users", *argv, "--url", fake_api.url])


def test_list_shows_each_user_and_whether_they_may_sign_in(fake_api, capsys) -> None:
    fake_api.identity.add_user("alice", "editor")["created_at"] = "2026-11-30T14:02:11+00:00"
    fake_api.identity.add_user("bob", "viewer")["disabled"] = True
    assert users_command(fake_api, "list") == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].split() == ["username", "role", "state", "created"]
    assert lines[1].split() == ["alice", "editor", "active", "2026-11-30", "14:02"]
    assert lines[2].split()[:3] == ["bob", "viewer", "disabled"]


def test_list_json_is_the_api_answer(fake_api, capsys) -> None:
    fake_api.identity.add_user("alice", "editor")
    assert users_command(fake_api, "list", "--json") == 0
    assert [u["username"] for u in json.loads(capsys.readouterr().out)["users"]] == ["alice"]


def test_create_reads_the_password_from_stdin_when_asked(fake_api, capsys, monkeypatch) -> None:
    monkeypatch.setattr(sys, "stdin", io.StringIO("correct horse battery\nsecond line\n"))
    assert users_command(fake_api, "create", "alice", "--role", "editor", "--password-stdin") == 0
    assert fake_api.identity.passwords["alice"] == "correct horse battery"
    assert fake_api.identity.users["alice"]["role"] == "editor"
    assert capsys.readouterr().out == "Made user alice: role editor, active.\n"


def test_create_asks_twice_at_a_terminal(fake_api, capsys, terminal) -> None:
    terminal.answers += ["tr0ub4dor&3", "tr0ub4dor&3"]
    assert users_command(fake_api, "create", "alice", "--role", "viewer") == 0
    assert fake_api.identity.passwords["alice"] == "tr0ub4dor&3"
    assert terminal.prompts == ["Password for alice: ", "The same again: "]
    assert "tr0ub4dor" not in capsys.readouterr().out


def test_create_refuses_two_different_passwords(fake_api, capsys, terminal) -> None:
    terminal.answers += ["one password", "another"]
    assert users_command(fake_api, "create", "alice", "--role", "viewer") == 2
    assert "the two passwords differ; nothing was changed" in capsys.readouterr().err
    assert "alice" not in fake_api.identity.users


def test_create_without_a_terminal_or_password_stdin_refuses_before_asking(
    fake_api, capsys, monkeypatch
) -> None:
    monkeypatch.setattr(sys, "stdin", io.StringIO("piped\n"))
    monkeypatch.setattr(getpass, "getpass", lambda prompt="": pytest.fail("asked"))
    assert users_command(fake_api, "create", "alice", "--role", "viewer") == 2
    assert "stdin is not a terminal" in capsys.readouterr().err
    assert "alice" not in fake_api.identity.users


def test_an_empty_password_is_refused(fake_api, capsys, monkeypatch) -> None:
    monkeypatch.setattr(sys, "stdin", io.StringIO("\n"))
    assert users_command(fake_api, "create", "alice", "--role", "viewer", "--password-stdin") == 2
    assert "the password is empty" in capsys.readouterr().err
    assert "alice" not in fake_api.identity.users


def test_create_of_a_taken_name_reports_the_conflict(fake_api, capsys, monkeypatch) -> None:
    fake_api.identity.add_user("alice", "admin", password="old")
    monkeypatch.setattr(sys, "stdin", io.StringIO("new\n"))
    assert users_command(fake_api, "create", "alice", "--role", "viewer", "--password-stdin") == 2
    assert "the server answered 409: the username 'alice' is taken" in capsys.readouterr().err
    assert fake_api.identity.passwords["alice"] == "old"


def test_set_changes_the_role_and_disables_then_enables(fake_api, capsys) -> None:
    fake_api.identity.add_user("alice", "viewer")
    assert users_command(fake_api, "set", "alice", "--role", "editor", "--disable") == 0
    assert capsys.readouterr().out == "User alice: role editor, disabled.\n"
    assert users_command(fake_api, "set", "alice", "--enable") == 0
    assert capsys.readouterr().out == "User alice: role editor, active.\n"
    assert fake_api.identity.users["alice"]["disabled"] is False


@pytest.mark.parametrize("argv", [[], ["--disable", "--enable"], ["--role", "owner"]])
def test_set_needs_one_sensible_change(fake_api, capsys, argv) -> None:
    fake_api.identity.add_user("alice", "viewer")
    with pytest.raises(SystemExit) as exit_info:
        users_command(fake_api, "set", "alice", *argv)
    assert exit_info.value.code == 2
    assert fake_api.identity.users["alice"]["role"] == "viewer"


def test_set_of_an_unknown_user_says_so(fake_api, capsys) -> None:
    assert users_command(fake_api, "set", "nobody", "--disable") == 2
    assert "the server answered 404: no user 'nobody'" in capsys.readouterr().err


def test_reset_password_sets_the_new_one(fake_api, capsys, terminal) -> None:
    fake_api.identity.add_user("alice", "viewer", password="old")
    terminal.answers += ["n3w-pass", "n3w-pass"]
    assert users_command(fake_api, "reset-password", "alice") == 0
    assert fake_api.identity.passwords["alice"] == "n3w-pass"
    assert "their sessions have ended" in capsys.readouterr().out


def test_users_need_an_admin(fake_api, capsys, use_key) -> None:
    key = use_key("editor")
    assert users_command(fake_api, "list") == 2
    err = capsys.readouterr().err
    assert "403: this needs the admin role" in err
    assert f"API key {key[:12]}… from IMGSEARCH_API_KEY" in err
