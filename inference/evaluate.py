"""Compare predicted reports with gold files: per-cell exact accuracy and all-correct reports."""
from __future__ import annotations

import json
import time
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path

from nianbao.errors import NianbaoError


@dataclass
class ReportScore:
    name: str
    cells: int
    correct: int
    inconsistent_ok: bool
    diffs: list[tuple[str, object, object]] = field(default_factory=list)  # key, predicted, gold
    error: str | None = None
    nonzero: int = 0  # gold cells that are not 0: most cells are 0, so these show extraction
    nonzero_correct: int = 0

    @property
    def all_correct(self) -> bool:
        return self.error is None and self.correct == self.cells and self.inconsistent_ok


def same(a, b) -> bool:
    if a is None or b is None:
        return a is b
    return abs(float(a) - float(b)) < 1e-6


def score_report(name: str, pred: dict | None, gold: dict, error: str | None = None) -> ReportScore:
    gold_cells = gold["cells"]
    nonzero = [k for k, v in gold_cells.items() if v != 0]
    if pred is None:
        return ReportScore(name, len(gold_cells), 0, False, [], error, len(nonzero), 0)
    pc = pred.get("cells", {})
    keys = list(gold_cells) + [k for k in pc if k not in gold_cells]
    diffs = diff_cells(pc, gold_cells)
    ok = sorted(pred.get("inconsistent", [])) == sorted(gold.get("inconsistent", []))
    wrong = {d[0] for d in diffs}
    return ReportScore(name, len(keys), len(keys) - len(diffs), ok, diffs,
                       nonzero=len(nonzero), nonzero_correct=sum(k not in wrong for k in nonzero))


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


@dataclass
class EvalResult:
    scores: list[ReportScore] = field(default_factory=list)
    groups: dict[str, str] = field(default_factory=dict)  # report name → group (e.g. synthetic style)
    seconds: list[float] = field(default_factory=list)
    times: dict[str, float] = field(default_factory=dict)  # report name → seconds to reconstruct
    engine: str = "auto"

    def by_group(self) -> dict[str, dict]:
        buckets: dict[str, list[ReportScore]] = defaultdict(list)
        for s in self.scores:
            buckets[self.groups.get(s.name, "all")].append(s)
        if len(buckets) > 1:
            buckets["all"] = list(self.scores)
        out = {}
        for g, ss in sorted(buckets.items(), key=lambda kv: (kv[0] == "all", kv[0])):
            cells = sum(s.cells for s in ss)
            nz = sum(s.nonzero for s in ss)
            times = sorted(self.times[s.name] for s in ss if s.name in self.times)
            out[g] = dict(reports=len(ss), all_correct=sum(s.all_correct for s in ss), cells=cells,
                          accuracy=(sum(s.correct for s in ss) / cells) if cells else 0.0,
                          nonzero=nz, nonzero_correct=sum(s.nonzero_correct for s in ss),
                          nonzero_accuracy=(sum(s.nonzero_correct for s in ss) / nz) if nz else 1.0,
                          inconsistent_ok=sum(s.inconsistent_ok for s in ss),
                          median_ms=1000 * times[len(times) // 2] if times else None,
                          max_ms=1000 * times[-1] if times else None)
        return out

    def summary(self) -> dict:
        return dict(engine=self.engine, groups=self.by_group(), reports=[
            dict(name=s.name, cells=s.cells, correct=s.correct, inconsistent_ok=s.inconsistent_ok,
                 nonzero=s.nonzero, nonzero_correct=s.nonzero_correct,
                 ms=round(1000 * self.times[s.name], 1) if s.name in self.times else None,
                 error=s.error, diffs=[list(map(str, d)) for d in s.diffs]) for s in self.scores])


def _items(folder: Path, gold_dir: Path | None, input_pattern: str = "input.*"):
    """(name, input or prediction path, gold path, group) for a synthetic dataset, a tree of
    labelled case folders, or a flat folder of inputs (or predictions) beside a gold folder."""
    manifest = folder / "manifest.jsonl"
    if manifest.exists():
        for line in manifest.read_text("utf-8").splitlines():
            m = json.loads(line)
            d = folder / m["id"]
            yield m["id"], d / m["input"], d / "gold.json", m.get("style", "all")
        return
    cases = sorted(g.parent for g in folder.rglob("gold.json") if g.parent != folder)
    if cases:
        # Labelled case folders (`<set>/<case>/input.*` + `gold.json`, the layout of ../shared/dev):
        # the set of a case is the folder it sits in, relative to the root.
        for case in cases:
            inputs = sorted(p for p in case.glob(input_pattern) if p.is_file())
            if inputs:
                group = case.parent.relative_to(folder).as_posix() if case.parent != folder else folder.name
                yield case.relative_to(folder).as_posix(), inputs[0], case / "gold.json", group
        return
    for p in sorted(folder.iterdir()):
        if p.is_file() and not p.name.startswith("."):
            g = find_gold(gold_dir, p.name) if gold_dir else None
            if g is not None:
                yield p.name, p, g, "all"


def evaluate_dir(folder: Path, gold_dir: Path | None, engine: str = "auto", input_pattern: str = "input.*") -> EvalResult:
    from .pipeline import reconstruct

    from .engines import get_engine

    res = EvalResult(engine=engine)
    get_engine(engine)  # a model is loaded once, before the clock starts: times are per report
    for name, path, gold_path, group in _items(folder, gold_dir, input_pattern):
        gold = load_json(gold_path)
        res.groups[name] = group
        if path.suffix == ".json" and "cells" in (pred := load_json(path)):
            res.scores.append(score_report(name, pred, gold))
            continue
        t0 = time.perf_counter()
        try:
            report = reconstruct(path, engine=engine)
        except NianbaoError as exc:
            res.scores.append(score_report(name, None, gold, error=str(exc)))
            continue
        res.seconds.append(time.perf_counter() - t0)
        res.times[name] = res.seconds[-1]
        res.scores.append(score_report(name, report.model_dump(), gold))
    return res


def markdown(results: list[EvalResult], title: str = "nianbao evaluate") -> str:
    """One table: a row per set and engine."""
    lines = [f"# {title}", "",
             "| set | engine | reports | all correct | non-zero cells right | all cells right | inconsistent right | median ms | max ms |",
             "|---|---|---|---|---|---|---|---|---|"]
    for res in results:
        for g, s in res.by_group().items():
            ms = f"{s['median_ms']:.0f}" if s["median_ms"] is not None else "–"
            mx = f"{s['max_ms']:.0f}" if s["max_ms"] is not None else "–"
            lines.append(f"| {g} | {res.engine} | {s['reports']} | {s['all_correct']}/{s['reports']} | "
                         f"{s['nonzero_correct']}/{s['nonzero']} ({100 * s['nonzero_accuracy']:.2f} %) | "
                         f"{100 * s['accuracy']:.2f} % | {s['inconsistent_ok']}/{s['reports']} | {ms} | {mx} |")
    return "\n".join(lines) + "\n"
