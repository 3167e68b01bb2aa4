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

ROUND = set("oO。〇○◯DQ°口")  # what the recogniser makes of a lone 0: it has no context to tell them apart
DASHES = set("一—－-–_~")  # what it makes of a lone dash, a zero printed as `—`: `一` is its likeliest reading
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
    prose: bool = False  # a paragraph's line, placed but not read (see `prose_boxes`)


@lru_cache(maxsize=1)
def engine():
    rapidocr = require("rapidocr_onnxruntime", "ocr", "Reading scans")
    return rapidocr.RapidOCR()


def read_page(img: np.ndarray, columns: list[tuple[float, float]] | None = None,
              columns_width: int | None = None) -> tuple[list[Word], np.ndarray, dict]:
    """Words of one page image (BGR), the cleaned upright page they are placed on, and what was
    done to it (skew, turned, and the number columns found, to guide the next page's probe)."""
    ocr = engine()
    page, skew = _straighten(img)
    boxes = detect(ocr, page)
    quarter = boxes is not None and len(boxes) > 0 and _lines_run_down(boxes)
    if quarter:
        # A landscape table scanned on a portrait page (or the other way): turned a quarter to the
        # left here; if that leaves it upside down, the check below turns it the rest of the way.
        page, skew = _straighten(np.rot90(img))
        boxes = detect(ocr, page)
    if boxes is None or len(boxes) == 0:
        # A blank page: the columns of the page before still hold for the page after it.
        return [], page, {"skew": skew, "turned": False, "quarter": quarter, "columns": columns or [],
                          "width": columns_width}
    crops = ocr.get_crop_img_list(page, boxes)
    turned = _upside_down(ocr, crops)
    if turned:
        page = imaging.rotate180(page)
        h, w = page.shape[:2]
        # The same boxes, turned with the page; corner order restarts at the new top-left.
        boxes = np.array([[[w - 1 - x, h - 1 - y] for x, y in q[[2, 3, 0, 1]]] for q in boxes], dtype=np.float32)
        crops = ocr.get_crop_img_list(page, boxes)
    prose = prose_boxes(page, boxes)
    # A paragraph's lines stay on the page unread: the reader needs them to know that the short
    # line ending the paragraph (`起行政诉讼276件。`) is narrative, not a label and a cell.
    words = [Word("", 1.0, float(q[:, 0].min()), float(q[:, 1].min()), float(q[:, 0].max()), float(q[:, 1].max()),
                  prose=True) for q in boxes[prose]]
    boxes, crops = boxes[~prose], [c for c, k in zip(crops, prose) if not k]
    recs = recognise(ocr, [_pad(c) for c in crops])
    for q, (text, conf) in zip(boxes, recs):
        xs, ys = q[:, 0], q[:, 1]
        # The box as it stands on the page: RapidOCR's crop of a tall box is turned on its side.
        upright = cv_crop(page, int(xs.min()), int(ys.min()), int(xs.max()) + 1, int(ys.max()) + 1)
        text = normalise(lone_mark(text.strip(), upright), float(xs.max() - xs.min()), float(ys.max() - ys.min()))
        if text:
            words += marks_apart(Word(text, float(conf), float(xs.min()), float(ys.min()), float(xs.max()),
                                      float(ys.max())))
    words = split_wide_numbers(ocr, page, words)
    words = minus_signs(page, words)
    probed, cols = probe_missed(ocr, page, words, carried_columns(columns, columns_width, page.shape[1]))
    probed += probe_rows(ocr, page, words + probed)
    return words + probed, page, {"skew": skew, "turned": turned, "quarter": quarter, "columns": cols,
                                  "width": page.shape[1]}


def carried_columns(columns: list[tuple[float, float]] | None, width: int | None, page_width: int
                    ) -> list[tuple[float, float]]:
    """The number columns of the page before, where they may hold on this one: a page of another
    size, or one standing the other way (a landscape requests table, then a portrait page), has
    its columns elsewhere, and probing there reads two cells as one (`4` `7` as `47`)."""
    if not columns or (width is not None and abs(page_width - width) > 0.02 * width):
        return []
    return columns


def _straighten(img: np.ndarray) -> tuple[np.ndarray, float]:
    """The cleaned page, deskewed and dewarped, and the skew taken out (degrees)."""
    page = imaging.clean(np.ascontiguousarray(img))
    skew = imaging.estimate_skew(page)
    return imaging.dewarp(imaging.rotate(page, skew)), skew


LONG_BOX = 3.0  # a text box this many times longer than it is thick is a line of several characters
QUARTER_SHARE = 0.7  # of the long boxes: standing upright on this share, the page's lines run down it
QUARTER_MIN = 5  # long boxes needed to judge by: a page of a few words is not turned on their say


