"""One-line crawler text and converter dumps: the damaged text most real copies are.

The property tests (test_property.py) reconstruct random consistent tables in the generator's
`crawled` and `pdf_dump` styles; these tests pin the individual phenomena."""
import json
import random
import subprocess
import sys

import pytest

from nianbao import reconstruct
from nianbao.datasets.styles import render
from nianbao.datasets.tables import gold_json, random_truth
from nianbao.errors import NianbaoError
from nianbao.inference.readers.stream import cut_stream, unglue
from nianbao.inference.readers.text import read_lines


def _crawled(seed: int, fmt: str | None = None):
    rng = random.Random(seed)
    while True:
        truth = random_truth(rng)
        if fmt is None or truth.format == fmt:
            break
    return truth, render("crawled", truth, rng).data.decode("utf-8")


def test_crawled_report_is_one_line_and_reconstructs():
    truth, text = _crawled(3)
    assert "\n" not in text
    report = reconstruct(text.encode(), engine="heuristic")
    gold = gold_json(truth, "x", "x")["cells"]
    wrong = [k for k, v in gold.items() if abs(float(report.cells[k]) - float(v)) > 1e-6]
    # The active table has no arithmetic: a glued run there may be cut more than one way, and
    # then the cell says so; the requests and appeals tables come back exactly.
    assert all(k.startswith("active.") and k in report.ambiguous for k in wrong), wrong
    assert report.missing_tables == []


def _fold(text: str, width: int) -> str:
    return "\n".join(text[i : i + width] for i in range(0, len(text), width))


def _zero_width(text: str) -> str:
    return "".join(ch + ("\u200b" if i % 7 == 3 else "") for i, ch in enumerate(text))


WRAPPINGS = {
    "nodes joined by tabs": lambda t: t.replace(" ", "\t"),
    "entities kept": lambda t: t.replace(" ", "&nbsp;"),
    "zero-width spaces": _zero_width,
    "full-width digits and points": lambda t: t.translate(str.maketrans("0123456789.", "０１２３４５６７８９．")),
    "folded at 80 characters": lambda t: _fold(t, 80),
    "folded at 500 characters": lambda t: _fold(t, 500),
}


@pytest.mark.parametrize("wrapping", WRAPPINGS)
def test_crawled_text_as_tools_keep_it_reads_as_the_clean_text(wrapping):
    """What a crawler or a tool after it does to the one-line text (tab-joined nodes, `&nbsp;`
    entities, zero-width spaces, full-width digits, a fold at a fixed width) changes no cell."""
    for seed in (3, 7):
        _, text = _crawled(seed)
        assert " " in text  # the stray spaces a crawler keeps are what a tab or an entity replaces
        clean = reconstruct(text.encode(), engine="heuristic").cells
        damaged = reconstruct(WRAPPINGS[wrapping](text).encode(), engine="heuristic").cells
        assert damaged == clean


def test_a_text_with_its_own_line_breaks_is_not_unwrapped():
    from nianbao.inference.readers.text import unwrap

    rng = random.Random(4)
    truth = random_truth(rng)
    for style in ("flattened", "markdown", "markdown_broken", "ocr_markdown", "lines", "tsv"):
        text = render(style, truth, rng).data.decode("utf-8")
        assert unwrap(text) == text, style


def test_row_numbering_glued_to_the_previous_rows_digits_belongs_to_the_label():
    line = ("三、收到和处理政府信息公开申请情况申请人情况自然人商业企业总计"
            "4.保护第三方合法权益00000005.属于三类内部事务信息0000000"
            "6.属于四类过程性信息10000012.重复申请0000000") * 2
    rows = cut_stream(line)
    assert "4.保护第三方合法权益0000000" in rows
    assert "5.属于三类内部事务信息0000000" in rows
    assert "6.属于四类过程性信息1000001" in rows


def test_stream_header_glued_to_numbers_and_illegible_word_stay_cells():
    _, text = _crawled(5)
    head, _, _ = text.partition("五、存在的主要问题")
    frags = read_lines(*unglue(head + "尚未审结总计00撤销0 10000000000五、存在的主要问题及改进情况下一步加强培训。"))
    tail = [f for f in frags if f.text in ("撤销", "00", "10000000000")]
    assert [f.kind for f in tail] == ["number", "label", "number"]
    assert tail[0].glued and tail[2].glued  # a stream's digit runs may hold several cells


