"""Rule kinds of the three-level network: centres per zone, coverage shares, the circle."""

from __future__ import annotations

import pandas as pd

from careplan._errors import InputError
from careplan._schema import walking_circle_m
from careplan.standards._functions import CANTEEN
from careplan.standards._model import Rule
from careplan.standards._registry import (
    TOL,
    Outcome,
    RuleContext,
    ids_text,
    no_column,
    rule_kind,
)


@rule_kind("centre_per_town", "Minimum number of comprehensive centres in every street/town.",
           description_zh="每个街道(乡镇)综合服务中心最少数量",
           levels=("street",), is_count=True, plausible=(0.0, 100.0))
@rule_kind("district_centre_count",
           "Minimum number of district (regional) care centres in every district.",
           description_zh="每个区(县)区域养老服务中心最少数量",
           levels=("district",), is_count=True, plausible=(0.0, 100.0))
@rule_kind("centres_per_street",
           "Number of comprehensive centres in every street (min, optional max).",
           description_zh="每个街道综合服务中心数量(最少、最多)",
           levels=("street",), is_range=True, is_count=True, plausible=(0.0, 100.0))
def per_zone(rule: Rule, c: RuleContext) -> Outcome:
    """Facilities of the rule's levels per street (per district for district centres)."""
    col = "district" if rule.kind == "district_centre_count" else "street"
    lvtxt = "/".join(rule.levels)
    counts = c.zone_counts(col, rule.levels)
    if counts is None:
        return Outcome(None, no_column(col))
    if not len(counts):
        return Outcome(None, f"not evaluated: no area has a {col}")
    low = counts.index[counts < rule.value]
    high = (counts.index[counts > rule.max_value] if rule.max_value is not None
            else pd.Index([]))
    note = (f"{len(counts) - len(low) - len(high)} of {len(counts)} {col}s within the rule; "
            f"found = fewest {lvtxt} facilities in a {col}")
    if len(low):
        note += f"; too few in: {ids_text(low)}"
    if len(high):
        note += f"; more than {rule.max_value:g} in: {ids_text(high)}"
    note += c.zone_note(col, rule.levels)
    gap = float((rule.value - counts[counts < rule.value]).sum())
    return Outcome(len(low) == 0 and len(high) == 0, note, found=float(counts.min()),
                   found_max=float(counts.max()) if rule.kind == "centres_per_street" else None,
                   gap=gap, gap_unit="facilities")


def _share(rule: Rule, has: pd.Series, note: str, tail: str = "") -> Outcome:
    """Outcome of a share rule from a boolean Series (one row per unit counted)."""
    share = float(has.mean())
    if (~has).any():
        note += f"; without: {ids_text(has.index[~has])}"
    return Outcome(share >= rule.value - TOL, note + tail, found=share)


@rule_kind("station_coverage_share",
           "Share of residential areas (communities) with households served by a care "
           "station: one within the walking circle (or assigned to the area).",
           description_zh="步行服务圈内设有养老服务站的社区(居住区)比例",
           levels=("community",), is_share=True)
@rule_kind("canteen_coverage_share",
           "Share of residential areas (communities) with households served by an elderly "
           "canteen: a facility of level 'canteen' or carrying the canteen function within "
           "the walking circle (or assigned to the area).",
           description_zh="步行服务圈内有长者饭堂(助餐功能)的社区(居住区)比例",
           levels=("canteen",), is_share=True)
def area_share(rule: Rule, c: RuleContext) -> Outcome:
    """Share of areas with households served by a facility of the rule's levels.

    Served (:meth:`RuleContext.served`): the facility lies within the standard's walking
    circle of the area when walking distances are given, else its floor area is assigned
    to the area. For canteens, any facility carrying the canteen function counts
    (:func:`careplan.standards._functions.carries`). Areas with 0 households are no
    community to serve: they are left out (and counted in the note).
    """
    lived = c.areas["households"] > 0
    if not lived.any():
        return Outcome(None, "not evaluated: no area with households")
    canteen = rule.kind == "canteen_coverage_share"
    has = c.served(rule.levels, CANTEEN if canteen else None)[lived]
    empty = int((~lived).sum())
    what = "canteen (level or function)" if canteen else f"{'/'.join(rule.levels)} facility"
    how = ("within the walking circle or assigned" if c.reach is not None
           else "assigned by allocation, area_id or location")
    return _share(rule, has, f"{int(has.sum())} of {len(has)} areas with households served by "
                             f"a {what} ({how})",
                  f"; {empty} area(s) with 0 households left out" if empty else "")


