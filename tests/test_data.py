"""Tests for careplan.data and careplan._crs: readers, validation, CRS, households."""

from __future__ import annotations

import warnings
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
from pyproj import Geod
from shapely.geometry import LineString, Point, Polygon, box

import careplan as cp
from careplan import _crs
from careplan.data import (
    FACILITY_LEVELS,
    aggregate_households,
    buildings_from_osm,
    estimate_households,
    landuse_from_osm,
    read_areas,
    read_candidates,
    read_facilities,
    read_households,
)

DATA = Path(__file__).resolve().parents[1].parent / "shared" / "data"
NANJING_OSM = DATA / "nanjing_xuanwu" / "nanjing_xuanwu_overpass_2021-06-12.osm"
IACC_CSV = DATA / "shanghai_center" / "shanghai_elderly_care_orgs_iacc.csv"
UTM = "EPSG:32650"


# ----------------------------------------------------------------------------- fixtures
def areas_gdf(**overrides) -> gpd.GeoDataFrame:
    data = {
        "area_id": ["a1", "a2", "a3"],
        "households": [1200, 800, 0],
        "built": ["new", "existing", "existing"],
        "note": ["x", "y", "z"],
    }
    data.update(overrides)
    geoms = [box(0, 0, 100, 100), box(100, 0, 200, 100), box(0, 100, 100, 200)]
    return gpd.GeoDataFrame(data, geometry=geoms, crs=UTM)


def facilities_gdf(**overrides) -> gpd.GeoDataFrame:
    data = {
        "facility_id": ["f1", "f2"],
        "level": ["community", "institution"],
        "floor_area_m2": [200.0, 1500.0],
        "beds": [0, 100],
        "nursing_beds": [0, 60],
    }
    data.update(overrides)
    return gpd.GeoDataFrame(data, geometry=[Point(50, 50), Point(150, 50)], crs=UTM)


def _raises_naming(exc, fn, *names):
    with pytest.raises(exc) as info:
        fn()
    for n in names:
        assert n in str(info.value), (n, str(info.value))
    return info.value


# ----------------------------------------------------------------------------- offsets
def test_gcj02_round_trip_random_points_in_china():
    rng = np.random.default_rng(0)
    lon = rng.uniform(100, 125, 500)
    lat = rng.uniform(20, 45, 500)
    g = _crs.wgs84_to_gcj02(lon, lat)
    # the offset is real (hundreds of metres) ...
    assert np.abs(g[0] - lon).max() > 1e-3
    back = _crs.gcj02_to_wgs84(*g)
    # ... and the iterative inverse recovers WGS84 to < 1e-8 deg (~1 mm)
    assert np.abs(back[0] - lon).max() < 1e-8
    assert np.abs(back[1] - lat).max() < 1e-8


def test_bd09_round_trip_and_composition():
    rng = np.random.default_rng(1)
    lon = rng.uniform(100, 125, 200)
    lat = rng.uniform(20, 45, 200)
    b = _crs.wgs84_to_bd09(lon, lat)
    g = _crs.wgs84_to_gcj02(lon, lat)
    np.testing.assert_allclose(_crs.bd09_to_gcj02(*b), g, atol=1e-9)
    np.testing.assert_allclose(_crs.bd09_to_wgs84(*b), (lon, lat), atol=1e-8)
    # BD-09 is GCJ-02 shifted by roughly (+0.0065, +0.006) degrees
    assert np.all(np.abs(b[0] - g[0] - 0.0065) < 0.001)


def test_outside_china_unchanged():
    lon, lat = np.array([-122.3, 2.35]), np.array([37.8, 48.85])
    g = _crs.wgs84_to_gcj02(lon, lat)
    np.testing.assert_array_equal(g[0], lon)
    np.testing.assert_array_equal(_crs.gcj02_to_wgs84(lon, lat)[1], lat)


