"""City-scale regressions found running the 1M-node plan (issue 15.1)."""

from __future__ import annotations

import inspect
import sys

import numpy as np
import scipy.sparse as sp

from careplan.locate._cover_bb import cover_at_most


def _triangles(k: int) -> sp.csr_array:
    """k disjoint triangles: rows = edges, columns = vertices. Each triangle's LP is 1.5
    (every vertex 0.5), its smallest cover 2 vertices: the branch and bound fixes one
    column per level, k levels deep."""
    rows, cols = [], []
    for i in range(k):
        a, b, c = 3 * i, 3 * i + 1, 3 * i + 2
        for r, (u, v) in enumerate(((a, b), (b, c), (a, c))):
            rows += [3 * i + r, 3 * i + r]
            cols += [u, v]
    return sp.csr_array((np.ones(len(rows)), (rows, cols)), shape=(3 * k, 3 * k))


def test_set_cover_branch_and_bound_deeper_than_the_recursion_limit():
    """The 1M-node city's set covering (~2,700 sites) stopped with RecursionError in the
    depth-first search; here the limit is lowered so 200 levels exceed it. The cover
    found is checked by hand: every row covered, 2 vertices per triangle (the optimum:
    one vertex leaves an edge of its triangle uncovered), and 2k - 1 is infeasible."""
    k = 200
    A = _triangles(k)
    old = sys.getrecursionlimit()
    sys.setrecursionlimit(len(inspect.stack()) + 150)
    try:
        res = cover_at_most(A, 2 * k)
        lower = cover_at_most(_triangles(3), 5)
    finally:
        sys.setrecursionlimit(old)
    assert sys.getrecursionlimit() == old
    assert res.status == "found"
    x = np.asarray(res.x, dtype=float)
    assert (A @ x >= 1).all() and x.sum() == 2 * k
    assert (x.reshape(k, 3).sum(axis=1) == 2).all()
    assert lower.status == "infeasible"
