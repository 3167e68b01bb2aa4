"""Command line: `nianbao extract`, `nianbao batch`, `nianbao serve`, `nianbao evaluate` (and the dataset /
model commands)."""
from __future__ import annotations

import sys
from pathlib import Path
from typing import List, Optional

import typer
from rich.console import Console
from rich.table import Table

from .errors import NianbaoError

app = typer.Typer(add_completion=False, no_args_is_help=True, help=__doc__)
err = Console(stderr=True)
out = Console()

FORMATS = ["json", "csv", "xlsx", "parquet"]
ENGINES = ["auto", "heuristic", "model"]
OCR_MODES = ["auto", "always", "never"]


def _fail(msg: str, code: int = 2):
    sys.stderr.write(msg + "\n")
    raise typer.Exit(code)


def _choice(value: str, allowed: list[str], name: str) -> str:
    if value not in allowed:
        _fail(f"[E011] --{name} {value!r} is not one of: {', '.join(allowed)}")
    return value


def _pipeline_config(config: Optional[Path], engine: str, ocr: Optional[str]):
    """The options every reconstructing command shares, checked with the allowed values named."""
    from nianbao.config import load_config

    _choice(engine, ENGINES, "engine")
    if ocr is not None:
        _choice(ocr, OCR_MODES, "ocr")
    try:
        return load_config(config, engine=engine, ocr=ocr)
    except NianbaoError as exc:
        _fail(str(exc))


@app.command()
def extract(
    input: Path = typer.Argument(..., help="A report (text, Markdown, HTML, PDF) or a folder of them."),
    output: Optional[Path] = typer.Option(None, "-o", "--output", help="File (or folder, for a folder input)."),
    to: str = typer.Option("json", "--to", help="json | csv | xlsx | parquet"),
    engine: str = typer.Option("auto", "--engine", help="auto | heuristic | model"),
    ocr: Optional[str] = typer.Option(None, "--ocr", help="auto (OCR a PDF whose text layer is missing or garbage) "
                                                          "| always | never; default: the config's"),
    config: Optional[Path] = typer.Option(None, "--config", help="A pipeline YAML (see configs/pipeline.yaml)."),
):
    """Reconstruct the report tables of INPUT (text, HTML, PDF, scan or image); JSON to stdout when no -o."""
    from nianbao.inference.export import export
    from nianbao.inference.pipeline import reconstruct

    _choice(to, FORMATS, "to")
    cfg = _pipeline_config(config, engine, ocr)
    if not input.exists() and not input.is_symlink():
        _fail(f"[E001] {input}: no such file or folder")
    if input.is_dir():
        _extract_folder(input, output, to, cfg)
    try:
        report = reconstruct(input, cfg)
    except NianbaoError as exc:
        _fail(str(exc))
    data = export([report], to)
    if output is None:
        if to != "json":
            _fail(f"[E012] --to {to} writes binary or long output: give -o FILE")
        sys.stdout.write(data.decode("utf-8") + "\n")
        return
    if output.is_dir():  # a folder for one file: the result goes into it, named after the input
        output = output / f"{input.stem}.{to}"
    try:
        output.parent.mkdir(parents=True, exist_ok=True)
        _write_atomic(output, data)
    except OSError as exc:
        _fail(f"[E013] {output}: cannot write ({exc.strerror or exc.__class__.__name__})")


def _write_atomic(dest: Path, data: bytes) -> None:
    from nianbao.inference.batch import write_atomic

    write_atomic(dest, data)  # a result is never half-written


def _extract_folder(input: Path, output: Optional[Path], to: str, cfg) -> None:
    from nianbao.inference.export import export
    from nianbao.inference.pipeline import reconstruct

    target = output or Path(f"{input.name}-{to}")
    if target.exists() and not target.is_dir():
        _fail(f"[E013] {target}: -o for a folder must be a folder, and this is a file")
    if target.resolve() == input.resolve():
        _fail(f"[E013] {target}: -o is the input folder; a rerun would read its own results as reports")
    files = sorted(p for p in input.iterdir() if not p.name.startswith(".") and p.is_file())
    skipped = sorted(p.name for p in input.iterdir() if p not in files)
    try:
        target.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        _fail(f"[E013] {target}: cannot make the folder ({exc.strerror or exc.__class__.__name__})")
    # `report.txt` and `report.html` would both be `report.json`: such names keep their suffix.
    stems = [f.stem for f in files]
    failed = 0
    for f in files:
        name = f.stem if stems.count(f.stem) == 1 else f.name
        try:
            report = reconstruct(f, cfg)
            _write_atomic(target / f"{name}.{to}", export([report], to))
        except NianbaoError as exc:
            failed += 1
            sys.stderr.write(str(exc) + "\n")
        except OSError as exc:
            failed += 1
            sys.stderr.write(f"[E013] {f.name}: {exc.strerror or exc.__class__.__name__}\n")
    err.print(f"{len(files) - failed}/{len(files)} reports written to {target}"
              + (f"; {len(skipped)} skipped (folders, dot-files, not regular files): {', '.join(skipped[:5])}"
                 if skipped else ""), highlight=False)
    raise typer.Exit(0 if failed == 0 else 1)


