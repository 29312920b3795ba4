"""Inputs as Chinese offices hand them over (issue 14 items 1-5, 8; issue 11 item 7).

Every expected value is the value the test itself wrote into the file (independent of
the reader); encodings are produced with Python's own codecs.
"""

from __future__ import annotations

import json
import warnings

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely

import careplan as cp
from careplan.io import read_areas, read_candidates, read_facilities, read_households

LON = [118.790, 118.795, 118.800]
LAT = [32.050, 32.052, 32.055]


def _areas_table() -> pd.DataFrame:
    return pd.DataFrame({
        "小区编号": ["007", "010", "2"],
        "名称": ["梅园新村", "长江路小区", "大行宫"],
        "户数": [1200, 800, 0],
        "老年人口": [300, 150, 0],
        "类型": ["新建", "老旧小区", "既有"],
        "所属街道": ["梅园新村街道", "梅园新村街道", "新街口街道"],
        "经度": LON,
        "纬度": LAT,
    })


def _quiet(fn, *args, **kw):
    with warnings.catch_warnings(record=True) as rec:
        warnings.simplefilter("always")
        out = fn(*args, **kw)
    return out, [str(w.message) for w in rec]


def _check_areas(a: gpd.GeoDataFrame) -> None:
    assert list(a.index) == ["007", "010", "2"]
    assert list(a["area_id"]) == ["007", "010", "2"]
    assert a["households"].tolist() == [1200, 800, 0] and a["households"].dtype == np.int64
    assert a["elderly"].tolist() == [300, 150, 0]
    assert a["built"].tolist() == ["new", "existing", "existing"]
    assert a["street"].tolist() == ["梅园新村街道", "梅园新村街道", "新街口街道"]
    assert a["name"].tolist() == ["梅园新村", "长江路小区", "大行宫"]
    assert a.crs.is_projected
    back = a.to_crs(4326)
    np.testing.assert_allclose(back.geometry.x, LON, atol=1e-9)
    np.testing.assert_allclose(back.geometry.y, LAT, atol=1e-9)


# ----------------------------------------------------------------------------- encodings
@pytest.mark.parametrize("codec, expected", [
    ("gbk", "gb18030"), ("gb18030", "gb18030"), ("utf-8", "utf-8"), ("utf-8-sig", "utf-8-sig"),
])
def test_csv_in_any_common_encoding_with_chinese_headers(tmp_path, codec, expected):
    f = tmp_path / "小区.csv"
    f.write_bytes(_areas_table().to_csv(index=False).encode(codec))
    a, msgs = _quiet(read_areas, f)
    _check_areas(a)
    assert a.attrs["careplan"]["encoding"] == expected
    assert a.attrs["careplan"]["recognised_columns"]["户数"] == "households"
    legacy = [m for m in msgs if "not UTF-8" in m]
    assert bool(legacy) == (expected == "gb18030")


def test_big5_is_not_read_as_gbk(tmp_path):
    # nearly every Big5 byte sequence is valid GB18030 too: it must not be read as nonsense
    df = pd.DataFrame({"小區編號": ["001", "002"], "名稱": ["梅園新村", "長江路小區"], "戶數": [1200, 800],
                       "類型": ["new", "existing"], "經度": LON[:2], "緯度": LAT[:2]})
    raw = df.to_csv(index=False).encode("big5")
    raw.decode("gb18030")  # decodes without error, to the wrong characters
    f = tmp_path / "big5.csv"
    f.write_bytes(raw)
    a, _ = _quiet(read_areas, f, columns={"小區編號": "area_id", "戶數": "households", "類型": "built",
                                          "經度": "lon", "緯度": "lat"})
    assert a.attrs["careplan"]["encoding"] == "big5"
    assert a["名稱"].tolist() == ["梅園新村", "長江路小區"] and list(a.index) == ["001", "002"]


def test_utf16_tab_text_from_excel_unicode_export(tmp_path):
    f = tmp_path / "areas.txt"
    f.write_bytes(_areas_table().to_csv(index=False, sep="\t").encode("utf-16"))
    a, _ = _quiet(read_areas, f)
    _check_areas(a)
    assert a.attrs["careplan"]["encoding"] == "utf-16"


