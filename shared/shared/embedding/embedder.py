"""The one OpenCLIP embedder: images and texts to L2-normalised float32 rows in one space.

Preprocessing and the forward pass are apart. ``preprocess`` runs the model's own transform on one
picture and is safe from many threads, so the worker's job threads do it in parallel;
``embed_preprocessed`` stacks such arrays into one forward pass; ``embed_images`` is the two in a
row. The forward pass runs on a runtime: torch (``torch_runtime``: on CUDA in half precision, the
weights cast once when the model is built) or onnxruntime (``onnx_runtime``: the towers exported
once, fp32); ``auto`` picks onnx on a CPU, torch on CUDA. Tokenising is open_clip's with either,
and texts run only as far as the longest of a batch needs (``text_tower``) where the model allows
it.

torch, open_clip and onnxruntime are imported on first use, so importing this module is cheap;
services that never embed (ingestapi) do not depend on them at all.
"""

from __future__ import annotations

import functools
import os
import threading
from collections.abc import Sequence
from typing import Any, Protocol

import numpy as np
from PIL import Image

from shared.config import ModelSettings
from shared.embedding.models import CLIP_CONFIGS, weights_id
from shared.logging import get_logger
from shared.vector_schema import ModelIdentity

# per forward pass when not configured. On the CPU a picture costs as much at 16 as at 32
# (ViT-B-32: 170 vs 181 core-ms, 2 cores), and half the batch holds half the activations.
BATCH_SIZES = {"cpu": 16, "cuda": 256}
PADDING = 0  # what open_clip's SimpleTokenizer pads texts with
log = get_logger(__name__)


class Towers(Protocol):
    """A runtime's forward passes: float32 features, not yet normalised."""

    def images(self, pixels: Sequence[np.ndarray]) -> np.ndarray: ...

    def texts(self, tokens: np.ndarray) -> np.ndarray: ...


