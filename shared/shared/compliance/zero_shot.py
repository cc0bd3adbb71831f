"""``zero_shot``: a CLIP rule. Options: ``prompts`` (texts such as "a red circle"), ``threshold``
(cosine similarity, -1..1) and ``outcome`` (default ``quarantine``).

The prompts are embedded once, with the text tower of the model that embeds the images; an image
is then compared with each by one dot product of the embedding it already has, so the rule costs
nothing per image. It matches when its best prompt scores at or above the threshold; every
decision records all the scores, so a threshold can be tuned from the history.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np
from pydantic import BaseModel, ConfigDict, Field

from shared.compliance.checks import CheckTools, Outcome, Subject, Verdict


class ZeroShotOptions(BaseModel):
    model_config = ConfigDict(extra="forbid")

    prompts: list[str] = Field(min_length=1)
    threshold: float = Field(ge=-1, le=1)
    outcome: Literal["reject", "quarantine"] = "quarantine"


@dataclass(frozen=True)
class ZeroShotRule:
    name: str
    options: ZeroShotOptions
    prompt_vectors: np.ndarray  # one L2-normalised row per prompt

    def review(self, subject: Subject) -> Verdict:
        scores = self.prompt_vectors @ subject.embedding.astype(np.float32)
        by_prompt = {
            p: round(float(s), 4) for p, s in zip(self.options.prompts, scores, strict=True)
        }
        best = int(np.argmax(scores))
        details = {"scores": by_prompt, "threshold": self.options.threshold}
        if scores[best] < self.options.threshold:
            return Verdict(Outcome.PASS, details=details)
        prompt = self.options.prompts[best]
        reason = f"matches {prompt!r} (score {scores[best]:.3f} >= {self.options.threshold})"
        return Verdict(Outcome(self.options.outcome), reason, details)


def build(name: str, options: Mapping[str, Any], tools: CheckTools) -> ZeroShotRule:
    parsed = ZeroShotOptions.model_validate(options)
    vectors = np.asarray(tools.embed_texts(parsed.prompts), dtype=np.float32)
    return ZeroShotRule(name, parsed, vectors)
