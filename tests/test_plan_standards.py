"""The plan sized and checked by the standard (issue 12.1, 12.2, 12.4): hand cases on a
real (small) walking network, the real HiGHS solver and the shipped profiles."""

from __future__ import annotations

import warnings

import geopandas as gpd
import pandas as pd
import pytest
from shapely.geometry import LineString, Point, box

import careplan as cp
from careplan.standards import DEFAULT_MIN_SITE_FLOOR_AREA_M2

CRS = "EPSG:32650"


@pytest.fixture(scope="module")
def net():
    """A 3 km street along y = 0."""
    return cp.WalkNetwork.from_lines(gpd.GeoSeries([LineString([(-100, 0), (3000, 0)])],
                                                   crs=CRS))


def _areas(rows):
    df = pd.DataFrame(rows)
    gdf = gpd.GeoDataFrame(df.drop(columns="geometry"), geometry=list(df["geometry"]), crs=CRS)
    return gdf.set_axis(list(df["area_id"]))


def _facs(rows):
    df = pd.DataFrame([{"beds": 0, "nursing_beds": 0, **r} for r in rows])
    if not len(df):
        return None
    gdf = gpd.GeoDataFrame(df.drop(columns="geometry"), geometry=list(df["geometry"]), crs=CRS)
    return gdf.set_axis(list(df["facility_id"]))


def _estate(aid, x, hh, built="existing"):
    return {"area_id": aid, "households": hh, "built": built, "geometry": box(x, 5, x + 100, 60)}


def _plan(areas, facs, net, **kw):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return cp.plan_layout(areas, facs, None, net, **kw)


def test_hand_case_a_a_station_between_two_estates_serves_both(net):
    areas = _areas([_estate("A", 0, 1000), _estate("B", 300, 1000)])
    facs = _facs([{"facility_id": "S", "level": "community", "floor_area_m2": 300.0,
                   "geometry": Point(200, 5)}])
    plan = _plan(areas, facs, net, standard="jinwan-2020")
    a = plan.areas
    assert list(a["required_m2"]) == [150.0, 150.0]
    assert list(a["provided_before_m2"]) == pytest.approx([150.0, 150.0])
    assert a["compliant_before"].all() and a["compliant_after"].all()
    # no station, expansion or room proposed: the floor area is met. (Jinwan also asks for a
    # town centre and a district centre; the plan is one district = one street: issue 12.3)
    assert set(plan.proposed["kind"]) == {"centre"}
    assert sorted(plan.facilities.loc[plan.proposed.index, "level"]) == ["district", "street"]
    al = plan.floor_area_allocation
    assert al.groupby("area_id")["floor_area_m2"].sum().to_dict() == pytest.approx(
        {"A": 150.0, "B": 150.0})


def test_hand_case_c_anhui_no_new_site_below_350_m2(net):
    # three small estates far apart (1 km): each needs a station of its own
    areas = _areas([_estate("A", 0, 300), _estate("B", 1200, 500), _estate("C", 2400, 2000)])
    plan = _plan(areas, None, net, standard="anhui-2022")
    new = plan.proposed[plan.proposed["kind"] == "new"]
    assert len(new) == 3
    # required: 300 x 20 / 100 = 60 m2, 100 m2 and 400 m2 (existing estates, 20 per 100)
    assert sorted(new["floor_area_m2"]) == [350.0, 350.0, 400.0]
    assert plan.areas["compliant_after"].all()
    # without a profile minimum: careplan's documented default, and the option raises it
    jin = _plan(areas, None, net, standard="jinwan-2020")
    assert jin.proposed["floor_area_m2"].min() == DEFAULT_MIN_SITE_FLOOR_AREA_M2
    assert "200 m2" in jin.parameters["sizing"]
    big = _plan(areas, None, net, standard="jinwan-2020", min_station_floor_area_m2=320)
    assert big.proposed["floor_area_m2"].min() == 320.0


def test_candidate_capacity_caps_a_station_and_the_rest_is_explained(net):
    areas = _areas([_estate("A", 0, 3000)])  # existing estate: 450 m2 needed
    cands = gpd.GeoDataFrame({"candidate_id": ["c1"], "max_floor_area_m2": [400.0]},
                             geometry=[Point(50, 2)], crs=CRS).set_axis(["c1"])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        plan = cp.plan_layout(areas, None, cands, net, standard="jinwan-2020",
                              fallback_candidates=False)
    assert list(plan.proposed["floor_area_m2"]) == [400.0]
    assert plan.areas.loc["A", "deficit_after_m2"] == pytest.approx(50.0)
    nm = plan.rules_not_met.set_index("rule_id")
    assert "floor_area_existing" in nm.index


