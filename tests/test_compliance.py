"""Tests of careplan.compliance.check against hand-computed numbers."""

from __future__ import annotations

import math
import re
import shutil
import warnings

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
from shapely.geometry import Point, box

from careplan import compliance, standards
from careplan._errors import CareplanWarning, CRSError, InputError

CRS = "EPSG:32650"


def make_areas(rows, crs=CRS):
    """rows: dicts with area_id, households, built, geometry (+ optional columns)."""
    df = pd.DataFrame(rows)
    geom = df.pop("geometry")
    return gpd.GeoDataFrame(df, geometry=list(geom), crs=crs)


def make_facs(rows, crs=CRS):
    base = {"beds": 0, "nursing_beds": 0}
    df = pd.DataFrame([{**base, **r} for r in rows])
    if not len(df):
        df = pd.DataFrame(columns=["facility_id", "level", "floor_area_m2", "beds",
                                   "nursing_beds", "geometry"])
    geom = df.pop("geometry")
    return gpd.GeoDataFrame(df, geometry=list(geom), crs=crs)


def sq(i, size=100.0):
    """The i-th unit square along the x axis, and its centre."""
    x0 = i * 1000.0
    return box(x0, 0, x0 + size, size), Point(x0 + size / 2, size / 2)


def area(i, hh, built="new", **kw):
    return {"area_id": f"A{i}", "households": hh, "built": built, "geometry": sq(i)[0], **kw}


def fac(fid, level, m2, i=None, at=None, **kw):
    geom = at if at is not None else (sq(i)[1] if i is not None else Point(-5000, -5000))
    return {"facility_id": fid, "level": level, "floor_area_m2": float(m2), "geometry": geom,
            **kw}


def custom_profile(tmp_path, new, existing):
    dst = tmp_path / "custom.toml"
    shutil.copy(standards.profile_path("jinwan-2020"), dst)
    text = dst.read_text(encoding="utf-8")
    for rid, v in (("floor_area_new", new), ("floor_area_existing", existing)):
        start = text.index(f'id = "{rid}"')
        m = re.compile(r"^value = .*$", re.M).search(text, start)
        text = text[:m.start()] + f"value = {v}" + text[m.end():]
    dst.write_text(text, encoding="utf-8")
    return standards.load(dst)


# --------------------------------------------------------------------------- hand cases


@pytest.fixture
def hand():
    areas = make_areas([area(0, 1200, "new"), area(1, 800, "existing")])
    facs = make_facs([fac("s0", "community", 200, 0), fac("s1", "community", 150, 1)])
    return areas, facs


def test_issue_hand_cases_jinwan(hand):
    areas, facs = hand
    res = compliance.check(areas, facs, standard="jinwan-2020")
    a = res.areas
    assert list(a.index) == ["A0", "A1"]
    assert a.loc["A0", "rate_m2_per_100hh"] == 20.0
    assert a.loc["A0", "required_m2"] == pytest.approx(240.0)
    assert a.loc["A0", "provided_m2"] == pytest.approx(200.0)
    assert a.loc["A0", "deficit_m2"] == pytest.approx(40.0)
    assert not a.loc["A0", "compliant"]
    assert a.loc["A1", "required_m2"] == pytest.approx(120.0)
    assert a.loc["A1", "provided_m2"] == pytest.approx(150.0)
    assert a.loc["A1", "deficit_m2"] == 0.0
    assert a.loc["A1", "compliant"]
    r = res.rules.set_index("rule_id")
    assert r.loc["floor_area_new", "passed"] is False
    assert r.loc["floor_area_new", "found"] == pytest.approx(200 / 1200 * 100)
    assert r.loc["floor_area_existing", "passed"] is True
    assert r.loc["floor_area_existing", "found"] == pytest.approx(150 / 800 * 100)
    s = res.summary.set_index("metric")["value"]
    assert s["required_m2"] == pytest.approx(360.0)
    assert s["deficit_m2"] == pytest.approx(40.0)
    assert s["n_compliant"] == 1
    assert res.passed is False


def test_custom_profile_30_20_changes_answers(hand, tmp_path):
    areas, facs = hand
    std = custom_profile(tmp_path, 30.0, 20.0)
    a = compliance.check(areas, facs, standard=std).areas
    assert a.loc["A0", "required_m2"] == pytest.approx(360.0)
    assert a.loc["A0", "deficit_m2"] == pytest.approx(160.0)
    assert a.loc["A1", "required_m2"] == pytest.approx(160.0)
    assert a.loc["A1", "deficit_m2"] == pytest.approx(10.0)
    assert not a.loc["A1", "compliant"]
    # a path works as standard= too
    a2 = compliance.check(areas, facs, standard=std.source).areas
    assert a2.loc["A0", "required_m2"] == pytest.approx(360.0)


