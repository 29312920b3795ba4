"""report.html at city scale (issue 15.1): bounded size, simplified and aggregated layers."""

from __future__ import annotations

import dataclasses
import html
import json
import re

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely
from test_report import X0, Y0, _plan

import careplan.report as report
from careplan.report import maps
from careplan.report.format import fmt
from careplan.report.html import HTML_MAX_ROWS

#: The bound asserted on the generated city below (bytes); main's writer made 9.7 MB of a
#: 10k-node city with 100 estates (benchmarks/README.md, report section).
MAX_HTML_BYTES = 3_000_000


def _city_plan(n_side: int, n_areas: int, n_service: int, n_proposed: int):
    """A plan shaped like a city's: an n_side x n_side street grid (100 m blocks), square
    estates, service areas with a hole per block (as the walked-street envelopes have) and
    proposed stations, built directly (no planning: this tests the writer)."""
    rng = np.random.default_rng(3)
    base = _plan()
    crs = base.crs
    xs = X0 + np.arange(n_side) * 100.0
    ys = Y0 + np.arange(n_side) * 100.0
    gx, gy = np.meshgrid(xs, ys)
    h = shapely.linestrings(np.stack([np.stack([gx[:, :-1], gy[:, :-1]], -1).reshape(-1, 2),
                                      np.stack([gx[:, 1:], gy[:, 1:]], -1).reshape(-1, 2)], 1))
    v = shapely.linestrings(np.stack([np.stack([gx[:-1], gy[:-1]], -1).reshape(-1, 2),
                                      np.stack([gx[1:], gy[1:]], -1).reshape(-1, 2)], 1))
    lines = np.concatenate([h, v])
    edges = gpd.GeoDataFrame({"length_m": np.full(len(lines), 100.0)}, geometry=lines, crs=crs)
    cx = rng.uniform(xs[0], xs[-1], n_areas)
    cy = rng.uniform(ys[0], ys[-1], n_areas)
    hh = rng.integers(100, 2000, n_areas)
    req = hh * 0.2
    before = req * rng.uniform(0, 1.2, n_areas)
    ids = [f"A{i:05d}" for i in range(n_areas)]
    areas = gpd.GeoDataFrame({
        "area_id": ids, "name": [f"小区{i}" for i in range(n_areas)], "households": hh,
        "elderly": (hh * 0.25).astype(int), "built": "existing", "required_m2": req,
        "provided_before_m2": np.minimum(before, req), "provided_after_m2": req,
        "deficit_before_m2": np.maximum(req - before, 0), "deficit_after_m2": 0.0,
        "compliant_before": before >= req, "compliant_after": True,
        "nearest_distance_before_m": rng.uniform(0, 1500, n_areas),
        "nearest_distance_after_m": rng.uniform(0, 900, n_areas),
        "covered_before": rng.random(n_areas) < 0.7, "covered_after": True,
        "served_by": None}, geometry=shapely.box(cx - 30, cy - 30, cx + 30, cy + 30),
        crs=crs, index=pd.Index(ids))

    def envelope(x, y):  # a 900 m square with a 60 m hole per 100 m block
        holes = [shapely.box(x + i, y + j, x + i + 60, y + j + 60).exterior.coords
                 for i in range(20, 900, 100) for j in range(20, 900, 100)]
        return shapely.Polygon(shapely.box(x, y, x + 900, y + 900).exterior.coords, holes)

    sx = rng.uniform(xs[0], xs[-1] - 900, n_service)
    sy = rng.uniform(ys[0], ys[-1] - 900, n_service)
    status = np.where(np.arange(n_service) < n_service // 2, "existing", "proposed")
    service = gpd.GeoDataFrame({"facility_id": [f"F{i}" for i in range(n_service)],
                                "status": status, "cutoff_m": 900.0},
                               geometry=[envelope(x, y) for x, y in zip(sx, sy, strict=True)],
                               crs=crs)
    px = rng.uniform(xs[0], xs[-1], n_proposed)
    py = rng.uniform(ys[0], ys[-1], n_proposed)
    sids = [f"S{i:04d}" for i in range(n_proposed)]
    proposed = gpd.GeoDataFrame({
        "station_id": sids, "kind": "new", "candidate_id": [f"C{i}" for i in range(n_proposed)],
        "floor_area_m2": rng.uniform(200, 800, n_proposed),
        "households_served": rng.integers(100, 3000, n_proposed),
        "elderly_served": rng.integers(30, 900, n_proposed), "n_areas_served": 3,
        "areas_served": "A00001,A00002,A00003"}, geometry=shapely.points(px, py), crs=crs,
        index=pd.Index(sids))
    alloc = pd.DataFrame({"facility_id": np.repeat(sids, 3), "area_id": ids[:3 * n_proposed],
                          "floor_area_m2": 100.0})
    return dataclasses.replace(base, areas=areas, proposed=proposed, service_areas=service,
                               network_edges=edges, allocation=alloc)


@pytest.fixture(scope="module")
def city():
    # 160 x 160 nodes: 50,880 edges (> MAX_MAP_EDGES), 2,500 estates (> 2,000), 400 service
    # areas (> 300), 400 stations (> 300 markers)
    return _city_plan(160, 2_500, 400, 400)


def test_city_report_stays_within_its_size_bound(city, tmp_path):
    assert len(city.network_edges) > maps.MAX_MAP_EDGES
    assert maps.map_reductions(city) == {"network_dropped": len(city.network_edges),
                                         "areas_as_points": 2_500,
                                         "service_areas_merged": 400}
    path = report.write_html(city, tmp_path / "report.html", lang="zh")
    size = path.stat().st_size
    assert size < MAX_HTML_BYTES, f"{size / 1e6:.2f} MB"
    page = path.read_text(encoding="utf-8")
    # the report says what the map left out or merged, with the numbers
    for text in (f"路网共 {len(city.network_edges)} 条路段，超过 {maps.MAX_MAP_EDGES} 条",
                 "居住区共 2500 个，超过 2000 个，交互地图中以圆点表示（每个小区一个点",
                 "服务范围共 400 个，超过 300 个", "容差：居住区 1 m，路网 2 m，服务范围 10 m",
                 # a 16 km city: the floor of the merged shapes' tolerance
                 "合并后简化容差 25 m，即地图范围的 1/1,000、不小于 25 m"):
        assert text in page, text
    # long tables are cut with a note; the full tables are in the workbook
    assert page.count(f"仅列出前 {HTML_MAX_ROWS} 行") >= 2  # areas, allocation
    assert page.count("<tr><td>A0") <= 2 * HTML_MAX_ROWS


def test_city_map_layers_are_reduced_not_lost(city):
    doc = html.unescape(report.folium_map(city, lang="en").get_root().render())
    assert "Street network" not in doc  # dropped above the limit (kept in the GPKG)
    # two merged service-area shapes (existing, proposed), no per-facility tooltip
    feats = [json_obj for json_obj in re.findall(r'"facility_id": "F\d+"', doc)]
    assert feats == []
    # every estate is still on the map, as a point written once for both layers
    assert doc.count('"A0') == 2_500 and '"area_id": "A0' not in doc
    # every station too, in one point array (no per-station script, no GeoJSON feature)
    assert doc.count('"S0') == 400 and '"station_id": "S0' not in doc
    assert doc.count("bindPopup") == 2  # the 2 existing facilities keep their markers


def test_below_the_limits_nothing_is_dropped_and_shapes_are_simplified_only_slightly():
    small = _city_plan(20, 50, 6, 5)
    assert maps.map_reductions(small) == {}
    doc = report.folium_map(small, lang="en").get_root().render()
    assert "Street network" in doc
    assert doc.count("bindPopup") == 2 + 5  # existing + proposed markers keep their popups
    # the street layer is one feature (edges chained into lines)
    assert doc.count('"type": "MultiLineString"') + doc.count('"type": "LineString"') == 1
    # holes of a service area (60 x 60 m blocks, 0.36 ha) are filled; the outline stays
    sa = maps._service_shapes(small.service_areas)
    assert all(len(g.interiors) == 0 for g in sa.geometry)
    assert np.allclose(sa.geometry.envelope.area, small.service_areas.geometry.envelope.area)
    big_hole = shapely.Polygon(shapely.box(0, 0, 1000, 1000).exterior.coords,
                               [shapely.box(100, 100, 400, 400).exterior.coords])
    assert len(maps._without_small_holes(big_hole, maps.FILL_HOLES_M2).interiors) == 1


def _area_points(doc: str) -> tuple[dict, list[tuple[str, str]]]:
    """The estates' point array of a rendered map and its (layer, ok array) draw calls."""
    data = json.loads(re.search(r"var d = (\{.*?\});\n", doc).group(1))
    draws = re.findall(r"draw\((feature_group_\w+), d\.(ok_\w+),", doc)
    return data, draws


def test_estates_above_the_limit_are_one_point_array_drawn_by_both_layers(city):
    """Issue 15.1: the before/after estate layers draw from one array; each estate's
    colour in each layer is its compliance in the plan's table; points are the estates'
    representative points in WGS84 to 5 decimals (pyproj via GeoPandas here)."""
    areas = city.areas.copy()
    areas["compliant_before"] = areas["compliant_before"].astype(object)
    areas.iloc[:7, areas.columns.get_loc("compliant_before")] = None  # not assessed
    areas.iloc[7:9, areas.columns.get_loc("compliant_after")] = False
    areas.iloc[10, areas.columns.get_loc("name")] = "</script><script>alert(1)</script>"
    plan = dataclasses.replace(city, areas=areas)
    doc = report.folium_map(plan, lang="en").get_root().render()
    data, draws = _area_points(doc)
    assert data["cols"]["area_id"] == list(areas["area_id"])
    exp_before = [None if v is None else bool(v) for v in areas["compliant_before"]]
    assert data["ok_before"] == exp_before and data["ok_before"][:7] == [None] * 7
    assert data["ok_after"] == [bool(v) for v in areas["compliant_after"]]
    assert data["ok_after"][7:10] == [False, False, True]
    assert sum(v is False for v in data["ok_before"]) == int((~city.areas[
        "compliant_before"].iloc[7:]).sum())
    pts = gpd.GeoSeries(areas.geometry.representative_point(), crs=areas.crs).to_crs(4326)
    assert np.allclose(data["x"], pts.x, atol=6e-6) and np.allclose(data["y"], pts.y, atol=6e-6)
    assert data["x"] == [round(v, 5) for v in data["x"]]
    # two layers, the before one hidden at first, each coloured by its own status
    assert [ok for _, ok in draws] == ["ok_before", "ok_after"]
    for (fg, _), name in zip(draws, ("Areas: compliance before", "Areas: compliance after"),
                             strict=True):
        assert re.search(rf'"{re.escape(name)}"\s*:\s*{fg}', doc), name
    assert doc.count(draws[1][0] + ".addTo(") >= 1 and draws[0][0] + ".addTo(" not in doc
    # the tooltip fields are those of the layer's moment
    assert data["cols"]["compliant_after"][7] == fmt(False, "en")
    assert data["cols"]["compliant_before"][0] == fmt(None, "en")
    # text reaches the script as an escaped JSON literal, shown as text by the tooltip
    assert "<script>alert" not in doc
    assert data["cols"]["name"][10] == html.escape("</script><script>alert(1)</script>")


def test_stations_above_the_marker_limit_are_one_point_array_in_their_level_colour(city):
    """Above MAX_MAP_MARKERS the stations are one columnar array: each station's id,
    point (pyproj) and colour (its level's, from the plan's tables) as in plan.proposed."""
    from careplan.report._common import LEVEL_COLORS, proposed_levels

    assert len(city.proposed) > maps.MAX_MAP_MARKERS
    doc = report.folium_map(city, lang="en").get_root().render()
    blocks = [json.loads(x) for x in re.findall(r"var d = (\{.*?\});\n", doc)]
    data = next(b for b in blocks if "station_id" in b["cols"])
    assert data["cols"]["station_id"] == list(city.proposed["station_id"])
    assert [data["palette"][i] for i in data["color"]] == [
        LEVEL_COLORS.get(lv, "#7f7f7f") for lv in proposed_levels(city)]
    pts = city.proposed.geometry.to_crs(4326)
    assert np.allclose(data["x"], pts.x, atol=6e-6) and np.allclose(data["y"], pts.y, atol=6e-6)
    fa = data["cols"]["floor_area_m2"]
    assert fa == [round(v, 2) for v in city.proposed["floor_area_m2"]]


def test_merged_service_area_tolerance_scales_with_the_extent_above_the_limit():
    """The merged shapes' tolerance is max(25 m, extent / 1,000) (hand values), stated in
    the note; the drawn shape is shapely's simplify of the union to that tolerance."""
    small = _city_plan(20, 50, 6, 5)
    assert maps.merged_service_area_tolerance_m(small) == 25.0  # 1.9 km: the floor
    assert "service_areas_merged" not in maps.map_reductions(small)
    assert "var d = {" not in report.folium_map(small, lang="en").get_root().render()
    # 302 service areas (> 300) and estates spread over 80 km: 80 m
    plan = _city_plan(20, 60, 302, 5)
    from shapely import affinity

    far = plan.areas.copy()
    geoms = far.geometry.to_numpy().copy()
    geoms[0] = affinity.translate(geoms[0], xoff=80_000 - (geoms[0].centroid.x - X0) + 30)
    far = far.set_geometry(geoms, crs=far.crs)
    b = far.total_bounds
    plan = dataclasses.replace(plan, areas=far)
    tol_m = max(b[2] - b[0], b[3] - b[1]) / 1000
    assert maps.merged_service_area_tolerance_m(plan) == pytest.approx(tol_m)
    assert 79.5 < tol_m < 80.5
    from careplan.report.html import _map_notes

    assert ("simplified to 80 m: 1/1,000 of the map's extent, at least 25 m"
            in html.unescape(_map_notes(plan, "en")))
    doc = report.folium_map(plan, lang="en").get_root().render()
    shapes = [json.loads(x) for x in re.findall(r"_add\((\{.*?\})\);\n", doc)]
    merged = [f for fc in shapes for f in fc["features"]
              if f["geometry"]["type"] in ("Polygon", "MultiPolygon") and not f["properties"]]
    assert len(merged) == 2  # existing, proposed
    sa = plan.service_areas
    for f, status in zip(merged, ("existing", "proposed"), strict=True):
        drawn = gpd.GeoSeries([shapely.geometry.shape(f["geometry"])], crs=4326).to_crs(
            plan.crs).iloc[0]
        # the union of the shapes as drawn below the limit (holes filled, 10 m), unsimplified
        exact = shapely.union_all(maps._service_shapes(sa[sa["status"] == status]).geometry)
        exact = maps._without_small_holes(exact, maps.FILL_HOLES_M2)
        expected = shapely.simplify(exact, tol_m, preserve_topology=True)
        assert shapely.get_num_coordinates(drawn) == shapely.get_num_coordinates(expected)
        assert shapely.get_num_coordinates(drawn) < shapely.get_num_coordinates(exact)
        assert shapely.hausdorff_distance(drawn, expected) < 1.5  # 5 decimals (~1 m)


# ----------------------------------------------------- PNG maps at city scale (issue 15.1)
@pytest.mark.parametrize("chunk", [7, 100_000])
def test_png_street_layer_draws_every_edge_vertex_once(city, monkeypatch, chunk):
    """The street layer goes in as NaN-separated polylines (a few artists, not one Path per
    edge): the drawn vertices are exactly the edges' coordinates, one break per edge,
    whatever the chunk size (7 cuts it into many polylines)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from careplan.report import figures

    monkeypatch.setattr(figures, "PNG_LINE_CHUNK", chunk)
    edges = city.network_edges.iloc[:500]
    fig, ax = plt.subplots()
    try:
        figures._add_lines(ax, edges.geometry, color="#123456", linewidth=0.4, zorder=1)
        lines = [ln for ln in ax.get_lines() if ln.get_color() == "#123456"]
        xy = np.concatenate([np.column_stack([ln.get_xdata(), ln.get_ydata()]) for ln in lines])
    finally:
        plt.close(fig)
    assert len(lines) == 1 if chunk > 10_000 else len(lines) > 1
    breaks = np.isnan(xy[:, 0])
    assert int(breaks.sum()) == len(edges)  # a break after every edge
    ref = shapely.get_coordinates(edges.geometry.to_numpy())
    assert np.array_equal(xy[~breaks], ref)


def test_png_after_map_labels_stations_only_up_to_the_limit(city):
    """Above PNG_MAX_LABELS stations no station id is written on the after map (the
    labels would cover it); one note says how many and where the ids are."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from careplan.report import figures

    assert len(city.proposed) > figures.PNG_MAX_LABELS
    few = dataclasses.replace(city, proposed=city.proposed.iloc[:figures.PNG_MAX_LABELS])
    for plan, labelled in ((city, False), (few, True)):
        fig, ax = plt.subplots()
        try:
            ax.set_xlim(*plan.areas.total_bounds[[0, 2]])
            ax.set_ylim(*plan.areas.total_bounds[[1, 3]])
            figures._station_labels(ax, plan, "en")
            texts = [tx.get_text() for tx in ax.texts]
        finally:
            plt.close(fig)
        ids = [tx for tx in texts if re.match(r"S\d{4}", tx)]
        if labelled:  # place_labels (co-located ids share a label, cut at 40 characters)
            assert len(ids) == len(texts) and len(set(re.findall(r"S\d{4}", " ".join(ids)))) > 150
        else:
            assert ids == [] and texts == [f"{len(city.proposed)} stations: ids in tables.xlsx"]


def _browser():
    from _chromium import chromium_path

    return chromium_path()


@pytest.mark.skipif(_browser() is None, reason="no chromium on this machine")
def test_estate_layers_draw_each_estate_in_its_status_colour_in_a_browser(city, tmp_path):
    """In headless Chromium: the hidden 'before' and shown 'after' layers each hold one
    circle per estate, filled with the colour of its compliance in plan.areas; the
    stations' layer one circle per station; no script error."""
    from _chromium import Browser

    from careplan.report._common import C_BAD, C_NA, C_OK

    areas = city.areas.copy()
    areas["compliant_after"] = areas["compliant_after"].astype(object)
    areas.iloc[:5, areas.columns.get_loc("compliant_after")] = None
    plan = dataclasses.replace(city, areas=areas)
    path = report.write_html(plan, tmp_path / "report.html", lang="en")
    js = ("(() => { const w = document.querySelector('iframe').contentWindow;"
          " const m = w[Object.keys(w).find(k => k.startsWith('map_'))]; const out = [];"
          " for (const k of Object.keys(w)) { if (!k.startsWith('feature_group_')) continue;"
          " const g = w[k]; out.push({shown: m.hasLayer(g), fill: g.getLayers().map("
          " l => l.options.fillColor || null)}); }"
          " return JSON.stringify(out); })()")
    with Browser(width=1280, height=900, timeout_s=120) as b:
        b.open(path, settle_s=0.5)
        groups = json.loads(b.eval(js))
        errors = b.errors()
    assert errors == []
    colour = {True: C_OK, False: C_BAD, None: C_NA}
    exp = {when: [colour[None if v is None else bool(v)] for v in areas[f"compliant_{when}"]]
           for when in ("before", "after")}
    estates = [g for g in groups if len(g["fill"]) == len(areas)]
    assert [g["shown"] for g in estates] == [False, True]
    assert estates[0]["fill"] == exp["before"] and estates[1]["fill"] == exp["after"]
    assert exp["after"][:6] == [C_NA] * 5 + [C_OK]
    assert sum(len(g["fill"]) == len(city.proposed) for g in groups) == 1
