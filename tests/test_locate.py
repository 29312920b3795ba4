"""Tests of careplan.locate: every objective checked against brute force."""

from __future__ import annotations

import itertools
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import scipy.sparse as sp
from conftest import milp_cover

from careplan._errors import CareplanError, InfeasibleError, InputError, SolverError
from careplan.locate import (
    HierarchicalCovering,
    LocationResult,
    MaximalCovering,
    PCenter,
    PMedian,
    SetCovering,
)
from careplan.locate._check import check_solution
from careplan.locate._cost import cost_from_input

# ----------------------------------------------------------------- brute force


def _nearest(D, open_idx):
    return D[:, open_idx].min(axis=1) if len(open_idx) else np.full(D.shape[0], np.inf)


def _subsets(free, k):
    return itertools.combinations(free, k)


def _assignments(D, w, open_idx, cap, radius, optional):
    """All single-source assignments of positive-weight demands respecting capacity."""
    need = np.flatnonzero(w > 0)
    opts = []
    for i in need:
        o = [j for j in open_idx if np.isfinite(D[i, j]) and (radius is None or D[i, j] <= radius)]
        if optional:
            o = o + [-1]
        if not o:
            return
        opts.append(o)
    for combo in itertools.product(*opts):
        load = {}
        ok = True
        for i, j in zip(need, combo, strict=True):
            if j >= 0:
                load[j] = load.get(j, 0.0) + w[i]
                if load[j] > cap[j] + 1e-9:
                    ok = False
                    break
        if ok:
            yield dict(zip(need, combo, strict=True))


def brute(model, D, w, p=None, radius=None, existing=(), excluded=(), cap=None):
    """Optimal objective by enumeration (None when infeasible)."""
    m = D.shape[1]
    free = [j for j in range(m) if j not in existing and j not in excluded]
    need = w > 0
    best = None
    sizes = range(len(free) + 1) if model == "sc" else [p]
    for k in sizes:
        for sub in _subsets(free, k):
            open_idx = list(existing) + list(sub)
            if cap is None:
                d = _nearest(D, open_idx)
                if model == "pm":
                    val = float(np.dot(w[need], d[need])) if np.all(np.isfinite(d[need])) else None
                elif model == "pc":
                    val = float(d[need].max()) if np.all(np.isfinite(d[need])) else None
                elif model == "mclp":
                    val = float(w[d <= radius].sum())
                else:
                    val = float(k) if np.all(d[need] <= radius) else None
            else:
                val = None
                for a in _assignments(D, w, open_idx, cap, None if model == "pm" else radius,
                                      optional=model == "mclp"):
                    if model == "pm":
                        v = sum(w[i] * D[i, j] for i, j in a.items())
                    elif model == "mclp":
                        v = sum(w[i] for i, j in a.items() if j >= 0)
                    else:
                        v = float(k)
                    if val is None or (v > val if model == "mclp" else v < val):
                        val = v
            if val is None:
                continue
            if best is None or (val > best if model == "mclp" else val < best):
                best = val
        if model == "sc" and best is not None:
            return best
    return best


def instance(seed, n=6, m=5, inf_frac=0.2, integer=True):
    rng = np.random.default_rng(seed)
    D = rng.integers(0, 20, size=(n, m)).astype(float) if integer else rng.random((n, m)) * 20
    D[rng.random((n, m)) < inf_frac] = np.inf
    # every demand reaches at least two candidates
    for i in range(n):
        if np.isfinite(D[i]).sum() < 2:
            D[i, rng.choice(m, 2, replace=False)] = rng.integers(0, 20, 2)
    w = rng.integers(0, 5, size=n).astype(float)
    w[0] = max(w[0], 1.0)
    return D, w


def _solve_or_none(model, D, **kw):
    try:
        return model.solve(D, **kw)
    except InfeasibleError:
        return None


CASES = [(seed, ex, exc) for seed in range(6) for ex, exc in [((), ()), ((1,), ()), ((0,), (3,))]]