def test_explicit_encoding_and_undecodable_bytes(tmp_path):
    f = tmp_path / "a.csv"
    f.write_bytes(_areas_table().to_csv(index=False).encode("gbk"))
    a, msgs = _quiet(read_areas, f, encoding="gbk")
    _check_areas(a)
    assert a.attrs["careplan"]["encoding"] == "gbk" and not [m for m in msgs if "UTF-8" in m]
    with pytest.raises(cp.InputError, match=r"not valid utf-8.*encoding="):
        read_areas(f, encoding="utf-8")
    with pytest.raises(cp.InputError, match="unknown encoding"):
        read_areas(f, encoding="klingon")
    g = tmp_path / "garbage.csv"
    g.write_bytes(b"a,b\n\x00\x81\xff\x00\x81")
    with pytest.raises(cp.InputError) as e:
        read_areas(g)
    msg = str(e.value)
    assert "utf-8" in msg and "gb18030" in msg and "encoding=" in msg and "\n" not in msg


def _gbk_points(tmp_path) -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame(
        {"设施编号": ["007", "8"], "名称": ["梅园养老院", "社区站"], "等级": ["养老院", "社区养老服务站"],
         "建筑面积": [1500.0, 300.0], "床位数": [120, 0]},
        geometry=shapely.points(LON[:2], LAT[:2]), crs=4326)


def test_gbk_shapefile_without_or_with_wrong_cpg(tmp_path):
    g = _gbk_points(tmp_path)
    shp = tmp_path / "设施.shp"
    g.to_file(shp, encoding="gbk")
    shp.with_suffix(".cpg").unlink()
    f, _ = _quiet(read_facilities, shp)
    assert list(f.index) == ["007", "8"]
    assert f["name"].tolist() == ["梅园养老院", "社区站"]
    assert f["level"].tolist() == ["institution", "community"]
    assert f["floor_area_m2"].tolist() == [1500.0, 300.0] and f["beds"].tolist() == [120, 0]
    assert f.attrs["careplan"]["encoding"] == "gb18030"
    shp.with_suffix(".cpg").write_text("UTF-8")  # wrong: the text is GBK
    f2, msgs = _quiet(read_facilities, shp)
    assert f2["name"].tolist() == ["梅园养老院", "社区站"]
    assert any(".cpg declares 'UTF-8'" in m for m in msgs)


def test_gbk_geojson(tmp_path):
    g = _gbk_points(tmp_path)
    f = tmp_path / "f.geojson"
    f.write_bytes(g.to_json().encode("gbk"))
    out, _ = _quiet(read_facilities, f)
    assert out["name"].tolist() == ["梅园养老院", "社区站"] and list(out.index) == ["007", "8"]


# ----------------------------------------------------------------------------- Excel
def test_xlsx_with_sheets_chinese_headers_and_level_names(tmp_path):
    fac = pd.DataFrame({
        "设施编号": ["007", "F2", "F3", "F4", "F5"],
        "名称": ["甲", "乙", "丙", "丁", "戊"],
        "类型": ["社区养老服务站", "日间照料中心", "街道综合养老服务中心", "长者饭堂", "敬老院"],
        "建筑面积": [200, 450.5, 1200, 80, 3000],
        "床位": [0, 10, 30, 0, 200],
        "护理型床位": [0, 5, 20, 0, 120],
        "经度": [118.79, 118.791, 118.792, 118.793, 118.794],
        "纬度": [32.05] * 5,
    })
    f = tmp_path / "设施.xlsx"
    with pd.ExcelWriter(f) as w:
        pd.DataFrame({"说明": ["封面"]}).to_excel(w, sheet_name="说明", index=False)
        fac.to_excel(w, sheet_name="设施", index=False)
    out, _ = _quiet(read_facilities, f, sheet="设施")
    assert list(out.index) == ["007", "F2", "F3", "F4", "F5"]
    assert out["level"].tolist() == ["community", "community", "street", "canteen", "institution"]
    assert out["floor_area_m2"].tolist() == [200, 450.5, 1200, 80, 3000]
    assert out["nursing_beds"].tolist() == [0, 5, 20, 0, 120]
    assert out.attrs["careplan"]["sheet"] == "设施"
    same, _ = _quiet(read_facilities, f, sheet=1)
    assert same.index.equals(out.index)
    with pytest.raises(cp.InputError, match="no sheet 'x'.*说明"):
        read_facilities(f, sheet="x")
    # the first sheet is a cover page: the first sheet with coordinates is read, and said
    auto, msgs = _quiet(read_facilities, f)
    assert auto.index.equals(out.index) and auto.attrs["careplan"]["sheet"] == "设施"
    assert any("first sheet '说明' has no coordinate columns" in m for m in msgs)
    with pytest.raises(cp.InputError, match="no coordinate columns"):
        read_facilities(f, sheet=0)
    # same validation as CSV: a bad bed count names the record
    fac.loc[1, "护理型床位"] = 99
    fac.to_excel(tmp_path / "bad.xlsx", index=False)
    with pytest.raises(cp.InputError, match=r"'F2' \(99 > 10\)"):
        _quiet(read_facilities, tmp_path / "bad.xlsx")


