"""Street / district boundaries: reading, the spatial join, OSM relations, the plan's use.

Every value is compared with an independent computation: shapely predicates looped one
record at a time (the spatial join), hand-computed areas (merged and OSM polygons), the
raw XML counted with ElementTree (the clipped Longgang relation).
"""

from __future__ import annotations

import warnings
import xml.etree.ElementTree as ET
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely

import careplan as cp
from careplan import data
from careplan._errors import CRSError, InputError
from careplan.io.boundaries import OSM_ADMIN_LEVELS, assign_boundaries, boundaries_from_osm

REPO = Path(__file__).resolve().parents[1]
LONGGANG = REPO.parent / "shared" / "data" / "shenzhen_longgang" / "shenzhen_longgang_osmapi_2019.osm"
UTM = "EPSG:32650"


def _quiet(fn, *a, **k):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", cp.CareplanWarning)
        return fn(*a, **k)


def _two_streets(crs=UTM):
    """Street A = [0, 100] x [0, 100], street B = [100, 200] x [0, 100] (metres)."""
    return gpd.GeoDataFrame({"街道": ["A街道", "B街道"]},
                            geometry=[shapely.box(0, 0, 100, 100), shapely.box(100, 0, 200, 100)],
                            crs=crs)


# ----------------------------------------------------------------------------- reading
def test_read_boundaries_gbk_geojson_chinese_header_reprojected(tmp_path):
    wgs = _two_streets().to_crs("EPSG:4326")
    path = tmp_path / "街道.geojson"
    wgs.to_file(path, driver="GeoJSON")
    # a GBK file, as a Chinese Windows GIS writes it
    path.write_bytes(path.read_text(encoding="utf-8").encode("gbk"))
    with pytest.warns(cp.CareplanWarning) as rec:
        b = data.read_boundaries(path)
    msgs = " ".join(str(w.message) for w in rec)
    assert "reprojected" in msgs and "'街道' as 'street'" in msgs
    assert list(b.index) == ["A街道", "B街道"] == list(b["name"]) == list(b["boundary_id"])
    assert (b["level"] == "street").all() and b.crs.is_projected
    # same polygons as the source, within a millimetre after the round trip
    back = b.to_crs(UTM)
    for name, box in zip(["A街道", "B街道"], _two_streets().geometry, strict=True):
        assert back.geometry[name].symmetric_difference(box).area < 1e-3


def test_read_boundaries_csv_wkt_district_level_and_name_col(tmp_path):
    path = tmp_path / "区.csv"
    rows = ["区名,人口,WKT"] + [f'{n},{p},"{g.wkt}"' for n, p, g in
                                zip(["玄武区", "秦淮区"], [1, 2], _two_streets().geometry, strict=True)]
    path.write_text("\n".join(rows), encoding="utf-8")
    b = _quiet(data.read_boundaries, path, level="district", src_crs=UTM)
    assert list(b.index) == ["玄武区", "秦淮区"] and (b["level"] == "district").all()
    b2 = _quiet(data.read_boundaries, path, level="street", name_col="人口", src_crs=UTM)
    assert list(b2.index) == ["1", "2"]
    with pytest.raises(InputError, match="name_col='nope' not found"):
        _quiet(data.read_boundaries, path, name_col="nope", src_crs=UTM)


def test_read_boundaries_reads_back_what_it_wrote_and_refuses_nothing(tmp_path):
    b = _quiet(data.read_boundaries, _two_streets())
    b.to_file(tmp_path / "b.gpkg")  # keeps boundary_id, name, level
    again = data.read_boundaries(tmp_path / "b.gpkg")
    assert list(again.index) == list(b.index) and list(again["level"]) == ["street"] * 2
    with pytest.raises(InputError, match="no records; give at least one polygon"):
        data.read_boundaries(b.iloc[:0])


def test_read_boundaries_merges_a_name_drawn_twice():
    g = gpd.GeoDataFrame({"name": ["甲", "乙", "甲"]},
                         geometry=[shapely.box(0, 0, 10, 10), shapely.box(10, 0, 20, 10),
                                   shapely.box(50, 50, 60, 70)], crs=UTM)
    with pytest.warns(cp.CareplanWarning, match="merged"):
        b = data.read_boundaries(g)
    assert list(b.index) == ["甲", "乙"]
    assert b.geometry["甲"].area == pytest.approx(100 + 200)  # 10x10 + 10x20, by hand
    assert b.attrs["careplan"]["merged_names"] == ["甲"]
    assert len(g) == 3  # input untouched