def test_inputs_not_mutated(hand):
    areas, facs = hand
    a0, f0 = areas.copy(), facs.copy()
    compliance.check(areas, facs, standard="jinwan-2020")
    pd.testing.assert_frame_equal(areas, a0)
    pd.testing.assert_frame_equal(facs, f0)


def test_profile_without_rate_reports_not_evaluated(hand):
    areas, facs = hand
    res = compliance.check(areas, facs, standard="taiyuan-2021")
    a = res.areas
    assert a["required_m2"].isna().all() and a["deficit_m2"].isna().all()
    assert a["compliant"].isna().all()
    assert a.loc["A0", "provided_m2"] == 200.0
    s = res.summary.set_index("metric")["value"]
    assert s["n_not_evaluated"] == 2 and s["n_compliant"] == 0
    assert math.isnan(s["required_m2"])


# --------------------------------------------------------------------------- assignment


def test_levels_counted_toward_floor_area():
    areas = make_areas([area(0, 1000)])
    facs = make_facs([
        fac("c", "community", 100, 0), fac("s", "street", 60, 0),
        fac("i", "institution", 500, 0, beds=10), fac("k", "canteen", 40, 0),
        fac("d", "district", 300, 0), fac("o", "other", 70, 0),
    ])
    a = compliance.check(areas, facs, standard="jinwan-2020").areas
    assert a.loc["A0", "provided_m2"] == pytest.approx(160.0)  # community + street
    assert a.loc["A0", "n_facilities"] == 2
    a = compliance.check(areas, facs, standard="jinwan-2020", levels=("community",)).areas
    assert a.loc["A0", "provided_m2"] == pytest.approx(100.0)
    a = compliance.check(areas, facs, standard="jinwan-2020",
                         levels=["community", "canteen"]).areas
    assert a.loc["A0", "provided_m2"] == pytest.approx(140.0)


def test_explicit_area_id_wins_and_assign_modes():
    areas = make_areas([area(0, 1000), area(1, 1000)])
    # located in A0 but declared for A1; f2 located in A0 without area_id
    facs = make_facs([fac("f1", "community", 100, 0, area_id="A1"),
                      fac("f2", "community", 30, 0, area_id=None)])
    a = compliance.check(areas, facs, standard="jinwan-2020").areas
    assert a.loc["A0", "provided_m2"] == 30.0 and a.loc["A1", "provided_m2"] == 100.0
    a = compliance.check(areas, facs, standard="jinwan-2020", assign="within").areas
    assert a.loc["A0", "provided_m2"] == 130.0 and a.loc["A1", "provided_m2"] == 0.0
    res = compliance.check(areas, facs, standard="jinwan-2020", assign="area_id")
    assert res.areas.loc["A0", "provided_m2"] == 0.0
    assert res.areas.loc["A1", "provided_m2"] == 100.0
    f = res.facilities.set_index("facility_id")
    assert f.loc["f2", "method"] == "none" and f.loc["f2", "unassigned_m2"] == 30.0
    assert f.loc["f1", "method"] == "area_id"


def test_point_areas_only_take_explicit_area_id():
    areas = make_areas([{"area_id": "P", "households": 500, "built": "new",
                         "geometry": Point(0, 0)}])
    facs = make_facs([fac("at", "community", 50, at=Point(0, 0)),
                      fac("ex", "community", 70, at=Point(10, 10), area_id="P")])
    res = compliance.check(areas, facs, standard="jinwan-2020")
    assert res.areas.loc["P", "provided_m2"] == 70.0
    assert res.areas.loc["P", "required_m2"] == 100.0
    f = res.facilities.set_index("facility_id")
    assert f.loc["at", "method"] == "none"


def test_facility_on_boundary_and_polygon_facility():
    areas = make_areas([area(0, 100)])
    poly_fac = box(10, 10, 20, 20)
    facs = make_facs([fac("edge", "community", 5, at=Point(0, 50)),
                      fac("poly", "community", 7, at=poly_fac)])
    a = compliance.check(areas, facs, standard="jinwan-2020").areas
    assert a.loc["A0", "provided_m2"] == 12.0


