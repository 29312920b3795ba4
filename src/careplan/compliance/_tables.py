"""Tables of the compliance check: the rule table, street/district roll-ups, the summary."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from careplan.standards import KINDS, Rule
from careplan.standards._registry import Outcome, RuleContext

RULE_COLS = ["rule_id", "kind", "label_en", "label_zh", "required", "required_max", "found",
             "found_max", "unit", "passed", "note", "citation", "gap", "gap_unit"]


def _nan(v: float | None) -> float:
    return np.nan if v is None else float(v)


def rule_row(rule: Rule, out: Outcome) -> dict[str, Any]:
    """One row of the rule table from a rule and its evaluator's outcome."""
    return {
        "rule_id": rule.id, "kind": rule.kind, "label_en": rule.label_en,
        "label_zh": rule.label_zh, "required": float(rule.value),
        "required_max": _nan(rule.max_value), "found": _nan(out.found),
        "found_max": _nan(out.found_max), "unit": rule.unit,
        "passed": None if out.passed is None else bool(out.passed),
        "note": out.note, "citation": str(rule.citation),
        "gap": _nan(out.gap), "gap_unit": out.gap_unit,
    }


def rule_table(ctx: RuleContext) -> pd.DataFrame:
    """Evaluate every rule of ``ctx.standard`` with its kind's evaluator."""
    rows = [rule_row(r, KINDS[r.kind].evaluate(r, ctx)) for r in ctx.standard.rules]
    rules = pd.DataFrame(rows, columns=RULE_COLS)
    rules["passed"] = pd.Series([r["passed"] for r in rows], index=rules.index, dtype=object)
    return rules


def rollup(out: pd.DataFrame, fac: pd.DataFrame, fac_zone: dict[str, pd.Series],
            col: str) -> pd.DataFrame | None:
    if col not in out.columns:
        return None
    g = out[out[col].notna()].groupby(col, sort=True)
    roll = pd.DataFrame({
        "households": g["households"].sum().astype("int64"),
    })
    if "elderly" in out.columns:
        roll["elderly"] = g["elderly"].sum()
    roll["required_m2"] = g["required_m2"].sum(min_count=1)
    roll.loc[g["required_m2"].apply(lambda s: s.isna().any()), "required_m2"] = np.nan
    roll["provided_m2"] = g["provided_m2"].sum()
    roll["deficit_m2"] = g["deficit_m2"].sum(min_count=1)
    roll.loc[g["deficit_m2"].apply(lambda s: s.isna().any()), "deficit_m2"] = np.nan
    roll["n_areas"] = g.size().astype(int)
    roll["n_compliant"] = g["compliant"].apply(lambda s: int((s == True).sum()))  # noqa: E712
    zone = fac_zone[col]
    site = fac["expands"].isna() if "expands" in fac.columns else True  # not an expansion
    centres = zone[(fac["level"] == "street") & site].value_counts()
    roll["n_centres"] = centres.reindex(roll.index, fill_value=0).astype(int)
    roll["has_centre"] = roll["n_centres"] > 0
    if col == "district":
        if "street" in out.columns:
            streets = out[out["street"].notna()].groupby("street")["district"].first()
            s_cent = fac_zone["street"][(fac["level"] == "street") & site].value_counts()
            with_c = streets[streets.index.isin(s_cent.index)]
            roll["n_streets"] = streets.value_counts().reindex(roll.index, fill_value=0)
            roll["n_streets_with_centre"] = with_c.value_counts().reindex(roll.index,
                                                                          fill_value=0)
        dc = zone[(fac["level"] == "district") & site].value_counts()
        roll["n_district_centres"] = dc.reindex(roll.index, fill_value=0).astype(int)
        roll["has_district_centre"] = roll["n_district_centres"] > 0
    roll.index.name = None
    roll.insert(0, col, roll.index)
    return roll


def summary(out: pd.DataFrame, ftab: pd.DataFrame, overlaps: pd.DataFrame,
             rules: pd.DataFrame) -> pd.DataFrame:
    ev = out["compliant"].notna()
    passed = list(rules["passed"])
    rows = [
        ("n_areas", "Residential areas", "居住区数量", len(out)),
        ("households", "Households", "户数", int(out["households"].sum())),
        ("required_m2", "Required community-care floor area (m2)", "应配建养老服务用房面积(平方米)",
         float(out["required_m2"].sum(min_count=1)) if ev.any() else np.nan),
        ("provided_m2", "Provided floor area counted (m2)", "已有养老服务用房面积(平方米)",
         float(out["provided_m2"].sum())),
        ("deficit_m2", "Floor-area deficit, sum over areas (m2)", "养老服务用房缺口(平方米)",
         float(out["deficit_m2"].sum(min_count=1)) if ev.any() else np.nan),
        ("n_compliant", "Areas meeting the floor-area rule", "达标居住区数量",
         int((out["compliant"] == True).sum())),  # noqa: E712
        ("n_not_evaluated", "Areas without a floor-area rate in the standard",
         "标准未规定面积指标的居住区数量", int((~ev).sum())),
    ]
    for col, en, zh in (("street", "Areas without a street (left out of the street roll-up)",
                         "未标注街道的居住区数量"),
                        ("district", "Areas without a district (left out of the district "
                         "roll-up)", "未标注区县的居住区数量")):
        if col in out.columns:
            rows.append((f"n_areas_without_{col}", en, zh, int(out[col].isna().sum())))
    rows += [
        ("n_facilities", "Facilities", "设施数量", len(ftab)),
        ("n_facilities_unassigned", "Facilities assigned to no area", "未归属任何居住区的设施数量",
         int((ftab["method"] == "none").sum())),
        ("n_overlaps", "Facilities inside overlapping areas", "位于重叠居住区内的设施数量",
         len(overlaps)),
        ("n_rules", "Rules", "规则数量", len(rules)),
        ("n_rules_passed", "Rules passed", "达标规则数量", sum(p is True for p in passed)),
        ("n_rules_failed", "Rules failed", "未达标规则数量", sum(p is False for p in passed)),
        ("n_rules_not_evaluated", "Rules not evaluated (inputs missing)", "未评估规则数量",
         sum(p is None for p in passed)),
    ]
    tab = pd.DataFrame(rows, columns=["metric", "label_en", "label_zh", "value"])
    tab["value"] = pd.Series([v for *_, v in rows], dtype=object)
    return tab
