"""Tests of careplan.locate.HierarchicalCovering: objectives against brute force over all
level assignments, the rules (nesting, budgets, existing, excluded, one level per site)
checked here independently, every error path, and the bundled Nanjing sample."""

from __future__ import annotations

import itertools
import warnings

import numpy as np
import pandas as pd
import pytest
import scipy.sparse as sp

import careplan as cp
from careplan._errors import CareplanError, CareplanWarning, InputError, SolverError
from careplan.locate import HierarchicalCovering, LocationResult
from careplan.locate._check import check_solution
from careplan.locate._cost import cost_from_input


# ------------------------------------------------------------------ brute force
def _value(D, w, upper, lower, rU, rL, uw):
    """Objective of an open set (lists of column positions), straight from the dense matrix."""
    opened = list(upper) + list(lower)
    cov_l = (D[:, opened] <= rL).any(axis=1) if opened else np.zeros(len(w), bool)
    cov_u = (D[:, list(upper)] <= rU).any(axis=1) if len(upper) else np.zeros(len(w), bool)
    return float(w[cov_l].sum() + uw * w[cov_u].sum())


def _nested(S, j, upper, nest):
    return any(k != j and S[j, k] <= nest for k in upper)


def brute(D, S, w, *, pU, pL, rU, rL, nest, uw, exU=(), exL=(), exc=()):
    """Best objective over every assignment of {closed, lower, upper} to the free sites."""
    m = D.shape[1]
    free = [j for j in range(m) if j not in exU and j not in exL and j not in exc]
    best = -np.inf
    for levels in itertools.product((0, 1, 2), repeat=len(free)):
        new_u = [j for j, lv in zip(free, levels, strict=True) if lv == 2]
        new_l = [j for j, lv in zip(free, levels, strict=True) if lv == 1]
        if len(new_u) > pU or len(new_l) > pL:
            continue
        upper = list(exU) + new_u
        if not all(_nested(S, j, upper, nest) for j in new_l):
            continue
        best = max(best, _value(D, w, upper, list(exL) + new_l, rU, rL, uw))
    return best


def assert_rules(res, D, S, w, *, pU, pL, rU, rL, nest, uw, exU=(), exL=(), exc=(), labels=None):
    """Check a result against the rules with plain Python (positions via ``labels``)."""
    labels = list(range(D.shape[1])) if labels is None else list(labels)
    pos = {lab: i for i, lab in enumerate(labels)}
    level = res.level
    assert set(level.index) == set(res.selected)
    assert level.isin(["upper", "lower"]).all()
    assert not level.index.has_duplicates  # one level per site
    upper = [pos[s] for s in level.index[level == "upper"]]
    lower = [pos[s] for s in level.index[level == "lower"]]
    for j in exU:
        assert level[labels[j]] == "upper"
    for j in exL:
        assert level[labels[j]] == "lower"
    for j in exc:
        assert labels[j] not in level.index
    new_u = [j for j in upper if j not in exU]
    new_l = [j for j in lower if j not in exL]
    assert len(new_u) <= pU and len(new_l) <= pL
    for j in new_l:
        assert _nested(S, j, upper, nest), f"new lower site {labels[j]} is not nested"
    assert sorted(pos[x] for x in res.new) == sorted(new_u + new_l)
    assert res.objective == pytest.approx(_value(D, w, upper, lower, rU, rL, uw), rel=1e-9, abs=1e-9)
    # coverage flags and assignment from the dense matrix
    opened = upper + lower
    dmin = D[:, opened].min(axis=1) if opened else np.full(D.shape[0], np.inf)
    np.testing.assert_array_equal(res.covered.to_numpy(), dmin <= rL)
    dminu = D[:, upper].min(axis=1) if upper else np.full(D.shape[0], np.inf)
    np.testing.assert_array_equal(res.covered_upper.to_numpy(), dminu <= rU)
    for i, fac in enumerate(res.assignment):
        if dmin[i] <= rL:
            assert D[i, pos[fac]] == pytest.approx(dmin[i])
            assert res.assigned_cost.iloc[i] == pytest.approx(dmin[i])
        else:
            assert fac is None
    return upper, lower