@pytest.mark.parametrize(("seed", "existing", "excluded"), CASES)
def test_uncapacitated_models_equal_brute_force(seed, existing, excluded):
    D, w = instance(seed)
    kw = dict(weights=w, existing=list(existing), excluded=list(excluded))
    for p in (1, 2):
        for method in ("auto", "mip"):
            r = PMedian(p=p, method=method).solve(D, **kw)
            assert r.objective == pytest.approx(brute("pm", D, w, p, None, existing, excluded))
            assert r.status == "optimal" and r.gap <= 1e-6
            assert len(r.new) == p and set(existing) <= set(r.selected)
            assert not set(excluded) & set(r.selected)
        r = _solve_or_none(PCenter(p=p), D, **kw)
        bf = brute("pc", D, w, p, None, existing, excluded)
        assert (r is None and bf is None) or r.objective == pytest.approx(bf)
        for radius in (4.0, 9.0):
            r = MaximalCovering(p=p, radius=radius).solve(D, **kw)
            assert r.objective == pytest.approx(brute("mclp", D, w, p, radius, existing, excluded))
            assert r.covered.sum() == (r.assigned_cost <= radius).sum()
    for radius in (6.0, 12.0):
        r = _solve_or_none(SetCovering(radius=radius), D, **kw)
        bf = brute("sc", D, w, None, radius, existing, excluded)
        assert (r is None and bf is None) or r.objective == bf


@pytest.mark.parametrize("seed", range(5))
def test_capacitated_models_equal_brute_force(seed):
    D, w = instance(100 + seed, n=5, m=4)
    rng = np.random.default_rng(seed)
    cap = rng.integers(2, 8, size=4).astype(float)
    existing, excluded = [1], [3] if seed % 2 else []
    kw = dict(weights=w, capacity=cap, existing=existing, excluded=excluded)
    for p in (1, 2):
        if p > 4 - 1 - len(excluded):
            continue
        bf = brute("pm", D, w, p, None, existing, excluded, cap)
        r = _solve_or_none(PMedian(p=p), D, **kw)
        assert (r is None and bf is None) or r.objective == pytest.approx(bf)
        if r is not None:
            load = r.load.reindex(range(4), fill_value=0).to_numpy()
            assert np.all(load <= cap + 1e-9)
        for radius in (6.0, 12.0):
            bf = brute("mclp", D, w, p, radius, existing, excluded, cap)
            r = MaximalCovering(p=p, radius=radius).solve(D, **kw)
            assert r.objective == pytest.approx(bf)
            assert r.objective == pytest.approx(w[r.covered.to_numpy()].sum())
    for radius in (8.0, 15.0):
        bf = brute("sc", D, w, None, radius, existing, excluded, cap)
        r = _solve_or_none(SetCovering(radius=radius), D, **kw)
        assert (r is None and bf is None) or r.objective == bf


def test_pmedian_medium_all_paths_agree_with_brute_force():
    # 60 x 16, p=3: brute force over C(15,3) subsets; exercises fixing and the k-nearest MIP
    rng = np.random.default_rng(7)
    xy_d, xy_c = rng.random((60, 2)), rng.random((16, 2))
    D = np.hypot(*(xy_d[:, None, :] - xy_c[None, :, :]).transpose(2, 0, 1))
    w = rng.integers(1, 10, 60).astype(float)
    bf = brute("pm", D, w, 3, None, (0,), ())
    for method in ("auto", "mip"):
        r = PMedian(p=3, method=method).solve(D, weights=w, existing=[0])
        assert r.objective == pytest.approx(bf, rel=1e-9)
        assert r.status == "optimal"
    h = PMedian(p=3, method="heuristic").solve(D, weights=w, existing=[0])
    assert h.bound <= bf + 1e-9 <= h.objective + 2e-9  # proven bound, feasible objective
    assert h.gap == pytest.approx((h.objective - h.bound) / h.objective)
    # p-center and covering on the same instance
    assert PCenter(p=3).solve(D, weights=w).objective == pytest.approx(brute("pc", D, w, 3))
    assert MaximalCovering(p=2, radius=0.3).solve(D, weights=w).objective == pytest.approx(
        brute("mclp", D, w, 2, 0.3))


@pytest.mark.parametrize("seed", range(3))
def test_k_nearest_fallback_is_proof_safe(monkeypatch, seed):
    """With k=1 nearest pair per demand the first reduced MIP is only a relaxation;
    the fallback must be detected and k raised until the answer is exact."""
    from careplan.locate import _models

    monkeypatch.setattr(_models, "K_MIN", 1)
    monkeypatch.setattr(_models, "K_FACTOR", 0.0)
    rng = np.random.default_rng(seed)
    D = rng.random((40, 12)) * 100
    w = rng.integers(1, 5, 40).astype(float)
    r = PMedian(p=3, method="mip").solve(D, weights=w)
    assert r.objective == pytest.approx(brute("pm", D, w, 3), rel=1e-12)
    assert r.info["mip_rounds"] > 1  # the fallback was used and repaired


# ------------------------------------------------------------------- cost forms