def test_gcj02_against_published_pairs():
    if not IACC_CSV.exists():
        pytest.skip("shared data not available")
    d = pd.read_csv(IACC_CSV).dropna(subset=["lat_gcj02", "lng_gcj02"])
    lon, lat = _crs.gcj02_to_wgs84(d["lng_gcj02"], d["lat_gcj02"])
    geod = Geod(ellps="WGS84")
    _, _, dist = geod.inv(lon, lat, d["lng_wgs84_approx"], d["lat_wgs84_approx"])
    assert len(d) >= 70
    assert np.max(dist) < 1.0  # metres (the CSV keeps 6 decimals, ~0.1 m)
    # and the forward transform maps the published WGS84 back to the GCJ pair
    f = _crs.wgs84_to_gcj02(d["lng_wgs84_approx"], d["lat_wgs84_approx"])
    _, _, dist2 = geod.inv(f[0], f[1], d["lng_gcj02"], d["lat_gcj02"])
    assert np.max(dist2) < 1.0


def test_reader_converts_gcj02_and_bd09():
    wgs = pd.DataFrame({"facility_id": ["p", "q"], "lon": [118.78, 121.47], "lat": [32.04, 31.23],
                        "level": "community", "floor_area_m2": 100.0})
    ref = read_facilities(wgs, crs=UTM)
    for system, fwd in (("gcj02", _crs.wgs84_to_gcj02), ("bd09", _crs.wgs84_to_bd09)):
        lon, lat = fwd(wgs["lon"], wgs["lat"])
        off = wgs.assign(lon=lon, lat=lat)
        raw = read_facilities(off, crs=UTM)
        assert raw.geometry.distance(ref.geometry).min() > 100  # the offset matters
        conv = read_facilities(off, crs=UTM, coord_system=system)
        assert conv.geometry.distance(ref.geometry).max() < 0.01
        assert conv.attrs["careplan"]["converted_from"] == system


def test_coord_system_on_projected_data_is_crs_error():
    with pytest.raises(cp.CRSError, match="coord_system"):
        read_areas(areas_gdf(), coord_system="gcj02")
    with pytest.raises(cp.InputError, match="coord_system"):
        read_areas(areas_gdf(), coord_system="wgs-84")


# ----------------------------------------------------------------------------- areas
def test_read_areas_normalises_and_indexes_by_id():
    src = areas_gdf(area_id=[1, 2, 3], built=["新建", "老旧", "既有"])
    before = src.copy()
    out = read_areas(src)
    assert list(out.index) == ["1", "2", "3"] and out.index.name is None
    assert list(out["area_id"]) == ["1", "2", "3"]
    assert out["households"].dtype == np.int64
    assert list(out["built"]) == ["new", "existing", "existing"]
    assert list(out["note"]) == ["x", "y", "z"]  # extra columns kept
    assert len(out) == 3
    pd.testing.assert_frame_equal(pd.DataFrame(src.drop(columns="geometry")),
                                  pd.DataFrame(before.drop(columns="geometry")))
    assert out is not src


def test_float_ids_and_float_households_that_are_whole():
    out = read_areas(areas_gdf(area_id=[1.0, 2.0, 3.0], households=[10.0, 20.0, 0.0]))
    assert list(out.index) == ["1", "2", "3"]
    assert list(out["households"]) == [10, 20, 0]


@pytest.mark.parametrize(
    ("households", "bad"),
    [([1200, -5, 0], "a2"), ([1200, np.nan, 0], "a2"), ([1200, 800, 2.5], "a3"), ([1, "many", 0], "a2")],
)
def test_bad_households_raise_naming_the_area(households, bad):
    _raises_naming(cp.InputError, lambda: read_areas(areas_gdf(households=households)), bad, "households")


def test_missing_households_column():
    src = areas_gdf().drop(columns="households")
    _raises_naming(cp.InputError, lambda: read_areas(src), "households")
    assert "households" not in read_areas(src, require_households=False).columns


def test_negative_elderly_raises():
    _raises_naming(cp.InputError, lambda: read_areas(areas_gdf(elderly=[1, -1, 0])), "a2", "elderly")