# ----------------------------------------------------------------------------- renaming, ids
def test_columns_mapping_applies_before_the_coordinate_lookup(tmp_path):
    # the exact case of issue 14 item 3: headers that recognition would not know
    df = pd.DataFrame({"ID号": ["007", "8"], "住户": [10, 20], "性质": ["新建", "既有"],
                       "E": [118.79, 118.80], "N": [32.05, 32.06]})
    f = tmp_path / "a.csv"
    f.write_bytes(df.to_csv(index=False).encode("gbk"))
    a, _ = _quiet(read_areas, f, columns={"ID号": "area_id", "住户": "households", "性质": "built",
                                          "E": "lon", "N": "lat"})
    assert list(a.index) == ["007", "8"] and a["households"].tolist() == [10, 20]
    assert a["built"].tolist() == ["new", "existing"]


def test_ids_keep_their_text_in_every_reader(tmp_path):
    f = tmp_path / "f.csv"
    pd.DataFrame({"facility_id": ["001", "0002"], "area_id": ["007", "010"], "level": ["社区", "街道"],
                  "floor_area_m2": [100, 200], "lon": LON[:2], "lat": LAT[:2]}).to_csv(f, index=False)
    fac, _ = _quiet(read_facilities, f)
    assert list(fac.index) == ["001", "0002"] and fac["area_id"].tolist() == ["007", "010"]
    # a renamed id column, and an id_col named by the user, stay text too
    g = tmp_path / "g.csv"
    pd.DataFrame({"编号": ["007", "08"], "户数": [1, 2], "lon": LON[:2], "lat": LAT[:2]}).to_csv(g, index=False)
    a1, _ = _quiet(read_areas, g, columns={"编号": "area_id"}, default_built="new")
    a2, _ = _quiet(read_areas, g, id_col="编号", default_built="new")
    a3, _ = _quiet(read_areas, g, default_built="new")  # 编号 recognised as the id
    for a in (a1, a2, a3):
        assert list(a.index) == ["007", "08"]
    c, _ = _quiet(read_candidates, g, id_col="编号")
    h, _ = _quiet(read_households, g, id_col="编号")
    assert list(c.index) == ["007", "08"] and list(h.index) == ["007", "08"]
    # the compliance join that failed in issue 14 item 4 now matches
    areas, _ = _quiet(read_areas, pd.DataFrame({"area_id": ["007", "010"], "households": [100, 100],
                                               "built": ["new", "new"], "lon": LON[:2], "lat": LAT[:2]}))
    fac = fac.to_crs(areas.crs)
    rep = cp.compliance.check(areas, fac, standard=cp.standards.load("jinwan-2020"))
    assert rep.areas.loc["007", "provided_m2"] == 100 and rep.areas.loc["010", "provided_m2"] == 200


# ----------------------------------------------------------------------------- no facilities yet
def test_no_existing_facilities_is_normal(tmp_path):
    sample = cp.datasets.load_sample()
    crs = sample.areas.crs
    header_only = tmp_path / "facilities.csv"
    header_only.write_text("facility_id,level,floor_area_m2,lon,lat\n", encoding="utf-8")
    empties = [read_facilities(None, crs=crs), read_facilities(sample.facilities.iloc[:0]),
               read_facilities(header_only, crs=crs), read_facilities(None)]
    for e in empties:
        assert len(e) == 0
        assert {"facility_id", "level", "floor_area_m2", "beds", "nursing_beds"} <= set(e.columns)
        assert e["beds"].dtype == np.int64 and e["floor_area_m2"].dtype == np.float64
    assert all(e.crs == crs for e in empties[:3]) and empties[3].crs is None
    std = cp.standards.load("jinwan-2020")
    with_none = cp.compliance.check(sample.areas, empties[0], standard=std)
    # independent: with no facilities every area's provided floor area is 0 and the
    # deficit is its full requirement (rate x households / 100)
    a = with_none.areas
    assert (a["provided_m2"] == 0).all()
    rate = np.where(sample.areas["built"] == "new", 20.0, 15.0)
    np.testing.assert_allclose(a["required_m2"], rate * sample.areas["households"] / 100)
    np.testing.assert_allclose(a["deficit_m2"], a["required_m2"])
    no_crs = cp.compliance.check(sample.areas, empties[3], standard=std)
    np.testing.assert_allclose(no_crs.areas["deficit_m2"], a["deficit_m2"])


