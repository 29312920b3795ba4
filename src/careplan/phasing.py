"""Phasing and cost of a layout plan: what first, and how much (issue 12.6).

:func:`cost_table` prices every proposed facility from optional unit costs by level
(construction per m2, rent per m2 per year). :func:`phase_order` gives each new
facility a phase (the profile's target years, e.g. 2022 / 2025) within a budget per
phase so that the elderly newly covered are as many as possible as early as possible
(:func:`phase_layout` weighs an area by its elderly only when no facility covered it
before the plan):

    maximise  sum over phases t of  sum over areas a  w_a * y_at
    subject to  y_at <= sum of x_ft over facilities f serving a   (a served by phase t)
                x_ft <= x_f,t+1                                   (built stays built)
                sum_f c_f (x_ft - x_f,t-1) <= B_t                  (the phase's budget)
                x, y binary

(w_a: elderly of area a; x_ft = 1 when facility f is built by the end of phase t). An
area counts once, from the first phase in which a facility serving it exists, so the
objective is the area under the "elderly served" curve. It is solved exactly as a MIP
with HiGHS (:func:`scipy.optimize.milp`); :func:`phase_layout` applies it to a
:class:`~careplan.plan.LayoutPlan`. Facilities the budgets cannot fit get no phase
go to a last phase, milestone ``"beyond budget"`` (:data:`BEYOND_BUDGET`), never dropped.

Benefit (tester's finding 4): an area's older people count only when a *station* brings
them into a walking circle (not a street or district centre, whose ``areas_served`` is its
whole zone), and every facility also counts the floor-area deficit it meets (its
``plan.allocation``), each m2 as the older people one m2 of the requirement serves (total
elderly / total required m2 of the plan), in every phase from the one it is built in.
"""

from __future__ import annotations

import dataclasses
import math
import warnings
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd
import scipy.sparse as sp
from scipy.optimize import Bounds, LinearConstraint, milp

from careplan._errors import CareplanWarning, InputError, SolverError

__all__ = ["cost_table", "phase_layout", "phase_order"]


def _number(name: str, v: Any) -> float:
    if isinstance(v, bool) or not isinstance(v, int | float) or not math.isfinite(v) or v < 0:
        raise InputError(f"{name} must be a finite number >= 0, got {v!r}")
    return float(v)


def cost_table(proposed: pd.DataFrame, unit_costs: Mapping[str, Mapping[str, float]], *,
               level_col: str = "level") -> pd.DataFrame:
    """Cost of every proposed facility from unit costs by level.

    Parameters
    ----------
    proposed : DataFrame
        ``station_id, floor_area_m2`` and a level column (``level_col``).
    unit_costs : mapping
        ``{level: {"construction_per_m2": yuan, "rent_per_m2_year": yuan}}``; either key
        may be left out (0). Levels without an entry cost 0 and are named in ``note``.
    level_col : str, default 'level'
        Column of ``proposed`` with the facility level (the key into ``unit_costs``).

    Returns
    -------
    DataFrame
        ``station_id, level, floor_area_m2, construction_cost, rent_per_year, note``.

    Raises
    ------
    InputError
        A unit cost that is not a finite number >= 0, or an unknown key.
    """
    rows = []
    for _, r in proposed.iterrows():
        lv = r[level_col]
        uc = unit_costs.get(lv)
        m2 = float(r["floor_area_m2"])
        note = ""
        if uc is None:
            uc, note = {}, f"no unit cost for level {lv!r}"
        bad = set(uc) - {"construction_per_m2", "rent_per_m2_year"}
        if bad:
            raise InputError(f"unit_costs[{lv!r}] has unknown keys {sorted(bad)}; use "
                             "construction_per_m2 and rent_per_m2_year")
        c = _number(f"unit_costs[{lv!r}].construction_per_m2", uc.get("construction_per_m2", 0))
        rent = _number(f"unit_costs[{lv!r}].rent_per_m2_year", uc.get("rent_per_m2_year", 0))
        rows.append({"station_id": r["station_id"], "level": lv, "floor_area_m2": m2,
                     "construction_cost": c * m2, "rent_per_year": rent * m2, "note": note})
    out = pd.DataFrame(rows, columns=["station_id", "level", "floor_area_m2",
                                      "construction_cost", "rent_per_year", "note"])
    free = out[(out["note"] != "") & (out["floor_area_m2"] > 0)]
    if len(free):  # tester's finding 4: a district centre at 0 yuan, said only in a note
        lv = sorted(set(map(str, free["level"])))
        warnings.warn(f"no unit cost for level(s) {lv}: {len(free)} proposed facilit(y/ies) "
                      f"({', '.join(map(str, free['station_id'][:10]))}) cost 0 yuan; add "
                      f"unit_costs for {', '.join(lv)}", CareplanWarning, stacklevel=3)
    return out


