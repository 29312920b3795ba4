"""Tests for careplan.report: HTML report, folium map, Excel, GeoPackage, PNG maps."""

from __future__ import annotations

import html
import json
import re
import shutil
import subprocess

import geopandas as gpd
import numpy as np
import pandas as pd
import pyogrio
import pytest
from pyproj import Transformer
from shapely.geometry import LineString, Point, box

import careplan.report as report
from careplan._errors import CareplanError, CareplanWarning, CRSError, InputError
from careplan.plan import LayoutPlan

CRS = "EPSG:32650"
LON0, LAT0 = 118.78, 32.04  # Nanjing
TO_UTM = Transformer.from_crs(4326, CRS, always_xy=True)
TO_LL = Transformer.from_crs(CRS, 4326, always_xy=True)
X0, Y0 = TO_UTM.transform(LON0, LAT0)

HOUSEHOLDS = {"a1": 400, "a2": 250, "a3": 600, "a4": 150}
RATE = 20.0  # m2 per 100 households
PROVIDED_BEFORE = {"a1": 100.0, "a2": 0.0, "a3": 60.0, "a4": 30.0}
PROPOSED_TO = {"a2": 50.0, "a3": 60.0}  # new floor area by area
COVERED_BEFORE = {"a1": True, "a2": False, "a3": True, "a4": False}
CITATION_1 = "珠海市金湾区养老服务设施专项规划（2020）第3.2条"
CITATION_2 = "Taiyuan 2021, clause 4.1"


def _areas() -> gpd.GeoDataFrame:
    ids = list(HOUSEHOLDS)
    geoms = []
    for i, _ in enumerate(ids):
        col, row = i % 2, i // 2
        x, y = X0 + col * 320, Y0 + row * 320
        geoms.append(box(x, y, x + 300, y + 300))
    hh = np.array([HOUSEHOLDS[a] for a in ids])
    required = hh * RATE / 100
    before = np.array([PROVIDED_BEFORE[a] for a in ids])
    after = before + np.array([PROPOSED_TO.get(a, 0.0) for a in ids])
    df = gpd.GeoDataFrame(
        {
            "area_id": ids,
            "name": ["Area One", "二号小区", "Area <Three> & co", "Area Four"],
            "households": hh.astype("int64"),
            "elderly": (hh * 0.3).astype("int64"),
            "built": ["existing"] * 4,
            "required_m2": required,
            "provided_before_m2": before,
            "provided_after_m2": after,
            "deficit_before_m2": np.maximum(required - before, 0),
            "deficit_after_m2": np.maximum(required - after, 0),
            "compliant_before": before >= required,
            "compliant_after": after >= required,
            "nearest_distance_before_m": [120.0, np.nan, 80.0, np.nan],
            "nearest_distance_after_m": [120.0, 60.0, 80.0, 400.0],
            "covered_before": [COVERED_BEFORE[a] for a in ids],
            "covered_after": [True] * 4,
            "served_by": [None, "S1", "S1", "S2"],
        },
        geometry=geoms,
        crs=CRS,
        index=pd.Index(ids),
    )
    return df


def _plan(*, with_proposed: bool = True, with_edges: bool = True) -> LayoutPlan:
    areas = _areas()
    c = areas.geometry.centroid
    existing = gpd.GeoDataFrame(
        {
            "facility_id": ["E1", "E2"],
            "name": ["Jinling community station", "街道中心"],
            "level": ["community", "street"],
            "floor_area_m2": [100.0, 90.0],
            "beds": [0, 10],
            "nursing_beds": [0, 5],
        },
        geometry=[c["a1"], c["a3"]],
        crs=CRS,
        index=pd.Index(["E1", "E2"]),
    )
    if with_proposed:
        proposed = gpd.GeoDataFrame(
            {
                "station_id": ["S1", "S2"],
                "candidate_id": ["c7", "c9"],
                "floor_area_m2": [110.0, 500.0],
                "households_served": [850, 150],
                "elderly_served": [255, 45],
                "areas_served": ["a2,a3", "a4"],
            },
            geometry=[Point(c["a2"].x + 10, c["a2"].y), Point(c["a4"].x, c["a4"].y + 10)],
            crs=CRS,
            index=pd.Index(["S1", "S2"]),
        )
    else:
        proposed = gpd.GeoDataFrame(
            {col: pd.Series(dtype=t) for col, t in [
                ("station_id", object), ("candidate_id", object), ("floor_area_m2", float),
                ("households_served", "int64"), ("elderly_served", "int64"),
                ("areas_served", object)]},
            geometry=gpd.GeoSeries([], crs=CRS), crs=CRS,
        )
    sa_rows = [("E1", "existing", existing.geometry["E1"]),
               ("E2", "existing", existing.geometry["E2"])]
    if with_proposed:
        sa_rows += [(s, "proposed", g) for s, g in zip(proposed["station_id"], proposed.geometry,
                                                       strict=True)]
    service = gpd.GeoDataFrame(
        {"facility_id": [r[0] for r in sa_rows], "status": [r[1] for r in sa_rows],
         "cutoff_m": [1000.0] * len(sa_rows)},
        geometry=[r[2].buffer(500) for r in sa_rows], crs=CRS,
    )
    hh_total = sum(HOUSEHOLDS.values())
    hh_cov_b = sum(h for a, h in HOUSEHOLDS.items() if COVERED_BEFORE[a])
    summary = pd.DataFrame(
        {
            "metric": ["households", "households_covered", "covered_share",
                       "areas_compliant", "deficit_m2", "new_stations"],
            "label_en": ["Households", "Households within walking reach", "Share covered",
                         "Areas meeting the floor-area rule", "Total floor-area deficit (m2)",
                         "New stations"],
            "label_zh": ["总户数", "步行可达户数", "覆盖比例", "面积达标小区数", "面积缺口合计", "新增设施数"],
            "before": [hh_total, hh_cov_b, hh_cov_b / hh_total,
                       int(areas["compliant_before"].sum()),
                       float(areas["deficit_before_m2"].sum()), 0],
            "after": [hh_total, hh_total, 1.0, int(areas["compliant_after"].sum()),
                      float(areas["deficit_after_m2"].sum()), 2 if with_proposed else 0],
        }
    )

    def rules(found, passed):
        return pd.DataFrame(
            {
                "rule_id": ["floor_area_per_100hh", "street_centre_min_m2"],
                "label_en": ["Community care floor area per 100 households",
                             "Street care centre minimum floor area"],
                "label_zh": ["每百户养老服务设施建筑面积", "街道级养老服务中心最小建筑面积"],
                "required": [RATE, 500.0],
                "found": found,
                "passed": passed,
                "citation": [CITATION_1, CITATION_2],
            }
        )

    edges = None
    if with_edges:
        edges = gpd.GeoDataFrame(
            {"u": [1, 2], "v": [2, 3], "length_m": [640.0, 640.0]},
            geometry=[LineString([(X0 - 10, Y0 + 310), (X0 + 630, Y0 + 310)]),
                      LineString([(X0 + 310, Y0 - 10), (X0 + 310, Y0 + 630)])],
            crs=CRS,
        )
    return LayoutPlan(
        areas=areas,
        existing=existing,
        proposed=proposed,
        service_areas=service,
        summary=summary,
        rules_before=rules([13.57, 90.0], [False, False]),
        rules_after=rules([21.43, 500.0], [True, True]),
        parameters={"standard": "zhuhai-jinwan-2020", "minutes": 15, "speed_m_per_min": 60.0,
                    "cutoff_m": 900.0, "model": "SetCovering",
                    "candidates": "given: 12 candidate sites", "levels": ["community", "street"]},
        network_edges=edges,
    )


