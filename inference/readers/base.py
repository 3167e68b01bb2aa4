"""Reader registry, input decoding and the cell tokenizer shared by every reader.

A reader turns a document into fragments. It is chosen by sniffing the content (not only the
extension): each registered reader says how sure it is that it can read the bytes.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from decimal import Decimal
from typing import Callable, Protocol

from nianbao.errors import EmptyInput, UnreadableInput
from nianbao.schema import Fragment
from nianbao.text import INVISIBLE, nfkc


class Reader(Protocol):
    name: str

    def sniff(self, data: bytes, suffix: str) -> float: ...

    def read(self, data: bytes, source: str, config=None) -> list[Fragment]: ...


READERS: dict[str, Reader] = {}


def register_reader(cls):
    """Class decorator: adding a reader is one module and this one line."""
    READERS[cls.name] = cls()
    return cls


def pick_reader(data: bytes, suffix: str, source: str) -> Reader:
    if not data.strip():
        raise EmptyInput("the file is empty", source=source)
    scored = sorted(((r.sniff(data, suffix), name) for name, r in READERS.items()), reverse=True)
    best, name = scored[0]
    if best <= 0:
        raise UnreadableInput("not a text, HTML, PDF or image document that nianbao can read", source=source)
    return READERS[name]


# --- decoding ---------------------------------------------------------------------------------
_CONTROL = re.compile(r"[\x00-\x08\x0e-\x1f\x7f]")


def decode(data: bytes, source: str) -> str:
    """UTF-8 (with or without BOM) or GB18030/GBK; anything else is a clear error."""
    if data.startswith(b"\xef\xbb\xbf"):
        data = data[3:]
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        text = _try(data, "utf-16")
    else:
        text = _try(data, "utf-8") or _not_big5(_try(data, "gb18030"), data, source) or _nearly_utf8(data)
    if text is None:
        raise UnreadableInput("unknown text encoding (tried UTF-8, UTF-16 with BOM and GB18030)", source=source)
    if len(_CONTROL.findall(text[:20000])) > max(8, len(text[:20000]) // 200):
        raise UnreadableInput("binary data, not a text document", source=source)
    text = INVISIBLE.sub("", text)
    if not re.search(r"[\u4e00-\u9fff]", text):
        raise UnreadableInput("no Chinese text found: unknown encoding or not a report", source=source)
    return text


def _not_big5(text: str | None, data: bytes, source: str) -> str | None:
    """GB18030 decodes nearly any bytes, Big5 too: a Big5 (traditional Chinese) file read as GBK
    is mojibake that would end in a puzzling E003, so it gets its own error."""
    if text is None or "政府" in text:
        return text
    big5 = _try(data, "big5")
    if big5 is not None and ("政府" in big5 or "資訊" in big5 or "公開" in big5):
        raise UnreadableInput("the text is Big5 (traditional Chinese); convert it to UTF-8 or GB18030 in "
                              "simplified Chinese first (e.g. opencc -c t2s)", source=source)
    return text


def replaced_bytes(data: bytes) -> int:
    """How many bytes a damaged UTF-8 text had replaced when it was read (0 for clean text)."""
    if data.startswith(b"\xef\xbb\xbf"):
        data = data[3:]
    if data.startswith((b"\xff\xfe", b"\xfe\xff")) or _try(data, "utf-8") is not None or _try(data, "gb18030") is not None:
        return 0
    return data.decode("utf-8", errors="replace").count("\ufffd")


REPLACED_SHARE = 0.001  # UTF-8 with at most this share of bad bytes is a damaged UTF-8 file, not another encoding


def _nearly_utf8(data: bytes) -> str | None:
    """A UTF-8 report with a corrupt byte or two (a bad sector, a cut multi-byte character): the
    bad bytes become U+FFFD, which no label or number holds, so only that spot is lost."""
    text = data.decode("utf-8", errors="replace")
    bad = text.count("\ufffd")
    return text if bad <= max(2, REPLACED_SHARE * len(text)) else None


def _try(data: bytes, encoding: str) -> str | None:
    try:
        return data.decode(encoding)
    except UnicodeDecodeError:
        return None


# --- tokenizing one cell or line ----------------------------------------------------------------
ZERO_MARKS = {"-", "/", "—", "——", "－", "无", "–", "\\", "—/—", "/-"}
_NOTE_AFTER_NUMBER = re.compile(r"(?<=\d)\s*[（(][^（()）]*[）)]")
_NUM = re.compile(r"(?<![\d.])(-?\d+(?:,\d{3})*(?:\.\d+)?)(\s*(?:万元|元|件|个|项|人次|宗))?")
_GLUED_NEGATIVE = re.compile(r"(?<=\d)-(?=\d)")  # "0-14": a 0 and a -14 glued by a text layer
_GENERIC_HEADER = re.compile(r"^(数据|列|栏|字段|column|col|field)\s*\d{1,2}$", re.I)
_CJK = re.compile(r"[\u4e00-\u9fffA-Za-z]")
_LABEL_AFTER = re.compile(r"^(?:\s?[.、．]\s?[^\d\s]|[年月日号条项位%％)）])")
PROSE_END = re.compile(r"[。；！？!?]")


@dataclass
class Piece:
    text: str
    kind: str  # label / number / blank
    value: Decimal | None = None
    unit: str = ""


# A cell that is a date (`2021-01-14`, `2021年1月14日`, a print stamp's `2023-01-19 09:36`): a running
# header a converter put in a table row, never three numbers.
_DATE = re.compile(r"20\d\d\s*[-/.年]\s*\d{1,2}\s*[-/.月]\s*\d{1,2}\s*日?(?:\s+\d{1,2}:\d\d(?::\d\d)?)?")


def split_cell(text: str) -> list[Piece]:
    """Split one cell's text into label and number pieces.

    `行政许可3012` → 行政许可 | 3012; `1.属于国家秘密` stays one label (numbering);
    `31（其中修订4件）` → 31 (a note after a number is not a cell); `2021年` stays label.
    """
    t = nfkc(text).strip()
    if not t or t in {"\xa0"}:
        return [Piece("", "blank")]
    if t in ZERO_MARKS:
        return [Piece(t, "number", Decimal(0))]
    if _GENERIC_HEADER.match(t) or _DATE.fullmatch(t):
        return [Piece(t, "label")]
    t = _NOTE_AFTER_NUMBER.sub("", t)
    t = _GLUED_NEGATIVE.sub(" -", t)
    pieces: list[Piece] = []
    pos = 0
    label_buf = ""
    for m in _NUM.finditer(t):
        start, end = m.span()
        before = t[start - 1] if start > 0 else " "
        after = t[m.end(1) :]
        if m.group(2):
            after = t[end:]
        if _is_label_part(before, after, m):
            continue
        label_buf += t[pos:start]
        _flush_label(label_buf, pieces)
        label_buf = ""
        unit = (m.group(2) or "").strip()
        num = m.group(1).replace(",", "")
        pieces.append(Piece(m.group(0).strip(), "number", Decimal(num), unit if unit in ("万元", "元") else ""))
        pos = end
    _flush_label(label_buf + t[pos:], pieces)
    return _split_trailing_marks(pieces)


def _split_trailing_marks(pieces: list[Piece]) -> list[Piece]:
    """`数量/1729`: a zero mark stuck to the end of a row label, in a row of numbers, is a 0."""
    if not any(p.kind == "number" for p in pieces):
        return pieces
    out: list[Piece] = []
    for p in pieces:
        t = p.text
        if p.kind == "label" and len(t) > 2 and t[-1] in "-/—无" and _CJK.match(t[-2]):
            out += [Piece(t[:-1], "label"), Piece(t[-1], "number", Decimal(0))]
        else:
            out.append(p)
    return out


def _flush_label(text: str, pieces: list[Piece]) -> None:
    """Label text between numbers; zero marks (- / 无) among numbers are zeros, not labels.
    A row of marks may stand between two labels too, where a text layer put one row's zeros and
    the next row's wrapped label on one line (`信息公开申请 - - - - 2.申请人逾期…`)."""
    words = text.split()
    if not words:
        return
    if all(w in ZERO_MARKS for w in words):
        pieces.extend(Piece(w, "number", Decimal(0)) for w in words)
        return
    n = len(words)
    while n > 1 and words[n - 1] in ZERO_MARKS:  # `规范性文件 / / 30`: every trailing mark is a 0
        n -= 1
    label: list[str] = []
    i = 0
    while i < n:
        j = i
        while j < n and words[j] in ZERO_MARKS:
            j += 1
        # Two marks or more in a row are zeros; one alone among words may be a bullet or a dash.
        if j - i >= 2:
            if label:
                pieces.append(Piece(" ".join(label), "label"))
                label = []
            pieces.extend(Piece(w, "number", Decimal(0)) for w in words[i:j])
            i = j
        else:
            label.append(words[i])
            i += 1
    if label:  # the text as printed where no mark was taken out of it
        pieces.append(Piece(text.strip() if len(label) == len(words) else " ".join(label), "label"))
    pieces.extend(Piece(w, "number", Decimal(0)) for w in words[n:])


