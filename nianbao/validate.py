"""The gold-file validator: right keys for the format, arithmetic holds or is listed.

The same checks run on `../shared/seeds/gold`, on every generated gold file and on outputs.
"""
from __future__ import annotations

from nianbao.templates import TABLES, load_template


def variant_of(cells: dict) -> str:
    return "single" if any(k.startswith("requests.other.") for k in cells) else "split"


def broken_constraints(fmt: str, cells: dict) -> list[str]:
    """Constraints (spec names) whose sums fail on these cells; tables that are absent are skipped."""
    t = load_template(fmt)
    variant = variant_of(cells)
    out = []
    for table in ("requests", "appeals"):
        for c in t.constraints(table, variant):
            keys = (*c.lhs, *c.rhs)
            if not all(k in cells for k in keys):
                continue
            if abs(sum(cells[k] for k in c.lhs) - sum(cells[k] for k in c.rhs)) > 1e-9:
                out.append(c.name)
    return out


def validate_gold(gold: dict) -> list[str]:
    """Problems with one gold (or output) object; empty when it is valid."""
    problems = []
    fmt = gold.get("format")
    if fmt not in ("2019", "2021"):
        return [f"format {fmt!r} is not 2019 or 2021"]
    cells = gold.get("cells", {})
    t = load_template(fmt)
    variant = variant_of(cells)
    for table in TABLES:
        expected = t.keys(table, variant)
        present = [k for k in cells if k.startswith(table + ".")]
        if present and set(present) != set(expected):
            missing = sorted(set(expected) - set(present))[:3]
            extra = sorted(set(present) - set(expected))[:3]
            problems.append(f"table {table}: keys differ from format {fmt} (missing {missing}, unknown {extra})")
    unknown_tables = {k.split(".")[0] for k in cells} - set(TABLES)
    if unknown_tables:
        problems.append(f"unknown tables {sorted(unknown_tables)}")
    for k, v in cells.items():
        if not isinstance(v, (int, float)):
            problems.append(f"{k}: value {v!r} is not a number")
        elif v < 0 and not k.endswith(".change"):
            problems.append(f"{k}: negative count {v}")
    broken = broken_constraints(fmt, cells)
    if sorted(broken) != sorted(gold.get("inconsistent", [])):
        problems.append(f"inconsistent lists {sorted(gold.get('inconsistent', []))} but the cells break {broken}")
    return problems
