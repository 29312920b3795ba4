"""Issue 12's leftovers: the report a bureau hands over (parameters in zh, totals, map
levels and boundaries, PNG labels).

One real plan of the bundled sample (OSM streets of central Nanjing) with everything a
bureau sets: two street polygons, the Jinwan + Anhui profiles (pooling circle, 350 m2 site
minimum), unit costs and milestones.
"""

from __future__ import annotations

import dataclasses
import html
import json
import re
import warnings

import geopandas as gpd
import pytest
from shapely.geometry import box

import careplan as cp
import careplan.report as report
from careplan.report.phrases import parameter_text, untranslated_parameter

COSTS = {"community": {"construction_per_m2": 4000, "rent_per_m2_year": 600},
         "street": {"construction_per_m2": 5000, "rent_per_m2_year": 700},
         "district": {"construction_per_m2": 6000, "rent_per_m2_year": 800}}
MILESTONES = [(2025, 3_000_000), (2027, 6_000_000)]
#: Three or more lower-case English words in a row: a sentence left in English.
ENGLISH = re.compile(r"\b[a-z]{2,}(?:[ ,]+[a-z]{2,}){2,}\b")


def _streets(areas: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """Two street polygons: the west and east halves of the sample (names with markup)."""
    x0, y0, x1, y1 = areas.total_bounds
    xm = (x0 + x1) / 2
    return gpd.GeoDataFrame({"name": ["西<b>街道", "东街道"]},
                            geometry=[box(x0 - 50, y0 - 50, xm, y1 + 50),
                                      box(xm, y0 - 50, x1 + 50, y1 + 50)], crs=areas.crs)


@pytest.fixture(scope="module")
def rich(sample, sample_network):
    """The sample planned with streets, jinwan-2020+anhui-2022, unit costs and milestones."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        plan = cp.plan_layout(sample.areas, sample.facilities, sample.candidates,
                              sample_network, standard="jinwan-2020+anhui-2022",
                              streets=_streets(sample.areas), unit_costs=COSTS,
                              milestones=MILESTONES, verbose=False)
    return plan


@pytest.fixture(scope="module")
def rich_out(rich, tmp_path_factory):
    out = tmp_path_factory.mktemp("rich")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        zh = report.write_all(rich, out / "zh", lang="zh")
        en = report.write_all(rich, out / "en", lang="en")
    return zh, en


def _table_rows(page: str, cls: str) -> list[list[str]]:
    """Cell texts of each body row of the first ``<table class='cls'>`` of *page*."""
    m = re.search(rf"<table class='{cls}'>.*?<tbody>(.*?)</tbody>", page, re.S)
    assert m, f"no table of class {cls}"
    rows = re.findall(r"<tr[^>]*>(.*?)</tr>", m.group(1), re.S)
    return [[html.unescape(re.sub(r"<[^>]+>", "", c))
             for c in re.findall(r"<td[^>]*>(.*?)</td>", r, re.S)] for r in rows]


# ---------------------------------------------------------------------------------------
# 1. every parameter row in zh
# ---------------------------------------------------------------------------------------
def test_parameter_values_by_hand():
    assert parameter_text("none", "zh") == "无"
    assert parameter_text("set_covering", "zh").startswith("集合覆盖模型")
    assert parameter_text("66 user-supplied candidate sites; plus a fallback site inside "
                          "each of 1 area(s) that no site reached within 900 m: lu-1", "zh") == (
        "用户提供的候选点 66 个；另在步行 900 m 内无候选点的 1 个居住区内各补充一个候选点：lu-1")
    assert parameter_text("street: 2 polygon(s); areas by polygon 41, own value 0 (wins), in "
                          "none 0; district: no polygons; 42 area(s) with their own "
                          "'district'", "zh") == (
        "街道：边界 2 个；按边界归属的居住区 41 个，自带值的 0 个（以自带值为准），不在任何边界内的 0 个；"
        "区县：无边界；42 个居住区自带该列")
    assert parameter_text("community: construction 4,000 yuan/m2, rent 600 yuan/m2/year",
                          "zh") == "社区级：建设 4,000 元/m²，租金 600 元/m²/年"
    assert parameter_text("2025: budget 3,000,000 yuan", "zh") == "2025 年：预算 3,000,000 元"
    # English unchanged; an unknown clause kept (never dropped) and listed
    assert parameter_text("none", "en") == "none"
    assert parameter_text("none; something new", "zh") == "无；something new"
    assert untranslated_parameter("none; something new") == ["something new"]
    assert parameter_text(900.0, "zh") == 900.0


def test_every_parameter_row_of_the_zh_report_is_chinese(rich, rich_out):
    """No parameter row of the zh report keeps an English sentence (the values the plan
    writes: sizing, zones, candidates, boundaries, centre sizes, pooling and site sources,
    walking-speed source, equity, unit costs, milestones); the citation clauses of the
    profile (a document's own words, here Anhui's from a secondary source) are allowed."""
    zh_page = rich_out[0]["report"].read_text(encoding="utf-8")
    rows = _table_rows(zh_page, "params")
    assert len(rows) >= len(rich.parameters)  # every parameter has its row (+ the CRS)
    std = cp.standards.load(rich.parameters["standard"])
    clauses = {r.citation.clause for r in std.rules}
    english = {}
    for label, value in rows:
        assert re.search(r"[\u4e00-\u9fff]", label), f"label {label!r} not in Chinese"
        for c in clauses:
            value = value.replace(c, "")
        if ENGLISH.search(value):
            english[label] = value
    assert english == {}
    # the English report keeps the plan's words
    en_rows = dict(_table_rows(rich_out[1]["report"].read_text(encoding="utf-8"), "params"))
    assert en_rows["Sizing"] == rich.parameters["sizing"]
    assert en_rows["Milestones and budgets"] == rich.parameters["milestones"]


# ---------------------------------------------------------------------------------------
# 4. cost and phase tables end with their totals (HTML, XLSX)
# ---------------------------------------------------------------------------------------
def _num(text: str) -> float:
    return float(text.replace(",", ""))


def test_cost_and_phase_totals_in_html_and_xlsx(rich, rich_out):
    import openpyxl

    cost, phases = rich.cost, rich.phases
    # every facility has a phase; those no budget fits the last, "beyond budget" (fixes, 4)
    assert len(cost) > 3 and phases["phase"].notna().all() and (
        phases["milestone"] == "beyond budget").any()
    # the plan's own total (its parameter row) is the sum of the rows
    assert cost["construction_cost"].sum() == pytest.approx(
        rich.parameters["construction_cost_total"])
    zh_page = rich_out[0]["report"].read_text(encoding="utf-8")
    rows = _table_rows(zh_page, "cost")
    assert len(rows) == len(cost) + 1 and rows[-1][0] == "合计"
    m = re.search(r"<table class='cost'>.*?</table>", zh_page, re.S).group(0)
    assert m.count("<tr class='total'>") == 1
    heads = [html.unescape(h) for h in re.findall(r"<th>(.*?)</th>", m)]
    total = dict(zip(heads, rows[-1], strict=True))
    assert _num(total["建设投资（元）"]) == pytest.approx(cost["construction_cost"].sum())
    assert _num(total["建筑面积 (m²)"]) == pytest.approx(cost["floor_area_m2"].sum())
    # phases: a subtotal after each phase (and the unphased), then the total
    prow = _table_rows(zh_page, "phases")
    n_groups = phases["phase"].nunique()
    assert len(prow) == len(phases) + n_groups + 1
    assert "合计" in prow[-1] and sum("小计" in " ".join(r) for r in prow) == n_groups

    wb = openpyxl.load_workbook(rich_out[0]["tables"], read_only=True)
    for sheet, df, cols in (("cost", cost, ("construction_cost", "rent_per_year",
                                            "floor_area_m2")),
                            ("phases", phases, ("construction_cost", "elderly_served_new"))):
        data = list(wb[sheet].iter_rows(values_only=True))
        head, body = list(data[0]), [dict(zip(data[0], r, strict=True)) for r in data[1:]]
        assert body[-1]["station_id"] == "Total"
        for c in cols:
            assert body[-1][c] == pytest.approx(df[c].sum()), (sheet, c)
        if sheet == "phases":
            sub = {r["station_id"]: r for r in body if str(r["station_id"]).endswith("subtotal")}
            by_phase = df.groupby("phase")["construction_cost"].sum()
            for k, v in by_phase.items():
                assert sub[f"Phase {k:g} subtotal"]["construction_cost"] == pytest.approx(v)
                assert str(sub[f"Phase {k:g} subtotal"]["milestone"]) == str(df.loc[
                    df["phase"] == k, "milestone"].iloc[0])  # years and "beyond budget"
            # the cumulative column is not summed
            assert body[-1]["elderly_served_total"] is None
            assert "elderly_served_total" in head


# ---------------------------------------------------------------------------------------
# 2. a colour and a legend entry per level; PNG labels without overlaps
# ---------------------------------------------------------------------------------------
def _levels_of_proposed(plan) -> dict[str, str]:
    """station id -> level, as the plan's facilities table states it (canteen functions:
    'canteen', the facility they are added to keeping its own level)."""
    fac = plan.facilities.set_index("facility_id")["level"].astype(str)
    return {sid: ("canteen" if kind == "canteen" else fac[sid])
            for sid, kind in zip(plan.proposed["station_id"], plan.proposed["kind"],
                                 strict=True)}


def test_each_level_has_its_colour_and_legend_entry(rich, rich_out):
    from careplan.report._common import LEVEL_COLORS, proposed_levels
    from careplan.report.labels import level_label

    want = _levels_of_proposed(rich)
    got = dict(zip(rich.proposed["station_id"], proposed_levels(rich), strict=True))
    assert got == want
    kinds = dict(zip(rich.proposed["station_id"], rich.proposed["kind"], strict=True))
    new_levels = {lv for s, lv in want.items() if kinds[s] not in ("expansion", "canteen")}
    assert {"community", "street", "district"} <= new_levels  # three levels to tell apart
    page = html.unescape(rich_out[0]["report"].read_text(encoding="utf-8"))
    legend = page[page.index("careplan-legend"):]
    legend = legend[:legend.index("</div></div>")]
    for lv in new_levels:
        assert f"新增{level_label(lv, 'zh')}设施（按面积大小）" in legend
    for lv in {lv for s, lv in want.items() if kinds[s] == "expansion"}:
        assert f"现状{level_label(lv, 'zh')}设施扩建" in legend
    for lv in set(rich.existing["level"]):
        assert f"现状设施：{level_label(lv, 'zh')}" in legend
    # the markers: each new site filled with its level's colour inside the orange ring
    fills = re.findall(r'"color": "#ff7f00", "dashArray": null, "dashOffset": null, '
                       r'"fill": true, "fillColor": "(#[0-9a-f]{6})"', page)
    assert sorted(fills) == sorted(LEVEL_COLORS[want[s]] for s in want
                                   if kinds[s] not in ("expansion", "canteen"))
    assert len({LEVEL_COLORS[lv] for lv in new_levels}) == len(new_levels)
    # the English legend too
    en = html.unescape(rich_out[1]["report"].read_text(encoding="utf-8"))
    assert "Proposed, district (sized by m²)" in en and "Proposed, street (sized by m²)" in en


def test_png_legend_and_labels_without_overlap(rich):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from careplan.report import figures
    from careplan.report._common import checked

    plan = checked(rich)
    fig, ax = plt.subplots(figsize=(8.27, 8.27))
    try:
        handles = figures._draw_layers(ax, plan, "after", "en")
        xmin, ymin, xmax, ymax = plan.areas.total_bounds
        ax.set_xlim(xmin - 100, xmax + 100)
        ax.set_ylim(ymin - 100, ymax + 100)
        ax.set_aspect("equal")
        labels = figures.place_labels(ax, plan)
        names = [h.get_label() for h in handles]
        for lv in {"community", "street", "district"}:
            assert f"Proposed, {lv} (sized by m²)" in names
        assert "Street boundary" in names
        # every proposed facility named once (co-located ones share a label)
        texts = [a.get_text() for a in labels]
        ids = [x for tx in texts for x in tx.split(" / ")]
        assert sorted(ids) == sorted(map(str, plan.proposed["station_id"]))
        r = fig.canvas.get_renderer()
        boxes = [a.get_window_extent(r) for a in labels]
        overlaps = [(texts[i], texts[j]) for i in range(len(boxes)) for j in range(i)
                    if boxes[i].overlaps(boxes[j])]
        assert overlaps == []
    finally:
        plt.close(fig)


def test_labels_of_co_located_sites_share_one_label(rich):
    """Two facilities at the same point (an expansion and the canteen function added to
    the same facility) get one label "A / B", not two labels on top of each other."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from careplan.report import figures
    from careplan.report._common import checked

    plan = checked(rich)
    pr = plan.proposed
    same = pr.geometry.representative_point()
    pairs = [(a, b) for i, a in enumerate(pr["station_id"]) for j, b in enumerate(pr["station_id"])
             if i < j and same.iloc[i].distance(same.iloc[j]) < 1.0]
    assert pairs  # X-F04 and M-F04 on the sample
    fig, ax = plt.subplots(figsize=(8.27, 8.27))
    try:
        ax.set_xlim(*plan.areas.total_bounds[[0, 2]])
        ax.set_ylim(*plan.areas.total_bounds[[1, 3]])
        ax.set_aspect("equal")
        texts = [a.get_text() for a in figures.place_labels(ax, plan)]
    finally:
        plt.close(fig)
    for a, b in pairs:
        assert any(a in t and b in t for t in texts)


