"""Scans as real ones come, beyond the dev set's own: the dev reports' scans turned a quarter (a
landscape table scanned on portrait pages), tilted 6° and 8° (a phone photo, a careless feeder),
in grey, and printed then scanned bitonal (1-bit, as fax-compressed archive scans are) at 200 and
300 dpi. Each variant is made here from the dev set's files and scored against its gold (not a test).

    .venv/bin/python bench/scan_variants.py      # writes bench/results/scan_variants.md / .json
"""
from __future__ import annotations

import io
import json
import time
from pathlib import Path

import pypdfium2 as pdfium
from PIL import Image

import nianbao
from nianbao.inference.evaluate import diff_cells

ROOT = Path(__file__).resolve().parents[1]
DEV = ROOT.parent / "shared" / "dev"
CASES = ["rendered/zuoling-2021", "synthetic/rendered/dev02-2021", "synthetic/rendered-hard/dev05-2022"]


def _pages(pdf: Path, dpi: int, mode: str = "RGB") -> list[Image.Image]:
    doc = pdfium.PdfDocument(pdf)
    return [doc[i].render(scale=dpi / 72).to_pil().convert(mode) for i in range(len(doc))]


def _pdf(pages: list[Image.Image], dpi: int) -> bytes:
    buf = io.BytesIO()
    pages[0].save(buf, format="PDF", save_all=True, append_images=pages[1:], resolution=dpi)
    return buf.getvalue()


def variants(case: Path):
    scan = _pages(case / "scan.pdf", 150)
    yield "as scanned", _pdf(scan, 150)
    # Table pages a quarter turned, one to the left and one to the right.
    yield "table pages turned a quarter", _pdf(
        [p if i == 0 else p.rotate(90 if i % 2 else -90, expand=True) for i, p in enumerate(scan)], 150)
    for deg in (6, -8):
        yield f"tilted {deg}°", _pdf([p.rotate(deg, expand=True, fillcolor="white", resample=Image.BICUBIC)
                                     for p in scan], 150)
    yield "grey", _pdf([p.convert("L") for p in scan], 150)
    for dpi in (200, 300):
        bw = [p.point(lambda v: 255 if v > 160 else 0).convert("1") for p in _pages(case / "text.pdf", dpi, "L")]
        yield f"bitonal {dpi} dpi (from the print)", _pdf(bw, dpi)


def main() -> None:
    rows = []
    for name in CASES:
        case = DEV / name
        gold = json.loads((case / "gold.json").read_text(encoding="utf-8"))["cells"]
        nonzero = [k for k, v in gold.items() if v]
        for variant, data in variants(case):
            t0 = time.perf_counter()
            try:
                cells, err = nianbao.reconstruct(data, engine="heuristic").cells, ""
            except nianbao.NianbaoError as exc:
                cells, err = {}, str(exc)
            wrong = {k for k, *_ in diff_cells(cells, gold)}
            rows.append(dict(case=name, variant=variant, nonzero=len(nonzero),
                             nonzero_right=sum(k not in wrong for k in nonzero), wrong=len(wrong),
                             seconds=round(time.perf_counter() - t0, 1), error=err))
            r = rows[-1]
            print(f"{name:36s} {variant:34s} {r['nonzero_right']}/{r['nonzero']} non-zero, {r['wrong']} wrong, "
                  f"{r['seconds']} s {err}", flush=True)
    lines = ["# Scans as real ones come (variants of dev scans made by bench/scan_variants.py)", "",
             "| case | variant | non-zero cells right | cells wrong | s |", "|---|---|---|---|---|"]
    lines += [f"| {r['case']} | {r['variant']} | {r['nonzero_right']}/{r['nonzero']} | {r['wrong']} | {r['seconds']} |"
              for r in rows]
    out = ROOT / "bench" / "results"
    (out / "scan_variants.md").write_text("\n".join(lines) + "\n", encoding="utf-8")
    (out / "scan_variants.json").write_text(json.dumps(rows, indent=1, ensure_ascii=False), encoding="utf-8")


if __name__ == "__main__":
    main()
