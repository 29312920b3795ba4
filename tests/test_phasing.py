"""Phasing and cost (issue 12.6): the MIP's phase order against brute force."""

from __future__ import annotations

import itertools

import numpy as np
import pandas as pd
import pytest

from careplan._errors import InputError
from careplan.phasing import cost_table, phase_order, served_weight


def _objective(serves, weights, phase, budgets, cost):
    """Sum over phases of the weight served by the end of that phase (None if over budget)."""
    n_t = len(budgets)
    for t in range(n_t):
        if sum(cost[f] for f, p in phase.items() if p == t) > budgets[t] + 1e-9:
            return None
    return sum(served_weight(serves, weights, [f for f, p in phase.items()
                                               if p is not None and p <= t])
               for t in range(n_t))


def _brute(serves, weights, cost, budgets):
    fac = list(cost.index)
    best = -1.0
    for combo in itertools.product([*range(len(budgets)), None], repeat=len(fac)):
        v = _objective(serves, weights, dict(zip(fac, combo, strict=True)), budgets, cost)
        if v is not None and v > best:
            best = v
    return best


def test_hand_case_d_phase_order_equals_brute_force_small_case():
    # S1 serves 100 older people for 5 units; S2 serves 300 (overlapping S1's area a1)
    # for 8; S3 serves 50 for 2. Budgets 8 then 10: brute force says S2 first.
    serves = pd.DataFrame({"facility_id": ["S1", "S2", "S2", "S3"],
                           "area_id": ["a1", "a1", "a2", "a3"]})
    weights = pd.Series({"a1": 100.0, "a2": 200.0, "a3": 50.0})
    cost = pd.Series({"S1": 5.0, "S2": 8.0, "S3": 2.0})
    budgets = [8.0, 10.0]
    phase = phase_order(serves, weights, cost, budgets)
    assert phase["S2"] == 0 and phase["S3"] == 1
    got = _objective(serves, weights, phase.to_dict(), budgets, cost)
    assert got == pytest.approx(_brute(serves, weights, cost, budgets)) == 300 + 350


@pytest.mark.parametrize("seed", range(6))
def test_phase_order_equals_brute_force_random(seed):
    rng = np.random.default_rng(seed)
    n_f, n_a, n_t = 5, 6, int(rng.integers(2, 4))
    pairs = sorted({(f"S{f}", f"a{a}") for f in range(n_f) for a in range(n_a)
                    if rng.random() < 0.35})
    serves = pd.DataFrame(pairs, columns=["facility_id", "area_id"])
    weights = pd.Series({f"a{a}": float(rng.integers(0, 500)) for a in range(n_a)})
    cost = pd.Series({f"S{f}": float(rng.integers(1, 10)) for f in range(n_f)})
    budgets = [float(rng.integers(3, 15)) for _ in range(n_t)]
    phase = phase_order(serves, weights, cost, budgets)
    got = _objective(serves, weights, phase.to_dict(), budgets, cost)
    assert got is not None  # within every budget
    assert got == pytest.approx(_brute(serves, weights, cost, budgets))


def test_cost_table_and_bad_inputs():
    prop = pd.DataFrame({"station_id": ["S1", "X-F1"], "level": ["community", "street"],
                         "floor_area_m2": [200.0, 60.0]})
    t = cost_table(prop, {"community": {"construction_per_m2": 5000, "rent_per_m2_year": 300}})
    assert t.set_index("station_id").loc["S1", "construction_cost"] == 1_000_000
    assert t.set_index("station_id").loc["S1", "rent_per_year"] == 60_000
    assert t.set_index("station_id").loc["X-F1", "construction_cost"] == 0
    assert "no unit cost" in t.set_index("station_id").loc["X-F1", "note"]
    with pytest.raises(InputError, match="finite"):
        cost_table(prop, {"community": {"construction_per_m2": float("inf")}})
    with pytest.raises(InputError, match="unknown keys"):
        cost_table(prop, {"community": {"price": 1}})
    with pytest.raises(InputError, match="budget"):
        phase_order(pd.DataFrame(columns=["facility_id", "area_id"]), pd.Series(dtype=float),
                    pd.Series({"S1": 1.0}), [])


def _line_plan(**options):
    import warnings

    import geopandas as gpd
    from shapely.geometry import LineString, box

    import careplan as cp

    crs = "EPSG:32650"
    net = cp.WalkNetwork.from_lines(gpd.GeoSeries([LineString([(-100, 0), (3000, 0)])], crs=crs))
    areas = gpd.GeoDataFrame(
        {"area_id": ["A", "B", "C"], "households": [300, 500, 2000], "elderly": [90, 150, 600],
         "built": ["existing"] * 3},
        geometry=[box(x, 5, x + 100, 60) for x in (0, 1200, 2400)], crs=crs).set_axis(
        ["A", "B", "C"])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return cp.plan_layout(areas, None, None, net, standard="anhui-2022", verbose=False,
                              **options)


COSTS = {"community": {"construction_per_m2": 1000, "rent_per_m2_year": 50}}
MILESTONES = [(2022, 400_000), (2025, 800_000)]


