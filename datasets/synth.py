"""`nianbao synth`: labelled synthetic reports on disk, deterministic for a seed.

DIR/<id>/input.<ext>, DIR/<id>/gold.json, DIR/<id>/fragments.parquet and DIR/manifest.jsonl
(one line per report: id, style, format, variant, input, inconsistent).
"""
from __future__ import annotations

import json
import random
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

from .labels import align, fragment_rows
from .documents import SCAN_STYLES, render_scan
from .styles import STYLES, render
from .tables import gold_json, random_truth


def make_one(args) -> dict:
    """One labelled report; `args` = (out, index, style, formats, seed, inconsistent_p, labels)."""
    out, index, style, formats, seed, inconsistent_p, labels = args
    rng = random.Random(f"{seed}:{index}")
    truth = random_truth(rng, fmt=rng.choice(formats), inconsistent_p=inconsistent_p)
    doc = render_scan(style, truth, rng) if style in SCAN_STYLES else render(style, truth, rng)
    rid = f"{index:06d}_{style}"
    d = Path(out) / rid
    d.mkdir(parents=True, exist_ok=True)
    name = f"input.{doc.ext}"
    (d / name).write_bytes(doc.data)
    gold = gold_json(truth, rid, name, notes=f"synthetic, style {style}. {doc.notes}".strip())
    (d / "gold.json").write_text(json.dumps(gold, ensure_ascii=False), "utf-8")
    if labels and style not in SCAN_STYLES:  # scans have no text to label until OCR
        write_fragments(d / "fragments.parquet", rid, doc)
    return dict(id=rid, style=style, format=truth.format, variant=truth.variant, input=name,
                inconsistent=bool(truth.inconsistent))


def label_document(rid: str, doc) -> list[dict]:
    from nianbao.inference.layout import detect_format, find_regions
    from nianbao.inference.readers import pick_reader

    reader = pick_reader(doc.data, "." + doc.ext, rid)
    fragments = reader.read(doc.data, rid)
    template, _ = detect_format(fragments)
    regions = find_regions(fragments, template)
    start = regions[0].start if regions else 0
    return fragment_rows(rid, fragments, align(fragments, doc.printed, start))


def write_fragments(path: Path, rid: str, doc) -> None:
    import pyarrow as pa
    import pyarrow.parquet as pq

    pq.write_table(pa.Table.from_pylist(label_document(rid, doc)), path)


def generate(n: int, out: Path, styles: list[str] | None = None, formats: list[str] | None = None,
             seed: int = 0, inconsistent_p: float = 0.05, labels: bool = True, workers: int = 0,
             progress=None) -> list[dict]:
    styles = styles or sorted(STYLES)
    formats = formats or ["2019", "2021"]
    for s in styles:
        if s not in STYLES and s not in SCAN_STYLES:
            raise ValueError(f"unknown style {s!r}; allowed: {', '.join(sorted([*STYLES, *SCAN_STYLES]))}")
    out.mkdir(parents=True, exist_ok=True)
    jobs = [(str(out), i, styles[i % len(styles)], formats, seed, inconsistent_p, labels) for i in range(n)]
    rows: list[dict] = []
    if workers == 1:
        it = map(make_one, jobs)
    else:
        pool = ProcessPoolExecutor(max_workers=workers or None)
        it = pool.map(make_one, jobs, chunksize=32)
    for row in it:
        rows.append(row)
        if progress:
            progress()
    if workers != 1:
        pool.shutdown()
    with open(out / "manifest.jsonl", "w", encoding="utf-8") as fh:
        for row in rows:
            fh.write(json.dumps(row, ensure_ascii=False) + "\n")
    return rows
