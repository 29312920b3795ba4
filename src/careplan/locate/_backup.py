"""Backup covering (LSCP-B / BACOP) and weighted set covering (a cost per site)."""

from __future__ import annotations

import time
from dataclasses import InitVar, dataclass
from typing import Any, ClassVar

import numpy as np
import scipy.sparse as sp

from careplan._errors import InfeasibleError

from ._assign import AssignSpec, assign_mip, unreachable_error
from ._base import (
    LocationModel,
    LocationResult,
    OldName,
    Problem,
    RawSolution,
    nearest_assignment,
)
from ._check import Solution
from ._cost import per_candidate
from ._mip import solve_mip
from ._models import SetCovering
from ._reduce import binary, collapse_rows, submatrix

__all__ = ["BackupCovering", "WeightedSetCovering"]


def _within_free(prob: Problem, cutoff: float) -> tuple[sp.csr_array, np.ndarray, np.ndarray, np.ndarray]:
    """Binary coverage of the demands with weight > 0 by the allowed sites within ``cutoff``.

    Returns (A over free sites, rows, free columns, number of existing sites covering each row).
    """
    data = prob.data
    need = data.weights > 0
    A_all, rows, cols = submatrix(data.matrix, need, ~prob.excluded, data.matrix.data <= cutoff)
    A_all = binary(A_all)
    n_ex = np.asarray(A_all @ prob.existing[cols].astype(float)).ravel()
    A, _, fcols = submatrix(A_all, np.ones(len(rows), bool), ~prob.existing[cols])
    return A, rows, cols[fcols], n_ex


