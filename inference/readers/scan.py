"""Scans: page images (PNG, JPEG, TIFF, or the pages of a PDF with no usable text layer) → OCR
words → lines and cells, as the text-PDF reader makes them, with each fragment's OCR confidence.

Positions are kept in PDF points (1/72 inch) whatever the scan's resolution, so that the
classifier's positional rules see a scan and a text PDF of the same page alike.
"""
from __future__ import annotations

from collections.abc import Iterable

import numpy as np

from nianbao.config import PipelineConfig, load_config
from nianbao.schema import Fragment

from .. import imaging, ocr
from .base import FragmentBuilder, is_chrome, register_reader, running_chrome

LINE_SHARE = 0.5  # a word joins a line when its centre is within this share of the line's height
GAP_SHARE = 0.9  # a gap wider than this share of the text height separates two cells


def read_pages(pages: Iterable[tuple[int, np.ndarray]], dpi: float) -> list[Fragment]:
    """Fragments of (page number, image) pairs; pages are taken one at a time, so a generator that
    renders each page on demand keeps one page image in memory."""
    to_pt = 72.0 / dpi
    lines = []
    for page_no, img in pages:
        words, upright, _ = ocr.read_page(img)
        grid = imaging.find_grid(upright) if words else None
        rules = [x * to_pt for x in grid.cols] if grid and grid.found else []
        for line in _lines(words):
            scaled = [(w.text, w.conf, w.x0 * to_pt, w.top * to_pt, w.x1 * to_pt, w.bottom * to_pt) for w in line]
            lines.append((page_no, _cells(scaled, rules)))
    texts = ["".join(w[0] for cell in cells for w in cell) for _, cells in lines]
    chrome = running_chrome(texts)
    b = FragmentBuilder()
    line_no = 0
    for (page_no, cells), text in zip(lines, texts):
        if is_chrome(text) or text.strip() in chrome:
            continue
        for col, cell in enumerate(cells):
            bbox = (cell[0][2], min(w[3] for w in cell), cell[-1][4], max(w[5] for w in cell))
            conf = min(w[1] for w in cell)
            b.add_cell("".join(w[0] for w in cell), line_no, col, page=page_no, bbox=bbox, conf=conf,
                       keep_blank=False)
        line_no += 1
    return b.fragments


def _lines(words: list[ocr.Word]) -> list[list[ocr.Word]]:
    """Rows by vertical centre: OCR boxes of one row differ in height and top by a few pixels."""
    words = sorted(words, key=lambda w: (w.top + w.bottom) / 2)
    lines: list[list[ocr.Word]] = []
    centre = height = 0.0
    for w in words:
        c, h = (w.top + w.bottom) / 2, w.bottom - w.top
        if lines and abs(c - centre) <= LINE_SHARE * min(h, height):
            lines[-1].append(w)
            n = len(lines[-1])
            centre += (c - centre) / n
            height += (h - height) / n
        else:
            lines.append([w])
            centre, height = c, h
    return [sorted(line, key=lambda w: w.x0) for line in lines]


def _cells(words: list[tuple], rules: list[float]) -> list[list[tuple]]:
    cells = [[words[0]]]
    for prev, w in zip(words, words[1:]):
        height = min(prev[5] - prev[3], w[5] - w[3])
        ruled = any(prev[4] - 1 <= x <= w[2] + 1 for x in rules)
        if ruled or w[2] - prev[4] > GAP_SHARE * height:
            cells.append([w])
        else:
            cells[-1].append(w)
    return cells


@register_reader
class ImageReader:
    name = "image"

    def sniff(self, data: bytes, suffix: str) -> float:
        return 1.0 if imaging.image_kind(data) else 0.0

    def read(self, data: bytes, source: str, config: PipelineConfig | None = None) -> list[Fragment]:
        config = config or load_config()
        pages = imaging.decode_image(data, source, config.max_image_pixels, config.max_pages)
        return read_pages(enumerate(pages), dpi=config.ocr_dpi)
