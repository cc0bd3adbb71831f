"""Sign-in, sessions, roles, users and keys through ``create_app()``, in-process: the real
verifier on a SQLite catalog, rate-limit windows in memory (`memory://`)."""

from __future__ import annotations

import time
from collections.abc import Iterator

import httpx
import jwt
import pytest
from dependency_injector import providers
from fastapi.testclient import TestClient

from ingestapi.api.identity_models import iso
from ingestapi.config import IngestSettings
from ingestapi.main import create_app
from shared.identity.http import CSRF_COOKIE, CSRF_HEADER, SESSION_COOKIE
from shared.identity.roles import Role
from shared.identity.users import UserStore
from tests.support.fakes import FakeIngestQueue, FakeObjectStore, FakeVectorIndex
from tests.support.identity import IN_MEMORY_LIMITS, TEST_AUTH, grant
from tests.support.local_catalog import FailableCatalog
from tests.support.stack import JWT_SECRET

PASSWORD = "a long enough password"
PROBLEM = "urn:imagesearch:problem:"


@pytest.fixture
def api(catalog: FailableCatalog, objects: FakeObjectStore) -> Iterator[TestClient]:
    """Anonymous; the catalog holds ``ada`` (editor) and ``val`` (viewer)."""
    app = create_app(
        IngestSettings(database=catalog.settings, auth=TEST_AUTH, rate_limit=IN_MEMORY_LIMITS)
    )
    container = app.state.container
    container.catalog.override(providers.Object(catalog))
    container.objects.override(providers.Object(objects))
    container.index.override(providers.Object(FakeVectorIndex()))
    container.queue.override(providers.Object(FakeIngestQueue()))
    with TestClient(app, raise_server_exceptions=False) as client:
        users = UserStore(catalog)
        users.create("ada", PASSWORD, Role.EDITOR)
        users.create("val", PASSWORD, Role.VIEWER)
        yield client


def problem(response: httpx.Response, status: int, code: str) -> dict[str, str]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/problem+json"
    body: dict[str, str] = response.json()
    assert body["type"] == PROBLEM + code, body
    return body


def sign_in(api: TestClient, username: str = "ada") -> dict[str, str]:
    response = api.post("/api/v1/auth/login", json={"username": username, "password": PASSWORD})
    assert response.status_code == 200, response.text
    return dict(response.json())


def delete(api: TestClient, **headers: str) -> httpx.Response:
    return api.delete("/api/v1/ingest/images/" + "a" * 64, headers=headers)


def test_sign_in_sets_an_httponly_strict_session_and_a_readable_csrf_cookie(
    api: TestClient,
) -> None:
    response = api.post("/api/v1/auth/login", json={"username": "ada", "password": PASSWORD})
    cookies = {c.split("=", 1)[0]: c.lower() for c in response.headers.get_list("set-cookie")}
    assert "httponly" in cookies[SESSION_COOKIE] and "samesite=strict" in cookies[SESSION_COOKIE]
    assert "httponly" not in cookies[CSRF_COOKIE] and "samesite=strict" in cookies[CSRF_COOKIE]
    body = response.json()
    assert (body["name"], body["role"]) == ("ada", "editor")
    assert body["csrf_token"] == api.cookies[CSRF_COOKIE]
    me = api.get("/api/v1/auth/me").json()
    assert (me["authenticated"], me["kind"], me["name"]) == (True, "user", "ada")


def test_a_wrong_password_and_an_unknown_user_are_refused_alike(api: TestClient) -> None:
    wrong = api.post("/api/v1/auth/login", json={"username": "ada", "password": "nope" * 4})
    unknown = api.post("/api/v1/auth/login", json={"username": "eve", "password": PASSWORD})
    assert problem(wrong, 401, "unauthenticated") == problem(unknown, 401, "unauthenticated")
    assert SESSION_COOKIE not in api.cookies


def test_twenty_wrong_passwords_in_a_minute_are_cut_off_with_retry_after(
    api: TestClient,
) -> None:
    statuses = []
    for _ in range(20):
        response = api.post("/api/v1/auth/login", json={"username": "ada", "password": "x" * 12})
        statuses.append(response.status_code)
    assert statuses[0] == 401 and statuses[-1] == 429, statuses
    limited = problem(response, 429, "rate-limited")
    assert int(response.headers["Retry-After"]) >= 1 and "try again" in limited["detail"]
    assert response.headers["RateLimit-Policy"] == '"login";q=10;w=60'
    # The right password is refused too while the window is full: that is the point.
    right = api.post("/api/v1/auth/login", json={"username": "ada", "password": PASSWORD})
    assert right.status_code == 429