def _forms(D, w):
    n, m = D.shape
    dem = [f"d{i}" for i in range(n)]
    can = [f"c{j}" for j in range(m)]
    wide = pd.DataFrame(D, index=dem, columns=can)
    ii, jj = np.nonzero(np.isfinite(D))
    long = pd.DataFrame({"origin": np.array(dem)[ii], "destination": np.array(can)[jj],
                         "distance_m": D[ii, jj]})
    sparse = sp.csr_array((D[ii, jj], (ii, jj)), shape=D.shape)  # explicit zeros stored
    ws = pd.Series(w, index=dem)
    return [
        dict(cost=D, weights=w, demand_labels=dem, candidate_labels=can),
        dict(cost=sparse, weights=ws, candidate_labels=can),
        dict(cost=sp.coo_matrix(sparse), weights=w, demand_labels=dem, candidate_labels=can),
        dict(cost=wide, weights=ws),
        dict(cost=long, weights=ws, candidate_labels=can),
    ]


@pytest.mark.parametrize("model", [PMedian(p=2), MaximalCovering(p=2, radius=8),
                                   SetCovering(radius=19), PCenter(p=2)])
def test_all_cost_forms_give_the_same_answer(model):
    D, w = instance(11, n=7, m=6)
    D[0, 0] = 0.0  # an explicit zero: reachable at no cost
    D[1, :] = np.inf
    D[1, 2] = 0.0  # only reachable at cost zero: a dropped zero would make it infeasible
    w[1] = 2.0
    results = []
    for f in _forms(D, w):
        cost = f.pop("cost")
        results.append(model.solve(cost, existing=["c5"], **f))
    objs = [r.objective for r in results]
    assert max(objs) - min(objs) < 1e-9
    for r in results:
        assert r.assignment.index.tolist() == [f"d{i}" for i in range(7)]
        assert "c5" in r.selected
        if not isinstance(model, MaximalCovering):  # d1 must be served, only c2 reaches it
            assert r.assignment["d1"] == "c2"


def test_result_is_labelled_and_frozen():
    D = np.array([[1.0, 5.0, 9.0], [4.0, 1.0, 2.0], [3.0, 2.0, np.inf]])
    wide = pd.DataFrame(D, index=["a", "b", "c"], columns=["X", "Y", "Z"])
    r = PMedian(p=1).solve(wide, weights=pd.Series({"c": 1.0, "a": 2.0, "b": 1.0}), existing=["Z"])
    assert isinstance(r, LocationResult)
    assert r.existing == ["Z"] and r.new == ["X"] and r.selected == ["Z", "X"]
    assert r.assignment.to_dict() == {"a": "X", "b": "Z", "c": "X"}
    assert r.objective == pytest.approx(2 * 1 + 1 * 2 + 1 * 3)
    assert r.params["p"] == 1 and r.model == "PMedian"
    df = r.to_frame()
    assert list(df.columns) == ["facility", "cost"] and df.loc["b", "cost"] == 2.0
    with pytest.raises(AttributeError):
        r.objective = 0  # frozen
    mc = MaximalCovering(p=1, radius=1.5).solve(wide)
    assert mc.covered.dtype == bool and mc.assignment.isna().sum() == (~mc.covered).sum()


def test_set_covering_drops_dominated_and_duplicates_but_stays_optimal():
    rng = np.random.default_rng(5)
    xy_d, xy_c = rng.random((80, 2)), rng.random((14, 2))
    D = np.hypot(*(xy_d[:, None, :] - xy_c[None, :, :]).transpose(2, 0, 1))
    D = np.vstack([D, D[:10]])  # duplicated demands
    D = np.hstack([D, D[:, :3] + 0.01])  # near-copies of candidates
    r = SetCovering(radius=0.45).solve(D)
    assert r.objective == brute("sc", D, np.ones(len(D)), None, 0.45)
    assert r.info["n_unique_demand"] <= 80


# ------------------------------------------------------------------------- errors


def test_infeasible_set_covering_names_the_demands():
    D = np.array([[1.0, 2.0], [50.0, 60.0], [1.0, np.inf]])
    with pytest.raises(InfeasibleError, match=r"'far'"):
        SetCovering(radius=10).solve(D, demand_labels=["near", "far", "x"])
    # zero weight: no cover needed
    assert SetCovering(radius=10).solve(D, weights=[1, 0, 1]).objective == 1


