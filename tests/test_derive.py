"""careplan.derive on the shared Shenzhen Longgang, Nanjing and Shanghai extracts.

Values are checked against independent computations: block areas against
``shapely.node`` + ``polygonize`` of the same edges, households against footprints
measured on the ellipsoid (pyproj.Geod) by hand, candidates against the OSM XML
parsed with ElementTree.
"""

from __future__ import annotations

import warnings
import xml.etree.ElementTree as ET
from functools import cache
from pathlib import Path

import geopandas as gpd
import numpy as np
import pytest
import shapely
from pyproj import Geod

import careplan as cp
from careplan import derive
from careplan.io import buildings_from_osm

DATA = Path(__file__).resolve().parents[1].parent / "shared" / "data"
LONGGANG = DATA / "shenzhen_longgang" / "shenzhen_longgang_osmapi_2019.osm"
NANJING = DATA / "nanjing_xuanwu" / "nanjing_xuanwu_overpass_2021-06-12.osm"
SHANGHAI = DATA / "shanghai_center" / "shanghai_center_roads_overpass_2025-08-09.osm"

pytestmark = pytest.mark.skipif(not LONGGANG.exists(), reason="shared data not available")


@cache
def _net(path: Path) -> cp.WalkNetwork:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", cp.CareplanWarning)
        return cp.WalkNetwork.from_file(path)


@cache
def _buildings(path: Path) -> gpd.GeoDataFrame:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", cp.CareplanWarning)
        return buildings_from_osm(path)


# ----------------------------------------------------------------------------- blocks
@pytest.mark.parametrize("path", [LONGGANG, NANJING, SHANGHAI], ids=["longgang", "nanjing", "shanghai"])
def test_blocks_are_the_faces_of_the_network(path):
    net = _net(path)
    blocks = derive.blocks_from_network(net)
    # independent: node the edges with shapely.node, polygonize, compare the face areas
    noded = shapely.node(shapely.multilinestrings(net.edges.geometry.to_numpy()))
    faces = shapely.get_parts(shapely.polygonize(shapely.get_parts(noded)))
    np.testing.assert_allclose(np.sort(blocks["area_m2"].to_numpy()), np.sort(shapely.area(faces)),
                               rtol=1e-9, atol=1e-6)
    assert len(blocks) > 100 and blocks["kept"].sum() > 50
    assert blocks.index.is_unique and blocks.crs == net.crs
    # the labels follow the thresholds exactly, and faces never overlap
    kept = blocks[blocks["kept"]]
    assert kept["area_m2"].between(2_500, 300_000).all() and (kept["compactness"] >= 0.2).all()
    assert set(blocks["reason"]) <= {"kept", "too small", "too large", "too thin"}
    union = shapely.union_all(blocks.geometry.to_numpy())
    assert union.area == pytest.approx(blocks["area_m2"].sum(), rel=1e-9)


def _levels_by_hand(b):
    """levels tag, else height / 3 m rounded (>= 1), else 6 (estimate_households' documented rule)."""
    def num(col):
        if col not in b.columns:
            return np.full(len(b), np.nan)
        return np.array([float(str(v).split()[0]) if isinstance(v, str) else np.nan for v in b[col]])

    lv, h = num("building:levels"), num("height")
    return np.where(lv > 0, lv, np.where(h > 0, np.maximum(1, np.round(h / 3.0)), 6.0))


def test_areas_from_blocks_households_from_buildings_inside():
    net = _net(NANJING)
    blocks = derive.blocks_from_network(net)
    b = _buildings(NANJING)
    res = b[b["building"].isin(derive.RESIDENTIAL_BUILDINGS)]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", cp.CareplanWarning)
        areas = derive.areas_from_blocks(blocks, buildings=res)
    assert list(areas.index) == list(blocks.index[blocks["kept"]])
    # by hand: a building's households = footprint (ellipsoid) x levels x 0.9 / 90 m2,
    # rounded; a block holds the buildings whose representative point it contains
    geod = Geod(ellps="WGS84")
    levels = _levels_by_hand(res)
    foot = np.array([abs(geod.geometry_area_perimeter(g)[0]) for g in res.geometry])
    hh = np.rint(foot * levels * 0.9 / 90.0)
    pts = res.geometry.representative_point().to_crs(net.crs)
    expected = np.array([hh[pts.intersects(g).to_numpy()].sum() for g in areas.geometry])
    assert areas["households"].sum() > 1000
    np.testing.assert_allclose(areas["households"].to_numpy(), expected, rtol=0.01, atol=2)
    dens = derive.areas_from_blocks(blocks, households_per_ha=100)
    np.testing.assert_array_equal(dens["households"], np.rint(dens.geometry.area / 1e4 * 100))
    with pytest.raises(cp.InputError, match="exactly one"):
        derive.areas_from_blocks(blocks)


