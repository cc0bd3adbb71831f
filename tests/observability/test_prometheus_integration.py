"""Every dashboard panel and every rule, asked of a real Prometheus scraping the real system.

Debian's ``prometheus`` runs on a free loopback port with the config ``make observe`` renders (its
own script, given the test stack's addresses and a 1 s scrape and rule interval). It scrapes the
stack's ingestapi, worker, searchapi and cdnapi and the session's MinIO and Milvus. A short
workload (ingest, search by text and by image, similar, bytes twice, a 404) runs twice: a series
appears with its first values, so only the second run moves the rates. Then each panel query must
be valid and return a finite number, and each rule must be valid and evaluate without error.
"""

from __future__ import annotations

import json
import shutil
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest

from shared.domain import image_id_of
from tests.observability.promql import (
    PrometheusAPI,
    finite_samples,
    panel_queries,
    render_native_config,
    rule_queries,
    rules,
)
from tests.support.images import encode, picture
from tests.support.processes import ManagedProcess, free_port, http_ok, wait_until
from tests.support.servers import MINIO_PASSWORD, MINIO_USER, Servers
from tests.support.stack import Stack, wait_for_job

# The first test pays for the servers, the whole stack, Prometheus and two workload runs.
pytestmark = pytest.mark.timeout(600)
INTERVAL_S = 1
# Grafana's $__rate_interval, here long enough to hold both runs of the workload however slow the
# machine: a ratio panel over a window with no traffic is 0/0, which reads as "no data".
WINDOW = "10m"
JOBS = {"ingestapi", "searchapi", "cdnapi", "ingestworker", "minio", "milvus", "prometheus"}
COLOURS = [(220, 30, 30), (30, 30, 220)]


def _address(url: str) -> str:
    return str(urlsplit(url).netloc)


def _milvus_metrics(servers: Servers) -> str:
    """The metrics port tools/milvusd.py chose for the session's Milvus (kept in its data dir)."""
    argv = servers.milvus.argv
    ports = json.loads((Path(argv[argv.index("--data") + 1]) / "ports.json").read_text())
    return f"127.0.0.1:{ports['metrics_port']}"


def _workload(stack: Stack, run: int) -> None:
    with (
        stack.client("ingestapi") as ingest,
        stack.client("searchapi") as search,
        stack.client("cdnapi") as cdn,
    ):
        ids = []
        for n, colour in enumerate(COLOURS):
            data = encode(picture(40 + 2 * run, 30 + n, colour), "PNG")
            response = ingest.post("/api/v1/ingest", files=[("files", (f"{run}-{n}.png", data))])
            [job] = response.json()["jobs"]
            assert wait_for_job(ingest, stack.urls["ingestapi"], job["job_id"])["state"] == "done"
            ids.append(image_id_of(data))
        for text in ("a red square", "a red square", "a blue square"):  # a miss, a hit, a miss
            assert search.get("/api/v1/image/search", params={"text": text}).status_code == 200
        by_image = search.post("/api/v1/image/search", files=[("file", ("q.png", data))])
        assert by_image.status_code == 200
        assert search.get(f"/api/v1/image/{ids[0]}/similar").status_code == 200
        assert search.get(f"/api/v1/image/{'0' * 64}").status_code == 404
        for image_id in ids:
            for path in (f"/images/{image_id}", f"/images/{image_id}/thumb") * 2:
                assert cdn.get(path).status_code == 200, path


def _scraped_twice_since(api: PrometheusAPI, moment: float) -> bool:
    """Every job's latest scrape began an interval after ``moment`` and got its figures: two
    scrapes since. Each job is asked for by name: Prometheus scrapes a target first a few seconds
    after it is ready, and a job never scraped has no ``up`` at all, so a check over the ``up``
    that exist passes without it (its first sample would then hold both runs, and no rate move).
    A scrape can time out on a loaded machine (a worker busy embedding); one that did holds no
    samples, so the figures since ``moment`` would be missing from every rate."""
    latest: dict[str, tuple[float, bool]] = {}  # job: (time, up) of its latest scrape
    for series in api.query(f"up[{10 * INTERVAL_S}s]")["data"]["result"]:
        when, value = series["values"][-1]
        latest[series["metric"]["job"]] = (float(when), value == "1")
    return set(latest) == JOBS and all(
        up and when >= moment + INTERVAL_S + 0.5 for when, up in latest.values()
    )