@app.command()
def batch(
    input: Path = typer.Argument(..., help="Folder of reports, searched recursively."),
    output: Path = typer.Argument(..., help="Results folder: mirrors INPUT (a/b/report.pdf → a/b/report.json)."),
    workers: int = typer.Option(0, "--workers", help="Parallel workers (0: one per core)."),
    ray: Optional[str] = typer.Option(None, "--ray", help="Run on Ray: a cluster address, or 'auto' (the running "
                                                         "cluster, else a local one)."),
    to: str = typer.Option("json", "--to", help="Formats besides JSON, comma-separated: json,csv,xlsx,parquet"),
    engine: str = typer.Option("auto", "--engine", help="auto | heuristic | model"),
    ocr: Optional[str] = typer.Option(None, "--ocr", help="auto | always | never; default: the config's"),
    retry_failed: bool = typer.Option(False, "--retry-failed", help="Rerun files that failed in an earlier run."),
    config: Optional[Path] = typer.Option(None, "--config", help="A pipeline YAML (see configs/pipeline.yaml)."),
):
    """Reconstruct every report under INPUT into OUTPUT, resumably: what the journal in OUTPUT says
    is done (same content, same pipeline version) is skipped; each failure is recorded with its
    numbered error; cells.parquet / cells.csv hold every cell of the batch; summary.json the counts.
    Exit status: 0 all done, 1 some files failed (each recorded), 2 bad arguments or another batch
    holds OUTPUT, 3 the batch itself stopped (rerun to resume)."""
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn, TimeRemainingColumn

    from nianbao.inference.batch import BatchOptions, run_batch

    formats = [f.strip() for f in to.split(",") if f.strip()]
    for f in formats:
        _choice(f, FORMATS, "to")
    cfg = _pipeline_config(config, engine, ocr)
    if workers < 0:
        _fail(f"[E011] --workers {workers}: give 0 (one per core) or more")
    options = BatchOptions(workers=workers, formats=formats, ray=ray, retry_failed=retry_failed)
    if not input.is_dir():
        _fail(f"[E005] {input}: not a folder (for one file use `nianbao extract`)")
    if output.exists() and not output.is_dir():
        _fail(f"[E013] {output}: the results folder is a file")
    if output.resolve() == input.resolve():
        _fail(f"[E013] {output}: the results folder is the input folder; give another (it may be inside it)")
    columns = [TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
               TextColumn("{task.fields[rate]}"), TimeElapsedColumn(), TextColumn("ETA"), TimeRemainingColumn()]
    with Progress(*columns, console=err, transient=False) as bar:
        t0 = [0.0]

        def progress(total: int):
            import time

            task = bar.add_task("reports", total=total, rate="")
            t0[0] = time.perf_counter()

            def tick(o):
                bar.advance(task)
                done = bar.tasks[task].completed
                el = time.perf_counter() - t0[0]
                bar.update(task, rate=f"{done / el:.1f} files/s" if el > 0 else "")
                if o.status == "failed":
                    bar.console.print(o.message, highlight=False, markup=False)

            return tick

        try:
            result = run_batch(input, output, cfg, options, progress=progress)
        except NianbaoError as exc:
            _fail(str(exc))
        except OSError as exc:
            _fail(f"[E013] {output}: {exc.strerror or exc.__class__.__name__}")
        except Exception as exc:  # the batch itself broke (not one of its files): exit 3, rerun resumes
            _fail(f"[E099] the batch stopped: {exc.__class__.__name__}: {exc}; rerun to resume", code=3)
    s = result.summary()
    t = Table(title=f"nianbao batch → {output}")
    for c in ("files", "done", "skipped", "copied", "failed", "inconsistent", "ambiguous", "s/file"):
        t.add_column(c, justify="right")
    t.add_row(*(str(s[k]) for k in ("files", "done", "skipped", "copied", "failed", "inconsistent", "ambiguous")),
              "–" if s["seconds_per_file"] is None else f"{s['seconds_per_file']:.2f}")
    out.print(t)
    if s["failed_by_code"]:
        out.print("failed by error: " + ", ".join(f"{k} × {v}" for k, v in s["failed_by_code"].items()), highlight=False)
    if s["not_inputs"]:
        out.print(f"{len(s['not_inputs'])} files were not inputs (see summary.json), e.g. "
                  + ", ".join(f"{x['path']} ({x['why']})" for x in s["not_inputs"][:3]), highlight=False)
    raise typer.Exit(0 if s["failed"] == 0 else 1)