def test_duplicate_ids_raise_naming_them():
    err = _raises_naming(cp.InputError, lambda: read_areas(areas_gdf(area_id=["a1", "a1", "a3"])), "a1")
    assert "unique" in str(err)
    # 1 and "1" collide once ids are strings
    _raises_naming(cp.InputError, lambda: read_areas(areas_gdf(area_id=[1, "1", 2])), "'1'")


def test_missing_ids_and_id_column():
    _raises_naming(cp.InputError, lambda: read_areas(areas_gdf(area_id=["a1", None, "a3"])), "no id")
    src = areas_gdf().drop(columns="area_id")
    _raises_naming(cp.InputError, lambda: read_areas(src), "area_id", "id_col=None")
    out = read_areas(src.set_index(pd.Index(["x", "y", "z"])), id_col=None)
    assert list(out["area_id"]) == ["x", "y", "z"]
    out = read_areas(src.rename(columns={"note": "code"}), id_col="code")
    assert list(out.index) == ["x", "y", "z"] and "code" in out.columns
    # a second id-like column is never overwritten silently
    _raises_naming(cp.InputError, lambda: read_areas(areas_gdf(), id_col="note"), "area_id", "overwritten")


def test_built_values():
    _raises_naming(cp.InputError, lambda: read_areas(areas_gdf(built=["new", "old-ish", "new"])), "a2", "old-ish")
    _raises_naming(cp.InputError, lambda: read_areas(areas_gdf(built=["new", None, "new"])), "a2")
    src = areas_gdf().drop(columns="built")
    _raises_naming(cp.InputError, lambda: read_areas(src), "built", "default_built")
    out = read_areas(src, default_built="已建")
    assert set(out["built"]) == {"existing"} and out.attrs["careplan"]["built_default"] == "existing"
    assert list(read_areas(areas_gdf(built=[" NEW", "Existing", "新区"]))["built"]) == ["new", "existing", "new"]


def test_columns_mapping():
    src = areas_gdf().rename(columns={"households": "hh", "area_id": "code"})
    out = read_areas(src, id_col="code", columns={"hh": "households"})
    assert list(out["households"]) == [1200, 800, 0]
    assert list(out["area_id"]) == ["a1", "a2", "a3"]


def test_point_areas_allowed_lines_not():
    src = areas_gdf()
    src["geometry"] = [Point(0, 0), Point(1, 1), box(0, 0, 1, 1)]
    assert list(read_areas(src).geom_type) == ["Point", "Point", "Polygon"]
    src["geometry"] = [LineString([(0, 0), (1, 1)]), Point(1, 1), box(0, 0, 1, 1)]
    _raises_naming(cp.InputError, lambda: read_areas(src), "a1", "LineString")


def test_invalid_polygon_raises_or_is_repaired():
    bowtie = Polygon([(0, 0), (10, 10), (10, 0), (0, 10)])
    src = areas_gdf()
    src["geometry"] = [box(0, 0, 1, 1), bowtie, box(2, 2, 3, 3)]
    err = _raises_naming(cp.InputError, lambda: read_areas(src), "a2", "make_valid")
    assert "Self-intersection" in str(err)
    with pytest.warns(cp.CareplanWarning, match="repaired"):
        out = read_areas(src, make_valid=True)
    assert out.geometry.is_valid.all()
    assert out.geometry["a2"].area == pytest.approx(50.0)  # two triangles of 25 m2
    assert out.attrs["careplan"]["repaired_geometry"] == ["a2"]
    assert src.geometry.iloc[1].equals(bowtie)  # input untouched


def test_empty_and_missing_geometry_raise():
    src = areas_gdf()
    src["geometry"] = [box(0, 0, 1, 1), None, Polygon()]
    _raises_naming(cp.InputError, lambda: read_areas(src), "a2", "a3", "no geometry")


def test_missing_crs_is_crs_error_and_src_crs_fixes_it():
    src = areas_gdf().set_crs(None, allow_override=True)
    _raises_naming(cp.CRSError, lambda: read_areas(src), "set_crs")
    assert read_areas(src, src_crs=UTM).crs.to_epsg() == 32650


