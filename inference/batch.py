"""Batch runs: every report under a folder, each result written exactly once, resumable.

    discover → key (content hash + pipeline version) → skip what the journal has done →
    run the rest on an executor (a local process pool, or Ray) → write each result atomically,
    then its journal line → cells table and summary over the whole batch.

Only this process writes results and the journal, so two workers can never write one file, and a
result is on disk before the journal says it is done: a run killed at any point resumes where it
stopped, redoing at most the files that were in flight.
"""
from __future__ import annotations

import hashlib
import json
import os
import time
from collections import Counter
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Iterable, Iterator, Literal

from pydantic import BaseModel, ConfigDict, Field

from nianbao import __version__
from nianbao.config import PipelineConfig
from nianbao.schema import Report

# What a reader may take; anything else under IN_DIR is listed as skipped, not tried.
SUPPORTED = frozenset({".txt", ".text", ".md", ".markdown", ".html", ".htm", ".xhtml", ".shtml", ".pdf",
                       ".png", ".jpg", ".jpeg", ".tif", ".tiff", ".bmp", ".tsv", ".csv"})
JOURNAL = ".nianbao-journal.jsonl"
LOCK = ".nianbao-lock"
FORMATS = ("json", "csv", "xlsx", "parquet")


class BatchOptions(BaseModel):
    model_config = ConfigDict(extra="forbid")

    workers: int = Field(0, ge=0)  # processes (local) or CPU tasks in flight (Ray); 0: one per core
    formats: list[Literal["json", "csv", "xlsx", "parquet"]] = ["json"]  # json is always written
    ray: str | None = None  # a Ray address, or "auto": the running cluster, else a local one
    retry_failed: bool = False  # rerun files that failed before (a failure is otherwise final)


@dataclass
class Item:
    rel: Path  # path under IN_DIR
    path: Path
    key: str = ""  # content hash + pipeline version; "" when the file could not be hashed
    error: tuple[str, str] | None = None  # (code, message) found before any work


@dataclass
class Outcome:
    rel: str
    status: str  # done / skipped / copied / failed
    code: str = ""
    message: str = ""
    seconds: float = 0.0
    outputs: list[str] = field(default_factory=list)
    inconsistent: bool = False
    ambiguous: bool = False


def pipeline_version(config: PipelineConfig) -> str:
    """What a result depends on besides the file: the code's version and every option."""
    opts = hashlib.sha256(config.model_dump_json().encode()).hexdigest()[:12]
    return f"{__version__}+{opts}"


def discover(in_dir: Path, out_dir: Path) -> tuple[list[Item], list[tuple[str, str]]]:
    """Supported files under IN_DIR, sorted; symlinks only where they stay inside IN_DIR; the
    output folder (when it is inside IN_DIR) and dot-files are not inputs."""
    root = in_dir.resolve()
    out = out_dir.resolve()
    items, skipped = [], []
    for dirpath, dirnames, filenames in os.walk(root, followlinks=False):
        here = Path(dirpath)
        dirnames[:] = sorted(d for d in dirnames if not d.startswith(".") and (here / d).resolve() != out
                             and not (here / d).is_symlink())
        for name in sorted(filenames):
            p = here / name
            rel = p.relative_to(root)
            if name.startswith("."):
                continue
            if p.suffix.lower() not in SUPPORTED:
                skipped.append((str(rel), "not a supported kind of file"))
                continue
            if p.is_symlink():
                try:
                    target = p.resolve(strict=True)
                except (OSError, RuntimeError):
                    skipped.append((str(rel), "broken symlink"))
                    continue
                if root not in target.parents:
                    skipped.append((str(rel), "symlink out of the input folder"))
                    continue
            items.append(Item(rel, p))
    return items, skipped


def content_key(item: Item, max_bytes: int, version: str) -> None:
    """Hash at most max_bytes + 1 bytes: a file over the limit is failed, not read to the end."""
    h = hashlib.sha256()
    n = 0
    try:
        with open(item.path, "rb") as fh:
            while chunk := fh.read(1 << 20):
                n += len(chunk)
                if n > max_bytes:
                    item.error = ("E004", f"[E004] {item.rel}: over the limit of {max_bytes} bytes")
                    return
                h.update(chunk)
    except OSError as exc:
        item.error = ("E005", f"[E005] {item.rel}: cannot read ({exc.strerror or exc.__class__.__name__})")
        return
    item.key = f"{h.hexdigest()}:{version}"


