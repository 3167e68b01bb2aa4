"""Serialization styles, each a named function registered in STYLES.

A style turns a Truth into a document (text or bytes) in one of the forms real copies arrive in,
with that form's typical damage. Every style also writes the narrative around the tables, whose
own numbers often contradict them (distractors).
"""
from __future__ import annotations

import html as htmllib
import random
from dataclasses import dataclass, field
from typing import Callable

from .layout import Damage, PTable, active_table, appeals_tables, grid, requests_table
from .tables import Truth


@dataclass
class Document:
    data: bytes
    ext: str
    notes: str = ""
    printed: list[tuple[str, str]] = field(default_factory=list)  # (key, text) of value cells in print order
    dropped: list[str] = field(default_factory=list)  # keys of cells the style removed


STYLES: dict[str, Callable[[Truth, random.Random], Document]] = {}
_PRINTED: list[tuple[str, str]] = []  # filled by _compose for the document being made


def render(name: str, truth: Truth, rng: random.Random) -> Document:
    """Make one document in style `name`, with the printed value cells it holds."""
    if name not in STYLES:
        raise ValueError(f"unknown style {name!r}; allowed: {', '.join(STYLES)}")
    _PRINTED.clear()
    doc = STYLES[name](truth, rng)
    if not doc.printed:  # styles that print through _compose; documents set their own
        doc.printed = [(k, t) for k, t in _PRINTED if k not in set(doc.dropped)]
    return doc


def style(name: str):
    def deco(fn):
        STYLES[name] = fn
        return fn

    return deco


_PLACES = ["青山区", "东湖街道", "城关镇", "高新区管委会", "市司法局", "县教育局", "新华街道", "红旗镇", "区住建局", "市审计局"]


def _narrative(truth: Truth, rng: random.Random) -> dict[str, list[str]]:
    year = 2020 if truth.format == "2019" else rng.choice([2021, 2022, 2023])
    place = rng.choice(_PLACES)
    n_req = int(truth.cells.get("requests.new_received.total", 0))
    wrong = n_req + rng.choice([0, 1, 3, 12])
    return {
        "title": [f"{place}{year}年政府信息公开工作年度报告"],
        "intro": [
            "一、总体情况",
            f"{year}年，{place}认真贯彻落实《中华人民共和国政府信息公开条例》，全年主动公开政府信息{rng.randint(50, 900)}条。",
            f"全年共收到政府信息公开申请{wrong}件，予以公开{rng.randint(0, 9)}件，办结率100%。",
        ],
        "active": ["二、主动公开政府信息情况"],
        "requests": ["三、收到和处理政府信息公开申请情况"] + (
            [f"{year}年，共收到依申请公开事项{wrong}项。"] if rng.random() < 0.5 else []),
        "appeals": ["四、政府信息公开行政复议、行政诉讼情况"] + (
            [f"{year}年，收到行政复议{rng.randint(0, 3)}起，均已办结。"] if rng.random() < 0.5 else []),
        "outro": ["五、存在的主要问题及改进情况", f"一是公开质量有待提升，二是培训不足，下一步将开展培训{rng.randint(1, 9)}次。",
                  "六、其他需要报告的事项", "无。", place, f"{year + 1}年1月{rng.randint(1, 28)}日"],
    }


def _tables(truth: Truth, rng: random.Random, dmg: Damage, split_appeals: bool = False) -> list[PTable]:
    return [active_table(truth, rng, dmg), requests_table(truth, rng, dmg),
            *appeals_tables(truth, rng, dmg, split=split_appeals)]


def _compose(truth: Truth, rng: random.Random, dmg: Damage, render_table, *, split_appeals=None,
             paragraph=lambda s: s, sep="\n") -> str:
    """Narrative and tables in report order; `render_table` serializes one PTable to text."""
    split_appeals = rng.random() < 0.15 if split_appeals is None else split_appeals
    nar = _narrative(truth, rng)
    tables = _tables(truth, rng, dmg, split_appeals)
    _PRINTED[:] = [(c.key, c.text) for pt in tables for row in grid(pt) for c in row if c is not None and c.key]
    parts = [paragraph(x) for x in nar["title"] + nar["intro"]]
    for name in ("active", "requests", "appeals"):
        parts += [paragraph(x) for x in nar[name]]
        parts += [render_table(pt) for pt in tables if pt.name == name]
    parts += [paragraph(x) for x in nar["outro"]]
    return sep.join(parts)


