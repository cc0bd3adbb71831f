"""The identity half of the CLI's fake server: users, API keys and the key check of the contract.

State and answers only, no HTTP: conftest's handler asks ``refusal`` before each route and calls
the admin methods. As on the real server, a bearer token that is not a live key (unknown, revoked,
expired) is refused with 401 wherever it is sent, reads included, but ``/auth/me`` answers 200
to anyone; a key too weak for the route gets 403. Passwords are kept as sent, for the tests.
"""

from __future__ import annotations

import secrets
from datetime import UTC, datetime, timedelta
from typing import Any

ROLES = ("viewer", "editor", "admin")
READ, ANYONE = "read", "anyone"  # who may call a route, besides a role
PROBLEM = "urn:imagesearch:problem:"
NEEDS_CREDENTIAL = (
    "this needs a credential: an API key (Authorization: Bearer isk_…) or a signed-in session"
)
BAD_KEY = "the API key is unknown, revoked or expired"

Answer = tuple[int, dict[str, Any] | None]


def problem(status: int, title: str, detail: str, **extra: Any) -> dict[str, Any]:
    return {"type": "about:blank", "title": title, "status": status, "detail": detail, **extra}


def now() -> datetime:
    return datetime.now(UTC)


class FakeIdentity:
    def __init__(self) -> None:
        self.public_read = False
        self.keys: dict[str, dict[str, Any]] = {}  # the whole key → its record, as listed
        self.users: dict[str, dict[str, Any]] = {}  # username → its record, as listed
        self.passwords: dict[str, str] = {}
        self.refused: list[str] = []  # "METHOD path" of each request refused (the handler adds)

    def add_key(self, role: str, name: str = "test", expires_in_s: int | None = None) -> str:
        key = "isk_" + secrets.token_urlsafe(32)
        expires = now() + timedelta(seconds=expires_in_s) if expires_in_s else None
        self.keys[key] = {
            "prefix": key[:12],
            "name": name,
            "role": role,
            "created_at": now().isoformat(),
            "expires_at": expires.isoformat() if expires else None,
            "last_used_at": None,
            "revoked_at": None,
            "created_by": "admin",
        }
        return key

    def add_user(self, username: str, role: str, password: str = "secret") -> dict[str, Any]:
        created = now().isoformat()
        self.users[username] = {
            "username": username,
            "role": role,
            "disabled": False,
            "created_at": created,
        }
        self.passwords[username] = password
        return self.users[username]

    def caller(self, authorization: str | None) -> dict[str, Any] | None:
        """The live key the header carries, else None."""
        scheme, _, token = (authorization or "").partition(" ")
        record = self.keys.get(token) if scheme.lower() == "bearer" else None
        if record is None or record["revoked_at"] is not None:
            return None
        expires = record["expires_at"]
        return record if expires is None or now() < datetime.fromisoformat(expires) else None

    def refusal(self, authorization: str | None, needed: str) -> Answer | None:
        """None when the header's credential may call a route that needs ``needed``."""
        if needed == ANYONE:
            return None
        record = self.caller(authorization)
        if authorization and record is None:
            return 401, problem(401, "Unauthorized", BAD_KEY, type=f"{PROBLEM}unauthenticated")
        if needed == READ:
            if self.public_read:
                return None
            needed = "viewer"
        if record is None:
            detail = NEEDS_CREDENTIAL
            return 401, problem(401, "Unauthorized", detail, type=f"{PROBLEM}unauthenticated")
        if ROLES.index(record["role"]) < ROLES.index(needed):
            key, role = f"API key {record['prefix']}…", record["role"]
            detail = f"this needs the {needed} role; {key} has {role}"
            return 403, problem(403, "Forbidden", detail, type=f"{PROBLEM}forbidden")
        record["last_used_at"] = now().isoformat()
        return None

    def me(self, authorization: str | None) -> Answer:
        record = self.caller(authorization)
        return 200, {
            "authenticated": record is not None,
            "kind": "key" if record else None,
            "name": record["prefix"] if record else None,
            "role": record["role"] if record else None,
            "public_read": self.public_read,
            "expires_at": record["expires_at"] if record else None,
        }

    def list_users(self) -> Answer:
        return 200, {"users": list(self.users.values())}

    def create_user(self, body: dict[str, Any]) -> Answer:
        username = body["username"]
        if username in self.users:
            taken = f"the username {username!r} is taken"
            return 409, problem(409, "Conflict", taken, type=f"{PROBLEM}conflict")
        return 201, self.add_user(username, body["role"], body["password"])

    def update_user(self, username: str, body: dict[str, Any]) -> Answer:
        if username not in self.users:
            return 404, problem(404, "Not found", f"no user {username!r}")
        self.users[username].update({k: body[k] for k in ("role", "disabled") if k in body})
        return 200, self.users[username]

    def set_password(self, username: str, body: dict[str, Any]) -> Answer:
        if username not in self.users:
            return 404, problem(404, "Not found", f"no user {username!r}")
        self.passwords[username] = body["password"]
        return 204, None

    def list_keys(self) -> Answer:
        return 200, {"keys": list(self.keys.values())}

    def create_key(self, body: dict[str, Any], authorization: str | None) -> Answer:
        key = self.add_key(body["role"], body["name"], body.get("expires_in_s"))
        creator = self.caller(authorization)
        self.keys[key]["created_by"] = creator["prefix"] if creator else "?"
        return 201, {**self.keys[key], "key": key}

    def revoke_key(self, prefix: str) -> Answer:
        for record in self.keys.values():
            if record["prefix"] == prefix:
                record["revoked_at"] = record["revoked_at"] or now().isoformat()
                return 204, None
        return 404, problem(404, "Not found", f"no API key {prefix!r}")