@rule_kind("street_coverage_share",
           "Share of streets/towns with at least one community care facility.",
           description_zh="设有社区养老服务设施的街道(乡镇)比例",
           levels=("community", "street"), is_share=True)
@rule_kind("street_centre_share",
           "Share of streets/towns with at least one comprehensive centre.",
           description_zh="设有综合服务中心的街道(乡镇)比例",
           levels=("street",), is_share=True)
def street_share(rule: Rule, c: RuleContext) -> Outcome:
    """Share of streets with a facility of the rule's levels."""
    lvtxt = "/".join(rule.levels)
    counts = c.zone_counts("street", rule.levels)
    if counts is None:
        return Outcome(None, no_column("street"))
    if not len(counts):
        return Outcome(None, "not evaluated: no area has a street")
    has = counts > 0
    return _share(rule, has, f"{int(has.sum())} of {len(has)} streets have a {lvtxt} facility",
                  c.zone_note("street", rule.levels))


def coverage_table(cov: object, area_ids: pd.Index) -> pd.Series:
    """The boolean ``covered`` flag per area from a CoverageResult or a DataFrame.

    Raises
    ------
    InputError
        If ``cov`` has no ``covered`` column or misses areas.
    """
    tab = cov.areas if hasattr(cov, "areas") and not isinstance(cov, pd.DataFrame) else cov
    if not isinstance(tab, pd.DataFrame) or "covered" not in tab.columns:
        raise InputError("coverage must be a CoverageResult or a DataFrame with a boolean "
                         "'covered' column indexed by area_id (or with an area_id column)")
    if "area_id" in tab.columns:
        tab = tab.set_index("area_id")
    missing = [a for a in area_ids if a not in tab.index]
    if missing:
        raise InputError(f"coverage has no row for areas {missing[:10]}; compute coverage for "
                         "the same areas")
    covered = tab["covered"].reindex(area_ids)
    if covered.isna().any():
        raise InputError(f"coverage 'covered' is missing for areas "
                         f"{list(covered.index[covered.isna()][:10])}; give True/False")
    return covered.astype(bool)


@rule_kind("service_circle",
           "Walking time of the home & community care service circle, minutes "
           "(evaluated from a coverage result).",
           description_zh="居家和社区养老服务圈步行时间(分钟)",
           levels=("community", "street", "district"), plausible=(1.0, 120.0),
           stricter="lower")
def service_circle(rule: Rule, c: RuleContext) -> Outcome:
    speed = c.standard.walk_speed_m_per_min
    dist_m = walking_circle_m(rule.value, speed)
    if c.coverage is None:
        return Outcome(None, f"not evaluated: needs walking distances; pass coverage="
                             f"careplan.coverage.walk_coverage(net, areas, facilities, "
                             f"minutes={rule.value:g}) ({dist_m:g} m at {speed:g} m/min)")
    covered = coverage_table(c.coverage, c.areas.index)
    hh = c.areas["households"].astype(float)
    share = float(hh[covered].sum() / hh.sum()) if hh.sum() > 0 else float(covered.mean())
    note = (f"share of households within the {rule.value:g}-minute walk: {int(covered.sum())} "
            f"of {len(covered)} areas covered")
    cut = getattr(c.coverage, "cutoff_m", None)
    if cut is not None:
        note += f"; coverage cutoff {float(cut):g} m (standard: {dist_m:g} m)"
    if (~covered).any():
        note += f"; uncovered: {ids_text(covered.index[~covered])}"
    return Outcome(share >= 1 - TOL, note, found=share)
