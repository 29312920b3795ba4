"""Hierarchical (nested two-level) maximal covering: street centres over community stations.

The three-level elderly-care network nests community stations (lower level) under
street centres (upper level). :class:`HierarchicalCovering` chooses new sites of
both levels at once, as a hierarchical maximal covering model with successively
inclusive service (Moore & ReVelle 1982, *The hierarchical service location problem*; the
hierarchical covering models of Serra & ReVelle): an upper-level
site also gives lower-level service, and every new lower-level site must lie
within ``nest_cutoff_m`` of an open upper-level site.
"""

from __future__ import annotations

import time
import warnings
from dataclasses import InitVar, dataclass
from typing import Any, ClassVar

import numpy as np
import scipy.sparse as sp

from careplan._errors import CareplanWarning, InputError, SolverError

from ._base import LocationModel, LocationResult, OldName, RawSolution, nearest_assignment
from ._check import Solution, check_solution, nearest_open, nearest_rule
from ._cost import CostData, cost_from_input, labels_to_mask
from ._mip import solve_mip
from ._nested import (
    LOWER,
    UPPER,
    _drop_useless,
    _existing_levels,
    _greedy,
    _interchange,
    _merged_rows,
    _nest_matrix,
    _reduced_value,
    _within,
    site_matrix_from_input,
)

__all__ = ["HierarchicalCovering"]


#: models with more nonzeros than this get an interior-point LP bound before the MIP
LP_BOUND_NNZ = 200_000


