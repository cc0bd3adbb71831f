"""Train the tiny OpenCLIP model ("tiny-shapes") used by tests and offline demos.

The pictures come from ``imagesearch_samples.shapes``, generated on the fly (deterministic per
seed and step), so nothing needs downloading. CPU only. Every batch holds exactly one picture per
colour x shape class (duplicate captions in a batch would be false negatives for the contrastive
loss). Images go through the model's own inference preprocess, so training sees exactly what
production feeds the model.

    uv run python tools/train_tiny_clip.py            # train, evaluate, write the checkpoint
    uv run python tools/train_tiny_clip.py --eval-only shared/shared/assets/tiny-shapes.safetensors
"""

from __future__ import annotations

import argparse
import io
import json
import logging
import math
import os
import random
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

# Idle OpenMP threads sleep instead of spinning: on a shared 2-core machine spinning threads made a
# training step up to 20x slower. Must be set before torch is imported.
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

import open_clip  # noqa: E402
import torch  # noqa: E402
from PIL import Image  # noqa: E402
from safetensors.torch import save_file  # noqa: E402

from imagesearch_samples import shapes  # noqa: E402

REPO = Path(__file__).resolve().parents[1]
CONFIG_DIR = REPO / "shared" / "shared" / "clip_configs"
DEFAULT_OUT = REPO / "shared" / "shared" / "assets" / "tiny-shapes.safetensors"
MODEL_NAME = "tiny-shapes"
TRAIN_SIZES = (80, 96, 128, 128, 160, 192)  # render sizes seen in training (uploads vary)

log = logging.getLogger("train_tiny_clip")
Transform = Callable[[Image.Image], torch.Tensor]


def jpeg(image: Image.Image, quality: int) -> Image.Image:
    """Round-trip ``image`` through JPEG at ``quality``."""
    buffer = io.BytesIO()
    image.save(buffer, "JPEG", quality=quality)
    buffer.seek(0)
    return Image.open(buffer).convert("RGB")


def train_batch(seed: int, step: int, preprocess: Transform) -> tuple[torch.Tensor, list[str]]:
    """One picture per colour x shape class, each with one of its captions; fresh every step."""
    rng = random.Random(f"train:{seed}:{step}")
    tensors, captions = [], []
    for cls in shapes.all_specs():
        spec = shapes.ShapeSpec(cls.shape, cls.colour, rng.choice(shapes.SIZES))
        image = shapes.render(spec, rng, rng.choice(TRAIN_SIZES))
        if rng.random() < 0.3:
            image = jpeg(image, rng.randint(60, 95))
        tensors.append(preprocess(image))
        captions.append(rng.choice(spec.captions))
    return torch.stack(tensors), captions


@torch.no_grad()
def evaluate(
    model: open_clip.CLIP,
    tokenizer: Callable[[list[str]], torch.Tensor],
    preprocess: Transform,
    data: Sequence[tuple[shapes.ShapeSpec, Image.Image]],
) -> dict[str, float]:
    """Text->image retrieval over ``data`` for the 24 captions "a {colour} {shape}".

    top1: share of captions whose best-scoring image is of their class; p@k: mean share of the
    top k images that are of the caption's class; img_acc: image->caption classification accuracy;
    size_acc: share of images for which "a {size} ..." beats the other size's caption.
    """
    model.eval()
    features = []
    for start in range(0, len(data), 128):
        batch = torch.stack([preprocess(image) for _, image in data[start : start + 128]])
        features.append(model.encode_image(batch, normalize=True))
    images = torch.cat(features)
    classes = shapes.all_specs()
    texts = model.encode_text(tokenizer([c.caption for c in classes]), normalize=True)
    labels = torch.tensor([classes.index(shapes.ShapeSpec(s.shape, s.colour)) for s, _ in data])
    scores = texts @ images.T  # [classes, images]
    ranked = scores.argsort(dim=1, descending=True)
    hits = labels[ranked] == torch.arange(len(classes))[:, None]
    other = {"small": "large", "large": "small"}
    sized = [s.sized_caption for s, _ in data]
    wrong = [f"a {other[s.size]} {s.label}" for s, _ in data]
    sized_f = model.encode_text(tokenizer(sized), normalize=True)
    wrong_f = model.encode_text(tokenizer(wrong), normalize=True)
    size_ok = (sized_f * images).sum(1) > (wrong_f * images).sum(1)
    return {
        "top1": hits[:, 0].float().mean().item(),
        "p@3": hits[:, :3].float().mean().item(),
        "p@10": hits[:, :10].float().mean().item(),
        "img_acc": (scores.argmax(dim=0) == labels).float().mean().item(),
        "size_acc": size_ok.float().mean().item(),
    }


def evaluate_all(
    model: open_clip.CLIP, preprocess: Transform, seed: int, per_class: int
) -> dict[str, dict[str, float]]:
    """Held-out evaluation on pictures from ``seed`` (never used in training), several variants."""
    tokenizer = open_clip.get_tokenizer(MODEL_NAME)
    n = per_class * len(shapes.all_specs())
    png = shapes.samples(n, seed, image_size=128)
    big = shapes.samples(n, seed, image_size=256)
    variants = {
        "png@128": png,
        "jpeg85@128": [(s, jpeg(im, 85)) for s, im in png],
        "png@256": big,
        "jpeg85@256": [(s, jpeg(im, 85)) for s, im in big],
        "png@64": shapes.samples(n, seed, image_size=64),
    }
    results = {
        name: evaluate(model, tokenizer, preprocess, data) for name, data in variants.items()
    }
    for name, r in results.items():
        log.info("held-out %-11s %s", name, "  ".join(f"{k} {v:.4f}" for k, v in r.items()))
    return results


