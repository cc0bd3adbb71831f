"""Slow clients are cut off, through the front door and directly; one address cannot hold many
connections or pull bytes faster than its rate.

One ingestapi (with 2 s header and 3 s body limits) behind a front door with the same limits,
4 connections and 10 byte requests per second (burst 5) per address; searchapi's place is taken
by a stand-in that echoes the forwarding headers, cdnapi's by a closed port (its routes answer
503, which is all the rate tests need). The clients are raw sockets sending one byte per second;
the measured seconds are printed (``-s``) and written to artifacts/slow_clients.txt.
"""

from __future__ import annotations

import json
import select
import threading
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import httpx
import pytest

from shared.http_timeouts import MIN_BODY_RATE
from tests.support.frontdoor import start_frontdoor
from tests.support.processes import ROOT, free_port, wait_until
from tests.support.slow_client import connect, trickle
from tests.support.stack import Stack

HEADER_S = 2
BODY_S = 3
SLACK_S = 1.5  # a loaded two-core test machine
# Nginx's timers go by a millisecond clock it reads once per event-loop turn: they may fire a
# hair before the exact second as this client measures it.
GRAIN_S = 0.02
CONN_PER_ADDR = 4
BYTES_RATE = 10
BYTES_BURST = 5
ARTIFACT = ROOT / "artifacts" / "slow_clients.txt"


@dataclass
class Door:
    url: str
    port: int
    ingestapi_port: int
    ingestapi_log: Path


def forwarding_echo() -> ThreadingHTTPServer:
    """A stand-in service answering with the client-address headers it was sent, or (for
    ``.../limited``) with a 429 of its own."""

    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *_: object) -> None:
            pass

        def do_GET(self) -> None:  # noqa: N802 (the stdlib's name)
            names = ("X-Forwarded-For", "X-Real-IP")
            data = json.dumps({name: self.headers.get_all(name) for name in names}).encode()
            limited = self.path.endswith("/limited")
            self.send_response(429 if limited else 200)
            if limited:
                self.send_header("Retry-After", "42")
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


@pytest.fixture(scope="module")
def door(stack_factory: Any) -> Iterator[Door]:
    stack: Stack = stack_factory("slow-clients")
    ingestapi = stack.start_ingestapi(
        HTTP__HEADER_TIMEOUT_S=str(HEADER_S), HTTP__BODY_TIMEOUT_S=str(BODY_S)
    )
    echo = forwarding_echo()
    limits = {
        "FRONTEND_HEADER_TIMEOUT_S": str(HEADER_S),
        "FRONTEND_BODY_TIMEOUT_S": str(BODY_S),
        "FRONTEND_CONN_PER_ADDR": str(CONN_PER_ADDR),
        "FRONTEND_BYTES_RATE": str(BYTES_RATE),
        "FRONTEND_BYTES_BURST": str(BYTES_BURST),
    }
    proc, url = start_frontdoor(
        ingestapi,
        f"http://127.0.0.1:{echo.server_address[1]}",
        f"http://127.0.0.1:{free_port()}",
        stack.work / "nginx",
        stack.servers.log_dir,
        name=f"{stack.name}-frontdoor",
        limits=limits,
    )
    stack.processes["frontdoor"] = proc
    ingestapi_port = int(ingestapi.rsplit(":", 1)[1])
    yield Door(
        url, int(url.rsplit(":", 1)[1]), ingestapi_port, stack.processes["ingestapi"].log_path
    )
    stack.stop_all()
    echo.shutdown()
    echo.server_close()


@pytest.fixture(scope="module")
def measured() -> Iterator[list[str]]:
    """Lines for artifacts/slow_clients.txt, written when the module is done."""
    lines: list[str] = []
    yield lines
    ARTIFACT.parent.mkdir(parents=True, exist_ok=True)
    ARTIFACT.write_text(
        "Slow clients, measured by tests/e2e/test_slow_clients.py (raw sockets, 127.0.0.1).\n"
        f"Limits: headers {HEADER_S} s, body {BODY_S} s (Nginx: the longest pause between two "
        f"reads; ingestapi: that, and {MIN_BODY_RATE} bytes/s on average), "
        f"{CONN_PER_ADDR} connections and {BYTES_RATE} byte requests/s (burst {BYTES_BURST}) "
        "per address.\n" + "".join(f"{line}\n" for line in lines)
    )


def record(measured: list[str], line: str) -> None:
    print(line)
    measured.append(line)


HEADERS = b"GET /api/v1/auth/me HTTP/1.1\r\nHost: slow\r\nUser-Agent: one-byte-per-second\r\n\r\n"


@pytest.mark.parametrize("through", ["front door", "ingestapi"])
def test_headers_at_one_byte_a_second_are_cut_at_the_header_limit(
    door: Door, measured: list[str], through: str
) -> None:
    port = door.port if through == "front door" else door.ingestapi_port
    with connect(port) as sock:
        cut = trickle(sock, b"", HEADERS, 1.0)
    record(measured, f"headers at 1 byte/s, {through}: closed after {cut.closed_s:.2f} s")
    assert HEADER_S - GRAIN_S <= cut.closed_s <= HEADER_S + SLACK_S
    assert cut.answer == b""  # both just close


