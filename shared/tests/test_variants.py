"""Variant parameters: validation, the canonical form, the id it hashes to, and the output size
known before anything decodes. Rendering is in test_variant_rendering.py."""

from __future__ import annotations

import hashlib
from typing import Any

import pytest
from pydantic import ValidationError

from shared.errors import InvalidInput
from shared.variants import (
    VariantParams,
    canonical,
    canonical_json,
    check_output_size,
    output_size,
    variant_id_of,
)

IMAGE = "ab" * 32


def params(**raw: Any) -> VariantParams:
    return VariantParams.model_validate(raw)


def test_defaults_are_filled_in() -> None:
    assert canonical(params(width=800)) == {
        "width": 800,
        "height": None,
        "fit": "contain",
        "format": "webp",
        "quality": 85,
        "grayscale": False,
        "watermark": None,
    }
    marked = canonical(params(watermark={"text": "© Ada"}))["watermark"]
    assert marked == {"text": "© Ada", "position": "bottom-right"}


def test_png_has_no_quality_so_any_quality_is_the_same_variant() -> None:
    assert "quality" not in canonical(params(format="png", quality=10))
    assert variant_id_of(IMAGE, params(format="png", quality=10)) == variant_id_of(
        IMAGE, params(format="png")
    )


def test_the_same_parameters_spelled_differently_name_one_variant() -> None:
    spellings = [
        params(width=800, height=600, format="jpeg"),
        params(format="JPG", height=600, width=800, quality=85),
        params(height=600, width=800, format="jpeg", fit="contain", grayscale=False),
    ]
    assert len({variant_id_of(IMAGE, p) for p in spellings}) == 1


def test_the_canonical_form_reads_back_as_the_same_variant() -> None:
    original = params(width=10, height=20, fit="cover", format="png", watermark={"text": "x"})
    assert variant_id_of(IMAGE, params(**canonical(original))) == variant_id_of(IMAGE, original)


def test_the_variant_id_is_the_sha256_of_the_image_id_and_the_canonical_json() -> None:
    p = params(width=800, height=600, fit="cover", grayscale=True)
    text = (
        '{"fit":"cover","format":"webp","grayscale":true,"height":600,'
        '"quality":85,"watermark":null,"width":800}'
    )
    # Written out, not computed: ids name stored objects, so they must never change.
    assert canonical_json(p) == text
    assert variant_id_of(IMAGE, p) == hashlib.sha256(f"{IMAGE}\n{text}".encode()).hexdigest()


def test_other_images_and_other_parameters_are_other_variants() -> None:
    ids = {
        variant_id_of(IMAGE, params(width=800)),
        variant_id_of("cd" * 32, params(width=800)),
        variant_id_of(IMAGE, params(width=801)),
        variant_id_of(IMAGE, params(width=800, quality=84)),
        variant_id_of(IMAGE, params(width=800, grayscale=True)),
        variant_id_of(IMAGE, params(width=800, watermark={"text": "a"})),
        variant_id_of(IMAGE, params(width=800, watermark={"text": "a", "position": "center"})),
    }
    assert len(ids) == 7


@pytest.mark.parametrize(
    "raw",
    [
        {"width": 0},
        {"width": 8193},
        {"height": -1},
        {"width": "800"},
        {"width": 800.5},
        {"width": True},
        {"grayscale": 1},
        {"grayscale": "yes"},
        {"format": "gif"},
        {"fit": "stretch", "width": 10, "height": 10},
        {"fit": "cover", "width": 10},
        {"fit": "fill", "height": 10},
        {"quality": 0},
        {"quality": 101},
        {"watermark": {"text": ""}},
        {"watermark": {"text": "x" * 65}},
        {"watermark": {"text": "two\nlines"}},
        {"watermark": {"text": "   "}},
        {"watermark": {"text": "x", "position": "middle"}},
        {"watermark": "x"},
        {"widht": 800},
    ],
)
def test_bad_parameters_are_refused(raw: dict[str, Any]) -> None:
    with pytest.raises(ValidationError):
        VariantParams.model_validate(raw)


def test_parameters_read_from_json_as_the_api_receives_them() -> None:
    parsed = VariantParams.model_validate_json('{"width": 800, "format": "avif", "quality": 50}')
    assert (parsed.width, parsed.format, parsed.quality) == (800, "avif", 50)


@pytest.mark.parametrize(
    ("raw", "size"),
    [
        ({}, (3000, 2000)),
        ({"format": "png"}, (3000, 2000)),
        ({"width": 1600}, (1600, 1067)),
        ({"height": 500}, (750, 500)),
        ({"width": 1600, "height": 1600}, (1600, 1067)),
        ({"width": 1000, "height": 200}, (300, 200)),
        ({"width": 6000, "height": 6000}, (6000, 4000)),  # contain fills the box, up or down
        ({"width": 800, "height": 600, "fit": "cover"}, (800, 600)),
        ({"width": 800, "height": 600, "fit": "fill"}, (800, 600)),
        ({"width": 1, "height": 1}, (1, 1)),
    ],
)
def test_output_size_from_the_original_size(raw: dict[str, Any], size: tuple[int, int]) -> None:
    assert output_size(params(**raw), 3000, 2000) == size


def test_a_sliver_never_rounds_to_zero_pixels() -> None:
    assert output_size(params(width=10), 10_000, 1) == (10, 1)


def test_a_variant_over_the_pixel_cap_is_refused_before_decoding() -> None:
    tall = params(width=8000)  # 8000 wide keeps a 1:10 original's aspect: 80,000 high
    with pytest.raises(InvalidInput, match="8000x80000"):
        check_output_size(tall, 100, 1000, max_pixels=50_000_000)
    assert check_output_size(params(width=800), 100, 1000, 50_000_000) == (800, 8000)
