"""Static checks of the catalog in the Compose path: a PostgreSQL service every Python service uses.

The first tests run the checks on the real docker-compose.yml (as Compose resolves it); the last
feeds them broken examples, so every check is seen to fail when it should.
"""

from __future__ import annotations

from tests.compose.catalog import catalog_problems, postgres_problems
from tests.compose.checks import (
    PYTHON_SERVICES,
    dockerfile_of,
    lock_closure,
    services,
    uv_package,
)

# ---------------------------------------------------------------- the real file


def test_python_services_share_one_postgres_catalog_and_wait_for_it() -> None:
    assert {"ingestapi", "ingestworker", "ingestworker-gpu", "searchapi"} <= set(PYTHON_SERVICES)
    assert catalog_problems(services(), PYTHON_SERVICES) == []
    for name in PYTHON_SERVICES:
        package = uv_package(dockerfile_of(services()[name]).read_text())
        assert package and "psycopg" in lock_closure(package), f"{name}: no PostgreSQL driver"


def test_postgres_keeps_its_data_on_a_volume_and_stays_off_the_host() -> None:
    assert postgres_problems("postgres", services()["postgres"]) == []


# ---------------------------------------------------------------- each check can fail


def test_the_catalog_checks_find_what_is_broken() -> None:
    db = {
        "image": "postgres:18.1-bookworm",
        "environment": {"POSTGRES_USER": "u", "POSTGRES_PASSWORD": "p", "POSTGRES_DB": "d"},
        "ports": ["5432:5432"],
        "volumes": [{"type": "volume", "source": "pg", "target": "/var/lib/postgresql/data"}],
        "healthcheck": {"test": ["CMD", "pg_isready", "-U", "u"]},
    }
    assert len(postgres_problems("db", db)) == 3
    healthy = {"depends_on": {"db": {"condition": "service_healthy"}}}
    svcs = {
        "db": db,
        "sqlite": {"environment": {"DATABASE__URL": "sqlite:///data/catalog.db"}, **healthy},
        "psycopg2": {"environment": {"DATABASE__URL": "postgresql://u:p@db:5432/d"}, **healthy},
        "ghost": {"environment": {"DATABASE__URL": "postgresql+psycopg://u:p@pg/d"}, **healthy},
        "wrong": {"environment": {"DATABASE__URL": "postgresql+psycopg://u:x@db/d"}, **healthy},
        "early": {"environment": {"DATABASE__URL": "postgresql+psycopg://u:p@db/d"}},
    }
    # sqlite, psycopg2, ghost: no catalog; wrong: credentials; early: not waiting; two catalogs
    assert len(catalog_problems(svcs, [n for n in svcs if n != "db"])) == 6
