"""Documents: the same reports as text PDFs (reportlab, embedded CJK font, ruled or unruled,
tables split across pages) and as scans (rendered, rotated, blurred, noised, stamped)."""
from __future__ import annotations

import io
import random
from functools import lru_cache
from pathlib import Path

from nianbao.errors import NianbaoError, require

from .layout import Damage, PTable, grid
from .styles import Document, _damage, _narrative, _tables, style
from .tables import Truth

FONT_PATHS = ["/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc", "/usr/share/fonts/wqy-zenhei/wqy-zenhei.ttc",
              "/usr/share/fonts/truetype/wqy/wqy-microhei.ttc"]


class FontMissing(NianbaoError):
    code = "E021"


class ToolMissing(NianbaoError):
    code = "E022"


@lru_cache(maxsize=1)
def cjk_font() -> str:
    """Register (and embed) a CJK TrueType font with reportlab; fail with the fix when it is absent."""
    require("reportlab", "pdf", "Making PDFs")
    from reportlab.pdfbase import pdfmetrics
    from reportlab.pdfbase.ttfonts import TTFont

    for p in FONT_PATHS:
        if Path(p).exists():
            pdfmetrics.registerFont(TTFont("CJK", p, subfontIndex=0))
            return "CJK"
    raise FontMissing("no CJK font found: install it with `apt-get install fonts-wqy-zenhei`")


def _pdf_table(pt: PTable, font: str, ruled: bool):
    from reportlab.lib import colors
    from reportlab.lib.styles import ParagraphStyle
    from reportlab.platypus import Paragraph, Table, TableStyle

    ps = ParagraphStyle("cell", fontName=font, fontSize=7, leading=8.5)
    data, spans = [], []
    for r, row in enumerate(grid(pt)):
        line = []
        for c, cell in enumerate(row):
            if cell is None:
                line.append("")
                continue
            text = cell.text
            line.append(text if cell.key or len(text) <= 6 else Paragraph(text, ps))
            if cell.colspan > 1:  # vertical spans do not survive page splits: group labels print on top
                spans.append(("SPAN", (c, r), (c + cell.colspan - 1, r)))
        data.append(line)
    label_w = 150 if pt.name == "requests" else (90 if pt.name == "active" else 34)
    ncols = pt.width
    if pt.name == "requests":
        widths = [50, 50, 90] + [40] * 7
    elif pt.name == "active":
        widths = [label_w] + [110] * (ncols - 1)
    else:
        widths = [34] * ncols
    t = Table(data, colWidths=widths, repeatRows=0)
    cmds = [("FONTNAME", (0, 0), (-1, -1), font), ("FONTSIZE", (0, 0), (-1, -1), 7),
            ("VALIGN", (0, 0), (-1, -1), "MIDDLE"), *spans]
    if ruled:
        cmds.append(("GRID", (0, 0), (-1, -1), 0.5, colors.black))
    t.setStyle(TableStyle(cmds))
    return t


def render_pdf(truth: Truth, rng: random.Random, dmg: Damage | None = None, ruled: bool = True) -> tuple[bytes, list]:
    require("reportlab", "pdf", "Making PDFs")
    from reportlab.lib.pagesizes import A4
    from reportlab.lib.styles import ParagraphStyle
    from reportlab.platypus import Paragraph, SimpleDocTemplate, Spacer

    font = cjk_font()
    dmg = dmg or _damage(rng, label_noise_p=0.0)
    nar = _narrative(truth, rng)
    tables = _tables(truth, rng, dmg, split_appeals=rng.random() < 0.15)
    printed = [(c.key, c.text) for pt in tables for row in grid(pt) for c in row if c is not None and c.key]
    ps = ParagraphStyle("p", fontName=font, fontSize=10, leading=14)
    story = [Paragraph(x, ps) for x in nar["title"] + nar["intro"]]
    for name in ("active", "requests", "appeals"):
        story += [Paragraph(x, ps) for x in nar[name]]
        story += [x for pt in tables if pt.name == name for x in (_pdf_table(pt, font, ruled), Spacer(1, 8))]
    story += [Paragraph(x, ps) for x in nar["outro"]]
    buf = io.BytesIO()
    SimpleDocTemplate(buf, pagesize=A4, leftMargin=36, rightMargin=36, topMargin=48, bottomMargin=48,
                      title="政府信息公开工作年度报告").build(story, onLaterPages=_footer, onFirstPage=_footer)
    return buf.getvalue(), printed


def _footer(canvas, doc):
    canvas.setFont("CJK", 9)
    canvas.drawCentredString(297, 24, f"— {doc.page} —")


@style("pdf_text")
def pdf_text(truth: Truth, rng: random.Random) -> Document:
    """A text PDF with an embedded CJK font; ruled or unruled tables, split across pages."""
    data, printed = render_pdf(truth, rng, ruled=rng.random() < 0.7)
    return Document(data, "pdf", printed=printed)


# --- converter dumps ----------------------------------------------------------------------------------
DUMPERS = ("pdftotext-raw", "pdftotext-layout", "pdfplumber")