@app.command()
def serve(
    host: str = typer.Option("127.0.0.1", "--host"),
    port: int = typer.Option(8000, "--port"),
    workers: int = typer.Option(0, "--workers", help="Worker processes for reports (0: one per core)."),
    engine: str = typer.Option("auto", "--engine", help="auto | heuristic | model"),
    config: Optional[Path] = typer.Option(None, "--config", help="A pipeline YAML: max_bytes is the upload limit, "
                                                                "file_timeout_s the per-request time."),
):
    """The HTTP service: POST /v1/reconstruct, POST /v1/jobs + GET /v1/jobs/{id}, GET /healthz; docs at /docs."""
    from nianbao.errors import require
    from nianbao.inference.service import create_app

    cfg = _pipeline_config(config, engine, None)
    try:
        uvicorn = require("uvicorn", "serve", "nianbao serve")
        application = create_app(cfg, workers=workers)
    except NianbaoError as exc:
        _fail(str(exc))
    uvicorn.run(application, host=host, port=port, log_level="info")


@app.command()
def evaluate(
    pred_or_input_dir: Path = typer.Argument(..., help="Labelled case folders (<set>/<case>/input.* + gold.json), "
                                                   "a synthetic dataset, or predicted JSON / inputs beside --gold."),
    gold: Optional[Path] = typer.Option(None, "--gold", help="Folder of gold JSON files (<stem>.json)."),
    engine: str = typer.Option("auto", "--engine", help="One engine, or several comma-separated: heuristic,model."),
    input_pattern: str = typer.Option("input.*", "--input", help="Input file of each case folder (e.g. text.pdf)."),
    out_file: Optional[Path] = typer.Option(None, "--out", help="Write the scores as JSON here."),
    md_file: Optional[Path] = typer.Option(None, "--md", help="Write the table as Markdown here."),
    show: int = typer.Option(20, "--show", help="How many differing cells to list."),
):
    """Per-set non-zero and all-cell accuracy, all-correct reports, time per report, differing cells."""
    import json

    from nianbao.inference.evaluate import evaluate_dir, markdown

    engines = engine.split(",")
    for e in engines:
        _choice(e, ENGINES, "engine")
    if not pred_or_input_dir.is_dir():
        _fail(f"[E001] {pred_or_input_dir}: not a folder")
    results = []
    for e in engines:
        results.append(evaluate_dir(pred_or_input_dir, gold, engine=e, input_pattern=input_pattern))
        _print_scores(results[-1], show)
    if out_file:
        out_file.parent.mkdir(parents=True, exist_ok=True)
        data = results[0].summary() if len(results) == 1 else [r.summary() for r in results]
        out_file.write_text(json.dumps(data, ensure_ascii=False, indent=1), "utf-8")
    if md_file:
        md_file.parent.mkdir(parents=True, exist_ok=True)
        md_file.write_text(markdown(results, f"nianbao evaluate {pred_or_input_dir.name}"), "utf-8")


@app.command()
def synth(
    n: int = typer.Option(100, "--n", help="How many reports."),
    out_dir: Path = typer.Option(..., "--out", help="Folder to write DIR/<id>/input.*, gold.json, fragments.parquet."),
    styles: Optional[str] = typer.Option(None, "--styles", help="Comma-separated styles (default: all)."),
    formats: str = typer.Option("2019,2021", "--formats"),
    seed: int = typer.Option(0, "--seed"),
    inconsistent: float = typer.Option(0.05, "--inconsistent", help="Share of reports that break a sum on purpose."),
    labels: bool = typer.Option(True, "--labels/--no-labels", help="Write per-fragment labels."),
    workers: int = typer.Option(0, "--workers", help="Processes (0: one per core)."),
):
    """Generate labelled synthetic reports, deterministic for a seed."""
    from rich.progress import Progress

    from nianbao.datasets.documents import SCAN_STYLES
    from nianbao.datasets.styles import STYLES
    from nianbao.datasets.synth import generate

    style_list = styles.split(",") if styles else None
    for s in style_list or []:
        if s not in STYLES and s not in SCAN_STYLES:
            _fail(f"[E011] unknown style {s!r}; allowed: {', '.join(sorted([*STYLES, *SCAN_STYLES]))}")
    fmts = formats.split(",")
    for f in fmts:
        _choice(f, ["2019", "2021"], "formats")
    with Progress(console=err, transient=False) as progress:
        task = progress.add_task("synth", total=n)
        rows = generate(n, out_dir, style_list, fmts, seed, inconsistent, labels, workers,
                        progress=lambda: progress.advance(task))
    err.print(f"{len(rows)} reports in {out_dir} (manifest.jsonl)", highlight=False)


