"""The solver: one value per cell such that the tables' arithmetic holds, maximising the engines'
scores, and never changing a legible printed number.

Each row gets a short list of *hypotheses* (how its tokens fill its columns: placements, splits of
glued digit runs, blanks and dropped cells). CP-SAT then picks one hypothesis per row and a value
for every undecided cell, with each constraint either holding or paid for by a violation flag; the
flags that end up set are the minimum set of constraints the printed report itself breaks.
"""
from __future__ import annotations

import itertools
import math
import time
from dataclasses import dataclass, field, replace
from decimal import Decimal

from ortools.sat.python import cp_model

from nianbao.schema import Classification, Fragment
from nianbao.templates import Template

from .layout import interior_blanks

W_DROP = 0.5  # a column no token covers
W_SPLIT = 0.2  # each extra cell a glued digit run is split into
W_LINE_SPLIT = 0.3  # rows printed on several lines: a line's numbers put in two rows
W_CLOSES = 2.0  # a reading whose printed numbers make the row add up, blanks as 0: the arithmetic's word
KEEP_MARGIN = 2.2  # readings this far below a row's best are dropped before CP-SAT (W_CLOSES + a little)
W_LENGTH = 0.01  # per squared digit count of each piece of a cut run
W_ZERO = 0.1  # per piece that is a 0: most cells are
W_CUT = 0.1  # a learned cut prior: cost per nat of the engine's probability of a run's cuts
CUT_P_FLOOR = 0.005
MAX_HYPOTHESES = 2000
MAX_KEPT = 40
UB = 10_000_000
COST_VIOLATION = 100_000
COST_FREE = {"blank": 300, "dropped": 300, "illegible": 20}
AMBIGUITY_TOLERANCE = 0.29  # score units, per row: readings that differ only by print-order preference (a
# token a few columns over), never by a blank made non-zero (COST_FREE)
LOW_CONFIDENCE = 0.95  # an OCR reading below this is a doubt the arithmetic may settle
SPECK = 0.5  # an OCR reading below this is no better than a guess: it may be no digit at all
# What a recogniser mistakes a digit for, both ways: closed loops (0/6/8/9, 3/8, 5/6) and strokes (1/7).
CONFUSABLE = {"0": "689", "1": "7", "3": "8", "5": "6", "6": "058", "7": "1", "8": "0369", "9": "08"}
MAX_OCR_LISTED = 6  # alternatives listed for an OCR doubt in a table with no arithmetic
W_CORRECTION = 280  # per corrected OCR number, × its confidence: below an empty cell made non-zero


def ocr_alternatives(text: str, conf: float = 1.0) -> list[int]:
    """The counts a doubtful OCR reading may really be: one digit swapped for one it is
    mistaken for, one digit dropped (a doubled stroke) or one doubled (a merged pair); and below
    SPECK confidence a 0 (speckle or a seal's stroke read over a cell whose 0 was not found)."""
    digits = text.lstrip("-")
    if not digits.isdigit():
        return []
    out = {"0"} if conf < SPECK else set()
    for i, d in enumerate(digits):
        for c in CONFUSABLE.get(d, ""):
            out.add(digits[:i] + c + digits[i + 1 :])
        if len(digits) > 1:
            out.add(digits[:i] + digits[i + 1 :])
        out.add(digits[:i] + d + digits[i:])
    return sorted({int(x) for x in out if x == "0" or not x.startswith("0")} - {int(digits)})
TIME_LIMIT = 3.0
ALTERNATIVES_TIME_LIMIT = 0.5  # all rounds of the ambiguity search together: a doubt is listed, not proved at any cost


@dataclass(slots=True)
class Spec:
    """How one hypothesis fills one cell."""

    kind: str  # read / split / blank / dropped / illegible / uncertain
    value: Decimal | None = None  # read, split, uncertain: the printed value
    frag: Fragment | None = None
    note: str = ""


@dataclass
class Hypothesis:
    score: float
    specs: dict[str, Spec]  # cell key → spec


@dataclass
class Solution:
    values: dict[str, Decimal]
    specs: dict[str, Spec]
    inconsistent: list[str]
    ambiguous: dict[str, list[Decimal]] = field(default_factory=dict)


def _value(f: Fragment, money: bool, money_unit: str) -> Decimal:
    v = f.value if f.value is not None else Decimal(0)
    unit = f.unit or (money_unit if money else "")
    if money and unit == "元":
        v = v / Decimal(10000)
    return v