def dump_pdf(pdf: bytes, how: str) -> str:
    """What a pipeline that "just takes the text" of a PDF gets: poppler's `pdftotext -raw` or
    `-layout` (poppler-utils), or pdfplumber's `extract_text()`."""
    if how == "pdfplumber":
        import pdfplumber

        with pdfplumber.open(io.BytesIO(pdf)) as doc:
            return "\n".join(page.extract_text() or "" for page in doc.pages)
    if how not in DUMPERS:
        raise ValueError(f"unknown dumper {how!r}; allowed: {', '.join(DUMPERS)}")
    import shutil
    import subprocess

    if shutil.which("pdftotext") is None:
        raise ToolMissing("pdftotext not found: install it with `apt-get install poppler-utils`")
    out = subprocess.run(["pdftotext", "-" + how.split("-")[1], "-enc", "UTF-8", "-", "-"], input=pdf,
                         capture_output=True, check=True, timeout=60)
    return out.stdout.decode("utf-8")


@style("pdf_dump")
def pdf_dump(truth: Truth, rng: random.Random) -> Document:
    """A text PDF's text layer as converters dump it: wrapped labels broken over lines between
    their row's numbers, page footers between rows, column-aligned text (-layout)."""
    import shutil

    data, printed = render_pdf(truth, rng, dmg=_damage(rng, label_noise_p=0.0,
                                                          blank_zero_p=0.1 if rng.random() < 0.3 else 0.0),
                               ruled=rng.random() < 0.6)
    hows = DUMPERS if shutil.which("pdftotext") else ("pdfplumber",)
    how = rng.choice(hows)
    return Document(dump_pdf(data, how).encode("utf-8"), "txt", notes=how, printed=printed)


# --- scans ----------------------------------------------------------------------------------------
def scan_pages(pdf: bytes, rng: random.Random, dpi: int | None = None) -> list[bytes]:
    """Render each page and make it look scanned: rotation ±3°, blur, noise, JPEG, a red stamp."""
    pdfium = require("pypdfium2", "pdf", "Rendering PDFs")
    cv2 = require("cv2", "pdf", "Making scans")
    import numpy as np

    dpi = dpi or rng.choice([100, 130, 150, 200])
    pages = []
    for page in pdfium.PdfDocument(pdf):
        img = np.array(page.render(scale=dpi / 72).to_pil().convert("RGB"))[:, :, ::-1].copy()
        h, w = img.shape[:2]
        for _ in range(rng.randint(0, 2)):  # a stamp or a handwritten-like mark over cells
            centre = (rng.randint(w // 4, 3 * w // 4), rng.randint(h // 4, 3 * h // 4))
            cv2.circle(img, centre, rng.randint(h // 20, h // 12), (40, 40, 200), max(2, dpi // 50))
        angle = rng.uniform(-3, 3)
        m = cv2.getRotationMatrix2D((w / 2, h / 2), angle, 1.0)
        img = cv2.warpAffine(img, m, (w, h), borderValue=(255, 255, 255))
        if rng.random() < 0.7:
            img = cv2.GaussianBlur(img, (3, 3), rng.uniform(0.3, 1.0))
        noise = np.random.default_rng(rng.randint(0, 2**31)).normal(0, rng.uniform(3, 12), img.shape)
        img = np.clip(img.astype(np.float32) + noise, 0, 255).astype(np.uint8)
        ok, jpg = cv2.imencode(".jpg", img, [cv2.IMWRITE_JPEG_QUALITY, rng.randint(35, 80)])
        img = cv2.imdecode(jpg, cv2.IMREAD_COLOR)
        ok, png = cv2.imencode(".png", img)
        pages.append(png.tobytes())
    return pages


def scan_pdf(pages: list[bytes]) -> bytes:
    """An image-only PDF (no text layer) from scanned pages."""
    from PIL import Image

    imgs = [Image.open(io.BytesIO(p)).convert("RGB") for p in pages]
    buf = io.BytesIO()
    imgs[0].save(buf, format="PDF", save_all=True, append_images=imgs[1:], resolution=150)
    return buf.getvalue()


SCAN_STYLES = {"scan_pdf": "pdf", "scan_png": "png"}


TURNS = (0, 0, 0, 0, 0, 0, 90, 180, 270)  # degrees: most scans stand upright


def turn_page(png: bytes, degrees: int) -> bytes:
    """A scanned page turned clockwise by a quarter, a half or three quarters."""
    cv2 = require("cv2", "pdf", "Making scans")
    import numpy as np

    codes = {90: cv2.ROTATE_90_CLOCKWISE, 180: cv2.ROTATE_180, 270: cv2.ROTATE_90_COUNTERCLOCKWISE}
    img = cv2.imdecode(np.frombuffer(png, np.uint8), cv2.IMREAD_COLOR)
    return cv2.imencode(".png", cv2.rotate(img, codes[degrees]))[1].tobytes()


def render_scan(name: str, truth: Truth, rng: random.Random) -> Document:
    pdf, printed = render_pdf(truth, rng, ruled=True)
    pages = scan_pages(pdf, rng)
    # The table pages of a landscape table scanned on portrait pages, or fed upside down.
    turn = rng.choice(TURNS)
    if turn:
        pages = pages[:1] + [turn_page(p, turn) for p in pages[1:]]
    if name == "scan_png":
        return Document(pages[0], "png", printed=printed)
    return Document(scan_pdf(pages), "pdf", printed=printed)


__all__ = ["render_pdf", "scan_pages", "scan_pdf", "turn_page", "render_scan", "SCAN_STYLES"]
