"""Findings of the bureau planner's trial (issue 12, "a plan a bureau can hand over")."""

from __future__ import annotations

import warnings
from pathlib import Path

import geopandas as gpd
import pandas as pd
import pytest
from shapely.geometry import LineString, Point, box

import careplan as cp

CRS = "EPSG:32650"
ROOT_DATA = Path(__file__).resolve().parents[2] / "shared" / "data"


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


def _write_streets(path, ring, crs_name=None):
    import json

    fc = {"type": "FeatureCollection", "features": [
        {"type": "Feature", "properties": {"name": "S1"},
         "geometry": {"type": "Polygon", "coordinates": [ring]}}]}
    if crs_name:
        fc["crs"] = {"type": "name", "properties": {"name": crs_name}}
    path.write_text(json.dumps(fc), encoding="utf-8")
    return path


def test_metre_coordinates_without_a_crs_are_named(tmp_path):
    """Finding 4: a GeoJSON in metres without a CRS gave 'internal error (RuntimeError:
    Unable to determine UTM CRS)'; now a CRSError naming the input and src_crs, and the
    same file with src_crs reads."""
    from careplan._errors import CareplanError
    from careplan.io import read_boundaries

    ring = [[384557.4, 3547412.6], [384575.9, 3549048.3], [382474.6, 3549072.3],
            [382455.7, 3547436.6], [384557.4, 3547412.6]]
    p = _write_streets(tmp_path / "st_m.geojson", ring)
    with pytest.raises(CareplanError, match=r"street boundaries: the coordinates look like "
                                            r"metres \(x 382,456 to 384,576.*src_crs='EPSG:32650'"):
        read_boundaries(p, level="street", name_col="name")
    ok = read_boundaries(p, level="street", name_col="name", src_crs="EPSG:32650")
    assert ok.crs.equals("EPSG:32650")
    assert ok.geometry.iloc[0].area == pytest.approx(shapely_area(ring))


def shapely_area(ring):
    """Shoelace area of a ring (m2), independent of shapely."""
    s = sum(x0 * y1 - x1 * y0 for (x0, y0), (x1, y1) in zip(ring[:-1], ring[1:], strict=True))
    return abs(s) / 2


def test_boundaries_that_hold_no_area_fail():
    """Finding 4: streets 300 km from every area only warned per record; for the plan's
    areas (require_any) it is an InputError with the distance; other records still warn."""
    from careplan._errors import InputError
    from careplan.io import assign_boundaries

    areas = gpd.GeoDataFrame({"households": [10, 20]}, geometry=[Point(0, 0), Point(50, 0)],
                             crs=CRS, index=["a1", "a2"])
    far = gpd.GeoDataFrame({"name": ["S1"]}, geometry=[box(300_000, 0, 301_000, 1000)],
                           crs=CRS)
    with pytest.raises(InputError, match=r"areas: none of the 2 record\(s\) lies in any of the "
                                         r"1 street polygon\(s\) \(their extents are 299\.9 km"):
        assign_boundaries(areas, far, column="street", require_any=True)
    with pytest.warns(UserWarning, match="lie in no street polygon"):
        out = assign_boundaries(areas, far, column="street")
    assert out["street"].isna().all()
    near = gpd.GeoDataFrame({"name": ["S1"]}, geometry=[box(-10, -10, 10, 10)], crs=CRS)
    with pytest.warns(UserWarning, match="1 record"):  # one inside: a warning for the other
        out = assign_boundaries(areas, near, column="street", require_any=True)
    assert list(out["street"]) == ["S1", None]


def test_config_inputs_share_the_areas_crs(tmp_path):
    """Finding 4: areas at 119.95E went to UTM 50 while streets at 120.05E went to UTM 51;
    every input of a config is now projected to the areas' CRS."""
    from careplan.plan._file import _read_inputs, read_config

    (tmp_path / "areas.csv").write_text(
        "area_id,households,built,lon,lat\na1,100,existing,119.95,32.0\na2,50,new,119.96,32.0\n", encoding="utf-8")
    _write_streets(tmp_path / "streets.geojson",
                   [[119.9, 31.9], [120.2, 31.9], [120.2, 32.1], [119.9, 32.1], [119.9, 31.9]])
    net = ROOT_DATA / "nanjing_xuanwu" / "nanjing_xuanwu_overpass_2021-06-12.osm"
    (tmp_path / "plan.toml").write_text(
        '[inputs.areas]\npath = "areas.csv"\n[inputs.streets]\npath = "streets.geojson"\n'
        f'name_col = "name"\n[inputs.network]\npath = "{net}"\n', encoding="utf-8")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        data = _read_inputs(read_config(tmp_path / "plan.toml"))
    assert data["areas"].crs.equals("EPSG:32650")  # pyproj's estimate for 119.95E
    assert data["streets"].crs.equals(data["areas"].crs)
    # the street corner 119.9E 31.9N, by an independent pyproj transform
    from pyproj import Transformer

    x, y = Transformer.from_crs(4326, 32650, always_xy=True).transform(119.9, 31.9)
    corner = data["streets"].geometry.iloc[0].exterior.coords[0]
    assert corner == pytest.approx((x, y), abs=0.01)


