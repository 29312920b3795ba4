"""examples/shanghai_case.py: the quick central-Shanghai run on the shared data.

One quick run (blocks within 3 km x 3 km of People's Square) is shared by the tests;
its figures are checked against independent computations from the raw CSV, pyproj,
shapely and straight-line distances (a lower bound of walking distances).
"""

from __future__ import annotations

import importlib.util
import math
import sys
import warnings
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely
from pyproj import Transformer

import careplan as cp

REPO = Path(__file__).resolve().parents[1]
DATA = REPO.parent / "shared" / "data"
OSM = DATA / "shanghai_center" / "shanghai_center_roads_overpass_2025-08-09.osm"
CSV = DATA / "shanghai_center" / "shanghai_elderly_care_orgs_iacc.csv"

pytestmark = pytest.mark.skipif(not (OSM.exists() and CSV.exists()),
                                reason="shared Shanghai data not available")


def _load_script():
    spec = importlib.util.spec_from_file_location("shanghai_case",
                                                  REPO / "examples" / "shanghai_case.py")
    mod = importlib.util.module_from_spec(spec)
    sys.modules["shanghai_case"] = mod
    spec.loader.exec_module(mod)
    return mod


@pytest.fixture(scope="module")
def sc():
    return _load_script()


@pytest.fixture(scope="module")
def net():
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        out = cp.WalkNetwork.from_file(OSM)
    msgs = " ".join(str(w.message) for w in caught)
    assert "not walkable" in msgs and "smaller disconnected component" in msgs
    return out


@pytest.fixture(scope="module")
def run(sc, tmp_path_factory):
    out = tmp_path_factory.mktemp("shanghai") / "plan"
    cp.set_quiet(True)
    try:
        res = sc.main(["--quick", "--data-dir", str(DATA), "--out", str(out), "--lang", "en"])
    finally:
        cp.set_quiet(False)
    res["out"] = out
    return res


def test_outputs_written(run):
    out = run["out"]
    for name in ("plan.gpkg", "report.html", "tables.xlsx", "map_before.png", "map_after.png",
                 "facilities_status.csv", "blocks.gpkg", "assumptions.md"):
        assert (out / name).stat().st_size > 0, name
    html = (out / "report.html").read_text(encoding="utf-8")
    # the case's assumptions reach the report, with the density figure actually used
    assert "case_households" in html and "89.4 households/ha" in html
    assert "OpenStreetMap" in html
    layers = set(gpd.list_layers(out / "plan.gpkg")["name"])
    assert {"areas", "existing_facilities", "proposed_stations"} <= layers
    areas = gpd.read_file(out / "plan.gpkg", layer="areas")
    assert len(areas) == len(run["areas"])
    st = gpd.read_file(out / "plan.gpkg", layer="proposed_stations")
    assert len(st) == len(run["plan"].proposed)


def test_every_area_compliant_after_or_reported(run):
    plan = run["plan"]
    a = plan.areas
    with_hh = a[a["households"] > 0]
    assert len(with_hh) > 100
    failing = set(with_hh.index[~with_hh["compliant_after"].fillna(False).astype(bool)])
    reported = set(run["unresolved_deficit_areas"]) | set(run["unreachable_areas"])
    assert failing <= reported
    # quick run without a budget: everything is resolved
    assert failing == set() and reported == set()
    # independent: 15 m2 per 100 households for existing estates (jinwan-2020)
    assert np.allclose(a["required_m2"], a["households"] * 15 / 100)
    assert (a["provided_after_m2"] >= a["required_m2"] - 1e-6).all()
    # the supply proposed adds exactly the deficit it removes: stations and expansions are
    # re-sized to their final allocation, and street/district centres (kind 'centre',
    # sized by their own rules) count with the share of their floor area allocated to areas
    alloc = plan.floor_area_allocation.groupby("facility_id")["floor_area_m2"].sum()
    prop = plan.proposed.set_index("station_id")
    centres = prop.index[prop["kind"] == "centre"]
    added = (prop.loc[prop["kind"] != "centre", "floor_area_m2"].sum()
             + alloc.reindex(centres).fillna(0.0).sum())
    removed = a["deficit_before_m2"].sum() - a["deficit_after_m2"].sum()
    assert added == pytest.approx(removed, abs=0.05 * len(plan.proposed))
    assert removed > 1000


