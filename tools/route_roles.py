"""Print the table of every API route and who may call it, as the routes themselves declare it
(``access(...)`` in each route). README's "Routes and roles" section is this output; a test
keeps the two the same: ``python tools/route_roles.py --write`` refreshes README.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from pydantic import SecretStr

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))  # run as a script: the repo's packages are importable already

from ingestapi.config import IngestSettings  # noqa: E402
from ingestapi.main import create_app as create_ingestapi  # noqa: E402
from searchapi.config import SearchSettings  # noqa: E402
from searchapi.main import create_app as create_searchapi  # noqa: E402
from shared.config import AuthSettings, SigningSettings  # noqa: E402
from shared.identity.http import PUBLIC_READ_ROLE, route_roles  # noqa: E402

START, END = "<!-- routes:start -->", "<!-- routes:end -->"
OPS = {"/healthz", "/readyz", "/metrics"}
# cdnapi is Go: its byte routes are read like every other read, through a signed link when reads
# are private (the link is the credential: <img> tags send no header).
CDNAPI = [
    ("GET, HEAD", "/images/{id}", f"{PUBLIC_READ_ROLE}; signed link when private", "cdnapi"),
    ("GET, HEAD", "/images/{id}/thumb", f"{PUBLIC_READ_ROLE}; signed link when private", "cdnapi"),
    (
        "GET, HEAD",
        "/images/{id}/variants/{variant_id}",
        f"{PUBLIC_READ_ROLE}; signed link when private",
        "cdnapi",
    ),
]


def rows() -> list[tuple[str, str, str, str]]:
    """(methods, path, role, service) of every route, ops endpoints last, once."""
    auth = AuthSettings(jwt_secret=SecretStr("x" * 32))
    signing = SigningSettings(secret=SecretStr("x" * 32))
    apps = {
        "ingestapi": create_ingestapi(IngestSettings(auth=auth, signing=signing)),
        "searchapi": create_searchapi(SearchSettings(auth=auth, signing=signing)),
    }
    found: list[tuple[str, str, str, str]] = []
    for service, app in apps.items():
        for method, path, role in route_roles(app):
            if path not in OPS:
                found.append((method, path, role, service))
    found += CDNAPI
    found.append(("GET", "/healthz, /readyz, /metrics", "anyone", "every service"))
    return found


def table() -> str:
    lines = ["| method | route | who may call it | service |", "|---|---|---|---|"]
    lines += [f"| {m} | `{p}` | {r} | {s} |" for m, p, r, s in rows()]
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--write", action="store_true", help="replace README's table with it")
    args = parser.parse_args()
    if not args.write:
        print(table())
        return
    readme = ROOT / "README.md"
    text = readme.read_text()
    head, rest = text.split(START, 1)
    _, tail = rest.split(END, 1)
    readme.write_text(f"{head}{START}\n{table()}\n{END}{tail}")


if __name__ == "__main__":
    main()
