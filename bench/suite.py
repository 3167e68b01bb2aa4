"""The benchmark suite: nianbao against the table extractors people use, on the same files,
through one shared label → key mapper (so only extraction differs).

    .venv/bin/python bench/suite.py [--quick]

Data: every text and text-PDF set of ../shared/dev, the seeds, and a fixed synthetic set (3 reports
per `nianbao synth` style, seed 20261204, regenerated here; manifest in bench/results/suite_synth.jsonl).
Each system runs in its own child process (its peak memory is measured by the parent). Writes
bench/results/suite.md, suite.csv, suite.json and three plots. Scans (every `scan.pdf` of the
dev set) are read by nianbao's heuristic engine and by bare full-page RapidOCR whose lines go
through the same mapper; the other nianbao variants share the heuristic's OCR stage and are not
run on them (15–25 s a scan on this CPU). img2table (`pip install --no-deps img2table`: its own
dependency is the non-headless OpenCV, which must not sit beside the headless one) gives the
table structure of scans, filled with the same RapidOCR boxes.
"""
from __future__ import annotations

import argparse
import csv
import io
import json
import os
import re
import subprocess
import sys
import tempfile
import time
from collections import defaultdict
from decimal import Decimal, InvalidOperation
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT.parent / "shared"
OUT = ROOT / "bench" / "results"
SYNTH_SEED = 20261204
TEXT_SETS = ["crawled", "converted", "synthetic/crawled", "synthetic/converted"]
PDF_SETS = ["rendered", "rendered-hard", "synthetic/rendered", "synthetic/rendered-hard"]


# --- data ---------------------------------------------------------------------------------------

def cases(quick: bool, synth_dir: Path) -> list[dict]:
    """(set, kind, input, gold) for every case."""
    out = []
    for s in TEXT_SETS + PDF_SETS:
        for case in sorted((SHARED / "dev" / s).iterdir()):
            gold = case / "gold.json"
            if not gold.exists():
                continue
            inp = case / "text.pdf" if s in PDF_SETS else next(case.glob("input.*"))
            out.append({"set": f"dev/{s}", "kind": "pdf" if s in PDF_SETS else "text", "input": str(inp), "gold": str(gold)})
            if s in PDF_SETS and (case / "scan.pdf").exists():
                out.append({"set": f"dev/{s} (scan)", "kind": "scan", "input": str(case / "scan.pdf"), "gold": str(gold)})
    for seed in sorted((SHARED / "seeds").glob("*.txt")):
        out.append({"set": "seeds", "kind": "text", "input": str(seed),
                    "gold": str(SHARED / "seeds" / "gold" / f"{seed.stem}.json")})
    for row in (json.loads(x) for x in (synth_dir / "manifest.jsonl").read_text().splitlines()):
        inp = synth_dir / row["id"] / row["input"]
        out.append({"set": f"synth/{row['style']}", "kind": "pdf" if inp.suffix == ".pdf" else "text",
                    "input": str(inp), "gold": str(synth_dir / row["id"] / "gold.json")})
    if quick:
        kept: dict[str, int] = defaultdict(int)
        short = []
        for c in out:
            kept[c["set"]] += 1
            if kept[c["set"]] <= 2:
                short.append(c)
        out = short
    return out


def make_synth(where: Path) -> None:
    from nianbao.datasets.styles import STYLES
    from nianbao.datasets.synth import generate

    styles = sorted(STYLES) + ["pdf_text", "pdf_dump"]
    generate(3 * len(styles), where, styles=styles, seed=SYNTH_SEED, labels=False, workers=2)
    (OUT / "suite_synth.jsonl").write_text((where / "manifest.jsonl").read_text())


# --- the shared mapper: a grid of printed cells → template keys ---------------------------------

ZERO = {"-", "/", "—", "——", "－", "无", "–", ""}
_NUM = re.compile(r"-?\d+(?:\.\d+)?")


def _numbers(cell: str) -> list[Decimal]:
    t = cell.strip().replace(",", "")
    if t in ZERO:
        return [Decimal(0)]
    try:
        return [Decimal(m) for m in _NUM.findall(t)] or []
    except InvalidOperation:
        return []


