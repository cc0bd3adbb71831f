"""Users, keys, session tokens, the verifier's decisions and the rate limiter, on the real catalog
(SQLite and PostgreSQL) and rate-limit windows in memory."""

from __future__ import annotations

import asyncio
import time

import jwt
import pytest

from shared.catalog.db import Catalog
from shared.config import RateLimitSettings
from shared.errors import (
    Conflict,
    DependencyUnavailable,
    Forbidden,
    InvalidInput,
    RateLimited,
    Unauthenticated,
)
from shared.identity.keys import KeyStore
from shared.identity.passwords import verify_password
from shared.identity.ratelimit import RateLimiter
from shared.identity.roles import Principal, Role
from shared.identity.sessions import SessionTokens
from shared.identity.users import UserStore
from shared.identity.verifier import Verifier

SECRET = "a-session-secret-of-forty-characters-xx"
PASSWORD = "correct horse battery"


def verifier(catalog: Catalog, public_read: bool = False) -> Verifier:
    return Verifier(UserStore(catalog), KeyStore(catalog), SessionTokens(SECRET, 900), public_read)


def test_a_user_signs_in_with_their_password_only(catalog: Catalog) -> None:
    users = UserStore(catalog)
    users.create("ada", PASSWORD, Role.EDITOR)
    assert users.authenticate("ada", PASSWORD) is not None
    assert users.authenticate("ada", PASSWORD + "!") is None
    assert users.authenticate("nobody", PASSWORD) is None


def test_passwords_are_stored_as_argon2_hashes(catalog: Catalog) -> None:
    UserStore(catalog).create("ada", PASSWORD, Role.VIEWER)
    with catalog.engine.connect() as connection:
        [stored] = connection.exec_driver_sql("SELECT password_hash FROM users").scalars()
    assert stored.startswith("$argon2id$") and PASSWORD not in stored
    assert verify_password(stored, PASSWORD)


def test_usernames_are_unique_and_passwords_long_enough(catalog: Catalog) -> None:
    users = UserStore(catalog)
    users.create("ada", PASSWORD, Role.VIEWER)
    with pytest.raises(Conflict):
        users.create("ada", PASSWORD, Role.ADMIN)
    with pytest.raises(InvalidInput):
        users.create("bob", "short", Role.VIEWER)
    with pytest.raises(InvalidInput):
        users.create("Bad Name!", PASSWORD, Role.VIEWER)


def test_a_disabled_user_cannot_sign_in_and_their_sessions_end(catalog: Catalog) -> None:
    check = verifier(catalog)
    check.users.create("ada", PASSWORD, Role.EDITOR)
    token, _ = check.sign_in("ada", PASSWORD)
    check.users.update("ada", disabled=True)
    with pytest.raises(Unauthenticated) as ended:
        check.principal(None, token)
    assert ended.value.code == "session-expired"
    with pytest.raises(Unauthenticated):
        check.sign_in("ada", PASSWORD)


def test_a_password_reset_ends_every_session(catalog: Catalog) -> None:
    check = verifier(catalog)
    check.users.create("ada", PASSWORD, Role.EDITOR)
    token, _ = check.sign_in("ada", PASSWORD)
    assert check.principal(None, token) is not None
    check.users.set_password("ada", "a brand new password")
    with pytest.raises(Unauthenticated):
        check.principal(None, token)


def test_a_role_change_applies_to_a_running_session(catalog: Catalog) -> None:
    check = verifier(catalog)
    check.users.create("ada", PASSWORD, Role.VIEWER)
    token, _ = check.sign_in("ada", PASSWORD)
    check.users.update("ada", role=Role.ADMIN)
    principal = check.principal(None, token)
    assert principal is not None and principal.role is Role.ADMIN


def test_a_key_is_shown_once_kept_hashed_and_found_by_its_value(catalog: Catalog) -> None:
    keys = KeyStore(catalog)
    plain, record = keys.create("ci", Role.EDITOR, "admin")
    assert plain.startswith("isk_") and len(plain) == 47 and record.prefix == plain[:12]
    with catalog.engine.connect() as connection:
        rows = connection.exec_driver_sql("SELECT prefix, key_hash FROM api_keys").all()
    assert plain not in str(rows)
    found = keys.find(plain)
    assert found is not None and found.role is Role.EDITOR and found.last_used_at is not None
    assert keys.find(plain[:-1] + ("A" if plain[-1] != "A" else "B")) is None


def test_a_revoked_or_expired_key_is_refused(catalog: Catalog) -> None:
    keys = KeyStore(catalog)
    revoked, record = keys.create("old", Role.EDITOR, "admin")
    keys.revoke(record.prefix)
    assert keys.find(revoked) is None
    expiring, _ = keys.create("brief", Role.EDITOR, "admin", expires_in_s=1)
    assert keys.find(expiring) is not None
    deadline = time.monotonic() + 5
    while keys.find(expiring) is not None and time.monotonic() < deadline:
        time.sleep(0.1)
    assert keys.find(expiring) is None
    listed = {key.prefix: key for key in keys.list()}
    assert listed[record.prefix].revoked_at is not None