@pytest.mark.parametrize(("kwargs", "match"), [
    (dict(cost=np.array([[1.0, -2.0]])), "non-negative"),
    (dict(cost=np.ones((2, 2)), weights=[1, -1]), "weights"),
    (dict(cost=np.ones((2, 2)), weights=[1, 2, 3]), "weights"),
    (dict(cost=np.ones((2, 2)), existing=[0], excluded=[0]), "both existing and excluded"),
    (dict(cost=np.ones((2, 2)), existing=["nope"]), "not candidate labels"),
    (dict(cost=np.ones((2, 2)), candidate_labels=["a"]), "columns"),
    (dict(cost=np.ones(3)), "2-dimensional"),
    (dict(cost=pd.DataFrame({"origin": [1], "destination": [2], "distance_m": [3.0]})), "weights"),
    (dict(cost=np.ones((2, 2)), capacity=[1.0, -1.0]), "capacity"),
])
def test_bad_input_raises_careplan_error(kwargs, match):
    cost = kwargs.pop("cost")
    with pytest.raises(InputError, match=match):
        PMedian(p=1).solve(cost, **kwargs)


def test_parameter_errors():
    with pytest.raises(InputError, match="only 1 candidates"):
        PMedian(p=2).solve(np.ones((3, 2)), existing=[0])
    with pytest.raises(InputError, match="p"):
        PMedian(p=-1)
    with pytest.raises(InputError, match="cutoff_m"):
        SetCovering(radius=-1)
    with pytest.raises(InputError, match="cutoff_m"):
        SetCovering(cutoff_m=-1)
    with pytest.raises(InputError, match="method"):
        PMedian(p=1, method="magic")
    with pytest.raises(InputError, match="no capacitated"):
        HierarchicalCovering(p_upper=1, p_lower=0, cutoff_upper_m=1, cutoff_lower_m=1,
                             nest_cutoff_m=1).solve(np.ones((2, 2)), capacity=3, site_cost=np.ones((2, 2)))
    assert issubclass(InputError, CareplanError)


def test_capacity_infeasible_and_unreachable_pmedian():
    D = np.array([[1.0, 2.0], [1.0, 2.0], [1.0, 2.0]])
    with pytest.raises(InfeasibleError, match="capacit"):
        PMedian(p=1).solve(D, capacity=[2.0, 2.0])
    with pytest.raises(InfeasibleError, match="'b'"):
        PMedian(p=1).solve(np.array([[1.0, 2.0], [np.inf, np.inf]]), demand_labels=["a", "b"])
    with pytest.raises(InputError, match="duplicate"):
        PMedian(p=1).solve(sp.coo_array(([1.0, 2.0], ([0, 0], [1, 1])), shape=(1, 2)))


def test_checker_rejects_bad_solutions():
    data = cost_from_input(np.array([[1.0, 5.0], [4.0, 1.0]]))
    ok = dict(existing=np.array([False, False]), excluded=np.array([False, False]), capacity=None)
    assert check_solution(PMedian(p=1), data, is_open=np.array([True, False]), assign=np.array([0, 0]),
                          objective=5.0, **ok) == 5.0
    with pytest.raises(SolverError, match="objective"):
        check_solution(PMedian(p=1), data, is_open=np.array([True, False]), assign=np.array([0, 0]),
                       objective=4.0, **ok)
    with pytest.raises(SolverError, match="closed"):
        check_solution(PMedian(p=1), data, is_open=np.array([True, False]), assign=np.array([0, 1]),
                       objective=2.0, **ok)
    with pytest.raises(SolverError, match="new sites"):
        check_solution(PMedian(p=1), data, is_open=np.array([True, True]), assign=np.array([0, 1]),
                       objective=2.0, **ok)
    with pytest.raises(SolverError, match="capacity"):
        check_solution(PMedian(p=1), data, is_open=np.array([True, False]), assign=np.array([0, 0]),
                       objective=5.0, **{**ok, "capacity": np.array([1.0, 1.0])})


def test_heuristic_path_scales_and_reports_a_proven_gap():
    rng = np.random.default_rng(1)
    xy_d, xy_c = rng.random((400, 2)), rng.random((60, 2))
    D = np.hypot(*(xy_d[:, None, :] - xy_c[None, :, :]).transpose(2, 0, 1))
    t = time.perf_counter()
    r = PMedian(p=6, method="heuristic").solve(D)
    assert time.perf_counter() - t < 20
    assert 0 <= r.gap < 0.01 and r.bound <= r.objective
    exact = PMedian(p=6).solve(D)
    assert exact.status == "optimal"
    assert exact.objective <= r.objective + 1e-9
    assert r.bound <= exact.objective * (1 + 1e-9)
    # brute force over the 60 choose 6 subsets is too big; check p=2 instead
    assert PMedian(p=2).solve(D).objective == pytest.approx(brute("pm", D, np.ones(400), 2))


