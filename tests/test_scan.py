"""Scans made here (reportlab PDF → rendered page → rotation, blur, noise, JPEG, a red stamp), read
back through OpenCV + RapidOCR and the real solver; images that are too large are refused before
they are decoded."""
import io
import random

import pytest

from nianbao import reconstruct
from nianbao.config import load_config
from nianbao.datasets.documents import render_pdf, scan_pages, scan_pdf
from nianbao.datasets.tables import gold_json, random_truth
from nianbao.errors import ConfigError, InputTooLarge, UnreadableInput
from nianbao.inference.evaluate import diff_cells
from nianbao.inference.ocr import normalise

pytest.importorskip("rapidocr_onnxruntime", reason="the OCR extra (pip install 'nianbao[ocr]') is not installed")


@pytest.fixture(scope="module")
def scanned():
    rng = random.Random(21)
    truth = random_truth(rng, fmt="2021")
    pdf, _ = render_pdf(truth, rng, ruled=True)
    return truth, scan_pages(pdf, rng, dpi=150)


def test_scanned_pdf_reconstructs_through_ocr(scanned):
    truth, pages = scanned
    report = reconstruct(scan_pdf(pages), engine="heuristic")
    gold = gold_json(truth, "x", "x")["cells"]
    wrong = diff_cells(report.cells, gold)
    nonzero = [k for k, v in gold.items() if v]
    # Every cell comes from OCR; what the arithmetic corrected says so, with what was read.
    assert len([w for w in wrong if gold[w[0]]]) <= 0.01 * len(nonzero), wrong
    assert all(p.confidence < 1.0 for p in report.provenance.values() if p.method == "read")
    for key, p in report.provenance.items():
        if p.method == "corrected":
            assert p.text is not None and "low-confidence OCR" in p.reason


@pytest.mark.parametrize("degrees", [180, 90, 270])
def test_turned_page_image_is_read_upright(scanned, degrees):
    # Upside down (fed the wrong way), or a quarter turned (a landscape table scanned on a portrait
    # page: its lines run down the image).
    truth, pages = scanned
    from PIL import Image

    img = Image.open(io.BytesIO(pages[0])).rotate(degrees, expand=True)
    buf = io.BytesIO()
    img.save(buf, format="PNG")
    report = reconstruct(buf.getvalue(), engine="heuristic")
    gold = gold_json(truth, "x", "x")["cells"]
    active = {k: v for k, v in gold.items() if k.startswith("active.")}
    assert "active" not in report.missing_tables
    assert diff_cells({k: report.cells.get(k) for k in active}, active) == []


def test_page_photographed_askew_is_straightened(scanned):
    # A phone photo or a careless feeder: 7° off, more than a scanner's usual tilt.
    truth, pages = scanned
    from PIL import Image

    turned = []
    for page in pages:
        img = Image.open(io.BytesIO(page)).convert("RGB").rotate(7, expand=True, fillcolor="white",
                                                                 resample=Image.BICUBIC)
        buf = io.BytesIO()
        img.save(buf, format="PNG")
        turned.append(buf.getvalue())
    report = reconstruct(scan_pdf(turned), engine="heuristic")
    gold = gold_json(truth, "x", "x")["cells"]
    wrong = diff_cells(report.cells, gold)
    assert len([w for w in wrong if gold[w[0]]]) <= 0.01 * len([v for v in gold.values() if v]), wrong


def test_image_too_large_is_refused_before_decoding():
    from PIL import Image

    # A 1-bit PNG of 30000×30000 pixels is a few hundred KB on disk and 2.7 GB decoded as RGB.
    buf = io.BytesIO()
    Image.new("1", (30000, 30000), 1).save(buf, format="PNG", optimize=True)
    with pytest.raises(InputTooLarge, match="E004.*pixels"):
        reconstruct(buf.getvalue())


def test_corrupt_image_is_a_clear_error():
    with pytest.raises(UnreadableInput, match="E002.*corrupt image"):
        reconstruct(b"\x89PNG\r\n\x1a\n" + b"\x00garbage" * 100)


def test_ocr_mode_is_checked():
    with pytest.raises(ConfigError, match="ocr.*'auto', 'always' or 'never'"):
        load_config(ocr="sometimes")


@pytest.mark.parametrize("text, w, h, out", [
    ("o", 16, 20, "0"), ("。", 16, 20, "0"), ("O", 15, 20, "0"),
    ("o", 60, 20, "o"),  # a wide box is not a lone digit
    ("一", 30, 14, "—"), ("口", 14, 16, "0"),  # a dash zero and a box-shaped 0, each alone in its box
    ("一、", 30, 14, "一、"),
    ("1,160.400元", 90, 20, "1,160,400元"), ("4.213.900", 90, 20, "4,213,900"),  # thousands read as points
    ("219.651", 60, 20, "219.651"), ("21965.172203", 90, 20, "21965.172203"),
    ("2重复申请", 90, 20, "2.重复申请"), ("17", 20, 20, "17"), ("总计", 30, 20, "总计"),
    ("0.", 16, 20, "0"), (".26", 30, 20, "26"), ("0.26", 40, 20, "0.26"),  # a speck read as a point
])
def test_lone_round_glyphs_are_zeros_and_row_numbers_get_their_dot(text, w, h, out):
    assert normalise(text, w, h) == out


