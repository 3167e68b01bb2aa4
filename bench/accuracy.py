"""Accuracy benchmark on a held-out synthetic set, per style, for each engine (not a test).

    .venv/bin/python bench/accuracy.py [N_PER_STYLE] [ENGINE ...]

Writes bench/results/synth_<engine>.md/.json and, with both engines, bench/results/engines.md
(also copied to models/checkpoint/EVALUATION.md): cell accuracy after the solver per style, and
the model's fragment-classification accuracy before the solver.
"""
from __future__ import annotations

import json
import shutil
import sys
import tempfile
import time
from collections import defaultdict
from pathlib import Path

from nianbao.datasets.styles import STYLES
from nianbao.datasets.synth import generate
from nianbao.inference.evaluate import evaluate_dir

ROOT = Path(__file__).resolve().parents[1]
HELD_OUT_SEED = 20261123  # never used for training
OUT = ROOT / "bench" / "results"


def fragment_accuracy(data: Path) -> dict[str, dict]:
    """The model alone: share of fragments (all it reads, and numbers/blanks) given the right key."""
    from nianbao.models.engine import ModelEngine
    from nianbao.models.features import window
    from nianbao.training.data import load_synthetic

    engine = ModelEngine.load()
    acc: dict[str, list[int]] = defaultdict(lambda: [0, 0, 0, 0])
    for ex in load_synthetic(data):
        preds = engine.predict(ex.fragments)
        for f in window(ex.fragments):
            ok = preds[f.id][0][0] == ex.labels.get(f.id, "none")
            for g in (ex.group, "all"):
                a = acc[g]
                a[0] += ok
                a[1] += 1
                if f.kind in ("number", "blank"):
                    a[2] += ok
                    a[3] += 1
    return {g: dict(fragments=a[0] / a[1], values=a[2] / max(1, a[3])) for g, a in acc.items()}


def glued_runs(data: Path) -> list[tuple[str, str, list[str]]]:
    """(report, style, cell keys) of every digit run that glues several printed cells."""
    import pyarrow.parquet as pq

    from nianbao.templates import load_template

    out = []
    for line in (data / "manifest.jsonl").read_text("utf-8").splitlines():
        m = json.loads(line)
        path = data / m["id"] / "fragments.parquet"
        if not path.exists():
            continue
        t = load_template(m["format"])
        for r in pq.read_table(path, columns=["label", "span"]).to_pylist():
            if r["span"] > 1:
                table, row, col = r["label"].split(".")
                cols = t.tables[table].row_columns(next(x for x in t.tables[table].rows if x.key == row))
                if table == "appeals":  # its rows print as one line: a run may reach the next row
                    keys = [f"appeals.{x.key}.{c}" for x in t.tables[table].rows for c in t.tables[table].row_columns(x)]
                else:
                    keys = [f"{table}.{row}.{c}" for c in cols]
                i = keys.index(r["label"])
                out.append((m["id"], m["style"], keys[i : i + r["span"]]))
    return out


def runs_right(runs, result) -> dict[str, list[int]]:
    """Per style: [runs whose every cell is right, runs]."""
    wrong = {s.name: {d[0] for d in s.diffs} for s in result.scores}
    acc: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    for rid, style, keys in runs:
        ok = not (set(keys) & wrong.get(rid, set()))
        for g in (style, "all"):
            acc[g][0] += ok
            acc[g][1] += 1
    return acc


def main(per_style: int = 170, engines: tuple[str, ...] = ("heuristic", "model")) -> None:
    OUT.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        data = Path(tmp) / "synth"
        generate(per_style * len(STYLES), data, seed=HELD_OUT_SEED, labels="model" in engines)
        results, seconds = {}, {}
        for engine in engines:
            t0 = time.perf_counter()
            results[engine] = evaluate_dir(data, None, engine=engine)
            seconds[engine] = time.perf_counter() - t0
            groups = results[engine].by_group()
            lines = [f"# Synthetic accuracy ({engine} engine)", "",
                     f"{per_style} reports per style (seed {HELD_OUT_SEED}, never trained on), 5 % with a broken sum "
                     f"on purpose; {seconds[engine]:.0f} s in all on this 2-core CPU. A report is correct when every "
                     "cell and `inconsistent` match.", "",
                     "| style | reports | all correct | cells | cell accuracy |", "|---|---|---|---|---|"]
            lines += [f"| {g} | {s['reports']} | {s['all_correct']} | {s['cells']} | {100 * s['accuracy']:.2f} % |"
                      for g, s in groups.items()]
            (OUT / f"synth_{engine}.md").write_text("\n".join(lines) + "\n", "utf-8")
            (OUT / f"synth_{engine}.json").write_text(json.dumps(results[engine].summary(), ensure_ascii=False), "utf-8")
            print("\n".join(lines))
        if {"heuristic", "model"} <= set(results):
            frag = fragment_accuracy(data)
            runs = glued_runs(data)
            hr, mr = runs_right(runs, results["heuristic"]), runs_right(runs, results["model"])
            h, m = results["heuristic"].by_group(), results["model"].by_group()
            lines = ["# Layout model vs heuristic on held-out synthetic reports", "",
                     f"{per_style} reports per style, seed {HELD_OUT_SEED}; CPU. Fragment accuracy is the model "
                     "alone (before the solver) over every fragment it reads and over numbers/blanks; cell accuracy "
                     "is after the solver. Glued runs: digit runs that print several cells with nothing between them "
                     "(`26845` for 2684 and 5), right when every cell they print is right (heuristic: fixed cut "
                     "prior; model: its learned cut head).", "",
                     "| style | model fragments | model numbers | heuristic cells | model cells | heuristic reports | model reports | glued runs right (heuristic) | glued runs right (model) |",
                     "|---|---|---|---|---|---|---|---|---|"]
            for g in h:
                f = frag.get(g, {"fragments": float("nan"), "values": float("nan")})
                lines.append(f"| {g} | {100 * f['fragments']:.2f} % | {100 * f['values']:.2f} % | "
                             f"{100 * h[g]['accuracy']:.2f} % | {100 * m[g]['accuracy']:.2f} % | "
                             f"{h[g]['all_correct']}/{h[g]['reports']} | {m[g]['all_correct']}/{m[g]['reports']} | "
                             f"{_share(hr.get(g))} | {_share(mr.get(g))} |")
            text = "\n".join(lines) + "\n"
            (OUT / "engines.md").write_text(text, "utf-8")
            ckpt = ROOT / "models" / "checkpoint"
            if ckpt.exists():
                shutil.copy(OUT / "engines.md", ckpt / "EVALUATION.md")
            print(text)


def _share(a) -> str:
    return f"{a[0]}/{a[1]}" if a and a[1] else "–"


if __name__ == "__main__":
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 170
    main(n, tuple(sys.argv[2:]) or ("heuristic", "model"))
