"""The location models SetCovering and PMedian (MaximalCovering: ``_maximal.py``, PCenter: ``_pcenter.py``)."""

from __future__ import annotations

import time
from dataclasses import InitVar, dataclass
from typing import ClassVar

import numpy as np
import scipy.sparse as sp

from careplan._errors import InfeasibleError, InputError, SolverError

from . import _heuristics as H
from ._assign import AssignSpec, assign_mip, unreachable_error
from ._base import LocationModel, OldName, Problem, RawSolution, nearest_assignment
from ._check import Solution
from ._cover_bb import cover_at_most
from ._covering import cover_search
from ._mip import cover_lp, solve_mip
from ._reduce import binary, collapse_rows, greedy_cover, reduce_cover, submatrix

__all__ = ["SetCovering", "PMedian"]

_MOVED_TO_MAXIMAL = ("MaximalCovering", "_mclp_polish", "_greedy_mclp", "MCLP_LS_STEPS")


def __getattr__(name: str):
    """The maximal covering model moved to ``_maximal.py``; its old import path keeps working."""
    if name in _MOVED_TO_MAXIMAL:
        from . import _maximal

        return getattr(_maximal, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


# --------------------------------------------------------------------------- covering
SECONDARY = (None, "cost")


def _check_secondary(model) -> None:
    if model.secondary not in SECONDARY:
        raise InputError(f"secondary must be None or 'cost' (least total weighted cost among the optimal "
                         f"solutions); got {model.secondary!r}.")


def _ls_budget(prob: Problem) -> float:
    """Seconds for the covering local search: short, the MIP proves the rest."""
    rem = prob.remaining()
    return 2.0 if rem is None else min(2.0, 0.25 * rem)


def _pad(is_open: np.ndarray, prob: Problem, p: int) -> None:
    """Open further free sites (candidate order) until exactly ``p`` new are open.

    Only used where extra sites cannot worsen the objective (covering, p-center).
    """
    short = p - int((is_open & prob.free).sum())
    if short > 0:
        extra = np.flatnonzero(prob.free & ~is_open)[:short]
        is_open[extra] = True


@dataclass
class SetCovering(LocationModel):
    """Location set covering (LSCP): fewest new sites so every demand is within ``cutoff_m``.

    Existing sites count as covering for free; the objective is the number of NEW
    sites. Demands with weight 0 need no cover. With ``capacity`` each demand is
    served whole by one open site within the cutoff without exceeding capacities
    (``split_demand=True`` lets it be split over several, as spopt allows).

    Parameters
    ----------
    cutoff_m : float
        Service cutoff in the unit of the cost (e.g. walking metres); a demand is
        covered by a site at cost <= ``cutoff_m``. (Old name ``radius``: deprecated.)
    radius : float, optional
        Deprecated name of ``cutoff_m`` (DeprecationWarning).
    secondary : {None, 'cost'}, default None
        ``'cost'``: among the solutions with the fewest new sites, return one with the
        least total weighted cost (demand weight x cost to its site), as ArcGIS's
        location-allocation does; ``info['total_cost']`` reports it and
        ``info['secondary_status']`` whether it is proven least.
    """

    cutoff_m: float | None = None
    secondary: str | None = None
    radius: InitVar[float | None] = OldName("cutoff_m")

    model_name: ClassVar[str] = "SetCovering"

    def __post_init__(self, *old: float | None) -> None:
        super().__post_init__(*old)
        _check_secondary(self)

    def evaluate(self, solution: Solution) -> float:
        """Number of new sites.

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
        return float(solution.n_new)

    def _solve(self, prob: Problem) -> RawSolution:
        if prob.capacity is not None:
            raw = assign_mip(prob, AssignSpec("sites", cutoff=self.cutoff_m, name="capacitated set covering"),
                             mip_gap=self.mip_gap, verbose=bool(self.verbose))
            raw.objective = float((raw.is_open & ~prob.existing).sum())
        else:
            raw = self._uncapacitated(prob)
        if self.secondary == "cost":
            raw = _least_cost_second(self, prob, raw, p=int((raw.is_open & ~prob.existing).sum()))
        return raw

    def _uncapacitated(self, prob: Problem) -> RawSolution:
        t0 = time.perf_counter()
        data = prob.data
        need = data.weights > 0
        ok = ~prob.excluded
        A_all, rows, cols = submatrix(data.matrix, need, ok, data.matrix.data <= self.cutoff_m)
        deg = np.diff(A_all.indptr)
        if (deg == 0).any():
            raise unreachable_error(prob, rows[deg == 0], f"lies within cutoff_m={self.cutoff_m:g}")
        A_all = binary(A_all)
        ex_c = prob.existing[cols]
        by_ex = np.asarray((A_all @ ex_c.astype(float)) > 0).ravel()
        free_c = ~ex_c
        A, _, fcols = submatrix(A_all, ~by_ex, free_c)
        info = {"n_demand_to_cover": int(A.shape[0])}
        chosen = np.zeros(A.shape[1], dtype=bool)
        status, bound, solve_t, method = "optimal", 0.0, 0.0, "none"
        if A.shape[0]:
            A, _, _ = collapse_rows(A, np.ones(A.shape[0]))
            Ak, _, kcols = reduce_cover(A)
            info.update(n_unique_demand=int(A.shape[0]), n_demand_kept=int(Ak.shape[0]),
                        n_candidates_kept=int(len(kcols)), n_dominated=int(A.shape[1] - len(kcols)))
            g = greedy_cover(Ak)
            build = time.perf_counter() - t0
            t0 = time.perf_counter()
            sol, bound, status, method = _set_cover(Ak, g, prob, self.method, self.mip_gap,
                                                    bool(self.verbose), info)
            chosen[kcols[sol]] = True
            solve_t = time.perf_counter() - t0
        else:
            build = time.perf_counter() - t0
        is_open = prob.existing.copy()
        is_open[cols[fcols[chosen]]] = True
        assign = nearest_assignment(data, is_open, self.cutoff_m)
        obj = float((is_open & ~prob.existing).sum())
        return RawSolution(is_open, assign, obj, bound, status, method, solve_t, build, info)


# CPU seconds the tree search may spend before HiGHS's MIP takes the question over: the
# tree proves the hard bench_locate instances in 0.2-1.1 s; on dense rows it is slow
# (random 1,600 m: 270 nodes in 127 s, unfinished). With a time limit it gets a quarter
# of what is left if that is more (Shanghai blocks: refuting 46 sites takes 15-20 s).
BB_CPU_S = 5.0
BB_SHARE = 0.25


def _set_cover(A: sp.csr_array, start: np.ndarray, prob: Problem, method: str, mip_gap: float,
               verbose: bool, info: dict) -> tuple[np.ndarray, float, str, str]:
    """Unicost set cover of every row of ``A``: LP bound, local search, then the proof.

    The LP is solved by row generation (``cover_lp``); its value rounded up is the
    first lower bound ``lb``. The local search cover (``k`` sites) is optimal unless
    a cover with fewer sites exists; the LP branch and bound (``_cover_bb``) asks
    "is there a cover with at most t sites?" for t = lb, lb + 1, ..., k - 1. Each
    "no" is a proof that raises the bound to t + 1 (so a time limit still leaves a
    proven bound above the LP's); the first "yes" is an optimal cover (every
    smaller t was refuted). The questions for t below k - 1 are cheap (LP bound
    near t, most nodes pruned), the last one carries the work: on the bench_locate
    instances whose LP bound is 1.7 sites below the optimum, 50-90 nodes and about
    1 s of CPU against 4-8 s for HiGHS's MIP with a cardinality row (benchmarks/README.md).
    If the tree search spends its CPU budget (``BB_CPU_S``) without an answer, HiGHS's
    MIP takes over the last question (``_set_cover_mip``).
    Returns (column mask, proven lower bound, status, method).
    """
    nr, nk = A.shape
    lp = cover_lp(A, time_limit_s=prob.remaining())
    # an integer number of sites, at least one (there is a row to cover): the LP bound rounded up
    lb = max(1.0, float(np.ceil(lp.objective - 1e-6)))
    info.update(lp_bound=lp.objective, lp_rows=int(lp.active.sum()), lp_rounds=lp.rounds)
    sol = start
    if start.sum() > lb:
        budget = _ls_budget(prob)
        sol, _, steps = cover_search(A, None, start, size=None, lower_bound=lb, time_limit_s=budget,
                                     max_steps=int(np.clip(20 * (nr + nk), 2000, 200_000)), seed=0)
        info["local_search_steps"] = steps
    if sol.sum() <= lb:
        return sol, lb, "optimal", "local_search+lp_bound"
    if method == "heuristic":
        return sol, lb, "heuristic", "local_search"
    n_sol = float(sol.sum())
    # a cover with at most `fewer` sites would beat the local search cover by more than mip_gap
    fewer = int(np.ceil(n_sol * (1 - mip_gap) - 1e-9)) - 1
    if fewer < lb:
        return sol, lb, "optimal", "local_search+lp_bound"
    rem = prob.remaining()
    cpu_end = time.process_time() + (BB_CPU_S if rem is None else max(BB_CPU_S, BB_SHARE * rem))
    if fewer == int(n_sol) - 1:  # the gap allows no site fewer: an exact proof, so by component
        split = _prove_by_component(A, lp, sol, prob, cpu_end, info)
        if split is not None:
            return split
    nodes = fixed = 0
    t = first = int(lb)
    while t <= fewer:
        res = cover_at_most(A, t, rows=lp.active, deadline=prob.deadline, cpu_deadline=cpu_end)
        nodes, fixed = nodes + res.nodes, fixed + res.fixed
        info.update(bb_nodes=nodes, bb_fixed=fixed, bb_rows=res.rows, bb_targets=t - first + 1)
        if res.status == "time_limit":
            return sol, lb, "time_limit", "local_search+branch_and_bound"
        if res.status == "budget":
            break
        if res.status == "found":  # at most t sites, and every smaller t was refuted (or is below lb)
            return res.x, float(res.x.sum()), "optimal", "local_search+branch_and_bound"
        lb = t + 1.0  # proven: no cover with t sites
        t += 1
    else:
        return sol, lb, "optimal", "local_search+branch_and_bound"
    info["bb_gave_up_at"] = t
    return _set_cover_mip(A, lp, sol, lb, fewer, prob, mip_gap, verbose, info)


def _components(A: sp.csr_array) -> tuple[int, np.ndarray, np.ndarray]:
    """Connected components of the row-column graph of a 0/1 matrix: (count, row labels, column labels)."""
    from scipy.sparse import csgraph

    nr = A.shape[0]
    B = sp.csr_array(A, copy=True)
    B.data = (B.data != 0).astype(np.int8)
    B.eliminate_zeros()
    n, lab = csgraph.connected_components(sp.bmat([[None, B], [B.T, None]], format="csr"), directed=False)
    return int(n), lab[:nr], lab[nr:]


def _prove_by_component(A: sp.csr_array, lp, sol: np.ndarray, prob: Problem, cpu_end: float,
                        info: dict) -> tuple[np.ndarray, float, str, str] | None:
    """The proof of :func:`_set_cover` on each connected component of ``A`` alone.

    A set cover whose rows and columns fall into independent groups (estates whose
    stations can serve no estate of another group: a city) has as optimum the sum of
    its groups' optima, and the optimal LP solution restricted to a group is optimal
    for that group; so only the groups whose local search cover is above their LP
    bound rounded up need the tree search, each on its own small matrix. On the 1M
    node city of ``benchmarks/bench_scale.py`` (one component per neighbourhood) the
    search over the whole matrix dived 3,600 LPs of 10,000 rows into its CPU budget
    before HiGHS's MIP answered. Returns None (the caller proves the whole matrix)
    when ``A`` is connected, when the LP does not cover every row, or when a group's
    search stops on the budget or the time limit.
    """
    n, rlab, clab = _components(A)
    if n <= 1 or not (np.asarray(A @ lp.x).ravel() >= 1 - 1e-7).all():
        return None
    x, lb, nodes, hard = sol.copy(), 0.0, 0, 0
    has_rows = np.bincount(rlab, minlength=n) > 0
    x[~has_rows[clab]] = False  # columns that cover no row
    lp_by = np.bincount(clab, weights=lp.x, minlength=n)
    sol_by = np.bincount(clab, weights=sol.astype(float), minlength=n)
    for c in np.flatnonzero(has_rows):
        first = max(1, int(np.ceil(lp_by[c] - 1e-6)))
        k = int(round(sol_by[c]))
        t = first
        if t < k:  # the group's matrix, cut once for all its questions
            rc, kc = rlab == c, clab == c
            Ac = submatrix(A, rc, kc)[0]
        while t < k:  # is there a cover of this group with t sites?
            res = cover_at_most(Ac, t, rows=lp.active[rc], deadline=prob.deadline, cpu_deadline=cpu_end)
            nodes += res.nodes
            if res.status in ("time_limit", "budget"):
                return None
            if res.status == "found":
                x[kc] = res.x
                break
            t += 1
        hard += k > first
        lb += min(t, k)
    info.update(bb_components=n, bb_components_searched=hard, bb_nodes=nodes)
    if x.sum() != lb or not (np.asarray(A @ x.astype(float)).ravel() > 0.5).all():
        raise SolverError("the set-covering proof by component did not return an optimal cover; "
                          "please report this with the input.")
    return x, lb, "optimal", "local_search+branch_and_bound"


def _set_cover_mip(A: sp.csr_array, lp, sol: np.ndarray, lb: float, fewer: int, prob: Problem,
                   mip_gap: float, verbose: bool, info: dict) -> tuple[np.ndarray, float, str, str]:
    """HiGHS's MIP for "a cover with at most ``fewer`` sites?" where the tree search gave up.

    ``min 1.x`` with ``sum x <= fewer``, first over the rows with a positive dual in the
    final LP (the rows that carry the LP bound), then, if its answer misses rows, over
    the LP's rows plus those (``_cover_mip``). Denser rows (large radii: 20-60 columns
    a row) make the tree wide and every node LP large; HiGHS's cuts do better there
    (random 5,000 x 1,000 at 1,600 m: tree not done in 200 s, this MIP 45-64 s).
    """
    n_sol = float(sol.sum())
    # first the rows that carry the LP bound; if a smaller cover of those leaves rows
    # uncovered, every row of the final LP joins (on the clustered seed 11 adding only
    # the uncovered rows took 7 rounds and 12 s of CPU against 5 s for one round over
    # the LP rows, while seed 10 is proven on the dual rows alone in 1.5 s)
    rows = lp.active if lp.dual is None else (lp.dual > 1e-9) | (np.asarray(A @ lp.x).ravel() < 1 - 1e-7)
    x, lb_mip, status = _cover_mip(A, rows, prob, lower_bound=lb, max_sites=fewer, mip_gap=mip_gap,
                                   more_rows=lp.active, verbose=verbose, info=info)
    if status == "infeasible":  # no cover with `fewer` sites: the local search cover is optimal
        return sol, max(lb, fewer + 1.0), "optimal", "local_search+mip"
    lb = max(lb, lb_mip)
    if x is not None and x.sum() < n_sol:
        sol = x
    if status == "no_solution":
        return sol, lb, "time_limit", "local_search"
    if sol.sum() - lb <= mip_gap * sol.sum() + 1e-9:
        status = "optimal"
    return sol, lb, status, "local_search+mip"


def _cover_mip(A: sp.csr_array, active: np.ndarray, prob: Problem, *, lower_bound: float = 0.0,
               max_sites: int | None = None, more_rows: np.ndarray | None = None, mip_gap: float = 0.0,
               verbose: bool = False, info: dict | None = None) -> tuple[np.ndarray | None, float, str]:
    """Unicost set-covering MIP over a growing set of rows (row generation).

    Solves ``min 1.x`` (with ``sum x <= max_sites`` if given) over the rows in
    ``active``; adds the rows its solution leaves uncovered (and, the first time,
    the rows of ``more_rows``) and solves again. A MIP over fewer rows is a
    relaxation, so its bound holds for the full cover.

    Returns (x, proven lower bound, status); status is 'optimal' (x covers every
    row, optimal within ``mip_gap``), 'infeasible' (no cover with ``max_sites``),
    'time_limit' (x is None) or 'no_solution' (time limit before HiGHS found one).
    """
    active = active.copy()
    nk = A.shape[1]
    lb, rounds = lower_bound, 0
    while True:
        # dominated rows and columns within the chosen rows go first (the rows left out
        # make rows and columns dominated that are not dominated in A); the reduced
        # MIP has the same optimum as the MIP over the chosen rows. Kept only when it
        # drops a quarter of the rows: then every node LP is much smaller (random
        # 1,600 m: 1,542 -> 879 rows, 64 -> 49 s); a small reduction (Shanghai 800 m:
        # 619 -> 561) is what HiGHS's presolve does anyway and only perturbs its search
        Ar = submatrix(A, active, np.ones(nk, dtype=bool))[0]
        kc = np.arange(nk)
        Ared, _, kred = reduce_cover(Ar)
        if Ared.shape[0] <= 0.75 * Ar.shape[0]:
            Ar, kc = Ared, kred
        r, k = Ar.shape
        lo, hi, M = np.ones(r), np.full(r, np.inf), Ar
        if max_sites is not None:
            M = sp.vstack([Ar, sp.csr_array(np.ones((1, k)))], format="csr")
            lo, hi = np.append(lo, -np.inf), np.append(hi, max_sites)
        if info is not None:
            info.update(mip_rounds=rounds + 1, mip_rows=int(active.sum()), mip_rows_reduced=int(r),
                        mip_columns_reduced=int(k))
        try:
            res = solve_mip(np.ones(k), M, lo, hi, np.zeros(k), np.ones(k), np.ones(k, bool),
                            time_limit_s=prob.remaining(), mip_gap=mip_gap, verbose=verbose)
        except InfeasibleError:  # "unbounded or infeasible": the variables are bounded
            return None, np.inf, "infeasible"
        except SolverError:  # time limit before HiGHS had a solution of its own
            return None, lb, "no_solution"
        rounds += 1
        if res.status == "infeasible":
            return None, np.inf, "infeasible"
        lb = max(lb, float(np.ceil(res.bound - 1e-6)))
        x = np.zeros(nk, dtype=bool)
        x[kc[res.x > 0.5]] = True
        uncovered = np.asarray(A @ x.astype(float)).ravel() < 0.5
        if not uncovered.any():
            return x, lb, "optimal" if res.status == "optimal" else res.status
        if res.status != "optimal":
            return None, lb, res.status
        active |= uncovered
        if more_rows is not None:
            active |= more_rows
            more_rows = None


# --------------------------------------------------------------------------- p-median
@dataclass
class PMedian(LocationModel):
    """p-median: ``p`` NEW sites minimising the total weighted cost to the nearest open site.

    Existing sites stay open in addition to the ``p`` new ones. Every demand with
    positive weight must reach at least one site that may be open. With
    ``capacity`` each demand is served whole by one site (single-source
    capacitated p-median, solved as a MIP).

    The uncapacitated model is solved by greedy + fast interchange (upper bound)
    and Lagrangian relaxation with subgradient optimisation (proven lower bound,
    reduced-cost fixing of sites). If the gap is not closed, ``method='auto'``
    solves the reduced MIP with HiGHS: only the pairs closer than the nearest
    fixed-open site, and per demand only its ``k`` nearest of those, with a
    fallback variable priced at the (k+1)-th cost. The fallback makes the reduced
    MIP a relaxation; ``k`` is doubled for any demand that uses it until none
    does, so the answer is exact.

    Parameters
    ----------
    p : int
        Number of new sites (existing sites are extra).
    """

    p: int

    model_name: ClassVar[str] = "PMedian"

    def evaluate(self, solution: Solution) -> float:
        """Total weighted cost: sum of weight x cost to the serving site (shares when split).

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
        return float(np.nansum(solution.weights * solution.assigned_cost()))

    def _solve(self, prob: Problem) -> RawSolution:
        if prob.capacity is not None:
            return assign_mip(prob, AssignSpec("cost", p=self.p, name="capacitated p-median"),
                              mip_gap=self.mip_gap, verbose=bool(self.verbose))
        return _pmedian(prob, self.p, method=self.method, mip_gap=self.mip_gap, verbose=bool(self.verbose))