@pytest.fixture(scope="module")
def plan() -> LayoutPlan:
    return _plan()


@pytest.fixture(scope="module")
def out_dir(plan, tmp_path_factory):
    d = tmp_path_factory.mktemp("out") / "plan"
    paths = report.write_all(plan, d, lang="zh", verbose=False)
    return d, paths


def _unescaped_report(path) -> tuple[str, str]:
    """(report page, map page) of a report.html."""
    page = path.read_text(encoding="utf-8")
    m = re.search(r"<iframe[^>]*srcdoc='([^']*)'", page)
    assert m, "the report embeds the map in an iframe srcdoc"
    return page, html.unescape(m.group(1))


# ---------------------------------------------------------------------------------------
# write_all: files
# ---------------------------------------------------------------------------------------
def test_write_all_writes_every_file(out_dir):
    d, paths = out_dir
    assert set(paths) == {"geopackage", "report", "tables", "map_before", "map_after"}
    for p in paths.values():
        assert p.parent == d
        assert p.is_file() and p.stat().st_size > 1000, p
    assert paths["geopackage"].name == "plan.gpkg"
    assert paths["report"].name == "report.html"
    assert paths["tables"].name == "tables.xlsx"
    # no temporary directory left beside the output
    assert sorted(x.name for x in d.parent.iterdir()) == ["plan"]


# ---------------------------------------------------------------------------------------
# GeoPackage
# ---------------------------------------------------------------------------------------
def test_geopackage_layers_round_trip(plan, out_dir):
    gpkg = out_dir[1]["geopackage"]
    layers = dict(pyogrio.list_layers(gpkg))
    assert set(layers) == {"areas", "existing_facilities", "proposed_stations",
                           "service_areas", "network_edges"}
    areas = gpd.read_file(gpkg, layer="areas").set_index("area_id")
    assert areas.crs.equals(plan.crs)
    assert len(areas) == 4
    for a, hh in HOUSEHOLDS.items():
        assert areas.loc[a, "households"] == hh
        req = hh * RATE / 100
        before = PROVIDED_BEFORE[a]
        after = before + PROPOSED_TO.get(a, 0.0)
        assert areas.loc[a, "required_m2"] == pytest.approx(req)
        assert areas.loc[a, "deficit_before_m2"] == pytest.approx(max(req - before, 0))
        assert areas.loc[a, "deficit_after_m2"] == pytest.approx(max(req - after, 0))
        assert bool(areas.loc[a, "compliant_before"]) == (before >= req)
        assert bool(areas.loc[a, "covered_before"]) == COVERED_BEFORE[a]
        # 300 m x 300 m squares
        assert areas.loc[a, "geometry"].area == pytest.approx(90_000)
    assert areas.loc["a2", "served_by"] == "S1"
    assert areas.loc["a3", "name"] == "Area <Three> & co"  # stored raw, not HTML-escaped

    prop = gpd.read_file(gpkg, layer="proposed_stations").set_index("station_id")
    assert list(prop.index) == ["S1", "S2"]
    assert prop.loc["S1", "floor_area_m2"] == 110.0
    assert prop.loc["S1", "areas_served"] == "a2,a3"
    assert prop.loc["S2", "households_served"] == 150
    assert prop.geometry["S1"].distance(plan.proposed.geometry["S1"]) < 1e-6

    ex = gpd.read_file(gpkg, layer="existing_facilities")
    assert sorted(ex["facility_id"]) == ["E1", "E2"]
    assert sorted(ex["level"]) == ["community", "street"]

    sa = gpd.read_file(gpkg, layer="service_areas")
    assert len(sa) == 4
    assert sorted(sa["status"]) == ["existing", "existing", "proposed", "proposed"]
    # buffers of 500 m: area close to pi * 500^2
    assert sa.geometry.area.to_numpy() == pytest.approx(np.pi * 500**2, rel=0.01)
    edges = gpd.read_file(gpkg, layer="network_edges")
    assert edges["length_m"].tolist() == [640.0, 640.0]


