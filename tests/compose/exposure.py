"""Checks of what the Compose path exposes: one published port, Redis behind a password, the
admin bootstrapped before ingestapi serves.

Like tests/compose/checks.py, each check returns the problems it finds, so a test can run it on
the real files and on broken examples alike. They read services as Compose resolves them
(`config --format json`: ports in the long syntax, commands as lists).
"""

from __future__ import annotations

from typing import Any
from urllib.parse import unquote, urlsplit

FRONT_DOOR = "frontend"
FRONT_DOOR_PORT = 3000
EVERY_INTERFACE = (None, "", "0.0.0.0", "::")
LOOPBACK_IPS = ("127.0.0.1", "::1")
BOOTSTRAP_MODULE = "ingestapi.bootstrap"


def port_problems(svcs: dict[str, Any], loopback_allowed: bool = False) -> list[str]:
    """Only the front door publishes a port, and on every interface. With ``loopback_allowed``
    (a dev override) other services may publish on the host's loopback, nowhere else."""
    problems = []
    for name, svc in svcs.items():
        for port in svc.get("ports") or []:
            where = f"{port.get('host_ip') or '*'}:{port.get('published')}->{port.get('target')}"
            if name == FRONT_DOOR:
                if port.get("host_ip") not in EVERY_INTERFACE:
                    problems.append(f"{name}: publishes {where}, not on every interface")
            elif not (loopback_allowed and port.get("host_ip") in LOOPBACK_IPS):
                problems.append(f"{name}: publishes {where}")
    front = (svcs.get(FRONT_DOOR) or {}).get("ports") or []
    if not any(int(p.get("target", 0)) == FRONT_DOOR_PORT for p in front):
        problems.append(f"{FRONT_DOOR}: does not publish port {FRONT_DOOR_PORT}")
    return problems


def redis_password(svc: dict[str, Any]) -> str:
    """The password a Redis service's command sets (`--requirepass P`); empty when none."""
    command = [str(arg) for arg in svc.get("command") or []]
    if "--requirepass" not in command[:-1]:
        return ""
    return command[command.index("--requirepass") + 1]


def redis_problems(svcs: dict[str, Any], redis: str = "redis") -> list[str]:
    """Redis runs with a password, its healthcheck authenticates, and every Redis URL of every
    service (the job queue, Celery's broker, rate limits) carries that password."""
    password = redis_password(svcs[redis])
    if not password:
        return [f"{redis}: runs without --requirepass"]
    problems = []
    test = " ".join(map(str, (svcs[redis].get("healthcheck") or {}).get("test") or []))
    environment = svcs[redis].get("environment") or {}
    if environment.get("REDISCLI_AUTH") != password and f"-a {password}" not in test:
        problems.append(f"{redis}: the healthcheck does not authenticate")
    for name, svc in svcs.items():
        for key, value in (svc.get("environment") or {}).items():
            url = urlsplit(str(value or ""))
            if url.scheme in ("redis", "rediss") and url.hostname == redis:
                if unquote(url.password or "") != password:
                    problems.append(f"{name}: {key} lacks {redis}'s password")
    return problems


def bootstrap_problems(svcs: dict[str, Any], api: str = "ingestapi") -> list[str]:
    """One one-shot service runs ``python -m ingestapi.bootstrap`` from the api's image, once
    the catalog is healthy, with the admin's password; the api starts only after it succeeded."""
    runs = [
        n for n, s in svcs.items() if BOOTSTRAP_MODULE in " ".join(map(str, s.get("command") or []))
    ]
    if len(runs) != 1:
        return [f"{len(runs)} services run {BOOTSTRAP_MODULE}, want one"]
    name, svc = runs[0], svcs[runs[0]]
    environment = svc.get("environment") or {}
    problems = []
    if svc.get("build") != svcs[api].get("build"):
        problems.append(f"{name}: not built like {api}")
    if svc.get("restart") != "no":
        problems.append(f"{name}: restarts, but is a one-shot job")
    if not environment.get("AUTH__BOOTSTRAP_PASSWORD"):
        problems.append(f"{name}: no AUTH__BOOTSTRAP_PASSWORD")
    catalog = urlsplit(str(environment.get("DATABASE__URL") or "")).hostname or ""
    if environment.get("DATABASE__URL") != (svcs[api].get("environment") or {}).get(
        "DATABASE__URL"
    ):
        problems.append(f"{name}: not on {api}'s catalog")
    if ((svc.get("depends_on") or {}).get(catalog) or {}).get("condition") != "service_healthy":
        problems.append(f"{name}: may start before the catalog ({catalog or '?'}) is healthy")
    waits = ((svcs[api].get("depends_on") or {}).get(name) or {}).get("condition")
    if waits != "service_completed_successfully":
        problems.append(f"{api}: may serve before {name} completed successfully")
    return problems
