#!/usr/bin/env python3
"""Render the front door's nginx templates from the environment (stdlib only).

    render_nginx.py --native          nginx.conf + frontend.conf into $NGINX_RUN_DIR; then run
        nginx -c "$NGINX_RUN_DIR/nginx.conf" -p "$NGINX_RUN_DIR/" -e "$NGINX_RUN_DIR/error.log"
    render_nginx.py TEMPLATE OUTPUT   one template (what the nginx image does in Docker Compose)

Only ``${NAME}`` for the names in VARIABLES is replaced, so nginx's own ``$uri``/``${uri}`` stay as
they are; a name the template uses but the environment lacks is an error naming it, except the
limits (LIMITS), which have defaults, and FRONTEND_ACCESS_LOG (default: the nginx image's access
log; with --native, $NGINX_RUN_DIR/access.log). The paths are made absolute because nginx would
read a relative one against its prefix (-p). A limit must be a whole number in its range: zero or
an hour-long header timeout would quietly switch a protection off, so they fail here instead.
"""

from __future__ import annotations

import argparse
import os
import re
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import NamedTuple

HERE = Path(__file__).resolve().parent
SERVER_TEMPLATE = HERE / "nginx.conf.template"
NATIVE_TEMPLATE = HERE / "nginx.native.conf.template"


class Limit(NamedTuple):
    """A number the template takes from the environment: its default and its safe range."""

    default: int
    low: int
    high: int
    unit: str


# The slow-client and per-address limits; docker/frontend.Dockerfile sets the same defaults.
LIMITS = {
    "FRONTEND_HEADER_TIMEOUT_S": Limit(10, 1, 60, "seconds for a request's headers"),
    "FRONTEND_BODY_TIMEOUT_S": Limit(30, 1, 300, "seconds between two reads of a body"),
    "FRONTEND_SEND_TIMEOUT_S": Limit(30, 1, 300, "seconds between two writes of an answer"),
    "FRONTEND_KEEPALIVE_TIMEOUT_S": Limit(30, 0, 300, "seconds an idle connection stays open"),
    "FRONTEND_CONN_PER_ADDR": Limit(64, 1, 10_000, "connections in use per client address"),
    "FRONTEND_BYTES_RATE": Limit(50, 1, 10_000, "/images/ requests per second per address"),
    "FRONTEND_BYTES_BURST": Limit(200, 0, 100_000, "/images/ requests above the rate at once"),
}
VARIABLES = (
    "INGESTAPI_ADDR",
    "SEARCHAPI_ADDR",
    "CDNAPI_ADDR",
    "FRONTEND_PORT",
    "FRONTEND_ROOT",
    "FRONTEND_ACCESS_LOG",
    "NGINX_RUN_DIR",
    *LIMITS,
)
PATHS = ("FRONTEND_ROOT", "NGINX_RUN_DIR")
# Where the nginx image keeps its access log (a link to its stdout); --native: $NGINX_RUN_DIR.
ACCESS_LOG = "FRONTEND_ACCESS_LOG"
IMAGE_ACCESS_LOG = "/var/log/nginx/access.log"
_PLACEHOLDER = re.compile(r"\$\{(" + "|".join(VARIABLES) + r")\}")
_ADDRESS = re.compile(r"^(\[[0-9a-fA-F:]+\]|[A-Za-z0-9_.-]+):\d{1,5}$")
_PORT = re.compile(r"^((\[[0-9a-fA-F:]+\]|[0-9.]+|[A-Za-z0-9_.-]+):)?\d{1,5}$")


class RenderError(Exception):
    """A template cannot be rendered from this environment; the message says why."""


