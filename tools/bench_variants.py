"""``python tools/bench_variants.py``: how long the worker takes to render each variant the page
offers, from a 3000x2000 JPEG (the median of a few runs, in this process, one core's work).

Decoding, resizing, colour conversion and encoding are all counted; object storage and the queue
are not (``make bench-ingest`` measures the way through them).
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from PIL import Image, ImageDraw  # noqa: E402

from shared.variants import VariantParams, render  # noqa: E402
from tests.support.images import encode  # noqa: E402

MAX_PIXELS = 50_000_000
PRESETS: dict[str, dict[str, Any]] = {  # the page's "Download as…" choices
    "JPEG 1600 px, contain, q85": {"width": 1600, "height": 1600, "format": "jpeg"},
    "WebP 800x600, cover": {"width": 800, "height": 600, "fit": "cover", "format": "webp"},
    "PNG, original size": {"format": "png"},
    "JPEG 1024 px, grayscale": {
        "width": 1024,
        "height": 1024,
        "format": "jpeg",
        "grayscale": True,
    },
}


def photo(width: int = 3000, height: int = 2000) -> bytes:
    """A photo-like JPEG: smooth gradients with some detail, so codecs have real work."""
    image = Image.linear_gradient("L").resize((width, height)).convert("RGB")
    draw = ImageDraw.Draw(image)
    for n in range(0, width, 37):
        draw.line((n, 0, width - n, height), fill=(n % 256, 90, 255 - n % 256), width=3)
    draw.ellipse((width // 3, height // 4, 2 * width // 3, 3 * height // 4), fill=(200, 60, 40))
    return encode(image, "JPEG", quality=90)


def median_ms(data: bytes, params: VariantParams, runs: int) -> tuple[float, int]:
    times, size = [], 0
    for _ in range(runs):
        started = time.perf_counter()
        size = len(render(data, params, MAX_PIXELS).data)
        times.append((time.perf_counter() - started) * 1000)
    return statistics.median(times), size


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()

    data = photo()
    render(data, VariantParams(width=64), MAX_PIXELS)  # warm up: codecs and fonts load once
    print(f"variant render time, 3000x2000 JPEG ({len(data) / 1e6:.1f} MB), median of {args.runs}")
    print(f"{'preset':<28} {'ms':>8} {'bytes':>10}")
    for name, raw in PRESETS.items():
        ms, size = median_ms(data, VariantParams.model_validate(raw), args.runs)
        print(f"{name:<28} {ms:>8.1f} {size:>10,}")


if __name__ == "__main__":
    main()
