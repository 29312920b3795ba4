"""The location models added for issue 13 (backup and weighted set covering, capacitated
p-center, the lexicographic second objective, split demand), the vocabulary change
(``cutoff_m``), error advice that works, and the result summaries, each against brute
force, an independent scipy formulation or a hand computation."""

from __future__ import annotations

import warnings
from dataclasses import InitVar, dataclass
from typing import ClassVar

import numpy as np
import pandas as pd
import pytest
import scipy.optimize as so
from conftest import assignments, brute_best, make_locate_instance, open_sets

from careplan._errors import InfeasibleError, InputError, SolverError
from careplan.locate import (
    BackupCovering,
    HierarchicalCovering,
    MaximalCovering,
    PCenter,
    PMedian,
    SetCovering,
    WeightedSetCovering,
)
from careplan.locate._base import OldName

CUT = 10.0


def _nearest(D, idx):
    return D[:, idx].min(axis=1) if len(idx) else np.full(D.shape[0], np.inf)


def _pos(inst, labels):
    return [inst.candidates.get_loc(s) for s in labels]


# --------------------------------------------------------------------------- lexicographic
@pytest.mark.parametrize("seed", range(6))
def test_set_covering_least_cost_among_fewest_equals_brute_force(seed):
    inst = make_locate_instance(seed, n=8, m=6)
    D, w = inst.D, inst.w
    existing, excluded = ([5], [0]) if seed % 2 else ((), ())
    feas = [(k, idx) for k, idx in open_sets(6, existing, excluded)
            if (_nearest(D, idx)[w > 0] <= CUT).all()]
    kmin = min(k for k, _ in feas)
    best_cost = min(float(np.dot(w, np.where(w > 0, _nearest(D, idx), 0))) for k, idx in feas if k == kmin)
    res = SetCovering(cutoff_m=CUT, secondary="cost").solve(
        inst.cost, weights=inst.weights, existing=inst.candidates[list(existing)],
        excluded=inst.candidates[list(excluded)])
    assert res.objective == kmin
    assert res.info["total_cost"] == pytest.approx(best_cost)
    assert res.info["secondary_status"] == "optimal"
    # and the plain model's cover costs at least as much
    plain = SetCovering(cutoff_m=CUT).solve(inst.cost, weights=inst.weights, existing=inst.candidates[list(existing)],
                                            excluded=inst.candidates[list(excluded)])
    assert float(np.nansum(inst.w * plain.assigned_cost)) >= best_cost - 1e-9


@pytest.mark.parametrize("seed", range(6))
def test_maximal_covering_least_cost_among_most_covered_equals_brute_force(seed):
    inst = make_locate_instance(seed, n=8, m=6)
    D, w = inst.D, inst.w
    cov = {}
    for _, idx in open_sets(6, (), (), [2]):
        d = _nearest(D, idx)
        c = d <= CUT
        cov[tuple(idx)] = (float(w[c].sum()), float(np.dot(w[c], d[c])))
    top = max(v[0] for v in cov.values())
    best_cost = min(v[1] for v in cov.values() if v[0] >= top - 1e-9)
    res = MaximalCovering(p=2, cutoff_m=CUT, secondary="cost").solve(inst.cost, weights=inst.weights)
    assert res.objective == pytest.approx(top)
    assert res.info["total_cost"] == pytest.approx(best_cost)


# --------------------------------------------------------------------------- backup covering
@pytest.mark.parametrize("seed", range(5))
def test_backup_covering_with_fewest_sites_is_lscp_b(seed):
    """p=None: the fewest sites that cover all, then the most weight covered twice (spopt's LSCPB)."""
    inst = make_locate_instance(seed, n=8, m=6)
    D, w = inst.D, inst.w
    existing = [2] if seed % 2 else []
    feas = [(k, idx) for k, idx in open_sets(6, existing, ()) if (_nearest(D, idx)[w > 0] <= CUT).all()]
    kmin = min(k for k, _ in feas)
    best = max(float(w[(D[:, idx] <= CUT).sum(axis=1) >= 2].sum()) for k, idx in feas if k == kmin)
    res = BackupCovering(cutoff_m=CUT).solve(inst.cost, weights=inst.weights, existing=inst.candidates[existing])
    assert res.info["p_used"] == kmin and len(res.new) == kmin
    assert res.objective == pytest.approx(best)
    assert res.covered.all() or not (inst.w[~res.covered.to_numpy()] > 0).any()


