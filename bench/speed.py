"""Speed benchmark: median wall time per report, solver included (not a test).

    .venv/bin/python bench/speed.py            # seeds + a synthetic set, writes bench/results/speed.md
"""
from __future__ import annotations

import json
import os
import platform
import random
import statistics
import sys
import time
from pathlib import Path

from nianbao.datasets.styles import STYLES, render
from nianbao.datasets.tables import random_truth
from nianbao.inference.pipeline import run

ROOT = Path(__file__).resolve().parents[1]
SEEDS = ROOT.parent / "shared" / "seeds"


def time_one(data: bytes, engine: str, reps: int) -> tuple[float, dict]:
    times, stages = [], {}
    for _ in range(reps):
        t0 = time.perf_counter()
        doc = run(data, engine=engine)
        times.append(time.perf_counter() - t0)
        for k, v in doc.timings.items():
            stages.setdefault(k, []).append(v)
    return statistics.median(times), {k: statistics.median(v) for k, v in stages.items()}


def model_ms(data: bytes, reps: int) -> float:
    """The layout model alone: features and forward pass (what the model engine adds to a
    report before the solver), median of `reps`."""
    from nianbao.inference.engines import get_engine
    from nianbao.inference.layout import detect_format

    doc = run(data, engine="heuristic")
    template, _ = detect_format(doc.fragments)
    engine = get_engine("model")
    engine.run(doc.fragments, template)
    times = []
    for _ in range(reps):
        t0 = time.perf_counter()
        engine.run(doc.fragments, template)
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


def main(engine: str = "heuristic", reps: int = 15, per_style: int = 20) -> dict:
    run((SEEDS / "000_da14f1a2f0dce168.txt").read_bytes(), engine=engine)  # warm-up: imports, caches
    seeds, model = {}, {}
    for p in sorted(SEEDS.glob("*.txt")):
        seeds[p.name] = time_one(p.read_bytes(), engine, reps)
        if engine == "model":
            model[p.name] = model_ms(p.read_bytes(), max(reps, 11))
    styles = {}
    for name in sorted(STYLES):
        ts = []
        for i in range(per_style):
            rng = random.Random(i)
            doc = render(name, random_truth(rng), rng)
            ts.append(time_one(doc.data, engine, 1)[0])
        styles[name] = (statistics.median(ts), max(ts))
    result = dict(
        machine=dict(platform=platform.platform(), python=platform.python_version(), cpus=os.cpu_count(),
                     processor=platform.processor() or platform.machine()),
        engine=engine,
        seeds_median_ms=1000 * statistics.median(t for t, _ in seeds.values()),
        seeds={k: dict(median_ms=1000 * t, stages_ms={s: 1000 * v for s, v in st.items()}) for k, (t, st) in seeds.items()},
        styles={k: dict(median_ms=1000 * m, max_ms=1000 * x) for k, (m, x) in styles.items()},
    )
    if model:
        result["model_inference_ms"] = {k: 1000 * v for k, v in model.items()}
        result["model_inference_median_ms"] = 1000 * statistics.median(model.values())
    lines = [f"# Speed ({engine} engine)", "",
             f"Machine: {result['machine']['platform']}, {result['machine']['cpus']} CPUs, Python {result['machine']['python']}.",
             f"Warm process, median of {reps} runs per seed; {per_style} synthetic reports per style.", "",
             "| report | median ms | read | classify | solve | emit |" + (" model inference |" if model else ""),
             "|---|---|---|---|---|---|" + ("---|" if model else "")]
    for k, v in result["seeds"].items():
        st = v["stages_ms"]
        lines.append(f"| {k} | {v['median_ms']:.1f} | {st['read']:.1f} | {st['classify_stage']:.1f} | "
                     f"{st['solve']:.1f} | {st['emit']:.1f} |" + (f" {1000 * model[k]:.1f} |" if model else ""))
    lines += ["", f"**Median over the seeds: {result['seeds_median_ms']:.1f} ms per report.**", ""]
    if model:
        lines += [f"**Layout model inference (features + forward pass, CPU, {torch_threads()} threads): median "
                  f"{result['model_inference_median_ms']:.1f} ms per seed report.** The classify stage also runs "
                  "the label matcher, whose candidates the model engine feeds the solver as well.", ""]
    lines += ["| synthetic style | median ms | max ms |", "|---|---|---|"]
    for k, v in result["styles"].items():
        lines.append(f"| {k} | {v['median_ms']:.1f} | {v['max_ms']:.1f} |")
    text = "\n".join(lines) + "\n"
    out = ROOT / "bench" / "results"
    out.mkdir(parents=True, exist_ok=True)
    (out / f"speed_{engine}.md").write_text(text, "utf-8")
    (out / f"speed_{engine}.json").write_text(json.dumps(result, indent=1), "utf-8")
    print(text)
    return result


def torch_threads() -> int:
    import torch

    return torch.get_num_threads()


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else "heuristic", int(sys.argv[2]) if len(sys.argv) > 2 else 15)
