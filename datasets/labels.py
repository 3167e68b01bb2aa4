"""Per-fragment labels: which cell key (or none) each token of a generated document is.

The reader's value tokens are aligned, in reading order, with the value cells the style printed:
a token matches one cell (same text), or several cells whose texts it glues together; cells a
style dropped and tokens that are not cells (narrative, chrome) are skipped.
"""
from __future__ import annotations

from nianbao.schema import Fragment

NONE = "none"
_ZERO = {"0", "-", "/", "无", "—", ""}


def _same(a: str, b: str) -> bool:
    return a == b or (a in _ZERO and b in _ZERO and (a == "") == (b == ""))


def align(fragments: list[Fragment], printed: list[tuple[str, str]], start: int = 0) -> dict[int, tuple[str, int, tuple[int, ...]]]:
    """Fragment id → (key, span, cuts) for the value tokens that print cells; `cuts` are the
    character offsets in a glued token's text where one printed cell ends and the next begins.

    Greedy in reading order from fragment index `start` (the first table's anchor): a token takes
    the next cell if the texts agree, several next cells if it glues their texts, or the cell after
    one or two dropped cells; otherwise it is not a cell.
    """
    toks = [f for f in fragments[start:] if f.kind in ("number", "blank")]
    out: dict[int, tuple[str, int]] = {}
    j, m = 0, len(printed)
    for t in toks:
        if j >= m:
            break
        if _same(t.text, printed[j][1]):
            out[t.id] = (printed[j][0], 1, ())
            j += 1
            continue
        glued, k = "", j
        while k < m and len(glued) < len(t.text):
            glued += printed[k][1]
            k += 1
        if t.text and glued == t.text and k - j > 1:
            ends = [len("".join(p[1] for p in printed[j : i + 1])) for i in range(j, k - 1)]
            out[t.id] = (printed[j][0], k - j, tuple(ends))
            j = k
            continue
        for d in (1, 2):  # dropped cells
            if j + d < m and _same(t.text, printed[j + d][1]) and t.text not in _ZERO:
                out[t.id] = (printed[j + d][0], 1, ())
                j += d + 1
                break
    return out


def fragment_rows(doc_id: str, fragments: list[Fragment], labels: dict[int, tuple[str, int, tuple[int, ...]]]) -> list[dict]:
    rows = []
    for f in fragments:
        key, span, cuts = labels.get(f.id, (NONE, 0, ()))
        rows.append(dict(doc_id=doc_id, fragment=f.id, text=f.text, kind=f.kind, line=f.line, col=f.col,
                         page=f.page, table=f.table, conf=f.conf, glued=f.glued, label=key, span=span,
                         cuts=list(cuts)))
    return rows