def test_allocation_shares():
    areas = make_areas([area(0, 1000, "new"), area(1, 800, "existing"), area(2, 100, "new")])
    # station located in A2 but allocated to A0/A1; 10 m2 left unallocated
    facs = make_facs([fac("new1", "community", 310, 2), fac("s2", "community", 5, 2)])
    alloc = pd.DataFrame({"facility_id": ["new1", "new1"], "area_id": ["A0", "A1"],
                          "floor_area_m2": [180.0, 120.0]})
    res = compliance.check(areas, facs, standard="jinwan-2020", allocation=alloc)
    a = res.areas
    assert a.loc["A0", "provided_m2"] == 180.0
    assert a.loc["A0", "deficit_m2"] == pytest.approx(20.0)
    assert a.loc["A1", "provided_m2"] == 120.0 and a.loc["A1", "compliant"]
    assert a.loc["A2", "provided_m2"] == 5.0  # only s2; new1 is not also assigned by location
    f = res.facilities.set_index("facility_id")
    assert f.loc["new1", "method"] == "allocation"
    assert f.loc["new1", "assigned_m2"] == 300.0 and f.loc["new1", "unassigned_m2"] == 10.0
    assert f.loc["new1", "area_ids"] == "A0,A1"
    # the allocated station counts as a station of both areas
    r = res.rules.set_index("rule_id")
    assert r.loc["station_coverage", "found"] == pytest.approx(1.0)


@pytest.mark.parametrize("alloc,match", [
    ({"facility_id": ["x", "x"], "area_id": ["A0", "A1"], "floor_area_m2": [200.0, 111.0]},
     "exceed the facility floor area"),
    ({"facility_id": ["zz"], "area_id": ["A0"], "floor_area_m2": [1.0]}, "not in facilities"),
    ({"facility_id": ["x"], "area_id": ["A9"], "floor_area_m2": [1.0]}, "not in areas"),
    ({"facility_id": ["x"], "area_id": ["A0"], "floor_area_m2": [-1.0]}, ">= 0"),
    ({"facility_id": ["x", "x"], "area_id": ["A0", "A0"], "floor_area_m2": [1.0, 1.0]},
     "repeats"),
    ({"facility_id": ["x"], "area_id": ["A0"]}, "lacks column"),
])
def test_allocation_errors(alloc, match):
    areas = make_areas([area(0, 1000), area(1, 1000)])
    facs = make_facs([fac("x", "community", 310, 0)])
    with pytest.raises(InputError, match=match):
        compliance.check(areas, facs, standard="jinwan-2020", allocation=pd.DataFrame(alloc))


def test_allocation_shares_exactly_full_are_fine():
    areas = make_areas([area(0, 1000), area(1, 1000)])
    facs = make_facs([fac("x", "community", 0.3, 0)])
    alloc = pd.DataFrame({"facility_id": ["x"] * 3, "area_id": ["A0", "A1", "A0"][:2] + ["A1"],
                          "floor_area_m2": [0.1, 0.2, 0.0]})
    alloc = alloc.drop_duplicates(["facility_id", "area_id"])
    res = compliance.check(areas, facs, standard="jinwan-2020", allocation=alloc)
    assert res.areas["provided_m2"].sum() == pytest.approx(0.3)


def _overlap_case():
    big = box(0, 0, 200, 200)
    small = box(50, 50, 100, 100)
    areas = make_areas([
        {"area_id": "big", "households": 1000, "built": "new", "geometry": big},
        {"area_id": "small", "households": 100, "built": "new", "geometry": small},
    ])
    facs = make_facs([fac("f", "community", 90, at=Point(75, 75)),
                      fac("g", "community", 10, at=Point(150, 150))])
    return areas, facs


@pytest.mark.parametrize("overlap,big,small", [
    ("smallest", 10.0, 90.0), ("first", 100.0, 0.0), ("split", 55.0, 45.0),
])
def test_overlapping_areas(overlap, big, small):
    areas, facs = _overlap_case()
    with pytest.warns(CareplanWarning, match="overlapping"):
        res = compliance.check(areas, facs, standard="jinwan-2020", overlap=overlap)
    assert res.areas.loc["big", "provided_m2"] == pytest.approx(big)
    assert res.areas.loc["small", "provided_m2"] == pytest.approx(small)
    assert res.areas["provided_m2"].sum() == pytest.approx(100.0)  # never double counted
    ov = res.overlaps
    assert list(ov["facility_id"]) == ["f"]
    assert ov.loc[0, "area_ids"] == "big,small"
    f = res.facilities.set_index("facility_id")
    assert f.loc["f", "method"] == "overlap" and f.loc["g", "method"] == "within"
    assert res.summary.set_index("metric").loc["n_overlaps", "value"] == 1


def test_no_overlap_no_warning(hand):
    areas, facs = hand
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        res = compliance.check(areas, facs, standard="jinwan-2020")
    assert len(res.overlaps) == 0