def map_grid(rows: list[list[str]]) -> dict:
    """Rows of printed cells → cells by key: the format from the header phrases, each table from
    its heading, each row by its label (the best-matching template row at or after the last one),
    its numbers to its columns in order; the appeals line's numbers across its 15 cells. What no
    row gives is 0. The same mapper serves every baseline."""
    from nianbao.inference.layout import detect_format, label_score
    from nianbao.inference.readers.base import FragmentBuilder
    from nianbao.templates import TABLES
    from nianbao.text import norm_label

    b = FragmentBuilder()
    for i, row in enumerate(rows):
        for j, cell in enumerate(row):
            if cell.strip():
                b.add_cell(cell, i, j, keep_blank=False)
    template, _ = detect_format(b.fragments)
    variant = template.default_variant
    cells = {k: Decimal(0) for k in template.all_keys(variant)}
    pointer = {name: 0 for name in TABLES}
    table, appeals = None, []
    for row in rows:
        worded = [j for j, c in enumerate(row) if re.search(r"[\u4e00-\u9fff]", c)]
        label = norm_label("".join(row[j] for j in worded))
        # a row's values are the cells after its label (blank label-column cells before it are not)
        after = row[(worded[-1] + 1 if worded else 0):]
        values = [v for c in after for v in _numbers(c)] if any(c.strip() for c in after) else []
        for name in TABLES:
            if label and any(norm_label(a) in label for a in template.tables[name].anchors):
                table = name
        if table == "appeals" or (len(values) >= 10 and not label):
            appeals += values
            continue
        if not values or not label:
            continue
        best, where = 0.5, None  # a label must name its row this well
        for name in TABLES:
            t = template.tables[name]
            if t.unlabelled_rows:
                continue
            trows = t.rows_for(variant)
            for k in range(pointer[name], len(trows)):
                sc = label_score(label, trows[k]) + (0.01 if name == table else 0)
                if sc > best:
                    best, where = sc, (name, k)
        if where is None:
            continue
        name, k = where
        t = template.tables[name]
        table, pointer[name] = name, k + 1
        r = t.rows_for(variant)[k]
        cols = t.row_columns(r)
        # more cells than columns: the first ones are the label's spanned columns left blank
        for col, v in zip(cols, values[-len(cols):] if len(values) > len(cols) else values):
            cells[f"{name}.{r.key}.{col}"] = v
    for k, v in zip(template.keys("appeals", variant), appeals):
        cells[k] = v
    return {"format": template.format, "cells": {k: float(v) for k, v in cells.items()}}


# --- systems ------------------------------------------------------------------------------------

def _nianbao(engine: str, arithmetic: bool = True):
    def run(case):
        if case["kind"] == "scan" and (engine != "heuristic" or not arithmetic):
            return SKIPPED  # 15–25 s of OCR per scan: the variants share the heuristic's OCR stage
        from nianbao.config import load_config
        from nianbao.inference import pipeline

        cfg = load_config(engine=engine)
        doc = pipeline.load(Path(case["input"]), cfg)
        for stage in pipeline.STAGES:
            (stage if arithmetic or stage is not pipeline.solve else _solve_free)(doc, cfg)
        r = doc.report
        return {"format": r.format, "cells": r.cells, "inconsistent": r.inconsistent}
    return run


def _solve_free(doc, cfg):
    """The solver with the arithmetic switched off: each row's best reading, no sums."""
    from nianbao.inference.solve import build_hypotheses, solve_table
    from nianbao.templates import load_template

    template = load_template(doc.classification.format)
    for table in doc.classification.tables:
        doc.solutions[table] = solve_table(build_hypotheses(doc.classification, doc.fragments, template, table), [])


def pdfplumber_tables(case):
    import pdfplumber

    if case["kind"] != "pdf":
        return None
    rows = []
    with pdfplumber.open(case["input"]) as pdf:
        for page in pdf.pages:
            for t in page.extract_tables():
                rows += [[c or "" for c in r] for r in t]
    return map_grid(rows)


def _camelot(flavor: str):
    def run(case):
        if case["kind"] != "pdf":
            return None
        import camelot

        tables = camelot.read_pdf(case["input"], pages="all", flavor=flavor)
        return map_grid([[str(c) for c in r] for t in tables for r in t.df.values.tolist()])
    return run


def _ocr_pages(path: str):
    """(page image, RapidOCR boxes as (y centre, x centre, text) sorted by y) for each page of a
    scanned PDF rendered at 150 dpi, as nianbao renders it."""
    import numpy as np
    import pypdfium2
    from rapidocr_onnxruntime import RapidOCR

    ocr = _RAPIDOCR.setdefault("engine", RapidOCR())
    for page in pypdfium2.PdfDocument(path):
        img = np.array(page.render(scale=150 / 72).to_pil().convert("RGB"))[:, :, ::-1].copy()
        result, _ = ocr(img)
        yield img, sorted((sum(p[1] for p in b) / 4, sum(p[0] for p in b) / 4, t) for b, t, _ in (result or []))


