"""Exporters, registered by name: JSON (gold + provenance), CSV (long), XLSX (printed layout), Parquet."""
from __future__ import annotations

import io
import json
from typing import Callable

from nianbao.schema import Report
from nianbao.templates import TABLES, load_template, parse_key

EXPORTERS: dict[str, Callable[[list[Report]], bytes]] = {}


def register_exporter(name: str):
    def deco(fn):
        EXPORTERS[name] = fn
        return fn

    return deco


def export(reports: list[Report], fmt: str) -> bytes:
    if fmt not in EXPORTERS:
        raise ValueError(f"unknown export format {fmt!r}; allowed: {', '.join(EXPORTERS)}")
    return EXPORTERS[fmt](reports)


def long_rows(reports: list[Report]) -> list[dict]:
    rows = []
    for r in reports:
        for key, value in r.cells.items():
            table, row, col = parse_key(key)
            p = r.provenance.get(key)
            rows.append(dict(report=r.id, source=r.source, format=r.format, key=key, table=table, row=row,
                             column=col, value=float(value), method=p.method if p else "read",
                             reason=p.reason if p else "", ambiguous=key in r.ambiguous))
    return rows


@register_exporter("json")
def to_json(reports: list[Report]) -> bytes:
    payload = reports[0].model_dump() if len(reports) == 1 else [r.model_dump() for r in reports]
    return json.dumps(payload, ensure_ascii=False, indent=1).encode("utf-8")


@register_exporter("csv")
def to_csv(reports: list[Report]) -> bytes:
    import pandas as pd

    return pd.DataFrame(long_rows(reports)).to_csv(index=False).encode("utf-8")


@register_exporter("parquet")
def to_parquet(reports: list[Report]) -> bytes:
    import pandas as pd

    buf = io.BytesIO()
    pd.DataFrame(long_rows(reports)).to_parquet(buf, index=False)
    return buf.getvalue()


@register_exporter("xlsx")
def to_xlsx(reports: list[Report]) -> bytes:
    """One sheet per table and report, laid out like the printed table: rows × columns."""
    from openpyxl import Workbook

    wb = Workbook()
    wb.remove(wb.active)
    for r in reports:
        template = load_template(r.format)
        for table in TABLES:
            t = template.tables[table]
            keys = [k for k in r.cells if k.startswith(table + ".")]
            if not keys:
                continue
            title = (f"{r.id[:20]}-{table}" if len(reports) > 1 else table)[:31]
            ws = wb.create_sheet(title)
            ws.append([t.title])
            cols = [c for c in t.columns if any(k.endswith("." + c.key) for k in keys)]
            ws.append(["", *[c.labels[0] for c in cols]])
            for row in t.rows:
                if not any(k.startswith(f"{table}.{row.key}.") for k in keys):
                    continue
                ws.append([row.labels[0], *[r.cells.get(f"{table}.{row.key}.{c.key}") for c in cols]])
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()