def test_new_estates_get_rooms_on_site_and_every_rule_is_met_or_explained(net):
    areas = _areas([_estate("N", 0, 1000, "new"), _estate("E", 1500, 1000)])
    facs = _facs([{"facility_id": "S", "level": "community", "floor_area_m2": 1000.0,
                   "geometry": Point(200, 5)}])
    plan = _plan(areas, facs, net, standard="jinwan-2020")
    room = plan.proposed.set_index("station_id").loc["R-N"]
    assert room["kind"] == "on_site" and room["floor_area_m2"] == pytest.approx(200.0)
    assert areas.loc["N", "geometry"].contains(room["geometry"])
    after = plan.rules_after.set_index("rule_id")
    assert after.loc["floor_area_new_on_site", "passed"] is True
    assert after.loc["floor_area_new", "passed"] is True
    # every rule either passes or is listed with a reason
    nm = plan.rules_not_met.set_index("rule_id")
    for rid, row in after.iterrows():
        assert row["passed"] is True or (rid in nm.index and nm.loc[rid, "reason"]), rid
    assert set(nm["category"]) <= {"not planned", "not a spatial rule", "data missing",
                                   "not a check", "budget", "no site", "other"}
    assert after.loc["canteen_coverage", "passed"] is True  # S carries the function now
    assert nm["reason_zh"].str.len().gt(0).all()


def _three_streets(with_centres):
    """Three streets of two estates each along the street; S1 and S2 have a centre (inside
    their first estate)."""
    rows = []
    for i, st in enumerate(["S1", "S2", "S3"]):
        for j in range(2):
            x = i * 1000 + j * 300
            rows.append({**_estate(f"{st}-{j}", x, 400), "street": st})
    areas = _areas(rows)
    facs = _facs([{"facility_id": f"Z{i}", "level": "street", "floor_area_m2": 600.0,
                   "geometry": Point(i * 1000 + 50, 30)} for i in with_centres])
    cands = gpd.GeoDataFrame(
        {"candidate_id": [f"K{i}" for i in range(9)]},
        geometry=[Point(i * 1000 + dx, 3) for i in range(3) for dx in (50, 200, 350)],
        crs=CRS).set_axis([f"K{i}" for i in range(9)])
    return areas, facs, cands


def test_hand_case_b_street_centres_where_the_profile_requires_them(net):
    areas, facs, cands = _three_streets([0, 1])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        jin = cp.plan_layout(areas, facs, cands, net, standard="jinwan-2020")
    cen = jin.proposed[jin.proposed["station_id"].str.startswith("C-")]  # street centres
    # exactly one new centre, >= 500 m2, inside S3 (x 2000-2400), central to its households
    assert len(cen) == 1 and cen.iloc[0]["floor_area_m2"] >= 500
    assert cen.iloc[0]["candidate_id"] == "K7"  # x = 2200: between S3-0 and S3-1
    after = jin.rules_after.set_index("rule_id")
    assert after.loc["town_centre_count", "passed"] is True
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ty = cp.plan_layout(areas, facs, cands, net, standard="taiyuan-2021")
    cen = ty.proposed[ty.proposed["station_id"].str.startswith("C-")]
    per_street = cen["areas_served"].str[:2].value_counts().to_dict()
    assert per_street == {"S1": 1, "S2": 1, "S3": 2}  # each street reaches 2 centres
    assert cen["floor_area_m2"].between(500, 2000).all()
    assert ty.rules_after.set_index("rule_id").loc["centres_per_street", "passed"] is True


