"""p-center: the largest cost from a demand to its site, minimised (capacitated or not)."""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import ClassVar

import numpy as np
import scipy.sparse as sp

from careplan._errors import InfeasibleError, SolverError

from . import _heuristics as H
from ._assign import AssignSpec, assign_mip, unreachable_error
from ._base import LocationModel, Problem, RawSolution, nearest_assignment
from ._check import Solution, nearest_open
from ._covering import cover_search
from ._mip import cover_lp
from ._models import _cover_mip, _ls_budget, _pad
from ._reduce import binary, collapse_rows, greedy_cover, reduce_cover, submatrix

__all__ = ["PCenter"]


@dataclass
class PCenter(LocationModel):
    """p-center: ``p`` NEW sites minimising the largest cost from a demand to its nearest open site.

    Unweighted: weights only select which demands count (weight > 0). Solved
    exactly by bisection over the distinct costs, each step a set-covering MIP
    ("can p new sites cover every demand within r?"), started from a
    farthest-first heuristic. Existing sites stay open in addition.

    With ``capacity`` (capacitated p-center, spopt issue #415) each step asks
    whether ``p`` new sites can serve every demand within ``r`` without exceeding
    the capacities (each demand whole, or split over several sites with
    ``split_demand=True``; the objective is then the largest cost of any serving pair).

    Parameters
    ----------
    p : int
        Number of new sites (existing sites are extra).
    """

    p: int

    model_name: ClassVar[str] = "PCenter"

    def evaluate(self, solution: Solution) -> float:
        """Largest cost from a demand with weight > 0 to a site serving it (0 if none).

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
        d = solution.max_assigned_cost()[solution.need & solution.served]
        return float(d.max()) if len(d) else 0.0

    def _solve(self, prob: Problem) -> RawSolution:
        if prob.capacity is not None:
            return _capacitated_pcenter(self, prob)
        t0 = time.perf_counter()
        data = prob.data
        need = data.weights > 0
        S, cols = _reachable(prob)
        Sc = sp.csc_array(S)
        Sc.sort_indices()
        fixed = prob.existing[cols]
        p = self.p
        build = time.perf_counter() - t0
        t1 = time.perf_counter()
        info: dict = {}
        if S.shape[0] == 0:
            heur = fixed.copy()
            values = np.array([0.0])
            hi = 0
        else:
            rowmin = np.minimum.reduceat(S.data, S.indptr[:-1])
            lb0 = float(rowmin.max())
            heur = _farthest_first(S, Sc, fixed, p)
            ub0 = float(H.nearest_two(S.indptr, S.indices, S.data, heur)[0].max())
            values = np.unique(S.data)
            values = values[(values >= lb0) & (values <= ub0)] if np.isfinite(ub0) else values[values >= lb0]
            hi = len(values) - 1
        best = heur
        lo = 0
        proven_lo = 0
        status = "optimal"
        steps = 0
        if S.shape[0] and not np.isfinite(float(H.nearest_two(S.indptr, S.indices, S.data, heur)[0].max())):
            feas, sol, proven = self._cover(S, fixed, values[hi], p, prob)
            steps += 1
            if not feas:
                raise InfeasibleError(f"p={p} new sites cannot reach every demand even at the largest cost; "
                                      "raise p or add candidates near the unreached demands.")
            best = sol
        while lo < hi:
            mid = (lo + hi) // 2
            feas, sol, proven = self._cover(S, fixed, values[mid], p, prob)
            steps += 1
            if feas:
                hi = mid
                best = sol
            else:
                lo = mid + 1
                if proven and proven_lo == mid:
                    proven_lo = mid + 1
                elif not proven:
                    status = "time_limit"
        info["bisection_steps"] = steps
        is_open = prob.existing.copy()
        is_open[cols[best]] = True
        _pad(is_open, prob, p)
        assign = nearest_assignment(data, is_open)
        d1, _ = nearest_open(data, is_open)
        obj = float(d1[need].max()) if need.any() else 0.0
        bound = float(values[min(proven_lo, len(values) - 1)]) if status != "optimal" else obj
        return RawSolution(is_open, assign, obj, bound, status, "bisection+mip", time.perf_counter() - t1,
                           build, info)

    def _cover(self, S, fixed, r, p, prob):
        """Can ``p`` new sites (plus the fixed ones) cover every row within ``r``?"""
        A_all, _, _ = submatrix(S, np.ones(S.shape[0], bool), np.ones(S.shape[1], bool), S.data <= r)
        A_all = binary(A_all)
        by_fixed = np.asarray(A_all @ fixed.astype(float)).ravel() > 0
        A, _, fcols = submatrix(A_all, ~by_fixed, ~fixed)
        open_ = fixed.copy()
        if A.shape[0] == 0:
            return True, open_, True
        if (np.diff(A.indptr) == 0).any():
            return False, None, True
        A, _, _ = collapse_rows(A, np.ones(A.shape[0]))
        g = greedy_cover(A)
        if g.sum() <= p:
            open_[fcols[g]] = True
            return True, open_, True
        if p == 0:
            return False, None, True
        Ak, _, kcols = reduce_cover(A)
        nk = Ak.shape[1]
        # the local search often finds a cover with p columns, which settles the question
        g = greedy_cover(Ak)
        ls, size, _ = cover_search(Ak, None, g, lower_bound=p, time_limit_s=min(0.5, _ls_budget(prob)),
                                   max_steps=int(np.clip(10 * (Ak.shape[0] + nk), 1000, 50_000)))
        if size <= p:
            open_[fcols[kcols[ls]]] = True
            return True, open_, True
        # the LP bound may already need more than p sites; otherwise a MIP with at most
        # p columns over the LP's rows, adding rows its solution leaves uncovered
        lp = cover_lp(Ak, time_limit_s=prob.remaining())
        if np.ceil(lp.objective - 1e-6) > p:
            return False, None, True
        x, _, status = _cover_mip(Ak, lp.active, prob, max_sites=p, verbose=bool(self.verbose))
        if status == "infeasible":
            return False, None, True
        if x is not None:
            open_[fcols[kcols[x]]] = True
            return True, open_, True
        return False, None, False


def _farthest_first(S, Sc, fixed, p):
    is_open = fixed.copy()
    d1 = H.nearest_two(S.indptr, S.indices, S.data, is_open)[0]
    for _ in range(p):
        i = int(np.argmax(d1))
        ent = slice(S.indptr[i], S.indptr[i + 1])
        cj = S.indices[ent]
        ok = ~is_open[cj]
        if ok.any():
            j = int(cj[ok][np.argmin(S.data[ent][ok])])
        else:
            rest = np.flatnonzero(~is_open)
            if not len(rest):
                break
            j = int(rest[0])
        is_open[j] = True
        col = slice(Sc.indptr[j], Sc.indptr[j + 1])
        np.minimum.at(d1, Sc.indices[col], Sc.data[col])
    return is_open


def _reachable(prob: Problem) -> tuple[sp.csr_array, np.ndarray]:
    """Costs from the demands with weight > 0 to the allowed sites, and the sites' columns.

    Raises :class:`InfeasibleError` naming the demands no allowed site reaches.
    """
    S, rows, cols = submatrix(prob.data.matrix, prob.data.weights > 0, ~prob.excluded)
    deg = np.diff(S.indptr)
    if (deg == 0).any():
        raise unreachable_error(prob, rows[deg == 0], "is reachable")
    return S, cols


def _capacitated_pcenter(model: PCenter, prob: Problem) -> RawSolution:
    """Bisection over the distinct costs; each step a capacitated assignment feasibility MIP."""
    t0 = time.perf_counter()
    data = prob.data
    S, _ = _reachable(prob)
    if S.shape[0] == 0:
        is_open = prob.existing.copy()
        _pad(is_open, prob, model.p)
        return RawSolution(is_open, nearest_assignment(data, is_open), 0.0, 0.0, "optimal", "trivial",
                           0.0, time.perf_counter() - t0)
    values = np.unique(S.data)
    values = values[values >= float(np.minimum.reduceat(S.data, S.indptr[:-1]).max())]
    build = time.perf_counter() - t0
    t1 = time.perf_counter()

    def feasible(r: float) -> RawSolution | None:
        spec = AssignSpec("none", p=model.p, cutoff=float(r), name="capacitated p-center")
        try:
            return assign_mip(prob, spec, mip_gap=model.mip_gap, verbose=bool(model.verbose))
        except InfeasibleError:
            return None

    best = feasible(values[-1])
    if best is None:
        raise InfeasibleError(
            f"the capacitated p-center is infeasible: p={model.p} new sites with these capacities cannot serve "
            f"every demand ({'split' if prob.split else 'whole'}) even at the largest cost. Raise p or the "
            "capacities, add candidates" + ("" if prob.split else ", or allow split_demand=True") + ".")
    lo, hi, steps, status = 0, len(values) - 1, 1, "optimal"
    while lo < hi:
        mid = (lo + hi) // 2
        try:
            sol = feasible(values[mid])
        except SolverError:  # time limit inside a step: the answer is not proven below values[hi]
            status = "time_limit"
            break
        steps += 1
        if sol is not None and sol.status == "optimal":
            hi, best = mid, sol
        elif sol is None:
            lo = mid + 1
        else:
            status = "time_limit"
            break
    sol = Solution(data, best.is_open, best.assign, prob.existing, prob.excluded, prob.capacity, best.flow)
    obj = model.evaluate(sol)
    bound = obj if status == "optimal" else float(values[lo])
    return RawSolution(best.is_open, best.assign, obj, bound, status, "bisection+mip", time.perf_counter() - t1,
                       build, {"bisection_steps": steps}, flow=best.flow)
