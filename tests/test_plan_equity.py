"""Equity before/after in the plan and its report (issue 13.4), against hand computations."""

from __future__ import annotations

import dataclasses
import itertools
import math

import geopandas as gpd
import numpy as np
import pandas as pd
import pyogrio
import pytest
from shapely.geometry import box
from test_report import _plan

import careplan.report as report
from careplan.plan._assemble import EQUITY_NOTE, equity_table, summary_table
from careplan.report.figures import lorenz_curves

#: area: elderly, provided m2 before, after, covered before, after, district, street
AREAS = {
    "a1": (100, 50.0, 100.0, True, True, "D1", "S1"),
    "a2": (300, 0.0, 60.0, False, True, "D1", "S2"),
    "a3": (100, 100.0, 100.0, True, True, "D2", "S1"),
    "a4": (0, 5.0, 5.0, False, False, "D1", "S2"),  # nobody to weigh: counts for nothing
}


def _areas() -> gpd.GeoDataFrame:
    ids = list(AREAS)
    cols = list(zip(*AREAS.values(), strict=True))
    return gpd.GeoDataFrame(
        {"area_id": ids, "households": [2 * e + 10 for e in cols[0]], "elderly": list(cols[0]),
         "provided_before_m2": list(cols[1]), "provided_after_m2": list(cols[2]),
         "covered_before": list(cols[3]), "covered_after": list(cols[4]),
         "district": list(cols[5]), "street": list(cols[6])},
        geometry=[box(i, 0, i + 1, 1) for i in range(len(ids))], crs="EPSG:32650",
        index=pd.Index(ids))


def _gini_by_pairs(x: list[float], w: list[float]) -> float:
    """Weighted Gini by its definition: sum_ij w_i w_j |x_i - x_j| / (2 W^2 mean)."""
    total = sum(w)
    mean = sum(a * b for a, b in zip(x, w, strict=True)) / total
    pairs = sum(wi * wj * abs(xi - xj)
                for (xi, wi), (xj, wj) in itertools.product(zip(x, w, strict=True), repeat=2))
    return pairs / (2 * total**2 * mean)


def _value(when: str, ids) -> tuple[list[float], list[float]]:
    col = 1 if when == "before" else 2
    x = [AREAS[a][col] / AREAS[a][0] if AREAS[a][0] else 0.0 for a in ids]
    return x, [float(AREAS[a][0]) for a in ids]


def test_equity_table_against_hand_computation():
    eq = equity_table(_areas()).set_index(["level", "group"])
    assert list(eq.index) == [("all", "all"), ("street", "S1"), ("street", "S2"),
                              ("district", "D1"), ("district", "D2")]
    assert set(eq["weight"]) == {"elderly"}
    allr = eq.loc[("all", "all")]
    assert allr["units"] == 4 and allr["people"] == 500
    # Gini of m2 per older person: before 0.5, 0, 1.0 for 100, 300, 100 people
    assert allr["gini_before"] == pytest.approx(100000 / 150000)
    assert allr["gini_before"] == pytest.approx(_gini_by_pairs(*_value("before", AREAS)))
    # after 1.0, 0.2, 1.0: Gini 96000 / 260000
    assert allr["gini_after"] == pytest.approx(96000 / 260000)
    assert allr["gini_after"] == pytest.approx(_gini_by_pairs(*_value("after", AREAS)))
    # Palma after: the bottom 40 % (200 of a2's 300 people, 0.2 m2 each) hold 40 of 260 m2,
    # the top 10 % (50 people at 1.0 m2) hold 50 of 260: 50 / 40
    assert allr["palma_after"] == pytest.approx(1.25)
    # before, the bottom 40 % (all in a2) hold nothing: infinite
    assert math.isinf(allr["palma_before"])
    # share of older people outside the walking circle: a2's 300 of 500, then none
    assert allr["outside_share_before"] == pytest.approx(0.6)
    assert allr["outside_share_after"] == 0.0
    d1 = eq.loc[("district", "D1")]  # a1, a2 (a4 has nobody)
    assert d1["gini_before"] == pytest.approx(0.75)
    assert d1["gini_before"] == pytest.approx(_gini_by_pairs(*_value("before", ["a1", "a2"])))
    assert d1["outside_share_before"] == pytest.approx(300 / 400)
    d2 = eq.loc[("district", "D2")]  # one area: equal by definition; Palma 0.1 / 0.4
    assert d2["gini_before"] == pytest.approx(0.0) and d2["palma_before"] == pytest.approx(0.25)
    s1 = eq.loc[("street", "S1")]  # a1, a3 after: 1.0 and 1.0 m2 per person
    assert s1["gini_after"] == pytest.approx(0.0)
    assert s1["gini_before"] == pytest.approx(_gini_by_pairs(*_value("before", ["a1", "a3"])))
    s2 = eq.loc[("street", "S2")]  # only a2 has people; before it has no floor area
    assert np.isnan(s2["gini_before"]) and s2["gini_after"] == pytest.approx(0.0)


