"""Exact unicost set cover: "is there a cover with at most t sites?" by LP branch and bound.

The set-covering route (``_models._set_cover``) proves its local search cover of
``k`` sites optimal by showing that no cover has ``k - 1`` sites. On the instances
whose LP bound is more than one site below the optimum (benchmarks/README.md,
bench_locate: clustered seed 11, LP 22.33, optimum 24; uniform seed 10, LP 23.30,
optimum 25) HiGHS's MIP spends 4-7 CPU seconds on root cuts and heuristics that
cannot help a feasibility question with no answer. This search answers it with
the LP alone, the way the classic set-covering branch and bound does (Balas and
Ho 1980, "Set covering algorithms using cutting planes, heuristics, and
subgradient optimization", Math. Programming Study 12; branching on a row: one
child per column that can cover it, the earlier columns of the row excluded):

- every node solves the LP ``min 1.x, A x >= 1`` under the node's fixings on one
  HiGHS object (dual simplex, warm from the previous node's basis); its rows start
  from the caller's (the final row-generation LP's rows) and rows the node's LP
  solution leaves uncovered join for good (any row subset gives a relaxation);
- a node whose LP value exceeds ``t`` is pruned (no cover with ``t`` sites below it);
- reduced-cost fixing (e.g. Wolsey 1998, "Integer Programming", 7.1): a column at 0
  whose reduced cost lifts the LP value above ``t`` is fixed to 0 in the subtree
  (one at 1 whose reduced cost does the same is fixed to 1);
- the branching row is the uncovered row with the fewest free columns (fewest
  children), its columns tried in decreasing LP value (depth first).

Only exact statements come out: ``'found'`` with a cover of at most ``t`` columns
(checked against every row of ``A``), ``'infeasible'`` when the whole tree is
pruned (no cover with ``t`` sites exists), or ``'time_limit'``.
"""

from __future__ import annotations

import sys
import time
from dataclasses import dataclass

import highspy
import numpy as np
import scipy.sparse as sp

from careplan._errors import SolverError

from ._mip import _new_highs

__all__ = ["CoverBB", "cover_at_most"]

TOL = 1e-6  # LP values within this of t are not pruned (HiGHS's tolerances are 1e-7)
ROW_BATCH = 200  # at most this many uncovered rows join the LP per re-solve (as cover_lp)


@dataclass(frozen=True)
class CoverBB:
    """Answer of :func:`cover_at_most`.

    Attributes
    ----------
    x : ndarray of bool, shape (n_columns,), or None
        A cover of every row with at most ``t`` columns (status ``'found'``), else None.
    status : {'found', 'infeasible', 'time_limit', 'budget'}
        ``'infeasible'``: proven that no cover has ``t`` or fewer columns; ``'budget'``:
        stopped on the CPU budget (``cpu_deadline``), nothing proven.
    nodes : int
        Branch-and-bound nodes (LPs) solved.
    fixed : int
        Column fixings by reduced cost, summed over the nodes.
    rows : int
        Rows of ``A`` in the LP at the end (the rest were never uncovered by a node's LP).
    """

    x: np.ndarray | None
    status: str
    nodes: int
    fixed: int
    rows: int