def test_geopackage_empty_proposed_and_no_edges(tmp_path):
    p = _plan(with_proposed=False, with_edges=False)
    out = report.write_geopackage(p, tmp_path / "x.gpkg")
    layers = dict(pyogrio.list_layers(out))
    assert set(layers) == {"areas", "existing_facilities", "proposed_stations", "service_areas"}
    prop = gpd.read_file(out, layer="proposed_stations")
    assert len(prop) == 0
    assert {"station_id", "floor_area_m2", "areas_served"} <= set(prop.columns)
    assert len(gpd.read_file(out, layer="service_areas")) == 2
    assert [x.name for x in tmp_path.iterdir()] == ["x.gpkg"]


def test_geopackage_overwrites_existing_file(tmp_path, plan):
    path = tmp_path / "plan.gpkg"
    path.write_bytes(b"not a geopackage")
    report.write_geopackage(plan, path)
    assert len(gpd.read_file(path, layer="areas")) == 4


# ---------------------------------------------------------------------------------------
# Excel
# ---------------------------------------------------------------------------------------
def test_excel_sheets_match_plan(plan, out_dir):
    xlsx = out_dir[1]["tables"]
    sheets = pd.read_excel(xlsx, sheet_name=None)
    assert list(sheets) == ["summary", "areas", "proposed", "existing", "rules_before",
                            "rules_after", "parameters"]
    s = sheets["summary"].set_index("metric")
    assert s.loc["households", "before"] == 1400
    assert s.loc["households_covered", "before"] == 400 + 600
    assert s.loc["households_covered", "after"] == 1400
    assert s.loc["deficit_m2", "before"] == pytest.approx(50 + 60)
    assert s.loc["deficit_m2", "after"] == 0
    assert s.loc["covered_share", "before"] == pytest.approx(1000 / 1400)
    assert s.loc["areas_compliant", "label_zh"] == "面积达标小区数"

    a = sheets["areas"].set_index("area_id")
    assert "geometry" not in a.columns
    assert a["households"].to_dict() == HOUSEHOLDS
    assert a.loc["a3", "deficit_before_m2"] == pytest.approx(600 * RATE / 100 - 60)
    assert a["compliant_after"].astype(bool).all()
    assert pd.isna(a.loc["a2", "nearest_distance_before_m"])
    assert a.loc["a3", "name"] == "Area <Three> & co"

    pr = sheets["proposed"].set_index("station_id")
    assert pr["floor_area_m2"].to_dict() == {"S1": 110.0, "S2": 500.0}
    assert pr.loc["S1", "areas_served"] == "a2,a3"
    # coordinates: independent pyproj transform of the station point
    g = plan.proposed.geometry["S1"]
    lon, lat = TO_LL.transform(g.x, g.y)
    assert pr.loc["S1", "lon"] == pytest.approx(lon, abs=1e-9)
    assert pr.loc["S1", "lat"] == pytest.approx(lat, abs=1e-9)
    assert pr.loc["S1", "x_m"] == pytest.approx(g.x)
    assert abs(lon - LON0) < 0.02 and abs(lat - LAT0) < 0.02

    ex = sheets["existing"].set_index("facility_id")
    assert ex["floor_area_m2"].to_dict() == {"E1": 100.0, "E2": 90.0}

    for name, found in (("rules_before", [13.57, 90.0]), ("rules_after", [21.43, 500.0])):
        r = sheets[name]
        assert r["citation"].tolist() == [CITATION_1, CITATION_2]
        assert r["found"].tolist() == found
        assert r["required"].tolist() == [RATE, 500.0]
    assert sheets["rules_after"]["passed"].astype(bool).all()
    assert not sheets["rules_before"]["passed"].astype(bool).any()

    par = dict(zip(sheets["parameters"]["parameter"], sheets["parameters"]["value"],
                   strict=True))
    assert par["standard"] == "zhuhai-jinwan-2020"
    assert str(par["cutoff_m"]) == "900"
    assert par["levels"] == '["community", "street"]'
    assert par["crs"] == "EPSG:32650"
    assert "OpenStreetMap" in par["attribution"]


# ---------------------------------------------------------------------------------------
# HTML report
# ---------------------------------------------------------------------------------------
_TILE_RE = re.compile(r"\{z\}|\{x\}|\{y\}|tile\.openstreetmap|/tiles?/|cartocdn|arcgisonline|"
                      r"stamen|thunderforest|tianditu|amap\.com|map\.baidu|mapbox", re.I)


def _xstatic_leaflet() -> bool:
    try:
        import xstatic.pkg.leaflet  # noqa: F401
    except ImportError:
        return False
    return True


