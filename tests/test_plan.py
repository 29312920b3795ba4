"""plan_layout: a hand-worked plan on a one-street town, and the bundled sample."""

from __future__ import annotations

import warnings

import geopandas as gpd
import networkx as nx
import numpy as np
import pandas as pd
import pytest
from shapely.geometry import LineString, Point, box

import careplan as cp

CRS = "EPSG:32650"


def _square(x, y, half=20.0):
    return box(x - half, y - half, x + half, y + half)


@pytest.fixture(scope="module")
def town():
    """One 2 km street along y=0; estates sit 30 m north of it.

    Hand-worked (jinwan-2020: new 20, existing 15 m2 per 100 households), cutoff 400 m:
    A new 1000 hh -> 200 m2, has F1 (120 m2) inside: deficit 80, covered (0 m: inside).
    B existing 400 hh -> 60 m2, nothing inside: deficit 60, covered by F1 (30+200+30 = 260 m).
    C new 500 hh -> 100 m2, nothing within 400 m: deficit 100, uncovered.
    D existing 0 hh: needs nothing.
    Plan (issue 12, 'standards'): jinwan-2020 builds new estates' rooms on site (配建), so
    A's deficit becomes a room inside A (R-A, 80 m2) and C's a room inside C (R-C, 100 m2);
    B's deficit goes to F1 (nearest host): an expansion of 60 m2. One new station near C
    (K2 at 50 m or K3 at 250 m) brings C into the circle; it takes no deficit, so it gets
    the smallest station, careplan's documented default of 200 m2.
    (Before issue 12: new station 100 m2 for C, F1 expanded by 140 m2 for A and B; the
    same plan under a profile without the on-site rule is checked in
    test_hand_plan_budget_zero_keeps_deficit.)
    """
    net = cp.WalkNetwork.from_lines(
        gpd.GeoSeries([LineString([(0, 0), (2000, 0)])], crs=CRS))
    areas = gpd.GeoDataFrame(
        {"area_id": ["A", "B", "C", "D"], "households": [1000, 400, 500, 0],
         "built": ["new", "existing", "new", "existing"]},
        geometry=[_square(100, 30), _square(300, 30), _square(1500, 30), _square(1900, 30)],
        crs=CRS, index=["A", "B", "C", "D"])
    facs = gpd.GeoDataFrame(
        {"facility_id": ["F1"], "level": ["community"], "floor_area_m2": [120.0],
         "beds": [0], "nursing_beds": [0]},
        geometry=[Point(100, 30)], crs=CRS, index=["F1"])
    cands = gpd.GeoDataFrame(
        {"candidate_id": ["K1", "K2", "K3"]},
        geometry=[Point(300, -20), Point(1500, -20), Point(1700, -20)], crs=CRS,
        index=["K1", "K2", "K3"])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        plan = cp.plan_layout(areas, facs, cands, net, standard="jinwan-2020", cutoff_m=400,
                              verbose=False)
    return plan, areas, facs, cands, net


def test_hand_plan_before_state(town):
    plan = town[0]
    a = plan.areas
    assert a.loc["A", "required_m2"] == pytest.approx(200)
    assert a.loc["B", "required_m2"] == pytest.approx(60)
    assert a.loc["C", "required_m2"] == pytest.approx(100)
    assert a.loc["A", "deficit_before_m2"] == pytest.approx(80)
    assert a.loc["B", "deficit_before_m2"] == pytest.approx(60)
    assert a.loc["C", "deficit_before_m2"] == pytest.approx(100)
    assert a.loc["A", "nearest_distance_before_m"] == 0  # F1 inside A (issue 14 item 10)
    assert a.loc["B", "nearest_distance_before_m"] == pytest.approx(260)
    assert list(a["covered_before"]) == [True, True, False, False]


