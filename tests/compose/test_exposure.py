"""Static checks of what the Compose path exposes and which secrets it will not start without.

The first tests run the checks on docker-compose.yml (alone, and with docker-compose.dev.yml) as
the Compose v2 binary resolves it; then the Python services judge the settings each container
would get, from .env.example and from a .env that `make docker-init` writes; the last test feeds
the checks broken examples, so every check is seen to fail when it should.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from shared.exposure import is_placeholder, unsafe_defaults
from tests.compose.checks import (
    COMPOSE_FILE,
    COMPOSE_VAR,
    ENV_EXAMPLE,
    PYTHON_SERVICES,
    ROOT,
    SECRET_NAME,
    docker_init_env,
    dockerfile_of,
    effective_settings,
    env_example,
    is_one_shot,
    raw_services,
    resolved_services,
    services,
    uv_package,
)
from tests.compose.exposure import (
    FRONT_DOOR,
    bootstrap_problems,
    port_problems,
    redis_password,
    redis_problems,
)

DEV_OVERRIDE = ROOT / "docker-compose.dev.yml"
SECRETS = {
    "MINIO_ROOT_PASSWORD",
    "POSTGRES_PASSWORD",
    "REDIS_PASSWORD",
    "AUTH_JWT_SECRET",
    "SIGNING_SECRET",
    "ADMIN_PASSWORD",
}
READERS = {  # a secret in .env -> the services' settings that must hold it
    "AUTH_JWT_SECRET": [("ingestapi", "AUTH__JWT_SECRET"), ("searchapi", "AUTH__JWT_SECRET")],
    "SIGNING_SECRET": [
        ("ingestapi", "SIGNING__SECRET"),
        ("searchapi", "SIGNING__SECRET"),
        ("cdnapi", "SIGNING__SECRET"),
    ],
    "ADMIN_PASSWORD": [("bootstrap", "AUTH__BOOTSTRAP_PASSWORD")],
}
SERVING = [n for n in PYTHON_SERVICES if not is_one_shot(raw_services()[n])]


def serving_settings(svcs: dict[str, Any]) -> dict[str, Any]:
    """Each long-running Python service's settings, as its container builds them."""
    packages = {name: str(uv_package(dockerfile_of(svcs[name]).read_text())) for name in SERVING}
    return {name: effective_settings(packages[name], svcs[name]["environment"]) for name in SERVING}


# ---------------------------------------------------------------- the real files


def test_only_the_front_door_is_published_and_on_every_interface() -> None:
    assert port_problems(services()) == []


def test_dev_override_adds_only_minio_console_on_loopback() -> None:
    dev = resolved_services(COMPOSE_FILE, DEV_OVERRIDE)
    assert port_problems(dev, loopback_allowed=True) == []
    added = {
        name: [(p.get("host_ip"), p["target"]) for p in svc["ports"]]
        for name, svc in dev.items()
        if name != FRONT_DOOR and svc.get("ports")
    }
    assert added == {"minio": [("127.0.0.1", 9001)]}
    command = dev["minio"]["command"]
    assert command[command.index("--console-address") + 1] == ":9001"


def test_every_secret_is_required_and_reaches_the_services_that_use_it() -> None:
    text = COMPOSE_FILE.read_text()
    required = {var for var, rule in COMPOSE_VAR.findall(text) if rule == ":?"}
    assert {var for var in required if SECRET_NAME.search(var)} == SECRETS
    env, svcs = env_example(), services()
    for var, readers in READERS.items():
        for service, name in readers:
            assert svcs[service]["environment"].get(name) == env[var], f"{service}: {name}"