def phase_order(serves: pd.DataFrame, weights: pd.Series, cost: pd.Series,
                budgets: Sequence[float], *, time_limit_s: float = 60.0,
                benefit: pd.Series | None = None) -> pd.Series:
    """The phase of every facility that serves the most weight earliest within budgets.

    Parameters
    ----------
    serves : DataFrame
        ``facility_id, area_id``: which areas each facility serves.
    weights : Series of shape (n_areas,)
        Weight of each area (elderly), index = area ids; areas absent count 0.
    cost : Series of shape (n_facilities,)
        Cost of each facility (index = facility ids), in the budgets' unit.
    budgets : sequence of float
        Budget of each phase, in order.
    time_limit_s : float
        HiGHS time limit, seconds.
    benefit : Series of shape (n_facilities,), optional
        A facility's own benefit in the weights' unit, counted in every phase from the
        one it is built in (added to the objective: ``+ sum_f,t benefit_f x_ft``);
        :func:`phase_layout` gives the floor-area deficit it meets.

    Returns
    -------
    Series
        Phase index (0, 1, ...) of each facility of ``cost``, or None where the budgets
        cannot fit it.

    Raises
    ------
    InputError
        Negative or non-finite costs, budgets or weights; no phase.
    SolverError
        If HiGHS finds no solution in time.
    """
    budgets = [_number(f"budgets[{i}]", b) for i, b in enumerate(budgets)]
    if not budgets:
        raise InputError("give at least one phase budget")
    fac = list(cost.index)
    c = np.array([_number(f"cost[{f!r}]", v) for f, v in cost.items()])
    sv = serves[serves["facility_id"].isin(fac)]
    areas = sorted(set(sv["area_id"]), key=str)
    w = np.array([_number(f"weights[{a!r}]", float(weights.get(a, 0.0))) for a in areas])
    n_f, n_a, n_t = len(fac), len(areas), len(budgets)
    if n_f == 0:
        return pd.Series([], dtype=object)
    # variables: x[f, t] (n_f * n_t), then y[a, t] (n_a * n_t)
    def xi(f: int, t: int) -> int:
        return f * n_t + t

    def yi(a: int, t: int) -> int:
        return n_f * n_t + a * n_t + t

    n = n_f * n_t + n_a * n_t
    rows, cols, vals, lo, hi = [], [], [], [], []
    r = 0
    fpos = {f: i for i, f in enumerate(fac)}
    apos = {a: i for i, a in enumerate(areas)}
    by_area: dict[int, list[int]] = {}
    for f, a in sv[["facility_id", "area_id"]].itertuples(index=False):
        by_area.setdefault(apos[a], []).append(fpos[f])
    for a, fs in by_area.items():  # y_at - sum_f x_ft <= 0
        for t in range(n_t):
            rows += [r] * (1 + len(fs))
            cols += [yi(a, t)] + [xi(f, t) for f in fs]
            vals += [1.0] + [-1.0] * len(fs)
            lo.append(-np.inf)
            hi.append(0.0)
            r += 1
    for f in range(n_f):  # x_ft - x_f,t+1 <= 0
        for t in range(n_t - 1):
            rows += [r, r]
            cols += [xi(f, t), xi(f, t + 1)]
            vals += [1.0, -1.0]
            lo.append(-np.inf)
            hi.append(0.0)
            r += 1
    for t in range(n_t):  # sum_f c_f (x_ft - x_f,t-1) <= B_t
        for f in range(n_f):
            rows.append(r)
            cols.append(xi(f, t))
            vals.append(c[f])
            if t:
                rows.append(r)
                cols.append(xi(f, t - 1))
                vals.append(-c[f])
        lo.append(-np.inf)
        hi.append(budgets[t])
        r += 1
    a_mat = sp.csr_array((vals, (rows, cols)), shape=(r, n))
    obj = np.zeros(n)
    for a in range(n_a):
        for t in range(n_t):
            obj[yi(a, t)] = -w[a]
    # tie-break: among equally good orders, build what fits earlier (tiny reward)
    eps = 1e-6 * (1.0 + w.sum()) / (1.0 + n_f * n_t)
    own = np.zeros(n_f) if benefit is None else np.array(
        [_number(f"benefit[{f!r}]", float(benefit.get(f, 0.0))) for f in fac])
    for f in range(n_f):
        for t in range(n_t):
            obj[xi(f, t)] -= eps + own[f]
    res = milp(obj, constraints=LinearConstraint(a_mat, lo, hi), integrality=np.ones(n),
               bounds=Bounds(0, 1), options={"time_limit": time_limit_s})
    if res.x is None:
        raise SolverError(f"HiGHS found no phasing: {res.message}")
    x = np.round(res.x[:n_f * n_t]).reshape(n_f, n_t)
    phase = [int(np.argmax(x[f])) if x[f].any() else None for f in range(n_f)]
    return pd.Series(phase, index=fac, dtype=object)


