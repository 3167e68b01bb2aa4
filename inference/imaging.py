"""Page images for OCR (OpenCV): decode safely, clean, find the skew and the table grid.

Every function takes and returns plain numpy arrays so that the OCR stage stays independent of
where a page came from (a scanned PDF rendered by pypdfium2, a PNG/JPEG/TIFF, a phone photo).
"""
from __future__ import annotations

import io
import math
from dataclasses import dataclass, field

import numpy as np

from nianbao.errors import InputTooLarge, UnreadableInput, require

IMAGE_MAGIC = {
    b"\x89PNG\r\n\x1a\n": "png",
    b"\xff\xd8\xff": "jpeg",
    b"II*\x00": "tiff",
    b"MM\x00*": "tiff",
    b"BM": "bmp",
}


def image_kind(data: bytes) -> str | None:
    for magic, kind in IMAGE_MAGIC.items():
        if data.startswith(magic):
            return kind
    return None


def opencv():
    return require("cv2", "ocr", "Reading scans")


def decode_image(data: bytes, source: str, max_pixels: int, max_pages: int) -> list[np.ndarray]:
    """The pages of an image file as BGR arrays. The size is read from the header before any pixel
    is decoded, so that a decompression bomb is refused instead of filling memory."""
    from PIL import Image, ImageSequence

    Image.MAX_IMAGE_PIXELS = None  # we check ourselves, with our own error
    try:
        im = Image.open(io.BytesIO(data))
        w, h = im.size
    except Exception as exc:
        raise UnreadableInput(f"corrupt image ({exc.__class__.__name__})", source=source) from None
    if w * h > max_pixels:
        raise InputTooLarge(f"image of {w}×{h} pixels is over the limit of {max_pixels} pixels", source=source)
    pages = []
    try:
        for i, frame in enumerate(ImageSequence.Iterator(im)):
            if i >= max_pages:
                break
            if frame.size[0] * frame.size[1] > max_pixels:
                raise InputTooLarge(f"image page {i + 1} is over the limit of {max_pixels} pixels", source=source)
            pages.append(np.array(frame.convert("RGB"))[:, :, ::-1].copy())
    except InputTooLarge:
        raise
    except Exception as exc:
        raise UnreadableInput(f"corrupt image ({exc.__class__.__name__})", source=source) from None
    return pages