def test_plan_layout_without_existing_facilities():
    sample = cp.datasets.load_sample()
    net = cp.WalkNetwork.from_file(sample.network_path)
    none = read_facilities(None, crs=sample.areas.crs)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", cp.CareplanWarning)
        plan = cp.plan_layout(sample.areas, none, sample.candidates, net,
                              standard=cp.standards.load("jinwan-2020"))
    assert len(plan.existing) == 0 and len(plan.proposed) > 0
    # every area with households is served by some proposed site (nothing existing helps)
    assert plan.proposed.crs == sample.areas.crs


# ----------------------------------------------------------------------------- Z, ranges, control chars
def test_point_z_dropped_with_one_note(tmp_path):
    g = gpd.GeoDataFrame({"facility_id": ["a", "b"], "level": ["社区", "街道"], "floor_area_m2": [1, 2]},
                         geometry=[shapely.Point(118.79, 32.05, 12.5), shapely.Point(118.80, 32.06, 3.0)],
                         crs=4326)
    f = tmp_path / "z.gpkg"
    g.to_file(f, layer="f")
    out, msgs = _quiet(read_facilities, f)
    assert not out.has_z.any() and out.attrs["careplan"]["dropped_z"] == 2
    assert sum("Z coordinates" in m for m in msgs) == 1
    back = out.to_crs(4326)
    np.testing.assert_allclose(back.geometry.x, [118.79, 118.80], atol=1e-9)
    areas = gpd.GeoDataFrame({"area_id": ["x"], "households": [1], "built": ["new"]},
                             geometry=[shapely.box(118.78, 32.04, 118.81, 32.07)], crs=4326)
    areas_z = areas.set_geometry(shapely.force_3d(areas.geometry.to_numpy(), 7.0), crs=4326)
    a, _ = _quiet(read_areas, areas_z)
    assert not a.has_z.any() and a.attrs["careplan"]["dropped_z"] == 1


@pytest.mark.parametrize("value", [np.inf, 1e19, -1, 2.5, "abc"])
def test_implausible_numbers_refused_naming_the_record(value):
    df = pd.DataFrame({"area_id": ["a1", "bad-one"], "households": [10, 10], "elderly": [1, value],
                       "built": ["new", "new"], "lon": LON[:2], "lat": LAT[:2]})
    with pytest.raises(cp.InputError) as e:
        _quiet(read_areas, df)
    msg = str(e.value)
    assert "'bad-one'" in msg and "'elderly'" in msg and "\n" not in msg
    fac = pd.DataFrame({"facility_id": ["f1"], "level": ["社区"], "floor_area_m2": [1e308],
                        "lon": LON[:1], "lat": LAT[:1]})
    with pytest.raises(cp.InputError, match=r"'f1'=1e\+308"):
        _quiet(read_facilities, fac)


@pytest.mark.parametrize("bad_id", ["a\x00", "a\x1b[31m", "a\u202e", "x\ty"])
def test_ids_with_control_characters_are_refused_and_shown(bad_id):
    df = pd.DataFrame({"area_id": ["a", bad_id], "households": [1, 1], "built": ["new", "new"],
                       "lon": LON[:2], "lat": LAT[:2]})
    with pytest.raises(cp.InputError, match="control or invisible") as e:
        _quiet(read_areas, df)
    msg = str(e.value)
    assert "\\x" in msg or "\\u" in msg
    assert not any(c in msg for c in ("\x00", "\x1b", "\u202e", "\t"))


