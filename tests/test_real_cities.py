"""The real-city check of issue 12: Shenzhen Longgang and central Shanghai, with streets.

Each example (``examples/<city>/plan.toml``, inputs derived from the shared OSM by its
``build_inputs.py``) is planned through the config, as ``careplan plan`` does, and the
plan is held to the issue's contract, checked independently of the plan's own tables:

* every rule of the profile passes after the plan or is in ``rules_not_met`` with a
  category and a reason;
* no new station below the profile's (or the documented default) single-site minimum
  and no street centre below the street level's minimum, read from the profile with
  :func:`careplan.standards.site_limits`;
* every street (of the example's street polygons) holding households has the centres
  the profile requires, counted by a shapely loop over the facility points and the
  polygons, or the street-centre rule is listed with a reason;
* the areas' streets/districts equal a point-in-polygon loop over the example files.

About 20 s for both cities (reading the networks dominates).
"""

from __future__ import annotations

import warnings
from pathlib import Path

import geopandas as gpd
import numpy as np
import pytest
import shapely

import careplan as cp
from careplan.plan._file import plan_from_config, read_config
from careplan.standards import site_limits

REPO = Path(__file__).resolve().parents[1]
EXAMPLES = REPO / "examples"
SHARED = REPO.parent / "shared" / "data"
CITIES = {
    "shenzhen_longgang": SHARED / "shenzhen_longgang" / "shenzhen_longgang_osmapi_2019.osm",
    "shanghai_central": SHARED / "shanghai_center" / "shanghai_center_roads_overpass_2025-08-09.osm",
}
#: Rule kinds that set how many street centres each street needs.
CENTRE_KINDS = ("centre_per_town", "centres_per_street")


@pytest.fixture(scope="module", params=sorted(CITIES))
def city(request):
    name = request.param
    if not CITIES[name].exists():
        pytest.skip("shared data not available")
    cfg = EXAMPLES / name / "plan.toml"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", cp.CareplanWarning)
        plan, _ = plan_from_config(cfg)
    return name, read_config(cfg), plan


def _polygons(path: Path, crs) -> tuple[list, list]:
    g = gpd.read_file(path).to_crs(crs)
    return list(g["name"]), list(g.geometry)


def _owner(points, names, polys) -> list:
    """Name of the first polygon covering each point (None: none), one shapely call each."""
    out = []
    for p in points:
        out.append(next((n for n, poly in zip(names, polys, strict=True) if poly.covers(p)),
                        None))
    return out


def test_every_rule_passes_or_is_listed_with_a_reason(city):
    _, spec, plan = city
    after = plan.rules_after
    listed = plan.rules_not_met.set_index("rule_id")
    assert set(after["rule_id"]) == {r.id for r in spec.plan.standard.rules}
    for r in after.itertuples():
        if r.passed is True or r.passed == True:  # noqa: E712 - numpy/object booleans
            continue
        assert r.rule_id in listed.index, f"{r.rule_id} fails or is unchecked, not listed"
        row = listed.loc[r.rule_id]
        assert isinstance(row["reason"], str) and len(row["reason"].strip()) > 10, r.rule_id
        assert isinstance(row["category"], str) and row["category"].strip(), r.rule_id
    # nothing listed that passes
    passed = set(after.loc[after["passed"].astype(object).eq(True), "rule_id"])
    assert not passed & set(listed.index)


def test_no_site_below_the_minimum(city):
    _, spec, plan = city
    std = spec.plan.standard
    prop = plan.proposed
    new = prop[prop["kind"] == "new"]
    assert len(new) > 0
    lim = site_limits(std, "community", min_m2=spec.plan.min_station_floor_area_m2 or None)
    assert (new["floor_area_m2"] >= lim.min_m2 - 1e-6).all(), new["floor_area_m2"].min()
    # by hand: neither example's profiles set a community site minimum -> the documented
    # 200 m2 default; Jinwan task 3 sets the street centre's 500 m2
    assert lim.min_m2 == 200
    if lim.max_m2 is not None and np.isfinite(lim.max_m2):
        assert (new["floor_area_m2"] <= lim.max_m2 + 1e-6).all()
    centres = prop[prop["kind"] == "centre"]
    if len(centres):
        assert site_limits(std, "street").min_m2 == 500
        assert (centres["floor_area_m2"] >= 500 - 1e-6).all()