def test_geographic_crs_reprojected_with_warning():
    lon, lat = 118.78, 32.04
    src = gpd.GeoDataFrame(
        {"area_id": ["p", "q"], "households": [1, 2], "built": "new"},
        geometry=[Point(lon, lat), Point(lon + 0.01, lat + 0.01)], crs="EPSG:4326",
    )
    with pytest.warns(cp.CareplanWarning, match="reprojected"):
        out = read_areas(src)
    assert out.crs.to_epsg() == 32650 and out.crs.is_projected
    assert out.attrs["careplan"]["reprojected_to"] == "EPSG:32650"
    # distances in metres agree with the geodesic distance (independent: pyproj.Geod)
    _, _, d = Geod(ellps="WGS84").inv(lon, lat, lon + 0.01, lat + 0.01)
    assert out.geometry["p"].distance(out.geometry["q"]) == pytest.approx(d, rel=2e-3)
    # an explicit target: no warning, still reported
    with warnings.catch_warnings():
        warnings.simplefilter("error", cp.CareplanWarning)
        out2 = read_areas(src, crs="EPSG:4547")  # CGCS2000 / 3-degree Gauss-Kruger CM 117E
    assert out2.crs.to_epsg() == 4547
    _raises_naming(cp.CRSError, lambda: read_areas(src, crs="EPSG:4490"), "geographic")


def test_projected_input_kept_without_warning():
    with warnings.catch_warnings():
        warnings.simplefilter("error", cp.CareplanWarning)
        out = read_areas(areas_gdf())
    assert out.crs.to_epsg() == 32650
    assert out.geometry.equals(areas_gdf().set_index("area_id").geometry.set_axis(out.index))


# ----------------------------------------------------------------------------- files
@pytest.mark.parametrize(("xname", "yname"), [("lon", "lat"), ("Lng", "LAT"), ("longitude", "Latitude"), ("X", "y")])
def test_csv_with_lon_lat_columns(tmp_path, xname, yname):
    f = tmp_path / "areas.csv"
    pd.DataFrame({"area_id": ["a", "b"], xname: [118.78, 118.79], yname: [32.04, 32.05],
                  "households": [5, 6], "built": ["新建", "existing"]}).to_csv(f, index=False)
    with pytest.warns(cp.CareplanWarning):
        out = read_areas(f)
    assert list(out.index) == ["a", "b"] and out.crs.to_epsg() == 32650
    assert list(out["built"]) == ["new", "existing"]
    expected = gpd.GeoSeries([Point(118.78, 32.04)], crs="EPSG:4326").to_crs(UTM).iloc[0]
    assert out.geometry["a"].distance(expected) < 1e-6


def test_csv_ids_keep_leading_zeros(tmp_path):
    f = tmp_path / "c.csv"
    f.write_text("candidate_id,lng,lat\n007,118.78,32.04\n7,118.79,32.05\n", encoding="utf-8")
    with pytest.warns(cp.CareplanWarning):
        out = read_candidates(f)
    assert list(out.index) == ["007", "7"]


def test_csv_errors(tmp_path):
    f = tmp_path / "f.csv"
    pd.DataFrame({"id": [1], "east": [1.0], "north": [2.0]}).to_csv(f, index=False)
    _raises_naming(cp.InputError, lambda: read_candidates(f, id_col="id"), "longitude", "lat")
    pd.DataFrame({"id": [1], "x": [667000.0], "y": [3546000.0]}).to_csv(f, index=False)
    _raises_naming(cp.CRSError, lambda: read_candidates(f, id_col="id"), "src_crs")
    out = read_candidates(f, id_col="id", src_crs=UTM)
    assert out.geometry.iloc[0].x == 667000.0
    pd.DataFrame({"id": [1, 2], "x": [118.7, None], "y": [32.0, 32.1]}).to_csv(f, index=False)
    _raises_naming(cp.InputError, lambda: read_candidates(f, id_col="id"), "'2'", "no geometry")
    _raises_naming(cp.InputError, lambda: read_candidates(tmp_path / "nope.gpkg"), "not found")


