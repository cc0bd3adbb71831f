"""Test pictures made in code: valid images of every accepted format and every bad-input class."""

from __future__ import annotations

import io
import struct
import zlib

from PIL import ExifTags, Image


def encode(image: Image.Image, fmt: str, **options: object) -> bytes:
    out = io.BytesIO()
    image.save(out, format=fmt, **options)
    return out.getvalue()


def picture(
    width: int = 64, height: int = 48, colour: tuple[int, int, int] = (200, 30, 30)
) -> Image.Image:
    image = Image.new("RGB", (width, height), colour)
    for x in range(0, width, 4):  # some structure, so formats do not all compress to nothing
        image.putpixel((x, x % height), (x % 256, 255 - x % 256, 128))
    return image


def jpeg_with_exif(orientation: int = 6) -> bytes:
    """A 64x48 JPEG whose EXIF says: rotate 90° (orientation 6), Canon, taken, with GPS."""
    exif = Image.Exif()
    exif[ExifTags.Base.Make] = "Canon"
    exif[ExifTags.Base.Model] = "EOS 5D"
    exif[ExifTags.Base.Orientation] = orientation
    exif.get_ifd(ExifTags.IFD.Exif)[ExifTags.Base.DateTimeOriginal] = "2024:05:06 07:08:09"
    gps = exif.get_ifd(ExifTags.IFD.GPSInfo)
    gps[ExifTags.GPS.GPSLatitudeRef] = "S"
    gps[ExifTags.GPS.GPSLatitude] = (33.0, 51.0, 36.0)
    gps[ExifTags.GPS.GPSLongitudeRef] = "E"
    gps[ExifTags.GPS.GPSLongitude] = (151.0, 12.0, 36.0)
    return encode(picture(64, 48), "JPEG", exif=exif, quality=90)


def truncated(data: bytes, keep: float = 0.6) -> bytes:
    return data[: int(len(data) * keep)]


def _png_chunk(kind: bytes, payload: bytes) -> bytes:
    body = kind + payload
    return struct.pack(">I", len(payload)) + body + struct.pack(">I", zlib.crc32(body))


def png_bomb_header(width: int = 60000, height: int = 60000) -> bytes:
    """A tiny, well-formed PNG whose header claims ``width`` x ``height`` pixels."""
    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    idat = zlib.compress(b"\x00" * 64)
    return (
        b"\x89PNG\r\n\x1a\n"
        + _png_chunk(b"IHDR", ihdr)
        + _png_chunk(b"IDAT", idat)
        + _png_chunk(b"IEND", b"")
    )
