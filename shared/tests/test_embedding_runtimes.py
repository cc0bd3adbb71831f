"""The embedder's split (preprocess, then one forward pass), its precisions and its two runtimes,
on the tiny trained checkpoint and the shape pictures it was trained on."""

from __future__ import annotations

import shutil
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
import open_clip
import pytest
import torch
from PIL import Image
from pydantic import ValidationError

from imagesearch_samples.shapes import all_specs, samples
from shared.config import ModelSettings
from shared.embedding import CLIP_CONFIGS, TINY_CHECKPOINT, TINY_MODEL, ClipEmbedder, agreement
from shared.embedding.embedder import trimmed
from shared.embedding.onnx_runtime import EXPORT_VERSION, IMAGE_FILE, TEXT_FILE, publish_once

CAPTIONS = [spec.caption for spec in all_specs()]  # "a red circle", ...: one per class
# texts of every width: one token, a few words, past the tiny model's context of 32 tokens
TEXTS = ["", "a", *CAPTIONS[:3], "a small red circle drawn on a plain white card", "square " * 40]


def tiny(cache_dir: Path, **options: object) -> ClipEmbedder:
    settings = ModelSettings.model_validate(
        {
            "name": TINY_MODEL,
            "pretrained": str(TINY_CHECKPOINT),
            "cache_dir": str(cache_dir),
            "device": "cpu",
            **options,
        }
    )
    return ClipEmbedder(settings)


@pytest.fixture(scope="module")
def pictures() -> list[Image.Image]:
    """One picture per class, in ``CAPTIONS``' order."""
    return [image for _, image in samples(len(CAPTIONS), seed=5)]


@pytest.fixture(scope="module")
def fp32(tmp_path_factory: pytest.TempPathFactory) -> ClipEmbedder:
    return tiny(tmp_path_factory.mktemp("models"))


def test_preprocess_gives_float32_squares_of_the_input_size(
    fp32: ClipEmbedder, pictures: list[Image.Image]
) -> None:
    pixels = fp32.preprocess(pictures[0].resize((200, 90)))
    assert fp32.input_size == 64
    assert pixels.dtype == np.float32 and pixels.shape == (3, 64, 64)


def test_preprocess_from_many_threads_gives_what_one_thread_does(
    fp32: ClipEmbedder, pictures: list[Image.Image]
) -> None:
    serial = [fp32.preprocess(image) for image in pictures]
    with ThreadPoolExecutor(8) as pool:
        parallel = list(pool.map(fp32.preprocess, pictures * 4))
    for index, pixels in enumerate(parallel):
        assert np.array_equal(pixels, serial[index % len(serial)])


def test_embed_images_is_preprocess_then_one_forward_pass(
    fp32: ClipEmbedder, pictures: list[Image.Image]
) -> None:
    rows = fp32.embed_preprocessed([fp32.preprocess(image) for image in pictures])
    assert rows.dtype == np.float32 and rows.shape == (len(pictures), 128)
    assert np.allclose(np.linalg.norm(rows, axis=1), 1.0, atol=1e-5)
    assert np.allclose(rows, fp32.embed_images(pictures), atol=1e-6)


def padded_features(texts: list[str]) -> np.ndarray:
    """The tiny model's text features as OpenCLIP computes them, over the padded context."""
    open_clip.add_model_config(CLIP_CONFIGS)
    model = open_clip.create_model(TINY_MODEL, pretrained=str(TINY_CHECKPOINT)).eval()
    with torch.inference_mode():
        features = model.encode_text(open_clip.get_tokenizer(TINY_MODEL)(texts), normalize=True)
    rows: np.ndarray = features.numpy()
    return rows


def test_tokens_are_trimmed_to_the_longest_text_of_the_batch() -> None:
    tokens = np.array([[49406, 320, 49407, 0, 0], [49406, 49407, 0, 0, 0]])
    assert trimmed(tokens).tolist() == [[49406, 320, 49407], [49406, 49407, 0]]
    assert trimmed(np.zeros((2, 5), dtype=np.int64)).shape == (2, 1)


@pytest.mark.parametrize("runtime", ["torch", "onnx"])
def test_trimmed_texts_embed_as_the_padded_context_does(runtime: str, tmp_path: Path) -> None:
    embedder = tiny(tmp_path, runtime=runtime)
    reference = padded_features(TEXTS)
    together = embedder.embed_texts(TEXTS)  # one batch as wide as its longest text
    alone = np.concatenate([embedder.embed_texts([text]) for text in TEXTS])
    assert np.sum(together * reference, axis=1).min() >= 0.9999
    assert np.sum(alone * reference, axis=1).min() >= 0.9999