def test_a_body_at_one_byte_a_second_is_a_408_from_ingestapi(
    door: Door, measured: list[str]
) -> None:
    # Sign-in is open to anyone and reads its JSON body before anything else happens.
    body = b'{"username": "slow", "password": "one byte per second"}'
    head = (
        b"POST /api/v1/auth/login HTTP/1.1\r\nHost: slow\r\nContent-Type: application/json\r\n"
        b"Content-Length: %d\r\n\r\n" % len(body)
    )
    with connect(door.ingestapi_port) as sock:
        cut = trickle(sock, head, body, 1.0)
    record(
        measured,
        f"body at 1 byte/s, ingestapi: {cut.status_line.decode()} after {cut.answered_s:.2f} s",
    )
    assert BODY_S - GRAIN_S <= cut.answered_s <= BODY_S + SLACK_S
    assert cut.status_line == b"HTTP/1.1 408 Request Timeout"
    assert json.loads(cut.body)["type"] == "urn:imagesearch:problem:request-timeout"


def test_a_body_at_one_byte_a_second_stays_in_the_front_door_until_it_stops(
    door: Door, measured: list[str]
) -> None:
    # Nginx's body limit is a pause between two reads (it has no minimum rate): a body that keeps
    # trickling is held by Nginx, buffered, never seen by the service; one that stops is cut.
    probe = f"/api/v1/ingest/slow-body-{uuid.uuid4().hex}"
    head = f"POST {probe} HTTP/1.1\r\nHost: slow\r\nContent-Length: 100\r\n\r\n".encode()
    with connect(door.port) as sock:
        cut = trickle(sock, head, b"x" * (BODY_S + 2), 1.0)
    pause = cut.closed_s - cut.last_sent_s
    record(
        measured,
        f"body at 1 byte/s for {cut.last_sent_s:.0f} s then silent, front door: closed "
        f"{pause:.2f} s after the last byte (nothing reached ingestapi)",
    )
    assert cut.last_sent_s >= BODY_S + 1  # still open while the bytes kept coming
    assert BODY_S - GRAIN_S <= pause <= BODY_S + SLACK_S
    # A request that does reach ingestapi shows up in its access log; the slow one never did.
    control = f"/api/v1/ingest/control-{uuid.uuid4().hex}"
    httpx.post(f"{door.url}{control}", content=b"x", timeout=10)
    wait_until(lambda: control in door.ingestapi_log.read_text(), 10, "ingestapi to log it")
    assert probe not in door.ingestapi_log.read_text()


def test_a_client_cannot_choose_the_address_the_services_see(door: Door) -> None:
    spoofed = {"X-Forwarded-For": "203.0.113.9", "X-Real-IP": "203.0.113.9"}
    seen = httpx.get(f"{door.url}/api/v1/image/search", headers=spoofed, timeout=10).json()
    assert seen == {"X-Forwarded-For": ["127.0.0.1"], "X-Real-IP": ["127.0.0.1"]}


def test_a_services_own_429_keeps_its_retry_after(door: Door) -> None:
    response = httpx.get(f"{door.url}/api/v1/image/limited", timeout=10)
    assert response.status_code == 429
    assert response.headers.get_list("retry-after") == ["42"]  # Nginx adds none of its own


def is_429_problem(response: httpx.Response) -> bool:
    return (
        response.status_code == 429
        and response.headers["content-type"] == "application/problem+json"
        and response.headers["retry-after"] == "1"
        and response.json()["type"] == "urn:imagesearch:problem:rate-limited"
    )


def test_one_address_is_refused_past_its_connection_limit(door: Door, measured: list[str]) -> None:
    # Each holder's request is in progress: its body is awaited (and cut after BODY_S).
    held = b"POST /api/v1/ingest/held HTTP/1.1\r\nHost: slow\r\nContent-Length: 10\r\n\r\n"
    holders = [connect(door.port) for _ in range(CONN_PER_ADDR)]
    try:
        for sock in holders:
            sock.sendall(held)

        def refused() -> httpx.Response | None:
            response = httpx.get(f"{door.url}/", timeout=5)
            return response if response.status_code == 429 else None

        extra = wait_until(refused, BODY_S - 1, "a connection past the limit to be refused")
        assert is_429_problem(extra)
        assert not select.select(holders, [], [], 0)[0]  # the holders were not refused
        holders.pop().close()
        wait_until(
            lambda: httpx.get(f"{door.url}/", timeout=5).status_code == 200,
            BODY_S - 1,
            "a freed connection to be usable",
        )
    finally:
        for sock in holders:
            sock.close()
    record(measured, f"{CONN_PER_ADDR} connections in use from one address: the next one got 429")


def test_byte_requests_under_the_rate_never_get_429(door: Door) -> None:
    # Half the rate, for longer than the burst could absorb were the rate set lower.
    statuses = []
    with httpx.Client(base_url=door.url, timeout=10) as client:
        for number in range(3 * BYTES_BURST):
            statuses.append(client.get(f"/images/paced-{number}/thumb").status_code)
            time.sleep(2 / BYTES_RATE)  # the pace is what is under test
    assert 429 not in statuses


def test_a_burst_of_byte_requests_over_the_rate_gets_429s(door: Door, measured: list[str]) -> None:
    started = time.monotonic()
    with httpx.Client(base_url=door.url, timeout=10) as client:
        answers = [client.get(f"/images/burst-{number}/thumb") for number in range(40)]
    elapsed = time.monotonic() - started
    limited = [answer for answer in answers if answer.status_code == 429]
    passed = len(answers) - len(limited)
    record(
        measured,
        f"40 byte requests in {elapsed:.2f} s (rate {BYTES_RATE}/s, burst {BYTES_BURST}): "
        f"{passed} passed, {len(limited)} got 429",
    )
    assert all(answer.status_code != 429 for answer in answers[: BYTES_BURST + 1])
    assert passed <= BYTES_BURST + 1 + BYTES_RATE * elapsed + 1
    assert limited and all(is_429_problem(answer) for answer in limited)