def test_html_report_zh(plan, out_dir):
    page, mp = _unescaped_report(out_dir[1]["report"])
    assert "<html lang='zh-CN'>" in page
    assert "养老服务设施布局规划报告" in page
    # summary: the plan's numbers (formatted as integers / 2 decimals), zh labels
    # (labels from the report's catalogue, not from the frame; shares in percent)
    assert "<td>步行服务圈覆盖户数</td><td class='num'>1000</td><td class='num'>1400</td>" \
           "<td class='num'>400</td>" in page
    assert "<td>缺口面积 (m²)</td><td class='num'>110</td><td class='num'>0</td>" \
           "<td class='num'>-110</td>" in page
    assert f"<td class='num'>{100 * 1000 / 1400:.1f}%</td><td class='num'>100%</td>" \
           f"<td class='num'>+{100 - 100 * 1000 / 1400:.1f} 个百分点</td>" in page
    # rule tables with citations, both before and after
    assert page.count(html.escape(CITATION_1)) == 2
    assert page.count(CITATION_2) == 2
    assert "每百户养老服务设施建筑面积" in page
    assert "Community care floor area per 100 households" not in page
    # proposed stations
    # (ids kept on one line; the level of each proposed facility after its kind)
    assert ("<td class='id'>S1</td><td class='id'>社区级</td><td class='id'>c7</td><td class='num'>110</td>"
            "<td class='num'>850</td>") in page
    # parameters and attribution
    assert "zhuhai-jinwan-2020" in page and "SetCovering" in page
    assert "© OpenStreetMap contributors" in page
    assert "© OpenStreetMap contributors" in mp  # shown on the map itself too
    # text is escaped
    assert "Area &lt;Three&gt; &amp; co" in page
    assert "<Three>" not in page
    # three charts embedded as PNG: households covered, deficit by area, Lorenz curves
    assert len(re.findall(r"src='data:image/png;base64,[A-Za-z0-9+/=]{200,}'", page)) == 3
    # no tile server, in the report or in the map page
    assert not _TILE_RE.search(page) and not _TILE_RE.search(mp)


def test_html_report_en(plan, tmp_path):
    path = report.write_html(plan, tmp_path / "r.html", lang="en")
    page, mp = _unescaped_report(path)
    assert "<html lang='en'>" in page
    assert "Elderly-care facility layout plan" in page
    assert "<td>Households within the walking circle</td><td class='num'>1000</td>" in page
    assert "Community care floor area per 100 households" in page
    assert "每百户养老服务设施建筑面积" not in page
    assert "Rule check (after)" in page
    assert "Proposed stations" in mp and "Areas: compliance after" in mp
    assert "© OpenStreetMap contributors" in page


@pytest.mark.skipif(not _xstatic_leaflet(), reason="xstatic-leaflet not installed")
def test_html_report_is_self_contained(out_dir):
    page, mp = _unescaped_report(out_dir[1]["report"])
    for doc in (page, mp):
        assert not re.search(r'<(?:script|link|img)[^>]+(?:src|href)=["\']?(?:https?:)?//',
                             doc), "external resource referenced"
    assert "L.map(" in mp or "L.map (" in mp
    assert "leaflet-control-layers" in mp  # Leaflet CSS inlined


def test_html_without_leaflet_package_warns(plan, tmp_path, monkeypatch):
    monkeypatch.setattr(report.maps, "_leaflet_assets", lambda: None)
    with pytest.warns(CareplanWarning, match="xstatic-leaflet"):
        path = report.write_html(plan, tmp_path / "r.html", lang="en")
    page, mp = _unescaped_report(path)
    assert "leaflet.js" in mp
    assert "install xstatic-leaflet" in page
    assert not _TILE_RE.search(mp)


def test_map_needs_no_jquery_and_survives_template_syntax_in_data(plan, tmp_path):
    """Names with Jinja syntax are shown literally (folium re-renders its output as a
    template), and no script uses jQuery (only Leaflet is loaded)."""
    import dataclasses

    a = plan.areas.copy()
    a.loc["a1", "name"] = "{{ x }} {% if"
    p = dataclasses.replace(plan, areas=a, attribution="{{ boom }} & co")
    page, mp = _unescaped_report(report.write_html(p, tmp_path / "r.html", lang="en"))
    # in the GeoJSON (JSON-escaped "&"): HTML entities that display as "{{ x }} {% if"
    amp = "\\u0026"
    assert f"{amp}#123;{amp}#123; x {amp}#125;{amp}#125; {amp}#123;% if" in mp
    assert "&#123;&#123; boom &#125;&#125; &amp; co" in mp  # legend
    assert "&#123;&#123; boom &#125;&#125; &amp; co" in page  # footer (shows "{{ boom }} & co")
    assert "OpenStreetMap contributors" in mp
    scripts = re.findall(r"<script>(.*?)</script>", mp, flags=re.S)
    for js in scripts:
        if "Leaflet" in js[:300]:
            continue  # the inlined library itself
        assert not re.search(r"(?<![\w$.])\$\(", js), "map script uses jQuery"