def test_households_when_there_are_no_elderly_and_no_groups():
    a = _areas().drop(columns=["elderly", "district", "street"])
    eq = equity_table(a)
    assert eq["level"].tolist() == ["all"] and eq["weight"].tolist() == ["households"]
    hh = a["households"].astype(float)
    x = (a["provided_before_m2"] / hh).tolist()
    assert eq["gini_before"].iloc[0] == pytest.approx(_gini_by_pairs(x, hh.tolist()))
    assert eq["outside_share_before"].iloc[0] == pytest.approx((610 + 10) / hh.sum())
    rows = summary_table(a.assign(compliant_before=True, compliant_after=True,
                                  required_m2=0.0, deficit_before_m2=0.0,
                                  deficit_after_m2=0.0), _plan().proposed.iloc[:0],
                         equity=eq).set_index("metric")
    assert rows.loc["gini_m2_per_household", "before"] == pytest.approx(eq["gini_before"][0])
    assert not any(m.startswith("palma") for m in rows.index)  # in the equity table only


def test_summary_rows_and_lorenz_curve_agree_with_the_table():
    a = _areas()
    eq = equity_table(a)
    summ = summary_table(a.assign(compliant_before=True, compliant_after=True,
                                  required_m2=0.0, deficit_before_m2=0.0,
                                  deficit_after_m2=0.0), _plan().proposed.iloc[:0],
                         equity=eq).set_index("metric")
    assert summ.loc["gini_m2_per_elderly", "after"] == pytest.approx(96000 / 260000)
    weight, curves = lorenz_curves(a)
    assert weight == "elderly"
    curve, g = curves["after"]
    # sorted by m2 per person: a2 (60% of people, 60 of 260 m2), then a1 and a3
    assert curve["population_share"].tolist() == pytest.approx([0, 0, 0.6, 0.8, 1.0])
    assert curve["value_share"].tolist() == pytest.approx([0, 0, 60 / 260, 160 / 260, 1.0])
    assert g == pytest.approx(96000 / 260000)


def test_equity_in_html_xlsx_gpkg_and_lorenz_chart(tmp_path):
    plan = _plan()
    a = plan.areas.assign(district=["D1", "D1", "D2", "D2"])
    eq = equity_table(a)
    p = dataclasses.replace(plan, areas=a, equity=eq,
                            parameters={**plan.parameters, "equity": EQUITY_NOTE})
    zh = report.write_html(p, tmp_path / "zh.html", lang="zh").read_text(encoding="utf-8")
    sec = zh[zh.index("<h2 id='equity'>"):]
    sec = sec[:sec.index("</table>")]
    assert "公平性（规划前后）" in sec and "规划前基尼系数" in sec and "帕尔玛" in sec
    assert "<td class='id'>区县</td><td>D1</td>" in sec and "<td class='id'>全部</td><td>全部</td>" in sec
    g = eq.set_index("group").loc["all", "gini_before"]
    assert f"<td class='num'>{g:.3f}</td>" in sec
    share = eq.set_index("group").loc["all", "outside_share_before"]
    assert f">{100 * share:.1f}%<".replace(".0%", "%") in sec
    assert "alt='洛伦兹曲线：人均养老服务用房面积'" in zh
    en = report.write_html(p, tmp_path / "en.html", lang="en").read_text(encoding="utf-8")
    assert "Equity before and after" in en and "alt='Lorenz curve: floor area per person'" in en
    xl = pd.read_excel(report.write_excel(p, tmp_path / "t.xlsx"), sheet_name="equity")
    pd.testing.assert_frame_equal(xl, eq, check_dtype=False)
    got = pyogrio.read_dataframe(report.write_geopackage(p, tmp_path / "p.gpkg"),
                                 layer="equity")
    assert got["gini_after"].tolist() == pytest.approx(eq["gini_after"].tolist(), nan_ok=True)