def _instance(seed, n=8, m=6, p_inf=0.25):
    rng = np.random.default_rng(seed)
    D = rng.uniform(0, 1000, (n, m)).round()
    D[rng.random((n, m)) < p_inf] = np.inf
    S = rng.uniform(0, 1000, (m, m)).round()  # asymmetric on purpose: row lower, column upper
    S[rng.random((m, m)) < p_inf] = np.inf
    np.fill_diagonal(S, 0.0)
    w = rng.integers(0, 6, n).astype(float)
    return rng, D, S, w


CASES = [  # seed, pU, pL, uw, exU, exL, exc
    (0, 1, 2, 1.0, (), (), ()),
    (1, 2, 1, 1.0, (), (), ()),
    (2, 1, 2, 0.5, (3,), (), ()),
    (3, 0, 2, 2.0, (0,), (5,), ()),
    (4, 1, 1, 1.0, (), (2,), (4,)),
    (5, 2, 2, 0.0, (1,), (), (0,)),
    (6, 1, 3, 3.0, (), (), (2, 3)),
    (7, 0, 3, 1.0, (), (), ()),  # no upper budget, no existing upper: no lower can open
    (8, 1, 2, 1.5, (4,), (0, 1), ()),
    (9, 1, 1, 0.25, (), (), ()),
]


@pytest.mark.parametrize("seed,pU,pL,uw,exU,exL,exc", CASES)
def test_equals_brute_force(seed, pU, pL, uw, exU, exL, exc):
    rng, D, S, w = _instance(seed)
    rU, rL, nest = 650.0, 400.0, 600.0
    kw = dict(pU=pU, pL=pL, rU=rU, rL=rL, nest=nest, uw=uw, exU=exU, exL=exL, exc=exc)
    model = HierarchicalCovering(p_upper=pU, p_lower=pL, radius_upper=rU, radius_lower=rL,
                                 nest_radius=nest, upper_weight=uw)
    res = model.solve(D, weights=w, site_cost=S, existing_upper=list(exU), existing_lower=list(exL),
                      excluded=list(exc))
    assert isinstance(res, LocationResult)
    assert res.objective == pytest.approx(brute(D, S, w, **kw), rel=1e-9, abs=1e-9)
    assert res.status == "optimal" and res.gap == 0.0
    assert res.bound == pytest.approx(res.objective)
    assert_rules(res, D, S, w, **kw)
    assert res.existing == sorted(list(exU) + list(exL))


def test_random_parameters_against_brute_force():
    """Random radii (also radius_lower > radius_upper), budgets, existing/excluded sets."""
    for seed in range(40):
        rng, D, S, w = _instance(1000 + seed, n=9, m=6, p_inf=0.2)
        perm = rng.permutation(6)
        exU = tuple(int(j) for j in perm[:rng.integers(0, 2)])
        exL = tuple(int(j) for j in perm[2:2 + rng.integers(0, 3)])
        exc = tuple(int(j) for j in perm[5:5 + rng.integers(0, 2)])
        free = 6 - len(exU) - len(exL) - len(exc)
        pU = int(rng.integers(0, 3))
        pL = int(min(rng.integers(0, 4), free - pU))
        uw = float(rng.choice([0.0, 0.5, 1.0, 2.0]))
        rU, rL, nest = (float(rng.integers(200, 800)) for _ in range(3))
        kw = dict(pU=pU, pL=pL, rU=rU, rL=rL, nest=nest, uw=uw, exU=exU, exL=exL, exc=exc)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", CareplanWarning)
            model = HierarchicalCovering(p_upper=pU, p_lower=pL, radius_upper=rU, radius_lower=rL,
                                         nest_radius=nest, upper_weight=uw)
        res = model.solve(D, weights=w, site_cost=S, existing_upper=list(exU),
                          existing_lower=list(exL), excluded=list(exc))
        assert res.objective == pytest.approx(brute(D, S, w, **kw), abs=1e-9), seed
        assert res.status == "optimal"
        assert_rules(res, D, S, w, **kw)