def test_life_circle_not_planned_reason(town_plan):
    """Finding 3: a GB 50180 life circle smaller than the plan's walking circle read
    '要求 500,规划后为 0.485637', category 'other'. Hand town, walking circle 400 m, the
    5-minute 300 m circle: the reason says it was not planned for, with the share of
    households within 300 m as a percentage, computed here from the areas' distances."""
    from careplan.plan._explain import rules_not_met

    plan, _ = town_plan
    d = plan.areas["nearest_distance_after_m"].astype(float)
    hh = plan.areas["households"].astype(float)
    share = float(hh[d.fillna(float("inf")) <= 300].sum() / hh.sum())
    row = {"rule_id": "life_circle_5min", "kind": "life_circle_m", "required": 300.0,
           "required_max": float("nan"), "found": share, "passed": False,
           "note": "share of households with a facility within 300 m: 1 of 4 areas; "
                   "beyond: B, C", "gap": None, "gap_unit": None}
    rules = pd.DataFrame([{**{c: None for c in plan.rules_after.columns}, **row}])
    out = rules_not_met(rules, {"cutoff_m": 400.0}, ()).set_index("rule_id")
    r = out.loc["life_circle_5min"]
    assert r["category"] == "not planned"
    assert r["reason"].startswith(f"the plan places facilities for a 400 m walking circle; "
                                  f"the 300 m life circle was not planned for: {share:.1%} of "
                                  "households")
    assert "areas beyond 300 m: B, C" in r["reason"]
    assert f"300米内有设施的户数占 {share:.1%}(要求 100%)" in r["reason_zh"]
    # a circle at least the plan's is a real failure: not 'not planned'
    out = rules_not_met(rules, {"cutoff_m": 250.0}, ()).set_index("rule_id")
    assert out.at["life_circle_5min", "category"] != "not planned"


def test_facility_header_and_level_synonyms():
    """Finding 5: 护理床位数 left nursing_beds at 0 while the file had 70; 养老驿站 and
    社区综合为老服务中心 are level names of registers. Values checked against the table."""
    df = pd.DataFrame({"设施编号": ["F1", "F2", "F3"],
                       "类型": ["养老驿站", "社区综合为老服务中心", "敬老院"],
                       "面积(㎡)": [120, 800, 2000], "床位总数": [0, 20, 120],
                       "护理床位数": [0, 0, 70], "经度": [118.79, 118.80, 118.78],
                       "纬度": [32.05, 32.04, 32.05]})
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        f = cp.read_facilities(df)
    assert list(f["level"]) == ["community", "street", "institution"]
    assert list(f["nursing_beds"]) == [0, 0, 70] and list(f["beds"]) == [0, 20, 120]
    assert list(f["floor_area_m2"]) == [120.0, 800.0, 2000.0]
    assert "护理床位数" not in f.columns  # renamed, not carried along beside a 0 column


def test_lookalike_column_is_reported():
    """Finding 5: a column that looks like a known field but is not recognised is named in
    a warning (the field would otherwise be a silent 0)."""
    df = pd.DataFrame({"facility_id": ["a"], "level": ["community"], "floor_area_m2": [100],
                       "lon": [118.8], "lat": [32.0], "护理床(张)": [5]})
    with pytest.warns(UserWarning, match=r"facilities: column\(s\) '护理床\(张\)' \(like 'beds' "
                                         r"or 'nursing_beds'\) look like a known field"):
        f = cp.read_facilities(df)
    assert f.attrs["careplan"]["unrecognised_lookalike_columns"]


