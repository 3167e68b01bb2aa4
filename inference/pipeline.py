"""read → classify → solve → emit, as a short list of stages over one document."""
from __future__ import annotations

import time
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path

from nianbao.config import PipelineConfig, load_config
from nianbao.errors import InputTooLarge, NianbaoError, NotAReport
from nianbao.schema import CellProvenance, Classification, Fragment, Report
from nianbao.templates import TABLES, load_template

from . import readers  # noqa: F401  (registers the readers)
from .engines import get_engine
from .heuristic import classify
from .readers.base import pick_reader
from .solve import Solution, build_hypotheses, solve_table


@dataclass
class Document:
    source: str
    data: bytes
    fragments: list[Fragment] = field(default_factory=list)
    classification: Classification | None = None
    solutions: dict[str, Solution] = field(default_factory=dict)
    report: Report | None = None
    timings: dict[str, float] = field(default_factory=dict)


def load(source, config: PipelineConfig) -> Document:
    """Accept a path, raw bytes or a text string."""
    if isinstance(source, bytes):
        data, name = source, "<bytes>"
    elif isinstance(source, Path) or (isinstance(source, str) and "\n" not in source and len(source) < 4096
                                      and Path(source).exists()):
        path = Path(source)
        size = path.stat().st_size
        if size > config.max_bytes:
            raise InputTooLarge(f"{size} bytes is over the limit of {config.max_bytes}", source=path.name)
        data, name = path.read_bytes(), path.name
    else:
        data, name = str(source).encode("utf-8"), "<text>"
    if len(data) > config.max_bytes:
        raise InputTooLarge(f"{len(data)} bytes is over the limit of {config.max_bytes}", source=name)
    return Document(source=name, data=data)


def read(doc: Document, config: PipelineConfig) -> None:
    suffix = Path(doc.source).suffix.lower()
    doc.fragments = pick_reader(doc.data, suffix, doc.source).read(doc.data, doc.source)


def classify_stage(doc: Document, config: PipelineConfig) -> None:
    doc.classification = classify(doc.fragments, get_engine(config.engine, config.checkpoint))
    if not doc.classification.tables:
        raise NotAReport("none of the three report tables (主动公开 / 申请处理 / 复议诉讼) was found",
                         source=doc.source)


def solve(doc: Document, config: PipelineConfig) -> None:
    cls = doc.classification
    template = load_template(cls.format)
    for table in cls.tables:
        hyps = build_hypotheses(cls, doc.fragments, template, table)
        doc.solutions[table] = solve_table(hyps, template.constraints(table, cls.variant))


def emit(doc: Document, config: PipelineConfig) -> None:
    doc.report = build_report(doc)


STAGES = [read, classify_stage, solve, emit]


def run(source, config: PipelineConfig | None = None, *, engine: str | None = None) -> Document:
    config = config or load_config(engine=engine)
    if engine:
        config = config.model_copy(update={"engine": engine})
    doc = load(source, config)
    for stage in STAGES:
        t0 = time.perf_counter()
        stage(doc, config)
        doc.timings[stage.__name__] = time.perf_counter() - t0
    return doc


def reconstruct(source, config: PipelineConfig | None = None, *, engine: str | None = None) -> Report:
    """Reconstruct one report from a path, bytes or text. Raises a NianbaoError on bad input."""
    return run(source, config, engine=engine).report


def _num(v: Decimal) -> int | float:
    return int(v) if v == v.to_integral_value() else float(v)


_REASONS = {
    "blank": "blank cell",
    "dropped": "cell missing from the source",
    "illegible": "printed as a non-number",
}


def build_report(doc: Document) -> Report:
    cls = doc.classification
    template = load_template(cls.format)
    cells, prov, amb = {}, {}, {}
    notes = list(cls.notes)
    inconsistent: list[str] = []
    for table in TABLES:
        sol = doc.solutions.get(table)
        if sol is None:
            continue
        for key in template.keys(table, cls.variant):
            v, s = sol.values[key], sol.specs[key]
            cells[key] = _num(v)
            f = s.frag
            pos = dict(text=f.text, line=f.line, col=f.col, page=f.page, confidence=f.conf) if f else {}
            if s.kind == "read":
                prov[key] = CellProvenance(method="read", **pos)
            elif s.kind == "split":
                prov[key] = CellProvenance(method="inferred", reason=f"glued digits: {s.note}", **pos)
            elif s.kind == "uncertain":
                if v == s.value:
                    prov[key] = CellProvenance(method="read", **pos)
                else:
                    prov[key] = CellProvenance(method="corrected", reason=(
                        f"low-confidence OCR read {f.text!r} ({f.conf:.2f}); {_num(v)} restores the arithmetic"), **pos)
                    notes.append(f"{key} corrected from {f.text!r} to {_num(v)}")
            else:
                forced = v != 0
                why = "the arithmetic forces it" if forced else "0 by default"
                prov[key] = CellProvenance(method="inferred", reason=f"{_REASONS[s.kind]}; {why}", **pos)
                if s.kind == "illegible" or forced:
                    shown = f"printed as {f.text!r}" if f else _REASONS[s.kind]
                    notes.append(f"{key} is {shown}; the arithmetic gives {_num(v)} (inferred)")
        empty_rows = sorted({k.rsplit(".", 1)[0] for k, s in sol.specs.items() if s.kind == "dropped"}
                            - {k.rsplit(".", 1)[0] for k, s in sol.specs.items() if s.kind != "dropped"})
        if empty_rows:
            notes.append("rows not found in the source (cells set by the arithmetic or 0): " + ", ".join(empty_rows))
        for k, alts in sol.ambiguous.items():
            amb[k] = [_num(a) for a in alts]
        order = [c.name for c in template.constraints(table, cls.variant)]
        inconsistent += sorted(sol.inconsistent, key=order.index)
    missing = [t for t in TABLES if t not in doc.solutions]
    if missing:
        notes.append("tables not found: " + ", ".join(missing))
    if inconsistent:
        notes.append("the printed numbers break: " + ", ".join(inconsistent))
    if amb:
        notes.append("ambiguous cells: " + ", ".join(sorted(amb)))
    return Report(id=Path(doc.source).stem, source=doc.source, format=cls.format, cells=cells,
                  inconsistent=inconsistent, notes="; ".join(notes), provenance=prov, ambiguous=amb,
                  missing_tables=missing, engine=cls.engine)


__all__ = ["reconstruct", "run", "STAGES", "NianbaoError"]
