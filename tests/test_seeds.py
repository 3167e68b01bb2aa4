"""The five real reports must always reconstruct exactly, and their gold files must validate."""
import json

import pytest

from nianbao import reconstruct
from nianbao.inference.evaluate import diff_cells
from nianbao.validate import broken_constraints, validate_gold

SEED_IDS = ["000_da14f1a2f0dce168", "001_577f8937e46079e4", "002_ccc308153d6aceb0", "003_75957690f29c90b5",
            "004_2dbaea1c02efd4ef"]


@pytest.mark.parametrize("seed", SEED_IDS)
def test_seed_reconstructs_exactly(seeds_dir, seed):
    gold = json.loads((seeds_dir / "gold" / f"{seed}.json").read_text("utf-8"))
    assert validate_gold(gold) == []
    report = reconstruct(seeds_dir / f"{seed}.txt", engine="heuristic")
    assert report.format == gold["format"]
    assert diff_cells(report.cells, gold["cells"]) == []
    assert list(report.cells) == list(gold["cells"])  # the template's key order
    assert report.inconsistent == gold["inconsistent"]
    assert broken_constraints(report.format, report.cells) == report.inconsistent
    assert validate_gold(report.gold()) == []


def test_illegible_token_is_inferred_with_reason(seeds_dir):
    report = reconstruct(seeds_dir / "000_da14f1a2f0dce168.txt", engine="heuristic")
    p = report.provenance["appeals.review.other"]
    assert report.cells["appeals.review.other"] == 1
    assert p.method == "inferred" and p.text == "撤销"
    assert "appeals.review.other" in report.notes
    assert report.provenance["appeals.review.total"].method == "read"


def test_money_with_unit_suffix(seeds_dir):
    report = reconstruct(seeds_dir / "004_2dbaea1c02efd4ef.txt", engine="heuristic")
    assert report.cells["active.procurement.amount_wan"] == pytest.approx(116.04)
    assert report.provenance["active.procurement.amount_wan"].text == "116.04万元"


def test_single_other_row_in_2021_report(seeds_dir):
    report = reconstruct(seeds_dir / "003_75957690f29c90b5.txt", engine="heuristic")
    assert "requests.other.total" in report.cells
    assert not any(k.startswith("requests.other_other.") for k in report.cells)
