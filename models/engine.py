"""The layout model as an engine: the heuristic's interface, `score(fragments, template)`."""
from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from nianbao.errors import ConfigError, require
from nianbao.schema import Candidate, Classification, Fragment
from nianbao.templates import Template

SHIPPED = Path(__file__).resolve().parent / "checkpoint"
TOP_K = 3
FLOOR = 0.01  # other columns of the predicted row: the arithmetic may still move a number there


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
        import torch

        from nianbao.models.features import encode

        enc = encode(fragments, self.vocab)
        if not enc.fragment_ids:
            return {}
        with torch.inference_mode():
            chars = torch.tensor([enc.char_ids], device=self.device)
            feats = torch.tensor([enc.features], dtype=torch.float32, device=self.device)
            hints = torch.tensor([enc.hints], device=self.device)
            mask = torch.ones(chars.shape[:2], dtype=torch.long, device=self.device)
            _, logits = self.model(chars, feats, hints, mask)
            probs, idx = logits.softmax(-1)[0].topk(TOP_K, dim=-1)
        return {fid: [(self.labels[i], p) for p, i in zip(ps.tolist(), ix.tolist())]
                for fid, ps, ix in zip(enc.fragment_ids, probs, idx)}

    def score(self, fragments: list[Fragment], template: Template) -> Classification:
        from nianbao.inference.layout import money_unit

        preds = self.predict(fragments)
        by_id = {f.id: f for f in fragments}
        own = set(template.all_keys("split")) | set(template.all_keys("single"))
        cands: list[Candidate] = []
        illegible, tables, rows_seen = set(), [], set()
        for fid, top in preds.items():
            key, p = top[0]
            if key == "none" or key not in own:
                continue
            table, row, _ = key.split(".")
            f = by_id[fid]
            if f.kind == "label":
                illegible.add(fid)  # a word where a number should be
            for k, q in top:
                if k != "none" and k in own:
                    cands.append(Candidate(fid, k, q))
            for col in template.tables[table].row_columns(next(r for r in template.tables[table].rows if r.key == row)):
                cands.append(Candidate(fid, f"{table}.{row}.{col}", FLOOR))
            rows_seen.add((table, row))
            if table not in tables:
                tables.append(table)
        variant = ("split" if any(r.startswith("other_") for t, r in rows_seen if t == "requests") else
                   "single" if ("requests", "other") in rows_seen else template.default_variant)
        order = ["active", "requests", "appeals"]
        return Classification(format=template.format, variant=variant, candidates=cands,
                              tables=sorted(tables, key=order.index), illegible=illegible,
                              money_unit=money_unit(fragments), engine=self.name)


@lru_cache(maxsize=4)
def cached(checkpoint: str | None) -> ModelEngine:
    return ModelEngine.load(checkpoint)
