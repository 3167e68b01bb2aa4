"""Batch and service throughput on this machine (a benchmark, not a test).

    .venv/bin/python bench/batch.py [N_REPORTS]

Text reports generated with a fixed seed (crawled, flattened, markdown, html styles) are run by
`run_batch` with 1 and 2 local workers and on a local Ray (2 CPUs), each into a fresh results
folder; then a localhost load test of the service (uvicorn, 2 workers): 500 requests, 8 at a time.
Writes bench/results/batch.md and batch.json.
"""
from __future__ import annotations

import asyncio
import json
import os
import platform
import socket
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "bench" / "results"
SEED = 20261203
STYLES = ["crawled", "flattened", "markdown", "html"]


def corpus(n: int, where: Path) -> list[Path]:
    from nianbao.datasets.synth import generate

    generate(n, where, styles=STYLES, seed=SEED, labels=False, workers=2)
    for gold in where.rglob("gold.json"):
        gold.unlink()  # inputs only
    return sorted(where.rglob("input.*"))


def run(src: Path, workers: int, ray: str | None = None) -> dict:
    from nianbao.config import load_config
    from nianbao.inference.batch import BatchOptions, run_batch

    cfg = load_config(engine="heuristic")
    with tempfile.TemporaryDirectory() as out:
        t0 = time.perf_counter()
        res = run_batch(src, Path(out), cfg, BatchOptions(workers=workers, ray=ray))
        wall = time.perf_counter() - t0
    s = res.summary()
    return {"workers": workers, "ray": bool(ray), "files": s["files"], "failed": s["failed"],
            "seconds": round(wall, 2), "files_per_s": round(s["files"] / wall, 2)}


def load_test(files: list[Path], requests: int = 500, concurrency: int = 8) -> dict:
    import httpx
    import uvicorn

    from nianbao.config import load_config
    from nianbao.inference.service import create_app

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    srv = uvicorn.Server(uvicorn.Config(create_app(load_config(engine="heuristic"), workers=2),
                                        host="127.0.0.1", port=port, log_level="warning"))
    th = threading.Thread(target=srv.run, daemon=True)
    th.start()
    while not srv.started:
        time.sleep(0.05)
    bodies = [(f.name, f.read_bytes()) for f in files]
    lat: list[float] = []
    errors = 0

    async def main():
        nonlocal errors
        sem = asyncio.Semaphore(concurrency)
        async with httpx.AsyncClient(timeout=120) as client:
            async def one(i):
                nonlocal errors
                name, data = bodies[i % len(bodies)]
                async with sem:
                    t = time.perf_counter()
                    r = await client.post(f"http://127.0.0.1:{port}/v1/reconstruct", files={"file": (name, data)})
                    lat.append(time.perf_counter() - t)
                    errors += r.status_code != 200
            t0 = time.perf_counter()
            await asyncio.gather(*(one(i) for i in range(requests)))
            return time.perf_counter() - t0

    wall = asyncio.run(main())
    srv.should_exit = True
    th.join(timeout=30)
    q = statistics.quantiles(lat, n=20)
    return {"requests": requests, "concurrency": concurrency, "errors": errors, "seconds": round(wall, 2),
            "requests_per_s": round(requests / wall, 2), "p50_ms": round(statistics.median(lat) * 1000),
            "p95_ms": round(q[18] * 1000)}


def main():
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 200
    os.environ.setdefault("RAY_USAGE_STATS_ENABLED", "0")
    with tempfile.TemporaryDirectory() as tmp:
        src = Path(tmp) / "in"
        files = corpus(n, src)
        rows = [run(src, 1), run(src, 2)]
        try:
            import ray

            ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False)
            rows.append(run(src, 2, ray="auto"))
            ray.shutdown()
        except ImportError:
            pass
        service = load_test(files)
    speedup = rows[1]["files_per_s"] / rows[0]["files_per_s"]
    result = {"machine": f"{platform.machine()}, {os.cpu_count()} CPUs", "reports": n, "styles": STYLES,
              "seed": SEED, "batch": rows, "speedup_2_over_1": round(speedup, 2), "service": service}
    OUT.mkdir(parents=True, exist_ok=True)
    (OUT / "batch.json").write_text(json.dumps(result, indent=1))
    lines = [f"# Batch and service throughput\n",
             f"{n} generated text reports ({', '.join(STYLES)}; seed {SEED}), heuristic engine, {result['machine']}. "
             "Wall time of `run_batch` from start to summary, pool (or Ray) start-up included.\n",
             "| run | files | failed | seconds | files/s |", "|---|---|---|---|---|"]
    for r in rows:
        label = "Ray (local, 2 CPUs)" if r["ray"] else f"local, {r['workers']} worker{'s' * (r['workers'] > 1)}"
        lines.append(f"| {label} | {r['files']} | {r['failed']} | {r['seconds']} | {r['files_per_s']} |")
    lines += [f"\n2 workers over 1: **{speedup:.2f}×**.\n",
              f"Service (uvicorn, 2 workers, localhost): {service['requests']} requests, {service['concurrency']} at a time: "
              f"{service['errors']} errors, {service['requests_per_s']} requests/s, p50 {service['p50_ms']} ms, "
              f"p95 {service['p95_ms']} ms."]
    (OUT / "batch.md").write_text("\n".join(lines) + "\n")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