class _Search:
    """One depth-first search for a cover with at most ``t`` columns (state of the tree)."""

    def __init__(self, A: sp.csr_array, t: int, rows: np.ndarray, deadline: float | None,
                 cpu_deadline: float | None):
        self.A, self.t, self.deadline, self.cpu_deadline = A, t, deadline, cpu_deadline
        n, m = A.shape
        self.lo, self.hi = np.zeros(m), np.ones(m)
        self.active = np.zeros(n, dtype=bool)
        self.nodes = self.fixed = 0
        self.stopped: str | None = None  # 'time_limit' or 'budget' once the search has to stop
        h = _new_highs(False)
        h.setOptionValue("output_flag", False)
        h.setOptionValue("simplex_strategy", 1)  # dual simplex: warm after bound changes and new rows
        h.addVars(m, np.zeros(m), np.ones(m))
        h.changeColsCost(m, np.arange(m, dtype=np.int32), np.ones(m))
        self.h = h
        self._add_rows(rows)

    def _add_rows(self, mask: np.ndarray) -> None:
        idx = np.flatnonzero(mask & ~self.active)
        if not len(idx):
            return
        self.active[idx] = True
        S = sp.csr_array(self.A[idx])
        k = S.shape[0]
        self.h.addRows(k, np.ones(k), np.full(k, highspy.kHighsInf), S.nnz, S.indptr[:-1].astype(np.int32),
                       S.indices.astype(np.int32), S.data.astype(np.float64))

    def _bounds(self, cols: np.ndarray, lo: float, hi: float) -> None:
        if len(cols):
            cols = np.asarray(cols, dtype=np.int32)
            self.lo[cols], self.hi[cols] = lo, hi
            k = len(cols)
            self.h.changeColsBounds(k, cols, np.full(k, lo), np.full(k, hi))

    def _lp(self) -> tuple[float, np.ndarray, np.ndarray] | None:
        """The node's LP over every row of A (uncovered rows join); None if infeasible."""
        h = self.h
        while True:
            if self.deadline is not None:  # HiGHS's time limit counts its run time since it was made
                h.setOptionValue("time_limit", h.getRunTime() + max(self.deadline - time.perf_counter(), 0.01))
            h.run()
            ms = h.getModelStatus()
            if ms == highspy.HighsModelStatus.kInfeasible:
                return None
            if ms == highspy.HighsModelStatus.kTimeLimit:
                self.stopped = "time_limit"
                return None
            if ms != highspy.HighsModelStatus.kOptimal:
                raise SolverError(f"HiGHS did not finish a set-covering LP in the branch and bound "
                                  f"(status: {h.modelStatusToString(ms)}); please report this with the input.")
            sol = h.getSolution()
            x = np.asarray(sol.col_value, dtype=float)
            cov = self.A @ x
            new = (cov < 1.0 - 1e-7) & ~self.active
            if not new.any():
                return float(h.getInfo().objective_function_value), x, np.asarray(sol.col_dual, dtype=float)
            idx = np.flatnonzero(new)
            batch = np.zeros_like(new)
            batch[idx[np.argsort(cov[idx], kind="stable")[:ROW_BATCH]]] = True
            self._add_rows(batch)

    def node(self) -> np.ndarray | None:
        """Depth-first search below the current fixings; a cover with <= t columns or None."""
        if self.deadline is not None and time.perf_counter() > self.deadline:
            self.stopped = "time_limit"
            return None
        if self.cpu_deadline is not None and time.process_time() > self.cpu_deadline:
            self.stopped = "budget"
            return None
        self.nodes += 1
        out = self._lp()
        if out is None:
            return None
        z, x, d = out
        t = self.t
        if z > t + TOL:
            return None
        free = (self.lo < 0.5) & (self.hi > 0.5)
        # reduced-cost fixing: moving such a column off its bound lifts the LP value above t
        to0 = np.flatnonzero(free & (x < 1e-9) & (z + d > t + TOL))
        to1 = np.flatnonzero(free & (x > 1 - 1e-9) & (z - d > t + TOL))
        self._bounds(to0, 0.0, 0.0)
        self._bounds(to1, 1.0, 1.0)
        self.fixed += len(to0) + len(to1)
        try:
            xb = x > 0.5
            if np.all(np.abs(x - xb) < 1e-9) and (self.A @ xb.astype(float) > 0.5).all():
                return xb
            return self._branch(x)
        finally:
            self._bounds(to0, 0.0, 1.0)
            self._bounds(to1, 0.0, 1.0)

    def _branch(self, x: np.ndarray) -> np.ndarray | None:
        A = self.A
        uncovered = A @ (self.lo > 0.5).astype(float) < 0.5
        free = (self.lo < 0.5) & (self.hi > 0.5)
        nfree = A @ free.astype(float)
        cand = np.flatnonzero(uncovered)
        if not len(cand):  # the columns fixed to 1 cover every row (the LP would have said so)
            ones = self.lo > 0.5
            return ones if ones.sum() <= self.t else None
        # fewest free columns first, then the row the LP covers least
        i = cand[np.lexsort(((A @ x)[cand], nfree[cand]))[0]]
        cols = A.indices[A.indptr[i]:A.indptr[i + 1]]
        cols = cols[free[cols]]
        cols = cols[np.argsort(-x[cols], kind="stable")]
        done: list[int] = []
        found = None
        for j in cols:  # child: column j covers row i, the columns tried before it are out
            self._bounds(np.array([j]), 1.0, 1.0)
            found = self.node()
            self._bounds(np.array([j]), 0.0, 0.0)
            done.append(j)
            if found is not None or self.stopped:
                break
        self._bounds(np.array(done, dtype=np.int64), 0.0, 1.0)
        return found


def cover_at_most(A: sp.csr_array, t: int, *, rows: np.ndarray | None = None,
                  deadline: float | None = None, cpu_deadline: float | None = None) -> CoverBB:
    """Find a cover of every row of ``A`` with at most ``t`` columns, or prove there is none.

    Parameters
    ----------
    A : scipy.sparse.csr_array of shape (n_rows, n_columns)
        0/1 coverage matrix (row i is covered by column j where ``A[i, j] = 1``); every
        row has at least one column.
    t : int
        Largest number of columns allowed.
    rows : ndarray of bool, shape (n_rows,), optional
        Rows the LP starts with (default: all). Rows a node's LP solution leaves
        uncovered join, so the answer holds for every row of ``A`` either way.
    deadline : float, optional
        ``time.perf_counter()`` value at which the search stops (status ``'time_limit'``).
    cpu_deadline : float, optional
        ``time.process_time()`` value (CPU seconds of the process) at which the search
        gives up (status ``'budget'``), so that a caller can hand the question to
        another method: CPU, not wall time, so that the switch does not depend on the
        machine's load.

    Returns
    -------
    CoverBB
        The cover found or the proof that none exists (see the module docstring for the
        method and its sources).

    Raises
    ------
    SolverError
        If HiGHS fails on a node LP for another reason than infeasibility or the time limit.
    """
    A = sp.csr_array(A)
    n, m = A.shape
    if t < 0 or (t == 0 and n):
        return CoverBB(None, "infeasible", 0, 0, 0)
    s = _Search(A, t, np.ones(n, dtype=bool) if rows is None else np.asarray(rows, dtype=bool), deadline,
                cpu_deadline)
    # the depth-first search recurses two frames per column fixed to 1 (at most t): a city's
    # cover (~2,700 sites of 5,000) is deeper than Python's default limit of 1,000
    limit = sys.getrecursionlimit()
    sys.setrecursionlimit(limit + 2 * (min(t, m) + 1))
    try:
        x = s.node()
    finally:
        sys.setrecursionlimit(limit)
    rows_in_lp = int(s.active.sum())
    if x is not None:
        if not (A @ x.astype(float) > 0.5).all() or x.sum() > t:  # the node returns only such covers
            raise SolverError("the set-covering branch and bound returned a solution that is not a cover "
                              f"with at most {t} sites; please report this with the input.")
        return CoverBB(x, "found", s.nodes, s.fixed, rows_in_lp)
    return CoverBB(None, s.stopped or "infeasible", s.nodes, s.fixed, rows_in_lp)
