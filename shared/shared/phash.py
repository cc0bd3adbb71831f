"""Perceptual hashes: 64 bits that stay nearly the same when a picture is re-encoded, resized,
lightly cropped or stored turned with an EXIF Orientation tag, and differ between pictures.

A DCT hash of the picture shrunk to 32x32 in YCbCr. Brightness gives 56 bits: its 56 lowest
frequencies after the mean (in zigzag order), each set when above their median, so the bits
follow the layout of light and dark and not the exposure. Colour gives 8: the 4 lowest
frequencies of each colour channel (blue-yellow, red-green), each set when clearly positive; a
grey picture has all 8 clear. Brightness alone confuses different pictures with the same light
and dark layout in other colours; more colour bits would miss copies more often, since JPEG
keeps colour coarser than brightness.

The hash is taken of the upright picture (``shared.imaging.decode_image`` applies the EXIF
Orientation), so a copy stored turned hashes like the original. It is written as 16 lowercase hex
digits, as the catalog stores it; two pictures are near duplicates when few bits differ
(``hamming``).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from PIL import Image

BITS = 64
_SIDE = 32  # pixels per side the DCT sees
_BRIGHTNESS_BITS = 56
_COLOUR_BITS = 4  # per colour channel
# A colour coefficient counts as positive above this: 1.5 levels of the channel's mean (an
# orthonormal 32x32 DCT scales the mean by 32), so a grey picture's hash does not hang on noise.
_COLOUR_MARGIN = 1.5 * _SIDE


def _dct_matrix(n: int) -> np.ndarray:
    """The orthonormal DCT-II as an ``n`` x ``n`` matrix: ``M @ x`` transforms a column."""
    k = np.arange(n)[:, None]
    x = np.arange(n)[None, :]
    matrix: np.ndarray = np.cos(np.pi * (2 * x + 1) * k / (2 * n)) * np.sqrt(2 / n)
    matrix[0] /= np.sqrt(2)
    return matrix


def _zigzag(count: int) -> tuple[np.ndarray, np.ndarray]:
    """The ``count`` lowest 2-D frequencies (row, column), lowest first; the mean is the first."""
    pairs = sorted(
        ((u, v) for u in range(_SIDE) for v in range(_SIDE) if u + v < 16),
        key=lambda p: (p[0] + p[1], p[0] ** 2 + p[1] ** 2, p),
    )[:count]
    rows, columns = zip(*pairs, strict=True)
    return np.array(rows), np.array(columns)


_DCT = _dct_matrix(_SIDE)
_BRIGHTNESS = _zigzag(_BRIGHTNESS_BITS + 1)  # the mean is dropped below
_COLOUR = _zigzag(_COLOUR_BITS)


def _frequencies(channel: np.ndarray) -> np.ndarray:
    transformed: np.ndarray = _DCT @ channel @ _DCT.T
    return transformed


def _shrunk(image: Image.Image) -> np.ndarray:
    """The picture as 32x32 YCbCr floats, colour centred on grey. Large pictures are reduced by
    whole-pixel boxes first, which is fast and keeps the low frequencies the hash reads."""
    if (factor := min(image.size) // (_SIDE * 4)) > 1:
        image = image.reduce(factor)
    small = image.convert("RGB").convert("YCbCr").resize((_SIDE, _SIDE), Image.Resampling.LANCZOS)
    pixels = np.asarray(small, dtype=np.float64)
    pixels[:, :, 1:] -= 128
    return pixels


def perceptual_hash(image: Image.Image) -> str:
    """The 64-bit hash of an (upright) picture, as 16 lowercase hex digits."""
    pixels = _shrunk(image)
    brightness = _frequencies(pixels[:, :, 0])[_BRIGHTNESS][1:]
    bits = [brightness > np.median(brightness)]
    for channel in (1, 2):
        bits.append(_frequencies(pixels[:, :, channel])[_COLOUR] > _COLOUR_MARGIN)
    packed = np.packbits(np.concatenate(bits))
    return packed.tobytes().hex()


def hamming(a: str, b: str) -> int:
    """How many of the 64 bits differ between two hashes."""
    return (int(a, 16) ^ int(b, 16)).bit_count()


def as_uint64(hashes: Sequence[str]) -> np.ndarray:
    """Hashes as unsigned 64-bit integers, for comparing many at once."""
    return np.array([int(h, 16) for h in hashes], dtype=np.uint64)
