"""The OpenCLIP towers run by torch, in the precision the model was built in.

On CUDA the pixels are stacked straight into pinned host memory (torch's caching host allocator
keeps those blocks until their copy is done, so nothing is overwritten in flight) and copied
without blocking; they are cast to the weights' precision on the device, where it is cheap.
Features come back as float32 whatever the precision.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import torch

from shared.embedding.text_tower import TextTower

DTYPES = {"fp32": torch.float32, "fp16": torch.float16, "bf16": torch.bfloat16}


class TorchTowers:
    def __init__(self, model: Any, device: str, precision: str, trims_texts: bool) -> None:
        self._model = model
        self._device = torch.device(device)
        self._dtype = DTYPES[precision]
        self._encode_text = TextTower(model) if trims_texts else model.encode_text

    def images(self, pixels: Sequence[np.ndarray]) -> np.ndarray:
        batch = self._host_batch(pixels)
        with torch.inference_mode():
            on_device = batch.to(self._device, non_blocking=True).to(self._dtype)
            return _float32(self._model.encode_image(on_device))

    def texts(self, tokens: np.ndarray) -> np.ndarray:
        with torch.inference_mode():
            return _float32(self._encode_text(torch.from_numpy(tokens).to(self._device)))

    def _host_batch(self, pixels: Sequence[np.ndarray]) -> torch.Tensor:
        shape = (len(pixels), *pixels[0].shape)
        batch = torch.empty(shape, dtype=torch.float32, pin_memory=self._device.type == "cuda")
        np.stack(pixels, out=batch.numpy())
        return batch


def _float32(features: torch.Tensor) -> np.ndarray:
    rows: np.ndarray = features.float().cpu().numpy()
    return rows
