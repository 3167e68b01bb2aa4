"""Bad input gets one clear, numbered error, or a report that says what is missing; never a crash."""
import pytest

from nianbao import reconstruct
from nianbao.config import load_config
from nianbao.errors import EmptyInput, InputTooLarge, NianbaoError, NotAReport, UnreadableInput


def test_empty_file(tmp_path):
    p = tmp_path / "empty.txt"
    p.write_bytes(b"")
    with pytest.raises(EmptyInput, match=r"\[E001\] empty.txt"):
        reconstruct(p)


def test_whitespace_only_file(tmp_path):
    p = tmp_path / "blank.md"
    p.write_bytes(b"  \n\n\t\n")
    with pytest.raises(EmptyInput):
        reconstruct(p)


def test_binary_junk(tmp_path):
    import random

    p = tmp_path / "junk.bin"
    p.write_bytes(bytes(random.Random(1).randrange(256) for _ in range(5000)))
    with pytest.raises(UnreadableInput, match="E002"):
        reconstruct(p)


def test_text_without_report_tables(tmp_path):
    p = tmp_path / "news.txt"
    p.write_text("市政府召开常务会议，研究部署下一阶段重点工作。会议指出，要持续优化营商环境。\n" * 20, "utf-8")
    with pytest.raises(NotAReport, match="E003"):
        reconstruct(p)


def test_unknown_encoding(tmp_path, seeds_dir):
    text = (seeds_dir / "002_ccc308153d6aceb0.txt").read_text("utf-8")
    p = tmp_path / "report.txt"
    p.write_bytes(text.encode("utf-16-le"))  # no BOM: nothing says what it is
    with pytest.raises(UnreadableInput, match="E002"):
        reconstruct(p)


def test_gbk_and_bom_encodings_read(tmp_path, seeds_dir):
    text = (seeds_dir / "002_ccc308153d6aceb0.txt").read_text("utf-8")
    for name, data in [("gbk.txt", text.encode("gb18030")), ("bom.txt", b"\xef\xbb\xbf" + text.encode("utf-8"))]:
        p = tmp_path / name
        p.write_bytes(data)
        assert reconstruct(p).cells["active.licensing.decisions"] == 219


def test_huge_file_is_refused(tmp_path, seeds_dir):
    p = tmp_path / "big.txt"
    p.write_bytes((seeds_dir / "002_ccc308153d6aceb0.txt").read_bytes() * 3)
    cfg = load_config(max_bytes=10_000)
    with pytest.raises(InputTooLarge, match="E004"):
        reconstruct(p, cfg)


def test_truncated_report_says_what_is_missing(seeds_dir):
    text = (seeds_dir / "002_ccc308153d6aceb0.txt").read_text("utf-8")
    cut = text[: text.index("4.保护第三方合法权益")]
    report = reconstruct(cut)
    assert report.missing_tables == ["appeals"]
    assert not any(k.startswith("appeals.") for k in report.cells)
    assert "tables not found: appeals" in report.notes
    assert "requests.carried_forward" in report.notes  # rows that were cut off are named
    assert report.incomplete_tables == ["requests"]
    cut_off = report.provenance["requests.carried_forward.total"]
    assert cut_off.method == "inferred" and cut_off.confidence < 1.0
    assert report.cells["active.licensing.decisions"] == 219


def test_errors_share_a_base_class():
    assert issubclass(InputTooLarge, NianbaoError) and issubclass(NotAReport, NianbaoError)


def test_deeply_nested_html_is_read_not_dropped(seeds_dir):
    from nianbao.inference.readers.html import read_html

    table = "<table><tr><td>规章</td><td>5</td></tr></table>"
    deep = "<html><body>" + "<div>" * 300 + table + "</div>" * 300 + "</body></html>"
    assert [f.text for f in read_html(deep, "x") if f.kind == "number"] == ["5"]
    with pytest.raises(UnreadableInput, match="E002.*nested too deeply"):
        read_html("<html><body>" + "<div>" * 20000 + table + "</body></html>", "x")


def test_one_corrupt_byte_in_a_utf8_report_loses_only_that_spot(seeds_dir):
    data = bytearray((seeds_dir / "002_ccc308153d6aceb0.txt").read_bytes())
    at = data.index("一、总体情况".encode("utf-8")) if "一、总体情况".encode("utf-8") in data else 10
    data[at] = 0xFF  # not UTF-8, and GB18030 cannot read the rest either
    gold = reconstruct(seeds_dir / "002_ccc308153d6aceb0.txt").cells
    assert reconstruct(bytes(data)).cells == gold


def test_python_api_separates_paths_from_text(tmp_path, seeds_dir):
    from nianbao.errors import NotAFile

    with pytest.raises(NotAFile, match="E005.*no such file"):
        reconstruct("missing.txt")
    with pytest.raises(NotAFile, match="E005.*folder"):
        reconstruct(tmp_path)
    text = (seeds_dir / "002_ccc308153d6aceb0.txt").read_text("utf-8")
    assert reconstruct(text=text).cells == reconstruct(seeds_dir / "002_ccc308153d6aceb0.txt").cells


