"""Tests for careplan.datasets: the bundled sample loads, is consistent and is reproducible."""

from __future__ import annotations

import bz2
import importlib.util
import warnings
import xml.etree.ElementTree as ET
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest

import careplan as cp
from careplan.data import BUILT_VALUES, FACILITY_LEVELS

REPO = Path(__file__).resolve().parents[1]
NANJING_OSM = REPO.parent / "shared" / "data" / "nanjing_xuanwu" / "nanjing_xuanwu_overpass_2021-06-12.osm"
PKG = Path(cp.datasets.__file__).resolve().parent


@pytest.fixture(scope="module")
def sample():
    with warnings.catch_warnings():
        warnings.simplefilter("error", cp.CareplanWarning)  # shipped data needs no fixing
        return cp.datasets.load_sample()


def test_available_and_paths():
    assert cp.datasets.available() == ["nanjing_xuanwu"]
    p = cp.datasets.path("nanjing_xuanwu")
    assert p.exists() and p.parent == PKG
    with pytest.raises(cp.InputError, match="nanjing_xuanwu"):
        cp.datasets.path("atlantis")
    with pytest.raises(cp.InputError):
        cp.datasets.load_sample("atlantis")


def test_sample_is_frozen_and_self_contained(sample):
    assert sample.name == "nanjing_xuanwu"
    with pytest.raises(AttributeError):
        sample.name = "x"
    # everything comes from inside the installed package, nothing from ../shared
    assert sample.network_path.parent == PKG and sample.network_path.exists()
    assert "© OpenStreetMap contributors" in sample.attribution
    assert "illustrative" in sample.description.lower()
    total = sum(f.stat().st_size for f in PKG.iterdir() if f.is_file())
    assert total < 2_000_000


def test_areas_consistent(sample):
    a = sample.areas
    assert a.crs.is_projected and a.crs.to_epsg() == 32650
    assert 15 <= len(a) <= 60
    assert a.index.is_unique and list(a.index) == list(a["area_id"])
    assert a["households"].dtype == np.int64 and (a["households"] >= 0).all()
    assert (a["elderly"] >= 0).all()
    # elderly = round(households x 0.47) as documented
    np.testing.assert_array_equal(a["elderly"], np.rint(a["households"] * 0.47).astype(np.int64))
    assert set(a["built"]) <= set(BUILT_VALUES) and {"new", "existing"} == set(a["built"])
    assert set(a["district"]) == {"玄武区", "秦淮区", "鼓楼区"}
    assert a.geometry.is_valid.all() and a.geom_type.isin(["Polygon", "MultiPolygon"]).all()
    # areas do not overlap (so containment-based compliance does not double count)
    inter = gpd.overlay(a[["area_id", "geometry"]], a[["area_id", "geometry"]].rename(columns={"area_id": "b"}),
                        how="intersection", keep_geom_type=True)
    inter = inter[inter["area_id"] != inter["b"]]
    assert inter.area.max() < 1.0  # only slivers from rounding coordinates to 1 cm
    # 11 landuse=residential polygons of the OSM extract are all areas
    assert (a["source"] == "osm landuse=residential").sum() == 11
    # households are plausible for the estimator: residential floor area x 0.9 / 90
    est = a["residential_floor_area_m2"] * 0.9 / 90.0
    assert np.all(np.abs(a["households"] - est) <= a["n_buildings"] * 0.5 + 1e-6)


def test_facilities_and_candidates(sample):
    f = sample.facilities
    assert f.crs == sample.areas.crs and f.index.is_unique
    assert set(f["level"]) <= set(FACILITY_LEVELS)
    assert (f["source"] == "illustrative").all()
    assert (f["nursing_beds"] <= f["beds"]).all() and (f["floor_area_m2"] >= 0).all()
    assert (f.geom_type == "Point").all()
    c = sample.candidates
    assert 50 <= len(c) <= 200 and c.index.is_unique
    assert (c.geom_type == "Point").all() and (c["max_floor_area_m2"] > 0).all()
    # candidates are spread out: at most one per 250 m grid cell
    cells = pd.Series([(int(p.x // 250), int(p.y // 250)) for p in c.geometry])
    assert cells.is_unique


def test_network_file_is_the_osm_extract(sample):
    with bz2.open(sample.network_path, "rb") as fh:
        data = fh.read()
    root = ET.fromstring(data)
    assert root.tag == "osm"
    n_highways = sum(1 for w in root.iter("way") if any(t.get("k") == "highway" for t in w.iter("tag")))
    assert n_highways > 300
    if NANJING_OSM.exists():
        assert data == NANJING_OSM.read_bytes()


def test_readme_attribution():
    text = (PKG / "README.md").read_text(encoding="utf-8")
    assert "© OpenStreetMap contributors" in text and "ODbL" in text and "illustrative" in text


def test_build_sample_reproduces_shipped_data(tmp_path):
    if not NANJING_OSM.exists():
        pytest.skip("shared data not available")
    spec = importlib.util.spec_from_file_location("build_sample", REPO / "examples" / "build_sample.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    mod.build(NANJING_OSM, tmp_path)
    for layer in ("areas", "facilities", "candidates"):
        new = gpd.read_file(tmp_path / "sample.gpkg", layer=layer)
        old = gpd.read_file(PKG / "sample.gpkg", layer=layer)
        pd.testing.assert_frame_equal(pd.DataFrame(new.drop(columns="geometry")),
                                      pd.DataFrame(old.drop(columns="geometry")))
        assert new.geometry.geom_equals_exact(old.geometry, tolerance=1e-6).all(), layer
    assert (tmp_path / "nanjing_xuanwu.osm.bz2").read_bytes() == (PKG / "nanjing_xuanwu.osm.bz2").read_bytes()