def _size_cost(piece: str, money: bool) -> int:
    """How unlikely a cut piece's size is: a count's chance falls faster than its digits grow
    (so a row's counts are of like size), and an amount in 万元 is most often hundreds."""
    if piece == "0":
        return 0
    n = len(piece.lstrip("-").partition(".")[0])
    return (n - MONEY_DIGITS) ** 2 if money else n * n


MONEY_DIGITS = 3


def _splits(digits: str, parts: int):
    """Ways to cut a digit run into `parts` numbers without leading zeros."""
    for cuts in itertools.combinations(range(1, len(digits)), parts - 1):
        bounds = (0, *cuts, len(digits))
        pieces = [digits[a:b] for a, b in zip(bounds, bounds[1:])]
        if all(p == "0" or not p.startswith("0") for p in pieces):
            yield pieces


MAX_CELL_DIGITS = 7  # no count in these tables has more digits; money cells are not capped
SPLIT_BUDGET = 20_000  # pieces tried per row: a long run with no arithmetic to guide it is cut short


class _Budget:
    __slots__ = ("left",)

    def __init__(self, n: int):
        self.left = n


def _cut_run(digits: str, keys: list[str], wmin: int, wmax: int, known: dict[str, Decimal],
             rules, money: set[str], budget: _Budget):
    """Ways to cut a digit run into w ∈ [wmin, wmax] cells for `keys[0:w]`, the row arithmetic
    first. A total whose parts are known can only be their sum, so the run must continue with its
    digits; a run that ends the row ends with its total; the parts of a total still to come must
    leave room for the total's digits. Yields piece lists."""
    pieces: list[str] = []
    vals = dict(known)
    pos_of = {k: i for i, k in enumerate(keys)}
    rules = [c for c in rules if len(c.lhs) == 1]

    def forced(key: str):
        for c in rules:
            if c.lhs == (key,) and all(k in vals for k in c.rhs):
                return sum((vals[k] for k in c.rhs), Decimal(0))
        return None

    def pruned(i: int, key: str, rem: int) -> bool:
        """After piece i (for `key`) with `rem` digits left: does a rule already fail?"""
        for c in rules:
            lhs = c.lhs[0]
            if key != lhs and key not in c.rhs:
                continue
            parts = [vals[k] for k in c.rhs if k in vals]
            if lhs in vals:
                total = vals[lhs]
                if sum(parts) > total or (len(parts) == len(c.rhs) and sum(parts) != total):
                    return True
            elif lhs in pos_of and i < pos_of[lhs] < wmin and all(v >= 0 for v in parts):
                # The run certainly reaches the total: its digits must fit in what is left.
                j = pos_of[lhs]
                between = sum(1 for k in keys[i + 1 : j] if k not in vals)
                need = between + len(str(int(sum(parts)))) + max(0, wmin - j - 1)
                if rem < need:
                    return True
        return False

    def rec(pos: int, end: int, wtop: int):
        if budget.left <= 0:
            return
        i = len(pieces)
        if pos == end:
            if wmin <= i + (end < len(digits)):
                yield list(pieces)
            return
        if i >= wtop:
            return
        key = keys[i]
        rest = end - pos
        cap = rest if key in money else min(rest, MAX_CELL_DIGITS)
        target = forced(key) if rules else None
        if target is None and key in known:
            target = known[key]  # a total fixed beforehand (see _total_presets)
        if target is not None:
            t = str(int(target)) if target >= 0 and target == int(target) else None
            lengths = [len(t)] if t is not None and len(t) <= rest and digits.startswith(t, pos) else []
        else:
            lengths = range(1, cap + 1)
        for n in lengths:
            piece = digits[pos : pos + n]
            if n > 1 and piece.startswith("0"):
                break
            budget.left -= 1
            pieces.append(piece)
            before = vals.get(key)
            vals[key] = Decimal(piece)
            if not (rules and pruned(i, key, end - pos - n)):
                yield from rec(pos + n, end, wtop)
            pieces.pop()
            if before is None:
                del vals[key]
            else:
                vals[key] = before

    last = keys[wmax - 1] if wmax == len(keys) else None
    if rules and wmin == wmax and last is not None and any(c.lhs == (last,) for c in rules) and last not in vals:
        # The run ends the row, so it ends with the row's total: try each suffix as the total.
        for k in range(1, min(len(digits) - wmax + 1, MAX_CELL_DIGITS) + 1):
            tail = digits[len(digits) - k :]
            if k > 1 and tail.startswith("0"):
                continue
            vals[last] = Decimal(tail)
            for head in rec(0, len(digits) - k, wmax - 1):
                if len(head) == wmax - 1:
                    yield head + [tail]
            del vals[last]
        return
    yield from rec(0, len(digits), wmax)


