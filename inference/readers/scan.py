"""Scans: page images (PNG, JPEG, TIFF, or the pages of a PDF with no usable text layer) → OCR
words → lines and cells, as the text-PDF reader makes them, with each fragment's OCR confidence.

Positions are kept in PDF points (1/72 inch) whatever the scan's resolution, so that the
classifier's positional rules see a scan and a text PDF of the same page alike.
"""
from __future__ import annotations

import difflib
import re
from collections.abc import Iterable

import numpy as np

from nianbao.config import PipelineConfig, load_config
from nianbao.schema import Fragment

from .. import imaging, ocr
from .base import FragmentBuilder, is_chrome, register_reader, running_chrome
from .text import narrative_lines

LINE_SHARE = 0.5  # a word joins a line when its centre is within this share of the line's height
GAP_SHARE = 0.9  # a gap wider than this share of the text height separates two cells


def read_pages(pages: Iterable[tuple[int, np.ndarray]], dpi: float) -> list[Fragment]:
    """Fragments of (page number, image) pairs; pages are taken one at a time, so a generator that
    renders each page on demand keeps one page image in memory."""
    to_pt = 72.0 / dpi
    lines = []
    columns: list[tuple[float, float]] = []
    width = None  # of the upright page the columns were found on
    unread: set[int] = set()  # lines holding a paragraph line OCR placed but did not read
    for page_no, img in pages:
        words, upright, info = ocr.read_page(img, columns, width)
        columns, width = info["columns"], info["width"]
        grid = imaging.find_grid(upright) if words else None
        rules = [x * to_pt for x in grid.cols] if grid and grid.found else []
        segments = [(x * to_pt, y0 * to_pt, y1 * to_pt) for x, y0, y1 in grid.segments] if grid and grid.found else []
        spread = _spread_digits(words)
        for line in _lines(words):
            if any(w.prose for w in line):
                unread.add(len(lines))
            scaled = [(w.text, w.conf, w.x0 * to_pt, w.top * to_pt, w.x1 * to_pt, w.bottom * to_pt, id(w) in spread)
                      for w in line]
            lines.append((page_no, _cells(scaled, rules), segments))
    texts = ["".join(w[0] for cell in cells for w in cell) for _, cells, _ in lines]
    chrome = running_chrome(texts)
    banded = page_bands(lines, texts)
    narrative = narrative_lines(texts, known=unread)
    b = FragmentBuilder()
    line_no = 0
    for i, ((page_no, cells, segments), text) in enumerate(zip(lines, texts)):
        if is_chrome(text) or text.strip() in chrome or i in banded:
            continue
        if i in narrative:
            words = [w for cell in cells for w in cell]
            b.add(text, "prose", line_no, page=page_no,
                  bbox=(words[0][2], min(w[3] for w in words), words[-1][4], max(w[5] for w in words)))
            line_no += 1
            continue
        for col, cell in enumerate(cells):
            bbox = (cell[0][2], min(w[3] for w in cell), cell[-1][4], max(w[5] for w in cell))
            conf = min(w[1] for w in cell)
            b.add_cell("".join(w[0] for w in cell), line_no, col, page=page_no, bbox=bbox, conf=conf,
                       keep_blank=False, glued=any(w[6] for w in cell), ruled_right=_rules_right(bbox, segments))
        line_no += 1
    return b.fragments


def _rules_right(bbox: tuple[float, float, float, float], segments) -> int | None:
    """How many column rules stand right of a cell, at its height: in a ruled table that counts
    its column from the right (the total column has the table's border alone), whatever the
    header says and however many cells of its row were printed blank. None where no rule
    reaches its height (an unruled table, prose)."""
    if not segments:
        return None
    cx, cy = (bbox[0] + bbox[2]) / 2, (bbox[1] + bbox[3]) / 2
    crossing = [x for x, y0, y1 in segments if y0 <= cy <= y1]
    return sum(1 for x in set(crossing) if x > cx) if crossing else None


SPREAD = 1.6  # a digit box this many times wider per digit than the page's usual holds several cells


