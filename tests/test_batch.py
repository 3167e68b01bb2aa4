"""`nianbao batch` and `reconstruct_many`: every result written once, resumable, failures kept by
code, one pathological file never holding a worker; the same on a local Ray."""
import json
import os
import shutil
import subprocess
import time
import sys
from pathlib import Path

import pandas as pd
import pytest

from nianbao.config import load_config
from nianbao import reconstruct_many
from nianbao.inference.batch import JOURNAL, BatchOptions, run_batch

SEED_A = "000_da14f1a2f0dce168.txt"  # 左岭街道 2021
SEED_B = "002_ccc308153d6aceb0.txt"  # 西山区政务服务管理局 2021


@pytest.fixture()
def folder(tmp_path, seeds_dir):
    src = tmp_path / "in"
    (src / "a" / "b").mkdir(parents=True)
    shutil.copy(seeds_dir / SEED_A, src / "a" / "b" / "report.txt")
    shutil.copy(seeds_dir / SEED_B, src / "a" / "report.txt")
    shutil.copy(seeds_dir / "003_75957690f29c90b5.txt", src / "a" / "report.md")  # same stem, other suffix
    shutil.copy(seeds_dir / SEED_B, src / "renamed.txt")  # the same content under another name
    (src / "empty.txt").write_bytes(b"")
    (src / "picture.gif").write_bytes(b"GIF89a")
    outside = tmp_path / "secret.txt"
    shutil.copy(seeds_dir / SEED_A, outside)
    os.symlink(outside, src / "link.txt")  # points out of the input folder: not followed
    return src


def _outputs(out: Path) -> list[str]:
    return sorted(str(p.relative_to(out)) for p in out.rglob("*.json") if p.name != "summary.json")


def test_batch_mirrors_the_tree_resumes_and_never_redoes(folder, tmp_path):
    out = tmp_path / "out"
    cfg = load_config(engine="heuristic")
    first = run_batch(folder, out, cfg, BatchOptions(workers=2, formats=["json", "csv"]))
    s = first.summary()
    assert _outputs(out) == ["a/b/report.json", "a/report.md.json", "a/report.txt.json", "renamed.json"]
    assert (out / "a" / "b" / "report.csv").exists()
    # renamed.txt holds a/report.txt's bytes: worked once, its result copied under its own name
    assert (s["done"], s["copied"], s["failed"], s["failed_by_code"]) == (3, 1, 1, {"E001": 1})
    assert {x["path"]: x["why"] for x in s["not_inputs"]} == {
        "link.txt": "symlink out of the input folder", "picture.gif": "not a supported kind of file"}
    renamed = json.loads((out / "renamed.json").read_text("utf-8"))
    assert renamed["source"] == "renamed.txt" and renamed["body"] == "西山区政务服务管理局"

    cells = pd.read_parquet(out / "cells.parquet")
    per_report = cells.groupby("source_path").size()
    assert sorted(per_report.index) == ["a/b/report.txt", "a/report.md", "a/report.txt", "renamed.txt"]
    assert per_report["a/report.txt"] == len(renamed["cells"])  # one row per cell
    by_path = cells.groupby("source_path").first()
    assert by_path.loc["a/b/report.txt", "body"] == "左岭街道" and by_path.loc["a/b/report.txt", "year"] == 2021

    again = run_batch(folder, out, cfg, BatchOptions(workers=2, formats=["json", "csv"])).summary()
    assert (again["done"], again["skipped"], again["copied"]) == (0, 4, 0)
    assert again["failed_by_code"] == {"E001": 1}  # a failure stays recorded, not retried

    (folder / "a" / "report.txt").write_text((folder / "a" / "report.txt").read_text("utf-8") + "\n附：无", "utf-8")
    third = run_batch(folder, out, cfg, BatchOptions(workers=2, formats=["json", "csv"])).summary()
    assert (third["done"], third["skipped"]) == (1, 3)  # the changed file only
    lines = (out / JOURNAL).read_text("utf-8").splitlines()
    assert len(lines) == len({(json.loads(x)["path"], json.loads(x)["key"]) for x in lines})  # nothing twice


