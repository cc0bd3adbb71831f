"""Roles, in order of power, and the principal a request acts as."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from shared.errors import InvalidInput


class Role(StrEnum):
    VIEWER = "viewer"  # reads
    EDITOR = "editor"  # + ingest, tags, delete, variants
    ADMIN = "admin"  # + users, keys, cameras, compliance, verify

    @property
    def rank(self) -> int:
        return list(Role).index(self)

    def allows(self, needed: Role) -> bool:
        return self.rank >= needed.rank


def parse_role(value: str) -> Role:
    try:
        return Role(value)
    except ValueError:
        raise InvalidInput(f"role must be one of {', '.join(Role)}; got {value!r}") from None


@dataclass(frozen=True)
class Principal:
    """Who a request acts as: a signed-in user (``kind="user"``) or a program's key (``"key"``).

    ``name`` is the username or the key's prefix (never the key). ``session_expires_at`` (unix
    seconds) and ``csrf`` are set for page sessions only.
    """

    kind: str
    name: str
    role: Role
    session_expires_at: int | None = None
    session_issued_at: int | None = None
    csrf: str | None = None

    @property
    def label(self) -> str:
        """How messages name it: ``user ada`` or ``API key isk_abcd1234…``."""
        return f"user {self.name}" if self.kind == "user" else f"API key {self.name}…"

    @property
    def rate_key(self) -> str:
        return f"{self.kind}:{self.name}"