def _lines_run_down(boxes: np.ndarray) -> bool:
    """Do the page's lines of text run down the page (turned a quarter)? A line of several
    characters is a box far longer than thick, lying on an upright page. A table's header stacks
    some titles one character a line (`结/果/维/持`), so standing boxes count only where they are most."""
    w = boxes[:, :, 0].max(1) - boxes[:, :, 0].min(1)
    h = boxes[:, :, 1].max(1) - boxes[:, :, 1].min(1)
    lying, standing = int((w >= LONG_BOX * h).sum()), int((h >= LONG_BOX * w).sum())
    return lying + standing >= QUARTER_MIN and standing >= QUARTER_SHARE * (lying + standing)


def detect(ocr, page: np.ndarray) -> np.ndarray | None:
    """Text boxes of a page: RapidOCR's detector, its own resize and post-processing, with the
    input scaled in float32. Its own pre-processing normalises the whole page in float64 (its mean
    and std are float64 arrays), about a tenth of a page's detection time, for the same boxes."""
    det = ocr.text_det
    resized = det.get_preprocess(max(page.shape[:2])).resize(page)
    if resized is None:
        return None
    mean, std = np.float32(det.mean), np.float32(det.std)
    x = (resized.astype(np.float32) * np.float32(1 / 255) - mean) / std
    boxes, _ = det.postprocess_op(det.infer(x.transpose(2, 0, 1)[np.newaxis].copy())[0], page.shape[:2])
    return det.filter_tag_det_res(boxes, page.shape[:2])


_GROUPED = re.compile(r"(\d{1,3}(?:[.,]\d{3})+)([.,]\d{1,2})?(元)?")
NUMBERISH = re.compile(r"-?\d+(?:\.\d+)?|—")
PROBE_MIN_CONF = 0.3  # a probed crop's reading below this is noise (a lone 0 reads at 0.3–0.9: no context)


def probe_missed(ocr, page: np.ndarray, words: list[Word], known: list[tuple[float, float]]
                 ) -> tuple[list[Word], list[tuple[float, float]]]:
    """Cells the text detector missed. It finds lines of text and often skips a lone small glyph
    (a `0`, a `1`, a dash), or a row of them: down each column that other rows print numbers in,
    every blob of ink no found box covers is recognised on its own. A column with one number on
    this page is known from the pages before (`known`: centre, half width). Ruling lines are taken
    out first; nothing a found box touches is read twice. Returns the words and the columns."""
    cv2 = imaging.opencv()
    nums = [w for w in words if NUMBERISH.fullmatch(w.text)]
    if len(nums) < 4:
        return [], known
    h = float(np.median([w.bottom - w.top for w in nums]))
    cols: list[list[Word]] = []
    for w in sorted(nums, key=lambda w: (w.x0 + w.x1) / 2):
        c = (w.x0 + w.x1) / 2
        if cols and c - (cols[-1][-1].x0 + cols[-1][-1].x1) / 2 <= 0.6 * h:
            cols[-1].append(w)
        else:
            cols.append([w])
    found = [(float(np.median([(w.x0 + w.x1) / 2 for w in c])), max(float(max(w.x1 - w.x0 for w in c)) / 2, 0.5 * h))
             for c in cols if len(c) >= 2]
    columns = sorted(found + [k for k in known if all(abs(k[0] - c) > 0.6 * h for c, _ in found)])
    if not columns:
        return [], known
    cols = [c for c in cols if len(c) >= 2] or [nums]
    grey = cv2.cvtColor(page, cv2.COLOR_BGR2GRAY) if page.ndim == 3 else page
    first, last = min(w.top for c in cols for w in c), max(w.bottom for c in cols for w in c)
    # The table goes on beyond its first and last numbers found where its row labels go on (the
    # detector may miss every number of a page's first or last rows: a shadow, a bend): the
    # labels left of the columns, each within a few lines of the one before.
    left = min(cx - half for cx, half in columns)
    labels = [w for w in words if w.x1 <= left]
    for w in sorted((w for w in labels if w.top >= last - h), key=lambda w: w.top):
        if w.top > last + 3 * h:
            break
        last = max(last, w.bottom)
    for w in sorted((w for w in labels if w.bottom <= first + h), key=lambda w: -w.bottom):
        if w.bottom < first - 3 * h:
            break
        first = min(first, w.top)
    top = int(max(0, first - h))
    bottom = int(min(grey.shape[0], last + h))
    ink = table_ink(grey, top, bottom, h)
    # How tall a digit's ink is here: a blob much shorter is a speck or a stroke of something else.
    tall = []
    for w in nums:
        if w.text[-1].isdigit():
            on = np.flatnonzero((ink[int(w.top):int(w.bottom) + 1, int(w.x0):int(w.x1) + 1] > 0).any(axis=1))
            if on.size:
                tall.append(on[-1] - on[0] + 1)
    least = 0.75 * float(np.median(tall)) if tall else 0.4 * h
    boxes = [(w.x0, w.top, w.x1, w.bottom) for w in words]
    crops, where = [], []
    for cx, half in columns:
        x0, x1 = int(max(0, cx - half)), int(min(ink.shape[1], cx + half))
        profile = (ink[top:bottom, x0:x1] > 0).sum(axis=1) >= 2
        for y0, y1 in imaging.runs(profile, gap=int(0.3 * h)):
            y0, y1 = y0 + top, y1 + top
            # A dash is not probed: what is left of a broken rule looks just like one.
            if not least <= y1 - y0 <= 1.6 * h:
                continue
            box = (float(x0), float(y0), float(x1), float(y1))
            if any(b[0] < box[2] and box[0] < b[2] and b[1] < box[3] and box[1] < b[3] for b in boxes):
                continue
            cols_ink = np.flatnonzero((ink[y0:y1, x0:x1] > 0).any(axis=0))
            if cols_ink.size == 0:
                continue
            box = (float(x0 + cols_ink[0]), float(y0), float(x0 + cols_ink[-1] + 1), float(y1))
            pad = int(0.2 * h)
            crops.append(cv_crop(page, int(box[0]) - pad, y0 - pad, int(box[2]) + pad, y1 + pad))
            where.append(box)
            boxes.append(box)
    if not crops:
        return [], columns
    recs = recognise(ocr, [_pad(c) for c in crops])
    out = []
    for (x0, y0, x1, y1), crop, (text, conf) in zip(where, crops, recs):
        text = normalise(lone_mark(text.strip(), crop), x1 - x0, y1 - y0)
        if NUMBERISH.fullmatch(text) and text != "—" and conf >= PROBE_MIN_CONF:
            out.append(Word(text, float(conf), x0, y0, x1, y1))

    # A cell stands in a row: beside a found box, or beside two other probed cells (a row the
    # detector missed whole). A lone speck that reads as `1` does neither.
    def centre(w):
        return (w.top + w.bottom) / 2

    def in_row(p):
        if any(abs(centre(w) - centre(p)) <= 0.4 * h for w in words):
            return True
        return sum(abs(centre(q) - centre(p)) <= 0.4 * h for q in out if q is not p) >= 2

    return [p for p in out if in_row(p)], columns