@dataclass(kw_only=True)
class HierarchicalCovering(LocationModel):
    """Hierarchical maximal covering: new upper sites (street centres) and nested lower
    sites (community stations).

    Maximises ``sum_i w_i zL_i + upper_weight * sum_i w_i zU_i`` where ``zL_i`` says
    demand ``i`` lies within ``cutoff_lower_m`` of an open site of *either* level
    (successively inclusive service: a street centre also offers what a community
    station does) and ``zU_i`` says it lies within ``cutoff_upper_m`` of an open
    upper site. Rules:

    * a site hosts at most one level;
    * at most ``p_upper`` NEW upper and at most ``p_lower`` NEW lower sites are
      opened. These are budgets, not exact counts: spare budget stays unused when
      no further site adds coverage, and new sites that add nothing are not opened;
    * every NEW lower site lies within ``nest_cutoff_m`` (``site_cost[lower, upper]``)
      of an open upper site, existing or new (not itself);
    * existing sites stay open at their level and count for coverage and nesting;
      existing lower sites need not be nested (those that are not are listed in
      ``info['unnested_existing_lower']``); an existing site is never re-levelled;
    * excluded sites are never opened.

    Solved exactly as one HiGHS MIP (binary ``yU_j``, ``yL_j`` per free candidate,
    continuous ``zL``, ``zU``) built from the pairs within the radii only, with demands
    already served by existing sites fixed, identical demand rows merged (separately
    per level, which is exact because each level's cover rows only share the site
    variables), useless site variables dropped, and a greedy + swap-interchange start.
    Exact solves of district-sized instances (about 1,000 demands x 200 candidates)
    take seconds; much larger ones may need ``time_limit_s`` and then report the
    proven ``gap`` (models with more than ``LP_BOUND_NNZ`` nonzeros first get an
    interior-point LP bound, ``info['lp_bound']``, because HiGHS's own root LP can
    stall there). Every solution is re-checked by :func:`careplan.locate._check.check_solution`
    with this model's :meth:`check_rules` and :meth:`evaluate`, as for every model.

    Parameters
    ----------
    p_upper, p_lower : int
        Budget of NEW upper-level / lower-level sites (existing sites are extra).
    cutoff_upper_m, cutoff_lower_m : float
        Service cutoff of each level, in the unit of the cost (e.g. walking metres).
        (Old names ``radius_upper``, ``radius_lower``: deprecated.)
        ``cutoff_lower_m > cutoff_upper_m`` is allowed (the model stays well defined) but
        is unusual, so it gives a :class:`~careplan.CareplanWarning` (swapped values?).
    nest_cutoff_m : float
        (Old name ``nest_radius``: deprecated.)
        Largest ``site_cost`` from a new lower site to the upper site it nests under.
    radius_upper, radius_lower, nest_radius : float, optional
        Deprecated names of ``cutoff_upper_m``, ``cutoff_lower_m``, ``nest_cutoff_m``
        (DeprecationWarning).
    upper_weight : float, default 1.0
        Weight of upper-level coverage relative to lower-level coverage (>= 0;
        0 makes upper coverage count only through the lower-level service it gives).
    time_limit_s, mip_gap, method, verbose
        As for every :class:`LocationModel`; ``method='heuristic'`` returns the
        greedy + interchange solution with the trivial bound (all coverable weight).

    Examples
    --------
    >>> import numpy as np
    >>> cost = np.array([[0.0, 500, 900], [500, 0, 400], [900, 400, 0]])
    >>> m = HierarchicalCovering(p_upper=1, p_lower=1, cutoff_upper_m=600,
    ...                          cutoff_lower_m=300, nest_cutoff_m=600)
    >>> res = m.solve(cost, weights=[2, 1, 1], site_cost=cost)
    >>> res.objective, dict(res.level)
    (7.0, {0: 'lower', 1: 'upper'})
    """

    p_upper: int
    p_lower: int
    cutoff_upper_m: float | None = None
    cutoff_lower_m: float | None = None
    nest_cutoff_m: float | None = None
    upper_weight: float = 1.0
    radius_upper: InitVar[float | None] = OldName("cutoff_upper_m")
    radius_lower: InitVar[float | None] = OldName("cutoff_lower_m")
    nest_radius: InitVar[float | None] = OldName("nest_cutoff_m")

    model_name: ClassVar[str] = "HierarchicalCovering"
    sense: ClassVar[str] = "max"
    serves_all: ClassVar[bool] = False
    supports_capacity: ClassVar[bool] = False
    supports_split: ClassVar[bool] = False

    def __post_init__(self, *old: float | None) -> None:
        super().__post_init__(*old)
        for name in ("p_upper", "p_lower"):
            v = getattr(self, name)
            if not isinstance(v, (int, np.integer)) or isinstance(v, bool) or v < 0:
                raise InputError(f"{name} (budget of NEW sites) must be an integer >= 0; got {v!r}.")
        for name in ("cutoff_upper_m", "cutoff_lower_m", "nest_cutoff_m"):
            v = getattr(self, name)
            if v is None:
                raise InputError(f"{self._old_name(name)} is required (in the unit of the cost, e.g. metres).")
            if isinstance(v, bool) or not isinstance(v, (int, float, np.integer, np.floating)) \
                    or not np.isfinite(v) or v < 0:
                raise InputError(f"{name} must be a finite number >= 0 (same unit as the cost); got {v!r}.")
        uw = self.upper_weight
        if isinstance(uw, bool) or not isinstance(uw, (int, float, np.integer, np.floating)) \
                or not np.isfinite(uw) or uw < 0:
            raise InputError(f"upper_weight must be a finite number >= 0; got {uw!r}.")
        if self.cutoff_lower_m > self.cutoff_upper_m:
            warnings.warn(self._radius_note(), CareplanWarning, stacklevel=3)

    def service_cutoff(self) -> float | None:
        """The lower-level cutoff: ``covered`` is lower-level coverage (``covered_upper`` the upper one).

        Returns
        -------
        float or None
            ``cutoff_lower_m``, in the cost's unit.
        """
        return self.cutoff_lower_m

    def evaluate(self, solution: Solution) -> float:
        """Lower-level plus weighted upper-level covered weight, from the cost data alone.

        ``sum_i w_i [an open site of either level within cutoff_lower_m]
        + upper_weight * sum_i w_i [an open upper site within cutoff_upper_m]``.

        Parameters
        ----------
        solution : Solution
            Open sites with ``solution.upper`` the open sites at the upper level
            (None: no upper site).

        Returns
        -------
        float
            In the unit of the weights (e.g. elderly).
        """
        upper = solution.upper if solution.upper is not None else np.zeros_like(solution.is_open)
        cov_l = solution.nearest_cost() <= self.cutoff_lower_m
        cov_u = solution.nearest_cost(upper & solution.is_open) <= self.cutoff_upper_m
        w = solution.weights
        return float(w[cov_l].sum() + self.upper_weight * w[cov_u].sum())

    def check_rules(self, solution: Solution) -> list[str]:
        """The two-level rules, as messages for each violation (empty list if none).

        Upper sites are open; existing upper sites stay upper and existing lower
        sites stay lower (``solution.extra['existing_upper']``, mask of shape
        (n_candidates,)); at most ``p_upper`` / ``p_lower`` new sites per level;
        every new lower site lies within ``nest_cutoff_m`` of another open upper site
        (``solution.extra['site_matrix']``, CSR of shape (n_candidates,
        n_candidates), row = lower site, stored entries reachable); every demand is
        served by its nearest open site of either level within ``cutoff_lower_m``.

        Parameters
        ----------
        solution : Solution

        Returns
        -------
        list of str
        """
        cand = solution.data.candidates
        upper = solution.upper if solution.upper is not None else np.zeros_like(solution.is_open)
        ex_u = np.asarray(solution.extra.get("existing_upper", np.zeros_like(upper)), dtype=bool)
        ex_l = solution.existing & ~ex_u
        errs = []
        if (upper & ~solution.is_open).any():
            errs.append(f"upper-level sites not open: {cand[upper & ~solution.is_open][:10].tolist()}")
        if (ex_u & ~upper).any():
            errs.append(f"existing upper sites not open as upper: {cand[ex_u & ~upper][:10].tolist()}")
        if (ex_l & upper).any():
            errs.append(f"existing lower sites opened as upper: {cand[ex_l & upper][:10].tolist()}")
        new_u = upper & ~solution.existing
        new_l = solution.is_open & ~upper & ~solution.existing
        if int(new_u.sum()) > self.p_upper:
            errs.append(f"{int(new_u.sum())} new upper sites opened, budget p_upper={self.p_upper}")
        if int(new_l.sum()) > self.p_lower:
            errs.append(f"{int(new_l.sum())} new lower sites opened, budget p_lower={self.p_lower}")
        sm = solution.extra["site_matrix"]
        open_u = upper & solution.is_open
        for j in np.flatnonzero(new_l):
            ks = sm.indices[sm.indptr[j]:sm.indptr[j + 1]]
            ds = sm.data[sm.indptr[j]:sm.indptr[j + 1]]
            if not ((ds <= self.nest_cutoff_m) & open_u[ks] & (ks != j)).any():
                errs.append(f"new lower site {cand[j]!r} has no open upper site within nest_cutoff_m "
                            f"{self.nest_cutoff_m:g}")
        return errs + nearest_rule(solution, self.cutoff_lower_m)

    def _radius_note(self) -> str:
        return (f"cutoff_lower_m={self.cutoff_lower_m:g} is larger than cutoff_upper_m={self.cutoff_upper_m:g}: "
                "upper sites then give lower-level service farther than their own upper-level "
                "service. Allowed, but check the values are not swapped.")

    # ------------------------------------------------------------------ solve
    def solve(self, cost: Any, *, weights: Any = None, existing: Any = None, excluded: Any = None,
              capacity: Any = None, demand_labels: Any = None, candidate_labels: Any = None,
              site_cost: Any = None, existing_upper: Any = None, existing_lower: Any = None) -> LocationResult:
        """Choose new upper and lower sites.

        Follows the common ``solve`` contract of :class:`LocationModel`; the
        two-level inputs are the keyword arguments ``existing`` (with levels) and
        ``site_cost``.

        Parameters
        ----------
        cost : array of shape (n_demand, n_candidates), sparse matrix or DataFrame
            Demand x candidate cost, any form :func:`cost_from_input` accepts.
        weights : array-like of shape (n_demand,) or Series, optional
            Demand weights (e.g. elderly); default 1.
        existing : mapping or Series, optional
            Candidate label -> ``'upper'`` or ``'lower'``: sites open already at that
            level (they stay open, at that level).
        excluded : labels, optional
            Candidate labels that must not be opened.
        capacity : None
            Not supported (no capacitated variant); anything else raises :class:`InputError`.
        demand_labels, candidate_labels : sequence, optional
            Labels for array costs (and the candidate set of a long table).
        site_cost : array of shape (n_candidates, n_candidates), sparse matrix or DataFrame
            Candidate x candidate cost (row = lower site, column = upper site), same forms
            as ``cost`` and over the same candidate labels, e.g.
            ``net.distance_matrix(candidates, candidates, cutoff_m=nest_cutoff_m)``.
            Only pairs within ``nest_cutoff_m`` matter; absent pairs are unreachable.
        existing_upper, existing_lower : labels, optional
            Deprecated form of ``existing`` (labels per level); still accepted with a
            :class:`DeprecationWarning`.

        Returns
        -------
        LocationResult
            ``covered`` is the lower-level coverage, ``covered_upper`` the upper-level
            one, ``level`` the level of each selected site, ``assignment`` the nearest
            open site of either level within ``cutoff_lower_m``. ``objective`` is
            recomputed from the cost data by an independent check.

        Raises
        ------
        InputError
            Malformed inputs, unknown levels, a site both existing and excluded, budgets
            larger than the free candidates, ``capacity`` given, or ``site_cost`` missing.
        """
        t0 = time.perf_counter()
        if capacity is not None:
            raise InputError(f"{self.model_name} has no capacitated variant; drop capacity=.")
        data = cost_from_input(cost, weights=weights, demand_labels=demand_labels,
                               candidate_labels=candidate_labels)
        cand = data.candidates
        ex_u, ex_l = _existing_levels(existing, existing_upper, existing_lower, cand)
        exc = labels_to_mask(excluded, cand, "excluded")
        both = (ex_u | ex_l) & exc
        if both.any():
            raise InputError(f"sites {cand[both][:10].tolist()} are both existing and excluded; an existing "
                             "site always stays open, so remove them from excluded.")
        free = ~ex_u & ~ex_l & ~exc
        n_free = int(free.sum())
        if self.p_upper + self.p_lower > n_free:
            raise InputError(
                f"p_upper + p_lower = {self.p_upper} + {self.p_lower} new sites requested but only {n_free} "
                f"candidates can be opened ({int(ex_u.sum())} existing upper, {int(ex_l.sum())} existing lower, "
                f"{int(exc.sum())} excluded; a site hosts one level); lower the budgets or add candidates.")
        site = site_matrix_from_input(site_cost, cand)
        notes = []
        if self.cutoff_lower_m > self.cutoff_upper_m:
            notes.append(self._radius_note())
        deadline = t0 + self.time_limit_s if self.time_limit_s is not None else None
        t_prep = time.perf_counter() - t0

        # coverage within each radius and the nesting pairs, built once for the model and the clean-up
        AL = _within(data.matrix, self.cutoff_lower_m)
        AU = _within(data.matrix, self.cutoff_upper_m)
        NS = _nest_matrix(site, self.nest_cutoff_m)
        sol = self._solve_hier(data, AL, AU, NS, ex_u, ex_l, exc, deadline)
        open_u, open_l = sol["open_upper"], sol["open_lower"]
        open_u, open_l, n_dropped = _drop_useless(data, AL, AU, NS, open_u, open_l, ex_u, ex_l,
                                                  self.upper_weight)
        is_open = open_u | open_l
        assign = nearest_assignment(data, is_open, self.cutoff_lower_m)
        cov_u = nearest_open(data, open_u)[0] <= self.cutoff_upper_m
        if (open_u & open_l).any():  # pragma: no cover - a bug in the model
            raise SolverError(f"{self.model_name}: sites open at both levels; this is a careplan bug, please "
                              "report it with the input.")
        objective = check_solution(self, data, is_open=is_open, assign=assign, existing=ex_u | ex_l,
                                   excluded=exc, capacity=None, objective=sol["objective"],
                                   extra={"site_matrix": site, "existing_upper": ex_u}, upper=open_u)
        info = dict(sol["info"])
        info["n_dropped_useless"] = n_dropped
        nest_ok = NS @ open_u.astype(float) > 0
        info["unnested_existing_lower"] = cand[ex_l & ~nest_ok].tolist()
        info["n_new_upper"] = int((open_u & ~ex_u).sum())
        info["n_new_lower"] = int((open_l & ~ex_l).sum())
        if notes:
            info["warnings"] = notes
        raw = RawSolution(open_u | open_l, assign, objective, sol["bound"], sol["status"], sol["method"],
                          sol["solve_time_s"], sol["build_time_s"], info)
        return self._result(data, raw, ex_u | ex_l, objective, t_prep,
                            site_level=np.where(open_u, UPPER, LOWER).astype(object), covered_upper=cov_u)

    # ------------------------------------------------------------------ model
    def _solve_hier(self, data: CostData, AL: sp.csr_array, AU: sp.csr_array, NS: sp.csr_array,
                    ex_u: np.ndarray, ex_l: np.ndarray, exc: np.ndarray, deadline: float | None) -> dict:
        t0 = time.perf_counter()
        n, m = data.shape
        w = data.weights
        need = w > 0
        uw = float(self.upper_weight)
        fcols = np.flatnonzero(~ex_u & ~ex_l & ~exc)
        nf = len(fcols)
        pre_l = need & (AL @ (ex_u | ex_l).astype(float) > 0)
        pre_u = need & (AU @ ex_u.astype(float) > 0)
        const = float(w[pre_l].sum() + uw * w[pre_u].sum())
        BL, wL = _merged_rows(AL, need & ~pre_l, fcols, w)
        if uw > 0:
            BU, wU = _merged_rows(AU, need & ~pre_u, fcols, w)
        else:
            BU, wU = sp.csr_array((0, nf)), np.zeros(0)
        # nesting among free sites (row = lower, column = upper, no self-nesting)
        nested_ex = np.asarray(NS @ ex_u.astype(float)).ravel()[fcols] > 0
        NF = sp.csr_array(NS[fcols][:, fcols])
        has_host = np.diff(NF.indptr) > 0
        covers_l = np.diff(sp.csc_array(BL).indptr) > 0
        covers_u = np.diff(sp.csc_array(BU).indptr) > 0
        can_l = covers_l & (nested_ex | has_host)
        needs_host = can_l & ~nested_ex
        is_host = np.zeros(nf, dtype=bool)
        hsub = NF[np.flatnonzero(needs_host)]
        is_host[hsub.indices] = True
        keep_u = covers_l | covers_u | is_host
        info: dict[str, Any] = {"n_lower_rows": int(BL.shape[0]), "n_upper_rows": int(BU.shape[0]),
                                "n_upper_vars": int(keep_u.sum()), "n_lower_vars": int(can_l.sum()),
                                "n_pairs": int(BL.nnz + BU.nnz)}
        total = float(wL.sum() + uw * wU.sum())

        g_u, g_l = _greedy(BL, wL, BU, wU, uw, keep_u, can_l, nested_ex, NF, self.p_upper, self.p_lower)
        build = time.perf_counter() - t0
        t1 = time.perf_counter()
        g_val = _reduced_value(BL, wL, BU, wU, uw, g_u, g_l)
        heur = "greedy"
        if g_val < total - 1e-9 * max(1.0, total) and len(g_u):
            g_u, g_l, n_moves = _interchange(BL, wL, BU, wU, uw, keep_u, can_l, nested_ex, NF, g_u, g_l,
                                             deadline)
            info["interchange_moves"] = n_moves
            info["greedy_value"] = g_val
            g_val = _reduced_value(BL, wL, BU, wU, uw, g_u, g_l)
            heur = "greedy+interchange"
        if g_val >= total - 1e-9 * max(1.0, total):
            y_u, y_l, val = g_u, g_l, g_val
            status, bound, method = "optimal", total, heur
        elif self.method == "heuristic":
            y_u, y_l, val = g_u, g_l, g_val
            status, bound, method = "heuristic", total, heur
        else:
            y_u, y_l, bound, status = self._mip(BL, wL, BU, wU, uw, keep_u, can_l, needs_host, NF,
                                                g_u, g_l, deadline, info)
            val = _reduced_value(BL, wL, BU, wU, uw, y_u, y_l)
            method = "mip"
        open_u = ex_u.copy()
        open_u[fcols[y_u]] = True
        open_l = ex_l.copy()
        open_l[fcols[y_l]] = True
        return {"open_upper": open_u, "open_lower": open_l, "objective": val + const,
                "bound": bound + const, "status": status, "method": method,
                "solve_time_s": time.perf_counter() - t1, "build_time_s": build, "info": info}

    def _mip(self, BL, wL, BU, wU, uw, keep_u, can_l, needs_host, NF, g_u, g_l, deadline, info):
        nf = len(keep_u)
        uvars = np.flatnonzero(keep_u)
        lvars = np.flatnonzero(can_l)
        nU, nL = len(uvars), len(lvars)
        rl, ru = BL.shape[0], BU.shape[0]
        umap = np.full(nf, -1, dtype=np.int64)
        umap[uvars] = np.arange(nU)
        lmap = np.full(nf, -1, dtype=np.int64)
        lmap[lvars] = nU + np.arange(nL)
        o_zl = nU + nL
        o_zu = o_zl + rl
        nv = o_zu + ru
        R, C, V = [], [], []
        row = 0
        # lower cover: zL_r - sum_{j in N_r} (yU_j + yL_j) <= 0
        er = np.repeat(np.arange(rl), np.diff(BL.indptr))
        ej = BL.indices
        R += [row + np.arange(rl), row + er]
        C += [o_zl + np.arange(rl), umap[ej]]
        V += [np.ones(rl), -np.ones(len(ej))]
        hl = lmap[ej] >= 0
        R.append(row + er[hl])
        C.append(lmap[ej[hl]])
        V.append(-np.ones(int(hl.sum())))
        row += rl
        # upper cover: zU_r - sum_{j in M_r} yU_j <= 0
        er = np.repeat(np.arange(ru), np.diff(BU.indptr))
        R += [row + np.arange(ru), row + er]
        C += [o_zu + np.arange(ru), umap[BU.indices]]
        V += [np.ones(ru), -np.ones(BU.nnz)]
        row += ru
        # one level per site: yU_j + yL_j <= 1
        both = np.flatnonzero(keep_u & can_l)
        R += [row + np.arange(len(both))] * 2
        C += [umap[both], lmap[both]]
        V += [np.ones(len(both))] * 2
        row += len(both)
        # nesting: yL_j - sum_{k in H_j} yU_k <= 0 (sites not nested under an existing upper)
        nh = np.flatnonzero(needs_host)
        H = NF[nh]
        hr = np.repeat(np.arange(len(nh)), np.diff(H.indptr))
        R += [row + np.arange(len(nh)), row + hr]
        C += [lmap[nh], umap[H.indices]]
        V += [np.ones(len(nh)), -np.ones(H.nnz)]
        row += len(nh)
        n_le1 = len(both)
        # budgets
        R += [np.full(nU, row), np.full(nL, row + 1)]
        C += [np.arange(nU), nU + np.arange(nL)]
        V += [np.ones(nU), np.ones(nL)]
        row += 2
        Rr, Cc, Vv = np.concatenate(R), np.concatenate(C), np.concatenate(V)
        if (Cc < 0).any():  # pragma: no cover - a bug in the reductions
            raise AssertionError("hierarchical model refers to a dropped variable")
        A = sp.csc_array((Vv, (Rr, Cc)), shape=(row, nv))
        hi = np.concatenate((np.zeros(rl + ru), np.ones(n_le1), np.zeros(len(nh)),
                             [float(self.p_upper), float(self.p_lower)]))
        lo = np.full(row, -np.inf)
        c = np.concatenate((np.zeros(nU + nL), wL, uw * wU))
        integer = np.zeros(nv, dtype=bool)
        integer[:nU + nL] = True
        yl_all = g_u | g_l
        start = np.concatenate((g_u[uvars].astype(float), g_l[lvars].astype(float),
                                np.minimum(BL @ yl_all.astype(float), 1.0),
                                np.minimum(BU @ g_u.astype(float), 1.0)))
        lp_bound = np.inf
        if A.nnz > LP_BOUND_NNZ:
            # HiGHS's MIP solves its root LP by dual simplex, which stalls on large covering
            # models; an interior-point LP gives the same (LP) bound much sooner
            remaining = None if deadline is None else max(deadline - time.perf_counter(), 0.01) / 2
            try:
                lp = solve_mip(c, A, lo, hi, np.zeros(nv), np.ones(nv), np.zeros(nv, dtype=bool),
                               maximize=True, time_limit_s=remaining, verbose=bool(self.verbose),
                               options={"solver": "ipm"})
                if lp.status == "optimal":
                    lp_bound = float(lp.objective) * (1 + 1e-9) + 1e-9
                info["lp_bound"] = float(lp.objective) if lp.status == "optimal" else None
            except SolverError:  # the LP ran out of time: keep the MIP's own bound
                info["lp_bound"] = None
        remaining = None if deadline is None else max(deadline - time.perf_counter(), 0.01)
        res = solve_mip(c, A, lo, hi, np.zeros(nv), np.ones(nv), integer, maximize=True,
                        time_limit_s=remaining, mip_gap=self.mip_gap, start=start,
                        verbose=bool(self.verbose))
        info["n_rows"] = int(row)
        info["n_vars"] = int(nv)
        x = res.x
        y_u = np.zeros(nf, dtype=bool)
        y_u[uvars] = x[:nU] > 0.5
        y_l = np.zeros(nf, dtype=bool)
        y_l[lvars] = x[nU:nU + nL] > 0.5
        return y_u, y_l, min(float(res.bound), lp_bound), res.status