# --- hostile inputs, each bounded in time and memory (run in a child process, measured there) ---

def _bounded(code: str, timeout: float = 60) -> dict:
    """Run `code` (which sets `data`) in a fresh interpreter, reconstruct `data` there, and return
    its outcome with the seconds and peak memory that reconstruct took."""
    import json
    import subprocess
    import sys
    import textwrap

    script = textwrap.dedent(code) + textwrap.dedent('''
        import json, resource, time
        from nianbao import reconstruct
        from nianbao.errors import NianbaoError
        import nianbao.inference.pipeline  # imports are not the input's cost
        before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        t0 = time.perf_counter()
        try:
            r = reconstruct(data, engine="heuristic")
            out = {"ok": True, "missing": r.missing_tables, "notes": r.notes,
                   "total": r.cells.get("requests.new_received.total")}
        except NianbaoError as exc:
            out = {"ok": False, "error": str(exc)}
        out["seconds"] = time.perf_counter() - t0
        out["peak_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        print(json.dumps(out, ensure_ascii=False))
    ''')
    r = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=timeout)
    assert r.returncode == 0, r.stderr[-2000:]
    return json.loads(r.stdout.strip().splitlines()[-1])


def test_span_bomb_html_is_bounded():
    # 50 cells a row, each colspan=50 rowspan=50: the span grid is kept as intervals
    res = _bounded('''
        row = "<tr>" + '<td colspan="50" rowspan="50">1</td>' * 50 + "</tr>"
        data = ("<html><body><p>三、收到和处理政府信息公开申请情况</p><table>" + row * 80 + "</table></body></html>").encode()
    ''')
    assert res["seconds"] < 10 and res["peak_mb"] < 1024
    assert not res["ok"] and "[E003]" in res["error"]
    big = _bounded('''
        row = "<tr>" + '<td colspan="50" rowspan="50">1</td>' * 50 + "</tr>"
        data = ("<html><body><p>申请人情况</p><table>" + row * 1600 + "</table></body></html>").encode()  # 2.8 MB
    ''')
    assert big["seconds"] < 10 and big["peak_mb"] < 1024 and "[E004]" in big["error"] and "max_table_cells" in big["error"]


def test_a_700_page_text_pdf_reads_only_its_table_pages():
    res = _bounded('''
        import io, random
        import pypdfium2 as pdfium
        from reportlab.pdfgen import canvas
        from nianbao.datasets.documents import cjk_font, render_pdf
        from nianbao.datasets.tables import random_truth
        rng = random.Random(1)
        truth = random_truth(rng, fmt="2021")
        report, _ = render_pdf(truth, rng, ruled=True)
        buf, font = io.BytesIO(), cjk_font()
        c = canvas.Canvas(buf)
        for p in range(700):
            c.setFont(font, 10)
            for i in range(40):
                c.drawString(60, 800 - 18 * i, f"第{p + 1}页 附件：本年度政务公开工作情况说明，第{i}段。")
            c.showPage()
        c.save()
        doc = pdfium.PdfDocument(buf.getvalue())
        doc.import_pages(pdfium.PdfDocument(report), index=350)
        out = io.BytesIO()
        doc.save(out)
        data = out.getvalue()
    ''', timeout=180)
    assert res["ok"] and res["missing"] == [] and res["seconds"] < 10 and res["peak_mb"] < 1024


def test_a_45_mb_text_is_read_near_its_tables(seeds_dir):
    res = _bounded(f'''
        seed = open({str(seeds_dir / "002_ccc308153d6aceb0.txt")!r}, encoding="utf-8").read()
        filler = "本机关坚持以习近平新时代中国特色社会主义思想为指导，认真贯彻落实政务公开工作的决策部署，全年发布信息120条。\\n"
        data = (filler * 150_000 + seed + filler * 150_000).encode()
        assert len(data) > 45_000_000
    ''', timeout=180)
    assert res["ok"] and res["missing"] == [] and res["seconds"] < 10 and res["peak_mb"] < 1024


def test_big5_text_is_an_encoding_error_not_e003(seeds_dir):
    data = (seeds_dir / "002_ccc308153d6aceb0.txt").read_text("utf-8").encode("big5", errors="replace")
    with pytest.raises(UnreadableInput, match=r"E002.*Big5"):
        reconstruct(data)


def test_replaced_bytes_are_named_in_the_notes(seeds_dir):
    data = (seeds_dir / "002_ccc308153d6aceb0.txt").read_bytes()
    report = reconstruct(data[:3000] + b"\xff\xfe" + data[3000:], engine="heuristic")
    assert "2 corrupt byte(s)" in report.notes