def table_ink(grey: np.ndarray, top: int, bottom: int, h: float) -> np.ndarray:
    """The ink of a band of the page (in page coordinates, nothing outside the band) with its
    ruling lines taken out."""
    cv2 = imaging.opencv()
    k = max(3, int(3 * h))
    # The band with a margin of blank rows that the openings below cannot see past: the same
    # result as on the whole page, for the band's pixels only.
    lo, hi = max(0, top - k - 4), min(grey.shape[0], bottom + k + 4)
    ink = np.zeros((hi - lo, grey.shape[1]), np.uint8)
    # A faint or blurred print has grey ink: the threshold is the table zone's own (Otsu).
    ink[top - lo : bottom - lo] = cv2.threshold(grey[top:bottom], 0, 255, cv2.THRESH_BINARY_INV | cv2.THRESH_OTSU)[1]
    # Rules out: a tilted rule is straight only a few pixels wide, so it is thickened across
    # before the long opening and what is taken out is widened again.
    rect = cv2.getStructuringElement
    across_h = cv2.dilate(ink, rect(cv2.MORPH_RECT, (1, 3)))
    across_v = cv2.dilate(ink, rect(cv2.MORPH_RECT, (3, 1)))
    rules = cv2.morphologyEx(across_h, cv2.MORPH_OPEN, rect(cv2.MORPH_RECT, (k, 1))) | \
        cv2.morphologyEx(across_v, cv2.MORPH_OPEN, rect(cv2.MORPH_RECT, (1, k)))
    out = np.zeros_like(grey)
    out[lo:hi] = cv2.subtract(ink, cv2.dilate(rules, rect(cv2.MORPH_RECT, (3, 3))))
    return out


ROW_MIN_NUMBERS = 3  # numbers on a line before its gaps are probed
HEAD_MIN_TITLES = 4  # text boxes in the few lines above: a table's header, under which fewer will do
LABEL_MIN_CONF = 0.5  # a row label's reading is at least this sure
MARK_BY_INK = 0.5  # confidence of a dash that only its ink's shape shows
ROW_PROBE_MIN_CONF = 0.6  # a digit read from a blob between a line's numbers: a seal's ring reads as `1` at ~0.45