# --------------------------------------------------------------------------- roll-ups


def test_rollups_by_hand():
    areas = make_areas([
        area(0, 1200, "new", street="S1", district="D1"),      # needs 240, has 200
        area(1, 800, "existing", street="S1", district="D1"),  # needs 120, has 150
        area(2, 500, "new", street="S2", district="D1", elderly=90),  # needs 100, has 0
        area(3, 300, "existing", street="S3", district="D2"),  # needs 45, has 50
    ])
    areas["elderly"] = [100, 80, 90, 30]
    facs = make_facs([
        fac("c0", "community", 200, 0), fac("c1", "community", 150, 1),
        fac("c3", "community", 50, 3),
        fac("sc1", "street", 600, street="S1"),   # outside all areas, street given
        fac("dc1", "district", 900, district="D1"),
    ])
    res = compliance.check(areas, facs, standard="jinwan-2020")
    st = res.streets.set_index("street")
    assert list(st.index) == ["S1", "S2", "S3"]
    assert st.loc["S1", "households"] == 2000 and st.loc["S1", "elderly"] == 180
    assert st.loc["S1", "required_m2"] == pytest.approx(360.0)
    assert st.loc["S1", "provided_m2"] == pytest.approx(350.0)
    assert st.loc["S1", "deficit_m2"] == pytest.approx(40.0)  # sum of area deficits, not net
    assert st.loc["S1", "n_areas"] == 2 and st.loc["S1", "n_compliant"] == 1
    assert st.loc["S1", "n_centres"] == 1 and bool(st.loc["S1", "has_centre"])
    assert st.loc["S2", "deficit_m2"] == pytest.approx(100.0)
    assert not st.loc["S2", "has_centre"]
    d = res.districts.set_index("district")
    assert d.loc["D1", "households"] == 2500
    assert d.loc["D1", "required_m2"] == pytest.approx(460.0)
    assert d.loc["D1", "deficit_m2"] == pytest.approx(140.0)
    assert d.loc["D1", "n_streets"] == 2 and d.loc["D1", "n_streets_with_centre"] == 1
    assert d.loc["D1", "n_district_centres"] == 1 and bool(d.loc["D1", "has_district_centre"])
    assert d.loc["D2", "n_compliant"] == 1 and not d.loc["D2", "has_district_centre"]
    r = res.rules.set_index("rule_id")
    # town centre count: S1 has one, S2 and S3 none
    assert r.loc["town_centre_count", "found"] == 0 and r.loc["town_centre_count", "passed"] is False
    assert "S2" in r.loc["town_centre_count", "note"]
    assert r.loc["district_guidance_centre", "passed"] is False  # D2 lacks one
    assert r.loc["town_centre_floor_area", "found"] == 600.0
    assert r.loc["town_centre_floor_area", "passed"] is True


def test_no_street_column_means_no_rollup_and_not_evaluated(hand):
    areas, facs = hand
    res = compliance.check(areas, facs, standard="jinwan-2020")
    assert res.streets is None and res.districts is None
    r = res.rules.set_index("rule_id")
    assert r.loc["town_centre_count", "passed"] is None
    assert "no 'street' column" in r.loc["town_centre_count", "note"]


def test_facility_street_from_its_area():
    areas = make_areas([area(0, 100, street="S1"), area(1, 100, street="S2")])
    facs = make_facs([fac("sc", "street", 600, 0)])  # inside A0, no street column
    res = compliance.check(areas, facs, standard="urumqi-2024")
    assert res.facilities.set_index("facility_id").loc["sc", "street"] == "S1"
    r = res.rules.set_index("rule_id")
    assert r.loc["street_centre_share", "found"] == pytest.approx(0.5)
    assert r.loc["street_centre_share", "passed"] is False


# --------------------------------------------------------------------------- every rule


