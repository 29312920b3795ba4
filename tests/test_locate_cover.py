"""Set covering's exact route (issue 13 item 8): LP duals, the LP branch and bound that
answers "a cover with at most t sites?" (``_cover_bb``), and the MIP row generation that
p-center uses, against brute force, a hand example, scipy's own MILP interface on the
whole coverage matrix and LP duality."""

from __future__ import annotations

import itertools
import time

import numpy as np
import pytest
import scipy.sparse as sp
from conftest import milp_cover

from careplan.locate import SetCovering
from careplan.locate._base import Problem
from careplan.locate._cover_bb import cover_at_most
from careplan.locate._mip import cover_lp
from careplan.locate._models import _cover_mip


def _clustered(seed, n=600, m=150, side_m=5000.0, sd_m=600.0, cutoff_m=700.0):
    """Half the demand from one normal cluster (as benchmarks/bench_locate.py), rows nothing reaches dropped."""
    rng = np.random.default_rng(seed)
    k = n // 2
    centre = rng.uniform(0.3, 0.7, 2) * side_m
    d = np.vstack((np.clip(rng.normal(centre, sd_m, (k, 2)), 0, side_m), rng.random((n - k, 2)) * side_m))
    c = rng.random((m, 2)) * side_m
    D = np.hypot(d[:, None, 0] - c[None, :, 0], d[:, None, 1] - c[None, :, 1])
    return D[(D <= cutoff_m).any(axis=1)], cutoff_m


def _problem(m):
    return Problem(data=None, existing=np.zeros(m, bool), excluded=np.zeros(m, bool), capacity=None,
                   deadline=time.perf_counter() + 60)


# seeds whose LP bound rounded up is below the optimum: the local search cover needs the tree's proof
@pytest.mark.parametrize("seed", [0, 6, 10])
def test_set_covering_branch_and_bound_route_is_exact(seed):
    D, cut = _clustered(seed)
    A = sp.csr_array((D <= cut).astype(float))
    r = SetCovering(cutoff_m=cut).solve(D)
    assert r.objective == milp_cover(A)
    assert r.status == "optimal" and r.gap == 0 and r.bound == r.objective
    assert r.method == "local_search+branch_and_bound" and r.info["bb_nodes"] >= 1
    assert np.ceil(r.info["lp_bound"] - 1e-6) < r.objective  # the LP bound alone does not prove it
    assert (A[:, [int(s) for s in r.new]].sum(axis=1) > 0).all()


@pytest.mark.parametrize("seed", [0, 6])
def test_set_covering_hands_the_question_to_the_mip_when_the_tree_gives_up(monkeypatch, seed):
    """No CPU budget for the tree: HiGHS's MIP (dual rows, then the LP's rows) answers the
    same question, still exactly (scipy's MILP on the whole matrix)."""
    import careplan.locate._models as models

    monkeypatch.setattr(models, "BB_CPU_S", -1.0)
    D, cut = _clustered(seed)
    A = sp.csr_array((D <= cut).astype(float))
    r = SetCovering(cutoff_m=cut).solve(D)
    assert r.objective == milp_cover(A) and r.status == "optimal" and r.bound == r.objective
    assert r.method == "local_search+mip" and r.info["mip_rounds"] >= 1
    assert r.info["bb_gave_up_at"] == np.ceil(r.info["lp_bound"] - 1e-6)


def _subsets(m, r):
    """Rows = every r-subset of m columns (a row is covered by any of its r columns)."""
    rows = list(itertools.combinations(range(m), r))
    A = np.zeros((len(rows), m))
    for i, c in enumerate(rows):
        A[i, list(c)] = 1.0
    return sp.csr_array(A)


def _brute_cover(A) -> int:
    """Fewest columns covering every row, by trying every column subset in order of size."""
    Ad = A.toarray() > 0
    for k in range(1, Ad.shape[1] + 1):
        if any(Ad[:, list(c)].any(axis=1).all() for c in itertools.combinations(range(Ad.shape[1]), k)):
            return k
    raise AssertionError("some row has no column")


def test_cover_at_most_on_every_3_subset_of_6_sites_by_hand():
    """By hand: 3 sites leave the other three, a row, uncovered; any 4 leave only 2 out, so
    every 3-subset meets them: the optimum is 4. x = 1/3 everywhere covers every row at LP
    value 2, so the LP bound (2) is two sites short and only the tree proves 4."""
    from scipy.optimize import linprog

    A = _subsets(6, 3)
    assert _brute_cover(A) == 4
    lp = linprog(np.ones(6), A_ub=-A.toarray(), b_ub=-np.ones(A.shape[0]), bounds=(0, 1), method="highs")
    assert lp.fun == pytest.approx(2.0)
    one = np.zeros(A.shape[0], dtype=bool)
    one[0] = True  # the LP starts from one row: the rows its solutions leave uncovered join
    for t in (2, 3):
        r = cover_at_most(A, t, rows=one)
        assert r.status == "infeasible" and r.x is None and r.nodes > 1 and r.rows > 1
    r = cover_at_most(A, 4, rows=one)
    assert r.status == "found" and r.x.sum() == 4 and (A @ r.x.astype(float) > 0).all()
    assert cover_at_most(A, 0).status == "infeasible"
    assert cover_at_most(A, 4, deadline=time.perf_counter() - 1).status == "time_limit"
    assert cover_at_most(A, 4, cpu_deadline=time.process_time() - 1).status == "budget"