def test_geopackage_layers_geojson_and_shapefile(tmp_path):
    a = areas_gdf()
    f = facilities_gdf()
    gpkg = tmp_path / "in.gpkg"
    a.to_file(gpkg, layer="areas")
    f.to_file(gpkg, layer="facs")
    assert list(read_areas(gpkg, layer="areas")["households"]) == [1200, 800, 0]
    assert list(read_facilities(gpkg, layer="facs")["beds"]) == [0, 100]
    gj = tmp_path / "a.geojson"
    a.to_crs("EPSG:4326").to_file(gj, driver="GeoJSON")
    with pytest.warns(cp.CareplanWarning):
        assert read_areas(gj).crs.is_projected
    out = read_areas(gj, crs=UTM)  # back to the fixture's CRS: same squares
    assert out.geometry.area.round(3).tolist() == [10000.0, 10000.0, 10000.0]
    shp = tmp_path / "a.shp"
    a.to_file(shp)
    assert list(read_areas(shp).index) == ["a1", "a2", "a3"]


# ----------------------------------------------------------------------------- facilities
def test_read_facilities_levels_and_synonyms():
    src = facilities_gdf(level=["社区", "敬老院"])
    out = read_facilities(src)
    assert list(out["level"]) == ["community", "institution"]
    syn = {"区级": "district", "District Centre": "district", "街道": "street", "乡镇": "street",
           "town centre": "street", "村": "community", "community station": "community",
           "养老院": "institution", "机构": "institution", "长者饭堂": "canteen",
           "助餐点": "canteen", "other": "other"}
    for k, v in syn.items():
        assert read_facilities(facilities_gdf(level=[k, "other"]))["level"].iloc[0] == v
    assert set(syn.values()) == set(FACILITY_LEVELS)


def test_facility_area_id_normalised_like_area_ids():
    out = read_facilities(facilities_gdf(area_id=[1.0, None]))
    assert out["area_id"].iloc[0] == "1" and out["area_id"].isna().iloc[1]


def test_bad_level_and_missing_level():
    _raises_naming(cp.InputError, lambda: read_facilities(facilities_gdf(level=["community", "hotel"])),
                   "f2", "hotel", "level")
    src = facilities_gdf().drop(columns="level")
    _raises_naming(cp.InputError, lambda: read_facilities(src), "level")
    assert set(read_facilities(src, default_level="助餐点")["level"]) == {"canteen"}


def test_nursing_beds_over_beds():
    err = _raises_naming(cp.InputError, lambda: read_facilities(facilities_gdf(nursing_beds=[0, 120])),
                         "f2", "nursing_beds")
    assert "120 > 100" in str(err)


@pytest.mark.parametrize(("col", "vals", "bad"), [
    ("floor_area_m2", [-1.0, 10.0], "f1"),
    ("floor_area_m2", [10.0, np.nan], "f2"),
    ("beds", [0, 10.5], "f2"),
    ("beds", [-1, 100], "f1"),
])
def test_bad_facility_numbers(col, vals, bad):
    _raises_naming(cp.InputError, lambda: read_facilities(facilities_gdf(**{col: vals})), bad, col)


def test_beds_default_zero_and_polygons_to_points():
    src = facilities_gdf().drop(columns=["beds", "nursing_beds"])
    src["geometry"] = [box(0, 0, 10, 10), Point(5, 5)]
    with pytest.warns(cp.CareplanWarning, match="representative point"):
        out = read_facilities(src)
    assert list(out["beds"]) == [0, 0] and out["beds"].dtype == np.int64
    assert (out.geom_type == "Point").all()
    assert box(0, 0, 10, 10).contains(out.geometry["f1"])
    assert out.attrs["careplan"]["polygons_to_points"] == ["f1"]
    assert out.attrs["careplan"]["filled_zero"] == ["beds", "nursing_beds"]