def _damage(rng: random.Random, **kw) -> Damage:
    base = dict(zero_marker_p=0.03 if rng.random() < 0.3 else 0.0, label_noise_p=0.1,
                money_in_yuan=rng.random() < 0.1, money_suffix=rng.random() < 0.2)
    base.update(kw)
    return Damage(**base)


# --- Markdown ---------------------------------------------------------------------------------------
def _md_rows(pt: PTable, expand: bool) -> list[list[str]]:
    """Rows of cell texts; `expand` writes spans as blank cells (converters), else only origins."""
    if expand:
        return [[c.text if c else "" for c in row] for row in grid(pt)]
    return [[c.text for c in row] + [""] * (pt.width - sum(c.colspan for c in row)) for row in pt.rows]


@style("markdown")
def markdown(truth: Truth, rng: random.Random) -> Document:
    dmg = _damage(rng, blank_zero_p=0.02 if rng.random() < 0.3 else 0.0)

    def render(pt: PTable) -> str:
        rows = _md_rows(pt, expand=True)
        lines = ["| " + " | ".join(r) + " |" for r in rows]
        lines.insert(1, "|" + "---|" * pt.width)
        return "\n".join(lines)

    return Document(_compose(truth, rng, dmg, render).encode(), "md")


@style("markdown_broken")
def markdown_broken(truth: Truth, rng: random.Random) -> Document:
    """Multi-level headers split over rows, merged cells repeated or blanked, rows padded like seed 003."""
    dmg = _damage(rng, label_noise_p=0.35)

    def render(pt: PTable) -> str:
        rows = _md_rows(pt, expand=True)
        if pt.name == "requests" and rng.random() < 0.3:  # a header row repeated inside the table
            at = rng.randint(pt.header_rows + 3, len(rows) - 2)
            rows = rows[:at] + [rows[rng.randrange(pt.header_rows)]] + rows[at:]
        out = []
        for i, r in enumerate(rows):
            if i < pt.header_rows and rng.random() < 0.3:
                r = [x if rng.random() < 0.7 else "" for x in r]  # garbled header
            if rng.random() < 0.2:
                r = r + [""] * rng.randint(1, 3)  # ragged padding
            out.append("| " + " | ".join(r) + " |")
            if i == 0:
                out.append("|" + "----|" * len(r))
        return "\n".join(out)

    return Document(_compose(truth, rng, dmg, render, sep="\n\n").encode(), "md")


@style("markdown_seed")
def markdown_seed(truth: Truth, rng: random.Random) -> Document:
    """`label | v | v |` rows without leading pipes, padded with `||` (seeds 000 and 002)."""
    dmg = _damage(rng)

    def render(pt: PTable) -> str:
        lines = []
        for row in pt.rows:
            cells = [c.text for c in row]
            pad = pt.width - sum(c.colspan for c in row)
            lines.append(" | ".join(cells) + " |" + "|" * pad)
        return "\n".join(lines)

    return Document(_compose(truth, rng, dmg, render).encode(), "md")


@style("ocr_markdown")
def ocr_markdown(truth: Truth, rng: random.Random) -> Document:
    """OCR'd Markdown: a few request/appeal rows lose one cell; the arithmetic must restore it."""
    dmg = _damage(rng, label_noise_p=0.3)
    dropped = []

    def render(pt: PTable) -> str:
        rows = _md_rows(pt, expand=True)
        out = []
        for i, (r, prow) in enumerate(zip(rows, grid(pt))):
            keyed = [j for j, c in enumerate(prow) if c is not None and c.key]
            if pt.name == "requests" and keyed and rng.random() < 0.12:
                j = rng.choice(keyed)
                dropped.append(prow[j].key)
                r = r[:j] + r[j + 1 :]
            out.append("| " + " | ".join(r) + " |")
            if i == 0:
                out.append("|" + "---|" * len(r))
        return "\n".join(out)

    text = _compose(truth, rng, dmg, render, sep="\n\n")
    return Document(text.encode(), "md", notes="dropped: " + ", ".join(dropped) if dropped else "", dropped=dropped)


@style("pdf_markdown")
def pdf_markdown(truth: Truth, rng: random.Random) -> Document:
    """PDF-converter Markdown: row labels pushed out of the table, generic 数据1..N headers, page cut."""
    dmg = _damage(rng, generic_header=True)

    def render(pt: PTable) -> str:
        if pt.name != "requests":
            rows = _md_rows(pt, expand=False)
            return "\n".join(["| " + " | ".join(r) + " |" for r in rows])
        g = grid(pt)
        labels, body = [], []
        for prow in g[pt.header_rows :]:
            labels.append("".join(c.text for c in prow if c is not None and not c.key))
            body.append([c.text for c in prow if c is not None and c.key])
        head = "| " + " | ".join(f"数据{i + 1}" for i in range(7)) + " |\n|" + "---|" * 7
        cut = rng.randint(5, len(body) - 3)
        part1 = "\n".join("| " + " | ".join(b) + " |" for b in body[:cut])
        part2 = "\n".join("| " + " | ".join(b) + " |" for b in body[cut:])
        return "\n".join(labels) + "\n\n" + head + "\n" + part1 + f"\n\n— {rng.randint(2, 9)} —\n\n" + head + "\n" + part2

    return Document(_compose(truth, rng, dmg, render, sep="\n\n").encode(), "md")


