"""Tester's finding 4: phasing credits coverage to stations only, counts the deficit met,
phases every proposal (a last phase 'beyond budget') and warns on a level without a cost."""

from __future__ import annotations

import warnings

import pandas as pd
import pytest

import careplan as cp
from careplan._errors import CareplanWarning
from careplan.phasing import BEYOND_BUDGET, phase_order


def test_benefit_reorders_by_hand():
    """Budget for one facility per phase. F1 newly covers area A (10 older people), F2
    covers nobody new but meets a deficit worth 25: by hand, F1 first gives 10 + 10 + 25
    = 45 over two phases, F2 first 25 + 25 + 10 = 60, so F2 goes first; without the
    benefit F1 first (10 + 10 = 20 against 0 + 10)."""
    serves = pd.DataFrame({"facility_id": ["F1"], "area_id": ["A"]})
    w = pd.Series({"A": 10.0})
    cost = pd.Series({"F1": 1.0, "F2": 1.0})
    assert phase_order(serves, w, cost, [1.0, 1.0]).to_dict() == {"F1": 0, "F2": 1}
    got = phase_order(serves, w, cost, [1.0, 1.0], benefit=pd.Series({"F2": 25.0}))
    assert got.to_dict() == {"F1": 1, "F2": 0}


@pytest.fixture(scope="module")
def phased(sample, sample_network):
    costs = {"community": {"construction_per_m2": 5000, "rent_per_m2_year": 300},
             "street": {"construction_per_m2": 6000, "rent_per_m2_year": 0}}
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        plan = cp.plan_layout(sample.areas, sample.facilities, sample.candidates,
                              sample_network, standard="jinwan-2020", unit_costs=costs,
                              milestones=[(2022, 4_000_000), (2025, 20_000_000)])
    return plan, [str(w.message) for w in caught if issubclass(w.category, CareplanWarning)]


def test_level_without_cost_is_warned(phased):
    plan, texts = phased
    assert any("no unit cost for level(s) ['district']" in t for t in texts), texts
    assert set(plan.cost.loc[plan.cost["construction_cost"] == 0, "level"]) <= {
        "district", "canteen", "community"}  # 0 m2 rows (the canteen function) cost 0 too


def test_every_proposal_phased_and_centres_get_no_coverage(phased):
    plan, _ = phased
    ph = plan.phases.set_index("station_id")
    assert ph["phase"].notna().all() and len(ph) == len(plan.proposed)
    kinds = plan.proposed.set_index("station_id")["kind"]
    centres = kinds.index[kinds == "centre"]
    assert (ph.loc[centres, "elderly_served_new"] == 0).all()
    # by hand: the elderly newly covered = the summary's after - before (4,234), all by
    # stations, counted once
    s = plan.summary.set_index("metric")
    gain = s.at["elderly_covered", "after"] - s.at["elderly_covered", "before"]
    assert ph["elderly_served_new"].sum() == pytest.approx(gain)
    stations = kinds.index[kinds == "new"]
    assert ph.loc[stations, "elderly_served_new"].sum() == pytest.approx(gain)
    # the deficit met = each facility's allocation; benefit = new + m2 x elderly per m2
    met = plan.allocation.groupby("facility_id")["floor_area_m2"].sum()
    per_m2 = plan.areas["elderly"].sum() / plan.areas["required_m2"].sum()
    for sid, r in ph.iterrows():
        assert r["deficit_met_m2"] == pytest.approx(met.get(sid, 0.0))
        assert r["benefit"] == pytest.approx(r["elderly_served_new"]
                                             + met.get(sid, 0.0) * per_m2)
    last = ph[ph["milestone"] == BEYOND_BUDGET]
    assert (last["phase"] == 3).all()
    assert plan.parameters["unphased_facilities"] == (", ".join(last.index) or "none")
