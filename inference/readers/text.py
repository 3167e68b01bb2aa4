"""Plain text in all its damaged forms: Markdown pipe tables, tab rows, one cell per line and
flattened text where a text layer glued cells together, with page chrome mixed in."""
from __future__ import annotations

import re
import unicodedata
from collections import Counter

from nianbao.schema import Fragment
from nianbao.text import clean_text, nfkc

from .base import PROSE_END, FragmentBuilder, decode, is_chrome, register_reader, running_chrome, footer_in_label
from .stream import may_be_negative, unglue

_SEPARATOR = re.compile(r"^[\s|:\-—]+$")


def read_lines(text: str, glued_lines: set[int] = frozenset()) -> list[Fragment]:
    b = FragmentBuilder()
    table = -1
    in_table = False
    lines = text.splitlines()
    chrome = running_chrome(lines)
    prose_before = False
    flattened: list[tuple[list[Fragment], str]] = []
    for line_no, raw in enumerate(lines):
        line = raw.strip().replace("\u3000", " ")
        if not line or (is_chrome(line) and not footer_in_label(lines, line_no)) or raw.strip() in chrome:
            in_table = False if not line else in_table
            continue
        if line.count("|") >= 2 or (line.count("|") == 1 and not PROSE_END.search(line)):
            if _SEPARATOR.match(line):
                continue
            if not in_table:
                table, in_table = table + 1, True
            cells = line.split("|")
            if line.startswith("|"):
                cells = cells[1:]
            if line.endswith("|"):
                cells = cells[:-1]
            for col, cell in enumerate(cells):
                b.add_cell(cell, line_no, col, table=table)
        elif "\t" in raw.strip("\n"):
            if not in_table:
                table, in_table = table + 1, True
            for col, cell in enumerate(raw.rstrip("\r\n").split("\t")):
                b.add_cell(cell, line_no, col, table=table)
        else:
            in_table = False
            if is_narrative(line) or (prose_before and PROSE_END.search(line[-1:]) and len(line) < 40):
                # A sentence about the numbers, or the end of one that a converter wrapped onto
                # this line (`讼11件。`): the tables win over the narrative, so none of it is a cell.
                b.add(line, "prose", line_no)
            elif line_no in glued_lines and not may_be_negative(line):
                # In a crawler's stream a zero mark glued to digits or to another mark is a cell of
                # its own, a 0 (`0-25000002500`, `0/无1201`), not the sign of what follows.
                b.add_cell(_STREAM_MARK.sub(lambda m: f" {m.group(0)} ", line), line_no, 0, keep_blank=False, glued=True)
            else:
                first = len(b.fragments)
                b.add_cell(line, line_no, 0, keep_blank=False)  # prose, one cell, or a flattened row
                flattened.append((b.fragments[first:], line))
                if _ALIGNED.search(raw) or _INDENTED.match(raw):
                    _place(b.fragments[first:], raw)
        prose_before = bool(b.fragments) and b.fragments[-1].kind == "prose" and b.fragments[-1].line == line_no
    if not glued_lines:  # a crawler's stream: its spaces are stray, not cell boundaries
        _spaced_apart(flattened, b.fragments)
    return b.fragments


def _spaced_apart(lines: list[tuple[list[Fragment], str]], fragments: list[Fragment]) -> None:
    """Does this text layer glue cells? Where it does, most glued pairs hold a 0 (most cells are
    0), so some run starts with one (`05`, `000`): no such run anywhere, and a number standing
    alone between spaces (`规章 86`, `0 457 0`) is one cell, its row's other cells printed blank,
    not cells glued together (`86` is not `8` and `6`)."""
    if any(f.kind == "number" and _LEADING_ZERO.match(f.text) for f in fragments):
        return
    for frags, line in lines:
        alone = set(nfkc(line).split())
        for f in frags:
            if f.glued and f.text in alone:
                f.glued = False


_LEADING_ZERO = re.compile(r"^-?0\d")


# A quantity with its counting unit followed by sentence punctuation: narrative, not a table row.
_NARRATIVE = re.compile(r"\d\s*(?:件|个|篇|条|人次|次|起|宗|万元|元)\s*[，,；;。（(]")


# Column-aligned text (`pdftotext -layout`): cells stand apart by runs of spaces, so where a token
# sits on the line says which column it is in, even where blank cells were dropped.
_ALIGNED = re.compile(r"\S\s{2,}\S")
_INDENTED = re.compile(r" {2,}\S")  # one token set in by the layout (a header title over its column)


def _place(frags: list[Fragment], raw: str) -> None:
    """Give each token of an aligned line its horizontal extent, in characters, as a bbox: the
    same evidence a PDF's word boxes give. Characters, not display columns: a layout converter
    puts one character per grid cell whatever its width, so a CJK label before the numbers would
    otherwise push them a column to the right."""
    line = nfkc(raw.rstrip("\r\n"))
    x = range(len(line) + 1)
    cursor = 0
    for f in frags:
        at = line.find(f.text, cursor) if f.text else -1
        if at < 0:
            continue
        f.bbox = (float(x[at]), float(f.line), float(x[at + len(f.text)]), float(f.line + 1))
        cursor = at + len(f.text)


