"""An image's variants as the catalog knows them, and links to hand on: signed URLs of an
original or of a done variant that work for ``ttl`` seconds, then never again.

A link names something that exists: an unknown image, or a variant that is not a done variant
of that image, is ``NotFound`` (so a link is never handed out for bytes cdnapi cannot serve).
"""

from __future__ import annotations

from shared.catalog.images import ImageCatalog
from shared.catalog.variants import Variant, VariantCatalog, VariantState
from shared.domain import check_image_id, is_image_id
from shared.errors import ImageNotFound, InvalidInput, VariantNotFound
from shared.links import Links, original_path, variant_path

REDIRECT_TO_STORAGE = "&redirect=storage"  # cdnapi answers 307 to storage; not signed


class VariantService:
    def __init__(self, images: ImageCatalog, variants: VariantCatalog, links: Links) -> None:
        self._images = images
        self._variants = variants
        self._links = links

    def for_image(self, image_id: str) -> list[Variant]:
        """The image's variants, newest first."""
        self._known(image_id)
        return self._variants.for_image(image_id)

    def link(
        self,
        image_id: str,
        ttl_s: int | None = None,
        variant_id: str | None = None,
        to_storage: bool = False,
    ) -> tuple[str, int]:
        """(URL, expiry as a unix second) of the original, or of the done variant ``variant_id``;
        ``to_storage``: cdnapi redirects the link to the object store."""
        self._known(image_id)
        path = original_path(image_id)
        if variant_id is not None:
            self._done(image_id, variant_id)
            path = variant_path(image_id, variant_id)
        url, expires_at = self._links.link(path, ttl_s)
        return url + (REDIRECT_TO_STORAGE if to_storage else ""), expires_at

    def _known(self, image_id: str) -> None:
        if not self._images.existing_ids([check_image_id(image_id)]):
            raise ImageNotFound(f"no image {image_id}")

    def _done(self, image_id: str, variant_id: str) -> None:
        if not is_image_id(variant_id):  # the same shape: 64 lowercase hex digits
            raise InvalidInput("a variant id is 64 lowercase hexadecimal characters (a SHA-256)")
        variant = self._variants.get(variant_id)
        if variant.image_id != image_id or variant.state != VariantState.DONE:
            raise VariantNotFound(f"no done variant {variant_id} of image {image_id}")
