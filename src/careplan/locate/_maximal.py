"""The maximal covering location model (MCLP) and its local search steps."""

from __future__ import annotations

import time
from dataclasses import InitVar, dataclass
from typing import ClassVar

import numpy as np
import scipy.sparse as sp

from . import _heuristics as H
from ._assign import AssignSpec, assign_mip
from ._base import LocationModel, OldName, Problem, RawSolution, nearest_assignment
from ._check import Solution
from ._covering import cover_search
from ._mip import solve_mip
from ._models import _check_secondary, _least_cost_second, _ls_budget, _pad
from ._reduce import binary, collapse_rows, dominated_columns, submatrix

__all__ = ["MaximalCovering"]


@dataclass
class MaximalCovering(LocationModel):
    """Maximal covering (MCLP): ``p`` NEW sites maximising the weight within ``cutoff_m``.

    Existing sites are open in addition to the ``p`` new ones and their coverage
    counts. The objective is the total covered weight. With ``capacity`` a covered
    demand is served whole by one open site within the cutoff (split over several
    with ``split_demand=True``).

    Parameters
    ----------
    p : int
        Number of new sites (existing sites are extra).
    cutoff_m : float
        Service cutoff in the unit of the cost (e.g. walking metres). (Old name
        ``radius``: deprecated.)
    radius : float, optional
        Deprecated name of ``cutoff_m`` (DeprecationWarning).
    secondary : {None, 'cost'}, default None
        ``'cost'``: among the solutions covering the most weight, return one with the
        least total weighted cost of the covered demands (ArcGIS's tie-break);
        ``info['total_cost']`` reports it.
    """

    p: int
    cutoff_m: float | None = None
    secondary: str | None = None
    radius: InitVar[float | None] = OldName("cutoff_m")

    model_name: ClassVar[str] = "MaximalCovering"
    sense: ClassVar[str] = "max"
    serves_all: ClassVar[bool] = False

    def __post_init__(self, *old: float | None) -> None:
        super().__post_init__(*old)
        _check_secondary(self)

    def evaluate(self, solution: Solution) -> float:
        """Covered weight: the weight of the demands served within the cutoff.

        Parameters
        ----------
        solution : Solution
            A candidate solution: open sites and the assignment of the demands
            (shares when demand is split).

        Returns
        -------
        float
            The model's objective for ``solution``, recomputed from the cost matrix
            (units of the cost or the weights, as the summary says).
        """
        share = np.bincount(solution.flow_pairs()[0], weights=solution.flow_pairs()[2],
                            minlength=len(solution.assign))
        return float(np.dot(solution.weights, share))

    def _solve(self, prob: Problem) -> RawSolution:
        if prob.capacity is not None:
            raw = assign_mip(prob, AssignSpec("cover", p=self.p, cutoff=self.cutoff_m, serve_all=False,
                                              name="capacitated maximal covering"),
                             mip_gap=self.mip_gap, verbose=bool(self.verbose))
        else:
            raw = self._uncapacitated(prob)
        if self.secondary == "cost":
            raw = _least_cost_second(self, prob, raw, p=self.p)
        return raw

    def _uncapacitated(self, prob: Problem) -> RawSolution:
        t0 = time.perf_counter()
        data = prob.data
        w = data.weights
        need = w > 0
        ok = ~prob.excluded
        A_all, rows, cols = submatrix(data.matrix, need, ok, data.matrix.data <= self.cutoff_m)
        A_all = binary(A_all)
        ex_c = prob.existing[cols]
        by_ex = np.asarray((A_all @ ex_c.astype(float)) > 0).ravel()
        deg = np.diff(A_all.indptr)
        todo = ~by_ex & (deg > 0)
        free_c = ~ex_c
        A, arows, fcols = submatrix(A_all, todo, free_c)
        wa = w[rows[arows]]
        const = float(w[rows[by_ex]].sum())
        info = {"n_demand_open": int(A.shape[0])}
        chosen = np.zeros(A.shape[1], dtype=bool)
        p = self.p
        status, bound, method, solve_t = "optimal", const, "none", 0.0
        if A.shape[0] and p > 0:
            A, wa, _ = collapse_rows(A, wa)
            dom = dominated_columns(A)
            kcols = np.flatnonzero(~dom)
            Ak, _, _ = submatrix(A, np.ones(A.shape[0], bool), ~dom)
            nr, nk = Ak.shape
            info.update(n_unique_demand=int(nr), n_candidates_kept=int(nk), n_dominated=int(dom.sum()))
            # greedy start
            g = _greedy_mclp(Ak, wa, min(p, nk))
            build = time.perf_counter() - t0
            t0 = time.perf_counter()
            total = float(wa.sum())  # every coverable demand covered: a trivial upper bound
            g2, gval = g, float(wa[np.asarray(Ak @ g.astype(float)).ravel() > 0].sum())
            if int(g.sum()) == p and p < nk and gval < total - 1e-9:
                # row-weighting local search, then best-improvement swaps on the real weights
                budget = _ls_budget(prob)
                ls, unc, steps = cover_search(Ak, wa, g, size=p, lower_bound=0.0, time_limit_s=budget,
                                              max_steps=int(np.clip(5 * (nr + nk), 1000, MCLP_LS_STEPS)),
                                              seed=0)
                info["local_search_steps"] = steps
                if total - unc > gval:
                    g2, gval = ls, total - unc
                if gval < total - 1e-9:
                    g2, gval = H.mclp_interchange(sp.csc_array(Ak), wa, g2, target=total,
                                                  time_limit_s=prob.remaining())
            if gval >= total - 1e-9:
                sol = g2
                status, bound, method = "optimal", total + const, "greedy+local_search"
            elif self.method == "heuristic":
                sol = g2
                status, bound, method = "heuristic", total + const, "greedy+local_search"
            else:
                # vars: y (nk, binary) then z (nr, continuous in [0,1]); max w.z
                # z_i - sum_{j in N_i} y_j <= 0 ; sum y <= p
                Z = sp.csr_array((np.ones(nr), np.arange(nr), np.arange(nr + 1)), shape=(nr, nr))
                top = sp.hstack([-Ak, Z], format="csc")
                card = sp.csc_array(np.concatenate((np.ones(nk), np.zeros(nr)))[None, :])
                M = sp.vstack([top, card], format="csc")
                c = np.concatenate((np.zeros(nk), wa))
                zst = np.minimum(Ak @ g2.astype(float), 1.0)
                # with a time limit the MIP gets three quarters of it: if it stops with a
                # gap, the rest goes to the local search + swaps from its best solution
                # (no gain measured yet: on a 5,000 x 1,000, p=30 case neither HiGHS nor
                # the search improved on the start, see benchmarks/README.md)
                rem = prob.remaining()
                res = solve_mip(c, M, np.full(nr + 1, -np.inf), np.concatenate((np.zeros(nr), [p])),
                                np.zeros(nk + nr), np.ones(nk + nr),
                                np.concatenate((np.ones(nk, bool), np.zeros(nr, bool))), maximize=True,
                                time_limit_s=None if rem is None else 0.75 * rem, mip_gap=self.mip_gap,
                                start=np.concatenate((g2.astype(float), zst)), verbose=bool(self.verbose))
                sol = res.x[:nk] > 0.5
                sval = float(wa[np.asarray(Ak @ sol.astype(float)).ravel() > 0].sum())
                if sval < gval:
                    sol, sval = g2, gval  # HiGHS stopped (time limit) below the start
                status, bound, method = res.status, res.bound + const, "mip"
                if res.status == "time_limit" and prob.remaining() > 0.05:
                    sol, sval, steps = _mclp_polish(Ak, wa, sol, p, res.bound, prob)
                    info["polish_steps"] = steps
                    method = "mip+local_search"
                    if sval >= res.bound - self.mip_gap * max(abs(res.bound), 1.0):
                        status = "optimal"
            chosen[kcols[sol]] = True
            solve_t = time.perf_counter() - t0
        else:
            build = time.perf_counter() - t0
        is_open = prob.existing.copy()
        is_open[cols[fcols[chosen]]] = True
        _pad(is_open, prob, self.p)
        assign = nearest_assignment(data, is_open, self.cutoff_m)
        obj = float(w[assign >= 0].sum())
        if method == "none":
            bound = obj
        return RawSolution(is_open, assign, obj, bound, status, method, solve_t, build, info)