def test_backup_covering_infeasible_p_says_how_to_fix():
    D = np.where(np.eye(3) > 0, 0.0, 100.0)  # each demand has its own site
    with pytest.raises(InfeasibleError, match="p=None"):
        BackupCovering(cutoff_m=1.0, p=1).solve(D)
    assert BackupCovering(cutoff_m=1.0).solve(D).info["p_used"] == 3  # the advice works


# --------------------------------------------------------------------------- capacitated, existing/excluded
def _cap_brute(inst, value, sense, sizes, existing, excluded, cutoff=None, optional=False):
    D, w, cap = inst.D, inst.w, inst.capacity.to_numpy()
    best = None
    for k, idx in open_sets(D.shape[1], existing, excluded, sizes):
        v = brute_best((value(D, w, a, k, idx) for a in assignments(D, w, idx, cap, cutoff, optional)), sense)
        if v is not None and (best is None or (v > best if sense == "max" else v < best)):
            best = v
    return best


@pytest.mark.parametrize("seed", range(4))
def test_capacitated_p_center_with_existing_and_excluded_equals_brute_force(seed):
    inst = make_locate_instance(seed)
    existing, excluded = [4], [1]
    best = _cap_brute(inst, lambda D, w, a, k, idx: max(D[i, j] for i, j in a.items()), "min", [2],
                      existing, excluded)
    model = PCenter(p=2)
    kw = dict(weights=inst.weights, capacity=inst.capacity, existing=inst.candidates[existing],
              excluded=inst.candidates[excluded])
    if best is None:
        with pytest.raises(InfeasibleError):
            model.solve(inst.cost, **kw)
        return
    res = model.solve(inst.cost, **kw)
    assert res.objective == pytest.approx(best) and res.status == "optimal"


@pytest.mark.parametrize("seed", range(4))
def test_weighted_set_covering_with_capacity_existing_excluded_equals_brute_force(seed):
    inst = make_locate_instance(seed)
    price = np.array([3.0, 1.0, 4.0, 1.5, 2.0])
    existing, excluded = [0], [3]
    best = _cap_brute(inst, lambda D, w, a, k, idx: float(price[[j for j in idx if j not in existing]].sum()),
                      "min", None, existing, excluded, cutoff=CUT)
    kw = dict(weights=inst.weights, capacity=inst.capacity, existing=inst.candidates[existing],
              excluded=inst.candidates[excluded], opening_cost=pd.Series(price, index=inst.candidates))
    if best is None:
        with pytest.raises(InfeasibleError, match="cutoff_m"):
            WeightedSetCovering(cutoff_m=CUT).solve(inst.cost, **kw)
        return
    res = WeightedSetCovering(cutoff_m=CUT).solve(inst.cost, **kw)
    assert res.objective == pytest.approx(best)


def test_weighted_set_covering_prefers_cheap_sites_by_hand():
    # site A covers both demands alone (cost 10); B and C cover one each (cost 3 + 3)
    D = np.array([[1.0, 1.0, 50.0], [1.0, 50.0, 1.0]])
    res = WeightedSetCovering(cutoff_m=5).solve(D, opening_cost=[10.0, 3.0, 3.0], candidate_labels=list("ABC"))
    assert sorted(res.new) == ["B", "C"] and res.objective == 6.0
    assert SetCovering(cutoff_m=5).solve(D, candidate_labels=list("ABC")).new == ["A"]
    with pytest.raises(InputError, match="opening_cost"):
        WeightedSetCovering(cutoff_m=5).solve(D, opening_cost=[1.0, np.inf, 1.0])