def test_a_journal_cut_mid_line_only_redoes_that_file(folder, tmp_path):
    out = tmp_path / "out"
    cfg = load_config(engine="heuristic")
    run_batch(folder, out, cfg, BatchOptions(workers=1))
    journal = out / JOURNAL
    lines = journal.read_text("utf-8").splitlines()
    done = [x for x in lines if json.loads(x)["status"] == "done"]
    journal.write_text("\n".join(x for x in lines if x != done[-1]) + "\n" + done[-1][:40], "utf-8")  # killed mid-write
    s = run_batch(folder, out, cfg, BatchOptions(workers=1)).summary()
    assert s["done"] + s["copied"] == 1 and s["skipped"] == 3


def test_a_file_over_the_time_limit_fails_alone(tmp_path, seeds_dir):
    src = tmp_path / "in"
    src.mkdir()
    shutil.copy(seeds_dir / SEED_B, src / "ok.txt")
    seed = (seeds_dir / SEED_B).read_text("utf-8")
    (src / "huge.txt").write_text(seed * (1_900_000 // len(seed)), "utf-8")  # ~2 s of tables; the seed takes 0.05 s
    cfg = load_config(engine="heuristic").model_copy(update={"file_timeout_s": 0.6})
    s = run_batch(src, tmp_path / "out", cfg, BatchOptions(workers=1)).summary()
    assert s["failed_by_code"] == {"E040": 1} and s["done"] == 1
    assert (tmp_path / "out" / "ok.json").exists() and not (tmp_path / "out" / "huge.json").exists()


def test_batch_cli_prints_a_summary_and_exits_1_on_failures(folder, tmp_path):
    out = tmp_path / "out"
    r = subprocess.run([sys.executable, "-m", "nianbao.cli", "batch", str(folder), str(out), "--engine", "heuristic",
                        "--workers", "2", "--to", "parquet"], capture_output=True, text=True, timeout=300)
    assert r.returncode == 1, r.stderr
    assert "[E001] empty.txt" in r.stderr
    assert "E001 × 1" in r.stdout and (out / "a" / "report.txt.parquet").exists()
    assert json.loads((out / "summary.json").read_text())["done"] == 3
    bad = subprocess.run([sys.executable, "-m", "nianbao.cli", "batch", str(folder), str(folder)],
                         capture_output=True, text=True, timeout=120)
    assert bad.returncode == 2 and "[E013]" in bad.stderr


def test_reconstruct_many_gives_one_frame(seeds_dir, tmp_path):
    (tmp_path / "empty.txt").write_bytes(b"")
    paths = [seeds_dir / SEED_A, tmp_path / "empty.txt", seeds_dir / SEED_B]
    df = reconstruct_many(paths, workers=2, engine="heuristic")
    assert list(df["source_path"].drop_duplicates()) == [str(p) for p in paths]  # input order
    failed = df[df["status"] == "failed"]
    assert len(failed) == 1 and failed["error"].iloc[0].startswith("[E001]")
    a = df[(df["source_path"] == str(paths[0]))].set_index("key")["value"]
    assert a["requests.new_received.total"] == 2


def test_batch_on_a_local_ray_gives_the_same_results(folder, tmp_path, monkeypatch):
    ray = pytest.importorskip("ray", reason="Ray is the `batch` extra; scripts/setup.sh installs it")
    monkeypatch.setenv("RAY_USAGE_STATS_ENABLED", "0")
    cfg = load_config(engine="heuristic")
    local = tmp_path / "local"
    run_batch(folder, local, cfg, BatchOptions(workers=1))
    try:
        ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False)
        s = run_batch(folder, tmp_path / "ray", cfg, BatchOptions(workers=2, ray="auto")).summary()
    finally:
        ray.shutdown()
    assert (s["done"], s["copied"], s["failed_by_code"]) == (3, 1, {"E001": 1})
    for rel in _outputs(local):
        a = json.loads((local / rel).read_text("utf-8"))
        b = json.loads((tmp_path / "ray" / rel).read_text("utf-8"))
        assert a["cells"] == b["cells"] and a["inconsistent"] == b["inconsistent"]


def _mixed_corpus(src: Path, seeds_dir: Path, n: int = 54) -> int:
    """Good, damaged and junk inputs, all distinct: made here, never stored as blobs."""
    import random

    from nianbao.datasets.styles import render
    from nianbao.datasets.tables import random_truth

    rng = random.Random(5)
    seeds = sorted(seeds_dir.glob("*.txt"))
    for i in range(n):
        kind = i % 6
        sub = src / f"part{i % 3}"
        sub.mkdir(parents=True, exist_ok=True)
        if kind in (0, 1):
            s = seeds[i % len(seeds)]
            (sub / f"seed{i}{s.suffix}").write_text(s.read_text("utf-8") + f"\n附注{i}", "utf-8")
        elif kind == 2:
            doc = render(rng.choice(["crawled", "flattened", "markdown", "html"]), random_truth(rng), rng)
            (sub / f"synth{i}.{doc.ext.lstrip('.')}").write_bytes(doc.data)
        elif kind == 3:
            s = seeds[i % len(seeds)].read_text("utf-8")
            (sub / f"cut{i}.txt").write_text(s[: len(s) * 2 // 3], "utf-8")  # cut inside a table
        elif kind == 4:
            (sub / f"junk{i}.pdf").write_bytes(bytes(rng.randrange(256) for _ in range(3000)))
        else:
            (sub / f"empty{i}.txt").write_bytes(b"")
    return n


def test_a_batch_killed_half_way_resumes_to_one_result_per_input(tmp_path, seeds_dir):
    import signal

    src, out = tmp_path / "in", tmp_path / "out"
    n = _mixed_corpus(src, seeds_dir)
    cmd = [sys.executable, "-m", "nianbao.cli", "batch", str(src), str(out), "--engine", "heuristic", "--workers", "2"]
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    journal = out / JOURNAL
    deadline = time.time() + 120
    while time.time() < deadline and proc.poll() is None:
        if journal.exists() and len(journal.read_bytes().splitlines()) >= 12:
            break
        time.sleep(0.05)
    os.killpg(proc.pid, signal.SIGKILL)  # the batch and its workers, mid-run
    proc.wait()
    killed_at = len(journal.read_bytes().splitlines())
    assert killed_at < n, "the batch finished before it could be killed"

    # A batch resumes it; a second one started on the same folder meanwhile is refused.
    holder = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    while holder.poll() is None and len(journal.read_bytes().splitlines()) <= killed_at:
        time.sleep(0.05)  # it holds the lock once it has written
    second = subprocess.run(cmd, capture_output=True, text=True, timeout=120)
    holder.communicate(timeout=300)
    if holder.returncode is not None and len(journal.read_bytes().splitlines()) < n:
        assert second.returncode == 2 and "[E014]" in second.stderr, second.stderr

    r = subprocess.run(cmd, capture_output=True, text=True, timeout=300)
    assert r.returncode == 1  # the junk and empty files failed, each recorded
    s = json.loads((out / "summary.json").read_text())
    assert s["files"] == n and s["done"] + s["skipped"] + s["copied"] + s["failed"] == n
    entries = [json.loads(x) for x in journal.read_text("utf-8").splitlines() if x.strip().endswith("}")]
    last = {}
    for e in entries:
        last[e["path"]] = e
    assert len(last) == n  # every input: one result or one recorded error
    for path, e in last.items():
        stem = Path(path).with_suffix("")
        assert (out / f"{stem}.json").exists() == (e["status"] == "done"), path
    assert not list(out.rglob("*.part"))  # nothing half-written is left
    third = subprocess.run(cmd, capture_output=True, text=True, timeout=300)
    s3 = json.loads((out / "summary.json").read_text())
    assert third.returncode == 1 and s3["done"] == 0 and s3["copied"] == 0
