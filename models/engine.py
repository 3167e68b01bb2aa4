"""The layout model as an engine: the heuristic's interface, `score(fragments, template)`."""
from __future__ import annotations

from pathlib import Path

from nianbao.errors import ConfigError, require
from nianbao.inference.heuristic import HeuristicEngine, between_values
from nianbao.schema import Candidate, Classification, Fragment
from nianbao.templates import Template

SHIPPED = Path(__file__).resolve().parent / "checkpoint"
TOP_K = 3
FLOOR = 0.01  # score of a neighbouring column of the predicted cell
SECOND = 0.05  # a runner-up key below this is noise, not a candidate
HEURISTIC_WEIGHT = 0.5


class ModelEngine:
    name = "model"

    def __init__(self, model, vocab, device: str = "cpu"):
        self.model, self.vocab, self.device = model, vocab, device
        self.labels = model.config.labels

    @classmethod
    def load(cls, checkpoint: str | None = None, device: str | None = None) -> "ModelEngine":
        torch = require("torch", "model", "The layout model")
        from nianbao.models.features import CharVocab
        from nianbao.models.layout import LayoutModel

        path = Path(checkpoint) if checkpoint else SHIPPED
        if not (path / "model.safetensors").exists():
            raise ConfigError(f"no layout-model checkpoint at {path} (train one with `nianbao train`)")
        device = device or ("cuda" if torch.cuda.is_available() else "cpu")
        model = LayoutModel.from_pretrained(path).to(device).eval()
        return cls(model, CharVocab.load(path / "vocab.json"), device)

    def predict(self, fragments: list[Fragment]):
        """Fragment id → list of (key, probability), best first."""
        return self.run(fragments)[0]

    def run(self, fragments: list[Fragment], template: Template | None = None):
        """(fragment id → [(key, probability)] best first, glued run id → [P(a cell ends after
        character i)] for i < len - 1)."""
        import torch

        from nianbao.models.features import MAX_CHARS, encode

        enc = encode(fragments, self.vocab, template)
        if not enc.fragment_ids:
            return {}, {}
        with torch.inference_mode():
            chars = torch.tensor([enc.char_ids], device=self.device)
            feats = torch.tensor([enc.features], dtype=torch.float32, device=self.device)
            hints = torch.tensor([enc.hints], device=self.device)
            mask = torch.ones(chars.shape[:2], dtype=torch.long, device=self.device)
            _, logits, cut = self.model(chars, feats, hints, mask)
            probs, idx = logits.softmax(-1)[0].topk(TOP_K, dim=-1)
            cut_p = cut[0].sigmoid().tolist() if cut is not None else None
        preds = {fid: [(self.labels[i], p) for p, i in zip(ps.tolist(), ix.tolist())]
                 for fid, ps, ix in zip(enc.fragment_ids, probs, idx)}
        cuts = {}
        if cut_p is not None:
            by_id = {f.id: f for f in fragments}
            for n, fid in enumerate(enc.fragment_ids):
                text = by_id[fid].text
                if by_id[fid].glued and len(text) <= MAX_CHARS:  # longer runs: the fixed prior
                    cuts[fid] = cut_p[n][: len(text) - 1]
        return preds, cuts

    def score(self, fragments: list[Fragment], template: Template) -> Classification:
        from nianbao.inference.layout import money_unit

        from nianbao.inference.layout import find_regions

        preds, cuts = self.run(fragments, template)
        # Only the tables are a source of cells: a page's trailing chrome or a paragraph after the
        # last table is not one, whatever the model makes of it.
        # A number in one table's region (its heading to the next table's) is that table's cell.
        region_of = {f.id: r.table for r in find_regions(fragments, template) for f in fragments[r.start : r.end]}
        preds = {fid: [(k, q) for k, q in top if k == "none" or k.split(".", 1)[0] == region_of[fid]] or [("none", 1.0)]
                 for fid, top in preds.items() if fid in region_of}
        by_id = {f.id: f for f in fragments}
        # The label matcher's reading enters too, at half weight: where it and the model disagree,
        # the solver's arithmetic decides between them. Its row for a line of numbers is a vote
        # as well: the arithmetic cannot tell apart two rows that feed the same column sums.
        heur = HeuristicEngine().score(fragments, template)
        heur_row: dict[int, tuple[float, str]] = {}
        for c in heur.candidates:
            if c.fragment not in heur_row or c.score > heur_row[c.fragment][0]:
                heur_row[c.fragment] = (c.score, c.key.rsplit(".", 1)[0])
        preds = one_row_per_line(preds, by_id, template, {f: r for f, (_, r) in heur_row.items()})
        # Where the token's position says which column it stands under, that column it is.
        valid = set(template.all_keys("split")) | set(template.all_keys("single"))
        for fid, col in heur.columns.items():
            if fid in preds and preds[fid][0][0] != "none":
                row = preds[fid][0][0].rsplit(".", 1)[0]
                table = row.split(".")[0]
                if template.tables[table].unlabelled_rows:
                    row = table  # one line holds all its rows: the position names the row too (`review.other`)
                key = f"{row}.{col}"
                if key in valid:
                    preds[fid] = [(key, 1.0)] + [(k, q) for k, q in preds[fid][1:] if k != key]
        own = set(template.all_keys("split")) | set(template.all_keys("single"))
        cands: list[Candidate] = []
        illegible, tables, rows_seen = set(), [], set()
        number_lines = {f.line for f in fragments if f.kind == "number"}
        index = {f.id: i for i, f in enumerate(fragments)}
        for fid, top in preds.items():
            key, p = top[0]
            if key == "none" or key not in own:
                continue
            table, row, _ = key.split(".")
            f = by_id[fid]
            if f.kind == "label":
                # A word where a number should be stands among numbers: on a line of them or
                # between two. A header's character OCR misread (`池`) is no cell, whatever the
                # model makes of it (one such cell before a line's numbers unplaces the line).
                if f.line not in number_lines and not between_values(fragments, index[fid]):
                    continue
                illegible.add(fid)
            for k, q in top:
                if k != "none" and k in own and (k == key or q >= SECOND):
                    cands.append(Candidate(fid, k, q))
            cols = template.tables[table].row_columns(next(r for r in template.tables[table].rows if r.key == row))
            j = cols.index(key.split(".")[2]) if key.split(".")[2] in cols else 0
            for col in cols[max(0, j - 1) : j + 2]:  # a neighbouring column: the arithmetic may move it
                cands.append(Candidate(fid, f"{table}.{row}.{col}", FLOOR))
            rows_seen.add((table, row))
            if table not in tables:
                tables.append(table)
        cands += self._illegible(fragments, preds, template, illegible)
        variant = self._variant(fragments, template, rows_seen)
        if variant == "single":  # the single printed row takes what was read as its split parts
            cands = [Candidate(c.fragment, _single(c.key), c.score) for c in cands]
        else:
            cands = [c for c in cands if not c.key.startswith("requests.other.")]
        if heur.variant == variant:
            cands += [Candidate(c.fragment, c.key, HEURISTIC_WEIGHT * c.score) for c in heur.candidates]
            illegible |= heur.illegible
            tables += [t for t in heur.tables if t not in tables]
        order = ["active", "requests", "appeals"]
        blanks = {c.fragment for c in cands if by_id[c.fragment].kind == "blank"}
        return Classification(format=template.format, variant=variant, candidates=cands,
                              tables=sorted(tables, key=order.index), illegible=illegible, optional=blanks,
                              money_unit=money_unit(fragments), cuts=cuts, engine=self.name)

    @staticmethod
    def _illegible(fragments, preds, template: Template, illegible: set[int]) -> list[Candidate]:
        """A word between two numbers of a value line (撤销) is a cell the model may call none:
        it may sit in any column of its neighbours' rows, and the arithmetic gives its value."""
        out = []
        from nianbao.models.features import _hint

        names_row = _hint()
        for i, f in enumerate(fragments):
            if f.kind != "label" or len(f.text) > 6 or f.id in illegible or not between_values(fragments, i):
                continue
            if names_row(f.text):  # a row label between two rows' numbers (one cell per line)
                continue
            rows = set()
            for j in (i - 1, i + 1):
                key = preds.get(fragments[j].id, [("none", 0)])[0][0]
                if key != "none":
                    rows.add(key.rsplit(".", 1)[0])
            for row in rows:
                table, r = row.split(".")
                t = template.tables[table]
                for col in t.row_columns(next(x for x in t.rows if x.key == r)):
                    out.append(Candidate(f.id, f"{row}.{col}", FLOOR))
            if rows:
                illegible.add(f.id)
        return out

    @staticmethod
    def _variant(fragments, template: Template, rows_seen) -> str:
        """Split rows only where a label names one of them or the model sees two of them."""
        from nianbao.inference.heuristic import likely_variants

        if likely_variants(fragments, template.tables["requests"]) == ["split"]:
            return "split"
        split_rows = {r for t, r in rows_seen if t == "requests" and r.startswith("other_")}
        if len(split_rows) >= 2:
            return "split"
        if split_rows or ("requests", "other") in rows_seen:
            return "single"
        return template.default_variant


