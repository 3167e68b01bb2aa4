"""Text forms the dev set does not hold (not a test): the dev set's crawler text as the tools after a
crawler leave it, and the dev set's text PDFs dumped by converters it does not use (pypdfium2,
pdfminer.six, pypdf: one cell a line; markitdown where given). Every case
keeps its gold; a form is scored on the same cells as the clean text.

    .venv/bin/python bench/text_forms.py        # writes bench/results/text_forms.md / .json

markitdown (a PDF→Markdown tool whose tables lay each row on a column grid of its own) pulls its own
onnxruntime, so it is not installed beside nianbao: give its command in NIANBAO_MARKITDOWN (e.g.
`python -m venv /tmp/md && /tmp/md/bin/pip install 'markitdown[pdf]'`, then
`NIANBAO_MARKITDOWN=/tmp/md/bin/markitdown`); without it that form is left out.
"""
from __future__ import annotations

import json
import os
import subprocess
import tempfile
from pathlib import Path

import nianbao

ROOT = Path(__file__).resolve().parents[1]
DEV = ROOT.parent / "shared" / "dev"
CRAWLED = ["crawled", "synthetic/crawled"]
PDFS = ["rendered", "rendered-hard", "synthetic/rendered", "synthetic/rendered-hard"]


def _fold(text: str, width: int) -> str:
    return "\n".join(line[i : i + width] for line in text.split("\n") for i in range(0, max(len(line), 1), width))


# What a crawler, or a tool after it, does to the one-line text.
WRAPPINGS = {
    "as crawled": lambda t: t,
    "nodes joined by tabs": lambda t: t.replace(" ", "\t"),
    "HTML entities kept (&nbsp;)": lambda t: t.replace(" ", "&nbsp;"),
    "zero-width spaces": lambda t: "".join(c + ("\u200b" if i % 7 == 3 else "") for i, c in enumerate(t)),
    "full-width digits and points": lambda t: t.translate(str.maketrans("0123456789.", "０１２３４５６７８９．")),
    "folded at 80 characters": lambda t: _fold(t, 80),
    "folded at 500 characters": lambda t: _fold(t, 500),
    "saved as GB18030": lambda t: t,
}


def _pdfium_text(pdf: Path) -> str:
    import pypdfium2 as pdfium

    doc = pdfium.PdfDocument(pdf)
    return "\n".join(doc[i].get_textpage().get_text_range() for i in range(len(doc)))


def _pdfminer_text(pdf: Path) -> str:
    from pdfminer.high_level import extract_text

    return extract_text(str(pdf))


def _pypdf_text(pdf: Path) -> str:
    import pypdf

    return "\n".join(page.extract_text() or "" for page in pypdf.PdfReader(str(pdf)).pages)


def _markitdown(pdf: Path) -> str:
    return subprocess.run([os.environ["NIANBAO_MARKITDOWN"], str(pdf)], capture_output=True, text=True,
                          check=True).stdout


CONVERTERS = {"pypdfium2 get_text_range": _pdfium_text, "pdfminer.six extract_text": _pdfminer_text}
try:  # the bench extra: pip install 'nianbao[bench]'
    import pypdf  # noqa: F401

    CONVERTERS["pypdf extract_text"] = _pypdf_text
except ImportError:
    pass
if os.environ.get("NIANBAO_MARKITDOWN"):
    CONVERTERS["markitdown (PDF→Markdown)"] = _markitdown


def _score(text: str, gold: dict, encoding: str = "utf-8") -> tuple[int, int, bool]:
    with tempfile.NamedTemporaryFile("wb", suffix=".txt", delete=False) as fh:
        fh.write(text.encode(encoding))
    try:
        cells = nianbao.reconstruct(fh.name, engine="heuristic").cells
    except Exception:  # a form that fails scores 0 on every cell
        cells = {}
    finally:
        Path(fh.name).unlink()
    wrong = [k for k, v in gold.items() if k not in cells or abs(float(cells[k]) - float(v)) > 1e-6]
    nz = [k for k, v in gold.items() if v != 0]
    return len(nz), sum(k not in wrong for k in nz), not wrong


def main() -> None:
    rows = []
    for name, wrap in WRAPPINGS.items():
        t = dict(form=name, source="crawled text", nz=0, ok=0, reports=0, exact=0)
        for case in sorted(p.parent for s in CRAWLED for p in (DEV / s).glob("*/gold.json")):
            gold = json.loads((case / "gold.json").read_text(encoding="utf-8"))["cells"]
            text = wrap(next(case.glob("input.*")).read_text(encoding="utf-8"))
            nz, ok, exact = _score(text, gold, "gb18030" if "GB18030" in name else "utf-8")
            t.update(nz=t["nz"] + nz, ok=t["ok"] + ok, reports=t["reports"] + 1, exact=t["exact"] + exact)
        rows.append(t)
        print(t, flush=True)
    for name, convert in CONVERTERS.items():
        t = dict(form=name, source="text PDFs", nz=0, ok=0, reports=0, exact=0)
        for case in sorted(p.parent for s in PDFS for p in (DEV / s).glob("*/gold.json")):
            gold = json.loads((case / "gold.json").read_text(encoding="utf-8"))["cells"]
            nz, ok, exact = _score(convert(case / "text.pdf"), gold)
            t.update(nz=t["nz"] + nz, ok=t["ok"] + ok, reports=t["reports"] + 1, exact=t["exact"] + exact)
        rows.append(t)
        print(t, flush=True)
    lines = ["# Text forms beyond the dev set (heuristic engine)", "",
             "| form | from | non-zero cells right | reports all correct |", "|---|---|---|---|"]
    lines += [f"| {r['form']} | {r['source']} | {r['ok']}/{r['nz']} ({100 * r['ok'] / max(1, r['nz']):.2f} %) | "
              f"{r['exact']}/{r['reports']} |" for r in rows]
    out = ROOT / "bench" / "results"
    (out / "text_forms.md").write_text("\n".join(lines) + "\n", encoding="utf-8")
    (out / "text_forms.json").write_text(json.dumps(rows, indent=1, ensure_ascii=False), encoding="utf-8")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
