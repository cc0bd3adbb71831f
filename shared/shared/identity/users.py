"""Users in the catalog: create, list, change role, disable, reset password, sign in."""

from __future__ import annotations

import re
from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from shared.catalog.db import Catalog
from shared.catalog.jobs import now_ms
from shared.catalog.models import UserRow
from shared.errors import Conflict, InvalidInput, NotFound
from shared.identity.passwords import hash_password, needs_rehash, verify_password
from shared.identity.roles import Role

USERNAME = re.compile(r"^[a-z0-9][a-z0-9._-]{1,63}$")


class UserNotFound(NotFound):
    code = "user-not-found"


@dataclass(frozen=True)
class User:
    username: str
    role: Role
    disabled: bool
    session_version: int
    created_at: int


def _user(row: UserRow) -> User:
    return User(row.username, Role(row.role), row.disabled, row.session_version, row.created_at)


def check_username(username: str) -> str:
    if not USERNAME.match(username):
        raise InvalidInput(
            "a username is 2-64 characters: lowercase letters, digits, '.', '_' or '-'"
        )
    return username


class UserStore:
    def __init__(self, catalog: Catalog) -> None:
        self._catalog = catalog

    def count(self) -> int:
        with self._catalog.session() as session:
            return session.scalar(select(func.count()).select_from(UserRow)) or 0

    def create(self, username: str, password: str, role: Role) -> User:
        row = UserRow(
            username=check_username(username),
            password_hash=hash_password(password),
            role=role.value,
            disabled=False,
            session_version=1,
            created_at=now_ms(),
            updated_at=now_ms(),
        )
        try:
            with self._catalog.session() as session:
                session.add(row)
        except IntegrityError:
            raise Conflict(f"the username {username!r} is taken") from None
        return _user(row)

    def get(self, username: str) -> User | None:
        with self._catalog.session() as session:
            row = session.get(UserRow, username)
            return _user(row) if row else None

    def list(self) -> list[User]:
        with self._catalog.session() as session:
            return [
                _user(row) for row in session.scalars(select(UserRow).order_by(UserRow.username))
            ]

    def update(self, username: str, role: Role | None = None, disabled: bool | None = None) -> User:
        """Change role and/or disable; disabling ends the user's sessions at once."""
        with self._catalog.session() as session:
            row = self._row(session, username)
            if role is not None:
                row.role = role.value
            if disabled is not None and disabled != row.disabled:
                row.disabled = disabled
                row.session_version += 1
            row.updated_at = now_ms()
            return _user(row)

    def set_password(self, username: str, password: str) -> None:
        """A new password ends every session the user had."""
        password_hash = hash_password(password)
        with self._catalog.session() as session:
            row = self._row(session, username)
            row.password_hash = password_hash
            row.session_version += 1
            row.updated_at = now_ms()

    def end_sessions(self, username: str) -> None:
        with self._catalog.session() as session:
            row = self._row(session, username)
            row.session_version += 1

    def authenticate(self, username: str, password: str) -> User | None:
        """The user when the password is theirs and they are enabled; None otherwise, in about
        the same time whether or not the user exists."""
        with self._catalog.session() as session:
            row = session.get(UserRow, username)
            if not verify_password(row.password_hash if row else None, password):
                return None
            assert row is not None
            if row.disabled:
                return None
            if needs_rehash(row.password_hash):
                row.password_hash = hash_password(password)
            return _user(row)

    @staticmethod
    def _row(session: Session, username: str) -> UserRow:
        row = session.get(UserRow, username)
        if row is None:
            raise UserNotFound(f"no user named {username!r}")
        return row
