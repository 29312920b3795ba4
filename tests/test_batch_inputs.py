"""``careplan batch`` reads ``[inputs]`` in both styles of ``careplan plan``'s config.

The plan style (``[inputs.areas] path = ... layer = ...``) crashed with an internal
TypeError; the flat style (``areas = ...``, ``areas_layer = ...``) is the reference the
plan style is compared with (same frames, same run).
"""

from __future__ import annotations

import warnings
from pathlib import Path

import pytest

import careplan as cp
from careplan.batch._config import _read_inputs
from careplan.cli import main

ROOT = Path(cp.__file__).parent / "datasets"


def _plan_style(areas: Path, layer: str = "areas") -> str:
    return f"""
[inputs.areas]
path = "{areas}"
layer = "{layer}"
[inputs.facilities]
path = "{ROOT / 'sample.gpkg'}"
layer = "facilities"
[inputs.candidates]
path = "{ROOT / 'sample.gpkg'}"
layer = "candidates"
[inputs.network]
path = "{ROOT / 'nanjing_xuanwu.osm.bz2'}"
"""


@pytest.fixture(scope="module")
def small_areas(tmp_path_factory):
    """Three estates of the sample: a batch run short enough for a test."""
    s = cp.datasets.load_sample()
    path = tmp_path_factory.mktemp("areas") / "areas.gpkg"
    s.areas.head(3).to_crs(4326).to_file(path, layer="areas")
    return path


def test_plan_style_inputs_read_like_the_flat_style(tmp_path):
    import tomllib

    flat = {"areas": str(ROOT / "sample.gpkg"), "areas_layer": "areas",
            "facilities": str(ROOT / "sample.gpkg"), "facilities_layer": "facilities",
            "candidates": str(ROOT / "sample.gpkg"), "candidates_layer": "candidates",
            "network": str(ROOT / "nanjing_xuanwu.osm.bz2")}
    table = tomllib.loads(_plan_style(ROOT / "sample.gpkg"))["inputs"]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        a = _read_inputs(table, tmp_path)
        b = _read_inputs(flat, tmp_path)
    assert a[0].crs.equals(b[0].crs)
    for x, y in zip(a[1:], b[1:], strict=True):
        assert len(x) > 0 and x.crs.equals(y.crs) and x.equals(y)


def test_cli_batch_with_plan_style_inputs(tmp_path, small_areas, capsys):
    cfg = tmp_path / "p.toml"
    cfg.write_text(_plan_style(small_areas) + "[districts]\ngrid = [1, 1]\n"
                   "[batch]\nprocesses = false\nn_workers = 1\n", encoding="utf-8")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        code = main(["batch", str(cfg), "--out", str(tmp_path / "out"), "-q"])
    cap = capsys.readouterr()
    assert code == 0, cap.err
    assert (tmp_path / "out" / "province.xlsx").is_file()
    # shares printed as % like careplan plan's tables (tester's finding 10), from the table
    import re

    import pandas as pd

    d = pd.read_excel(tmp_path / "out" / "province.xlsx", sheet_name="districts")
    row = [ln for ln in cap.out.splitlines() if ln.strip().startswith("r0c0")][0]
    b, a = (d[f"households_covered_share_{k}"].iloc[0] for k in ("before", "after"))
    pct = re.findall(r"(\d+(?:\.\d)?)%", row)
    assert [float(x) for x in pct] == [round(100 * b, 1), round(100 * a, 1)]
    # the total row: covered households over households of the districts done (by hand)
    tot = [ln for ln in cap.out.splitlines() if ln.strip().startswith("total")][0]
    cov = d["households_covered_before"].sum() / d["households_before"].sum()
    assert float(re.findall(r"(\d+(?:\.\d)?)%", tot)[0]) == round(100 * cov, 1)
    assert "1 of 1 done" in tot


def test_cli_batch_plan_style_bad_layer_is_one_line_naming_the_file(tmp_path, small_areas,
                                                                      capsys):
    cfg = tmp_path / "p.toml"
    cfg.write_text(_plan_style(small_areas, layer="nope") + "[districts]\ngrid = [1, 1]\n",
                   encoding="utf-8")
    assert main(["batch", str(cfg), "--out", str(tmp_path / "out"), "-q"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("careplan: error:")
    assert "nope" in err[0] and "areas.gpkg" in err[0]


def test_cli_batch_layer_key_beside_a_table_is_one_line(tmp_path, capsys):
    cfg = tmp_path / "p.toml"
    cfg.write_text(_plan_style(ROOT / "sample.gpkg").replace(
        "[inputs.areas]", "[inputs]\nareas_layer = \"areas\"\n[inputs.areas]")
        + "[districts]\ngrid = [1, 1]\n", encoding="utf-8")
    assert main(["batch", str(cfg), "-q"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "areas_layer" in err[0]
