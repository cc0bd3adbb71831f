"""``python -m ingestapi.bootstrap``: the first admin, once, on a real SQLite catalog."""

from __future__ import annotations

import stat
from pathlib import Path

from ingestapi.bootstrap import bootstrap
from shared.catalog.db import Catalog
from shared.config import DatabaseSettings
from shared.identity.keys import KeyStore
from shared.identity.roles import Role
from shared.identity.users import UserStore


def _read(path: Path) -> dict[str, str]:
    lines = [line for line in path.read_text().splitlines() if "=" in line]
    return dict(line.split("=", 1) for line in lines)


def test_the_first_run_makes_an_admin_and_a_key_into_an_owner_only_file(tmp_path: Path) -> None:
    catalog = Catalog(DatabaseSettings(url=f"sqlite:///{tmp_path}/catalog.db"))
    credentials = tmp_path / "data" / "admin-credentials"
    assert bootstrap(catalog, "", credentials, reset=False) == "created"
    assert stat.S_IMODE(credentials.stat().st_mode) == 0o600
    written = _read(credentials)
    assert UserStore(catalog).authenticate("admin", written["IMGSEARCH_PASSWORD"]) is not None
    key = KeyStore(catalog).find(written["IMGSEARCH_API_KEY"])
    assert key is not None and key.role is Role.ADMIN
    assert len(written["IMGSEARCH_PASSWORD"]) >= 20


def test_later_runs_change_nothing_and_reset_makes_new_credentials(tmp_path: Path) -> None:
    catalog = Catalog(DatabaseSettings(url=f"sqlite:///{tmp_path}/catalog.db"))
    credentials = tmp_path / "admin-credentials"
    bootstrap(catalog, "", credentials, reset=False)
    first = _read(credentials)
    assert bootstrap(catalog, "", credentials, reset=False) == "exists"
    assert _read(credentials) == first
    assert bootstrap(catalog, "", credentials, reset=True) == "reset"
    second = _read(credentials)
    users = UserStore(catalog)
    assert users.authenticate("admin", first["IMGSEARCH_PASSWORD"]) is None
    assert users.authenticate("admin", second["IMGSEARCH_PASSWORD"]) is not None


def test_a_given_password_needs_no_file(tmp_path: Path) -> None:
    catalog = Catalog(DatabaseSettings(url=f"sqlite:///{tmp_path}/catalog.db"))
    assert bootstrap(catalog, "the compose admin password", None, reset=False) == "created"
    assert UserStore(catalog).authenticate("admin", "the compose admin password") is not None
    assert KeyStore(catalog).list() == []
