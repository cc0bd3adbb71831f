"""Checks of the catalog in the Compose path: one PostgreSQL, every Python service on it.

Like tests/compose/checks.py, each check returns the problems it finds, so a test can run it on
the real file and on broken examples alike.
"""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import urlsplit

CATALOG_SCHEME = "postgresql+psycopg"  # psycopg 3, the driver the images install


def catalog_problems(svcs: dict[str, Any], python_services: list[str]) -> list[str]:
    """Every Python service reaches the one PostgreSQL service, with its credentials, once it is
    healthy. (A SQLite file in each container would be a separate catalog per container.)"""
    problems, urls = [], set()
    for name in python_services:
        url = urlsplit(str((svcs[name].get("environment") or {}).get("DATABASE__URL") or ""))
        host = url.hostname or ""
        if url.scheme != CATALOG_SCHEME or host not in svcs:
            problems.append(f"{name}: DATABASE__URL is not {CATALOG_SCHEME}://…@<a service>")
            continue
        urls.add(url.geturl())
        db = svcs[host].get("environment") or {}
        wanted = (db.get("POSTGRES_USER"), db.get("POSTGRES_PASSWORD"), f"/{db.get('POSTGRES_DB')}")
        if (url.username, url.password, url.path) != wanted:
            problems.append(f"{name}: DATABASE__URL's user, password or database is not {host}'s")
        waits_for = (svcs[name].get("depends_on") or {}).get(host) or {}
        if waits_for.get("condition") != "service_healthy":
            problems.append(f"{name}: may start before {host} is healthy")
    if len(urls) > 1:
        problems.append(f"the services use {len(urls)} different catalogs")
    return problems


def postgres_problems(name: str, svc: dict[str, Any]) -> list[str]:
    """The catalog's server, as Compose resolves it: on no host port, its data directory on a
    named volume, ready only once it answers over TCP (first-run initialisation serves the Unix
    socket alone)."""
    problems = [f"{name}: publishes {svc['ports']}"] if svc.get("ports") else []
    major = re.match(r"\d+", str(svc.get("image", "")).rpartition(":")[2])
    # the image's volume moved in 18 (PGDATA became /var/lib/postgresql/<major>/docker)
    moved = major is not None and int(major.group()) >= 18
    data_dir = "/var/lib/postgresql" if moved else "/var/lib/postgresql/data"
    if not any(
        v.get("type") == "volume" and v.get("source") and v.get("target") == data_dir
        for v in svc.get("volumes", [])
    ):
        problems.append(f"{name}: {data_dir} (the data) is on no named volume")
    test = " ".join(map(str, (svc.get("healthcheck") or {}).get("test") or []))
    if not re.search(r"\bpg_isready\b.*\s(-h|--host)[\s=]", test):
        problems.append(f"{name}: the healthcheck is not pg_isready over TCP (-h)")
    return problems
