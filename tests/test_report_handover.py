"""Issue 12's leftovers: the report a bureau hands over (parameters in zh, totals, map
levels and boundaries, PNG labels).

One real plan of the bundled sample (OSM streets of central Nanjing) with everything a
bureau sets: two street polygons, the Jinwan + Anhui profiles (pooling circle, 350 m2 site
minimum), unit costs and milestones.
"""

from __future__ import annotations

import html
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
    assert len(cost) > 3 and phases["phase"].notna().any() and phases["phase"].isna().any()
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
    n_groups = phases["phase"].nunique() + int(phases["phase"].isna().any())
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
                assert sub[f"Phase {k:g} subtotal"]["milestone"] == df.loc[
                    df["phase"] == k, "milestone"].iloc[0]
            assert sub["Not phased, subtotal"]["construction_cost"] == pytest.approx(
                df.loc[df["phase"].isna(), "construction_cost"].sum())
            # the cumulative column is not summed
            assert body[-1]["elderly_served_total"] is None
            assert "elderly_served_total" in head