@pytest.mark.skipif(shutil.which("node") is None, reason="node not available")
def test_map_scripts_are_valid_javascript(plan, tmp_path):
    """Inline scripts of the map page parse (catches broken escaping of names)."""
    import dataclasses

    a = plan.areas.copy()
    a.loc["a1", "name"] = "</script><img src=x onerror=alert(1)>"
    p = dataclasses.replace(plan, areas=a)
    page, mp = _unescaped_report(report.write_html(p, tmp_path / "r.html", lang="en"))
    assert "<img src=x" not in page and "<img src=x" not in mp
    scripts = re.findall(r"<script>(.*?)</script>", mp, flags=re.S)
    assert len(scripts) >= 2
    for i, js in enumerate(scripts):
        f = tmp_path / f"s{i}.js"
        f.write_text(js, encoding="utf-8")
        r = subprocess.run(["node", "--check", str(f)], capture_output=True, text=True,
                           timeout=60)
        assert r.returncode == 0, r.stderr


# ---------------------------------------------------------------------------------------
# folium map
# ---------------------------------------------------------------------------------------
def test_folium_map_layers_popups_and_coordinates(plan):
    import folium

    m = report.folium_map(plan, lang="en")
    assert isinstance(m, folium.Map)
    doc = m.get_root().render()
    for name in ("Areas: compliance after", "Areas: compliance before", "Existing facilities",
                 "Proposed stations", "Service areas: existing", "Service areas: proposed",
                 "Street network"):
        assert name in doc, name
    assert "L.control.layers" in doc
    assert "careplan-legend" in doc
    assert "tileLayer" not in doc
    # proposed station S1 at its WGS84 position, with a popup holding its numbers
    g = plan.proposed.geometry["S1"]
    lon, lat = TO_LL.transform(g.x, g.y)
    markers = [(float(a), float(b)) for a, b in
               re.findall(r"L\.circleMarker\(\s*\[([-\d.]+), ([-\d.]+)\]", doc)]
    assert len(markers) == 4  # 2 existing + 2 proposed
    assert min(abs(a - lat) + abs(b - lon) for a, b in markers) < 1e-9
    popups = [json.loads(x) for x in re.findall(r'\.bindPopup\(("(?:[^"\\]|\\.)*")', doc)]
    assert len(popups) == 4
    s1 = [p for p in popups if ">S1<" in p]
    assert s1 and ">110<" in s1[0] and ">850<" in s1[0] and ">a2,a3<" in s1[0]
    # areas coloured by compliance: before has red (a2, a3 non-compliant), after none
    assert report._common.C_BAD in doc and report._common.C_OK in doc


def test_folium_map_optional_tiles(plan):
    doc = report.folium_map(plan, lang="zh", tiles="OpenStreetMap").get_root().render()
    assert "tileLayer" in doc


def test_folium_map_reprojects_other_crs_with_warning(plan, tmp_path):
    import dataclasses

    p = dataclasses.replace(plan, existing=plan.existing.to_crs(4326))
    with pytest.warns(CareplanWarning, match="existing"):
        out = report.write_geopackage(p, tmp_path / "p.gpkg")
    ex = gpd.read_file(out, layer="existing_facilities").set_index("facility_id")
    assert ex.crs.equals(plan.crs)
    assert ex.geometry["E1"].distance(plan.existing.geometry["E1"]) < 1e-3
    # the input plan is not mutated
    assert p.existing.crs.to_epsg() == 4326


# ---------------------------------------------------------------------------------------
# PNG maps
# ---------------------------------------------------------------------------------------
def _orange_pixels(path) -> int:
    import matplotlib.image as mpimg

    img = mpimg.imread(path)[..., :3]
    target = np.array([1.0, 127 / 255, 0.0])
    return int((np.abs(img - target).max(axis=2) < 0.02).sum())


def test_png_maps(plan, out_dir):
    import matplotlib.image as mpimg

    before, after = out_dir[1]["map_before"], out_dir[1]["map_after"]
    for p in (before, after):
        img = mpimg.imread(p)
        assert img.ndim == 3 and img.shape[0] > 500 and img.shape[1] > 500
        assert img[..., :3].std() > 0.05  # not blank
    # proposed stations (opaque orange stars) only on the after map
    assert _orange_pixels(before) == 0
    assert _orange_pixels(after) > 50


def test_png_maps_requires_directory(plan, tmp_path):
    with pytest.raises(InputError, match="not a directory"):
        report.write_png_maps(plan, tmp_path / "missing")
    with pytest.raises(InputError, match="dpi"):
        report.write_png_maps(plan, tmp_path, dpi=0)


# ---------------------------------------------------------------------------------------
# atomic writing
# ---------------------------------------------------------------------------------------
def _snapshot(d):
    return {p.name: p.read_bytes() for p in d.iterdir()}


@pytest.fixture
def fast_figures(monkeypatch):
    """Skip matplotlib in the atomic-write tests (figures are tested above)."""

    def fake_map(plan, when, path, lang, dpi=150):
        path.write_bytes(f"png {when} {lang} {len(plan.proposed)}".encode())
        return path

    monkeypatch.setattr(report.figures, "_draw_map", fake_map)
    monkeypatch.setattr(report.html, "charts", lambda plan, lang: [])


def test_failed_run_leaves_earlier_output_intact(plan, fast_figures, tmp_path, monkeypatch):
    d = tmp_path / "out"
    report.write_all(plan, d, lang="zh", verbose=False)
    good = _snapshot(d)

    def boom(*_a, **_k):
        raise RuntimeError("disk full")

    monkeypatch.setattr(report, "write_excel", boom)
    with pytest.raises(RuntimeError, match="disk full"):
        report.write_all(_plan(with_proposed=False), d, lang="en", verbose=False)
    assert _snapshot(d) == good
    assert sorted(x.name for x in tmp_path.iterdir()) == ["out"]  # no temp dir left

    # a failure on a fresh target leaves nothing behind
    with pytest.raises(RuntimeError):
        report.write_all(plan, tmp_path / "fresh", verbose=False)
    assert not (tmp_path / "fresh").exists()
    assert sorted(x.name for x in tmp_path.iterdir()) == ["out"]