# --- tab rows, one cell per line, flattened text ------------------------------------------------
@style("tsv")
def tsv(truth: Truth, rng: random.Random) -> Document:
    """Tab-separated rows; the applicant header may omit 总计 (seed 001)."""
    dmg = _damage(rng, unfilled_total=rng.random() < 0.1)

    def render(pt: PTable) -> str:
        lines = []
        for prow in grid(pt):
            cells = [c.text if c else "" for c in prow]
            if not any(c and c.key for c in prow) and "总计" in cells and rng.random() < 0.5:
                cells = [x for x in cells if x != "总计"]
            lines.append("\t".join(cells).rstrip("\t") if rng.random() < 0.5 else "\t".join(cells))
        return "\n".join(lines)

    return Document(_compose(truth, rng, dmg, render, sep="\n\n").encode("gb18030" if rng.random() < 0.3 else "utf-8"), "txt")


@style("lines")
def lines(truth: Truth, rng: random.Random) -> Document:
    """One cell per line, inside a saved web page's text (seed 004)."""
    dmg = _damage(rng)

    def render(pt: PTable) -> str:
        return "\n\n".join(c.text for row in pt.rows for c in row if c.text != "" or c.key)

    chrome_top = "选择语言\n\n您当前所在位置: 首页 > 政务公开 > 政府信息公开年报\n\n"
    body = _compose(truth, rng, dmg, render, sep="\n\n", paragraph=lambda s: "  " + s)
    bom = b"\xef\xbb\xbf" if rng.random() < 0.3 else b""
    return Document(bom + (chrome_top + body + "\n\n扫一扫在手机打开当前页\n").encode(), "txt")


@style("flattened")
def flattened(truth: Truth, rng: random.Random) -> Document:
    """A PDF text layer: each row one line, cells joined by a space or glued, page chrome mixed in."""
    dmg = _damage(rng)
    page = [rng.randint(2, 5)]
    glue_p = rng.choice([0.0, 0.05, 0.15])

    def render(pt: PTable) -> str:
        out = []
        for row in pt.rows:
            text = ""
            prev_num = False
            for c in row:
                if not c.text:
                    continue
                is_num = c.key is not None
                sep = "" if (text == "" or (is_num and rng.random() < glue_p and (prev_num or not text[-1].isdigit()))) else " "
                text += sep + c.text
                prev_num = is_num
            out.append(text)
            if rng.random() < 0.04:
                out.append(f"— {page[0]} —")
                out.append("政府信息公开工作年度报告")
                page[0] += 1
        return "\n".join(out)

    return Document(_compose(truth, rng, dmg, render).encode(), "txt")


# --- HTML ---------------------------------------------------------------------------------------
def _html_table(pt: PTable, cell_html=lambda text: htmllib.escape(text) if text else "&nbsp;", attrs="") -> str:
    rows = []
    for row in pt.rows:
        tds = []
        for c in row:
            span = (f' colspan="{c.colspan}"' if c.colspan > 1 else "") + (f' rowspan="{c.rowspan}"' if c.rowspan > 1 else "")
            tds.append(f"<td{span}>{cell_html(c.text)}</td>")
        rows.append("<tr>" + "".join(tds) + "</tr>")
    return f"<table border=\"1\"{attrs}>\n" + "\n".join(rows) + "\n</table>"


@style("html")
def html(truth: Truth, rng: random.Random) -> Document:
    dmg = _damage(rng, blank_zero_p=0.05 if rng.random() < 0.4 else 0.0)
    body = _compose(truth, rng, dmg, _html_table, paragraph=lambda s: f"<p>{htmllib.escape(s)}</p>")
    return Document(f"<html><head><meta charset=\"utf-8\"></head><body>\n{body}\n</body></html>".encode(), "html")