@pytest.mark.parametrize("seed", range(20, 30))
def test_heuristic_feasible_and_bounded_by_brute_force(seed):
    """Greedy + interchange: always feasible, never above the optimum, bound valid."""
    rng, D, S, w = _instance(seed, n=9, m=6, p_inf=0.2)
    exU = (int(rng.integers(6)),) if seed % 2 else ()
    kw = dict(pU=1 + seed % 2, pL=2, rU=700.0, rL=350.0, nest=650.0, uw=0.5 + seed % 3, exU=exU)
    res = HierarchicalCovering(p_upper=kw["pU"], p_lower=2, radius_upper=700, radius_lower=350,
                               nest_radius=650, upper_weight=kw["uw"], method="heuristic").solve(
        D, weights=w, site_cost=S, existing_upper=list(exU))
    opt = brute(D, S, w, **kw)
    assert res.objective <= opt + 1e-9 <= res.bound + 2e-9
    assert res.status in ("heuristic", "optimal")
    assert_rules(res, D, S, w, **kw)


def test_brute_force_sparse_and_duplicate_rows():
    """Sparse inputs with explicit zeros, duplicated demand rows (merged), many seeds."""
    for seed in range(10, 16):
        rng, D, S, w = _instance(seed, n=6, m=5, p_inf=0.3)
        D = np.vstack([D, D[:3]])  # identical demand rows: merged internally
        w = np.concatenate([w, [1.0, 2.0, 0.0]])
        D[0, 0] = 0.0  # explicit zero distance
        Ds = sp.csr_array(np.where(np.isinf(D), 0, D))
        Ds = sp.csr_array((D[np.isfinite(D)], np.nonzero(np.isfinite(D))), shape=D.shape)
        Ss = sp.csr_array((S[np.isfinite(S)], np.nonzero(np.isfinite(S))), shape=S.shape)
        assert Ds.nnz == np.isfinite(D).sum()
        kw = dict(pU=1, pL=2, rU=700.0, rL=350.0, nest=500.0, uw=1.0)
        res = HierarchicalCovering(p_upper=1, p_lower=2, radius_upper=700, radius_lower=350,
                                   nest_radius=500).solve(Ds, weights=w, site_cost=Ss)
        assert res.objective == pytest.approx(brute(D, S, w, **kw))
        assert res.info["n_lower_rows"] < len(w)
        assert_rules(res, D, S, w, **kw)
        dense = HierarchicalCovering(p_upper=1, p_lower=2, radius_upper=700, radius_lower=350,
                                     nest_radius=500).solve(D, weights=w, site_cost=S)
        assert dense.objective == res.objective


# ------------------------------------------------------------------ hand example
def test_hand_example():
    """Three sites on a line at 0, 500 and 1050 m; demands at the sites plus one at 760 m.

    rU 600, rL 300, nest 600, pU 1, pL 1. Upper at B (500) reaches A, B, D(760) within 600
    (C is 550 away: also). Lower at A (nested: 500 <= 600) adds A's lower service;
    lower at C (550 <= 600) adds C; weights A 2, C 3 -> lower at C.
    Objective: lower cover {B (0), C (0), D (260 from B)} = 1 + 3 + 1 = 5,
    upper cover {A, B, C, D} = 2 + 1 + 3 + 1 = 7; total 12.
    """
    x_sites = np.array([0.0, 500.0, 1050.0])
    x_dem = np.array([0.0, 500.0, 1050.0, 760.0])
    D = np.abs(x_dem[:, None] - x_sites[None, :])
    S = np.abs(x_sites[:, None] - x_sites[None, :])
    w = pd.Series([2.0, 1.0, 3.0, 1.0], index=["a", "b", "c", "d"])
    cands = ["A", "B", "C"]
    res = HierarchicalCovering(p_upper=1, p_lower=1, radius_upper=600, radius_lower=300,
                               nest_radius=600).solve(
        pd.DataFrame(D, index=w.index, columns=cands), weights=w,
        site_cost=pd.DataFrame(S, index=cands, columns=cands))
    assert res.objective == pytest.approx(12.0)
    assert dict(res.level) == {"B": "upper", "C": "lower"}
    assert res.selected == ["B", "C"] and res.new == ["B", "C"] and res.existing == []
    assert res.assignment.to_dict() == {"a": None, "b": "B", "c": "C", "d": "B"}
    assert res.covered.to_dict() == {"a": False, "b": True, "c": True, "d": True}
    assert res.covered_upper.all()
    assert res.load.to_dict() == {"B": 2.0, "C": 3.0}
    frame = res.to_frame()
    assert list(frame.columns) == ["facility", "cost", "covered", "covered_upper"]
    assert frame.loc["d", "cost"] == pytest.approx(260.0)
    # upper coverage worth nothing: the upper site still goes where it helps the lower level most
    res0 = HierarchicalCovering(p_upper=1, p_lower=1, radius_upper=600, radius_lower=300,
                                nest_radius=600, upper_weight=0.0).solve(D, weights=w.to_numpy(),
                                                                          site_cost=S)
    assert res0.objective == pytest.approx(brute(D, S, w.to_numpy(), pU=1, pL=1, rU=600, rL=300,
                                                 nest=600, uw=0.0))