def test_areas_from_buildings_clusters_and_household_sums():
    b = _buildings(LONGGANG)
    types = derive.RESIDENTIAL_BUILDINGS + ("yes",)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", cp.CareplanWarning)
        areas = derive.areas_from_buildings(b, types=types, gap_m=30)
    sel = b[b["building"].isin(types)]
    assert areas["n_buildings"].sum() == len(sel)
    # clusters do not overlap and every building lies in the one containing it
    assert shapely.union_all(areas.geometry.to_numpy()).area == pytest.approx(areas.area.sum(), rel=1e-9)
    pts = sel.geometry.representative_point().to_crs(areas.crs)
    inside = np.array([[g.intersects(p) for g in areas.geometry] for p in pts])
    assert (inside.sum(axis=1) == 1).all()
    # by hand on the ellipsoid: households of each cluster = sum of rounded building estimates
    geod = Geod(ellps="WGS84")
    levels = _levels_by_hand(sel)
    hh = np.rint(np.array([abs(geod.geometry_area_perimeter(g)[0]) for g in sel.geometry])
                 * levels * 0.9 / 90.0)
    expected = inside.T.astype(float) @ hh
    np.testing.assert_allclose(areas["households"].to_numpy(), expected, rtol=0.01, atol=2)
    # buildings closer than gap_m share a cluster: two clusters are >= gap_m apart
    geoms = sel.to_crs(areas.crs).geometry.to_numpy()
    cl = inside.argmax(axis=1)
    for i in range(len(geoms)):
        near = shapely.distance(geoms[i], geoms) < 30 - 1e-6
        assert (cl[near] == cl[i]).all()


# ----------------------------------------------------------------------------- candidates
def _xml_candidates(path: Path):
    root = ET.parse(path).getroot()
    keep, excluded = set(), set()
    for el in root:
        if el.tag not in ("node", "way"):
            continue
        t = {x.get("k"): x.get("v") for x in el.iter("tag")}
        if not (t.get("amenity") in derive.CANDIDATE_AMENITIES
                or t.get("building") in derive.CANDIDATE_BUILDINGS):
            continue
        key = f"{el.tag}/{el.get('id')}"
        h = t.get("height")
        lv = t.get("building:levels")
        height = float(h.split()[0]) if h else (float(lv) * 3 if lv else np.nan)
        if t.get("building") in derive.EXCLUDED_BUILDINGS or height >= 100:
            excluded.add(key)
        else:
            keep.add(key)
    return keep, excluded


@pytest.mark.parametrize("path", [LONGGANG, NANJING], ids=["longgang", "nanjing"])
def test_candidates_from_osm_match_the_xml(path):
    net = _net(path)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", cp.CareplanWarning)
        c = derive.candidates_from_osm(path, crs=net.crs)
    keep, excluded = _xml_candidates(path)
    got = {i for i in c.index if not i.startswith("relation/")}
    assert got == keep and len(keep) > 10
    assert {i for i in c.attrs["careplan"]["excluded"] if not i.startswith("relation/")} == excluded
    assert c.crs == net.crs and (c.geom_type == "Point").all()
    assert not c["kind"].str.contains("commercial|office|industrial").any()


def test_no_candidates_in_a_roads_only_extract_and_road_candidates():
    net = _net(SHANGHAI)
    with pytest.warns(cp.CareplanWarning, match="road_candidates"):
        c = derive.candidates_from_osm(SHANGHAI, crs=net.crs)
    assert len(c) == 0 and c.attrs["careplan"]["no_candidates"] and c.crs == net.crs
    r = derive.road_candidates(net, spacing_m=200)
    # every point lies on a street, at most one per 200 m grid cell, all cells with a
    # street reached
    d = shapely.distance(r.geometry.to_numpy()[:, None],
                         shapely.union_all(net.edges.geometry.to_numpy()))
    assert float(np.max(d)) < 1e-6
    cells = np.floor(np.column_stack([r.geometry.x, r.geometry.y]) / 200)
    assert len(np.unique(cells, axis=0)) == len(r)
    assert r.index.is_unique and r.crs == net.crs
    with pytest.raises(cp.InputError, match="spacing_m"):
        derive.road_candidates(net, spacing_m=0)


@pytest.mark.parametrize("kw", [{"dwelling_m2": 1e-300}, {"dwelling_m2": float("nan")},
                                {"floor_height_m": float("inf")}, {"default_levels": 1e9},
                                {"occupancy": float("nan")}, {"dwelling_m2": True}])
def test_implausible_estimator_settings_refused(kw):
    b = _buildings(LONGGANG)
    with pytest.raises(cp.InputError, match=next(iter(kw))):
        cp.estimate_households(b.iloc[:2], **kw)


def test_implausible_derive_settings_refused():
    net = _net(LONGGANG)
    blocks = derive.blocks_from_network(net)
    with pytest.raises(cp.InputError, match="households_per_ha"):
        derive.areas_from_blocks(blocks, households_per_ha=1e300)
    with pytest.raises(cp.InputError, match="gap_m"):
        derive.areas_from_buildings(_buildings(LONGGANG), gap_m=float("inf"))
