"""HTML tables (colspan/rowspan, &nbsp; blanks, entities), Word-pasted HTML and whole saved pages."""
from __future__ import annotations

import re

import lxml.html

from nianbao.errors import UnreadableInput
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
    def __init__(self):
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
        self.table += 1
        taken: dict[tuple[int, int], bool] = {}
        for r, tr in enumerate(table.xpath(".//tr")):
            c = 0
            for cell in tr:
                if not isinstance(cell.tag, str) or cell.tag.lower() not in ("td", "th"):
                    continue
                while taken.get((r, c)):
                    c += 1
                rs, cs = _span(cell.get("rowspan")), _span(cell.get("colspan"))
                for dr in range(rs):
                    for dc in range(cs):
                        taken[(r + dr, c + dc)] = True
                self.b.add_cell(_text(cell), self.line, c, table=self.table)
                c += cs
            self.line += 1


def _span(v) -> int:
    try:
        return max(1, min(int(str(v).strip()), 50))
    except (TypeError, ValueError):
        return 1


_PARSER = lxml.html.HTMLParser(huge_tree=True)


def read_html(text: str, source: str) -> list[Fragment]:
    try:
        # huge_tree: libxml2 otherwise drops, without a word, everything nested deeper than 255 levels
        root = lxml.html.document_fromstring(text, parser=_PARSER)
    except Exception as exc:  # lxml raises several types for junk
        raise UnreadableInput(f"HTML could not be parsed ({exc.__class__.__name__})", source=source) from None
    w = _Walker()
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
        return read_html(decode(data, source), source)