def clean(img: np.ndarray) -> np.ndarray:
    """Grey page with seals, shadows and salt-and-pepper noise taken out, as 3 channels for OCR.

    Red seals vanish in the red channel (red ink is bright there, black ink stays dark); dividing
    by a blurred background flattens a phone photo's shadow; a 3×3 median takes out isolated dots
    without thinning strokes at 100–200 dpi.
    """
    cv2 = opencv()
    if img.ndim == 3:
        b, g, r = cv2.split(img)
        # Where a pixel is much redder than it is green, it is seal ink: take the red channel there.
        grey = cv2.cvtColor(img, cv2.COLOR_BGR2GRAY)
        reddish = (r.astype(np.int16) - g.astype(np.int16)) > 40
        grey = np.where(reddish, r, grey).astype(np.uint8)
    else:
        grey = img
    k = max(15, (min(grey.shape[:2]) // 40) | 1)
    background = cv2.morphologyEx(grey, cv2.MORPH_CLOSE, cv2.getStructuringElement(cv2.MORPH_RECT, (k, k)))
    flat = cv2.divide(grey, background, scale=255)
    flat = cv2.medianBlur(flat, 3)
    return cv2.cvtColor(flat, cv2.COLOR_GRAY2BGR)


def rotate180(img: np.ndarray) -> np.ndarray:
    return np.ascontiguousarray(img[::-1, ::-1])


@dataclass
class Grid:
    """Ruling lines found on a page (pixel coordinates): the y of each horizontal rule and the x of
    each vertical one. Empty where the table is unruled."""

    rows: list[float]
    cols: list[float]
    # Each vertical rule's stretches (x, top, bottom): rules of a table's body run its whole
    # height, those of a header's merged cells only part of it.
    segments: list[tuple[float, float, float]] = field(default_factory=list)

    @property
    def found(self) -> bool:
        return len(self.rows) >= 3 and len(self.cols) >= 3


def find_grid(img: np.ndarray) -> Grid:
    """Long horizontal and vertical strokes (morphological opening with line-shaped kernels)."""
    cv2 = opencv()
    grey = cv2.cvtColor(img, cv2.COLOR_BGR2GRAY) if img.ndim == 3 else img
    ink = cv2.adaptiveThreshold(grey, 255, cv2.ADAPTIVE_THRESH_MEAN_C, cv2.THRESH_BINARY_INV, 25, 15)
    h, w = ink.shape
    horiz = cv2.morphologyEx(ink, cv2.MORPH_OPEN, cv2.getStructuringElement(cv2.MORPH_RECT, (max(20, w // 12), 1)))
    vert = cv2.morphologyEx(ink, cv2.MORPH_OPEN, cv2.getStructuringElement(cv2.MORPH_RECT, (1, max(20, h // 40))))
    cols = _peaks(vert.sum(axis=0), h // 40)
    segments = []
    for x in cols:
        band = vert[:, max(0, int(x) - 2) : int(x) + 3].any(axis=1)
        for y0, y1 in runs(band, gap=max(2, h // 200)):
            if y1 - y0 >= h // 40:
                segments.append((x, float(y0), float(y1)))
    return Grid(rows=_peaks(horiz.sum(axis=1), w // 12), cols=cols, segments=segments)


def runs(on: np.ndarray, gap: int) -> list[tuple[int, int]]:
    """Runs of True as [start, end), joined across gaps of at most `gap` False (a rule broken by
    noise or a seal, a digit's strokes)."""
    idx = np.flatnonzero(on)
    if idx.size == 0:
        return []
    breaks = np.flatnonzero(np.diff(idx) > gap + 1)
    starts = np.concatenate([[idx[0]], idx[breaks + 1]])
    ends = np.concatenate([idx[breaks], [idx[-1]]])
    return [(int(a), int(b) + 1) for a, b in zip(starts, ends)]


def _peaks(profile: np.ndarray, min_len: int) -> list[float]:
    on = profile / 255 >= min_len
    out, start = [], None
    for i, v in enumerate(list(on) + [False]):
        if v and start is None:
            start = i
        elif not v and start is not None:
            out.append((start + i - 1) / 2)
            start = None
    return out


def estimate_skew(img: np.ndarray, max_degrees: float = 10.0, step: float = 0.2) -> float:
    """The rotation (degrees) that makes text rows and rules most horizontal: the angle whose
    horizontal ink profile is sharpest, searched on a downscaled page (a few ms per angle)."""
    cv2 = opencv()
    grey = cv2.cvtColor(img, cv2.COLOR_BGR2GRAY) if img.ndim == 3 else img
    scale = 800 / max(grey.shape)
    small = cv2.resize(grey, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA) if scale < 1 else grey
    ink = cv2.threshold(small, 0, 255, cv2.THRESH_BINARY_INV | cv2.THRESH_OTSU)[1]
    h, w = ink.shape
    centre = (w / 2, h / 2)

    def sharpness(deg: float) -> float:
        m = cv2.getRotationMatrix2D(centre, deg, 1.0)
        rot = cv2.warpAffine(ink, m, (w, h), flags=cv2.INTER_NEAREST)
        prof = rot.sum(axis=1).astype(np.float64)
        return float(np.sum(np.diff(prof) ** 2))

    if not ink.any():
        return 0.0

    def score(deg: float):  # ties (a page with little ink) go to the smallest turn
        return sharpness(deg), -abs(deg)

    coarse = max(np.arange(-max_degrees, max_degrees + 1e-9, 1.0), key=score)
    fine = max(np.arange(coarse - 1.0, coarse + 1.0 + 1e-9, step), key=score)
    return float(fine)


def rotate(img: np.ndarray, degrees: float) -> np.ndarray:
    cv2 = opencv()
    if abs(degrees) < 0.05:
        return img
    h, w = img.shape[:2]
    m = cv2.getRotationMatrix2D((w / 2, h / 2), degrees, 1.0)
    return cv2.warpAffine(img, m, (w, h), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)


def dewarp(img: np.ndarray) -> np.ndarray:
    """Straighten a page a phone photo bent: the table's horizontal rules, fitted as curves, are
    mapped back to straight lines, and everything between two rules moves with them. A page
    without long rules (unruled table, prose) or with straight ones is returned as it is."""
    cv2 = opencv()
    grey = cv2.cvtColor(img, cv2.COLOR_BGR2GRAY) if img.ndim == 3 else img
    h, w = grey.shape
    ink = cv2.adaptiveThreshold(grey, 255, cv2.ADAPTIVE_THRESH_MEAN_C, cv2.THRESH_BINARY_INV, 25, 15)
    # A bent rule is only locally horizontal: thicken it, keep long horizontal runs, rejoin them.
    thick = cv2.dilate(ink, cv2.getStructuringElement(cv2.MORPH_RECT, (1, 5)))
    runs = cv2.morphologyEx(thick, cv2.MORPH_OPEN, cv2.getStructuringElement(cv2.MORPH_RECT, (max(20, w // 30), 1)))
    runs = cv2.morphologyEx(runs, cv2.MORPH_CLOSE, cv2.getStructuringElement(cv2.MORPH_RECT, (max(20, w // 30), 1)))
    n, labels, stats, _ = cv2.connectedComponentsWithStats(runs, connectivity=8)
    xc = w / 2
    curves = []
    for i in range(1, n):
        x, y, cw, ch = stats[i, :4]
        if cw < 0.3 * w or ch > 0.1 * h:
            continue
        ys, xs = np.nonzero(labels[y:y + ch, x:x + cw] == i)
        xs, ys = xs + x, ys + y
        cols = np.unique(xs)
        mid = np.array([ys[xs == c].mean() for c in cols[:: max(1, len(cols) // 200)]])
        cols = cols[:: max(1, len(cols) // 200)]
        coef = np.polyfit(cols, mid, 2)
        if np.abs(np.polyval(coef, cols) - mid).max() > 4:
            continue
        curves.append(coef)
    if len(curves) < 2:
        return img
    xs = np.arange(0, w, 4, dtype=np.float64)
    ref = np.array([np.polyval(c, xc) for c in curves])
    off = np.array([np.polyval(c, xs) - r for c, r in zip(curves, ref)])
    order = np.argsort(ref)
    ref, off = ref[order], off[order]
    if np.abs(off).max() < 2:  # straight rules: nothing to undo
        return img
    ys = np.arange(h, dtype=np.float64)
    small = np.stack([ys + np.interp(ys, ref, off[:, j]) for j in range(len(xs))], axis=1).astype(np.float32)
    map_y = cv2.resize(small, (w, h), interpolation=cv2.INTER_LINEAR)
    map_x = np.tile(np.arange(w, dtype=np.float32), (h, 1))
    return cv2.remap(img, map_x, map_y, interpolation=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)
