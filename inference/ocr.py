"""OCR of one cleaned, upright page (RapidOCR 1.4, whose Chinese models ship in the wheel).

Text boxes are found on the whole page, the page is turned when its lines read upside down, and
each box is recognised once, with its confidence. A low-confidence number keeps that confidence
into the solver, which may correct it only where the arithmetic asks (see `solve.py`).
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

import numpy as np

from nianbao.errors import require

from . import imaging

ROUND = set("oO。〇○◯DQ°")  # what the recogniser makes of a lone 0: it has no context to tell them apart
PAD_X, PAD_Y = 0.3, 0.15  # white margin around each box, in box heights: a lone glyph reads better
ORIENTATION_SAMPLE = 24  # boxes the direction classifier looks at to decide whether a page is upside down
UPSIDE_DOWN_SHARE = 0.6  # share of confident "180" votes that turns the page


@dataclass(slots=True)
class Word:
    """A recognised text box in page pixels (upright, deskewed)."""

    text: str
    conf: float
    x0: float
    top: float
    x1: float
    bottom: float


@lru_cache(maxsize=1)
def engine():
    rapidocr = require("rapidocr_onnxruntime", "ocr", "Reading scans")
    return rapidocr.RapidOCR()


def read_page(img: np.ndarray) -> tuple[list[Word], np.ndarray, dict]:
    """Words of one page image (BGR), the cleaned upright page they are placed on, and what was
    done to it (skew, turned)."""
    ocr = engine()
    page = imaging.clean(img)
    skew = imaging.estimate_skew(page)
    page = imaging.rotate(page, skew)
    boxes, _ = ocr.text_det(page)
    if boxes is None or len(boxes) == 0:
        return [], page, {"skew": skew, "turned": False}
    crops = ocr.get_crop_img_list(page, boxes)
    turned = _upside_down(ocr, crops)
    if turned:
        page = imaging.rotate180(page)
        h, w = page.shape[:2]
        # The same boxes, turned with the page; corner order restarts at the new top-left.
        boxes = np.array([[[w - 1 - x, h - 1 - y] for x, y in q[[2, 3, 0, 1]]] for q in boxes], dtype=np.float32)
        crops = ocr.get_crop_img_list(page, boxes)
    recs, _ = ocr.text_rec([_pad(c) for c in crops])
    words = []
    for q, (text, conf) in zip(boxes, recs):
        xs, ys = q[:, 0], q[:, 1]
        text = normalise(text.strip(), float(xs.max() - xs.min()), float(ys.max() - ys.min()))
        if text:
            words.append(Word(text, float(conf), float(xs.min()), float(ys.min()), float(xs.max()), float(ys.max())))
    return words, page, {"skew": skew, "turned": turned}


def normalise(text: str, width: float, height: float) -> str:
    """Undo what a recogniser does to table cells out of context: a box holding one round glyph no
    wider than it is tall is a digit 0 (a full stop or a letter o is never a box of its own in these
    tables), and a row number read without its dot (`2重复申请`) gets it back."""
    if len(text) == 1 and text in ROUND and width <= 1.1 * height:
        return "0"
    return re.sub(r"^(\d{1,2})(?=[\u4e00-\u9fff])", r"\1.", text)


def _pad(crop: np.ndarray) -> np.ndarray:
    cv2 = imaging.opencv()
    h = crop.shape[0]
    return cv2.copyMakeBorder(crop, int(h * PAD_Y), int(h * PAD_Y), int(h * PAD_X), int(h * PAD_X),
                              cv2.BORDER_REPLICATE)


def _upside_down(ocr, crops: list[np.ndarray]) -> bool:
    wide = sorted(crops, key=lambda c: -c.shape[1])[:ORIENTATION_SAMPLE]
    _, labels, _ = ocr.text_cls(wide)
    votes = [label for label, score in labels if score >= 0.8]
    return bool(votes) and sum(v == "180" for v in votes) / len(votes) >= UPSIDE_DOWN_SHARE