MAX_MIP_PAIRS = 6_000_000
K_MIN = 8  # initial k of the k-nearest reduction: max(K_MIN, K_FACTOR * candidates / p)
K_FACTOR = 3.0


def _pmedian(prob: Problem, p: int, *, method: str, mip_gap: float, verbose: bool) -> RawSolution:
    t0 = time.perf_counter()
    data = prob.data
    w = data.weights
    need = w > 0
    S, rows, cols = submatrix(data.matrix, need, ~prob.excluded)
    deg = np.diff(S.indptr)
    if (deg == 0).any():
        raise unreachable_error(prob, rows[deg == 0], "is reachable")
    ws = w[rows]
    Sc = sp.csc_array(S)
    Sc.sort_indices()
    fixed = prob.existing[cols]
    can = ~fixed
    build = time.perf_counter() - t0
    t1 = time.perf_counter()
    info: dict = {"n_demand": int(S.shape[0]), "n_candidates": int(S.shape[1]), "n_pairs": int(S.nnz)}

    def remaining():
        return prob.remaining()

    n_can = int(can.sum())
    if p == n_can:  # nothing to choose
        ub_open = fixed | can
        ub = H.pmedian_cost(S, ws, ub_open)
        lb, status, meth = ub, "optimal", "trivial"
    else:
        g_open = H.greedy(S, Sc, ws, fixed, can, p)
        ub_open, ub, nsw = H.interchange(S, Sc, ws, g_open, can, can, time_limit_s=remaining())
        info["swaps"] = nsw
        lb, meth, status = -np.inf, "heuristic", "heuristic"
        # a tight bound pays off in reduced-cost fixing before the MIP; the heuristic needs mip_gap
        tgap = mip_gap if method == "heuristic" else min(mip_gap, 1e-4) / 2
        if np.isfinite(ub):
            lag = H.lagrangian(S, Sc, ws, fixed, can, p, ub, ub_open, target_gap=tgap,
                               time_limit_s=remaining())
            info["lagrangian_iterations"] = lag["iterations"]
            lb = lag["bound"]
            if lag["ub"] < ub:
                ub, ub_open = lag["ub"], lag["ub_open"]
            # interchange restarts from Lagrangian open sets (often better local optima)
            seen = {ub_open.tobytes()}
            for st in [lag["ub_open"], *lag["starts"]]:
                if st.tobytes() in seen or (lb >= ub - mip_gap * ub):
                    continue
                seen.add(st.tobytes())
                o2, c2, _ = H.interchange(S, Sc, ws, st, can, can, time_limit_s=remaining())
                if c2 < ub:
                    ub, ub_open = c2, o2
            if ub - lb > mip_gap * ub and ub < lag["ub"]:
                lag2 = H.lagrangian(S, Sc, ws, fixed, can, p, ub, ub_open, lam0=lag["lam"], theta0=0.25,
                                    target_gap=tgap, time_limit_s=remaining())
                if lag2["bound"] >= lb:
                    lag = lag2
                    lb = lag2["bound"]
                if lag2["ub"] < ub:
                    ub, ub_open = lag2["ub"], lag2["ub_open"]
            info["lagrangian_ub_improvements"] = lag["ub_improvements"]
            meth = "heuristic+lagrangian"
        if np.isfinite(ub) and ub - lb <= mip_gap * max(abs(ub), 1e-12) + 1e-9:
            status = "optimal"
        elif method != "heuristic":
            if np.isfinite(ub) and method == "auto":
                tol = 1e-9 * max(abs(ub), 1.0)
                close, force = H.reduced_cost_fixing(lag, fixed, p, ub, tol)
            else:
                close = force = np.zeros(len(cols), dtype=bool)
            info["fixed_closed"], info["fixed_open"] = int(close.sum()), int(force.sum())
            p_rem = p - int(force.sum())
            cand = can & ~close & ~force
            if p_rem < 0 or p_rem > int(cand.sum()):
                status = "optimal"  # no solution better than the incumbent exists
                lb = ub
            else:
                out = _pmedian_mip(S, ws, fixed | force, cand, p_rem, ub_open if np.isfinite(ub) else None,
                                   prob, mip_gap, verbose, info)
                if out is not None:
                    m_open, m_bound, m_status = out
                    c3 = H.pmedian_cost(S, ws, m_open)
                    if c3 < ub:
                        ub, ub_open = c3, m_open
                    lb = max(lb, min(ub, m_bound))
                    status = m_status if not (ub - lb <= mip_gap * max(abs(ub), 1e-12) + 1e-9) else "optimal"
                    meth = meth + "+mip" if meth != "heuristic" else "mip"
        if not np.isfinite(ub):
            raise InfeasibleError("no feasible p-median solution was found: some demands can reach only "
                                  "candidates that cannot all be opened with this p; raise p or add candidates.")
    is_open = prob.existing.copy()
    is_open[cols[ub_open]] = True
    assign = nearest_assignment(data, is_open)
    obj = float(np.dot(ws, H.nearest_two(S.indptr, S.indices, S.data, ub_open)[0]))
    return RawSolution(is_open, assign, obj, lb, status, meth, time.perf_counter() - t1, build, info)