_STREAM_MARK = re.compile(r"(?<=[\d/无—－-])([-/—－无])|([-/—－无])(?=[\d/无—－-])")


# `粉丝数累积超 2860 万`: a count in ten-thousands is the narrative's, never a table cell's.
_TEN_THOUSANDS = re.compile(r"\d\s*万(?!元)")


def is_narrative(line: str) -> bool:
    return (("，" in line or "," in line) and _NARRATIVE.search(line) is not None) or \
        (_TEN_THOUSANDS.search(line) is not None and _CJK_TEXT.search(line) is not None)


_CJK_TEXT = re.compile(r"[\u4e00-\u9fff]{3,}")


_SENTENCE = re.compile(r"[\u4e00-\u9fff]{8,}")


def narrative_lines(texts: list[str], known: set[int] = frozenset()) -> set[int]:
    """Lines of a page reader (PDF words, OCR boxes) that are narrative: a sentence about the
    numbers, which OCR boxes in pieces (`…行政复议` `115件` `（其中被纠错` `2件）`), or the end of one
    wrapped onto the next line (`162件。`). The tables win over the narrative: none of it is a cell.
    `known` lines are narrative already (a paragraph's lines OCR did not read)."""
    out: set[int] = set()
    for i, text in enumerate(texts):
        text = text.replace(" ", "")
        # OCR reads a sentence's comma as `:` or `.` as often as not: a count with its unit inside
        # a sentence-long run of words is enough.
        sentence = _NARRATIVE.search(text) is not None and _SENTENCE.search(text) is not None
        if i in known or is_narrative(text) or sentence or (i - 1 in out and PROSE_END.search(text[-1:]) and len(text) < 40):
            out.add(i)
    return out


@register_reader
class TextReader:
    name = "text"

    def sniff(self, data: bytes, suffix: str) -> float:
        head = data[:4096].lstrip()
        if head.startswith(b"%PDF") or head[:8].startswith((b"\x89PNG", b"\xff\xd8\xff")):
            return 0.0
        return 0.5  # the fallback for anything that decodes

    def read(self, data: bytes, source: str, config=None) -> list[Fragment]:
        return read_lines(*unglue(unwrap(around_tables(clean_text(decode(data, source), entities=True)))))


# Lines cut at one width before a text counts as hard-wrapped: two long lines of one length by
# chance are as unlikely as four short ones.
MIN_WRAPPED, MIN_WRAPPED_LONG, LONG_LINE = 4, 2, 100


def _columns(line: str) -> int:
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in line)


def unwrap(text: str) -> str:
    """A text hard-wrapped at a fixed width (a tool that folds a crawler's one-line text at 76 or 80
    characters or display columns) → its lines as they were: the fold falls inside labels and
    numbers alike, so a line cut at the width joins the next with nothing between. A text counts
    as folded when most of its lines stop at one width and none is longer; table rows (pipes,
    tabs), which a Markdown writer pads to one width, never do."""
    lines = text.split("\n")
    body = [x.rstrip("\r") for x in lines if x.strip()]
    if len(body) < MIN_WRAPPED_LONG or any("\t" in x or x.count("|") >= 2 for x in body):
        return text
    for measure in (len, _columns):
        sizes = [measure(x.rstrip("\r")) for x in lines]
        common = Counter(n for n in sizes if n >= 30).most_common(1)
        if not common:
            continue
        width = common[0][0]
        full = [width - 1 <= n <= width for n in sizes]  # a wide character that did not fit: one short
        need = MIN_WRAPPED_LONG if width >= LONG_LINE else MIN_WRAPPED
        if sum(full) >= max(need, len(body) // 2) and max(sizes) <= width:
            out = []
            for line, cut in zip(lines, full):
                out.append(line.rstrip("\r") + ("" if cut else "\n"))
            return "".join(out)
    return text


LONG_TEXT = 2_000_000  # characters: a report's text is ~50 000; far longer text is read near its tables only
# Headings of the three tables (and their labels, for a text that lost its headings)
_TABLE_MARK = re.compile(r"主动公开政府信息情况|收到和处理政府信息公开申请情况|政府信息公开行政复议|第二十条第|申请人情况")
BEFORE, AFTER, HEAD = 60_000, 400_000, 20_000


def around_tables(text: str) -> str:
    """A very long text (a site's crawl pasted into one file, a dump with a report inside) is cut
    to its opening (the title) and the stretch from just before the first table heading: the rest
    cannot hold cells and would only cost time and memory."""
    if len(text) <= LONG_TEXT:
        return text
    m = _TABLE_MARK.search(text)
    if m is None:
        return text[:HEAD]  # no table heading anywhere: the reader finds none either (E003), fast
    start = max(HEAD, m.start() - BEFORE)
    return text[:HEAD] + "\n" + text[start : m.start() + AFTER]
