"""Every rule met or explained: the "not met by this plan" table (issue 12.4)."""

from __future__ import annotations

from typing import Any

import pandas as pd

from careplan.standards import KINDS

__all__ = ["rules_not_met"]

#: Kinds this plan does not propose facilities for (only community stations, their
#: expansions and on-site rooms are planned), with the reason.
_NOT_PLANNED = {
    "centre_per_town": "street/town comprehensive centres are not proposed by this plan "
                       "(community stations only)",
    "centres_per_street": "street comprehensive centres are not proposed by this plan "
                          "(community stations only)",
    "street_centre_share": "street comprehensive centres are not proposed by this plan",
    "town_centre_min_floor_area_m2": "existing street centres below the size: the plan does "
                                     "not resize them",
    "community_centre_floor_area_range_m2": "existing centres outside the range: the plan "
                                            "does not resize them",
    "district_centre_count": "district centres are not proposed by this plan",
    "canteen_coverage_share": "elderly canteens are not proposed by this plan (a canteen is "
                              "a separate facility level)",
}
#: Kinds about beds, staff and land: not spatial, not planned.
_NOT_SPATIAL = {"nursing_bed_share_min", "welfare_home_beds", "beds_per_1000_elderly",
                "building_m2_per_bed", "social_workers_per_1000_elderly",
                "social_workers_per_100_beds", "care_land_m2_per_resident"}


def _reason(row: Any, parameters: dict[str, Any]) -> tuple[str, str]:
    """(category, reason) of a rule that did not pass after the plan."""
    kind, note = row["kind"], str(row["note"])
    if row["passed"] is None:
        if "planning parameter" in note or "not a check" in note:
            return "not a check", note
        return "data missing", note
    if kind in _NOT_SPATIAL:
        return "not a spatial rule", (f"beds, staff and land are not planned by a layout "
                                      f"plan; {note}")
    if kind in _NOT_PLANNED:
        return "not planned", f"{_NOT_PLANNED[kind]}; {note}"
    if kind == "station_coverage_share":
        return "not planned", ("areas whose floor area comes from a larger centre or an "
                               f"on-site room get no separate station; {note}")
    if parameters.get("p") is not None:
        return "budget", f"budget p = {parameters['p']} too small; {note}"
    unresolved = parameters.get("unresolved_deficit_areas")
    if unresolved and unresolved != "none":
        return "no site", f"no station or candidate within the walking circle of: {unresolved}"
    return "other", note


def rules_not_met(rules_after: pd.DataFrame, parameters: dict[str, Any]) -> pd.DataFrame:
    """Rules of the profile that do not pass after the plan, each with its reason.

    Parameters
    ----------
    rules_after : DataFrame
        The rule table after the plan (:func:`careplan.compliance.check`).
    parameters : dict
        The plan's parameters (``p``, ``unresolved_deficit_areas``).

    Returns
    -------
    DataFrame
        ``rule_id, kind, label_en, label_zh, required, found, passed, category, reason,
        citation``; ``category`` is one of 'not planned', 'not a spatial rule', 'data
        missing', 'not a check', 'budget', 'no site', 'other'. Empty when every rule
        passes.
    """
    rows = []
    for _, r in rules_after.iterrows():
        if r["passed"] is True:
            continue
        cat, why = _reason(r, parameters)
        rows.append({"rule_id": r["rule_id"], "kind": r["kind"], "label_en": r["label_en"],
                     "label_zh": r["label_zh"], "required": r["required"], "found": r["found"],
                     "passed": r["passed"], "category": cat, "reason": why,
                     "description": KINDS[r["kind"]].description if r["kind"] in KINDS
                     else "", "citation": r["citation"]})
    cols = ["rule_id", "kind", "label_en", "label_zh", "required", "found", "passed",
            "category", "reason", "description", "citation"]
    out = pd.DataFrame(rows, columns=cols)
    out["passed"] = pd.Series([r["passed"] for r in rows], dtype=object, index=out.index)
    return out
