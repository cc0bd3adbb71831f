"""Build the configured checks, once, when the worker starts.

A check's ``kind`` names a built-in (``format_policy``, ``zero_shot``, ``location``) or an entry
point in the group ``imagesearch.compliance`` whose object is a factory
``factory(name, options, tools) -> ComplianceCheck``. A kind that is neither, a factory that
fails, or options a built-in does not accept stop the start with ``ComplianceConfigError``:
a configured check is never silently skipped.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from importlib.metadata import entry_points
from typing import Any

from pydantic import ValidationError

from shared.compliance import format_policy, location, zero_shot
from shared.compliance.checks import CheckFactory, CheckTools, ComplianceCheck
from shared.config import ComplianceCheckSettings

ENTRY_POINT_GROUP = "imagesearch.compliance"
BUILT_INS: Mapping[str, CheckFactory] = {
    "format_policy": format_policy.build,
    "zero_shot": zero_shot.build,
    "location": location.build,
}


class ComplianceConfigError(Exception):
    """The configured checks cannot be built; the message says which one and why."""


def load_checks(
    configured: Sequence[ComplianceCheckSettings], tools: CheckTools
) -> list[ComplianceCheck]:
    return [_build(entry, tools) for entry in configured]


def _build(entry: ComplianceCheckSettings, tools: CheckTools) -> ComplianceCheck:
    where = f"compliance check {entry.name!r} (kind {entry.kind!r})"
    factory = BUILT_INS.get(entry.kind) or _entry_point(entry.kind, where)
    try:
        check = factory(entry.name, entry.options, tools)
    except ValidationError as exc:
        problems = "; ".join(_problem(error) for error in exc.errors())
        raise ComplianceConfigError(f"{where}: {problems}") from exc
    except Exception as exc:  # a third party's factory: say which check failed, keep the cause
        raise ComplianceConfigError(f"{where} could not be built: {exc}") from exc
    if not isinstance(check, ComplianceCheck):
        raise ComplianceConfigError(f"{where}: its factory did not return a ComplianceCheck")
    return check


def _entry_point(kind: str, where: str) -> CheckFactory:
    found = entry_points(group=ENTRY_POINT_GROUP, name=kind)
    if not found:
        known = sorted({*BUILT_INS, *(ep.name for ep in entry_points(group=ENTRY_POINT_GROUP))})
        raise ComplianceConfigError(
            f"{where}: no such kind; known kinds are {', '.join(known)} "
            f"(installed checks register in the entry-point group {ENTRY_POINT_GROUP!r})"
        )
    try:
        factory: CheckFactory = next(iter(found)).load()
    except Exception as exc:
        raise ComplianceConfigError(f"{where}: its entry point does not load: {exc}") from exc
    return factory


def _problem(error: Mapping[str, Any]) -> str:
    field = ".".join(str(part) for part in error["loc"]) or "options"
    return f"{field}: {error['msg']}"
