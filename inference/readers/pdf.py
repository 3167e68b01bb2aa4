"""PDFs (pdfplumber): words of the text layer grouped into lines, and into cells by the gaps
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
    pdfplumber = require("pdfplumber", "pdf", "Reading PDFs")
    try:
        pdf = pdfplumber.open(io.BytesIO(data))
        pages = list(pdf.pages)
        if len(pages) > config.max_pages:
            pdf.close()
            raise InputTooLarge(f"{len(pages)} pages is over the limit of {config.max_pages}", source=source)
    except InputTooLarge:
        raise
    except Exception as exc:
        name = exc.__class__.__name__
        if "Password" in name or b"/Encrypt" in data:
            raise UnreadableInput("the PDF is encrypted: decrypt it first (e.g. qpdf --decrypt)", source=source) from None
        raise UnreadableInput(f"corrupt PDF ({name})", source=source) from None
    b = FragmentBuilder()
    line_no = 0
    n_words = 0
    chars = []
    try:
        lines = []
        for page_no in table_pages(data, len(pages)):
            page = pages[page_no]
            words = page.extract_words(x_tolerance=1.5, y_tolerance=2, keep_blank_chars=False)
            page.close()  # its parsed objects go now: a long PDF is held one page at a time
            n_words += len(words)
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


def table_pages(data: bytes, n: int) -> list[int]:
    """The pages to read in full: all of a short PDF; of a long one, the first page (its title),
    the pages whose text names two table words, and the page after each (a table split over a
    page break). pdfium's text extraction is fast enough to look at every page."""
    if n <= SMALL_PDF:
        return list(range(n))
    try:
        import pypdfium2 as pdfium

        doc = pdfium.PdfDocument(data)
    except Exception:  # no pdfium, or it cannot open what pdfplumber could: read everything
        return list(range(n))
    try:
        keep = {0}
        blank = 0
        for i in range(min(n, len(doc))):
            page = doc[i]
            tp = page.get_textpage()
            text = tp.get_text_range()
            tp.close()
            page.close()
            blank += not text.strip()
            if sum(m in text for m in TABLE_MARKERS) >= 2:
                keep |= {i, i + 1}
    finally:
        doc.close()
    if blank > n // 2:  # mostly no text layer: the scan path decides
        return list(range(min(n, SMALL_PDF)))
    return sorted(k for k in keep if k < n)


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
        raise UnreadableInput(f"corrupt PDF ({exc.__class__.__name__})", source=source) from None
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
