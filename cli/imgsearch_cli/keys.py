"""``imgsearch keys create|list|revoke``: API keys for programs (admins only).

A key is shown once, when it is made: ``create`` prints it alone on stdout, so a script can
capture it, and what it is plus a warning on stderr. The server keeps only a hash and the key's
prefix (``isk_`` and 8 more characters), which ``list`` shows and ``revoke`` takes; ``revoke``
also takes a whole key (a leaked one, say) and sends only its prefix.
"""

from __future__ import annotations

import argparse
import re
from typing import Any

from rich.console import Console

from imgsearch_cli.auth import PREFIX_LENGTH
from imgsearch_cli.client import ROLES, Client
from imgsearch_cli.table import print_aligned, short_time

DURATION = re.compile(r"([0-9]+)([dhms])")
SECONDS_PER = {"d": 86_400, "h": 3_600, "m": 60, "s": 1}
PREFIX = re.compile(r"isk_[A-Za-z0-9_-]{8}")


def parse_expiry(value: str) -> int:
    """``30d``, ``12h``, ``90m`` or ``3600s`` as seconds."""
    match = DURATION.fullmatch(value.strip())
    if match is None or int(match[1]) == 0:
        raise argparse.ArgumentTypeError(
            f"{value!r} is not a duration: a whole number above 0 and d, h, m or s (30d, 12h)"
        )
    return int(match[1]) * SECONDS_PER[match[2]]


def parse_prefix(value: str) -> str:
    prefix = value.strip()[:PREFIX_LENGTH]
    if not PREFIX.fullmatch(prefix):  # the message must not echo value: it may be a whole key
        raise argparse.ArgumentTypeError(
            "give the key's prefix, isk_ and the 8 characters after it, as `keys list` shows it"
        )
    return prefix


def add_parser(
    commands: argparse._SubParsersAction[argparse.ArgumentParser], common: argparse.ArgumentParser
) -> None:
    keys = commands.add_parser("keys", help="API keys for programs (admins only)")
    actions = keys.add_subparsers(dest="keys_command", required=True, metavar="ACTION")
    create = actions.add_parser(
        "create",
        parents=[common],
        help="make a key and print it, this once",
        description="Prints the new key alone on stdout (e.g. KEY=$(imgsearch keys create …)); "
        "the server keeps only its hash, so store it now.",
    )
    create.add_argument("--name", required=True, help="what the key is for, e.g. ci")
    create.add_argument("--role", required=True, choices=ROLES, help="what the key may do")
    create.add_argument(
        "--expires",
        type=parse_expiry,
        metavar="DURATION",
        help="expire after DURATION: 30d, 12h, 90m or 3600s (default: never)",
    )
    create.add_argument("--json", action="store_true", help="print the API's answer, key included")
    listing = actions.add_parser(
        "list", parents=[common], help="every key: prefix, name, role and times (UTC)"
    )
    listing.add_argument("--json", action="store_true", help="print the API's JSON answer")
    revoke = actions.add_parser("revoke", parents=[common], help="refuse a key from now on")
    revoke.add_argument("prefix", type=parse_prefix, metavar="PREFIX", help="e.g. isk_abcd1234")


def run(client: Client, args: argparse.Namespace, out: Console, err: Console) -> int:
    if args.keys_command == "create":
        return create(client, args, out, err)
    if args.keys_command == "list":
        return list_keys(client, args.json, out)
    client.revoke_key(args.prefix)
    out.print(f"Revoked API key {args.prefix}.", highlight=False)
    return 0


def create(client: Client, args: argparse.Namespace, out: Console, err: Console) -> int:
    made = client.create_key(args.name, args.role, args.expires)
    if args.json:
        out.print_json(data=made)
        return 0
    expires = f"until {short_time(made.get('expires_at'))} UTC" if made.get("expires_at") else ""
    what = ", ".join(filter(None, [f"role {made.get('role')}", expires]))
    err.print(
        f"Made API key {made.get('prefix')} “{made.get('name')}” ({what}).",
        soft_wrap=True,
        highlight=False,
        markup=False,
    )
    err.print(
        "[yellow]Store it now:[/] it is shown this once; the server keeps only its hash.",
        soft_wrap=True,
    )
    out.print(made["key"], soft_wrap=True, highlight=False, markup=False)
    return 0


def list_keys(client: Client, as_json: bool, out: Console) -> int:
    answer = client.keys()
    if as_json:
        out.print_json(data=answer)
        return 0
    keys: list[dict[str, Any]] = answer.get("keys", [])
    if not keys:
        out.print("No API keys.")
        return 0
    header = ("prefix", "name", "role", "created", "expires", "last used", "revoked")
    rows = [
        (
            key["prefix"],
            key.get("name") or "",
            key.get("role") or "",
            short_time(key.get("created_at")),
            short_time(key.get("expires_at"), "never"),
            short_time(key.get("last_used_at"), "never"),
            short_time(key.get("revoked_at")),
        )
        for key in keys
    ]
    print_aligned(out, header, rows)
    return 0