def _is_label_part(before: str, after: str, m: re.Match) -> bool:
    if m.group(2):  # a unit makes it a quantity
        return False
    if _LABEL_AFTER.match(after):
        return True
    if before in "第(（" :
        return True
    # Digits between two letters/CJK chars are part of a label (保留4位小数, 第20条).
    if _CJK.match(before) and after[:1] and _CJK.match(after[:1]):
        return True
    return False


class FragmentBuilder:
    """Accumulates fragments with running ids so readers stay short."""

    def __init__(self):
        self.fragments: list[Fragment] = []

    def add(self, text: str, kind: str, line: int, col: int = 0, **kw) -> Fragment:
        f = Fragment(id=len(self.fragments), text=text, kind=kind, line=line, col=col, **kw)
        self.fragments.append(f)
        return f

    def add_cell(self, text: str, line: int, col: int, *, glued: bool = False, keep_blank: bool = True,
                 **kw) -> None:
        """Tokenize a cell; consecutive label pieces stay one fragment."""
        if PROSE_END.search(text) and len(text) > 12:
            self.add(text.strip(), "prose", line, col, **kw)
            return
        pieces = split_cell(text)
        numbers = sum(p.kind == "number" for p in pieces)
        # Several numbers in one cell, or digits after a label, mean cells were merged or glued.
        glued = glued or numbers >= 2 or (numbers >= 1 and any(p.kind == "label" for p in pieces))
        for p in pieces:
            if p.kind == "blank" and not keep_blank:
                continue
            is_glued = glued and p.kind == "number" and GLUABLE.match(p.text) is not None
            self.add(p.text, p.kind, line, col, value=p.value, unit=p.unit, glued=is_glued, **kw)