def test_an_area_served_only_by_a_street_centre_gets_a_station(net):
    # A: a street centre and a candidate within the circle; nothing else. Before issue 12.3
    # the centre's circle covered A and no station was proposed (station_coverage < 1).
    # B (x = 2000): only a street centre reaches it, no candidate: no station possible.
    areas = _areas([_estate("A", 0, 400), _estate("B", 2000, 400)])
    facs = _facs([{"facility_id": "Z", "level": "street", "floor_area_m2": 600.0,
                   "geometry": Point(50, 30)},
                  {"facility_id": "Y", "level": "street", "floor_area_m2": 600.0,
                   "geometry": Point(2050, 30)}])
    cands = gpd.GeoDataFrame({"candidate_id": ["K"]}, geometry=[Point(400, 3)],
                             crs=CRS).set_axis(["K"])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        plan = cp.plan_layout(areas, facs, cands, net, standard="jinwan-2020",
                              fallback_candidates=False)
        # with fallback candidates (the default) B gets a site inside it, hence a station
        fb = cp.plan_layout(areas, facs, cands, net, standard="jinwan-2020")
    assert sorted(fb.proposed.loc[fb.proposed["kind"] == "new", "candidate_id"]) == ["K", "in-B"]
    assert fb.rules_after.set_index("rule_id").loc["station_coverage", "passed"] is True
    new = plan.proposed[plan.proposed["kind"] == "new"]
    assert list(new["candidate_id"]) == ["K"]
    assert plan.facilities.set_index("station_id").loc[new.index[0], "level"] == "community"
    before = plan.rules_before.set_index("rule_id").loc["station_coverage"]
    after = plan.rules_after.set_index("rule_id").loc["station_coverage"]
    # households served by a station: none before; A (1 of 2 areas) after
    assert before["found"] == 0.0 and after["found"] == 0.5 and after["passed"] is False
    nm = plan.rules_not_met.set_index("rule_id").loc["station_coverage"]
    assert nm["category"] == "no site" and "B" in nm["reason"] and "A" not in nm["reason"][:80]
    assert "候选站点" in nm["reason_zh"]


def _two_districts(standard, *, with_column=True):
    """D1 (x 0-700) has a district centre; D2 (x 1500-2400) has none. D2's households sit
    mostly at x 2000-2100, so its most central candidate is K2 (x 2050), not K1 (1550)."""
    rows = [{**_estate("a1", 0, 300), "district": "D1"},
            {**_estate("a2", 600, 300), "district": "D1"},
            {**_estate("b1", 1500, 100), "district": "D2"},
            {**_estate("b2", 2000, 900), "district": "D2"},
            {**_estate("b3", 2300, 100), "district": "D2"}]
    areas = _areas([r if with_column else {k: v for k, v in r.items() if k != "district"}
                    for r in rows])
    facs = _facs([{"facility_id": "DC", "level": "district", "floor_area_m2": 2000.0,
                   "geometry": Point(350, 30)}])
    cands = gpd.GeoDataFrame({"candidate_id": ["K0", "K1", "K2"]},
                             geometry=[Point(300, 3), Point(1550, 3), Point(2050, 3)],
                             crs=CRS).set_axis(["K0", "K1", "K2"])
    return areas, facs, cands


def test_district_centre_where_a_district_lacks_one(net):
    areas, facs, cands = _two_districts("jinwan-2020")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        plan = cp.plan_layout(areas, facs, cands, net, standard="jinwan-2020")
    fac = plan.facilities
    dc = fac[(fac["status"] == "proposed") & (fac["level"] == "district")]
    # exactly one, in D2, at the candidate with the least household-weighted distance:
    # K1: 100*0 + 900*450 + 100*750 = 480,000 m; K2: 100*500 + 0 + 100*250 = 75,000 m
    assert list(dc["candidate_id"]) == ["K2"]
    # size: jinwan gives no district size -> its town-centre minimum (500 m2), stated
    assert list(dc["floor_area_m2"]) == [500.0]
    assert "town_centre_floor_area" in plan.parameters["district_centre_size"]
    after = plan.rules_after.set_index("rule_id").loc["district_guidance_centre"]
    before = plan.rules_before.set_index("rule_id").loc["district_guidance_centre"]
    assert before["passed"] is False and after["passed"] is True and after["found"] == 1
    # urumqi gives no size at all: the provincial report's street-centre minimum, 1,000 m2
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ur = cp.plan_layout(areas, facs, cands, net, standard="urumqi-2024")
    dc = ur.facilities[(ur.facilities["status"] == "proposed")
                       & (ur.facilities["level"] == "district")]
    assert list(dc["floor_area_m2"]) == [1000.0]
    assert "province-report" in ur.parameters["district_centre_size"]