@pytest.mark.parametrize("bad, match", [
    ("noname", "have no name in column 'name' \\(data rows 2\\)"),
    ("points", "geometry type\\(s\\) \\['Point'\\] not allowed"),
    ("nocol", "no column names the streets"),
    ("level", "level must be one of street, district"),
    ("control", "control or invisible characters"),
])
def test_read_boundaries_bad_input_one_line(bad, match):
    g = gpd.GeoDataFrame({"name": ["甲", "乙"]},
                         geometry=[shapely.box(0, 0, 10, 10), shapely.box(10, 0, 20, 10)], crs=UTM)
    kw = {}
    if bad == "noname":
        g.loc[g.index[1], "name"] = "  "
    elif bad == "points":
        g = g.set_geometry(g.geometry.centroid)
    elif bad == "nocol":
        g = g.rename(columns={"name": "label"})
    elif bad == "level":
        kw["level"] = "province"
    elif bad == "control":
        g.loc[g.index[0], "name"] = "甲\x00"
    with pytest.raises(InputError, match=match) as e:
        data.read_boundaries(g, **kw)
    assert "\n" not in str(e.value)


# ----------------------------------------------------------------------------- spatial join
def _brute_force(points, polys, names):
    """First polygon (in order) covering each point, looped with shapely one by one."""
    out = []
    for p in points:
        hit = [n for poly, n in zip(polys, names, strict=True) if poly.covers(p)]
        out.append((hit[0] if hit else None, len(hit)))
    return out


def test_assign_boundaries_matches_brute_force_and_reports():
    streets = _quiet(data.read_boundaries, _two_streets())
    areas = gpd.GeoDataFrame(
        {"area_id": ["in_a", "in_b", "edge", "outside", "own", "blank"],
         "street": [None, None, None, None, "X街道", " "]},
        geometry=[shapely.box(10, 10, 30, 30), shapely.Point(150, 50), shapely.Point(100, 50),
                  shapely.Point(500, 500), shapely.Point(50, 50), shapely.Point(160, 20)],
        crs=UTM).set_index("area_id", drop=False)
    areas.index.name = None
    with pytest.warns(cp.CareplanWarning) as rec:
        got = assign_boundaries(areas, streets)
    msgs = " ".join(str(w.message) for w in rec)
    expect = _brute_force(areas.geometry.representative_point(), list(streets.geometry),
                          list(streets["name"]))
    for aid, (name, _n) in zip(areas.index, expect, strict=True):
        if aid == "own":
            assert got.at[aid, "street"] == "X街道"  # its own value wins
        else:
            assert got.at[aid, "street"] == name, aid
    assert expect[2] == ("A街道", 2)  # the shared edge: both cover it, the first wins
    meta = got.attrs["careplan"]
    assert meta["outside_street"] == ["outside"] and meta["ambiguous_street"] == ["edge"]
    assert meta["own_street_differs"] == ["own"]
    assert meta["street_source"] == {"own": 1, "polygon": 4, "none": 1}
    assert "'outside'" in msgs and "own value wins" in msgs
    assert list(got.index) == list(areas.index)  # nothing dropped
    assert pd.isna(areas["street"].iloc[0]) and "in_a" in areas.index  # input untouched


def test_assign_boundaries_crs_guard():
    streets = _quiet(data.read_boundaries, _two_streets())
    pts = gpd.GeoDataFrame(geometry=[shapely.Point(1, 1)], crs="EPSG:32651")
    with pytest.raises(CRSError, match="differs from the CRS of areas"):
        assign_boundaries(pts, streets)


# ----------------------------------------------------------------------------- OSM relations
_OSM = """<?xml version='1.0' encoding='UTF-8'?>
<osm version="0.6">
{nodes}
  <way id="1"><nd ref="1"/><nd ref="2"/><nd ref="3"/></way>
  <way id="2"><nd ref="3"/><nd ref="4"/><nd ref="1"/></way>
  <way id="3"><nd ref="5"/><nd ref="6"/><nd ref="7"/><nd ref="8"/><nd ref="5"/></way>
  <relation id="10">
    <member type="way" ref="1" role="outer"/><member type="way" ref="2" role="outer"/>
    <member type="way" ref="3" role="inner"/>
    <tag k="boundary" v="administrative"/><tag k="admin_level" v="8"/>
    <tag k="name" v="测试街道"/><tag k="name:en" v="Test Street"/>
  </relation>
  <relation id="11">
    <member type="way" ref="1" role="outer"/><member type="way" ref="99" role="outer"/>
    <tag k="boundary" v="administrative"/><tag k="admin_level" v="8"/><tag k="name" v="被裁街道"/>
  </relation>
  <relation id="12">
    <member type="way" ref="1" role="outer"/><member type="way" ref="2" role="outer"/>
    <tag k="boundary" v="administrative"/><tag k="admin_level" v="6"/><tag k="name" v="某区"/>
  </relation>
</osm>
"""