def test_anonymous_writes_are_401_with_a_bearer_challenge(api: TestClient) -> None:
    response = delete(api)
    problem(response, 401, "unauthenticated")
    assert response.headers["WWW-Authenticate"].startswith("Bearer")
    problem(api.post("/api/v1/ingest", files=[("files", ("a.png", b"x"))]), 401, "unauthenticated")
    problem(api.post("/api/v1/admin/verify", json={}), 401, "unauthenticated")


def test_a_viewer_key_is_forbidden_to_write_and_an_editor_key_may(
    api: TestClient, catalog: FailableCatalog
) -> None:
    grant(api, catalog, Role.VIEWER)
    problem(delete(api), 403, "forbidden")
    grant(api, catalog, Role.EDITOR)
    assert problem(delete(api), 404, "image-not-found")  # allowed: the image just isn't there
    problem(api.get("/api/v1/admin/users"), 403, "forbidden")


def test_a_page_session_needs_the_csrf_header_for_writes(api: TestClient) -> None:
    session = sign_in(api)
    problem(delete(api), 403, "csrf")
    problem(delete(api, **{CSRF_HEADER: "forged"}), 403, "csrf")
    problem(delete(api, **{CSRF_HEADER: session["csrf_token"]}), 404, "image-not-found")


def test_sign_out_clears_the_cookies_and_ends_the_session(api: TestClient) -> None:
    sign_in(api)
    stolen = api.cookies[SESSION_COOKIE]
    assert api.post("/api/v1/auth/logout").status_code == 204
    assert SESSION_COOKIE not in api.cookies
    assert api.get("/api/v1/auth/me").json()["authenticated"] is False
    api.cookies.set(SESSION_COOKIE, stolen)
    problem(api.get("/api/v1/auth/me"), 401, "session-expired")


def test_an_expired_session_says_so_and_its_cookie_is_cleared(api: TestClient) -> None:
    now = int(time.time())
    claims = {"sub": "ada", "ver": 1, "csrf": "c", "iat": now - 2000, "exp": now - 1000}
    api.cookies.set(SESSION_COOKIE, jwt.encode(claims, JWT_SECRET, algorithm="HS256"))
    expired = api.get("/api/v1/ingest/jobs/" + "0" * 32)
    problem(expired, 401, "session-expired")
    cleared = [c for c in expired.headers.get_list("set-cookie") if c.startswith(SESSION_COOKIE)]
    assert cleared and "max-age=0" in cleared[0].lower()  # the next request reads as anonymous


def test_a_session_in_use_past_half_its_life_gets_a_fresh_cookie(api: TestClient) -> None:
    now = int(time.time())
    claims = {"sub": "ada", "ver": 1, "csrf": "c", "iat": now - 600, "exp": now + 300}
    old = jwt.encode(claims, JWT_SECRET, algorithm="HS256")
    api.cookies.set(SESSION_COOKIE, old)
    me = api.get("/api/v1/auth/me")
    assert me.status_code == 200
    [fresh] = [c for c in me.headers.get_list("set-cookie") if c.startswith(SESSION_COOKIE)]
    token = fresh.split(";")[0].split("=", 1)[1]
    assert token != old
    renewed = jwt.decode(token, JWT_SECRET, algorithms=["HS256"])
    assert renewed["exp"] >= now + 900 - 5 and renewed["csrf"] == "c"
    assert me.json()["expires_at"] == iso(renewed["exp"], seconds=True)


