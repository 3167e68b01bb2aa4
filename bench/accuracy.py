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
            h, m = results["heuristic"].by_group(), results["model"].by_group()
            lines = ["# Layout model vs heuristic on held-out synthetic reports", "",
                     f"{per_style} reports per style, seed {HELD_OUT_SEED}; CPU. Fragment accuracy is the model "
                     "alone (before the solver) over every fragment it reads and over numbers/blanks; cell accuracy "
                     "is after the solver.", "",
                     "| style | model fragments | model numbers | heuristic cells | model cells | heuristic reports | model reports |",
                     "|---|---|---|---|---|---|---|"]
            for g in h:
                f = frag.get(g, {"fragments": float("nan"), "values": float("nan")})
                lines.append(f"| {g} | {100 * f['fragments']:.2f} % | {100 * f['values']:.2f} % | "
                             f"{100 * h[g]['accuracy']:.2f} % | {100 * m[g]['accuracy']:.2f} % | "
                             f"{h[g]['all_correct']}/{h[g]['reports']} | {m[g]['all_correct']}/{m[g]['reports']} |")
            text = "\n".join(lines) + "\n"
            (OUT / "engines.md").write_text(text, "utf-8")
            ckpt = ROOT / "models" / "checkpoint"
            if ckpt.exists():
                shutil.copy(OUT / "engines.md", ckpt / "EVALUATION.md")
            print(text)


if __name__ == "__main__":
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 170
    main(n, tuple(sys.argv[2:]) or ("heuristic", "model"))
