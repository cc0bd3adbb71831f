"""Variants: a stored image transformed (resized, re-encoded, grey, watermarked), named by a hash.

The parameters are validated and made canonical (defaults filled in, what cannot matter dropped:
no ``quality`` for PNG), so one request always names one variant: ``variant_id`` is the SHA-256
of the image id and the canonical JSON. ``output_size`` answers the size before anything is
decoded, so the API refuses a variant over the pixel cap with nothing queued.

Rendering, in this order: the first frame only (an animated GIF/WebP becomes a still), EXIF
orientation applied, resized (``contain``: the largest size inside the box, keeping the aspect,
so a smaller original is enlarged; ``cover``: scaled to cover the box, then centre-cropped to it;
``fill``: stretched to it; no width or height: the original's size), colours converted to sRGB
from an embedded ICC profile (then the profile is dropped; no profile means sRGB), watermark,
grey, encoded. No metadata is copied: EXIF (GPS included) stays with the original. JPEG has no
alpha, so transparency becomes white there; the other formats keep it.
"""

from __future__ import annotations

import hashlib
import io
import json
import math
from dataclasses import dataclass
from typing import Any, Literal

from PIL import ExifTags, Image, ImageCms, ImageDraw, ImageFont, ImageOps
from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from shared.errors import InvalidInput
from shared.imaging import decode_pixels, open_checked
from shared.logging import get_logger

log = get_logger(__name__)

Fit = Literal["contain", "cover", "fill"]
Format = Literal["jpeg", "png", "webp", "avif"]
Position = Literal["top-left", "top-right", "bottom-left", "bottom-right", "center"]
MAX_SIDE = 8192
_ENCODINGS: dict[str, tuple[str, str]] = {  # format: (Pillow's name, MIME type)
    "jpeg": ("JPEG", "image/jpeg"),
    "png": ("PNG", "image/png"),
    "webp": ("WEBP", "image/webp"),
    "avif": ("AVIF", "image/avif"),
}
_TURNED = {5, 6, 7, 8}  # EXIF orientations that swap width and height
_SRGB = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB"))


class Watermark(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, strict=True)

    text: str = Field(min_length=1, max_length=64)
    position: Position = "bottom-right"

    @field_validator("text")
    @classmethod
    def _printable(cls, text: str) -> str:
        if not text.isprintable() or not text.strip():
            raise ValueError("the watermark text is printable characters, not only spaces")
        return text


class VariantParams(BaseModel):
    """What a variant is made of. Strict: ``"800"`` is not a width and ``1`` is not ``true``."""

    model_config = ConfigDict(extra="forbid", frozen=True, strict=True)

    width: int | None = Field(default=None, ge=1, le=MAX_SIDE)
    height: int | None = Field(default=None, ge=1, le=MAX_SIDE)
    fit: Fit = "contain"
    format: Format = "webp"
    quality: int = Field(default=85, ge=1, le=100)
    grayscale: bool = False
    watermark: Watermark | None = None

    @field_validator("format", mode="before")
    @classmethod
    def _format_name(cls, value: Any) -> Any:
        if isinstance(value, str):
            value = value.lower()
            return "jpeg" if value == "jpg" else value
        return value

    @model_validator(mode="after")
    def _box_for_fit(self) -> VariantParams:
        if self.fit != "contain" and (self.width is None or self.height is None):
            raise ValueError(f"fit={self.fit} needs both width and height")
        return self


@dataclass(frozen=True)
class RenderedVariant:
    data: bytes
    mime: str
    width: int
    height: int


def canonical(params: VariantParams) -> dict[str, Any]:
    """The parameters as stored and hashed: every default present, nothing that cannot matter."""
    found = params.model_dump()
    if params.format == "png":
        del found["quality"]  # lossless: a quality would only make two ids for one picture
    return found


def canonical_json(params: VariantParams) -> str:
    return json.dumps(canonical(params), sort_keys=True, separators=(",", ":"))


def variant_id_of(image_id: str, params: VariantParams) -> str:
    return hashlib.sha256(f"{image_id}\n{canonical_json(params)}".encode()).hexdigest()


def output_size(params: VariantParams, width: int, height: int) -> tuple[int, int]:
    """The variant's size, from the upright size of its original."""
    box_w, box_h = params.width, params.height
    if box_w is None and box_h is None:
        return width, height
    if params.fit != "contain" and box_w is not None and box_h is not None:
        return box_w, box_h
    scale = min(box_w / width if box_w else math.inf, box_h / height if box_h else math.inf)
    return max(1, round(width * scale)), max(1, round(height * scale))


def check_output_size(
    params: VariantParams, width: int, height: int, max_pixels: int
) -> tuple[int, int]:
    """``output_size``, refused (``InvalidInput``) when it has more pixels than ``max_pixels``."""
    out_w, out_h = output_size(params, width, height)
    if out_w * out_h > max_pixels:
        raise InvalidInput(
            f"the variant would be {out_w}x{out_h} ({out_w * out_h / 1e6:.1f} MP); "
            f"the limit is {max_pixels / 1e6:g} MP"
        )
    return out_w, out_h