def served_weight(serves: pd.DataFrame, weights: pd.Series, built: Sequence[Any]) -> float:
    """Total weight of the areas served by at least one facility of ``built``."""
    a = set(serves.loc[serves["facility_id"].isin(list(built)), "area_id"])
    return float(sum(weights.get(x, 0.0) for x in a))


def _levels(plan: Any, prop: pd.DataFrame) -> list:
    """Level of every proposed facility: the plan's facilities table, else the proposed
    table's ``level``, else 'community' (expansions: the expanded facility's level)."""
    fac = getattr(plan, "facilities", None)
    if fac is not None and len(fac) and {"facility_id", "level"} <= set(fac.columns):
        by_id = dict(zip(fac["facility_id"], fac["level"], strict=True))
        if all(s in by_id for s in prop["station_id"]):
            return [by_id[s] for s in prop["station_id"]]
    if "level" in prop.columns and prop["level"].notna().all():
        return list(prop["level"])
    lv = {fid: lev for fid, lev in zip(plan.existing.get("facility_id", []),
                                       plan.existing.get("level", []), strict=False)}
    return [lv.get(f, "community") if k == "expansion" else "community"
            for k, f in zip(prop["kind"], prop["facility_id"], strict=True)]


def _check_budgets(milestones: Sequence[tuple[Any, float]], cost: pd.Series) -> list[float]:
    """The budgets, each able to pay for the cheapest facility (else InputError)."""
    budgets = []
    for k, m in enumerate(milestones):
        if not isinstance(m, list | tuple) or len(m) != 2:
            raise InputError(f"milestones[{k}] must be a (label, budget) pair, got {m!r}")
        budgets.append(_number(f"budget of milestone {m[0]}", m[1]))
    priced = cost[cost > 0]
    if len(priced):
        cheapest, sid = float(priced.min()), priced.idxmin()
        for (label, _), b in zip(milestones, budgets, strict=True):
            if b < cheapest:
                raise InputError(
                    f"the budget of milestone {label} ({b:,.0f} yuan) is smaller than the "
                    f"cheapest proposed facility ({sid}: {cheapest:,.0f} yuan): raise it or "
                    "merge the milestone into the next one")
    return budgets