HEURISTIC_ROW_VOTE = 1.0  # per token: the label matcher's row outvotes a model unsure of its own


def one_row_per_line(preds: dict, by_id: dict, template: Template, heur_row: dict[int, str] | None = None) -> dict:
    """A printed line of numbers is one row of its table (appeals aside: it prints its rows on one
    line). The model decides each token alone and may split a line between two neighbouring rows;
    the line's tokens vote, with their probabilities, and the losers move to the winning row,
    keeping their columns."""
    lines: dict[int, list[int]] = {}
    for fid, top in preds.items():
        key = top[0][0]
        if key != "none" and by_id[fid].kind in ("number", "blank"):
            table = key.split(".")[0]
            if table in template.tables and not template.tables[table].unlabelled_rows:
                lines.setdefault(by_id[fid].line, []).append(fid)
    valid = set(template.all_keys("split")) | set(template.all_keys("single"))

    def row_of(key: str) -> str:
        return key.rsplit(".", 1)[0]

    out = dict(preds)
    heur_row = heur_row or {}
    for fids in lines.values():
        votes: dict[str, float] = {}
        for fid in fids:  # the label matcher's votes first: a tie goes to it
            if fid in heur_row:
                votes[heur_row[fid]] = votes.get(heur_row[fid], 0.0) + HEURISTIC_ROW_VOTE
        for fid in fids:
            for k, q in preds[fid]:
                if k != "none":
                    votes[row_of(k)] = votes.get(row_of(k), 0.0) + q
        row = max(votes, key=votes.get)
        for fid in fids:
            own, col = preds[fid][0][0].rsplit(".", 1)
            if own != row and f"{row}.{col}" in valid:
                out[fid] = [(f"{row}.{k.rsplit('.', 1)[1]}" if row_of(k) == own else k, q) for k, q in preds[fid]]
    return out


def _single(key: str) -> str:
    table, row, col = key.split(".")
    return f"requests.other.{col}" if table == "requests" and row.startswith("other_") else key
