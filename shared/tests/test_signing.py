"""Signed byte links: the shared vectors (cdnapi's Go test reads the same file), the expiry's
rounding, and links made here verified here."""

import json
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest

from shared.signing import LinkSigner, Verdict

VECTORS = Path(__file__).parents[2] / "tests" / "vectors" / "signed_links.json"
SECRET = "a-secret-of-at-least-thirty-two-characters"
PATH = "/images/" + "ab" * 32


def vectors() -> list[dict[str, Any]]:
    cases: list[dict[str, Any]] = json.loads(VECTORS.read_text())
    return cases


def parts(link: str) -> tuple[str, str, str]:
    """(path, exp, sig) of a signed link."""
    url = urlsplit(link)
    query = parse_qs(url.query, strict_parsing=True)
    assert sorted(query) == ["exp", "sig"] and all(len(v) == 1 for v in query.values())
    return url.path, query["exp"][0], query["sig"][0]


def test_the_vectors_cover_every_verdict() -> None:
    verdicts = [case["verdict"] for case in vectors()]
    assert {v: verdicts.count(v) > 1 for v in Verdict} == {v: True for v in Verdict}
    assert all(case["valid"] == (case["verdict"] == "ok") for case in vectors())


@pytest.mark.parametrize("case", vectors(), ids=lambda case: case["case"])
def test_verify_agrees_with_the_shared_vectors(case: dict[str, Any]) -> None:
    signer = LinkSigner(case["secret"], 3600)
    verdict = signer.verify(
        case["method"], case["path"], case["exp"], case["sig"], case["valid_at"]
    )
    assert verdict == Verdict(case["verdict"])


def test_sign_makes_the_vectors_signature() -> None:
    case = vectors()[0]
    ttl = 3600
    # An exp on the quarter grid is what sign() gives for any time up to ttl before it.
    link = LinkSigner(case["secret"], ttl).sign(case["path"], now=int(case["exp"]) - ttl)
    assert link == f"{case['path']}?exp={case['exp']}&sig={case['sig']}"


GRID = 1_111_111 * 900  # a multiple of a quarter of an hour, in unix seconds


@pytest.mark.parametrize(
    ("now", "exp"),
    [
        (GRID, GRID + 3600),  # on the grid: exactly now + ttl
        (GRID + 0.001, GRID + 4500),  # just past it: the next quarter
        (GRID + 899.5, GRID + 4500),
        (GRID + 900, GRID + 4500),
        (GRID + 900.5, GRID + 5400),
    ],
)
def test_expiry_rounds_up_to_a_quarter_of_the_ttl(now: float, exp: int) -> None:
    assert parts(LinkSigner(SECRET, 3600).sign(PATH, now))[1] == str(exp)


def test_answers_within_one_quarter_share_a_link_and_the_next_quarter_changes_it() -> None:
    signer = LinkSigner(SECRET, 3600)
    assert signer.sign(PATH, GRID + 0.5) == signer.sign(PATH, GRID + 899.5)
    assert signer.sign(PATH, GRID + 0.5) != signer.sign(PATH, GRID + 900.5)


def test_a_signed_link_works_for_the_ttl_and_not_after_the_rounded_expiry() -> None:
    signer = LinkSigner(SECRET, 60)
    now = 1_000_000_007.0
    path, exp, sig = parts(signer.sign(PATH, now))
    assert now + 60 <= int(exp) < now + 60 + 15
    assert signer.verify("GET", path, exp, sig, now + 60 - 0.001) == Verdict.OK
    assert signer.verify("HEAD", path, exp, sig, now) == Verdict.OK
    assert signer.verify("GET", path, exp, sig, int(exp)) == Verdict.EXPIRED
    assert signer.verify("GET", path + "/thumb", exp, sig, now) == Verdict.BAD
    assert LinkSigner(SECRET + "x", 60).verify("GET", path, exp, sig, now) == Verdict.BAD


def test_the_clock_defaults_to_now() -> None:
    signer = LinkSigner(SECRET, 60)
    assert signer.verify("GET", *parts(signer.sign(PATH))) == Verdict.OK
    assert signer.verify("GET", *parts(signer.sign(PATH, now=1_000_000_000))) == Verdict.EXPIRED


@pytest.mark.parametrize(("secret", "ttl"), [("", 3600), (SECRET, 0)])
def test_an_empty_secret_or_a_ttl_under_a_second_is_refused(secret: str, ttl: int) -> None:
    with pytest.raises(ValueError, match="secret|second"):
        LinkSigner(secret, ttl)
