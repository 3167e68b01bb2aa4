"""The classify stage: detect the format from the headers, then let an engine score fragments."""
from __future__ import annotations

from nianbao.schema import Classification, Fragment

from .layout import detect_format


def classify(fragments: list[Fragment], engine) -> Classification:
    template, note = detect_format(fragments)
    result = engine.score(fragments, template)
    if note:
        result.notes.append(note)
    return result
