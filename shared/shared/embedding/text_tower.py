"""CLIP's text tower run over the tokens a text has, not over the context's padding.

OpenCLIP pads every text to the context length (77 tokens for ViT-B-32) and runs the whole of it.
CLIP's text transformer is causal and its features are read at the end-of-text token, so nothing
after that token can change them: for a query of five words, 70 of the 77 positions are work whose
result is thrown away. The embedder drops the padding columns every text of a batch has
(``embedder.trimmed``) and ``TextTower`` runs the model on what is left, with the positional
embedding and the causal mask cut to match. The features are those of the padded run (to float
rounding): ``test_embedding_runtimes`` holds both runtimes to it. Towers that could see past the
end-of-text token (no causal mask, pooling not at that token, a tokenizer with its own padding,
blocks other than OpenCLIP's plain one) run as OpenCLIP runs them.

The attention is written out (one projection, heads split by reshape, ``scaled_dot_product_
attention``) rather than left to ``nn.MultiheadAttention``, whose traced graph fixes the sequence
length: so the onnx export takes texts of any width too.
"""

from __future__ import annotations

from typing import Any

import torch
import torch.nn.functional as F
from open_clip.model import CLIP
from open_clip.tokenizer import SimpleTokenizer
from open_clip.transformer import ResidualAttentionBlock, text_global_pool


def trims(model: Any, tokenizer: Any) -> bool:
    """Whether ``model``'s text features cannot depend on the padding after the text: a causal
    tower of plain blocks read at the end-of-text token, SimpleTokenizer's largest id (pads
    are 0)."""
    return (
        isinstance(model, CLIP)
        and isinstance(tokenizer, SimpleTokenizer)
        and model.attn_mask is not None
        and model.text_pool_type == "argmax"
        and model.transformer.batch_first
        and all(_plain(block) for block in model.transformer.resblocks)
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
        mask = model.attn_mask[:width, :width].to(dtype)
        for block in model.transformer.resblocks:
            x = x + block.ls_1(_attention(block.attn, block.ln_1(x), mask))
            x = x + block.ls_2(block.mlp(block.ln_2(x)))
        pooled: torch.Tensor = text_global_pool(model.ln_final(x), tokens, "argmax")
        projection = model.text_projection
        if isinstance(projection, torch.nn.Linear):
            pooled = projection(pooled)
        elif projection is not None:
            pooled = pooled @ projection
        return pooled


def _plain(block: Any) -> bool:
    """OpenCLIP's self-attention block, with one packed input projection."""
    return (
        type(block) is ResidualAttentionBlock
        and not hasattr(block, "ln_1_kv")
        and block.attn.in_proj_weight is not None
    )


def _attention(
    attention: torch.nn.MultiheadAttention, x: torch.Tensor, mask: torch.Tensor
) -> torch.Tensor:
    """``attention(x, x, x, attn_mask=mask)`` for (batch, tokens, width) inputs."""
    heads = attention.num_heads
    projected = F.linear(x, attention.in_proj_weight, attention.in_proj_bias)
    batch, width = x.shape[:2]
    q, k, v = (
        part.reshape(batch, width, heads, -1).transpose(1, 2) for part in projected.chunk(3, -1)
    )
    mixed = F.scaled_dot_product_attention(q, k, v, attn_mask=mask)
    out: torch.Tensor = attention.out_proj(mixed.transpose(1, 2).flatten(2))
    return out