@pytest.mark.parametrize(
    ("role", "needed", "allowed"),
    [
        (Role.VIEWER, Role.VIEWER, True),
        (Role.VIEWER, Role.EDITOR, False),
        (Role.EDITOR, Role.EDITOR, True),
        (Role.EDITOR, Role.ADMIN, False),
        (Role.ADMIN, Role.EDITOR, True),
    ],
)
def test_roles_allow_what_they_rank_for(role: Role, needed: Role, allowed: bool) -> None:
    assert role.allows(needed) is allowed


def test_anonymous_requests_read_only_when_reads_are_public(catalog: Catalog) -> None:
    verifier(catalog, public_read=True).authorize(None, None, unsafe=False, csrf=None)
    with pytest.raises(Unauthenticated):
        verifier(catalog, public_read=False).authorize(None, None, unsafe=False, csrf=None)
    with pytest.raises(Unauthenticated):
        verifier(catalog, public_read=True).authorize(None, Role.EDITOR, unsafe=True, csrf=None)


def test_a_viewer_is_forbidden_to_write(catalog: Catalog) -> None:
    viewer = Principal("key", "isk_abcdefgh", Role.VIEWER)
    with pytest.raises(Forbidden) as refused:
        verifier(catalog).authorize(viewer, Role.EDITOR, unsafe=True, csrf=None)
    assert refused.value.detail == "this needs the editor role; API key isk_abcdefgh… has viewer"


def test_a_page_session_needs_its_csrf_token_on_unsafe_requests(catalog: Catalog) -> None:
    check = verifier(catalog)
    check.users.create("ada", PASSWORD, Role.EDITOR)
    token, session = check.sign_in("ada", PASSWORD)
    principal = check.principal(None, token)
    with pytest.raises(Forbidden) as refused:
        check.authorize(principal, Role.EDITOR, unsafe=True, csrf=None)
    assert refused.value.code == "csrf"
    with pytest.raises(Forbidden):
        check.authorize(principal, Role.EDITOR, unsafe=True, csrf="guessed")
    check.authorize(principal, Role.EDITOR, unsafe=True, csrf=session.csrf)
    check.authorize(principal, Role.EDITOR, unsafe=False, csrf=None)


def test_an_expired_session_says_so_and_a_forged_one_is_refused(catalog: Catalog) -> None:
    check = verifier(catalog)
    check.users.create("ada", PASSWORD, Role.EDITOR)
    now = int(time.time())
    claims = {"sub": "ada", "ver": 1, "csrf": "c", "iat": now - 1000, "exp": now - 100}
    with pytest.raises(Unauthenticated) as expired:
        check.principal(None, jwt.encode(claims, SECRET, algorithm="HS256"))
    assert expired.value.code == "session-expired"
    forged = jwt.encode({**claims, "exp": now + 100}, "another secret of enough length!!", "HS256")
    with pytest.raises(Unauthenticated) as refused:
        check.principal(None, forged)
    assert refused.value.code == "unauthenticated"


def test_a_session_past_half_its_life_is_renewed_with_the_same_csrf_token(
    catalog: Catalog,
) -> None:
    check = verifier(catalog)
    check.users.create("ada", PASSWORD, Role.EDITOR)
    now = int(time.time())
    young = {"sub": "ada", "ver": 1, "csrf": "c", "iat": now - 10, "exp": now + 890}
    old = {**young, "iat": now - 600, "exp": now + 300}
    for claims, renewed in ((young, False), (old, True)):
        principal = check.principal(None, jwt.encode(claims, SECRET, algorithm="HS256"))
        assert principal is not None
        renewal = check.renewal(principal)
        assert (renewal is not None) is renewed
    assert renewal is not None and renewal[1].csrf == "c"
    assert (renewal[1].session_expires_at or 0) >= now + 900


def test_a_bearer_token_that_is_no_key_is_refused(catalog: Catalog) -> None:
    with pytest.raises(Unauthenticated):
        verifier(catalog).principal("not-a-key", None)


def test_the_rate_limit_refuses_over_the_window_and_says_when_to_return() -> None:
    limiter = RateLimiter(RateLimitSettings(storage_url="memory://", search="3/minute"), "")

    async def run() -> None:
        answers = [await limiter.hit("search", "key:one") for _ in range(3)]
        assert [a["RateLimit"].split(";")[1] for a in answers] == ["r=2", "r=1", "r=0"]
        assert answers[0]["RateLimit-Policy"] == '"search";q=3;w=60'
        with pytest.raises(RateLimited) as over:
            await limiter.hit("search", "key:one")
        assert 1 <= int(over.value.headers["Retry-After"]) <= 60
        await limiter.hit("search", "key:two")  # another credential has its own window

    asyncio.run(run())


def test_login_fails_closed_when_the_rate_limit_store_is_down() -> None:
    down = RateLimitSettings(storage_url="redis://127.0.0.1:1/0")
    limiter = RateLimiter(down, "")
    assert asyncio.run(limiter.hit("search", "key:one")) == {}  # counted nowhere, not refused
    with pytest.raises(DependencyUnavailable):
        asyncio.run(limiter.hit("login", "user:ada"))
