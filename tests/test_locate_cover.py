"""Set covering's exact route (issue 13 item 8): LP duals, the "one site fewer" MIP over
the rows that carry the LP bound, and its row generation, against scipy's own MILP
interface on the whole coverage matrix and against LP duality."""

from __future__ import annotations

import time

import numpy as np
import pytest
import scipy.sparse as sp
from conftest import milp_cover

from careplan.locate import SetCovering
from careplan.locate._base import Problem
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


# seed 0: the local search cover is proven by one MIP round over the dual rows;
# seed 6: that round finds a smaller cover of those rows that misses others, so the LP's rows join
@pytest.mark.parametrize(("seed", "rounds"), [(0, 1), (6, 2)])
def test_set_covering_mip_route_is_exact(seed, rounds):
    D, cut = _clustered(seed)
    A = sp.csr_array((D <= cut).astype(float))
    r = SetCovering(cutoff_m=cut).solve(D)
    assert r.objective == milp_cover(A)
    assert r.status == "optimal" and r.gap == 0 and r.bound == r.objective
    assert r.method == "local_search+mip" and r.info["mip_rounds"] == rounds
    assert r.info["lp_bound"] < r.objective - 0.5  # the LP bound alone does not prove it
    assert (A[:, [int(s) for s in r.new]].sum(axis=1) > 0).all()


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
