"""The report templates as validated, typed objects, loaded from `configs/templates/*.yaml`.

Everything else derives cell keys and constraints from these objects; no code hard-codes a key.
"""
from __future__ import annotations

from functools import cached_property, lru_cache
from importlib import resources
from typing import Literal

import yaml
from pydantic import BaseModel, ConfigDict, ValidationError, model_validator

from .errors import ConfigError
from .text import norm_label

TABLES = ("active", "requests", "appeals")


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Column(Strict):
    key: str
    labels: list[str]
    money: bool = False
    signed: bool = False


class Row(Strict):
    key: str
    labels: list[str]
    phrases: list[str] = []
    columns: list[str] | None = None  # None: every column of the table
    variant: Literal["split", "single"] | None = None


class ConstraintSpec(Strict):
    name: str
    for_each: Literal["row", "column"]
    lhs: list[str]
    rhs: list[str]


class Constraint(Strict):
    """One expanded linear equality: sum(lhs cells) == sum(rhs cells)."""

    name: str  # as the spec writes it, e.g. requests.row:granted:total
    lhs: tuple[str, ...]
    rhs: tuple[str, ...]


class Table(Strict):
    title: str
    anchors: list[str]
    columns: list[Column]
    rows: list[Row]
    group_labels: list[str] = []
    unlabelled_rows: bool = False
    constraints: list[ConstraintSpec] = []

    @model_validator(mode="after")
    def _columns_known(self):
        known = {c.key for c in self.columns}
        for row in self.rows:
            for c in row.columns or []:
                if c not in known:
                    raise ValueError(f"row {row.key!r} names unknown column {c!r}; allowed: {sorted(known)}")
        return self

    def column(self, key: str) -> Column:
        return next(c for c in self.columns if c.key == key)

    def row_columns(self, row: Row) -> list[str]:
        return row.columns if row.columns is not None else [c.key for c in self.columns]

    def rows_for(self, variant: str | None) -> list[Row]:
        """Rows printed by a report: the `other_*` split rows or the single `other` row, never both."""
        return [r for r in self.rows if r.variant is None or r.variant == variant]

    @property
    def variants(self) -> list[str | None]:
        found = sorted({r.variant for r in self.rows if r.variant})
        return found or [None]


class Template(Strict):
    format: Literal["2019", "2021"]
    issued_by: str
    markers: list[str]
    default_variant: Literal["split", "single"]
    tables: dict[Literal["active", "requests", "appeals"], Table]

    @cached_property
    def norm_markers(self) -> list[str]:
        return [norm_label(m) for m in self.markers]

    def keys(self, table: str, variant: str | None = None) -> list[str]:
        """Every cell key of a table in print order, for one `other` variant."""
        t = self.tables[table]
        variant = variant or self.default_variant
        return [f"{table}.{r.key}.{c}" for r in t.rows_for(variant) for c in t.row_columns(r)]

    def all_keys(self, variant: str | None = None) -> list[str]:
        return [k for t in TABLES for k in self.keys(t, variant)]

    def constraints(self, table: str, variant: str | None = None) -> list[Constraint]:
        """Expand the table's constraint specs over its rows or columns for one variant."""
        t = self.tables[table]
        rows = t.rows_for(variant or self.default_variant)
        row_keys = [r.key for r in rows]
        out: list[Constraint] = []
        for spec in t.constraints:
            if spec.for_each == "row":
                for r in rows:
                    cols = t.row_columns(r)
                    out.append(Constraint(
                        name=f"{table}." + spec.name.format(row=r.key),
                        lhs=tuple(f"{table}.{r.key}.{c}" for c in spec.lhs if c in cols),
                        rhs=tuple(f"{table}.{r.key}.{c}" for c in spec.rhs if c in cols),
                    ))
            else:
                for c in t.columns:
                    out.append(Constraint(
                        name=f"{table}." + spec.name.format(column=c.key),
                        lhs=tuple(f"{table}.{r}.{c.key}" for r in spec.lhs if r in row_keys),
                        rhs=tuple(f"{table}.{r}.{c.key}" for r in spec.rhs if r in row_keys),
                    ))
        return out


def _load_yaml(name: str) -> dict:
    path = resources.files("nianbao.configs").joinpath("templates", name)
    return yaml.safe_load(path.read_text(encoding="utf-8"))


@lru_cache(maxsize=None)
def load_template(fmt: str) -> Template:
    if fmt not in FORMATS:
        raise ConfigError(f"unknown format {fmt!r}; allowed: {', '.join(FORMATS)}")
    raw = _load_yaml(f"{fmt}.yaml")
    shared = _load_yaml(raw.pop("include")) if "include" in raw else {}
    raw["tables"] = {**raw.get("tables", {}), **shared}
    try:
        return Template.model_validate(raw)
    except ValidationError as exc:
        raise ConfigError(f"template {fmt}.yaml is invalid: {exc}") from None


FORMATS = ("2019", "2021")


def templates() -> list[Template]:
    return [load_template(f) for f in FORMATS]


def parse_key(key: str) -> tuple[str, str, str]:
    table, row, col = key.split(".")
    return table, row, col
