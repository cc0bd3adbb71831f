"""Both APIs answer what their OpenAPI documents say, under a fuzzer (schemathesis).

One stack (ingestapi, a worker, searchapi) with a seeded image, job and variant, so generated
requests reach the answers that need something to exist, not only 404s. schemathesis runs every
check over every operation, authenticated as the admin (writes and admin routes are exercised),
with a bounded number of cases per operation, a fixed seed and no example database or crash
cache, so a run is repeatable. Any 5xx, answer outside the schema, undocumented status or content
type, schema-valid request refused or schema-violating one accepted fails the test. One operation
is left out: revoking an API key, since the fuzzer reads the key list and would revoke its own.

Rate limits are off on this stack: the 429 answers are declared, but a fuzzer counting against
them would see little else. searchapi runs first, since ingestapi's run deletes images.
"""

from __future__ import annotations

import json
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.support.figures import Figures
from tests.support.images import encode, picture
from tests.support.processes import VENV_BIN, wait_until
from tests.support.stack import Stack, wait_for_job

MAX_EXAMPLES = 20
SEED = 20261130
RUN_TIMEOUT_S = 240
# One: with more, hypothesis parses lambdas' source on several threads at once, which the
# CPython 3.11 here cannot do ("AST constructor recursion depth mismatch", gh-106905).
WORKERS = "1"


@pytest.fixture(scope="module")
def stack(stack_factory: Any) -> Iterator[Stack]:
    stack = stack_factory("contract")
    api_env = {"RATE_LIMIT__ENABLED": "false"}
    with stack.starting_together():
        stack.start_ingestapi(INGEST__URL_TIMEOUT_S="2", **api_env)
        stack.start_worker()
        stack.start_searchapi(**api_env)
    yield stack
    stack.stop_all()


@pytest.fixture(scope="module")
def seeded(stack: Stack) -> dict[str, str]:
    """An ingested image, its job and a rendered variant: the ids the fuzzer is given."""
    with stack.client("ingestapi") as ingest:
        files = {"files": ("seed.png", encode(picture(96, 64), "PNG"), "image/png")}
        accepted = ingest.post("/api/v1/ingest", files=files)
        assert accepted.status_code == 202, accepted.text
        [job] = accepted.json()["jobs"]
        assert wait_for_job(ingest, "", job["job_id"])["state"] == "done"
        asked = ingest.post(f"/api/v1/ingest/images/{job['image_id']}/variants", json={"width": 32})
        assert asked.status_code in (200, 202), asked.text
    variant_id = asked.json()["variant_id"]
    with stack.client("searchapi") as search:
        wait_until(
            lambda: _variant_done(search, job["image_id"], variant_id), 60, "the seeded variant"
        )
    return {"image_id": job["image_id"], "job_id": job["job_id"], "variant_id": variant_id}


def _variant_done(search: httpx.Client, image_id: str, variant_id: str) -> bool:
    variants = search.get(f"/api/v1/image/{image_id}/variants").json()["variants"]
    return any(v["variant_id"] == variant_id and v["state"] == "done" for v in variants)


