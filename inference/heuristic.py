"""The heuristic engine: row labels anchor rows, print order places numbers in columns.

Fragments of each table region are aligned to the template's rows by a small dynamic program
(labels move to a row, numbers fill the current row's columns, unlabelled rows and dropped cells
cost something). The result is a set of fragment → cell candidates; the solver makes the final
choice with the arithmetic.
"""
from __future__ import annotations

import math
import re
from collections import Counter
from dataclasses import dataclass

from nianbao.schema import Candidate, Classification, Fragment
from nianbao.templates import Template
from nianbao.text import norm_label

from .readers.stream import names_a_label
from .layout import find_regions, group_score, interior_blanks, label_score, money_unit

W_LABEL = 1.0
W_UNLABELLED = 0.8
W_DROP = 0.5
W_SKIP = 1.2
W_DISCARD = 1.5
W_INNER_SKIP = 0.05  # an inner blank left out of its row: it rides along wherever the row has room
W_CROSS_LINE = 0.4
W_GLUE = 0.2
# A row printed as one glued run (a crawler's stream) must not cost more than its label earns.
MAX_GLUE = 0.4
W_ROW_SUM = 0.6
MAX_SKIP = 3
W_IGNORED = 4.0
W_EMPTY_ROW = 1.0
BEAM = 16


@dataclass(slots=True)
class Item:
    frag: Fragment
    kind: str  # "L" label, "V" value, "B" optional blank
    scores: dict[int, float] | None = None  # L: row index → match score
    slots: int = 1  # V: most columns this token may fill (glued digit runs)
    lead: bool = False  # B: a blank that opens a line of numbers (no label before it)
    inner: bool = False  # B: a blank between two numbers of its line (a zero printed blank, or a converter's empty column)
    own_values: bool = False  # L: numbers follow on the label's own line


class HeuristicEngine:
    name = "heuristic"

    def score(self, fragments: list[Fragment], template: Template) -> Classification:
        cands, illegible, found, optional = [], set(), [], set()
        columns: dict[int, str] = {}
        variant = template.default_variant
        for region in find_regions(fragments, template):
            frags = fragments[region.start : region.end]
            variants = likely_variants(frags, template.tables[region.table])
            # Only `requests` has the split/single `other` rows: try both, keep the better alignment.
            tried = [(align_table(frags, template, region.table, v), v) for v in variants]
            (rows_out, _, ill), v = max(tried, key=lambda tv: (tv[0][1], tv[1] == template.default_variant))
            optional |= {f.id for fs in rows_out.values() for f in fs if f.kind == "blank"}
            if v is not None:
                variant = v
            illegible |= ill
            if any(rows_out.values()):
                found.append(region.table)
                at = column_at(rows_out, template, region.table, v, frags)
                table = template.tables[region.table]
                if table.unlabelled_rows:
                    # One line holds every row: the position names the row as well as the column.
                    names = [f"{r.key}.{c}" for r in table.rows_for(v) for c in table.row_columns(r)]
                    columns.update({fid: names[js[0]] for fid, js in at.items() if len(js) == 1})
                for r, fs in ([] if table.unlabelled_rows else rows_out.items()):
                    names = table.row_columns(table.rows_for(v)[r])
                    columns.update({f.id: names[at[f.id]] for f in fs if f.id in at})
                cands += row_candidates(rows_out, template, region.table, v, at)
        return Classification(format=template.format, variant=variant, candidates=cands, tables=found,
                              illegible=illegible, optional=optional, money_unit=money_unit(fragments),
                              engine=self.name, columns=columns)


def likely_variants(frags: list[Fragment], table) -> list:
    """`split` when a label names one of the split rows, else both variants are tried."""
    variants = table.variants
    if len(variants) < 2:
        return variants
    split_phrases = [p for r in table.rows if r.variant == "split" for p in r.phrases]
    if any(p in norm_label(f.text) for f in frags if f.kind == "label" for p in split_phrases):
        return ["split"]
    return variants