@style("html_word")
def html_word(truth: Truth, rng: random.Random) -> Document:
    """Word-pasted HTML: labels split over many <span>s, <o:p> blanks, mso attributes."""
    dmg = _damage(rng)

    def cell(text: str) -> str:
        if not text:
            return "<p class=MsoNormal><span><o:p>&nbsp;</o:p></span></p>"
        pieces, i = [], 0
        while i < len(text):
            j = min(len(text), i + rng.randint(1, 4))
            pieces.append(f"<span style='font-family:宋体;mso-bidi-font-size:10.5pt'>{htmllib.escape(text[i:j])}</span>")
            i = j
        return "<p class=MsoNormal align=center style='text-align:center'>" + "".join(pieces) + "<o:p></o:p></p>"

    body = _compose(truth, rng, dmg, lambda pt: _html_table(pt, cell, " class=MsoNormalTable"),
                    paragraph=lambda s: f"<p class=MsoNormal><span>{htmllib.escape(s)}</span><o:p></o:p></p>")
    return Document(f"<html xmlns:o=\"urn:schemas-microsoft-com:office:office\"><body>\n{body}\n</body></html>".encode(), "html")


@style("html_page")
def html_page(truth: Truth, rng: random.Random) -> Document:
    """A whole saved web page: navigation, scripts and unrelated tables around the report."""
    dmg = _damage(rng)
    body = _compose(truth, rng, dmg, _html_table, paragraph=lambda s: f"<p>{htmllib.escape(s)}</p>")
    nav = ("<div class=nav><ul><li><a href=/>首页</a></li><li>政务公开</li><li>互动交流</li></ul></div>"
           "<table><tr><td>发布时间：2021-01-29</td><td>浏览次数：1024</td></tr></table>")
    script = "<script>var x = [1, 2, 3]; document.write('访问量 12345');</script><style>td{font-size:12px}</style>"
    foot = ("<table><tr><td>主办单位：人民政府办公室</td><td>电话：0469-5818672</td></tr>"
            "<tr><td>网站标识码 2300000012</td><td>备案号 12345678</td></tr></table>")
    page = f"<!DOCTYPE html><html><head><title>年报</title>{script}</head><body>{nav}<div class=content>{body}</div>{foot}</body></html>"
    return Document(page.encode("gb18030" if rng.random() < 0.3 else "utf-8"), "html")



@style("crawled")
def crawled(truth: Truth, rng: random.Random) -> Document:
    """A site crawler's copy of the report's web page: every text node joined with nothing between
    them, the whole report on one line (a space now and then), share/print chrome at the ends."""
    import lxml.html

    dmg = _damage(rng)
    body = _compose(truth, rng, dmg, _html_table, paragraph=lambda s: f"<p>{htmllib.escape(s)}</p>")
    root = lxml.html.fromstring(f"<div>{body}</div>")
    text = ""
    for node in root.itertext():
        node = node.replace("\xa0", "").strip()
        if node:
            text += (" " if text and rng.random() < 0.04 else "") + node
    head = rng.choice(["", "首页 > 政务公开 > 政府信息公开年报", "当前位置：首页>信息公开>年度报告"])
    tail = rng.choice(["", "【打印本页】【关闭窗口】", "扫一扫在手机打开当前页", "主办单位：技术支持：【打印本页】"])
    return Document((head + text + tail).encode("utf-8"), "txt")


def _register_documents() -> None:
    # Documents (PDF) styles live in documents.py; importing it registers them.
    from . import documents  # noqa: F401


_register_documents()
TEXT_STYLES = [s for s in STYLES if s != "pdf_text"]


# Layouts kept out of STYLES (and so out of the default training data): they show what retraining
# on a handful of labelled reports of a new layout does.
HOLDOUT_STYLES: dict[str, Callable[[Truth, random.Random], Document]] = {}


def _label_last(truth: Truth, rng: random.Random) -> Document:
    """Pipe rows with the row label printed after the numbers (a right-hand label column)."""
    dmg = _damage(rng)

    def render(pt: PTable) -> str:
        lines = []
        for row in pt.rows:
            labels = [c.text for c in row if not c.key]
            values = [c.text for c in row if c.key]
            lines.append("| " + " | ".join(values + labels) + " |")
        return "\n".join(lines)

    return Document(_compose(truth, rng, dmg, render).encode(), "md")


HOLDOUT_STYLES["label_last"] = _label_last


def render_any(name: str, truth: Truth, rng: random.Random) -> Document:
    """`render` for STYLES and HOLDOUT_STYLES alike."""
    if name in HOLDOUT_STYLES:
        STYLES[name] = HOLDOUT_STYLES[name]
        try:
            return render(name, truth, rng)
        finally:
            del STYLES[name]
    return render(name, truth, rng)
