"""Readers and the tokenizer on the damaged forms real copies arrive in."""
from decimal import Decimal

import pytest

from nianbao import reconstruct
from nianbao.inference.readers import READERS, pick_reader
from nianbao.inference.readers.base import split_cell


@pytest.mark.parametrize("cell, expected", [
    ("行政许可3012", [("label", "行政许可"), ("number", "3012")]),
    ("1.属于国家秘密", [("label", "1.属于国家秘密")]),
    ("31（其中修订4件）", [("number", "31")]),
    ("采购总金额（单位：万元，保留4位小数）", [("label", "采购总金额(单位:万元,保留4位小数)")]),
    ("38500元", [("number", "38500元")]),
    ("数据3", [("label", "数据3")]),
    ("-", [("number", "-")]),
    ("", [("blank", "")]),
    ("0-14", [("number", "0"), ("number", "-14")]),
    ("数量/1729", [("label", "数量"), ("number", "/"), ("number", "1729")]),
])
def test_split_cell(cell, expected):
    assert [(p.kind, p.text) for p in split_cell(cell)] == expected


def test_units_and_zero_marks_parse():
    assert split_cell("38500元")[0].unit == "元" and split_cell("38500元")[0].value == Decimal(38500)
    assert split_cell("无")[0].value == 0


def test_reader_chosen_by_content_not_extension(seeds_dir):
    html = b"<html><body><table><tr><td>x</td></tr></table></body></html>"
    assert pick_reader(html, ".txt", "a.txt").name == "html"
    text = (seeds_dir / "000_da14f1a2f0dce168.txt").read_bytes()
    assert pick_reader(text, ".html", "a.html").name == "text"
    assert {"text", "html"} <= set(READERS)


HTML = """<html><head><script>var n = 99;</script></head><body>
<div class=nav><table><tr><td>首页</td><td>2021-01-29</td><td>访问 1024</td></tr></table></div>
<p>二、主动公开政府信息情况</p>
<table border=1>
<tr><td colspan=4>第二十条第（一）项</td></tr>
<tr><td>信息内容</td><td>本年<span>制发</span>件数</td><td>本年废止件数</td><td>现行有效件数</td></tr>
<tr><td>规章</td><td>&nbsp;</td><td>0</td><td>5</td></tr>
<tr><td><span>行政规</span><span>范性</span><span>文件</span><o:p></o:p></td><td>1</td><td>0</td><td>12</td></tr>
<tr><td colspan=4>第二十条第（五）项</td></tr>
<tr><td>信息内容</td><td colspan=3>本年处理决定数量</td></tr>
<tr><td>行政许可</td><td colspan=3>1,837</td></tr>
<tr><td colspan=4>第二十条第（六）项</td></tr>
<tr><td>行政处罚</td><td colspan=3>335</td></tr><tr><td>行政强制</td><td colspan=3>&nbsp;</td></tr>
<tr><td colspan=4>第二十条第（八）项</td></tr>
<tr><td>信息内容</td><td colspan=3>本年收费金额（单位：万元）</td></tr>
<tr><td>行政事业性收费</td><td colspan=3>1.5</td></tr>
</table>
<p>三、收到和处理政府信息公开申请情况</p>
<table><tr><td rowspan=2>（本列数据的勾稽关系为：第一项加第二项之和，等于第三项加第四项之和）</td><td colspan=7>申请人情况</td></tr>
<tr><td>自然人</td><td>商业企业</td><td>科研机构</td><td>社会公益组织</td><td>法律服务机构</td><td>其他</td><td>总计</td></tr>
<tr><td>一、本年新收政府信息公开申请数量</td><td>3</td><td>1</td><td>0</td><td>0</td><td>0</td><td>0</td><td>4</td></tr>
<tr><td>四、结转下年度继续办理</td><td>0</td><td>0</td><td>0</td><td>0</td><td>0</td><td>0</td><td>&nbsp;</td></tr>
</table>
<table><tr><td>网站标识码 123456</td></tr></table>
</body></html>"""


def test_html_spans_blanks_entities_and_page_chrome():
    report = reconstruct(HTML.encode())
    c = report.cells
    assert report.format == "2021"
    assert (c["active.regulations.issued"], c["active.regulations.repealed"], c["active.regulations.in_force"]) == (0, 0, 5)
    assert (c["active.normative_documents.issued"], c["active.normative_documents.in_force"]) == (1, 12)
    assert c["active.licensing.decisions"] == 1837 and c["active.punishment.decisions"] == 335
    assert c["active.coercion.decisions"] == 0 and c["active.fees.amount_wan"] == 1.5
    assert report.provenance["active.regulations.issued"].method == "inferred"  # a blank cell
    assert c["requests.new_received.total"] == 4
    assert "appeals" in report.missing_tables


def test_a_row_of_zero_marks_between_two_labels_is_that_row_s_zeros():
    """A text layer that puts one row's dash zeros and the next row's wrapped label on one line."""
    pieces = split_cell("信息公开申请 - - - - - - - 2.申请人逾期未按收费通知要")
    assert [p.kind for p in pieces] == ["label"] + ["number"] * 7 + ["label"]
    assert pieces[0].text == "信息公开申请" and pieces[-1].text == "2.申请人逾期未按收费通知要"
    # One dash among words is a bullet or a dash of the sentence, not a cell.
    assert [p.kind for p in split_cell("- 规章 - 规范性文件")] == ["label"]


def test_a_date_in_a_table_cell_is_no_numbers():
    """A converter put the running header, print date and all, in a table row: the date is one
    label, not the numbers 2021, 1, 14."""
    for date in ("2021-01-14", "2021年1月14日", "2023-01-19 09:36"):
        assert [(p.text, p.kind) for p in split_cell(date)] == [(date, "label")]
    assert [p.kind for p in split_cell("2021")] == ["number"]  # a count stays a count
