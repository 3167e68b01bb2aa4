"""The printed layout of the three tables as a grid of cells with spans, before serialization.

Styles (datasets/styles.py) turn this grid into Markdown, tab rows, lines, flattened text or HTML,
damaging it on the way. Value cells carry their key so that every generated token has a label.
"""
from __future__ import annotations

import random
from dataclasses import dataclass, field
from decimal import Decimal

from nianbao.templates import Template

from .tables import Truth


@dataclass
class PCell:
    text: str
    key: str | None = None  # value cells: the cell key (or keys, for a glued run) they print
    colspan: int = 1
    rowspan: int = 1


@dataclass
class PTable:
    name: str
    width: int
    rows: list[list[PCell]] = field(default_factory=list)
    header_rows: int = 0  # leading rows that are header (no values)


@dataclass
class Damage:
    """Switchable damage applied while printing values and labels."""

    zero_marker_p: float = 0.0  # print a zero as - / 无
    blank_zero_p: float = 0.0  # leave a zero empty
    unfilled_total: bool = False  # leave the requests 总计 column empty
    label_noise_p: float = 0.0  # spaces inside labels, bracket width swaps
    money_in_yuan: bool = False  # print amounts in 元
    money_suffix: bool = False  # print amounts with a 万元 suffix
    generic_header: bool = False  # 数据1..N instead of the printed headers


def fmt_money(v: Decimal, dmg: Damage) -> str:
    if dmg.money_in_yuan:
        y = (v * 10000).normalize()
        return f"{y:f}元"
    s = f"{v.normalize():f}"
    return s + ("万元" if dmg.money_suffix else "")


def value_text(v: Decimal, key: str, t: Template, rng: random.Random, dmg: Damage) -> str:
    table, row, col = key.split(".")
    column = t.tables[table].column(col)
    if column.money:
        return fmt_money(v, dmg)
    if v == 0 and table != "active":
        if col == "total" and dmg.unfilled_total:
            return ""
        r = rng.random()
        if r < dmg.blank_zero_p:
            return ""
        if r < dmg.blank_zero_p + dmg.zero_marker_p:
            return rng.choice(["-", "/", "无"])
    if table == "requests" and col == "total" and dmg.unfilled_total:
        return ""
    return str(int(v)) if v == v.to_integral_value() else f"{v.normalize():f}"


def noisy(label: str, rng: random.Random, dmg: Damage) -> str:
    if rng.random() >= dmg.label_noise_p or len(label) < 3:
        return label
    r = rng.random()
    if r < 0.4:
        i = rng.randint(1, len(label) - 1)
        return label[:i] + " " + label[i:]
    if r < 0.7:
        return label.replace("（", "(").replace("）", ")")
    if r < 0.85:
        return label.replace("行政规范性文件", "规范性文件").replace("（六）其他处理", "（六）其他")
    return label.replace("，", ",").replace("、", ",")


_SECTIONS_2021 = [("第二十条第（一）项", ["regulations", "normative_documents"]),
                  ("第二十条第（五）项", ["licensing"]), ("第二十条第（六）项", ["punishment", "coercion"]),
                  ("第二十条第（八）项", ["fees"])]
_SECTIONS_2019 = [("第二十条第（一）项", ["regulations", "normative_documents"]),
                  ("第二十条第（五）项", ["licensing", "other_services"]),
                  ("第二十条第（六）项", ["punishment", "coercion"]), ("第二十条第（八）项", ["fees"]),
                  ("第二十条第（九）项", ["procurement"])]


def active_table(truth: Truth, rng: random.Random, dmg: Damage) -> PTable:
    t = truth.template
    tab = t.tables["active"]
    width = 4
    pt = PTable("active", width)
    rows = {r.key: r for r in tab.rows}
    for title, keys in (_SECTIONS_2021 if truth.format == "2021" else _SECTIONS_2019):
        pt.rows.append([PCell(noisy(title, rng, dmg), colspan=width)])
        cols = tab.row_columns(rows[keys[0]])
        span = width - 1 - len(cols)
        heads = [PCell(noisy(tab.column(c).labels[0], rng, dmg)) for c in cols]
        heads[-1].colspan += span
        pt.rows.append([PCell("信息内容"), *heads])
        for rk in keys:
            r = rows[rk]
            cells = [PCell(value_text(truth.cells[f"active.{rk}.{c}"], f"active.{rk}.{c}", t, rng, dmg),
                           key=f"active.{rk}.{c}") for c in tab.row_columns(r)]
            cells[-1].colspan += span
            label = r.labels[0]
            if truth.format == "2021" and rk == "normative_documents" and rng.random() < 0.2:
                label = "规范性文件"
            pt.rows.append([PCell(noisy(label, rng, dmg)), *cells])
    return pt


def _row_parts(row) -> tuple[str, str]:
    """(group prefix, own label): `（三）不予公开1.属于国家秘密` → (（三）不予公开, 1.属于国家秘密)."""
    full, short = row.labels[0], row.labels[-1]
    if full != short and full.endswith(short):
        return full[: -len(short)], short
    return "", full