# --------------------------------------------------------------------------- split demand
def _split_pmedian_scipy(D, w, cap, p):
    """Capacitated p-median with split demand, written independently with scipy.optimize.milp."""
    n, m = D.shape
    pairs = [(i, j) for i in range(n) for j in range(m) if np.isfinite(D[i, j]) and w[i] > 0]
    K = len(pairs)
    c = np.concatenate((np.zeros(m), [w[i] * D[i, j] for i, j in pairs]))
    rows, lo, hi = [], [], []
    for i in range(n):
        if w[i] > 0:
            r = np.zeros(m + K)
            r[[m + k for k, (a, _) in enumerate(pairs) if a == i]] = 1
            rows.append(r), lo.append(1), hi.append(1)
    for k, (_i, j) in enumerate(pairs):
        r = np.zeros(m + K)
        r[m + k], r[j] = 1, -1
        rows.append(r), lo.append(-np.inf), hi.append(0)
    for j in range(m):
        r = np.zeros(m + K)
        for k, (i, jj) in enumerate(pairs):
            if jj == j:
                r[m + k] = w[i]
        r[j] = -cap[j]
        rows.append(r), lo.append(-np.inf), hi.append(0)
    r = np.zeros(m + K)
    r[:m] = 1
    rows.append(r), lo.append(p), hi.append(p)
    res = so.milp(c, constraints=so.LinearConstraint(np.array(rows), lo, hi),
                  integrality=np.concatenate((np.ones(m), np.zeros(K))), bounds=so.Bounds(0, 1))
    return res.fun if res.status == 0 else None


@pytest.mark.parametrize("seed", range(5))
def test_split_demand_p_median_equals_scipy(seed):
    inst = make_locate_instance(seed)
    cap = inst.capacity.to_numpy() * 0.7
    ref = _split_pmedian_scipy(inst.D, inst.w, cap, 2)
    model = PMedian(p=2, split_demand=True)
    if ref is None:
        with pytest.raises(InfeasibleError, match="split"):
            model.solve(inst.cost, weights=inst.weights, capacity=cap)
        return
    res = model.solve(inst.cost, weights=inst.weights, capacity=cap)
    assert res.objective == pytest.approx(ref, rel=1e-7)
    al = res.allocation
    assert np.allclose(al.groupby("demand")["share"].sum(), 1.0)
    assert float((al["weight"] * al["cost"]).sum()) == pytest.approx(res.objective)
    # whole demand is the default and never better
    try:
        whole = PMedian(p=2).solve(inst.cost, weights=inst.weights, capacity=cap)
        assert whole.allocation is None and whole.objective >= res.objective - 1e-9
    except InfeasibleError as exc:
        assert "split_demand=True" in str(exc)  # the advice names the option that works here


def test_split_without_capacity_changes_nothing_and_is_refused_where_meaningless():
    inst = make_locate_instance(0)
    a = PMedian(p=2, split_demand=True).solve(inst.cost, weights=inst.weights)
    b = PMedian(p=2).solve(inst.cost, weights=inst.weights)
    assert a.objective == b.objective and a.allocation is None
    with pytest.raises(InputError, match="split"):
        BackupCovering(cutoff_m=CUT, split_demand=True)


# --------------------------------------------------------------------------- advice that works
def _hard_capacitated(seed=3, n=80, m=26):
    rng = np.random.default_rng(seed)
    xy_d, xy_c = rng.random((n, 2)), rng.random((m, 2))
    D = np.hypot(*(xy_d[:, None, :] - xy_c[None, :, :]).transpose(2, 0, 1)) * 1000
    w = rng.integers(1, 10, n).astype(float)
    return D, w, np.full(m, w.sum() / 8)


def test_time_limit_advice_for_capacitated_models_works():
    D, w, cap = _hard_capacitated()
    with pytest.raises(SolverError) as err:
        PMedian(p=10, time_limit_s=1e-3).solve(D, weights=w, capacity=cap)
    msg = str(err.value)
    assert "time_limit_s" in msg and "method='heuristic' does not apply" in msg
    # the advice that the message gives works: a longer time limit solves it ...
    res = PMedian(p=10, time_limit_s=60).solve(D, weights=w, capacity=cap)
    assert res.objective > 0
    # ... and the advice it warns against is indeed refused
    with pytest.raises(InputError, match="exactly only"):
        PMedian(p=10, method="heuristic").solve(D, weights=w, capacity=cap)


