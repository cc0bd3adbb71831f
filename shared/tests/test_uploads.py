"""The streaming multipart receiver, fed real multipart bodies in small chunks."""

import asyncio
from collections.abc import AsyncIterator

import httpx
import pytest

from shared.domain import image_id_of
from shared.errors import FileTooLarge, InvalidInput
from shared.spool import safe_filename
from shared.uploads import Multipart, receive_files


def _multipart(
    files: list[tuple[str, str, bytes]], extra: dict[str, str] | None = None
) -> tuple[str, bytes]:
    request = httpx.Request(
        "POST",
        "http://x/",
        files=[(field, (name, data)) for field, name, data in files],
        data=extra,
    )
    return request.headers["content-type"], request.read()


async def _chunks(body: bytes, size: int = 1000) -> AsyncIterator[bytes]:
    for start in range(0, len(body), size):
        yield body[start : start + size]


def _receive(
    body: bytes,
    content_type: str,
    max_bytes: int = 10_000,
    max_files: int = 10,
    declared: int | None = None,
):
    return _receive_all(body, content_type, max_bytes, max_files, declared).files


def _receive_all(
    body: bytes,
    content_type: str,
    max_bytes: int = 10_000,
    max_files: int = 10,
    declared: int | None = None,
) -> Multipart:
    return asyncio.run(
        receive_files(
            content_type,
            declared,
            _chunks(body, 7),
            field_name="files",
            max_bytes=max_bytes,
            max_files=max_files,
            text_fields=("tags",),
        )
    )


def test_text_fields_are_collected_beside_the_files() -> None:
    request = httpx.Request(
        "POST",
        "http://x/",
        files=[("files", ("a.jpg", b"A" * 50))],
        data={"tags": ["beach, summer", "2024"], "other": "ignored"},
    )
    received = _receive_all(request.read(), request.headers["content-type"])
    assert received.texts == {"tags": ["beach, summer", "2024"]}
    assert [f.filename for f in received.files] == ["a.jpg"]


def test_a_text_field_over_its_cap_is_refused() -> None:
    content_type, body = _multipart([("files", "a.jpg", b"A")], {"tags": "x" * 5000})
    with pytest.raises(InvalidInput, match="longer than"):
        _receive_all(body, content_type)


def test_receives_each_file_with_its_digest() -> None:
    a, b = b"A" * 5000, b"B" * 7000
    content_type, body = _multipart([("files", "a.jpg", a), ("files", "b.png", b)])
    received = _receive(body, content_type)
    assert [(f.filename, f.size, f.digest) for f in received] == [
        ("a.jpg", 5000, image_id_of(a)),
        ("b.png", 7000, image_id_of(b)),
    ]
    assert received[0].file.read() == a


def test_oversize_part_is_flagged_and_not_kept_while_others_survive() -> None:
    content_type, body = _multipart(
        [("files", "big.jpg", b"x" * 10_001), ("files", "ok.jpg", b"y" * 10)]
    )
    big, ok = _receive(body, content_type)
    assert big.too_large and big.file.read() == b""
    assert not ok.too_large and ok.file.read() == b"y" * 10


def test_other_fields_are_ignored() -> None:
    content_type, body = _multipart(
        [("files", "a.jpg", b"a"), ("other", "b.jpg", b"b")], {"note": "hi"}
    )
    assert [f.filename for f in _receive(body, content_type)] == ["a.jpg"]


def test_too_many_files_is_invalid() -> None:
    content_type, body = _multipart([("files", f"{i}.jpg", b"a") for i in range(3)])
    with pytest.raises(InvalidInput, match="at most 2 files"):
        _receive(body, content_type, max_files=2)


def test_declared_length_over_request_cap_fails_before_reading() -> None:
    content_type, body = _multipart([("files", "a.jpg", b"a")])
    with pytest.raises(FileTooLarge):
        _receive(body, content_type, max_bytes=10, max_files=1, declared=10**9)


def test_streamed_body_over_request_cap_fails() -> None:
    content_type, body = _multipart([("files", "a.jpg", b"a" * 100_000)])
    with pytest.raises(FileTooLarge):
        _receive(body, content_type, max_bytes=1000, max_files=1)


def test_not_multipart_is_invalid() -> None:
    with pytest.raises(InvalidInput, match="multipart/form-data"):
        _receive(b"{}", "application/json")


def test_malformed_multipart_is_invalid() -> None:
    with pytest.raises(InvalidInput, match="malformed"):
        _receive(b"--nope\r\ngarbage", "multipart/form-data; boundary=xyz")


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("../../etc/passwd", "passwd"),
        ("C:\\photos\\cat.jpg", "cat.jpg"),
        ("", "upload"),
        ("a\x00b.png", "ab.png"),
    ],
)
def test_safe_filename(raw: str, expected: str) -> None:
    assert safe_filename(raw) == expected