def test_running_headers_of_a_scan_are_dropped_though_ocr_reads_them_differently():
    from nianbao.inference.readers.scan import page_bands

    def line(page, text, top):
        return (page, [[(text, 0.9, 60.0, top, 300.0, top + 12)]])

    lines = [line(0, "友谊县人民政府2022年政府信息公开工作年度报告", 54),
             line(0, "一、总体情况", 120), line(0, "本年新收政府信息公开申请数量", 600),
             line(1, "友谊具友谊锁人民政府2022年政府信息公开工作年康报告", 55),  # the same header, OCR'd again
             line(1, "二、主动公开政府信息情况", 100), line(1, "规章", 500),
             line(1, "202301-1909 36", 770)]  # a print stamp `2023-01-19 09:36` without its punctuation
    texts = [cells[0][0][0] for _, cells in lines]
    assert page_bands(lines, texts) == {0, 3, 6}


def test_a_sentence_boxed_in_pieces_and_its_wrapped_end_are_narrative_not_cells():
    from nianbao.inference.readers.text import narrative_lines

    texts = ["四、政府信息公开行政复议、行政诉讼情况",
             "本年度，本机关因政府信息公开工作被申请行政复议 115件 （其中被纠错 2件），被提起行政诉讼",
             "162件。", "结果维持 结果纠正 其他结果 尚未审结 总计", "2 89 91"]
    assert narrative_lines(texts) == {1, 2}
    # The comma read as a colon, and a table row with a note in its cell, which is no sentence.
    assert narrative_lines(["本年度:我处因政府信息公开工作被申请行政复议3件(其中被纠错3件)被提起行政诉讼4", "件。",
                            "规章 18（其中修订5件） 3 7"]) == {0, 1}


def test_digit_boxes_side_by_side_are_separate_cells():
    from nianbao.inference.readers.scan import _cells

    def box(text, x0, x1):
        return (text, 0.99, x0, 100.0, x1, 112.0, False)

    # Narrow appeals columns: the gaps are narrower than a text height, yet each box is a number.
    words = [box("2", 340, 346), box("105", 352, 370), box("27", 378, 390), box("结果", 410, 434), box("维持", 436, 460)]
    assert [["".join(w[0] for w in c)] for c in _cells(words, [])] == [["2"], ["105"], ["27"], ["结果维持"]]


def test_a_bent_page_is_straightened_by_its_rules():
    import numpy as np

    from nianbao.inference.imaging import dewarp, opencv

    cv2 = opencv()
    h, w = 900, 1200
    flat = np.full((h, w, 3), 255, np.uint8)
    for y in range(150, 800, 90):
        cv2.line(flat, (100, y), (1100, y), (0, 0, 0), 2)
    # A phone photo bows the page: rows sag towards the middle by up to 24 px.
    xs = np.arange(w, dtype=np.float32)
    sag = 24 * (1 - ((xs - w / 2) / (w / 2)) ** 2)
    map_x = np.tile(xs, (h, 1))
    map_y = (np.arange(h, dtype=np.float32)[:, None] - sag[None, :]).astype(np.float32)
    bent = cv2.remap(flat, map_x, map_y, cv2.INTER_LINEAR, borderValue=(255, 255, 255))

    def spread(img):  # how far each rule wanders up and down across the page
        ink = (cv2.cvtColor(img, cv2.COLOR_BGR2GRAY) < 128)
        out = []
        for y in range(150, 800, 90):
            band = ink[y - 45 : y + 45, 120:1080]
            rows = [np.flatnonzero(band[:, x]).mean() for x in range(0, band.shape[1], 40) if band[:, x].any()]
            out.append(max(rows) - min(rows))
        return max(out)

    assert spread(bent) > 12
    assert spread(dewarp(bent)) < 4


def test_a_cell_the_detector_missed_is_found_by_its_column(scanned):
    import numpy as np
    from PIL import Image

    from nianbao.inference import ocr

    _, pages = scanned
    img = np.array(Image.open(io.BytesIO(pages[1])).convert("RGB"))[:, :, ::-1].copy()
    words, page, _ = ocr.read_page(img)
    # Take a number out, as if the detector had skipped it: the probe finds it again, and reads
    # nothing that is already found.
    gone = next(w for w in words if w.text.isdigit() and w.conf > 0.9 and
                sum(abs((v.x0 + v.x1) / 2 - (w.x0 + w.x1) / 2) < 8 for v in words if v.text.isdigit()) >= 3)
    rest = [w for w in words if w is not gone]
    probed, _ = ocr.probe_missed(ocr.engine(), page, rest, [])
    assert [p.text for p in probed if abs(p.top - gone.top) < 8 and abs(p.x0 - gone.x0) < 12] == [gone.text]
    for p in probed:
        assert not any(p.x0 < w.x1 and w.x0 < p.x1 and p.top < w.bottom and w.top < p.bottom for w in rest)