def probe_rows(ocr, page: np.ndarray, words: list[Word]) -> list[Word]:
    """Cells the detector missed in a line of numbers with no row label (the appeals table prints
    all its cells on one line, so no other row shows where its columns are, and `probe_missed`
    finds nothing to go down): along the line, under its header, every blob of ink no box covers
    is recognised on its own: a digit under a seal's edge, a zero mark. A dash counts here, on a
    line of numbers, where a broken rule has been taken out already."""
    nums = [w for w in words if NUMBERISH.fullmatch(w.text)]
    if not nums:
        return []
    h = float(np.median([w.bottom - w.top for w in nums]))
    lines: list[list[Word]] = []
    for w in sorted(nums, key=lambda w: (w.top + w.bottom) / 2):
        if lines and (w.top + w.bottom) / 2 - (lines[-1][-1].top + lines[-1][-1].bottom) / 2 <= 0.5 * h:
            lines[-1].append(w)
        else:
            lines.append([w])
    cv2 = imaging.opencv()
    grey = cv2.cvtColor(page, cv2.COLOR_BGR2GRAY) if page.ndim == 3 else page
    boxes = [(w.x0, w.top, w.x1, w.bottom) for w in words]
    crops, where = [], []
    for line in lines:
        line.sort(key=lambda w: w.x0)
        # A line of numbers alone: its cells stand under the header just above it, whose titles
        # span the table, first cell to last.
        head = [w for w in words if line[0].top - 6 * h <= w.bottom <= line[0].top and w not in nums]
        # A faint print leaves the detector a number or two of a line: under a table's header
        # (several titles), that is still a line of numbers to probe.
        if len(line) < ROW_MIN_NUMBERS and len(head) < HEAD_MIN_TITLES:
            continue
        top = int(max(0, np.median([w.top for w in line]) - 0.1 * h))
        bottom = int(min(grey.shape[0], np.median([w.bottom for w in line]) + 0.1 * h))
        pitch = float(np.median([b.x0 - a.x0 for a, b in zip(line, line[1:])])) if len(line) > 1 else h
        x0, x1 = line[0].x0 - pitch, line[-1].x1 + pitch
        mid = (line[0].top + line[0].bottom) / 2
        # A row's label is read with some confidence; a seal's stroke or a smudge read as a
        # character (`坊` at 0.27 for a faint `撤销` cell) is no label.
        label = [w for w in words if _IDEOGRAPH.search(w.text) and not CELL.fullmatch(w.text)  # 无 is a cell
                 and w.conf >= LABEL_MIN_CONF and abs((w.top + w.bottom) / 2 - mid) <= 0.5 * h]
        if label:
            continue  # a labelled row's columns are the other rows' (`probe_missed`)
        if head:
            x0 = min(x0, min(w.x0 for w in head))
            x1 = max(x1, max(w.x1 for w in head))
        x0, x1 = int(max(0, x0)), int(min(grey.shape[1], x1))
        # What is left of a blurred rule along the band's edge (its grey halo) is no cell's ink.
        ink = digit_band(table_ink(grey, top, bottom, h)[top:bottom, x0:x1] > 0, 0.5)
        if not ink.any():
            continue
        profile = ink.sum(axis=0) >= 1
        for a, b in imaging.runs(profile, gap=int(0.5 * h)):
            box = (float(x0 + a), float(top), float(x0 + b), float(bottom))
            if b - a < 0.15 * h or b - a > 4 * h or \
                    any(q[0] < box[2] and box[0] < q[2] and q[1] < box[3] and box[1] < q[3] for q in boxes):
                continue
            rows_on = np.flatnonzero(ink[:, a:b].any(axis=1))
            if rows_on.size == 0:
                continue
            box = (box[0], float(top + rows_on[0]), box[2], float(top + rows_on[-1] + 1))
            pad = int(0.2 * h)
            crops.append(cv_crop(page, int(box[0]) - pad, top - pad, int(box[2]) + pad, bottom + pad))
            where.append(box)
            boxes.append(box)
    if not crops:
        return []
    out = []
    for (x0, y0, x1, y1), crop, (text, conf) in zip(where, crops, recognise(ocr, [_pad(c) for c in crops])):
        read = text.strip()
        text = normalise(lone_mark(read, crop), x1 - x0, y1 - y0)
        if not read and text == "—":
            conf = MARK_BY_INK  # what the recogniser left unread, the ink's shape says
        if NUMBERISH.fullmatch(text) and conf >= (PROBE_MIN_CONF if text == "—" else ROW_PROBE_MIN_CONF):
            out.append(Word(text, float(conf), x0, y0, x1, y1))
    return out