def test_station_minimum_applied_is_shown(town_plan):
    """Finding 6: the option 新增站点最小面积 showed 0 while the profile's minimum was applied.
    Hand town (jinwan-2020 has no single-site bound: careplan's documented 200 m2): S001
    takes no deficit (C's room is on site) and is built at the minimum applied, which the
    parameters list beside the option (0 = the profile's) with its source."""
    from careplan.report.labels import parameter_label

    plan, _ = town_plan
    p = plan.parameters
    assert p["min_station_floor_area_m2"] == 0
    assert p["station_min_floor_area_m2"] == 200
    assert "200" in str(p["station_size_source"]) or "default" in str(p["station_size_source"])
    assert plan.proposed.set_index("station_id").at["S001", "floor_area_m2"] == 200
    assert "0 = 采用标准规定" in parameter_label("min_station_floor_area_m2", "zh")
    assert "实际采用" in parameter_label("station_min_floor_area_m2", "zh")
    assert "applied" in parameter_label("station_min_floor_area_m2", "en")


def test_boundaries_note_does_not_count_the_assumed_district():
    """Finding 8: the parameters read "196 area(s) with their own 'district'" beside "areas
    have no district: the plan is one district named 'district'". Streets given as
    polygons, no district anywhere: the note says no district of the areas' own."""
    net = cp.WalkNetwork.from_lines(gpd.GeoSeries([LineString([(0, 0), (1000, 0)])], crs=CRS))
    areas = gpd.GeoDataFrame({"area_id": ["A", "B"], "households": [300, 200],
                              "built": ["existing"] * 2},
                             geometry=[_square(100, 30), _square(700, 30)], crs=CRS,
                             index=["A", "B"])
    streets = gpd.GeoDataFrame({"name": ["S1"], "level": ["street"]},
                               geometry=[box(-100, -100, 1100, 100)], crs=CRS)
    plan = _quiet_plan(areas, None, None, net, standard="jinwan-2020", cutoff_m=400,
                       streets=streets)
    note = plan.parameters["boundaries"]
    assert "district: no polygons and no 'district' of the areas' own (see zones)" in note
    assert "with their own 'district'" not in note
    assert "street: 1 polygon(s); areas by polygon 2" in note
    assert "areas have no district" in plan.parameters["zones"]


def test_read_boundaries_uses_the_readers_shared_parameter_text():
    """read_boundaries documents the shared reader parameters with the one template
    (io/_doc.COMMON_DOC) like read_areas / read_candidates, minus src and id_col (it
    documents its own src and takes no id_col)."""
    import re

    from careplan.io._doc import COMMON_DOC

    blocks = re.split(r"(?m)^(?=    \w+ : )", COMMON_DOC.lstrip("\n"))
    shared = {b.split(" : ", 1)[0].strip(): b for b in blocks if b.strip()}
    doc = cp.read_boundaries.__doc__
    assert "%(common)s" not in doc
    for name, text in shared.items():
        if name in ("src", "id_col"):
            assert text not in doc
            continue
        assert text in doc, name
        assert text in cp.read_candidates.__doc__, name
    assert "Polygons: a GeoDataFrame" in doc  # its own src


# ---------------------------------------------------------------------------------------
# issue 12 leftovers 5, 6: candidates in unsuitable buildings; tiny on-site rooms
# ---------------------------------------------------------------------------------------
def test_candidates_in_unsuitable_buildings_are_left_out(demo_plan):
    """Candidates tagged with a building type careplan.derive excludes (commercial,
    office, retail, hotel, ...) host no proposed facility and are listed; the plan's
    other figures are those of the demo (the two centres move to suitable buildings)."""
    from careplan.derive import EXCLUDED_BUILDINGS
    from careplan.plan._unsuitable import unsuitable_candidates

    s = cp.datasets.load_sample()
    tags = s.candidates["building"].astype(str).str.lower()
    bad = set(s.candidates.index[tags.isin(EXCLUDED_BUILDINGS)])
    assert len(bad) == 19  # 8 commercial, 7 office, 3 retail, 1 hotel
    # + 11 by their amenity/office/shop/tourism tags (fixes, finding 3: a school, 2
    # government offices, a court, a bank, a library, an arts centre, 2 museums, 2 shops)
    tagged = {"C005", "C009", "C018", "C024", "C030", "C042", "C047", "C050", "C052",
              "C058", "C062"}
    bad |= tagged
    assert set(unsuitable_candidates(s.candidates).index) == bad
    used = set(demo_plan.proposed["candidate_id"].dropna())
    assert used and not used & bad
    listed = demo_plan.parameters["candidates_unsuitable"]
    assert {x.split(" ")[0] for x in listed.split(", ")} == bad
    assert "C053 (building=commercial)" in listed
    # the facilities table: no proposed site in an unsuitable building
    fac = demo_plan.facilities
    prop = fac[fac["status"] == "proposed"]
    assert not prop["building"].astype(str).str.lower().isin(EXCLUDED_BUILDINGS).any()