def _glyph(text: str, size: int = 28):
    """One glyph as a scan's crop: the CJK font the test PDFs use, black on white, a margin round it."""
    from pathlib import Path

    import numpy as np
    from PIL import Image, ImageDraw, ImageFont

    from nianbao.datasets.documents import FONT_PATHS

    font = ImageFont.truetype(next(p for p in FONT_PATHS if Path(p).exists()), size)
    img = Image.new("RGB", (size * len(text) + 16, size + 16), "white")
    ImageDraw.Draw(img).text((8, 4), text, font=font, fill="black")
    return np.array(img)[:, :, ::-1].copy()


def test_a_lone_slash_or_dash_is_the_zero_mark_whatever_the_recogniser_read():
    from nianbao.inference.ocr import lone_mark

    # Out of context the recogniser reads a slash as `1`, confidently: the stroke's lean tells.
    assert lone_mark("1", _glyph("/")) == "/"
    assert lone_mark("1", _glyph("1")) == "1"
    assert lone_mark("7", _glyph("7")) == "7"
    assert lone_mark("12", _glyph("/")) == "12"  # only a lone stroke is looked at
    # A dash read as a digit or a letter: one flat stroke.
    assert lone_mark("5", _glyph("—")) == lone_mark("I", _glyph("—")) == "—"
    assert lone_mark("5", _glyph("5")) == "5" and lone_mark("0", _glyph("0")) == "0"


def test_a_digit_box_over_two_cells_is_cut_at_the_column_gap():
    import numpy as np

    from nianbao.inference import ocr

    # `12` and `66` in neighbouring narrow columns, boxed as one `1266` by the detector.
    left, right = _glyph("12"), _glyph("66")
    gap = np.full((left.shape[0], 30, 3), 255, np.uint8)
    page = np.concatenate([np.full((left.shape[0], 40, 3), 255, np.uint8), left, gap, right,
                           np.full((left.shape[0], 40, 3), 255, np.uint8)], axis=1)
    page = np.concatenate([np.full((30, page.shape[1], 3), 255, np.uint8), page,
                           np.full((30, page.shape[1], 3), 255, np.uint8)])
    whole = ocr.Word("1266", 0.9, 44.0, 30.0, float(page.shape[1] - 44), float(30 + left.shape[0]))
    kept = ocr.Word("2185", 0.99, 44.0, 30.0, 44.0 + left.shape[1], float(30 + left.shape[0]))
    out = ocr.split_wide_numbers(ocr.engine(), page, [whole])
    assert [w.text for w in out] == ["12", "66"] and out[0].x1 < out[1].x0
    assert ocr.split_wide_numbers(ocr.engine(), page, [kept]) == [kept]  # one number's digits stand close
    # Zeros printed `0.00` run into the next cell's number: `0.0095` is `0.00` and `95`.
    left, right = _glyph("0.00"), _glyph("95")
    gap = np.full((left.shape[0], 30, 3), 255, np.uint8)
    page = np.concatenate([np.full((left.shape[0], 40, 3), 255, np.uint8), left, gap, right,
                           np.full((left.shape[0], 40, 3), 255, np.uint8)], axis=1)
    run = ocr.Word("0.0095", 0.8, 44.0, 0.0, float(page.shape[1] - 44), float(left.shape[0]))
    assert [w.text for w in ocr.split_wide_numbers(ocr.engine(), page, [run])] == ["0.00", "95"]


def test_rows_a_photo_tilts_stay_whole():
    from nianbao.inference.ocr import Word
    from nianbao.inference.readers.scan import _lines

    # Two rows 40 px apart rising 1.5° to the right (a phone photo's perspective, left after the
    # deskew): a row's right end stands as high as the next row's left end would be read as.
    def word(text, x, y, h):
        return Word(text, 0.99, x, y - h / 2, x + 12 * len(text), y + h / 2)

    rows = []
    for r, label in enumerate(["1.本机关不掌握相关", "2.没有现成信息需要"]):
        base = 500 + 40 * r
        row = [word(label, 100, base - 0.026 * 100, 22)]
        row += [word(str(j + 1), x, base - 0.026 * x, 12) for j, x in enumerate(range(320, 1000, 90))]
        rows.append(row)
    lines = _lines([w for row in rows for w in row])
    assert [[w.text for w in line] for line in lines] == [[w.text for w in row] for row in rows]


def test_the_numbers_of_a_page_s_last_row_are_found_below_the_last_number_found(scanned):
    import numpy as np
    from PIL import Image

    from nianbao.inference import ocr

    _, pages = scanned
    img = np.array(Image.open(io.BytesIO(pages[1])).convert("RGB"))[:, :, ::-1].copy()
    words, page, _ = ocr.read_page(img)
    nums = [w for w in words if ocr.NUMBERISH.fullmatch(w.text)]
    h = float(np.median([w.bottom - w.top for w in nums]))
    rows = [[v for v in nums if abs(v.top - w.top) < 0.5 * h] for w in nums]
    gone = max((r for r in rows if 3 <= len(r) <= 7), key=lambda r: r[0].top)  # a requests row
    low = gone[0]
    # The page ends with that row (what follows it is cut off), and the detector missed every
    # number in it (a shadow over it); its row label is still there, left of the columns.
    rest = [w for w in words if w not in gone and w.top < low.top + h]
    probed, _ = ocr.probe_missed(ocr.engine(), page, rest, [])
    found = [p for p in probed if abs(p.top - low.top) < h]
    assert len(found) >= len(gone) - 1 and len(gone) >= 3


