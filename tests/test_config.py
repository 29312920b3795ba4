"""Plan configs checked whole before any work: hostile and careless configs.

Every case runs `careplan plan` as a user would and expects exit status 2 and ONE
line on stderr naming the key. The network of these configs is a file that is not
OSM at all: a case that got past the checks to the network would fail with a
network message instead, so each test also proves nothing slow started.
"""

from __future__ import annotations

import dataclasses
import inspect
import os
import random
import shutil
from pathlib import Path

import pytest

import careplan as cp
from careplan.cli import main
from careplan.plan import PlanConfig
from careplan.plan._file import config_keys, read_config

ROOT = Path(__file__).resolve().parents[1]
SAMPLE = ROOT / "src" / "careplan" / "datasets" / "sample.gpkg"

GOOD = f"""
[inputs.areas]
path = "{SAMPLE}"
layer = "areas"
[inputs.facilities]
path = "{SAMPLE}"
layer = "facilities"
[inputs.network]
path = "roads.osm"
[plan]
standard = "jinwan-2020"
minutes = 15
[output]
dir = "out"
"""


def _write(folder: Path, text: str | bytes, name: str = "plan.toml") -> Path:
    (folder / "roads.osm").write_text("this is not OSM\n", encoding="utf-8")
    path = folder / name
    if isinstance(text, bytes):
        path.write_bytes(text)
    else:
        path.write_text(text, encoding="utf-8")
    return path


def _run(capsys, path: Path) -> str:
    code = main(["plan", str(path), "--quiet"])
    err = capsys.readouterr().err.strip()
    assert code == 2, err
    # -q hides progress bars only: the data's warnings stay, each one line
    lines = [ln for ln in err.splitlines() if not ln.startswith("careplan: warning: ")]
    assert len(lines) == 1 and lines[0].startswith("careplan: error: "), err
    assert "Traceback" not in err
    return lines[0]