GLUABLE = re.compile(r"^-?\d{2,}(\.\d+)?(万元|元)?$")


_CHROME = [
    re.compile(r"^[-—–－\s]*\d{1,4}[-—–－\s]*$"),  # page footer "— 5 —"; a bare number is not chrome
    re.compile(r"^第\s*\d+\s*页(\s*[,，/]?\s*共\s*\d+\s*页)?$"),
    re.compile(r"^\d{1,3}\s*/\s*\d{1,3}$"),  # page "3 / 10"
    re.compile(r"^共\s*\d+\s*页"),
]


# A page number between dashes, which is also what a row of dash zeros around one number looks like.
_DASHED_NUMBER = re.compile(r"^[—－-]\s*\d+\s*[—－-]$")


def footer_in_label(lines: list[str], i: int) -> bool:
    """`— 22 —` between two halves of a wrapped row label (`行政规范` / `性文件`) is that row's
    numbers (zeros printed as dashes), not a page footer."""
    def near(step):
        j = i + step
        while 0 <= j < len(lines) and not lines[j].strip():
            j += step
        return lines[j].strip() if 0 <= j < len(lines) else ""

    from .stream import names_a_label

    from .stream import ends_row_label

    # A row label whose numbers have not come yet (`行政规范` / `性文件` / `— 22 —`, a `-raw` dump
    # printing a wrapped label before its row): a footer never waits on a label.
    before = [near(-2), near(-1)]
    if _DASHED_NUMBER.match(lines[i].strip()) and before[1] and not re.search(r"\d", before[1]) and (
            ends_row_label(before[1]) or (not re.search(r"\d", before[0]) and ends_row_label("".join(before)))):
        return True
    # Both neighbours are fragments of one label: short, no digits, and no whole label themselves.
    return all(t and len(t) <= 8 and not re.search(r"\d", t) and _CJK.search(t) and not names_a_label(t)
               for t in (near(-1), near(1)))


def is_chrome(line: str) -> bool:
    s = line.strip()
    if not s or s.isdigit():
        return False
    return any(p.match(s) for p in _CHROME) and not s.lstrip("-").isdigit()


Loader = Callable[[bytes, str], list[Fragment]]


_CJK_RUN = re.compile(r"[\u4e00-\u9fff]{2,}")


def running_chrome(lines: list[str]) -> set[str]:
    """Running page headers and footers of a converter's dump (`左街〔2022〕44号 公开方式：主动公开`,
    `…2022年1月19日印发 共5页`): lines that come back on several pages, digits aside, and name
    no table label. A table's own lines repeat too (`无 无 无`, a header after a page break), but
    those are zero marks or template labels."""
    from .stream import names_a_label

    seen: dict[str, list[str]] = {}
    for raw in lines:
        s = raw.strip()
        if len(s) < 4 or not _CJK_RUN.search(s) or "|" in s or "\t" in s:  # a table's own row is no chrome
            continue
        seen.setdefault(re.sub(r"\d+", "#", re.sub(r"\s+", "", s)), []).append(s)
    out: set[str] = set()
    for group in seen.values():
        if len(group) >= 2 and not PROSE_END.search(group[0]) and not names_a_label(group[0]):
            out.update(group)
    return out
