"""Which body's report for which year, where the report names them (its title, its reporting
period): the columns an analyst groups a batch by. Never a cell value, and empty when unsure."""
from __future__ import annotations

import re

from nianbao.schema import Fragment

_CJK = r"[\u4e00-\u9fff（）()·]"
_REPORT = r"政府信息公开(?:工作)?(?:年度)?报告"
# `XX区人民政府2021年政府信息公开工作年度报告`, `2020年XX街道办事处政府信息公开年度报告`
_BODY_YEAR = re.compile(rf"({_CJK}{{2,40}}?)(20\d\d)年度?{_REPORT}")
_YEAR_BODY = re.compile(rf"(20\d\d)年度?({_CJK}{{2,40}}?){_REPORT}")
_YEAR_ONLY = re.compile(rf"(20\d\d)年度?{_REPORT}")
_SOURCE = re.compile(rf"来源[:：]({_CJK}{{2,40}}?)(?:发布|$|[^\u4e00-\u9fff（）()·])")
_PERIOD = re.compile(r"统计期限自?(20\d\d)年1月1日")
# What a sentence puts before the body's name (`现将XX街道2021年…报告如下`)
_LEAD = re.compile(r"^.*?(?:现将|特将|关于|根据|按照)")
HEAD_CHARS = 3000


def report_meta(fragments: list[Fragment]) -> tuple[str, int | None]:
    """(body, year) from the report's opening text; ("", None) where it does not say."""
    head, n = [], 0
    for f in fragments:
        head.append(f.text)
        n += len(f.text)
        if n > HEAD_CHARS:
            break
    text = re.sub(r"\s+", "", "".join(head))
    hits = [(m.start(), m.group(1), int(m.group(2))) for m in _BODY_YEAR.finditer(text)]
    hits += [(m.start(), m.group(2), int(m.group(1))) for m in _YEAR_BODY.finditer(text)]
    body, year = "", None
    if hits:
        _, name, year = min(hits)
        name = _LEAD.sub("", name)
        if len(name) >= 2 and not name.startswith(("本", "我")):
            body = name
    elif m := _YEAR_ONLY.search(text):
        year = int(m.group(1))
    if not body and (m := _SOURCE.search(text)):  # a web page's "来源:" line names the publisher
        body = m.group(1)
    if year is None and (m := _PERIOD.search(text)):
        year = int(m.group(1))
    return body, year