def items_for(frags: list[Fragment], template: Template, table: str, variant: str | None) -> tuple[list[Item], set[int]]:
    """Turn a region's fragments into DP items; find illegible tokens sitting in value positions."""
    t = template.tables[table]
    rows = t.rows_for(variant)
    frags = [f for f in frags if f.kind != "prose"]
    # Where a source has cell positions, a blank left of the table's first value column is
    # label padding, not a cell.
    value_start: dict[int, int] = {}
    for f in frags:
        if f.kind == "number" and f.table >= 0:
            value_start[f.table] = min(value_start.get(f.table, f.col), f.col)
    items: list[Item] = []
    illegible: set[int] = set()
    number_lines = {f.line for f in frags if f.kind == "number"}
    per_line = Counter(f.line for f in frags)
    widest = max(len(t.row_columns(r)) for r in rows)
    runs = _runs_of_single_numbers(frags, per_line)
    cell_a_line = _rows_one_cell_a_line(frags, runs, widest)
    for i, f in enumerate(frags):
        if f.kind == "number":
            items.append(Item(f, "V", slots=len(f.text) if f.glued else 1))
        elif f.kind == "blank":
            after_label = i > 0 and frags[i - 1].line == f.line and frags[i - 1].kind in ("label", "blank")
            if f.col >= value_start.get(f.table, 0) or not after_label:
                items.append(Item(f, "B", lead=not after_label and f.line in number_lines))
        else:
            n = norm_label(f.text)
            scores = {} if t.unlabelled_rows else {k: s for k, r in enumerate(rows) if (s := label_score(n, r)) > 0}
            g = group_score(n, t)
            scores = {k: s for k, s in scores.items() if s >= g}
            # In the appeals table (no row labels) a word on the numbers' line sits in a cell:
            # a value printed as something else (`撤销` under 其他结果), not a label.
            in_cell = t.unlabelled_rows and f.line in number_lines and not names_a_label(f.text)
            # Punctuation alone (a speck OCR read as `.`) is no printed value.
            worded = re.search(r"[^\W_]", f.text) is not None
            if not scores and len(n) <= 6 and worded and (in_cell or between_values(frags, i)):
                illegible.add(f.id)
                items.append(Item(f, "V"))
            else:
                nxt = frags[i + 1] if i + 1 < len(frags) else None
                # Its numbers on its own line, or, in a text of one cell a line (pypdf's text of a
                # PDF, a page copied cell by cell), on the lines right after it. Where positions are
                # known (PDF words, OCR boxes) a number on the next line may be another row's.
                own = nxt is not None and nxt.kind in ("number", "blank") and (
                    nxt.line == f.line or (cell_a_line and per_line[f.line] == 1 and 0 < runs[i + 1] <= widest))
                items.append(Item(f, "L", scores=scores, own_values=own))
    # A row label wrapped over two lines with its numbers beside the second (`2.其他法律行政法规禁`
    # / `止公开 1 1`): the numbers are the wrapped label's, as if on its own line.
    for prev, it in zip(items, items[1:]):
        if it.kind == prev.kind == "L" and it.own_values and not it.scores and prev.scores \
                and not prev.own_values and prev.frag.line == it.frag.line - 1:
            prev.own_values = True
    inner = interior_blanks(frags)
    for it in items:
        it.inner = it.kind == "B" and it.frag.id in inner
    return items, illegible


def _runs_of_single_numbers(frags: list[Fragment], per_line: Counter) -> list[int]:
    """For each fragment, how many numbers alone on their lines follow from it on, up to the next
    other fragment (0 where it is no such number)."""
    runs = [0] * (len(frags) + 1)
    for j in range(len(frags) - 1, -1, -1):
        if frags[j].kind == "number" and per_line[frags[j].line] == 1:
            runs[j] = runs[j + 1] + 1
    return runs


def _rows_one_cell_a_line(frags: list[Fragment], runs: list[int], widest: int) -> bool:
    """Is this a text without positions that prints a table row by row, one cell a line (pypdf's
    text of a PDF)? Its numbers then come in runs no longer than a row. A converter that emits a
    table column by column (pdfminer's box order) has runs as long as the table is deep."""
    if any(f.bbox is not None for f in frags):
        return False
    starts = [runs[j] for j in range(len(frags)) if runs[j] and (j == 0 or not runs[j - 1])]
    return len(starts) >= 3 and max(starts) <= widest


def between_values(frags: list[Fragment], i: int) -> bool:
    def neighbour(step):
        j = i + step
        while 0 <= j < len(frags) and frags[j].kind == "blank":
            j += step
        return frags[j] if 0 <= j < len(frags) else None

    prev, nxt = neighbour(-1), neighbour(1)
    if prev is None or nxt is None or prev.kind != "number" or nxt.kind != "number":
        return False
    line = frags[i].line
    single_cell_lines = prev.line != line and nxt.line != line
    return (prev.line == line and nxt.line == line) or single_cell_lines


