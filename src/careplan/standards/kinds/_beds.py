"""Rule kinds on beds, staff and land (institutions, welfare homes, social workers)."""

from __future__ import annotations

import math

import pandas as pd

from careplan.standards._model import Rule
from careplan.standards._registry import TOL, Outcome, RuleContext, ids_text, rule_kind


@rule_kind("nursing_bed_share_min",
           "Minimum share of nursing-type beds among institution beds, in every district "
           "with institution beds (or the whole area without a district column); the "
           "nursing-bed gap per district is stated.",
           description_zh="护理型床位占养老机构床位总数的最低比例(按区县)",
           levels=("institution",), is_share=True)
def nursing_bed_share_min(rule: Rule, c: RuleContext) -> Outcome:
    lvtxt = "/".join(rule.levels)
    inst = c.of_levels(rule.levels)
    if float(inst["beds"].sum()) <= 0:
        return Outcome(None, f"not evaluated: no beds in {lvtxt} facilities")
    zone, where, outside = _zones(c, inst)
    beds = inst["beds"].astype(float).groupby(zone).sum()
    nursing = inst["nursing_beds"].astype(float).groupby(zone).sum().reindex(beds.index)
    empty = beds.index[beds <= 0]
    beds, nursing = beds[beds > 0], nursing[beds > 0]
    share = nursing / beds
    need = (rule.value * beds).apply(lambda v: math.ceil(v - TOL))
    gap = (need - nursing).clip(lower=0)
    low = share.index[share < rule.value - TOL]
    note = (f"nursing beds / {lvtxt} beds by {where}: "
            + ", ".join(f"{d}={share[d]:.0%} ({int(nursing[d])} of {int(beds[d])})"
                        for d in share.index[:10]))
    if len(empty):
        note += f"; no {lvtxt} beds in: {ids_text(empty)}"
    note += _tail(gap[low], "nursing beds", outside, lvtxt)
    return Outcome(len(low) == 0, note, found=float(share.min()), gap=float(gap[low].sum()),
                   gap_unit="nursing beds")


def gap_text(gap, unit: str) -> str:
    """The gap per zone, as ``gap by district: A 12, B 3 (unit)`` (read by the plan's
    explanations, which show it in Chinese)."""
    return ("gap by district: " + ", ".join(f"{d} {int(v)}" for d, v in list(gap.items())[:10])
            + f" ({unit})")


def _tail(gap, unit: str, outside, lvtxt: str) -> str:
    """The end of a bed rule's note: the gap per zone and the facilities not counted."""
    out = f"; {gap_text(gap, unit)}" if len(gap) else ""
    if len(outside):
        out += f"; {lvtxt} facilities outside every district (not counted): {ids_text(outside)}"
    return out


def _zones(c: RuleContext, inst) -> tuple:
    """(district of each facility, 'district' or 'area', facilities outside every district)."""
    if "district" in c.areas.columns and c.areas["district"].notna().any():
        known = set(c.areas["district"].dropna())
        zone = c.facility_zone["district"].reindex(inst.index)
        out = zone.index[zone.isna() | ~zone.isin(known)]
        return zone.where(zone.isin(known)), "district", out
    return pd.Series("all", index=inst.index), "area", inst.index[:0]


@rule_kind("care_land_m2_per_resident",
           "Care-service land per resident, m2 (needs population and land inputs).",
           description_zh="人均养老服务设施用地面积(平方米/人)", plausible=(0.0, 10.0))
def care_land_m2_per_resident(rule: Rule, c: RuleContext) -> Outcome:
    if c.population is None:
        return Outcome(None, "not evaluated: pass population= (residents) and care_land_m2= "
                             "(or a facility column land_area_m2)")
    if c.care_land_m2 is None:
        return Outcome(None, "not evaluated: pass care_land_m2= or give facilities a "
                             "land_area_m2 column")
    if c.population <= 0:
        return Outcome(None, "not evaluated: population is 0")
    v = c.care_land_m2 / c.population
    gap = max(0.0, rule.value * c.population - c.care_land_m2)
    return Outcome(v >= rule.value - TOL,
                   f"{c.care_land_m2:g} m2 of care land for {c.population:g} residents "
                   f"({c.land_source})", found=v, gap=gap, gap_unit="m2 of land")


@rule_kind("welfare_home_beds",
           "Beds of the largest welfare home (institution) of the city / each urban "
           "district / each county.",
           description_zh="(市/城区/县)最大福利院床位数",
           levels=("institution",), applies_to=("city", "urban_district", "county"),
           is_count=True, plausible=(0.0, 100_000.0))
def welfare_home_beds(rule: Rule, c: RuleContext) -> Outcome:
    inst = c.of_levels(rule.levels)
    lvtxt = "/".join(rule.levels)
    if rule.applies_to == "city":
        if not len(inst):
            return Outcome(False, f"no facility of level {lvtxt} in the input", found=0,
                           gap=rule.value, gap_unit="beds")
        b = inst["beds"].astype(float)
        return Outcome(bool(b.max() >= rule.value),
                       f"largest {lvtxt}: {b.idxmax()} with {int(b.max())} beds",
                       found=float(b.max()), gap=max(0.0, rule.value - b.max()),
                       gap_unit="beds")
    if c.district_types is None:
        return Outcome(None, "not evaluated: pass district_types={district: 'urban_district' "
                             "| 'county'} to say which districts are urban districts and "
                             "counties")
    districts = [d for d, t in c.district_types.items() if t == rule.applies_to]
    if not districts:
        return Outcome(None, f"not evaluated: no district of type {rule.applies_to!r} in "
                             "district_types")
    zone = c.facility_zone["district"]
    best = {}
    for d in districts:
        b = inst.loc[zone.reindex(inst.index) == d, "beds"].astype(float)
        best[d] = float(b.max()) if len(b) else 0.0
    low = [d for d, v in best.items() if v < rule.value]
    note = f"largest {lvtxt} per {rule.applies_to}: " + ", ".join(
        f"{d}={int(v)}" for d, v in list(best.items())[:10])
    if low:
        note += f"; below {rule.value:g} beds: {ids_text(low)}"
    gap = sum(rule.value - best[d] for d in low)
    return Outcome(not low, note, found=min(best.values()), gap=gap, gap_unit="beds")


