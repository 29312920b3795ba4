"""Findings of the bureau planner's trial (issue 12, "a plan a bureau can hand over")."""

from __future__ import annotations

import warnings

import geopandas as gpd
import pytest
from shapely.geometry import LineString, Point, box

import careplan as cp

CRS = "EPSG:32650"


def _quiet_plan(*args, **kw):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return cp.plan_layout(*args, verbose=False, **kw)


def _square(x, y, half=20.0):
    return box(x - half, y - half, x + half, y + half)


@pytest.fixture(scope="module")
def town_plan():
    """test_plan's hand town (one 2 km street, estates 30 m north of it), jinwan-2020."""
    net = cp.WalkNetwork.from_lines(gpd.GeoSeries([LineString([(0, 0), (2000, 0)])], crs=CRS))
    areas = gpd.GeoDataFrame(
        {"area_id": ["A", "B", "C", "D"], "households": [1000, 400, 500, 0],
         "built": ["new", "existing", "new", "existing"]},
        geometry=[_square(100, 30), _square(300, 30), _square(1500, 30), _square(1900, 30)],
        crs=CRS, index=["A", "B", "C", "D"])
    facs = gpd.GeoDataFrame(
        {"facility_id": ["F1"], "level": ["community"], "floor_area_m2": [120.0],
         "beds": [0], "nursing_beds": [0]}, geometry=[Point(100, 30)], crs=CRS, index=["F1"])
    cands = gpd.GeoDataFrame(
        {"candidate_id": ["K1", "K2", "K3"]},
        geometry=[Point(300, -20), Point(1500, -20), Point(1700, -20)], crs=CRS,
        index=["K1", "K2", "K3"])
    return _quiet_plan(areas, facs, cands, net, standard="jinwan-2020", cutoff_m=400), areas


@pytest.fixture(scope="module")
def demo_plan():
    """``careplan demo``'s plan (sample data, jinwan-2020)."""
    s = cp.datasets.load_sample()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        net = cp.WalkNetwork.from_file(s.network_path)
    return _quiet_plan(s.areas, s.facilities, s.candidates, net, standard="jinwan-2020")


def _same_served(plan):
    """Every proposed facility: the facilities table's served figures equal the proposed
    table's (finding 1: C-C053 served 2751 hh / 8 areas in one, 2873 / 9 in the other)."""
    f = plan.facilities
    hh = plan.areas["households"].astype(float)
    for _, r in plan.proposed.iterrows():
        sid = r["station_id"]
        served = [a for a in str(r["areas_served"] or "").split(",") if a]
        assert [str(a) for a in f.at[sid, "estates"]] == served, sid
        assert f.at[sid, "n_estates"] == r["n_areas_served"] == len(served), sid
        assert f.at[sid, "households_served"] == pytest.approx(r["households_served"]), sid
        # and both equal the households summed over the listed areas, independently
        assert r["households_served"] == pytest.approx(float(hh.loc[served].sum())), sid
        if "elderly" in plan.areas.columns:
            assert f.at[sid, "elderly_served"] == pytest.approx(r["elderly_served"]), sid


def test_served_one_definition_hand(town_plan):
    plan, _areas = town_plan
    _same_served(plan)
    f = plan.facilities
    # by hand (test_plan.town's docstring): S001 brings C into the circle, F1 is expanded
    # for B's deficit, the on-site rooms serve their own estate
    assert f.at["S001", "estates"] == ["C"] and f.at["S001", "households_served"] == 500
    assert f.at["X-F1", "estates"] == ["B"] and f.at["X-F1", "households_served"] == 400
    assert f.at["R-A", "estates"] == ["A"] and f.at["R-C", "estates"] == ["C"]
    # an existing facility: the areas its floor area is allocated to after the plan
    assert f.at["F1", "estates"] == ["A"]


def test_served_one_definition_demo(demo_plan):
    _same_served(demo_plan)


def test_phases_count_only_the_newly_covered():
    """Finding 2: the phase table's newly served elderly summed 1184 while the summary said
    283 more were covered. Hand case: A (90 elderly) already has a station; B (150) and C
    (600) get one each; A's station is expanded (X-F1, 50 m2); the budget fits
    C's station and X-F1 first (600), then B's (150): 750 in all, the summary's covered after minus before; A never counts."""
    net = cp.WalkNetwork.from_lines(gpd.GeoSeries([LineString([(-100, 0), (3000, 0)])], crs=CRS))
    areas = gpd.GeoDataFrame(
        {"area_id": ["A", "B", "C"], "households": [300, 500, 2000], "elderly": [90, 150, 600],
         "built": ["existing"] * 3},
        geometry=[box(x, 5, x + 100, 60) for x in (0, 1200, 2400)], crs=CRS).set_axis(
        ["A", "B", "C"])
    facs = gpd.GeoDataFrame(  # too small for A: expanded (X-F1), A stays covered
        {"facility_id": ["F1"], "level": ["community"], "floor_area_m2": [10.0],
         "beds": [0], "nursing_beds": [0]}, geometry=[Point(50, 30)], crs=CRS, index=["F1"])
    plan = _quiet_plan(areas, facs, None, net, standard="anhui-2022",
                       unit_costs={"community": {"construction_per_m2": 1000}},
                       milestones=[(2026, 450_000), (2028, 450_000)])
    assert bool(plan.areas.at["A", "covered_before"]) and not plan.areas["covered_before"][
        ["B", "C"]].any()
    ph = plan.phases
    summ = plan.summary.set_index("metric")
    more = float(summ.at["elderly_covered", "after"] - summ.at["elderly_covered", "before"])
    assert more == 750
    assert ph["elderly_served_new"].sum() == pytest.approx(more)
    assert ph["elderly_served_total"].iloc[-1] == pytest.approx(more)
    first = ph[ph["phase"] == 1]
    assert set(first["milestone"]) == {2026} and first["elderly_served_new"].sum() == 600
    assert "X-F1" in set(ph["station_id"])  # serves A, newly covers nobody
    assert ph.set_index("station_id").at["X-F1", "elderly_served_new"] == 0