def test_hand_plan_proposal(town):
    plan = town[0]
    prop = plan.proposed
    new = prop[prop["kind"] == "new"]
    assert len(new) == 1
    assert new.iloc[0]["candidate_id"] in {"K2", "K3"}
    assert new.iloc[0]["floor_area_m2"] == pytest.approx(200)  # default smallest station
    assert new.iloc[0]["areas_served"] == "C"
    exp = prop[prop["kind"] == "expansion"]
    assert list(exp["facility_id"]) == ["F1"]
    assert exp.iloc[0]["floor_area_m2"] == pytest.approx(60)
    assert set(exp.iloc[0]["areas_served"].split(",")) == {"B"}
    rooms = prop[prop["kind"] == "on_site"].set_index("areas_served")["floor_area_m2"]
    assert rooms.to_dict() == pytest.approx({"A": 80.0, "C": 100.0})


def test_hand_plan_after_state(town):
    plan = town[0]
    a = plan.areas
    assert a["compliant_after"].all()
    assert a["deficit_after_m2"].sum() == pytest.approx(0)
    assert a.loc["A", "provided_after_m2"] == pytest.approx(200)
    assert a.loc["B", "provided_after_m2"] == pytest.approx(60)
    assert a.loc["C", "provided_after_m2"] == pytest.approx(100)
    assert bool(a.loc["C", "covered_after"])
    s = plan.summary.set_index("metric")
    assert s.loc["households_covered", "before"] == 1400
    assert s.loc["households_covered", "after"] == 1900
    # + jinwan's town centre and district guidance centre (issue 12.3: the town is one
    # district = one street, neither has a centre; 500 m2 each, the town-centre minimum)
    assert s.loc["new_floor_area_m2", "after"] == pytest.approx(200 + 60 + 80 + 100 + 2 * 500)
    cen = plan.proposed[plan.proposed["kind"] == "centre"]
    assert sorted(plan.facilities.loc[cen.index, "level"]) == ["district", "street"]
    # inputs untouched
    assert list(town[2]["floor_area_m2"]) == [120.0]


def test_hand_plan_budget_zero_keeps_deficit(town):
    _, areas, facs, cands, net = town
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        # guangdong: jinwan's rates (20/15) without the on-site rule, so C's deficit needs a
        # station (under jinwan-2020 C would build a room on site)
        plan = cp.plan_layout(areas, facs, cands, net, standard="guangdong", cutoff_m=400,
                              p=0, verbose=False)
    assert (plan.proposed["kind"] == "new").sum() == 0
    assert plan.areas.loc["C", "deficit_after_m2"] == pytest.approx(100)
    assert "C" in plan.parameters["unresolved_deficit_areas"]


def test_custom_rates_change_sizes(town, tmp_path):
    _, areas, facs, cands, net = town
    text = cp.standards.profile_path("jinwan-2020").read_text(encoding="utf-8")
    text = text.replace("value = 20.0", "value = 30.0", 1).replace("value = 15.0", "value = 20.0", 1)
    path = tmp_path / "mine.toml"
    path.write_text(text, encoding="utf-8")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        plan = cp.plan_layout(areas, facs, cands, net, standard=path, cutoff_m=400,
                              verbose=False)
    rooms = plan.proposed[plan.proposed["kind"] == "on_site"].set_index("areas_served")
    assert rooms.loc["C", "floor_area_m2"] == pytest.approx(150)  # C: 500/100*30, on site
    assert rooms.loc["A", "floor_area_m2"] == pytest.approx(300 - 120)  # A, on site
    exp = plan.proposed[plan.proposed["kind"] == "expansion"]
    assert exp.iloc[0]["floor_area_m2"] == pytest.approx(80)  # B: 400/100*20


def test_plan_errors(town):
    _, areas, facs, cands, net = town
    with pytest.raises(cp.InputError, match="model"):
        cp.plan_layout(areas, facs, cands, net, model="nope")
    with pytest.raises(cp.InputError, match="budget"):
        cp.plan_layout(areas, facs, cands, net, model="p_median")
    with pytest.raises(cp.InputError, match="p "):
        cp.plan_layout(areas, facs, cands, net, p=-1)
    with pytest.raises(cp.CRSError):
        cp.plan_layout(areas.to_crs(4326), facs, cands, net)
    with pytest.raises(cp.CRSError):
        cp.plan_layout(areas, facs, cands.to_crs("EPSG:32651"), net)
    with pytest.raises(cp.InputError, match="does not exist"):
        cp.plan_layout(areas, facs, cands, "/nonexistent/roads.osm")
    with pytest.raises(cp.CareplanError):
        cp.plan_layout(areas, facs, cands, net, cutoff_m=-5)
    with pytest.raises(cp.InputError, match="'level'"):
        cp.plan_layout(areas, facs.drop(columns="level"), cands, net)
    with pytest.raises(cp.InputError, match="households"):
        cp.plan_layout(areas.drop(columns="households"), facs, cands, net, cutoff_m=400)


