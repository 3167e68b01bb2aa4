"""read → classify → solve → emit, as a short list of stages over one document."""
from __future__ import annotations

import re
import stat
import time
from dataclasses import dataclass, field
from pathlib import Path

from nianbao.config import PipelineConfig, load_config
from nianbao.errors import InputTooLarge, NianbaoError, NotAFile, NotAReport
from nianbao.schema import Classification, Fragment, Report
from nianbao.templates import load_template

from . import readers  # noqa: F401  (registers the readers)
from .engines import get_engine
from .classify import classify
from .emit import build_report
from .readers.base import pick_reader, replaced_bytes
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
    notes: list[str] = field(default_factory=list)  # what the stages want the report to say


def load(source, config: PipelineConfig) -> Document:
    """Accept a path, raw bytes or a text string."""
    if isinstance(source, bytes):
        data, name = source, "<bytes>"
    elif isinstance(source, Path) or (isinstance(source, str) and "\n" not in source and len(source) < 4096
                                      and Path(source).exists()):
        path = Path(source)
        data, name = read_file(path, config.max_bytes), path.name
    elif isinstance(source, str) and _LOOKS_LIKE_PATH.match(source):
        # A short string with no Chinese that ends like a file name names a file that is not there;
        # reading it as a report would only end in a puzzling E003.
        raise NotAFile("no such file (to read a report's text, pass it with text=...)", source=source)
    else:
        data, name = str(source).encode("utf-8"), "<text>"
    if len(data) > config.max_bytes:
        raise InputTooLarge(f"{len(data)} bytes is over the limit of {config.max_bytes}", source=name)
    return Document(source=name, data=data)


_LOOKS_LIKE_PATH = re.compile(r"^[^\n\u4e00-\u9fff]{0,1000}\.[A-Za-z0-9]{1,5}$")


def read_file(path: Path, max_bytes: int) -> bytes:
    """A regular file's bytes, at most `max_bytes` + 1 read whatever `stat` says (`/dev/zero`,
    a file growing while it is read); a FIFO or device is refused before it is opened, so that it
    cannot hang the reader."""
    try:
        st = path.stat()
    except FileNotFoundError:
        raise NotAFile("no such file", source=str(path)) from None
    except OSError as exc:  # a symlink loop, a name too long
        raise NotAFile(f"cannot open ({exc.strerror or exc.__class__.__name__})", source=str(path)) from None
    if stat.S_ISDIR(st.st_mode):
        raise NotAFile("is a folder, not a file", source=str(path))
    if not stat.S_ISREG(st.st_mode):
        raise NotAFile("not a regular file (a FIFO, socket or device)", source=str(path))
    if st.st_size > max_bytes:
        raise InputTooLarge(f"{st.st_size} bytes is over the limit of {max_bytes}", source=path.name)
    try:
        with open(path, "rb") as fh:
            data = fh.read(max_bytes + 1)
    except PermissionError:
        raise NotAFile("permission denied", source=str(path)) from None
    except OSError as exc:
        raise NotAFile(f"cannot read ({exc.strerror or exc.__class__.__name__})", source=str(path)) from None
    if len(data) > max_bytes:
        raise InputTooLarge(f"over the limit of {max_bytes} bytes", source=path.name)
    return data


def read(doc: Document, config: PipelineConfig) -> None:
    suffix = Path(doc.source).suffix.lower()
    reader = pick_reader(doc.data, suffix, doc.source)
    doc.fragments = reader.read(doc.data, doc.source, config)
    if reader.name in ("text", "html") and (n := replaced_bytes(doc.data)):
        doc.notes.append(f"{n} corrupt byte(s) of the UTF-8 text were replaced; a cell there may be missing")


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


def run(source=None, config: PipelineConfig | None = None, *, engine: str | None = None,
        text: str | None = None) -> Document:
    config = config or load_config(engine=engine)
    if engine:
        config = config.model_copy(update={"engine": engine})
    if (source is None) == (text is None):
        raise TypeError("give a path (or bytes) or text=..., not both")
    doc = load(source, config) if text is None else load(text.encode("utf-8"), config)
    for stage in STAGES:
        t0 = time.perf_counter()
        stage(doc, config)
        doc.timings[stage.__name__] = time.perf_counter() - t0
    return doc


def reconstruct(source=None, config: PipelineConfig | None = None, *, engine: str | None = None,
                text: str | None = None) -> Report:
    """Reconstruct one report from a path (or bytes), or from its text with `text=`. Raises a
    NianbaoError on bad input."""
    return run(source, config, engine=engine, text=text).report


__all__ = ["reconstruct", "run", "STAGES", "NianbaoError"]
