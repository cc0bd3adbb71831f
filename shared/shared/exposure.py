"""Refuse to serve on secrets everybody knows.

A service checks its settings once, before it serves (``refuse_unsafe_defaults``). Rules:

- always, where the settings have ``auth``: ``auth.jwt_secret`` has 32+ characters and is no
  placeholder, since whoever knows it can sign a session for any user, even on loopback;
- when the listener (``http.host``, or the worker's ``worker.http_host``) is not a loopback
  address, or there is none to judge by: MinIO's secret key, the Redis password
  (``redis.url``, and ``rate_limit.storage_url`` when it names a Redis) and the PostgreSQL
  password (``database.url``) are set and are no placeholder.

Placeholders are MinIO's ``minioadmin``, a few obvious words and anything starting
``change-me``, which is how every secret in ``.env.example`` starts. ``make dev`` on 127.0.0.1
keeps its local defaults; a service anyone else can reach does not. The reasons name settings,
never their values.
"""

from __future__ import annotations

import ipaddress
from typing import TypeVar
from urllib.parse import unquote, urlsplit

from pydantic import BaseModel

from shared.config import (
    MIN_SECRET_CHARS,
    AuthSettings,
    DatabaseSettings,
    HttpSettings,
    MinioSettings,
    RateLimitSettings,
    RedisSettings,
    ServiceSettings,
)
from shared.logging import get_logger

log = get_logger(__name__)

PLACEHOLDERS = frozenset({"minioadmin", "changeme", "password", "secret", "admin"})
PLACEHOLDER_PREFIX = "change-me"

Section = TypeVar("Section", bound=BaseModel)


class UnsafeDefaults(SystemExit):
    """A service refused to start; the message lists every reason (exit status 1)."""

    def __init__(self, service: str, reasons: list[str]) -> None:
        super().__init__(
            f"{service} refuses to start: {'; '.join(reasons)}. Set real secrets "
            "(`make docker-init` writes random ones into .env) or listen on 127.0.0.1 only."
        )
        self.service = service
        self.reasons = reasons


def is_placeholder(value: str) -> bool:
    value = value.strip().lower()
    return value in PLACEHOLDERS or value.startswith(PLACEHOLDER_PREFIX)


def is_loopback(host: str) -> bool:
    """127.0.0.0/8, ::1 and ``localhost``; an empty host (every interface) is not."""
    host = host.strip().strip("[]").lower()
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:  # a name other than localhost may resolve anywhere
        return False


def unsafe_defaults(settings: ServiceSettings) -> list[str]:
    """Why these settings must not serve; empty when they may."""
    reasons: list[str] = []
    auth = _section(settings, "auth", AuthSettings)
    if auth is not None:
        reasons += _secret_problems("auth.jwt_secret", auth.jwt_secret.get_secret_value())
    host = _listener_host(settings)
    if host is not None and is_loopback(host):
        return reasons
    minio = _section(settings, "minio", MinioSettings)
    if minio is not None:
        reasons += _password_problems("minio.secret_key", minio.secret_key)
    redis = _section(settings, "redis", RedisSettings)
    if redis is not None:
        reasons += _url_problems("redis.url", redis.url, ("redis", "rediss"))
    rate_limit = _section(settings, "rate_limit", RateLimitSettings)
    if rate_limit is not None and rate_limit.storage_url:
        reasons += _url_problems(
            "rate_limit.storage_url", rate_limit.storage_url, ("redis", "rediss")
        )
    database = _section(settings, "database", DatabaseSettings)
    if database is not None:
        reasons += _url_problems("database.url", database.url, ("postgresql",))
    return reasons


def refuse_unsafe_defaults(settings: ServiceSettings, service: str) -> None:
    """Raise ``UnsafeDefaults`` (a ``SystemExit``) when ``settings`` must not serve."""
    reasons = unsafe_defaults(settings)
    if reasons:
        log.error("unsafe defaults", service=service, reasons=reasons)
        raise UnsafeDefaults(service, reasons)


def _section(settings: ServiceSettings, name: str, kind: type[Section]) -> Section | None:
    value = getattr(settings, name, None)
    return value if isinstance(value, kind) else None


def _listener_host(settings: ServiceSettings) -> str | None:
    """The address the service listens on; None when its settings name none."""
    http = _section(settings, "http", HttpSettings)
    if http is not None:
        return http.host
    host = getattr(getattr(settings, "worker", None), "http_host", None)
    return host if isinstance(host, str) else None


def _secret_problems(name: str, value: str) -> list[str]:
    if len(value) < MIN_SECRET_CHARS:
        return [f"{name} has fewer than {MIN_SECRET_CHARS} characters"]
    if is_placeholder(value):
        return [f"{name} is a placeholder"]
    return []


def _password_problems(name: str, value: str) -> list[str]:
    if not value:
        return [f"{name} is empty"]
    if is_placeholder(value):
        return [f"{name} is a well-known default or placeholder"]
    return []


def _url_problems(name: str, url: str, schemes: tuple[str, ...]) -> list[str]:
    """The password inside a URL of one of ``schemes`` (``postgresql+psycopg`` counts as
    ``postgresql``); URLs of other schemes (SQLite, a Unix socket, memory) have none to check."""
    parts = urlsplit(url)
    if parts.scheme.partition("+")[0] not in schemes:
        return []
    return _password_problems(f"{name}'s password", unquote(parts.password or ""))