def _scenario(rule, side):
    """Inputs just above (side='above') or just below the rule's threshold.

    Returns (areas, facilities, check kwargs, expected 'found' value).
    """
    v, k, lv = rule.value, rule.kind, rule.levels
    up = side == "above"
    base_area = [area(0, 100, street="S0", district="D0")]
    if k == "floor_area_per_100hh":
        m2 = 10 * v + (1 if up else -1)
        return (make_areas([area(0, 1000, rule.applies_to)]),
                make_facs([fac("f", lv[0], m2, 0)]), {}, m2 / 1000 * 100)
    if k == "town_centre_min_floor_area_m2":
        m2 = v + (1 if up else -1)
        return make_areas(base_area), make_facs([fac("c", lv[0], m2, 0)]), {}, m2
    if k in ("centre_per_town", "district_centre_count", "centres_per_street"):
        n = int(v) if up else int(v) - 1
        return (make_areas(base_area),
                make_facs([fac(f"c{j}", lv[0], 800, 0) for j in range(n)]), {}, n)
    if k in ("station_coverage_share", "canteen_coverage_share"):
        n = 100
        kk = math.ceil(v * n - 1e-9) - (0 if up else 1)
        return (make_areas([area(i, 100) for i in range(n)]),
                make_facs([fac(f"s{i}", lv[0], 50, i) for i in range(kk)]), {}, kk / n)
    if k in ("street_coverage_share", "street_centre_share"):
        n = 100
        kk = math.ceil(v * n - 1e-9) - (0 if up else 1)
        return (make_areas([area(i, 100, street=f"S{i}") for i in range(n)]),
                make_facs([fac(f"s{i}", lv[0], 600, i) for i in range(kk)]), {}, kk / n)
    if k == "service_circle":
        areas = make_areas([area(0, 999), area(1, 1)])
        cov = pd.DataFrame({"covered": [True, up]}, index=["A0", "A1"])
        return areas, make_facs([]), {"coverage": cov}, 1.0 if up else 0.999
    if k == "nursing_bed_share_min":
        nb = math.ceil(v * 1000 - 1e-9) - (0 if up else 1)
        return (make_areas(base_area),
                make_facs([fac("i", lv[0], 5000, beds=1000, nursing_beds=nb)]), {}, nb / 1000)
    if k == "care_land_m2_per_resident":
        land = v * 10000 + (1 if up else -1)
        return (make_areas(base_area), make_facs([]),
                {"population": 10000, "care_land_m2": land}, land / 10000)
    if k == "community_centre_floor_area_range_m2":
        m2 = v + (1 if up else -1)
        return make_areas(base_area), make_facs([fac("c", lv[0], m2, 0)]), {}, m2
    if k == "welfare_home_beds":
        beds = int(v) - (0 if up else 1)
        kw = {} if rule.applies_to == "city" else {"district_types": {"D0": rule.applies_to}}
        return (make_areas(base_area),
                make_facs([fac("w", lv[0], 9000, 0, beds=beds)]), kw, beds)
    if k == "social_workers_per_1000_elderly":
        a = make_areas(base_area)
        a["elderly"] = 10000
        sw = 10 * v - (0 if up else 1)
        return a, make_facs([]), {"social_workers": sw}, sw / 10000 * 1000
    if k == "social_workers_per_100_beds":
        sw = 10 * v - (0 if up else 1)
        return (make_areas(base_area), make_facs([fac("i", lv[0], 900, beds=1000)]),
                {"social_workers": sw}, sw / 1000 * 100)
    if k == "site_floor_area_range_m2":
        m2 = v + (1 if up else -1)
        return make_areas(base_area), make_facs([fac("c", lv[0], m2, 0)]), {}, m2
    if k == "floor_area_on_site":  # 1000 new households need 200 m2 (jinwan: 20 per 100)
        m2 = 200.0 if up else 199.0
        return (make_areas([area(0, 1000, rule.applies_to)]),
                make_facs([fac("f", lv[0], m2, 0), fac("g", lv[0], 50, 1)]), {}, m2 / 200.0)
    if k == "life_circle_m":
        limit = rule.max_value if rule.max_value is not None else v
        cov = pd.DataFrame({"covered": [True, True], "nearest_distance_m": [
            limit, limit + (0 if up else 1)]}, index=["A0", "A1"])
        return (make_areas([area(0, 999), area(1, 1)]), make_facs([]), {"coverage": cov},
                1.0 if up else 0.999)
    if k == "beds_per_1000_elderly":
        a = make_areas(base_area)
        a["elderly"] = 1000
        beds = int(v) - (0 if up else 1)
        return a, make_facs([fac("i", lv[0], 9000, 0, beds=beds)]), {}, beds
    if k == "building_m2_per_bed":
        m2 = 100 * v + (1 if up else -1)
        return (make_areas(base_area), make_facs([fac("i", lv[0], m2, 0, beds=100)]), {},
                m2 / 100)
    if k == "pooling_circle_minutes":  # a planning parameter: never a pass or a fail
        return make_areas(base_area), make_facs([]), {}, None
    raise AssertionError(f"no test scenario for rule kind {k!r}: add one to _scenario")


ALL_RULES = [(name, r.id) for name in standards.available()
             for r in standards.load(name).rules]


