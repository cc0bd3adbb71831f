"""``location``: what of an image's EXIF GPS position is stored. Option ``policy``: ``keep``,
``coarsen`` (latitude and longitude rounded to 2 decimals, about 1 km; altitude dropped) or
``drop``.

It rewrites the metadata the catalog and the index keep and the APIs answer; it never changes
the bytes of the original, whose SHA-256 is the image's id (an original served as it was
uploaded keeps its EXIF; thumbnails and variants carry none). It always passes.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict

from shared.compliance.checks import CheckTools, Outcome, Subject, Verdict

COARSE_DECIMALS = 2  # 0.01 degree of latitude is about 1.1 km


class LocationOptions(BaseModel):
    model_config = ConfigDict(extra="forbid")

    policy: Literal["keep", "coarsen", "drop"] = "keep"


@dataclass(frozen=True)
class LocationPolicy:
    name: str
    policy: str

    def review(self, subject: Subject) -> Verdict:
        gps = subject.exif.get("gps")
        if not gps or self.policy == "keep":
            return Verdict(Outcome.PASS, details={"gps": self.policy if gps else "none"})
        exif = {key: value for key, value in subject.exif.items() if key != "gps"}
        if self.policy == "coarsen":
            exif["gps"] = {
                "latitude": round(gps["latitude"], COARSE_DECIMALS),
                "longitude": round(gps["longitude"], COARSE_DECIMALS),
            }
        return Verdict(Outcome.PASS, details={"gps": self.policy}, exif=exif)


def build(name: str, options: Mapping[str, Any], tools: CheckTools) -> LocationPolicy:
    return LocationPolicy(name, LocationOptions.model_validate(options).policy)
