"""Strict options: unknown keys and bad values fail early with the allowed values named."""
import pytest

from nianbao.config import load_config
from nianbao.errors import ConfigError
from nianbao.templates import Template, load_template


def test_unknown_key_is_rejected(tmp_path):
    p = tmp_path / "p.yaml"
    p.write_text("engine: heuristic\nmax_byte: 10\n")
    with pytest.raises(ConfigError, match="max_byte"):
        load_config(p)


def test_bad_engine_names_allowed_values(tmp_path):
    p = tmp_path / "p.yaml"
    p.write_text("engine: gpu\n")
    with pytest.raises(ConfigError, match="'auto', 'heuristic' or 'model'"):
        load_config(p)


def test_unknown_format():
    with pytest.raises(ConfigError, match="allowed: 2019, 2021"):
        load_template("2020")


def test_template_rejects_unknown_column():
    raw = load_template("2021").model_dump()
    raw["tables"]["active"]["rows"][0]["columns"] = ["issued", "nope"]
    with pytest.raises(ValueError, match="unknown column 'nope'"):
        Template.model_validate(raw)


@pytest.mark.parametrize("fmt, variant, n", [("2021", "split", 200), ("2021", "single", 186), ("2019", "single", 198)])
def test_key_counts_match_the_spec(fmt, variant, n):
    assert len(load_template(fmt).all_keys(variant)) == n


def test_constraints_are_named_as_the_spec_writes_them():
    names = {c.name for c in load_template("2021").constraints("requests")}
    assert {"requests.col:natural_person:balance", "requests.row:granted:total",
            "requests.col:total:results_total"} <= names
    assert [c.name for c in load_template("2019").constraints("appeals")][0] == "appeals.row:review:total"