def test_cross_check_with_spopt():
    spopt = pytest.importorskip("spopt.locate")
    pulp = pytest.importorskip("pulp")
    rng = np.random.default_rng(2)
    xy_d, xy_c = rng.random((60, 2)) * 1000, rng.random((20, 2)) * 1000
    D = np.hypot(*(xy_d[:, None, :] - xy_c[None, :, :]).transpose(2, 0, 1))
    w = rng.integers(1, 10, 60).astype(float)
    solver = pulp.PULP_CBC_CMD(msg=False)
    sm = spopt.PMedian.from_cost_matrix(D, w, p_facilities=4).solve(solver)
    assert PMedian(p=4).solve(D, weights=w).objective == pytest.approx(sm.problem.objective.value(), rel=1e-6)
    sc = spopt.MCLP.from_cost_matrix(D, w, service_radius=250, p_facilities=4).solve(solver)
    assert MaximalCovering(p=4, radius=250).solve(D, weights=w).objective == pytest.approx(
        sc.problem.objective.value(), rel=1e-6)
    ls = spopt.LSCP.from_cost_matrix(D, service_radius=350).solve(solver)
    assert SetCovering(radius=350).solve(D).objective == pytest.approx(ls.problem.objective.value())


def test_mclp_interchange_heuristic_is_feasible_and_proves_full_cover():
    rng = np.random.default_rng(9)
    xy_d, xy_c = rng.random((70, 2)), rng.random((15, 2))
    D = np.hypot(*(xy_d[:, None, :] - xy_c[None, :, :]).transpose(2, 0, 1))
    w = rng.integers(1, 6, 70).astype(float)
    for radius in (0.2, 0.6):
        bf = brute("mclp", D, w, 3, radius)
        h = MaximalCovering(p=3, radius=radius, method="heuristic").solve(D, weights=w)
        assert h.objective <= bf + 1e-9
        if h.status == "optimal":  # claimed only when every coverable demand is covered
            assert h.objective == pytest.approx(bf)
            assert h.objective == pytest.approx(w[np.isfinite(D).any(axis=1) & (D.min(axis=1) <= radius)].sum())
    assert MaximalCovering(p=3, radius=0.6).solve(D, weights=w).objective == pytest.approx(
        brute("mclp", D, w, 3, 0.6))


def _classic_pmedian_milp(D, w, p):
    """Textbook p-median MIP (ReVelle & Swain) with scipy's HiGHS: x_ij assignment, y_j open."""
    from scipy.optimize import Bounds, LinearConstraint, milp

    n, m = D.shape
    c = np.concatenate([(w[:, None] * D).ravel(), np.zeros(m)])
    assign = sp.hstack([sp.kron(sp.eye(n), np.ones((1, m))), sp.csr_array((n, m))])
    link = sp.hstack([sp.eye(n * m), -sp.kron(np.ones((n, 1)), sp.eye(m))])
    count = sp.hstack([sp.csr_array((1, n * m)), np.ones((1, m))])
    res = milp(c, constraints=[LinearConstraint(assign, 1, 1), LinearConstraint(link, -np.inf, 0),
                               LinearConstraint(count, p, p)],
               integrality=np.r_[np.zeros(n * m), np.ones(m)], bounds=Bounds(0, 1))
    assert res.status == 0
    return res.fun


def test_pmedian_when_fixings_decide_every_site():
    """Regression: reduced-cost fixing can decide every candidate, leaving an empty MIP
    (HiGHS: model status 'Empty'); the fixed set must then be taken as it is."""
    rng = np.random.default_rng(17)
    n, m, p = 200, 40, 6
    d, c = rng.random((n, 2)) * 1e4, rng.random((m, 2)) * 1e4
    D = np.hypot(d[:, None, 0] - c[None, :, 0], d[:, None, 1] - c[None, :, 1])
    w = rng.integers(1, 11, n).astype(float)
    res = PMedian(p=p).solve(D, weights=w)
    assert res.status == "optimal"
    assert res.objective == pytest.approx(_classic_pmedian_milp(D, w, p), rel=1e-6)


# ------------------------------------------------- covering reductions and local search
def _geo(seed, n, m, radius):
    rng = np.random.default_rng(seed)
    xy_d, xy_c = rng.random((n, 2)), rng.random((m, 2))
    D = np.hypot(*(xy_d[:, None, :] - xy_c[None, :, :]).transpose(2, 0, 1))
    A = (D <= radius).astype(float)
    keep = A.sum(axis=1) > 0
    return D[keep], sp.csr_array(A[keep])


