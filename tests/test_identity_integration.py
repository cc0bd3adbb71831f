"""Identity on real parts: ingestapi, a worker, searchapi and cdnapi with private reads, rate
limits counted in the real Redis, keys and users in the stack's catalog.

What an outsider sees: no credential, no write (401); a viewer's key reads but may not write
(403); an editor's key writes; a revoked key stops working at once; password guessing and
search bursts are cut off with 429, while traffic under the limits never is.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from shared.domain import image_id_of
from shared.identity.roles import Role
from tests.support.images import encode, picture
from tests.support.stack import Stack, wait_for_job

SEARCH_LIMIT = 20  # per minute, per credential
PASSWORD = "viewer password 123"


@pytest.fixture(scope="module")
def stack(stack_factory: Any) -> Iterator[Stack]:
    stack = stack_factory("identity", public_read=False)
    with stack.starting_together():
        stack.start_ingestapi()
        stack.start_worker()
        stack.start_searchapi(RATE_LIMIT__SEARCH=f"{SEARCH_LIMIT}/minute")
        stack.start_cdnapi()
    yield stack
    stack.stop_all()


@pytest.fixture(scope="module")
def keys(stack: Stack) -> dict[str, str]:
    return {
        "viewer": stack.add_user("vera", PASSWORD, Role.VIEWER),
        "editor": stack.add_key(Role.EDITOR, "editor"),
    }


@pytest.fixture(scope="module")
def image_id(stack: Stack, keys: dict[str, str]) -> str:
    """One picture, ingested with the editor's key."""
    data = encode(picture(48, 32, (30, 160, 60)), "PNG")
    with stack.client("ingestapi", key=keys["editor"]) as editor:
        response = editor.post("/api/v1/ingest", files=[("files", ("green.png", data))])
        assert response.status_code == 202, response.text
        [job] = response.json()["jobs"]
        assert wait_for_job(editor, stack.urls["ingestapi"], job["job_id"])["state"] == "done"
    return image_id_of(data)


def _problem(response: httpx.Response, status: int, code: str) -> None:
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json()["type"] == f"urn:imagesearch:problem:{code}"


def _writes(stack: Stack, key: str | None, image_id: str) -> list[httpx.Response]:
    with stack.client("ingestapi", key=key) as ingest, stack.client("searchapi", key=key) as search:
        return [
            ingest.post("/api/v1/ingest", files=[("files", ("x.png", b"\x89PNG\r\n\x1a\n"))]),
            search.put(f"/api/v1/image/{image_id}/tags", json={"tags": ["kept"]}),
            ingest.delete(f"/api/v1/ingest/images/{image_id}"),
        ]


def test_anonymous_writes_and_reads_answer_401(stack: Stack, image_id: str) -> None:
    for response in _writes(stack, None, image_id):
        _problem(response, 401, "unauthenticated")
        assert response.headers["WWW-Authenticate"].startswith("Bearer")
    with stack.client("searchapi", key=None) as anonymous:
        _problem(
            anonymous.get("/api/v1/image/search", params={"text": "x"}), 401, "unauthenticated"
        )


def test_a_viewer_key_reads_but_gets_403_on_writes(
    stack: Stack, keys: dict[str, str], image_id: str
) -> None:
    for response in _writes(stack, keys["viewer"], image_id):
        _problem(response, 403, "forbidden")
    with stack.client("searchapi", key=keys["viewer"]) as viewer:
        assert viewer.get(f"/api/v1/image/{image_id}").status_code == 200


def test_private_reads_answer_signed_byte_links_that_cdnapi_checks(
    stack: Stack, keys: dict[str, str], image_id: str
) -> None:
    with stack.client("searchapi", key=keys["viewer"]) as viewer:
        thumb = viewer.get(f"/api/v1/image/{image_id}").json()["thumb_url"]
    assert "sig=" in thumb and "exp=" in thumb
    with stack.client("cdnapi", key=None) as cdn:
        assert cdn.get(thumb).status_code == 200
        _problem(cdn.get(f"/images/{image_id}/thumb"), 403, "bad-signature")
        _problem(cdn.get(thumb.replace("/thumb?", "?")), 403, "bad-signature")


def test_an_editor_key_writes_and_a_revoked_key_is_refused_within_5_s(
    stack: Stack, keys: dict[str, str], image_id: str
) -> None:
    with stack.client("searchapi", key=keys["editor"]) as editor:
        tagged = editor.put(f"/api/v1/image/{image_id}/tags", json={"tags": ["kept"]})
        assert tagged.status_code == 200 and tagged.json()["tags"] == ["kept"]
    prefix = keys["editor"][:12]
    with stack.client("ingestapi") as admin, stack.client("ingestapi", key=keys["editor"]) as ed:
        assert ed.get(f"/api/v1/ingest/jobs/{'0' * 32}").status_code == 404  # key works
        assert admin.delete(f"/api/v1/admin/keys/{prefix}").status_code == 204
        revoked_at = time.monotonic()
        refused = ed.get(f"/api/v1/ingest/jobs/{'0' * 32}")
        refused_after = time.monotonic() - revoked_at
    _problem(refused, 401, "unauthenticated")
    assert refused_after < 5
    print(f"revoked key refused {refused_after * 1000:.0f} ms after revocation")


def test_twenty_wrong_passwords_in_a_minute_get_429_with_retry_after(stack: Stack) -> None:
    statuses = []
    with stack.client("ingestapi", key=None) as page:
        for _ in range(20):
            wrong = page.post(
                "/api/v1/auth/login", json={"username": "vera", "password": "guess " * 3}
            )
            statuses.append(wrong.status_code)
    assert set(statuses[:10]) == {401} and statuses[-1] == 429, statuses
    _problem(wrong, 429, "rate-limited")
    assert 1 <= int(wrong.headers["Retry-After"]) <= 60
    assert wrong.headers["RateLimit"].startswith('"login";r=0')


def test_a_search_burst_over_the_limit_gets_429_and_traffic_under_it_never(
    stack: Stack, keys: dict[str, str]
) -> None:
    under_key = stack.add_key(Role.VIEWER, "steady")
    with (
        stack.client("searchapi", key=keys["viewer"]) as burst,
        stack.client("searchapi", key=under_key) as steady,
    ):
        answers = [burst.get("/api/v1/image/search", params={"text": "a"}) for _ in range(25)]
        under = [steady.get("/api/v1/image/search", params={"text": "b"}) for _ in range(15)]
    statuses = [a.status_code for a in answers]
    assert statuses[:SEARCH_LIMIT] == [200] * SEARCH_LIMIT
    assert set(statuses[SEARCH_LIMIT:]) == {429}, statuses
    assert answers[0].headers["RateLimit-Policy"] == f'"search";q={SEARCH_LIMIT};w=60'
    assert int(answers[-1].headers["Retry-After"]) >= 1
    assert {u.status_code for u in under} == {200}
