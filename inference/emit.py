"""The emit stage: solutions and provenance into a `Report` (the spec's gold format and more)."""
from __future__ import annotations

from decimal import Decimal
from pathlib import Path

from nianbao.schema import CellProvenance, Report
from nianbao.templates import TABLES, load_template

from .meta import report_meta


def _num(v: Decimal) -> int | float:
    return int(v) if v == v.to_integral_value() else float(v)


_REASONS = {
    "blank": "blank cell",
    "dropped": "cell missing from the source",
    "illegible": "printed as a non-number",
}


DEFAULT_CONFIDENCE = 0.5  # a cell the source lacks and no sum forces: 0 by default
FORCED_CONFIDENCE = 0.9  # a cell the source lacks whose value the arithmetic forces


def build_report(doc) -> Report:
    """`doc` is the pipeline's Document after the solve stage."""
    cls = doc.classification
    template = load_template(cls.format)
    cells, prov, amb = {}, {}, {}
    incomplete: list[str] = []
    notes = list(doc.notes) + list(cls.notes)
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
                if not f:  # nothing printed: a default 0 is a guess, a forced value as good as its sum
                    pos = dict(confidence=FORCED_CONFIDENCE if forced else DEFAULT_CONFIDENCE)
                prov[key] = CellProvenance(method="inferred", reason=f"{_REASONS[s.kind]}; {why}", **pos)
                if s.kind == "illegible" or forced:
                    shown = f"printed as {f.text!r}" if f else _REASONS[s.kind]
                    notes.append(f"{key} is {shown}; the arithmetic gives {_num(v)} (inferred)")
        empty_rows = sorted({k.rsplit(".", 1)[0] for k, s in sol.specs.items() if s.kind == "dropped"}
                            - {k.rsplit(".", 1)[0] for k, s in sol.specs.items() if s.kind != "dropped"})
        if empty_rows:
            incomplete.append(table)
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
    body, year = report_meta(doc.fragments)
    return Report(id=Path(doc.source).stem, body=body, year=year, source=doc.source, format=cls.format, cells=cells,
                  inconsistent=inconsistent, notes="; ".join(notes), provenance=prov, ambiguous=amb,
                  missing_tables=missing, incomplete_tables=incomplete, engine=cls.engine)