def values_from(env: Mapping[str, str], needed: set[str]) -> dict[str, str]:
    """The variables `needed`, checked, paths made absolute; RenderError says what is wrong."""
    optional = {*LIMITS, ACCESS_LOG}
    missing = sorted(
        name for name in needed if name not in optional and not env.get(name, "").strip()
    )
    if missing:
        raise RenderError(f"missing environment variable(s): {', '.join(missing)}")
    values = {name: env.get(name, "").strip() for name in needed}
    if ACCESS_LOG in needed:  # absolute, but not resolved: the image's own is a link to stdout
        values[ACCESS_LOG] = os.path.abspath(
            Path(values[ACCESS_LOG] or IMAGE_ACCESS_LOG).expanduser()
        )
    for name in needed & LIMITS.keys():
        values[name] = _limit(name, values[name])
    for name in needed & {"INGESTAPI_ADDR", "SEARCHAPI_ADDR", "CDNAPI_ADDR"}:
        if not _ADDRESS.match(values[name]):
            raise RenderError(f"{name}={values[name]!r} is not host:port")
    if "FRONTEND_PORT" in needed and not _PORT.match(values["FRONTEND_PORT"]):
        port = values["FRONTEND_PORT"]
        raise RenderError(f"FRONTEND_PORT={port!r} is not a port or address:port")
    for name in needed & set(PATHS):
        values[name] = str(Path(values[name]).expanduser().resolve())
    if "FRONTEND_ROOT" in needed and not (Path(values["FRONTEND_ROOT"]) / "index.html").is_file():
        raise RenderError(f"FRONTEND_ROOT={values['FRONTEND_ROOT']} holds no index.html")
    return values


def _limit(name: str, given: str) -> str:
    """``given`` (or the default when empty) as a whole number within the limit's range."""
    limit = LIMITS[name]
    if not given:
        return str(limit.default)
    if not (given.isascii() and given.isdigit()) or not limit.low <= int(given) <= limit.high:
        raise RenderError(
            f"{name}={given!r} must be a whole number from {limit.low} to {limit.high} "
            f"({limit.unit}; default {limit.default})"
        )
    return str(int(given))


def render(template: str, env: Mapping[str, str]) -> str:
    """`template` with each ``${NAME}`` of VARIABLES replaced by its (checked) value."""
    values = values_from(env, set(_PLACEHOLDER.findall(template)))
    return _PLACEHOLDER.sub(lambda m: values[m.group(1)], template)


def render_file(template: Path, output: Path, env: Mapping[str, str]) -> Path:
    try:
        text = template.read_text(encoding="utf-8")
    except OSError as exc:
        raise RenderError(f"cannot read template {template}: {exc.strerror}") from exc
    output.parent.mkdir(parents=True, exist_ok=True)
    output.write_text(render(text, env), encoding="utf-8")
    return output


def render_native(env: Mapping[str, str]) -> Path:
    """nginx.conf and the frontend.conf it includes, into $NGINX_RUN_DIR; returns nginx.conf."""
    run_dir = Path(values_from(env, {"NGINX_RUN_DIR"})["NGINX_RUN_DIR"])
    # Started as root, Nginx runs its workers as `nobody`, and they buffer request bodies over
    # 16 KB (a search picture) under the run dir: a private run dir would turn those into 500s.
    run_dir.mkdir(parents=True, exist_ok=True)
    run_dir.chmod(0o755)
    env = {ACCESS_LOG: str(run_dir / "access.log"), **env}
    render_file(SERVER_TEMPLATE, run_dir / "frontend.conf", env)
    return render_file(NATIVE_TEMPLATE, run_dir / "nginx.conf", env)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--native", action="store_true", help="nginx.conf + frontend.conf into $NGINX_RUN_DIR"
    )
    parser.add_argument("template", nargs="?", type=Path)
    parser.add_argument("output", nargs="?", type=Path)
    args = parser.parse_args(argv)
    if args.native == bool(args.template or args.output) or (args.template and not args.output):
        parser.error("give either --native or TEMPLATE OUTPUT")
    try:
        if args.native:
            written = render_native(os.environ)
        else:
            written = render_file(args.template, args.output, os.environ)
    except RenderError as exc:
        print(f"render_nginx: {exc}", file=sys.stderr)
        return 2
    print(written)
    return 0


if __name__ == "__main__":
    sys.exit(main())
