"""Bodies of the sign-in, user and API-key routes. Times here are ISO 8601 UTC strings."""

from __future__ import annotations

from datetime import UTC, datetime

from pydantic import BaseModel, Field, StrictBool
from pydantic.config import JsonDict

from shared.identity.keys import ApiKey
from shared.identity.passwords import MIN_LENGTH
from shared.identity.roles import Principal, Role
from shared.identity.users import USERNAME, User

# Declared for the document; the identity stores check them and answer 400 `invalid-input`.
NEW_PASSWORD: JsonDict = {"minLength": MIN_LENGTH}
NEW_USERNAME: JsonDict = {"pattern": USERNAME.pattern}


def iso(ms_or_s: int | None, *, seconds: bool = False) -> str | None:
    if ms_or_s is None:
        return None
    stamp = ms_or_s if seconds else ms_or_s / 1000
    return datetime.fromtimestamp(stamp, UTC).isoformat(timespec="seconds")


class LoginIn(BaseModel):
    username: str = Field(max_length=64)
    password: str = Field(max_length=1024)


class SessionOut(BaseModel):
    name: str
    role: Role
    kind: str = "user"
    expires_at: str | None
    csrf_token: str

    @classmethod
    def of(cls, principal: Principal) -> SessionOut:
        return cls(
            name=principal.name,
            role=principal.role,
            expires_at=iso(principal.session_expires_at, seconds=True),
            csrf_token=principal.csrf or "",
        )


class MeOut(BaseModel):
    authenticated: bool
    kind: str | None = Field(description="user | key")
    name: str | None = Field(description="the username, or the API key's prefix")
    role: Role | None
    public_read: bool = Field(description="whether reads need no credential")
    expires_at: str | None = Field(description="when the page session ends unless renewed")

    @classmethod
    def of(cls, principal: Principal | None, public_read: bool) -> MeOut:
        if principal is None:
            return cls(
                authenticated=False,
                kind=None,
                name=None,
                role=None,
                public_read=public_read,
                expires_at=None,
            )
        return cls(
            authenticated=True,
            kind=principal.kind,
            name=principal.name,
            role=principal.role,
            public_read=public_read,
            expires_at=iso(principal.session_expires_at, seconds=True),
        )


class PasswordIn(BaseModel):
    password: str = Field(max_length=1024, json_schema_extra=NEW_PASSWORD)


class PasswordChange(BaseModel):
    current_password: str = Field(max_length=1024)
    password: str = Field(
        max_length=1024,
        description="the new one: 12 characters or more",
        json_schema_extra=NEW_PASSWORD,
    )


class UserIn(BaseModel):
    username: str = Field(max_length=64, json_schema_extra=NEW_USERNAME)
    password: str = Field(max_length=1024, json_schema_extra=NEW_PASSWORD)
    role: Role = Role.VIEWER


class UserPatch(BaseModel):
    role: Role | None = None
    disabled: StrictBool | None = None


class UserOut(BaseModel):
    username: str
    role: Role
    disabled: bool
    created_at: str | None

    @classmethod
    def of(cls, user: User) -> UserOut:
        return cls(
            username=user.username,
            role=user.role,
            disabled=user.disabled,
            created_at=iso(user.created_at),
        )


class UserList(BaseModel):
    users: list[UserOut]


class KeyIn(BaseModel):
    name: str = Field(
        min_length=1,
        max_length=64,
        description="what the key is for, e.g. ci",
        json_schema_extra={"pattern": r"\S"},  # not only spaces: the name is trimmed
    )
    role: Role
    expires_in_s: int | None = Field(default=None, gt=0, le=10 * 365 * 86400)


class KeyOut(BaseModel):
    prefix: str = Field(description="the key's first 12 characters: how it is listed and revoked")
    name: str
    role: Role
    created_by: str
    created_at: str | None
    expires_at: str | None
    last_used_at: str | None
    revoked_at: str | None

    @classmethod
    def of(cls, key: ApiKey) -> KeyOut:
        return cls(
            prefix=key.prefix,
            name=key.name,
            role=key.role,
            created_by=key.created_by,
            created_at=iso(key.created_at),
            expires_at=iso(key.expires_at),
            last_used_at=iso(key.last_used_at),
            revoked_at=iso(key.revoked_at),
        )


class NewKeyOut(KeyOut):
    key: str = Field(description="the key itself: shown this once, never again")


class KeyList(BaseModel):
    keys: list[KeyOut]
