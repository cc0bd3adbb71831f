"""Signed byte links: ``{path}?exp={E}&sig={S}``, made here and checked by cdnapi (Go).

Both sides must agree byte for byte (``tests/vectors/signed_links.json`` pins it):

- ``E`` is the unix second at which the link stops working, written as a plain decimal integer.
- ``S`` is the unpadded base64url HMAC-SHA256, keyed with the secret's UTF-8 bytes, of
  ``"GET\\n" + path + "\\n" + E``. HEAD is checked as GET; ``path`` is the URL path as served
  (``/images/{id}``, ``/images/{id}/thumb``, ``/images/{id}/variants/{variant_id}``), without a
  query (``redirect=storage`` rides beside ``exp`` and ``sig``, unsigned).
- ``E`` is rounded up to a multiple of a quarter of the TTL, so every answer given within one
  quarter carries the same URL and the browser's cache keeps working; a link asked for with its
  own lifetime (``sign_until``) ends exactly when asked.
- A link whose signature holds but whose ``E`` has passed is *expired*; anything else that does
  not verify (missing, garbled, another path, method or secret) is *bad*.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import math
import time
from enum import StrEnum

# Expiries must fit a signed 64-bit integer, as cdnapi parses them.
_MAX_EXP = 2**63 - 1


class Verdict(StrEnum):
    OK = "ok"
    EXPIRED = "expired"
    BAD = "bad"


class LinkSigner:
    """Signs byte paths for ``ttl_s`` seconds (and at most a quarter more) with ``secret``."""

    def __init__(self, secret: str, ttl_s: int) -> None:
        if not secret:
            raise ValueError("the link signing secret must not be empty")
        if ttl_s < 1:
            raise ValueError(f"a signed link must live at least a second, not {ttl_s}")
        self._key = secret.encode()
        self._ttl_s = ttl_s
        self._step = max(1, ttl_s // 4)

    def sign(self, path: str, now: float | None = None) -> str:
        """``path?exp=E&sig=S``: ``path`` readable until ``E``, at least ``ttl_s`` from ``now``."""
        clock = time.time() if now is None else now
        return self.sign_until(path, math.ceil((clock + self._ttl_s) / self._step) * self._step)

    def sign_until(self, path: str, exp: int) -> str:
        """``path?exp=E&sig=S``: ``path`` readable until the unix second ``exp``, exactly."""
        if not 0 <= exp <= _MAX_EXP:
            raise ValueError(f"a link's expiry is a unix second within 64 bits, not {exp}")
        return f"{path}?exp={exp}&sig={self._signature('GET', path, str(exp))}"

    def verify(
        self, method: str, path: str, exp: str, sig: str, now: float | None = None
    ) -> Verdict:
        """Whether a request for ``path`` carrying ``exp`` and ``sig`` may be served at ``now``."""
        if not _canonical_expiry(exp) or not sig.isascii():
            return Verdict.BAD
        expected = self._signature("GET" if method == "HEAD" else method, path, exp)
        if not hmac.compare_digest(expected.encode(), sig.encode()):
            return Verdict.BAD
        clock = time.time() if now is None else now
        return Verdict.OK if clock < int(exp) else Verdict.EXPIRED

    def _signature(self, method: str, path: str, exp: str) -> str:
        canonical = f"{method}\n{path}\n{exp}".encode()
        digest = hmac.new(self._key, canonical, hashlib.sha256).digest()
        return base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


def _canonical_expiry(exp: str) -> bool:
    """ASCII digits with no sign, space, underscore or leading zero, within 64 bits: the one
    spelling of each expiry, so a link cannot be respelled into another that still verifies."""
    if not (exp.isascii() and exp.isdigit()) or str(int(exp)) != exp:
        return False
    return int(exp) <= _MAX_EXP