def _total_presets(tokens: list[Fragment], row_keys: list[str], rules) -> list[dict[str, Decimal]]:
    """A row whose glued tokens fill every cell ends with its total, so the total is a suffix of
    the last token: fixing it first lets every earlier cut be checked against it (a run of
    twelve digits before it no longer means thousands of blind cuts)."""
    last = tokens[-1] if tokens else None
    lhs = {c.lhs[0] for c in rules if len(c.lhs) == 1}
    if len(tokens) < 2 or row_keys[-1] not in lhs or not (last.glued and last.text.isdigit()):
        return [{}]
    text = last.text
    return [{row_keys[-1]: Decimal(text[-k:])} for k in range(1, min(MAX_CELL_DIGITS, len(text)) + 1)
            if k == 1 or text[-k] != "0"]


def row_hypotheses(row_keys: list[str], tokens: list[Fragment], cand: dict[tuple[int, str], float],
                   money: set[str], money_unit: str, illegible: set[int], cover: bool = True,
                   signed: frozenset[str] = frozenset(), optional: frozenset[int] = frozenset(),
                   cuts: dict[int, list[float]] | None = None, rules=(), strict: bool = False, split: bool = True) -> list[Hypothesis]:
    """Every way the row's tokens can fill its cells, best first. With `strict`, only readings
    whose printed numbers keep the row's own arithmetic (`rules`) are made; glued runs are then
    cut by that arithmetic, which keeps even a 15-cell run tractable."""
    c, m = len(row_keys), len(tokens)
    out: list[Hypothesis] = []
    cuts = cuts or {}
    budget = _Budget(SPLIT_BUDGET)
    rules = list(rules) if strict else []

    def learned(f: Fragment, pieces: list[str], fixed: float) -> float:
        """The engine's cut probabilities for this run, where it has them, else the fixed prior."""
        probs = cuts.get(f.id)
        if probs is None:
            return fixed
        ends = set(itertools.accumulate(len(p) for p in pieces[:-1]))
        nll = 0.0
        for i, p in enumerate(probs):
            p = min(1 - CUT_P_FLOOR, max(CUT_P_FLOOR, p))
            nll -= math.log(p if i + 1 in ends else 1 - p)
        return W_CUT * nll

    def token_specs(f: Fragment, start: int, room: int, acc: dict[str, Spec], wmin: int = 2):
        key = row_keys[start]
        if f.id in illegible:
            yield 1, [Spec("illegible", None, f)], 0.0
            return
        if f.kind == "blank":
            yield 1, [Spec("blank", None, f)], 0.0
            return
        # A doubt is about digits: a zero mark (`—`, `/`) is no digit a recogniser mistakes for another.
        kind = "uncertain" if f.conf < LOW_CONFIDENCE and f.text.lstrip("-").isdigit() else "read"
        sign = "-" if f.text.startswith("-") else ""
        intpart, dot, frac = f.text.lstrip("-").removesuffix(f.unit).partition(".")
        run = f.glued and intpart.isdigit() and (not dot or frac.isdigit())
        glued = split and run
        whole = _value(f, key in money, money_unit)
        if sign and key not in signed and not run and f.conf < 1.0:
            # A minus OCR saw before a count (a column that is never negative) is a speck or the
            # dash of the cell before: the count is its digits.
            whole = whole.copy_abs()
        # A glued run is never one number with a leading zero ("01814"), nor a fraction in a count.
        if not (run and ((len(intpart) > 1 and intpart.startswith("0")) or (dot and key not in money))):
            yield 1, [Spec(kind, whole, f)], learned(f, [f.text], 0.0) if glued else 0.0
        if glued and sign and key not in signed and room >= 2:
            # "-23" in a count column: a "-" (zero) glued to 23 by a text layer.
            yield 2, [Spec("split", Decimal(0), f, f"{f.text} split as -|{intpart}"),
                      Spec("split", _value(f, row_keys[start + 1] in money, money_unit).copy_abs(), f,
                           f"{f.text} split as -|{intpart}")], learned(f, [sign, f.text[1:]], W_SPLIT)
        by = "" if f.id not in cuts else " (the engine's learned cut probabilities)"
        if glued and min(len(intpart), room) >= 2:
            known = {k: sp.value for k, sp in acc.items() if sp.kind in ("read", "split") and sp.value is not None}
            known = {**preset, **known}
            keys = row_keys[start:]
            if sign or dot:  # signs and decimals do not take part in the cut arithmetic
                runs = itertools.islice((p for w in range(max(2, wmin), min(len(intpart), room) + 1)
                                         for p in _splits(intpart, w)), SPLIT_BUDGET)
            else:
                runs = _cut_run(intpart, keys, max(2, wmin), min(len(intpart), room), known, rules, money, budget)
            for pieces in runs:
                w = len(pieces)
                if len(out) >= MAX_HYPOTHESES or budget.left <= 0:
                    return
                pieces[0] = sign + pieces[0]
                pieces[-1] += dot + frac  # decimals belong to the last cell of the run
                if dot and row_keys[start + w - 1] not in money:
                    continue
                # Plausibility where the arithmetic cannot tell: most cells are 0; the cells of one
                # row are of like size (a count's chance falls faster than its digits grow, so
                # 22|45|48 beats 2|2|4548); then digits sit in later columns (totals, in-force
                # counts) first.
                plaus = (W_LENGTH * sum(_size_cost(p, row_keys[start + i] in money) for i, p in enumerate(pieces))
                         - W_ZERO * pieces.count("0")
                         + 0.001 * sum(len(p) * (w - i) for i, p in enumerate(pieces)))
                specs = []
                for i, p in enumerate(pieces):
                    v = Decimal(p)
                    if row_keys[start + i] in money and (f.unit or money_unit) == "元":
                        v = v / Decimal(10000)
                    specs.append(Spec("split", v, f, f"{f.text} split as {'|'.join(pieces)}{by}"))
                # The size prior holds for learned cuts too: the engine saw one sample of sizes.
                yield w, specs, learned(f, pieces, W_SPLIT * (w - 1) + plaus) + (plaus if f.id in cuts else 0.0)

    def rec(p: int, col: int, acc: dict[str, Spec], score: float):
        if len(out) >= MAX_HYPOTHESES:
            return
        if p == m:
            if full_cover and col < c:
                return
            specs = dict(acc)
            for k in row_keys:
                if k not in specs:
                    specs[k] = Spec("dropped")
            out.append(Hypothesis(score - W_DROP * (c - len(acc)), specs))
            return
        f = tokens[p]
        if f.id in optional:  # padding, not a cell
            rec(p + 1, col, acc, score)
        starts = range(col, col + 1) if full_cover else range(col, c - (m - p - 1 - n_optional_after[p]))
        # Likeliest columns first: a wide row's placements outnumber MAX_HYPOTHESES.
        for start in sorted((j for j in starts if j < c), key=lambda j: -cand.get((f.id, row_keys[j]), -1.0)):
            s = cand.get((f.id, row_keys[start]))
            if s is None:
                continue
            room = c - start - (m - p - 1 - n_optional_after[p])
            # Full cover: the tokens after this one can fill at most their own slots.
            wmin = c - start - slots_after[p] if full_cover else 2
            for w, specs, cost in token_specs(f, start, room, acc, wmin):
                if full_cover and start + w + slots_after[p] < c:
                    continue
                new = dict(acc)
                for i, sp in enumerate(specs):
                    new[row_keys[start + i]] = sp
                rec(p + 1, start + w, new, score + s - cost)

    # A text layer glues cells but rarely loses one: where glued runs can fill every column,
    # only such readings are considered.
    full_cover = cover and any(f.glued for f in tokens) and sum(len(f.text) if f.glued else 1 for f in tokens) >= c
    n_optional_after = [sum(1 for g in tokens[p + 1 :] if g.id in optional) for p in range(m)]
    slots_after = [sum(len(g.text) if g.glued else 1 for g in tokens[p + 1 :]) for p in range(m)]
    preset: dict[str, Decimal] = {}
    for preset in _total_presets(tokens, row_keys, rules) if full_cover else [{}]:
        budget.left = SPLIT_BUDGET
        rec(0, 0, {}, 0.0)
    preset = {}
    if not out and full_cover:
        full_cover = False
        rec(0, 0, {}, 0.0)
    if not out:  # tokens the candidates cannot place: keep the row as dropped cells
        out.append(Hypothesis(-W_DROP * c, {k: Spec("dropped") for k in row_keys}))
    out.sort(key=lambda h: -h.score)
    return out