def test_a_plan_without_districts_is_one_district(net):
    areas, facs, cands = _two_districts("jinwan-2020", with_column=False)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        plan = cp.plan_layout(areas, facs, cands, net, standard="jinwan-2020")
    assert "district" not in areas.columns  # inputs never changed
    assert set(plan.areas["district"]) == {"district"}
    assert "one district named 'district'" in plan.parameters["zones"]
    # DC already serves the one district: no district centre proposed
    fac = plan.facilities
    assert not ((fac["status"] == "proposed") & (fac["level"] == "district")).any()
    assert plan.rules_after.set_index("rule_id").loc["district_guidance_centre", "passed"]


def test_canteens_are_a_function_of_stations(net):
    # A: an existing station F1 (no canteen); B: nothing, candidate K near it; C: a
    # stand-alone canteen CT 100 m outside it (level 'canteen'), no station or candidate
    areas = _areas([_estate("A", 0, 400), _estate("B", 1200, 400), _estate("C", 2400, 400)])
    facs = _facs([{"facility_id": "F1", "level": "community", "floor_area_m2": 300.0,
                   "geometry": Point(50, 30)},
                  {"facility_id": "CT", "level": "canteen", "floor_area_m2": 80.0,
                   "geometry": Point(2300, 3)}])
    cands = gpd.GeoDataFrame({"candidate_id": ["K"]}, geometry=[Point(1250, 3)],
                             crs=CRS).set_axis(["K"])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        plan = cp.plan_layout(areas, facs, cands, net, standard="jinwan-2020",
                              fallback_candidates=False)
    before = plan.rules_before.set_index("rule_id").loc["canteen_coverage"]
    after = plan.rules_after.set_index("rule_id").loc["canteen_coverage"]
    # before: only C, within the walking circle of the stand-alone canteen (1 of 3 areas)
    assert before["found"] == pytest.approx(1 / 3) and after["passed"] is True
    fac = plan.facilities.set_index("facility_id")
    new = plan.proposed[plan.proposed["kind"] == "new"]
    assert list(new["candidate_id"]) == ["K"] and "canteen" in fac.loc[new.index[0], "functions"]
    # A: the nearest station within its circle, F1, gets the function (no extra floor area)
    meal = plan.proposed[plan.proposed["kind"] == "canteen"]
    assert list(meal.index) == ["M-F1"] and list(meal["floor_area_m2"]) == [0.0]
    assert fac.loc["M-F1", "functions"] == ["canteen"] and meal.iloc[0]["areas_served"] == "A"
    assert fac.loc["CT", "functions"] == ["canteen"]
    # C has no station and no candidate: station coverage explained, canteen coverage met
    nm = plan.rules_not_met.set_index("rule_id")
    assert "canteen_coverage" not in nm.index and "C" in nm.loc["station_coverage", "reason"]
    # a profile without a canteen rule adds no canteen function
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        gd = cp.plan_layout(areas, facs, cands, net, standard="guangdong",
                            fallback_candidates=False)
    assert "canteen" not in set(gd.proposed["kind"])
    assert not any("canteen" in f for f in gd.facilities.loc[
        gd.facilities["status"] == "proposed", "functions"])


def test_urumqi_street_centre_share(net):
    # >= 60 % of 3 streets with a centre = 2; S1 has one: exactly one more (S2 and S3 have
    # the same households: the first, S2), sized 1,000 m2 (urumqi gives no size: the
    # provincial report's street-centre minimum)
    areas, facs, cands = _three_streets([0])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        plan = cp.plan_layout(areas, facs, cands, net, standard="urumqi-2024")
    cen = plan.proposed[plan.proposed["station_id"].str.startswith("C-")]
    assert list(cen["areas_served"].str[:2]) == ["S2"]
    assert list(cen["floor_area_m2"]) == [1000.0]
    after = plan.rules_after.set_index("rule_id")
    assert after.loc["street_centre_share", "passed"] is True
    assert after.loc["street_centre_share", "found"] == pytest.approx(2 / 3)


def test_a_street_without_a_candidate_is_explained(net):
    areas, facs, cands = _three_streets([0, 1])
    cands = cands.drop(index=["K6", "K7", "K8"])  # none inside S3 (x 2000-2400)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        plan = cp.plan_layout(areas, facs, cands, net, standard="jinwan-2020",
                              fallback_candidates=False)
    assert not plan.proposed["station_id"].str.startswith("C-").any()
    nm = plan.rules_not_met.set_index("rule_id").loc["town_centre_count"]
    assert nm["category"] == "no site" and "street S3" in nm["reason"]
    assert "S3" in nm["reason_zh"] and "街道" in nm["reason_zh"]
