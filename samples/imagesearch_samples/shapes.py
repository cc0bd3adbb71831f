"""Captioned pictures of coloured shapes, drawn with Pillow only.

Used to train the tiny CLIP checkpoint (``tools/train_tiny_clip.py``), by service tests, by
``imgsearch demo`` and by CLI tests. Everything is deterministic for a given ``random.Random`` or
seed.
"""

from __future__ import annotations

import colorsys
import math
import random
from dataclasses import dataclass
from pathlib import Path

from PIL import Image, ImageChops, ImageDraw

SHAPES: tuple[str, ...] = ("circle", "square", "triangle", "star")
COLOURS: dict[str, tuple[int, int, int]] = {
    "red": (215, 25, 35),
    "green": (30, 170, 50),
    "blue": (30, 70, 225),
    "yellow": (245, 220, 20),
    "purple": (140, 40, 185),
    "orange": (250, 120, 10),
}
SIZES: tuple[str, ...] = ("small", "large")
# Shape "radius" as a fraction of the image side, per size class.
_RADIUS = {"small": (0.10, 0.17), "large": (0.24, 0.34)}
# Circumradius multipliers giving the shapes roughly equal visual weight.
_SCALE = {"circle": 1.0, "square": 1.2, "triangle": 1.3, "star": 1.35}
# Least Euclidean RGB distance between the shape colour and any background colour.
_MIN_BG_DISTANCE = 130.0
_SUPERSAMPLE = 3

RGB = tuple[int, int, int]


@dataclass(frozen=True)
class ShapeSpec:
    shape: str
    colour: str
    size: str = "large"  # "small" | "large"

    def __post_init__(self) -> None:
        if self.shape not in SHAPES or self.colour not in COLOURS or self.size not in SIZES:
            raise ValueError(f"unknown shape spec: {self.shape!r} {self.colour!r} {self.size!r}")

    @property
    def label(self) -> str:
        """Class label, e.g. ``"red circle"`` (size is not part of the class)."""
        return f"{self.colour} {self.shape}"

    @property
    def caption(self) -> str:
        """Canonical caption, e.g. ``"a red circle"``: the query the tests search with."""
        return f"a {self.label}"

    @property
    def sized_caption(self) -> str:
        """Caption naming the size class, e.g. ``"a small red circle"``."""
        return f"a {self.size} {self.label}"

    @property
    def captions(self) -> tuple[str, str]:
        """All captions that describe this picture (used for training)."""
        return (self.caption, self.sized_caption)


def all_specs() -> list[ShapeSpec]:
    """One spec per colour x shape class (size "large"), in a fixed order."""
    return [ShapeSpec(shape, colour) for colour in COLOURS for shape in SHAPES]


def _jitter(colour: RGB, rng: random.Random, amount: int) -> RGB:
    r, g, b = (min(255, max(0, c + rng.randint(-amount, amount))) for c in colour)
    return (r, g, b)


def _background_colour(rng: random.Random, avoid: RGB) -> RGB:
    while True:
        kind = rng.choice(("light", "dark", "grey", "pastel"))
        if kind == "pastel":
            hsv = (rng.random(), rng.uniform(0.12, 0.35), rng.uniform(0.85, 1.0))
            r, g, b = colorsys.hsv_to_rgb(*hsv)
            colour = (round(r * 255), round(g * 255), round(b * 255))
        else:
            lo, hi = {"light": (205, 250), "dark": (5, 60), "grey": (75, 185)}[kind]
            v = rng.randint(lo, hi)
            colour = _jitter((v, v, v), rng, 10)
        if math.dist(colour, avoid) >= _MIN_BG_DISTANCE:
            return colour


