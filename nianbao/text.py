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


# Web text carries invisible format characters (zero-width spaces, joiners, soft hyphens, word
# joiners) inside words and numbers; they are no part of either.
INVISIBLE = re.compile("[\u00ad\u200b-\u200f\u2060-\u2064\ufeff]")
# Full-width digits and the marks that sit inside a number (`34．43`, `１，２００`): one form for the
# number patterns. Brackets and CJK punctuation stay: labels are compared through `norm_label`.
_NUMBER_FORMS = str.maketrans({**{chr(0xFF10 + i): str(i) for i in range(10)}, "．": ".", "／": "/", "\u3000": " "})
_ENTITY = re.compile(r"&(?:[a-zA-Z]{2,8}|#\d{2,6}|#x[0-9a-fA-F]{2,5});")


def clean_text(text: str, entities: bool = False) -> str:
    """Plain text as a crawler or converter left it → the text its characters mean: invisible
    characters dropped, full-width digits and number marks as ASCII, and (for plain text, where
    no markup parser will) HTML entities a crawler kept (`&nbsp;`, `&#12288;`) decoded."""
    text = INVISIBLE.sub("", text)
    if entities and _ENTITY.search(text):
        import html

        text = html.unescape(text).replace("\xa0", " ")
    return text.translate(_NUMBER_FORMS)


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