@pytest.mark.parametrize("side", ["above", "below"])
@pytest.mark.parametrize("name,rule_id", ALL_RULES, ids=[f"{n}:{r}" for n, r in ALL_RULES])
def test_every_rule_just_above_and_below(name, rule_id, side):
    std = standards.load(name)
    rule = std.rule(rule_id)
    areas, facs, kw, expected = _scenario(rule, side)
    res = compliance.check(areas, facs, standard=std, **kw)
    row = res.rules.set_index("rule_id").loc[rule_id]
    if expected is None:
        assert row["passed"] is None and "planning parameter" in row["note"]
        return
    assert row["passed"] is (side == "above"), row["note"]
    assert row["found"] == pytest.approx(expected)
    assert row["required"] == rule.value
    assert row["citation"] == str(rule.citation)
    assert row["label_zh"] == rule.label_zh


def test_range_upper_bound_fails_when_exceeded():
    std = standards.load("taiyuan-2021")
    r = std.rule("community_centre_size")
    for m2, ok in ((r.max_value, True), (r.max_value + 1, False)):
        res = compliance.check(make_areas([area(0, 100)]),
                               make_facs([fac("c", "street", m2, 0),
                                          fac("d", "street", r.value, 0)]), standard=std)
        row = res.rules.set_index("rule_id").loc["community_centre_size"]
        assert row["passed"] is ok
        assert row["found"] == r.value and row["found_max"] == m2


@pytest.mark.parametrize("name,rule_id,kw_missing", [
    ("jinwan-2020", "service_circle", "coverage"),
    ("taiyuan-2021", "care_land_per_resident", "population"),
    ("taiyuan-2021", "welfare_home_county", "district_types"),
    ("sichuan-2020", "social_workers_elderly", "social_workers"),
    ("sichuan-2020", "social_workers_beds", "social_workers"),
    ("jinwan-2020", "nursing_bed_share", "beds"),
    ("urumqi-2024", "district_centre", "district"),
])
def test_rules_not_evaluated_without_inputs(name, rule_id, kw_missing):
    res = compliance.check(make_areas([area(0, 100)]), make_facs([]), standard=name)
    row = res.rules.set_index("rule_id").loc[rule_id]
    assert row["passed"] is None
    assert np.isnan(row["found"])
    assert row["note"].startswith("not evaluated")
    assert kw_missing in row["note"]


def test_care_land_from_facility_column():
    facs = make_facs([fac("a", "institution", 100, beds=10, land_area_m2=600.0),
                      fac("b", "community", 50, land_area_m2=400.0)])
    res = compliance.check(make_areas([area(0, 100)]), facs, standard="taiyuan-2021",
                           population=10000)
    row = res.rules.set_index("rule_id").loc["care_land_per_resident"]
    assert row["found"] == pytest.approx(0.1) and row["passed"] is True


def test_service_circle_accepts_coverage_result_like_object():
    class Cov:  # what careplan.coverage.walk_coverage returns (duck-typed)
        cutoff_m = 900.0
        areas = pd.DataFrame({"area_id": ["A0", "A1"], "covered": [True, False]})

    areas = make_areas([area(0, 300), area(1, 100)])
    res = compliance.check(areas, make_facs([]), standard="urumqi-2024", coverage=Cov())
    row = res.rules.set_index("rule_id").loc["service_circle"]
    assert row["found"] == pytest.approx(0.75) and row["passed"] is False
    assert "900 m" in row["note"]
    with pytest.raises(InputError, match="no row for areas"):
        compliance.check(make_areas([area(0, 1), area(2, 1)]), make_facs([]),
                         standard="urumqi-2024", coverage=Cov())


# --------------------------------------------------------------------------- outputs


def test_rule_table_languages_and_excel_frames(hand, tmp_path):
    areas, facs = hand
    res = compliance.check(areas, facs, standard="jinwan-2020", lang="zh")
    std = standards.load("jinwan-2020")
    cols = ["rule_id", "label_en", "label_zh", "required", "found", "passed", "note",
            "citation"]
    assert all(c in res.rules.columns for c in cols)
    assert list(res.rules["rule_id"]) == [r.id for r in std.rules]
    zh = res.rule_table()
    assert zh.loc[0, "label"] == std.rules[0].label_zh
    assert res.rule_table("en").loc[0, "label"] == std.rules[0].label_en
    frames = res.to_excel_frames()
    assert {"summary", "rules", "areas", "facilities", "standard"} <= set(frames)
    assert all(len(k) <= 31 for k in frames)
    assert "geometry" not in frames["areas"].columns
    with pd.ExcelWriter(tmp_path / "t.xlsx") as xw:
        for k, df in frames.items():
            df.to_excel(xw, sheet_name=k, index=False)
    back = pd.read_excel(tmp_path / "t.xlsx", sheet_name="areas")
    assert list(back["required_m2"]) == [240.0, 120.0]
    with pytest.raises(InputError, match="lang"):
        res.rule_table("fr")


