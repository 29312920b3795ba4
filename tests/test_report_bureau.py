"""The report a bureau hands over (issue 12.8): language, citations, percentages, width."""

from __future__ import annotations

import dataclasses
import html
import warnings

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
from shapely.geometry import Point
from test_report import _plan

import careplan as cp
import careplan.report as report
from careplan.plan._explain import rules_not_met
from careplan.report.phrases import note_text, untranslated, value_text
from careplan.report.tables import citation_text, rules_frame, standard_citations


@pytest.fixture(scope="module")
def sample():
    return cp.datasets.load_sample()


# ---------------------------------------------------------------------------------------
# notes and reasons in the report's language
# ---------------------------------------------------------------------------------------
def test_every_note_and_reason_of_every_profile_has_its_chinese_phrase(sample):
    """The phrase catalogue knows every clause the rule evaluators and the plan's reasons
    write, for every bundled profile, with and without streets (a clause it does not know
    would show in English in the zh report)."""
    areas = sample.areas
    streets = areas.assign(street=[f"S{i % 3}" for i in range(len(areas))])
    missing: dict[str, str] = {}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for name in cp.standards.available():
            for a in (areas, streets):
                rules = cp.compliance.check(a, sample.facilities, standard=name).rules
                reasons = rules_not_met(rules, {"p": 3})["reason"]
                for text in [*rules["note"], *reasons]:
                    missing |= {u: name for u in untranslated(text)}
    assert missing == {}


def test_note_translation_by_hand():
    note = ("6 of 41 existing areas compliant; deficit 3946.9 m2; found = lowest provided m2 "
            "per 100 households (counting levels community/street); failing: blk-01, blk-02 "
            "(+25 more)")
    assert note_text(note, "zh") == (
        "41 个既有居住区中 6 个达标；面积缺口 3946.9 m²；现状值为各居住区每百户已配面积的最小值"
        "（计入社区级/街道级设施）；未达标：blk-01, blk-02（另 25 个）")
    assert note_text(note, "en") == note
    # an unknown clause is kept (never dropped), the known ones around it translated
    assert note_text("deficit 5 m2; something new", "zh") == "面积缺口 5 m²；something new"
    assert untranslated("deficit 5 m2; something new") == ["something new"]
    assert note_text(None, "zh") is None
    # the plan's variant (coverage by walking circle) of the served-share note
    assert note_text("40 of 40 areas with households served by a community facility (within "
                     "the walking circle or assigned)", "zh") == (
        "40 个有住户的居住区中 40 个有社区级设施服务（在步行服务圈内或已分配）")
    assert note_text("6 of 40 areas with households served by a canteen (level or function) "
                     "(within the walking circle or assigned)", "zh") == (
        "40 个有住户的居住区中 6 个有长者饭堂服务（助餐点或设施的助餐功能）（在步行服务圈内或已分配）")
    assert value_text("proposed district centre D-C040 (鼓楼区)", "zh", "name") == (
        "规划区级中心 D-C040（鼓楼区）")
    assert value_text("canteen function added to F04", "zh", "name") == "F04 增设助餐功能"


def test_rule_notes_and_reasons_in_the_zh_report(tmp_path):
    plan = _plan()
    note = "3 of 3 districts within the rule; found = fewest district facilities in a district"
    rules = plan.rules_after.assign(note=[note, "deficit 0.0 m2"])
    notmet = pd.DataFrame({"rule_id": ["a", "b"], "label_en": ["A", "B"], "label_zh": ["甲", "乙"],
                           "required": [1.0, 1.0], "found": [0.0, 0.0], "passed": [False, False],
                           "category": ["budget", "budget"],
                           "reason": ["budget p = 3 too small", "budget p = 3 too small"],
                           "reason_zh": ["由负责人填写的原因", None], "citation": ["x", "y"]})
    p = dataclasses.replace(plan, rules_after=rules, rules_not_met=notmet)
    zh = html.unescape(report.write_html(p, tmp_path / "zh.html", lang="zh")
                       .read_text(encoding="utf-8"))
    assert "3 个区县中 3 个符合规定；现状值为各区县区级设施数量的最小值" in zh
    assert "面积缺口 0.0 m²" in zh
    # reason_zh (from the plan) wins; without it the fixed phrase is translated
    assert "由负责人填写的原因" in zh and "新增设施数量上限 p = 3 不足" in zh
    assert "budget p = 3 too small" not in zh and "<th>reason_zh</th>" not in zh
    en = html.unescape(report.write_html(p, tmp_path / "en.html", lang="en")
                       .read_text(encoding="utf-8"))
    assert note in en and "budget p = 3 too small" in en and "由负责人填写的原因" not in en


