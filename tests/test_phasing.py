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


def test_phase_layout_on_a_plan(tmp_path):
    import warnings

    import geopandas as gpd
    from shapely.geometry import LineString, box

    import careplan as cp
    from careplan.phasing import phase_layout

    crs = "EPSG:32650"
    net = cp.WalkNetwork.from_lines(gpd.GeoSeries([LineString([(-100, 0), (3000, 0)])], crs=crs))
    areas = gpd.GeoDataFrame(
        {"area_id": ["A", "B", "C"], "households": [300, 500, 2000], "elderly": [90, 150, 600],
         "built": ["existing"] * 3},
        geometry=[box(x, 5, x + 100, 60) for x in (0, 1200, 2400)], crs=crs).set_axis(
        ["A", "B", "C"])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        plan = cp.plan_layout(areas, None, None, net, standard="anhui-2022")
    # three new stations of 350, 350 and 400 m2 at 1,000 yuan/m2; budgets fit one, then two
    out = phase_layout(plan, milestones=[(2022, 400_000), (2025, 800_000)],
                       unit_costs={"community": {"construction_per_m2": 1000}})
    assert plan.phases is None and out.phases is not None  # a new plan, the input untouched
    ph = out.phases.set_index("station_id")
    first = ph.index[ph["phase"] == 0]
    assert len(first) == 1 and "C" in out.proposed.set_index("station_id").loc[
        first[0], "areas_served"]  # the 600 older people first
    assert (ph["phase"] == 1).sum() == 2 and ph["elderly_served_total"].max() == 840
    assert out.cost["construction_cost"].sum() == pytest.approx(1_100_000)
    files = out.to_file(tmp_path / "out", lang="zh")
    xl = pd.read_excel(files["tables"], sheet_name=None)
    assert {"cost", "phases"} <= set(xl)