class ClipEmbedder:
    def __init__(self, settings: ModelSettings) -> None:
        self.settings = settings
        self._lock = threading.Lock()
        self._towers: Towers | None = None
        self._transform: Any = None
        self._tokenizer: Any = None
        self._trims_texts = False
        self._identity: ModelIdentity | None = None
        self._input_size = 0

    @property
    def loaded(self) -> bool:
        return self._towers is not None

    @property
    def identity(self) -> ModelIdentity:
        self.load()
        assert self._identity is not None
        return self._identity

    @property
    def runtime(self) -> str:
        """``auto`` is onnx on the CPU (a text embeds ~3x faster there) and torch on CUDA."""
        if self.settings.runtime == "auto":
            return "onnx" if self.device == "cpu" else "torch"
        return self.settings.runtime

    @functools.cached_property
    def device(self) -> str:
        """Where the forward pass runs: ``auto`` is CUDA when torch sees a GPU."""
        return _device(self.settings)

    @property
    def precision(self) -> str:
        if self.runtime == "onnx":
            return "fp32"
        if self.settings.precision == "auto":
            return "fp16" if self.device == "cuda" else "fp32"
        return self.settings.precision

    @property
    def batch_size(self) -> int:
        return self.settings.batch_size or BATCH_SIZES[self.device]

    @property
    def input_size(self) -> int:
        """The side of the square the model's transform makes of any picture."""
        self.load()
        return self._input_size

    def load(self) -> None:
        """Build the model once; safe to call from several threads and more than once."""
        if self._towers is not None:
            return
        with self._lock:
            if self._towers is not None:
                return
            settings, device = self.settings, self.device
            import open_clip
            import torch

            from shared.embedding import text_tower

            if settings.threads:
                torch.set_num_threads(settings.threads)
            open_clip.add_model_config(CLIP_CONFIGS)
            log.info("model loading", model=settings.name, pretrained=settings.pretrained)
            weights = weights_id(settings.pretrained)
            has_weights = self._needs_weights(weights)
            model, _, transform = open_clip.create_model_and_transforms(
                settings.name,
                pretrained=settings.pretrained or None,
                load_weights=has_weights,
                cache_dir=settings.cache_dir,
                device=device if self.runtime == "torch" else "cpu",
                precision=self.precision,
            )
            model.eval()
            self._transform = transform
            self._tokenizer = open_clip.get_tokenizer(settings.name)
            self._trims_texts = text_tower.trims(model, self._tokenizer)
            probe = self._transform(Image.new("RGB", (1, 1)))
            self._input_size = int(probe.shape[-1])
            towers = self._towers_for(model, weights, probe, has_weights)
            dim = int(towers.texts(self._tokens(["a photo"])).shape[1])
            self._identity = ModelIdentity(name=settings.name, weights=weights, dim=dim)
            self._towers = towers
            log.info(
                "model loaded",
                model=self._identity.key,
                runtime=self.runtime,
                precision=self.precision,
                device=device,
                batch_size=self.batch_size,
                input_size=self._input_size,
                dim=dim,
            )

    def preprocess(self, image: Image.Image) -> np.ndarray:
        """``image`` as the model sees it: float32 (3, input_size, input_size)."""
        self.load()
        pixels: np.ndarray = self._transform(image).numpy()
        return pixels

    def embed_preprocessed(self, pixels: Sequence[np.ndarray]) -> np.ndarray:
        """One forward pass over ``preprocess``'s arrays: one normalised row per picture."""
        self.load()
        assert self._towers is not None
        return _normalised(self._towers.images(pixels))

    def embed_images(self, images: list[Image.Image]) -> np.ndarray:
        return self.embed_preprocessed([self.preprocess(image) for image in images])

    def embed_texts(self, texts: list[str]) -> np.ndarray:
        self.load()
        assert self._towers is not None
        return _normalised(self._towers.texts(self._tokens(texts)))

    def _tokens(self, texts: list[str]) -> np.ndarray:
        tokens: np.ndarray = self._tokenizer(texts).numpy()
        return trimmed(tokens) if self._trims_texts else tokens

    def _needs_weights(self, weights: str) -> bool:
        """torch runs the weights; onnx reads them only to export them, once per machine. Not
        reading them again spares a start the checkpoint's copy beside the model's (ViT-B-32:
        a start peaked at 1.98 GB with it, at 1.64 GB without)."""
        if self.runtime == "torch":
            return True
        from shared.embedding.onnx_runtime import exported

        return not exported(self.settings, weights)

    def _towers_for(self, model: Any, weights: str, probe: Any, has_weights: bool) -> Towers:
        """The runtime's towers; ``probe``, one preprocessed picture, is the exporter's example."""
        if self.runtime == "torch":
            from shared.embedding.torch_runtime import TorchTowers

            return TorchTowers(model, self.device, self.precision, self._trims_texts)
        import torch

        from shared.embedding.onnx_runtime import onnx_towers

        tokens = torch.from_numpy(self._tokens(["a photo", "a picture"]))
        examples = (torch.stack([probe, probe]), tokens)
        return onnx_towers(
            model, examples, self.settings, weights, self.device, self._trims_texts, has_weights
        )


def agreement(reference: ClipEmbedder, other: ClipEmbedder, images: list[Image.Image]) -> float:
    """The least cosine between two embedders' rows for the same pictures (1.0: they agree)."""
    cosines = np.sum(reference.embed_images(images) * other.embed_images(images), axis=1)
    return float(cosines.min())


def _device(settings: ModelSettings) -> str:
    # Idle OpenMP threads sleep instead of spinning: beside Milvus and the other services on a
    # small machine, spinning made forward passes many times slower. Read by OpenMP when torch
    # loads, so it must be set first; an explicit setting wins.
    os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
    import torch

    device: str = settings.device
    if device == "auto":
        device = "cuda" if torch.cuda.is_available() else "cpu"
    if device == "cuda" and settings.runtime == "onnx":
        import onnxruntime

        if "CUDAExecutionProvider" not in onnxruntime.get_available_providers():
            log.warning("onnx runs on the CPU: this onnxruntime has no CUDA provider")
            return "cpu"
    return device


def trimmed(tokens: np.ndarray) -> np.ndarray:
    """``tokens`` up to the last column any text of the batch uses (at least one column)."""
    used = np.flatnonzero((tokens != PADDING).any(axis=0))
    width = int(used[-1]) + 1 if used.size else 1
    return tokens[:, :width]


def _normalised(rows: np.ndarray) -> np.ndarray:
    rows = rows.astype(np.float32, copy=False)
    norms = np.linalg.norm(rows, axis=1, keepdims=True)
    normalised: np.ndarray = rows / np.maximum(norms, 1e-12)
    return normalised