_RAPIDOCR: dict = {}


def rapidocr_rows(case):
    """Bare full-page RapidOCR (the same 1.4 models nianbao uses), its boxes grouped into lines by
    their centres, each line a row: what OCR alone gives, and what it costs per page."""
    if case["kind"] != "scan":
        return None
    return map_grid([r for _, boxes in _ocr_pages(case["input"]) for _, r in _ocr_lines(boxes)])


def _ocr_lines(boxes) -> list[tuple[float, list[str]]]:
    """(y, texts left to right) for RapidOCR boxes (y centre, x, text) sorted by y."""
    out, line, last = [], [], None
    for y, x, t in boxes:
        if last is not None and y - last > 10:
            out.append((line[0][0], [t for _, _, t in sorted(line, key=lambda b: b[1])]))
            line = []
        line.append((y, x, t))
        last = y
    if line:
        out.append((line[0][0], [t for _, _, t in sorted(line, key=lambda b: b[1])]))
    return out


def img2table_rows(case):
    """img2table's table structure (ruled and borderless cells, no OCR of its own) filled with the
    same RapidOCR boxes by their centres; text outside the tables as OCR lines, in page order."""
    if case["kind"] != "scan":
        return None
    import cv2
    from img2table.document import Image

    rows = []
    for img, boxes in _ocr_pages(case["input"]):
        png = cv2.imencode(".png", img)[1].tobytes()
        tables = Image(png).extract_tables(implicit_rows=True, borderless_tables=True)
        items, used = [], set()
        for t in tables:
            grid = []
            for row in t.content.values():
                cells = []
                for c in row:
                    inside = [(x, i) for i, (y, x, _) in enumerate(boxes) if c.bbox.x1 <= x <= c.bbox.x2 and c.bbox.y1 <= y <= c.bbox.y2]
                    used |= {i for _, i in inside}
                    cells.append(" ".join(boxes[i][2] for _, i in sorted(inside)))
                grid.append(cells)
            items += [(t.bbox.y1 + k / 1000, r) for k, r in enumerate(grid)]
        items += _ocr_lines([b for i, b in enumerate(boxes) if i not in used])
        rows += [r for _, r in sorted(items, key=lambda it: it[0])]
    return map_grid(rows)


def naive_rows(case):
    """The printed numbers row by row: every text line is a row, its numbers its cells."""
    if case["kind"] == "scan":
        return None
    if case["kind"] == "pdf":
        import pdfplumber

        with pdfplumber.open(case["input"]) as pdf:
            text = "\n".join(p.extract_text() or "" for p in pdf.pages)
    else:
        from nianbao.inference.readers.base import decode

        text = decode(Path(case["input"]).read_bytes(), case["input"])
    rows = []
    for line in text.splitlines():
        parts = [p for p in re.split(r"[\s|\t]+", line) if p]
        rows.append(parts)
    return map_grid(rows)


SYSTEMS = {
    "nianbao heuristic": _nianbao("heuristic"),
    "nianbao model": _nianbao("model"),
    "nianbao without arithmetic": _nianbao("heuristic", arithmetic=False),
    "pdfplumber extract_tables": pdfplumber_tables,
    "camelot lattice": _camelot("lattice"),
    "camelot stream": _camelot("stream"),
    "naive rows": naive_rows,
    "RapidOCR rows": rapidocr_rows,
    "img2table + RapidOCR": img2table_rows,
}
SKIPPED = {"skipped": True}


# --- scoring ------------------------------------------------------------------------------------

def violated(fmt: str, cells: dict) -> list[str]:
    from nianbao.templates import TABLES, load_template

    t = load_template(fmt)
    out = []
    for table in TABLES:
        for c in t.constraints(table, t.default_variant):
            if all(k in cells for k in c.lhs + c.rhs):
                if abs(sum(cells[k] for k in c.lhs) - sum(cells[k] for k in c.rhs)) > 1e-6:
                    out.append(c.name)
    return out


