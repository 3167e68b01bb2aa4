"""Fragments → model inputs: a character vocabulary trained here, and per-fragment position and
shape features. Shared by training and inference so that both see exactly the same thing."""
from __future__ import annotations

import json
import re
from collections import Counter
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from nianbao.schema import Fragment
from nianbao.templates import templates

MAX_CHARS = 16  # characters of a fragment's text the model sees
MAX_FRAGMENTS = 1024
CACHE_SIZE = 50_000  # texts whose character ids are kept
PAD, UNK = 0, 1
N_FEATURES = 25
_DIGITS = re.compile(r"\d")


def row_space() -> list[str]:
    """Every `table.row` of both formats; index 0 is "no row" (the label hint vocabulary)."""
    rows = {f"{name}.{r.key}" for t in templates() for name, tab in t.tables.items() for r in tab.rows}
    return ["-", *sorted(rows)]


def _row_hints():
    from nianbao.inference.layout import group_score, label_score

    index = {r: i for i, r in enumerate(row_space())}
    tables = [(name, tab) for t in templates() for name, tab in t.tables.items() if not tab.unlabelled_rows]

    @lru_cache(maxsize=100_000)
    def hint(text: str) -> int:
        from nianbao.text import norm_label

        n = norm_label(text)
        best, best_row = 0.0, 0
        for name, tab in tables:
            # A group heading names a row only where that row prints the same words as its own
            # label (（六）其他处理: the single `other` row), as the label matcher reads it.
            floor = max(0.6, group_score(n, tab))  # 0.6: a bare column header such as 其他 names no row
            for r in tab.rows:
                s = label_score(n, r)
                if s > best and s >= floor:
                    best, best_row = s, index[f"{name}.{r.key}"]
        return best_row

    return hint


def label_space() -> list[str]:
    """Every cell key of both formats and both `other` variants, then `none` (id 0)."""
    keys = set()
    for t in templates():
        for v in ("split", "single"):
            keys.update(t.all_keys(v))
    return ["none", *sorted(keys)]


class CharVocab:
    """A character-level vocabulary built from templates and synthetic text (no downloads)."""

    def __init__(self, chars: list[str]):
        self.chars = chars
        self.index = {c: i + 2 for i, c in enumerate(chars)}
        self._cache: dict[str, list[int]] = {}

    @classmethod
    def build(cls, texts, min_count: int = 2) -> "CharVocab":
        counts = Counter()
        for t in texts:
            counts.update(t)
        for t in templates():  # every character of every printed label, whatever the data
            for tab in t.tables.values():
                for r in tab.rows:
                    counts.update("".join(r.labels) * min_count)
                for c in tab.columns:
                    counts.update("".join(c.labels) * min_count)
        return cls(sorted(c for c, n in counts.items() if n >= min_count))

    def encode(self, text: str) -> list[int]:
        ids = self._cache.get(text)
        if ids is None:
            if len(self._cache) >= CACHE_SIZE:  # a long batch sees ever new numbers: stay bounded
                self._cache.clear()
            ids = self._cache[text] = self._encode(text)
        return list(ids)

    def _encode(self, text: str) -> list[int]:
        if len(text) > MAX_CHARS:  # both ends of a long label: `（三）不予公开…属于国家秘密`
            text = text[: MAX_CHARS // 2] + text[-(MAX_CHARS - MAX_CHARS // 2) :]
        ids = [self.index.get(c, UNK) for c in text]
        return ids + [PAD] * (MAX_CHARS - len(ids))

    def __len__(self) -> int:
        return len(self.chars) + 2

    def save(self, path: Path) -> None:
        path.write_text(json.dumps({"chars": self.chars, "max_chars": MAX_CHARS}, ensure_ascii=False), "utf-8")

    @classmethod
    def load(cls, path: Path) -> "CharVocab":
        return cls(json.loads(path.read_text("utf-8"))["chars"])


@dataclass
class Encoded:
    char_ids: list[list[int]]
    features: list[list[float]]
    fragment_ids: list[int]
    hints: list[list[int]]  # per fragment: [row its own label names, row the last naming label named]


TABLE_INDEX = {"active": 0, "requests": 1, "appeals": 2}


def window(fragments: list[Fragment], with_tables: bool = False, template=None):
    """The fragments the model reads: from the first table anchor on, prose left out; with
    `with_tables`, also the table region (by its anchors) each one falls in."""
    from nianbao.inference.layout import detect_format, find_regions

    template = template or detect_format(fragments)[0]
    regions = find_regions(fragments, template)
    start = regions[0].start if regions else 0
    end = regions[-1].end if regions else len(fragments)
    table_of = {}
    for r in regions:
        for i in range(r.start, r.end):
            table_of[i] = TABLE_INDEX[r.table]
    picked = [(f, table_of.get(i, -1)) for i, f in enumerate(fragments[start:end], start) if f.kind != "prose"]
    picked = picked[:MAX_FRAGMENTS]
    if with_tables:
        return [f for f, _ in picked], [t for _, t in picked]
    return [f for f, _ in picked]


def encode(fragments: list[Fragment], vocab: CharVocab, template=None) -> Encoded:
    frags, tables = window(fragments, with_tables=True, template=template)
    n = max(1, len(frags))
    by_line: dict[int, list[Fragment]] = {}
    pos: list[int] = []  # place of each fragment in its line
    for f in frags:
        line = by_line.setdefault(f.line, [])
        pos.append(len(line))
        line.append(f)
    numbers_of = {k: [g for g in fs if g.kind == "number"] for k, fs in by_line.items()}
    feats, chars, hints = [], [], []
    hint, context = _hint(), 0
    last_label_idx, last_label_line, values_since_label, prev_line = -1, frags[0].line if frags else 0, 0, None
    for i, f in enumerate(frags):
        line = by_line[f.line]
        numbers = numbers_of[f.line]
        pos_in_line = pos[i]
        if f.kind == "label":
            last_label_idx, last_label_line, values_since_label = i, f.line, 0
        if i and tables[i] != tables[i - 1]:
            context = 0  # a new table: no row named yet
        text = f.text
        digits = len(_DIGITS.findall(text))
        dline = 0 if prev_line is None else min(3, f.line - prev_line)
        feats.append([
            float(f.kind == "label"), float(f.kind == "number"), float(f.kind == "blank"), float(f.glued),
            f.conf, min(f.col, 20) / 20, min(pos_in_line, 20) / 20, min(len(line), 20) / 20,
            min(len(numbers), 10) / 10, float(bool(numbers) and f is numbers[0]), float(bool(numbers) and f is numbers[-1]),
            dline / 3, i / n, min(digits, 8) / 8, float(text in ("0", "-", "/", "无")), float("." in text),
            float(text.startswith("-") and digits > 0), float(f.unit != ""), float(f.table >= 0),
            min(values_since_label, 15) / 15, min(f.line - last_label_line, 40) / 40,
            min(i - last_label_idx, 40) / 40 if last_label_idx >= 0 else 1.0,
            float(tables[i] == 0), float(tables[i] == 1), float(tables[i] == 2),
        ])
        if f.kind in ("number", "blank"):
            values_since_label += 1
        chars.append(vocab.encode(text))
        own = hint(text) if f.kind == "label" else 0
        if own:
            context = own
        hints.append([own, context])  # the row this label names; the row the last naming label named
        prev_line = f.line
    return Encoded(chars, feats, [f.id for f in frags], hints)


_HINT = []


def _hint():
    if not _HINT:
        _HINT.append(_row_hints())
    return _HINT[0]
