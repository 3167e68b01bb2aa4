"""Scan speed: seconds per scanned table page, nianbao's OCR stage against bare full-page RapidOCR
on the same pages in the same run (not a test).

    .venv/bin/python bench/ocr_speed.py [N_CASES]     # writes bench/results/ocr_speed.md / .json
"""
from __future__ import annotations

import json
import platform
import resource
import statistics
import sys
import time
from pathlib import Path

import numpy as np
import pypdfium2 as pdfium

from nianbao.inference import ocr

ROOT = Path(__file__).resolve().parents[1]
DEV = ROOT.parent / "shared" / "dev"
DPI = 150
REPEATS = 2


def pages(n_cases: int):
    cases = sorted((DEV / "rendered").glob("*/scan.pdf")) + sorted((DEV / "rendered-hard").glob("*/scan.pdf"))
    for path in cases[:n_cases]:
        doc = pdfium.PdfDocument(path)
        for i in range(len(doc)):
            img = np.array(doc[i].render(scale=DPI / 72).to_pil().convert("RGB"))[:, :, ::-1].copy()
            yield f"{path.parent.parent.name}/{path.parent.name}#{i + 1}", img


def main(n_cases: int = 4) -> None:
    engine = ocr.engine()
    engine(np.full((64, 256, 3), 255, np.uint8))  # load the sessions before timing
    rows = []
    for name, img in pages(n_cases):
        # Best of REPEATS, the two taken in turn: a busy machine slows one run, not the page.
        t_bare = t_ours = float("inf")
        for _ in range(REPEATS):
            t0 = time.perf_counter()
            bare, _ = engine(img)
            t_bare = min(t_bare, time.perf_counter() - t0)
            t0 = time.perf_counter()
            words, _, _ = ocr.read_page(img)
            t_ours = min(t_ours, time.perf_counter() - t0)
        rows.append(dict(page=name, boxes=len(bare or []), words=len(words), bare_s=t_bare, nianbao_s=t_ours))
        print(f"{name:40s} bare {t_bare:5.2f} s · nianbao {t_ours:5.2f} s · {len(words)} words", flush=True)
    med_bare = statistics.median(r["bare_s"] for r in rows)
    med_ours = statistics.median(r["nianbao_s"] for r in rows)
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    lines = [f"# Scan OCR speed ({platform.processor() or platform.machine()}, {DPI} dpi, CPU)", "",
             "| page | text boxes | bare RapidOCR s | nianbao OCR stage s |", "|---|---|---|---|"]
    lines += [f"| {r['page']} | {r['boxes']} | {r['bare_s']:.2f} | {r['nianbao_s']:.2f} |" for r in rows]
    total = sum(r["nianbao_s"] for r in rows) / sum(r["bare_s"] for r in rows)
    lines += ["", f"Median per page (best of {REPEATS} runs each): bare {med_bare:.2f} s, nianbao {med_ours:.2f} s "
                  f"(ratio {med_ours / med_bare:.2f}; all pages' time together {total:.2f}); "
                  f"peak memory of this process {peak:.0f} MiB."]
    out = ROOT / "bench" / "results"
    (out / "ocr_speed.md").write_text("\n".join(lines) + "\n", encoding="utf-8")
    (out / "ocr_speed.json").write_text(json.dumps(dict(rows=rows, median_bare_s=med_bare, median_nianbao_s=med_ours,
                                                        total_ratio=total, repeats=REPEATS, peak_mib=peak), indent=1), encoding="utf-8")
    print("\n".join(lines[-1:]))


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 4)
