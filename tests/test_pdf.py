"""Real PDFs made here (reportlab + an embedded CJK font), read back through their text layer;
scans, corrupt and encrypted PDFs get a clear error."""
import io
import random

import pdfplumber
import pytest

from nianbao import reconstruct
from nianbao.datasets.documents import render_pdf, render_scan
from nianbao.datasets.tables import gold_json, random_truth
from nianbao.errors import UnreadableInput
from nianbao.inference.evaluate import diff_cells
from nianbao.inference.readers.pdf import NeedsOcr


@pytest.fixture(scope="module")
def made():
    rng = random.Random(7)
    truth = random_truth(rng, fmt="2021")
    pdf, _ = render_pdf(truth, rng, ruled=True)
    return truth, pdf


def test_text_pdf_has_the_right_text_and_embedded_font(made):
    truth, pdf = made
    with pdfplumber.open(io.BytesIO(pdf)) as doc:
        text = "\n".join(p.extract_text() for p in doc.pages)
        assert len(doc.pages) >= 2  # the tables run over a page break
    assert "本年新收政府信息公开申请数量" in text and "第二十条第(一)项" in text.replace("（", "(").replace("）", ")")
    assert b"/FontFile2" in pdf  # the TrueType font is embedded


@pytest.mark.parametrize("seed, ruled", [(1, True), (2, False), (3, True), (4, False)])
def test_text_pdf_reconstructs_exactly(seed, ruled):
    rng = random.Random(seed)
    truth = random_truth(rng)
    pdf, _ = render_pdf(truth, rng, ruled=ruled)
    report = reconstruct(pdf, engine="heuristic")
    assert diff_cells(report.cells, gold_json(truth, "x", "x")["cells"]) == []
    assert report.provenance["requests.new_received.total"].page is not None


def test_scanned_pdf_with_ocr_off_says_it_needs_ocr():
    from nianbao.config import load_config

    rng = random.Random(3)
    doc = render_scan("scan_pdf", random_truth(rng), rng)
    with pytest.raises(NeedsOcr, match="E030.*no usable text layer.*ocr: never"):
        reconstruct(doc.data, load_config(ocr="never"))