def test_coverage_after_not_below_before(run):
    plan = run["plan"]
    a = plan.areas
    s = plan.summary.set_index("metric")
    before, after = run["households_covered_share"]
    assert after >= before
    assert (a["covered_after"] | ~a["covered_before"]).all()  # nobody loses cover
    # shares recomputed from the area table
    hh = a["households"].astype(float)
    assert before == pytest.approx(hh[a["covered_before"]].sum() / hh.sum())
    assert after == pytest.approx(hh[a["covered_after"]].sum() / hh.sum())
    assert s.at["households", "before"] == hh.sum()


def test_covered_means_a_facility_within_straight_line_reach(run):
    """Walking distance >= straight-line distance from the area: a covered area has a
    facility in the circle levels (or a proposed station) within 900 m as the crow flies
    (0 m for one inside the area's polygon, issue 14 item 10)."""
    plan = run["plan"]
    a = plan.areas
    fac = plan.existing[plan.existing["level"].isin(["district", "street", "community"])]
    pts = np.concatenate([fac.geometry.to_numpy(), plan.proposed.geometry.to_numpy()])
    d = shapely.distance(a.geometry.to_numpy()[:, None], pts[None, :]).min(axis=1)
    cutoff = plan.parameters["cutoff_m"]
    assert cutoff == pytest.approx(900)
    cov = a["covered_after"].to_numpy()
    assert (d[cov] <= cutoff + 1e-6).all()
    reported = a["nearest_distance_after_m"].to_numpy()
    assert (reported[cov] >= d[cov] - 1e-6).all()


def test_demand_recomputed_from_block_geometry(run, sc):
    areas, blocks = run["areas"], run["blocks"]
    ha = shapely.area(areas.geometry.to_numpy()) / 1e4
    hh_per_ha = 6_683_712 / 28_944 * (22_347_600 / 24_870_895) / 2.32
    assert hh_per_ha == pytest.approx(89.4, abs=0.05)
    assert np.abs(areas["households"].to_numpy() - ha * hh_per_ha).max() <= 0.5 + 1e-3 * ha.max()
    assert np.array_equal(areas["elderly"].to_numpy(),
                          np.rint(areas["households"].to_numpy() * 2.32 * 0.234).astype(int))
    # kept blocks obey the stated filter and do not overlap
    kept = blocks[blocks["kept"]]
    assert set(kept.index) == set(areas.index)
    assert ha.min() >= sc.MIN_BLOCK_HA and ha.max() <= sc.MAX_BLOCK_HA
    union = shapely.union_all(blocks.geometry.to_numpy())
    assert shapely.area(union) == pytest.approx(blocks.geometry.area.sum(), rel=1e-6)
    # every polygon is reported with a reason, none silently lost
    assert set(blocks["reason"]) <= {"kept", "too small", "too thin", "too large",
                                     "outside quick sub-area"}
    assert (blocks["reason"] == "kept").sum() == len(areas)


def test_facility_rows_all_reported(run):
    st = run["status"]
    raw = pd.read_csv(CSV, dtype={"id": str})
    assert len(st) == len(raw) == 72
    assert list(st["facility_id"]) == ["iacc-" + i for i in raw["id"]]
    no_xy = raw["lat_gcj02"].isna()
    other = ~no_xy & (raw["city"] != "上海")
    assert (st.loc[no_xy.to_numpy(), "reason"] == "no coordinates").all() and no_xy.sum() == 1
    assert (st.loc[other.to_numpy(), "reason"] == "other city").all() and other.sum() == 8
    used = st["used"].to_numpy()
    assert used.sum() == len(run["facilities"])
    assert set(st["reason"]) == {"used", "no coordinates", "other city", "outside study area"}
    assert set(st.loc[used, "facility_id"]) == set(run["facilities"].index)
    # the excluded rows reach the output file and the report's parameters
    on_disk = pd.read_csv(run["out"] / "facilities_status.csv")
    assert (on_disk["reason"] != "used").sum() == (~used).sum()
    assert "iacc-11" in run["plan"].parameters["case_facilities_excluded"]