# Half the generated ids are the seeded ones, the rest whatever the fuzzer makes. Some inputs are
# judged past what a schema can say, so a well-formed one may still be refused with its documented
# problem: a cursor this service never gave out, a tag that is not one once normalised, a camera
# whose host resolves outside the camera networks (400); a file that is not an image (415, 422), a
# URL on a private host or that nobody can fetch (400, 422); a variant's whole number written
# `21.0` (422: its parameters are strict, and JSON Schema calls 21.0 an integer).
CONFIG = """
[cache]
enabled = false  # no crash files replayed from an earlier run, none left in the tree

[dictionaries.image_ids]
values = ["{image_id}"]

[dictionaries.job_ids]
values = ["{job_id}"]

[dictionaries.variant_ids]
values = ["{variant_id}"]

[parameters]
"path.image_id" = {{ dictionary = "image_ids", probability = 0.5 }}
"path.job_id" = {{ dictionary = "job_ids", probability = 0.5 }}
"query.variant" = {{ dictionary = "variant_ids", probability = 0.5 }}

# The fuzzer lists keys, and would revoke its own with what it read.
[[operations]]
include-name = "DELETE /api/v1/admin/keys/{{prefix}}"
enabled = false

[[operations]]
include-path-regex = "^/api/v1/(image(/duplicates|/[^/]+/tags)?|cameras(/[^/]+)?|ingest/rtsp)$"
checks.positive_data_acceptance.expected-statuses = {judged}

[[operations]]
include-name = "POST /api/v1/ingest/images/{{image_id}}/variants"
checks.positive_data_acceptance.expected-statuses = {strict}

[[operations]]
include-path-regex = "^/api/v1/(ingest|ingest/url|image/search)$"
checks.positive_data_acceptance.expected-statuses = {uploaded}
"""
ACCEPTED = ["2xx", "3xx", "401", "403", "404", "409", "429"]
JUDGED = [*ACCEPTED, "400"]
UPLOADED = [*JUDGED, "413", "415", "422"]
STRICT = [*ACCEPTED, "422"]


def _config(tmp_path: Path, seeded: dict[str, str]) -> Path:
    path = tmp_path / "schemathesis.toml"
    statuses = {"judged": JUDGED, "uploaded": UPLOADED, "strict": STRICT}
    text = CONFIG.format(**seeded, **{k: json.dumps(v) for k, v in statuses.items()})
    path.write_text(text)
    return path


def _fuzz(stack: Stack, service: str, config: Path, report: Path) -> tuple[int, str]:
    """Run schemathesis over one service; its exit code and its output."""
    argv = [
        str(VENV_BIN / "st"),
        "--config-file",
        str(config),
        "--no-color",
        "run",
        f"{stack.urls[service]}/openapi.json",
        "--checks",
        "all",
        "--phases",
        "examples,coverage,fuzzing",
        "--max-examples",
        str(MAX_EXAMPLES),
        "--seed",
        str(SEED),
        "--generation-database",
        "none",
        "--workers",
        WORKERS,
        "--request-timeout",
        "30",
        "--header",
        f"Authorization: Bearer {stack.admin_key}",
        "--report",
        "ndjson",
        "--report-ndjson-path",
        str(report),
    ]
    done = subprocess.run(
        argv, capture_output=True, text=True, timeout=RUN_TIMEOUT_S, check=False, cwd=report.parent
    )
    return done.returncode, done.stdout + done.stderr


def _counts(report: Path) -> tuple[int, int]:
    """(requests sent, distinct failures found) from schemathesis's event stream."""
    requests, failures = 0, set()
    for line in report.read_text().splitlines():
        scenario = json.loads(line).get("ScenarioFinished")
        if scenario is None:
            continue
        recorder = scenario["recorder"]
        requests += len(recorder.get("interactions", {}))
        for check in (c for checks in recorder.get("checks", {}).values() for c in checks):
            if check["status"] == "failure":
                failure = check["failure_info"]["failure"]
                failures.add((failure["operation"], failure["code"], failure["message"]))
    return requests, len(failures)


@pytest.mark.timeout(2 * RUN_TIMEOUT_S + 120)  # two runs, and the stack's start
def test_both_apis_answer_as_their_openapi_documents_say_under_a_fuzzer(
    stack: Stack, seeded: dict[str, str], tmp_path: Path, figures: Figures
) -> None:
    config = _config(tmp_path, seeded)
    lines, outputs = [], []
    for service in ("searchapi", "ingestapi"):
        started = time.monotonic()
        report = tmp_path / f"{service}.ndjson"
        code, output = _fuzz(stack, service, config, report)
        requests, failures = _counts(report)
        lines.append(
            f"{service:<10} {requests:>5} requests  {failures:>3} failures  "
            f"{time.monotonic() - started:5.0f} s"
        )
        outputs.append((service, code, output))
    figures.record("API contract (schemathesis)", lines)
    failed = [f"--- {service} (exit {code})\n{output}" for service, code, output in outputs if code]
    assert not failed, "\n".join(failed)
