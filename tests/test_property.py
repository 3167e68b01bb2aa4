"""Property test: random consistent tables of both formats, written in every text form, come back
exactly; tables whose printed numbers break a constraint come back naming exactly those constraints."""
import os
import random

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from nianbao import reconstruct
from nianbao.datasets.styles import STYLES
from nianbao.datasets.tables import gold_json, random_truth
from nianbao.validate import validate_gold

EXAMPLES = int(os.environ.get("NIANBAO_PROPERTY_EXAMPLES", "200"))
# Styles whose damage never blanks or drops a cell: a broken sum there cannot be "explained" by a
# blank, so the printed inconsistency must come back as printed.
NO_BLANK_STYLES = ["markdown_broken", "markdown_seed", "lines", "html_word", "html_page", "pdf_markdown"]
SETTINGS = dict(deadline=None, derandomize=True, suppress_health_check=[HealthCheck.too_slow])


def check(style: str, seed: int, inconsistent_p: float):
    rng = random.Random(seed)
    truth = random_truth(rng, inconsistent_p=inconsistent_p)
    gold = gold_json(truth, "x", "x")
    assert validate_gold(gold) == []
    doc = STYLES[style](truth, rng)
    report = reconstruct(doc.data, engine="heuristic")
    assert report.format == truth.format
    assert set(report.cells) == set(gold["cells"])
    for key, want in gold["cells"].items():
        got = report.cells[key]
        if abs(float(got) - float(want)) > 1e-6:
            # Only a cell the arithmetic cannot decide may differ, and then it says so.
            alts = report.ambiguous.get(key, [])
            assert any(abs(float(a) - float(want)) < 1e-6 for a in alts), (style, seed, key, got, want, doc.notes)
    assert sorted(report.inconsistent) == sorted(truth.inconsistent), (style, seed)


@pytest.mark.parametrize("style", sorted(STYLES))
@settings(max_examples=EXAMPLES, **SETTINGS)
@given(seed=st.integers(0, 2**31 - 1))
def test_consistent_tables_round_trip(style, seed):
    check(style, seed, 0.0)


@pytest.mark.parametrize("style", NO_BLANK_STYLES)
@settings(max_examples=max(20, EXAMPLES // 4), **SETTINGS)
@given(seed=st.integers(0, 2**31 - 1))
def test_inconsistent_tables_name_broken_constraints(style, seed):
    check(style, seed, 1.0)