def test_a_ruled_cell_s_column_is_counted_from_the_right_by_its_rules():
    import numpy as np

    from nianbao.inference.imaging import find_grid, opencv
    from nianbao.inference.readers.scan import _rules_right
    from nianbao.inference.heuristic import ruled_columns
    from nianbao.schema import Fragment
    from nianbao.templates import load_template

    cv2 = opencv()
    page = np.full((1200, 1000, 3), 255, np.uint8)
    xs = [100, 300, 390, 480, 570, 660, 750, 840, 930]  # label column, then seven value columns
    for y in range(300, 1000, 50):
        cv2.line(page, (100, y), (930, y), (0, 0, 0), 2)
    for x in xs:  # the body's rules run its whole height; the header merges the middle columns
        top = 300 if x in (100, 300, 840, 930) else 400
        cv2.line(page, (x, top), (x, 950), (0, 0, 0), 2)
    grid = find_grid(page)
    segments = grid.segments
    # A cell of the third value column in the body, and the merged header cell above it.
    assert _rules_right((400, 520, 420, 540), segments) == 6
    assert _rules_right((400, 320, 420, 340), segments) == 2
    assert _rules_right((400, 1100, 420, 1120), segments) is None  # below the table: no rule there

    # Blank cells do not shift what the rules say: `2 … 5` in the 1st and 7th columns.
    t = load_template("2021").tables["requests"]
    rows = t.rows_for("split")
    a = Fragment(0, "2", "number", 5, ruled_right=7)
    b = Fragment(1, "5", "number", 5, ruled_right=1)
    assert ruled_columns({0: [a, b]}, t, rows) == {0: 0, 1: 6}
    # Counts that do not fit the row (a half-found grid) give no columns at all.
    assert ruled_columns({0: [a, Fragment(2, "5", "number", 5, ruled_right=9)]}, t, rows) is None


def test_a_minus_left_out_of_a_number_s_box_is_its_sign():
    import numpy as np

    from nianbao.inference import ocr
    from nianbao.inference.imaging import opencv

    cv2 = opencv()

    def ink_only(img):
        cols = np.flatnonzero((img.min(axis=2) < 128).any(axis=0))
        return img[:, cols[0] : cols[-1] + 1] if cols.size else img[:, :4]

    def page_with(prefix: str, gap: int):
        left, digits = ink_only(_glyph(prefix, 22)), ink_only(_glyph("24", 22))
        margin = np.full((digits.shape[0], 60, 3), 255, np.uint8)
        white = np.full((digits.shape[0], gap, 3), 255, np.uint8)
        img = cv2.GaussianBlur(np.concatenate([margin, left, white, digits, margin], axis=1), (3, 3), 0)
        x0 = 60 + left.shape[1] + gap
        return img, ocr.Word("24", 0.99, float(x0), 4.0, float(x0 + digits.shape[1]), float(img.shape[0] - 4))

    img, w = page_with("-", 2)
    assert [v.text for v in ocr.minus_signs(img, [w])] == ["-24"]
    img, w = page_with(" ", 2)
    assert [v.text for v in ocr.minus_signs(img, [w])] == ["24"]
    img, w = page_with("—", 40)  # the dash of the cell before: a column away, and a cell wide
    assert [v.text for v in ocr.minus_signs(img, [w])] == ["24"]


def test_zero_marks_boxed_together_are_cells_of_their_own():
    from nianbao.inference.ocr import Word, marks_apart
    from nianbao.inference.readers.scan import _cells

    # `无无无` in three narrow appeals columns, and `无103` where a 无 cell touches the next number.
    assert [w.text for w in marks_apart(Word("无无无", 0.9, 0, 0, 60, 20))] == ["无", "无", "无"]
    parts = marks_apart(Word("无103", 0.9, 0, 0, 80, 20))
    assert [w.text for w in parts] == ["无", "103"] and parts[0].x1 <= parts[1].x0
    assert [w.text for w in marks_apart(Word("2185", 0.9, 0, 0, 80, 20))] == ["2185"]

    def box(text, x0, x1):
        return (text, 0.99, x0, 100.0, x1, 112.0, False)

    words = [box("无", 300, 312), box("无", 316, 328), box("8", 334, 340)]
    assert [["".join(w[0] for w in c)] for c in _cells(words, [])] == [["无"], ["无"], ["8"]]


def test_one_rule_right_of_every_number_says_nothing_of_columns():
    from nianbao.inference.heuristic import ruled_columns
    from nianbao.schema import Fragment
    from nianbao.templates import load_template

    # A 三线表 scan kept one vertical rule (the frame): every cell sees it, whatever its column.
    t = load_template("2021").tables["active"]
    rows = t.rows_for(None)
    a = Fragment(0, "20", "number", 5, ruled_right=1)
    b = Fragment(1, "22", "number", 6, ruled_right=1)
    assert ruled_columns({0: [a], 1: [b]}, t, rows) is None