def test_each_street_has_its_centres_or_is_explained(city):
    name, spec, plan = city
    std = spec.plan.standard
    need = max([int(r.value) for k in CENTRE_KINDS for r in std.get(k) if "street" in r.levels],
               default=0)
    names, polys = _polygons(spec.inputs["streets"].path, plan.areas.crs)
    # the areas' street by an independent point-in-polygon loop
    areas = plan.areas.set_index("area_id", drop=False) if "area_id" in plan.areas else plan.areas
    pts = areas.geometry.representative_point()
    expect = _owner(pts, names, polys)
    assert [None if v is None or (isinstance(v, float) and np.isnan(v)) else v
            for v in areas["street"]] == expect
    # centres per street, facility points joined to the polygons by the same loop
    fac = plan.facilities.to_crs(plan.areas.crs)
    centre_streets = _owner(fac.geometry[fac["level"] == "street"], names, polys)
    listed = set(plan.rules_not_met["kind"])
    with_households = {s for s, hh in zip(expect, areas["households"], strict=True)
                       if s is not None and hh > 0}
    assert with_households, name
    for street in sorted(with_households):
        have = centre_streets.count(street)
        assert have >= need or listed & set(CENTRE_KINDS), (street, have, need)
    if need:  # the examples have candidates in every street: no shortfall is left
        assert all(centre_streets.count(s) >= need for s in with_households), name


def test_districts_and_what_lies_outside(city):
    name, spec, plan = city
    if "districts" not in spec.inputs:
        assert "district: no polygons" in plan.parameters["boundaries"]
        return
    names, polys = _polygons(spec.inputs["districts"].path, plan.areas.crs)
    pts = plan.areas.geometry.representative_point()
    assert list(plan.areas["district"]) == _owner(pts, names, polys)
    assert f"district: {len(names)} polygon(s)" in plan.parameters["boundaries"]


@pytest.mark.skipif(not CITIES["shenzhen_longgang"].exists(), reason="shared data not available")
def test_longgang_district_is_cut_by_the_real_border_way():
    """districts.geojson = the example box east of OSM way 318806388 (Shenzhen-Dongguan)."""
    import xml.etree.ElementTree as ET

    root = ET.parse(CITIES["shenzhen_longgang"]).getroot()
    nodes = {n.get("id"): (float(n.get("lon")), float(n.get("lat"))) for n in root.iter("node")}
    way = next(w for w in root.iter("way") if w.get("id") == "318806388")
    tags = {t.get("k"): t.get("v") for t in way.iter("tag")}
    assert tags.get("boundary") == "administrative"
    border = shapely.LineString([nodes[nd.get("ref")] for nd in way.iter("nd")])
    folder = EXAMPLES / "shenzhen_longgang"
    box = gpd.read_file(folder / "streets.geojson").union_all().envelope
    district = gpd.read_file(folder / "districts.geojson")
    assert list(district["name"]) == ["龙岗区"]
    d = district.geometry.iloc[0]
    # the district's western edge follows the border: every border vertex inside the box
    # lies on the district's boundary (within ~1 cm)
    inside = [shapely.Point(c) for c in border.coords if box.contains(shapely.Point(c))]
    assert len(inside) > 3
    assert max(d.boundary.distance(p) for p in inside) < 1e-7
    assert d.area < box.area  # the Dongguan strip is left out


def test_shanghai_streets_are_the_documented_grid():
    """streets.geojson = four 1 km x 1 km cells around People's Square (by hand)."""
    folder = EXAMPLES / "shanghai_central"
    utm = "EPSG:32651"
    g = gpd.read_file(folder / "streets.geojson").to_crs(utm).set_index("name")
    assert sorted(g.index) == sorted(["示例街道西南", "示例街道东南", "示例街道西北", "示例街道东北"])
    centre = gpd.GeoSeries([shapely.Point(121.4737, 31.2304)], crs="EPSG:4326").to_crs(utm)[0]
    for name, (dx, dy) in {"示例街道西南": (-1, -1), "示例街道东南": (0, -1),
                           "示例街道西北": (-1, 0), "示例街道东北": (0, 0)}.items():
        cell = shapely.box(centre.x + dx * 1000, centre.y + dy * 1000,
                           centre.x + (dx + 1) * 1000, centre.y + (dy + 1) * 1000)
        # the file holds 1e-7 degree coordinates (~1 cm) in EPSG:4326
        assert g.geometry[name].symmetric_difference(cell).area < 100.0, name
