"""What the files under deploy/observability ask Prometheus, and a client to ask a real one.

Every Prometheus query of every dashboard panel (Grafana's ``$__rate_interval`` replaced by a
window the test chooses) and every rule's expression; ``promtool``; a small client of
Prometheus's HTTP API that tells an invalid query from one that found no data.
"""

from __future__ import annotations

import json
import math
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml

from tests.support.processes import ROOT

OBSERVABILITY = ROOT / "deploy" / "observability"
PROMETHEUS_DIR = OBSERVABILITY / "prometheus"
COMPOSE_CONFIG = PROMETHEUS_DIR / "prometheus.yml"
RULE_FILES = sorted((PROMETHEUS_DIR / "rules").glob("*.yml"))
DASHBOARDS = sorted((OBSERVABILITY / "grafana" / "dashboards").glob("*.json"))
DATASOURCES = OBSERVABILITY / "grafana" / "provisioning" / "datasources" / "datasources.yml"
RENDER = OBSERVABILITY / "render_prometheus.py"
RATE_INTERVAL = "$__rate_interval"


@dataclass(frozen=True)
class Query:
    where: str  # e.g. "ingest.json / Queue depth / A"
    expr: str


def panels(dashboard: Path) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = json.loads(dashboard.read_text())["panels"]
    return found


def panel_queries(window: str) -> list[Query]:
    """Each panel target's PromQL, with ``$__rate_interval`` as ``window``."""
    return [
        Query(
            f"{board.name} / {panel['title']} / {target['refId']}",
            target["expr"].replace(RATE_INTERVAL, window),
        )
        for board in DASHBOARDS
        for panel in panels(board)
        for target in panel["targets"]
    ]


def rules() -> list[dict[str, Any]]:
    return [
        rule
        for path in RULE_FILES
        for group in yaml.safe_load(path.read_text())["groups"]
        for rule in group["rules"]
    ]


def rule_queries() -> list[Query]:
    return [Query(rule.get("alert") or rule["record"], rule["expr"]) for rule in rules()]


def promtool(*args: str) -> subprocess.CompletedProcess[str]:
    binary = shutil.which("promtool")
    if binary is None:
        pytest.fail("promtool is missing: make test installs Debian's prometheus package")
    return subprocess.run([binary, *args], capture_output=True, text=True, timeout=60)


def render_native_config(out: Path, *args: str) -> Path:
    """``make observe``'s config, rendered by its own script with ``args``."""
    command = [str(ROOT / ".venv" / "bin" / "python"), str(RENDER), "--out", str(out), *args]
    subprocess.run(command, check=True, capture_output=True, text=True, timeout=60)
    return out


def finite_samples(result: dict[str, Any]) -> list[float]:
    """The finite values of an instant query's answer (a vector or a scalar)."""
    data = result["data"]
    if data["resultType"] == "scalar":
        values = [float(data["result"][1])]
    else:
        values = [float(sample["value"][1]) for sample in data["result"]]
    return [value for value in values if math.isfinite(value)]


class PrometheusAPI:
    def __init__(self, url: str) -> None:
        self._http = httpx.Client(base_url=url, timeout=10)

    def close(self) -> None:
        self._http.close()

    def query(self, expr: str) -> dict[str, Any]:
        """The answer's body: ``status`` is "error" (with ``error``) for an invalid query."""
        body: dict[str, Any] = self._http.get("/api/v1/query", params={"query": expr}).json()
        return body

    def rules(self) -> list[dict[str, Any]]:
        groups = self._http.get("/api/v1/rules").json()["data"]["groups"]
        return [rule for group in groups for rule in group["rules"]]

    def targets(self) -> list[dict[str, Any]]:
        active: list[dict[str, Any]] = self._http.get("/api/v1/targets").json()["data"][
            "activeTargets"
        ]
        return active