def test_blank_zero_active_rows_stand_under_their_glued_titles():
    """An unruled active table whose zeros are blank: each row prints one number, and the header's
    titles are one OCR box led by the row header's own title (`信息内容本年制发件…`)."""
    from nianbao.inference.heuristic import column_at
    from nianbao.schema import Fragment
    from nianbao.templates import load_template

    template = load_template("2021")
    rows = template.tables["active"].rows_for(None)
    head = Fragment(0, "信息内容本年制发件本年废止件现行有效件", "label", 1, bbox=(221.0, 0, 405.0, 10), page=0)
    tails = [Fragment(1 + i, "数", "label", 2, bbox=(x - 4, 12, x + 4, 22), page=0) for i, x in enumerate((272, 315, 358))]
    reg = Fragment(4, "20", "number", 3, bbox=(266.0, 24, 276.0, 34), page=0)
    doc = Fragment(5, "22", "number", 4, bbox=(309.0, 36, 319.0, 46), page=0)
    lic = Fragment(6, "11068", "number", 6, bbox=(298.0, 60, 322.0, 70), page=0)
    frags = [head, *tails, reg, doc, lic]
    assigned = {rows.index(next(r for r in rows if r.key == k)): [f] for k, f in
                (("regulations", reg), ("normative_documents", doc), ("licensing", lic))}
    cols = column_at(assigned, template, "active", None, frags)
    assert cols[reg.id] == 0 and cols[doc.id] == 1  # 本年制发件数, 本年废止件数: not the last column


def test_a_line_of_numbers_alone_gets_the_cells_the_detector_missed():
    """The appeals table prints its cells on one line: no other row shows its columns. What the
    detector missed on it (a digit by a seal, a dash) is found along the line, under its header."""
    import numpy as np

    from nianbao.inference import ocr

    cells = ["—", "71", "5", "—", "9", "18"]
    glyphs = [_glyph(c) for c in cells]
    height = max(g.shape[0] for g in glyphs)
    gap = np.full((height, 40, 3), 255, np.uint8)
    parts, xs, x = [gap], [], 40
    for g in glyphs:
        g = np.concatenate([g, np.full((height - g.shape[0], g.shape[1], 3), 255, np.uint8)])
        xs.append((x, x + g.shape[1]))
        parts += [g, gap]
        x += g.shape[1] + 40
    line = np.concatenate(parts, axis=1)
    header = np.full((60, line.shape[1], 3), 255, np.uint8)
    page = np.concatenate([np.full((20, line.shape[1], 3), 255, np.uint8), header, line,
                           np.full((40, line.shape[1], 3), 255, np.uint8)])
    top, bottom = 80.0 + 6, 80.0 + height - 6
    title = ocr.Word("结果维持结果纠正其他结果尚未审结总计", 0.9, 40.0, 30.0, float(line.shape[1] - 40), 60.0)
    found = [ocr.Word(cells[i], 0.99, float(xs[i][0] + 8), top, float(xs[i][1] - 8), bottom) for i in (1, 4, 5)]
    probed = ocr.probe_rows(ocr.engine(), page, [title, *found])
    got = sorted(probed, key=lambda w: w.x0)
    assert [w.text for w in got] == ["—", "5", "—"]
    assert all(not any(p.x0 < w.x1 and w.x0 < p.x1 for w in found) for p in got)
    # A zero mark read as 无 on the line is one of its cells, not a row label that stops the probe.
    mark = ocr.Word("无", 0.99, float(xs[0][0] + 8), top, float(xs[0][1] - 8), bottom)
    assert [w.text for w in sorted(ocr.probe_rows(ocr.engine(), page, [title, mark, *found]), key=lambda w: w.x0)] == ["5", "—"]


def test_a_faint_line_under_a_header_is_probed_from_one_number_found():
    import numpy as np

    from nianbao.inference import ocr

    # A faint print: the detector found one number of the line and read a faint word cell as a
    # character at low confidence (`坊` for `撤销`). Under a table's header (several titles) the line
    # is still probed; with no header above, one number is not a line of numbers.
    cells = ["4", "1", "5", "3"]
    page, glyphs = _row_of(cells, gap=40)
    header = np.full((80, page.shape[1], 3), 255, np.uint8)
    page = np.concatenate([header, page])
    xs, x = [], 0
    for g in glyphs:
        xs.append((x, x + g.shape[1]))
        x += g.shape[1] + 40
    rows = np.flatnonzero((page[80:].min(axis=2) < 128).any(axis=1)) + 80
    top, bottom = float(rows[0] - 1), float(rows[-1] + 2)
    w = page.shape[1]
    titles = [ocr.Word(t, 0.9, float(i * w / 4), 20.0, float((i + 1) * w / 4 - 4), 60.0)
              for i, t in enumerate(["结果维持", "结果纠正", "其他结果", "总计"])]
    one = ocr.Word("1", 0.99, float(xs[1][0] + 8), top, float(xs[1][1] - 8), bottom)
    smudge = ocr.Word("坊", 0.27, 0.0, top, 6.0, bottom)
    probed = sorted(ocr.probe_rows(ocr.engine(), page, [*titles, one, smudge]), key=lambda w: w.x0)
    assert [p.text for p in probed] == ["4", "5", "3"]
    assert ocr.probe_rows(ocr.engine(), page, [one]) == []


