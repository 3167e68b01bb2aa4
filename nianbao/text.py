"""Text normalisation shared by readers, engines and the generator.

Labels vary (full/half width, brackets, spaces and line breaks inside a label, OCR damage);
everything that compares labels goes through `norm_label` so that the variants meet.
"""
from __future__ import annotations

import re
import unicodedata

# OCR and converters confuse these; map each to one canonical form.
_CONFUSIONS = str.maketrans({
    "（": "(", "）": ")", "〔": "(", "〕": ")", "【": "(", "】": ")", "[": "(", "]": ")",
    "“": '"', "”": '"', "＂": '"', "‘": "'", "’": "'",
    "，": ",", "、": ",", "：": ":", "；": ";", "。": ".", "．": ".",
    "－": "-", "—": "-", "–": "-", "─": "-",
})
_SPACE = re.compile(r"\s+")


def nfkc(text: str) -> str:
    return unicodedata.normalize("NFKC", text)


def norm_label(text: str) -> str:
    """Canonical form for label comparison: NFKC, one bracket style, no spaces."""
    text = nfkc(text).translate(_CONFUSIONS)
    return _SPACE.sub("", text)


def bigrams(text: str) -> set[str]:
    return {text[i : i + 2] for i in range(len(text) - 1)} or ({text} if text else set())


def dice(a: str, b: str) -> float:
    """Character-bigram Dice similarity of two normalised labels."""
    ba, bb = bigrams(a), bigrams(b)
    if not ba or not bb:
        return 0.0
    return 2 * len(ba & bb) / (len(ba) + len(bb))