@pytest.mark.parametrize("seed", range(4))
def test_reduce_cover_keeps_the_optimum_and_drops_only_dominated(seed):
    from careplan.locate._reduce import reduce_cover

    _, A = _geo(seed, 60, 12, 0.35)
    R, rows, cols = reduce_cover(A)
    assert R.shape == (len(rows), len(cols)) and R.shape[0] < A.shape[0]
    Ad = A.toarray() > 0
    # every dropped row contains the column set of a kept row (restricted to kept columns),
    # so covering the kept rows covers it
    for i in sorted(set(range(A.shape[0])) - set(rows)):
        assert any(Ad[k, cols].any() and (Ad[i, cols] >= Ad[k, cols]).all() for k in rows)
    assert brute("sc", np.where(Ad, 0.0, np.inf), np.ones(len(Ad)), radius=0.5) == milp_cover(R)


@pytest.mark.parametrize("seed", range(3))
def test_cover_search_finds_optimal_covers(seed):
    from careplan.locate._covering import cover_search
    from careplan.locate._reduce import greedy_cover

    _, A = _geo(seed, 300, 60, 0.2)
    opt = milp_cover(A)
    g = greedy_cover(A)
    sol, size, steps = cover_search(A, None, g, lower_bound=opt, time_limit_s=30, max_steps=200_000)
    assert size == opt == sol.sum()  # stopped on reaching the bound it was given
    assert (A @ sol.astype(float) > 0).all()  # a real cover
    # without a reachable bound it stops on the step limit, never below the optimum
    sol2, size2, steps2 = cover_search(A, None, g, lower_bound=0, time_limit_s=30, max_steps=5000)
    assert steps2 == 5000 and size2 == sol2.sum() >= opt and (A @ sol2.astype(float) > 0).all()


@pytest.mark.parametrize(("seed", "p"), [(0, 2), (1, 3), (2, 4)])
def test_cover_search_fixed_size_matches_brute_force_mclp(seed, p):
    from careplan.locate._covering import cover_search

    D, A = _geo(seed, 40, 10, 0.3)
    w = np.random.default_rng(seed).integers(1, 9, A.shape[0]).astype(float)
    start = np.zeros(10, dtype=bool)
    start[:p] = True
    sol, unc, _ = cover_search(A, w, start, size=p, lower_bound=0.0, time_limit_s=30, max_steps=20_000)
    assert sol.sum() == p
    covered = A @ sol.astype(float) > 0
    assert unc == pytest.approx(w[~covered].sum())
    assert w[covered].sum() == pytest.approx(brute("mclp", D, w, p, 0.3))
    # p = 1: the single column has to move at every step (regression: it used to open a second one)
    sol1, _, _ = cover_search(A, w, start & (np.arange(10) == 0), size=1, max_steps=50)
    assert sol1.sum() == 1


@pytest.mark.parametrize(("seed", "p"), [(3, 2), (4, 3), (5, 4)])
def test_mclp_polish_reaches_the_brute_force_optimum_from_a_poor_start(seed, p):
    """The step after a MIP time limit: local search + swaps from the MIP's (here: a
    deliberately poor, short) solution, stopping when it reaches the proven bound."""
    from careplan.locate._base import Problem
    from careplan.locate._models import _mclp_polish

    D, A = _geo(seed, 40, 10, 0.3)
    w = np.random.default_rng(seed).integers(1, 9, A.shape[0]).astype(float)
    opt = brute("mclp", D, w, p, 0.3)
    start = np.zeros(10, dtype=bool)
    start[0] = True  # fewer than p sites, as a MIP with "at most p" may leave it
    prob = Problem(data=None, existing=np.zeros(10, bool), excluded=np.zeros(10, bool), capacity=None,
                   deadline=time.perf_counter() + 20)
    sol, val, steps = _mclp_polish(A, w, start, p, opt, prob)
    assert sol.sum() == p and val == pytest.approx(opt) and steps > 0
    assert w[A @ sol.astype(float) > 0].sum() == pytest.approx(val)
    assert prob.remaining() > 5  # stopped on reaching the bound, not on the clock


def test_mclp_time_limited_mip_hands_the_rest_to_the_local_search():
    D, A = _geo(9, 2000, 400, 0.1)  # 30 sites cannot cover everything: HiGHS does not close in 3 s
    w = np.random.default_rng(9).integers(1, 11, A.shape[0]).astype(float)
    r = MaximalCovering(p=30, radius=0.1, time_limit_s=3.0).solve(D, weights=w)
    assert r.method == "mip+local_search" and r.info["polish_steps"] > 0 and r.status == "time_limit"
    assert len(r.new) == 30 and r.bound >= r.objective - 1e-6 and r.solve_time_s < 4.5
    assert r.objective == pytest.approx(w[r.covered.to_numpy()].sum())


