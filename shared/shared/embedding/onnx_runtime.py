"""The OpenCLIP towers exported to ONNX once and run by onnxruntime, in fp32.

The image and the text tower are exported from the loaded model (batch axis dynamic, and the
tokens axis where texts are trimmed: ``text_tower``) into
``<cache_dir>/onnx/<model>-<weights id>-v<EXPORT_VERSION>/``, so new weights, or a new way of
exporting them, get new files, and the same weights are exported once per machine. A cache
entry appears whole or not at all: the towers are exported into a scratch directory beside it and
renamed into place; when two processes export at once, the first rename wins and the other keeps
the winner's files. Untrained weights (``pretrained=""``, a fresh random init on every load) are
never cached: they are exported into a temporary directory that goes once the sessions have read
it. Once the towers of some weights are cached, the embedder builds the model without reading
those weights (``exported``): it needs only the model's shape, transform and tokenizer.
"""

from __future__ import annotations

import re
import shutil
import tempfile
import time
import warnings
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import onnxruntime as ort
import torch

from shared.config import ModelSettings
from shared.embedding.text_tower import TextTower
from shared.logging import get_logger

OPSET = 17
EXPORT_VERSION = 2  # 2: the text tower takes texts trimmed to their tokens
BATCH = {0: "batch"}
TOKENS = {0: "batch", 1: "tokens"}
IMAGE_FILE, TEXT_FILE = "image.onnx", "text.onnx"
log = get_logger(__name__)


class OnnxTowers:
    def __init__(self, directory: Path, settings: ModelSettings, device: str) -> None:
        options = ort.SessionOptions()
        if settings.threads:
            options.intra_op_num_threads = settings.threads
        # Idle pool threads sleep instead of spinning, as OMP_WAIT_POLICY=PASSIVE does for torch:
        # the worker shares a small machine with its job threads and the other services.
        options.add_session_config_entry("session.intra_op.allow_spinning", "0")
        providers = ["CPUExecutionProvider"]
        if device == "cuda":
            providers.insert(0, "CUDAExecutionProvider")
        self._image = ort.InferenceSession(str(directory / IMAGE_FILE), options, providers)
        self._text = ort.InferenceSession(str(directory / TEXT_FILE), options, providers)

    def images(self, pixels: Sequence[np.ndarray]) -> np.ndarray:
        batch = np.stack(pixels).astype(np.float32, copy=False)
        rows: np.ndarray = self._image.run(None, {"pixels": batch})[0]
        return rows

    def texts(self, tokens: np.ndarray) -> np.ndarray:
        rows: np.ndarray = self._text.run(None, {"tokens": tokens})[0]
        return rows


def onnx_towers(
    model: Any,
    examples: tuple[torch.Tensor, torch.Tensor],
    settings: ModelSettings,
    weights: str,
    device: str,
    trims_texts: bool,
    has_weights: bool,
) -> OnnxTowers:
    """Sessions for ``model``'s towers; ``examples`` (pixels, tokens) are batches of two.
    ``model`` is built without its weights (``has_weights`` false) only when they are exported.

    ``model`` is spent afterwards: its weights are freed in place (every reference to it sees
    that) before onnxruntime loads its own copy, so the two copies never weigh on memory at once.
    """
    pixels, tokens = examples

    def export(directory: Path) -> None:
        started = time.monotonic()
        _export(_Tower(model, "encode_image"), pixels, BATCH, "pixels", directory / IMAGE_FILE)
        if trims_texts:
            _export(TextTower(model), tokens, TOKENS, "tokens", directory / TEXT_FILE)
        else:
            _export(_Tower(model, "encode_text"), tokens, BATCH, "tokens", directory / TEXT_FILE)
        log.info("onnx exported", model=settings.name, seconds=round(time.monotonic() - started, 1))

    if not settings.pretrained:
        with tempfile.TemporaryDirectory(prefix="clip-onnx-") as scratch:
            export(Path(scratch))
            model.to("meta")
            return OnnxTowers(Path(scratch), settings, device)
    directory = _export_directory(settings, weights)
    if not has_weights and not directory.is_dir():  # exporting it would cache a random init
        raise RuntimeError(f"the ONNX export in {directory} went while the model loaded")
    if not publish_once(directory, export):
        log.info("onnx cached", model=settings.name, directory=str(directory))
    model.to("meta")
    return OnnxTowers(directory, settings, device)


def exported(settings: ModelSettings, weights: str) -> bool:
    """Whether the towers of these weights are cached (untrained weights never are)."""
    return bool(settings.pretrained) and _export_directory(settings, weights).is_dir()


def _export_directory(settings: ModelSettings, weights: str) -> Path:
    name = f"{settings.name}-{weights}-v{EXPORT_VERSION}"
    return Path(settings.cache_dir) / "onnx" / _file_name(name)


def publish_once(directory: Path, build: Callable[[Path], None]) -> bool:
    """Make ``directory`` with ``build`` unless it exists; whether this call made it."""
    if directory.is_dir():
        return False
    directory.parent.mkdir(parents=True, exist_ok=True)
    scratch = Path(tempfile.mkdtemp(prefix=f".{directory.name}.", dir=directory.parent))
    try:
        build(scratch)
        scratch.chmod(0o755)  # mkdtemp's 0700 would keep other users' services out of the cache
        try:
            scratch.rename(directory)
        except OSError:
            if not directory.is_dir():
                raise
            return False  # another process published first: its files are as good as ours
        return True
    finally:
        shutil.rmtree(scratch, ignore_errors=True)


class _Tower(torch.nn.Module):
    """One of the model's encode functions as a module of its own, for the exporter."""

    def __init__(self, model: torch.nn.Module, encode: str) -> None:
        super().__init__()
        self.model = model
        self._encode = encode

    def forward(self, inputs: torch.Tensor) -> torch.Tensor:
        result: torch.Tensor = getattr(self.model, self._encode)(inputs)
        return result


def _export(
    tower: torch.nn.Module, example: torch.Tensor, axes: dict[int, str], input_name: str, path: Path
) -> None:
    # The legacy (TorchScript) exporter: the dynamo one needs onnxscript. Its warnings are
    # about itself, and about negative indices, which the text tower's argmax never gives.
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        torch.onnx.export(
            tower.eval(),  # a module in training mode would be exported, and left, that way
            (example,),
            str(path),
            dynamo=False,
            opset_version=OPSET,
            input_names=[input_name],
            output_names=["features"],
            dynamic_axes={input_name: axes, "features": BATCH},
        )


def _file_name(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9._-]+", "_", text)
