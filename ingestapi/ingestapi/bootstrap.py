"""``python -m ingestapi.bootstrap``: the first admin, so someone can sign in and make keys.

When the catalog has no user yet, this creates ``admin`` with ``AUTH__BOOTSTRAP_PASSWORD`` (or a
random password) and, with ``--credentials FILE``, an admin API key, writing both to FILE (mode
0600) as ``KEY=value`` lines the CLI reads. Once a user exists it changes nothing, unless
``--reset`` asks for a new admin password and key (a lost credentials file in development).
Safe to run from several processes at once: it works under the catalog's migration lock.
"""

from __future__ import annotations

import argparse
import secrets
from pathlib import Path

from ingestapi.config import IngestSettings
from ingestapi.container import Container
from shared.catalog import migrate
from shared.catalog.db import Catalog
from shared.exposure import is_placeholder
from shared.identity.keys import KeyStore
from shared.identity.roles import Role
from shared.identity.users import UserStore
from shared.logging import configure_logging, get_logger
from shared.private_files import write_private

ADMIN = "admin"
log = get_logger("bootstrap")


def write_credentials(path: Path, password: str, key: str | None) -> None:
    lines = ["# imagesearch admin credentials: keep this file private", f"IMGSEARCH_USER={ADMIN}"]
    lines.append(f"IMGSEARCH_PASSWORD={password}")
    if key:
        lines.append(f"IMGSEARCH_API_KEY={key}")
    write_private(path, "\n".join(lines) + "\n")


def bootstrap(catalog: Catalog, password: str, credentials: Path | None, reset: bool) -> str:
    """What it did: ``created``, ``reset`` or ``exists``."""
    users, keys = UserStore(catalog), KeyStore(catalog)
    migrate.upgrade(catalog)
    with migrate.exclusive(catalog):
        if users.count() and not reset:
            return "exists"
        password = password or secrets.token_urlsafe(18)
        if users.get(ADMIN) is None:
            users.create(ADMIN, password, Role.ADMIN)
            outcome = "created"
        else:
            users.set_password(ADMIN, password)
            users.update(ADMIN, role=Role.ADMIN, disabled=False)
            outcome = "reset"
        key = keys.create("bootstrap", Role.ADMIN, ADMIN)[0] if credentials else None
        if credentials:
            write_credentials(credentials, password, key)
        return outcome


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--credentials", type=Path, help="write the admin's password and key here")
    parser.add_argument("--reset", action="store_true", help="new admin password and key")
    args = parser.parse_args()
    settings = IngestSettings()
    configure_logging(settings.log, "bootstrap")
    password = settings.auth.bootstrap_password.get_secret_value()
    if password and is_placeholder(password):
        raise SystemExit("AUTH__BOOTSTRAP_PASSWORD is a placeholder: choose a real password")
    if not password and not args.credentials:
        raise SystemExit(
            "set AUTH__BOOTSTRAP_PASSWORD or pass --credentials FILE: a random password must "
            "be written somewhere"
        )
    catalog = Container(settings=settings).catalog()
    try:
        outcome = bootstrap(catalog, password, args.credentials, args.reset)
    finally:
        catalog.close()
    where = str(args.credentials) if args.credentials else "AUTH__BOOTSTRAP_PASSWORD"
    if outcome == "exists":
        log.info("users exist already; nothing changed", credentials=where)
    else:
        log.info(f"admin {outcome}", user=ADMIN, credentials=where)


if __name__ == "__main__":
    main()
