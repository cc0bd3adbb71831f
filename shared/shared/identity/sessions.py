"""The page's session tokens: short-lived JWTs (HS256) in an HttpOnly cookie.

A token names the user and their ``session_version`` (so a password reset, a disable or a sign-out
ends it at once) and carries the CSRF token the page echoes in a header on unsafe requests. The
role is not in it: it is read from the catalog on each request, so a role change applies at once.
"""

from __future__ import annotations

import secrets
import time
from dataclasses import dataclass

import jwt

from shared.config import MIN_SECRET_CHARS
from shared.errors import Unauthenticated

ALGORITHM = "HS256"


@dataclass(frozen=True)
class SessionClaims:
    username: str
    version: int
    csrf: str
    issued_at: int
    expires_at: int


class SessionTokens:
    def __init__(self, secret: str, ttl_s: int) -> None:
        if len(secret) < MIN_SECRET_CHARS:
            raise ValueError(
                f"auth.jwt_secret (AUTH__JWT_SECRET) needs at least {MIN_SECRET_CHARS} characters"
            )
        self._secret = secret
        self.ttl_s = ttl_s

    def issue(
        self, username: str, version: int, csrf: str | None = None
    ) -> tuple[str, SessionClaims]:
        now = int(time.time())
        claims = SessionClaims(
            username, version, csrf or secrets.token_urlsafe(24), now, now + self.ttl_s
        )
        payload = {
            "sub": claims.username,
            "ver": claims.version,
            "csrf": claims.csrf,
            "iat": claims.issued_at,
            "exp": claims.expires_at,
        }
        return jwt.encode(payload, self._secret, algorithm=ALGORITHM), claims

    def read(self, token: str) -> SessionClaims:
        try:
            payload = jwt.decode(
                token,
                self._secret,
                algorithms=[ALGORITHM],
                options={"require": ["sub", "ver", "csrf", "iat", "exp"]},
            )
        except jwt.ExpiredSignatureError:
            raise Unauthenticated(
                "your session has expired; sign in again", "session-expired"
            ) from None
        except jwt.InvalidTokenError:
            raise Unauthenticated("the session cookie is not valid; sign in again") from None
        return SessionClaims(
            str(payload["sub"]),
            int(payload["ver"]),
            str(payload["csrf"]),
            int(payload["iat"]),
            int(payload["exp"]),
        )

    def wants_renewal(self, issued_at: int) -> bool:
        """Past half its life: the next answer carries a fresh token."""
        return time.time() > issued_at + self.ttl_s / 2