# ---------------------------------------------------------------------------------------
# 3. street / district polygons on the maps and in the GeoPackage
# ---------------------------------------------------------------------------------------
def test_boundaries_drawn_and_written(rich, rich_out, sample):
    import pyogrio

    given = _streets(sample.areas)
    assert rich.streets is not None and len(rich.streets) == 2 and rich.districts is None
    zh_page = rich_out[0]["report"].read_text(encoding="utf-8")
    srcdoc = html.unescape(re.search(r"srcdoc='(.*?)'></iframe>", zh_page, re.S).group(1))
    assert "街道边界" in srcdoc  # the layer and its legend entry
    # the names reach the tooltips HTML-escaped: markup in a name is shown, never run
    names = [json.loads(f'"{v}"') for v in re.findall(r'"_name": "((?:[^"\\]|\\.)*)"',
                                                       srcdoc)]
    assert sorted(names) == sorted(html.escape(n, quote=False) for n in given["name"])
    assert "<b>街道" not in srcdoc
    layers = dict(pyogrio.list_layers(rich_out[0]["geopackage"]))
    assert "streets" in layers and "districts" not in layers
    g = gpd.read_file(rich_out[0]["geopackage"], layer="streets")
    assert sorted(g["name"]) == sorted(given["name"])
    by_name = dict(zip(g["name"], g.geometry, strict=True))
    for n, geom in zip(given["name"], given.geometry, strict=True):
        assert by_name[n].symmetric_difference(geom).area < 1e-6 * geom.area
    # a plan without polygons has no such legend entry or layer
    from careplan.report.gpkg import _gpkg_layers
    from careplan.report.maps import _legend_html

    assert "街道边界" in _legend_html(rich, "zh")
    bare = dataclasses.replace(rich, streets=None)
    assert "街道边界" not in _legend_html(bare, "zh")
    assert "streets" not in _gpkg_layers(bare)


def test_co_located_markers_are_rings_around_each_other(rich):
    """On the HTML map a facility sharing its site with a smaller one is drawn at least
    7 px larger (a ring around it), drawn first (the smaller stays on top and visible)."""
    from careplan.report.maps import marker_radii

    pr = rich.proposed
    r = dict(zip(pr["station_id"], marker_radii(pr), strict=True))
    fa = dict(zip(pr["station_id"], pr["floor_area_m2"].astype(float), strict=True))
    pts = pr.geometry.representative_point()
    pairs = [(a, b) for i, a in enumerate(pr["station_id"]) for j, b in enumerate(pr["station_id"])
             if i < j and pts.iloc[i].distance(pts.iloc[j]) < 1.0]
    assert pairs
    for a, b in pairs:
        small, big = sorted((a, b), key=lambda s: (fa[s], r[s]))
        assert r[big] - r[small] >= 7 - 1e-9
    alone = [s for s in r if not any(s in p for p in pairs)]
    fmax = max(fa.values())
    for s in alone:  # 6 + 12 sqrt(m2 / largest m2) px
        assert r[s] == pytest.approx(6 + 12 * (fa[s] / fmax) ** 0.5)