def test_time_limit_advice_for_uncapacitated_models_works():
    from careplan.locate._base import Problem
    from careplan.locate._cost import cost_from_input
    from careplan.locate._mip import NoSolutionInTime

    D, w, _ = _hard_capacitated()
    model = PMedian(p=10)
    prob = Problem(cost_from_input(D, weights=w), np.zeros(26, bool), np.zeros(26, bool), None, None)
    advice = model.time_limit_advice(prob)
    assert "method='heuristic'" in advice
    res = PMedian(p=10, method="heuristic").solve(D, weights=w)  # the advice works here
    assert res.status in ("heuristic", "optimal") and np.isfinite(res.gap)

    class Stuck(PMedian):
        def _solve(self, prob):
            raise NoSolutionInTime("HiGHS reached the time limit before finding any feasible solution.")

    with pytest.raises(SolverError, match="method='heuristic'"):
        Stuck(p=10).solve(D, weights=w)
    with pytest.raises(SolverError, match="does not apply"):
        Stuck(p=10).solve(D, weights=w, capacity=w.sum())


def test_spopt_dummy_existing_is_refused_with_the_conversion():
    D = make_locate_instance(0).D
    with pytest.raises(InputError, match="dummy") as err:
        PMedian(p=1).solve(D, existing=np.array([0, 0, 0, 1, 1]))
    assert "np.flatnonzero" in str(err.value)
    # the conversion the message gives works
    res = PMedian(p=1).solve(D, existing=np.flatnonzero(np.array([0, 0, 0, 1, 1])))
    assert res.existing == [3, 4]
    # labels that happen to be 0 and 1 (distinct) are still labels
    assert PMedian(p=1).solve(D[:, :2], existing=[0, 1][:1]).existing == [0]
    with pytest.raises(InputError, match="dummy"):
        PMedian(p=1).solve(D, excluded=[1, 0, 0, 0, 1])


# --------------------------------------------------------------------------- vocabulary
@pytest.mark.parametrize("cls,kw", [(SetCovering, {}), (MaximalCovering, {"p": 1}), (BackupCovering, {}),
                                    (WeightedSetCovering, {})])
def test_radius_is_a_deprecated_name_of_cutoff_m(cls, kw):
    inst = make_locate_instance(0)
    with pytest.warns(DeprecationWarning, match="cutoff_m"):
        old = cls(radius=CUT, **kw)
    new = cls(cutoff_m=CUT, **kw)
    assert old == new and old.get_params()["cutoff_m"] == CUT and "radius" not in old.get_params()
    with pytest.warns(DeprecationWarning):
        assert old.radius == CUT
    assert old.solve(inst.cost, weights=inst.weights).objective == new.solve(inst.cost,
                                                                             weights=inst.weights).objective
    with pytest.raises(InputError, match="cutoff_m= only"):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            cls(radius=CUT, cutoff_m=CUT, **kw)


def test_old_name_helper_declares_a_renamed_parameter_once():
    """A model (here a researcher's own) renames a parameter with one OldName line: the old
    keyword moves its value with a DeprecationWarning at the caller's line, the old attribute
    warns and reads the new one, and ``renamed`` lists it for the error messages."""
    @dataclass
    class Stations(SetCovering):
        model_name: ClassVar[str] = "Stations"
        walk_m: InitVar[float | None] = OldName("cutoff_m")

    assert Stations.renamed == {"radius": "cutoff_m", "walk_m": "cutoff_m"}
    with pytest.warns(DeprecationWarning, match=r"Stations\(walk_m=...\) is deprecated") as rec:
        old = Stations(walk_m=CUT)
    assert rec[0].filename == __file__
    assert old == Stations(cutoff_m=CUT) and old.get_params()["cutoff_m"] == CUT
    with pytest.warns(DeprecationWarning, match=r"Stations.walk_m is deprecated; use .cutoff_m"):
        assert old.walk_m == CUT
    with pytest.raises(InputError, match=r"cutoff_m \(given as walk_m=\)"):
        Stations(walk_m=-1.0)
    with pytest.raises(InputError, match="secondary"):  # SetCovering's own checks still run
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            Stations(walk_m=CUT, secondary="nope")


