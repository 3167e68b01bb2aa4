"""PDFs (pdfium): words of the text layer grouped into lines, and into cells by the gaps
between them. A PDF whose text layer is missing or garbage (a scan, a font without a Unicode map)
goes to OCR (`readers/scan.py`) unless the config says `ocr: never`."""
from __future__ import annotations

import io

from nianbao.config import PipelineConfig, load_config
from nianbao.errors import InputTooLarge, NianbaoError, UnreadableInput, require
from nianbao.schema import Fragment

from .base import FragmentBuilder, footer_in_label, is_chrome, register_reader, running_chrome
from .text import narrative_lines

LINE_TOLERANCE = 3.0  # points: words whose tops differ less sit on one line
CELL_GAP = 6.0  # points: a wider gap between two words separates cells


class NeedsOcr(NianbaoError):
    code = "E030"


USABLE_SHARE = 0.6  # a text layer is usable when this share of its characters are CJK, digits or punctuation


def read_pdf(data: bytes, source: str, config: PipelineConfig | None = None) -> list[Fragment]:
    config = config or load_config()
    if config.ocr == "always":
        return _ocr_pdf(data, source, config)
    pdfium = require("pypdfium2", "pdf", "Reading PDFs")
    try:
        pdf = pdfium.PdfDocument(data)
        n_pages = len(pdf)
    except Exception as exc:
        raise _unopenable(data, exc, source) from None
    if n_pages > config.max_pages:
        pdf.close()
        raise InputTooLarge(f"{n_pages} pages is over the limit of {config.max_pages}", source=source)
    b = FragmentBuilder()
    line_no = 0
    chars = []
    try:
        lines = []
        for page_no in table_pages(pdf, n_pages):
            words = page_words(pdf[page_no])
            chars += [w["text"] for w in words[:400]]
            lines += [(page_no, line, " ".join(w["text"] for w in line)) for line in _lines(words)]
    finally:
        pdf.close()
    if not _usable("".join(chars)):
        if config.ocr == "never":
            raise NeedsOcr("the PDF has no usable text layer (a scan) and OCR is off (ocr: never)", source=source)
        return _ocr_pdf(data, source, config)
    # Running headers and footers (`打印日期：2024-02-28 13:27`, `…印发 共4页`) come back on every page.
    chrome = running_chrome([text for _, _, text in lines])
    narrative = narrative_lines([text for _, _, text in lines])
    texts = [text for _, _, text in lines]
    for i, (page_no, line, text) in enumerate(lines):
        if (is_chrome(text) and not footer_in_label(texts, i)) or text.strip() in chrome:
            continue
        if i in narrative:
            b.add(text, "prose", line_no, page=page_no,
                  bbox=(line[0]["x0"], min(w["top"] for w in line), line[-1]["x1"], max(w["bottom"] for w in line)))
            line_no += 1
            continue
        for col, cell in enumerate(_cells(line)):
            x0, top = cell[0]["x0"], min(w["top"] for w in cell)
            x1, bottom = cell[-1]["x1"], max(w["bottom"] for w in cell)
            b.add_cell("".join(w["text"] for w in cell), line_no, col, page=page_no,
                       bbox=(x0, top, x1, bottom), keep_blank=False)
        line_no += 1
    return b.fragments


SMALL_PDF = 12  # pages: a report this short is read whole
# Words of the three tables' headings and labels: a page naming two of them may hold a table.
TABLE_MARKERS = ("第二十条", "信息内容", "申请人情况", "本年新收", "上年结转", "予以公开", "行政复议", "行政诉讼",
                 "结果维持", "规范性文件", "行政许可", "行政处罚", "办理结果", "尚未审结")


def _unopenable(data: bytes, exc: Exception, source: str) -> UnreadableInput:
    """Why pdfium could not open a PDF, in the user's words. pdfium refuses a document with no
    pages as it refuses a broken one; pdfminer tells the two apart."""
    if "password" in str(exc).lower() or b"/Encrypt" in data:
        return UnreadableInput("the PDF is encrypted: decrypt it first (e.g. qpdf --decrypt)", source=source)
    try:
        import pdfplumber

        with pdfplumber.open(io.BytesIO(data)) as pdf:
            if not pdf.pages:
                return UnreadableInput("the PDF has no pages", source=source)
    except Exception:
        pass
    return UnreadableInput(f"corrupt PDF ({exc.__class__.__name__})", source=source)


def table_pages(doc, n: int) -> list[int]:
    """The pages to read in full: all of a short PDF; of a long one, the first page (its title),
    the pages whose text names two table words, and the page after each (a table split over a
    page break)."""
    if n <= SMALL_PDF:
        return list(range(n))
    keep = {0}
    blank = 0
    for i in range(n):
        page = doc[i]
        tp = page.get_textpage()
        text = tp.get_text_range()
        tp.close()
        page.close()
        blank += not text.strip()
        if sum(m in text for m in TABLE_MARKERS) >= 2:
            keep |= {i, i + 1}
    if blank > n // 2:  # mostly no text layer: the scan path decides
        return list(range(min(n, SMALL_PDF)))
    return sorted(k for k in keep if k < n)


X_TOLERANCE = 1.5  # points: a wider gap between two characters ends a word
Y_TOLERANCE = 2.0  # points: characters whose tops differ more are on different lines


