"""Write the environment ``make dev`` runs the stack with (data/dev.env), choosing the model.

The production model (ViT-B-32, laion2b_s34b_b79k) is used when its weights are in the cache
or can be fetched now; otherwise the stack starts with the tiny demo model trained on coloured
shapes, and this says so loudly. The services themselves never switch models on their own.
"""

from __future__ import annotations

import argparse
import multiprocessing
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PRODUCTION = ("ViT-B-32", "laion2b_s34b_b79k")
TINY = ("tiny-shapes", "shared/shared/assets/tiny-shapes.safetensors")
FETCH_TIMEOUT_S = 600


def _fetch(name: str, pretrained: str, cache_dir: str) -> None:
    import open_clip

    open_clip.create_model_and_transforms(name, pretrained=pretrained, cache_dir=cache_dir)


def production_weights_available(cache_dir: Path) -> bool:
    """Load (and if needed download) the production weights in a child process, bounded in time."""
    child = multiprocessing.get_context("spawn").Process(
        target=_fetch, args=(*PRODUCTION, str(cache_dir))
    )
    child.start()
    child.join(FETCH_TIMEOUT_S)
    if child.is_alive():
        child.kill()
        return False
    return child.exitcode == 0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=ROOT / "data" / "dev.env")
    parser.add_argument("--model", choices=["auto", "production", "tiny"], default="auto")
    args = parser.parse_args()

    cache_dir = ROOT / "data" / "models"
    cache_dir.mkdir(parents=True, exist_ok=True)
    use_production = args.model == "production" or (
        args.model == "auto" and production_weights_available(cache_dir)
    )
    name, weights = PRODUCTION if use_production else TINY
    args.out.write_text(
        f"MODEL__NAME={name}\nMODEL__PRETRAINED={weights}\nMODEL__CACHE_DIR={cache_dir}\n"
    )
    if not use_production:
        banner = "!" * 78
        print(
            f"\n{banner}\n"
            f"  DEMO MODEL: the {PRODUCTION[0]} weights are not cached and could not be fetched.\n"
            "  Starting with the tiny model trained on coloured shapes: it understands\n"
            "  'a red circle', not your photos. `make demo` loads sample pictures.\n"
            f"  With internet, `make dev` fetches {PRODUCTION[0]}; then `make reindex`.\n"
            f"{banner}\n",
            file=sys.stderr,
        )
    print(f"model: {name} ({weights})", file=sys.stderr)


if __name__ == "__main__":
    main()