def test_one_line_text_without_report_tables_is_E003():
    text = ("本报告根据《中华人民共和国政府信息公开条例》编制。全年主动公开政府信息2820条，其中政策文件62件，"
            "行政许可事项办理情况良好，行政处罚决定书均已公开。") * 30
    with pytest.raises(NianbaoError) as exc:
        reconstruct(text.encode(), engine="heuristic")
    assert exc.value.code == "E003"


def test_one_line_report_cut_inside_a_table_gives_what_it_has():
    truth, text = _crawled(8, fmt="2021")
    cut = text[: text.index("5.属于三类内部事务信息")]
    report = reconstruct(cut.encode(), engine="heuristic")
    assert report.missing_tables == ["appeals"]
    assert "tables not found: appeals" in report.notes
    gold = gold_json(truth, "x", "x")["cells"]
    assert report.cells["requests.new_received.total"] == gold["requests.new_received.total"]
    assert not any(k.startswith("appeals.") for k in report.cells)


DUMP = """二、主动公开政府信息情况
第二十条第（一）项
信息内容
本年制发
件数
本年废
止件数
现行有
效件数
规章 0 0 0
行政规范
— 22 —
性文件
左街〔2022〕44号 公开方式：主动公开
左岭街道办事处 2022年1月19日印发 共5页
第 2 页 共 5 页
第二十条第（五）项
信息内容 本年处理决定数量
行政许可 1837
第二十条第（六）项
本年度作出行政处罚决定335件，其中罚款决定30件，没收违法所得决定2
件。
政务新媒体粉丝数累积超 2860 万
信息内容 本年处理决定数量
行政处罚 335
行政强制 0
第二十条第（八）项
信息内容 本年收费金额（单位：万元）
行政事业性收费 0
左街〔2022〕44号 公开方式：主动公开
左岭街道办事处 2022年1月19日印发 共5页
第 3 页 共 5 页
三、收到和处理政府信息公开申请情况
申请人情况
自然人 商业企业 科研机构 社会公益组织 法律服务机构 其他 总计
一、本年新收政府信息公开申请数量 2185 6 64 2255
二、上年结转政府信息公开申请数量
（一）予以公开 2185 6 64 2255
四、结转下年度继续办理
"""


def test_converter_dump_chrome_footers_and_narrative_are_not_cells():
    report = reconstruct(DUMP.encode(), engine="heuristic")
    c = report.cells
    # `— 22 —` between the two halves of a wrapped label is that row: 0, 22, 0.
    assert [c[f"active.normative_documents.{k}"] for k in ("issued", "repealed", "in_force")] == [0, 22, 0]
    assert c["active.licensing.decisions"] == 1837 and c["active.punishment.decisions"] == 335
    # The running header (`…2022年1月19日印发 共5页`) and the narrative's `2件。` are no cells.
    assert c["active.coercion.decisions"] == 0 and c["active.fees.amount_wan"] == 0
    # A row printed with no numbers at all is a blank row, not a slot for the next row's numbers.
    assert c["requests.carried_over.total"] == 0 and c["requests.granted.total"] == 2255


RAW_DUMP = """二、主动公开政府信息情况
第二十条第（一）项
信息内容
本年制发件
数
本年废止件
数
现行有效件
数
规章 20 — —
行政规范
性文件
— 22 —
第二十条第（五）项
信息内容 本年处理决定数量
行政许可 11068
三、收到和处理政府信息公开申请情况
申请人情况
自然人 商业企业 科研机构 社会公益组织 法律服务机构 其他 总计
一、本年新收政府信息公开申请数量 3 0 0 0 0 0 3
二、上年结转政府信息公开申请数量 0 0 0 0 0 0 0
三、本年度办理结果
（一）予以公开 3 0 0 0 0 0 3
（七）总计 3 0 0 0 0 0 3
四、结转下年度继续办理
第 4 页 共 5 页
"""