def test_result_areas_are_geodataframe_labelled_by_area_id(hand):
    areas, facs = hand
    areas = areas.set_index(pd.Index([10, 11]))
    res = compliance.check(areas, facs, standard="jinwan-2020")
    assert isinstance(res.areas, gpd.GeoDataFrame)
    assert res.areas.crs == areas.crs
    assert list(res.areas.index) == ["A0", "A1"]
    assert res.areas.geometry.equals(gpd.GeoSeries(list(areas.geometry), index=["A0", "A1"],
                                                   crs=CRS))


# --------------------------------------------------------------------------- bad input


def _bad(kind):
    areas = make_areas([area(0, 100), area(1, 100)])
    facs = make_facs([fac("f", "community", 10, 0)])
    if kind == "areas_missing_col":
        return areas.drop(columns="built"), facs, InputError, "lack column"
    if kind == "facs_missing_col":
        return areas, facs.drop(columns="beds"), InputError, "lack column"
    if kind == "geographic":
        return areas.set_crs(4326, allow_override=True), facs, CRSError, "geographic"
    if kind == "no_crs":
        return areas.set_crs(None, allow_override=True), facs, CRSError, "no CRS"
    if kind == "crs_mismatch":
        return areas, facs.set_crs(32651, allow_override=True), CRSError, "differs"
    if kind == "negative_households":
        areas.loc[1, "households"] = -5
        return areas, facs, InputError, "A1.*households"
    if kind == "fractional_households":
        areas["households"] = [100.5, 3]
        return areas, facs, InputError, "whole number"
    if kind == "bad_built":
        areas.loc[0, "built"] = "old"
        return areas, facs, InputError, "'built' must be"
    if kind == "dup_area":
        areas.loc[1, "area_id"] = "A0"
        return areas, facs, InputError, "duplicate area_id"
    if kind == "dup_facility":
        return areas, pd.concat([facs, facs]), InputError, "duplicate facility_id"
    if kind == "bad_level":
        facs.loc[0, "level"] = "station"
        return areas, facs, InputError, "unknown level"
    if kind == "nursing_gt_beds":
        facs.loc[0, "nursing_beds"] = 3
        return areas, facs, InputError, "nursing_beds exceed beds"
    if kind == "negative_floor":
        facs.loc[0, "floor_area_m2"] = -1.0
        return areas, facs, InputError, "floor_area_m2"
    if kind == "unknown_area_id":
        facs["area_id"] = ["A7"]
        return areas, facs, InputError, "A7"
    if kind == "not_gdf":
        return pd.DataFrame(areas.drop(columns="geometry")), facs, InputError, "GeoDataFrame"
    if kind == "line_area":
        from shapely.geometry import LineString
        areas.loc[0, "geometry"] = LineString([(0, 0), (1, 1)])
        return areas, facs, InputError, "LineString"
    raise AssertionError(kind)


@pytest.mark.parametrize("kind", [
    "areas_missing_col", "facs_missing_col", "geographic", "no_crs", "crs_mismatch",
    "negative_households", "fractional_households", "bad_built", "dup_area", "dup_facility",
    "bad_level", "nursing_gt_beds", "negative_floor", "unknown_area_id", "not_gdf", "line_area",
])
def test_bad_input_raises(kind):
    areas, facs, err, match = _bad(kind)
    with pytest.raises(err, match=match):
        compliance.check(areas, facs, standard="jinwan-2020")


@pytest.mark.parametrize("kw,match", [
    ({"assign": "nearest"}, "assign must be"),
    ({"overlap": "largest"}, "overlap must be"),
    ({"levels": ["station"]}, "levels"),
    ({"population": -1}, "population"),
    ({"social_workers": float("nan")}, "social_workers"),
    ({"district_types": {"D0": "city"}}, "district_types"),
    ({"lang": "fr"}, "lang"),
    ({"standard": "nowhere-2030"}, "unknown standard"),
])
def test_bad_options(hand, kw, match):
    areas, facs = hand
    kw = {"standard": "jinwan-2020", **kw}
    with pytest.raises(InputError, match=match):
        compliance.check(areas, facs, **kw)


