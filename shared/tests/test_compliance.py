"""The built-in compliance checks decide on what they see, and the loader builds exactly the
configured checks: built-ins by kind, others from the ``imagesearch.compliance`` entry points,
and it refuses (never skips) a check it cannot build."""

from __future__ import annotations

import textwrap
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from shared.compliance import (
    ENTRY_POINT_GROUP,
    CheckTools,
    ComplianceConfigError,
    Outcome,
    Subject,
    load_checks,
)
from shared.config import ComplianceCheckSettings, ComplianceSettings
from shared.imaging import decode_image
from tests.support.images import encode, jpeg_with_exif, picture

AXES = np.eye(3, dtype=np.float32)  # "red", "green", "blue" as orthogonal directions


def texts_as_axes(texts: list[str]) -> np.ndarray:
    """A stand-in text tower: each colour word is one axis."""
    words = ["red", "green", "blue"]
    return np.stack([AXES[next(i for i, w in enumerate(words) if w in t)] for t in texts])


TOOLS = CheckTools(embed_texts=texts_as_axes)


def checks(*entries: dict[str, Any]) -> list[Any]:
    return load_checks([ComplianceCheckSettings(**entry) for entry in entries], TOOLS)


def subject(data: bytes | None = None, embedding: tuple[float, ...] = (0.0, 1.0, 0.0)) -> Subject:
    decoded = decode_image(data or encode(picture(80, 60, (200, 0, 0)), "PNG"), 10_000_000)
    vector = np.asarray(embedding, dtype=np.float32)
    return Subject(
        "a" * 64,
        decoded.image,
        decoded.info,
        decoded.exif,
        vector / np.linalg.norm(vector),
        "x.png",
        "upload",
    )


# --- format_policy


def test_format_policy_rejects_a_format_not_listed() -> None:
    (check,) = checks({"name": "formats", "kind": "format_policy", "formats": ["JPEG", "webp"]})
    verdict = check.review(subject())
    assert verdict.outcome is Outcome.REJECT
    assert verdict.reason == "png images are not accepted here (allowed: jpeg, webp)"
    assert verdict.details == {"format": "png", "width": 80, "height": 60}


def test_format_policy_passes_an_image_within_every_bound() -> None:
    (check,) = checks(
        {
            "name": "formats",
            "kind": "format_policy",
            "formats": ["png"],
            "min_width": 80,
            "max_height": 60,
            "max_pixels": 4800,
        }
    )
    assert check.review(subject()).outcome is Outcome.PASS


@pytest.mark.parametrize(
    ("bounds", "reason"),
    [
        ({"min_width": 100}, "80x60 is smaller than the minimum 100x1"),
        ({"max_height": 50}, "60 px high is more than the maximum 50"),
        ({"max_pixels": 4000}, "80x60 has more than 4000 pixels"),
    ],
)
def test_format_policy_holds_an_image_outside_a_size_bound(
    bounds: dict[str, int], reason: str
) -> None:
    entry = {"name": "size", "kind": "format_policy", "outcome": "quarantine", **bounds}
    (check,) = checks(entry)
    verdict = check.review(subject())
    assert (verdict.outcome, verdict.reason) == (Outcome.QUARANTINE, reason)


# --- zero_shot


def test_zero_shot_matches_at_the_threshold_and_records_every_score() -> None:
    (rule,) = checks(
        {
            "name": "reds",
            "kind": "zero_shot",
            "prompts": ["a red thing", "a blue thing"],
            "threshold": 0.6,
        }
    )
    verdict = rule.review(subject(embedding=(0.8, 0.0, 0.6)))
    assert verdict.outcome is Outcome.QUARANTINE
    assert verdict.reason == "matches 'a red thing' (score 0.800 >= 0.6)"
    assert verdict.details == {
        "scores": {"a red thing": 0.8, "a blue thing": 0.6},
        "threshold": 0.6,
    }


def test_zero_shot_passes_when_no_prompt_reaches_the_threshold() -> None:
    (rule,) = checks(
        {
            "name": "reds",
            "kind": "zero_shot",
            "prompts": ["a red thing"],
            "threshold": 0.9,
            "outcome": "reject",
        }
    )
    verdict = rule.review(subject(embedding=(0.8, 0.0, 0.6)))
    assert verdict.outcome is Outcome.PASS
    assert verdict.details["scores"] == {"a red thing": 0.8}


def test_zero_shot_embeds_its_prompts_once_when_built() -> None:
    calls: list[list[str]] = []

    def counting(texts: list[str]) -> np.ndarray:
        calls.append(texts)
        return texts_as_axes(texts)

    entry = {"name": "reds", "kind": "zero_shot", "prompts": ["red"], "threshold": 0.5}
    (rule,) = load_checks([ComplianceCheckSettings(**entry)], CheckTools(embed_texts=counting))
    for _ in range(3):
        rule.review(subject())
    assert calls == [["red"]]


# --- location


def located() -> Subject:
    return subject(jpeg_with_exif())