def output_stems(items: list[Item]) -> dict[Path, Path]:
    """Input → its result path without the format suffix: `a/b/report.pdf` → `a/b/report`; two
    inputs of one folder and stem (`report.txt`, `report.html`) keep their suffixes apart."""
    seen = Counter((it.rel.parent, it.rel.stem) for it in items)
    return {it.rel: it.rel.with_suffix("") if seen[(it.rel.parent, it.rel.stem)] == 1 else it.rel
            for it in items}


def write_atomic(dest: Path, data: bytes) -> None:
    dest.parent.mkdir(parents=True, exist_ok=True)
    tmp = dest.with_name(f".{dest.name}.{os.getpid()}.part")
    tmp.write_bytes(data)
    tmp.replace(dest)  # never half a result under the real name


class Journal:
    """One JSON line per finished file. `entries` is keyed by (path, key): the last line wins;
    `by_key` finds a done result of the same content under any path."""

    def __init__(self, path: Path):
        self.path = path
        self.entries: dict[tuple[str, str], dict] = {}
        self.by_key: dict[str, dict] = {}
        if path.exists():
            for line in path.read_text("utf-8").splitlines():
                try:
                    e = json.loads(line)
                except json.JSONDecodeError:
                    continue  # a line cut by a kill mid-write: that file is simply redone
                if isinstance(e, dict) and e.get("key") and e.get("path"):
                    self._add(e)
        self._fh = open(path, "a", encoding="utf-8")

    def _add(self, e: dict) -> None:
        self.entries[(e["path"], e["key"])] = e
        if e["status"] == "done" or e["key"] not in self.by_key:
            self.by_key[e["key"]] = e

    def lookup(self, path: str, key: str) -> dict | None:
        return self.entries.get((path, key)) or self.by_key.get(key)

    def record(self, entry: dict) -> None:
        self._add(entry)
        self._fh.write(json.dumps(entry, ensure_ascii=False) + "\n")
        self._fh.flush()
        os.fsync(self._fh.fileno())

    def close(self) -> None:
        self._fh.close()


# --- the work one file needs, run in a worker -------------------------------------------------

def work(path: str, config_json: str) -> dict:
    """Reconstruct one file; every failure comes back as a numbered error, never raised."""
    from nianbao.errors import NianbaoError
    from nianbao.inference.pipeline import reconstruct

    t0 = time.perf_counter()
    try:
        report = reconstruct(Path(path), PipelineConfig.model_validate_json(config_json))
        return {"ok": True, "report": report.model_dump(mode="json"), "seconds": time.perf_counter() - t0}
    except NianbaoError as exc:
        return {"ok": False, "code": exc.code, "message": str(exc), "seconds": time.perf_counter() - t0}
    except MemoryError:
        return {"ok": False, "code": "E042", "message": f"[E042] {Path(path).name}: out of memory",
                "seconds": time.perf_counter() - t0}
    except Exception as exc:  # a bug on one file must not stop the batch; it is reported as one
        return {"ok": False, "code": "E099", "message": f"[E099] {Path(path).name}: internal error "
                f"({exc.__class__.__name__}: {exc}); please report it", "seconds": time.perf_counter() - t0}


def warm(config_json: str) -> None:
    """A worker's start: imports and the engine load once, outside any file's time limit."""
    from nianbao.inference.engines import get_engine
    from nianbao.inference.pipeline import reconstruct  # noqa: F401

    config = PipelineConfig.model_validate_json(config_json)
    get_engine(config.engine, config.checkpoint)


def timed_out(name: str, limit: float) -> dict:
    return {"ok": False, "code": "E040", "message": f"[E040] {name}: took longer than the {limit:g} s limit per file",
            "seconds": limit}


