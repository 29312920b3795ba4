"""Floor-area rule kinds: per 100 households, per site, per centre."""

from __future__ import annotations

from careplan.standards._model import BUILT_CLASSES, Rule
from careplan.standards._registry import TOL, Outcome, RuleContext, ids_text, rule_kind


@rule_kind(
    "floor_area_per_100hh",
    "Community-care floor area per 100 households, per residential area of the given built "
    "class ('new' or 'existing').",
    description_zh="每百户社区养老服务用房建筑面积(按新建/已建居住区)",
    levels=("community", "street"), applies_to=BUILT_CLASSES, plausible=(0.0, 500.0))
def floor_area_per_100hh(rule: Rule, c: RuleContext) -> Outcome:
    a = c.areas[c.areas["built"] == rule.applies_to]
    if not len(a):
        return Outcome(None, f"not evaluated: no {rule.applies_to!r} areas")
    hh = a["households"].astype(float)
    pos = hh > 0
    rate = a["provided_m2"][pos] / hh[pos] * 100.0
    found = float(rate.min()) if len(rate) else None
    bad = a.index[a["compliant"] == False]  # noqa: E712
    deficit = float(a["deficit_m2"].sum())
    note = (f"{len(a) - len(bad)} of {len(a)} {rule.applies_to} areas compliant; deficit "
            f"{deficit:.1f} m2; found = lowest provided m2 per 100 households "
            f"(counting levels {'/'.join(c.levels_used[rule.applies_to])})")
    if len(bad):
        note += f"; failing: {ids_text(bad)}"
    return Outcome(len(bad) == 0, note, found=found, gap=deficit, gap_unit="m2")


@rule_kind(
    "town_centre_min_floor_area_m2",
    "Minimum floor area of each street/town comprehensive centre.",
    description_zh="街道(乡镇)综合服务中心最小建筑面积",
    levels=("street",), plausible=(0.0, 100_000.0))
def town_centre_min_floor_area_m2(rule: Rule, c: RuleContext) -> Outcome:
    lvtxt = "/".join(rule.levels)
    cen = c.of_levels(rule.levels)
    if not len(cen):
        return Outcome(None, f"not evaluated: no facility of level {lvtxt}")
    fa = cen["floor_area_m2"].astype(float)
    bad = cen.index[fa < rule.value - TOL]
    note = f"{len(cen)} {lvtxt} centre(s); found = smallest floor area"
    if len(bad):
        note += f"; below {rule.value:g} m2: {ids_text(bad)}"
    return Outcome(len(bad) == 0, note, found=float(fa.min()))


@rule_kind(
    "community_centre_floor_area_range_m2",
    "Floor-area range of each comprehensive community care centre.",
    description_zh="综合性社区养老服务中心建筑面积范围",
    levels=("street",), is_range=True, plausible=(0.0, 100_000.0))
@rule_kind(
    "site_floor_area_range_m2",
    "Floor area of every single site of the given levels: at least 'min' (and at most "
    "'max'); the plan sizes no new site outside it.",
    description_zh="单处设施建筑面积(不小于最小值、不大于最大值)",
    levels=("community",), is_range=True, plausible=(0.0, 100_000.0))
def floor_area_range(rule: Rule, c: RuleContext) -> Outcome:
    """Every facility of the rule's levels within [min, max] m2."""
    lvtxt = "/".join(rule.levels)
    cen = c.of_levels(rule.levels)
    if not len(cen):
        return Outcome(None, f"not evaluated: no facility of level {lvtxt}")
    fa = cen["floor_area_m2"].astype(float)
    bad = fa < rule.value - TOL
    if rule.max_value is not None:
        bad |= fa > rule.max_value + TOL
    note = f"{int((~bad).sum())} of {len(cen)} {lvtxt} facilities within range"
    if bad.any():
        note += f"; outside: {ids_text(cen.index[bad])}"
    return Outcome(not bad.any(), note, found=float(fa.min()), found_max=float(fa.max()))
