"""The front door's slow-client and per-address limits as the render step takes them: from the
environment or their defaults, refused when a value would switch a protection off, and the same
defaults in the Docker image (which renders with envsubst, knowing no defaults)."""

from __future__ import annotations

import os
import re
import runpy
import subprocess
import sys
from pathlib import Path

import pytest

from tests.support.frontdoor import FRONTEND
from tests.support.processes import ROOT

RENDER_ENV = {
    "INGESTAPI_ADDR": "127.0.0.1:8000",
    "SEARCHAPI_ADDR": "127.0.0.1:8001",
    "CDNAPI_ADDR": "127.0.0.1:8002",
    "FRONTEND_PORT": "3000",
    "FRONTEND_ROOT": str(FRONTEND),
}


def render(tmp_path: Path, **limits: str) -> subprocess.CompletedProcess[str]:
    template, out = FRONTEND / "nginx.conf.template", tmp_path / "out.conf"
    return subprocess.run(
        [sys.executable, str(FRONTEND / "render_nginx.py"), str(template), str(out)],
        env={"PATH": os.environ.get("PATH", ""), **RENDER_ENV, **limits},
        capture_output=True,
        text=True,
    )


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("FRONTEND_HEADER_TIMEOUT_S", "0"),
        ("FRONTEND_HEADER_TIMEOUT_S", "3600"),
        ("FRONTEND_BODY_TIMEOUT_S", "30s"),
        ("FRONTEND_CONN_PER_ADDR", "-1"),
        ("FRONTEND_BYTES_RATE", "10r/s"),
    ],
)
def test_render_refuses_a_limit_that_would_switch_a_protection_off(
    tmp_path: Path, name: str, value: str
) -> None:
    result = render(tmp_path, **{name: value})
    assert result.returncode == 2
    assert f"{name}={value!r} must be a whole number" in result.stderr


def test_render_takes_each_limit_from_the_environment_or_its_default(tmp_path: Path) -> None:
    result = render(tmp_path, FRONTEND_CONN_PER_ADDR="7", FRONTEND_BYTES_BURST="0")
    assert result.returncode == 0, result.stderr
    conf = (tmp_path / "out.conf").read_text()
    assert "limit_conn imgsearch_conn_per_addr 7;" in conf
    assert "burst=0 nodelay;" in conf
    assert "client_header_timeout 10s;" in conf and "rate=50r/s;" in conf


def test_the_docker_image_has_the_render_steps_defaults() -> None:
    limits = runpy.run_path(str(FRONTEND / "render_nginx.py"))["LIMITS"]
    dockerfile = (ROOT / "docker" / "frontend.Dockerfile").read_text()
    in_image = dict(re.findall(r"\b(FRONTEND_[A-Z_]+)=(\d+)", dockerfile))
    assert {name: in_image.get(name) for name in limits} == {
        name: str(limit.default) for name, limit in limits.items()
    }