def _background(rng: random.Random, size: int, avoid: RGB) -> Image.Image:
    first = _background_colour(rng, avoid)
    if rng.random() < 0.6:
        return Image.new("RGB", (size, size), first)
    second = _background_colour(rng, avoid)
    ramp = Image.linear_gradient("L").resize((2 * size, 2 * size), Image.Resampling.BILINEAR)
    ramp = ramp.rotate(rng.uniform(0, 360), resample=Image.Resampling.BILINEAR)
    ramp = ramp.crop((size // 2, size // 2, size // 2 + size, size // 2 + size))
    end = Image.new("RGB", ramp.size, second)
    return Image.composite(end, Image.new("RGB", ramp.size, first), ramp)


def _polygon(
    shape: str, cx: float, cy: float, radius: float, angle: float
) -> list[tuple[float, float]]:
    if shape == "square":
        corners, radii = 4, [radius]
    elif shape == "triangle":
        corners, radii = 3, [radius]
    else:  # star: alternate outer and inner vertices
        corners, radii = 10, [radius, radius * 0.45]
    return [
        (
            cx + radii[i % len(radii)] * math.cos(angle + 2 * math.pi * i / corners),
            cy + radii[i % len(radii)] * math.sin(angle + 2 * math.pi * i / corners),
        )
        for i in range(corners)
    ]


def render(spec: ShapeSpec, rng: random.Random, image_size: int = 128) -> Image.Image:
    """Draw ``spec`` on a random background; returns an RGB image of ``image_size`` square."""
    base = COLOURS[spec.colour]
    image = _background(rng, image_size, base)
    lo, hi = _RADIUS[spec.size]
    radius = rng.uniform(lo, hi) * image_size
    extent = radius * _SCALE[spec.shape]
    margin = extent + 0.03 * image_size
    cx, cy = (rng.uniform(margin, image_size - margin) for _ in range(2))

    big = image_size * _SUPERSAMPLE
    mask = Image.new("L", (big, big), 0)
    draw = ImageDraw.Draw(mask)
    k = _SUPERSAMPLE
    if spec.shape == "circle":
        box = (k * (cx - radius), k * (cy - radius), k * (cx + radius), k * (cy + radius))
        draw.ellipse(box, fill=255)
    else:
        angle = rng.uniform(0, 2 * math.pi)
        draw.polygon(_polygon(spec.shape, k * cx, k * cy, k * extent, angle), fill=255)
    mask = mask.reduce(k)

    image.paste(_jitter(base, rng, 12), (0, 0, image_size, image_size), mask)
    if rng.random() < 0.35:  # grain; from ``rng`` (Image.effect_noise would use C's rand())
        amount = rng.uniform(0.05, 0.2)
        grain = Image.frombytes("L", image.size, rng.randbytes(image_size * image_size))
        grain = grain.point(lambda v: round(128 + (v - 128) * amount)).convert("RGB")
        image = ImageChops.add(image, grain, offset=-128)
    return image


def sample_spec(index: int) -> ShapeSpec:
    """Spec of sample ``index``: cycles through all colour x shape classes, sizes alternating."""
    classes = all_specs()
    cls = classes[index % len(classes)]
    size = SIZES[(index // len(classes) + index) % len(SIZES)]
    return ShapeSpec(cls.shape, cls.colour, size)


def samples(n: int, seed: int, image_size: int = 128) -> list[tuple[ShapeSpec, Image.Image]]:
    """``n`` captioned pictures, deterministic for ``seed``; picture ``i`` does not depend on n."""
    out = []
    for i in range(n):
        spec = sample_spec(i)
        out.append((spec, render(spec, random.Random(seed * 1_000_003 + i), image_size)))
    return out


_EXTENSIONS = {"JPEG": ".jpg", "PNG": ".png", "WEBP": ".webp", "TIFF": ".tiff", "GIF": ".gif"}


def save_samples(
    directory: str | Path, n: int, seed: int, fmt: str = "PNG", image_size: int = 128
) -> list[Path]:
    """Write ``samples(n, seed)`` to ``directory`` as e.g. ``red-circle-0007.png``."""
    folder = Path(directory)
    folder.mkdir(parents=True, exist_ok=True)
    fmt = fmt.upper().replace("JPG", "JPEG")
    suffix = _EXTENSIONS.get(fmt, "." + fmt.lower())
    paths = []
    for i, (spec, image) in enumerate(samples(n, seed, image_size)):
        path = folder / f"{spec.colour}-{spec.shape}-{i:04d}{suffix}"
        image.save(path, fmt, **({"quality": 90} if fmt in ("JPEG", "WEBP") else {}))
        paths.append(path)
    return paths