def test_mclp_full_cover_is_proved_without_the_mip():
    from careplan.locate._reduce import greedy_cover

    D, A = _geo(7, 1500, 300, 0.12)
    w = np.random.default_rng(7).integers(1, 11, len(D)).astype(float)
    p = int(greedy_cover(A).sum()) - 3  # fewer sites than the greedy cover: the search has to find one
    r = MaximalCovering(p=p, radius=0.12).solve(D, weights=w)
    # covering every coverable demand is an upper bound no solution can beat
    assert r.objective == pytest.approx(w.sum()) and r.status == "optimal" and r.gap == 0
    assert r.method == "greedy+local_search" and len(r.new) == p and r.info["local_search_steps"] > 0


@pytest.mark.parametrize(("seed", "radius"), [(3, 0.15), (4, 0.2)])
def test_set_covering_medium_equals_scipy_milp(seed, radius):
    D, A = _geo(seed, 800, 150, radius)
    r = SetCovering(radius=radius).solve(D)
    assert r.objective == milp_cover(A) and r.status == "optimal"
    assert r.info["lp_bound"] <= r.objective + 1e-9
    assert r.covered.all()


@pytest.mark.parametrize(("seed", "n", "m", "radius"), [(0, 400, 60, 0.15), (1, 600, 80, 0.45), (2, 300, 40, 0.8)])
def test_cover_lp_row_generation_equals_the_full_lp(seed, n, m, radius):
    """The row-generation LP ends at the full LP optimum (scipy's HiGHS on every row), and
    every intermediate value is a lower bound (a relaxation with fewer rows)."""
    from scipy.optimize import linprog

    from careplan.locate._mip import cover_lp

    _, A = _geo(seed, n, m, radius)
    n = A.shape[0]
    ref = linprog(np.ones(m), A_ub=-A.toarray(), b_ub=-np.ones(n), bounds=(0, 1), method="highs")
    lp = cover_lp(A, batch=3, n_seed=0)
    assert lp.complete and lp.objective == pytest.approx(ref.fun, rel=1e-7)
    assert (A @ lp.x >= 1 - 1e-7).all() and lp.rounds > 1 and lp.active.sum() <= n
    early = cover_lp(A, batch=3, n_seed=0, time_limit_s=1e-9)  # stops after the first LP
    assert not early.complete and early.rounds == 1 and early.objective <= ref.fun + 1e-9


def test_cover_lp_stopped_inside_its_first_lp_gives_the_trivial_bound():
    """A time limit inside the first LP (all 3,000 rows in it) ends the loop with bound 0
    instead of an error; with time it reaches the full LP value (scipy's linprog)."""
    from scipy.optimize import linprog

    from careplan.locate._mip import cover_lp

    _, A = _geo(3, 3000, 600, 0.3)
    early = cover_lp(A, n_seed=A.shape[0], time_limit_s=1e-9)
    assert not early.complete and early.rounds == 1 and early.objective == 0.0
    ref = linprog(np.ones(600), A_ub=-A.toarray(), b_ub=-np.ones(A.shape[0]), bounds=(0, 1), method="highs")
    assert cover_lp(A).objective == pytest.approx(ref.fun, rel=1e-7) and ref.fun > 1


@pytest.mark.parametrize("seed", [0, 5, 18, 21])
def test_set_covering_tree_search_adds_uncovered_rows_until_optimal(monkeypatch, seed):
    """Force the exact route to start from few rows (a one-row-at-a-time LP, no local
    search improvement) and check the result against scipy's MILP on all rows."""
    from functools import partial

    import careplan.locate._models as models

    monkeypatch.setattr(models, "cover_search", lambda A, w, start, **kw: (start, 0, 0))
    monkeypatch.setattr(models, "cover_lp", partial(models.cover_lp, n_seed=0, batch=1))
    rng = np.random.default_rng(seed)
    n, m = int(rng.integers(300, 800)), int(rng.integers(30, 80))
    D = np.hypot(*(rng.random((n, 2))[:, None, :] - rng.random((m, 2))[None, :, :]).transpose(2, 0, 1))
    radius = float(np.max(D.min(axis=1)) * rng.uniform(1.5, 3))
    r = SetCovering(radius=radius).solve(D)
    assert r.objective == milp_cover(sp.csr_array((D <= radius).astype(float)))
    assert r.status == "optimal" and r.bound == r.objective and r.covered.all()
    assert r.method == "local_search+branch_and_bound"
    if seed in (18, 21):  # rows the node LPs left uncovered joined the LP (found by search)
        assert r.info["lp_rows"] < r.info["bb_rows"] <= r.info["n_demand_kept"]


