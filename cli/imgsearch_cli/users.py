"""``imgsearch users list|create|set|reset-password``: people who sign in to the page (admins only).

Passwords never go on the command line, where the shell's history and ``ps`` would keep them:
they are typed at a terminal, twice, unechoed, or read with ``--password-stdin`` from the first
line of standard input (for scripts). With neither a terminal nor that flag the command refuses
before it sends anything, rather than wait on a prompt nobody sees.
"""

from __future__ import annotations

import argparse
import getpass
import sys
from typing import Any

from rich.console import Console

from imgsearch_cli.auth import CredentialsError
from imgsearch_cli.client import ROLES, Client
from imgsearch_cli.table import print_aligned, short_time


def add_parser(
    commands: argparse._SubParsersAction[argparse.ArgumentParser], common: argparse.ArgumentParser
) -> None:
    users = commands.add_parser("users", help="people who sign in to the page (admins only)")
    actions = users.add_subparsers(dest="users_command", required=True, metavar="ACTION")
    listing = actions.add_parser("list", parents=[common], help="every user, times in UTC")
    listing.add_argument("--json", action="store_true", help="print the API's JSON answer")

    password = argparse.ArgumentParser(add_help=False)
    password.add_argument(
        "--password-stdin",
        action="store_true",
        help="read the password from stdin's first line instead of asking twice at the terminal",
    )
    create = actions.add_parser("create", parents=[common, password], help="add a user")
    create.add_argument("name", metavar="NAME", help="the username to sign in with")
    create.add_argument("--role", required=True, choices=ROLES, help="what the user may do")

    change = actions.add_parser(
        "set", parents=[common], help="change a user's role, or disable or enable them"
    )
    change.add_argument("name", metavar="NAME", help="the username")
    change.add_argument("--role", choices=ROLES, help="the new role")
    enabled = change.add_mutually_exclusive_group()
    enabled.add_argument(
        "--disable", dest="disabled", action="store_const", const=True, help="refuse sign-ins"
    )
    enabled.add_argument(
        "--enable", dest="disabled", action="store_const", const=False, help="allow sign-ins"
    )

    reset = actions.add_parser(
        "reset-password",
        parents=[common, password],
        help="set a new password; the user's sessions end",
    )
    reset.add_argument("name", metavar="NAME", help="the username")


def check_args(parser: argparse.ArgumentParser, args: argparse.Namespace) -> None:
    if args.users_command == "set" and args.role is None and args.disabled is None:
        parser.error("users set needs --role, --disable or --enable")


def run(client: Client, args: argparse.Namespace, out: Console) -> int:
    if args.users_command == "list":
        return list_users(client, args.json, out)
    if args.users_command == "create":
        password = read_password(args.name, args.password_stdin)
        user = client.create_user(args.name, password, args.role)
        out.print(f"Made user {describe(user)}.", highlight=False, markup=False)
    elif args.users_command == "set":
        changes = {"role": args.role, "disabled": args.disabled}
        user = client.update_user(args.name, {k: v for k, v in changes.items() if v is not None})
        out.print(f"User {describe(user)}.", highlight=False, markup=False)
    else:
        client.set_password(args.name, read_password(args.name, args.password_stdin))
        out.print(f"Set a new password for {args.name}; their sessions have ended.", markup=False)
    return 0


def read_password(name: str, from_stdin: bool) -> str:
    if from_stdin:
        password = sys.stdin.readline().rstrip("\r\n")
    elif not sys.stdin.isatty():
        raise CredentialsError(
            "stdin is not a terminal, so the password cannot be asked for: "
            "give it on stdin with --password-stdin"
        )
    else:
        password = getpass.getpass(f"Password for {name}: ")
        if password != getpass.getpass("The same again: "):
            raise CredentialsError("the two passwords differ; nothing was changed")
    if not password:
        raise CredentialsError("the password is empty; nothing was changed")
    return password


def describe(user: dict[str, Any]) -> str:
    state = "disabled" if user.get("disabled") else "active"
    return f"{user.get('username')}: role {user.get('role')}, {state}"


def list_users(client: Client, as_json: bool, out: Console) -> int:
    answer = client.users()
    if as_json:
        out.print_json(data=answer)
        return 0
    users: list[dict[str, Any]] = answer.get("users", [])
    rows = [
        (
            user["username"],
            user.get("role") or "",
            "disabled" if user.get("disabled") else "active",
            short_time(user.get("created_at")),
        )
        for user in users
    ]
    print_aligned(out, ("username", "role", "state", "created"), rows)
    return 0