# ----------------------------------------------------------------------------- OSM-derived frames
def test_osm_frames_have_text_ids_and_feed_the_readers():
    osm = cp.datasets.network_path("nanjing_xuanwu")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", cp.CareplanWarning)
        lu = cp.data.landuse_from_osm(osm)
        b = cp.data.buildings_from_osm(osm)
        areas = read_areas(lu, id_col=None, require_households=False, default_built="existing")
        est = cp.estimate_households(b)
        agg = cp.aggregate_households(est, lu, areas_id_col=None)
    assert list(areas.index) == list(lu["osm_id"]) and all(i.startswith("way/") or
                                                              i.startswith("relation/") for i in areas.index)
    # independent: point-in-polygon of the buildings' representative points, by shapely
    est_m = est.to_crs(agg.crs)
    pts = est_m.geometry.representative_point()
    total = 0
    for poly in agg.geometry:
        total += int(est_m["households"][pts.intersects(poly)].sum())
    assert agg["households"].sum() == total > 0
    empty = cp.data.features_from_osm(osm, {"amenity": ["no-such-value"]})
    assert len(empty) == 0 and {"osm_id", "element"} <= set(empty.columns)
    assert empty.attrs["careplan"]["no_match"] == {"amenity": ["no-such-value"]}


def test_recognised_headers_do_not_override_explicit_choices(tmp_path):
    df = pd.DataFrame({"area_id": ["1"], "编号": ["x"], "户数": [5], "households": [7], "built": ["new"],
                       "lon": LON[:1], "lat": LAT[:1]})
    a, msgs = _quiet(read_areas, df)
    assert a["households"].tolist() == [7] and a["编号"].tolist() == ["x"]
    assert "recognised_columns" not in a.attrs.get("careplan", {})
    assert json.dumps(a.attrs["careplan"], default=str)  # attrs stay serialisable


# ----------------------------------------------------------------------------- office habits
def test_title_lines_blank_rows_units_in_headers_and_typed_numbers(tmp_path):
    # what an office spreadsheet looks like: a title line, headers with units in brackets,
    # '1,200' with a thousands separator, full-width digits, a blank row at the end
    rows = [
        ["玄武区养老服务设施一览表（2024年）", "", "", "", "", ""],
        ["设施编号", "设施类型", "建筑面积（㎡）", "床位数(张)", "经度(GCJ02)", "纬度(GCJ02)"],
        ["007", "养老院", "1,200", "１２０", "118.79", "32.05"],
        ["008", "长者饭堂", "85.5", "0", "118.80", "32.06"],
        ["", "", "", "", "", ""],
    ]
    xlsx = tmp_path / "设施.xlsx"
    pd.DataFrame(rows).to_excel(xlsx, index=False, header=False)
    csv_gbk = tmp_path / "设施.csv"
    csv_gbk.write_bytes("\r\n".join(",".join(f'"{c}"' if "," in c else c for c in r)
                                    for r in rows).encode("gbk"))
    tab_csv = tmp_path / "tab.csv"  # Excel's "Unicode text" renamed to .csv
    tab_csv.write_bytes("\n".join("\t".join(r) for r in rows).encode("utf-16"))
    for f in (xlsx, csv_gbk, tab_csv):
        out, msgs = _quiet(read_facilities, f)
        assert list(out.index) == ["007", "008"], f.name
        assert out["floor_area_m2"].tolist() == [1200.0, 85.5], f.name
        assert out["beds"].tolist() == [120, 0] and out["level"].tolist() == ["institution", "canteen"]
        assert out.attrs["careplan"]["header_row"] == 1 and any("title line" in m for m in msgs)
        if f.suffix == ".csv":  # openpyxl does not store a row of empty strings at all
            assert out.attrs["careplan"]["blank_rows"] == 1 and any("empty row" in m for m in msgs)
    # a row with some values but no coordinates is a record: reported, never dropped
    rows[4] = ["009", "养老院", "10", "0", "", ""]
    pd.DataFrame(rows).to_excel(xlsx, index=False, header=False)
    with pytest.raises(cp.InputError, match="'009'.*no geometry"):
        _quiet(read_facilities, xlsx)


