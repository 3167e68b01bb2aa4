"""The layout model, loaded from the checkpoint shipped in the repository: it reconstructs the
seeds, plugs into the engine interface, and learns a new layout from a handful of labelled reports."""
import json
import random
import subprocess
import sys

import pytest
import torch

from nianbao import reconstruct
from nianbao.datasets.styles import render_any
from nianbao.datasets.synth import generate
from nianbao.datasets.tables import gold_json, random_truth
from nianbao.inference.evaluate import diff_cells, same
from nianbao.models.engine import SHIPPED, ModelEngine
from nianbao.models.features import label_space
from nianbao.training.data import load_labelled, load_synthetic
from nianbao.training.train import TrainConfig, train
from nianbao.validate import validate_gold

SEEDS = ["000_da14f1a2f0dce168", "001_577f8937e46079e4", "002_ccc308153d6aceb0", "003_75957690f29c90b5",
         "004_2dbaea1c02efd4ef"]


def test_checkpoint_is_small_safetensors_with_its_config():
    files = {p.name for p in SHIPPED.iterdir()}
    assert {"model.safetensors", "config.json", "vocab.json", "training.json"} <= files
    assert not any(n.endswith((".bin", ".pt", ".pkl")) for n in files)
    assert sum(p.stat().st_size for p in SHIPPED.iterdir()) < 20 * 2**20
    config = json.loads((SHIPPED / "config.json").read_text())
    assert config["model_type"] == "nianbao-layout" and config["labels"] == label_space()
    record = json.loads((SHIPPED / "training.json").read_text())
    assert {"seed", "history", "command"} <= set(record)


@pytest.mark.parametrize("seed", SEEDS)
def test_seeds_reconstruct_exactly_with_the_model(seeds_dir, seed):
    gold = json.loads((seeds_dir / "gold" / f"{seed}.json").read_text("utf-8"))
    report = reconstruct(seeds_dir / f"{seed}.txt", engine="model")
    assert report.engine == "model"
    assert diff_cells(report.cells, gold["cells"]) == []
    assert report.inconsistent == gold["inconsistent"]


def test_auto_uses_the_model_only_with_a_gpu(seeds_dir):
    report = reconstruct(seeds_dir / f"{SEEDS[2]}.txt", engine="auto")
    assert report.engine == ("model" if torch.cuda.is_available() else "heuristic")


def test_model_names_the_cell_of_a_fragment(seeds_dir):
    from nianbao.inference.readers import pick_reader

    data = (seeds_dir / f"{SEEDS[0]}.txt").read_bytes()
    frags = pick_reader(data, ".txt", "x").read(data, "x")
    preds = ModelEngine.load().predict(frags)
    f = next(f for f in frags if f.text == "1837" and f.kind == "number" and f.id in preds)
    assert preds[f.id][0][0] == "active.licensing.decisions"


def test_label_writes_a_draft_gold(seeds_dir, tmp_path):
    src = tmp_path / "r.txt"
    src.write_bytes((seeds_dir / f"{SEEDS[1]}.txt").read_bytes())
    r = subprocess.run([sys.executable, "-m", "nianbao.cli", "label", str(src), "--engine", "heuristic"],
                       capture_output=True, text=True, cwd=tmp_path, timeout=300)
    assert r.returncode == 0, r.stderr
    draft = json.loads((tmp_path / "r.gold.json").read_text("utf-8"))
    assert validate_gold(draft) == [] and draft["notes"].startswith("DRAFT")


def _labelled_folder(folder, style, seeds):
    folder.mkdir(parents=True, exist_ok=True)
    for s in seeds:
        rng = random.Random(s)
        truth = random_truth(rng)
        doc = render_any(style, truth, rng)
        (folder / f"r{s}.{doc.ext}").write_bytes(doc.data)
        (folder / f"r{s}.gold.json").write_text(json.dumps(gold_json(truth, f"r{s}", f"r{s}.{doc.ext}")), "utf-8")
    return load_labelled(folder)


def _value_accuracy(engine, examples):
    right = total = 0
    for ex in examples:
        preds = engine.predict(ex.fragments)
        for f in ex.fragments:
            if f.kind == "number" and f.id in preds:
                total += 1
                right += preds[f.id][0][0] == ex.labels.get(f.id, "none")
    return right / total


def test_retraining_on_a_few_labelled_reports_of_a_new_layout(tmp_path):
    # Row labels printed after the numbers: a layout absent from the shipped model's training data.
    held_out = _labelled_folder(tmp_path / "held_out", "label_last", range(900, 904))
    _labelled_folder(tmp_path / "labels", "label_last", range(100, 108))
    generate(60, tmp_path / "synth", seed=5, labels=True, workers=1)
    synthetic = load_synthetic(tmp_path / "synth")
    shipped = ModelEngine.load()
    before_new, before_syn = _value_accuracy(shipped, held_out), _value_accuracy(shipped, synthetic)
    assert before_new < 0.9  # the shipped model gets this layout wrong

    train(TrainConfig(data=str(tmp_path / "synth"), labels=str(tmp_path / "labels"), init=str(SHIPPED),
                      out=str(tmp_path / "tuned"), epochs=8, patience=8, lr=1e-3, labelled_repeat=16),
          log=lambda m: None)
    tuned = ModelEngine.load(str(tmp_path / "tuned"))
    after_new, after_syn = _value_accuracy(tuned, held_out), _value_accuracy(tuned, synthetic)
    assert after_new > 0.97, (before_new, after_new)
    assert after_syn >= before_syn - 0.01, (before_syn, after_syn)