def test_boundaries_from_osm_closed_with_hole_and_clipped(tmp_path):
    # outer square 0.01 deg, inner square 0.002 deg, near Shenzhen
    lon0, lat0 = 114.2, 22.68
    pts = {1: (0, 0), 2: (0.01, 0), 3: (0.01, 0.01), 4: (0, 0.01),
           5: (0.004, 0.004), 6: (0.006, 0.004), 7: (0.006, 0.006), 8: (0.004, 0.006)}
    nodes = "\n".join(f'  <node id="{i}" lat="{lat0 + y}" lon="{lon0 + x}"/>'
                      for i, (x, y) in pts.items())
    path = tmp_path / "admin.osm"
    path.write_text(_OSM.format(nodes=nodes), encoding="utf-8")
    with pytest.warns(cp.CareplanWarning, match="被裁街道 \\(relation/11\\): clipped"):
        b = boundaries_from_osm(path, crs=UTM)
    assert list(b.index) == ["测试街道"] and b.at["测试街道", "osm_id"] == "relation/10"
    assert b.at["测试街道", "name_en"] == "Test Street" and b.at["测试街道", "admin_level"] == 8
    # independent: the same rings built by hand, projected by geopandas
    outer = shapely.Polygon([(lon0 + x, lat0 + y) for x, y in (pts[1], pts[2], pts[3], pts[4])])
    inner = shapely.Polygon([(lon0 + x, lat0 + y) for x, y in (pts[5], pts[6], pts[7], pts[8])])
    hand = gpd.GeoSeries([outer.difference(inner)], crs="EPSG:4326").to_crs(UTM).iloc[0]
    assert b.geometry.iloc[0].symmetric_difference(hand).area < 1e-3 * hand.area
    assert len(b.geometry.iloc[0].interiors) == 1
    assert b.attrs["careplan"]["open_relations"] == [
        {"osm_id": "relation/11", "name": "被裁街道",
         "reason": "clipped by the extract: 1 member way(s) absent, 0 with nodes absent"}]
    d = _quiet(boundaries_from_osm, path, level="district", crs=UTM)
    assert list(d.index) == ["某区"] and OSM_ADMIN_LEVELS["district"] == 6
    assert d.geometry.iloc[0].area == pytest.approx(
        gpd.GeoSeries([outer], crs="EPSG:4326").to_crs(UTM).iloc[0].area)


@pytest.mark.skipif(not LONGGANG.exists(), reason="shared data not available")
def test_longgang_street_relation_is_clipped_and_reported():
    with warnings.catch_warnings(record=True) as rec:
        warnings.simplefilter("always")
        b = boundaries_from_osm(LONGGANG)
    msgs = [str(w.message) for w in rec]
    assert any("凤岗镇" in m and "do not close" in m for m in msgs)
    assert any("no closed admin_level=8" in m for m in msgs)
    assert len(b) == 0 and list(b.columns[:3]) == ["boundary_id", "name", "level"]
    # independent count from the raw XML: member ways of the admin_level=8 relation absent
    root = ET.parse(LONGGANG).getroot()
    ways = {w.get("id") for w in root.iter("way")}
    rels = [r for r in root.iter("relation")
            if {t.get("k"): t.get("v") for t in r.iter("tag")}.get("admin_level") == "8"]
    absent = sum(m.get("ref") not in ways for m in rels[0].iter("member") if m.get("type") == "way")
    (o,) = b.attrs["careplan"]["open_relations"]
    assert o["osm_id"] == f"relation/{rels[0].get('id')}" and o["name"].startswith("凤岗镇")
    assert f"{absent} member way(s) absent" in o["reason"] and absent > 0


# ----------------------------------------------------------------------------- the plan
@pytest.fixture(scope="module")
def sample():
    return _quiet(cp.datasets.load_sample)


def _halves(areas, names=("东街道", "西街道")):
    x0, y0, x1, y1 = areas.total_bounds
    xm = float(np.median(areas.geometry.representative_point().x))
    return gpd.GeoDataFrame({"街道": list(names)},
                            geometry=[shapely.box(xm, y0 - 10, x1 + 10, y1 + 10),
                                      shapely.box(x0 - 10, y0 - 10, xm, y1 + 10)], crs=areas.crs)