def minus_signs(page: np.ndarray, words: list[Word]) -> list[Word]:
    """Numbers that lost their minus sign. A short thin stroke before the digits (`-2`, `-24` in
    本年增/减) is often left out of the box, or dropped by the recogniser: a stroke of its own at
    the digits' mid-height, a few digit widths long at most, just left of the first digit, is
    the sign. A rule is far longer; a dash that marks a zero is a cell's width away."""
    cv2 = imaging.opencv()
    grey = cv2.cvtColor(page, cv2.COLOR_BGR2GRAY) if page.ndim == 3 else page
    out = []
    for w in words:
        if not w.text.isdigit():
            out.append(w)
            continue
        h = w.bottom - w.top
        x0, x1 = int(max(0, w.x0 - 1.2 * h)), int(min(grey.shape[1], w.x1))
        y0, y1 = int(max(0, w.top)), int(min(grey.shape[0], w.bottom + 1))
        box = grey[y0:y1, x0:x1]
        if box.size == 0 or box.shape[0] < 6:
            out.append(w)
            continue
        ink = cv2.threshold(box, 0, 255, cv2.THRESH_BINARY_INV | cv2.THRESH_OTSU)[1]
        n, _, stats, _ = cv2.connectedComponentsWithStats(ink, connectivity=8)
        blobs = [stats[i] for i in range(1, n) if stats[i, cv2.CC_STAT_AREA] >= 3]
        digits = [b for b in blobs if b[cv2.CC_STAT_HEIGHT] >= 0.4 * h]
        if not digits:
            out.append(w)
            continue
        first = min(b[cv2.CC_STAT_LEFT] for b in digits)
        top = min(b[cv2.CC_STAT_TOP] for b in digits)
        tall = max(b[cv2.CC_STAT_TOP] + b[cv2.CC_STAT_HEIGHT] for b in digits) - top
        # A thin stroke blurs to a faint grey at 150 dpi, lighter than Otsu's cut: the sign is
        # looked for at the paper's own level less a little.
        faint = (box < np.median(box) - 15).astype(np.uint8) * 255
        n, _, stats, _ = cv2.connectedComponentsWithStats(faint, connectivity=8)
        blobs = [stats[i] for i in range(1, n) if stats[i, cv2.CC_STAT_AREA] >= 3]
        sign = False
        for b in blobs:
            bx, by, bw, bh = b[cv2.CC_STAT_LEFT], b[cv2.CC_STAT_TOP], b[cv2.CC_STAT_WIDTH], b[cv2.CC_STAT_HEIGHT]
            mid = by + bh / 2 - top
            if bx + bw <= first and first - (bx + bw) <= 0.5 * tall and 0.2 * tall <= bw <= 0.9 * tall \
                    and bh <= min(bw, 0.35 * tall) and 0.3 * tall <= mid <= 0.75 * tall and \
                    not any(c[cv2.CC_STAT_LEFT] + c[cv2.CC_STAT_WIDTH] <= bx for c in blobs if c is not b):
                sign = True
        out.append(Word("-" + w.text, w.conf, min(w.x0, float(x0 + first) - 0.6 * tall), w.top, w.x1, w.bottom)
                   if sign else w)
    return out


CELL = re.compile(r"-?\d+(?:\.\d+)?|无|—|/")  # what a table cell's reading is: a number or a zero mark


def marks_apart(w: Word) -> list[Word]:
    """Zero marks boxed with each other or with a number (`无无无`, `无103`: the detector sees no
    gap between narrow cells) as one word each, the box shared out by characters."""
    parts = CELL.findall(w.text)
    if len(parts) < 2 or "".join(parts) != w.text or not any(p in _MARKS for p in parts):
        return [w]
    step = (w.x1 - w.x0) / len(w.text)
    out, x = [], w.x0
    for p in parts:
        out.append(Word(p, w.conf, x, w.top, x + step * len(p), w.bottom))
        x += step * len(p)
    return out


_RUN = re.compile(r"[\d.,oO。无—/-]+")
_MARKS = {"无", "—", "/"}  # zero marks a split part may be
CELL_GAP = 0.6  # a gap in a digit box this many digit heights wide is between cells (digits touch)


LONGEST_CELL = 7  # digits: no count in these tables is longer
WIDE_BOX = 1.6  # × the line's usual width of a digit, times its characters: a box that wide spans a gap
DARKER = 0.25  # of the way from Otsu's threshold to the darkest print: a seal's grey lies above it


def digit_band(ink: np.ndarray, line_share: float) -> np.ndarray:
    """The ink of the band of rows a line's digits fill: rows inked across `line_share` of the
    width or more are a rule (or its halo), and of the rest only the longest run of well-inked
    rows is kept (a seal's ring or a neighbour's stroke runs above and below the digits)."""
    ink = ink.copy()
    ink[ink.sum(axis=1) >= line_share * ink.shape[1]] = False
    sums = ink.sum(axis=1)
    if sums.max() == 0:
        return ink
    a, b = max(imaging.runs(sums >= 0.25 * sums.max(), gap=1), key=lambda ab: ab[1] - ab[0])
    ink[: max(0, a - 1)] = False
    ink[b + 1 :] = False
    return ink


