"""What both engines share: format detection, table regions and row-label matching."""
from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

from nianbao.schema import Fragment
from nianbao.templates import TABLES, Row, Table, Template, templates
from nianbao.text import dice, norm_label

_YEAR = re.compile(r"(20[12]\d)\s*年")
_LATER_SECTION = re.compile(r"^[五六七八九]\s*[、.,]")


def detect_format(fragments: list[Fragment]) -> tuple[Template, str | None]:
    """Pick the format from header phrases (spec); the year is only a last resort, and says so."""
    text = "\n".join(norm_label(f.text) for f in fragments if f.kind in ("label", "prose"))
    counts = [(sum(m in text for m in t.norm_markers), t) for t in templates()]
    counts.sort(key=lambda x: -x[0])
    if counts[0][0] > counts[1][0]:
        return counts[0][1], None
    years = [int(y) for y in _YEAR.findall(text[:3000])]
    fmt = "2021" if (years and min(years) >= 2021) or not years else "2019"
    tpl = next(t for _, t in counts if t.format == fmt)
    return tpl, f"format {fmt} guessed from the report year: no format-specific header was found"


@lru_cache(maxsize=None)
def _norm_labels(labels: tuple[str, ...]) -> tuple[str, ...]:
    return tuple(norm_label(x) for x in labels)


def label_score(text_norm: str, row: Row) -> float:
    """How well one label fragment names a row: 1.0 for a phrase or the whole label."""
    return _label_score(text_norm, tuple(row.phrases), tuple(row.labels))


@lru_cache(maxsize=65536)
def _label_score(text_norm: str, phrases: tuple[str, ...], labels: tuple[str, ...]) -> float:
    if not text_norm:
        return 0.0
    for p in phrases:
        if p in text_norm:
            return 1.0
    best = 0.0
    for v in _norm_labels(labels):
        if text_norm == v or (len(v) >= 4 and v in text_norm):
            return 1.0
        if len(text_norm) >= 4 and text_norm in v:
            best = max(best, 0.8)
        best = max(best, dice(text_norm, v))
    return best if best >= 0.5 else 0.0


def group_score(text_norm: str, table: Table) -> float:
    return _group_score(text_norm, tuple(table.group_labels))


@lru_cache(maxsize=65536)
def _group_score(text_norm: str, groups: tuple[str, ...]) -> float:
    return max((1.0 if text_norm == g else dice(text_norm, g) for g in _norm_labels(groups)), default=0.0)


@dataclass
class Region:
    table: str
    start: int  # index into the fragment list
    end: int


def find_regions(fragments: list[Fragment], template: Template) -> list[Region]:
    """Each table runs from its first anchor to the next table's anchor (tables keep their order)."""
    starts: dict[str, int] = {}
    pos = 0
    for name in TABLES:
        anchors = _norm_labels(tuple(template.tables[name].anchors))
        for i in range(pos, len(fragments)):
            f = fragments[i]
            if f.kind == "label" and any(a in norm_label(f.text) for a in anchors):
                starts[name] = i
                pos = i + 1
                break
    regions = []
    found = [n for n in TABLES if n in starts]
    for k, name in enumerate(found):
        end = starts[found[k + 1]] if k + 1 < len(found) else len(fragments)
        for i in range(starts[name] + 1, end):
            # The next section's heading ends the last table, even where its paragraph follows
            # it on the same line (a crawler's stream) and makes it prose.
            if fragments[i].kind in ("label", "prose") and _LATER_SECTION.match(fragments[i].text.strip()):
                end = i
                break
        regions.append(Region(name, starts[name], end))
    return regions


def money_unit(fragments: list[Fragment]) -> str:
    for f in fragments:
        t = norm_label(f.text)
        if re.search(r"单位:?元|\(元\)", t):
            return "元"
    return "万元"


def interior_blanks(frags: list[Fragment]) -> frozenset[int]:
    """Blanks between two numbers of one line: zeros printed blank, or a converter's empty columns
    (a PDF→Markdown tool lays each row on a column grid of its own). Which of the two, the row's
    count of tokens against its cells says (`solve.build_hypotheses`)."""
    by_line: dict[int, list[Fragment]] = {}
    for f in frags:
        by_line.setdefault(f.line, []).append(f)
    out: set[int] = set()
    for fs in by_line.values():
        idx = [i for i, f in enumerate(fs) if f.kind == "number"]
        if idx:
            out |= {f.id for f in fs[idx[0] : idx[-1]] if f.kind == "blank"}
    return frozenset(out)
