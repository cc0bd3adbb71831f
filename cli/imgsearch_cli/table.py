"""Plain aligned tables, the one way every command prints rows.

Columns are padded to their widest cell and joined by two spaces; the last column is not padded
and lines are never wrapped, so each row stays one greppable line that ``awk`` can split.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from datetime import UTC, datetime

from rich.console import Console


def print_aligned(
    console: Console,
    header: Sequence[str],
    rows: Sequence[Sequence[str]],
    right: Collection[int] = (),
) -> None:
    """``right``: the indexes of columns aligned right (numbers)."""
    widths = [max(len(row[i]) for row in [header, *rows]) for i in range(len(header) - 1)]

    def line(cells: Sequence[str]) -> str:
        aligned = [
            cell.rjust(width) if i in right else cell.ljust(width)
            for i, (cell, width) in enumerate(zip(cells, widths, strict=False))
        ]
        return "  ".join([*aligned, cells[-1]])

    console.print(line(header), style="dim", soft_wrap=True, highlight=False, markup=False)
    for row in rows:
        console.print(line(row), soft_wrap=True, highlight=False, markup=False)


def short_time(value: str | int | float | None, absent: str = "-") -> str:
    """A moment as ``2026-11-30 14:02`` UTC; the API gives ISO 8601 or unix milliseconds."""
    if value is None or value == "":
        return absent
    try:
        if isinstance(value, int | float):
            moment = datetime.fromtimestamp(value / 1000, UTC)
        else:
            moment = datetime.fromisoformat(value)
    except (ValueError, OverflowError, OSError):
        return str(value)  # not a moment we can read: show it as it came
    if moment.tzinfo is not None:
        moment = moment.astimezone(UTC)
    return moment.strftime("%Y-%m-%d %H:%M")