@pytest.mark.parametrize("change, needle", [
    ({'[plan]\n': 'plan = "fast"\n[other]\n'}, "unknown section"),
    ({'[plan]\nstandard = "jinwan-2020"\nminutes = 15\n': "", "^": 'plan = "fast"\n'},
     "[plan] must be a table"),
    ({'[output]\ndir = "out"\n': "", "^": "output = 5\n"}, "[output] must be a table"),
    ({'dir = "out"': 'dir = 5'}, "[output] dir"),
    ({f'[inputs.areas]\npath = "{SAMPLE}"\nlayer = "areas"\n': '[inputs]\nareas = 5\n'},
     "[inputs] areas"),
    ({"minutes = 15": "circle_levels = [1, 2]"}, "[plan] circle_levels"),
    ({"minutes = 15": 'circle_levels = ["comunity"]'}, "comunity"),
    ({"minutes = 15": 'circle_levels = "community"'}, "[plan] circle_levels"),
    ({"minutes = 15": "min_station_floor_area_m2 = inf"}, "[plan] min_station_floor_area_m2"),
    ({"minutes = 15": "min_station_floor_area_m2 = 1e308"}, "[plan] min_station_floor_area_m2"),
    ({"minutes = 15": "minutes = nan"}, "[plan] minutes"),
    ({"minutes = 15": "minutes = -15"}, "[plan] minutes"),
    ({"minutes = 15": "p = 2.5"}, "[plan] p"),
    ({"minutes = 15": "p = true"}, "[plan] p"),
    ({"minutes = 15": 'model = "simulated_annealing"'}, "[plan] model"),
    ({"minutes = 15": 'model = "p_median"'}, "budget"),
    ({"minutes = 15": 'lang = "fr"'}, "[plan] lang"),
    ({"minutes = 15": "fallback_candidates = 1"}, "[plan] fallback_candidates"),
    ({"minutes = 15": "bogus = 1"}, "bogus"),
    ({'standard = "jinwan-2020"': 'standard = "atlantis-2099"'}, "atlantis-2099"),
    ({'standard = "jinwan-2020"': 'standard = "my.toml"'}, "my.toml"),
    ({'layer = "areas"': 'layer = "areas"\nbogus_option = 1'}, "bogus_option"),
    ({'layer = "areas"': 'layer = ["areas"]'}, "[inputs.areas] layer"),
    ({'layer = "areas"': 'columns = {a = 1}'}, "[inputs.areas] columns"),
    ({'layer = "areas"': 'make_valid = "yes"'}, "[inputs.areas] make_valid"),
    ({'path = "roads.osm"': 'path = "roads.osm"\nkeep = "biggest"'}, "[inputs.network] keep"),
    ({'path = "roads.osm"': 'path = "nowhere.osm"'}, "does not exist"),
    ({f'path = "{SAMPLE}"\nlayer = "areas"': 'path = "no-areas.gpkg"'}, "no-areas.gpkg"),
    ({f'[inputs.areas]\npath = "{SAMPLE}"\nlayer = "areas"\n': ""}, "needs areas"),
    # cost and phases (issue 12.6)
    ({"minutes = 15": "unit_costs = {community = {construction_per_m2 = -5000}}"},
     "[plan] unit_costs.community.construction_per_m2 must be a finite number >= 0"),
    ({"minutes = 15": "unit_costs = {community = {rent_per_m2_year = nan}}"},
     "[plan] unit_costs.community.rent_per_m2_year"),
    ({"minutes = 15": "unit_costs = {comunity = {construction_per_m2 = 5000}}"},
     "unknown level 'comunity'"),
    ({"minutes = 15": "unit_costs = {community = {price = 5000}}"}, "unknown key(s) ['price']"),
    ({"minutes = 15": "unit_costs = 5000"}, "[plan] unit_costs must be a table"),
    ({"minutes = 15": "unit_costs = {community = {construction_per_m2 = 5000}}\n"
                      "milestones = [{year = 2025, budget = 1e6}, {year = 2022, budget = 1e6}]"},
     "[plan] milestones years must increase, got 2025 then 2022"),
    ({"minutes = 15": "unit_costs = {community = {construction_per_m2 = 5000}}\n"
                      "milestones = [{year = 2022, budget = 1e6}, {year = 2022, budget = 1e6}]"},
     "years must increase"),
    ({"minutes = 15": "unit_costs = {community = {construction_per_m2 = 5000}}\n"
                      "milestones = [{year = 2022, budget = -1}]"},
     "[plan] milestones[0].budget must be a finite number >= 0"),
    ({"minutes = 15": "unit_costs = {community = {construction_per_m2 = 5000}}\n"
                      "milestones = [{year = 2022}]"}, "needs exactly year and budget"),
    ({"minutes = 15": "unit_costs = {community = {construction_per_m2 = 5000}}\n"
                      'milestones = [{year = "2022", budget = 1e6}]'},
     "[plan] milestones[0].year must be a year"),
    ({"minutes = 15": "milestones = [{year = 2022, budget = 1e6}]"},
     "milestones need unit costs"),
])
def test_bad_config_is_one_line_naming_the_key(tmp_path, capsys, change, needle):
    text = GOOD
    for old, new in change.items():
        if old == "^":  # a top-level key, before any table
            text = new + text
            continue
        assert old in text, old
        text = text.replace(old, new)
    msg = _run(capsys, _write(tmp_path, text))
    assert needle in msg
    assert "network" not in msg.replace("[inputs.network]", "") or needle in ("does not exist",)


def test_not_utf8_binary_and_deep_nesting(tmp_path, capsys):
    gbk = ("# 小区配置\n" + GOOD).encode("gbk")
    assert "UTF-8" in _run(capsys, _write(tmp_path, gbk))
    rng = random.Random(7)
    for k in range(20):  # binary garbage: always one line, never a traceback
        _run(capsys, _write(tmp_path, bytes(rng.randrange(256) for _ in range(400)),
                            f"g{k}.toml"))
    _run(capsys, _write(tmp_path, b"\x00\x01\x02" * 50, "nul.toml"))
    deep = "x = " + "[" * 100_000 + "]" * 100_000 + "\n"
    assert "deep" in _run(capsys, _write(tmp_path, deep, "deep.toml"))
    assert "does not exist" in _run(capsys, tmp_path / "missing.toml")
    assert "does not exist" in _run(capsys, tmp_path)  # a folder is not a config


