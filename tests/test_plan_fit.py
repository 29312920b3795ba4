"""Findings of a new-user tester on the demo plan (fixes): station sizes against the final
floor-area allocation, computed independently by careplan.compliance.check's LP."""

from __future__ import annotations

import warnings

import pytest

import careplan as cp
from careplan._errors import CareplanWarning


@pytest.fixture(scope="module")
def demo(sample, sample_network):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", CareplanWarning)
        return cp.plan_layout(sample.areas, sample.facilities, sample.candidates,
                              sample_network, standard="jinwan-2020", lang="en")


def test_every_station_is_the_floor_area_it_finally_supplies(demo):
    """A new station = its final allocation or the site minimum; an expansion = its final
    allocation. The tester's figures: S004 512.1 -> 318.6 m2 (C-C041 takes 193.5 m2 in the
    same building), X-F03 157.8 -> 124.2 m2 (C-C025 takes 33.6 m2)."""
    got = demo.floor_area_allocation.groupby("facility_id")["floor_area_m2"].sum()
    min_m2 = demo.parameters["station_min_floor_area_m2"]
    p = demo.proposed
    for sid, kind, m2 in zip(p["station_id"], p["kind"], p["floor_area_m2"], strict=True):
        if kind == "new":
            assert m2 == pytest.approx(max(got.get(sid, 0.0), min_m2), abs=0.01), sid
        elif kind == "expansion":
            assert m2 == pytest.approx(got.get(sid, 0.0), abs=0.01), sid
    assert p.at["S004", "floor_area_m2"] == pytest.approx(318.6, abs=0.01)
    assert p.at["X-F03", "floor_area_m2"] == pytest.approx(124.2, abs=0.01)
    assert "S004 512.1 -> 318.6 m2" in demo.parameters["stations_resized_to_allocation"]


def test_shrinking_keeps_every_deficit_met(demo):
    a = demo.areas
    assert a["deficit_before_m2"].fillna(0).sum() == pytest.approx(4199.15, abs=0.01)
    assert a["deficit_after_m2"].fillna(0).sum() == pytest.approx(0.0, abs=1e-6)
    alloc = demo.allocation.groupby("facility_id")["floor_area_m2"].sum()
    for sid in ("S004", "X-F03"):  # the plan's allocation table says the same
        assert alloc[sid] == pytest.approx(demo.proposed.at[sid, "floor_area_m2"], abs=0.01)