# ------------------------------------------------------------------ the bundled sample
@pytest.fixture(scope="module")
def sample_plan():
    s = cp.datasets.load_sample()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        net = cp.WalkNetwork.from_file(s.network_path)
        # candidates with a name and an address each (test_sample_facilities_table checks
        # they reach the outputs; they do not change the plan)
        cands = s.candidates.copy()
        cands["name"] = [f"候选点 {c}" for c in cands.index]
        cands["address"] = [f"玄武区测试路{k + 1}号" for k in range(len(cands))]
        plan = cp.plan_layout(s.areas, s.facilities, cands, net,
                              standard="jinwan-2020", verbose=False)
    return s, net, plan


def test_sample_plan_meets_rules(sample_plan):
    s, net, plan = sample_plan
    a = plan.areas
    assert a["compliant_after"].fillna(False).all(), a.loc[~a["compliant_after"].fillna(False)]
    hh = a["households"]
    assert hh[a["covered_after"]].sum() >= hh[a["covered_before"]].sum()
    assert a["covered_after"].all()
    # existing facilities are kept unchanged
    pd.testing.assert_frame_equal(plan.existing.drop(columns="geometry"),
                                  s.facilities.drop(columns="geometry"))


def test_sample_plan_sizes_and_distances_independently(sample_plan):
    """Re-derive every station's size and every allocation distance with networkx."""
    s, net, plan = sample_plan
    std = cp.standards.load("jinwan-2020")
    a = plan.areas
    # sizes: the deficits allocated to a station sum to at most its floor area (a station
    # may also newly cover areas whose deficit a pooled neighbour takes: issue 12.2)
    for sid, st in plan.proposed.iterrows():
        if st["kind"] == "centre":  # sized by the profile's centre minimum, not by deficits
            assert st["floor_area_m2"] == pytest.approx(500.0)
            continue
        mine = plan.allocation[plan.allocation["facility_id"] == sid]
        assert set(mine["area_id"]) <= set(st["areas_served"].split(","))
        # a share is at most the area's requirement (the final LP allocation: a centre may
        # take part of a deficit, existing floor area may move between areas: fixes, 2)
        for x, m2 in zip(mine["area_id"], mine["floor_area_m2"], strict=True):
            need = a.loc[x, "households"] / 100 * std.floor_area_rate_m2_per_100hh(
                a.loc[x, "built"])
            assert m2 <= need + 1e-6
        assert st["floor_area_m2"] >= mine["floor_area_m2"].sum() - 1e-6
        if st["kind"] == "expansion":
            assert st["floor_area_m2"] == pytest.approx(mine["floor_area_m2"].sum())
    # total deficit taken by the stations = total deficit removed; each station's size is
    # what it takes (a new one at least the 200 m2 default minimum)
    taken = plan.allocation.groupby("facility_id")["floor_area_m2"].sum()
    assert taken.sum() == pytest.approx(
        a["deficit_before_m2"].sum() - a["deficit_after_m2"].sum())
    for sid, st in plan.proposed[plan.proposed["kind"] != "centre"].iterrows():
        t = taken.get(sid, 0.0)
        want = max(t, 200.0) if st["kind"] == "new" else t
        assert st["floor_area_m2"] == pytest.approx(want, abs=0.01), sid
    # the after-coverage distances agree with networkx on the network's own graph
    G = nx.Graph()
    e = net.edges
    for u, v, length in zip(e["u"], e["v"], e["length_m"], strict=True):
        if G.has_edge(u, v):
            length = min(length, G[u][v]["w"])
        G.add_edge(u, v, w=length)
    pts = plan.proposed[plan.proposed["kind"] == "new"]
    snap_p = net.snap(pts)
    snap_a = net.snap(a)
    cutoff = plan.parameters["cutoff_m"]
    for sid, st in pts.iterrows():
        sp = snap_p.loc[sid]
        for x in [x for x in st["areas_served"].split(",") if x]:
            sa = snap_a.loc[x]
            best = np.inf
            for nu, ou in ((sa["u"], sa["offset_m"]), (sa["v"], sa["edge_length_m"] - sa["offset_m"])):
                for nv, ov in ((sp["u"], sp["offset_m"]),
                               (sp["v"], sp["edge_length_m"] - sp["offset_m"])):
                    try:
                        d = nx.dijkstra_path_length(G, nu, nv, weight="w")
                    except nx.NetworkXNoPath:
                        continue
                    best = min(best, ou + d + ov)
            if sa["edge"] == sp["edge"]:
                best = min(best, abs(sa["offset_m"] - sp["offset_m"]))
            best += sa["snap_distance_m"] + sp["snap_distance_m"]
            if a.loc[x].geometry.contains(st.geometry):  # the network's rule: inside = 0 m
                best = 0.0
            assert best <= cutoff + 1e-6, (sid, x, best)


