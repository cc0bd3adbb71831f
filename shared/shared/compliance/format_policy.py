"""``format_policy``: which formats and sizes an image may have.

Options: ``formats`` (allowed formats, e.g. ``[jpeg, png]``; empty: any the service accepts),
``min_width``, ``min_height``, ``max_width``, ``max_height``, ``max_pixels`` (of the upright
picture), and ``outcome`` for an image outside them (default ``reject``).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from shared.compliance.checks import CheckTools, Outcome, Subject, Verdict


class FormatOptions(BaseModel):
    model_config = ConfigDict(extra="forbid")

    formats: list[str] = []
    min_width: int = Field(default=1, ge=1)
    min_height: int = Field(default=1, ge=1)
    max_width: int | None = Field(default=None, ge=1)
    max_height: int | None = Field(default=None, ge=1)
    max_pixels: int | None = Field(default=None, ge=1)
    outcome: Literal["reject", "quarantine"] = "reject"


@dataclass(frozen=True)
class FormatPolicy:
    name: str
    options: FormatOptions

    def review(self, subject: Subject) -> Verdict:
        info = subject.info
        details = {"format": info.format.lower(), "width": info.width, "height": info.height}
        if reason := self._refusal(info.format.lower(), info.width, info.height):
            return Verdict(Outcome(self.options.outcome), reason, details)
        return Verdict(Outcome.PASS, details=details)

    def _refusal(self, fmt: str, width: int, height: int) -> str | None:
        o = self.options
        if o.formats and fmt not in o.formats:
            return f"{fmt} images are not accepted here (allowed: {', '.join(o.formats)})"
        if width < o.min_width or height < o.min_height:
            return f"{width}x{height} is smaller than the minimum {o.min_width}x{o.min_height}"
        if o.max_width and width > o.max_width:
            return f"{width} px wide is more than the maximum {o.max_width}"
        if o.max_height and height > o.max_height:
            return f"{height} px high is more than the maximum {o.max_height}"
        if o.max_pixels and width * height > o.max_pixels:
            return f"{width}x{height} has more than {o.max_pixels} pixels"
        return None


def build(name: str, options: Mapping[str, Any], tools: CheckTools) -> FormatPolicy:
    parsed = FormatOptions.model_validate(options)
    parsed.formats = [fmt.lower() for fmt in parsed.formats]
    return FormatPolicy(name, parsed)
