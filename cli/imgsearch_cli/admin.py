"""``imgsearch admin verify [--repair]``: do the catalog, the stored bytes and the index agree?

The server does the checking; this prints its report: what it counted, one line per problem
(kind, image id, whether it was repaired, what is wrong) and how many are left. Exit status 0
when none is left unrepaired, 1 when some are (so a cron job or CI step can alert on it).
"""

from __future__ import annotations

import json
from typing import Any

from rich.console import Console

from imgsearch_cli.client import Client
from imgsearch_cli.table import print_aligned

COUNTED = (
    ("catalog", "catalog rows"),
    ("index", "index rows"),
    ("originals", "originals"),
    ("thumbnails", "thumbnails"),
    ("staging", "staged uploads"),
    ("quarantined", "quarantined images"),  # held by a compliance check: bytes, no index row
)


def verify(client: Client, repair: bool, as_json: bool, console: Console) -> int:
    report = client.verify(repair)
    left = unrepaired(report)
    if as_json:
        console.print_json(json.dumps(report))
        return 0 if left == 0 else 1
    print_report(report, console)
    if left and not repair:
        console.print("Run it again with --repair to mend what can be mended.")
    return 0 if left == 0 else 1


def unrepaired(report: dict[str, Any]) -> int:
    problems = report.get("problems", [])
    return int(report.get("unrepaired", sum(not p.get("repaired") for p in problems)))


def print_report(report: dict[str, Any], console: Console) -> None:
    """Counts, then one aligned line per problem (the detail last, not wrapped: greppable)."""
    counts = report.get("counts", {})
    checked = ", ".join(f"{counts.get(key, 0)} {words}" for key, words in COUNTED)
    console.print(f"Checked {checked}.", soft_wrap=True, highlight=False)
    problems = report.get("problems", [])
    if not problems:
        console.print("No problems found.")
        return
    rows = [
        (p["kind"], p["image_id"], "yes" if p.get("repaired") else "no", p.get("detail") or "")
        for p in problems
    ]
    print_aligned(console, ("kind", "image id", "repaired", "detail"), rows)
    left = unrepaired(report)
    noun = "problem" if len(problems) == 1 else "problems"
    console.print(f"{len(problems)} {noun}: {len(problems) - left} repaired, {left} left")
