"""The models the project ships or names: OpenCLIP configs, the tiny checkpoint, weights ids."""

from __future__ import annotations

import hashlib
from pathlib import Path

_PACKAGE = Path(__file__).parent.parent  # shared/shared
CLIP_CONFIGS = _PACKAGE / "clip_configs"
TINY_MODEL = "tiny-shapes"
TINY_CHECKPOINT = _PACKAGE / "assets" / "tiny-shapes.safetensors"


def weights_id(pretrained: str) -> str:
    """A tag names itself; a local file is named by its digest, so retrained weights differ."""
    path = Path(pretrained)
    if not path.is_file():
        return pretrained
    digest = hashlib.sha256()
    with path.open("rb") as fp:
        for chunk in iter(lambda: fp.read(1 << 20), b""):
            digest.update(chunk)
    return f"sha256:{digest.hexdigest()[:16]}"