def test_hierarchical_old_names_and_call_form_still_work():
    D = np.array([[0.0, 500, 900], [500, 0, 400], [900, 400, 0]])
    with pytest.warns(DeprecationWarning):
        old = HierarchicalCovering(p_upper=1, p_lower=1, radius_upper=600, radius_lower=300, nest_radius=600)
    new = HierarchicalCovering(p_upper=1, p_lower=1, cutoff_upper_m=600, cutoff_lower_m=300, nest_cutoff_m=600)
    assert old == new
    with pytest.warns(DeprecationWarning, match="existing="):
        a = new.solve(D, weights=[2, 1, 1], site_cost=D, existing_upper=[1])
    b = new.solve(D, weights=[2, 1, 1], site_cost=D, existing={1: "upper"})
    assert a.objective == b.objective == 8.0 and dict(a.level) == dict(b.level)
    assert a.existing == b.existing == [1] and a.level[1] == "upper"
    with pytest.raises(InputError, match="'upper' or 'lower'"):
        new.solve(D, site_cost=D, existing=[1])
    with pytest.raises(InputError, match="'upper' or 'lower'"):
        new.solve(D, site_cost=D, existing={1: "street"})


# --------------------------------------------------------------------------- summaries
def test_coverage_share_and_mean_cost_by_hand():
    D = np.array([[1.0, 9.0], [4.0, 2.0], [7.0, 8.0], [3.0, 30.0]])
    w = np.array([1.0, 2.0, 3.0, 4.0])
    res = MaximalCovering(p=1, cutoff_m=5).solve(D, weights=w)
    # site 0 covers demands 0, 1, 3 (weight 7 of 10); site 1 covers 0 and 1 (weight 3)
    assert res.new == [0] and res.objective == 7.0
    assert res.coverage_share() == pytest.approx(3 / 4)
    assert res.coverage_share("weight") == pytest.approx(7 / 10)
    assert res.mean_cost() == pytest.approx((1 * 1 + 2 * 4 + 4 * 3) / 7)
    assert res.mean_cost(weighted=False) == pytest.approx((1 + 4 + 3) / 3)
    pm = PMedian(p=1).solve(D, weights=w)
    assert pm.mean_cost() == pytest.approx(pm.objective / w.sum())  # spopt's mean_dist
    with pytest.raises(InputError, match="points"):
        res.coverage_share("area")


def test_every_pair_of_small_instances_agrees_between_array_and_long_table():
    """Labels in and out through the long OD table (as from WalkNetwork.distances)."""
    inst = make_locate_instance(2)
    long = inst.cost.stack().rename("distance_m").reset_index()
    long.columns = ["origin", "destination", "distance_m"]
    long = long[np.isfinite(long["distance_m"])]
    for model in (PMedian(p=2), PCenter(p=2), SetCovering(cutoff_m=CUT), BackupCovering(cutoff_m=CUT, p=2)):
        a = model.solve(inst.cost, weights=inst.weights)
        b = model.solve(long, weights=inst.weights, candidate_labels=inst.candidates)
        assert a.objective == pytest.approx(b.objective) and a.selected == b.selected



def test_unreachable_advice_names_only_what_works():
    D = np.array([[1.0, 2.0], [50.0, np.inf], [3.0, 1.0]])
    w = np.array([1.0, 2.0, 1.0])
    with pytest.raises(InfeasibleError) as err:
        SetCovering(cutoff_m=10).solve(D, weights=w)
    assert "raise the model's cutoff_m" in str(err.value) and "excluded" not in str(err.value)
    assert SetCovering(cutoff_m=60).solve(D, weights=w).objective == 1  # raising cutoff_m works
    assert SetCovering(cutoff_m=10).solve(D, weights=[1.0, 0.0, 1.0]).objective == 1  # weight 0 works
    with pytest.raises(InfeasibleError) as err:
        PMedian(p=1).solve(D, weights=w, excluded=[0])
    msg = str(err.value)
    assert "model's cutoff_m" not in msg and "network cutoff_m" in msg and "excluded=" in msg
    assert PMedian(p=1).solve(D, weights=w).objective == 1 + 100 + 3  # leaving site 0 allowed works
    with pytest.raises(TypeError):
        PMedian(p=1, cutoff_m=60)  # p-median has no cutoff_m: the advice never names it
