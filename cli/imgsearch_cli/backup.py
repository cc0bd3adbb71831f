"""``imgsearch admin backup DIR`` and ``imgsearch admin restore DIR``.

Unlike the other commands these do not go through the HTTP API (a backup must not need it up):
they run where the services' configuration is -- conf/*.yaml and the same environment (CONF_DIR,
DATABASE__URL, MINIO__*, MILVUS__*, MODEL__*) -- and talk to the catalog, MinIO and Milvus
directly, with searchapi's code (``searchapi.backup``), imported only when one of them runs.
Exit status: 0 done, 1 backed up but some catalogued image had no original, 2 refused or failed
(nothing restored).
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from rich.console import Console

WHERE = (
    "Run it with the services' configuration and environment (conf/*.yaml, DATABASE__URL, "
    "MINIO__*, MILVUS__*, MODEL__*): it talks to the catalog, MinIO and Milvus directly."
)
STATUS = "Exit status: 0 done, 1 some catalogued image had no original, 2 refused or failed."


def add_parsers(admin_commands: Any) -> None:
    backup = admin_commands.add_parser(
        "backup",
        help="copy the catalog and every stored image into DIR, with a manifest of checksums",
        description=f"{WHERE} {STATUS}",
    )
    backup.add_argument("directory", type=Path, metavar="DIR", help="an empty or new folder")
    backup.add_argument("--force", action="store_true", help="write into a DIR that is not empty")
    restore = admin_commands.add_parser(
        "restore",
        help="bring a backup back into an empty stack and re-index it with the configured model",
        description=f"{WHERE} Every checksum is checked before anything is written. Restart "
        f"searchapi and the workers afterwards. {STATUS}",
    )
    restore.add_argument("directory", type=Path, metavar="DIR", help="a folder backup wrote")
    restore.add_argument(
        "--force", action="store_true", help="replace a stack that already holds images"
    )


def run(args: argparse.Namespace, out: Console, error: Callable[[str], None]) -> int:
    try:
        from searchapi import backup as library
        from shared.catalog.snapshot import SnapshotError
        from shared.errors import ImageSearchError
    except ImportError:
        error(
            f"`imgsearch admin {args.admin_command}` runs where the services are installed "
            "(the repository's .venv, or the searchapi image)"
        )
        return 2
    started = time.perf_counter()
    try:
        if args.admin_command == "backup":
            return print_backup(library.backup(args.directory, args.force), args, out, started)
        return print_restore(library.restore(args.directory, args.force), out, started)
    except ImageSearchError as exc:
        error(exc.detail)
    except SnapshotError as exc:
        error(str(exc))
    return 2


def print_backup(summary: Any, args: argparse.Namespace, out: Console, started: float) -> int:
    seconds = time.perf_counter() - started
    out.print(
        f"Backed up {summary.images} images ({summary.objects} objects, "
        f"{megabytes(summary.bytes)}) and the catalog into {args.directory} in {seconds:.1f} s.",
        soft_wrap=True,
        highlight=False,
    )
    for image_id in summary.missing_originals:  # one line each: greppable
        out.print(f"no original  {image_id}", soft_wrap=True, highlight=False)
    return 1 if summary.missing_originals else 0


def print_restore(summary: Any, out: Console, started: float) -> int:
    seconds = time.perf_counter() - started
    out.print(
        f"Restored {summary.images} images ({summary.objects} objects, "
        f"{megabytes(summary.bytes)}); re-indexed {summary.indexed} into {summary.collection} "
        f"in {seconds:.1f} s. Restart searchapi and the workers.",
        soft_wrap=True,
        highlight=False,
    )
    for image_id in summary.dropped_rows:
        out.print(f"dropped row without an original  {image_id}", soft_wrap=True, highlight=False)
    if summary.backup_model and summary.backup_model != summary.model:
        out.print(f"The backup's index was built with {summary.backup_model}; now {summary.model}.")
    if summary.failed_jobs:
        out.print(f"{summary.failed_jobs} jobs unfinished at backup time are marked failed.")
    return 0


def megabytes(size: int) -> str:
    return f"{size / 1_000_000:.1f} MB"