def score(case: dict, pred: dict | None) -> dict:
    gold = json.loads(Path(case["gold"]).read_text("utf-8"))
    g = gold["cells"]
    if pred is None:
        return {"read": False}
    if pred.get("skipped"):
        return {"read": False, "skipped": True}
    p = pred["cells"]
    nz = [k for k, v in g.items() if v != 0]
    right = [k for k in g if k in p and abs(float(p[k]) - float(g[k])) < 1e-6]
    inconsistent = pred.get("inconsistent", violated(pred["format"], p))
    return {"read": True, "cells": len(g), "right": len(right), "nonzero": len(nz),
            "nonzero_right": sum(1 for k in nz if k in p and abs(float(p[k]) - float(g[k])) < 1e-6),
            "exact": len(right) == len(g), "inconsistent_right": sorted(inconsistent) == sorted(gold.get("inconsistent", [])),
            "satisfies": not violated(pred["format"], p)}


def pages_of(case) -> int:
    if case["kind"] == "text":
        return 1
    import pypdfium2

    return len(pypdfium2.PdfDocument(case["input"]))


def child(system: str, cases_file: str) -> None:
    """Run one system over every case, one JSON line per case on stdout."""
    import warnings

    warnings.filterwarnings("ignore")
    fn = SYSTEMS[system]
    for case in json.loads(Path(cases_file).read_text()):
        t0 = time.perf_counter()
        try:
            pred = fn(case)
            err = ""
        except Exception as exc:  # a baseline failing on a file is a result, not a crash
            pred, err = {"format": "2021", "cells": {}}, f"{exc.__class__.__name__}"
        secs = time.perf_counter() - t0
        res = score(case, pred)
        print(json.dumps({"set": case["set"], "input": case["input"], "seconds": secs, "pages": pages_of(case),
                          "error": err, **res}), flush=True)


# --- report -------------------------------------------------------------------------------------

