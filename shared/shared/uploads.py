"""Streaming multipart receiver (``web`` extra): file parts are spooled as they arrive.

Starlette's form parser spools whole files before the route runs; here the byte cap is enforced
while the body streams (``shared.spool``): a part over the cap stops being kept (the rest of it is
read and dropped) and is reported as too large, without sinking the other parts of the request.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

from python_multipart.multipart import MultipartParser, parse_options_header
from starlette.requests import Request

from shared.errors import FileTooLarge, InvalidInput
from shared.spool import ReceivedFile, safe_filename

PART_OVERHEAD = 16 * 1024
MAX_TEXT_BYTES = 4096  # one text field (a tag list), kept in memory
MAX_TEXT_FIELDS = 64


@dataclass
class Multipart:
    """A multipart body as received: its file parts (spooled) and its short text fields."""

    files: list[ReceivedFile]
    texts: dict[str, list[str]] = field(default_factory=dict)

    def close(self) -> None:
        for part in self.files:
            part.close()


class _PartCollector:
    def __init__(
        self, field_name: str, max_bytes: int, max_files: int, text_fields: tuple[str, ...]
    ) -> None:
        self.field_name = field_name
        self.max_bytes = max_bytes
        self.max_files = max_files
        self.text_fields = text_fields
        self.files: list[ReceivedFile] = []
        self.texts: dict[str, list[str]] = {}
        self._text: tuple[str, bytearray] | None = None
        self._headers: dict[bytes, bytes] = {}
        self._header_field = b""
        self._header_value = b""
        self._current: ReceivedFile | None = None

    def on_part_begin(self) -> None:
        self._headers = {}
        self._current = None
        self._text = None

    def on_header_field(self, data: bytes, start: int, end: int) -> None:
        self._header_field += data[start:end]

    def on_header_value(self, data: bytes, start: int, end: int) -> None:
        self._header_value += data[start:end]

    def on_header_end(self) -> None:
        self._headers[self._header_field.lower()] = self._header_value
        self._header_field = self._header_value = b""

    def on_headers_finished(self) -> None:
        _, options = parse_options_header(self._headers.get(b"content-disposition", b""))
        name = options.get(b"name", b"").decode("utf-8", "replace")
        filename = options.get(b"filename")
        if filename is None and name in self.text_fields:
            if sum(map(len, self.texts.values())) >= MAX_TEXT_FIELDS:
                raise InvalidInput(f"at most {MAX_TEXT_FIELDS} text fields per request")
            self._text = (name, bytearray())
            return
        if name != self.field_name or filename is None:
            return  # other fields are ignored
        if len(self.files) >= self.max_files:
            raise InvalidInput(f"at most {self.max_files} files per request")
        filename_text = safe_filename(filename.decode("utf-8", "replace"))
        self._current = ReceivedFile(filename_text, self.max_bytes)
        self.files.append(self._current)

    def on_part_data(self, data: bytes, start: int, end: int) -> None:
        if self._current is not None:
            self._current.write(data[start:end])
        elif self._text is not None:
            name, value = self._text
            value += data[start:end]
            if len(value) > MAX_TEXT_BYTES:
                raise InvalidInput(f"the field `{name}` is longer than {MAX_TEXT_BYTES} bytes")

    def on_part_end(self) -> None:
        if self._current is not None:
            self._current.rewind()
        if self._text is not None:
            name, value = self._text
            self.texts.setdefault(name, []).append(value.decode("utf-8", "replace"))
        self._current = None
        self._text = None


def request_cap(max_bytes: int, max_files: int) -> int:
    """The most bytes a multipart request of ``max_files`` files of ``max_bytes`` may carry."""
    return max_files * (max_bytes + PART_OVERHEAD)


async def receive_files(
    content_type: str,
    content_length: int | None,
    body: AsyncIterator[bytes],
    *,
    field_name: str,
    max_bytes: int,
    max_files: int,
    text_fields: tuple[str, ...] = (),
) -> Multipart:
    """Parse a multipart body as it streams in: the ``field_name`` file parts and the
    ``text_fields`` (other parts are ignored). The caller closes what it returns."""
    kind, options = parse_options_header(content_type)
    boundary = options.get(b"boundary")
    if kind != b"multipart/form-data" or not boundary:
        raise InvalidInput("send the images as multipart/form-data, one `files` part per image")
    # The whole request is bounded too, so a client cannot stream forever.
    cap = request_cap(max_bytes, max_files)
    if content_length is not None and content_length > cap:
        raise FileTooLarge(f"the request is larger than {cap} bytes")
    collector = _PartCollector(field_name, max_bytes, max_files, text_fields)
    parser = MultipartParser(
        boundary,
        {
            "on_part_begin": collector.on_part_begin,
            "on_part_data": collector.on_part_data,
            "on_part_end": collector.on_part_end,
            "on_header_field": collector.on_header_field,
            "on_header_value": collector.on_header_value,
            "on_header_end": collector.on_header_end,
            "on_headers_finished": collector.on_headers_finished,
        },
    )
    received = 0
    try:
        async for chunk in body:
            received += len(chunk)
            if received > cap:
                raise FileTooLarge(f"the request is larger than {cap} bytes")
            parser.write(chunk)
        parser.finalize()
    except Exception as exc:
        for part in collector.files:
            part.close()
        if isinstance(exc, InvalidInput):
            raise
        raise InvalidInput("the multipart body is malformed") from exc
    return Multipart(collector.files, collector.texts)


async def receive_request_files(
    request: Request,
    *,
    field_name: str,
    max_bytes: int,
    max_files: int,
    text_fields: tuple[str, ...] = (),
) -> Multipart:
    """``receive_files`` over a Starlette request's headers and body stream."""
    length = request.headers.get("content-length", "")
    return await receive_files(
        request.headers.get("content-type", ""),
        int(length) if length.isdigit() else None,
        request.stream(),
        field_name=field_name,
        max_bytes=max_bytes,
        max_files=max_files,
        text_fields=text_fields,
    )


def multipart_openapi(
    field_name: str, many: bool, texts: dict[str, str] | None = None
) -> dict[str, Any]:
    """OpenAPI for a route that reads its multipart body itself (no FastAPI form parameters);
    ``texts`` names its optional text fields with their descriptions."""
    binary = {"type": "string", "format": "binary"}
    schema = {"type": "array", "items": binary, "minItems": 1} if many else binary
    properties: dict[str, Any] = {field_name: schema}
    for name, description in (texts or {}).items():
        properties[name] = {  # one part, or several: each is text on the wire
            "type": ["array", "string"],
            "items": {"type": "string"},
            "description": description,
        }
    body = {"type": "object", "properties": properties, "required": [field_name]}
    return {"requestBody": {"content": {"multipart/form-data": {"schema": body}}, "required": True}}