def test_corrupt_pdf(made):
    _, pdf = made
    with pytest.raises(UnreadableInput, match="corrupt PDF"):
        reconstruct(pdf[: len(pdf) // 3][:200] + b"garbage" * 50)


@pytest.mark.parametrize("ocr", ["auto", "never"])
def test_a_pdf_with_no_pages_says_so(ocr):
    import pypdfium2 as pdfium

    from nianbao.config import load_config

    buf = io.BytesIO()
    pdfium.PdfDocument.new().save(buf)
    with pytest.raises(UnreadableInput, match="E002.*the PDF has no pages"):
        reconstruct(buf.getvalue(), load_config(ocr=ocr))


def test_encrypted_pdf():
    from reportlab.lib import pdfencrypt
    from reportlab.pdfgen import canvas

    buf = io.BytesIO()
    c = canvas.Canvas(buf, encrypt=pdfencrypt.StandardEncryption("secret", canPrint=0))
    c.drawString(100, 700, "report")
    c.save()
    with pytest.raises(UnreadableInput, match="encrypted"):
        reconstruct(buf.getvalue())


def test_running_page_headers_of_a_text_pdf_are_not_cells():
    from reportlab.lib.pagesizes import A4
    from reportlab.pdfgen import canvas

    from nianbao.datasets.documents import cjk_font
    from nianbao.inference.readers.pdf import read_pdf

    font = cjk_font()
    buf = io.BytesIO()
    c = canvas.Canvas(buf, pagesize=A4)
    rows = [["二、主动公开政府信息情况"], ["第二十条第（一）项"], ["信息内容", "本年制发件数", "本年废止件数", "现行有效件数"],
            ["规章", "1", "0", "4"], ["行政规范性文件", "2", "0", "7"]]
    for page in range(2):
        c.setFont(font, 9)
        c.drawString(40, 810, "甲乙区文件 甲乙〔2023〕13号")
        c.drawString(40, 796, f"打印日期：2023-01-27 16:50  第{page + 1}页")
        for i, row in enumerate(rows):
            for j, cell in enumerate(row):
                c.drawString(40 + 120 * j, 700 - 18 * i, cell)
        c.showPage()
    c.save()
    frags = read_pdf(buf.getvalue(), "x.pdf")
    texts = [f.text for f in frags]
    assert "规章" in texts and "行政规范性文件" in texts
    assert not any("2023" in t or "16:50" in t or "13号" in t for t in texts), texts


def test_small_type_header_columns_and_a_word_in_an_appeals_cell():
    # A narrow appeals header in 8-point type: its titles stand 6 pt apart (more than a word space,
    # less than the usual cell gap), wrapped over two lines, and its only data line prints blanks
    # for zeros and a word (撤销) in the 其他结果 cell. The word is a cell whose number the total gives.
    from reportlab.lib.pagesizes import A4
    from reportlab.pdfgen import canvas

    from nianbao.datasets.documents import cjk_font

    font = cjk_font()
    buf = io.BytesIO()
    c = canvas.Canvas(buf, pagesize=A4)
    c.setFont(font, 12)
    c.drawString(68, 780, "四、政府信息公开行政复议、行政诉讼情况")
    c.setFont(font, 8)
    x = [136 + 22 * j for j in range(15)]
    c.drawString(172, 700, "行政复议")
    c.drawString(337, 700, "行政诉讼")
    c.drawString(266, 685, "未经复议直接起诉")
    c.drawString(388, 685, "复议后起诉")
    heads = [("结果", "维持"), ("结果", "纠正"), ("其他", "结果"), ("尚未", "审结"), ("总计", "")] * 3
    for j, (a, b) in enumerate(heads):
        if b:
            c.drawString(x[j], 675, a)
            c.drawString(x[j], 666, b)
        else:
            c.drawString(x[j], 670, a)
    c.drawString(x[2], 650, "撤销")
    for j, v in [(4, "1"), (5, "0"), (6, "0"), (7, "0"), (8, "0"), (9, "0")]:
        c.drawString(x[j] + 5, 650, v)
    c.showPage()
    c.save()
    report = reconstruct(buf.getvalue(), engine="heuristic")
    row = [report.cells[f"appeals.review.{k}"] for k in ("upheld", "corrected", "other", "pending", "total")]
    assert row == [0, 0, 1, 0, 1]
    assert report.provenance["appeals.review.other"].method != "read"


@pytest.mark.parametrize("rotation", [0, 90, 180, 270])
def test_the_text_layer_s_words_are_pdfplumber_s(made, rotation):
    # The reader takes the characters from pdfium (several times faster than pdfminer) and makes
    # words as pdfplumber's `extract_words` does: the same words at the same places, on pages
    # turned by /Rotate too (a landscape table page).
    import pypdfium2 as pdfium
    from reportlab.pdfgen import canvas

    from nianbao.datasets.documents import cjk_font
    from nianbao.inference.readers.pdf import page_words

    # A landscape page as displayed (842 × 595), its content drawn upright on a page of that size
    # turned by /Rotate: user space is the unturned page's.
    w, h = (842, 595) if rotation in (0, 180) else (595, 842)
    to_user = {0: lambda x, y: (x, y), 90: lambda x, y: (x, y - 595), 180: lambda x, y: (x - 842, y - 595),
               270: lambda x, y: (x - 842, y)}[rotation]
    buf = io.BytesIO()
    c = canvas.Canvas(buf, pagesize=(w, h))
    c.setPageRotation(rotation)
    c.rotate(rotation)

    def draw(x, y, text, size=10):
        c.setFont(cjk_font(), size)
        c.drawString(*to_user(x, y), text)

    draw(60, 540, "行政许可 12 0 7")
    draw(60, 520, "行政事业性收费 2468.40元  3")
    draw(400, 300, "结果维持", 8)
    draw(432, 300, "结果纠正", 8)  # two titles 0 pt apart: one word, as pdfplumber makes it
    c.save()
    with pdfplumber.open(io.BytesIO(buf.getvalue())) as doc:
        theirs = doc.pages[0].extract_words(x_tolerance=1.5, y_tolerance=2, keep_blank_chars=False)
    ours = page_words(pdfium.PdfDocument(buf.getvalue())[0])
    key = lambda w: (round(w["top"]), w["x0"])  # noqa: E731
    theirs, ours = sorted(theirs, key=key), sorted(ours, key=key)
    assert [w["text"] for w in ours] == [w["text"] for w in theirs]
    for a, b in zip(ours, theirs):
        assert all(abs(a[k] - b[k]) < 1.0 for k in ("x0", "x1", "top", "bottom")), (a, b)
    # And the whole made report reads through them as before.
    truth, pdf = made
    assert diff_cells(reconstruct(pdf, engine="heuristic").cells, gold_json(truth, "x", "x")["cells"]) == []
