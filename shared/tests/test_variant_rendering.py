"""Rendering variants with Pillow: sizes, crops, formats, orientation, colour profiles, animation,
watermarks and the pixel cap, each read back by decoding what was rendered."""

from __future__ import annotations

import io
import struct
from typing import Any

import numpy as np
import pytest
from PIL import Image, ImageChops, ImageDraw

from shared.errors import ImageTooLarge, InvalidImage, InvalidInput
from shared.variants import RenderedVariant, VariantParams, render
from tests.support.images import encode, jpeg_with_exif, marked_corner, marked_jpeg, picture

MAX_PIXELS = 50_000_000


def rendered(data: bytes, max_pixels: int = MAX_PIXELS, **raw: Any) -> RenderedVariant:
    return render(data, VariantParams.model_validate(raw), max_pixels)


def decoded(variant: RenderedVariant) -> Image.Image:
    image = Image.open(io.BytesIO(variant.data))
    assert (image.width, image.height) == (variant.width, variant.height)
    return image


def photo_3000x2000() -> bytes:
    """White, with black bands 100 px wide at the left and right edges (outside any 4:3 crop)."""
    image = Image.new("RGB", (3000, 2000), (250, 250, 250))
    draw = ImageDraw.Draw(image)
    draw.rectangle((0, 0, 99, 1999), fill=(0, 0, 0))
    draw.rectangle((2900, 0, 2999, 1999), fill=(0, 0, 0))
    draw.ellipse((1000, 500, 2000, 1500), fill=(200, 40, 40))
    return encode(image, "JPEG", quality=90)


def test_a_3000x2000_jpeg_becomes_an_800x600_grey_cover_webp() -> None:
    variant = rendered(
        photo_3000x2000(), width=800, height=600, fit="cover", format="webp", grayscale=True
    )

    image = decoded(variant)
    assert (image.format, variant.mime, image.size) == ("WEBP", "image/webp", (800, 600))
    pixels = np.asarray(image.convert("RGB"), dtype=int)
    assert int(np.ptp(pixels, axis=2).max()) <= 2  # grey: red, green and blue (nearly) equal
    # Cover scales 3000x2000 to 900x600 and crops 50 px off each side: the black bands are gone.
    assert pixels[:, :5].mean() > 200 and pixels[:, -5:].mean() > 200
    assert pixels[300, 400].mean() < 200  # the (now grey) disc in the middle is still there


@pytest.mark.parametrize(
    ("fmt", "pil_format", "mime"),
    [
        ("jpeg", "JPEG", "image/jpeg"),
        ("png", "PNG", "image/png"),
        ("webp", "WEBP", "image/webp"),
        ("avif", "AVIF", "image/avif"),
    ],
)
def test_every_format_decodes_as_what_its_mime_type_says(
    fmt: str, pil_format: str, mime: str
) -> None:
    variant = rendered(encode(picture(300, 200), "PNG"), width=150, format=fmt)
    assert (decoded(variant).format, variant.mime, variant.width, variant.height) == (
        pil_format,
        mime,
        150,
        100,
    )


@pytest.mark.parametrize("fit", ["contain", "fill"])
def test_contain_keeps_the_aspect_and_fill_stretches(fit: str) -> None:
    variant = rendered(encode(picture(300, 200), "PNG"), width=100, height=100, fit=fit)
    assert decoded(variant).size == ((100, 67) if fit == "contain" else (100, 100))


def test_lower_quality_makes_a_smaller_file() -> None:
    data = photo_3000x2000()
    assert len(rendered(data, width=800, format="jpeg", quality=30).data) < len(
        rendered(data, width=800, format="jpeg", quality=95).data
    )


@pytest.mark.parametrize("width", [None, 300])  # as stored, and through a scaled JPEG decode
def test_exif_orientation_is_applied(width: int | None) -> None:
    data = marked_jpeg(orientation=6, width=1600, height=1200)
    variant = rendered(data, width=width, format="png")
    image = decoded(variant)
    assert image.size == ((1200, 1600) if width is None else (300, 400))
    assert marked_corner(image) == "top-right"  # turned clockwise, as orientation 6 says


def test_no_metadata_of_the_original_is_copied() -> None:
    variant = rendered(jpeg_with_exif(orientation=1), format="jpeg")
    assert not decoded(variant).getexif()


def _swapped_primaries_profile() -> bytes:
    """An RGB display profile (ICC v2, matrix/TRC) whose red primary is sRGB's blue and whose
    blue is sRGB's red: pixels stored red *mean* blue."""
    srgb_d50 = {
        "r": (0.4361, 0.2225, 0.0139),
        "g": (0.3851, 0.7169, 0.0971),
        "b": (0.1431, 0.0606, 0.7141),
    }

    def xyz(values: tuple[float, ...]) -> bytes:
        return b"XYZ \0\0\0\0" + b"".join(struct.pack(">i", round(v * 65536)) for v in values)

    gamma = b"curv\0\0\0\0" + struct.pack(">IH", 1, round(2.2 * 256)) + b"\0\0"
    tags = [
        (b"wtpt", xyz((0.9642, 1.0, 0.8249))),
        (b"rXYZ", xyz(srgb_d50["b"])),
        (b"gXYZ", xyz(srgb_d50["g"])),
        (b"bXYZ", xyz(srgb_d50["r"])),
        (b"rTRC", gamma),
        (b"gTRC", gamma),
        (b"bTRC", gamma),
    ]
    offset = 128 + 4 + 12 * len(tags)
    table, body = b"", b""
    for signature, data in tags:
        table += signature + struct.pack(">II", offset + len(body), len(data))
        body += data
    size = offset + len(body)
    header = struct.pack(
        ">I4sI4s4s4s12s4s",
        size,
        b"lcms",
        0x02100000,
        b"mntr",
        b"RGB ",
        b"XYZ ",
        b"\0" * 12,
        b"acsp",
    )
    header += b"\0" * 28 + xyz((0.9642, 1.0, 0.8249))[8:] + b"\0" * 48
    return header + struct.pack(">I", len(tags)) + table + body


