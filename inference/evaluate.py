"""Compare predicted reports with gold files: per-cell exact accuracy and all-correct reports."""
from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path


@dataclass
class ReportScore:
    name: str
    cells: int
    correct: int
    inconsistent_ok: bool
    diffs: list[tuple[str, object, object]] = field(default_factory=list)  # key, predicted, gold
    error: str | None = None

    @property
    def all_correct(self) -> bool:
        return self.error is None and self.correct == self.cells and self.inconsistent_ok


def same(a, b) -> bool:
    if a is None or b is None:
        return a is b
    return abs(float(a) - float(b)) < 1e-6


def score_report(name: str, pred: dict | None, gold: dict, error: str | None = None) -> ReportScore:
    gold_cells = gold["cells"]
    if pred is None:
        return ReportScore(name, len(gold_cells), 0, False, [], error)
    pc = pred.get("cells", {})
    keys = list(gold_cells) + [k for k in pc if k not in gold_cells]
    diffs = diff_cells(pc, gold_cells)
    ok = sorted(pred.get("inconsistent", [])) == sorted(gold.get("inconsistent", []))
    return ReportScore(name, len(keys), len(keys) - len(diffs), ok, diffs)


def find_gold(gold_dir: Path, name: str) -> Path | None:
    stem = Path(name).stem
    for cand in (gold_dir / f"{stem}.json", gold_dir / stem / "gold.json"):
        if cand.exists():
            return cand
    return None


def load_json(path: Path) -> dict:
    return json.loads(path.read_text("utf-8"))


def diff_cells(pred: dict, gold: dict) -> list[tuple[str, object, object]]:
    """(key, predicted, gold) for every key that is missing, extra or different."""
    keys = list(gold) + [k for k in pred if k not in gold]
    return [(k, pred.get(k), gold.get(k)) for k in keys if not same(pred.get(k), gold.get(k))]
