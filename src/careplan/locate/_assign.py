"""One MIP for the models that need explicit demand -> site assignments.

Capacitated models (each demand served whole, or split when the model says so),
weighted set covering, and the lexicographic second objective all share this
formulation: binary ``y_j`` (site open), ``x_ij`` (share of demand ``i`` served by
site ``j``, binary when served whole, continuous in [0, 1] when split or when
nothing forces a demand onto a farther site), over the pairs within the cutoff.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp

from careplan._errors import InfeasibleError

from ._base import Problem, RawSolution, nearest_assignment
from ._mip import solve_mip
from ._reduce import submatrix

__all__ = ["AssignSpec", "assign_mip", "unreachable_error"]


def _names(labels, pos, limit: int = 10) -> str:
    shown = [repr(x) for x in labels[np.asarray(pos)[:limit]]]
    more = f" and {len(pos) - limit} more" if len(pos) > limit else ""
    return ", ".join(shown) + more


def unreachable_error(prob: Problem, rows: np.ndarray, what: str) -> InfeasibleError:
    """The error for demands that no candidate that may be opened serves.

    The advice names only what works for the model: ``cutoff_m=`` where the model has
    one (``what`` mentions it), else a larger network cutoff for the cost table.
    """
    if "cutoff_m" in what:
        widen = "raise the model's cutoff_m"
    else:
        widen = "recompute the cost with a larger network cutoff_m (e.g. net.distances(..., cutoff_m=...))"
    excl = ", take sites out of excluded=" if prob.excluded.any() else ""
    return InfeasibleError(
        f"{len(rows)} demand(s) cannot be served: no candidate that may be opened {what}: "
        f"{_names(prob.data.demand, rows)}. Add candidate sites near them, {widen}{excl}, or give them "
        "weight 0 (they are then served only where possible).")


@dataclass(frozen=True)
class AssignSpec:
    """What the assignment MIP optimises.

    Attributes
    ----------
    objective : {'sites', 'cover', 'cost', 'none'}
        Minimise the opening cost of new sites (``site_cost``, default 1 each),
        maximise covered weight, minimise total weighted cost, or find any solution.
    p : int or None
        Exactly ``p`` new sites (None: free).
    cutoff : float or None
        Only pairs with cost <= cutoff serve.
    serve_all : bool
        Every demand with weight > 0 must be served (else serving is optional).
    site_cost : numpy.ndarray of shape (n_candidates,) or None
        Opening cost per candidate for ``objective='sites'``.
    cover_floor : float or None
        Covered weight must be at least this (lexicographic second stage of maximal covering).
    max_new_cost : float or None
        Opening cost of the new sites at most this (lexicographic second stage of set covering).
    name : str
        Model name for messages.
    """

    objective: str
    p: int | None = None
    cutoff: float | None = None
    serve_all: bool = True
    site_cost: np.ndarray | None = None
    cover_floor: float | None = None
    max_new_cost: float | None = None
    name: str = "model"


def assign_mip(prob: Problem, spec: AssignSpec, *, mip_gap: float, verbose: bool,
               integral_x: bool | None = None) -> RawSolution:
    """Solve the assignment MIP of ``spec`` on ``prob`` (capacities and split from ``prob``).

    Returns a :class:`RawSolution` whose ``objective`` is the MIP objective of
    ``spec`` (number/cost of new sites, covered weight or total weighted cost) and
    whose ``flow`` holds the shares when ``prob.split``.

    Raises
    ------
    InfeasibleError
        If a demand that must be served reaches no allowed site, or no solution exists.
    """
    t0 = time.perf_counter()
    data = prob.data
    n, m = data.shape
    w = data.weights
    need = w > 0
    allowed = ~prob.excluded
    entry = None if spec.cutoff is None else data.matrix.data <= spec.cutoff
    sub, rows, cols = submatrix(data.matrix, need, allowed, entry)
    deg = np.diff(sub.indptr)
    if spec.serve_all and (deg == 0).any():
        what = f"lies within cutoff_m={spec.cutoff:g}" if spec.cutoff is not None else "is reachable"
        raise unreachable_error(prob, rows[deg == 0], what)
    nr, nc, K = len(rows), len(cols), sub.nnz
    prow = np.repeat(np.arange(nr), deg)
    pcol = sub.indices
    wr = w[rows]
    cap = prob.capacity[cols] if prob.capacity is not None else np.full(nc, np.inf)
    ex = prob.existing[cols]
    sc = np.ones(nc) if spec.site_cost is None else spec.site_cost[cols]
    ny = nc
    c = np.zeros(ny + K)
    if spec.objective == "sites":
        c[:ny] = np.where(ex, 0.0, sc)
    elif spec.objective == "cover":
        c[ny:] = wr[prow]
    elif spec.objective == "cost":
        c[ny:] = wr[prow] * sub.data
    xi = ny + np.arange(K)
    parts = [(prow, xi, np.ones(K))]
    lo = [np.ones(nr) if spec.serve_all else np.zeros(nr)]
    hi = [np.ones(nr)]
    off = nr
    parts.append((np.concatenate((off + np.arange(K), off + np.arange(K))),
                  np.concatenate((xi, pcol)), np.concatenate((np.ones(K), -np.ones(K)))))
    lo.append(np.full(K, -np.inf))
    hi.append(np.zeros(K))
    off += K
    capcols = np.flatnonzero(np.isfinite(cap))
    if len(capcols):
        cmap = np.full(nc, -1)
        cmap[capcols] = off + np.arange(len(capcols))
        xin = np.isfinite(cap)[pcol]
        parts.append((np.concatenate((cmap[pcol[xin]], cmap[capcols])),
                      np.concatenate((xi[xin], capcols)),
                      np.concatenate((wr[prow[xin]], -cap[capcols]))))
        lo.append(np.full(len(capcols), -np.inf))
        hi.append(np.zeros(len(capcols)))
        off += len(capcols)
    free_c = np.flatnonzero(~ex)
    if spec.p is not None:
        parts.append((np.full(len(free_c), off), free_c, np.ones(len(free_c))))
        lo.append(np.array([float(spec.p)]))
        hi.append(np.array([float(spec.p)]))
        off += 1
    if spec.cover_floor is not None:
        parts.append((np.full(K, off), xi, wr[prow]))
        lo.append(np.array([spec.cover_floor]))
        hi.append(np.array([np.inf]))
        off += 1
    if spec.max_new_cost is not None:
        parts.append((np.full(len(free_c), off), free_c, sc[free_c]))
        lo.append(np.array([-np.inf]))
        hi.append(np.array([spec.max_new_cost]))
        off += 1
    A = sp.csc_array((np.concatenate([q[2] for q in parts]),
                      (np.concatenate([q[0] for q in parts]), np.concatenate([q[1] for q in parts]))),
                     shape=(off, ny + K))
    col_lo = np.zeros(ny + K)
    col_lo[:ny] = ex.astype(float)
    integer = np.zeros(ny + K, dtype=bool)
    integer[:ny] = True
    if integral_x is None:
        integral_x = prob.capacity is not None and not prob.split
    integer[ny:] = integral_x
    build = time.perf_counter() - t0
    res = solve_mip(c, A, np.concatenate(lo), np.concatenate(hi), col_lo, np.ones(ny + K), integer,
                    maximize=spec.objective == "cover", time_limit_s=prob.remaining(), mip_gap=mip_gap,
                    verbose=verbose)
    if res.status == "infeasible":
        raise InfeasibleError(_infeasible_message(prob, spec, w[need].sum()))
    x = res.x
    is_open = prob.existing.copy()
    is_open[cols[x[:ny] > 0.5]] = True
    share = x[ny:]
    use = share > 1e-9
    near = nearest_assignment(data, is_open, spec.cutoff)
    assign = np.full(n, -1, dtype=np.int64)
    flow = None
    if prob.split:
        # largest share names the serving site; zero-weight demands go whole to the nearest site
        r_all = rows[prow[use]]
        c_all = cols[pcol[use]]
        s_all = share[use]
        order = np.lexsort((-s_all, r_all))
        first = np.unique(r_all[order], return_index=True)[1]
        assign[r_all[order][first]] = c_all[order][first]
        z = ~need & (near >= 0)
        r_all = np.concatenate((r_all, np.flatnonzero(z)))
        c_all = np.concatenate((c_all, near[z]))
        s_all = np.concatenate((s_all, np.ones(int(z.sum()))))
        assign[z] = near[z]
        tot = np.bincount(r_all, weights=s_all, minlength=n)
        # shares free of solver round-off: a demand that must be served gets exactly 1 in total,
        # an optional one (maximal covering) at most 1
        s_all = s_all / (tot[r_all] if spec.serve_all else np.maximum(tot[r_all], 1.0))
        flow = sp.csr_array((s_all, (r_all, c_all)), shape=(n, m))
    else:
        sel = share > 0.5
        assign[rows[prow[sel]]] = cols[pcol[sel]]
        assign[~need] = near[~need]  # zero-weight demands use no capacity
    return RawSolution(is_open, assign, float(res.objective), float(res.bound), res.status, "mip",
                       res.solve_time_s, build, {"n_pairs": int(K)}, flow=flow)


def _infeasible_message(prob: Problem, spec: AssignSpec, total_weight: float) -> str:
    allowed = ~prob.excluded
    parts = []
    if prob.capacity is not None:
        free = np.sort(prob.capacity[allowed & ~prob.existing])[::-1]
        n_new = len(free) if spec.p is None else spec.p
        tot_cap = float(prob.capacity[prob.existing].sum() + free[:n_new].sum())
        how = "split" if prob.split else "whole (split_demand=False)"
        parts.append(f"the demand ({total_weight:g}) cannot be served {how} within the capacities "
                     f"(the existing sites and the {n_new} largest new ones hold at most {tot_cap:g})")
    else:
        parts.append("no choice of sites serves every demand")
    if spec.p is not None:
        parts.append(f"p={spec.p} new sites")
    if spec.cutoff is not None:
        parts.append(f"cutoff_m={spec.cutoff:g}")
    fix = "Raise capacities or p, add candidates"
    if spec.cutoff is not None:
        fix += ", raise cutoff_m"
    if prob.capacity is not None and not prob.split:
        fix += ", allow split_demand=True"
    return f"{spec.name} is infeasible: " + ", ".join(parts) + f". {fix}, or lower the weights."