def test_read_candidates_and_households():
    src = gpd.GeoDataFrame({"candidate_id": ["c1", "c2"], "max_floor_area_m2": [300, 500]},
                           geometry=[Point(0, 0), Point(1, 1)], crs=UTM)
    out = read_candidates(src)
    assert out["max_floor_area_m2"].dtype == float and list(out.index) == ["c1", "c2"]
    src["max_floor_area_m2"] = [300, -1]
    _raises_naming(cp.InputError, lambda: read_candidates(src), "c2")
    hh = read_households(gpd.GeoDataFrame(geometry=[Point(0, 0), Point(1, 1)], crs=UTM), id_col=None)
    assert list(hh["households"]) == [1, 1] and list(hh.index) == ["0", "1"]


# ----------------------------------------------------------------------------- households
def test_estimate_households_hand_example():
    b = gpd.GeoDataFrame(
        {"building:levels": ["6", None, None, "5;7", None], "height": [None, "18 m", None, None, "bad"]},
        geometry=[box(0, 0, 20, 30), box(0, 0, 20, 30), box(0, 0, 10, 10), box(0, 0, 10, 9), box(0, 0, 10, 10)],
        crs=UTM,
    )
    out = estimate_households(b)
    # 20 m x 30 m = 600 m2, 6 levels -> 3600 m2 gross x 0.9 residential / 90 m2 = 36 dwellings
    assert out["households_est"].iloc[0] == pytest.approx(36.0)
    assert out["households"].iloc[0] == 36
    assert out["levels_source"].tolist() == ["building:levels", "height", "default", "building:levels", "default"]
    assert out["levels"].tolist() == [6, 6, 6, 5, 6]  # 18 m / 3 m; default 6; first number of "5;7"
    assert out["households_est"].iloc[1] == pytest.approx(36.0)
    assert out["households_est"].iloc[2] == pytest.approx(100 * 6 * 0.9 / 90)  # 6.0
    assert out["households_est"].iloc[3] == pytest.approx(90 * 5 * 0.9 / 90)  # 4.5
    assert out["households"].dtype == np.int64
    # explicit parameters change the answer as the formula says
    out2 = estimate_households(b.iloc[:1], dwelling_m2=60, residential_share=1.0, occupancy=0.5)
    assert out2["households_est"].iloc[0] == pytest.approx(600 * 6 * 1.0 * 0.5 / 60)  # 30
    out3 = estimate_households(b.iloc[[2]], default_levels=3)
    assert out3["households_est"].iloc[0] == pytest.approx(3.0)
    assert "footprint_m2" not in b.columns  # input untouched


def test_estimate_households_errors():
    b = gpd.GeoDataFrame(geometry=[box(0, 0, 1, 1), Point(0, 0)], crs=UTM)
    _raises_naming(cp.InputError, lambda: estimate_households(b), "1", "polygons")
    _raises_naming(cp.InputError, lambda: estimate_households(b.iloc[:1], dwelling_m2=0), "dwelling_m2")
    _raises_naming(cp.InputError, lambda: estimate_households(b.iloc[:1], occupancy=1.5), "occupancy")
    _raises_naming(cp.CRSError, lambda: estimate_households(b.iloc[:1].set_crs(None, allow_override=True)), "CRS")


def test_estimate_households_geographic_measures_in_metres():
    poly = gpd.GeoSeries([box(667000, 3546000, 667020, 3546030)], crs=UTM).to_crs("EPSG:4326")
    b = gpd.GeoDataFrame({"building:levels": ["6"]}, geometry=poly, crs="EPSG:4326")
    with pytest.warns(cp.CareplanWarning, match="reprojected"):
        out = estimate_households(b)
    assert out.crs.to_epsg() == 32650
    assert out["footprint_m2"].iloc[0] == pytest.approx(600, rel=1e-6)
    assert out["households"].iloc[0] == 36