def test_study_area_and_gcj02_conversion(run, net):
    st, fac = run["status"], run["facilities"]
    raw = pd.read_csv(CSV, dtype={"id": str}).set_index("id")
    crs = fac.crs
    tr = Transformer.from_crs(4326, crs, always_xy=True)
    ids = [i.removeprefix("iacc-") for i in fac.index]
    x, y = tr.transform(raw.loc[ids, "lng_wgs84_approx"].to_numpy(),
                        raw.loc[ids, "lat_wgs84_approx"].to_numpy())
    d = np.hypot(fac.geometry.x.to_numpy() - x, fac.geometry.y.to_numpy() - y)
    assert d.max() < 1.0  # careplan's GCJ-02 inverse vs the file's approximation (~1 m)
    # the raw GCJ-02 values are ~500 m off
    xg, yg = tr.transform(raw.loc[ids, "lng_gcj02"].to_numpy(), raw.loc[ids, "lat_gcj02"].to_numpy())
    off = np.hypot(fac.geometry.x.to_numpy() - xg, fac.geometry.y.to_numpy() - yg)
    assert (off > 300).all() and (off < 800).all()
    # in/out of the study area (hull of every street vertex), with the file's approximate
    # WGS84 columns projected by pyproj
    hull = shapely.convex_hull(shapely.multipoints(
        shapely.get_coordinates(net.edges.geometry.to_numpy())))
    sh = st[st["reason"].isin(["used", "outside study area"])]
    sid = [i.removeprefix("iacc-") for i in sh["facility_id"]]
    x, y = tr.transform(raw.loc[sid, "lng_wgs84_approx"].to_numpy(),
                        raw.loc[sid, "lat_wgs84_approx"].to_numpy())
    inside = shapely.contains_xy(hull, x, y)
    # points within a metre of the hull's edge could fall either way
    margin = shapely.distance(shapely.boundary(hull), shapely.points(x, y)) < 2
    assert np.array_equal(inside[~margin], sh["used"].to_numpy()[~margin])
    # the file's own bbox flag: every used row is in the bbox
    assert (raw.loc[sid, "in_shanghai_center_bbox"].to_numpy()[sh["used"].to_numpy()] == 1).all()


def test_level_mapping_and_assumed_sizes(run, sc):
    fac = run["facilities"]
    for fid, r in fac.iterrows():
        level, m2, beds, _ = sc.CATEGORY_LEVELS[r["category"]]
        assert r["level"] == level and r["floor_area_m2"] == m2 and r["beds"] == beds, fid
    assert set(sc.CATEGORY_LEVELS) >= set(pd.read_csv(CSV)["category"])


def test_road_candidates_spacing(sc, net):
    cand = sc.road_candidates(net, spacing_m=200.0)
    xy = shapely.get_coordinates(cand.geometry.to_numpy())
    cells = {(math.floor(a / 200.0), math.floor(b / 200.0)) for a, b in xy}
    assert len(cells) == len(cand)  # one per grid cell
    d = shapely.distance(shapely.union_all(net.edges.geometry.to_numpy()), cand.geometry.to_numpy())
    assert d.max() < 1e-6  # on the streets


def test_bad_arguments(sc, tmp_path):
    with pytest.raises(SystemExit) as e:
        sc.main(["--data-dir", str(tmp_path), "--out", str(tmp_path / "o")])
    assert "not found" in str(e.value)
    with pytest.raises(SystemExit) as e:
        sc.main(["--p", "-1"])
    assert e.value.code == 2
    assert not (tmp_path / "o").exists()
