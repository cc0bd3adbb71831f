"""Compliance: the checks an image passes before it becomes searchable.

A check (``ComplianceCheck``) reviews a ``Subject`` (the decoded picture, its metadata and its
embedding) and answers a ``Verdict``: pass, reject (nothing is kept) or quarantine (kept for an
admin, never searchable). Checks are listed in config and built once at the worker's start by
``load_checks``: built-ins by kind, others from the entry-point group ``imagesearch.compliance``.
"""

from shared.compliance.checks import (
    CheckTools,
    ComplianceCheck,
    Outcome,
    Subject,
    Verdict,
)
from shared.compliance.loader import ENTRY_POINT_GROUP, ComplianceConfigError, load_checks

__all__ = [
    "ENTRY_POINT_GROUP",
    "CheckTools",
    "ComplianceCheck",
    "ComplianceConfigError",
    "Outcome",
    "Subject",
    "Verdict",
    "load_checks",
]