# ---------------------------------------------------------------------------------------
# titles and citations
# ---------------------------------------------------------------------------------------
def test_document_title_in_the_report_language(tmp_path):
    std = cp.standards.load("jinwan-2020")
    plan = _plan()
    p = dataclasses.replace(plan, parameters={**plan.parameters, "standard": "jinwan-2020",
                                              "standard_title": std.title})
    zh = report.write_html(p, tmp_path / "zh.html", lang="zh").read_text(encoding="utf-8")
    head = zh[zh.index("<h1>"):zh.index("<h2")]
    assert std.title_zh in head and std.title not in head
    assert std.title not in zh  # nor in the parameter table
    en = report.write_html(p, tmp_path / "en.html", lang="en").read_text(encoding="utf-8")
    assert std.title in en[en.index("<h1>"):en.index("<h2")]


def test_every_document_has_a_simplified_chinese_title():
    for name in cp.standards.available():
        std = cp.standards.load(name)
        assert std.title_zh, name
        for r in std.rules:
            assert r.citation.title_zh and not r.citation.title_zh.isascii(), (name, r.id)


def test_unverified_values_name_their_secondary_source():
    std = cp.standards.load("gb50437-2018")
    r = std.rules[0]
    c = r.citation
    assert c.verified is False and c.secondary_source
    cits = standard_citations({"standard": "gb50437-2018"})
    zh = citation_text(str(c), "zh", cits[r.id])
    assert zh == (f"《{c.title_zh}》{c.clause}：“{c.quote}”（未核对官方原文；数值来源："
                  f"{c.secondary_source}）")
    en = citation_text(str(c), "en", cits[r.id])
    assert en.endswith(f"(not verified against the official text; values from: "
                       f"{c.secondary_source})")
    # a verified document says nothing of the kind
    j = cp.standards.load("jinwan-2020").rules[0]
    assert "未核对" not in citation_text(str(j.citation), "zh", j.citation)
    frame = rules_frame(pd.DataFrame({"rule_id": [r.id], "label_zh": ["x"], "label_en": ["x"],
                                      "required": [1.0], "found": [1.0], "passed": [True],
                                      "citation": [str(c)]}), "zh", citations=cits)
    assert "未核对官方原文" in frame["citation"].iloc[0]


# ---------------------------------------------------------------------------------------
# the facilities table on an A4 / 1280-px page; values in the report's language
# ---------------------------------------------------------------------------------------
def _facilities(plan) -> gpd.GeoDataFrame:
    pts = [Point(p.x, p.y) for p in plan.existing.geometry] + list(plan.proposed.geometry)
    n = len(pts)
    wide = {f"extra_column_with_a_long_name_{i}": ["some long text value"] * n for i in range(8)}
    return gpd.GeoDataFrame({
        "facility_id": ["E1", "E2", "S1", "S2"], "status": ["existing"] * 2 + ["proposed"] * 2,
        "kind": ["existing", "existing", "new", "expansion"],
        "station_id": [None, None, "S1", "S2"], "candidate_id": [None, None, "c7", "c9"],
        "name": ["Jinling", "街道中心", "proposed station S1", "expansion of 街道中心"],
        "address": [None] * n, "level": ["community", "street", "community", "street"],
        "floor_area_m2": [100.0, 90.0, 110.0, 500.0],
        "functions": [["station"], ["centre"], ["station", "canteen"], ["centre"]],
        "estates": [["a1"], ["a3"], ["a2", "a3"], ["a4"]], "n_estates": [1, 1, 2, 1],
        "households_served": [400.0, 600.0, 850.0, 150.0],
        "elderly_served": [120.0, 180.0, 255.0, 45.0],
        "lon_wgs84": [118.7812345] * n, "lat_wgs84": [32.0412345] * n,
        "lon_gcj02": [118.7861234] * n, "lat_gcj02": [32.0391234] * n,
        "x_m": [1.0] * n, "y_m": [2.0] * n, **wide}, geometry=pts, crs=plan.crs)