def test_successful_rerun_replaces_output(plan, fast_figures, tmp_path):
    d = tmp_path / "out"
    report.write_all(plan, d, lang="zh", verbose=False)
    report.write_all(_plan(with_proposed=False), d, lang="en", verbose=False)
    assert "<html lang='en'>" in (d / "report.html").read_text(encoding="utf-8")
    assert len(gpd.read_file(d / "plan.gpkg", layer="proposed_stations")) == 0
    assert sorted(x.name for x in tmp_path.iterdir()) == ["out"]


def test_write_all_keeps_unrelated_files(plan, fast_figures, tmp_path):
    d = tmp_path / "mine"
    d.mkdir()
    (d / "notes.txt").write_text("keep me")
    (d / "report.html").write_text("old")
    paths = report.write_all(plan, d, lang="en", verbose=False)
    assert (d / "notes.txt").read_text() == "keep me"
    assert paths["report"].read_text(encoding="utf-8").startswith("<!DOCTYPE html>")
    assert all(p.is_file() for p in paths.values())


# ---------------------------------------------------------------------------------------
# bad input
# ---------------------------------------------------------------------------------------
def test_bad_language(plan, tmp_path):
    with pytest.raises(InputError, match="lang='fr'"):
        report.write_html(plan, tmp_path / "r.html", lang="fr")
    with pytest.raises(CareplanError):
        report.folium_map(plan, lang="de")


def test_missing_column_named(plan, tmp_path):
    import dataclasses

    p = dataclasses.replace(plan, areas=plan.areas.drop(columns=["deficit_after_m2"]))
    with pytest.raises(InputError, match="deficit_after_m2"):
        report.write_all(p, tmp_path / "o", verbose=False)
    assert not (tmp_path / "o").exists()
    p = dataclasses.replace(plan, rules_after=plan.rules_after.drop(columns=["citation"]))
    with pytest.raises(InputError, match="rules_after.*citation"):
        report.write_excel(p, tmp_path / "t.xlsx")


def test_geographic_or_missing_crs(plan, tmp_path):
    import dataclasses

    p = dataclasses.replace(plan, areas=plan.areas.to_crs(4326))
    with pytest.raises(CRSError, match="projected"):
        report.write_geopackage(p, tmp_path / "p.gpkg")
    p = dataclasses.replace(plan, areas=plan.areas.set_crs(None, allow_override=True))
    with pytest.raises(CRSError, match="no CRS"):
        report.write_excel(p, tmp_path / "t.xlsx")


def test_target_is_a_file(plan, tmp_path):
    f = tmp_path / "file"
    f.write_text("x")
    with pytest.raises(InputError, match="not a directory"):
        report.write_all(plan, f, verbose=False)
    assert f.read_text() == "x"


def test_not_a_plan(tmp_path):
    with pytest.raises(InputError, match="LayoutPlan"):
        report.write_html(object(), tmp_path / "r.html")


# ---------------------------------------------------------------------------------------
# optional: headless browser screenshot
# ---------------------------------------------------------------------------------------
def _chromium() -> str | None:
    for name in ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable"):
        if shutil.which(name):
            return shutil.which(name)
    return None


@pytest.mark.skipif(_chromium() is None, reason="no chromium on this machine")
def test_report_renders_in_headless_chromium(out_dir, tmp_path):
    import matplotlib.image as mpimg

    shot = tmp_path / "shot.png"
    cmd = [_chromium(), "--headless", "--no-sandbox", "--disable-gpu",
           "--virtual-time-budget=5000", "--window-size=1280,2000",
           f"--screenshot={shot}", out_dir[1]["report"].as_uri()]
    subprocess.run(cmd, capture_output=True, timeout=60, check=False)
    assert shot.is_file()
    img = mpimg.imread(shot)[..., :3]
    assert img.std() > 0.05
    assert len(np.unique((img * 255).astype(int).reshape(-1, 3), axis=0)) > 50