def requests_table(truth: Truth, rng: random.Random, dmg: Damage) -> PTable:
    t = truth.template
    tab = t.tables["requests"]
    rows = tab.rows_for(truth.variant)
    pt = PTable("requests", 10, header_rows=3)
    corner = "（本列数据的勾稽关系为：第一项加第二项之和，等于第三项加第四项之和）"
    if dmg.generic_header:
        pt.rows.append([PCell("", colspan=3), *[PCell(f"数据{i + 1}") for i in range(7)]])
        pt.header_rows = 1
    else:
        pt.rows.append([PCell(corner, colspan=3, rowspan=3), PCell("申请人情况", colspan=7)])
        pt.rows.append([PCell("自然人", rowspan=2), PCell("法人或其他组织", colspan=5), PCell("总计", rowspan=2)])
        pt.rows.append([PCell(noisy(x, rng, dmg)) for x in ["商业企业", "科研机构", "社会公益组织", "法律服务机构", "其他"]])
    keys = [r.key for r in rows]
    res = keys[keys.index("granted") : keys.index("results_total") + 1]
    groups: dict[str, int] = {}
    for r in rows:
        prefix, _ = _row_parts(r)
        if prefix and r.key != "granted":
            groups[r.key] = 0
    # group sizes: rows until the next group start or the end of results
    group_rows: dict[str, int] = {}
    current = None
    for k in res[1:-1]:
        if k == "other":
            current = None
            continue
        if k in groups:
            current = k
            group_rows[k] = 0
        if current:
            group_rows[current] += 1
    for r in rows:
        values = [PCell(value_text(truth.cells[f"requests.{r.key}.{c.key}"], f"requests.{r.key}.{c.key}", t, rng, dmg),
                        key=f"requests.{r.key}.{c.key}") for c in tab.columns]
        prefix, own = _row_parts(r)
        own, prefix = noisy(own, rng, dmg), noisy(prefix, rng, dmg)
        if r.key in ("new_received", "carried_over", "carried_forward"):
            pt.rows.append([PCell(own, colspan=3), *values])
        elif r.key == "granted":
            pt.rows.append([PCell(noisy("三、本年度办理结果", rng, dmg), rowspan=len(res)),
                            PCell(own, colspan=2), *values])
        elif r.key in group_rows:
            pt.rows.append([PCell(prefix, rowspan=group_rows[r.key]), PCell(own), *values])
        elif r.key in ("partially_granted", "results_total", "other"):
            pt.rows.append([PCell(own, colspan=2), *values])
        else:
            pt.rows.append([PCell(own), *values])
    return pt


def appeals_tables(truth: Truth, rng: random.Random, dmg: Damage, split: bool = False) -> list[PTable]:
    t = truth.template
    cols = ["upheld", "corrected", "other", "pending", "total"]
    heads = ["结果维持", "结果纠正", "其他结果", "尚未审结", "总计"]
    vals = {r.key: [PCell(value_text(truth.cells[f"appeals.{r.key}.{c}"], f"appeals.{r.key}.{c}", t, rng, dmg),
                          key=f"appeals.{r.key}.{c}") for c in cols] for r in t.tables["appeals"].rows}
    if split:
        out = []
        for key, title in [("review", "行政复议"), ("suit_direct", "行政诉讼（未经复议直接起诉）"),
                           ("suit_after_review", "行政诉讼（复议后起诉）")]:
            pt = PTable("appeals", 5, header_rows=2)
            pt.rows.append([PCell(title, colspan=5)])
            pt.rows.append([PCell(noisy(h, rng, dmg)) for h in heads])
            pt.rows.append(vals[key])
            out.append(pt)
        return out
    pt = PTable("appeals", 15, header_rows=3)
    pt.rows.append([PCell("行政复议", colspan=5), PCell("行政诉讼", colspan=10)])
    pt.rows.append([*[PCell(noisy(h, rng, dmg), rowspan=2) for h in heads],
                    PCell("未经复议直接起诉", colspan=5), PCell("复议后起诉", colspan=5)])
    pt.rows.append([PCell(noisy(h, rng, dmg)) for h in heads * 2])
    pt.rows.append(vals["review"] + vals["suit_direct"] + vals["suit_after_review"])
    return [pt]


def grid(pt: PTable) -> list[list[PCell | None]]:
    """Expand spans: the origin keeps the cell, covered positions hold None."""
    out: list[list[PCell | None]] = []
    taken: dict[tuple[int, int], bool] = {}
    for r, row in enumerate(pt.rows):
        while len(out) <= r:
            out.append([None] * pt.width)
        c = 0
        for cell in row:
            while taken.get((r, c)):
                c += 1
            for dr in range(cell.rowspan):
                for dc in range(cell.colspan):
                    taken[(r + dr, c + dc)] = True
            if c < pt.width:
                out[r][c] = cell
            c += cell.colspan
    return out