def test_a_line_of_numbers_stays_one_row():
    from nianbao.models.engine import one_row_per_line
    from nianbao.schema import Fragment
    from nianbao.templates import load_template

    cols = ["natural_person", "commercial", "research", "social_welfare", "legal_services", "other_org", "total"]
    frags = [Fragment(id=i, text="0", kind="number", line=7, col=i) for i in range(7)]
    frags[0].text = frags[6].text = "30"
    # the model names the row of the last token wrongly: a neighbouring row, same column
    preds = {i: [(f"requests.not_processed_reconfirm.{c}", 0.95), (f"requests.other.{c}", 0.05)]
             for i, c in enumerate(cols)}
    preds[6] = [("requests.other.total", 0.7), ("requests.not_processed_reconfirm.total", 0.3)]
    fixed = one_row_per_line(preds, {f.id: f for f in frags}, load_template("2021"))
    assert fixed[6][0] == ("requests.not_processed_reconfirm.total", 0.7)
    assert fixed[0] == preds[0]
    # appeals prints its rows on one line: left alone
    appeals = {0: [("appeals.review.total", 0.9)], 1: [("appeals.suit_direct.upheld", 0.9)]}
    assert one_row_per_line(appeals, {f.id: f for f in frags[:2]}, load_template("2021")) == appeals


def test_learned_cuts_get_more_glued_runs_right_than_the_fixed_prior(tmp_path):
    """Flattened text layers glue cells (`26845` for 2684 and 5): where the arithmetic cannot cut
    the run, the model's cut head decides better than the heuristic's fixed prior."""
    from nianbao.templates import load_template

    generate(48, tmp_path, styles=["flattened"], seed=31, labels=True, workers=1)
    right = {"heuristic": 0, "model": 0}
    runs = 0
    for ex in load_synthetic(tmp_path):
        gold = json.loads((tmp_path / ex.id / "gold.json").read_text("utf-8"))
        t = load_template(gold["format"])
        spans = []
        for fid, ends in ex.cuts.items():
            table, row, col = ex.labels[fid].split(".")
            if ends and table == "active":  # no arithmetic there: only the cut prior decides
                cols = t.tables[table].row_columns(next(r for r in t.tables[table].rows if r.key == row))
                i = cols.index(col)
                spans.append([f"{table}.{row}.{c}" for c in cols[i : i + len(ends) + 1]])
        if not spans:
            continue
        runs += len(spans)
        for engine in right:
            cells = reconstruct(tmp_path / ex.id / "input.txt", engine=engine).cells
            right[engine] += sum(all(same(cells.get(k), gold["cells"][k]) for k in keys) for keys in spans)
    assert runs >= 15
    assert right["model"] > right["heuristic"], (right, runs)


def test_label_matcher_candidates_keep_a_number_the_model_misses(seeds_dir, monkeypatch):
    """The model engine also hands the solver the label matcher's candidates (at half weight): a
    printed number the model calls `none` is still read, not inferred."""
    from nianbao.inference.engines import get_engine

    engine = get_engine("model")
    real_run = engine.run

    def forgetful_run(fragments, template=None):
        preds, cuts = real_run(fragments, template)
        line = next(f.line for f in fragments if "本机关不掌握" in f.text)
        miss = next(f for f in fragments if f.line == line and f.kind == "number" and f.text == "1")
        preds[miss.id] = [("none", 0.99)]
        return preds, cuts

    monkeypatch.setattr(engine, "run", forgetful_run)
    report = reconstruct(seeds_dir / f"{SEEDS[0]}.txt", engine="model")
    assert report.cells["requests.unable_not_held.natural_person"] == 1
    assert report.provenance["requests.unable_not_held.natural_person"].method == "read"


def test_a_header_word_the_model_calls_a_cell_does_not_unplace_the_line(seeds_dir, monkeypatch):
    """A word is a cell only where it stands among numbers (`撤销` in the appeals line): a header
    title the model takes for a cell (an OCR misreading of one, say) is none, or the line's
    numbers, all printed after it, could not be placed at all."""
    from nianbao.inference.engines import get_engine

    engine = get_engine("model")
    real_run = engine.run

    def confused_run(fragments, template=None):
        preds, cuts = real_run(fragments, template)
        start = next(i for i, f in enumerate(fragments) if "行政复议" in f.text and f.kind == "label")
        title = next(f for f in fragments[start:] if f.kind == "label" and "结果" in f.text)
        preds[title.id] = [("appeals.suit_after_review.pending", 0.42), ("none", 0.3)]
        return preds, cuts

    monkeypatch.setattr(engine, "run", confused_run)
    report = reconstruct(seeds_dir / f"{SEEDS[0]}.txt", engine="model")
    assert report.cells["appeals.review.total"] == 1
    assert report.provenance["appeals.review.total"].method == "read"
    assert report.cells["appeals.suit_after_review.pending"] == 0
