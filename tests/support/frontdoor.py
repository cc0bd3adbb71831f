"""The front door (Nginx, rendered from frontend/*.template) in front of running services.

For the fixtures: ``start_frontdoor(ingestapi, searchapi, cdnapi, run_dir, log_dir)`` renders the
config the way ``make dev`` does, starts Nginx on a free loopback port and returns it with its URL.
``limits`` overrides render_nginx.py's LIMITS (``{"FRONTEND_HEADER_TIMEOUT_S": "2"}``).
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from collections.abc import Mapping
from pathlib import Path
from urllib.parse import urlsplit

from tests.support.processes import ROOT, ManagedProcess, free_port, http_ok

FRONTEND = ROOT / "frontend"


def _address(url: str) -> str:
    """host:port of a base URL such as ``http://127.0.0.1:8000``."""
    parts = urlsplit(url)
    return f"{parts.hostname}:{parts.port}"


def start_frontdoor(
    ingestapi_url: str,
    searchapi_url: str,
    cdnapi_url: str,
    run_dir: Path,
    log_dir: Path,
    name: str = "frontdoor",
    limits: Mapping[str, str] | None = None,
) -> tuple[ManagedProcess, str]:
    nginx = shutil.which("nginx") or "/usr/sbin/nginx"
    port = free_port()
    env = {
        "INGESTAPI_ADDR": _address(ingestapi_url),
        "SEARCHAPI_ADDR": _address(searchapi_url),
        "CDNAPI_ADDR": _address(cdnapi_url),
        "FRONTEND_PORT": f"127.0.0.1:{port}",
        "FRONTEND_ROOT": str(FRONTEND),
        "NGINX_RUN_DIR": str(run_dir),
        **(limits or {}),
    }
    subprocess.run(
        [sys.executable, str(FRONTEND / "render_nginx.py"), "--native"],
        env=env,
        check=True,
        capture_output=True,
        text=True,
    )
    argv = [nginx, "-c", f"{run_dir}/nginx.conf", "-p", f"{run_dir}/", "-e", f"{run_dir}/error.log"]
    proc = ManagedProcess(name, argv, log_dir).start()
    url = f"http://127.0.0.1:{port}"
    proc.wait_ready(lambda: http_ok(f"{url}/healthz"), 30)
    return proc, url