# ---------------------------------------------------------------------------------------
# contract extras: expansions, NA flags, rule units/notes
# ---------------------------------------------------------------------------------------
def test_expansions_na_flags_and_rule_notes(plan, tmp_path):
    import dataclasses

    pr = plan.proposed.copy()
    pr["kind"] = ["new", "expansion"]
    pr["facility_id"] = [None, "E2"]
    pr["n_areas_served"] = [2, 1]
    a = plan.areas.copy()
    # an area without households: the floor-area rule does not apply (NA)
    a["compliant_before"] = pd.array([True, False, False, pd.NA], dtype="boolean")
    a["compliant_after"] = pd.array([True, True, True, pd.NA], dtype="boolean")
    rb = plan.rules_before.copy()
    rb["unit"] = ["m2/100hh", "m2"]
    rb["note"] = ["per area", "no street centre <found>"]
    rb["passed"] = pd.array([False, pd.NA], dtype="boolean")
    rb["required_max"] = [np.nan, 800.0]  # a range for the second rule
    p = dataclasses.replace(plan, proposed=pr, areas=a, rules_before=rb)
    paths = {"report": report.write_html(p, tmp_path / "r.html", lang="zh"),
             "geopackage": report.write_geopackage(p, tmp_path / "p.gpkg"),
             "tables": report.write_excel(p, tmp_path / "t.xlsx")}
    pngs = report.write_png_maps(p, tmp_path, lang="en", dpi=40)
    assert [x.name for x in pngs] == ["map_before.png", "map_after.png"]
    page, mp = _unescaped_report(paths["report"])
    assert ("<td class='id'>S2</td><td class='id'>扩建</td><td class='id'>街道级</td><td class='id'>c9</td>"
            "<td class='id'>E2</td><td class='num'>500</td>") in page
    assert "现状街道级设施扩建" in mp  # legend entry for expansions (E2 is a street centre)
    assert report._common.C_NA in mp and "无需配置" in mp  # NA areas drawn grey, in the legend
    assert "<td>m2/100hh</td><td class='bad'>否</td><td>per area</td>" in page
    # a rule not evaluated says so; known units shown in the report's language
    assert "<td>m²</td><td class='na'>未评估</td><td>no street centre &lt;found&gt;</td>" in page
    assert "<td class='num'>500–800</td><td class='num'>90</td><td>m²</td>" in page
    areas = gpd.read_file(paths["geopackage"], layer="areas").set_index("area_id")
    assert pd.isna(areas.loc["a4", "compliant_after"])
    assert bool(areas.loc["a3", "compliant_after"])
    prop = gpd.read_file(paths["geopackage"], layer="proposed_stations").set_index("station_id")
    assert prop.loc["S2", "kind"] == "expansion" and prop.loc["S2", "facility_id"] == "E2"
    xl = pd.read_excel(paths["tables"], sheet_name="rules_before")
    assert xl["note"].tolist() == ["per area", "no street centre <found>"]
    assert pd.isna(xl["passed"].iloc[1])


def test_point_areas(plan, tmp_path):
    """read_areas allows Point areas: they are drawn as circles and stored as points."""
    import dataclasses

    a = plan.areas.copy()
    a = a.set_geometry(a.geometry.centroid)
    p = dataclasses.replace(plan, areas=a)
    doc = report.folium_map(p, lang="en").get_root().render()
    assert "pointToLayer" in doc and "return new L.CircleMarker(latlng, opts)" in doc
    out = report.write_geopackage(p, tmp_path / "p.gpkg")
    g = gpd.read_file(out, layer="areas").set_index("area_id")
    assert set(g.geom_type) == {"Point"}
    assert g.geometry["a2"].distance(plan.areas.geometry["a2"].centroid) < 1e-6
    assert len(report.write_png_maps(p, tmp_path, lang="en", dpi=40)) == 2


def test_awkward_cell_values(plan, tmp_path):
    """Mixed-type and list columns, control characters and very long text are written."""
    import dataclasses

    ex = plan.existing.copy()
    ex["osmid"] = [[1, 2], 3]  # lists and ints mixed, as osmnx gives
    ex["name"] = ["bad\x0bchar", "x" * 40_000]
    p = dataclasses.replace(plan, existing=ex, parameters={**plan.parameters, "ids": "y" * 40_000})
    g = gpd.read_file(report.write_geopackage(p, tmp_path / "p.gpkg"), layer="existing_facilities")
    assert g["osmid"].tolist() == ["[1, 2]", "3"]
    assert g["name"].tolist() == ["bad\x0bchar", "x" * 40_000]  # GPKG keeps everything
    xl = pd.read_excel(report.write_excel(p, tmp_path / "t.xlsx"), sheet_name=None)
    assert xl["existing"]["name"].iloc[0] == "bad\\x0bchar"  # control character made visible
    assert len(xl["existing"]["name"].iloc[1]) == 32767
    assert xl["existing"]["name"].iloc[1].endswith("[truncated; see plan.gpkg]")
    par = dict(zip(xl["parameters"]["parameter"], xl["parameters"]["value"], strict=True))
    assert par["ids"].startswith("yyy") and len(par["ids"]) == 32767


def test_figure_language_falls_back_without_cjk_font(monkeypatch):
    monkeypatch.setattr(report.figures, "cjk_font", lambda: None)
    assert report.figures.fig_lang("zh") == ("en", None)
    assert report.figures.fig_lang("en") == ("en", None)


def test_figures_in_chinese_when_a_cjk_font_exists(plan, tmp_path):
    font = report.figures.cjk_font()
    if font is None:
        pytest.skip("no CJK font (install mplfonts or fonts-noto-cjk)")
    from matplotlib import font_manager

    # the font really draws Chinese: it has a glyph for every character of a label
    path = font_manager.findfont(font_manager.FontProperties(family=font),
                                 fallback_to_default=False)
    from matplotlib.ft2font import FT2Font

    ft = FT2Font(path)
    cmap = ft.get_charmap()
    assert all(ord(ch) in cmap for ch in report.labels.t("lg_deficit", "zh"))
    assert report.figures.fig_lang("zh") == ("zh", font)