def build_hypotheses(cls: Classification, fragments: list[Fragment], template: Template, table: str):
    """Group the candidates by row and enumerate each row's hypotheses."""
    t = template.tables[table]
    by_id = {f.id: f for f in fragments}
    cand: dict[tuple[int, str], float] = {}
    best_row: dict[int, tuple[float, str]] = {}
    # A fragment belongs to one table: the one its best candidate names (a runner-up in another
    # table must not pull a row's numbers into it).
    best_table: dict[int, tuple[float, str]] = {}
    for c in cls.candidates:
        tb = c.key.split(".", 1)[0]
        if c.fragment not in best_table or c.score > best_table[c.fragment][0]:
            best_table[c.fragment] = (c.score, tb)
    for c in cls.candidates:
        if not c.key.startswith(table + ".") or best_table[c.fragment][1] != table:
            continue
        cand[(c.fragment, c.key)] = max(c.score, cand.get((c.fragment, c.key), 0.0))
        row = c.key.rsplit(".", 1)[0]
        if c.fragment not in best_row or c.score > best_row[c.fragment][0]:
            best_row[c.fragment] = (c.score, row)
    tokens_by_row: dict[str, list[Fragment]] = {}
    for fid, (_, row) in sorted(best_row.items()):
        f = by_id[fid]
        # A token that stands under one column (its position says so) is that one cell, not a run.
        tokens_by_row.setdefault(row, []).append(replace(f, glued=False) if fid in cls.columns and f.glued else f)
    money = {f"{table}.{r.key}.{col}" for r in t.rows for col in t.row_columns(r) if t.column(col).money}
    opt = frozenset(cls.optional)
    signed = frozenset(f"{table}.{r.key}.{col}" for r in t.rows for col in t.row_columns(r) if t.column(col).signed)
    hyps = {}
    row_rules = [c for c in template.constraints(table, cls.variant) if ".row:" in c.name]
    rows = t.rows_for(cls.variant)
    # Rows printed as one line of numbers (appeals) are placed together: a glued run may
    # straddle two of them.
    groups = [rows] if t.unlabelled_rows else [[r] for r in rows]
    for group in groups:
        keys = [f"{table}.{r.key}.{col}" for r in group for col in t.row_columns(r)]
        tokens = sorted((f for r in group for f in tokens_by_row.get(f"{table}.{r.key}", [])), key=lambda f: f.id)
        rules = [c for c in row_rules if c.lhs and c.lhs[0] in keys]
        glued = any(f.glued for f in tokens)
        # Blanks between a line's numbers are its cells (zeros printed blank), unless the row has
        # more tokens than cells: then a converter's empty columns (a PDF→Markdown tool's grid)
        # are among them, and the solver may pass over them.
        row_opt = opt if len(tokens) > len(keys) else opt - interior_blanks(tokens)

        def readings(**kw):
            return row_hypotheses(keys, tokens, cand, money, cls.money_unit, cls.illegible, signed=signed,
                                  optional=row_opt, cuts=cls.cuts, **kw)

        # The row's own arithmetic first: glued runs are cut so that the row adds up.
        hs = readings(rules=rules, strict=True)
        if not _keep_row_consistent(hs, rules)[1]:  # the printed row breaks its own sum: every reading
            hs = readings()
        if len(tokens) < len(keys) and glued and rules:
            # Fewer tokens than cells: perhaps nothing is glued and some cells were printed blank,
            # which the row's sum can tell (a row without one, in the active table, cannot).
            # Those readings are enumerated on their own, or the splits crowd them out.
            hs = hs + [h for h in readings(cover=False, split=False) if _places_tokens(h)]
        hs = _rank(hs, rules, group)
        hs, consistent = _keep_row_consistent(hs, rules)
        if not consistent and glued:
            # No way to cut the glued runs adds up: perhaps a cell was lost as well.
            wider, consistent = _keep_row_consistent(
                _rank([h for h in readings(cover=False, split=False) if _places_tokens(h)] + readings(cover=False),
                      rules, group), rules)
            if consistent:
                hs = wider
        if hs:
            # Far worse readings only slow CP-SAT down: the arithmetic never has to reach that far.
            hs = [h for h in hs if h.score >= hs[0].score - KEEP_MARGIN]
        hyps["+".join(r.key for r in group)] = hs or [Hypothesis(-W_DROP * len(keys), {k: Spec("dropped") for k in keys})]
    return hyps