def _pmedian_mip(S, ws, fo, cand, p_rem, ub_open, prob, mip_gap, verbose, info):
    """Reduced p-median MIP with k-nearest pairs and proof-safe fallback variables."""
    nr, nc = S.shape
    f_dist = H.nearest_two(S.indptr, S.indices, S.data, fo)[0]
    deg = np.diff(S.indptr)
    ent_row = np.repeat(np.arange(nr), deg)
    useful = cand[S.indices] & (S.data < f_dist[ent_row])
    idx = np.flatnonzero(useful)
    order = np.lexsort((S.data[idx], ent_row[idx]))
    idx = idx[order]
    r_of = ent_row[idx]
    ucount = np.bincount(r_of, minlength=nr)
    row_start = np.zeros(nr + 1, dtype=np.int64)
    np.cumsum(ucount, out=row_start[1:])
    rank = np.arange(len(idx)) - row_start[r_of]
    const_rows = ucount == 0
    if (const_rows & ~np.isfinite(f_dist)).any():
        return None  # cannot serve some demand: the fixings leave no better solution
    offset = float(np.dot(ws[const_rows], f_dist[const_rows]))
    if ub_open is not None:
        d_ub, phi_ub, _ = H.nearest_two(S.indptr, S.indices, S.data, ub_open)
        pos = np.flatnonzero(S.indices[idx] == phi_ub[r_of])
        rk = np.zeros(nr, dtype=np.int64)
        rk[r_of[pos]] = rank[pos]
    else:
        rk = np.zeros(nr, dtype=np.int64)
    n_cand = int(cand.sum())
    kmin = max(K_MIN, int(np.ceil(K_FACTOR * n_cand / max(p_rem, 1))))
    k = np.minimum(np.maximum(kmin, rk + 1 if K_FACTOR == 0 else 2 * rk + 2), ucount)
    ymap = np.full(nc, -1, dtype=np.int64)
    ycols = np.flatnonzero(cand)
    ymap[ycols] = np.arange(len(ycols))
    ny = len(ycols)
    if ny == 0:
        # the fixings decided every site (p_rem == 0): the fixed-open set is the only
        # solution left to compare with the incumbent; HiGHS rejects an empty model
        return fo.copy(), float(np.dot(ws, f_dist)), "optimal"
    best = None
    it = 0
    total_solve = 0.0
    while True:
        it += 1
        # Chained "radius" formulation (Elloumi 2010 / Cornuejols et al.): per demand i with
        # useful sites sorted by cost e_1..e_k, z_l = "no open site among e_1..e_l";
        # cost w_i (d_{l+1} - d_l) z_l, the last priced up to the fallback cost
        # (next useful site or nearest fixed-open site). Rows: z_1 + y_e1 >= 1,
        # z_l - z_{l-1} + y_el >= 0. Same LP bound as the classic model, fewer rows.
        sel = rank < k[r_of]
        e = idx[sel]
        er = ent_row[e]
        el = rank[sel]
        K = len(e)
        if K > MAX_MIP_PAIRS and it == 1:
            info["mip_skipped_pairs"] = K
            return None
        kk = np.minimum(k, ucount)
        has_next = kk < ucount
        nxt = np.full(nr, np.inf)
        nxt[has_next] = S.data[idx[row_start[:-1][has_next] + kk[has_next]]]
        fb = np.minimum(nxt, f_dist)
        relaxed = nxt < f_dist
        d_e = S.data[e]
        last = np.zeros(K, dtype=bool)
        zstart = np.zeros(nr + 1, dtype=np.int64)
        np.cumsum(kk, out=zstart[1:])
        last[zstart[1:][kk > 0] - 1] = True
        d_next = np.empty(K)
        d_next[:-1] = d_e[1:]
        d_next[last] = fb[er[last]]
        zc = ws[er] * np.where(np.isfinite(d_next), d_next - d_e, 0.0)
        zhi = np.where(np.isfinite(d_next), 1.0, 0.0)
        first = el == 0
        offset_k = offset + float(np.dot(ws[er[first]], d_e[first]))
        nv = ny + K
        zi = ny + np.arange(K)
        rr = np.arange(K)
        notfirst = np.flatnonzero(~first)
        R = np.concatenate((rr, rr, notfirst, np.full(ny, K)))
        C = np.concatenate((zi, ymap[S.indices[e]], zi[notfirst - 1], np.arange(ny)))
        V = np.concatenate((np.ones(K), np.ones(K), -np.ones(len(notfirst)), np.ones(ny)))
        A = sp.csc_array((V, (R, C)), shape=(K + 1, nv))
        lo = np.concatenate((first.astype(float), [p_rem]))
        hi = np.concatenate((np.full(K, np.inf), [p_rem]))
        c = np.concatenate((np.zeros(ny), zc))
        col_hi = np.concatenate((np.ones(ny), zhi))
        integer = np.zeros(nv, dtype=bool)
        integer[:ny] = True
        start = None
        src = best if best is not None else ub_open
        if src is not None and int((src & cand).sum()) == p_rem:
            y0 = src[ycols].astype(float)
            opened = src[S.indices[e]].astype(np.int64)
            # z_l = 1 while none of e_1..e_l is open: cumulative count per row segment
            cs = np.cumsum(opened)
            seg0 = np.repeat(cs[zstart[:-1][kk > 0]] - opened[zstart[:-1][kk > 0]], kk[kk > 0])
            z0 = ((cs - seg0) == 0).astype(float)
            start = np.concatenate((y0, np.minimum(z0, col_hi[ny:])))
        # with a good incumbent HiGHS is fastest without presolve and primal heuristics
        opts = {"presolve": "off", "mip_heuristic_effort": 0.0} if start is not None else None
        res = solve_mip(c, A, lo, hi, np.zeros(nv), col_hi, integer, time_limit_s=prob.remaining(),
                        mip_gap=mip_gap, start=start, verbose=verbose, offset=offset_k, options=opts)
        total_solve += res.solve_time_s
        if res.x is None:
            return None
        y = res.x[:ny] > 0.5
        cur = fo.copy()
        cur[ycols[y]] = True
        best = cur
        zl = res.x[ny:][last]
        rows_last = er[last]
        viol = relaxed[rows_last] & (zl > 1e-6)
        info["mip_pairs"] = int(K)
        info["mip_rounds"] = it
        if not viol.any() or res.status != "optimal":
            return best, res.bound, res.status
        vr = rows_last[viol]
        k[vr] = np.minimum(2 * k[vr] + 1, ucount[vr])


