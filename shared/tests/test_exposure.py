"""Refusing default secrets: real settings objects, built here from keyword arguments only."""

import os
from pathlib import Path
from typing import ClassVar

import pytest
from pydantic import BaseModel

from shared.config import ApiSettings, MinioSettings, RedisSettings, ServiceSettings
from shared.exposure import UnsafeDefaults, refuse_unsafe_defaults, unsafe_defaults

STRONG = "0f1e2d3c4b5a69788796a5b4c3d2e1f0" * 2  # 64 hex digits, as make docker-init writes
EXPOSED_HOSTS = ["0.0.0.0", "", "::", "10.1.2.3", "api.example.org"]
LOOPBACK_HOSTS = ["127.0.0.1", "127.0.1.1", "::1", "[::1]", "localhost"]


class _ApiSettings(ApiSettings):
    """ingestapi's shape: an HTTP API with MinIO."""

    service: ClassVar[str] = "test-api"
    minio: MinioSettings = MinioSettings()


class _Ops(BaseModel):
    http_host: str = "127.0.0.1"


class _WorkerSettings(ServiceSettings):
    """ingestworker's shape: no HTTP API and no auth, an ops listener under ``worker``."""

    service: ClassVar[str] = "test-worker"
    minio: MinioSettings = MinioSettings()
    redis: RedisSettings = RedisSettings()
    worker: _Ops = _Ops()


class _NoListener(ServiceSettings):
    service: ClassVar[str] = "test-tool"
    minio: MinioSettings = MinioSettings()


@pytest.fixture(autouse=True)
def _no_outside_settings(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """Neither the repository's conf/ nor the caller's environment reaches these settings."""
    monkeypatch.setenv("CONF_DIR", str(tmp_path))
    for name in [n for n in os.environ if "__" in n]:
        monkeypatch.delenv(name)


def api(
    host: str = "127.0.0.1",
    jwt: str = STRONG,
    minio: str = "minioadmin",
    redis: str = "redis://127.0.0.1:6379/0",
    database: str = "sqlite:///data/catalog.db",
    storage: str = "",
) -> _ApiSettings:
    return _ApiSettings(
        http={"host": host},
        auth={"jwt_secret": jwt},
        minio={"secret_key": minio},
        redis={"url": redis},
        database={"url": database},
        rate_limit={"storage_url": storage},
    )


@pytest.mark.parametrize("host", LOOPBACK_HOSTS)
def test_api_on_loopback_keeps_the_local_defaults(host: str) -> None:
    assert unsafe_defaults(api(host=host, storage="redis://127.0.0.1:6379/1")) == []


@pytest.mark.parametrize(
    ("jwt", "reason"),
    [
        ("", "auth.jwt_secret has fewer than 32 characters"),
        ("a" * 31, "auth.jwt_secret has fewer than 32 characters"),
        ("change-me-" + "x" * 30, "auth.jwt_secret is a placeholder"),
        ("Change-Me-" + "x" * 30, "auth.jwt_secret is a placeholder"),
    ],
)
def test_weak_jwt_secret_is_refused_even_on_loopback(jwt: str, reason: str) -> None:
    assert unsafe_defaults(api(jwt=jwt)) == [reason]


@pytest.mark.parametrize("host", EXPOSED_HOSTS)
def test_exposed_api_refuses_every_well_known_default(host: str) -> None:
    settings = api(
        host=host,
        redis="redis://redis:6379/0",
        database="postgresql+psycopg://imagesearch:change-me-to-a-long-string@postgres/imagesearch",
        storage="redis://redis:6379/1",
    )
    assert sorted(unsafe_defaults(settings)) == [
        "database.url's password is a well-known default or placeholder",
        "minio.secret_key is a well-known default or placeholder",
        "rate_limit.storage_url's password is empty",
        "redis.url's password is empty",
    ]


@pytest.mark.parametrize(
    ("field", "value", "reason"),
    [
        ("minio", "", "minio.secret_key is empty"),
        ("minio", "change-me-to-a-long-random-string", "minio.secret_key is a well-known"),
        ("redis", "redis://:@redis:6379/0", "redis.url's password is empty"),
        ("redis", "rediss://user@redis:6380/0", "redis.url's password is empty"),
        ("redis", "redis://:change-me-x@redis:6379/0", "redis.url's password is a well-known"),
        ("database", "postgresql://imagesearch@pg/db", "database.url's password is empty"),
        ("database", "postgresql+psycopg://u:@pg/db", "database.url's password is empty"),
        ("database", "postgresql://u:change%2Dme-x@pg/db", "database.url's password is a well"),
    ],
)
def test_exposed_api_names_the_one_weak_setting(field: str, value: str, reason: str) -> None:
    safe = {
        "minio": STRONG,
        "redis": f"redis://:{STRONG}@redis:6379/0",
        "database": f"postgresql+psycopg://u:{STRONG}@pg/db",
    }
    reasons = unsafe_defaults(api(host="0.0.0.0", **{**safe, field: value}))
    assert len(reasons) == 1 and reasons[0].startswith(reason)


def test_exposed_api_with_real_secrets_may_serve() -> None:
    settings = api(
        host="0.0.0.0",
        minio=STRONG,
        redis=f"redis://:{STRONG}@redis:6379/0",
        database=f"postgresql+psycopg://imagesearch:{STRONG}@postgres:5432/imagesearch",
        storage=f"rediss://default:{STRONG}@redis:6380/1",
    )
    assert unsafe_defaults(settings) == []


def test_urls_that_carry_no_password_by_design_are_not_judged() -> None:
    settings = api(
        host="0.0.0.0",
        minio=STRONG,
        redis="unix:///run/redis/redis.sock",
        database="sqlite:///data/catalog.db",
        storage="memory://",
    )
    assert unsafe_defaults(settings) == []


def test_worker_is_judged_by_its_ops_listener_and_has_no_jwt_rule() -> None:
    assert unsafe_defaults(_WorkerSettings()) == []
    exposed = _WorkerSettings(worker={"http_host": "0.0.0.0"})
    assert sorted(unsafe_defaults(exposed)) == [
        "minio.secret_key is a well-known default or placeholder",
        "redis.url's password is empty",
    ]


def test_settings_without_a_listener_are_judged_exposed() -> None:
    assert unsafe_defaults(_NoListener()) == [
        "minio.secret_key is a well-known default or placeholder"
    ]


def test_refusal_exits_naming_the_service_and_every_reason_but_no_secret() -> None:
    secret, jwt = "change-me-db-7f3a", "jwt-5e9c"
    settings = api(host="0.0.0.0", jwt=jwt, database=f"postgresql://u:{secret}@pg/db")
    with pytest.raises(UnsafeDefaults) as refused:
        refuse_unsafe_defaults(settings, "ingestapi")
    assert isinstance(refused.value, SystemExit)
    message = str(refused.value.code)
    assert message.startswith("ingestapi refuses to start: ")
    assert all(reason in message for reason in refused.value.reasons)
    assert len(refused.value.reasons) == 4  # jwt, minio, redis, database
    assert secret not in message and jwt not in message


def test_safe_settings_pass_the_refusal() -> None:
    refuse_unsafe_defaults(api(), "ingestapi")