def param_groups(model: torch.nn.Module, weight_decay: float) -> list[dict[str, Any]]:
    """No weight decay on gains, biases, norms and the logit scale (as open_clip's trainer)."""
    decay: list[torch.nn.Parameter] = []
    no_decay: list[torch.nn.Parameter] = []
    for name, p in model.named_parameters():
        skip = p.ndim < 2 or "bn" in name or "ln" in name or "bias" in name or "logit_scale" in name
        (no_decay if skip else decay).append(p)
    return [
        {"params": no_decay, "weight_decay": 0.0},
        {"params": decay, "weight_decay": weight_decay},
    ]


def lr_at(progress: float, step: int, base_lr: float, warmup: int) -> float:
    """Linear warm-up over ``warmup`` steps, then cosine decay to 0 as ``progress`` goes 0 -> 1."""
    if step < warmup:
        return base_lr * (step + 1) / warmup
    return 0.5 * base_lr * (1 + math.cos(math.pi * min(1.0, progress)))


def fp16_state(model: torch.nn.Module) -> dict[str, torch.Tensor]:
    return {
        k: (v.detach().to(torch.float16) if v.is_floating_point() else v.detach()).contiguous()
        for k, v in model.state_dict().items()
    }


def train(args: argparse.Namespace) -> None:
    random.seed(args.seed)
    torch.manual_seed(args.seed)
    model, _, preprocess = open_clip.create_model_and_transforms(MODEL_NAME, pretrained=None)
    tokenizer = open_clip.get_tokenizer(MODEL_NAME)
    loss_fn = open_clip.ClipLoss()
    optimizer = torch.optim.AdamW(
        param_groups(model, args.wd), lr=args.lr, betas=(0.9, 0.98), fused=True
    )
    budget = args.minutes * 60 if args.minutes else None
    log.info(
        "training %s (%d parameters) for %s, seed %d",
        MODEL_NAME,
        sum(p.numel() for p in model.parameters()),
        f"{args.minutes} min" if budget else f"{args.steps} steps",
        args.seed,
    )
    model.train()
    start = time.monotonic()
    step, running = 0, 0.0
    while True:
        elapsed = time.monotonic() - start
        progress = elapsed / budget if budget else step / args.steps
        if progress >= 1.0:
            break
        lr = lr_at(progress, step, args.lr, args.warmup)
        for group in optimizer.param_groups:
            group["lr"] = lr
        images, captions = train_batch(args.seed, step, preprocess)
        image_f, text_f, scale = model(images, tokenizer(captions))
        loss = loss_fn(image_f, text_f, scale)
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()
        with torch.no_grad():
            model.logit_scale.clamp_(0, math.log(100))
        running += loss.item()
        step += 1
        if step % args.log_every == 0:
            log.info(
                "step %5d  loss %.4f  lr %.2e  scale %.1f  %.0f s",
                step,
                running / args.log_every,
                lr,
                scale.item(),
                time.monotonic() - start,
            )
            running = 0.0
    wall = time.monotonic() - start
    log.info("trained %d steps in %.1f s (%.1f steps/s)", step, wall, step / wall)

    state = fp16_state(model)
    model.load_state_dict(state)  # evaluate exactly the fp16 weights that get saved
    results = evaluate_all(model, preprocess, args.eval_seed, args.eval_per_class)
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    # One metadata key: safetensors writes several keys in random order (files would differ).
    info = {"model": MODEL_NAME, "steps": step, "seed": args.seed, "held_out": results["png@128"]}
    save_file(state, str(out), metadata={"training": json.dumps(info, sort_keys=True)})
    out.chmod(0o644)
    log.info("wrote %s (%d bytes)", out, out.stat().st_size)
    print(json.dumps({"steps": step, "train_seconds": round(wall, 1), "held_out": results}))


def eval_only(args: argparse.Namespace) -> None:
    model, _, preprocess = open_clip.create_model_and_transforms(
        MODEL_NAME, pretrained=str(args.eval_only)
    )
    results = evaluate_all(model, preprocess, args.eval_seed, args.eval_per_class)
    print(json.dumps({"checkpoint": str(args.eval_only), "held_out": results}))


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT, help="checkpoint (.safetensors)")
    parser.add_argument("--steps", type=int, default=1500, help="training steps (reproducible)")
    parser.add_argument(
        "--minutes",
        type=float,
        help="train for this wall time instead of --steps (not reproducible)",
    )
    parser.add_argument("--seed", type=int, default=0, help="training seed")
    parser.add_argument(
        "--eval-seed", type=int, default=1, help="held-out seed (not the training one)"
    )
    parser.add_argument(
        "--eval-per-class", type=int, default=20, help="held-out pictures per class"
    )
    parser.add_argument("--lr", type=float, default=1e-3)
    parser.add_argument("--wd", type=float, default=0.05)
    parser.add_argument("--warmup", type=int, default=100)
    parser.add_argument("--threads", type=int, default=2, help="torch CPU threads")
    parser.add_argument("--log-every", type=int, default=100)
    parser.add_argument("--eval-only", type=Path, metavar="CKPT", help="only evaluate CKPT")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s", datefmt="%H:%M:%S")
    logging.getLogger().setLevel(logging.ERROR)  # open_clip's "no pretrained weights" warning
    log.setLevel(logging.INFO)
    torch.set_num_threads(args.threads)
    open_clip.add_model_config(CONFIG_DIR)
    if args.eval_only:
        eval_only(args)
    else:
        train(args)


if __name__ == "__main__":
    main()