def test_phase_layout_on_a_plan(tmp_path):
    from careplan.phasing import phase_layout

    plan = _line_plan()
    # three new stations of 350, 350 and 400 m2 at 1,000 yuan/m2; budgets fit one, then two
    out = phase_layout(plan, milestones=MILESTONES, unit_costs=COSTS)
    assert plan.phases is None and out.phases is not None  # a new plan, the input untouched
    ph = out.phases.set_index("station_id")
    first = ph.index[ph["phase"] == 1]
    assert len(first) == 1 and "C" in out.proposed.set_index("station_id").loc[
        first[0], "areas_served"]  # the 600 older people first
    assert (ph["phase"] == 2).sum() == 2 and ph["elderly_served_total"].max() == 840
    assert out.cost["construction_cost"].sum() == pytest.approx(1_100_000)
    assert out.cost["rent_per_year"].sum() == pytest.approx(55_000)
    # the budgets are checked against the cheapest facility (350 m2 x 1,000 = 350,000)
    with pytest.raises(InputError, match=r"milestone 2022 \(300,000 yuan\) is smaller than the "
                                         r"cheapest proposed facility \(S\d+: 350,000 yuan\)"):
        phase_layout(plan, milestones=[(2022, 300_000), (2025, 1e6)], unit_costs=COSTS)
    # cost only: no phases
    only = phase_layout(plan, milestones=None, unit_costs=COSTS)
    assert only.phases is None and len(only.cost) == 3


def test_cost_and_phases_are_plan_options_and_reach_the_report(tmp_path):
    """unit_costs / milestones through plan_layout give what phase_layout gives, and the
    HTML, XLSX and GPKG carry both tables and the options."""
    import pyogrio

    from careplan.phasing import phase_layout

    plan = _line_plan(unit_costs=COSTS, milestones=MILESTONES)
    ref = phase_layout(_line_plan(), milestones=MILESTONES, unit_costs=COSTS)
    pd.testing.assert_frame_equal(plan.cost, ref.cost)
    pd.testing.assert_frame_equal(plan.phases, ref.phases)
    assert plan.config.milestones == ((2022, 400_000.0), (2025, 800_000.0))
    p = plan.parameters
    assert p["milestones"] == "2022: budget 400,000 yuan; 2025: budget 800,000 yuan"
    assert p["construction_cost_total"] == pytest.approx(1_100_000)
    assert p["unphased_facilities"] == "none"
    assert "community: construction 1,000 yuan/m2" in p["unit_costs"]
    files = plan.to_file(tmp_path / "out", lang="en")
    xl = pd.read_excel(files["tables"], sheet_name=None, engine="openpyxl")
    assert {"cost", "phases"} <= set(xl)
    cost = xl["cost"].set_index("station_id")["construction_cost"]  # rows + a Total row
    assert cost.drop("Total").sum() == pytest.approx(1_100_000)
    assert cost["Total"] == pytest.approx(1_100_000)
    ph = xl["phases"]  # facility rows, then (sub)total rows (report.tables.with_totals)
    rows = ph[~ph["station_id"].astype(str).str.contains("subtotal|Total")]
    assert sorted(rows["phase"].tolist()) == [1, 2, 2]
    params = dict(zip(xl["parameters"]["parameter"], xl["parameters"]["value"], strict=True))
    assert "2022" in str(params["milestones"])
    layers = {name for name, _ in pyogrio.list_layers(files["geopackage"])}
    assert {"cost", "phases"} <= layers
    html = files["report"].read_text(encoding="utf-8")
    cost_part = html[html.index("<h2 id='cost'>"):html.index("<h2 id='phases'>")]
    phase_part = html[html.index("<h2 id='phases'>"):]
    assert "Construction cost (CNY)" in cost_part and "400000" in cost_part
    assert "Elderly served, cumulative" in phase_part and "2025" in phase_part
    assert "Milestones and budgets" in html  # the options in the parameter table


def test_phasing_errors_through_the_cli_are_one_line(tmp_path, capsys):
    """A budget smaller than the cheapest facility: exit 2, one line, after the plan ran
    (100,000 yuan buys less than 20 m2 at 5,000 yuan/m2; the sample's smallest proposed
    facility is over 100 m2)."""
    from pathlib import Path

    from careplan.cli import main

    root = Path(__file__).resolve().parents[1] / "src" / "careplan" / "datasets"
    cfg = tmp_path / "plan.toml"
    cfg.write_text(f"""
[inputs.areas]
path = "{root / 'sample.gpkg'}"
layer = "areas"
[inputs.facilities]
path = "{root / 'sample.gpkg'}"
layer = "facilities"
[inputs.candidates]
path = "{root / 'sample.gpkg'}"
layer = "candidates"
[inputs.network]
path = "{root / 'nanjing_xuanwu.osm.bz2'}"
[plan]
standard = "jinwan-2020"
unit_costs = {{community = {{construction_per_m2 = 5000}}}}
[[plan.milestones]]
year = 2022
budget = 100000
[[plan.milestones]]
year = 2025
budget = 5e6
[output]
dir = "out"
""", encoding="utf-8")
    code = main(["plan", str(cfg), "--quiet"])
    err = [ln for ln in capsys.readouterr().err.strip().splitlines()
           if not ln.startswith("careplan: warning: ")]  # -q keeps the data's warnings
    assert code == 2
    assert len(err) == 1 and err[0].startswith("careplan: error: "), err
    assert "budget of milestone 2022 (100,000 yuan) is smaller than the cheapest" in err[0]
    assert not (tmp_path / "out").exists()


def test_keys_list_the_cost_options(capsys):
    from careplan.cli import main

    assert main(["plan", "--keys"]) == 0
    out = capsys.readouterr().out
    assert "[plan] unit_costs" in out and "[plan] milestones" in out
    assert "[plan] pooling_minutes" in out