def align_table(frags, template: Template, table: str, variant: str | None):
    """Dynamic program over items: returns {row index: [fragments]} and the path score."""
    t = template.tables[table]
    rows = t.rows_for(variant)
    ncols = [len(t.row_columns(r)) for r in rows]
    items, illegible = items_for(frags, template, table, variant)
    values = [it for it in items if it.kind == "V"]
    per_line: dict[int, int] = {}
    for it in values:
        per_line[it.frag.line] = per_line.get(it.frag.line, 0) + 1
    line_structured = bool(per_line) and sorted(per_line.values())[len(per_line) // 2] >= 2
    unlabelled_cost = 0.0 if t.unlabelled_rows else W_UNLABELLED

    rules = _row_rules(template, table, rows, variant)

    def end_cost(i, cap, k=0, path=None):
        """Cells no token covers, splits that glued runs will need, and a printed row that
        cannot add up: the row arithmetic helps to decide where one row ends."""
        if i < 0:
            return 0.0
        if k == 0:  # a row printed with no numbers at all: a blank row (zeros), not lost cells
            return min(W_EMPTY_ROW, W_DROP * ncols[i])
        cost = W_DROP * (ncols[i] - cap) + min(MAX_GLUE, W_GLUE * max(0, cap - k))
        rule = rules.get(i)
        if rule and k == ncols[i] and path is not None:
            vals, node = [], path
            for _ in range(k):
                (idx, _r), node = node
                vals.append(items[idx].frag.value)
            vals.reverse()
            if all(v is not None for v in vals):
                lhs, rhs = rule
                if sum(vals[j] for j in lhs) != sum(vals[j] for j in rhs):
                    cost += W_ROW_SUM
        return cost

    # state: (row, tokens in row, capacity filled) → (score, line of last value, path); the path is
    # a linked list of (item index, row) for the values assigned so far.
    states = {(-1, 0, 0): (0.0, -1, None)}
    n_rows = len(rows)
    label_line = None  # the line of the last row label with numbers on its own line
    for idx, it in enumerate(items):
        nxt: dict = {}

        def push(key, score, last_line, path):
            old = nxt.get(key)
            if old is None or score > old[0]:
                nxt[key] = (score, last_line, path)

        if it.kind == "L":
            label_line = it.frag.line if it.own_values and it.scores else None
            for (i, k, cap), (score, last_line, path) in states.items():
                # A noise label; but a row label with its numbers on its own line names their row,
                # even where the row before it printed nothing (a blank row is not an empty slot).
                ignored = W_IGNORED * max(it.scores.values()) if it.own_values and it.scores else 0.0
                push((i, k, cap), score - ignored, last_line, path)
                if it.scores:
                    drop = end_cost(i, cap, k, path)
                    for j, s in it.scores.items():
                        if i < j <= i + 1 + MAX_SKIP:
                            push((j, 0, 0), score + W_LABEL * s - drop - W_SKIP * (j - i - 1), it.frag.line, path)
            states = nxt
            continue
        line = it.frag.line
        slots = it.slots
        # An inner blank stays with its row unless the row has no room for it (the solver decides).
        skip_cost = (W_INNER_SKIP if it.inner else 0.0) if it.kind == "B" else W_DISCARD
        for (i, k, cap), (score, last_line, path) in states.items():
            # The first number right of a row label on its line is that row's, however few of the
            # row's cells were found (a scan's faint digits): leaving it out costs as much as
            # ignoring the label. Any after it may be spare (a cell boxed twice).
            first = it.kind == "V" and k == 0 and line == label_line == last_line
            push((i, k, cap), score - (W_IGNORED if first else skip_cost), last_line, path)
            if it.kind == "B":
                # A blank at the edge of a row's line may be a cell or padding: it rides along with
                # the row (the solver decides) but never pushes a printed number out of it.
                if i >= 0 and line == last_line:
                    push((i, k, min(ncols[i], cap + 1)), score, line, ((idx, i), path))
                elif it.lead and i + 1 < n_rows:  # it may be the first cell of an unlabelled row
                    push((i + 1, 0, 1), score - unlabelled_cost - end_cost(i, cap, k, path), line,
                         ((idx, i + 1), path))
                continue
            if i >= 0 and k < ncols[i] and not _left_of_previous(it.frag, path, i, items):
                cross = W_CROSS_LINE if (line_structured and last_line != -1 and last_line != line) else 0.0
                c2 = cap + slots
                push((i, k + 1, c2 if c2 < ncols[i] else ncols[i]), score - cross, line, ((idx, i), path))
            # An unlabelled row of numbers follows the current row (only labels skip rows).
            j = i + 1
            if j < n_rows:
                push((j, 1, min(ncols[j], slots)), score - unlabelled_cost - end_cost(i, cap, k, path), line,
                     ((idx, j), path))
        if len(nxt) > BEAM:
            nxt = dict(sorted(nxt.items(), key=lambda kv: -kv[1][0])[:BEAM])
        states = nxt

    def final(key, val):
        i, k, cap = key
        return val[0] - end_cost(i, cap, k, val[2]) - W_SKIP * (len(rows) - 1 - i if i >= 0 else len(rows))

    key, val = max(states.items(), key=lambda kv: final(*kv))
    score = final(key, val)
    assigned: dict[int, list[Fragment]] = {r: [] for r in range(len(rows))}
    path = val[2]
    while path is not None:
        (idx, r), path = path
        assigned[r].append(items[idx].frag)
    for r in assigned:
        assigned[r].reverse()
    used = {f.id for fs in assigned.values() for f in fs}
    return assigned, score, illegible & used


def _left_of_previous(f: Fragment, path, row: int, items) -> bool:
    """Does this token stand left of the row's previous one, on another line of the same page?
    A row's cells run left to right: a number further left is the next row's, however cheap an
    empty row would make it to keep filling this one."""
    if path is None or f.bbox is None:
        return False
    (idx, r), _ = path
    prev = items[idx].frag
    return r == row and prev.bbox is not None and prev.page == f.page and prev.line != f.line \
        and (f.bbox[0] + f.bbox[2]) / 2 < prev.bbox[2]


def _row_rules(template: Template, table: str, rows, variant) -> dict[int, tuple[list[int], list[int]]]:
    """Row index → (lhs, rhs) column positions of the row's own sum, from the template."""
    t = template.tables[table]
    out = {}
    for c in template.constraints(table, variant):
        if ".row:" not in c.name or not c.lhs:
            continue
        row_key = c.lhs[0].split(".")[1]
        i = next(i for i, r in enumerate(rows) if r.key == row_key)
        cols = [f"{table}.{row_key}.{x}" for x in t.row_columns(rows[i])]
        out[i] = ([cols.index(k) for k in c.lhs], [cols.index(k) for k in c.rhs])
    return out


W_OFF_COLUMN = 0.6  # a token placed in another column than the one it stands under


def _centre(f: Fragment) -> float:
    return (f.bbox[0] + f.bbox[2]) / 2


def _words(f: Fragment) -> list[tuple[float, float]]:
    """The horizontal extents of a label's space-separated words (an aligned text line is one
    fragment; its characters are evenly spaced)."""
    x0, x1 = f.bbox[0], f.bbox[2]
    step = (x1 - x0) / max(1, len(f.text))
    return [(x0 + m.start() * step, x0 + m.end() * step) for m in re.finditer(r"\S+", f.text)]


def header_columns(frags: list[Fragment], n: int) -> dict[int, tuple[int, ...]]:
    """Number id → its column (or the columns it may be in) for a table printed as one line of
    numbers under a header (appeals): the header's cell titles, however wrapped (`结/果/维/持` down
    a narrow column), stand over their columns, so their positions are the columns' when they come
    to exactly one per column. Titles over several columns (行政复议, 复议后起诉) are wider than a
    cell and left out. Where the titles cannot be told apart (a scan boxes several as one), the
    numbers' own spacing says how many columns lie between them."""
    nums = [f for f in frags if f.kind == "number" and f.bbox]
    if not nums or len({f.line for f in nums}) != 1:
        return {}
    line, page = nums[0].line, nums[0].page
    # A word among the numbers (撤销) is a cell too.
    nums = [f for f in frags if f.line == line and f.bbox and (f.kind == "number" or len(f.text) <= 6)]
    return _title_columns(frags, nums, line, page, n) or spacing_columns(nums, n, _header_span(frags, nums, page))


def _header_span(frags, nums, page) -> tuple[float, float] | None:
    """The horizontal extent of the header block standing right above a line of numbers: its
    label boxes, upward until a vertical gap wider than a text line (the section heading, prose).
    The header spans every column of the table, so it says where the line's columns are."""
    top = min(f.bbox[1] for f in nums)
    above = sorted((f for f in frags if f.kind == "label" and f.bbox and f.page == page and f.bbox[3] <= top + 2),
                   key=lambda f: -f.bbox[3])
    if not above:
        return None
    tall = sorted(f.bbox[3] - f.bbox[1] for f in above)[len(above) // 2]
    block, edge = [], top
    for f in above:
        if edge - f.bbox[3] > tall:
            break
        block.append(f)
        edge = min(edge, f.bbox[1])
    if len(block) < 2:
        return None
    return min(f.bbox[0] for f in block), max(f.bbox[2] for f in block)


def _title_columns(frags, nums, line, page, n) -> dict[int, tuple[int, ...]]:
    head = [w for f in frags if f.kind == "label" and f.bbox and f.line < line and f.page == page
            for w in _words(f)]
    if len(head) < n:
        return {}
    widths = sorted(b - a for a, b in head)
    cell = widths[len(widths) // 2]
    xs = sorted((a + b) / 2 for a, b in head if b - a <= 1.5 * cell)
    clusters: list[list[float]] = []
    for x in xs:
        if clusters and x - clusters[-1][-1] <= 0.25 * cell:
            clusters[-1].append(x)
        else:
            clusters.append([x])
    if len(clusters) != n:
        return {}
    mid = [sum(c) / len(c) for c in clusters]
    gap = min(b - a for a, b in zip(mid, mid[1:]))
    out: dict[int, tuple[int, ...]] = {}
    last = -1
    for f in sorted(nums, key=_centre):
        near = sorted(range(n), key=lambda j: abs(_centre(f) - mid[j]))[:2]
        if abs(_centre(f) - mid[near[0]]) < gap / 3:
            cols = (near[0],)
        else:
            # Halfway between two titles (a character grid rounds a digit in a three-character
            # column either way): either column, and the arithmetic says which.
            cols = tuple(sorted(j for j in near if abs(_centre(f) - mid[j]) <= 0.6 * gap))
            if not cols:
                return {}
        cols = tuple(j for j in cols if j > last)
        if not cols:
            return {}
        last = cols[0]
        out[f.id] = cols
    return out


STEP_SLACK = 0.3  # a spacing this far from a whole number of column pitches may be either
GRID_TIGHT = 0.15  # of a pitch: how near a whole column every number of an evenly spaced line stands
SPAN_SLACK = 0.5  # of a pitch: a header this much wider than n columns still spans just them
GRID_ANCHOR = 0.3  # of a pitch: how near a whole column the header's centre must lay the line


def spacing_columns(nums: list[Fragment], n: int, span: tuple[float, float] | None = None
                    ) -> dict[int, tuple[int, ...]]:
    """Columns from the numbers' spacing alone: neighbouring cells stand one column pitch apart
    (the smallest spacings), a blank cell between two numbers leaves twice that. Each number may
    then be in any column its offset from the first allows, with the line laid anywhere across
    the n columns it fits; the arithmetic picks among them. Where the numbers stand on an even
    grid and the header above (`span`) is as wide as n of its columns, the header's centre is the
    table's, which lays the line: a title is centred in its cell, so the header's margins are
    alike on both sides however narrow its text."""
    xs = sorted(_centre(f) for f in nums)
    if len(xs) < 3:
        return {}
    steps = [b - a for a, b in zip(xs, xs[1:])]
    if min(steps) <= 0:
        return {}
    low = sorted(steps)[: max(1, len(steps) // 2)]
    pitch = low[len(low) // 2]
    if any(s / pitch < 0.5 for s in steps):
        return {}  # far closer than a column: not one column per number
    ranges, grid = _grid_offsets(xs, n) or (None, None)
    if ranges is None:
        # The column offsets each number may have from the first, step by step, as a range (an
        # uneven spacing widens it).
        lo = hi = 0
        ranges = [(0, 0)]
        for s in steps:
            k = s / pitch
            a, b = (round(k), round(k)) if abs(k - round(k)) <= STEP_SLACK else (math.floor(k), math.ceil(k))
            lo, hi = lo + max(1, a), hi + max(1, b)
            ranges.append((lo, hi))
    if ranges[-1][0] > n - 1:
        return {}
    room = n - 1 - ranges[-1][0]  # how far right the whole line may be laid
    order = sorted(nums, key=_centre)
    if grid and span and n - 1 <= (span[1] - span[0]) / grid <= n + SPAN_SLACK:
        at = (xs[0] - (span[0] + span[1]) / 2) / grid + (n - 1) / 2  # the first number's column
        shift = round(at)
        if abs(at - shift) <= GRID_ANCHOR and 0 <= shift <= room:
            return {f.id: tuple(range(a + shift, b + shift + 1)) for f, (a, b) in zip(order, ranges)}
    return {f.id: tuple(range(a, min(n - 1, b + room) + 1)) for f, (a, b) in zip(order, ranges)}


def _grid_offsets(xs: list[float], n: int) -> tuple[list[tuple[int, int]], float] | None:
    """Each number's column offset from the first, measured from the first rather than step by
    step: where the columns are evenly spaced (the appeals table's fifteen), small errors in each
    step do not add up over a long run of blanks. The pitch is the one, among each spacing divided
    by a few columns, that lays every number nearest a whole column with the line inside `n`
    columns (refitted to the offsets it gives), and that pitch. None where the line is not on an
    even grid."""
    span = xs[-1] - xs[0]
    if span <= 0:
        return None
    best = None
    # Widest first: a pitch that fits no worse than one twice as wide is the wider one.
    for pitch in sorted({(b - a) / k for a, b in zip(xs, xs[1:]) for k in range(1, 5)}, reverse=True):
        if pitch * (n - 1) < 0.97 * span:
            continue  # the line would need more than n columns
        for _ in range(2):
            ks = [round((x - xs[0]) / pitch) for x in xs]
            if any(b <= a for a, b in zip(ks, ks[1:])):
                break
            pitch = sum((x - xs[0]) * k for x, k in zip(xs, ks)) / sum(k * k for k in ks)
        else:
            miss = sum(((x - xs[0]) / pitch - k) ** 2 for x, k in zip(xs, ks))
            if ks[-1] <= n - 1 and (best is None or miss < best[0] - 1e-9):
                best = (miss, pitch)
    if best is None:
        return None
    ranges, off_grid = [], 0
    for x in xs:
        k = (x - xs[0]) / best[1]
        miss = abs(k - round(k))
        if miss <= GRID_TIGHT:
            ranges.append((round(k), round(k)))
        elif miss >= STEP_SLACK:  # a box over two cells (read as one): either column
            ranges.append((math.floor(k), math.ceil(k)))
            off_grid += 1
        else:
            return None  # a ragged line (a `-layout` dump's character grid): no even grid to trust
    if off_grid > len(xs) // 4 or any(b[1] <= a[0] for a, b in zip(ranges, ranges[1:])):
        return None
    return ranges, best[1]


def column_at(assigned, template: Template, table: str, variant: str | None,
              frags: list[Fragment] | None = None) -> dict[int, int] | dict[int, tuple[int, ...]]:
    """Fragment id → the column it stands under, where positions are known (PDF word boxes,
    column-aligned `-layout` text). Rows that print every cell give each column's offset from the
    row's last cell and where that last cell stands. A converter may shift a whole line (a CJK
    label before the numbers moves them), never its cells against each other, so a row with blank
    cells is laid on the columns at the shift that fits its tokens, the smallest such shift first."""
    t = template.tables[table]
    rows = t.rows_for(variant)
    ruled = ruled_columns(assigned, t, rows)
    if ruled is not None:
        return ruled
    if t.unlabelled_rows:
        return header_columns(frags or [], len([c for r in rows for c in t.row_columns(r)]))

    # Offsets are learned from full rows of one width (the table's widest kind of row that
    # prints every cell); rows of another width have other columns.
    full: dict[int, list[tuple[int, list[float]]]] = {}
    for r, fs in assigned.items():
        vals = [f for f in fs if f.kind == "number"]
        n = len(t.row_columns(rows[r]))
        if n > 1 and len(vals) == n == len(fs) and all(f.bbox for f in vals) and len({f.line for f in vals}) == 1:
            full.setdefault(n, []).append((r, [_centre(f) for f in vals]))
    if full:
        width = max(full, key=lambda n: (len(full[n]), n))
        return _lay_rows(assigned, t, rows, width, _layout_blocks(sorted(full[width])))
    # No row prints every cell (zeros left blank): where the rows' numbers together stand in
    # columns a whole number of pitches apart, those are the columns; else the header's column
    # titles stand over theirs. Each set of columns on its own: the active table's sub-tables
    # (件数 of 规章, 处理决定数量 of 行政许可) have columns of their own.
    out = {}
    for keys in dict.fromkeys(tuple(t.row_columns(rows[r])) for r in assigned):
        if len(keys) < 2:
            continue
        group = {r: fs for r, fs in assigned.items() if tuple(t.row_columns(rows[r])) == keys}
        mid = stacked_columns(group, t, rows, len(keys)) or title_columns(frags or [], t, group, keys)
        if mid:
            blocks = [(-1, len(rows), mid, min(b - a for a, b in zip(mid, mid[1:])))]
            out.update(_lay_rows(group, t, rows, len(keys), blocks))
    return out


def _lay_rows(assigned, t, rows, width: int, blocks) -> dict[int, int]:
    """Rows of `width` cells that print fewer numbers, laid on the nearest block's columns at
    the shift that fits their tokens (a converter shifts a whole line, never its cells apart)."""
    out = {}
    for r, fs in assigned.items():
        vals = [f for f in fs if f.kind == "number"]
        if len(t.row_columns(rows[r])) != width or not vals or len(vals) >= width or len(vals) != len(fs) \
                or not all(f.bbox for f in vals) or len({f.line for f in vals}) != 1:
            continue
        # A page break may change the layout: the row is laid on the columns of the full rows
        # printed next to it, before or after.
        before = [b for b in blocks if b[0] < r]
        after = [b for b in blocks if b[0] > r]
        near = [b for b in blocks if b[0] <= r <= b[1]] or before[-1:] + after[:1]
        best = None
        for _, _, mid, gap in near:
            for shift in {_centre(f) - c for f in vals for c in mid}:
                cols, worst = [], 0.0
                for f in vals:
                    j, dist = min(((j, abs(_centre(f) - shift - c)) for j, c in enumerate(mid)), key=lambda jd: jd[1])
                    cols.append(j)
                    worst = max(worst, dist)
                if worst < gap / 3 and cols == sorted(set(cols)):
                    score = (worst + 0.5 * abs(shift)) / gap
                    if best is None or score < best[0]:
                        best = (score, cols)
        if best is not None:
            out.update({f.id: j for f, j in zip(vals, best[1])})
    return out


def ruled_columns(assigned, t, rows) -> dict | None:
    """Fragment id → column from a scan's ruling: a cell with k column rules right of it is the
    k-th column from the right of its row. None unless every number of the table carries its
    count and the counts fit (each row's numbers in distinct columns left to right, a row that
    prints every cell in every column): a half-found grid must not overrule the positions."""
    unlabelled = t.unlabelled_rows
    groups = [[f for r in sorted(assigned) for f in assigned[r]]] if unlabelled else \
        [assigned[r] for r in sorted(assigned)]
    widths = [sum(len(t.row_columns(r)) for r in rows)] if unlabelled else \
        [len(t.row_columns(rows[r])) for r in sorted(assigned)]
    out: dict = {}
    counts: set[int] = set()
    for fs, n in zip(groups, widths):
        vals = [f for f in fs if f.kind == "number"]
        if not vals:
            continue
        if any(f.ruled_right is None for f in vals):
            return None
        cols = [n - f.ruled_right for f in vals]
        if any(not 0 <= j < n for j in cols) or cols != sorted(set(cols)) or \
                (len(vals) == n and cols != list(range(n))):
            return None
        out.update({f.id: ((j,) if unlabelled else j) for f, j in zip(vals, cols)})
        if n > 1:
            counts.update(f.ruled_right for f in vals)
    # Rules that stand right of every number alike (a table's outer border, a page's frame, one
    # rule a scan kept of a 三线表) say nothing of which column: a grid shows as different counts.
    return out if len(counts) >= 2 else None


def stacked_columns(assigned, t, rows, width: int) -> list[float] | None:
    """Column centres from the numbers of all rows of one page stacked: each column a cluster of
    centres, neighbouring columns one pitch apart, a column no row prints a number in (all its
    zeros blank, or missed) a gap of two pitches. Only where the clusters and the gaps account for
    exactly `width` columns; else None."""
    nums = [f for r, fs in assigned.items() if len(t.row_columns(rows[r])) == width
            for f in fs if f.kind == "number" and f.bbox]
    if len(nums) < 2 * width or len({f.page for f in nums}) != 1:
        return None
    h = sorted(f.bbox[3] - f.bbox[1] for f in nums)[len(nums) // 2]
    clusters: list[list[float]] = []
    for x in sorted(_centre(f) for f in nums):
        if clusters and x - clusters[-1][-1] <= 0.6 * h:
            clusters[-1].append(x)
        else:
            clusters.append([x])
    if len(clusters) < 3:
        return None
    xs = [sorted(c)[len(c) // 2] for c in clusters]
    gaps = [b - a for a, b in zip(xs, xs[1:])]
    pitch = min(gaps)
    mid = [xs[0]]
    for x, g in zip(xs[1:], gaps):
        k = round(g / pitch)
        if abs(g / pitch - k) > 0.25:
            return None
        mid += [mid[-1] + (x - mid[-1]) * i / k for i in range(1, k)] + [x]
    return mid if len(mid) == width else None


def title_columns(frags: list[Fragment], t, assigned, keys=None) -> list[float] | None:
    """Column centres from the header's titles above the table's first row of numbers: a title
    alone (`自然人`), the first line of a wrapped one (`社会公益组` over `织`), or titles glued in
    one aligned line (`社会公益组织法律服务机构其他`, cut where each title begins). A title
    inside another phrase (`法人或其他组织`) is not one."""
    nums = [f for fs in assigned.values() for f in fs if f.kind == "number" and f.bbox]
    if not nums:
        return None
    first = min(nums, key=lambda f: (f.page, f.line))
    columns = [c for c in t.columns if keys is None or c.key in keys]
    labels = [[norm_label(x) for x in c.labels] for c in columns]
    found: dict[int, list[float]] = {}
    for f in frags:
        if f.kind != "label" or not f.bbox or f.page != first.page or f.line >= first.line:
            continue
        step = (f.bbox[2] - f.bbox[0]) / max(1, len(f.text))
        for m in re.finditer(r"\S+", f.text):  # an aligned text line: its words stand apart
            text = norm_label(m.group())
            x0 = f.bbox[0] + m.start() * step
            w = (m.end() - m.start()) * step / max(1, len(text))
            # The row header's own title may lead the glued line (`信息内容本年制发件本年废止件…`):
            # the column titles start where the first of them does.
            pos = next((p for p in range(len(text)) if any(_common_prefix(x, text[p:]) >= 3 for xs in labels for x in xs)), 0)
            j, parts = 0, []
            while pos < len(text) and j < len(labels):
                k = max((_common_prefix(x, text[pos:]) for x in labels[j]), default=0)
                if k >= 2:
                    parts.append((j, pos, pos + k))
                    pos += k
                elif parts:  # glued titles name consecutive columns
                    break
                j += 1
            if not (parts and pos == len(text)):
                # A title glued after other header text (`…第三项加第四项之和)自然人`, `构益组织务机构其他`
                # where the tails of wrapped titles joined it): the title that ends the word.
                parts = [(j, len(text) - len(x), len(text)) for j, xs in enumerate(labels) for x in xs
                         if len(x) >= 2 and text.endswith(x) and len(text) > len(x)][:1]
            for j, a, b in parts:
                found.setdefault(j, []).append(x0 + (a + b) / 2 * w)
    if len(found) != len(labels):
        return None
    mid = [sorted(found[j])[len(found[j]) // 2] for j in range(len(labels))]
    return mid if all(a < b for a, b in zip(mid, mid[1:])) else None


def _common_prefix(a: str, b: str) -> int:
    n = 0
    while n < min(len(a), len(b)) and a[n] == b[n]:
        n += 1
    return n


def _layout_blocks(full: list[tuple[int, list[float]]]) -> list[tuple[int, int, list[float], float]]:
    """Consecutive full rows that share one layout → (first row, last row, column centres, the
    smallest gap between columns). A converter lays out each page anew, so the columns of one
    page's rows may stand elsewhere on the next."""
    def centres(group):
        return [sorted(xs[j] for _, xs in group)[len(group) // 2] for j in range(len(group[0][1]))]

    groups: list[list[tuple[int, list[float]]]] = []
    for row in full:
        xs = row[1]
        gap = min(b - a for a, b in zip(xs, xs[1:]))
        if gap <= 0:
            continue
        if groups:
            mid = centres(groups[-1])
            if all(abs(x - c) < gap / 3 for x, c in zip(xs, mid)):
                groups[-1].append(row)
                continue
        groups.append([row])
    out = []
    for g in groups:
        mid = centres(g)
        gap = min(b - a for a, b in zip(mid, mid[1:]))
        if gap > 0:
            out.append((g[0][0], g[-1][0], mid, gap))
    return out


def _numbers_before(frags: list[Fragment]) -> list[int]:
    """For each token, how many tokens before it are not blanks: the earliest column it can be in
    where a blank may be padding rather than a cell."""
    return [sum(1 for g in frags[:p] if g.kind != "blank") for p in range(len(frags))]


def row_candidates(assigned, template: Template, table: str, variant: str | None,
                   at: dict[int, int] | None = None) -> list[Candidate]:
    """Monotone placements of a row's tokens into its columns, earlier columns slightly preferred,
    and the column a token stands under (where positions are known) preferred over the rest."""
    at = at or {}
    t = template.tables[table]
    rows = t.rows_for(variant)
    out = []
    if t.unlabelled_rows:  # one printed line of numbers: positions count across the rows
        keys = [f"{table}.{r.key}.{c}" for r in rows for c in t.row_columns(r)]
        frags = [f for r in sorted(assigned) for f in assigned[r]]
        # A token's earliest column counts the numbers before it, not the blanks: a blank may be
        # a converter's empty column rather than a cell.
        lows = _numbers_before(frags)
        return [Candidate(f.id, keys[j], (1.0 if j in at[f.id] else 1.0 - 0.05 * (j - lo) - W_OFF_COLUMN)
                          if f.id in at else 1.0 - 0.05 * (j - lo)) for lo, f in zip(lows, frags)
                for j in range(lo, len(keys))]
    for r, frags in assigned.items():
        cols = t.row_columns(rows[r])
        c, m = len(cols), len(frags)
        flexible = any(f.glued or f.kind == "blank" for f in frags)
        lows = _numbers_before(frags)
        for p, f in enumerate(frags):
            lo = lows[p] if flexible else p
            hi = c - 1 if flexible else c - m + p
            for j in range(lo, max(lo, hi) + 1):
                if j < c:
                    score = 1.0 - 0.05 * (j - lo)
                    if f.id in at:
                        score = 1.0 if j == at[f.id] else score - W_OFF_COLUMN
                    out.append(Candidate(f.id, f"{table}.{rows[r].key}.{cols[j]}", score))
    return out
