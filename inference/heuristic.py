"""The heuristic engine: row labels anchor rows, print order places numbers in columns.

Fragments of each table region are aligned to the template's rows by a small dynamic program
(labels move to a row, numbers fill the current row's columns, unlabelled rows and dropped cells
cost something). The result is a set of fragment → cell candidates; the solver makes the final
choice with the arithmetic.
"""
from __future__ import annotations

from dataclasses import dataclass

from nianbao.schema import Candidate, Classification, Fragment
from nianbao.templates import Template
from nianbao.text import norm_label

from .layout import detect_format, find_regions, group_score, label_score, money_unit

W_LABEL = 1.0
W_UNLABELLED = 0.8
W_DROP = 0.5
W_SKIP = 1.2
W_DISCARD = 1.5
W_CROSS_LINE = 0.3
MAX_SKIP = 3
BEAM = 64


@dataclass(slots=True)
class Item:
    frag: Fragment
    kind: str  # "L" label, "V" value, "B" optional blank
    scores: dict[int, float] | None = None  # L: row index → match score
    slots: int = 1  # V: most columns this token may fill (glued digit runs)


class HeuristicEngine:
    name = "heuristic"

    def score(self, fragments: list[Fragment], template: Template) -> Classification:
        variants = template.tables["requests"].variants
        best = None
        for variant in variants:
            cands, illegible, found, total = [], set(), [], 0.0
            for region in find_regions(fragments, template):
                frags = fragments[region.start : region.end]
                rows_out, score, ill = align_table(frags, template, region.table, variant)
                total += score
                illegible |= ill
                if any(rows_out.values()):
                    found.append(region.table)
                cands += row_candidates(rows_out, template, region.table, variant)
            if best is None or total > best[0] + 1e-9 or (abs(total - best[0]) < 1e-9 and variant == template.default_variant):
                best = (total, variant, cands, illegible, found)
        _, variant, cands, illegible, found = best
        return Classification(format=template.format, variant=variant or template.default_variant,
                              candidates=cands, tables=found, illegible=illegible,
                              money_unit=money_unit(fragments), engine=self.name)


def items_for(frags: list[Fragment], template: Template, table: str, variant: str | None) -> tuple[list[Item], set[int]]:
    """Turn a region's fragments into DP items; find illegible tokens sitting in value positions."""
    t = template.tables[table]
    rows = t.rows_for(variant)
    frags = [f for f in frags if f.kind != "prose"]
    items: list[Item] = []
    illegible: set[int] = set()
    for i, f in enumerate(frags):
        if f.kind == "number":
            items.append(Item(f, "V", slots=len(f.text) if f.glued else 1))
        elif f.kind == "blank":
            items.append(Item(f, "B"))
        else:
            n = norm_label(f.text)
            scores = {} if t.unlabelled_rows else {k: s for k, r in enumerate(rows) if (s := label_score(n, r)) > 0}
            g = group_score(n, t)
            scores = {k: s for k, s in scores.items() if s >= g}
            if not scores and len(n) <= 6 and _between_values(frags, i):
                illegible.add(f.id)
                items.append(Item(f, "V"))
            else:
                items.append(Item(f, "L", scores=scores))
    _mark_interior_blanks(items)
    return items, illegible


def _between_values(frags: list[Fragment], i: int) -> bool:
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


def _mark_interior_blanks(items: list[Item]) -> None:
    """A blank between two numbers of one line is a cell; leading/trailing blanks are optional."""
    by_line: dict[int, list[int]] = {}
    for k, it in enumerate(items):
        by_line.setdefault(it.frag.line, []).append(k)
    for ks in by_line.values():
        values = [k for k in ks if items[k].kind == "V"]
        if not values:
            continue
        for k in ks:
            if items[k].kind == "B" and values[0] < k < values[-1]:
                items[k].kind = "V"
                items[k].slots = 1


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

    def end_cost(i, k, cap):
        return W_DROP * (ncols[i] - cap) if i >= 0 else 0.0

    # state: (row, tokens in row, capacity filled, line of last value) → (score, path)
    # path is a linked list of (item index, row) for assigned values.
    states = {(-1, 0, 0, -1): (0.0, None)}
    for idx, it in enumerate(items):
        nxt: dict = {}

        def push(key, score, path):
            old = nxt.get(key)
            if old is None or score > old[0]:
                nxt[key] = (score, path)

        for (i, k, cap, last_line), (score, path) in states.items():
            if it.kind == "L":
                push((i, k, cap, last_line), score, path)  # noise label
                for j, s in (it.scores or {}).items():
                    if i < j <= i + 1 + MAX_SKIP:
                        push((j, 0, 0, -1), score + W_LABEL * s - end_cost(i, k, cap) - W_SKIP * (j - i - 1), path)
                continue
            if it.kind == "B":
                push((i, k, cap, last_line), score, path)  # optional blank skipped
            else:
                push((i, k, cap, last_line), score - W_DISCARD, path)
            line = it.frag.line
            if i >= 0 and cap < ncols[i]:
                cross = W_CROSS_LINE if (line_structured and last_line not in (-1, line)) else 0.0
                push((i, k + 1, min(ncols[i], cap + it.slots), line), score - cross, ((idx, i), path))
            for j in range(i + 1, min(len(rows), i + 2 + MAX_SKIP)):
                first = 0 if i < 0 else end_cost(i, k, cap)
                skip = W_SKIP * (j - i - 1) if i >= 0 else W_SKIP * j
                push((j, 1, min(ncols[j], it.slots), line), score - unlabelled_cost - first - skip, ((idx, j), path))
        if len(nxt) > BEAM:
            nxt = dict(sorted(nxt.items(), key=lambda kv: -kv[1][0])[:BEAM])
        states = nxt

    def final(key, val):
        i, k, cap, _ = key
        return val[0] - end_cost(i, k, cap) - W_SKIP * (len(rows) - 1 - i if i >= 0 else len(rows))

    key, val = max(states.items(), key=lambda kv: final(*kv))
    score = final(key, val)
    assigned: dict[int, list[Fragment]] = {r: [] for r in range(len(rows))}
    path = val[1]
    while path is not None:
        (idx, r), path = path
        assigned[r].append(items[idx].frag)
    for r in assigned:
        assigned[r].reverse()
    used = {f.id for fs in assigned.values() for f in fs}
    return assigned, score, illegible & used


def row_candidates(assigned, template: Template, table: str, variant: str | None) -> list[Candidate]:
    """Monotone placements of a row's tokens into its columns, earlier columns slightly preferred."""
    t = template.tables[table]
    rows = t.rows_for(variant)
    out = []
    for r, frags in assigned.items():
        cols = t.row_columns(rows[r])
        c, m = len(cols), len(frags)
        any_glued = any(f.glued for f in frags)
        for p, f in enumerate(frags):
            hi = c - 1 if any_glued else c - m + p
            for j in range(p, max(p, hi) + 1):
                if j < c:
                    out.append(Candidate(f.id, f"{table}.{rows[r].key}.{cols[j]}", 1.0 - 0.05 * (j - p)))
    return out


def classify(fragments: list[Fragment], engine) -> Classification:
    template, note = detect_format(fragments)
    result = engine.score(fragments, template)
    if note:
        result.notes.append(note)
    return result
