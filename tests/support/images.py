"""Test pictures made in code: valid images of every accepted format and every bad-input class."""

from __future__ import annotations

import io
import random
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


MARKER = (230, 20, 20)
CORNERS = ("top-left", "top-right", "bottom-right", "bottom-left")


def marked_jpeg(orientation: int, width: int = 64, height: int = 48) -> bytes:
    """A grey JPEG with a red block in the top-left corner of its *stored* pixels, EXIF-tagged.

    Where the block lands after decoding says which way the picture was turned, which its
    dimensions alone cannot (90° one way or the other gives the same size).
    """
    image = Image.new("RGB", (width, height), (128, 128, 128))
    image.paste(MARKER, (0, 0, width // 4, height // 4))
    exif = Image.Exif()
    exif[ExifTags.Base.Orientation] = orientation
    return encode(image, "JPEG", exif=exif, quality=95)


def marked_corner(image: Image.Image) -> str:
    """The corner of ``image`` that holds the red marker block (see ``marked_jpeg``)."""
    rgb = image.convert("RGB")
    width, height = rgb.size
    near_x, near_y = width // 16, height // 16  # well inside the block, clear of JPEG edge ringing
    far_x, far_y = width - 1 - near_x, height - 1 - near_y
    probes = [(near_x, near_y), (far_x, near_y), (far_x, far_y), (near_x, far_y)]
    red = [name for name, xy in zip(CORNERS, probes, strict=True) if _is_marker(rgb.getpixel(xy))]
    assert len(red) == 1, f"expected the marker in exactly one corner, found {red or 'none'}"
    return red[0]


def _is_marker(pixel: tuple[int, int, int]) -> bool:
    r, g, b = pixel
    return r > 180 and g < 80 and b < 80


def noise(width: int, height: int, seed: int = 0) -> Image.Image:
    """Random pixels: a valid picture that compresses to about 3 bytes per pixel in any format."""
    return Image.frombytes(
        "RGB", (width, height), random.Random(seed).randbytes(width * height * 3)
    )