def test_raw_dump_row_numbers_after_a_wrapped_label_are_no_footer():
    # `pdftotext -raw` prints a wrapped label whole, then its row: `— 22 —` waits on 行政规范性文件
    # (a page footer never waits on a label). `第 4 页 共 5 页` after a label is still a footer.
    report = reconstruct(RAW_DUMP.encode(), engine="heuristic")
    c = report.cells
    assert [c[f"active.normative_documents.{k}"] for k in ("issued", "repealed", "in_force")] == [0, 22, 0]
    assert c["requests.carried_forward.total"] == 0 and c["requests.carried_forward.natural_person"] == 0


@pytest.mark.parametrize("engine", ["heuristic", "model"])
def test_a_number_alone_between_spaces_is_one_cell_where_the_dump_glues_nothing(engine):
    # pdfplumber's text of a table whose zeros print blank: `规章 86` is 86 in one of three columns
    # (which one, no text says), never 8 and 6 with a blank.
    text = DUMP.replace("规章 0 0 0", "规章 86")
    report = reconstruct(text.encode(), engine=engine)
    row = [report.cells[f"active.regulations.{k}"] for k in ("issued", "repealed", "in_force")]
    assert sorted(row) == [0, 0, 86], row
    # The same line in a layer that does glue cells (a run with a leading 0 proves it) is cut.
    glued = DUMP.replace("规章 0 0 0", "规章 086")
    row = [reconstruct(glued.encode(), engine="heuristic").cells[f"active.regulations.{k}"]
           for k in ("issued", "repealed", "in_force")]
    assert row == [0, 8, 6], row


def test_blank_zeros_are_placed_by_the_row_sum_not_cut_out_of_a_number():
    report = reconstruct(DUMP.encode(), engine="heuristic")
    row = [report.cells[f"requests.new_received.{k}"] for k in
           ("natural_person", "commercial", "research", "social_welfare", "legal_services", "other_org", "total")]
    assert row[0] == 2185 and row[-1] == 2255 and sum(row[:-1]) == 2255  # 2255 is never cut into 2|2|55


def test_generator_pdf_dump_style_is_a_real_converter_dump():
    rng = random.Random(1)
    truth = random_truth(rng)
    doc = render("pdf_dump", truth, rng)
    assert doc.ext == "txt" and doc.notes in ("pdftotext-raw", "pdftotext-layout", "pdfplumber")
    assert "申请人情况" in doc.data.decode("utf-8")


def test_evaluate_scores_labelled_case_folders_per_set_and_engine(tmp_path):
    for style, n in (("crawled", 2), ("flattened", 1)):
        for i in range(n):
            rng = random.Random(100 + i)
            truth = random_truth(rng)
            case = tmp_path / "dev" / style / f"case{i}"
            case.mkdir(parents=True)
            (case / "input.txt").write_bytes(render(style, truth, rng).data)
            (case / "gold.json").write_text(json.dumps(gold_json(truth, f"case{i}", "input.txt")), "utf-8")
    md = tmp_path / "results.md"
    r = subprocess.run([sys.executable, "-m", "nianbao.cli", "evaluate", tmp_path / "dev", "--engine",
                        "heuristic,model", "--md", md, "--out", tmp_path / "scores.json"],
                       capture_output=True, text=True, timeout=600)
    assert r.returncode == 0, r.stderr
    table = md.read_text("utf-8")
    for s in ("crawled", "flattened"):
        for e in ("heuristic", "model"):
            assert any(line.startswith(f"| {s} | {e} |") for line in table.splitlines()), table
    scores = json.loads((tmp_path / "scores.json").read_text())
    assert [s["engine"] for s in scores] == ["heuristic", "model"]
    assert scores[0]["groups"]["crawled"]["reports"] == 2 and scores[0]["groups"]["crawled"]["nonzero"] > 0


def _layout_row(label: str, cells: list[str]) -> str:
    """A `pdftotext -layout` line: the label, then each cell right-aligned in a 9-wide column
    (a blank cell is spaces); the whole line shifted by the label's width, as -layout does."""
    return label + "    " + "".join(c.rjust(9) for c in cells)