def _cell_runs(box: np.ndarray, dark: bool = False) -> list[tuple[int, int]]:
    """Column runs of a digit box's ink, one per cell. With `dark`, ink is only what is a quarter
    of the way darker from the box's Otsu threshold to its darkest print, within the band of rows
    the digits fill (a seal's ring is grey and runs above and below them)."""
    cv2 = imaging.opencv()
    otsu, ink = cv2.threshold(box, 0, 255, cv2.THRESH_BINARY_INV | cv2.THRESH_OTSU)
    ink = ink > 0
    if dark:
        ink = box < otsu - DARKER * (otsu - np.percentile(box, 2))
    if dark:
        # In a box of many cells, gaps between cells leave no digit row half as wide as the box.
        ink = digit_band(ink, 0.5)
    else:
        ink[ink.sum(axis=1) >= 0.9 * ink.shape[1]] = False  # a ruling line along the box is no digit
    rows = np.flatnonzero(ink.sum(axis=1) >= (1 if dark else 2))
    if rows.size == 0:
        return []
    tall = rows[-1] - rows[0] + 1
    ink = ink[rows[0] : rows[-1] + 1]
    on = ink.sum(axis=0) >= 1
    # A ruling line inside the box is a separator, not a part: a stroke through the whole height.
    on &= ~(ink.sum(axis=0) >= 0.9 * tall)
    runs = imaging.runs(on, gap=max(1, int(CELL_GAP * tall)))
    return [(a, b) for a, b in runs if b - a >= 0.2 * tall]


def split_wide_numbers(ocr, page: np.ndarray, words: list[Word]) -> list[Word]:
    """Digit boxes that hold two cells. The detector boxes neighbouring numbers as one where a
    narrow column leaves little space (`12` `66` read as `1266`); the ink says otherwise: digits
    of one number stand a stroke apart, two cells' numbers a column gap apart. Each part is then
    recognised on its own, so it keeps its own position (and column)."""
    cv2 = imaging.opencv()
    grey = cv2.cvtColor(page, cv2.COLOR_BGR2GRAY) if page.ndim == 3 else page
    parts: list[tuple[int, tuple[int, int, int, int]]] = []
    digit_w = [(w.x1 - w.x0) / len(w.text) for w in words if w.text.isdigit()]
    digit_w = float(np.median(digit_w)) if digit_w else 0.0
    for i, w in enumerate(words):
        # Digits, or digits run together with points, round glyphs and zero marks (`0.000.0095`:
        # cells of `0.00` and `95` boxed as one; `124无10387无190`): nothing else is split.
        if not (len(w.text) >= 2 and _RUN.fullmatch(w.text) and sum(c.isdigit() for c in w.text) >= 2):
            continue
        x0, y0, x1, y1 = int(w.x0), int(w.top), int(w.x1) + 1, int(w.bottom) + 1
        box = grey[max(0, y0):y1, max(0, x0):x1]
        if box.size == 0:
            continue
        runs = _cell_runs(box)
        # Far too many digits for one cell (an amount's many digits have a point), or a box far
        # wider than its characters need: something grey may bridge the gaps (a seal's ring
        # across the line). The print is the darkest ink: cut by it alone too.
        if (w.text.isdigit() and len(w.text) > LONGEST_CELL) or 0 < WIDE_BOX * len(w.text) * digit_w < w.x1 - w.x0:
            runs = max(runs, _cell_runs(box, dark=True), key=len)
        # The detector's box may reach into a neighbour's (`132` boxed with the `1` of `41` before
        # it): ink inside another word's box is that word's, not a part of this one.
        others = [(v.x0, v.x1) for v in words
                  if v is not w and CELL.fullmatch(v.text) and v.top < w.bottom and w.top < v.bottom]
        runs = [(a, b) for a, b in runs
                if not any(min(b, v1 - max(0, x0)) - max(a, v0 - max(0, x0)) >= 0.6 * (b - a) for v0, v1 in others)]
        if len(runs) < 2:
            continue
        for a, b in runs:
            parts.append((i, (max(0, x0) + a, y0, max(0, x0) + b, y1)))
    if not parts:
        return words
    h = max(1, int(np.median([w.bottom - w.top for w in words])))
    pad = int(0.2 * h)
    crops = [cv_crop(page, a - pad, y0, b + pad, y1) for _, (a, y0, b, y1) in parts]
    recs = recognise(ocr, [_pad(c) for c in crops])
    split: dict[int, list[Word]] = {}
    for (i, (a, y0, b, y1)), (text, conf) in zip(parts, recs):
        text = normalise(text.strip(), float(b - a), float(y1 - y0))
        split.setdefault(i, []).append(Word(text, float(conf), float(a), float(y0), float(b), float(y1)))
    out = []
    for i, w in enumerate(words):
        cells = _cells_of([q for p in split.get(i, []) for q in marks_apart(p)], w.text)
        out += cells or [w]
    return out


def _cells_of(pieces: list[Word], whole: str) -> list[Word]:
    """The cells a split box holds: every part reads as a number or a zero mark; or the parts
    that read as numbers hold the box's digits, in order, and the rest read as nothing of a
    cell (a faint dash or a speck between cells: `83 90 ·` boxed as `8390`). None: keep the box."""
    cells = [p for p in pieces if CELL.fullmatch(p.text)]
    if not any(p.text not in _MARKS for p in cells):
        return []
    if len(cells) == len(pieces):
        return cells
    rest = "".join(p.text for p in pieces if not CELL.fullmatch(p.text))
    digits = "".join(c for p in cells for c in p.text if c.isdigit())
    if len(cells) >= 2 and not any(c.isalnum() for c in rest) and digits == "".join(c for c in whole if c.isdigit()):
        return cells
    return []