def test_unsuitable_candidates_warned_and_kept_when_retagged(sample, sample_network):
    from careplan._errors import CareplanWarning

    cands = sample.candidates.copy()
    with pytest.warns(CareplanWarning, match=r"30 candidate site\(s\) are in buildings "
                                             r"unsuitable"):
        cp.plan_layout(sample.areas, sample.facilities, cands, sample_network,
                       standard="jinwan-2020", verbose=False)
    # a candidate the bureau checked: another building value keeps it
    cands.loc["C053", "building"] = "yes"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        plan = cp.plan_layout(sample.areas, sample.facilities, cands, sample_network,
                              standard="jinwan-2020", verbose=False)
    assert "C053" not in plan.parameters["candidates_unsuitable"]
    assert len(plan.parameters["candidates_unsuitable"].split(", ")) == 29


def _tiny_town(standard):
    """test_plan's town with a 30-household new estate T next to A (on-site rooms)."""
    net = cp.WalkNetwork.from_lines(gpd.GeoSeries([LineString([(0, 0), (2000, 0)])], crs=CRS))
    areas = gpd.GeoDataFrame(
        {"area_id": ["A", "T", "B"], "households": [1000, 30, 400],
         "built": ["new", "new", "existing"]},
        geometry=[_square(100, 30), _square(160, 30), _square(300, 30)], crs=CRS,
        index=["A", "T", "B"])
    facs = gpd.GeoDataFrame(
        {"facility_id": ["F1"], "level": ["community"], "floor_area_m2": [120.0],
         "beds": [0], "nursing_beds": [0]}, geometry=[Point(100, 30)], crs=CRS, index=["F1"])
    cands = gpd.GeoDataFrame({"candidate_id": ["K1", "K2"]},
                             geometry=[Point(300, -20), Point(1500, -20)], crs=CRS,
                             index=["K1", "K2"])
    from careplan._errors import CareplanWarning

    with pytest.warns(CareplanWarning, match=r"2 on-site rooms \(配建\) below"):
        return cp.plan_layout(areas, facs, cands, net, standard=standard, cutoff_m=400,
                              verbose=False)


@pytest.mark.parametrize("standard, rate, minimum, rule", [
    ("jinwan-2020", 20.0, 200.0, "on_site_minimum"),
    ("jinwan-2020+anhui-2022", 30.0, 350.0, "site_min_floor_area")])
def test_tiny_on_site_rooms_are_flagged_not_pooled(standard, rate, minimum, rule):
    """Hand case: new estates A (1,000 households, F1's 120 m2 inside) and T (30
    households) must build their rooms on site (配建, jinwan's floor_area_on_site): T owes
    30 x rate / 100 m2 and A 1,000 x rate / 100 - 120 m2, both below the site minimum
    (careplan's 200 m2 default; Anhui's 350 m2). They keep those sizes (not pooled with a
    neighbour: the rule wants them inside the estate) and are listed in rules_not_met
    and the parameters with the reason."""
    plan = _tiny_town(standard)
    rooms = plan.proposed.set_index("station_id")
    assert rooms.loc["R-T", "floor_area_m2"] == pytest.approx(30 * rate / 100)
    assert rooms.loc["R-A", "floor_area_m2"] == pytest.approx(1000 * rate / 100 - 120)
    assert rooms.loc["R-T", "kind"] == "on_site" and rooms.loc["R-T", "areas_served"] == "T"
    assert plan.parameters["on_site_below_minimum"] == (
        f"R-A: {1000 * rate / 100 - 120:g} m2 (A), R-T: {30 * rate / 100:g} m2 (T)")
    nm = plan.rules_not_met.set_index("rule_id")
    row = nm.loc[rule]
    assert row["category"] == "not planned" and row["passed"] is False
    assert f"below the single-site minimum of {minimum:g} m2" in row["reason"]
    assert "R-T" in row["reason"] and "not pooled" in row["reason"]
    assert "小区内配建用房低于单处最小面积" in row["reason_zh"]
    if rule == "on_site_minimum":  # careplan's own row: required = minimum, found = smallest
        assert row["required"] == minimum and row["found"] == pytest.approx(30 * rate / 100)