def test_sample_plan_to_file(sample_plan, tmp_path):
    _, _, plan = sample_plan
    files = plan.to_file(tmp_path / "out", lang="en")
    for key in ("geopackage", "report", "tables"):
        assert files[key].exists() and files[key].stat().st_size > 0
    back = gpd.read_file(files["geopackage"], layer="proposed_stations")
    assert len(back) == len(plan.proposed)
    assert back["floor_area_m2"].sum() == pytest.approx(plan.proposed["floor_area_m2"].sum())
    html = files["report"].read_text(encoding="utf-8")
    assert "OpenStreetMap contributors" in html


# ------------------------------------------------------------------ the pipeline
def _quiet_plan(*args, **kw):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return cp.plan_layout(*args, verbose=False, **kw)


def test_distances_walked_once_and_coverage_equals_walk_coverage(town, monkeypatch):
    """The plan walks areas x sites once; its coverage before and after equals an
    independent walk_coverage over the same facilities."""
    _, areas, facs, cands, net = town
    calls = []
    real = type(net).distances

    def counting(self, *a, **k):
        calls.append(len(a[1]))
        return real(self, *a, **k)

    monkeypatch.setattr(type(net), "distances", counting)
    plan = _quiet_plan(areas, facs, cands, net, standard="jinwan-2020", cutoff_m=400)
    monkeypatch.undo()
    assert calls == [len(facs) + len(cands)]
    before = cp.coverage.walk_coverage(net, areas, facs, cutoff_m=400)
    new = plan.proposed[plan.proposed["kind"].isin(["new", "centre"])]  # stations, centres
    after_facs = pd.concat([facs[["geometry"]], new[["geometry"]]])
    after = cp.coverage.walk_coverage(net, areas, gpd.GeoDataFrame(after_facs, crs=CRS),
                                      cutoff_m=400)
    for mine, ref in (("before", before), ("after", after)):
        assert plan.areas[f"covered_{mine}"].tolist() == ref.areas["covered"].tolist()
        np.testing.assert_allclose(plan.areas[f"nearest_distance_{mine}_m"],
                                   ref.areas["nearest_distance_m"], rtol=1e-12)


