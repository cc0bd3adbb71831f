import itertools
import math
import random
from collections import Counter
from pathlib import Path

import pytest
from PIL import Image

from imagesearch_samples import shapes

COLOURS, SHAPES, ShapeSpec = shapes.COLOURS, shapes.SHAPES, shapes.ShapeSpec


def test_same_seed_gives_same_pictures() -> None:
    first = shapes.samples(30, seed=7)
    second = shapes.samples(30, seed=7)
    assert [s for s, _ in first] == [s for s, _ in second]
    assert all(a.tobytes() == b.tobytes() for (_, a), (_, b) in zip(first, second, strict=True))


def test_other_seed_gives_other_pictures() -> None:
    a = shapes.samples(24, seed=1)
    b = shapes.samples(24, seed=2)
    assert [s.label for s, _ in a] == [s.label for s, _ in b]  # same classes, new pictures
    assert sum(x.tobytes() != y.tobytes() for (_, x), (_, y) in zip(a, b, strict=True)) == 24


def test_prefix_does_not_depend_on_n() -> None:
    short = shapes.samples(5, seed=3)
    long = shapes.samples(50, seed=3)
    assert all(a.tobytes() == b.tobytes() for (_, a), (_, b) in zip(short, long, strict=False))


def test_every_class_covered_evenly() -> None:
    n = len(SHAPES) * len(COLOURS) * 4
    specs = [s for s, _ in shapes.samples(n, seed=0, image_size=32)]
    counts = Counter((s.colour, s.shape) for s in specs)
    assert set(counts) == set(itertools.product(COLOURS, SHAPES))
    assert set(counts.values()) == {4}
    assert set(Counter(s.size for s in specs).values()) == {n // 2}
    assert {s.label for s in specs[:24]} == {f"{c} {s}" for c in COLOURS for s in SHAPES}


def test_captions_and_label() -> None:
    spec = ShapeSpec("circle", "red", "small")
    assert spec.caption == "a red circle"
    assert spec.label == "red circle"
    assert spec.sized_caption == "a small red circle"
    assert "a red circle" in spec.captions
    assert ShapeSpec("star", "yellow", "large").sized_caption == "a large yellow star"
    with pytest.raises(ValueError):
        ShapeSpec("hexagon", "red", "small")
    with pytest.raises(ValueError):
        ShapeSpec("circle", "pink", "small")


@pytest.mark.parametrize("size", [64, 128, 257])
def test_image_mode_and_size(size: int) -> None:
    for _, image in shapes.samples(8, seed=5, image_size=size):
        assert isinstance(image, Image.Image)
        assert image.mode == "RGB"
        assert image.size == (size, size)


def test_shape_is_drawn_in_its_colour() -> None:
    rng = random.Random(0)
    for spec in shapes.all_specs():
        image = shapes.render(spec, rng)
        target = COLOURS[spec.colour]
        data = image.tobytes()
        close = sum(math.dist(data[i : i + 3], target) < 60 for i in range(0, len(data), 3))
        assert close > 0.01 * 128 * 128, spec


def test_colours_distinct_and_saturated() -> None:
    assert len(COLOURS) >= 6
    assert {"red", "green", "blue", "yellow", "purple", "orange"} <= set(COLOURS)
    for a, b in itertools.combinations(COLOURS.values(), 2):
        assert math.dist(a, b) > 90
    for rgb in COLOURS.values():
        assert max(rgb) - min(rgb) > 120


def test_save_samples(tmp_path: Path) -> None:
    pngs = shapes.save_samples(tmp_path / "png", 10, seed=1)
    jpegs = shapes.save_samples(tmp_path / "jpeg", 3, seed=1, fmt="JPEG", image_size=64)
    assert pngs[7].name == f"{shapes.sample_spec(7).colour}-{shapes.sample_spec(7).shape}-0007.png"
    assert pngs[0].name == "red-circle-0000.png"
    assert [p.suffix for p in jpegs] == [".jpg"] * 3
    with Image.open(jpegs[0]) as image:
        assert image.format == "JPEG" and image.size == (64, 64)
    with Image.open(pngs[0]) as image:
        assert image.tobytes() == shapes.samples(1, seed=1)[0][1].tobytes()
