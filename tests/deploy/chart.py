"""Run the pinned Helm (``make setup`` builds it into .bin/) on the chart, and read what it renders.

Every render names the credentials the chart requires (``TEST_SECRETS``), as an operator does
with ``--set`` or an existing Secret; the chart refuses to render without them.
"""

from __future__ import annotations

import json
import re
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
CHART = ROOT / "deploy" / "helm" / "imagesearch"
HELM = ROOT / ".bin" / "helm"
DEFAULT_VALUES = CHART / "values.yaml"
PRODUCTION_VALUES = CHART / "values-production.yaml"
RELEASE = "imagesearch"
# The Kubernetes version the chart is rendered for and validated against (its schemas).
KUBERNETES = "1.31.0"

# Long, random-looking, URL-safe: what `secrets.*` must look like for the chart to render.
TEST_SECRETS = {
    "authJwtSecret": "jwt-7f3a9c1e5b2d8f4a6c0e9b7d5f3a1c8e",
    "signingSecret": "sig-2b8d4f6a0c9e7b5d3f1a8c6e4b2d0f9a",
    "adminPassword": "admin-pass-5d1f9b3e7a",
    "s3AccessKey": "imagesearch-access-4c2e",
    "s3SecretKey": "s3-secret-8e6c4a2f0d9b7e5c3a1f",
    "redisPassword": "redis-pass-1a3c5e7b9d",
    "postgresPassword": "pg-pass-9f7d5b3a1e",
    "milvusToken": "root:milvus-token-6b4d2f",
}


def helm_version_pinned() -> str:
    """The version the Makefile's `$(BIN)/helm` rule installs."""
    found = re.search(r"^HELM_VERSION := (\S+)$", (ROOT / "Makefile").read_text(), re.M)
    assert found, "Makefile: no HELM_VERSION"
    return found.group(1)


def helm(*args: str, chart: Path = CHART) -> subprocess.CompletedProcess[str]:
    if not HELM.is_file():
        pytest.fail(f"{HELM.relative_to(ROOT)} is missing: `make setup` installs the pinned Helm")
    return subprocess.run(
        [str(HELM), *args], capture_output=True, text=True, timeout=120, cwd=chart.parent
    )


def set_args(values: dict[str, Any]) -> list[str]:
    """--set for each dotted key: strings as strings (a tag 0.1 stays "0.1"), others as JSON."""
    args: list[str] = []
    for key, value in values.items():
        if isinstance(value, str):
            args += ["--set-string", f"{key}={value}"]
        else:
            args += ["--set-json", f"{key}={json.dumps(value)}"]
    return args


def secret_values(**overrides: str) -> dict[str, str]:
    return {f"secrets.{k}": v for k, v in {**TEST_SECRETS, **overrides}.items()}


def template(
    *values_files: Path,
    values: dict[str, Any] | None = None,
    chart: Path = CHART,
) -> subprocess.CompletedProcess[str]:
    args = [
        "template",
        RELEASE,
        str(chart),
        "--namespace",
        "imagesearch",
        "--kube-version",
        KUBERNETES,
    ]
    for file in values_files:
        args += ["--values", str(file)]
    return helm(*args, *set_args(values if values is not None else secret_values()), chart=chart)


def render(
    *values_files: Path, values: dict[str, Any] | None = None, chart: Path = CHART
) -> list[dict[str, Any]]:
    """The manifests `helm template` makes, hooks included; fails the test if it refuses."""
    done = template(*values_files, values=values, chart=chart)
    assert done.returncode == 0, f"helm template failed:\n{done.stderr}"
    return [doc for doc in yaml.safe_load_all(done.stdout) if doc]


def refusal(*values_files: Path, values: dict[str, Any]) -> str:
    """Why the chart refuses to render with these values; fails the test if it renders."""
    done = template(*values_files, values=values)
    assert done.returncode != 0, "the chart rendered, but should have refused"
    return done.stderr


def lint(*values_files: Path, values: dict[str, Any] | None = None, chart: Path = CHART) -> str:
    """`helm lint --strict`'s complaints; empty when it passes."""
    args = ["lint", str(chart), "--strict", "--kube-version", KUBERNETES]
    for file in values_files:
        args += ["--values", str(file)]
    done = helm(*args, *set_args(values if values is not None else secret_values()), chart=chart)
    return "" if done.returncode == 0 else done.stdout + done.stderr


def of_kind(manifests: list[dict[str, Any]], kind: str) -> dict[str, dict[str, Any]]:
    return {m["metadata"]["name"]: m for m in manifests if m["kind"] == kind}


def component(manifest: dict[str, Any]) -> str:
    return str(manifest["metadata"]["labels"]["app.kubernetes.io/component"])