def test_plan_from_nothing(town):
    """No facilities: by hand (issue 12: jinwan-2020 builds new estates' rooms on site),
    A's 200 m2 and C's 100 m2 become rooms inside A and C; K1 (250 m from A, 50 m from B)
    takes B's 60 m2 and K2 (50 m from C) brings C into the circle, both at careplan's
    default smallest station of 200 m2. (Before issue 12: K1 260 m2 for A and B, K2
    100 m2 for C.) facilities=None and an empty frame agree."""
    _, areas, facs, cands, net = town
    plan = _quiet_plan(areas, None, cands, net, standard="jinwan-2020", cutoff_m=400)
    stations = plan.proposed[plan.proposed["kind"] == "new"]
    prop = stations.set_index("candidate_id")
    assert set(prop.index) == {"K1", "K2"}
    assert prop.loc["K1", "floor_area_m2"] == pytest.approx(200)
    assert prop.loc["K2", "floor_area_m2"] == pytest.approx(200)
    rooms = plan.proposed[plan.proposed["kind"] == "on_site"].set_index("areas_served")
    assert rooms["floor_area_m2"].to_dict() == pytest.approx({"A": 200.0, "C": 100.0})
    assert plan.areas["compliant_after"].all()
    assert plan.areas.loc[["A", "B", "C"], "covered_after"].all()
    empty = _quiet_plan(areas, facs.iloc[:0], cands, net, standard="jinwan-2020", cutoff_m=400)
    pd.testing.assert_frame_equal(empty.proposed.drop(columns="geometry"),
                                  plan.proposed.drop(columns="geometry"))
    alloc = plan.allocation.set_index("area_id")
    assert alloc.loc["A", "floor_area_m2"] == pytest.approx(200)
    assert alloc.loc["C", "facility_id"] == "R-C"
    assert alloc.loc["B", "facility_id"] == prop.loc["K1", "station_id"]


def test_options_config_and_old_names(town):
    """PlanConfig is the one source: keywords, config= and the signature agree; old names
    (network=, model='max_covering') still work with a DeprecationWarning."""
    import inspect

    _, areas, facs, cands, net = town
    sig = inspect.signature(cp.plan_layout).parameters
    for f in cp.plan.PlanConfig.options():
        assert f in sig and f in cp.plan_layout.__doc__
    cfg = cp.plan.PlanConfig(cutoff_m=400, p=1, model="maximal_covering")
    a = _quiet_plan(areas, facs, cands, net, config=cfg)
    b = _quiet_plan(areas, facs, cands, net, cutoff_m=400, p=1, model="maximal_covering")
    with pytest.warns(DeprecationWarning):
        c = cp.plan_layout(areas, facs, cands, network=net, cutoff_m=400, p=1,
                           model="max_covering", verbose=False)
    for other in (b, c):
        pd.testing.assert_frame_equal(a.proposed.drop(columns="geometry"),
                                      other.proposed.drop(columns="geometry"))
    assert a.parameters["model"] == "maximal_covering" and a.parameters["p"] == 1
    assert a.config == cfg
    with pytest.raises(cp.InputError, match="cutoff_m"):
        cp.plan_layout(areas, facs, cands, net, cutoff_m=float("inf"))
    with pytest.raises(cp.InputError, match="unknown option"):
        cp.plan_layout(areas, facs, cands, net, cutof_m=400)


def test_profile_circle_levels_are_used(town, tmp_path):
    """A profile whose service-circle rule counts only street centres: the community
    station F1 no longer covers anyone before the plan (as walk_coverage(levels=street))."""
    _, areas, facs, cands, net = town
    text = cp.standards.profile_path("jinwan-2020").read_text(encoding="utf-8")
    old = 'id = "service_circle"\nkind = "service_circle"\n'
    assert old in text
    path = tmp_path / "street-circle.toml"
    path.write_text(text.replace(old, old + 'levels = ["street"]\n'), encoding="utf-8")
    plan = _quiet_plan(areas, facs, cands, net, standard=path, cutoff_m=400)
    with pytest.warns(cp.CareplanWarning, match="No facility has level"):
        ref = cp.coverage.walk_coverage(net, areas, facs, cutoff_m=400, levels=["street"])
    assert not ref.areas["covered"].any()
    assert plan.areas["covered_before"].tolist() == ref.areas["covered"].tolist()
    assert plan.parameters["circle_levels"] == "street"
    default = _quiet_plan(areas, facs, cands, net, standard="jinwan-2020", cutoff_m=400)
    assert default.areas.loc["A", "covered_before"]