def test_prepare_gives_areas_candidates_facilities_their_street(sample, tmp_path):
    from careplan.plan import PlanConfig
    from careplan.plan._steps import prepare

    net = _quiet(cp.WalkNetwork.from_file, sample.network_path)
    streets = _halves(sample.areas)
    path = tmp_path / "streets.gpkg"
    streets.to_crs("EPSG:4326").to_file(path)
    for src in (streets, path):
        inp = _quiet(prepare, sample.areas, sample.facilities, sample.candidates, net,
                     PlanConfig(), streets=src)
        for what, g in (("areas", inp.areas), ("candidates", inp.candidates),
                        ("facilities", inp.facilities)):
            expect = [n for n, _ in _brute_force(g.geometry.representative_point(),
                                                 list(streets.geometry), list(streets["街道"]))]
            assert g["street"].tolist() == expect, what
        assert "street: 2 polygon(s)" in inp.boundaries_note
        assert "hold no area" not in inp.boundaries_note
        assert "street" not in sample.areas.columns  # the input is not changed
    far = gpd.GeoDataFrame({"街道": ["远街道"]}, geometry=[shapely.box(0, 0, 10, 10)],
                           crs=streets.crs)
    inp = _quiet(prepare, sample.areas, None, None, net, PlanConfig(),
                 streets=gpd.pd.concat([streets, far]))
    assert "1 polygon(s) hold no area and are not planned: 远街道" in inp.boundaries_note
    bad = streets.to_crs("EPSG:4326")
    with pytest.raises(CRSError, match="street boundaries"):
        prepare(sample.areas, sample.facilities, sample.candidates, net, PlanConfig(),
                streets=bad)
    with pytest.raises(InputError, match="GeoDataFrame of polygons or a file path"):
        prepare(sample.areas, None, None, net, PlanConfig(), streets=42)


def test_config_inputs_streets_reach_the_plan(sample, tmp_path):
    """[inputs.streets] of a config: read, reprojected to the network's CRS and joined;
    every street of the areas has its centre (jinwan: one per town) or is listed."""
    from careplan.plan._file import plan_from_config, read_config

    streets = _halves(sample.areas, names=("一街", "二街"))
    streets.to_crs("EPSG:4326").to_file(tmp_path / "streets.geojson", driver="GeoJSON")
    gpkg = REPO / "src" / "careplan" / "datasets" / "sample.gpkg"
    cfg = tmp_path / "plan.toml"
    cfg.write_text(
        f'[inputs.areas]\npath = "{gpkg.as_posix()}"\nlayer = "areas"\n'
        f'[inputs.facilities]\npath = "{gpkg.as_posix()}"\nlayer = "facilities"\n'
        f'[inputs.candidates]\npath = "{gpkg.as_posix()}"\nlayer = "candidates"\n'
        f'[inputs.network]\npath = "{Path(sample.network_path).as_posix()}"\n'
        '[inputs.streets]\npath = "streets.geojson"\nname_col = "街道"\n'
        '[plan]\nstandard = "jinwan-2020"\n', encoding="utf-8")
    spec = read_config(cfg)
    assert set(spec.inputs) >= {"streets"} and spec.inputs["streets"].options == {
        "name_col": "街道"}
    plan, _ = _quiet(plan_from_config, cfg)
    expect = [n for n, _ in _brute_force(sample.areas.geometry.representative_point(),
                                         list(streets.geometry), list(streets["街道"]))]
    got = plan.areas.set_index("area_id")["street"] if "area_id" in plan.areas else \
        plan.areas["street"]
    assert got.reindex(sample.areas.index).tolist() == expect
    # contract: every street has its centre after the plan (jinwan: one per town, >= 500 m2)
    # or the rule is listed as not met
    centres = plan.facilities[plan.facilities["level"] == "street"]
    listed = set(plan.rules_not_met["kind"]) if plan.rules_not_met is not None else set()
    for street in set(expect):
        n = int((centres["street"] == street).sum())
        assert n >= 1 or "centre_per_town" in listed, street
    assert "street: 2 polygon(s); areas by polygon 42" in plan.parameters["boundaries"]
    cfg.write_text(cfg.read_text(encoding="utf-8").replace('name_col = "街道"',
                                                           'level = "district"'),
                   encoding="utf-8")
    with pytest.raises(InputError, match=r"\[inputs.streets\]: unknown key\(s\) \['level'\]"):
        read_config(cfg)