def test_swapped_and_placeholder_coordinates_are_explained():
    base = {"area_id": ["a", "b"], "households": [1, 2], "built": ["new", "new"]}
    swapped = pd.DataFrame({**base, "经度": LAT[:2], "纬度": LON[:2]})
    with pytest.raises(cp.InputError, match="look swapped"):
        _quiet(read_areas, swapped)
    zero = pd.DataFrame({**base, "lon": [LON[0], 0.0], "lat": [LAT[0], 0.0]})
    with pytest.raises(cp.InputError, match=r"0, 0 \(data rows 2\)"):
        _quiet(read_areas, zero)
    metres = pd.DataFrame({**base, "x": [667000.0, 668000.0], "y": [3547000.0, 3548000.0]})
    with pytest.raises(cp.CRSError, match="src_crs"):
        _quiet(read_areas, metres)
    ok, _ = _quiet(read_areas, metres, src_crs="EPSG:32650")
    assert ok.crs == "EPSG:32650" and ok.geometry.x.tolist() == [667000.0, 668000.0]


def test_utf16_without_bom_and_nul_bytes(tmp_path):
    text = _areas_table().to_csv(index=False)
    for enc in ("utf-16-le", "utf-16-be"):
        f = tmp_path / f"{enc}.csv"
        f.write_bytes(text.encode(enc))
        a, _ = _quiet(read_areas, f)
        _check_areas(a)
        assert a.attrs["careplan"]["encoding"] == enc
    g = tmp_path / "nul.csv"
    g.write_bytes(b"area_id,households,built,lon,lat\na\x00,3,new,118.79,32.05\n")
    with pytest.raises(cp.InputError, match=r"NUL character \(line 2\)"):
        read_areas(g)


_HOSTILE = {
    "empty.csv": b"",
    "header_only.csv": b"area_id,households,built,lon,lat\n",
    "inf.csv": b"area_id,households,built,lon,lat\na,inf,new,118.79,32.05\n",
    "huge.csv": b"area_id,households,built,lon,lat\na,1e19,new,118.79,32.05\n",
    "nul.csv": b"area_id,households,built,lon,lat\na\x00,3,new,118.79,32.05\n",
    "escape.csv": b"area_id,households,built,lon,lat\n\x1b[31mred,3,new,118.79,32.05\n",
    "typo.csv": b"area_id,households,built,lon,lat\na,3,comunity,118.79,32.05\n",
    "swapped.csv": b"area_id,households,built,lon,lat\na,3,new,32.05,118.79\n",
    "zero.csv": b"area_id,households,built,lon,lat\na,3,new,0,0\n",
    "quote.csv": b'area_id,households,built,lon,lat\n"a,3,new,118.79,32.05\n',
    "binary.csv": bytes(range(256)) * 10,
    "not_a_workbook.xlsx": b"PK\x03\x04garbage",
    "broken.geojson": b'{"type": "FeatureCollection", "features": [',
}


@pytest.mark.parametrize("name", sorted(_HOSTILE))
def test_hostile_reader_inputs_end_in_one_line_through_the_cli(tmp_path, capsys, name):
    from careplan.cli import main

    f = tmp_path / name
    f.write_bytes(_HOSTILE[name])
    args = ["check", "--areas", str(f)]
    assert main(args) == 2
    err = [ln for ln in capsys.readouterr().err.splitlines() if not ln.startswith("careplan: warning")]
    assert len(err) == 1 and err[0].startswith("careplan: error: ") and "Traceback" not in err[0]
    assert not any(c in err[0] for c in ("\x00", "\x1b"))


def test_csv_with_wkt_polygons_as_gis_programs_export_them(tmp_path):
    polys = [shapely.box(118.78, 32.04, 118.79, 32.05), shapely.box(118.79, 32.04, 118.80, 32.05)]
    df = pd.DataFrame({"WKT": [p.wkt for p in polys], "小区编号": ["001", "002"], "户数": [10, 20],
                       "类型": ["新建", "既有"]})
    f = tmp_path / "areas.csv"
    f.write_bytes(df.to_csv(index=False).encode("gbk"))
    a, _ = _quiet(read_areas, f)
    assert list(a.index) == ["001", "002"] and (a.geom_type == "Polygon").all()
    # independent: the same boxes measured on the ellipsoid
    from pyproj import Geod

    geod = Geod(ellps="WGS84")
    expected = [abs(geod.geometry_area_perimeter(p)[0]) for p in polys]
    np.testing.assert_allclose(a.geometry.area, expected, rtol=2e-3)
    df.loc[1, "WKT"] = "POLYGON ((1 2, 3"
    f.write_bytes(df.to_csv(index=False).encode("gbk"))
    with pytest.raises(cp.InputError, match="not WKT geometry in data rows 2"):
        _quiet(read_areas, f)
