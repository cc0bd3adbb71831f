"""Untrained OpenCLIP weights drawn from one seed and saved as safetensors: a model whose compute
is the real architecture's, read from a file as production reads its weights (no model hub)."""

from __future__ import annotations

from pathlib import Path


def seeded_weights(name: str, seed: int, path: Path) -> str:
    """``name``'s weights drawn from ``seed``, saved at ``path`` unless already there."""
    if not path.exists():
        import open_clip
        import torch
        from safetensors.torch import save_file

        from shared.embedding import CLIP_CONFIGS

        open_clip.add_model_config(CLIP_CONFIGS)
        torch.manual_seed(seed)
        model = open_clip.create_model(name, pretrained=None)
        save_file({key: value.contiguous() for key, value in model.state_dict().items()}, path)
    return str(path)
