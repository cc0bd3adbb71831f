"""One upload followed across services by its request id: sent through the front door with an
X-Request-ID of ours, the same id is in ingestapi's log for the request, in the worker's log for
the job it queued, and a following search's own id in searchapi's log. The services run as `make
dev` runs them, behind the real Nginx, and write JSON lines to their log files.
"""

from __future__ import annotations

import json
import uuid
from pathlib import Path
from typing import Any

from tests.support.images import encode, noise
from tests.support.processes import wait_until
from tests.support.stack import Stack, wait_for_job


def _lines_with(log: Path, request_id: str) -> list[dict[str, Any]]:
    """The JSON log lines of a service's log file that carry ``request_id``."""
    found = []
    for line in log.read_text(errors="replace").splitlines():
        if line.startswith("{") and request_id in line:
            entry = json.loads(line)
            if entry.get("request_id") == request_id:
                found.append(entry)
    return found


def _events(stack: Stack, service: str, request_id: str, wanted: str) -> list[dict[str, Any]]:
    """The ``wanted`` lines of ``service`` under ``request_id``, waiting for them to be written."""
    log = stack.processes[service].log_path

    def written() -> list[dict[str, Any]]:
        return [e for e in _lines_with(log, request_id) if e["event"] == wanted]

    return wait_until(written, 30, f"{service}'s '{wanted}' line under {request_id}")


def test_one_upload_is_followed_by_its_request_id_across_services(
    frontdoor_stack: Stack, frontdoor_url: str
) -> None:
    upload_id, search_id = f"upload-{uuid.uuid4().hex}", f"search-{uuid.uuid4().hex}"
    data = encode(noise(96, 64, seed=17), "PNG")
    with frontdoor_stack.client("frontdoor") as client:
        response = client.post(
            "/api/v1/ingest",
            files={"files": ("traced.png", data, "image/png")},
            headers={"X-Request-ID": upload_id},
        )
        assert response.status_code == 202, response.text
        assert response.headers.get_list("X-Request-ID") == [upload_id]
        [job] = response.json()["jobs"]
        assert wait_for_job(client, frontdoor_url, job["job_id"])["state"] == "done"
        search = client.get(
            "/api/v1/image/search", params={"text": "noise"}, headers={"X-Request-ID": search_id}
        )
        assert search.status_code == 200 and search.headers["X-Request-ID"] == search_id

    [upload] = _events(frontdoor_stack, "ingestapi", upload_id, "request")
    assert (upload["method"], upload["path"], upload["status"]) == ("POST", "/api/v1/ingest", 202)
    [indexed] = _events(frontdoor_stack, "worker", upload_id, "indexed")
    assert (indexed["job_id"], indexed["image_id"]) == (job["job_id"], job["image_id"])
    [searched] = _events(frontdoor_stack, "searchapi", search_id, "request")
    assert (searched["path"], searched["status"]) == ("/api/v1/image/search", 200)
    searchapi_log = frontdoor_stack.processes["searchapi"].log_path
    assert _lines_with(searchapi_log, upload_id) == []  # each request keeps its own id
