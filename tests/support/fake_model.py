"""A fake of our embedder port (``shared.embedding.ClipEmbedder``): colours instead of CLIP.

Deterministic and instant, so the fast tier never loads torch. Each dimension of the space is a
named colour (the demo pictures' colours, plus white, grey and black for backgrounds):
- an image's row is the share of its pixels nearest each colour;
- a text's row counts the colour words it names ("a red circle" is all red); a text that names
  no colour points at every colour equally.
Rows are L2-normalised float32, like the real model's, so a red picture is the best hit for
"red" and cosine scores stay in [0, 1].

Like the real one, it splits embedding into ``preprocess`` (a picture to the model's input, a
float32 (3, S, S) array; here S is the sample side) and ``embed_preprocessed`` (one pass over
many inputs); ``embed_images`` is both. It remembers what it was asked (``texts``,
``image_batches``): the state of a fake, for tests that must tell whether the model ran at all
(the query cache) or how images were grouped (batching).
"""

from __future__ import annotations

import threading
from collections.abc import Sequence

import numpy as np
from PIL import Image

from imagesearch_samples.shapes import COLOURS
from shared.domain import ImageRecord, image_id_of
from shared.vector_schema import ModelIdentity
from tests.support.images import encode, picture

PALETTE: dict[str, tuple[int, int, int]] = COLOURS | {
    "white": (245, 245, 245),
    "grey": (128, 128, 128),
    "black": (15, 15, 15),
}
FAKE_MODEL = "fake-colours"
_CENTRES = np.array(list(PALETTE.values()), dtype=np.float32)
_SAMPLE_SIDE = 32  # pixels per side looked at: colour shares, not detail


class FakeEmbedder:
    def __init__(self, name: str = FAKE_MODEL, weights: str = "v1", batch_size: int = 32) -> None:
        self._identity = ModelIdentity(name=name, weights=weights, dim=len(PALETTE))
        self._batch_size = batch_size
        self._lock = threading.Lock()
        self.loaded = False
        self.texts: list[str] = []
        self.image_batches: list[int] = []

    def load(self) -> None:
        self.loaded = True

    @property
    def identity(self) -> ModelIdentity:
        self.load()
        return self._identity

    @property
    def input_size(self) -> int:
        return _SAMPLE_SIDE

    @property
    def batch_size(self) -> int:
        return self._batch_size

    def preprocess(self, image: Image.Image) -> np.ndarray:
        """The picture at the fake's input size: float32 (3, S, S), like the real transform."""
        small = image.convert("RGB").resize((_SAMPLE_SIDE, _SAMPLE_SIDE), Image.Resampling.NEAREST)
        return np.asarray(small, dtype=np.float32).transpose(2, 0, 1)

    def embed_preprocessed(self, pixels: list[np.ndarray]) -> np.ndarray:
        with self._lock:
            self.image_batches.append(len(pixels))
        return _normalised(np.stack([_shares(one) for one in pixels]))

    def embed_images(self, images: list[Image.Image]) -> np.ndarray:
        return self.embed_preprocessed([self.preprocess(image) for image in images])

    def embed_texts(self, texts: list[str]) -> np.ndarray:
        with self._lock:
            self.texts.extend(texts)
        return _normalised(np.stack([colour_words(text) for text in texts]))


def indexed_picture(
    colour: str,
    *,
    format: str = "PNG",  # noqa: A002 (the record's field name)
    width: int = 64,
    height: int = 48,
    ingested_at: int = 0,
    source: str = "upload",
    camera_id: str | None = None,
    tags: Sequence[str] = (),
) -> ImageRecord:
    """The record the worker would index for a ``colour`` picture, with the fake's embedding."""
    image = picture(width, height, PALETTE[colour])
    data = encode(image, format)
    return ImageRecord(
        id=image_id_of(data),
        width=width,
        height=height,
        bytes=len(data),
        format=format,
        filename=f"{colour}.{format.lower()}",
        ingested_at=ingested_at,
        source=source,
        camera_id=camera_id,
        tags=list(tags),
        embedding=_normalised(colour_shares(image)[np.newaxis])[0],
    )


def colour_shares(image: Image.Image) -> np.ndarray:
    """How many of the image's (sampled) pixels are nearest each palette colour."""
    return _shares(FakeEmbedder().preprocess(image))


def _shares(pixels: np.ndarray) -> np.ndarray:
    rows = pixels.transpose(1, 2, 0).reshape(-1, 1, 3)
    nearest = np.linalg.norm(rows - _CENTRES, axis=2).argmin(axis=1)
    return np.bincount(nearest, minlength=len(PALETTE)).astype(np.float32)


def colour_words(text: str) -> np.ndarray:
    words = text.lower().split()
    counts = np.array([words.count(name) for name in PALETTE], dtype=np.float32)
    return counts if counts.any() else np.ones(len(PALETTE), dtype=np.float32)


def _normalised(rows: np.ndarray) -> np.ndarray:
    normalised: np.ndarray = rows / np.linalg.norm(rows, axis=1, keepdims=True)
    return normalised.astype(np.float32)
