"""PDFs with a text layer (pdfplumber): words grouped into lines, and into cells by the gaps
between them. A PDF without a text layer (a scan) needs OCR and says so."""
from __future__ import annotations

import io

from nianbao.errors import NianbaoError, UnreadableInput, require
from nianbao.schema import Fragment

from .base import FragmentBuilder, is_chrome, register_reader, running_chrome

LINE_TOLERANCE = 3.0  # points: words whose tops differ less sit on one line
CELL_GAP = 6.0  # points: a wider gap between two words separates cells


class NeedsOcr(NianbaoError):
    code = "E030"


def read_pdf(data: bytes, source: str) -> list[Fragment]:
    pdfplumber = require("pdfplumber", "pdf", "Reading PDFs")
    try:
        pdf = pdfplumber.open(io.BytesIO(data))
        pages = list(pdf.pages)
    except Exception as exc:
        name = exc.__class__.__name__
        if "Password" in name or b"/Encrypt" in data:
            raise UnreadableInput("the PDF is encrypted: decrypt it first (e.g. qpdf --decrypt)", source=source) from None
        raise UnreadableInput(f"corrupt PDF ({name})", source=source) from None
    b = FragmentBuilder()
    line_no = 0
    n_words = 0
    try:
        lines = []
        for page_no, page in enumerate(pages):
            words = page.extract_words(x_tolerance=1.5, y_tolerance=2, keep_blank_chars=False)
            n_words += len(words)
            lines += [(page_no, line, " ".join(w["text"] for w in line)) for line in _lines(words)]
    finally:
        pdf.close()
    # Running headers and footers (`打印日期：2024-02-28 13:27`, `…印发 共4页`) come back on every page.
    chrome = running_chrome([text for _, _, text in lines])
    for page_no, line, text in lines:
        if is_chrome(text) or text.strip() in chrome:
            continue
        for col, cell in enumerate(_cells(line)):
            x0, top = cell[0]["x0"], min(w["top"] for w in cell)
            x1, bottom = cell[-1]["x1"], max(w["bottom"] for w in cell)
            b.add_cell("".join(w["text"] for w in cell), line_no, col, page=page_no,
                       bbox=(x0, top, x1, bottom), keep_blank=False)
        line_no += 1
    if n_words == 0:
        raise NeedsOcr("the PDF has no text layer (a scan): OCR is not available in this build", source=source)
    return b.fragments


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
        if w["x0"] - prev["x1"] > CELL_GAP:
            cells.append([w])
        else:
            cells[-1].append(w)
    return cells


@register_reader
class PdfReader:
    name = "pdf"

    def sniff(self, data: bytes, suffix: str) -> float:
        return 1.0 if data[:1024].lstrip().startswith(b"%PDF") else 0.0

    def read(self, data: bytes, source: str) -> list[Fragment]:
        return read_pdf(data, source)