def render(data: bytes, params: VariantParams, max_pixels: int) -> RenderedVariant:
    """Render the variant of the original ``data``. Raises ``InvalidInput`` (or its image
    subclasses) for an original that does not decode or a variant over the pixel cap."""
    # Not closed: its file is ``data`` in memory, and closing would drop the pixels it may share.
    image = open_checked(io.BytesIO(data), max_pixels)
    turned = image.getexif().get(ExifTags.Base.Orientation, 1) in _TURNED
    upright = (image.height, image.width) if turned else image.size
    size = check_output_size(params, *upright, max_pixels)
    _draft(image, params, size, turned)
    decode_pixels(image)
    icc = image.info.get("icc_profile")
    ImageOps.exif_transpose(image, in_place=True)
    image = _to_srgb(_resized(_without_palette(image), params, size), icc)
    if params.watermark is not None:
        image = _watermarked(image, params.watermark)
    if params.grayscale:
        image = image.convert("LA" if image.mode == "RGBA" else "L")
    return _encoded(image, params)


def _draft(image: Image.Image, params: VariantParams, size: tuple[int, int], turned: bool) -> None:
    """Let libjpeg decode at 1/2, 1/4 or 1/8 scale when the variant is that much smaller:
    most of a large JPEG's decoding cost is then never paid."""
    if image.format != "JPEG" or (params.width is None and params.height is None):
        return
    width, height = (image.height, image.width) if turned else image.size  # upright
    if params.fit == "cover":
        scale = max(size[0] / width, size[1] / height)
        needed = (math.ceil(width * scale), math.ceil(height * scale))
    else:
        needed = size
    image.draft(image.mode, (needed[1], needed[0]) if turned else needed)


def _without_palette(image: Image.Image) -> Image.Image:
    """Modes that resize and convert colours as pixels: RGB(A), CMYK or L stay (with their ICC
    profile), 16-bit grey becomes L, the rest RGB, or RGBA when it has any transparency."""
    if image.mode in ("RGB", "RGBA", "CMYK", "L"):
        return image
    if image.mode == "I" or image.mode.startswith("I;16"):  # 16-bit grey: scaled, never clipped
        return image.convert("I").point(lambda value: value / 257 + 0.5).convert("L")
    transparent = image.mode in ("LA", "PA", "La") or "transparency" in image.info
    return image.convert("RGBA" if transparent else "RGB")


def _resized(image: Image.Image, params: VariantParams, size: tuple[int, int]) -> Image.Image:
    if size == image.size:
        return image
    box = None
    if params.fit == "cover":  # the centred part of the original that covers the box exactly
        scale = max(size[0] / image.width, size[1] / image.height)
        crop_w, crop_h = size[0] / scale, size[1] / scale
        left, top = (image.width - crop_w) / 2, (image.height - crop_h) / 2
        box = (left, top, left + crop_w, top + crop_h)
    return image.resize(size, Image.Resampling.LANCZOS, box=box, reducing_gap=3.0)


def _to_srgb(image: Image.Image, icc: bytes | None) -> Image.Image:
    target = "RGBA" if image.mode == "RGBA" else "RGB"
    if icc:
        try:
            profile = ImageCms.ImageCmsProfile(io.BytesIO(icc))
            converted = ImageCms.profileToProfile(image, profile, _SRGB, outputMode=target)
        except (ImageCms.PyCMSError, OSError, ValueError) as exc:
            # A broken profile is read as none (sRGB): the picture still renders, colours as stored.
            log.warning("icc profile ignored", error=str(exc))
        else:
            assert converted is not None  # only None when converting in place
            return converted
    return image if image.mode == target else image.convert(target)


def _watermarked(image: Image.Image, mark: Watermark) -> Image.Image:
    """White text with a dark outline, both half transparent, so it reads on any picture."""
    width, height = image.size
    margin = max(2, min(width, height) // 40)
    room = width - 2 * margin - 2  # and a pixel of outline at either end
    font_size = max(6.0, min(width, height) / 14)
    font = ImageFont.load_default(font_size)
    # Long text on a narrow picture: smaller until it fits, outline included.
    while (length := font.getlength(mark.text) + font_size / 8) > room and font_size > 1:
        font_size = max(1.0, font_size * min(0.95, room / length))
        font = ImageFont.load_default(font_size)
    anchors = {
        "top-left": ((margin, margin), "lt"),
        "top-right": ((width - margin, margin), "rt"),
        "bottom-left": ((margin, height - margin), "ld"),
        "bottom-right": ((width - margin, height - margin), "rd"),
        "center": ((width / 2, height / 2), "mm"),
    }
    xy, anchor = anchors[mark.position]
    layer = Image.new("RGBA", image.size, (0, 0, 0, 0))
    ImageDraw.Draw(layer).text(
        xy,
        mark.text,
        font=font,
        anchor=anchor,
        fill=(255, 255, 255, 170),
        stroke_width=max(1, round(font_size / 16)),
        stroke_fill=(0, 0, 0, 170),
    )
    marked = Image.alpha_composite(image.convert("RGBA"), layer)
    return marked if image.mode == "RGBA" else marked.convert(image.mode)


def _encoded(image: Image.Image, params: VariantParams) -> RenderedVariant:
    name, mime = _ENCODINGS[params.format]
    if name == "JPEG" and image.mode in ("RGBA", "LA"):
        flat = Image.new(image.mode[:-1], image.size, "white")
        flat.paste(image, mask=image.getchannel("A"))
        image = flat
    options: dict[str, Any] = {} if name == "PNG" else {"quality": params.quality}
    image.info = {}  # no EXIF, ICC or XMP from the original: the pixels say everything now
    out = io.BytesIO()
    image.save(out, format=name, **options)
    return RenderedVariant(data=out.getvalue(), mime=mime, width=image.width, height=image.height)
