"""The one OpenCLIP embedder: images and texts to L2-normalised float32 rows in one space.

torch and open_clip are imported on ``load()``, so importing this module is cheap; services that
never embed (ingestapi) do not depend on torch at all.
"""

from __future__ import annotations

import hashlib
import os
import threading
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image

from shared.config import ModelSettings
from shared.logging import get_logger
from shared.vector_schema import ModelIdentity

CLIP_CONFIGS = Path(__file__).parent / "clip_configs"
TINY_MODEL = "tiny-shapes"
TINY_CHECKPOINT = Path(__file__).parent / "assets" / "tiny-shapes.safetensors"
log = get_logger(__name__)


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


class ClipEmbedder:
    def __init__(self, settings: ModelSettings) -> None:
        self.settings = settings
        self._lock = threading.Lock()
        self._model: Any = None
        self._preprocess: Any = None
        self._tokenizer: Any = None
        self._device = "cpu"
        self._identity: ModelIdentity | None = None

    @property
    def loaded(self) -> bool:
        return self._model is not None

    @property
    def identity(self) -> ModelIdentity:
        self.load()
        assert self._identity is not None
        return self._identity

    def load(self) -> None:
        """Build the model once; safe to call from several threads and more than once."""
        if self._model is not None:
            return
        with self._lock:
            if self._model is not None:
                return
            # Idle OpenMP threads sleep instead of spinning: beside Milvus and the other services
            # on a small machine, spinning made forward passes many times slower. Read by OpenMP
            # when torch loads, so it must be set first; an explicit setting wins.
            os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
            import open_clip
            import torch

            if self.settings.threads:
                torch.set_num_threads(self.settings.threads)
            open_clip.add_model_config(CLIP_CONFIGS)
            device = self.settings.device
            if device == "auto":
                device = "cuda" if torch.cuda.is_available() else "cpu"
            log.info(
                "model loading",
                model=self.settings.name,
                pretrained=self.settings.pretrained,
                device=device,
            )
            model, _, preprocess = open_clip.create_model_and_transforms(
                self.settings.name,
                pretrained=self.settings.pretrained or None,
                cache_dir=self.settings.cache_dir,
                device=device,
            )
            model.eval()
            self._tokenizer = open_clip.get_tokenizer(self.settings.name)
            self._preprocess = preprocess
            self._device = device
            self._model = model
            dim = int(self._encode_texts(["a photo"]).shape[1])
            self._identity = ModelIdentity(
                name=self.settings.name, weights=weights_id(self.settings.pretrained), dim=dim
            )
            log.info("model loaded", model=self._identity.key, dim=dim, device=device)

    def embed_images(self, images: list[Image.Image]) -> np.ndarray:
        self.load()
        import torch

        batch = torch.stack([self._preprocess(image) for image in images]).to(self._device)
        with torch.inference_mode():
            return _normalised(self._model.encode_image(batch))

    def embed_texts(self, texts: list[str]) -> np.ndarray:
        self.load()
        return self._encode_texts(texts)

    def _encode_texts(self, texts: list[str]) -> np.ndarray:
        import torch

        tokens = self._tokenizer(texts).to(self._device)
        with torch.inference_mode():
            return _normalised(self._model.encode_text(tokens))


def _normalised(features: Any) -> np.ndarray:
    rows = features.float().cpu().numpy().astype(np.float32)
    norms = np.linalg.norm(rows, axis=1, keepdims=True)
    normalised: np.ndarray = rows / np.maximum(norms, 1e-12)
    return normalised