def _places_tokens(h: Hypothesis) -> bool:
    """Not the all-dropped placeholder that stands in when no reading places the row's tokens."""
    return any(s.frag is not None for s in h.specs.values())


def _rank(hs: list[Hypothesis], rules, group) -> list[Hypothesis]:
    """Best first: a reading whose printed numbers make the row add up on their own earns
    W_CLOSES; readings with a cell beyond any count (a whole glued run as one number) go."""
    seen, unique = set(), []
    for h in hs:
        sig = tuple((k, s.kind, s.value) for k, s in sorted(h.specs.items()))
        if sig not in seen and all(s.value is None or abs(s.value) <= UB for s in h.specs.values()):
            seen.add(sig)
            unique.append(h)
    closing = {id(h) for h in unique if rules and _closes(h, rules)}
    for h in unique:
        if id(h) in closing:
            h.score += W_CLOSES
    if closing:
        # Where some reading adds up, a cut of a glued run that does not is speculation twice over.
        unique = [h for h in unique if id(h) in closing or all(s.kind != "split" for s in h.specs.values())]
    hs = sorted(unique, key=lambda h: -h.score)
    return _lines_stay_whole(hs) if len(group) > 1 else hs


def _closes(h: Hypothesis, rules) -> bool:
    """Do the row's printed numbers add up on their own, its unprinted cells as 0 (an illegible
    one as whatever makes it add up)? A doubtful OCR reading counts as read: that the row adds up
    with it as read is the best evidence of where the row's numbers stand."""
    def v(k):
        s = h.specs[k]
        return s.value if s.kind in ("read", "split", "uncertain") and s.value is not None else Decimal(0)

    def holds(c) -> bool:
        diff = sum(v(k) for k in c.lhs) - sum(v(k) for k in c.rhs)
        if diff == 0:
            return True
        # An illegible printed cell (撤销) holds some number: it may take up the difference.
        side = c.rhs if diff > 0 else c.lhs
        return any(h.specs[k].kind == "illegible" for k in side)

    return all(holds(c) for c in rules)