def test_areas_without_households_left_out_of_per_community_coverage():
    areas = make_areas([area(0, 100), area(1, 0), area(2, 50)])
    facs = make_facs([fac("s0", "community", 30, 0), fac("s2", "community", 30, 2)])
    row = compliance.check(areas, facs, standard="jinwan-2020").rules.set_index(
        "rule_id").loc["station_coverage"]
    # 2 of the 2 areas with households have a station; A1 (0 households) is no community
    assert row["passed"] is True and row["found"] == 1.0
    assert "1 area(s) with 0 households left out" in row["note"]
    empty = compliance.check(make_areas([area(0, 0)]), facs.iloc[:0], standard="jinwan-2020")
    assert empty.rules.set_index("rule_id").loc["station_coverage", "passed"] is None


def test_lang_is_deprecated_but_still_works(hand):
    areas, facs = hand
    with pytest.warns(DeprecationWarning, match="lang"):
        res = compliance.check(areas, facs, standard="jinwan-2020", lang="zh")
    with pytest.warns(DeprecationWarning, match="rule_table"):
        assert res.rule_table().loc[0, "label"] == res.rules.loc[0, "label_zh"]
    with warnings.catch_warnings():
        warnings.simplefilter("error", DeprecationWarning)
        compliance.check(areas, facs, standard="jinwan-2020")  # no lang: no warning


def test_bed_rules_by_district_state_the_gap_per_district():
    """Beds are rolled up by district (issue 12.3): by hand, D1 has 100 institution beds
    of which 40 nursing (40 % < 50 %: 10 nursing beds short) for 3,000 older people (33.3
    beds per 1,000 < 40: 20 beds short); D2 200 beds, 150 nursing (75 %), 2,000 older
    people (100 per 1,000)."""
    areas = make_areas([area(0, 100, "existing", district="D1", elderly=3000),
                        area(1, 100, "existing", district="D2", elderly=2000)])
    facs = make_facs([fac("i1", "institution", 4000, 0, beds=100, nursing_beds=40),
                      fac("i2", "institution", 8000, 1, beds=200, nursing_beds=150)])
    std = standards.load("jinwan-2020+gb50437-2018")
    r = compliance.check(areas, facs, standard=std).rules.set_index("kind")
    nb = r.loc["nursing_bed_share_min"]
    assert nb["passed"] is False and nb["found"] == pytest.approx(0.4)
    assert nb["gap"] == 10 and "gap by district: D1 10 (nursing beds)" in nb["note"]
    bp = r.loc["beds_per_1000_elderly"]
    assert bp["passed"] is False and bp["found"] == pytest.approx(100 / 3)
    assert bp["gap"] == 20 and "gap by district: D1 20 (beds)" in bp["note"]
    # without a district column: the whole area (300 beds, 190 nursing: 63 %, passes)
    whole = compliance.check(areas.drop(columns="district"), facs, standard=std)
    assert whole.rules.set_index("kind").loc["nursing_bed_share_min", "passed"] is True


def test_canteen_coverage_counts_the_canteen_function_within_the_circle():
    """A canteen is a function (issue 12.3): a station whose ``functions`` names it (any
    separator, Chinese synonyms) serves the areas within the walking circle (reach), a
    station without it does not; a stand-alone canteen (level 'canteen') serves too."""
    from careplan.standards._functions import function_list

    assert function_list("社区养老服务站、长者饭堂") == ["社区养老服务站", "canteen"]
    assert function_list(["meal point", "day care"]) == ["canteen", "day care"]
    assert function_list(None) == [] and function_list(float("nan")) == []
    areas = make_areas([area(i, 100, "existing") for i in range(4)])
    facs = make_facs([fac("s1", "community", 100, 0, functions="day care; 助餐点"),
                      fac("s2", "community", 100, 1, functions="day care"),
                      fac("k", "canteen", 50, at=Point(3500, 50))])
    reach = pd.DataFrame({"origin": ["A0", "A1", "A1", "A2", "A3"],
                          "destination": ["s1", "s1", "s2", "k", "k"],
                          "distance_m": [0.0, 850.0, 0.0, 899.0, 901.0]})
    r = compliance.check(areas, facs, standard="jinwan-2020", reach=reach)
    row = r.rules.set_index("rule_id").loc["canteen_coverage"]
    # A0, A1 by s1 (0 / 850 m), A2 by k (899 m <= 900 m circle); A3 is 901 m away
    assert row["found"] == pytest.approx(3 / 4) and "without: A3" in row["note"]
    st = r.rules.set_index("rule_id").loc["station_coverage"]
    assert st["found"] == pytest.approx(2 / 4)  # s1, s2 reach A0, A1 only
