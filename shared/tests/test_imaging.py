import io

import pytest
from PIL import Image

from shared.errors import ImageTooLarge, InvalidImage, UnsupportedImageType
from shared.imaging import decode_image, inspect_image, make_thumbnail
from tests.support.images import (
    encode,
    jpeg_with_exif,
    marked_corner,
    marked_jpeg,
    picture,
    png_bomb_header,
    truncated,
)

MAX_PIXELS = 50_000_000


@pytest.mark.parametrize("fmt", ["JPEG", "PNG", "WEBP", "GIF", "BMP", "TIFF"])
def test_inspect_accepts_every_supported_format(fmt: str) -> None:
    info = inspect_image(io.BytesIO(encode(picture(64, 48), fmt)), MAX_PIXELS)
    assert (info.format, info.width, info.height) == (fmt, 64, 48)


def test_inspect_sniffs_bytes_not_names() -> None:
    with pytest.raises(UnsupportedImageType, match="not an image"):
        inspect_image(io.BytesIO(b"hello, I am text pretending to be a PNG\n" * 10), MAX_PIXELS)


def test_inspect_rejects_empty_file() -> None:
    with pytest.raises(InvalidImage, match="empty") as caught:
        inspect_image(io.BytesIO(b""), MAX_PIXELS)
    assert caught.value.code == "empty-file"


@pytest.mark.parametrize("fmt", ["PNG", "JPEG", "WEBP", "GIF"])
def test_inspect_rejects_truncated_image(fmt: str) -> None:
    data = encode(picture(400, 300), fmt)
    with pytest.raises(InvalidImage) as caught:
        inspect_image(io.BytesIO(truncated(data)), MAX_PIXELS)
    assert caught.value.code in ("corrupt-image", "unsupported-media-type")


def test_inspect_rejects_pixel_bomb_from_header() -> None:
    with pytest.raises(ImageTooLarge, match="limit"):
        inspect_image(io.BytesIO(png_bomb_header(60000, 60000)), MAX_PIXELS)


def test_inspect_pixel_cap_is_configurable() -> None:
    data = encode(picture(100, 100), "PNG")
    with pytest.raises(ImageTooLarge, match="100x100"):
        inspect_image(io.BytesIO(data), 9_999)
    assert inspect_image(io.BytesIO(data), 10_000).width == 100


# Where the top-left corner of the stored pixels must be seen, per EXIF orientation (EXIF 2.32,
# tag 0x0112), and whether width and height swap. 6 and 8 are the same size but turn opposite ways.
ORIENTATIONS = {
    1: ("top-left", False),
    2: ("top-right", False),  # mirrored left-right
    3: ("bottom-right", False),  # turned 180°
    4: ("bottom-left", False),  # mirrored top-bottom
    5: ("top-left", True),  # mirrored along the main diagonal
    6: ("top-right", True),  # stored turned 90° anticlockwise: shown turned 90° clockwise
    7: ("bottom-right", True),  # mirrored along the other diagonal
    8: ("bottom-left", True),  # shown turned 90° anticlockwise
}


@pytest.mark.parametrize("orientation", ORIENTATIONS)
def test_decode_turns_the_picture_the_way_exif_orientation_says(orientation: int) -> None:
    corner, swapped = ORIENTATIONS[orientation]
    decoded = decode_image(marked_jpeg(orientation, 64, 48), MAX_PIXELS)
    assert marked_corner(decoded.image) == corner
    size = (48, 64) if swapped else (64, 48)
    assert decoded.image.size == (decoded.info.width, decoded.info.height) == size


def test_decode_extracts_exif_metadata() -> None:
    decoded = decode_image(jpeg_with_exif(orientation=6), MAX_PIXELS)
    assert decoded.image.mode == "RGB"
    assert decoded.exif["make"] == "Canon"
    assert decoded.exif["model"] == "EOS 5D"
    assert decoded.exif["orientation"] == 6
    assert decoded.exif["datetime_original"] == "2024:05:06 07:08:09"
    assert decoded.exif["gps"]["latitude"] == pytest.approx(-33.86, abs=1e-6)
    assert decoded.exif["gps"]["longitude"] == pytest.approx(151.21, abs=1e-6)


def test_decode_without_exif_has_empty_metadata() -> None:
    decoded = decode_image(encode(picture(), "PNG"), MAX_PIXELS)
    assert decoded.exif == {}


def test_decode_flattens_transparency_onto_white() -> None:
    image = Image.new("RGBA", (10, 10), (255, 0, 0, 0))
    decoded = decode_image(encode(image, "PNG"), MAX_PIXELS)
    assert decoded.image.getpixel((5, 5)) == (255, 255, 255)


def test_thumbnail_is_webp_with_longest_side_256() -> None:
    thumb = Image.open(io.BytesIO(make_thumbnail(picture(1024, 512))))
    assert thumb.format == "WEBP"
    assert thumb.size == (256, 128)


def test_thumbnail_never_enlarges_small_images() -> None:
    assert Image.open(io.BytesIO(make_thumbnail(picture(100, 50)))).size == (100, 50)


def test_a_large_jpeg_decodes_at_a_reduced_scale_still_at_least_min_side() -> None:
    data = encode(picture(4000, 3000), "JPEG", quality=90)
    decoded = decode_image(data, MAX_PIXELS, min_side=256)
    assert decoded.image.size == (500, 375)  # 1/8: the smallest DCT scale with 375 >= 256
    assert (decoded.info.width, decoded.info.height, decoded.info.format) == (4000, 3000, "JPEG")
    assert min(decode_image(data, MAX_PIXELS, min_side=600).image.size) == 750  # 1/4


@pytest.mark.parametrize("orientation", [1, 3, 6, 8])
def test_a_reduced_decode_turns_the_picture_and_describes_the_full_upright_size(
    orientation: int,
) -> None:
    corner, swapped = ORIENTATIONS[orientation]
    decoded = decode_image(marked_jpeg(orientation, 4000, 3000), MAX_PIXELS, min_side=256)
    assert marked_corner(decoded.image) == corner
    assert decoded.image.size == ((375, 500) if swapped else (500, 375))
    assert (decoded.info.width, decoded.info.height) == ((3000, 4000) if swapped else (4000, 3000))
    assert decoded.exif["orientation"] == orientation


@pytest.mark.parametrize(
    ("data", "size"),
    [
        (encode(picture(600, 400), "JPEG"), (600, 400)),  # under twice min_side: no scale fits
        (encode(picture(2000, 1500), "PNG"), (2000, 1500)),  # only JPEG has a reduced decode
    ],
)
def test_pictures_no_reduced_decode_fits_decode_in_full(data: bytes, size: tuple[int, int]) -> None:
    assert decode_image(data, MAX_PIXELS, min_side=256).image.size == size


def test_a_truncated_large_jpeg_is_refused_at_a_reduced_scale_too() -> None:
    data = truncated(encode(picture(4000, 3000), "JPEG", quality=95))
    with pytest.raises(InvalidImage) as caught:
        decode_image(data, MAX_PIXELS, min_side=256)
    assert caught.value.code == "corrupt-image"