@dataclass
class BackupCovering(LocationModel):
    """Backup covering: every demand covered once, as much weight as possible covered twice.

    Maximises the weight of the demands with at least two open sites within
    ``cutoff_m`` (a backup when the nearest station is full or closed) subject to
    every demand with weight > 0 having at least one (Hogan & ReVelle 1986, *Concepts
    and applications of backup coverage*, BACOP1). With ``p=None`` the number of new
    sites is the minimum that covers every demand (the set covering optimum), which is
    spopt's ``LSCPB``; with ``p`` given, exactly ``p`` new sites are opened. Existing
    sites stay open and count for both covers. Solved exactly as a HiGHS MIP.

    Parameters
    ----------
    cutoff_m : float
        Service cutoff in the unit of the cost (e.g. walking metres). (Old name ``radius``: deprecated.)
    radius : float, optional
        Deprecated name of ``cutoff_m`` (DeprecationWarning).
    p : int, optional
        Number of new sites; default the fewest that cover every demand (``info['p_used']``).
    """

    cutoff_m: float | None = None
    p: int | None = None
    radius: InitVar[float | None] = OldName("cutoff_m")

    model_name: ClassVar[str] = "BackupCovering"
    sense: ClassVar[str] = "max"
    supports_capacity: ClassVar[bool] = False
    supports_split: ClassVar[bool] = False

    def evaluate(self, solution: Solution) -> float:
        """Weight of the demands with at least two open sites within ``cutoff_m``.

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
        twice = solution.count_within(self.cutoff_m) >= 2
        return float(solution.weights[twice].sum())

    def _solve(self, prob: Problem) -> RawSolution:
        t0 = time.perf_counter()
        A, rows, fcols, n_ex = _within_free(prob, self.cutoff_m)
        w = prob.data.weights[rows]
        deg = np.diff(A.indptr)
        lone = (deg == 0) & (n_ex == 0)
        if lone.any():
            raise unreachable_error(prob, rows[lone], f"lies within cutoff_m={self.cutoff_m:g}")
        info: dict[str, Any] = {}
        p, status0 = self.p, "optimal"
        if p is None:
            sc = SetCovering(cutoff_m=self.cutoff_m, mip_gap=0.0, verbose=self.verbose)._uncapacitated(prob)
            p = int((sc.is_open & ~prob.existing).sum())
            status0 = sc.status if sc.status == "optimal" else "time_limit"
        info["p_used"] = p
        const_rows = n_ex >= 2
        const = float(w[const_rows].sum())
        todo = ~const_rows
        B0, wb0, B1, wb1 = _split_by_existing(A, w, n_ex, todo)
        nf = A.shape[1]
        r0, r1 = B0.shape[0], B1.shape[0]
        nv = nf + r0 + r1
        # rows: sum_j a_ij y_j - u_i >= 1 - e_i  (e_i = existing sites within the cutoff: 0 or 1)
        M = sp.vstack([sp.hstack([B0, -sp.eye_array(r0), sp.csr_array((r0, r1))]),
                       sp.hstack([B1, sp.csr_array((r1, r0)), -sp.eye_array(r1)]),
                       sp.csr_array(np.concatenate((np.ones(nf), np.zeros(r0 + r1)))[None, :])], format="csc")
        lo = np.concatenate((np.ones(r0), np.zeros(r1), [float(p)]))
        hi = np.concatenate((np.full(r0 + r1, np.inf), [float(p)]))
        c = np.concatenate((np.zeros(nf), wb0, wb1))
        integer = np.concatenate((np.ones(nf, bool), np.zeros(r0 + r1, bool)))
        build = time.perf_counter() - t0
        if nv == 0 or nf == 0:
            is_open = prob.existing.copy()
            if r0:
                raise InfeasibleError("backup covering: no new site can be opened but some demand has no cover.")
            obj = const
            return RawSolution(is_open, nearest_assignment(prob.data, is_open, self.cutoff_m), obj, obj,
                               "optimal", "trivial", 0.0, build, info)
        res = solve_mip(c, M, lo, hi, np.zeros(nv), np.ones(nv), integer, maximize=True,
                        time_limit_s=prob.remaining(), mip_gap=self.mip_gap, verbose=bool(self.verbose))
        if res.status == "infeasible":
            raise InfeasibleError(f"backup covering is infeasible: p={p} new sites cannot cover every demand "
                                  f"within cutoff_m={self.cutoff_m:g} once. Raise p (or leave p=None for the "
                                  "fewest that can), add candidates or raise cutoff_m.")
        is_open = prob.existing.copy()
        is_open[fcols[res.x[:nf] > 0.5]] = True
        assign = nearest_assignment(prob.data, is_open, self.cutoff_m)
        sol = Solution(prob.data, is_open, assign, prob.existing, prob.excluded)
        obj = self.evaluate(sol)
        status = res.status if status0 == "optimal" else status0
        info["n_backup_covered"] = int((sol.count_within(self.cutoff_m) >= 2)[prob.data.weights > 0].sum())
        return RawSolution(is_open, assign, obj, float(res.bound) + const, status, "mip", res.solve_time_s,
                           build, info)


def _split_by_existing(A, w, n_ex, todo):
    """Merged coverage rows (and weights) of the demands with 0 and with 1 existing site within the cutoff."""
    out = []
    for e in (0, 1):
        mask = todo & (n_ex == e)
        if mask.any():
            B, wb, _ = collapse_rows(submatrix(A, mask, np.ones(A.shape[1], bool))[0], w[mask])
        else:
            B, wb = sp.csr_array((0, A.shape[1])), np.zeros(0)
        out += [sp.csr_array(B), wb]
    return out


@dataclass
class WeightedSetCovering(LocationModel):
    """Weighted set covering: every demand within ``cutoff_m``, least total opening cost of new sites.

    Like :class:`SetCovering`, but each candidate has its own opening cost (rent,
    build cost), given to :meth:`solve` as ``opening_cost=``; existing sites are free.
    With ``capacity`` each demand is served whole by one site within the cutoff
    (split over several with ``split_demand=True``). Solved exactly as a HiGHS MIP.

    Parameters
    ----------
    cutoff_m : float
        Service cutoff in the unit of the cost (e.g. walking metres). (Old name ``radius``: deprecated.)
    radius : float, optional
        Deprecated name of ``cutoff_m`` (DeprecationWarning).
    """

    cutoff_m: float | None = None
    radius: InitVar[float | None] = OldName("cutoff_m")

    model_name: ClassVar[str] = "WeightedSetCovering"

    def evaluate(self, solution: Solution) -> float:
        """Total opening cost of the new sites.

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
        return float(solution.extra["opening_cost"][solution.is_open & ~solution.existing].sum())

    def solve(self, cost: Any, *, weights: Any = None, existing: Any = None, excluded: Any = None,
              capacity: Any = None, demand_labels: Any = None, candidate_labels: Any = None,
              opening_cost: Any = None) -> LocationResult:
        """Solve the model; as :meth:`LocationModel.solve` plus ``opening_cost``.

        Parameters
        ----------
        cost, weights, existing, excluded, capacity, demand_labels, candidate_labels
            As for :meth:`LocationModel.solve`.
        opening_cost : scalar, array of shape (n_candidates,) or Series, optional
            Cost of opening each candidate (any currency, >= 0, finite); a Series is
            aligned by candidate label. Default 1 each (then it is :class:`SetCovering`).

        Returns
        -------
        LocationResult
            ``objective`` is the total opening cost of the new sites.

        Raises
        ------
        InputError
            Bad inputs, including a missing, negative or infinite opening cost.
        InfeasibleError
            A demand no allowed site covers (or the capacities cannot be met).
        """
        t0 = time.perf_counter()
        prob = self._problem(cost, weights=weights, existing=existing, excluded=excluded, capacity=capacity,
                             demand_labels=demand_labels, candidate_labels=candidate_labels, t0=t0)
        prob.extra["opening_cost"] = (np.ones(len(prob.data.candidates)) if opening_cost is None else
                                      per_candidate(opening_cost, prob.data.candidates, "opening_cost", allow_inf=False))
        t_prep = time.perf_counter() - t0
        return self._checked_result(prob, self._run(prob), t_prep)

    def _solve(self, prob: Problem) -> RawSolution:
        oc = prob.extra["opening_cost"]
        if prob.capacity is not None:
            raw = assign_mip(prob, AssignSpec("sites", cutoff=self.cutoff_m, site_cost=oc,
                                              name="capacitated weighted set covering"),
                             mip_gap=self.mip_gap, verbose=bool(self.verbose))
            raw.objective = float(oc[raw.is_open & ~prob.existing].sum())
            return raw
        t0 = time.perf_counter()
        A, rows, fcols, n_ex = _within_free(prob, self.cutoff_m)
        todo = n_ex == 0
        deg = np.diff(A.indptr)
        if (todo & (deg == 0)).any():
            raise unreachable_error(prob, rows[todo & (deg == 0)], f"lies within cutoff_m={self.cutoff_m:g}")
        is_open = prob.existing.copy()
        status, bound, method, solve_t = "optimal", 0.0, "none", 0.0
        if todo.any():
            B, _, _ = collapse_rows(submatrix(A, todo, np.ones(A.shape[1], bool))[0], np.ones(int(todo.sum())))
            r, k = B.shape
            build = time.perf_counter() - t0
            res = solve_mip(oc[fcols], B, np.ones(r), np.full(r, np.inf), np.zeros(k), np.ones(k),
                            np.ones(k, bool), time_limit_s=prob.remaining(), mip_gap=self.mip_gap,
                            verbose=bool(self.verbose))
            is_open[fcols[res.x > 0.5]] = True
            status, bound, method, solve_t = res.status, float(res.bound), "mip", res.solve_time_s
        else:
            build = time.perf_counter() - t0
        obj = float(oc[is_open & ~prob.existing].sum())
        if method == "none":
            bound = obj
        return RawSolution(is_open, nearest_assignment(prob.data, is_open, self.cutoff_m), obj, bound, status,
                           method, solve_t, build, {})

