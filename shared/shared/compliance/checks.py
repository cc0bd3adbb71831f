"""What a compliance check is: the protocol, what it sees, what it answers.

A check is built once (at the worker's start) from its config entry by a factory
``factory(name, options, tools) -> ComplianceCheck``; ``tools`` gives it what it may need to
prepare, such as embedding text prompts with the model that embeds the images. ``review`` is then
called for every new image, from several threads at once: a check keeps no per-image state.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any, Protocol, runtime_checkable

import numpy as np
from PIL import Image

from shared.imaging import ImageInfo


class Outcome(StrEnum):
    """What a check decides; the strictest outcome of all checks wins (reject > quarantine)."""

    PASS = "pass"
    QUARANTINE = "quarantine"
    REJECT = "reject"


@dataclass(frozen=True)
class Subject:
    """An image under review: nothing of it is stored yet."""

    image_id: str
    image: Image.Image  # upright RGB
    info: ImageInfo  # the original's format and the upright size
    exif: Mapping[str, Any]  # the metadata that will be stored (shared.imaging.extract_exif)
    embedding: np.ndarray  # L2-normalised, in the space of ``CheckTools.embed_texts``
    filename: str
    source: str


@dataclass(frozen=True)
class Verdict:
    """A check's answer. ``details`` are recorded with the decision (scores, measured sizes);
    ``exif``, when not None, replaces the metadata that is stored (the location policy)."""

    outcome: Outcome
    reason: str | None = None
    details: dict[str, Any] = field(default_factory=dict)
    exif: dict[str, Any] | None = None


@runtime_checkable
class ComplianceCheck(Protocol):
    @property
    def name(self) -> str:
        """The configured name, recorded with each of its decisions."""

    def review(self, subject: Subject) -> Verdict: ...


@dataclass(frozen=True)
class CheckTools:
    """What a check may use while it is built."""

    embed_texts: Callable[[list[str]], np.ndarray]  # L2-normalised rows, one per text


CheckFactory = Callable[[str, Mapping[str, Any], CheckTools], ComplianceCheck]