@pytest.fixture(scope="module")
def stack(stack_factory: Any) -> Iterator[Stack]:
    stack: Stack = stack_factory("observe")
    stack.start_system()
    yield stack
    stack.stop_all()


@pytest.fixture(scope="module")
def prometheus(
    stack: Stack, servers: Servers, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[PrometheusAPI]:
    work = tmp_path_factory.mktemp("prometheus")
    address = f"127.0.0.1:{free_port()}"
    targets = {
        "ingestapi": _address(stack.urls["ingestapi"]),
        "searchapi": _address(stack.urls["searchapi"]),
        "cdnapi": _address(stack.urls["cdnapi"]),
        "ingestworker": f"127.0.0.1:{stack.processes['worker'].env['WORKER__HTTP_PORT']}",
        "minio": servers.minio_endpoint,
        "milvus": _milvus_metrics(servers),
    }
    config = render_native_config(
        work / "prometheus.yml",
        *[f"--target={job}={target}" for job, target in targets.items()],
        f"--interval={INTERVAL_S}s",
        f"--listen={address}",
        f"--minio-user={MINIO_USER}",
        f"--minio-password={MINIO_PASSWORD}",
    )
    binary = shutil.which("prometheus")
    assert binary, "prometheus is missing: make test installs Debian's package"
    argv = [
        binary,
        f"--config.file={config}",
        f"--storage.tsdb.path={work / 'data'}",
        f"--web.listen-address={address}",
    ]
    proc = ManagedProcess("prometheus", argv, servers.log_dir).start()
    proc.wait_ready(lambda: http_ok(f"http://{address}/-/ready"), 60)
    api = PrometheusAPI(f"http://{address}")
    yield api
    api.close()
    proc.stop()


@pytest.fixture(scope="module")
def observed(stack: Stack, prometheus: PrometheusAPI) -> PrometheusAPI:
    """Prometheus after the workload ran twice, each run seen by two scrapes of every target."""
    for run in (1, 2):
        _workload(stack, run)
        done = time.time()
        wait_until(lambda: _scraped_twice_since(prometheus, done), 60, "two scrapes")  # noqa: B023

    def evaluated() -> bool:
        return all(rule["health"] != "unknown" for rule in prometheus.rules())

    wait_until(evaluated, 60, "every rule evaluated")
    return prometheus


def test_prometheus_scrapes_every_part_of_the_stack(observed: PrometheusAPI) -> None:
    health = {t["labels"]["job"]: (t["health"], t["lastError"]) for t in observed.targets()}
    assert set(health) == JOBS
    assert {job: h for job, h in health.items() if h[0] != "up"} == {}


def test_every_dashboard_panel_returns_data(observed: PrometheusAPI) -> None:
    problems = []
    for query in panel_queries(WINDOW):
        answer = observed.query(query.expr)
        if answer["status"] != "success":
            problems.append(f"{query.where}: {answer.get('error')}")
        elif not finite_samples(answer):
            problems.append(f"{query.where}: no data ({query.expr})")
    assert problems == []


def test_every_rule_is_valid_and_evaluates(observed: PrometheusAPI) -> None:
    invalid = {
        query.where: answer.get("error")
        for query in rule_queries()
        if (answer := observed.query(query.expr))["status"] != "success"
    }
    assert invalid == {}
    loaded = {rule["name"]: (rule["health"], rule.get("lastError")) for rule in observed.rules()}
    assert set(loaded) == {rule.get("alert") or rule["record"] for rule in rules()}
    assert {name: h for name, h in loaded.items() if h[0] != "ok"} == {}


def test_a_query_for_nothing_or_a_broken_one_is_told_apart(observed: PrometheusAPI) -> None:
    assert finite_samples(observed.query("no_such_metric_total")) == []
    assert finite_samples(observed.query("max(job_records) / 0 - max(job_records) / 0")) == []
    assert observed.query("rate(up[1m]")["status"] == "error"