def summarise(rows: list[dict], peak: dict[str, float]) -> list[dict]:
    out = []
    by = defaultdict(list)
    for r in rows:
        by[(r["system"], r["set"])].append(r)
        # Scans are their own total: only some systems read them.
        by[(r["system"], "all scans" if r["set"].endswith("(scan)") else "all")].append(r)
    for (system, s), rs in sorted(by.items()):
        read = [r for r in rs if r["read"]]
        if not read:
            out.append({"system": system, "set": s, "reports": len(rs), "read": False,
                        "skipped": all(r.get("skipped") for r in rs)})
            continue
        nz = sum(r["nonzero"] for r in read)
        out.append({
            "system": system, "set": s, "reports": len(rs), "read": True,
            "nonzero_right": sum(r["nonzero_right"] for r in read), "nonzero": nz,
            "nonzero_pct": 100 * sum(r["nonzero_right"] for r in read) / nz if nz else 100.0,
            "cells_pct": 100 * sum(r["right"] for r in read) / sum(r["cells"] for r in read),
            "exact": sum(r["exact"] for r in read), "inconsistent_right": sum(r["inconsistent_right"] for r in read),
            "satisfies_pct": 100 * sum(r["satisfies"] for r in read) / len(read),
            "s_per_report": sorted(r["seconds"] for r in read)[len(read) // 2],
            "s_per_page": sum(r["seconds"] for r in read) / sum(r["pages"] for r in read),
            "peak_mb": round(peak.get(system, 0)),
        })
    return out


def plots(summary: list[dict]) -> list[str]:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    systems = sorted({r["system"] for r in summary})
    sets = sorted({r["set"] for r in summary if not r["set"].startswith("all")})
    get = {(r["system"], r["set"]): r for r in summary}
    fig, ax = plt.subplots(figsize=(12, 5))
    w = 0.8 / len(systems)
    for i, s in enumerate(systems):
        ys = [get[(s, st)]["nonzero_pct"] if get.get((s, st), {}).get("read") else 0 for st in sets]
        ax.bar([x + i * w for x in range(len(sets))], ys, w, label=s)
    ax.set_xticks([x + 0.4 - w / 2 for x in range(len(sets))], sets, rotation=45, ha="right", fontsize=7)
    ax.set_ylabel("non-zero cells right (%)")
    ax.legend(fontsize=7)
    fig.tight_layout()
    fig.savefig(OUT / "suite_accuracy.png", dpi=90)
    fig, ax = plt.subplots(figsize=(7, 4))
    alls = [get[(s, "all")] for s in systems if get.get((s, "all"), {}).get("read")]
    alls += [dict(get[(s, "all scans")], system=f"{s} (scans)") for s in systems
             if get.get((s, "all scans"), {}).get("read")]
    ax.barh([r["system"] for r in alls], [r["s_per_page"] * 1000 for r in alls])
    ax.set_xscale("log")
    ax.set_xlabel("ms per page (mean, files it reads)")
    fig.tight_layout()
    fig.savefig(OUT / "suite_time.png", dpi=90)
    fig, ax = plt.subplots(figsize=(6, 4))
    for r in alls:
        ax.scatter(r["s_per_page"] * 1000, r["nonzero_pct"])
        ax.annotate(r["system"], (r["s_per_page"] * 1000, r["nonzero_pct"]), fontsize=7)
    ax.set_xscale("log")
    ax.set_xlabel("ms per page")
    ax.set_ylabel("non-zero cells right (%), all files it reads")
    fig.tight_layout()
    fig.savefig(OUT / "suite_accuracy_vs_time.png", dpi=90)
    return ["suite_accuracy.png", "suite_time.png", "suite_accuracy_vs_time.png"]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--quick", action="store_true", help="2 cases per set (a smoke run)")
    ap.add_argument("--child", nargs=2, metavar=("SYSTEM", "CASES"), help=argparse.SUPPRESS)
    ap.add_argument("--systems", default=",".join(SYSTEMS))
    a = ap.parse_args()
    if a.child:
        return child(*a.child)
    from rich.progress import Progress

    t_start = time.perf_counter()
    with tempfile.TemporaryDirectory() as tmp:
        synth = Path(tmp) / "synth"
        make_synth(synth)
        all_cases = cases(a.quick, synth)
        cases_file = Path(tmp) / "cases.json"
        cases_file.write_text(json.dumps(all_cases))
        systems = a.systems.split(",")
        rows, peak = [], {}
        with Progress() as bar:
            task = bar.add_task("systems × reports", total=len(systems) * len(all_cases))
            for system in systems:
                proc = subprocess.Popen([sys.executable, __file__, "--child", system, str(cases_file)],
                                        stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
                for line in proc.stdout:
                    rows.append({"system": system, **json.loads(line)})
                    bar.advance(task)
                _, status, usage = os.wait4(proc.pid, 0)
                peak[system] = usage.ru_maxrss / 1024
    summary = summarise(rows, peak)
    OUT.mkdir(parents=True, exist_ok=True)
    (OUT / "suite.json").write_text(json.dumps({"summary": summary, "reports": rows}, indent=1))
    buf = io.StringIO()
    keys = ["system", "set", "reports", "read", "nonzero_right", "nonzero", "nonzero_pct", "cells_pct", "exact",
            "inconsistent_right", "satisfies_pct", "s_per_report", "s_per_page", "peak_mb"]
    w = csv.DictWriter(buf, keys)
    w.writeheader()
    for r in summary:
        w.writerow({k: r.get(k, "") for k in keys})
    (OUT / "suite.csv").write_text(buf.getvalue())
    names = plots(summary)
    lines = ["# Benchmark suite: nianbao and the table extractors people use\n",
             f"`python bench/suite.py` — {len(all_cases)} files, {len(systems)} systems, "
             f"{(time.perf_counter() - t_start) / 60:.1f} min on this {os.cpu_count()}-core CPU. Every baseline's "
             "printed grid goes through the same label → key mapper (`map_grid`); a system that cannot read a "
             "form is shown as `cannot read`. Non-zero cells right is the headline (most cells are 0).\n"]
    sets = sorted({r["set"] for r in summary}, key=lambda s: (s.startswith("all"), s))
    for s in sets:
        lines += [f"\n## {s}\n", "| system | non-zero cells right | all cells | reports exact | inconsistency named right "
                  "| outputs satisfying every sum | median s/report | s/page | peak MB |", "|---|---|---|---|---|---|---|---|---|"]
        for r in [r for r in summary if r["set"] == s]:
            if not r["read"]:
                what = "not run (it shares the heuristic's OCR stage; 15–25 s a scan)" if r.get("skipped") else "cannot read"
                lines.append(f"| {r['system']} | {what} | | | | | | | |")
                continue
            lines.append(f"| {r['system']} | {r['nonzero_right']}/{r['nonzero']} ({r['nonzero_pct']:.1f} %) | "
                         f"{r['cells_pct']:.2f} % | {r['exact']}/{r['reports']} | {r['inconsistent_right']}/{r['reports']} | "
                         f"{r['satisfies_pct']:.0f} % | {r['s_per_report']:.3f} | {r['s_per_page']:.3f} | {r['peak_mb']} |")
    lines += ["\nPlots: " + ", ".join(f"[{n}]({n})" for n in names)]
    (OUT / "suite.md").write_text("\n".join(lines) + "\n")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
