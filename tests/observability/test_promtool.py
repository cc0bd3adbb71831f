"""promtool on the real files, and on broken ones so that each check is seen to fail.

Compose's Prometheus config (with the rules it names), the config ``make observe`` renders from
it, and the rule files on their own.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from tests.observability.promql import (
    COMPOSE_CONFIG,
    RULE_FILES,
    promtool,
    render_native_config,
    rules,
)

MAKE_DEV_JOBS = {"ingestapi", "searchapi", "cdnapi", "ingestworker", "minio", "prometheus"}


def _jobs(config: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {job["job_name"]: job for job in config["scrape_configs"]}


def test_compose_config_is_valid_with_every_rule_file() -> None:
    result = promtool("check", "config", str(COMPOSE_CONFIG))
    assert result.returncode == 0, result.stdout + result.stderr
    assert f"SUCCESS: {len(RULE_FILES)} rule files found" in result.stdout


def test_rules_are_valid() -> None:
    result = promtool("check", "rules", *map(str, RULE_FILES))
    assert result.returncode == 0, result.stdout + result.stderr
    assert f"SUCCESS: {len(rules())} rules found" in result.stdout
    assert {rule.get("alert") for rule in rules()} >= {
        "JobFailureRateHigh",
        "QueueGrowing",
        "SearchSlow",
        "TargetDown",
        "DependencyNotReady",
        "DiskNearlyFull",
    }


def test_make_observe_renders_a_valid_config_of_composes_jobs_on_loopback(tmp_path: Path) -> None:
    rendered = render_native_config(tmp_path / "prometheus.yml")
    result = promtool("check", "config", str(rendered))
    assert result.returncode == 0, result.stdout + result.stderr
    assert f"SUCCESS: {len(RULE_FILES)} rule files found" in result.stdout

    native = _jobs(yaml.safe_load(rendered.read_text()))
    compose = _jobs(yaml.safe_load(COMPOSE_CONFIG.read_text()))
    assert MAKE_DEV_JOBS <= set(native) <= set(compose)
    for name, job in native.items():
        [static] = job["static_configs"]
        assert static["targets"][0].startswith("127.0.0.1:"), name
        assert job.get("metrics_path") == compose[name].get("metrics_path"), name
    assert native["ingestapi"]["static_configs"][0]["targets"] == ["127.0.0.1:8000"]
    assert native["minio"]["authorization"]["credentials"]  # MinIO's metrics want a token


# ---------------------------------------------------------------- each check can fail


def test_promtool_rejects_a_broken_config(tmp_path: Path) -> None:
    broken = tmp_path / "prometheus.yml"
    broken.write_text("global:\n  scrape_interval: soon\nscrape_configs: []\n")
    result = promtool("check", "config", str(broken))
    assert result.returncode != 0
    assert "soon" in result.stdout + result.stderr


def test_promtool_rejects_a_config_naming_a_broken_rule_file(tmp_path: Path) -> None:
    (tmp_path / "rules.yml").write_text("groups:\n  - name: x\n    rules:\n      - alert: A\n")
    config = tmp_path / "prometheus.yml"
    config.write_text("rule_files: [rules.yml]\nscrape_configs: []\n")
    result = promtool("check", "config", str(config))
    assert result.returncode != 0
    assert "field 'expr' must be set" in result.stdout + result.stderr


def test_promtool_rejects_a_rule_with_broken_promql(tmp_path: Path) -> None:
    broken = tmp_path / "rules.yml"
    rule = {"alert": "Broken", "expr": "rate(http_requests_total[5m] > 1"}
    broken.write_text(yaml.safe_dump({"groups": [{"name": "x", "rules": [rule]}]}))
    result = promtool("check", "rules", str(broken))
    assert result.returncode != 0
    assert '"Broken": could not parse expression' in result.stdout + result.stderr