def test_location_coarsens_gps_to_two_decimals_and_drops_altitude() -> None:
    (policy,) = checks({"name": "gps", "kind": "location", "policy": "coarsen"})
    before = located()
    assert before.exif["gps"]["latitude"] == pytest.approx(-33.86)  # the fixture's position
    verdict = policy.review(before)
    assert verdict.outcome is Outcome.PASS
    assert verdict.exif is not None
    assert verdict.exif["gps"] == {"latitude": -33.86, "longitude": 151.21}
    assert verdict.exif["make"] == before.exif["make"]  # the rest of the metadata stays


def test_location_drop_removes_the_position() -> None:
    (policy,) = checks({"name": "gps", "kind": "location", "policy": "drop"})
    verdict = policy.review(located())
    assert verdict.exif is not None and "gps" not in verdict.exif
    assert "make" in verdict.exif


def test_location_keep_changes_nothing() -> None:
    (policy,) = checks({"name": "gps", "kind": "location"})
    verdict = policy.review(located())
    assert (verdict.outcome, verdict.exif) == (Outcome.PASS, None)


# --- the loader


def test_loader_builds_the_checks_in_their_configured_order() -> None:
    built = checks(
        {"name": "gps", "kind": "location", "policy": "drop"},
        {"name": "formats", "kind": "format_policy"},
    )
    assert [check.name for check in built] == ["gps", "formats"]


def test_an_unknown_kind_stops_the_start_with_the_known_kinds() -> None:
    with pytest.raises(ComplianceConfigError) as refused:
        checks({"name": "nsfw", "kind": "nsfw_detector"})
    message = str(refused.value)
    assert "compliance check 'nsfw' (kind 'nsfw_detector'): no such kind" in message
    assert "format_policy, location, zero_shot" in message
    assert ENTRY_POINT_GROUP in message


@pytest.mark.parametrize(
    ("entry", "problem"),
    [
        ({"kind": "zero_shot", "prompts": [], "threshold": 0.3}, "prompts:"),
        ({"kind": "zero_shot", "prompts": ["x red"], "threshold": 2}, "threshold:"),
        ({"kind": "location", "policy": "blur"}, "policy:"),
        ({"kind": "format_policy", "formats": ["png"], "max_size": 5}, "max_size:"),
        ({"kind": "format_policy", "outcome": "pass"}, "outcome:"),
    ],
)
def test_options_a_built_in_does_not_accept_stop_the_start(
    entry: dict[str, Any], problem: str
) -> None:
    with pytest.raises(ComplianceConfigError, match=f"compliance check 'c' .*{problem}"):
        checks({"name": "c", **entry})


def test_two_checks_may_not_share_a_name() -> None:
    with pytest.raises(ValueError, match="a name of its own"):
        ComplianceSettings.model_validate(
            {"checks": [{"name": "a", "kind": "location"}, {"name": "a", "kind": "location"}]}
        )


# --- third-party checks


def install(site: Path, module: str, source: str, kind: str) -> None:
    """Lay out an installed distribution: a module and a dist-info naming it as a check."""
    (site / f"{module}.py").write_text(textwrap.dedent(source))
    info = site / f"{module}-1.0.dist-info"
    info.mkdir()
    (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {module}\nVersion: 1.0\n")
    (info / "entry_points.txt").write_text(f"[{ENTRY_POINT_GROUP}]\n{kind} = {module}:build\n")


SMALL_CHECK = """
    from dataclasses import dataclass

    from shared.compliance import Outcome, Verdict


    @dataclass(frozen=True)
    class NoWideImages:
        name: str
        max_ratio: float

        def review(self, subject):
            ratio = subject.info.width / subject.info.height
            if ratio > self.max_ratio:
                return Verdict(Outcome.REJECT, f"{ratio:.2f}:1 is too wide")
            return Verdict(Outcome.PASS)


    def build(name, options, tools):
        return NoWideImages(name, float(options["max_ratio"]))
"""


def test_an_installed_check_loads_from_its_entry_point(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    install(tmp_path, "acme_wide_check", SMALL_CHECK, "acme_no_wide")
    monkeypatch.syspath_prepend(str(tmp_path))
    (check,) = checks({"name": "wide", "kind": "acme_no_wide", "max_ratio": 1.2})
    verdict = check.review(subject())  # 80x60: 1.33
    assert (check.name, verdict.outcome, verdict.reason) == (
        "wide",
        Outcome.REJECT,
        "1.33:1 is too wide",
    )


def test_an_installed_check_whose_factory_fails_stops_the_start(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    install(tmp_path, "acme_broken_check", SMALL_CHECK, "acme_broken")
    monkeypatch.syspath_prepend(str(tmp_path))
    with pytest.raises(ComplianceConfigError, match="could not be built: 'max_ratio'"):
        checks({"name": "broken", "kind": "acme_broken"})


def test_an_entry_point_that_returns_no_check_stops_the_start(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    install(tmp_path, "acme_nothing", "def build(name, options, tools):\n    return 42\n", "nil")
    monkeypatch.syspath_prepend(str(tmp_path))
    with pytest.raises(ComplianceConfigError, match="did not return a ComplianceCheck"):
        checks({"name": "nothing", "kind": "nil"})