def _sealed(cells: list[str], gap: int, reach: int, width: int):
    """A line of cells as a scan prints it: grey print on grey paper, and a seal's ring, greyer
    still than the print, in strokes across every gap between the cells, top to bottom."""
    import numpy as np

    from nianbao.inference.imaging import opencv

    cv2 = opencv()
    page, glyphs = _row_of(cells, gap)
    page = (130 + page.astype(np.float32) / 255 * 105).astype(np.uint8)
    x = 0
    for g in glyphs[:-1]:
        x += g.shape[1]
        cv2.line(page, (x - 6, 18), (x + reach, page.shape[0] - 20), (200, 200, 200), width)
        x += gap
    return cv2.GaussianBlur(page, (3, 3), 0)


def test_a_run_of_cells_a_seal_s_ring_bridges_is_cut_by_the_print_s_darker_ink():
    from nianbao.inference import ocr

    cells = ["47", "117", "0", "0", "120"]
    page = _sealed(cells, gap=24, reach=30, width=2)
    run = ocr.Word("4711700120", 0.9, 0.0, 20.0, float(page.shape[1] - 1), float(page.shape[0] - 20))
    assert [w.text for w in ocr.split_wide_numbers(ocr.engine(), page, [run])] == cells


def _ink_tight(page, text: str):
    """A detector's box round a page row's ink, from end to end: `text` is what it was read as."""
    import numpy as np

    from nianbao.inference import ocr

    rows = np.flatnonzero((page.min(axis=2) < 128).any(axis=1))
    return ocr.Word(text, 0.87, 0.0, float(rows[0] - 1), float(page.shape[1] - 1), float(rows[-1] + 2))


def _row_of(cells: list[str], gap: int = 24):
    import numpy as np

    glyphs = [_glyph(c) for c in cells]
    space = np.full((glyphs[0].shape[0], gap, 3), 255, np.uint8)
    row = np.concatenate([part for g in glyphs for part in (g, space)][:-1], axis=1)
    return np.concatenate([np.full((20, row.shape[1], 3), 255, np.uint8), row,
                           np.full((20, row.shape[1], 3), 255, np.uint8)]), glyphs


@pytest.mark.parametrize("mark", ["-", "、", "…"])
def test_a_faint_mark_between_two_cells_boxed_as_one_leaves_the_two_numbers(mark):
    from nianbao.inference import ocr

    # `83 - 90` boxed as one `8390`: the mark between reads as no cell (a comma, a point, nothing);
    # the numbers either side hold all the box's digits, so they are its cells.
    page, _ = _row_of(["83", mark, "90"])
    assert [w.text for w in ocr.split_wide_numbers(ocr.engine(), page, [_ink_tight(page, "8390")])] == ["83", "90"]


def test_a_box_far_wider_than_its_digits_is_cut_by_the_print_s_darker_ink():
    from nianbao.inference import ocr

    # `9` `1` `10` in three cells, a seal's grey ring across the gaps: read `9110`, four digits,
    # few enough for one cell, but the box is twice as wide as four digits need.
    page = _sealed(["9", "1", "10"], gap=40, reach=46, width=3)
    # The page's other numbers, above: a digit is 15 wide.
    others = [ocr.Word("57", 0.99, 40.0 * i, 0.0, 40.0 * i + 30, 18.0) for i in range(3)]
    run = ocr.Word("9110", 0.87, 0.0, 20.0, float(page.shape[1] - 1), float(page.shape[0] - 20))
    assert [w.text for w in ocr.split_wide_numbers(ocr.engine(), page, [run, *others])][:3] == ["9", "1", "10"]


def test_a_box_reaching_into_its_neighbour_s_keeps_its_own_number_only():
    import numpy as np

    from nianbao.inference import ocr

    # `41` and `132` side by side; the detector's box of 132 starts on the 1 of 41.
    left, right = _glyph("41"), _glyph("132")
    gap = np.full((left.shape[0], 30, 3), 255, np.uint8)
    page = np.concatenate([left, gap, right], axis=1)
    forty_one = ocr.Word("41", 0.99, 8.0, 4.0, float(left.shape[1] - 8), float(left.shape[0] - 4))
    reach = ocr.Word("132", 0.99, 26.0, 4.0, float(page.shape[1] - 8), float(left.shape[0] - 4))
    assert [w.text for w in ocr.split_wide_numbers(ocr.engine(), page, [forty_one, reach])] == ["41", "132"]


