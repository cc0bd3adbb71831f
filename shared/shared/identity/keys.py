"""API keys in the catalog: made by an admin, shown once, kept as a hash, revocable.

A key is ``isk_`` + 43 characters (32 random bytes, base64url). Its first 12 characters are its
``prefix``: the name it is listed, logged and revoked by.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError

from shared.catalog.db import Catalog
from shared.catalog.jobs import now_ms
from shared.catalog.models import ApiKeyRow
from shared.errors import InvalidInput, NotFound
from shared.identity.roles import Role

KEY_MARK = "isk_"
PREFIX_LENGTH = 12
TOUCH_EVERY_MS = 60_000  # last_used_at is written at most once a minute per key


class KeyNotFound(NotFound):
    code = "key-not-found"


@dataclass(frozen=True)
class ApiKey:
    prefix: str
    name: str
    role: Role
    created_by: str
    created_at: int
    expires_at: int | None
    revoked_at: int | None
    last_used_at: int | None

    def usable(self, now: int) -> bool:
        return self.revoked_at is None and (self.expires_at is None or now < self.expires_at)


def _key(row: ApiKeyRow) -> ApiKey:
    return ApiKey(
        row.prefix,
        row.name,
        Role(row.role),
        row.created_by,
        row.created_at,
        row.expires_at,
        row.revoked_at,
        row.last_used_at,
    )


def _digest(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


def looks_like_key(token: str) -> bool:
    return token.startswith(KEY_MARK) and len(token) == len(KEY_MARK) + 43


class KeyStore:
    def __init__(self, catalog: Catalog) -> None:
        self._catalog = catalog

    def create(
        self, name: str, role: Role, created_by: str, expires_in_s: int | None = None
    ) -> tuple[str, ApiKey]:
        """A new key and its record; the key itself is not kept anywhere."""
        name = name.strip()
        if not 1 <= len(name) <= 64:
            raise InvalidInput("a key's name needs 1 to 64 characters")
        if expires_in_s is not None and expires_in_s <= 0:
            raise InvalidInput("expires_in_s must be positive")
        for _ in range(3):  # a prefix collision is astronomically rare; try again if it happens
            key = KEY_MARK + secrets.token_urlsafe(32)
            now = now_ms()
            row = ApiKeyRow(
                prefix=key[:PREFIX_LENGTH],
                key_hash=_digest(key),
                name=name,
                role=role.value,
                created_by=created_by,
                created_at=now,
                expires_at=now + expires_in_s * 1000 if expires_in_s else None,
                revoked_at=None,
                last_used_at=None,
            )
            try:
                with self._catalog.session() as session:
                    session.add(row)
            except IntegrityError:
                continue
            return key, _key(row)
        raise RuntimeError("could not make a unique key")

    def find(self, key: str) -> ApiKey | None:
        """The record of a usable key (not revoked, not expired); marks it used."""
        now = now_ms()
        with self._catalog.session() as session:
            row = session.scalar(select(ApiKeyRow).where(ApiKeyRow.key_hash == _digest(key)))
            if row is None or not _key(row).usable(now):
                return None
            if row.last_used_at is None or now - row.last_used_at > TOUCH_EVERY_MS:
                row.last_used_at = now
            return _key(row)

    def list(self) -> list[ApiKey]:
        with self._catalog.session() as session:
            rows = session.scalars(select(ApiKeyRow).order_by(ApiKeyRow.created_at))
            return [_key(row) for row in rows]

    def revoke(self, prefix: str) -> None:
        with self._catalog.session() as session:
            done = session.execute(
                update(ApiKeyRow)
                .where(ApiKeyRow.prefix == prefix, ApiKeyRow.revoked_at.is_(None))
                .values(revoked_at=now_ms())
            )
            if done.rowcount == 0 and session.get(ApiKeyRow, prefix) is None:  # type: ignore[attr-defined]
                raise KeyNotFound(f"no API key {prefix!r}")
