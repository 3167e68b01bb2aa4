"""Accuracy benchmark on a held-out synthetic set, per style and engine (not a test).

    .venv/bin/python bench/accuracy.py [N_PER_STYLE] [ENGINE ...]
writes bench/results/synth_<engine>.md and .json.
"""
from __future__ import annotations

import json
import sys
import tempfile
import time
from pathlib import Path

from nianbao.datasets.styles import STYLES
from nianbao.datasets.synth import generate
from nianbao.inference.bench import evaluate_dir

ROOT = Path(__file__).resolve().parents[1]
HELD_OUT_SEED = 20261123  # never used for training


def main(per_style: int = 50, engines: tuple[str, ...] = ("heuristic",)) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        data = Path(tmp) / "synth"
        generate(per_style * len(STYLES), data, seed=HELD_OUT_SEED, labels=False)
        for engine in engines:
            t0 = time.perf_counter()
            res = evaluate_dir(data, None, engine=engine)
            secs = time.perf_counter() - t0
            groups = res.by_group()
            lines = [f"# Synthetic accuracy ({engine} engine)", "",
                     f"{per_style} reports per style, seed {HELD_OUT_SEED}, 5 % with a broken sum on purpose; "
                     f"{secs:.0f} s in all. A report is correct when every cell and `inconsistent` match.", "",
                     "| style | reports | all correct | cells | cell accuracy |", "|---|---|---|---|---|"]
            for g, s in groups.items():
                lines.append(f"| {g} | {s['reports']} | {s['all_correct']} | {s['cells']} | {100 * s['accuracy']:.2f} % |")
            text = "\n".join(lines) + "\n"
            out = ROOT / "bench" / "results"
            out.mkdir(parents=True, exist_ok=True)
            (out / f"synth_{engine}.md").write_text(text, "utf-8")
            (out / f"synth_{engine}.json").write_text(json.dumps(res.summary(), ensure_ascii=False, indent=1), "utf-8")
            print(text)


if __name__ == "__main__":
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 50
    main(n, tuple(sys.argv[2:]) or ("heuristic",))