def test_an_admin_manages_users_whose_changes_apply_at_once(
    api: TestClient, catalog: FailableCatalog
) -> None:
    admin_key = grant(api, catalog, Role.ADMIN)
    created = api.post(
        "/api/v1/admin/users", json={"username": "bob", "password": PASSWORD, "role": "viewer"}
    )
    assert created.status_code == 201 and created.json()["role"] == "viewer"
    taken = api.post(
        "/api/v1/admin/users", json={"username": "bob", "password": PASSWORD, "role": "admin"}
    )
    problem(taken, 409, "conflict")
    problem(
        api.post("/api/v1/admin/users", json={"username": "x", "password": "short"}),
        400,
        "invalid-input",
    )
    del api.headers["Authorization"]
    sign_in(api, "bob")
    assert api.get("/api/v1/auth/me").json()["role"] == "viewer"
    promoted = api.patch(
        "/api/v1/admin/users/bob",
        json={"role": "editor"},
        headers={"Authorization": f"Bearer {admin_key}"},
    )
    assert promoted.json()["role"] == "editor"
    assert api.get("/api/v1/auth/me").json()["role"] == "editor"
    api.patch(
        "/api/v1/admin/users/bob",
        json={"disabled": True},
        headers={"Authorization": f"Bearer {admin_key}"},
    )
    problem(api.get("/api/v1/auth/me"), 401, "session-expired")
    names = {
        u["username"]: u
        for u in api.get(
            "/api/v1/admin/users", headers={"Authorization": f"Bearer {admin_key}"}
        ).json()["users"]
    }
    assert names["bob"]["disabled"] is True and "password" not in str(names)


def test_a_key_is_shown_once_listed_by_prefix_and_refused_once_revoked(
    api: TestClient, catalog: FailableCatalog
) -> None:
    grant(api, catalog, Role.ADMIN)
    made = api.post("/api/v1/admin/keys", json={"name": "ci", "role": "editor"}).json()
    key, prefix = made["key"], made["prefix"]
    assert key.startswith(prefix) and made["created_by"].startswith("isk_")
    listed = api.get("/api/v1/admin/keys").json()["keys"]
    assert prefix in {k["prefix"] for k in listed} and key not in str(listed)
    with_key = {"Authorization": f"Bearer {key}"}
    assert problem(delete(api, **with_key), 404, "image-not-found")
    assert api.delete(f"/api/v1/admin/keys/{prefix}").status_code == 204
    problem(delete(api, **with_key), 401, "unauthenticated")
    problem(api.delete("/api/v1/admin/keys/isk_nothere0"), 404, "key-not-found")


def test_a_user_changes_their_own_password_and_other_sessions_end(api: TestClient) -> None:
    sign_in(api)
    other = api.cookies[SESSION_COOKIE]
    csrf = {CSRF_HEADER: api.cookies[CSRF_COOKIE]}
    wrong = api.put(
        "/api/v1/auth/password",
        json={"current_password": "not it at all", "password": "the next password"},
        headers=csrf,
    )
    problem(wrong, 403, "forbidden")
    changed = api.put(
        "/api/v1/auth/password",
        json={"current_password": PASSWORD, "password": "the next password"},
        headers=csrf,
    )
    assert changed.status_code == 200, changed.text
    assert api.get("/api/v1/auth/me").json()["authenticated"] is True
    api.cookies.clear()
    api.cookies.set(SESSION_COOKIE, other)
    problem(api.get("/api/v1/auth/me"), 401, "session-expired")


def test_the_openapi_document_declares_the_schemes_and_each_routes_role(api: TestClient) -> None:
    spec = api.get("/openapi.json").json()
    assert set(spec["components"]["securitySchemes"]) == {"apiKey", "session"}
    ingest = spec["paths"]["/api/v1/ingest"]["post"]
    assert ingest["x-required-role"] == "editor" and {"apiKey": []} in ingest["security"]
    assert {} not in ingest["security"]  # a write needs a credential; a read may go without
    assert {} in spec["paths"]["/api/v1/ingest/jobs/{job_id}"]["get"]["security"]
    assert {"401", "403", "429"} <= set(ingest["responses"])
    problem_body = ingest["responses"]["403"]["content"]["application/problem+json"]["schema"]
    assert problem_body == {"$ref": "#/components/schemas/Problem"}
    problem_schema = spec["components"]["schemas"]["Problem"]
    assert {"type", "title", "status", "detail"} <= set(problem_schema["required"])
    keys = spec["paths"]["/api/v1/admin/keys"]["post"]
    assert keys["x-required-role"] == "admin" and {"401", "403"} <= set(keys["responses"])
    assert "429" not in keys["responses"]  # no rate class on admin routes
    assert spec["paths"]["/api/v1/auth/login"]["post"]["x-required-role"] == "anyone"