def test_nesting_binds():
    """The best lower site is out of reach of every upper site: it must not open."""
    # sites: U0 at 0, L1 at 100 (nestable), L2 at 5000 (far from any upper)
    x_sites = np.array([0.0, 100.0, 5000.0])
    x_dem = np.array([0.0, 5000.0, 5010.0, 5020.0, 100.0])
    D = np.abs(x_dem[:, None] - x_sites[None, :])
    S = np.abs(x_sites[:, None] - x_sites[None, :])
    w = np.array([1.0, 5, 5, 5, 1])
    m = HierarchicalCovering(p_upper=1, p_lower=1, radius_upper=50, radius_lower=50,
                             nest_radius=1000)
    res = m.solve(D, weights=w, site_cost=S)
    # without nesting: U at 2 (15 + 15), L at 0 (1) -> 31; with nesting the upper must host
    assert res.objective == pytest.approx(brute(D, S, w, pU=1, pL=1, rU=50, rL=50, nest=1000, uw=1.0))
    assert res.objective == pytest.approx(30.0)  # upper at site 2 (15 + 15), no lower can nest
    assert dict(res.level) == {2: "upper"}
    assert res.info["n_new_lower"] == 0


def test_budget_is_at_most_and_useless_sites_not_opened():
    D = np.array([[0.0, 900, 900, 900], [900, 0, 900, 900]])
    S = np.zeros((4, 4))
    res = HierarchicalCovering(p_upper=3, p_lower=1, radius_upper=100, radius_lower=100,
                               nest_radius=10).solve(D, site_cost=S)
    assert res.objective == pytest.approx(4.0)  # both demands covered at both levels
    assert len(res.new) == 2  # spare budget unused: sites 2 and 3 add nothing
    assert set(res.new) == {0, 1}
    assert (res.level == "upper").all()


def test_existing_lower_unnested_reported_and_kept():
    D = np.array([[0.0, 50, 2000], [2000, 2000, 0.0]])
    S = np.array([[0.0, 50, 3000], [50, 0, 3000], [3000, 3000, 0]])
    res = HierarchicalCovering(p_upper=0, p_lower=0, radius_upper=100, radius_lower=100,
                               nest_radius=100).solve(D, site_cost=S, existing_upper=[0],
                                                      existing_lower=[1, 2])
    assert dict(res.level) == {0: "upper", 1: "lower", 2: "lower"}
    assert res.info["unnested_existing_lower"] == [2]
    assert res.objective == pytest.approx(2 + 1)  # both lower-covered, demand 0 upper-covered
    assert res.new == [] and res.existing == [0, 1, 2]


