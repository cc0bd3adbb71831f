"""``imgsearch``, the command line. Exit status: 0 all good, 1 a file failed, a library problem
is left unrepaired, ``whoami`` is not signed in or a capture waited for did not end done, 2 usage,
credentials or server."""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
from pathlib import Path

import httpx
from rich.console import Console
from rich.markup import escape
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from imgsearch_cli import __version__, admin, backup, cameras, keys, users
from imgsearch_cli.auth import (
    DEFAULT_FILE,
    FILE_VARIABLE,
    KEY_VARIABLE,
    Credential,
    CredentialsError,
    refusal_hint,
    resolve_credential,
    whoami,
)
from imgsearch_cli.client import DEFAULT_URL, REFUSED_STATUSES, ApiError, Client
from imgsearch_cli.ingest import MAX_TAGS, Ingest, Summary, collect_files, parse_tags
from imgsearch_cli.search import print_json, print_table, run_search

out, err = Console(), Console(stderr=True)


def build_parser() -> argparse.ArgumentParser:
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument(
        "--url",
        default=os.environ.get("IMGSEARCH_URL", DEFAULT_URL),
        help="the server's front door (env IMGSEARCH_URL; default %(default)s)",
    )
    common.add_argument(
        "--api-key",
        metavar="KEY",
        help=f"the API key to send (visible to other local users in ps: prefer {KEY_VARIABLE})",
    )
    uploads = argparse.ArgumentParser(add_help=False)
    uploads.add_argument("--batch-size", type=int, default=8, help="files per request (8)")
    uploads.add_argument("--concurrency", type=int, default=4, help="requests in flight (4)")
    uploads.add_argument("--timeout", type=float, default=600, help="give up after SECONDS (600)")
    uploads.add_argument("--json", action="store_true", help="print the summary as JSON")
    uploads.add_argument(
        "--tag",
        dest="tags",
        action="extend",
        type=parse_tags,
        default=[],
        metavar="TAG",
        help="tag every file with TAG (repeatable, or comma-separated)",
    )

    parser = argparse.ArgumentParser(
        prog="imgsearch",
        description="Ingest images into an Image search server and search them. "
        f"Sends `Authorization: Bearer KEY` with the first API key of: --api-key, {KEY_VARIABLE}, "
        f"the file {FILE_VARIABLE} names, ./{DEFAULT_FILE} (files of NAME=value lines, as "
        f"`make dev` writes; the key is their {KEY_VARIABLE}).",
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    ingest = commands.add_parser("ingest", parents=[common, uploads], help="upload files, folders")
    ingest.add_argument("paths", nargs="+", type=Path, metavar="PATH", help="files or folders")

    search = commands.add_parser("search", parents=[common], help="search by text or by picture")
    search.add_argument("text", nargs="?", help="what the picture shows, e.g. 'a red circle'")
    search.add_argument("--image", type=Path, help="search with this picture instead of text")
    search.add_argument("--limit", type=int, default=20, help="hits to show (20)")
    search.add_argument("--offset", type=int, default=0, help="skip this many hits (0)")
    search.add_argument("--json", action="store_true", help="print the API's JSON answer")

    demo = commands.add_parser(
        "demo", parents=[common, uploads], help="ingest generated coloured-shape pictures"
    )
    demo.add_argument("--count", type=int, default=48, help="pictures to make (48)")
    demo.add_argument("--seed", type=int, default=1, help="which pictures (1)")

    admin_parser = commands.add_parser("admin", help="look after the library")
    admin_commands = admin_parser.add_subparsers(
        dest="admin_command", required=True, metavar="TOOL"
    )
    verify = admin_commands.add_parser(
        "verify",
        parents=[common],
        help="check that the catalog, the stored bytes and the index agree",
        description="Exit status: 0 no problem left, 1 problems left unrepaired, 2 errors.",
    )
    verify.add_argument("--repair", action="store_true", help="mend what can be mended")
    verify.add_argument("--json", action="store_true", help="print the API's JSON answer")
    backup.add_parsers(admin_commands)

    cameras.add_parser(commands, common)
    keys.add_parser(commands, common)
    users.add_parser(commands, common)
    me = commands.add_parser(
        "whoami",
        parents=[common],
        help="who the server takes the API key for",
        description="Exit status: 0 signed in, 1 not (no key, or one the server refuses).",
    )
    me.add_argument("--json", action="store_true", help="print the API's JSON answer")
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.command == "search" and (args.text is None) == (args.image is None):
        parser.error("search needs either TEXT or --image PATH")
    if len(set(getattr(args, "tags", []))) > MAX_TAGS:
        parser.error(f"at most {MAX_TAGS} tags per image")
    if args.command == "users":
        users.check_args(parser, args)
    if args.command == "admin" and args.admin_command in ("backup", "restore"):
        return backup.run(args, out, error)  # no API, no credentials: straight to the stores
    credential = Credential(None)
    try:
        credential = resolve_credential(args.api_key, os.environ, args.url)
        with Client(args.url, credential.key) as client:
            return run_command(client, args, credential)
    except (FileNotFoundError, CredentialsError) as exc:
        error(str(exc))
    except ApiError as exc:
        error(f"the server answered {exc.status}: {exc}")
        if exc.status in REFUSED_STATUSES:
            err.print(f"hint: {refusal_hint(exc.status, credential)}", soft_wrap=True, markup=False)
    except httpx.TransportError as exc:
        error(f"could not reach {args.url}: {exc}")
    return 2


def error(message: str) -> None:
    """One line on stderr, never wrapped (greppable); the message is text, not markup."""
    err.print(f"[red]error:[/] {escape(message)}", soft_wrap=True, highlight=False)


def run_command(client: Client, args: argparse.Namespace, credential: Credential) -> int:
    if args.command == "admin":
        return admin.verify(client, args.repair, args.json, out)
    if args.command == "search":
        return search_command(client, args)
    if args.command == "demo":
        return demo_command(client, args)
    if args.command == "cameras":
        return cameras.run_cameras(client, args, out)
    if args.command == "capture":
        return cameras.run_capture(client, args, out)
    if args.command == "keys":
        return keys.run(client, args, out, err)
    if args.command == "users":
        return users.run(client, args, out)
    if args.command == "whoami":
        return whoami(client, credential, args.json, out)
    return ingest_command(client, args, collect_files(args.paths))


def search_command(client: Client, args: argparse.Namespace) -> int:
    answer = run_search(client, args.text, args.image, args.limit, args.offset)
    if args.json:
        print_json(answer, client, out)
        return 0
    if (answer.get("model") or {}).get("demo"):
        err.print("[yellow]note:[/] the server runs the demo model: it only knows coloured shapes.")
    print_table(answer, client, out, args.offset)
    return 0


def ingest_command(client: Client, args: argparse.Namespace, files: list[Path]) -> int:
    if not files:
        error("no files found (hidden files are skipped)")
        return 2
    columns = (TextColumn("{task.description:<10}"), BarColumn(), MofNCompleteColumn())
    with Progress(
        *columns, TimeElapsedColumn(), console=err, disable=not err.is_terminal
    ) as progress:
        tasks = {
            "uploaded": progress.add_task("Uploading", total=len(files)),
            "finished": progress.add_task("Indexing", total=len(files)),
        }
        ingest = Ingest(
            client,
            batch_size=max(1, args.batch_size),
            concurrency=max(1, args.concurrency),
            timeout=args.timeout,
            on_event=lambda kind, count: progress.advance(tasks[kind], count),
            tags=list(dict.fromkeys(args.tags)),
        )
        summary = ingest.run(files)
    if args.json:
        out.print_json(data=summary.as_dict())
    else:
        print_summary(summary)
    return 0 if summary.ok else 1


def print_summary(summary: Summary) -> None:
    c = summary.counts
    total = len(summary.results)
    line = f"{c['done']} done, {c['duplicate']} duplicate, {c['failed']} failed"
    if c["quarantined"]:
        line += f", {c['quarantined']} quarantined (an admin decides)"
    if c["unfinished"]:
        line += f", {c['unfinished']} unfinished"
    files = "file" if total == 1 else "files"
    out.print(f"{total} {files} in {summary.seconds:.1f} s: {line}", soft_wrap=True)
    for item in summary.problems():  # one line each, not wrapped: greppable
        out.print(f"{item.state:<10} {item.path}: {item.reason}", soft_wrap=True, markup=False)


def demo_command(client: Client, args: argparse.Namespace) -> int:
    try:
        from imagesearch_samples.shapes import save_samples
    except ImportError:
        error(
            "`imgsearch demo` needs the `demo` extra (imgsearch-cli[demo]); "
            "in the repository, `make demo` has it"
        )
        return 2
    with tempfile.TemporaryDirectory(prefix="imgsearch-demo-") as folder:
        files = save_samples(folder, args.count, args.seed, "PNG")
        err.print(f"Made {len(files)} pictures of coloured shapes; ingesting them…")
        status = ingest_command(client, args, files)
    if status == 0 and not args.json:
        url = f"{client.base_url}/?q=a+red+circle"
        out.print(f"Now try: imgsearch search 'a red circle'   or open {url}", soft_wrap=True)
    return status


if __name__ == "__main__":
    sys.exit(main())
