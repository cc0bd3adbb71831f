"""The unavoidable work of ingesting one picture, measured apart from the pipeline (for
``tools/bench_ingest.py``): the embedder's forward pass, and the CPU stage every job runs before it.

- the forward pass: ``embed_preprocessed`` on arrays already preprocessed, at the worker's batch
  size, so neither decoding nor preprocessing is counted;
- the CPU stage: what a job does to a picture before the batch, with the project's own code
  (draft decoding to ``min_side``, the thumbnail, the model's transform), in a pool of one process
  (one core) and in a pool of one process per core. Each pool process builds the model's transform
  only, from the model's config: checked to give ``embedder.preprocess``'s very arrays.

The test pictures are photo-like JPEGs (gradients, soft blotches and grain), so that their sizes,
and the cost of decoding them, are a camera's rather than a flat drawing's.
"""

from __future__ import annotations

import io
import multiprocessing
import os
import time
from collections.abc import Callable
from multiprocessing.context import SpawnContext
from multiprocessing.synchronize import Barrier
from typing import Any

import numpy as np
from PIL import Image

from shared.embedding import CLIP_CONFIGS, ClipEmbedder
from shared.imaging import THUMB_SIZE, decode_image, make_thumbnail

WIDTH, HEIGHT = 1024, 768
GRAIN = 10  # ± levels of uniform noise: ~250 KB per picture at quality 88, like a photo's
POOL_START_S = 300  # a pool process imports torch before it is ready
_stage_args: tuple[Callable[[Image.Image], Any], int, int] | None = None


def photo_like(index: int) -> bytes:
    """A 1024x768 JPEG, different and deterministic for each ``index``."""
    rng = np.random.default_rng(index)
    light = Image.fromarray(rng.integers(0, 256, (3, 4, 3), dtype=np.uint8))
    blotches = Image.fromarray(rng.integers(0, 256, (96, 128, 3), dtype=np.uint8))
    scene = Image.blend(
        light.resize((WIDTH, HEIGHT), Image.Resampling.BICUBIC),
        blotches.resize((WIDTH, HEIGHT), Image.Resampling.BILINEAR),
        0.35,
    )
    grain = rng.integers(-GRAIN, GRAIN + 1, (HEIGHT, WIDTH, 1), dtype=np.int16)
    pixels = np.clip(np.asarray(scene, np.int16) + grain, 0, 255).astype(np.uint8)
    out = io.BytesIO()
    Image.fromarray(pixels).save(out, format="JPEG", quality=88)
    return out.getvalue()


def photo_likes(count: int) -> list[bytes]:
    """``count`` pictures, made on every core."""
    with _spawn().Pool(os.cpu_count()) as pool:
        return pool.map(photo_like, range(count), chunksize=8)


def min_side(embedder: ClipEmbedder) -> int:
    """The shorter side a draft decode must keep: what the pipeline passes to ``decode_image``."""
    return max(embedder.input_size, THUMB_SIZE)


def model_transform(model_name: str) -> Callable[[Image.Image], Any]:
    """The model's inference transform (picture → tensor), built from its config alone."""
    import open_clip
    from open_clip.transform import PreprocessCfg, image_transform_v2

    open_clip.add_model_config(CLIP_CONFIGS)
    config = open_clip.get_model_config(model_name)
    if config is None:
        raise ValueError(f"no OpenCLIP config for {model_name!r}")
    size = config["vision_cfg"]["image_size"]
    cfg = PreprocessCfg(size=size, **config.get("preprocess_cfg", {}))
    transform: Callable[[Image.Image], Any] = image_transform_v2(cfg, is_train=False)
    return transform


def embed_rate(embedder: ClipEmbedder, pictures: list[bytes], max_pixels: int) -> float:
    """Images/s of the forward pass alone at ``embedder.batch_size`` (at least 3 passes and 3 s,
    after one to warm up). Also checks that the pools' transform is the embedder's."""
    batch = embedder.batch_size
    images = [
        decode_image(pictures[i % len(pictures)], max_pixels, min_side=min_side(embedder)).image
        for i in range(batch)
    ]
    pixels = [embedder.preprocess(image) for image in images]
    ours = model_transform(embedder.settings.name)(images[0]).numpy()
    if not np.allclose(ours, pixels[0], atol=1e-5):
        raise RuntimeError("the pools' transform differs from embedder.preprocess")
    embedder.embed_preprocessed(pixels)
    passes, started = 0, time.perf_counter()
    while passes < 3 or time.perf_counter() - started < 3:
        embedder.embed_preprocessed(pixels)
        passes += 1
    return batch * passes / (time.perf_counter() - started)


def cpu_stage_rate(
    model_name: str, side: int, max_pixels: int, pictures: list[bytes], processes: int
) -> float:
    """Images/s of decode + thumbnail + transform over ``pictures`` in ``processes`` processes,
    timed once every process is ready (model transform built, torch imported)."""
    context = _spawn()
    ready = context.Barrier(processes + 1)
    with context.Pool(processes, _start_stage, (model_name, side, max_pixels, ready)) as pool:
        ready.wait(POOL_START_S)
        pool.map(_stage, pictures[:processes])  # the first call of each path loads its code
        started = time.perf_counter()
        pool.map(_stage, pictures, chunksize=max(1, len(pictures) // (processes * 4)))
        return len(pictures) / (time.perf_counter() - started)


def _spawn() -> SpawnContext:
    # Fresh interpreters: a fork of a process that has run torch's thread pools can hang.
    return multiprocessing.get_context("spawn")


def _start_stage(model_name: str, side: int, max_pixels: int, ready: Barrier) -> None:
    global _stage_args
    os.environ["OMP_NUM_THREADS"] = "1"  # one core per process: read when torch loads
    import torch

    torch.set_num_threads(1)
    _stage_args = (model_transform(model_name), side, max_pixels)
    ready.wait(POOL_START_S)


def _stage(data: bytes) -> int:
    assert _stage_args is not None, "a pool process runs _start_stage first"
    transform, side, max_pixels = _stage_args
    decoded = decode_image(data, max_pixels, min_side=side)
    make_thumbnail(decoded.image)
    return int(transform(decoded.image).numpy().nbytes)
