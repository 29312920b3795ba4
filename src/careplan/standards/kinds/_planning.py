"""Rule kinds the plan applies when it counts and sizes supply (on-site rooms, pooling,
life-circle distances); each is evaluated as far as the inputs allow."""

from __future__ import annotations

from careplan._schema import walking_circle_m
from careplan.standards._model import BUILT_CLASSES, Rule
from careplan.standards._registry import TOL, Outcome, RuleContext, ids_text, rule_kind
from careplan.standards.kinds._network import coverage_table


@rule_kind(
    "floor_area_on_site",
    "Share of an estate's required floor area that must be inside the estate (配建 of "
    "new estates); the allocation then counts only on-site rooms for that class.",
    description_zh="配建养老服务用房须在本居住区内的比例",
    applies_to=BUILT_CLASSES, levels=("community", "street"), is_share=True)
def floor_area_on_site(rule: Rule, c: RuleContext) -> Outcome:
    a = c.areas[(c.areas["built"] == rule.applies_to) & (c.areas["households"] > 0)]
    if not len(a):
        return Outcome(None, f"not evaluated: no {rule.applies_to!r} areas with households")
    req = a["required_m2"].astype(float)
    if req.isna().all():
        return Outcome(None, f"not evaluated: the standard sets no floor-area rate for "
                             f"{rule.applies_to!r} areas")
    asg = c.assignment
    on = asg[asg["on_site"] & asg["level"].isin(rule.levels)]
    got = on.groupby("area_id")["floor_area_m2"].sum().reindex(a.index, fill_value=0.0)
    need = rule.value * req.fillna(0.0)
    short = (need - got).clip(lower=0.0)
    bad = a.index[short > TOL]
    share = float((got.clip(upper=req) / req).min()) if (req > 0).any() else 1.0
    note = (f"{len(a) - len(bad)} of {len(a)} {rule.applies_to} areas have "
            f"{rule.value:.0%} of their required floor area inside the estate")
    if len(bad):
        note += f"; short on site: {ids_text(bad)}"
    return Outcome(len(bad) == 0, note, found=share, gap=float(short.sum()), gap_unit="m2")


@rule_kind(
    "pooling_circle_minutes",
    "Walking minutes within which small estates are pooled into one shared site (the plan "
    "pools deficits below the single-site minimum within this circle).",
    description_zh="小规模居住区集中配置的步行范围(分钟)",
    levels=("community",), plausible=(1.0, 60.0), stricter="lower")
def pooling_circle_minutes(rule: Rule, c: RuleContext) -> Outcome:
    return Outcome(None, "not a check on existing facilities: a planning parameter the plan "
                         f"applies (small deficits pooled within {rule.value:g} minutes, "
                         f"{walking_circle_m(rule.value, c.standard.walk_speed_m_per_min):g} m)")


@rule_kind(
    "life_circle_m",
    "Walking distance of a life circle (GB 50180-2018: 15-minute 800-1,000 m, 10-minute "
    "500 m, 5-minute 300 m): every household with a facility within 'max' (else 'min').",
    description_zh="生活圈步行距离(米)",
    applies_to=("15min", "10min", "5min"), levels=("community", "street", "district"),
    is_range=True, plausible=(50.0, 5000.0), stricter="lower")
def life_circle_m(rule: Rule, c: RuleContext) -> Outcome:
    limit = rule.max_value if rule.max_value is not None else rule.value
    cov = c.coverage
    tab = getattr(cov, "areas", cov)
    if cov is None or not hasattr(tab, "columns") or "nearest_distance_m" not in tab.columns:
        return Outcome(None, f"not evaluated: needs walking distances; pass coverage="
                             f"careplan.coverage.walk_coverage(...) (its nearest_distance_m is "
                             f"compared with {limit:g} m)")
    coverage_table(cov, c.areas.index)  # same checks as the service circle
    t = tab.set_index("area_id") if "area_id" in tab.columns else tab
    d = t["nearest_distance_m"].reindex(c.areas.index).astype(float)
    ok = d.fillna(float("inf")) <= limit + TOL
    hh = c.areas["households"].astype(float)
    share = float(hh[ok].sum() / hh.sum()) if hh.sum() > 0 else float(ok.mean())
    note = (f"share of households with a facility within {limit:g} m: {int(ok.sum())} of "
            f"{len(ok)} areas")
    if (~ok).any():
        note += f"; beyond: {ids_text(ok.index[~ok])}"
    return Outcome(share >= 1 - TOL, note, found=share)
