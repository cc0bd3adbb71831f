"""Static checks of the Compose profile `observability` (deploy/observability).

Prometheus scrapes services of this file on the ports they answer on, every file under
deploy/observability that a container needs is mounted into one, the profile stays out of a plain
`up`, and only Grafana is published, on loopback, by its own override. The queries themselves
run against a real Prometheus in tests/observability.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import yaml

from tests.compose.checks import COMPOSE_FILE, ROOT, resolved_services, run_compose
from tests.compose.exposure import FRONT_DOOR, LOOPBACK_IPS, port_problems

OBSERVABILITY = ROOT / "deploy" / "observability"
PROMETHEUS_CONFIG = OBSERVABILITY / "prometheus" / "prometheus.yml"
GRAFANA_OVERRIDE = OBSERVABILITY / "docker-compose.grafana.yml"
PROFILE = "observability"
NOT_MOUNTED = {GRAFANA_OVERRIDE, OBSERVABILITY / "render_prometheus.py"}  # used on the host


def resolved() -> dict[str, Any]:
    result = run_compose(COMPOSE_FILE, "--profile", "*", "config", "--format", "json")
    assert result.returncode == 0, result.stderr
    config: dict[str, Any] = json.loads(result.stdout)
    return config


def scrape_targets(config: dict[str, Any]) -> dict[str, list[str]]:
    """host:port of every job, from static targets and DNS names alike."""
    targets: dict[str, list[str]] = {}
    for job in config["scrape_configs"]:
        found = [t for static in job.get("static_configs", []) for t in static["targets"]]
        found += [
            f"{n}:{dns['port']}" for dns in job.get("dns_sd_configs", []) for n in dns["names"]
        ]
        targets[job["job_name"]] = found
    return targets


def scrape_problems(config: dict[str, Any], svcs: dict[str, Any]) -> list[str]:
    """Each target is a service (by name or network alias; loopback: Prometheus itself) and its
    port is the one that service's healthcheck asks, where it is known to answer HTTP."""
    names = {name: name for name in svcs}
    for name, svc in svcs.items():
        for network in (svc.get("networks") or {}).values():
            names.update({alias: name for alias in (network or {}).get("aliases", [])})
    problems = []
    for job, targets in scrape_targets(config).items():
        for target in targets:
            host, _, port = target.rpartition(":")
            service = "prometheus" if host in (*LOOPBACK_IPS, "localhost") else names.get(host)
            if service is None:
                problems.append(f"{job}: {target} is no service")
                continue
            check = " ".join(map(str, (svcs[service].get("healthcheck") or {}).get("test", [])))
            if f":{port}/" not in check:
                problems.append(f"{job}: {service} answers on no port {port} that we know of")
    return problems


def mount_problems(config: dict[str, Any], files: list[Path]) -> list[str]:
    """Every file is the source of a Compose config that some service mounts."""
    mounted = {
        Path(config["configs"][ref["source"]]["file"]).resolve()
        for svc in config["services"].values()
        for ref in svc.get("configs", [])
    }
    return [f"{f} is mounted nowhere" for f in files if f.resolve() not in mounted]


# ---------------------------------------------------------------- the real files


def test_prometheus_scrapes_every_part_on_the_port_it_answers_on() -> None:
    config = yaml.safe_load(PROMETHEUS_CONFIG.read_text())
    jobs = set(scrape_targets(config))
    assert {"ingestapi", "searchapi", "cdnapi", "ingestworker", "milvus", "minio", "redis"} <= jobs
    assert scrape_problems(config, resolved()["services"]) == []


def test_every_file_the_containers_need_is_mounted() -> None:
    files = [f for f in OBSERVABILITY.rglob("*") if f.is_file() and f not in NOT_MOUNTED]
    assert len(files) >= 8
    assert mount_problems(resolved(), files) == []


def test_the_profile_stays_out_of_a_plain_up_and_nothing_else_waits_for_it() -> None:
    svcs = resolved()["services"]
    ours = {name for name, svc in svcs.items() if PROFILE in (svc.get("profiles") or [])}
    assert ours == {"prometheus", "grafana", "loki", "alloy", "redis-exporter", "node-exporter"}
    for name, svc in svcs.items():
        if name not in ours:
            assert not set(svc.get("depends_on") or {}) & ours, f"{name} waits for {PROFILE}"
    assert svcs["minio"]["environment"]["MINIO_PROMETHEUS_AUTH_TYPE"] == "public"


def test_grafana_override_publishes_only_grafana_and_only_on_loopback() -> None:
    svcs = resolved_services(COMPOSE_FILE, GRAFANA_OVERRIDE)
    assert port_problems(svcs, loopback_allowed=True) == []
    published = {
        name: [(p.get("host_ip"), p["target"]) for p in svc["ports"]]
        for name, svc in svcs.items()
        if name != FRONT_DOOR and svc.get("ports")
    }
    assert published == {"grafana": [("127.0.0.1", 3000)]}


# ---------------------------------------------------------------- each check can fail


def test_the_observability_checks_find_what_is_broken(tmp_path: Path) -> None:
    svcs = {
        "api": {"healthcheck": {"test": ["CMD", "wget", "http://127.0.0.1:8000/readyz"]}},
        "worker": {
            "networks": {"default": {"aliases": ["workers"]}},
            "healthcheck": {"test": ["CMD", "wget", "http://127.0.0.1:8003/readyz"]},
        },
    }
    config = {
        "scrape_configs": [
            {"job_name": "api", "static_configs": [{"targets": ["api:8000", "api:9999"]}]},
            {"job_name": "gone", "static_configs": [{"targets": ["ghost:8000"]}]},
            {
                "job_name": "w",
                "dns_sd_configs": [{"names": ["workers"], "type": "A", "port": 8003}],
            },
        ]
    }
    assert len(scrape_problems(config, svcs)) == 2  # api:9999, ghost
    lost = tmp_path / "lost.json"
    lost.write_text("{}")
    assert mount_problems(resolved(), [lost, PROMETHEUS_CONFIG]) == [f"{lost} is mounted nowhere"]