@pytest.mark.parametrize("fmt", ["jpeg", "png", "webp"])
def test_an_embedded_colour_profile_is_converted_to_srgb_and_dropped(fmt: str) -> None:
    stored_red = encode(
        Image.new("RGB", (64, 64), (255, 0, 0)), "PNG", icc_profile=_swapped_primaries_profile()
    )

    image = decoded(rendered(stored_red, format=fmt))

    red, green, blue = image.convert("RGB").getpixel((32, 32))
    assert blue > 200 and red < 60 and green < 60  # the profile said this red is sRGB's blue
    assert not image.info.get("icc_profile")


def test_a_broken_colour_profile_is_read_as_srgb() -> None:
    data = encode(Image.new("RGB", (16, 16), (255, 0, 0)), "PNG", icc_profile=b"not a profile")
    red, green, blue = decoded(rendered(data, format="png")).getpixel((8, 8))
    assert (red, green, blue) == (255, 0, 0)


def test_a_cmyk_jpeg_renders_in_rgb() -> None:
    cmyk = encode(Image.new("CMYK", (64, 64), (0, 255, 255, 0)), "JPEG", quality=95)  # red ink
    image = decoded(rendered(cmyk, width=32, format="png"))
    red, green, blue = image.getpixel((16, 16))
    assert image.mode == "RGB" and red > 200 and green < 60 and blue < 60


def test_sixteen_bit_grey_is_scaled_to_eight_bits_not_clipped() -> None:
    data = encode(Image.new("I;16", (32, 32), 40_000), "PNG")
    red, green, blue = decoded(rendered(data, format="png")).convert("RGB").getpixel((16, 16))
    assert red == green == blue == round(40_000 / 257)


def test_an_animated_gif_renders_its_first_frame() -> None:
    frames = [Image.new("RGB", (40, 30), colour) for colour in ((255, 0, 0), (0, 0, 255))]
    out = io.BytesIO()
    frames[0].save(out, format="GIF", save_all=True, append_images=frames[1:], duration=100, loop=0)

    image = decoded(rendered(out.getvalue(), format="webp"))

    assert getattr(image, "n_frames", 1) == 1
    red, green, blue = image.convert("RGB").getpixel((20, 15))
    assert red > 200 and blue < 60


@pytest.mark.parametrize(
    ("fmt", "clear"), [("png", (0, 0, 0, 0)), ("webp", (0, 0, 0, 0)), ("jpeg", (255, 255, 255))]
)
def test_transparency_is_kept_where_the_format_has_it_and_white_in_jpeg(
    fmt: str, clear: tuple[int, ...]
) -> None:
    image = Image.new("RGBA", (64, 64), (0, 0, 0, 0))
    image.paste((0, 128, 0, 255), (40, 40, 64, 64))  # clear of the first 16x16 JPEG block

    result = decoded(rendered(encode(image, "PNG"), format=fmt))

    pixel = result.convert("RGB" if fmt == "jpeg" else "RGBA").getpixel((4, 4))
    assert all(abs(a - b) <= 3 for a, b in zip(pixel, clear, strict=True))
    assert result.convert("RGB").getpixel((52, 52))[1] > 100  # the green square stays


REGIONS = {  # where in a 400x300 picture each watermark position must change pixels
    "top-left": (0, 0, 200, 150),
    "top-right": (200, 0, 400, 150),
    "bottom-left": (0, 150, 200, 300),
    "bottom-right": (200, 150, 400, 300),
    "center": (100, 75, 300, 225),
}


@pytest.mark.parametrize("position", list(REGIONS))
def test_a_watermark_marks_its_corner_and_nothing_else(position: str) -> None:
    data = encode(Image.new("RGB", (400, 300), (90, 120, 150)), "PNG")
    plain = decoded(rendered(data, format="png")).convert("RGB")

    marked = decoded(
        rendered(data, format="png", watermark={"text": "© Ada 2026", "position": position})
    )

    changed = ImageChops.difference(plain, marked.convert("RGB")).getbbox()
    assert changed is not None
    left, top, right, bottom = REGIONS[position]
    assert left <= changed[0] and top <= changed[1] and changed[2] <= right and changed[3] <= bottom


def test_a_long_watermark_on_a_narrow_picture_stays_inside_it() -> None:
    data = encode(Image.new("RGB", (120, 400), (90, 120, 150)), "PNG")
    plain = decoded(rendered(data, format="png")).convert("RGB")
    marked = decoded(
        rendered(data, format="png", watermark={"text": "W" * 20, "position": "top-left"})
    )
    changed = ImageChops.difference(plain, marked.convert("RGB")).getbbox()
    assert changed is not None and changed[0] > 0 and changed[2] < 120


def test_a_variant_over_the_pixel_cap_is_refused() -> None:
    data = encode(picture(100, 100), "PNG")
    with pytest.raises(InvalidInput, match="limit"):
        rendered(data, max_pixels=20_000, width=200, height=200)
    assert rendered(data, max_pixels=20_000, width=100).width == 100


def test_an_original_over_the_pixel_cap_never_decodes() -> None:
    with pytest.raises(ImageTooLarge):
        rendered(encode(picture(300, 300), "PNG"), max_pixels=10_000, width=50)


def test_bytes_that_are_not_an_image_are_invalid() -> None:
    with pytest.raises(InvalidImage):
        rendered(b"not an image at all", width=50)