def test_batch_precision_and_runtime_follow_the_device_unless_configured(tmp_path: Path) -> None:
    sized = tiny(tmp_path)
    assert (sized.batch_size, sized.precision, sized.runtime) == (16, "fp32", "torch")
    assert tiny(tmp_path, batch_size=8, precision="bf16").batch_size == 8
    automatic = tiny(tmp_path, runtime="auto", precision="fp16")
    assert (automatic.runtime, automatic.precision) == ("onnx", "fp32")  # on the CPU
    assert not sized.loaded and not automatic.loaded


@pytest.mark.parametrize("precision", ["fp16", "bf16"])
def test_half_precision_agrees_with_fp32(
    precision: str, fp32: ClipEmbedder, pictures: list[Image.Image], tmp_path: Path
) -> None:
    half = tiny(tmp_path, precision=precision)
    assert agreement(fp32, half, pictures) >= 0.999
    texts = np.sum(fp32.embed_texts(CAPTIONS) * half.embed_texts(CAPTIONS), axis=1)
    assert texts.min() >= 0.999
    # and it did run in half precision: rounded differently, yet float32 rows all the same
    rows = half.embed_images(pictures)
    assert rows.dtype == np.float32 and not np.array_equal(rows, fp32.embed_images(pictures))
    assert half.precision == precision


def test_onnx_ranks_the_pictures_as_torch_does(
    fp32: ClipEmbedder, pictures: list[Image.Image], tmp_path: Path
) -> None:
    onnx = tiny(tmp_path, runtime="onnx")
    assert agreement(fp32, onnx, pictures) >= 0.999
    torch_texts, onnx_texts = fp32.embed_texts(CAPTIONS), onnx.embed_texts(CAPTIONS)
    assert np.sum(torch_texts * onnx_texts, axis=1).min() >= 0.999
    torch_scores = torch_texts @ fp32.embed_images(pictures).T
    onnx_scores = onnx_texts @ onnx.embed_images(pictures).T
    assert np.array_equal(np.argsort(-onnx_scores, axis=1), np.argsort(-torch_scores, axis=1))
    assert list(np.argmax(onnx_scores, axis=1)) == list(range(len(CAPTIONS)))  # its own class


def test_onnx_export_is_cached_by_weights_and_reused(
    pictures: list[Image.Image], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    first = tiny(tmp_path, runtime="onnx")
    first.load()
    weights = first.identity.weights.replace(":", "_")
    entry = tmp_path / "onnx" / f"{TINY_MODEL}-{weights}-v{EXPORT_VERSION}"
    assert sorted(path.name for path in entry.iterdir()) == [IMAGE_FILE, TEXT_FILE]

    def never(what: str) -> object:
        def called(*args: object, **kwargs: object) -> None:
            raise AssertionError(what)

        return called

    monkeypatch.setattr(torch.onnx, "export", never("the towers were exported again"))
    monkeypatch.setattr(open_clip.factory, "load_checkpoint", never("the weights were read"))
    second = tiny(tmp_path, runtime="onnx")
    assert np.allclose(second.embed_images(pictures), first.embed_images(pictures), atol=1e-6)
    assert np.allclose(second.embed_texts(TEXTS), first.embed_texts(TEXTS), atol=1e-6)
    assert [path.name for path in (tmp_path / "onnx").iterdir()] == [entry.name]


def test_an_export_gone_midway_is_refused_not_made_from_no_weights(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    tiny(tmp_path, runtime="onnx").load()
    entry = next((tmp_path / "onnx").iterdir())
    real_create = open_clip.create_model_and_transforms

    def create_then_lose_the_export(*args: object, **kwargs: object) -> object:
        assert kwargs["load_weights"] is False  # the export was there when the load began
        shutil.rmtree(entry)
        return real_create(*args, **kwargs)

    monkeypatch.setattr(open_clip, "create_model_and_transforms", create_then_lose_the_export)
    with pytest.raises(RuntimeError, match="went while the model loaded"):
        tiny(tmp_path, runtime="onnx").load()
    assert not (tmp_path / "onnx" / entry.name).exists()  # nothing cached from random weights


def test_untrained_weights_are_exported_afresh_not_cached(tmp_path: Path) -> None:
    untrained = tiny(tmp_path, runtime="onnx", pretrained="")
    rows = untrained.embed_texts(CAPTIONS)
    assert rows.shape == (len(CAPTIONS), 128)
    assert not (tmp_path / "onnx").exists()


def test_of_two_racing_exports_the_first_published_is_kept(tmp_path: Path) -> None:
    entry = tmp_path / "onnx" / "model-weights"

    def build(scratch: Path) -> None:
        (scratch / IMAGE_FILE).write_text("ours")
        publish_once(entry, lambda theirs: (theirs / IMAGE_FILE).write_text("theirs"))

    assert publish_once(entry, build) is False
    assert (entry / IMAGE_FILE).read_text() == "theirs"
    assert [path.name for path in entry.parent.iterdir()] == [entry.name]  # no scratch left


def test_onnx_runs_fp32_only() -> None:
    with pytest.raises(ValidationError, match="onnx runtime runs fp32"):
        ModelSettings(runtime="onnx", precision="fp16")