def _mclp_polish(A: sp.csr_array, w: np.ndarray, sol: np.ndarray, p: int, bound: float,
                 prob: Problem) -> tuple[np.ndarray, float, int]:
    """Local search, then swaps, from a maximal covering solution for the time that is left.

    Stops early if the covered weight reaches ``bound`` (the MIP's proven bound).
    Returns (column mask, covered weight, search steps).
    """
    total = float(w.sum())
    start = sol.copy()
    start[np.flatnonzero(~start)[:max(p - int(start.sum()), 0)]] = True  # the MIP may open fewer than p
    val = float(w[np.asarray(A @ start.astype(float)).ravel() > 0].sum())
    rem = prob.remaining()
    ls, unc, steps = cover_search(A, w, start, size=p, lower_bound=max(total - bound, 0.0),
                                  time_limit_s=0.8 * rem, seed=1)
    if total - unc > val:
        start, val = ls, total - unc
    return (*H.mclp_interchange(sp.csc_array(A), w, start, target=bound, time_limit_s=prob.remaining()), steps)


MCLP_LS_STEPS = 20_000  # at most this many local search steps before the maximal covering MIP


def _greedy_mclp(A: sp.csr_array, w: np.ndarray, p: int) -> np.ndarray:
    csc = sp.csc_array(A)
    nr, nk = A.shape
    cov = np.zeros(nr, dtype=bool)
    gain = np.asarray(csc.T @ w).ravel() if nr else np.zeros(nk)
    chosen = np.zeros(nk, dtype=bool)
    for _ in range(p):
        gg = np.where(chosen, -1.0, gain)
        j = int(np.argmax(gg))
        if gg[j] < 0:
            break
        chosen[j] = True
        r = csc.indices[csc.indptr[j]:csc.indptr[j + 1]]
        newly = r[~cov[r]]
        cov[newly] = True
        if len(newly):
            sub = A[newly]
            np.subtract.at(gain, sub.indices, np.repeat(w[newly], np.diff(sub.indptr)))
    return chosen