def worker_died(name: str, why: str) -> dict:
    return {"ok": False, "code": "E041", "message": f"[E041] {name}: the worker died ({why})", "seconds": 0.0}


Executor = Callable[[list[Item], str, float, BatchOptions], Iterator[tuple[Item, dict]]]
EXECUTORS: dict[str, Executor] = {}


def register_executor(name: str):
    def deco(fn):
        EXECUTORS[name] = fn
        return fn

    return deco


@register_executor("local")
def run_local(items: list[Item], config_json: str, timeout: float, options: BatchOptions):
    """A process pool whose worker is killed and replaced when a file overruns its time."""
    from concurrent.futures import TimeoutError as FutureTimeout
    from concurrent.futures import as_completed

    from pebble import ProcessExpired, ProcessPool

    workers = options.workers or os.cpu_count() or 1
    with ProcessPool(max_workers=min(workers, max(1, len(items))), initializer=warm, initargs=(config_json,)) as pool:
        futures = {pool.schedule(work, args=(str(it.path), config_json), timeout=timeout): it for it in items}
        for fut in as_completed(futures):
            it = futures[fut]
            try:
                yield it, fut.result()
            except FutureTimeout:
                yield it, timed_out(str(it.rel), timeout)
            except ProcessExpired as exc:
                yield it, worker_died(str(it.rel), f"exit code {exc.exitcode}")
            except Exception as exc:  # pickling and pool errors belong to the file, not the batch
                yield it, {"ok": False, "code": "E099", "message": f"[E099] {it.rel}: {exc.__class__.__name__}: {exc}",
                           "seconds": 0.0}


# --- the batch ---------------------------------------------------------------------------------

@dataclass
class BatchResult:
    outcomes: list[Outcome]
    skipped_files: list[tuple[str, str]]
    seconds: float
    out_dir: Path

    def counts(self) -> Counter:
        return Counter(o.status for o in self.outcomes)

    def failures(self) -> Counter:
        return Counter(o.code for o in self.outcomes if o.status == "failed")

    def summary(self) -> dict:
        c = self.counts()
        worked = [o for o in self.outcomes if o.status == "done"]
        return {
            "files": len(self.outcomes), "done": c["done"], "skipped": c["skipped"], "copied": c["copied"],
            "failed": c["failed"], "failed_by_code": dict(sorted(self.failures().items())),
            "inconsistent": sum(o.inconsistent for o in self.outcomes if o.status in ("done", "skipped", "copied")),
            "ambiguous": sum(o.ambiguous for o in self.outcomes if o.status in ("done", "skipped", "copied")),
            "seconds": round(self.seconds, 3),
            "seconds_per_file": round(sum(o.seconds for o in worked) / len(worked), 3) if worked else None,
            "not_inputs": [{"path": p, "why": w} for p, w in self.skipped_files],
        }


def _write_outputs(report: Report, stem: Path, out_dir: Path, formats: list[str]) -> list[str]:
    from nianbao.inference.export import export

    written = []
    for fmt in ["json", *[f for f in formats if f != "json"]]:
        rel = stem.with_name(stem.name + "." + fmt)
        write_atomic(out_dir / rel, export([report], fmt))
        written.append(str(rel))
    return written


def run_batch(in_dir: Path, out_dir: Path, config: PipelineConfig, options: BatchOptions,
              progress: Callable[[int], Callable[[Outcome], None]] | None = None,
              executor: str | None = None) -> BatchResult:
    """Run every supported file under in_dir into out_dir (see the module doc). `progress(total)`
    returns a callback called once per finished file."""
    t0 = time.perf_counter()
    out_dir.mkdir(parents=True, exist_ok=True)
    with _locked(out_dir):
        return _run_batch(in_dir, out_dir, config, options, progress, executor, t0)


