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
    # the station in C041, the building of the street centre C-C041 (tester's figures:
    # 512.1 -> 318.6 m2 before finding 3 took the school and the bureau out)
    at = p.index[(p["kind"] == "new") & (p["candidate_id"] == "C041")]
    assert len(at) == 1 and got["C-C041"] > 0
    sid = at[0]
    assert p.at[sid, "floor_area_m2"] == pytest.approx(got[sid], abs=0.01)
    assert f"{sid} 512.1 -> " in demo.parameters["stations_resized_to_allocation"]


def test_shrinking_keeps_every_deficit_met(demo):
    a = demo.areas
    assert a["deficit_before_m2"].fillna(0).sum() == pytest.approx(4199.15, abs=0.01)
    assert a["deficit_after_m2"].fillna(0).sum() == pytest.approx(0.0, abs=1e-6)
    alloc = demo.allocation.groupby("facility_id")["floor_area_m2"].sum()
    for sid in p_ids(demo):  # the plan's allocation table says the same
        assert alloc[sid] == pytest.approx(demo.proposed.at[sid, "floor_area_m2"], abs=0.01)


def p_ids(plan) -> list:
    p = plan.proposed
    return list(p.index[p["kind"].isin(["new", "expansion"]) & (p["floor_area_m2"] > 200)])


def test_unsuitable_tags_rule_out_schools_and_offices_not_names():
    """Tester's finding 3: candidates with OSM amenity/office/shop/tourism tags; the
    name never decides (a '小学' without tags is kept)."""
    import geopandas as gpd
    from shapely.geometry import Point

    from careplan.plan._unsuitable import unsuitable_candidates

    c = gpd.GeoDataFrame({
        "candidate_id": list("abcdefg"),
        "name": ["石鼓路小学", "烟草专卖局", "x", "y", "z", "某小学", "w"],
        "building": ["yes", "yes", "commercial", "yes", "yes", "yes", "yes"],
        "amenity": ["school", None, None, "hospital", None, None, None],
        "office": [None, "government", None, None, None, None, "no"],
        "shop": [None, None, None, None, "books", None, ""],
    }, geometry=[Point(i, 0) for i in range(7)], crs=32650, index=list("abcdefg"))
    got = unsuitable_candidates(c).to_dict()
    assert got == {"a": "amenity=school", "b": "office=government",
                   "c": "building=commercial", "e": "shop=books"}


def test_demo_has_no_station_in_the_school_or_the_bureau(demo):
    used = set(demo.proposed["candidate_id"].dropna())
    assert not used & {"C050", "C030"}  # 石鼓路小学, 江苏省烟草专卖局
    listed = demo.parameters["candidates_unsuitable"]
    assert "C050 (amenity=school)" in listed and "C030 (office=government)" in listed


def test_plan_layout_warns_once_at_the_callers_line(sample, sample_network):
    """Tester's finding 9: a data warning (blk-19 cut off the kept network) came up to 3
    times from careplan's internals (plan/_pipeline.py, canteen_sites, ...)."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        cp.plan_layout(sample.areas, sample.facilities, sample.candidates, sample_network,
                       standard="jinwan-2020")
    texts = [str(w.message) for w in caught]
    assert any("blk-19" in t for t in texts)
    assert len(texts) == len(set(texts)), texts
    assert {w.filename for w in caught} == {__file__}
