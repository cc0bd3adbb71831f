"""The one verifier: a request's credential → a ``Principal``, and whether it may do the thing.

Programs send an API key (``Authorization: Bearer isk_…``); the page sends its session cookie and,
on unsafe requests, the CSRF token from that session in a header (a cross-site form cannot read
it). A bearer credential wins when both come. Keys and users are looked up on every request, so
a revoked key or a disabled user is refused by the next request, not when a cache expires.
"""

from __future__ import annotations

import secrets

from shared.errors import Forbidden, Unauthenticated
from shared.identity.keys import KeyStore, looks_like_key
from shared.identity.roles import Principal, Role
from shared.identity.sessions import SessionClaims, SessionTokens
from shared.identity.users import User, UserStore

NEEDS_CREDENTIAL = (
    "this needs a credential: an API key (Authorization: Bearer isk_…) or a signed-in session"
)


class Verifier:
    def __init__(
        self, users: UserStore, keys: KeyStore, sessions: SessionTokens, public_read: bool
    ) -> None:
        self.users = users
        self.keys = keys
        self.sessions = sessions
        self.public_read = public_read

    def principal(self, bearer: str | None, session_token: str | None) -> Principal | None:
        """Who sent the request; None when no credential came; Unauthenticated for a bad one."""
        if bearer:
            return self._key_principal(bearer)
        if session_token:
            return self._session_principal(self.sessions.read(session_token))
        return None

    def authorize(
        self, principal: Principal | None, needed: Role | None, unsafe: bool, csrf: str | None
    ) -> None:
        """Raise unless ``principal`` may; ``needed=None`` is a read (public if configured)."""
        if needed is None:
            if self.public_read:
                return
            needed = Role.VIEWER
        if principal is None:
            raise Unauthenticated(NEEDS_CREDENTIAL)
        if unsafe and principal.csrf is not None:
            if not secrets.compare_digest((csrf or "").encode(), principal.csrf.encode()):
                raise Forbidden("the page's request lacks its CSRF token (X-CSRF-Token)", "csrf")
        if not principal.role.allows(needed):
            raise Forbidden(f"this needs the {needed} role; {principal.label} has {principal.role}")

    def sign_in(self, username: str, password: str) -> tuple[str, Principal]:
        user = self.users.authenticate(username, password)
        if user is None:
            raise Unauthenticated("wrong username or password, or the account is disabled")
        token, claims = self.sessions.issue(user.username, user.session_version)
        return token, _user_principal(user, claims)

    def change_password(self, username: str, current: str, new: str) -> tuple[str, Principal]:
        """Set a new password (ending every session) and open a new session for this page."""
        if self.users.authenticate(username, current) is None:
            raise Forbidden("the current password is wrong")
        self.users.set_password(username, new)
        return self.sign_in(username, new)

    def renewal(self, principal: Principal) -> tuple[str, Principal] | None:
        """A fresh token for a page session past half its life (same CSRF token), else None."""
        issued_at = principal.session_issued_at
        if issued_at is None or not self.sessions.wants_renewal(issued_at):
            return None
        user = self.users.get(principal.name)
        if user is None:
            return None
        token, fresh = self.sessions.issue(user.username, user.session_version, principal.csrf)
        return token, _user_principal(user, fresh)

    def _key_principal(self, bearer: str) -> Principal:
        record = self.keys.find(bearer) if looks_like_key(bearer) else None
        if record is None:
            raise Unauthenticated("the API key is unknown, revoked or expired")
        return Principal("key", record.prefix, record.role)

    def _session_principal(self, claims: SessionClaims) -> Principal:
        user = self.users.get(claims.username)
        if user is None or user.disabled or user.session_version != claims.version:
            raise Unauthenticated("your session has ended; sign in again", "session-expired")
        return _user_principal(user, claims)


def _user_principal(user: User, claims: SessionClaims) -> Principal:
    return Principal(
        "user",
        user.username,
        user.role,
        session_expires_at=claims.expires_at,
        session_issued_at=claims.issued_at,
        csrf=claims.csrf,
    )