def _lines_stay_whole(hs: list[Hypothesis]) -> list[Hypothesis]:
    """Rows printed together (appeals): one line of numbers may hold all of them, but where they
    come on several lines, each line is one row. A placement that splits a line between rows
    (because a cell was dropped elsewhere) costs W_LINE_SPLIT per extra row."""
    lines = {s.frag.line for s in hs[0].specs.values() if s.frag is not None} if hs else set()
    if len(lines) < 2:
        return hs
    for h in hs:
        rows_of: dict[int, set[str]] = {}
        for k, s in h.specs.items():
            if s.frag is not None:
                rows_of.setdefault(s.frag.line, set()).add(k.rsplit(".", 1)[0])
        h.score -= W_LINE_SPLIT * sum(len(r) - 1 for r in rows_of.values())
    return sorted(hs, key=lambda h: -h.score)


def _keep_row_consistent(hs: list[Hypothesis], rules) -> tuple[list[Hypothesis], bool]:
    """Drop placements whose own printed numbers break their row's sum when another placement
    keeps it: the row arithmetic is local, and this keeps the CP-SAT model small."""
    if not rules:
        return hs, True

    def ok(h: Hypothesis) -> bool:
        for c in rules:
            specs = [h.specs[k] for k in (*c.lhs, *c.rhs)]
            if all(s.kind in ("read", "split") for s in specs):
                if sum(h.specs[k].value for k in c.lhs) != sum(h.specs[k].value for k in c.rhs):
                    return False
        return True

    good = [h for h in hs if ok(h)]
    return (good[:MAX_KEPT], True) if good else (hs[:MAX_KEPT], False)


def solve_table(hyps: dict[str, list[Hypothesis]], constraints) -> Solution:
    if not constraints:
        return _solve_free(hyps)
    if all(len(h) == 1 and all(s.kind in ("read", "split") for s in h[0].specs.values()) for h in hyps.values()):
        specs = {k: s for h in hyps.values() for k, s in h[0].specs.items()}
        values = {k: s.value for k, s in specs.items()}
        bad = [c.name for c in constraints if sum(values[k] for k in c.lhs) != sum(values[k] for k in c.rhs)]
        return Solution(values, specs, bad)
    return _solve_cpsat(hyps, constraints)