def test_labels_and_long_tables_and_no_mutation():
    rng, D, S, w = _instance(42, n=7, m=5)
    dem = [f"area{i}" for i in range(7)]
    cands = [f"site{j}" for j in range(5)]
    wide = pd.DataFrame(D, index=dem, columns=cands)
    ws = pd.Series(w, index=dem)
    order = [3, 0, 4, 1, 2]  # site_cost given in another order: aligned by label
    swide = pd.DataFrame(S, index=cands, columns=cands).iloc[order, order[::-1]]
    before = (wide.copy(), swide.copy(), ws.copy())
    model = HierarchicalCovering(p_upper=1, p_lower=2, radius_upper=650, radius_lower=400,
                                 nest_radius=600, upper_weight=0.7)
    res = model.solve(wide, weights=ws, site_cost=swide, existing_lower=["site4"], excluded="site1")
    pd.testing.assert_frame_equal(wide, before[0])
    pd.testing.assert_frame_equal(swide, before[1])
    pd.testing.assert_series_equal(ws, before[2])
    assert list(res.assignment.index) == dem and list(res.covered_upper.index) == dem
    assert set(res.selected) <= set(cands) and "site1" not in res.selected
    kw = dict(pU=1, pL=2, rU=650, rL=400, nest=600, uw=0.7, exL=(4,), exc=(1,))
    assert res.objective == pytest.approx(brute(D, S, w, **kw))
    assert_rules(res, D, S, w, labels=cands, **kw)
    # the long tables of WalkNetwork.distances give the same
    ii, jj = np.nonzero(np.isfinite(D))
    long = pd.DataFrame({"origin": np.array(dem)[ii], "destination": np.array(cands)[jj],
                         "distance_m": D[ii, jj]})
    kk, ll = np.nonzero(np.isfinite(S))
    slong = pd.DataFrame({"origin": np.array(cands)[kk], "destination": np.array(cands)[ll],
                          "distance_m": S[kk, ll]})
    res2 = model.solve(long, weights=ws, site_cost=slong, candidate_labels=cands,
                       existing_lower=["site4"], excluded=["site1"])
    assert res2.objective == pytest.approx(res.objective)
    assert res2.params["p_upper"] == 1 and res2.params["upper_weight"] == 0.7


# ------------------------------------------------------------------ methods, limits
def _bigger(seed=7, n=300, m=80):
    rng = np.random.default_rng(seed)
    pts_d = rng.uniform(0, 5000, (n, 2))
    pts_c = rng.uniform(0, 5000, (m, 2))
    D = np.linalg.norm(pts_d[:, None] - pts_c[None], axis=2)
    S = np.linalg.norm(pts_c[:, None] - pts_c[None], axis=2)
    w = rng.integers(1, 50, n).astype(float)
    return D, S, w


def test_heuristic_and_time_limit():
    D, S, w = _bigger()
    kw = dict(p_upper=3, p_lower=8, radius_upper=1200, radius_lower=500, nest_radius=1500)
    exact = HierarchicalCovering(**kw).solve(D, weights=w, site_cost=S)
    heur = HierarchicalCovering(method="heuristic", **kw).solve(D, weights=w, site_cost=S)
    assert exact.status == "optimal" and exact.method == "mip"
    assert heur.status == "heuristic"
    assert heur.objective <= exact.objective + 1e-9
    assert heur.bound >= exact.objective - 1e-9  # the trivial bound is a valid upper bound
    assert heur.gap == pytest.approx((heur.bound - heur.objective) / heur.objective)
    limited = HierarchicalCovering(time_limit_s=0.05, **kw).solve(D, weights=w, site_cost=S)
    assert limited.status in ("optimal", "time_limit")
    assert limited.objective <= exact.objective + 1e-9 <= limited.bound + 2e-9
    if limited.status == "optimal":
        assert limited.objective == pytest.approx(exact.objective)
    # a loose mip_gap is honoured (within the gap of the optimum)
    loose = HierarchicalCovering(mip_gap=0.05, **kw).solve(D, weights=w, site_cost=S)
    assert loose.objective >= exact.objective * (1 - 0.05) - 1e-9