REC_BATCH = 6  # crops per recognition call (RapidOCR's own batch size; larger batches were slower here)


def recognise(ocr, crops: list[np.ndarray]) -> list[tuple[str, float]]:
    """(text, confidence) of each crop, each batch at its own crops' width. RapidOCR widens every
    batch to at least 320 px (a line of text's width): a table cell's crop (`0`, `2185`) is far
    narrower, and recognising it at 320 px costs about four times the time for the same reading
    (what differs is a lone `0` read as `o` rather than `。`, which `normalise` makes a 0 either way)."""
    rec = ocr.text_rec
    ratios = [c.shape[1] / c.shape[0] for c in crops]
    order = np.argsort(ratios, kind="stable")
    out: list[tuple[str, float]] = [("", 0.0)] * len(crops)
    for start in range(0, len(crops), REC_BATCH):
        idx = order[start : start + REC_BATCH]
        widest = max(1.0, max(ratios[i] for i in idx))
        batch = np.concatenate([rec.resize_norm_img(crops[i], widest)[np.newaxis] for i in idx]).astype(np.float32)
        preds = rec.session(batch)[0]
        for i, res in zip(idx, rec.postprocess_op(preds, False, wh_ratio_list=[ratios[i] for i in idx],
                                                    max_wh_ratio=widest)):
            out[i] = (res[0], float(res[1]))
    return out


def cv_crop(page: np.ndarray, x0: int, y0: int, x1: int, y1: int) -> np.ndarray:
    return np.ascontiguousarray(page[max(0, y0):y1, max(0, x0):x1])


def normalise(text: str, width: float, height: float) -> str:
    """Undo what a recogniser does to table cells out of context: a box holding one round glyph no
    wider than it is tall is a digit 0 (a full stop or a letter o is never a box of its own in these
    tables), a box of nothing but a dash (`一`) is the zero mark `—`, and a row number read without
    its dot (`2重复申请`) gets it back; thousands read with a point (`1,160.400元`) are thousands."""
    grouped = _GROUPED.fullmatch(text)
    if grouped and (grouped.group(3) or len(re.findall(r"[.,]", grouped.group(1))) >= 2):
        # `1,160.400元`: a recogniser reads a thousands comma as a point; in 元 a point is followed
        # by two digits (分), and a number never has two points, so 3-digit groups are thousands.
        return re.sub(r"[.,]", ",", grouped.group(1)) + (grouped.group(2) or "").replace(",", ".") + \
            (grouped.group(3) or "")
    if re.fullmatch(r"\d+[.。,，、·]|[.。,，、·'`]\d+", text):
        # A speck beside a number read as a point: no number here ends or starts with one.
        return text.strip(".。,，、·'`")
    if len(text) == 1 and text in ROUND and width <= 1.1 * height:
        return "0"
    if text and set(text) <= DASHES and width >= 0.8 * height:
        return "—"  # a dash alone in its box (a row number `一、` keeps its comma and its label)
    return re.sub(r"^(\d{1,2})(?=[\u4e00-\u9fff])", r"\1.", text)


STROKES = set("1l|I丨/7")  # what the recogniser makes of a lone slash, a zero printed as `/`
SLASH_LEAN = 12.0  # degrees off vertical: a 1's stem stands upright, a slash's leans ~20–30°
FLAT = 0.35  # a dash's ink is at most this tall for its width; a digit's is taller than wide
_IDEOGRAPH = re.compile(r"[\u4e00-\u9fff]")


