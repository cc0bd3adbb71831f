"""Slow and huge requests sent to each service on its own port (no front door in between): each is
cut off or refused within its bound, and nothing of it is stored.

ingestapi and searchapi run with 2 s header and 3 s body limits and uploads of at most 2 files of
1 MB each (so a request of about 2 MB); cdnapi with a 2 s header limit (it reads no bodies). The
clients are raw sockets; the measured seconds are printed (``-s``) and written to
artifacts/direct_limits.txt.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest

from tests.support.images import encode, picture
from tests.support.processes import ROOT
from tests.support.slow_client import Cut, connect, trickle
from tests.support.stack import Stack

HEADER_S = 2
BODY_S = 3
SLACK_S = 1.5  # a loaded two-core test machine
EARLY_S = 0.02  # the server's clock starts at accept, a moment before the client's
MAX_BYTES = 1_000_000
MAX_FILES = 2
TWO_GB = 2 << 30
BOUNDARY = "direct-limits"
ARTIFACT = ROOT / "artifacts" / "direct_limits.txt"


@dataclass
class Ports:
    ingestapi: int
    searchapi: int
    cdnapi: int


@pytest.fixture(scope="module")
def stack(stack_factory: Any) -> Iterator[Stack]:
    stack: Stack = stack_factory("direct-limits")
    limits = {
        "HTTP__HEADER_TIMEOUT_S": str(HEADER_S),
        "HTTP__BODY_TIMEOUT_S": str(BODY_S),
        "LIMITS__MAX_BYTES": str(MAX_BYTES),
        "INGEST__MAX_FILES": str(MAX_FILES),
    }
    with stack.starting_together():
        stack.start_ingestapi(**limits)
        stack.start_searchapi(**limits)
        stack.start_cdnapi(HTTP__READ_HEADER_TIMEOUT=f"{HEADER_S}s")
    yield stack
    stack.stop_all()


@pytest.fixture(scope="module")
def ports(stack: Stack) -> Ports:
    return Ports(*(int(stack.urls[name].rsplit(":", 1)[1]) for name in Ports.__annotations__))


@pytest.fixture(scope="module")
def measured() -> Iterator[list[str]]:
    lines: list[str] = []
    yield lines
    ARTIFACT.parent.mkdir(parents=True, exist_ok=True)
    ARTIFACT.write_text(
        "Slow and huge requests, each service on its own port, measured by "
        "tests/e2e/test_direct_limits.py (raw sockets, 127.0.0.1).\n"
        f"Limits: headers {HEADER_S} s, body {BODY_S} s, uploads {MAX_FILES} files of "
        f"{MAX_BYTES} bytes.\n" + "".join(f"{line}\n" for line in lines)
    )


def record(measured: list[str], line: str) -> None:
    print(line)
    measured.append(line)


def nothing_stored(stack: Stack) -> None:
    assert list(stack.objects().keys("staging/")) == []
    assert list(stack.objects().keys("originals/")) == []
    assert sum(stack.jobs().counts().values()) == 0


def upload_head(path: str, stack: Stack, length: int | None) -> bytes:
    """A multipart POST's head, with the admin's key; chunked when ``length`` is None."""
    framing = "Transfer-Encoding: chunked" if length is None else f"Content-Length: {length}"
    return (
        f"POST {path} HTTP/1.1\r\nHost: direct\r\nAuthorization: Bearer {stack.admin_key}\r\n"
        f"Content-Type: multipart/form-data; boundary={BOUNDARY}\r\n{framing}\r\n\r\n"
    ).encode()


def one_file(field: str) -> bytes:
    image = encode(picture(), "PNG")
    return (
        (
            f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="{field}"; filename="a.png"\r\n'
            f"Content-Type: image/png\r\n\r\n"
        ).encode()
        + image
        + f"\r\n--{BOUNDARY}--\r\n".encode()
    )


def problem_type(cut: Cut) -> str:
    return str(json.loads(cut.body)["type"]).rsplit(":", 1)[1]


HEADERS = b"GET /healthz HTTP/1.1\r\nHost: slow\r\nUser-Agent: one-byte-per-second\r\n\r\n"


@pytest.mark.parametrize("service", ["ingestapi", "searchapi", "cdnapi"])
def test_headers_at_one_byte_a_second_are_cut_at_the_header_limit(
    ports: Ports, measured: list[str], service: str
) -> None:
    with connect(getattr(ports, service)) as sock:
        cut = trickle(sock, b"", HEADERS, 1.0)
    record(measured, f"headers at 1 byte/s, {service}: closed after {cut.closed_s:.2f} s")
    assert HEADER_S - EARLY_S <= cut.closed_s <= HEADER_S + SLACK_S
    # uvicorn just closes; Go answers its plain 400 to a request it could not read, and closes
    assert (
        cut.answer == b"" if service != "cdnapi" else cut.status_line.endswith(b" 400 Bad Request")
    )


def test_an_image_search_upload_at_one_byte_a_second_is_a_408(
    stack: Stack, ports: Ports, measured: list[str]
) -> None:
    body = one_file("file")
    with connect(ports.searchapi) as sock:
        cut = trickle(sock, upload_head("/api/v1/image/search", stack, len(body)), body, 1.0)
    record(measured, f"search upload at 1 byte/s, searchapi: 408 after {cut.answered_s:.2f} s")
    assert BODY_S - EARLY_S <= cut.answered_s <= BODY_S + SLACK_S
    assert cut.status_line == b"HTTP/1.1 408 Request Timeout"
    assert problem_type(cut) == "request-timeout"


def test_an_upload_shorter_than_its_content_length_is_a_408_and_nothing_is_stored(
    stack: Stack, ports: Ports, measured: list[str]
) -> None:
    body = one_file("files")  # a whole, valid upload; the length promises 100 bytes more
    with connect(ports.ingestapi) as sock:
        cut = trickle(sock, upload_head("/api/v1/ingest", stack, len(body) + 100) + body, b"", 0.1)
    record(measured, f"upload 100 bytes short, ingestapi: 408 after {cut.answered_s:.2f} s")
    assert BODY_S - EARLY_S <= cut.answered_s <= BODY_S + SLACK_S
    assert cut.status_line == b"HTTP/1.1 408 Request Timeout"
    nothing_stored(stack)


@pytest.mark.parametrize(
    ("service", "path"), [("ingestapi", "/api/v1/ingest"), ("searchapi", "/api/v1/image/search")]
)
def test_a_declared_2_gb_upload_is_a_413_at_once_and_nothing_is_stored(
    stack: Stack, ports: Ports, measured: list[str], service: str, path: str
) -> None:
    with connect(getattr(ports, service)) as sock:
        cut = trickle(sock, upload_head(path, stack, TWO_GB), one_file("files")[:200], 0.1)
    record(measured, f"2 GB declared, {service}: 413 after {cut.answered_s:.2f} s")
    assert cut.answered_s <= SLACK_S  # from the headers, not after the body
    assert cut.status_line == b"HTTP/1.1 413 Request Entity Too Large"
    assert problem_type(cut) == "file-too-large"
    nothing_stored(stack)


def test_a_chunked_upload_over_the_limit_is_cut_at_the_limit_and_nothing_is_stored(
    stack: Stack, ports: Ports, measured: list[str]
) -> None:
    piece = 64 << 10
    endless = b"".join(b"%x\r\n%s\r\n" % (piece, b"x" * piece) for _ in range(128))  # 8 MB
    start = one_file("files").split(b"\r\n\r\n", 1)[0] + b"\r\n\r\n"
    head = upload_head("/api/v1/ingest", stack, None) + b"%x\r\n%s\r\n" % (len(start), start)
    with connect(ports.ingestapi) as sock:
        cut = trickle(sock, head, endless, 0.01, piece=piece + 8)
    record(
        measured,
        f"chunked 8 MB upload, ingestapi: 413 after {cut.answered_s:.2f} s, the last byte sent "
        f"at {cut.last_sent_s:.2f} s",
    )
    assert cut.answered_s < cut.last_sent_s  # cut while the body was still coming
    assert cut.status_line == b"HTTP/1.1 413 Request Entity Too Large"
    assert problem_type(cut) == "file-too-large"
    nothing_stored(stack)


def test_cdnapi_refuses_a_request_body_at_once(ports: Ports, measured: list[str]) -> None:
    head = f"GET /images/{'a' * 64} HTTP/1.1\r\nHost: direct\r\nContent-Length: 100\r\n\r\n"
    with connect(ports.cdnapi) as sock:
        cut = trickle(sock, head.encode(), b"x" * 100, 1.0)
    record(measured, f"GET with a body at 1 byte/s, cdnapi: 413 after {cut.answered_s:.2f} s")
    assert cut.answered_s <= SLACK_S
    assert cut.status_line == b"HTTP/1.1 413 Request Entity Too Large"
    assert problem_type(cut) == "file-too-large"
