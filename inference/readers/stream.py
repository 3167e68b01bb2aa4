"""Cut a stream of glued text — a crawler's one-line page, a converter's very long line — into rows.

A site crawler joins a page's text nodes with nothing between them, so a whole report arrives as
one line: `…保护第三方合法权益00000005.属于三类内部事务信息0000000…`. Line breaks tell nothing
there; the tables' own vocabulary does. A row starts where a template label starts (its printed
numbering included: the `5` of `5.属于…` belongs to the label, not to the previous row's digits),
where a digit run is followed by text that is not a unit (`12件` stays one quantity), and where a
sentence ends. Each cut piece becomes one line, so that the rest of the text reader sees the
familiar "flattened row" form and the solver splits the digit runs with the arithmetic.

Only stretches that hold several table labels are cut: narrative paragraphs stay whole.
"""
from __future__ import annotations

import re
from functools import lru_cache

from nianbao.templates import templates
from nianbao.text import norm_label

# A line naming this many table labels (with numbers after them) is a stream rather than a row.
MIN_LABELS = 3
# Text right after digits that keeps them a quantity or a date, not a cell followed by a label.
_UNIT_AFTER = re.compile(r"^\s?(?:[年月日号时条项位件个次人篇期万亿元%％倍名家所批份场起宗]|\.\d)")
# Printed numbering of a row: `5.属于…`, `2、重复申请` — one digit, then a separator, then CJK.
_NUMBERING = re.compile(r"\d\s?[.．、]\s?(?=[\u4e00-\u9fff“\"（(])")
# Text after a row's last cell, a number or a zero mark (`…0000-五、存在的主要问题…`).
_TEXT_AFTER_DIGITS = re.compile(r"(?<=[\d/—－-])(\s?[^\d\s.,，:：/—－\-无][^\d]*)")
_DIGITS = re.compile(r"\d+")
_SENTENCE_END = re.compile(r"[。；！？]")


@lru_cache(maxsize=1)
def _labels() -> tuple[frozenset[str], frozenset[str]]:
    """(every row, column and group label and table title/anchor of both formats; the header
    ones among them — column and group labels, titles — which never carry a row's numbers)."""
    labels: set[str] = set()
    header: set[str] = set()
    for t in templates():
        for table in t.tables.values():
            header.add(table.title)
            header.update(table.group_labels)
            for c in table.columns:
                header.update(c.labels)
            labels.update(table.anchors)
            for r in table.rows:
                labels.update(r.labels)
    rows = {norm_label(x) for x in labels}
    return frozenset(rows | {norm_label(x) for x in header}), frozenset(norm_label(x) for x in header) - rows


@lru_cache(maxsize=1)
def _label_pattern() -> re.Pattern:
    norm = sorted((x for x in _labels()[0] if len(x) >= 2), key=len, reverse=True)
    return re.compile("|".join(re.escape(x) for x in norm))


def _normalise(text: str) -> tuple[str, list[int]]:
    """`norm_label` char by char, with each normalised char's index in the original text."""
    out, where = [], []
    for i, ch in enumerate(text):
        n = _norm_char(ch)
        out.append(n)
        where.extend([i] * len(n))
    return "".join(out), where


@lru_cache(maxsize=8192)
def _norm_char(ch: str) -> str:
    return norm_label(ch)


def is_stream(line: str) -> bool:
    """A line that names several table labels: a whole report on one line, or one table of it
    (a crawler that breaks lines only between tables), with numbers right after its labels."""
    if len(line) < 40 or line.count("|") >= 2 or ("\t" in line and len(line) < 200):
        return False  # a table row keeps its own cells (a whole report joined by tabs is no row)
    norm, where = _normalise(line[:100_000])  # a stream names its tables early; a huge line is not read twice
    hits = list(_label_pattern().finditer(norm))
    if len(line) >= 200:
        return len(hits) >= MIN_LABELS
    # A shorter line must glue its labels to their numbers (`规章000行政规范性文件000`): a dump's row
    # keeps a space between them.
    # (`制发规章6件` in a sentence is a quantity: its digits carry a unit.)
    glued = 0
    for h in hits:
        m = _DIGITS.match(line, where[h.end() - 1] + 1)
        glued += m is not None and not _UNIT_AFTER.match(line[m.end() :])
    return glued >= MIN_LABELS


