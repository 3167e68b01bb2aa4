"""Data passed between the stages: fragments in, a Report out."""
from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

FragmentKind = Literal["label", "number", "blank", "prose"]


@dataclass(slots=True)
class Fragment:
    """One token of a document: a label, a number, a blank cell or a line of prose.

    `line` and `col` are the reading position (a text line or table row, and the cell in it);
    `table` is the physical table it came from where the source has tables (HTML, pipes), else -1.
    """

    id: int
    text: str
    kind: FragmentKind
    line: int
    col: int = 0
    page: int = 0
    table: int = -1
    bbox: tuple[float, float, float, float] | None = None
    conf: float = 1.0
    value: Decimal | None = None  # numbers: the value as printed, money in its printed unit
    unit: str = ""  # "元" / "万元" / "" as printed after the number
    glued: bool = False  # a digit run that may hold several cells (no delimiter in the source)
    ruled_right: int | None = None  # scans of ruled tables: the column rules right of the token


@dataclass(slots=True)
class Candidate:
    """An engine's belief that fragment `fragment` is the cell `key` (score in [0, 1])."""

    fragment: int
    key: str
    score: float


@dataclass
class Classification:
    """What an engine hands to the solver."""

    format: str
    variant: str  # "split" / "single": which `other` rows the report prints
    candidates: list[Candidate]
    tables: list[str]  # tables found in the document
    illegible: set[int] = field(default_factory=set)  # fragments in a value position that are not numbers
    optional: set[int] = field(default_factory=set)  # blanks that may be a cell or mere padding
    money_unit: str = "万元"  # unit of bare amounts in the active table
    # glued runs: the engine's probability that a cell ends after each character (a learned prior
    # for cuts the arithmetic cannot decide; without it the solver uses a fixed one)
    cuts: dict[int, list[float]] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)
    engine: str = "heuristic"
    # fragment → the column it stands under, where positions tell (PDF boxes, -layout text); in a
    # table whose rows share one line (appeals), `row.column`
    columns: dict[int, str] = field(default_factory=dict)


class CellProvenance(BaseModel):
    model_config = ConfigDict(extra="forbid")

    method: Literal["read", "inferred", "corrected"]
    reason: str = ""
    text: str | None = None  # the fragment as printed
    line: int | None = None
    col: int | None = None
    page: int | None = None
    confidence: float = 1.0


class Report(BaseModel):
    """The spec's gold format plus provenance, ambiguity and status."""

    model_config = ConfigDict(extra="forbid")

    id: str
    source: str
    format: Literal["2019", "2021"]
    cells: dict[str, int | float]
    inconsistent: list[str] = Field(default_factory=list)
    notes: str = ""
    provenance: dict[str, CellProvenance] = Field(default_factory=dict)
    ambiguous: dict[str, list[int | float]] = Field(default_factory=dict)
    missing_tables: list[str] = Field(default_factory=list)
    # tables found with whole rows missing (a copy cut off inside the table): their cells are 0 or
    # what the arithmetic forces, at low confidence
    incomplete_tables: list[str] = Field(default_factory=list)
    engine: str = "heuristic"
    # who reports for which year, where the report's title or period names them ("" / None if not)
    body: str = ""
    year: int | None = None

    def gold(self) -> dict:
        """Only the fields of the spec's gold file."""
        return self.model_dump(include={"id", "source", "format", "cells", "inconsistent", "notes"})
