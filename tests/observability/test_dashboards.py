"""The Grafana dashboards and the log pipeline, read statically (no Grafana, no Loki needed).

Every panel asks the provisioned Prometheus and windows its rates with ``$__rate_interval``;
Alloy's labels come from the fields our services really write. Whether each panel's query
returns data is proven against a real Prometheus (test_prometheus_integration.py).
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
from typing import Any

import yaml

from tests.observability.promql import (
    DASHBOARDS,
    DATASOURCES,
    OBSERVABILITY,
    RATE_INTERVAL,
    panels,
)
from tests.support.processes import ROOT

PROVIDERS = OBSERVABILITY / "grafana" / "provisioning" / "dashboards" / "dashboards.yml"
ALLOY_CONFIG = OBSERVABILITY / "alloy" / "config.alloy"
RANGE = re.compile(r"\[([^\]]*)\]")
WANTED = {
    "ingest": [
        "Images indexed/s",
        "Queue depth",
        "Job records by state",
        "Embed batch size",
        "Embed batch time",
    ],
    "search": ["Search latency p50 by stage", "Search latency p99 by stage"],
    "cdn": ["Requests/s by route", "Bytes/s by route", "Cache hit ratio"],
    "overview": ["4xx responses/s by service", "5xx responses/s by service"],
}


def dashboard_problems(board: dict[str, Any], datasource_uids: set[str]) -> list[str]:
    """Each panel: a unique id, a provisioned data source, queries, rates over
    ``$__rate_interval`` (a fixed window is too short at one scrape interval, too coarse at
    another)."""
    problems = []
    ids = [panel.get("id") for panel in board["panels"]]
    if len(ids) != len(set(ids)):
        problems.append(f"{board['uid']}: panel ids repeat")
    for panel in board["panels"]:
        where = f"{board['uid']} / {panel['title']}"
        if not panel.get("targets"):
            problems.append(f"{where}: no query")
        for target in panel.get("targets", []):
            uid = (target.get("datasource") or panel.get("datasource") or {}).get("uid")
            if uid not in datasource_uids:
                problems.append(f"{where}: data source {uid!r} is not provisioned")
            fixed = [w for w in RANGE.findall(target.get("expr", "")) if w != RATE_INTERVAL]
            if fixed:
                problems.append(f"{where}: fixed windows {fixed}")
    return problems


def _datasource_uids() -> set[str]:
    return {source["uid"] for source in yaml.safe_load(DATASOURCES.read_text())["datasources"]}


def test_every_panel_queries_a_provisioned_source_over_the_rate_interval() -> None:
    boards = [json.loads(path.read_text()) for path in DASHBOARDS]
    assert len({board["uid"] for board in boards}) == len(boards)
    for board in boards:
        assert dashboard_problems(board, _datasource_uids()) == []


def test_the_dashboards_the_issue_asks_for_are_there() -> None:
    titles = {path.stem: {panel["title"] for panel in panels(path)} for path in DASHBOARDS}
    for board, wanted in WANTED.items():
        assert set(wanted) <= titles.get(board, set()), board


def test_grafana_reads_the_dashboards_where_compose_mounts_them() -> None:
    [provider] = yaml.safe_load(PROVIDERS.read_text())["providers"]
    grafana = yaml.safe_load((ROOT / "docker-compose.yml").read_text())["services"]["grafana"]
    targets = {ref["target"] for ref in grafana["configs"]}
    for board in DASHBOARDS:
        assert f"{provider['options']['path']}/{board.name}" in targets


def test_alloy_labels_come_from_the_fields_the_services_write() -> None:
    probe = (
        "import structlog\n"
        "from shared.config import LogSettings\n"
        "from shared.logging import configure_logging, get_logger\n"
        "configure_logging(LogSettings(json_output=True), 'probe')\n"
        "structlog.contextvars.bind_contextvars(request_id='r-1')\n"
        "get_logger('probe').warning('probing')\n"
    )
    written = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, check=True, timeout=60
    )
    line = json.loads(written.stderr.strip().splitlines()[-1])
    assert (line["level"], line["request_id"]) == ("warning", "r-1")

    alloy = ALLOY_CONFIG.read_text()
    extracted = dict(re.findall(r'(\w+)\s*=\s*"(\w+)",', alloy))
    assert extracted["level"] == "level" and extracted["request_id"] == "request_id"
    assert re.search(r"stage\.labels\s*\{\s*values\s*=\s*\{\s*level\s*=", alloy)
    assert 'target_label  = "service"' in alloy
    cdnapi = (ROOT / "cdnapi" / "internal" / "logging" / "logging.go").read_text()
    assert "slog.NewJSONHandler" in cdnapi and "ReplaceAttr" not in cdnapi  # slog's "level"


# ---------------------------------------------------------------- each check can fail


def test_the_dashboard_check_finds_what_is_broken() -> None:
    broken = {
        "uid": "b",
        "panels": [
            {"id": 1, "title": "no query", "targets": []},
            {
                "id": 1,
                "title": "fixed",
                "datasource": {"uid": "prometheus"},
                "targets": [{"expr": "rate(x[5m])"}],
            },
            {"id": 2, "title": "elsewhere", "targets": [{"datasource": {"uid": "nope"}}]},
        ],
    }
    assert len(dashboard_problems(broken, {"prometheus"})) == 4  # ids, no query, fixed, source
