"""Where an image's bytes are: the cdnapi URLs searchapi answers with, and the one place they
are made.

With public reads a URL is the plain path (``/images/{id}``). With private reads an ``<img>``
tag cannot send a credential, so the URL carries its own: a link signed with
``signing.secret`` for ``signing.link_ttl_s`` (``shared.signing``), which cdnapi checks. Links
made within the same quarter of the TTL are identical, so browsers keep their cached copies.
"""

from __future__ import annotations

from shared.config import MIN_SECRET_CHARS, AuthSettings, SigningSettings
from shared.signing import LinkSigner


class Links:
    """Byte URLs of images; signed when a signer is given (private reads)."""

    def __init__(self, signer: LinkSigner | None) -> None:
        self._signer = signer

    def original(self, image_id: str) -> str:
        return self._url(f"/images/{image_id}")

    def thumb(self, image_id: str) -> str:
        return self._url(f"/images/{image_id}/thumb")

    def _url(self, path: str) -> str:
        return path if self._signer is None else self._signer.sign(path)


def build_links(auth: AuthSettings, signing: SigningSettings) -> Links:
    """Plain links when reads are public; else signed ones, refusing a missing or short secret
    (cdnapi refuses it too, and would answer every image with 403)."""
    if auth.public_read:
        return Links(None)
    secret = signing.secret.get_secret_value()
    if len(secret) < MIN_SECRET_CHARS:
        raise ValueError(
            f"signing.secret (SIGNING__SECRET) needs at least {MIN_SECRET_CHARS} characters "
            "while reads are private (auth.public_read false): image links are signed with it"
        )
    return Links(LinkSigner(secret, signing.link_ttl_s))
