"""Where an image's bytes are: the cdnapi URLs the APIs answer with, and the one place they are
made (searchapi's answers, ingestapi's variant answers).

With public reads a byte URL is the plain path (``/images/{id}``). With private reads an
``<img>`` tag cannot send a credential, so the URL carries its own: a link signed with
``signing.secret`` for ``signing.link_ttl_s`` (``shared.signing``), which cdnapi checks. Links
made within the same quarter of the TTL are identical, so browsers keep their cached copies.

A link asked for (``link``: "copy link", a download to hand on) is always signed, even with
public reads, and ends exactly ``ttl`` seconds from now, at most ``signing.max_link_ttl_s``.
"""

from __future__ import annotations

import math
import time

from shared.config import MIN_SECRET_CHARS, AuthSettings, SigningSettings
from shared.errors import DependencyUnavailable, InvalidInput
from shared.signing import LinkSigner


class LinksUnavailable(DependencyUnavailable):
    """No signing secret is configured, so no link can be made (503 until one is)."""

    code = "links-unavailable"

    def __init__(self) -> None:
        super().__init__("link signing", "this server has no link signing secret configured")


def original_path(image_id: str) -> str:
    return f"/images/{image_id}"


def thumb_path(image_id: str) -> str:
    return f"/images/{image_id}/thumb"


def variant_path(image_id: str, variant_id: str) -> str:
    return f"/images/{image_id}/variants/{variant_id}"


class Links:
    """Byte URLs of images, signed by ``reads`` when given (private reads); links on request
    signed by ``links`` (None: no secret, every link asked for is ``LinksUnavailable``)."""

    def __init__(
        self,
        reads: LinkSigner | None,
        links: LinkSigner | None = None,
        default_ttl_s: int = 3600,
        max_ttl_s: int = 604_800,
    ) -> None:
        self._reads = reads
        self._links = links
        self.default_ttl_s = default_ttl_s
        self.max_ttl_s = max_ttl_s

    def original(self, image_id: str) -> str:
        return self._url(original_path(image_id))

    def thumb(self, image_id: str) -> str:
        return self._url(thumb_path(image_id))

    def variant(self, image_id: str, variant_id: str) -> str:
        return self._url(variant_path(image_id, variant_id))

    def link(
        self, path: str, ttl_s: int | None = None, now: float | None = None
    ) -> tuple[str, int]:
        """``path`` signed until ``now + ttl_s`` (default ``signing.link_ttl_s``): (URL, expiry
        as a unix second)."""
        ttl_s = self.default_ttl_s if ttl_s is None else ttl_s
        if not 1 <= ttl_s <= self.max_ttl_s:
            raise InvalidInput(f"ttl is 1 to {self.max_ttl_s} seconds")
        if self._links is None:
            raise LinksUnavailable()
        expires_at = math.ceil((time.time() if now is None else now) + ttl_s)
        return self._links.sign_until(path, expires_at), expires_at

    def _url(self, path: str) -> str:
        return path if self._reads is None else self._reads.sign(path)


def build_links(auth: AuthSettings, signing: SigningSettings) -> Links:
    """Plain byte URLs when reads are public; else signed ones, refusing a missing or short
    secret (cdnapi refuses it too, and would answer every image with 403). Links on request
    need the secret either way; without one they are unavailable."""
    secret = signing.secret.get_secret_value()
    signer = LinkSigner(secret, signing.link_ttl_s) if len(secret) >= MIN_SECRET_CHARS else None
    if signer is None and not auth.public_read:
        raise ValueError(
            f"signing.secret (SIGNING__SECRET) needs at least {MIN_SECRET_CHARS} characters "
            "while reads are private (auth.public_read false): image links are signed with it"
        )
    reads = None if auth.public_read else signer
    return Links(reads, signer, signing.link_ttl_s, signing.max_link_ttl_s)
