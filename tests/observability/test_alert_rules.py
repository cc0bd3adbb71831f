"""The alerts fire when they should and stay quiet when they should not: ``promtool test rules``
on made-up series (Prometheus's own rule evaluator, no server).

Each case feeds series with the labels our services and the exporters really carry, and names
the alerts expected at one moment, labels and rendered annotations included; a series beside it
that must not fire (a flat queue, a kind without failures) is fed in the same case.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from tests.observability.promql import RULE_FILES, promtool

WORKER = {"job": "ingestworker", "instance": "w1:8003"}
NODE = {"job": "node", "instance": "node-exporter:9100", "device": "/dev/sda1", "fstype": "ext4"}


def series(name: str, labels: dict[str, str], values: str) -> dict[str, str]:
    inner = ", ".join(f'{k}="{v}"' for k, v in {**WORKER, **labels}.items())
    return {"series": f"{name}{{{inner}}}", "values": values}


def alert(name: str, at: str, *expected: dict[str, Any]) -> dict[str, Any]:
    return {"alertname": name, "eval_time": at, "exp_alerts": list(expected)}


CASES: list[dict[str, Any]] = [
    {  # 5 more messages a minute in `ingest`; `variants` stays at 50
        "input_series": [
            series("broker_queue_length", {"queue": "ingest"}, "0+5x40"),
            series("broker_queue_length", {"queue": "variants"}, "50x40"),
        ],
        "alert_rule_test": [
            alert("QueueGrowing", "8m"),  # growing, not yet for 10 minutes
            alert(
                "QueueGrowing",
                "25m",
                {
                    "exp_labels": {"queue": "ingest", "severity": "warning"},
                    "exp_annotations": {
                        "summary": "queue ingest keeps growing (83.33m messages/s)",
                        "description": "Workers are down, stuck or too few: check the "
                        "ingestworker targets and scale them (docker compose up -d --scale "
                        "ingestworker=N).",
                    },
                },
            ),
        ],
    },
    {  # ingest jobs: 10 done and 5 failed a minute; variant jobs: 10 done, none failed
        "input_series": [
            series("job_records", {"kind": "ingest", "state": "done"}, "0+10x30"),
            series("job_records", {"kind": "ingest", "state": "failed"}, "0+5x30"),
            series("job_records", {"kind": "variant", "state": "done"}, "0+10x30"),
            series("job_records", {"kind": "variant", "state": "failed"}, "0x30"),
        ],
        "alert_rule_test": [
            alert(
                "JobFailureRateHigh",
                "20m",
                {
                    "exp_labels": {"kind": "ingest", "severity": "warning"},
                    "exp_annotations": {
                        "summary": "ingest jobs fail: 33.33% over 15 min",
                        "description": "Read the failed jobs' reasons (GET "
                        '/api/v1/ingest/jobs/{id}) and the worker\'s "job failed" log lines.',
                    },
                },
            )
        ],
    },
    {  # searchapi loses its catalog at minute 2; its Redis stays fine; Milvus stops answering
        "input_series": [
            series("readiness_check", {"job": "searchapi", "check": "catalog"}, "1 1 0 0 0 0 0"),
            series("readiness_check", {"job": "searchapi", "check": "redis"}, "1 1 1 1 1 1 1"),
            series("up", {"job": "milvus", "instance": "milvus:9091"}, "1 1 0 0 0 0 0"),
        ],
        "alert_rule_test": [
            alert(
                "DependencyNotReady",
                "6m",
                {
                    "exp_labels": {"job": "searchapi", "check": "catalog", "severity": "critical"},
                    "exp_annotations": {
                        "summary": "searchapi cannot reach catalog",
                        "description": "GET /readyz on searchapi names every failing check.",
                    },
                },
            ),
            alert(
                "TargetDown",
                "6m",
                {
                    "exp_labels": {
                        "job": "milvus",
                        "instance": "milvus:9091",
                        "severity": "critical",
                    },
                    "exp_annotations": {
                        "summary": "milvus (milvus:9091) does not answer scrapes",
                    },
                },
            ),
        ],
    },
    {  # every text search takes between 1 and 2.5 s
        "input_series": [
            series(
                "http_request_duration_seconds_bucket",
                {"job": "searchapi", "route": "/api/v1/image/search", "le": le},
                values,
            )
            for le, values in (
                ("0.5", "0x30"),
                ("1", "0x30"),
                ("2.5", "0+10x30"),
                ("+Inf", "0+10x30"),
            )
        ],
        "alert_rule_test": [
            alert(
                "SearchSlow",
                "20m",
                {
                    "exp_labels": {"severity": "warning"},
                    "exp_annotations": {
                        "summary": "search p99 is 2.485s (bound: 1 s)",
                        "description": 'The "Search" dashboard splits the time by stage (text '
                        "embedding, Milvus, catalog).",
                    },
                },
            )
        ],
    },
    {  # the volume holding MinIO's data is 95% full, Milvus's 50%; Redis stops answering
        "input_series": [
            *(
                series(f"node_filesystem_{name}", {**NODE, "mountpoint": mount}, values)
                for mount, free in (("/volumes/minio", "5x20"), ("/volumes/milvus", "50x20"))
                for name, values in (("avail_bytes", free), ("size_bytes", "100x20"))
            ),
            series("node_filesystem_readonly", {**NODE, "mountpoint": "/volumes/minio"}, "0x20"),
            series("node_filesystem_readonly", {**NODE, "mountpoint": "/volumes/milvus"}, "0x20"),
            series("redis_up", {"job": "redis", "instance": "redis-exporter:9121"}, "1 0 0 0"),
        ],
        "alert_rule_test": [
            alert(
                "DiskNearlyFull",
                "15m",
                {
                    "exp_labels": {**NODE, "mountpoint": "/volumes/minio", "severity": "critical"},
                    "exp_annotations": {
                        "summary": "/volumes/minio has 5% free",
                        "description": "MinIO, Milvus and PostgreSQL stop writing when the disk "
                        "is full; free space or grow the volume before then.",
                    },
                },
            ),
            alert(
                "RedisDown",
                "3m",
                {
                    "exp_labels": {
                        "job": "redis",
                        "instance": "redis-exporter:9121",
                        "severity": "critical",
                    },
                    "exp_annotations": {
                        "summary": "Redis (the job queue and the rate limits) does not answer"
                    },
                },
            ),
        ],
    },
]


def test_each_alert_fires_when_it_should_and_only_then(tmp_path: Path) -> None:
    tests = [{"interval": "1m", **case} for case in CASES]
    spec = {"rule_files": [str(p) for p in RULE_FILES], "evaluation_interval": "1m", "tests": tests}
    (tmp_path / "alerts_test.yml").write_text(yaml.safe_dump(spec, sort_keys=False))
    result = promtool("test", "rules", str(tmp_path / "alerts_test.yml"))
    assert result.returncode == 0, result.stdout + result.stderr


def test_promtool_test_rules_fails_on_a_wrong_expectation(tmp_path: Path) -> None:
    wrong = {**CASES[0], "alert_rule_test": [alert("QueueGrowing", "25m")]}  # it does fire
    spec = {"rule_files": [str(p) for p in RULE_FILES], "tests": [{"interval": "1m", **wrong}]}
    (tmp_path / "alerts_test.yml").write_text(yaml.safe_dump(spec, sort_keys=False))
    result = promtool("test", "rules", str(tmp_path / "alerts_test.yml"))
    assert result.returncode != 0
    assert "QueueGrowing" in result.stdout + result.stderr