def test_bad_input_values_reported_before_the_network(tmp_path, capsys):
    """Values the readers refuse (elderly = inf / 1e19, negative households) end in one
    line before the network loads (the network file here is not OSM)."""
    for k, (col, value) in enumerate([("elderly", "inf"), ("elderly", "1e19"),
                                      ("households", "-3")]):
        csv = tmp_path / f"areas{k}.csv"
        row = {"households": "10", "elderly": "4"} | {col: value}
        csv.write_text("area_id,households,elderly,built,lon,lat\n"
                       f"A1,{row['households']},{row['elderly']},new,118.78,32.04\n",
                       encoding="utf-8")
        text = GOOD.replace(f'path = "{SAMPLE}"\nlayer = "areas"', f'path = "{csv.name}"')
        msg = _run(capsys, _write(tmp_path, text, f"c{k}.toml"))
        assert col in msg and "A1" in msg


def test_messages_name_config_keys_not_python_arguments(tmp_path, capsys):
    """The reader's advice `default_built=` becomes `[inputs.areas] default_built =`."""
    csv = tmp_path / "areas.csv"
    csv.write_text("area_id,households,lon,lat\nA1,10,118.78,32.04\n", encoding="utf-8")
    text = GOOD.replace(f'path = "{SAMPLE}"\nlayer = "areas"', 'path = "areas.csv"')
    msg = _run(capsys, _write(tmp_path, text))
    assert "[inputs.areas] default_built = " in msg
    assert " default_built=" not in msg


def test_paths_resolve_against_the_config_folder(tmp_path, monkeypatch):
    """`[plan] standard = "my.toml"` is the my.toml beside the config, not the one in the
    current directory (and so are inputs and the output folder)."""
    cfg_dir, cwd = tmp_path / "cfg", tmp_path / "cwd"
    cfg_dir.mkdir()
    cwd.mkdir()
    src = cp.standards.profile_path("jinwan-2020").read_text(encoding="utf-8")
    assert "value = 20.0" in src
    (cfg_dir / "my.toml").write_text(src.replace("value = 20.0", "value = 33.0", 1),
                                     encoding="utf-8")
    (cwd / "my.toml").write_text(src.replace("value = 20.0", "value = 44.0", 1),
                                 encoding="utf-8")
    shutil.copy(SAMPLE, cfg_dir / "s.gpkg")
    text = (GOOD.replace('standard = "jinwan-2020"', 'standard = "my.toml"')
            .replace(str(SAMPLE), "s.gpkg"))
    path = _write(cfg_dir, text)
    monkeypatch.chdir(cwd)
    spec = read_config(Path("..") / "cfg" / "plan.toml")
    assert spec.plan.standard.floor_area_rate_m2_per_100hh("new") == 33.0
    assert spec.inputs["areas"].path.resolve() == (cfg_dir / "s.gpkg").resolve()
    assert spec.output_dir.resolve() == (cfg_dir / "out").resolve()
    assert path.exists()


def test_every_reader_and_network_option_is_a_config_key(capsys):
    """Derived by inspection: a keyword option added to a reader is a key at once."""
    keys = {(k.section, k.name) for k in config_keys()}
    readers = {"areas": cp.read_areas, "facilities": cp.read_facilities,
               "candidates": cp.read_candidates, "network": cp.WalkNetwork.from_file}
    for name, func in readers.items():
        opts = [p.name for p in inspect.signature(func).parameters.values()
                if p.kind is p.KEYWORD_ONLY and p.name not in ("crs", "verbose")]
        assert opts, name
        for o in opts:
            assert (f"inputs.{name}", o) in keys
        assert (f"inputs.{name}", "path") in keys
    for f in dataclasses.fields(PlanConfig):
        assert ("plan", f.name) in keys
    assert main(["plan", "--keys"]) == 0
    listed = capsys.readouterr().out
    for key in ("[inputs.areas] columns", "[inputs.facilities] sheet", "[inputs.areas] encoding",
                "[inputs.network] walkable_only", "[plan] circle_levels", "[output] dir"):
        assert key in listed


