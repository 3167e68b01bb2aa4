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