def test_a_paragraph_s_lines_are_placed_unread_and_its_short_last_line_is_no_cell():
    """Prose lines are not recognised (they cost half a text page's OCR time), yet they still tell
    the reader that the paragraph's wrapped end (`…276件。`) is narrative: its number is no cell."""
    from pathlib import Path

    import numpy as np
    from PIL import Image, ImageDraw, ImageFont

    from nianbao.datasets.documents import FONT_PATHS
    from nianbao.inference import ocr
    from nianbao.inference.readers.scan import read_pages

    font = ImageFont.truetype(next(p for p in FONT_PATHS if Path(p).exists()), 28)
    img = Image.new("RGB", (1240, 900), "white")
    draw = ImageDraw.Draw(img)
    para = ["本年度，本机关因政府信息公开工作被申请行政复议27件（其中被纠错3件），被提",
            "起行政诉讼276件。"]
    for i, line in enumerate(para):
        draw.text((100, 300 + 44 * i), line, font=font, fill="black")
    draw.text((100, 500), "结果维持", font=font, fill="black")
    for j, v in enumerate(["2", "89", "91"]):
        draw.text((420 + 160 * j, 560), v, font=font, fill="black")
    page = np.array(img)[:, :, ::-1].copy()

    words, _, _ = ocr.read_page(page)
    prose = [w for w in words if w.prose]
    assert len(prose) == 1 and prose[0].text == "" and prose[0].x1 - prose[0].x0 > 900
    assert not any(w.prose for w in words if w.top > 330)  # the short last line and the table are read
    frags = read_pages([(0, page)], dpi=150)
    numbers = sorted(f.text for f in frags if f.kind == "number")
    assert numbers == ["2", "89", "91"], numbers


def test_paragraph_lines_at_the_page_s_top_are_prose_its_title_is_read():
    from pathlib import Path

    import numpy as np
    from PIL import Image, ImageDraw, ImageFont

    from nianbao.datasets.documents import FONT_PATHS
    from nianbao.inference import ocr

    font = ImageFont.truetype(next(p for p in FONT_PATHS if Path(p).exists()), 28)
    img = Image.new("RGB", (1240, 1754), "white")
    draw = ImageDraw.Draw(img)
    # At the page's head: a title at body size, set in from both margins, then a paragraph's lines
    # from margin to margin (the page's head is kept for titles, not for the paragraph under one).
    draw.text((340, 120), "某某街道2023年政府信息公开工作年度报告", font=font, fill="black")
    lines = ["本报告根据《中华人民共和国政府信息公开条例》和《中华人民共和国政府信息公开",
             "工作年度报告格式》要求编制，全文包括总体情况、主动公开政府信息情况、收到和处理",
             # Lower down, a paragraph with quotes: a comma sits low and a quote high, and the
             # band between them is blank (a paragraph's widest gaps, short of a column gap).
             "本机关严格落实“以公开为常态、不公开为例外”原则，“全年通过门户网站主动公开政府信息",
             "二千余条，其中政策文件若干件，政策解读若干篇，及时回应社会关切，取得良好成效。"]
    for i, line in enumerate(lines):
        draw.text((100, 200 + 44 * i if i < 2 else 500 + 44 * i), line, font=font, fill="black")
    draw.text((100, 900), "结果维持", font=font, fill="black")
    for j, v in enumerate(["2", "89", "91"]):
        draw.text((420 + 160 * j, 960), v, font=font, fill="black")
    words, _, _ = ocr.read_page(np.array(img)[:, :, ::-1].copy())
    prose = sorted((w.top for w in words if w.prose))
    assert len(prose) == 4 and prose[0] < 260 < prose[2], prose
    assert any("年度报告" in w.text for w in words if w.top < 160)  # the title is read
    assert sorted(w.text for w in words if w.top > 940) == ["2", "89", "91"]


def test_appeals_line_columns_are_measured_from_its_first_number():
    # A scanned appeals line whose header OCR garbled: fifteen evenly spaced columns, most cells
    # blank or dashes the detector missed. Counted step by step, the spacings' small errors add up
    # over the blanks and a late number may stand in any of four columns; measured from the first
    # number on the refitted pitch, each is in its own.
    from nianbao.inference.heuristic import spacing_columns
    from nianbao.schema import Fragment

    pitch, jitter = 16.4, [0.8, -1.1, 1.3, -0.6, 1.0, -1.2, 0.4]
    cols = [0, 2, 3, 4, 7, 11, 14]
    nums = [Fragment(i, "2", "number", 9, bbox=(180 + c * pitch + j - 4, 0, 180 + c * pitch + j + 4, 10))
            for i, (c, j) in enumerate(zip(cols, jitter))]
    assert spacing_columns(nums, 15) == {i: (c,) for i, c in enumerate(cols)}


