"""Training examples: synthetic reports (fragments.parquet from `nianbao synth`) and labelled real
reports (a gold JSON beside its input), both turned into (fragments, label per fragment)."""
from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path

from nianbao.datasets.labels import align
from nianbao.schema import Fragment


@dataclass
class Example:
    id: str
    fragments: list[Fragment]
    labels: dict[int, str]  # fragment id → key (others are none)
    group: str = "synthetic"
    cuts: dict[int, tuple[int, ...]] = field(default_factory=dict)  # glued tokens: where their cells end


def is_validation(example_id: str, share: float = 0.1) -> bool:
    """A fixed split by hash of the id: the same reports are held out on every run."""
    return int(hashlib.sha1(example_id.encode()).hexdigest()[:8], 16) / 0xFFFFFFFF < share


def load_synthetic(folder: Path, limit: int | None = None) -> list[Example]:
    import pyarrow.parquet as pq

    out = []
    lines = (folder / "manifest.jsonl").read_text("utf-8").splitlines()
    for line in lines[:limit]:
        m = json.loads(line)
        path = folder / m["id"] / "fragments.parquet"
        if not path.exists():
            continue
        rows = pq.read_table(path).to_pylist()
        frags = [Fragment(id=r["fragment"], text=r["text"], kind=r["kind"], line=r["line"], col=r["col"],
                          page=r["page"], table=r["table"], conf=r["conf"], glued=r["glued"],
                          value=_value(r["text"]), unit=_unit(r["text"])) for r in rows]
        labels = {r["fragment"]: r["label"] for r in rows if r["label"] != "none"}
        cuts = {r["fragment"]: tuple(r.get("cuts") or ()) for r in rows if r["label"] != "none" and r["glued"]}
        out.append(Example(m["id"], frags, labels, m.get("style", "synthetic"), cuts))
    return out


def _unit(text: str) -> str:
    return "万元" if text.endswith("万元") else ("元" if text.endswith("元") else "")


def _value(text: str):
    t = text.removesuffix("万元").removesuffix("元").replace(",", "")
    try:
        return Decimal(t)
    except Exception:
        return Decimal(0) if t in ("-", "/", "无", "—") else None


def _printed(v) -> str:
    return str(int(v)) if float(v) == int(float(v)) else f"{Decimal(str(v)).normalize():f}"


def load_labelled(folder: Path) -> list[Example]:
    """Real reports a person corrected: `<stem>.gold.json` (or `<stem>.json` in gold/) beside the input.

    The gold values, in the template's print order, are aligned with the value fragments the reader
    finds, as for synthetic reports: the fragment that prints a cell's value gets its key."""
    from nianbao.inference.layout import find_regions
    from nianbao.inference.readers import pick_reader
    from nianbao.templates import load_template

    out = []
    for gold_path in sorted(folder.glob("*.gold.json")):
        stem = gold_path.name.removesuffix(".gold.json")
        inputs = [p for p in folder.iterdir() if p.name.startswith(stem + ".") and not p.name.endswith(".json")]
        if not inputs:
            continue
        gold = json.loads(gold_path.read_text("utf-8"))
        data = inputs[0].read_bytes()
        frags = pick_reader(data, inputs[0].suffix, inputs[0].name).read(data, inputs[0].name)
        template = load_template(gold["format"])
        regions = find_regions(frags, template)
        printed = [(k, _printed(v)) for k, v in gold["cells"].items()]
        aligned = align(frags, printed, regions[0].start if regions else 0)
        glued = {f.id for f in frags if f.glued}
        out.append(Example(stem, frags, {fid: a[0] for fid, a in aligned.items()}, "labelled",
                           {fid: a[2] for fid, a in aligned.items() if fid in glued}))
    return out
