"""The one OpenCLIP embedder (``embedder``), its two runtimes (``torch_runtime``,
``onnx_runtime``) and the models the project names (``models``)."""

from shared.embedding.embedder import ClipEmbedder, agreement
from shared.embedding.models import CLIP_CONFIGS, TINY_CHECKPOINT, TINY_MODEL, weights_id

__all__ = [
    "CLIP_CONFIGS",
    "TINY_CHECKPOINT",
    "TINY_MODEL",
    "ClipEmbedder",
    "agreement",
    "weights_id",
]