def _spread_digits(words: list[ocr.Word]) -> set[int]:
    """Digit boxes that span cells: where a seal or a narrow gap joins the numbers of neighbouring
    cells (`2 105 27` read as `210527`), the box is far wider per digit than a number's. Such a box
    is a glued run for the solver to cut, as a text layer's glued digits are."""
    digits = [w for w in words if w.text.isdigit()]
    per = sorted((w.x1 - w.x0) / len(w.text) for w in digits if len(w.text) >= 2)
    if len(per) < 5:
        return set()
    usual = per[len(per) // 2]
    return {id(w) for w in digits if len(w.text) >= 3 and (w.x1 - w.x0) / len(w.text) > SPREAD * usual}


BAND_LINES = 2  # lines at the top and at the bottom of a page where running headers and footers sit
BAND_SIMILAR = 0.6  # digit-masked similarity of two pages' band lines that makes them one running header
STAMP = re.compile(r"20\d\d[-/.年]?\d{1,2}[-/.月]\d{1,2}")  # a print date (`2023-01-19 09:36`), spaces never


def page_bands(lines: list[tuple], texts: list[str]) -> set[int]:
    """Running headers and footers of a scan: the top and bottom lines of a page that come back
    on another page at the same height (OCR reads them a little differently each time, so they
    are compared digits masked and by similarity, not as equal strings), or that are a print
    stamp. A line naming a template label is never chrome (a table header repeated after a page
    break)."""
    from .stream import names_a_label

    by_page: dict[int, list[int]] = {}
    for i, (page, *_) in enumerate(lines):
        by_page.setdefault(page, []).append(i)
    band = {i for idx in by_page.values() for i in idx[:BAND_LINES] + idx[-BAND_LINES:]}
    band = {i for i in band if not names_a_label(texts[i])}

    def top(i):
        return min(w[3] for cell in lines[i][1] for w in cell)

    masked = {i: re.sub(r"\d+", "#", texts[i]) for i in band}
    out = {i for i in band if STAMP.search(texts[i]) and sum(len(c) for c in lines[i][1]) <= 4}
    for i in band:
        for j in band:
            if lines[i][0] != lines[j][0] and abs(top(i) - top(j)) < 12 and \
                    difflib.SequenceMatcher(None, masked[i], masked[j]).ratio() >= BAND_SIMILAR:
                out.add(i)
                break
    return out


def _lines(words: list[ocr.Word]) -> list[list[ocr.Word]]:
    """Rows, followed left to right: a box joins the row whose last box, to its left, stands at its
    height. A phone photo tilts and bends the rows, so heights are compared after taking out the
    tilt the rows' own numbers show, and with the row where it has got to, not with its mean."""
    if not words:
        return []
    slope = _row_tilt(words)
    usual = float(np.median([w.bottom - w.top for w in words]))

    def centre(w):
        return (w.top + w.bottom) / 2 - slope * (w.x0 + w.x1) / 2

    def tolerance(a, b):
        # A probed cell's box is its ink, tighter than a detector's box round the same digit.
        return LINE_SHARE * max(min(a.bottom - a.top, b.bottom - b.top), 0.8 * usual)

    lines: list[list[ocr.Word]] = []
    for w in sorted(words, key=lambda w: w.x0):
        best, dist = None, 0.0
        for line in lines:
            last = line[-1]
            if last.x1 > w.x0 + 0.5 * min(w.bottom - w.top, last.bottom - last.top):
                continue  # side by side with it, or below it: another row
            d = abs(centre(w) - centre(last))
            if d <= tolerance(w, last) and (best is None or d < dist):
                best, dist = line, d
        if best is None:
            lines.append([w])
        else:
            best.append(w)
    return sorted(lines, key=lambda line: sum(centre(w) for w in line) / len(line))


MAX_TILT = 0.06  # rise per run of a row after deskewing (a photo's perspective), ~3.5°


def _row_tilt(words: list[ocr.Word]) -> float:
    """How the table's rows rise across the page: the median slope between numbers that stand
    level with each other (within a fraction of a text height) and columns apart."""
    nums = [w for w in words if _NUMBER.fullmatch(w.text)]
    if len(nums) < 4:
        return 0.0
    h = float(np.median([w.bottom - w.top for w in nums]))
    slopes = []
    for i, a in enumerate(nums):
        for b in nums[i + 1 :]:
            dx = (b.x0 + b.x1 - a.x0 - a.x1) / 2
            dy = (b.top + b.bottom - a.top - a.bottom) / 2
            if abs(dx) >= 3 * h and abs(dy) <= 0.8 * h:
                slopes.append(dy / dx)
    if len(slopes) < 3:
        return 0.0
    slope = float(np.median(slopes))
    return slope if abs(slope) <= MAX_TILT else 0.0


_NUMBER = re.compile(r"-?\d+(?:\.\d+)?")


def _cells(words: list[tuple], rules: list[float]) -> list[list[tuple]]:
    cells = [[words[0]]]
    for prev, w in zip(words, words[1:]):
        height = min(prev[5] - prev[3], w[5] - w[3])
        ruled = any(prev[4] - 1 <= x <= w[2] + 1 for x in rules)
        # Two boxes of digits (or zero marks) side by side are two cells: the detector saw a gap
        # between them, however narrow the columns (`2` `105` `27`, `无` `无` under a 15-column header).
        numbers = ocr.CELL.fullmatch(prev[0]) and ocr.CELL.fullmatch(w[0])
        if ruled or numbers or w[2] - prev[4] > GAP_SHARE * height:
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
