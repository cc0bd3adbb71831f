"""CLIP's text tower run over the tokens a text has, not over the context's padding.

OpenCLIP pads every text to the context length (77 tokens for ViT-B-32) and runs the whole of it.
CLIP's text transformer is causal and its features are read at the end-of-text token, so nothing
after that token can change them: for a query of five words, 70 of the 77 positions are work whose
result is thrown away. The embedder drops the padding columns every text of a batch has
(``embedder.trimmed``) and ``TextTower`` runs the model on what is left, with the positional
embedding and the causal mask cut to match. The features are those of the padded run (to float
rounding): ``test_embedding_runtimes`` holds them to it. Towers that could see past the
end-of-text token (no causal mask, pooling not at that token, a tokenizer with its own padding)
run as OpenCLIP runs them, and so does the onnx runtime: the exporter fixes the attention's
sequence length in the graph.
"""

from __future__ import annotations

from typing import Any

import torch
from open_clip.model import CLIP
from open_clip.tokenizer import SimpleTokenizer
from open_clip.transformer import text_global_pool


def trims(model: Any, tokenizer: Any) -> bool:
    """Whether ``model``'s text features cannot depend on the padding after the text: a causal
    tower read at the end-of-text token, which is SimpleTokenizer's largest id (pads are 0)."""
    return (
        isinstance(model, CLIP)
        and isinstance(tokenizer, SimpleTokenizer)
        and model.attn_mask is not None
        and model.text_pool_type == "argmax"
    )


class TextTower(torch.nn.Module):
    """``model.encode_text`` for token batches of any width up to the context length."""

    def __init__(self, model: CLIP) -> None:
        super().__init__()
        self.model = model

    def forward(self, tokens: torch.Tensor) -> torch.Tensor:
        model, width = self.model, tokens.shape[1]
        dtype = model.transformer.get_cast_dtype()
        x = model.token_embedding(tokens).to(dtype) + model.positional_embedding[:width].to(dtype)
        x = model.transformer(x, attn_mask=model.attn_mask[:width, :width])
        pooled: torch.Tensor = text_global_pool(model.ln_final(x), tokens, "argmax")
        projection = model.text_projection
        if isinstance(projection, torch.nn.Linear):
            pooled = projection(pooled)
        elif projection is not None:
            pooled = pooled @ projection
        return pooled
