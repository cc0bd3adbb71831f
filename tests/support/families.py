"""Families of near-duplicate pictures, made in code, for the perceptual hash and duplicate search.

A picture is one coloured shape of a class ("a red circle") drawn large over a gradient
background with grain, plus a few smaller shapes of other colours: pictures of the same class
share colour and shape but not their layout. A family is one such picture and its copies as a
library gathers them: re-encoded (JPEG quality 60), resized (50 %), lightly cropped (5 % of each
side's length, split between the two edges) and stored turned with an EXIF Orientation tag that
turns it back upright.
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass

from PIL import ExifTags, Image, ImageDraw

from imagesearch_samples.shapes import COLOURS, SHAPES, ShapeSpec
from tests.support.images import encode

# EXIF Orientation -> how the stored pixels are turned from upright (Pillow's rotate: degrees
# counter-clockwise), so a viewer applying the tag shows the picture upright again.
_TURNS = {3: 180, 6: 90, 8: 270}
_MIN_CONTRAST = 130.0  # least RGB distance between the class's shape and its background
RGB = tuple[int, int, int]


@dataclass(frozen=True)
class Copy:
    family: int
    spec: ShapeSpec
    kind: str  # original | reencoded | resized | cropped | rotated
    data: bytes
    filename: str


def _background_colour(rng: random.Random, avoid: RGB) -> RGB:
    while True:
        r, g, b = (rng.randint(0, 255) for _ in range(3))
        if math.dist((r, g, b), avoid) >= _MIN_CONTRAST:
            return (r, g, b)


def _gradient(size: tuple[int, int], rng: random.Random, avoid: RGB) -> Image.Image:
    first, second = _background_colour(rng, avoid), _background_colour(rng, avoid)
    side = 2 * max(size)
    ramp = Image.linear_gradient("L").resize((side, side)).rotate(rng.uniform(0, 360))
    left, top = (side - size[0]) // 2, (side - size[1]) // 2
    ramp = ramp.crop((left, top, left + size[0], top + size[1]))
    return Image.composite(Image.new("RGB", size, second), Image.new("RGB", size, first), ramp)


def _draw(
    draw: ImageDraw.ImageDraw,
    shape: str,
    centre: tuple[float, float],
    radius: float,
    colour: RGB,
    angle: float,
) -> None:
    cx, cy = centre
    if shape == "circle":
        draw.ellipse((cx - radius, cy - radius, cx + radius, cy + radius), fill=colour)
        return
    corners = {"square": 4, "triangle": 3, "star": 10}[shape]
    radii = [radius, radius * 0.45] if shape == "star" else [radius]
    points = [
        (
            cx + radii[i % len(radii)] * math.cos(angle + 2 * math.pi * i / corners),
            cy + radii[i % len(radii)] * math.sin(angle + 2 * math.pi * i / corners),
        )
        for i in range(corners)
    ]
    draw.polygon(points, fill=colour)


def picture(spec: ShapeSpec, seed: int, size: tuple[int, int] = (384, 288)) -> Image.Image:
    """One picture of ``spec``'s class; another ``seed`` gives another layout."""
    rng = random.Random(seed)
    image = _gradient(size, rng, COLOURS[spec.colour])
    draw = ImageDraw.Draw(image)
    short = min(size)
    for _ in range(rng.randint(2, 4)):  # smaller shapes of other colours
        colour = rng.choice([c for name, c in COLOURS.items() if name != spec.colour])
        centre = (rng.uniform(0, size[0]), rng.uniform(0, size[1]))
        radius = rng.uniform(0.08, 0.16) * short
        _draw(draw, rng.choice(SHAPES), centre, radius, colour, rng.uniform(0, 2 * math.pi))
    radius = rng.uniform(0.2, 0.3) * short
    centre = (rng.uniform(radius, size[0] - radius), rng.uniform(radius, size[1] - radius))
    _draw(draw, spec.shape, centre, radius, COLOURS[spec.colour], rng.uniform(0, 2 * math.pi))
    # Grain from ``rng`` (Image.effect_noise would use C's rand(), the same on no two runs).
    grain = Image.frombytes("L", size, rng.randbytes(size[0] * size[1])).convert("RGB")
    return Image.blend(image, grain, rng.uniform(0.05, 0.15))


def cropped(image: Image.Image, share: float, rng: random.Random) -> Image.Image:
    """``share`` of the width and of the height cut off, split at random between both edges."""
    width, height = image.size
    cut_x, cut_y = round(width * share), round(height * share)
    left, top = rng.randint(0, cut_x), rng.randint(0, cut_y)
    return image.crop((left, top, left + width - cut_x, top + height - cut_y))


def stored_turned(image: Image.Image, orientation: int) -> bytes:
    """A JPEG whose pixels are turned and whose EXIF Orientation tag turns them back upright."""
    exif = Image.Exif()
    exif[ExifTags.Base.Orientation] = orientation
    turned = image.rotate(_TURNS[orientation], expand=True)
    return encode(turned, "JPEG", quality=90, exif=exif)


def family(number: int, spec: ShapeSpec, seed: int) -> list[Copy]:
    """The original (PNG) and its four copies."""
    original = picture(spec, seed)
    rng = random.Random(seed + 1)
    width, height = original.size
    made = {
        "original": encode(original, "PNG"),
        "reencoded": encode(original, "JPEG", quality=60),
        "resized": encode(
            original.resize((width // 2, height // 2), Image.Resampling.LANCZOS), "PNG"
        ),
        "cropped": encode(cropped(original, 0.05, rng), "JPEG", quality=90),
        "rotated": stored_turned(original, rng.choice(list(_TURNS))),
    }
    slug = spec.label.replace(" ", "-")
    suffix = {"original": "png", "resized": "png"}
    return [
        Copy(number, spec, kind, data, f"{slug}-{number:03d}-{kind}.{suffix.get(kind, 'jpg')}")
        for kind, data in made.items()
    ]