def _valued(after: str) -> bool:
    after = after.lstrip()
    return after[:1].isdigit() or (after[:1] in "/-—－–无" and after[1:2].isdigit())


def cut_stream(line: str) -> list[str]:
    """One long glued line → rows. Narrative chunks (between sentence ends, naming fewer than
    MIN_LABELS table labels) are kept whole."""
    out: list[str] = []
    start = 0
    for m in _SENTENCE_END.finditer(line + "。"):
        chunk = line[start : m.end()]
        start = m.end()
        if not chunk.strip():
            continue
        norm, where = _normalise(chunk)
        hits = list(_label_pattern().finditer(norm))
        # A table chunk has labels with numbers right after them; a list of section names in the
        # preamble (`全文包括总体情况、主动公开政府信息情况、…`) has none.
        # A zero mark (`/`, `-`, `无`) or a stray space may stand between a label and its numbers.
        valued = sum(_valued(norm[h.end() : h.end() + 4]) for h in hits)
        if len(hits) < MIN_LABELS or valued < 1:
            out.append(chunk)
            continue
        cuts = {0}
        header = _labels()[1]
        for h in hits:
            cuts.add(where[h.start()])
            if h.group() in header and h.end() < len(where):
                # A header cell glued to the first number (`…尚未审结总计00撤销0…`).
                cuts.add(where[h.end()])
        # Digits followed by a longer stretch of text: a row's numbers end there. A short word
        # between digits (`00撤销0`) is an illegible cell, not a row label, and stays put.
        for m2 in _TEXT_AFTER_DIGITS.finditer(chunk):
            if not _UNIT_AFTER.match(m2.group(1)) and len(m2.group(1).strip()) > 6:
                cuts.add(m2.start(1) + (1 if m2.group(1)[:1].isspace() else 0))
        for m2 in _NUMBERING.finditer(chunk):
            cuts.add(m2.start())
        # A label's numbering (`5.` of `5.属于…`) moves the cut left onto the digit.
        for c in sorted(cuts):
            if c >= 2 and chunk[c - 1] in ".．、" and chunk[c - 2].isdigit():
                cuts.discard(c)
                cuts.add(c - 2)
        bounds = sorted(cuts) + [len(chunk)]
        out += [chunk[a:b] for a, b in zip(bounds, bounds[1:]) if chunk[a:b].strip()]
    return [x.strip() for x in out if x.strip()]


def unglue(text: str) -> tuple[str, set[int]]:
    """Rewrite every stream line of a text as one line per row; other lines are kept as they are.
    Returns the text and the numbers of the lines cut from a stream: their digit runs may hold
    several cells even where a run stands alone."""
    lines = text.splitlines()
    streams = [is_stream(x) for x in lines]
    if not any(streams):
        return text, set()
    out: list[str] = []
    cut: set[int] = set()
    for line, stream in zip(lines, streams):
        if stream:
            rows = cut_stream(line.replace("\t", " "))  # a crawler's tab is a space between nodes
            cut.update(range(len(out), len(out) + len(rows)))
            out += rows
        else:
            out.append(line)
    return "\n".join(out), cut


@lru_cache(maxsize=1)
def _row_labels() -> tuple[str, ...]:
    # The appeals table's "rows" are its header groups (行政复议, 复议后起诉): they carry no numbers.
    out = {norm_label(x) for t in templates() for table in t.tables.values() if not table.unlabelled_rows
           for r in table.rows for x in r.labels}
    return tuple(x for x in out if len(x) >= 2)


def ends_row_label(text: str) -> bool:
    """Does this text end with a row's label (so the row's numbers are still to come)?"""
    n = _normalise(text)[0]
    return any(n.endswith(x) for x in _row_labels())


def names_a_label(text: str) -> bool:
    """Does this text hold any row, column or group label, or a table title, of either format?"""
    return _label_pattern().search(_normalise(text)[0]) is not None


@lru_cache(maxsize=1)
def _signed_rows() -> tuple[str, ...]:
    """Labels of rows with a column that may be negative (本年增/减 of the 2019 active table)."""
    out = set()
    for t in templates():
        for table in t.tables.values():
            signed = {c.key for c in table.columns if c.signed}
            for r in table.rows:
                if signed & set(table.row_columns(r)):
                    out.update(norm_label(x) for x in r.labels)
    return tuple(sorted(out, key=len, reverse=True))


def may_be_negative(line: str) -> bool:
    return norm_label(line).startswith(_signed_rows())