def lone_mark(text: str, crop: np.ndarray) -> str:
    """A zero mark alone in its box, judged by its ink, whatever the recogniser read: out of
    context it reads a slash as `1` as often as not (confidently, too) and a dash as `1`, `5`, `I`
    or noise, which would put a number in every cell a table marks as zero. One flat stroke is the
    dash `—`; one leaning stroke is the slash `/`. A 1 stands upright; a 7 leans, but its top bar
    is as wide as the glyph, where a slash's top is little more than a stroke's width."""
    # A number read with confidence in its digits is no dash: only one glyph, or letters and noise.
    # Nothing read at all is judged by the ink too: a faint dash alone often reads as nothing.
    maybe_dash = len(text) <= 4 and (len(text) <= 1 or not any(c.isdigit() for c in text)) \
        and not _IDEOGRAPH.search(text.replace("一", "")) and text != "—"
    if not (maybe_dash or (len(text) == 1 and text in STROKES)):
        return text
    cv2 = imaging.opencv()
    grey = cv2.cvtColor(crop, cv2.COLOR_BGR2GRAY) if crop.ndim == 3 else crop
    if grey.size == 0:
        return text
    ink = cv2.threshold(grey, 0, 255, cv2.THRESH_BINARY_INV | cv2.THRESH_OTSU)[1] > 0
    if ink.sum() < 8:
        return text
    # The mark alone: the largest blob (a crop may hold a bit of a rule or a neighbour).
    n, labels, stats, _ = cv2.connectedComponentsWithStats(ink.astype(np.uint8), connectivity=8)
    if n < 2:
        return text
    areas = stats[1:, cv2.CC_STAT_AREA]
    big = 1 + int(np.argmax(areas))
    ys, xs = np.nonzero(labels == big)
    tall, wide = np.ptp(ys) + 1, np.ptp(xs) + 1
    alone = areas.sum() - areas[big - 1] <= 0.2 * areas[big - 1]
    spans = xs.min() == 0 and xs.max() == grey.shape[1] - 1  # a rule through the box, not a mark
    # A dash stands at mid-height; a flat stroke at the box's top or bottom is a rule's.
    level = 0.2 * grey.shape[0] <= ys.mean() <= 0.8 * grey.shape[0]
    if maybe_dash and alone and not spans and level and tall <= FLAT * wide and wide >= 0.4 * grey.shape[0]:
        return "—"
    if not (len(text) == 1 and text in STROKES) or tall < max(5, 0.4 * grey.shape[0]) or wide > tall:
        return text  # a speck, or a piece of a rule: no stroke to judge
    slope = np.polyfit(ys.astype(np.float64), xs.astype(np.float64), 1)[0]  # x per y: 0 upright
    lean = abs(float(np.degrees(np.arctan(slope))))
    top = ys <= ys.min() + 0.2 * np.ptp(ys)
    bar = np.ptp(xs[top]) + 1 if top.any() else 0
    if lean >= SLASH_LEAN and (text != "7" or bar <= 0.75 * wide):
        return "/"
    return text


def _pad(crop: np.ndarray) -> np.ndarray:
    cv2 = imaging.opencv()
    h = crop.shape[0]
    return cv2.copyMakeBorder(crop, int(h * PAD_Y), int(h * PAD_Y), int(h * PAD_X), int(h * PAD_X),
                              cv2.BORDER_REPLICATE)


PROSE_SPAN = 0.55  # of the page's text width: a paragraph line runs from margin to margin
PROSE_HEIGHT = 1.25  # × the usual height of such lines: a title's larger print is always read
# Box heights: the widest gap in a prose line's ink (punctuation and a noisy print leave up to ~2.7
# in the dev scans' paragraphs; a table row's cells stand further apart).
PROSE_GAP = 3.0
HEAD_SHARE = 0.15  # of the page's height: lines up there (a title, its issuer, the year) are read,
HEAD_SPAN = 0.9  # unless they run margin to margin: a paragraph's line (a title is set in from both)


def prose_boxes(page: np.ndarray, boxes: np.ndarray) -> np.ndarray:
    """Which boxes are lines of a paragraph: as wide as the page's text, of body-text height, below
    the page's head, and with their ink unbroken from end to end (a rule's column counts as a gap,
    not as ink). The narrative's numbers never become cells, and its long lines cost half of a text
    page's recognition time, so they are not read."""
    cv2 = imaging.opencv()
    x0, x1 = boxes[:, :, 0].min(1), boxes[:, :, 0].max(1)
    y0, y1 = boxes[:, :, 1].min(1), boxes[:, :, 1].max(1)
    heights = y1 - y0
    span = x1.max() - x0.min()
    wide = (x1 - x0 >= PROSE_SPAN * span) & ((y0 >= HEAD_SHARE * page.shape[0]) | (x1 - x0 >= HEAD_SPAN * span))
    out = np.zeros(len(boxes), dtype=bool)
    if not wide.any():
        return out
    wide &= heights <= PROSE_HEIGHT * np.median(heights[wide])
    grey = cv2.cvtColor(page, cv2.COLOR_BGR2GRAY) if page.ndim == 3 else page
    for i in np.flatnonzero(wide):
        crop = grey[max(0, int(y0[i])):int(y1[i]) + 1, max(0, int(x0[i])):int(x1[i]) + 1] < 128
        h = crop.shape[0]
        if h < 4:
            continue
        rule = crop.mean(0) > 0.9  # a vertical rule crosses the whole box
        inked = crop[int(0.2 * h):int(0.8 * h) + 1].any(0) & ~rule
        cols = np.flatnonzero(inked)
        if len(cols) < 2:
            continue
        out[i] = np.diff(cols).max() - 1 <= PROSE_GAP * h
    return out


def _upside_down(ocr, crops: list[np.ndarray]) -> bool:
    wide = sorted(crops, key=lambda c: -c.shape[1])[:ORIENTATION_SAMPLE]
    _, labels, _ = ocr.text_cls(wide)
    votes = [label for label, score in labels if score >= 0.8]
    return bool(votes) and sum(v == "180" for v in votes) / len(votes) >= UPSIDE_DOWN_SHARE
