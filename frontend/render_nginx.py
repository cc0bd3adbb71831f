#!/usr/bin/env python3
"""Render the front door's nginx templates from the environment (stdlib only).

    render_nginx.py --native          nginx.conf + frontend.conf into $NGINX_RUN_DIR; then run
        nginx -c "$NGINX_RUN_DIR/nginx.conf" -p "$NGINX_RUN_DIR/" -e "$NGINX_RUN_DIR/error.log"
    render_nginx.py TEMPLATE OUTPUT   one template (what the nginx image does in Docker Compose)

Only ``${NAME}`` for the names in VARIABLES is replaced, so nginx's own ``$uri``/``${uri}`` stay as
they are; a name the template uses but the environment lacks is an error naming it. The two path
variables are made absolute because nginx would read a relative one against its prefix (-p).
"""

from __future__ import annotations

import argparse
import os
import re
import sys
from collections.abc import Mapping
from pathlib import Path

HERE = Path(__file__).resolve().parent
SERVER_TEMPLATE = HERE / "nginx.conf.template"
NATIVE_TEMPLATE = HERE / "nginx.native.conf.template"
VARIABLES = (
    "INGESTAPI_ADDR",
    "SEARCHAPI_ADDR",
    "CDNAPI_ADDR",
    "FRONTEND_PORT",
    "FRONTEND_ROOT",
    "NGINX_RUN_DIR",
)
PATHS = ("FRONTEND_ROOT", "NGINX_RUN_DIR")
_PLACEHOLDER = re.compile(r"\$\{(" + "|".join(VARIABLES) + r")\}")
_ADDRESS = re.compile(r"^(\[[0-9a-fA-F:]+\]|[A-Za-z0-9_.-]+):\d{1,5}$")
_PORT = re.compile(r"^((\[[0-9a-fA-F:]+\]|[0-9.]+|[A-Za-z0-9_.-]+):)?\d{1,5}$")


class RenderError(Exception):
    """A template cannot be rendered from this environment; the message says why."""


def values_from(env: Mapping[str, str], needed: set[str]) -> dict[str, str]:
    """The variables `needed`, checked, paths made absolute; RenderError says what is wrong."""
    missing = sorted(name for name in needed if not env.get(name, "").strip())
    if missing:
        raise RenderError(f"missing environment variable(s): {', '.join(missing)}")
    values = {name: env[name].strip() for name in needed}
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