def test_interior_point_lp_bound_path(monkeypatch):
    """Large models get an LP bound first; forced on a small one it must not change the answer."""
    import careplan.locate._hierarchy as hmod

    monkeypatch.setattr(hmod, "LP_BOUND_NNZ", 0)
    D, S, w = _bigger(seed=3, n=60, m=9)
    kw = dict(p_upper=1, p_lower=3, radius_upper=1500, radius_lower=700, nest_radius=1500)
    res = HierarchicalCovering(**kw).solve(D, weights=w, site_cost=S)
    opt = brute(D, S, w, pU=1, pL=3, rU=1500, rL=700, nest=1500, uw=1.0)
    assert res.objective == pytest.approx(opt)
    assert res.method == "mip"
    assert res.info["lp_bound"] > opt + 1  # a fractional LP optimum: a strictly weaker bound
    assert res.status == "optimal" and res.bound == pytest.approx(opt)


def test_greedy_reaching_the_trivial_bound_is_optimal_without_mip():
    D = np.array([[0.0, 900], [900, 0.0]])
    res = HierarchicalCovering(p_upper=2, p_lower=0, radius_upper=10, radius_lower=10,
                               nest_radius=10).solve(D, site_cost=np.zeros((2, 2)))
    assert res.status == "optimal" and res.method == "greedy" and res.objective == 4.0


# ------------------------------------------------------------------ errors
def _model(**kw):
    base = dict(p_upper=1, p_lower=1, radius_upper=600, radius_lower=300, nest_radius=600)
    base.update(kw)
    return HierarchicalCovering(**base)


@pytest.mark.parametrize("kw,match", [
    (dict(p_upper=-1), "p_upper"),
    (dict(p_lower=1.5), "p_lower"),
    (dict(p_upper=True), "p_upper"),
    (dict(radius_upper=np.inf), "radius_upper"),
    (dict(radius_lower=-1), "radius_lower"),
    (dict(nest_radius=None), "nest_radius"),
    (dict(upper_weight=-0.5), "upper_weight"),
    (dict(upper_weight=np.nan), "upper_weight"),
    (dict(mip_gap=2.0), "mip_gap"),
    (dict(method="fast"), "method"),
])
def test_bad_parameters(kw, match):
    with pytest.raises(InputError, match=match):
        _model(**kw)


def test_radius_lower_above_upper_warns_and_is_reported():
    D = np.array([[0.0, 400], [400, 0.0]])
    with pytest.warns(CareplanWarning, match="swapped"):
        m = _model(radius_upper=200, radius_lower=500)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # solve itself does not warn again
        res = m.solve(D, site_cost=np.zeros((2, 2)))
    assert "swapped" in res.info["warnings"][0]
    assert res.objective == pytest.approx(brute(D, np.zeros((2, 2)), np.ones(2), pU=1, pL=1, rU=200,
                                                rL=500, nest=600, uw=1.0))


def test_error_paths():
    D = np.array([[0.0, 100, 200], [100, 0, 100]])
    S = np.zeros((3, 3))
    m = _model()
    with pytest.raises(InputError, match="needs site_cost"):
        m.solve(D)
    with pytest.raises(InputError, match=r"site_cost.*3 x 3.*\(2, 3\)"):
        m.solve(D, site_cost=np.zeros((2, 3)))
    with pytest.raises(InputError, match=r"site_cost.*3 x 3"):
        m.solve(D, site_cost=sp.csr_array(np.ones((4, 4))))
    bad = S.copy()
    bad[0, 2] = -5
    with pytest.raises(InputError, match=r"site_cost.*non-negative.*-5"):
        m.solve(D, site_cost=bad)
    with pytest.raises(InputError, match=r"site_cost.*NaN|site_cost.*non-negative"):
        m.solve(D, site_cost=sp.csr_array(([np.nan], ([0], [1])), shape=(3, 3)))
    with pytest.raises(InputError, match=r"site_cost.*missing \[2\]"):
        m.solve(D, site_cost=pd.DataFrame(np.zeros((2, 2))))
    with pytest.raises(InputError, match=r"site_cost.*not among candidate_labels"):
        m.solve(D, site_cost=pd.DataFrame({"origin": [0], "destination": [7], "distance_m": [1.0]}))
    with pytest.raises(InputError, match="non-negative"):
        m.solve(-D, site_cost=S)
    with pytest.raises(InputError, match="both existing_upper and existing_lower"):
        m.solve(D, site_cost=S, existing_upper=[0], existing_lower=[0, 1])
    with pytest.raises(InputError, match="both existing and excluded"):
        m.solve(D, site_cost=S, existing_lower=[1], excluded=[1])
    with pytest.raises(InputError, match=r"existing_upper labels \[9\]"):
        m.solve(D, site_cost=S, existing_upper=[9])
    with pytest.raises(InputError, match=r"p_upper \+ p_lower = 2 \+ 2.*only 2"):
        _model(p_upper=2, p_lower=2).solve(D, site_cost=S, excluded=[2])
    with pytest.raises(InputError, match="weights"):
        m.solve(D, weights=[1.0, -1.0], site_cost=S)
    with pytest.raises(CareplanError):  # every failure above is a CareplanError (a ValueError)
        m.solve(D, site_cost="nope")


