"""One contract for every location model (as scikit-learn's common estimator checks).

Every :class:`~careplan.locate.LocationModel` subclass -- careplan's and a
researcher's own model written below -- goes through the same checks: labels in
and out, existing sites kept, excluded sites never opened, capacities respected
(or refused), the objective recomputed here from the labelled result and equal to
brute force on small instances, bad input -> CareplanError, inputs not mutated.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, ClassVar

import numpy as np
import pandas as pd
import pytest
from conftest import assignments, brute_best, make_locate_instance, open_sets

import careplan.locate as L
from careplan._errors import CareplanError, InfeasibleError, InputError
from careplan.locate import LocationModel, Problem, RawSolution, Solution

CUT = 10.0
SEEDS = [0, 1]


# --------------------------------------------------------------------------- a researcher's own model
@dataclass
class TotalCostMedian(LocationModel):
    """``p`` new sites minimising the UNWEIGHTED total cost (every demand counts once), by enumeration."""

    p: int

    model_name: ClassVar[str] = "TotalCostMedian"
    supports_capacity: ClassVar[bool] = False
    supports_split: ClassVar[bool] = False

    def evaluate(self, solution: Solution) -> float:
        return float(np.nansum(solution.assigned_cost()[solution.need]))

    def _solve(self, prob: Problem) -> RawSolution:
        mat = prob.data.matrix
        D = np.full(mat.shape, np.inf)
        rows = np.repeat(np.arange(mat.shape[0]), np.diff(mat.indptr))
        D[rows, mat.indices] = mat.data  # stored entries are reachable (explicit zeros too)
        need = prob.data.weights > 0
        best, best_open = np.inf, None
        free = np.flatnonzero(prob.free)
        for sub in itertools.combinations(free, self.p):
            is_open = prob.existing.copy()
            is_open[list(sub)] = True
            d = D[:, is_open].min(axis=1) if is_open.any() else np.full(len(D), np.inf)
            v = float(d[need].sum())
            if v < best:
                best, best_open = v, is_open
        if best_open is None or not np.isfinite(best):
            raise InfeasibleError("TotalCostMedian: no open set reaches every demand.")
        assign = np.where(np.isfinite(D[:, best_open].min(axis=1)),
                          np.flatnonzero(best_open)[np.argmin(D[:, best_open], axis=1)], -1)
        return RawSolution(best_open, assign, best, best, "optimal", "enumeration", 0.0, 0.0)


# --------------------------------------------------------------------------- per-model knowledge of the test
def _nearest(D, idx):
    return D[:, idx].min(axis=1) if len(idx) else np.full(D.shape[0], np.inf)


def _count_within(D, idx, cut):
    return (D[:, idx] <= cut).sum(axis=1) if len(idx) else np.zeros(D.shape[0], int)


OPENING = np.array([3.0, 1.0, 4.0, 1.5, 2.0])


@dataclass
class Case:
    """How the test builds, feeds and judges one model."""

    make: Callable[[], LocationModel]
    # objective of an open set (positions), None if infeasible; used by brute force (uncapacitated)
    value: Callable[[np.ndarray, np.ndarray, list[int], int], float | None] | None
    # numbers of new sites the brute force tries (None = all, and the objective is over the sizes)
    sizes: Callable[[LocationModel], list[int] | None]
    # objective recomputed from the labelled result
    recompute: Callable[[Any, pd.DataFrame, pd.Series], float]
    extra: Callable[[Any], dict] = lambda inst: {}
    existing_arg: Callable[[list], Any] = lambda labels: labels
    # objective of a capacitated single-source assignment (positions), for brute force
    cap_value: Callable[[np.ndarray, np.ndarray, dict, int], float | None] | None = None
    cap_optional: bool = False


def _pm(D, w, idx, k):
    d = _nearest(D, idx)[w > 0]
    return float(np.dot(w[w > 0], d)) if np.isfinite(d).all() else None


def _pc(D, w, idx, k):
    d = _nearest(D, idx)[w > 0]
    return float(d.max()) if np.isfinite(d).all() else None


def _sc(D, w, idx, k):
    return float(k) if (_nearest(D, idx)[w > 0] <= CUT).all() else None


def _mclp(D, w, idx, k):
    return float(w[_nearest(D, idx) <= CUT].sum())


def _wsc(D, w, idx, k, existing=()):
    new = [j for j in idx if j not in existing]
    return float(OPENING[new].sum()) if (_nearest(D, idx)[w > 0] <= CUT).all() else None


def _lookup(cost: pd.DataFrame, res) -> np.ndarray:
    a = res.assignment
    return np.array([cost.at[i, j] if j is not None else np.nan for i, j in a.items()])


def _rc_pm(res, cost, w):
    d = _lookup(cost, res)
    return float(np.nansum(w.to_numpy() * d))


def _rc_pc(res, cost, w):
    d = _lookup(cost, res)[w.to_numpy() > 0]
    return float(np.nanmax(d)) if len(d) else 0.0


def _rc_covered_weight(res, cost, w):
    served = res.assignment.notna().to_numpy()
    assert (_lookup(cost, res)[served] <= CUT).all() and (served == res.covered.to_numpy()).all()
    return float(w[served].sum())


def _rc_backup(res, cost, w):
    return float(w[(cost[res.selected].to_numpy() <= CUT).sum(axis=1) >= 2].sum())


def _rc_hier(res, cost, w):
    up = [s for s in res.selected if res.level[s] == "upper"]
    cov_l = (cost[res.selected].to_numpy() <= 6.0).any(axis=1)
    cov_u = (cost[up].to_numpy() <= CUT).any(axis=1) if up else np.zeros(len(w), bool)
    return float(w[cov_l].sum() + w[cov_u].sum())


def _cap_pm(D, w, a, k):
    return float(sum(w[i] * D[i, j] for i, j in a.items()))


def _cap_pc(D, w, a, k):
    return float(max(D[i, j] for i, j in a.items()))


def _cap_mclp(D, w, a, k):
    return float(sum(w[i] for i, j in a.items() if j >= 0))


def _cap_sc(D, w, a, k):
    return float(k)


CASES: dict[str, Case] = {
    "SetCovering": Case(lambda: L.SetCovering(cutoff_m=CUT), _sc, lambda m: None,
                        lambda res, c, w: float(len(res.new)), cap_value=_cap_sc),
    "SetCovering+cost": Case(lambda: L.SetCovering(cutoff_m=CUT, secondary="cost"), _sc, lambda m: None,
                             lambda res, c, w: float(len(res.new)), cap_value=_cap_sc),
    "MaximalCovering": Case(lambda: L.MaximalCovering(p=2, cutoff_m=CUT), _mclp, lambda m: [m.p],
                            _rc_covered_weight, cap_value=_cap_mclp, cap_optional=True),
    "MaximalCovering+cost": Case(lambda: L.MaximalCovering(p=1, cutoff_m=CUT, secondary="cost"), _mclp,
                                 lambda m: [m.p], _rc_covered_weight, cap_value=_cap_mclp, cap_optional=True),
    "PMedian": Case(lambda: L.PMedian(p=2), _pm, lambda m: [m.p], _rc_pm, cap_value=_cap_pm),
    "PCenter": Case(lambda: L.PCenter(p=2), _pc, lambda m: [m.p], _rc_pc, cap_value=_cap_pc),
    "BackupCovering": Case(lambda: L.BackupCovering(cutoff_m=CUT, p=2), None, lambda m: [m.p], _rc_backup),
    "WeightedSetCovering": Case(lambda: L.WeightedSetCovering(cutoff_m=CUT), None, lambda m: None,
                                lambda res, c, w: float(OPENING[[c.columns.get_loc(s) for s in res.new]].sum()),
                                extra=lambda inst: {"opening_cost": pd.Series(OPENING, index=inst.candidates)}),
    "HierarchicalCovering": Case(
        lambda: L.HierarchicalCovering(p_upper=1, p_lower=2, cutoff_upper_m=CUT, cutoff_lower_m=6.0,
                                       nest_cutoff_m=5.0),
        None, lambda m: None, _rc_hier,
        extra=lambda inst: {"site_cost": pd.DataFrame(np.abs(np.subtract.outer(np.arange(5), np.arange(5))) * 5.0,
                                                      index=inst.candidates, columns=inst.candidates)},
        existing_arg=lambda labels: {s: "lower" for s in labels}),
    "TotalCostMedian": Case(lambda: TotalCostMedian(p=2), lambda D, w, idx, k: _pc_sum(D, w, idx),
                            lambda m: [m.p], lambda res, c, w: float(np.nansum(_lookup(c, res)[w.to_numpy() > 0]))),
}


def _pc_sum(D, w, idx):
    d = _nearest(D, idx)[w > 0]
    return float(d.sum()) if np.isfinite(d).all() else None


def _all_subclasses(cls):
    for sub in cls.__subclasses__():
        yield sub
        yield from _all_subclasses(sub)


def test_every_model_is_in_the_contract():
    names = {c.__name__ for c in _all_subclasses(LocationModel)}
    covered = {name.split("+")[0] for name in CASES}
    assert names <= covered, f"add a contract case for {sorted(names - covered)}"
    assert {"SetCovering", "MaximalCovering", "PMedian", "PCenter", "HierarchicalCovering", "BackupCovering",
            "WeightedSetCovering", "TotalCostMedian"} <= names


def _solve(case: Case, inst, **kw):
    model = case.make()
    extra = case.extra(inst)
    if "existing" in kw and kw["existing"] is not None:
        kw["existing"] = case.existing_arg(kw["existing"])
    return model, model.solve(inst.cost, weights=inst.weights, **extra, **kw)


def _brute(case: Case, model, inst, existing=(), excluded=()):
    """Optimum by enumeration over open sets (uncapacitated)."""
    D, w = inst.D, inst.w
    sizes = case.sizes(model)
    if case.value is not None:
        vals = (case.value(D, w, idx, k) for k, idx in open_sets(D.shape[1], existing, excluded, sizes))
        sense = model.sense
        if isinstance(model, L.SetCovering):  # fewest: the first feasible size
            for k, idx in open_sets(D.shape[1], existing, excluded, sizes):
                if case.value(D, w, idx, k) is not None:
                    return float(k)
            return None
        return brute_best(vals, sense)
    if isinstance(model, L.WeightedSetCovering):
        return brute_best((_wsc(D, w, idx, k, existing) for k, idx in open_sets(D.shape[1], existing, excluded)),
                          "min")
    if isinstance(model, L.BackupCovering):
        vals = (float(w[_count_within(D, idx, CUT) >= 2].sum()) if (_nearest(D, idx)[w > 0] <= CUT).all() else None
                for k, idx in open_sets(D.shape[1], existing, excluded, [model.p]))
        return brute_best(vals, "max")
    if isinstance(model, L.HierarchicalCovering):
        return _brute_hier(model, D, w, case.extra(inst)["site_cost"].to_numpy(), existing, excluded)
    return None


def _brute_hier(model, D, w, S, existing=(), excluded=()):
    """Every level (closed / upper / lower) of every free site; existing sites are lower here."""
    free = [j for j in range(D.shape[1]) if j not in existing and j not in excluded]
    vals = []
    for levels in itertools.product((0, 1, 2), repeat=len(free)):
        up = [j for j, lv in zip(free, levels, strict=True) if lv == 1]
        low = [j for j, lv in zip(free, levels, strict=True) if lv == 2]
        if len(up) > model.p_upper or len(low) > model.p_lower:
            continue
        if not all(any(S[j, k] <= model.nest_cutoff_m for k in up if k != j) for j in low):
            continue
        opened = up + low + list(existing)
        cov_l = _nearest(D, opened) <= model.cutoff_lower_m
        cov_u = _nearest(D, up) <= model.cutoff_upper_m
        vals.append(float(w[cov_l].sum() + model.upper_weight * w[cov_u].sum()))
    return brute_best(iter(vals), "max")


IDS = list(CASES)


# --------------------------------------------------------------------------- the contract
@pytest.mark.parametrize("name", IDS)
def test_labels_in_and_out(name):
    case = CASES[name]
    inst = make_locate_instance(0)
    model, res = _solve(case, inst)
    assert list(res.assignment.index) == list(inst.demand)
    assert set(res.selected) <= set(inst.candidates) and len(set(res.selected)) == len(res.selected)
    assert set(res.assignment.dropna()) <= set(res.selected)
    assert list(res.load.index) == list(res.selected)
    assert res.model == model.model_name and res.params == model.get_params()
    # the same instance as a numpy array with labels gives the same answer
    res2 = model.solve(inst.D, weights=inst.w, demand_labels=inst.demand, candidate_labels=inst.candidates,
                       **case.extra(inst))
    assert res2.objective == pytest.approx(res.objective) and res2.selected == res.selected


@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize("name", IDS)
def test_objective_recomputed_and_optimal(name, seed):
    case = CASES[name]
    inst = make_locate_instance(seed)
    model, res = _solve(case, inst)
    assert res.objective == pytest.approx(case.recompute(res, inst.cost, inst.weights))
    cut = model.service_cutoff()
    if cut is not None:  # uncapacitated: covered = an open site within the cutoff
        assert ((inst.cost[res.selected].to_numpy() <= cut).any(axis=1) == res.covered.to_numpy()).all()
    else:
        assert res.covered is None
    best = _brute(case, model, inst)
    if best is not None:
        assert res.objective == pytest.approx(best)
        assert res.status == "optimal" and res.gap == 0
    if model.sense == "min":
        assert res.bound <= res.objective + 1e-9
    else:
        assert res.bound >= res.objective - 1e-9


@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize("name", IDS)
def test_existing_kept_excluded_never_opened(name, seed):
    case = CASES[name]
    inst = make_locate_instance(seed)
    _, free_res = _solve(case, inst)
    existing = [inst.candidates[-1]]
    # exclude a site the unconstrained optimum opens (else the first other one)
    opened = [s for s in free_res.new if s not in existing]
    excluded = [opened[0] if opened else inst.candidates[0]]
    try:
        model, res = _solve(case, inst, existing=existing, excluded=excluded)
    except InfeasibleError:
        model = case.make()
        ex = [inst.candidates.get_loc(s) for s in existing]
        exc = [inst.candidates.get_loc(s) for s in excluded]
        assert _brute(case, model, inst, ex, exc) is None and case.value is not None
        return
    assert set(existing) <= set(res.selected) and res.existing == existing
    assert not set(excluded) & set(res.selected)
    assert res.objective == pytest.approx(case.recompute(res, inst.cost, inst.weights))
    ex = [inst.candidates.get_loc(s) for s in existing]
    exc = [inst.candidates.get_loc(s) for s in excluded]
    best = _brute(case, model, inst, ex, exc)
    if best is not None:
        assert res.objective == pytest.approx(best)


def _brute_capacitated(case: Case, model, inst):
    D, w, cap = inst.D, inst.w, inst.capacity.to_numpy()
    cut = getattr(model, "cutoff_m", None)
    sizes = case.sizes(model)
    best = None
    for k, idx in open_sets(D.shape[1], (), (), sizes):
        v = brute_best((case.cap_value(D, w, a, k) for a in assignments(D, w, idx, cap, cut, case.cap_optional)),
                       model.sense)
        if v is not None and (best is None or (v > best if model.sense == "max" else v < best)):
            best = v
        if best is not None and sizes is None:  # fewest sites: the first feasible size
            return best
    return best


@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize("name", IDS)
def test_capacities_respected_or_refused(name, seed):
    case = CASES[name]
    inst = make_locate_instance(seed)
    model = case.make()
    if not model.supports_capacity:
        with pytest.raises(InputError, match="capacit"):
            _solve(case, inst, capacity=inst.capacity)
        return
    best = _brute_capacitated(case, model, inst) if case.cap_value is not None else None
    try:
        _, res = _solve(case, inst, capacity=inst.capacity)
    except InfeasibleError:
        assert case.cap_value is not None and best is None
        return
    load = res.load.reindex(inst.candidates, fill_value=0.0)
    assert (load <= inst.capacity + 1e-9).all()
    # whole demand: each served demand is served by one site, load recomputed from the assignment
    served = res.assignment.dropna()
    direct = inst.weights[served.index].groupby(served.to_numpy()).sum()
    assert np.allclose(direct.reindex(res.load.index, fill_value=0.0), res.load)
    assert res.objective == pytest.approx(case.recompute(res, inst.cost, inst.weights))
    if best is not None:
        assert res.objective == pytest.approx(best)
    # split demand: shares sum to 1, loads within capacity, no worse than whole demand
    split = type(model)(**{**model.get_params(), "split_demand": True})
    res_s = split.solve(inst.cost, weights=inst.weights, capacity=inst.capacity, **case.extra(inst))
    al = res_s.allocation
    tot = al.groupby("demand")["share"].sum()
    assert (tot <= 1 + 1e-9).all() and (np.allclose(tot, 1.0) or not model.serves_all)
    assert (al.groupby("facility")["weight"].sum().reindex(inst.candidates, fill_value=0) <= inst.capacity + 1e-6).all()
    assert (al["cost"] <= (getattr(model, "cutoff_m", None) or np.inf) + 1e-9).all()
    tol = 1e-7 * max(1.0, abs(res.objective))  # the split shares are LP values
    if model.sense == "min":
        assert res_s.objective <= res.objective + tol
    else:
        assert res_s.objective >= res.objective - tol


BAD_INPUTS = {
    "negative cost": lambda inst: {"cost": inst.cost * -1},
    "nan weight": lambda inst: {"weights": inst.weights.where(inst.weights.index != "d1", np.nan)},
    "unknown existing": lambda inst: {"existing": ["nope"]},
    "unknown excluded": lambda inst: {"excluded": ["nope"]},
    "spopt dummies": lambda inst: {"existing": np.array([0, 0, 0, 1, 1])},
    "capacity shape": lambda inst: {"capacity": np.ones(3)},
    "duplicate labels": lambda inst: {"cost": inst.cost.rename(index={"d1": "d0"})},
    "1-d cost": lambda inst: {"cost": inst.D[0]},
}


@pytest.mark.parametrize("bad", list(BAD_INPUTS))
@pytest.mark.parametrize("name", IDS)
def test_bad_input_is_a_careplan_error(name, bad):
    case = CASES[name]
    inst = make_locate_instance(0)
    kw = {"cost": inst.cost, "weights": inst.weights, **case.extra(inst)}
    kw.update(BAD_INPUTS[bad](inst))
    if bad == "unknown existing" and isinstance(case.existing_arg(["x"]), dict):
        kw["existing"] = case.existing_arg(kw["existing"])
    if bad == "1-d cost":
        kw["weights"] = None
    cost = kw.pop("cost")
    with pytest.raises(CareplanError):
        case.make().solve(cost, **kw)


@pytest.mark.parametrize("name", IDS)
def test_inputs_not_mutated(name):
    case = CASES[name]
    inst = make_locate_instance(1)
    cost, w = inst.cost.copy(), inst.weights.copy()
    extra = case.extra(inst)
    extra_copy = {k: v.copy() for k, v in extra.items()}
    case.make().solve(cost, weights=w, **extra)
    pd.testing.assert_frame_equal(cost, inst.cost)
    pd.testing.assert_series_equal(w, inst.weights)
    for k, v in extra.items():
        assert v.equals(extra_copy[k])


def test_custom_model_that_lies_fails_the_check():
    """The independent check is real: a model whose _solve misreports its objective is caught."""
    from careplan._errors import SolverError

    @dataclass
    class Liar(TotalCostMedian):
        model_name: ClassVar[str] = "Liar"

        def _solve(self, prob):
            raw = super()._solve(prob)
            raw.objective -= 1.0
            return raw

    with pytest.raises(SolverError, match="objective"):
        Liar(p=2).solve(make_locate_instance(0).cost)