def test_plan_never_mutates_its_inputs(town):
    _, areas, facs, cands, net = town
    copies = [g.copy() for g in (areas, facs, cands)]
    _quiet_plan(areas, facs, cands, net, standard="jinwan-2020", cutoff_m=400, p=1)
    for g, c in zip((areas, facs, cands), copies, strict=True):
        pd.testing.assert_frame_equal(g, c)
        assert g.attrs == c.attrs


def test_sample_facilities_table(sample_plan, tmp_path):
    """Issue 12.5: every existing and proposed facility listed, findable (name, address,
    WGS84 and GCJ-02 coordinates), in the HTML and the XLSX."""
    import openpyxl
    from pyproj import Transformer

    from careplan._crs import gcj02_to_wgs84

    s, _net, plan = sample_plan
    f = plan.facilities
    assert list(f.loc[f["status"] == "existing", "facility_id"]) == list(s.facilities.index)
    assert set(f.loc[f["status"] == "proposed", "facility_id"]) == set(plan.proposed["station_id"])
    assert len(f) == len(s.facilities) + len(plan.proposed)
    # coordinates: an independent pyproj transform of the projected geometry
    tr = Transformer.from_crs(plan.crs, "EPSG:4326", always_xy=True)
    lon, lat = tr.transform(f.geometry.x.to_numpy(), f.geometry.y.to_numpy())
    np.testing.assert_allclose(f["lon_wgs84"], lon, atol=1e-9)
    np.testing.assert_allclose(f["lat_wgs84"], lat, atol=1e-9)
    ex = f[f["status"] == "existing"]
    assert ex.geometry.geom_equals(s.facilities.geometry.reindex(ex.index)).all()
    # GCJ-02 back to WGS84 with the io package's inverse: < 1e-6 deg; the offset is the
    # few hundred metres GCJ-02 adds in Nanjing
    blon, blat = gcj02_to_wgs84(f["lon_gcj02"], f["lat_gcj02"])
    np.testing.assert_allclose(blon, f["lon_wgs84"], atol=1e-6)
    np.testing.assert_allclose(blat, f["lat_wgs84"], atol=1e-6)
    assert ((f["lon_gcj02"] - f["lon_wgs84"]).abs() > 1e-3).all()
    # candidates' names, addresses and own columns carried through
    cands = s.candidates.copy()
    new = f[f["candidate_id"].isin(cands.index)]
    assert len(new) >= 1
    for _fid, r in new.iterrows():
        k = list(cands.index).index(r["candidate_id"])
        assert r["name"] == f"候选点 {r['candidate_id']}"
        assert r["address"] == f"玄武区测试路{k + 1}号"
        assert r["osm_ref"] == cands.at[r["candidate_id"], "osm_ref"]
        assert r.geometry.equals(cands.geometry[r["candidate_id"]])
    # level, floor area and functions; estates a list; households summed over them
    assert (f.loc[plan.proposed["station_id"], "floor_area_m2"].to_numpy()
            == pytest.approx(plan.proposed["floor_area_m2"].to_numpy(), abs=0.01))
    assert all(isinstance(e, list) for e in f["estates"])
    assert all(isinstance(x, list) and x for x in f["functions"])
    hh = plan.areas["households"]
    for _, r in f.iterrows():
        assert r["households_served"] == pytest.approx(float(hh.reindex(r["estates"]).sum()))
    alloc = plan.floor_area_allocation
    ex_ids = set(f.loc[f["status"] == "existing", "facility_id"])
    for fid in set(alloc.loc[alloc["floor_area_m2"] > 0, "facility_id"]) & ex_ids:
        got = set(alloc.loc[(alloc["facility_id"] == fid) & (alloc["floor_area_m2"] > 0),
                            "area_id"])
        assert got <= set(f.at[fid, "estates"])
    # the outputs: XLSX sheet "facilities" and the HTML table
    paths = plan.to_file(tmp_path / "out", lang="zh")
    wb = openpyxl.load_workbook(tmp_path / "out" / "tables.xlsx", read_only=True)
    rows = list(wb["facilities"].iter_rows(values_only=True))
    head = list(rows[0])
    for col in ("name", "address", "level", "floor_area_m2", "functions", "estates",
                "lon_gcj02", "lat_gcj02", "lon_wgs84", "lat_wgs84"):
        assert col in head
    by_id = {r[head.index("facility_id")]: r for r in rows[1:]}
    assert set(by_id) == set(f.index)
    for fid, r in f.iterrows():
        x = by_id[fid]
        assert x[head.index("name")] == r["name"]
        assert x[head.index("address")] == r["address"]
        assert x[head.index("lon_gcj02")] == pytest.approx(r["lon_gcj02"], abs=1e-9)
    html = (tmp_path / "out" / "report.html").read_text(encoding="utf-8")
    assert "id='facilities'" in html
    from careplan.report._common import HTML_LIST_ITEMS, area_names

    shown = dict(zip(plan.areas["area_id"].astype(str), area_names(plan.areas), strict=True))
    for _, r in new.iterrows():
        assert r["name"] in html and r["address"] in html
        # the list joined only for display, estates by name (report), at most 8 in the HTML
        names = [shown.get(str(a), str(a)) for a in r["estates"]][:HTML_LIST_ITEMS]
        assert ", ".join(names) in html
    lay = gpd.read_file(paths["gpkg"] if "gpkg" in paths else tmp_path / "out" / "plan.gpkg",
                        layer="facilities")
    assert list(lay["facility_id"]) == list(f.index)
    assert [a if isinstance(a, str) else None for a in lay["address"]] == list(f["address"])
    for text, e in zip(lay["estates"], f["estates"], strict=True):  # joined for display
        assert all(str(a) in str(text) for a in e)