def test_facilities_table_fewer_columns_in_html_all_in_xlsx(tmp_path):
    plan = _plan()
    fac = _facilities(plan)
    p = dataclasses.replace(plan, facilities=fac)
    page = report.write_html(p, tmp_path / "r.html", lang="zh").read_text(encoding="utf-8")
    sec = page[page.index("<h2 id='facilities'>"):]
    sec = sec[:sec.index("</table>")]
    heads = sec.count("<th>")
    assert heads == 11  # HTML_COLUMNS minus the address column nobody filled
    assert "extra_column_with_a_long_name" not in sec and "x_m" not in sec
    assert "tables.xlsx" in sec  # the note pointing to the full table
    # values in the report's language, estates by name, coordinates to 6 decimals
    for text in ("规划站点 S1", "街道中心（扩建）", "养老服务站, 长者饭堂", "社区级", "新建", "扩建",
                 "二号小区, Area &lt;Three&gt; &amp; co", "118.786123", "32.039123"):
        assert text in sec, text
    xl = pd.read_excel(report.write_excel(p, tmp_path / "t.xlsx"), sheet_name="facilities")
    assert set(fac.columns) - {"geometry"} <= set(xl.columns)
    assert xl["lon_gcj02"].iloc[0] == pytest.approx(118.7861234)
    assert value_text("expansion of X", "en", "name") == "expansion of X"


@pytest.mark.skipif(__import__("_chromium").chromium_path() is None, reason="no chromium")
def test_report_fits_a_1280_px_page(tmp_path):
    """No table makes the page scroll sideways at 1280 px (the facilities table was the
    widest)."""
    from _chromium import Browser

    plan = _plan()
    p = dataclasses.replace(plan, facilities=_facilities(plan))
    path = report.write_html(p, tmp_path / "r.html", lang="zh")
    with Browser(width=1280, height=900) as b:
        b.open(path, settle_s=0.5)
        assert b.eval("document.documentElement.scrollWidth") <= 1280
        widest = b.eval("Math.max(...[...document.querySelectorAll('table')]"
                        ".map(t => t.getBoundingClientRect().right))")
        assert widest <= 1280


# ---------------------------------------------------------------------------------------
# shares as percentages everywhere
# ---------------------------------------------------------------------------------------
def test_shares_are_percentages_in_xlsx_and_console(tmp_path, capsys):
    from openpyxl import load_workbook

    from careplan.report.console import print_plan

    plan = _plan()
    rules = plan.rules_after.assign(unit=["share of communities", "m2"],
                                    found=[0.75, 500.0], required=[1.0, 500.0])
    phases = pd.DataFrame({"phase": [1, 2], "elderly_covered_share": [0.4, 0.9]})
    p = dataclasses.replace(plan, rules_after=rules, phases=phases)
    wb = load_workbook(report.write_excel(p, tmp_path / "t.xlsx"))
    ws = wb["rules_after"]
    hdr = [c.value for c in ws[1]]
    found = ws.cell(row=2, column=hdr.index("found") + 1)
    assert found.value == 0.75 and found.number_format == "0.0%"
    assert ws.cell(row=3, column=hdr.index("found") + 1).number_format != "0.0%"
    ph = wb["phases"]
    assert ph.cell(row=2, column=2).value == 0.4 and ph.cell(row=2, column=2).number_format == "0.0%"
    page = report.write_html(p, tmp_path / "r.html", lang="en").read_text(encoding="utf-8")
    assert "<td class='num'>90%</td>" in page
    print_plan(p, tmp_path, {}, lang="en")
    out = capsys.readouterr().out
    assert "75%" in out and "0.75" not in out


def test_area_names_in_the_deficit_chart_and_map_tooltips(tmp_path):
    """Areas with a name are shown by it (the chart's labels come from area_names)."""
    from careplan.report._common import area_names

    a = _plan().areas
    got = area_names(a.assign(name=["甲小区", None, " ", np.nan])).tolist()
    assert got == ["甲小区", "a2", "a3", "a4"]