def test_optional_tables_in_html_xlsx_and_gpkg(plan, tmp_path):
    """A plan's allocation (and other optional tables) reach all three outputs, labelled."""
    import dataclasses

    alloc = pd.DataFrame({"facility_id": ["E1", "S1", "S1"], "area_id": ["a1", "a2", "a3"],
                          "floor_area_m2": [80.0, 50.0, 60.0]})
    notmet = pd.DataFrame({"rule_id": ["canteen_coverage"],
                           "reason": ["no candidate site inside street <B>"]})
    @dataclasses.dataclass(frozen=True)
    class LaterPlan(LayoutPlan):  # a plan carrying a table this LayoutPlan may gain later
        rules_not_met: pd.DataFrame | None = None

    fields = {f.name: getattr(plan, f.name) for f in dataclasses.fields(plan)}
    p = LaterPlan(**{**fields, "allocation": alloc, "rules_not_met": notmet})
    page = report.write_html(p, tmp_path / "r.html", lang="zh").read_text(encoding="utf-8")
    assert "<h2 id='allocation'>设施面积分配（设施 → 小区）</h2>" in page
    assert "<th>设施编号</th><th>小区编号</th><th>建筑面积 (m²)</th>" in page
    assert "<td class='id'>S1</td><td>a3</td><td class='num'>60</td>" in page
    assert "本规划未满足的规范条目及原因" in page and "street &lt;B&gt;" in page
    xl = pd.read_excel(report.write_excel(p, tmp_path / "t.xlsx"), sheet_name=None)
    pd.testing.assert_frame_equal(xl["allocation"], alloc, check_dtype=False)
    assert xl["rules_not_met"]["reason"].tolist() == ["no candidate site inside street <B>"]
    gp = report.write_geopackage(p, tmp_path / "p.gpkg")
    got = pyogrio.read_dataframe(gp, layer="allocation")
    assert got["floor_area_m2"].sum() == pytest.approx(190.0)
    assert got["area_id"].tolist() == ["a1", "a2", "a3"]


def test_citations_by_document_title_and_clause_never_file_names():
    """Rule citations come from the profile: title and clause, quote verbatim."""
    import careplan as cp
    from careplan.report.tables import rules_frame, standard_citations

    std = cp.standards.load("jinwan-2020")
    cits = standard_citations({"standard": "jinwan-2020"})
    r = std.rule("floor_area_new")
    rules = pd.DataFrame({"rule_id": [r.id, "custom"], "label_zh": [r.label_zh, "自定义"],
                          "label_en": [r.label_en, "custom"], "required": [20.0, 1.0],
                          "found": [18.0, 2.0], "passed": [False, True],
                          "citation": [str(r.citation), "某文件 [000_3e652f51f0a30919.txt], 第1条"]})
    zh = rules_frame(rules, "zh", citations=cits)
    c = r.citation
    assert zh["citation"].iloc[0] == f"《{c.title_zh}》{c.clause}：“{c.quote}”"
    en = rules_frame(rules, "en", citations=cits)
    assert en["citation"].iloc[0].startswith(f"{c.title}, {c.clause}")
    assert c.quote in en["citation"].iloc[0]  # the quote stays verbatim (Chinese)
    assert zh["citation"].iloc[1] == "某文件, 第1条"  # a file name never shown
    assert not any(".txt" in x for x in zh["citation"])


def test_service_circle_row_compares_shares_and_units_are_labelled():
    from careplan.report.tables import rules_frame

    rules = pd.DataFrame({"rule_id": ["service_circle", "station_coverage", "floor"],
                          "kind": ["service_circle", "station_coverage_share", "x"],
                          "label_zh": ["15分钟圈", "站点覆盖", "面积"], "label_en": ["a", "b", "c"],
                          "required": [15.0, 1.0, 20.0], "found": [0.7323, 0.69, 21.0],
                          "unit": ["minutes", "share of communities", "m2 per 100 households"],
                          "passed": [False, False, True], "citation": ["x", "y", "z"]})
    zh = rules_frame(rules, "zh").set_index("rule_id")
    # like with like: the share of households within the circle, required 100 %
    assert zh.loc["service_circle", ["required", "found"]].tolist() == ["100%", "73.2%"]
    assert zh.loc["service_circle", "unit"] == "步行 15 分钟内的户数占比"
    assert zh.loc["station_coverage", ["required", "found", "unit"]].tolist() == [
        "100%", "69%", "社区覆盖率"]
    assert zh.loc["floor", ["required", "found", "unit"]].tolist() == ["20", "21", "m²/百户"]


def test_life_circle_row_compares_shares():
    from careplan.report.tables import rules_frame

    # GB 50180's circles: required in metres (a range for the 15-minute one), found a share
    rules = pd.DataFrame({"rule_id": ["lc15", "lc5"], "kind": ["life_circle_m"] * 2,
                          "label_zh": ["15分钟", "5分钟"], "label_en": ["a", "b"],
                          "required": [800.0, 300.0], "required_max": [1000.0, np.nan],
                          "found": [0.485637, 1.0], "unit": ["m walking"] * 2,
                          "passed": [False, True], "citation": ["x", "y"]})
    zh = rules_frame(rules, "zh").set_index("rule_id")
    assert zh.loc["lc15", ["required", "found", "unit"]].tolist() == [
        "100%", "48.6%", "步行 1000 米内的户数占比"]
    en = rules_frame(rules, "en").set_index("rule_id")
    assert en.loc["lc5", ["required", "found", "unit"]].tolist() == [
        "100%", "100%", "share of households within a 300 m walk"]


def test_map_scale_bar_is_metric_only(plan):
    html_map = report.folium_map(plan, lang="zh").get_root().render()
    assert "L.control.scale({metric: true, imperial: false" in html_map