def test_reads_stay_private_when_env_does_not_say(tmp_path: Path) -> None:
    silent = tmp_path / "silent.env"
    lines = ENV_EXAMPLE.read_text().splitlines(keepends=True)
    unsaid = ("AUTH_PUBLIC_READ=", "AUTH_COOKIE_SECURE=")
    silent.write_text("".join(line for line in lines if not line.startswith(unsaid)))
    svcs = resolved_services(COMPOSE_FILE, env_file=silent)
    for name in ("ingestapi", "searchapi", "cdnapi"):
        assert svcs[name]["environment"]["AUTH__PUBLIC_READ"] == "false", name
    for name in ("ingestapi", "searchapi"):
        environment = svcs[name]["environment"]
        assert environment["AUTH__COOKIE_SECURE"] == "false", name
        assert environment["HTTP__FORWARDED_ALLOW_IPS"] == "*", name  # only Nginx reaches them


def test_redis_requires_its_password_from_every_client() -> None:
    assert redis_password(services()["redis"]) == env_example()["REDIS_PASSWORD"]
    assert redis_problems(services()) == []
    assert all(services()[n]["environment"].get("REDIS__URL") for n in SERVING)


def test_admin_is_bootstrapped_before_ingestapi_serves() -> None:
    assert bootstrap_problems(services()) == []


def test_python_services_refuse_the_placeholders_env_example_ships() -> None:
    secrets = {var: value for var, value in env_example().items() if var in SECRETS}
    assert [var for var, value in secrets.items() if not is_placeholder(value)] == []
    for name, settings in serving_settings(services()).items():
        assert unsafe_defaults(settings), f"{name} would serve on .env.example's placeholders"


def test_python_services_accept_the_secrets_docker_init_writes(tmp_path: Path) -> None:
    svcs = resolved_services(COMPOSE_FILE, env_file=docker_init_env(tmp_path))
    assert {name: unsafe_defaults(s) for name, s in serving_settings(svcs).items()} == {
        name: [] for name in SERVING
    }


# ---------------------------------------------------------------- each check can fail


def test_the_exposure_checks_find_what_is_broken() -> None:
    def port(host: str | None, number: int) -> dict[str, object]:
        return {"host_ip": host, "published": str(number), "target": number}

    published = {
        FRONT_DOOR: {"ports": [port("127.0.0.1", 3000)]},  # not on every interface
        "minio": {"ports": [port("127.0.0.1", 9001)]},  # fine in a dev override only
        "ingestapi": {"ports": [port(None, 8000)]},
    }
    assert len(port_problems(published)) == 3
    assert len(port_problems(published, loopback_allowed=True)) == 2
    assert port_problems({FRONT_DOOR: {}}) == [f"{FRONT_DOOR}: does not publish port 3000"]

    assert redis_problems({"redis": {"command": ["redis-server"]}}) == [
        "redis: runs without --requirepass"
    ]
    clients = {
        "redis": {
            "command": ["redis-server", "--requirepass", "pw"],
            "healthcheck": {"test": ["CMD-SHELL", "redis-cli ping | grep -q PONG"]},
        },
        "api": {"environment": {"REDIS__URL": "redis://redis:6379/0"}},
        "worker": {"environment": {"REDIS__URL": "redis://:other@redis:6379/0"}},
        "fine": {"environment": {"REDIS__URL": "redis://:pw@redis:6379/0"}},
        "elsewhere": {"environment": {"CACHE": "redis://cache:6379/0"}},
    }
    assert len(redis_problems(clients)) == 3  # healthcheck, api, worker

    url = "postgresql+psycopg://u:p@postgres/d"
    no_bootstrap = {"postgres": {}, "ingestapi": {"environment": {"DATABASE__URL": url}}}
    assert bootstrap_problems(no_bootstrap) == ["0 services run ingestapi.bootstrap, want one"]
    careless = {
        **no_bootstrap,
        "bootstrap": {
            "build": {"dockerfile": "docker/other.Dockerfile"},
            "command": ["python", "-m", "ingestapi.bootstrap"],
            "environment": {"DATABASE__URL": "postgresql+psycopg://u:p@elsewhere/d"},
        },
    }
    # not built like ingestapi, restarts, no password, another catalog, not waiting for it,
    # and ingestapi not waiting for the bootstrap
    assert len(bootstrap_problems(careless)) == 6