@pytest.mark.parametrize("seed", range(4))
def test_cover_at_most_equals_brute_force(seed):
    """Small clustered instances (14 sites): "at most t" is found exactly from the brute-force optimum on."""
    D, cut = _clustered(seed, n=60, m=14, side_m=2000.0, sd_m=300.0, cutoff_m=600.0)
    A = sp.csr_array((D <= cut).astype(float))
    opt = _brute_cover(A)
    for t in range(max(opt - 2, 0), opt + 2):
        r = cover_at_most(A, t)
        assert r.status == ("found" if t >= opt else "infeasible")
        if r.x is not None:
            assert opt <= r.x.sum() <= t and (A @ r.x.astype(float) > 0).all()


def test_set_covering_raises_the_bound_one_site_at_a_time(monkeypatch):
    """Every 3-subset of 7 sites: optimum 5 (by hand as above: 4 sites leave 3 out), LP 7/3.
    The route refutes 3 and 4 sites in turn; if the clock stops the second question, the
    first refutation still stands as the proven bound."""
    import careplan.locate._models as models

    A = _subsets(7, 3)
    assert _brute_cover(A) == 5
    D = np.where(A.toarray() > 0, 1.0, 3.0)
    r = SetCovering(cutoff_m=2.0).solve(D)
    assert r.objective == 5 == r.bound and r.status == "optimal"
    assert r.method == "local_search+branch_and_bound" and r.info["bb_targets"] == 2
    assert r.info["lp_bound"] == pytest.approx(7 / 3)

    real = models.cover_at_most
    asked = []

    def stop_at_4(A, t, **kw):
        asked.append(t)
        return real(A, t, **kw) if t < 4 else real(A, t, deadline=time.perf_counter() - 1)

    monkeypatch.setattr(models, "cover_at_most", stop_at_4)
    r = SetCovering(cutoff_m=2.0).solve(D)
    assert asked == [3, 4] and r.status == "time_limit" and r.bound == 4 and r.objective == 5
    assert r.covered.all()


def test_cover_lp_duals_carry_the_bound():
    D, cut = _clustered(0)
    A = sp.csr_array((D <= cut).astype(float))
    lp = cover_lp(A, batch=50, n_seed=20)
    assert lp.complete and lp.rounds > 1
    # LP duality: the duals of the rows in the final LP sum to its value; rows left out have none
    assert lp.dual.sum() == pytest.approx(lp.objective, rel=1e-7)
    assert (lp.dual >= 0).all() and not lp.dual[~lp.active].any()
    assert (A.T @ lp.dual <= 1 + 1e-7).all()  # dual feasible for the whole matrix: a valid bound


def test_cover_mip_row_generation_from_one_row():
    """From a single row, the rounds add uncovered rows until the answer holds for every row."""
    D, cut = _clustered(6)
    A = sp.csr_array((D <= cut).astype(float))
    opt = milp_cover(A)
    one = np.zeros(A.shape[0], dtype=bool)
    one[0] = True
    x, lb, status = _cover_mip(A, one, _problem(A.shape[1]), max_sites=opt - 1)
    assert status == "infeasible" and x is None and lb == np.inf
    info = {}
    x, lb, status = _cover_mip(A, one, _problem(A.shape[1]), max_sites=opt, info=info)
    assert status == "optimal" and x.sum() == opt == lb and info["mip_rounds"] > 1
    assert (A @ x.astype(float) > 0).all()
    # the rows of the first round's fallback join after the first round that misses rows
    info = {}
    x, _, status = _cover_mip(A, one, _problem(A.shape[1]), max_sites=opt,
                              more_rows=np.ones(A.shape[0], dtype=bool), info=info)
    assert status == "optimal" and x.sum() == opt and info["mip_rows"] == A.shape[0]


def test_set_covering_proves_each_connected_component_alone():
    """Three clustered instances far apart (a city's neighbourhoods): the optimum is the sum
    of theirs (scipy's MILP on each block and on the whole matrix), proven by component."""
    blocks = [_clustered(s)[0] for s in (0, 6, 10)]
    cut = _clustered(0)[1]
    n, m = sum(b.shape[0] for b in blocks), sum(b.shape[1] for b in blocks)
    D = np.full((n, m), 1e9)
    i = j = 0
    for b in blocks:
        D[i:i + b.shape[0], j:j + b.shape[1]] = b
        i, j = i + b.shape[0], j + b.shape[1]
    A = sp.csr_array((D <= cut).astype(float))
    r = SetCovering(cutoff_m=cut).solve(D)
    opt = sum(milp_cover(sp.csr_array((b <= cut).astype(float))) for b in blocks)
    assert r.objective == opt == milp_cover(A)
    assert r.status == "optimal" and r.bound == r.objective
    assert r.info["bb_components"] >= 3 and r.info["bb_components_searched"] >= 1
    assert (A[:, [int(s) for s in r.new]].sum(axis=1) > 0).all()
