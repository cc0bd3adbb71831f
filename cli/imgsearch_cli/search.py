"""``imgsearch search``: ranked hits as a table, or the API's JSON."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from rich.console import Console

from imgsearch_cli.client import Client
from imgsearch_cli.table import print_aligned


def run_search(
    client: Client, text: str | None, image: Path | None, limit: int, offset: int
) -> dict[str, Any]:
    if image is not None:
        return client.search_image(image, limit, offset)
    return client.search(text or "", limit, offset)


def print_json(answer: dict[str, Any], client: Client, console: Console) -> None:
    """The API's answer, with absolute URLs so they can be fetched as they are."""
    for hit in answer.get("results", []):
        for key in ("url", "thumb_url"):
            if key in hit:
                hit[key] = client.absolute(hit[key])
    console.print_json(json.dumps(answer))


def print_table(answer: dict[str, Any], client: Client, console: Console, offset: int = 0) -> None:
    """One aligned line per hit, the full URL last (lines are not wrapped: they stay greppable)."""
    hits = answer.get("results", [])
    query = answer.get("query")
    if not hits:
        console.print(f"No images match “{query}”." if query else "No images found.")
        return
    rows = [
        (
            str(rank),
            f"{hit['score']:.3f}" if isinstance(hit.get("score"), int | float) else "",
            hit["id"][:12],
            hit.get("filename") or "",
            f"{hit.get('width', '?')}×{hit.get('height', '?')}",
            hit.get("format") or "",
            client.absolute(hit.get("url") or f"/images/{hit['id']}"),
        )
        for rank, hit in enumerate(hits, start=offset + 1)
    ]
    header = ("#", "score", "id", "filename", "size", "format", "URL")
    if query:
        console.print(f"Best matches for “{query}”", style="bold", highlight=False)
    print_aligned(console, header, rows, right={0, 1, 4})