def _layout_table() -> str:
    """The 2021 requests table as -layout text: the rows with numbers print their zeros blank, so
    the arithmetic cannot tell which columns 3 and 5 are in; only where they stand can."""
    from nianbao.templates import load_template

    rows = load_template("2021").tables["requests"].rows_for("split")
    blanks = ["12", "", "", "3", "", "5", "20"]
    lines = ["三、收到和处理政府信息公开申请情况", "申请人情况",
             "自然人 商业企业 科研机构 社会公益组织 法律服务机构 其他 总计"]
    for r in rows:
        cells = {"new_received": blanks, "granted": blanks, "results_total": blanks}.get(r.key, ["0"] * 7)
        lines.append(_layout_row(r.labels[0], cells))
    return "\n".join(lines) + "\n"


LAYOUT = _layout_table()


def test_column_aligned_dump_places_tokens_under_their_columns():
    report = reconstruct(LAYOUT.encode(), engine="heuristic")
    row = [report.cells[f"requests.new_received.{k}"] for k in
           ("natural_person", "commercial", "research", "social_welfare", "legal_services", "other_org", "total")]
    # 3 and 5 stand under 社会公益组织 and 其他 (the rows of zeros give each column's offset).
    assert row == [12, 0, 0, 3, 0, 5, 20]


def test_a_long_pipe_row_keeps_its_cells():
    row = "| 申请人情况 | 自然人 | 商业企业 | 科研机构 | 社会公益组织 | 法律服务机构 | 其他 | 总计 |" + " " * 200 + "|"
    text, cut = unglue(row)
    assert text == row and not cut
    assert [f.col for f in read_lines(text)][:8] == list(range(8))


def test_a_crawl_broken_only_between_tables_is_still_cut_into_rows():
    truth, text = _crawled(21, fmt="2021")
    for heading in ("二、主动公开政府信息情况", "三、收到和处理政府信息公开申请情况", "四、政府信息公开行政复议",
                    "五、存在的主要问题"):
        text = text.replace(heading, "\n" + heading)
    assert len(text.splitlines()[1]) < 200  # the active table on a line of its own, short
    report = reconstruct(text.encode(), engine="heuristic")
    gold = gold_json(truth, "x", "x")["cells"]
    wrong = [k for k, v in gold.items() if abs(float(report.cells[k]) - float(v)) > 1e-6]
    assert all(k.startswith("active.") and k in report.ambiguous for k in wrong), wrong


def _layout_appeals(cells: list[str]) -> str:
    """The appeals table as `pdftotext -layout` prints a narrow-column header: each title wrapped
    one character a line, standing over its column, and the zeros printed blank."""
    titles = ["结果维持", "结果纠正", "其他结果", "尚未审结", "总计"] * 3
    xs = [11 + 5 * j for j in range(15)]
    lines = ["四、政府信息公开行政复议、行政诉讼情况", " " * 15 + "行政复议" + " " * 30 + "行政诉讼"]
    for i in range(4):
        row = [" "] * 90
        for x, t in zip(xs, titles):
            if i < len(t):
                row[x] = t[i]
        lines.append("".join(row).rstrip())
    row = [" "] * 90
    for x, c in zip(xs, cells):
        row[x : x + len(c)] = c
    lines.append("".join(row).rstrip())
    return "\n".join(lines) + "\n"


@pytest.mark.parametrize("engine", ["heuristic", "model"])
def test_layout_appeals_numbers_go_under_their_header_titles(engine):
    cells = ["2", "", "89", "", "91", "", "", "2", "", "2", "105", "27", "1", "", "133"]
    report = reconstruct(_layout_appeals(cells).encode(), engine=engine)
    keys = [f"appeals.{r}.{c}" for r in ("review", "suit_direct", "suit_after_review")
            for c in ("upheld", "corrected", "other", "pending", "total")]
    # The sums alone cannot tell 89 from a 结果纠正 or a 其他结果: where it stands can.
    assert [report.cells[k] for k in keys] == [int(c or 0) for c in cells]