def test_reader_options_reach_the_reader(tmp_path):
    """Chinese headers renamed by `[inputs.areas] columns`, text ids kept."""
    from careplan.plan._file import _read_inputs

    csv = tmp_path / "areas.csv"
    csv.write_text("编号,户数,类型,lon,lat\n007,12,existing,118.78,32.04\n", encoding="gb18030")
    text = GOOD.replace(f'path = "{SAMPLE}"\nlayer = "areas"',
                        'path = "areas.csv"\nencoding = "gb18030"\n'
                        'columns = { "编号" = "area_id", "户数" = "households", '
                        '"类型" = "built" }')
    spec = read_config(_write(tmp_path, text))
    assert spec.inputs["areas"].options["encoding"] == "gb18030"
    with pytest.warns(cp.CareplanWarning, match="reprojected"):
        areas = _read_inputs(spec)["areas"]
    assert list(areas["area_id"]) == ["007"] and int(areas["households"].iloc[0]) == 12


def test_plan_config_in_python_names_python_options():
    with pytest.raises(cp.InputError, match=r"^min_station_floor_area_m2 must be"):
        PlanConfig(min_station_floor_area_m2=float("inf"))
    with pytest.raises(cp.InputError, match="unknown option"):
        PlanConfig.from_mapping({"minutse": 15})
    with pytest.warns(DeprecationWarning, match="maximal_covering"):
        assert PlanConfig(model="max_covering", p=2).model == "maximal_covering"
    assert PlanConfig(circle_levels=["street", "street"]).circle_levels == ("street",)


def test_cli_warnings_are_one_clean_line(tmp_path, capsys):
    """A CareplanWarning (geographic CRS reprojected) prints as one line, no source line."""
    csv = tmp_path / "areas.csv"
    csv.write_text("area_id,households,built,lon,lat\nA1,10,new,118.78,32.04\n",
                   encoding="utf-8")
    fac = tmp_path / "fac.csv"
    fac.write_text("facility_id,level,floor_area_m2,lon,lat\nF1,community,100,118.78,32.04\n",
                   encoding="utf-8")
    env = os.environ.pop("PYTHONWARNINGS", None)
    try:
        assert main(["check", "--areas", str(csv), "--facilities", str(fac)]) == 0
    finally:
        if env is not None:
            os.environ["PYTHONWARNINGS"] = env
    err = capsys.readouterr().err
    lines = [x for x in err.splitlines() if x.strip()]
    assert lines, "expected the reprojection warning"
    assert all(x.startswith("careplan: warning: ") for x in lines), err


def test_python_advice_rewritten_as_config_keys():
    from careplan.plan._file import _in_config_terms

    msg = _in_config_terms("sheet= is for Excel workbooks; use layer= for .gpkg files; pass "
                           "default_built='existing' or make_valid=True; p=3; pass crs= to "
                           "choose", "inputs.facilities")
    assert msg == ("[inputs.facilities] sheet is for Excel workbooks; use [inputs.facilities] "
                   "layer for .gpkg files; pass default_built='existing' or "
                   "[inputs.facilities] make_valid = true; [plan] p = 3")
    assert _in_config_terms("fallback_candidates=False turns this off; pass candidates= to "
                            "use your own sites") == (
        "[plan] fallback_candidates = false turns this off; pass [inputs.candidates] path to "
        "use your own sites")


def test_example_cost_and_phase_options_parse_when_uncommented(tmp_path):
    """examples/plan.toml's commented cost block is a valid config once uncommented."""
    text = (ROOT / "examples" / "plan.toml").read_text(encoding="utf-8")
    start = text.index("# [plan.unit_costs.community]")
    block = text[start:text.index("[output]")]
    live = "\n".join(line[2:] if line.startswith("# ") else line
                     for line in block.splitlines()) + "\n"
    path = ROOT / "examples" / "plan.toml"
    copy = tmp_path / "plan.toml"
    copy.write_text(text.replace(block, live).replace('"../', f'"{path.parent}/../'),
                    encoding="utf-8")
    cfg = read_config(copy).plan
    assert cfg.unit_costs == {"community": {"construction_per_m2": 5000.0,
                                            "rent_per_m2_year": 300.0},
                              "street": {"construction_per_m2": 6000.0,
                                         "rent_per_m2_year": 0.0},
                              "district": {"construction_per_m2": 6000.0,  # fixes, finding 4
                                           "rent_per_m2_year": 0.0}}
    assert cfg.milestones == ((2022, 4e6), (2025, 2e7))