@pytest.mark.parametrize("forced", [False, True])
def test_pcenter_medium_equals_bisection_with_scipy_milp(monkeypatch, forced):
    """p-center through the covering local search + MIP, against an independent bisection
    over the distinct costs with scipy's MILP as the set-covering oracle. ``forced``: no
    local search and a one-row-at-a-time LP, so every step goes through the LP bound and
    the MIP row generation."""
    if forced:
        from functools import partial

        import careplan.locate._models as models

        monkeypatch.setattr(models, "cover_search", lambda A, w, start, **kw: (start, start.sum(), 0))
        monkeypatch.setattr(models, "cover_lp", partial(models.cover_lp, n_seed=0, batch=1))
    rng = np.random.default_rng(21)
    xy_d, xy_c = rng.random((300, 2)), rng.random((40, 2))
    D = np.hypot(*(xy_d[:, None, :] - xy_c[None, :, :]).transpose(2, 0, 1))
    p = 6
    vals = np.unique(D)
    lo, hi = 0, len(vals) - 1
    while lo < hi:
        mid = (lo + hi) // 2
        A = (D <= vals[mid]).astype(float)
        if A.any(axis=1).all() and milp_cover(sp.csr_array(A)) <= p:
            hi = mid
        else:
            lo = mid + 1
    r = PCenter(p=p).solve(D)
    assert r.objective == pytest.approx(vals[lo]) and r.status == "optimal" and len(r.new) == p


def test_covering_under_a_tiny_time_limit_still_returns_a_checked_solution():
    D, A = _geo(11, 1500, 300, 0.1)
    r = SetCovering(radius=0.1, time_limit_s=0.05).solve(D)
    assert r.covered.all() and r.bound <= r.objective  # a real cover, an honest bound
    assert r.status in ("optimal", "time_limit") and (r.status == "optimal") == (r.gap == 0)
    w = np.random.default_rng(11).integers(1, 5, len(D)).astype(float)
    m = MaximalCovering(p=5, radius=0.1, time_limit_s=0.05).solve(D, weights=w)
    assert len(m.new) == 5 and m.bound >= m.objective


def test_mip_start_is_not_misjudged_by_presolve():
    """Regression for a HiGHS 1.16 fault: a set covering (251 demands x 580 sites, from the
    Shanghai benchmark) with a 96-site start was declared optimal at "93 in the reduced
    space" while the optimum is 95. careplan passes starts with presolve off and checks
    HiGHS's objective against its solution."""
    from scipy.optimize import Bounds, LinearConstraint, milp

    from careplan.locate._mip import solve_mip

    f = np.load(Path(__file__).parent / "data" / "highs_start_presolve.npz")
    n, m = (int(v) for v in f["shape"])
    A = sp.csr_array((np.ones(len(f["indices"])), f["indices"].astype(np.int64), f["indptr"]), shape=(n, m))
    start = np.zeros(m)
    start[f["start"]] = 1.0
    assert start.sum() == 96 and (A @ start >= 1).all()
    ref = milp(np.ones(m), constraints=[LinearConstraint(A, 1, np.inf)], integrality=np.ones(m),
               bounds=Bounds(0, 1))
    res = solve_mip(np.ones(m), A, np.ones(n), np.full(n, np.inf), np.zeros(m), np.ones(m), np.ones(m, bool),
                    start=start)
    assert res.objective == pytest.approx(ref.fun) == 95 and (res.x > 0.5).sum() == 95
    assert res.bound == pytest.approx(95)


def test_set_covering_keeps_the_local_search_cover_when_the_tree_runs_out_of_time(monkeypatch):
    import careplan.locate._models as models

    D, A = _geo(5, 600, 120, 0.15)  # LP bound 24 < optimum 25: the tree search has to prove it
    full = SetCovering(radius=0.15).solve(D)
    assert full.method == "local_search+branch_and_bound" and full.status == "optimal"
    assert full.objective == milp_cover(A) == 25 and full.bound == 25
    real = models.cover_at_most  # the clock stops the first question (deadline already past)
    monkeypatch.setattr(models, "cover_at_most", lambda A, t, **kw: real(A, t, rows=kw.get("rows"),
                                                                         deadline=time.perf_counter() - 1))
    r = SetCovering(radius=0.15).solve(D)
    assert r.covered.all() and r.method == "local_search+branch_and_bound" and r.status == "time_limit"
    assert r.bound == np.ceil(r.info["lp_bound"] - 1e-6) == 24 and r.objective >= 25
