"""Regenerate the example scans in docs/ (python docs/make_examples.py)."""
import io
import random
from pathlib import Path

from PIL import Image

from nianbao.datasets.documents import render_pdf, scan_pages
from nianbao.datasets.tables import random_truth

HERE = Path(__file__).parent
for i in range(3):
    rng = random.Random(100 + i)
    truth = random_truth(rng, fmt=["2019", "2021", "2021"][i])
    pdf, _ = render_pdf(truth, rng, ruled=i != 1)
    if i == 0:
        (HERE / "example_text.pdf").write_bytes(pdf)
    page = scan_pages(pdf, rng, dpi=90)[1]
    # 16 grey levels keep the repository small; the noise, blur and rotation stay visible
    Image.open(io.BytesIO(page)).convert("L").quantize(16).save(HERE / f"example_scan_{i}.png", optimize=True)