def test_checker_catches_violations():
    """The common check (HierarchicalCovering's check_rules and evaluate) is independent of
    the solver: feed it broken solutions."""
    D = np.array([[0.0, 100, 900], [900, 100, 0.0]])
    S = np.array([[0.0, 100, 900], [100, 0, 900], [900, 900, 0]])
    data = cost_from_input(D)
    site = cost_from_input(S).matrix
    F = np.zeros(3, bool)

    def run(ou, ol, assign, obj, exu=F, exl=F, exc=F, pu=1, pl=1, uw=1.0):
        model = HierarchicalCovering(p_upper=pu, p_lower=pl, cutoff_upper_m=500, cutoff_lower_m=50,
                                     nest_cutoff_m=200, upper_weight=uw)
        ou, ol = np.array(ou), np.array(ol)
        return check_solution(model, data, is_open=ou | ol, upper=ou, assign=np.array(assign),
                              existing=exu | exl, excluded=exc, capacity=None, objective=obj,
                              extra={"site_matrix": site, "existing_upper": exu})

    T, N = True, False
    # a valid one: upper 0, lower 1 (nested, 100 m) -> lower cover d0 (0 m), upper cover d0
    assert run([T, N, N], [N, T, N], [0, -1], 2.0) == pytest.approx(2.0)
    assert run([T, N, N], [N, T, N], [0, -1], 4.0, uw=3.0) == pytest.approx(1.0 + 3.0 * 1.0)
    with pytest.raises(SolverError, match="no open upper site within nest_cutoff_m"):
        run([N, N, N], [N, N, T], [-1, 2], 1.0)
    with pytest.raises(SolverError, match="budget p_lower"):
        run([T, N, N], [N, T, T], [0, 2], 3.0, pl=1)
    with pytest.raises(SolverError, match="budget p_upper"):
        run([T, T, N], [N, N, N], [0, -1], 2.0, pu=1)
    with pytest.raises(SolverError, match="reported objective"):
        run([T, N, N], [N, T, N], [0, -1], 5.0)
    with pytest.raises(SolverError, match="existing sites closed"):
        run([T, N, N], [N, N, N], [0, -1], 2.0, exl=np.array([N, T, N]))
    with pytest.raises(SolverError, match="existing lower sites opened as upper"):
        run([T, N, N], [N, N, N], [0, -1], 2.0, exl=np.array([T, N, N]))
    with pytest.raises(SolverError, match="existing upper"):
        run([N, N, N], [T, N, N], [0, -1], 1.0, exu=np.array([T, N, N]))
    with pytest.raises(SolverError, match="excluded"):
        run([T, N, N], [N, T, N], [0, -1], 2.0, exc=np.array([T, N, N]))
    with pytest.raises(SolverError, match="nearest open site"):
        run([T, N, N], [N, T, N], [1, -1], 2.0)
    with pytest.raises(SolverError, match="coverage does not match"):  # d0 within 50 m of site 0, unassigned
        run([T, N, N], [N, T, N], [-1, -1], 2.0)