def page_words(page) -> list[dict]:
    """The page's words as pdfplumber's `extract_words` makes them (x0, x1, top, bottom in points,
    top-down, in the page's displayed orientation): characters clustered into lines by their tops,
    then cut into words at spaces and gaps wider than X_TOLERANCE. pdfium reads the text layer
    several times faster than pdfminer, which was most of a text PDF's time."""
    import pypdfium2.raw as raw

    tp = page.get_textpage()
    try:
        n = tp.count_chars()
        text = tp.get_text_range(0, n) if n else ""
        view = _to_view(page)
        chars = []
        for i, ch in enumerate(text[:n]):
            if ch.isspace() or raw.FPDFText_IsGenerated(tp.raw, i):
                continue  # a space pdfium put in by itself says nothing the gaps do not
            left, bottom, right, top = tp.get_charbox(i, loose=True)
            x0, y0, x1, y1 = view(left, bottom, right, top)
            if x1 > x0 and y1 > y0:
                chars.append(dict(text=ch, x0=x0, x1=x1, top=y0, bottom=y1))
    finally:
        tp.close()
        page.close()  # a long PDF is held one page at a time
    words: list[dict] = []
    for line in _char_lines(chars):
        prev = None
        for c in line:
            if prev is None or c["x0"] < prev["x0"] or c["x0"] > prev["x1"] + X_TOLERANCE \
                    or abs(c["top"] - prev["top"]) > Y_TOLERANCE:
                words.append(dict(c))
            else:
                w = words[-1]
                w.update(text=w["text"] + c["text"], x1=max(w["x1"], c["x1"]), top=min(w["top"], c["top"]),
                         bottom=max(w["bottom"], c["bottom"]))
            prev = c
    return words


def _char_lines(chars: list[dict]) -> list[list[dict]]:
    """Characters clustered by their tops (a new line where the next top is more than Y_TOLERANCE
    below the last), each line left to right."""
    lines: list[list[dict]] = []
    last = None
    for c in sorted(chars, key=lambda c: c["top"]):
        if last is None or c["top"] - last > Y_TOLERANCE:
            lines.append([])
        lines[-1].append(c)
        last = c["top"]
    return [sorted(line, key=lambda c: c["x0"]) for line in lines]


def _to_view(page):
    """PDF user space (y up, unrotated) → the page as displayed (y down, /Rotate applied)."""
    left, bottom, right, top = page.get_mediabox()
    w, h = right - left, top - bottom
    rot = page.get_rotation()

    def view(x0, y0, x1, y1):
        x0, x1, y0, y1 = x0 - left, x1 - left, y0 - bottom, y1 - bottom
        if rot == 90:
            return y0, x0, y1, x1
        if rot == 180:
            return w - x1, y0, w - x0, y1
        if rot == 270:
            return h - y1, w - x1, h - y0, w - x0
        return x0, h - y1, x1, h - y0
    return view


def _usable(text: str) -> bool:
    if len(text) < 20:
        return False
    good = sum(ch.isdigit() or "\u4e00" <= ch <= "\u9fff" or ch in "，。、；：（）()%.-—" for ch in text)
    return good / len(text) >= USABLE_SHARE


def _ocr_pdf(data: bytes, source: str, config: PipelineConfig) -> list[Fragment]:
    """Render the pages that may hold tables and OCR them. Pages with a ruled grid come first; a
    report whose tables are unruled has all its pages read, up to `max_ocr_pages`."""
    pdfium = require("pypdfium2", "pdf", "Rendering scanned PDFs")
    import numpy as np

    from .. import imaging
    from .scan import read_pages

    try:
        doc = pdfium.PdfDocument(data)
    except Exception as exc:
        raise _unopenable(data, exc, source) from None
    try:
        n = len(doc)
        if n == 0:
            raise UnreadableInput("the PDF has no pages", source=source)
        if n > config.max_pages:
            raise InputTooLarge(f"{n} pages is over the limit of {config.max_pages}", source=source)
        chosen = list(range(n))
        if n > config.max_ocr_pages:
            ruled = [i for i in range(n) if imaging.find_grid(_render(doc[i], 50, np)).found]
            chosen = sorted(set(ruled) | {i + 1 for i in ruled if i + 1 < n}) or chosen
            chosen = chosen[: config.max_ocr_pages]
        return read_pages(((i, _render(doc[i], config.ocr_dpi, np)) for i in chosen), dpi=config.ocr_dpi)
    finally:
        doc.close()


def _render(page, dpi: int, np):
    return np.array(page.render(scale=dpi / 72).to_pil().convert("RGB"))[:, :, ::-1].copy()


def _lines(words: list[dict]) -> list[list[dict]]:
    words = sorted(words, key=lambda w: (round(w["top"]), w["x0"]))
    lines: list[list[dict]] = []
    for w in words:
        if lines and abs(lines[-1][0]["top"] - w["top"]) <= LINE_TOLERANCE:
            lines[-1].append(w)
        else:
            lines.append([w])
    return [sorted(line, key=lambda w: w["x0"]) for line in lines]


def _cells(line: list[dict]) -> list[list[dict]]:
    cells = [[line[0]]]
    for prev, w in zip(line, line[1:]):
        # A word space is a fraction of the type's height; a narrow header's columns in small type
        # stand apart by less than CELL_GAP, but by more than a space.
        size = min(w["bottom"] - w["top"], prev["bottom"] - prev["top"])
        if w["x0"] - prev["x1"] > min(CELL_GAP, 0.6 * size):
            cells.append([w])
        else:
            cells[-1].append(w)
    return cells


@register_reader
class PdfReader:
    name = "pdf"

    def sniff(self, data: bytes, suffix: str) -> float:
        return 1.0 if data[:1024].lstrip().startswith(b"%PDF") else 0.0

    def read(self, data: bytes, source: str, config: PipelineConfig | None = None) -> list[Fragment]:
        return read_pdf(data, source, config)
