"""Random report tables that satisfy every constraint of their template (or break one on purpose)."""
from __future__ import annotations

import random
from dataclasses import dataclass, field
from decimal import Decimal

from nianbao.templates import Template, load_template


@dataclass
class Truth:
    """A generated report: its values by key and the constraints its printed numbers break."""

    format: str
    variant: str
    cells: dict[str, Decimal]
    inconsistent: list[str] = field(default_factory=list)

    @property
    def template(self) -> Template:
        return load_template(self.format)


def _count(rng: random.Random, zero_p: float = 0.75, big_p: float = 0.05) -> int:
    r = rng.random()
    if r < zero_p:
        return 0
    if r > 1 - big_p:
        return rng.randint(100, 3000)
    return rng.randint(1, 30)


def _money(rng: random.Random) -> Decimal:
    if rng.random() < 0.5:
        return Decimal(0)
    places = rng.randint(0, 4)
    return Decimal(rng.randint(1, 9_999_999)) / (Decimal(10) ** places) / 100


def random_truth(rng: random.Random, fmt: str | None = None, variant: str | None = None,
                 inconsistent_p: float = 0.0) -> Truth:
    fmt = fmt or rng.choice(["2019", "2021"])
    t = load_template(fmt)
    variant = variant or (t.default_variant if rng.random() < 0.85 else
                          ("single" if t.default_variant == "split" else "split"))
    cells: dict[str, Decimal] = {}
    # active: no arithmetic; realistic magnitudes
    for r in t.tables["active"].rows:
        for c in t.tables["active"].row_columns(r):
            col = t.tables["active"].column(c)
            key = f"active.{r.key}.{c}"
            if col.money:
                cells[key] = _money(rng)
            elif col.signed:
                cells[key] = Decimal(rng.choice([0, 0, 0, rng.randint(-20, 20)]))
            else:
                cells[key] = Decimal(_count(rng, 0.5, 0.15))
    # requests: results rows sparse; totals and balance derived
    req = t.tables["requests"]
    rows = [r.key for r in req.rows_for(variant)]
    cols = [c.key for c in req.columns if c.key != "total"]
    results = rows[rows.index("granted") : rows.index("results_total")]
    busy = rng.random() < 0.6
    for c in cols:
        colp = 0.55 if c == "natural_person" else 0.93
        for r in results:
            cells[f"requests.{r}.{c}"] = Decimal(_count(rng, max(colp, 0.0) if busy else 0.97, 0.02))
        rt = sum(cells[f"requests.{r}.{c}"] for r in results)
        cells[f"requests.results_total.{c}"] = rt
        cf = Decimal(rng.randint(0, 3)) if rng.random() < 0.2 else Decimal(0)
        cells[f"requests.carried_forward.{c}"] = cf
        co = Decimal(rng.randint(0, int(min(rt + cf, 5)))) if rng.random() < 0.3 else Decimal(0)
        cells[f"requests.carried_over.{c}"] = co
        cells[f"requests.new_received.{c}"] = rt + cf - co
    for r in rows:
        cells[f"requests.{r}.total"] = sum(cells[f"requests.{r}.{c}"] for c in cols)
    # appeals
    for r in t.tables["appeals"].rows:
        parts = [Decimal(_count(rng, 0.85, 0.0)) for _ in range(4)]
        for c, v in zip(["upheld", "corrected", "other", "pending"], parts):
            cells[f"appeals.{r.key}.{c}"] = v
        cells[f"appeals.{r.key}.total"] = sum(parts)
    ordered = {k: cells[k] for k in t.all_keys(variant)}
    truth = Truth(fmt, variant, ordered)
    if rng.random() < inconsistent_p:
        key = rng.choice([k for k in ordered if not k.startswith("active.")])
        ordered[key] += rng.choice([1, 2, 10]) if ordered[key] == 0 or rng.random() < 0.5 else -1
        truth.inconsistent = violated(truth)
    return truth


def violated(truth: Truth) -> list[str]:
    t = truth.template
    out = []
    for table in ("requests", "appeals"):
        for c in t.constraints(table, truth.variant):
            if sum(truth.cells[k] for k in c.lhs) != sum(truth.cells[k] for k in c.rhs):
                out.append(c.name)
    return out


def gold_json(truth: Truth, id: str, source: str, notes: str = "") -> dict:
    def num(v: Decimal):
        return int(v) if v == v.to_integral_value() else float(v)

    return {"id": id, "source": source, "format": truth.format,
            "cells": {k: num(v) for k, v in truth.cells.items()},
            "inconsistent": truth.inconsistent, "notes": notes}