# --------------------------------------------------------------------------- lexicographic second stage
def _least_cost_second(model: LocationModel, prob: Problem, raw: RawSolution, *, p: int) -> RawSolution:
    """Among the solutions as good as ``raw`` on the primary objective, one with least total weighted cost.

    Set covering: exactly ``p`` (the fewest) new sites, every demand served within the
    cutoff, least total weighted cost -- a p-median over the pairs within the cutoff
    (solved by the p-median code when uncapacitated). Maximal covering: ``p`` new sites
    covering at least the primary optimum, least total weighted cost of the covered
    demands. The primary objective, bound and status stay those of ``raw``; the second
    stage reports ``info['total_cost']``, ``info['secondary_bound']`` and
    ``info['secondary_status']``. If the second stage finds nothing in time, ``raw`` is kept.
    """
    t0 = time.perf_counter()
    data = prob.data
    cutoff = model.cutoff_m
    info = dict(raw.info)
    from ._maximal import MaximalCovering  # here: _maximal imports this module

    try:
        if isinstance(model, SetCovering) and prob.capacity is None:
            keep = data.matrix.data <= cutoff
            mat = sp.csr_array((data.matrix.data[keep], data.matrix.indices[keep],
                                np.concatenate(([0], np.cumsum(np.add.reduceat(keep.astype(np.int64),
                                                                               data.matrix.indptr[:-1])
                                                               * (np.diff(data.matrix.indptr) > 0))))),
                               shape=data.shape)
            sub = Problem(data=type(data)(mat, data.demand, data.candidates, data.weights),
                          existing=prob.existing, excluded=prob.excluded, capacity=None, deadline=prob.deadline)
            sec = _pmedian(sub, p, method="auto", mip_gap=model.mip_gap, verbose=bool(model.verbose))
        else:
            floor = None
            if isinstance(model, MaximalCovering):
                floor = raw.objective - 1e-9 * max(1.0, abs(raw.objective))
            spec = AssignSpec("cost", p=p, cutoff=cutoff, serve_all=not isinstance(model, MaximalCovering),
                              cover_floor=floor, name=f"{model.model_name} second stage")
            sec = assign_mip(prob, spec, mip_gap=model.mip_gap, verbose=bool(model.verbose))
    except (SolverError, InfeasibleError) as exc:
        info.update(secondary_status="no_solution", secondary_note=str(exc))
        return RawSolution(raw.is_open, raw.assign, raw.objective, raw.bound, raw.status, raw.method,
                           raw.solve_time_s, raw.build_time_s, info, flow=raw.flow)
    assign, flow = sec.assign, sec.flow
    if prob.capacity is None:
        assign, flow = nearest_assignment(data, sec.is_open, cutoff), None
    sol = Solution(data, sec.is_open, assign, prob.existing, prob.excluded, prob.capacity, flow)
    info.update(total_cost=float(np.nansum(data.weights * sol.assigned_cost())),
                secondary_bound=float(sec.bound), secondary_status=sec.status)
    return RawSolution(sec.is_open, assign, model.evaluate(sol), raw.bound, raw.status,
                       raw.method + "+least_cost", raw.solve_time_s + time.perf_counter() - t0,
                       raw.build_time_s, info, flow=flow)