def phase_layout(plan: Any, *, milestones: Sequence[tuple[Any, float]] | None,
                 unit_costs: Mapping[str, Mapping[str, float]],
                 time_limit_s: float = 60.0) -> Any:
    """The plan with a ``cost`` and a ``phases`` table (a new LayoutPlan).

    Parameters
    ----------
    plan : LayoutPlan
    milestones : sequence of (label, budget), optional
        E.g. ``[(2022, 3e6), (2025, 5e6)]``: each phase's target (the profile's years)
        and its construction budget (yuan). None: the cost table only (``phases``
        stays None).
    unit_costs : mapping
        By facility level, see :func:`cost_table`; every proposed facility is priced at
        its level in ``plan.facilities`` (new stations and on-site rooms 'community',
        street centres 'street', expansions the expanded facility's level), for the
        floor area it adds.
    time_limit_s : float
        HiGHS time limit of :func:`phase_order`, seconds.

    Returns
    -------
    LayoutPlan
        With ``cost`` (see :func:`cost_table`) and ``phases`` (``phase`` (1, 2, ...:
        the first phase is 1), ``milestone`` (its year), ``station_id,
        construction_cost, elderly_served_new`` (elderly of the areas the station
        brings into a walking circle for the first time: not covered before the plan
        nor by a station of an earlier phase or listed before it), ``elderly_served_total``
        (cumulative; the last equals the summary's elderly covered after minus before
        when every station is phased), or households without an elderly column; the
        stations the budgets cannot fit last, with ``phase`` None).

    Raises
    ------
    InputError
        A unit cost or budget that is not a finite number >= 0, or a budget smaller
        than the cheapest proposed facility (the message says which).
    SolverError
        If HiGHS finds no phasing in time.
    """
    prop = plan.proposed.copy()
    prop["level"] = _levels(plan, prop)
    cost = cost_table(prop, unit_costs)
    if milestones is None:
        return dataclasses.replace(plan, cost=cost)
    construction = cost.set_index("station_id")["construction_cost"]
    budgets = _check_budgets(milestones, construction)
    areas = plan.areas
    wcol = "elderly" if "elderly" in areas.columns else "households"
    weights = areas[wcol].astype(float)
    per_m2 = _per_m2(areas, weights)
    if "covered_before" in areas.columns:  # only the newly covered count (tester finding 2)
        weights = weights.where(~areas["covered_before"].fillna(False).astype(bool), 0.0)
    # coverage is credited to stations only (tester's finding 4): a centre's areas_served is
    # its whole street or district, not a walking circle
    station = ~prop["kind"].isin(["centre", "canteen"]) if "kind" in prop.columns else \
        pd.Series(True, index=prop.index)
    serves = pd.DataFrame([(s, a) for s, served in zip(prop.loc[station, "station_id"],
                                                       prop.loc[station, "areas_served"],
                                                       strict=True)
                           for a in str(served or "").split(",") if a],
                          columns=["facility_id", "area_id"])
    met = _deficit_met(plan, construction.index)
    phase = phase_order(serves, weights, construction, budgets, time_limit_s=time_limit_s,
                        benefit=met * per_m2)
    beyond = len(budgets)  # the facilities no budget fits: a last phase, "beyond budget"
    phase = phase.map(lambda p: beyond if p is None else p)
    order = sorted(phase.index, key=lambda s: (phase[s], str(s)))
    rows, built = [], []
    for s in order:
        p = phase[s]
        before = served_weight(serves, weights, built)
        built.append(s)
        new = served_weight(serves, weights, built) - before
        rows.append({"phase": p + 1,
                     "milestone": BEYOND_BUDGET if p == beyond else milestones[p][0],
                     "station_id": s, "construction_cost": float(construction[s]),
                     f"{wcol}_served_new": new,
                     f"{wcol}_served_total": served_weight(serves, weights, built),
                     "deficit_met_m2": float(met[s]),
                     "benefit": new + float(met[s]) * per_m2})
    phases = pd.DataFrame(rows)
    return dataclasses.replace(plan, cost=cost, phases=phases)


#: Milestone of the last phase: the facilities the budgets cannot fit (tester's finding 4).
BEYOND_BUDGET = "beyond budget"


def _per_m2(areas: pd.DataFrame, weights: pd.Series) -> float:
    """Weight (elderly) per m2 of required floor area over the plan's areas: the rate at
    which a m2 of deficit met counts against a newly covered older person (each m2 counts
    as much as the older people one m2 of the requirement serves; 0 without requirement)."""
    req = float(areas["required_m2"].fillna(0).sum()) if "required_m2" in areas.columns else 0.0
    return float(weights.sum()) / req if req > 0 else 0.0


def _deficit_met(plan: Any, ids: pd.Index) -> pd.Series:
    """Floor-area deficit each proposed facility meets, m2 (``plan.allocation``)."""
    alloc = getattr(plan, "allocation", None)
    if alloc is None or not len(alloc):
        return pd.Series(0.0, index=ids)
    return alloc.groupby("facility_id")["floor_area_m2"].sum().reindex(ids, fill_value=0.0)