@app.command()
def train(
    data: Optional[List[Path]] = typer.Option(None, "--data", help="A `nianbao synth` folder (repeat for several)."),
    labels: Optional[Path] = typer.Option(None, "--labels", help="Labelled real reports: <stem>.gold.json beside the input."),
    out_dir: Path = typer.Option(Path("models/checkpoint"), "--out", help="Checkpoint folder to write."),
    init: Optional[Path] = typer.Option(None, "--init", help="Fine-tune from this checkpoint."),
    epochs: int = typer.Option(30, "--epochs"),
    patience: int = typer.Option(3, "--patience"),
    batch_size: int = typer.Option(16, "--batch-size"),
    lr: float = typer.Option(2e-3, "--lr"),
    seed: int = typer.Option(0, "--seed"),
    hidden: int = typer.Option(96, "--hidden"),
    layers: int = typer.Option(3, "--layers"),
    cut_hidden: int = typer.Option(64, "--cut-hidden", help="Width of the glued-run cut head (0: none)."),
    limit: Optional[int] = typer.Option(None, "--limit", help="Use only the first N synthetic reports."),
    device: str = typer.Option("auto", "--device", help="auto | cpu | cuda"),
):
    """Train the layout model (from scratch, or fine-tune with --init) and save a checkpoint."""
    from nianbao.errors import MissingExtra
    from nianbao.training.train import TrainConfig, train as run_train

    if data is None and labels is None:
        _fail("[E013] give --data (a `nianbao synth` folder) and/or --labels (labelled reports)")
    cfg = TrainConfig(data=[str(d) for d in data] if data else None, labels=str(labels) if labels else None, out=str(out_dir),
                      init=str(init) if init else None, epochs=epochs, patience=patience, batch_size=batch_size,
                      lr=lr, seed=seed, limit=limit, device=device, hidden_size=hidden, layers=layers,
                      cut_hidden=cut_hidden)
    try:
        result = run_train(cfg, log=lambda m: err.print(m, markup=False, highlight=False, soft_wrap=True))
    except (MissingExtra, ValueError) as exc:
        _fail(str(exc))
    if result["before"]:
        err.print(f"before: {result['before']}", markup=False, soft_wrap=True)
    err.print(f"checkpoint: {result['out']}", highlight=False)


@app.command()
def label(
    input: Path = typer.Argument(..., help="A report to label."),
    output: Optional[Path] = typer.Option(None, "-o", "--output", help="Default: INPUT's stem + .gold.json beside it."),
    engine: str = typer.Option("auto", "--engine"),
):
    """Write a draft gold JSON from the current reconstruction, for a person to correct."""
    import json

    from nianbao.inference.pipeline import reconstruct

    _choice(engine, ENGINES, "engine")
    try:
        report = reconstruct(input, engine=engine)
    except NianbaoError as exc:
        _fail(str(exc))
    gold = report.gold()
    flags = [f"{k} inferred ({p.reason})" for k, p in report.provenance.items() if p.method != "read"]
    gold["notes"] = "DRAFT — check every cell against the report. " + report.notes + (
        " | to check: " + "; ".join(flags[:30]) if flags else "")
    dest = output or input.with_name(input.stem + ".gold.json")
    dest.write_text(json.dumps(gold, ensure_ascii=False, indent=1), "utf-8")
    err.print(f"draft gold written to {dest}", highlight=False)


def _print_scores(result, show: int):
    t = Table(title=f"nianbao evaluate · engine {result.engine}")
    for c in ("set", "reports", "all correct", "non-zero cells right", "cells", "cell accuracy", "median ms"):
        t.add_column(c)
    for group, s in result.by_group().items():
        ms = f"{s['median_ms']:.0f}" if s.get("median_ms") is not None else "–"
        t.add_row(group, str(s["reports"]), f"{s['all_correct']}/{s['reports']}",
                  f"{s['nonzero_correct']}/{s['nonzero']} ({100 * s['nonzero_accuracy']:.2f} %)", str(s["cells"]),
                  f"{100 * s['accuracy']:.2f} %", ms)
    out.print(t)
    diffs = [(r.name, *d) for r in result.scores for d in r.diffs]
    errors = [(r.name, r.error) for r in result.scores if r.error]
    for name, e in errors:
        out.print(f"error  {name}: {e}", markup=False, highlight=False, soft_wrap=True)
    for name, key, p, g in diffs[:show]:
        out.print(f"differs {name}  {key}: predicted {p} gold {g}", markup=False, highlight=False, soft_wrap=True)
    if len(diffs) > show:
        out.print(f"... and {len(diffs) - show} more differing cells")


def main():  # pragma: no cover
    app()


if __name__ == "__main__":  # pragma: no cover
    app()
