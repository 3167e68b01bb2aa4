"""The command line as a user runs it: real processes, real files, exit codes and stderr."""
import json
import subprocess
import sys

import pandas as pd
from openpyxl import load_workbook

SEED = "002_ccc308153d6aceb0"


def nianbao(*args, cwd=None):
    return subprocess.run([sys.executable, "-m", "nianbao.cli", *map(str, args)], capture_output=True, text=True,
                          cwd=cwd, timeout=300)


def test_extract_prints_gold_json_to_stdout(seeds_dir):
    r = nianbao("extract", seeds_dir / f"{SEED}.txt", "--engine", "heuristic")
    assert r.returncode == 0, r.stderr
    out = json.loads(r.stdout)
    gold = json.loads((seeds_dir / "gold" / f"{SEED}.json").read_text("utf-8"))
    assert out["cells"] == gold["cells"]
    assert out["provenance"]["active.licensing.decisions"]["method"] == "read"
    assert out["engine"] == "heuristic"


def test_bad_input_exits_2_with_one_line(tmp_path):
    bad = tmp_path / "bad.txt"
    bad.write_bytes(b"")
    r = nianbao("extract", bad)
    assert r.returncode == 2
    assert r.stderr.strip().count("\n") == 0 and "E001" in r.stderr and "Traceback" not in r.stderr


def test_unknown_option_value_names_the_allowed_ones(seeds_dir):
    r = nianbao("extract", seeds_dir / f"{SEED}.txt", "--to", "pdf")
    assert r.returncode == 2 and "json, csv, xlsx, parquet" in r.stderr


def test_exports(tmp_path, seeds_dir):
    src = seeds_dir / f"{SEED}.txt"
    for fmt in ("csv", "xlsx", "parquet"):
        r = nianbao("extract", src, "--to", fmt, "-o", tmp_path / f"out.{fmt}")
        assert r.returncode == 0, r.stderr
    csv = pd.read_csv(tmp_path / "out.csv")
    assert set(csv.columns) >= {"key", "table", "row", "column", "value", "method"}
    assert csv.loc[csv.key == "active.licensing.decisions", "value"].item() == 219
    pq = pd.read_parquet(tmp_path / "out.parquet")
    assert len(pq) == len(csv) == 200
    wb = load_workbook(tmp_path / "out.xlsx")
    assert wb.sheetnames == ["active", "requests", "appeals"]
    rows = list(wb["active"].iter_rows(values_only=True))
    assert ("行政许可", None, None, None, 219) in rows or any(r[0] == "行政许可" and 219 in r for r in rows)


def test_batch_folder_keeps_going_past_a_bad_file(tmp_path, seeds_dir):
    inp = tmp_path / "in"
    inp.mkdir()
    for s in ("000_da14f1a2f0dce168", SEED):
        (inp / f"{s}.txt").write_bytes((seeds_dir / f"{s}.txt").read_bytes())
    (inp / "broken.txt").write_bytes(b"\x00\x01\x02" * 100)
    out = tmp_path / "out"
    r = nianbao("extract", inp, "-o", out)
    assert r.returncode == 1
    assert "broken.txt" in r.stderr and "2/3 reports written" in r.stderr
    assert sorted(p.name for p in out.iterdir()) == ["000_da14f1a2f0dce168.json", f"{SEED}.json"]


def test_evaluate_over_seeds(seeds_dir, tmp_path):
    r = nianbao("evaluate", seeds_dir, "--gold", seeds_dir / "gold", "--engine", "heuristic", "--out",
                tmp_path / "scores.json")
    assert r.returncode == 0, r.stderr
    assert "100.00 %" in r.stdout and "5/5" in r.stdout
    scores = json.loads((tmp_path / "scores.json").read_text())
    assert scores["groups"]["all"]["all_correct"] == 5


def test_evaluate_lists_differing_cells(seeds_dir, tmp_path):
    gold = json.loads((seeds_dir / "gold" / f"{SEED}.json").read_text("utf-8"))
    gold["cells"]["active.licensing.decisions"] = 218
    pred_dir = tmp_path / "pred"
    pred_dir.mkdir()
    (pred_dir / f"{SEED}.json").write_text(json.dumps(gold), "utf-8")
    r = nianbao("evaluate", pred_dir, "--gold", seeds_dir / "gold")
    assert "active.licensing.decisions: predicted 218 gold 219" in r.stdout
    assert "0/1" in r.stdout


def test_batch_keeps_both_results_of_one_name_and_refuses_its_own_folder(tmp_path, seeds_dir):
    inp = tmp_path / "in"
    inp.mkdir()
    text = (seeds_dir / f"{SEED}.txt").read_bytes()
    (inp / "report.txt").write_bytes(text)
    (inp / "report.md").write_bytes(text)
    (inp / "sub").mkdir()
    out = tmp_path / "out"
    r = nianbao("extract", inp, "-o", out)
    assert r.returncode == 0, r.stderr
    assert sorted(p.name for p in out.iterdir()) == ["report.md.json", "report.txt.json"]
    assert "1 skipped" in r.stderr and "sub" in r.stderr
    r = nianbao("extract", inp, "-o", inp)
    assert r.returncode == 2 and "[E013]" in r.stderr and "input folder" in r.stderr


def test_output_paths_give_clear_errors_or_do_what_a_user_means(tmp_path, seeds_dir):
    seed = seeds_dir / f"{SEED}.txt"
    r = nianbao("extract", seed, "-o", tmp_path / "new" / "deeper" / "r.json")  # a missing folder is made
    assert r.returncode == 0 and (tmp_path / "new" / "deeper" / "r.json").exists()
    r = nianbao("extract", seed, "-o", tmp_path / "new")  # a folder for one file: the result goes into it
    assert r.returncode == 0 and (tmp_path / "new" / f"{SEED}.json").exists()
    r = nianbao("extract", seeds_dir, "-o", tmp_path / "new" / "deeper" / "r.json")  # a batch into a file
    assert r.returncode == 2 and r.stderr.startswith("[E013]") and "Traceback" not in r.stderr


def test_special_files_and_bad_configs_are_one_line_errors(tmp_path, seeds_dir):
    import os

    fifo = tmp_path / "pipe.txt"
    os.mkfifo(fifo)
    loop = tmp_path / "loop.txt"
    loop.symlink_to(loop)
    for path, message in [("/dev/zero", "not a regular file"), (fifo, "not a regular file"),
                          (loop, "symbolic links")]:
        r = nianbao("extract", path)
        assert r.returncode == 2 and r.stderr.startswith("[E005]") and message in r.stderr, r.stderr
    for body, message in [("- a list\n", "must be a mapping"), ("max_bytes: -1\n", "greater than 0"),
                          ("engine: [\n", "not valid YAML")]:
        cfg = tmp_path / "c.yaml"
        cfg.write_text(body)
        r = nianbao("extract", seeds_dir / f"{SEED}.txt", "--config", cfg)
        assert r.returncode == 2 and r.stderr.startswith("[E010]") and message in r.stderr, r.stderr
    r = nianbao("extract", seeds_dir / f"{SEED}.txt", "--config", tmp_path / "missing.yaml")
    assert r.returncode == 2 and "[E010]" in r.stderr and "cannot read" in r.stderr
