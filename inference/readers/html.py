"""HTML tables (colspan/rowspan, &nbsp; blanks, entities), Word-pasted HTML and whole saved pages."""
from __future__ import annotations

import re

import lxml.html

from nianbao.config import load_config
from nianbao.errors import InputTooLarge, UnreadableInput
from nianbao.schema import Fragment

from .base import FragmentBuilder, decode, register_reader

_SKIP = {"script", "style", "head", "noscript", "template", "svg", "select", "option", "button", "iframe"}
_BLOCK = {"p", "div", "h1", "h2", "h3", "h4", "h5", "h6", "li", "br", "tr", "section", "article", "header",
          "footer", "nav", "ul", "ol", "body", "html", "center", "blockquote", "pre"}


def _text(el) -> str:
    parts = []
    for t in el.itertext():
        parts.append(t)
    return re.sub(r"[\s\xa0]+", " ", "".join(parts)).strip()


class _Walker:
    def __init__(self, source: str = "", max_span: int = 50, max_cells: int = 20_000):
        self.source, self.max_span, self.max_cells = source, max_span, max_cells
        self.b = FragmentBuilder()
        self.line = 0
        self.table = -1
        self.buf: list[str] = []

    def flush(self):
        text = re.sub(r"[\s\xa0]+", " ", "".join(self.buf)).strip()
        self.buf = []
        if text:
            self.b.add_cell(text, self.line, 0, keep_blank=False)
            self.line += 1

    def walk(self, el):
        tag = el.tag if isinstance(el.tag, str) else ""
        tag = tag.split("}")[-1].lower()
        if tag in _SKIP or not tag and not isinstance(el.tag, str):
            if el.tail:
                self.buf.append(el.tail)
            return
        if tag == "table" and not el.xpath(".//table"):
            self.flush()
            self.emit_table(el)
        else:
            if tag in _BLOCK:
                self.flush()
            if el.text:
                self.buf.append(el.text)
            for child in el:
                self.walk(child)
            if tag in _BLOCK:
                self.flush()
        if el.tail:
            self.buf.append(el.tail)

    def emit_table(self, table):
        """Cells with their column in the span grid. Spans are kept as column intervals, never cell
        by cell: a `colspan=50 rowspan=50` on every cell costs one interval, not 2 500 entries."""
        self.table += 1
        spans: list[tuple[int, int, int]] = []  # (first col, past the last col, last row) from rows above
        cells = 0
        for r, tr in enumerate(table.xpath(".//tr")):
            spans = [sp for sp in spans if sp[2] >= r]
            blocked = sorted((a, b) for a, b, _ in spans)
            i, c = 0, 0
            for cell in tr:
                if not isinstance(cell.tag, str) or cell.tag.lower() not in ("td", "th"):
                    continue
                cells += 1
                if cells > self.max_cells:
                    raise InputTooLarge(f"an HTML table with over {self.max_cells} cells (max_table_cells) is not "
                                        "a report table", source=self.source)
                while i < len(blocked) and blocked[i][1] <= c:
                    i += 1
                while i < len(blocked) and blocked[i][0] <= c:  # skip the columns spanned from above
                    c = max(c, blocked[i][1])
                    i += 1
                    while i < len(blocked) and blocked[i][1] <= c:
                        i += 1
                rs, cs = _span(cell.get("rowspan"), self.max_span), _span(cell.get("colspan"), self.max_span)
                if rs > 1:
                    spans.append((c, c + cs, r + rs - 1))
                self.b.add_cell(_text(cell), self.line, c, table=self.table)
                c += cs
            self.line += 1


def _span(v, cap: int) -> int:
    try:
        return max(1, min(int(str(v).strip()), cap))
    except (TypeError, ValueError):
        return 1


_PARSER = lxml.html.HTMLParser(huge_tree=True)


def read_html(text: str, source: str, max_span: int = 50, max_cells: int = 20_000) -> list[Fragment]:
    try:
        # huge_tree: libxml2 otherwise drops, without a word, everything nested deeper than 255 levels
        root = lxml.html.document_fromstring(text, parser=_PARSER)
    except Exception as exc:  # lxml raises several types for junk
        raise UnreadableInput(f"HTML could not be parsed ({exc.__class__.__name__})", source=source) from None
    w = _Walker(source, max_span, max_cells)
    try:
        w.walk(root)
    except RecursionError:
        raise UnreadableInput("HTML nested too deeply to read (thousands of levels)", source=source) from None
    w.flush()
    return w.b.fragments


@register_reader
class HtmlReader:
    name = "html"

    def sniff(self, data: bytes, suffix: str) -> float:
        head = data[:2_000_000].lower()
        if b"<table" in head or b"<html" in head[:8192]:
            return 0.9
        if re.search(rb"<(body|div|p|span|td)[\s>]", head):
            return 0.7 if suffix in (".html", ".htm") else 0.55
        return 0.0  # an .html name on plain text is still plain text

    def read(self, data: bytes, source: str, config=None) -> list[Fragment]:
        config = config or load_config()
        return read_html(decode(data, source), source, config.max_span, config.max_table_cells)