def test_aggregate_households_hand_count():
    areas = areas_gdf().drop(columns="households")
    areas.loc[2, "geometry"] = box(50, 0, 150, 100)  # a3 overlaps a1 and a2
    pts = gpd.GeoDataFrame(
        {"household_id": ["h1", "h2", "h3", "h4", "h5", "h6"],
         "households": [3, 4, 5, 7, 11, 2], "elderly": [1, 0, 2, 3, 4, 1]},
        geometry=[Point(10, 10), Point(20, 90), Point(120, 50), Point(60, 50), Point(500, 500), Point(100, 10)],
        crs=UTM,
    )
    with pytest.warns(cp.CareplanWarning) as rec:
        out = aggregate_households(pts, areas)
    msgs = " ".join(str(w.message) for w in rec)
    assert "outside every area" in msgs and "more than one area" in msgs
    # h1, h2 -> a1 (3+4); h4 at x=60 is in a1 and a3 -> first area a1 (+7);
    # h6 on the a1/a2 edge -> a1 first (+2); h3 -> a2 and a3 -> a2 (5); h5 outside.
    assert out["households"].to_dict() == {"a1": 16, "a2": 5, "a3": 0}
    assert out["elderly"].to_dict() == {"a1": 5, "a2": 2, "a3": 0}
    assert out.attrs["careplan"]["unassigned"] == ["h5"]
    assert out.attrs["careplan"]["unassigned_households"] == 11
    assert sorted(out.attrs["careplan"]["multiple_areas"]) == ["h3", "h4", "h6"]
    # independent brute-force count: first containing area in order
    manual = {k: 0 for k in ["a1", "a2", "a3"]}
    for p, n in zip(pts.geometry, pts["households"], strict=True):
        for aid, g in zip(areas["area_id"], areas.geometry, strict=True):
            if g.intersects(p):
                manual[aid] += n
                break
    assert out["households"].to_dict() == manual
    assert out["households"].sum() + 11 == pts["households"].sum()


def test_aggregate_buildings_and_point_areas():
    b = gpd.GeoDataFrame({"building:levels": ["6", "6"]}, geometry=[box(0, 0, 20, 30), box(120, 0, 140, 30)],
                         crs=UTM)
    est = estimate_households(b)
    with pytest.warns(cp.CareplanWarning, match="replaced"):
        out = aggregate_households(est, areas_gdf())  # no household_id column: index used
    assert out["households"].tolist() == [36, 36, 0]
    pts = areas_gdf()
    pts["geometry"] = [Point(0, 0), Point(1, 1), Point(2, 2)]
    with pytest.warns(cp.CareplanWarning, match="replaced"):
        _raises_naming(cp.InputError, lambda: aggregate_households(est, pts, households_id_col=None), "points")


# ----------------------------------------------------------------------------- OSM helpers
def test_osm_helpers_on_real_extract():
    # the shipped .osm.bz2 is read directly (offline, compressed)
    lu = landuse_from_osm(cp.datasets.network_path("nanjing_xuanwu"))
    assert len(lu) == 11 and set(lu["landuse"]) == {"residential"}
    with pytest.raises(cp.InputError, match="not found"):
        landuse_from_osm("/nonexistent/file.osm")
    if not NANJING_OSM.exists():
        pytest.skip("shared data not available")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", cp.CareplanWarning)
        b = buildings_from_osm(NANJING_OSM)
    assert (b.geom_type.isin(["Polygon", "MultiPolygon"])).all()
    # independent count of closed building ways straight from the XML
    import xml.etree.ElementTree as ET

    root = ET.parse(NANJING_OSM).getroot()
    n_ways = sum(1 for w in root.iter("way")
                 if any(t.get("k") == "building" for t in w.iter("tag"))
                 and w.find("nd") is not None and w.findall("nd")[0].get("ref") == w.findall("nd")[-1].get("ref"))
    assert (b["element"] == "way").sum() == n_ways
    assert b.index.equals(pd.Index(b["osm_id"])) and b.index.is_unique
