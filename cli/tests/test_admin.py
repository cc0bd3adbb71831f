"""``imgsearch admin verify`` against a real local HTTP server speaking the contract (FakeApi)."""

import json

import pytest

from imgsearch_cli.main import main


@pytest.fixture(autouse=True)
def admin_key(use_key) -> str:
    return use_key("admin")


GONE = {
    "kind": "index-without-bytes",
    "image_id": "a" * 64,
    "detail": "originals/aaaa… is missing",
}
NO_THUMB = {"kind": "missing-thumbnail", "image_id": "b" * 64, "detail": "thumbs/bbbb… is missing"}


def test_verify_of_a_sound_library_prints_the_counts_and_exits_0(fake_api, capsys) -> None:
    assert main(["admin", "verify", "--url", fake_api.url]) == 0
    out = capsys.readouterr().out
    assert "Checked 40 catalog rows, 41 index rows, 40 originals, 39 thumbnails" in out
    assert "0 staged uploads, 2 quarantined images." in out
    assert "No problems found." in out
    assert fake_api.verifications == [{"repair": False}]


def test_verify_lists_each_problem_and_exits_1_while_any_is_left(
    fake_api, capsys, monkeypatch
) -> None:
    monkeypatch.setenv("IMGSEARCH_URL", fake_api.url)
    fake_api.library_problems = [GONE, NO_THUMB]
    assert main(["admin", "verify"]) == 1
    lines = capsys.readouterr().out.splitlines()
    assert lines[1].split() == ["kind", "image", "id", "repaired", "detail"]
    assert lines[2].split() == ["index-without-bytes", "a" * 64, "no", *GONE["detail"].split()]
    assert lines[3].split()[:3] == ["missing-thumbnail", "b" * 64, "no"]
    assert "2 problems: 0 repaired, 2 left" in lines[4]
    assert "--repair" in lines[5]


def test_verify_repair_asks_for_repairs_and_exits_0_when_all_are_mended(fake_api, capsys) -> None:
    fake_api.library_problems = [GONE, NO_THUMB]
    assert main(["admin", "verify", "--repair", "--url", fake_api.url]) == 0
    out = capsys.readouterr().out
    assert fake_api.verifications == [{"repair": True}]
    assert [line.split()[2] for line in out.splitlines()[2:4]] == ["yes", "yes"]
    assert "2 problems: 2 repaired, 0 left" in out and "--repair" not in out


def test_verify_repair_exits_1_when_a_problem_could_not_be_mended(fake_api, capsys) -> None:
    fake_api.library_problems = [GONE, NO_THUMB]
    fake_api.unmendable = {NO_THUMB["image_id"]}
    assert main(["admin", "verify", "--repair", "--url", fake_api.url]) == 1
    assert "2 problems: 1 repaired, 1 left" in capsys.readouterr().out


def test_verify_json_is_the_api_answer(fake_api, capsys) -> None:
    fake_api.library_problems = [GONE]
    assert main(["admin", "verify", "--json", "--url", fake_api.url]) == 1
    answer = json.loads(capsys.readouterr().out)
    assert answer["problems"] == [{**GONE, "repaired": False}]
    assert answer["unrepaired"] == 1 and answer["counts"]["index"] == 41


@pytest.mark.parametrize("status", [403, 503])
def test_verify_reports_the_servers_refusal_and_exits_2(fake_api, capsys, status) -> None:
    fake_api.verify_status = status
    assert main(["admin", "verify", "--url", fake_api.url]) == 2
    assert f"the server answered {status}: admins only" in capsys.readouterr().err


def test_verify_says_when_the_server_cannot_be_reached(capsys) -> None:
    assert main(["admin", "verify", "--url", "http://127.0.0.1:9"]) == 2
    assert "could not reach http://127.0.0.1:9" in capsys.readouterr().err