def test_an_appeals_line_is_laid_on_its_columns_by_the_header_above_it():
    # A faint appeals line: only `1 0 0` and a word read `坊` were found, on an even grid, and the
    # header's titles came boxed several to a box (no title per column). The header spans the
    # fifteen columns, so its centre lays the line: `坊` is in the third column, not wherever the
    # line's offsets fit (the arithmetic lets the line stand at two shifts).
    from nianbao.inference.heuristic import header_columns
    from nianbao.schema import Fragment

    left, pitch = 136.0, 21.0

    def box(i, text, kind, line, c0, c1, y):  # text centred over columns c0..c1
        x0, x1 = left + c0 * pitch + 3, left + (c1 + 1) * pitch - 3
        return Fragment(i, text, kind, line, bbox=(x0, y, x1, y + 12))

    header = [box(0, "行政复议", "label", 1, 0, 4, 154), box(1, "行政诉讼", "label", 1, 5, 14, 154),
              box(2, "结果结果其他尚未", "label", 2, 0, 3, 175), box(3, "维持纠正结果审结总计结果结果", "label", 3, 0, 6, 184),
              box(4, "结果其他尚未总计", "label", 3, 11, 14, 184), box(5, "纠正结果审结", "label", 4, 12, 14, 193)]
    line = [box(6, "坊", "label", 5, 2, 2, 206)] + [box(7 + k, v, "number", 5, c, c, 207)
                                                   for k, (v, c) in enumerate([("1", 4), ("0", 5), ("0", 9)])]
    assert header_columns(header + line, 15) == {6: (2,), 7: (4,), 8: (5,), 9: (9,)}
    # A header over only some of the columns says nothing of where the line stands.
    assert header_columns(header[:1] + header[2:3] + line, 15)[6] == tuple(range(0, 8))


def test_a_cell_boxed_twice_on_a_label_s_line_does_not_push_the_rows_below_down():
    # A bitonal 300-dpi scan: a row's first `0.00` comes boxed with its label, another `0.00` as
    # `0` and `00`, so the row's line holds eight numbers for seven cells. The spare is left out;
    # the rows below keep their own numbers (a row label's first number is its row's, the rest of
    # its line may be spare).
    from decimal import Decimal

    from nianbao.inference.heuristic import align_table
    from nianbao.schema import Fragment
    from nianbao.templates import load_template

    zeros = ["0.00", "0", "00", "0.00", "0.00", "0.00", "0.00", "0.00"]
    tpl = load_template("2021")
    rows = [r.key for r in tpl.tables["requests"].rows_for("split")]
    lines = [(r.labels[-1], ["0.00"] * 7) for r in tpl.tables["requests"].rows_for("split")[:6]] + [
             ("3.危及“三安全一稳定”", ["0.00"] * 7), ("(三)不予4.保护第三方合法权益", zeros),
             ("5.属于三类内部事务信", None), (None, ["0.00", "34", "0.00", "0.00", "0.00", "0.00", "34"]),
             ("6.属于四类过程性信息", zeros), ("7.属于行政执法案卷", ["0.00"] * 7)]
    frags: list[Fragment] = []
    for n, (label, cells) in enumerate(lines):
        y = 20.0 * n
        if label:
            frags.append(Fragment(len(frags), label, "label", n, bbox=(150, y, 300, y + 10)))
        for j, v in enumerate(cells or []):
            x = 312 + 28 * j - (8 if len(cells) > 7 and j > 1 else 0)
            frags.append(Fragment(len(frags), v, "number", n, bbox=(x, y, x + 20, y + 10), value=Decimal(v)))
    assigned, _, _ = align_table(frags, tpl, "requests", "split")
    got = {rows[r]: [f.text for f in fs] for r, fs in assigned.items() if fs}
    assert got["denied_internal_affairs"] == ["0.00", "34", "0.00", "0.00", "0.00", "0.00", "34"]
    assert len(got["denied_third_party"]) == 7


def test_blank_scanned_pages_give_a_clear_error_and_do_not_stop_a_report(scanned):
    from PIL import Image

    from nianbao.errors import NotAReport

    buf = io.BytesIO()
    Image.new("RGB", (1240, 1754), "white").save(buf, format="PNG")
    blank = buf.getvalue()
    with pytest.raises(NotAReport, match="E003"):
        reconstruct(scan_pdf([blank]), engine="heuristic")
    # A blank page between two of a report's pages (a scanner's empty back side).
    truth, pages = scanned
    report = reconstruct(scan_pdf(pages[:1] + [blank] + pages[1:]), engine="heuristic")
    gold = gold_json(truth, "x", "x")["cells"]
    wrong = diff_cells(report.cells, gold)
    assert len([w for w in wrong if gold[w[0]]]) <= 0.01 * len([v for v in gold.values() if v]), wrong


def test_columns_of_a_page_of_another_size_are_not_carried_over():
    from nianbao.inference.ocr import carried_columns

    cols = [(703.5, 33.5), (789.0, 20.0)]
    assert carried_columns(cols, 1241, 1241) == cols  # a table going on down the next page
    assert carried_columns(cols, None, 1241) == cols
    assert carried_columns(cols, 1754, 1241) == []  # a landscape page, then a portrait one


def test_generated_scans_include_turned_pages():
    # The generator's scans carry the turns real ones do: table pages on their side or upside down.
    import pypdfium2 as pdfium
    from PIL import Image

    from nianbao.datasets.documents import render_scan, turn_page

    page = Image.new("RGB", (40, 60), "white")
    buf = io.BytesIO()
    page.save(buf, format="PNG")
    assert Image.open(io.BytesIO(turn_page(buf.getvalue(), 90))).size == (60, 40)
    lying = 0
    for seed in range(16):
        rng = random.Random(seed)
        doc = pdfium.PdfDocument(render_scan("scan_pdf", random_truth(rng), rng).data)
        lying += any(doc[i].get_size()[0] > doc[i].get_size()[1] for i in range(1, len(doc)))
    assert 0 < lying < 16