# ------------------------------------------------------------------ real data
def _greedy_reference(D, S, w, *, pU, pL, rU, rL, nest, uw, exU, exL):
    """Plain greedy: each step opens the (site, level) that raises the objective most."""
    m = D.shape[1]
    upper, lower = list(exU), list(exL)
    nu = nl = 0
    cur = _value(D, w, upper, lower, rU, rL, uw)
    while True:
        best = (0.0, None, None)
        for j in range(m):
            if j in upper or j in lower:
                continue
            if nu < pU:
                v = _value(D, w, upper + [j], lower, rU, rL, uw) - cur
                if v > best[0] + 1e-12:
                    best = (v, j, "upper")
            if nl < pL and _nested(S, j, upper, nest):
                v = _value(D, w, upper, lower + [j], rU, rL, uw) - cur
                if v > best[0] + 1e-12:
                    best = (v, j, "lower")
        if best[1] is None:
            return cur
        if best[2] == "upper":
            upper.append(best[1])
            nu += 1
        else:
            lower.append(best[1])
            nl += 1
        cur += best[0]


def test_bundled_sample_walk_network():
    s = cp.datasets.load_sample()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", CareplanWarning)
        net = cp.WalkNetwork.from_file(s.network_path)
    facs = s.facilities
    up_fac = facs[facs["level"].isin(["district", "street"])]
    lo_fac = facs[facs["level"] == "community"]
    sites = pd.concat([up_fac[["geometry"]], lo_fac[["geometry"]], s.candidates[["geometry"]]])
    sites.index = ([f"existing:{i}" for i in up_fac.index] + [f"existing:{i}" for i in lo_fac.index]
                   + [f"candidate:{i}" for i in s.candidates.index])
    rU, rL, nest = 1000.0, 500.0, 800.0
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", CareplanWarning)
        cost = net.distance_matrix(s.areas, sites, cutoff_m=rU, verbose=False)
        site_cost = net.distance_matrix(sites, sites, cutoff_m=nest, verbose=False)
    w = s.areas["elderly"].astype(float)
    exU = [f"existing:{i}" for i in up_fac.index]
    exL = [f"existing:{i}" for i in lo_fac.index]
    model = HierarchicalCovering(p_upper=2, p_lower=4, radius_upper=rU, radius_lower=rL,
                                 nest_radius=nest, upper_weight=0.5)
    res = model.solve(cost, weights=w, site_cost=site_cost, existing_upper=exU, existing_lower=exL,
                      candidate_labels=sites.index)
    assert res.status == "optimal"
    assert list(res.assignment.index) == list(s.areas.index)
    assert set(res.existing) == set(exU + exL)
    # independent recomputation from the dense matrices, and the rules
    D = np.full(cost.shape, np.inf)  # from the stored pairs (explicit zeros kept)
    coo = sp.coo_array(cost)
    D[coo.row, coo.col] = coo.data
    S = np.full(site_cost.shape, np.inf)
    coo = sp.coo_array(site_cost)
    S[coo.row, coo.col] = coo.data
    pos = {lab: i for i, lab in enumerate(sites.index)}
    kw = dict(pU=2, pL=4, rU=rU, rL=rL, nest=nest, uw=0.5,
              exU=tuple(pos[x] for x in exU), exL=tuple(pos[x] for x in exL))
    assert_rules(res, D, S, w.to_numpy(), labels=sites.index, **kw)
    greedy = _greedy_reference(D, S, w.to_numpy(), **kw)
    assert res.objective >= greedy - 1e-9
    assert res.objective > _value(D, w.to_numpy(), list(kw["exU"]), list(kw["exL"]), rU, rL, 0.5)
    # the result's rows and the checker agree on the unnested existing stations
    ou = np.array([x in set(res.level.index[res.level == "upper"]) for x in sites.index])
    unn = [x for x in exL if not any(k != pos[x] and S[pos[x], k] <= nest for k in np.flatnonzero(ou))]
    assert res.info["unnested_existing_lower"] == unn