def _met_or_explained(plan):
    """Every rule of the profile passes after the plan or is listed with both reasons."""
    nm = plan.rules_not_met.set_index("rule_id")
    for _, r in plan.rules_after.iterrows():
        if r["passed"] is True:
            assert r["rule_id"] not in nm.index
            continue
        row = nm.loc[r["rule_id"]]
        assert row["reason"] and row["reason_zh"] and row["passed"] is r["passed"], r["rule_id"]
    return nm


def test_sample_plan_every_rule_met_or_explained(sample_plan):
    """The demo (jinwan-2020): after the plan every rule passes (issue 12.3/12.4: stations
    cover every area, a centre per street and district, canteens in every community)."""
    _, _, plan = sample_plan
    assert _met_or_explained(plan).empty
    assert plan.rules_after["passed"].map(lambda v: v is True).all()
    kinds = set(plan.proposed["kind"])
    assert {"new", "centre", "canteen"} <= kinds


def test_sample_plan_with_national_rules_explains_what_it_cannot_plan(sample_plan):
    """jinwan + GB 50437 + Sichuan on the sample: the bed, land and staff rules are no
    spatial rules or lack data, each listed with its reason; beds rolled up by district."""
    s, net, _ = sample_plan
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        plan = cp.plan_layout(s.areas, s.facilities, s.candidates, net, verbose=False,
                              standard="jinwan-2020+gb50437-2018+sichuan-2020")
    nm = _met_or_explained(plan)
    cat = nm["category"].to_dict()
    assert cat["beds_per_1000_elderly"] == "not a spatial rule"
    assert cat["elderly_land_per_resident"] == "data missing"  # no population given
    assert cat["social_workers_elderly"] == "data missing"
    # by hand: the sample's only institution (F05, 150 beds) is in 秦淮区; 40 beds per 1,000
    # older people -> each district's need minus its beds
    eld = s.areas.groupby("district")["elderly"].sum()
    need = {d: max(0, -(-40 * int(e) // 1000) - (150 if d == "秦淮区" else 0))
            for d, e in eld.items()}
    row = plan.rules_after.set_index("rule_id").loc["beds_per_1000_elderly"]
    assert row["gap"] == sum(need.values())
    for d, g in need.items():
        if g:
            assert f"{d} {g}" in nm.loc["beds_per_1000_elderly", "reason"]
            assert f"{d} {g}" in nm.loc["beds_per_1000_elderly", "reason_zh"]
    assert "各区县缺口" in nm.loc["beds_per_1000_elderly", "reason_zh"]