@pytest.mark.parametrize("engine", ["heuristic", "model"])
def test_layout_appeals_lines_of_random_counts_with_blank_zeros(engine):
    # Where a -layout line's numbers stand says which of the 15 cells each is; the model engine
    # takes that position (row and column) as the heuristic reads it, as it does for other tables.
    keys = [f"appeals.{r}.{c}" for r in ("review", "suit_direct", "suit_after_review")
            for c in ("upheld", "corrected", "other", "pending", "total")]
    rng = random.Random(7)
    for _ in range(8):
        cells = []
        for _ in range(3):
            parts = [rng.choice([0, 0, rng.randint(1, 9), rng.randint(10, 120)]) for _ in range(4)]
            cells += [str(p) if p else "" for p in parts] + [str(sum(parts)) if sum(parts) else ""]
        report = reconstruct(_layout_appeals(cells).encode(), engine=engine)
        assert [report.cells[k] for k in keys] == [int(c or 0) for c in cells], cells


@pytest.mark.parametrize("engine", ["heuristic", "model"])
def test_layout_row_with_one_number_stands_under_its_column_not_the_last(engine):
    text = "\n".join([
        "二、主动公开政府信息情况", "第二十条第（一）项",
        "                           本年制发 本年废止 现行有效",
        "                   信息内容",
        "                            件数   件数   件数",
        "                   规章               86",
        "                   行政规范性",
        "                             0      457     0",
        "                   文件", "第二十条第（五）项", "信息内容  本年处理决定数量", "行政许可  5", ""])
    report = reconstruct(text.encode(), engine=engine)
    assert [report.cells[f"active.normative_documents.{c}"] for c in ("issued", "repealed", "in_force")] == [0, 457, 0]
    assert [report.cells[f"active.regulations.{c}"] for c in ("issued", "repealed", "in_force")] == [0, 86, 0]


