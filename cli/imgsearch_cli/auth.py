"""The CLI's credential: where its API key comes from, how messages name it, ``imgsearch whoami``.

The key is the first of: ``--api-key``; ``IMGSEARCH_API_KEY``; the file ``IMGSEARCH_CREDENTIALS``
names; ``./data/admin-credentials`` when it exists (what ``make dev`` writes) and the server is
on this machine (that admin key is for the local stack, never sent elsewhere). A credentials file
holds shell-style ``NAME=value`` lines (``export`` and quotes allowed, ``#`` comments ignored);
the key is its ``IMGSEARCH_API_KEY``. A file that is named or present but unreadable, or has no
key, is an error rather than a silent anonymous call.

A key is never printed whole: messages name it by its listable prefix (``isk_`` and 8 more
characters) and say where it came from, so a refusal can be traced to the file or variable.
"""

from __future__ import annotations

import ipaddress
import re
import shlex
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from rich.console import Console

from imgsearch_cli.client import Client
from imgsearch_cli.table import short_time

KEY_VARIABLE = "IMGSEARCH_API_KEY"
FILE_VARIABLE = "IMGSEARCH_CREDENTIALS"
DEFAULT_FILE = Path("data") / "admin-credentials"
KEY_MARK, PREFIX_LENGTH = "isk_", 12
HEADER_SAFE = re.compile(r"[!-~]+")  # printable ASCII, no blanks


class CredentialsError(Exception):
    """A credential could not be had: an unreadable credentials file, or a password not given."""


@dataclass(frozen=True)
class Credential:
    key: str | None = field(repr=False)  # kept out of reprs: tracebacks and test reports
    source: str = ""  # where the key came from, as messages say it

    def describe(self) -> str:
        if self.key is None:
            return "no API key"
        return f"API key {redact(self.key)} from {self.source}"


def redact(key: str) -> str:
    """A key as messages may show it: its prefix, which the admin API lists anyway."""
    if key.startswith(KEY_MARK) and len(key) > PREFIX_LENGTH:
        return f"{key[:PREFIX_LENGTH]}…"
    return "(not an isk_… key)"  # even a few characters of an unknown secret are too many


def is_local(url: str) -> bool:
    host = urlsplit(url).hostname or ""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def resolve_credential(flag: str | None, environ: Mapping[str, str], url: str) -> Credential:
    if flag:
        return checked(flag, "--api-key")
    if environ.get(KEY_VARIABLE):
        return checked(environ[KEY_VARIABLE], KEY_VARIABLE)
    if environ.get(FILE_VARIABLE):
        path = Path(environ[FILE_VARIABLE])
        return checked(read_key_file(path), f"{path} ({FILE_VARIABLE})")
    if DEFAULT_FILE.exists() and is_local(url):
        return checked(read_key_file(DEFAULT_FILE), str(DEFAULT_FILE))
    return Credential(None)


def checked(key: str, source: str) -> Credential:
    """Surrounding blanks dropped; a key that could not go in a header is refused here, since
    the HTTP library's own error would quote the header, key and all."""
    key = key.strip()
    if not HEADER_SAFE.fullmatch(key):
        raise CredentialsError(f"the API key from {source} has blanks or unusual characters in it")
    return Credential(key, source)


def read_key_file(path: Path) -> str:
    try:
        text = path.read_text()
    except OSError as exc:
        raise CredentialsError(f"cannot read the credentials file {path}: {exc.strerror}") from None
    key = parse_credentials(text).get(KEY_VARIABLE)
    if not key:
        raise CredentialsError(f"the credentials file {path} has no {KEY_VARIABLE}= line")
    return key


def parse_credentials(text: str) -> dict[str, str]:
    """``NAME=value`` lines as a shell would read them; other lines are ignored."""
    found: dict[str, str] = {}
    for line in text.splitlines():
        line = line.strip()
        if line.startswith("export "):
            line = line.removeprefix("export ").lstrip()
        name, equals, value = line.partition("=")
        if not equals or not name.isidentifier():  # a comment, a blank or another kind of line
            continue
        try:
            words = shlex.split(value, comments=True)
        except ValueError:  # an unclosed quote: not a line a shell would accept either
            continue
        found[name] = " ".join(words)
    return found


def refusal_hint(status: int, credential: Credential) -> str:
    """What to check after a 401 or 403, naming the credential that was sent."""
    if credential.key is None:
        return (
            f"no API key was sent: pass --api-key, set {KEY_VARIABLE} or {FILE_VARIABLE}, "
            f"or run where {DEFAULT_FILE} is"
        )
    if status == 401:
        return f"sent {credential.describe()}: is it revoked or expired?"
    return f"sent {credential.describe()}: `imgsearch whoami` shows its role"


def whoami(client: Client, credential: Credential, as_json: bool, out: Console) -> int:
    """0 when the server knows the credential, 1 when it does not (or none was sent)."""
    me = client.me()
    if as_json:
        out.print_json(data=me)
    else:
        out.print(describe_principal(me), soft_wrap=True, highlight=False, markup=False)
    if not as_json and credential.key is not None:
        verdict = "used" if me.get("authenticated") else "not accepted by the server"
        out.print(f"{credential.describe()}, {verdict}", style="dim", soft_wrap=True)
    return 0 if me.get("authenticated") else 1


def describe_principal(me: dict[str, Any]) -> str:
    if not me.get("authenticated"):
        reads = "reads are public" if me.get("public_read") else "reads need a credential too"
        return f"Not signed in ({reads})."
    kind = "API key" if me.get("kind") == "key" else "user"
    line = f"{me.get('name')}: {kind}, role {me.get('role')}"
    return line + (f", until {short_time(me['expires_at'])}" if me.get("expires_at") else "")