@rule_kind("beds_per_1000_elderly",
           "Institution beds per 1,000 older people, in every district (or the whole area "
           "without a district column); the bed gap is stated.",
           description_zh="每千名老年人养老床位数(按区县)",
           levels=("institution",), plausible=(0.0, 1000.0))
def beds_per_1000_elderly(rule: Rule, c: RuleContext) -> Outcome:
    if "elderly" not in c.areas.columns:
        return Outcome(None, "not evaluated: areas have no 'elderly' column (older people "
                             "per area)")
    inst = c.of_levels(rule.levels)
    lvtxt = "/".join(rule.levels)
    zone, where, outside = _zones(c, inst)
    eld = (c.areas.groupby("district")["elderly"].sum().astype(float) if where == "district"
           else pd.Series({"all": float(c.areas["elderly"].sum())}))
    beds = inst["beds"].astype(float).groupby(zone).sum().reindex(eld.index, fill_value=0)
    eld = eld[eld > 0]
    if not len(eld):
        return Outcome(None, "not evaluated: no older people in the areas")
    beds = beds.reindex(eld.index, fill_value=0.0)
    per = beds / eld * 1000.0
    need = (rule.value * eld / 1000.0).apply(lambda v: math.ceil(v - TOL))
    gap = (need - beds).clip(lower=0)
    low = per.index[per < rule.value - TOL]
    note = (f"{lvtxt} beds per 1,000 older people by {where}: "
            + ", ".join(f"{d}={per[d]:.1f} ({int(beds[d])} beds, {int(eld[d])} older people)"
                        for d in per.index[:10]))
    note += _tail(gap[low], "beds", outside, lvtxt)
    return Outcome(len(low) == 0, note, found=float(per.min()), gap=float(gap.sum()),
                   gap_unit="beds")


@rule_kind("building_m2_per_bed",
           "Building floor area per bed of every facility of the given levels with beds.",
           description_zh="养老设施每床建筑面积",
           levels=("institution",), plausible=(0.0, 1000.0))
def building_m2_per_bed(rule: Rule, c: RuleContext) -> Outcome:
    inst = c.of_levels(rule.levels)
    inst = inst[inst["beds"].astype(float) > 0]
    lvtxt = "/".join(rule.levels)
    if not len(inst):
        return Outcome(None, f"not evaluated: no {lvtxt} facility with beds")
    per = inst["floor_area_m2"].astype(float) / inst["beds"].astype(float)
    bad = per.index[per < rule.value - TOL]
    gap = float((rule.value * inst["beds"].astype(float) - inst["floor_area_m2"].astype(float))
                .clip(lower=0).sum())
    note = f"{len(inst) - len(bad)} of {len(inst)} {lvtxt} facilities with beds meet it"
    if len(bad):
        note += f"; below {rule.value:g} m2 per bed: {ids_text(bad)}"
    return Outcome(len(bad) == 0, note, found=float(per.min()), gap=gap, gap_unit="m2")


@rule_kind("social_workers_per_1000_elderly",
           "Social workers per 1,000 older people (needs a social-worker count).",
           description_zh="每千名老年人社会工作者人数", plausible=(0.0, 1000.0))
def social_workers_per_1000_elderly(rule: Rule, c: RuleContext) -> Outcome:
    if c.social_workers is None:
        return Outcome(None, "not evaluated: pass social_workers= (count)")
    if "elderly" not in c.areas.columns:
        return Outcome(None, "not evaluated: areas have no 'elderly' column")
    eld = float(c.areas["elderly"].sum())
    if eld <= 0:
        return Outcome(None, "not evaluated: no older people in areas")
    v = c.social_workers / eld * 1000.0
    return Outcome(v >= rule.value - TOL,
                   f"{c.social_workers:g} social workers for {int(eld)} older people", found=v)


@rule_kind("social_workers_per_100_beds",
           "Social workers per 100 institution beds (needs a social-worker count).",
           description_zh="每百张床位社会工作者人数",
           levels=("institution",), plausible=(0.0, 100.0))
def social_workers_per_100_beds(rule: Rule, c: RuleContext) -> Outcome:
    if c.social_workers is None:
        return Outcome(None, "not evaluated: pass social_workers= (count)")
    lvtxt = "/".join(rule.levels)
    beds = float(c.of_levels(rule.levels)["beds"].sum())
    if beds <= 0:
        return Outcome(None, f"not evaluated: no beds in {lvtxt} facilities")
    v = c.social_workers / beds * 100.0
    return Outcome(v >= rule.value - TOL,
                   f"{c.social_workers:g} social workers for {int(beds)} beds", found=v)