def _solve_free(hyps) -> Solution:
    """No constraints (the active table): each row's best hypothesis; near-ties are ambiguous."""
    values, specs, amb = {}, {}, {}
    for hs in hyps.values():
        best = hs[0]
        for k, s in best.specs.items():
            specs[k] = s
            values[k] = s.value if s.kind in ("read", "split", "uncertain") else Decimal(0)
            if s.kind == "uncertain":  # no arithmetic here to settle an OCR doubt: it is listed
                amb[k] = [Decimal(a) for a in ocr_alternatives(s.frag.text, s.frag.conf)[:MAX_OCR_LISTED]]
        for h in hs[1:]:
            if h.score < best.score - max(W_SPLIT, W_DROP) - 1e-9:
                break
            for k, s in h.specs.items():
                v = s.value if s.kind in ("read", "split", "uncertain") else Decimal(0)
                if v != values[k] and v not in amb.setdefault(k, []):
                    amb[k].append(v)
    return Solution(values, specs, [], {k: v for k, v in amb.items() if v})


def _solve_cpsat(hyps, constraints) -> Solution:
    model = cp_model.CpModel()
    keys = [k for hs in hyps.values() for k in hs[0].specs]
    printed = [abs(int(s.value)) for hs in hyps.values() for h in hs for s in h.specs.values()
               if s.value is not None]
    ub = min(UB, 2 * sum(sorted(printed)[-8:]) + 10) if printed else 10
    x = {k: model.NewIntVar(-ub, ub, k) for k in keys}
    cost_terms = []  # the readings' own costs, row by row
    # Among equally good solutions, each row keeps the reading ranked first among its equals: a
    # tie-break below every other cost, so that which of them comes out does not depend on the
    # order the search happens to find them in.
    order_terms = []
    scale = 1 + sum(len(hs) - 1 for hs in hyps.values())
    other_terms = []  # cells made up, OCR corrections, broken sums: never a matter of taste
    chosen: dict[str, list] = {}
    undecided: set[str] = set()
    # Each cell is linear in the chosen reading: x = Σ lit·printed + a free part that only a reading
    # leaving the cell open (blank, dropped, illegible, a doubtful OCR digit) may use. This keeps
    # CP-SAT's relaxation tight; enforcement literals on every cell did not.
    printed_terms: dict[str, list] = {k: [] for k in keys}
    open_lits: dict[str, dict[str, list]] = {k: {} for k in keys}
    for row, hs in hyps.items():
        lits = [model.NewBoolVar(f"h:{row}:{i}") for i in range(len(hs))]
        chosen[row] = lits
        model.AddExactlyOne(lits)
        top = hs[0].score
        for i, (h, lit) in enumerate(zip(hs, lits)):
            cost_terms.append(int(round((top - h.score) * 1000)) * lit)
            order_terms.append(i * lit)
            for k, s in h.specs.items():
                if s.kind in ("read", "split"):
                    if int(s.value):
                        printed_terms[k].append(int(s.value) * lit)
                else:
                    if s.kind == "uncertain" and int(s.value):
                        printed_terms[k].append(int(s.value) * lit)
                    kind = f"uncertain:{s.frag.conf:.3f}:{int(s.value)}" if s.kind == "uncertain" else s.kind
                    open_lits[k].setdefault(kind, []).append(lit)
                    undecided.add(k)
        if len(hs) > 1:
            first = hs[0].specs
            for h in hs[1:]:
                undecided |= {k for k, s in h.specs.items() if s.kind != first[k].kind or s.value != first[k].value}
    for k in keys:
        free_parts = []
        for kind, lits in open_lits[k].items():
            if kind.startswith("uncertain"):
                # A doubtful OCR number keeps its reading unless the arithmetic pays for one of the
                # readings a recogniser confuses it with (or, below SPECK, for a 0); never any other.
                _, conf, read_as = kind.split(":")
                alts = [a for a in ocr_alternatives(read_as, float(conf)) if a <= ub]
                picks = [model.NewBoolVar("") for _ in alts]
                if picks:
                    model.Add(sum(picks) <= sum(lits))
                    other_terms += [int(W_CORRECTION * float(conf)) * p for p in picks]
                    free_parts.append(sum((a - int(read_as)) * p for a, p in zip(alts, picks)))
                continue
            f = model.NewIntVar(0, ub, "")
            d = model.NewBoolVar("")
            model.Add(sum(lits) >= d)  # only a reading that leaves the cell open may move it
            model.Add(f <= ub * d)
            other_terms.append(COST_FREE[kind] * d)
            free_parts.append(f)
        model.Add(x[k] == sum(printed_terms[k]) + sum(free_parts))
    flags = {}
    for c in constraints:
        v = model.NewBoolVar(c.name)
        flags[c.name] = v
        model.Add(sum(x[k] for k in c.lhs) == sum(x[k] for k in c.rhs)).OnlyEnforceIf(v.Not())
        other_terms.append(COST_VIOLATION * v)
    objective = scale * (sum(cost_terms) + sum(other_terms)) + sum(order_terms)
    model.Minimize(objective)
    status = (solver := _solver(TIME_LIMIT)).Solve(model)
    if status not in (cp_model.OPTIMAL, cp_model.FEASIBLE):  # pragma: no cover - a time-out on a huge model
        return _fallback(hyps, constraints)
    values = {k: Decimal(solver.Value(x[k])) for k in keys}
    specs, picked = {}, {}
    for row, hs in hyps.items():
        i = next(i for i, lit in enumerate(chosen[row]) if solver.BooleanValue(lit))
        picked[row] = i
        specs.update(hs[i].specs)
    bad = [name for name, v in flags.items() if solver.BooleanValue(v)]
    sol = Solution(values, specs, bad)
    if undecided:
        # As good as the best: no more made-up cells, corrections or broken sums, and each row's
        # reading within the tolerance of the one the best took (a value moved in five rows by a
        # column sum is as open as one moved in one row).
        model.Add(sum(other_terms) <= int(round(solver.Value(sum(other_terms)))))
        for row, hs in hyps.items():
            floor = hs[picked[row]].score - AMBIGUITY_TOLERANCE
            for h, lit in zip(hs, chosen[row]):
                if h.score < floor:
                    model.Add(lit == 0)
        _find_alternatives(model, x, values, sorted(undecided), sol)
    return sol