def _place(items) -> str:
    line = ""
    for col, text in items:
        line = line.ljust(col - len(text) // 2) + text
    return line


def test_blank_zero_rows_stand_under_the_header_titles():
    # No row prints every cell, so only the titles (one glued run of them on the second header
    # line, as -layout prints a narrow header) say which column the 3 is in; the sums cannot.
    cols = [40, 48, 52, 57, 63, 67, 76]  # the centres of the glued titles, from column 46
    titles = ["自然人", "商业企业", "科研机构", "社会公益组织", "法律服务机构", "其他", "总计"]
    filled = {0: "5", 3: "3", 6: "8"}
    rows = [("一、本年新收政府信息公开申请数量", filled), ("二、上年结转政府信息公开申请数量", {}),
            ("三、本年度办理结果（一）予以公开", filled), ("（二）部分公开（区分处理的，只计这一情形，不计其他情形）", {}),
            ("（七）总计", filled), ("四、结转下年度继续办理", {})]
    lines = ["三、收到和处理政府信息公开申请情况", _place([(57, "申请人情况")]),
             _place([(cols[0], titles[0]), (57, "法人或其他组织"), (cols[6], titles[6])]),
             " " * 46 + "".join(titles[1:6])]
    lines += [_place([(len(label) // 2 + 2, label)] + [(cols[j], v) for j, v in cells.items()]) for label, cells in rows]
    report = reconstruct("\n".join(lines).encode(), engine="heuristic")
    keys = ("natural_person", "commercial", "research", "social_welfare", "legal_services", "other_org", "total")
    assert [report.cells[f"requests.new_received.{k}"] for k in keys] == [5, 0, 0, 3, 0, 0, 8]
    assert not report.ambiguous


def test_a_page_laid_out_anew_keeps_its_own_columns():
    # pdftotext -layout lays out each page on its own: after the page break the columns stand
    # elsewhere, and a blank-zero row there is laid on its own page's full rows (found by CI).
    sys.path.insert(0, str(__import__("pathlib").Path(__file__).parent))
    from test_property import check

    check("pdf_dump", 479001600, 0.0)


def test_layout_appeals_digit_between_two_titles_is_placed_by_the_arithmetic():
    # A character grid rounds a one-digit cell in a three-character column half a column off its
    # title (`总计` at 21, its `1` at 23, 维持 at 24): either column, and the sums say which.
    head = ["四、政府信息公开行政复议、行政诉讼情况",
            "              行政复议                           行政诉讼",
            "                           未经复议直接起诉        复议后起诉",
            "         结果 结果 其他 尚未",
            "                     总计 结果 结果 其他 尚未    结果 结果 其他 尚未",
            "         维持 纠正 结果 审结                总计             总计",
            "                        维持 纠正 结果 审结    维持 纠正 结果 审结"]
    row = [" "] * 60
    for j, c in {1: "2", 4: "2", 5: "0", 6: "0", 7: "0", 8: "0", 9: "0", 10: "1", 14: "1"}.items():
        row[9 + 3 * j + 2] = c
    report = reconstruct(("\n".join(head + ["".join(row).rstrip()]) + "\n").encode(), engine="heuristic")
    c = report.cells
    assert c["appeals.review.total"] == 2 and c["appeals.suit_after_review.total"] == 1
    assert sum(c[f"appeals.review.{k}"] for k in ("upheld", "corrected", "other", "pending")) == 2
    assert all(c[f"appeals.suit_direct.{k}"] == 0 for k in ("upheld", "corrected", "other", "pending", "total"))



def test_a_row_s_numbers_left_of_the_previous_ones_start_the_next_row():
    # Zeros printed blank and each label wrapped round its numbers' line (a scan's centred cells):
    # packing the next row's numbers into this one would leave that row empty, which is cheap,
    # but a row's cells run left to right: a number left of the last one starts the next row.
    from nianbao.templates import load_template

    def line(label, cells):
        row = list(label) + [" "] * (100 - len(label))
        for j, c in cells.items():
            row[32 + 9 * j : 32 + 9 * j + len(c)] = c
        return "".join(row).rstrip()

    values = {"new_received": {0: "2", 1: "1", 6: "3"}, "granted": {0: "2", 6: "2"},
              "partially_granted": {1: "1", 6: "1"}, "results_total": {0: "2", 1: "1", 6: "3"}}
    lines = ["三、收到和处理政府信息公开申请情况", "申请人情况",
             line("", dict(enumerate(["自然人", "商业企业", "科研机构", "社会公益", "法律服务", "其他", "总计"])))]
    for r in load_template("2021").tables["requests"].rows_for("split"):
        label = r.labels[0]
        if r.key in values:
            lines += [label[:-2], line("", values[r.key]), label[-2:]]
        else:  # printed in full, or blank
            lines.append(label if r.key in ("carried_over", "carried_forward") else line(label, {j: "0" for j in range(7)}))
    report = reconstruct(("\n".join(lines) + "\n").encode(), engine="heuristic")
    for key, cells in values.items():
        assert [report.cells[f"requests.{key}.{c}"] for c in ("natural_person", "commercial", "total")] == \
            [int(cells.get(j, 0)) for j in (0, 1, 6)], key


def test_appeals_blank_cells_are_placed_by_the_numbers_spacing_where_titles_run_together():
    # The header's titles come as one run (a scan boxes them together), so they cannot say where
    # the columns are; the numbers' spacing can: a blank cell leaves twice the usual gap.
    cells = ["1", "", "31", "", "32", "13", "9", "", "119", "141", "106", "", "76", "1", "183"]
    row = [" "] * 100
    for j, c in enumerate(cells):
        row[20 + 5 * j : 20 + 5 * j + len(c)] = c
    text = "\n".join(["四、政府信息公开行政复议、行政诉讼情况", "行政复议行政诉讼未经复议直接起诉复议后起诉",
                      "结果维持结果纠正其他结果尚未审结总计", "".join(row).rstrip()]) + "\n"
    report = reconstruct(text.encode(), engine="heuristic")
    keys = [f"appeals.{r}.{c}" for r in ("review", "suit_direct", "suit_after_review")
            for c in ("upheld", "corrected", "other", "pending", "total")]
    assert [report.cells[k] for k in keys] == [int(c or 0) for c in cells]


def test_columns_no_row_prints_in_full_come_from_all_rows_numbers_stacked():
    from nianbao.inference.heuristic import stacked_columns
    from nianbao.schema import Fragment
    from nianbao.templates import load_template

    # Zeros printed as dashes the detector skipped: no row shows all seven cells, and three
    # columns show none at all; stacked, the rows' numbers stand at 0, 1, 5, 6 pitches.
    t = load_template("2021").tables["requests"]
    rows = t.rows_for("split")
    xs = [240.0, 274.0, 308.0, 342.0, 376.0, 410.0, 444.0]

    def num(i, r, j):
        return Fragment(i, "1", "number", r, bbox=(xs[j] - 4, 10.0 * r, xs[j] + 4, 10.0 * r + 9))

    assigned = {r: [num(10 * r + k, r, j) for k, j in enumerate(cols)]
                for r, cols in enumerate([(0, 1, 5, 6), (0, 5, 6), (1, 6), (0, 1, 5), (5, 6)])}
    mid = stacked_columns(assigned, t, rows, 7)
    assert mid is not None and all(abs(a - b) < 1 for a, b in zip(mid, xs))
    # Spacings that are no whole number of pitches: no columns.
    assigned[4] = [Fragment(99, "1", "number", 4, bbox=(325.0, 40.0, 333.0, 49.0))]
    assert stacked_columns(assigned, t, rows, 7) is None


def _pipe_rows(text: str, change) -> str:
    out = []
    for line in text.splitlines():
        s = line.strip()
        if s.startswith("|") and s.endswith("|") and not set(s) <= set("|-: "):
            line = "|" + "|".join(change(s[1:-1].split("|"))) + "|"
        out.append(line)
    return "\n".join(out)


@pytest.mark.parametrize("seed", [3, 8, 13])
def test_empty_columns_a_pdf_to_markdown_tool_adds_are_no_cells(seed):
    """A PDF→Markdown converter (markitdown's tables) lays a row's text on a column grid of its
    own: empty columns stand between a row's numbers, at other places in each row. They are
    padding, not zeros: the printed numbers keep their cells."""
    rng = random.Random(seed)
    truth = random_truth(rng)
    text = render("markdown", truth, rng).data.decode("utf-8")

    def pad(cells):
        for _ in range(2):
            cells.insert(rng.randrange(1, len(cells) + 1), "  ")
        return cells

    report = reconstruct(_pipe_rows(text, pad).encode(), engine="heuristic")
    gold = gold_json(truth, "x", "x")["cells"]
    assert {k: v for k, v in gold.items() if report.cells[k] != v} == {}


def test_zeros_printed_as_empty_markdown_cells_are_still_cells():
    rng = random.Random(5)
    truth = random_truth(rng)
    text = render("markdown", truth, rng).data.decode("utf-8")
    blank = _pipe_rows(text, lambda cells: ["  " if c.strip() == "0" else c for c in cells])
    assert blank != text
    report = reconstruct(blank.encode(), engine="heuristic")
    gold = gold_json(truth, "x", "x")["cells"]
    assert {k: v for k, v in gold.items() if report.cells[k] != v} == {}


@pytest.mark.parametrize("seed", [3, 7, 11])
def test_one_cell_a_line_with_blank_zeros_keeps_each_row_its_numbers(seed):
    # pypdf's text of a PDF whose zeros print blank: every label and every number on a line of its
    # own, the blanks gone. A row label alone on its line still names the numbers after it: the
    # row before must not run on over it and take them.
    from nianbao.datasets.styles import _compose, _damage

    rng = random.Random(seed)
    truth = random_truth(rng, fmt="2021")
    dmg = _damage(rng, blank_zero_p=1.0, zero_marker_p=0.0, label_noise_p=0.0)
    text = _compose(truth, rng, dmg, lambda pt: "\n".join(c.text for row in pt.rows for c in row if c.text != ""),
                    split_appeals=False)
    report = reconstruct(text=text, engine="heuristic")
    gold = gold_json(truth, "x", "x")["cells"]
    # Which of a row's blank columns a number stands in no text says; which row it is, the labels do.
    totals = [k for k in gold if k.startswith("requests.") and k.endswith(".total")]
    assert {k: float(report.cells[k]) for k in totals} == {k: float(gold[k]) for k in totals}