@contextmanager
def _locked(out_dir: Path):
    """One batch per results folder: a second one started on it stops at once with E014."""
    import fcntl

    from nianbao.errors import BatchLocked

    fh = open(out_dir / LOCK, "a+")
    try:
        try:
            fcntl.flock(fh, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise BatchLocked("another nianbao batch is writing into this folder; wait for it or use another",
                              source=str(out_dir)) from None
        # A run killed mid-write leaves its temporary files (never a result under its real name).
        for part in out_dir.rglob(".*.part"):
            part.unlink(missing_ok=True)
        yield
    finally:
        fh.close()


def _run_batch(in_dir, out_dir, config, options, progress, executor, t0) -> BatchResult:
    items, not_inputs = discover(in_dir, out_dir)
    version = pipeline_version(config)
    for it in items:
        content_key(it, config.max_bytes, version)
    stems = output_stems(items)
    journal = Journal(out_dir / JOURNAL)
    outcomes: list[Outcome] = []
    pending: list[Item] = []
    dups: list[Item] = []
    pending_keys: set[str] = set()
    tick = progress(len(items)) if progress else (lambda o: None)

    def finish(o: Outcome):
        outcomes.append(o)
        tick(o)

    try:
        for it in items:
            if it.error:
                finish(Outcome(str(it.rel), "failed", it.error[0], it.error[1]))
                continue
            prev = journal.lookup(str(it.rel), it.key)
            if prev and prev["status"] == "failed" and not options.retry_failed:
                if prev["path"] != str(it.rel):  # the same bytes failed under another name
                    prev = _renamed(prev, it)
                    journal.record(prev)
                finish(Outcome(str(it.rel), "failed", prev["code"], prev["message"] + " (failed before; --retry-failed reruns it)"))
                continue
            if prev and prev["status"] == "done" and all((out_dir / p).exists() for p in prev["outputs"]):
                finish(_reuse(prev, it, stems[it.rel], out_dir, options, journal))
                continue
            if it.key in pending_keys:
                dups.append(it)  # the same content twice in one run: worked once, then copied
                continue
            pending.append(it)
            pending_keys.add(it.key)
        name = executor or ("ray" if options.ray else "local")
        if name == "ray":
            from . import batch_ray  # noqa: F401  (registers the Ray executor; ray is an optional extra)
        if pending:
            for it, res in EXECUTORS[name](pending, config.model_dump_json(), config.file_timeout_s, options):
                finish(_settle(it, res, stems[it.rel], out_dir, options, journal))
        for it in dups:
            prev = journal.by_key[it.key]
            if prev["status"] == "done":
                finish(_reuse(prev, it, stems[it.rel], out_dir, options, journal))
            else:
                prev = _renamed(prev, it)
                journal.record(prev)
                finish(Outcome(str(it.rel), "failed", prev["code"], prev["message"]))
    finally:
        journal.close()
    result = BatchResult(sorted(outcomes, key=lambda o: o.rel), not_inputs, time.perf_counter() - t0, out_dir)
    write_cells_table(result.outcomes, out_dir)
    write_atomic(out_dir / "summary.json", json.dumps(result.summary(), ensure_ascii=False, indent=1).encode())
    return result


def _renamed(prev: dict, it: Item) -> dict:
    """A failure recorded for other bytes-identical file, told under this file's name."""
    return {**prev, "path": str(it.rel), "message": prev["message"].replace(Path(prev["path"]).name, it.rel.name, 1)}


def _reuse(prev: dict, it: Item, stem: Path, out_dir: Path, options: BatchOptions, journal: Journal) -> Outcome:
    """Done before under this key: skipped where its results are; a renamed or copied file gets
    its own results from the stored report, not a second run."""
    wanted = ["json", *[f for f in options.formats if f != "json"]]
    mine = [str(stem.with_name(stem.name + "." + f)) for f in wanted]
    flags = dict(inconsistent=prev.get("inconsistent", False), ambiguous=prev.get("ambiguous", False))
    if prev["path"] == str(it.rel) and set(mine) <= set(prev["outputs"]):
        return Outcome(str(it.rel), "skipped", outputs=prev["outputs"], **flags)
    report = Report.model_validate_json((out_dir / prev["outputs"][0]).read_bytes())
    report = report.model_copy(update={"source": it.path.name, "id": it.path.stem})
    outputs = _write_outputs(report, stem, out_dir, options.formats)
    journal.record({**prev, "path": str(it.rel), "outputs": outputs, "copied_from": prev["path"]})
    return Outcome(str(it.rel), "copied", outputs=outputs, **flags)


def _settle(it: Item, res: dict, stem: Path, out_dir: Path, options: BatchOptions, journal: Journal) -> Outcome:
    entry = {"key": it.key, "path": str(it.rel), "seconds": round(res.get("seconds", 0.0), 4)}
    if not res["ok"]:
        journal.record({**entry, "status": "failed", "code": res["code"], "message": res["message"]})
        return Outcome(str(it.rel), "failed", res["code"], res["message"], res.get("seconds", 0.0))
    report = Report.model_validate(res["report"])
    try:
        outputs = _write_outputs(report, stem, out_dir, options.formats)
    except OSError as exc:  # a full disk fails this file; it is not marked done, so a rerun redoes it
        return Outcome(str(it.rel), "failed", "E013", f"[E013] {it.rel}: cannot write its result "
                       f"({exc.strerror or exc.__class__.__name__})", res["seconds"])
    flags = dict(inconsistent=bool(report.inconsistent), ambiguous=bool(report.ambiguous))
    journal.record({**entry, "status": "done", "outputs": outputs, **flags})
    return Outcome(str(it.rel), "done", seconds=res["seconds"], outputs=outputs, **flags)


def write_cells_table(outcomes: list[Outcome], out_dir: Path) -> None:
    """`cells.parquet` and `cells.csv`: one row per report × cell over every input of the batch
    that has a result (done now or before)."""
    import pandas as pd

    rows = []
    for o in outcomes:
        if o.status == "failed" or not o.outputs:
            continue
        src = out_dir / o.outputs[0]
        if not src.exists():
            continue
        r = json.loads(src.read_bytes())
        prov = r.get("provenance", {})
        for key, value in r["cells"].items():
            rows.append({"report": r["id"], "source_path": o.rel, "body": r.get("body", ""), "year": r.get("year"),
                         "format": r["format"], "key": key, "value": value,
                         "method": prov.get(key, {}).get("method", "read"), "ambiguous": key in r.get("ambiguous", {}),
                         "inconsistent_report": bool(r.get("inconsistent"))})
    cols = ["report", "source_path", "body", "year", "format", "key", "value", "method", "ambiguous", "inconsistent_report"]
    df = pd.DataFrame(rows, columns=cols).astype({"year": "Int64", "value": "float64"})
    import io

    buf = io.BytesIO()
    df.to_parquet(buf, index=False)
    write_atomic(out_dir / "cells.parquet", buf.getvalue())
    write_atomic(out_dir / "cells.csv", df.to_csv(index=False).encode("utf-8"))


def reconstruct_many(paths: Iterable, workers: int = 0, config: PipelineConfig | None = None,
                     engine: str | None = None):
    """Reconstruct many files in parallel for a notebook: one row per report × cell, with a
    `status` / `error` row for a file that failed (nothing is written to disk)."""
    import pandas as pd

    from nianbao.config import load_config

    config = config or load_config(engine=engine)
    if engine:
        config = config.model_copy(update={"engine": engine})
    paths = [Path(p) for p in paths]
    items = [Item(p, p) for p in paths]
    rows = []
    for it, res in run_local(items, config.model_dump_json(), config.file_timeout_s, BatchOptions(workers=workers)):
        if not res["ok"]:
            rows.append({"source_path": str(it.path), "status": "failed", "error": res["message"]})
            continue
        r = res["report"]
        for key, value in r["cells"].items():
            rows.append({"source_path": str(it.path), "status": "done", "error": "", "report": r["id"],
                         "body": r.get("body", ""), "year": r.get("year"), "format": r["format"], "key": key,
                         "value": value, "method": r["provenance"].get(key, {}).get("method", "read"),
                         "ambiguous": key in r.get("ambiguous", {})})
    order = {str(p): i for i, p in enumerate(paths)}
    cols = ["source_path", "status", "error", "report", "body", "year", "format", "key", "value", "method", "ambiguous"]
    df = pd.DataFrame(rows, columns=cols)
    return df.sort_values("source_path", key=lambda s: s.map(order), kind="stable").reset_index(drop=True)