def _solver(seconds: float) -> cp_model.CpSolver:
    """One search worker (a batch runs one report per core). Full linearisation: each cell is a sum
    of reading literals times printed values, so the LP relaxation sees a column's sum at once and
    proves a tie of blank-zero columns optimal in a fifth of the default's time (dev04 dumps: 650 ms
    to 120 ms), with the same optimum."""
    solver = cp_model.CpSolver()
    solver.parameters.num_workers = 1
    solver.parameters.linearization_level = 2
    solver.parameters.max_time_in_seconds = seconds
    return solver


def _fallback(hyps, constraints) -> Solution:
    """Each row's best placement with blanks as 0, when CP-SAT runs out of time."""
    sol = _solve_free(hyps)
    sol.ambiguous = {}
    bad = [c.name for c in constraints if sum(sol.values[k] for k in c.lhs) != sum(sol.values[k] for k in c.rhs)]
    return Solution(sol.values, sol.specs, bad)


def _find_alternatives(model, x, values, undecided, sol: Solution, rounds: int = 6):
    """Is there another assignment as good as the best one (the model says what that allows)?
    Then the cells it changes are ambiguous. Each round asks for one that changes a cell not listed
    yet, until none is left (a value the arithmetic lets stand in any of four blank columns is four
    cells' doubt)."""
    diffs = []
    for k in undecided:
        d = model.NewBoolVar("")
        model.Add(x[k] != int(values[k])).OnlyEnforceIf(d)
        model.Add(x[k] == int(values[k])).OnlyEnforceIf(d.Not())
        diffs.append((k, d))
    deadline = time.monotonic() + ALTERNATIVES_TIME_LIMIT
    for _ in range(rounds):
        fresh = [d for k, d in diffs if k not in sol.ambiguous]
        left = deadline - time.monotonic()
        if not fresh or left <= 0:
            return
        solver = _solver(left)
        model.ClearAssumptions()
        model.AddAssumption(_any(model, fresh))
        if solver.Solve(model) not in (cp_model.OPTIMAL, cp_model.FEASIBLE):
            return
        for k, d in diffs:
            if solver.BooleanValue(d):
                v = Decimal(solver.Value(x[k]))
                if v not in sol.ambiguous.get(k, []):
                    sol.ambiguous.setdefault(k, []).append(v)


def _any(model, lits):
    """A literal that, assumed true, makes at least one of `lits` true (assumptions are cleared
    each round; constraints are not)."""
    y = model.NewBoolVar("")
    model.AddBoolOr(lits).OnlyEnforceIf(y)
    return y
