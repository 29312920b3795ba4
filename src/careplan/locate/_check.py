"""Independent check of a location solution against the original cost data.

Nothing here uses the solvers' internal models: the open set and assignment
are checked against the rules of the model and the objective is recomputed
from the cost matrix. A violation raises :class:`~careplan.SolverError`.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import scipy.sparse as sp

from careplan._errors import SolverError

from ._cost import CostData

__all__ = ["Solution", "check_solution", "nearest_rule", "pair_cost", "nearest_open"]


def pair_cost(data: CostData, rows: np.ndarray, cols: np.ndarray) -> np.ndarray:
    """Cost of (row, col) pairs; ``np.nan`` where the pair is not reachable."""
    mat = data.matrix
    n, m = mat.shape
    row_of = np.repeat(np.arange(n, dtype=np.int64), np.diff(mat.indptr))
    keys = row_of * m + mat.indices  # sorted because the CSR is canonical
    q = np.asarray(rows, dtype=np.int64) * m + np.asarray(cols, dtype=np.int64)
    pos = np.searchsorted(keys, q)
    pos_c = np.minimum(pos, max(len(keys) - 1, 0))
    found = (pos < len(keys)) & (keys[pos_c] == q) if len(keys) else np.zeros(len(q), bool)
    out = np.full(len(q), np.nan)
    out[found] = mat.data[pos_c[found]]
    return out


def nearest_open(data: CostData, is_open: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Per demand: (cost to the nearest open site or inf, its column or -1)."""
    mat = data.matrix
    n = mat.shape[0]
    vals = np.where(is_open[mat.indices], mat.data, np.inf)
    best = np.full(n, np.inf)
    arg = np.full(n, -1, dtype=np.int64)
    counts = np.diff(mat.indptr)
    nz = counts > 0
    if nz.any():
        starts = mat.indptr[:-1][nz]
        mins = np.minimum.reduceat(vals, starts)
        best[nz] = mins
        # first position of the minimum within each row
        row_of = np.repeat(np.arange(n), counts)
        hit = np.flatnonzero((vals == best[row_of]) & np.isfinite(vals))
        first = np.full(n, -1, dtype=np.int64)
        first_rows, idx = np.unique(row_of[hit], return_index=True)
        first[first_rows] = mat.indices[hit[idx]]
        arg = first
    return best, arg


def _close(a: float, b: float) -> bool:
    return abs(a - b) <= 1e-7 * max(1.0, abs(a), abs(b))


@dataclass(frozen=True)
class Solution:
    """A candidate solution in positional form, as the independent check sees it.

    Models compute their objective from this view (:meth:`LocationModel.evaluate`)
    using only the cost data, never the solver's internal model.

    Attributes
    ----------
    data : CostData
        The cost data of the solve.
    is_open : numpy.ndarray of bool, shape (n_candidates,)
        Open sites (existing and new).
    assign : numpy.ndarray of int, shape (n_demand,)
        Column of the site serving each demand (its largest share when split), -1 if none.
    existing, excluded : numpy.ndarray of bool, shape (n_candidates,)
        Forced-open and forbidden sites.
    capacity : numpy.ndarray of float, shape (n_candidates,), or None
        Capacity per site in weight units (``np.inf`` unlimited); None when uncapacitated.
    flow : scipy.sparse.csr_array, shape (n_demand, n_candidates), or None
        Share of each demand's weight served by each site when demand is split
        (rows sum to 1 for served demands); None when each demand is served whole.
    extra : dict
        Model-specific inputs of the solve (e.g. ``opening_cost`` per candidate).
    upper : numpy.ndarray of bool, shape (n_candidates,), or None
        Two-level models: the open sites at the upper level (the other open sites
        are at the lower level). None for one-level models.
    """

    data: CostData
    is_open: np.ndarray
    assign: np.ndarray
    existing: np.ndarray
    excluded: np.ndarray
    capacity: np.ndarray | None = None
    flow: sp.csr_array | None = None
    extra: dict = field(default_factory=dict)
    upper: np.ndarray | None = None

    @property
    def weights(self) -> np.ndarray:
        """Demand weights, shape (n_demand,)."""
        return self.data.weights

    @property
    def need(self) -> np.ndarray:
        """Demands with positive weight (they need service), shape (n_demand,)."""
        return self.data.weights > 0

    @property
    def served(self) -> np.ndarray:
        """Demands assigned to a site, shape (n_demand,)."""
        return self.assign >= 0

    @property
    def n_new(self) -> int:
        """Number of open sites that are not existing."""
        return int((self.is_open & ~self.existing).sum())

    def flow_pairs(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(rows, cols, share) of every serving pair; whole assignments have share 1.

        Returns
        -------
        rows, cols : ndarray of int, shape (n_pairs,)
            Demand and candidate positions of each serving pair.
        share : ndarray of float, shape (n_pairs,)
            Share of the demand's weight served by that site (1 when whole).
        """
        if self.flow is not None:
            f = sp.coo_array(self.flow)
            keep = f.data > 1e-9
            return f.row[keep].astype(np.int64), f.col[keep].astype(np.int64), f.data[keep]
        rows = np.flatnonzero(self.served)
        return rows, self.assign[rows], np.ones(len(rows))

    def assigned_cost(self) -> np.ndarray:
        """Cost from each demand to its site (share-weighted mean when split); NaN if unserved.

        Returns
        -------
        ndarray of float, shape (n_demand,)
            In the unit of the cost.
        """
        rows, cols, share = self.flow_pairs()
        d = pair_cost(self.data, rows, cols)
        out = np.full(len(self.assign), np.nan)
        tot = np.bincount(rows, weights=share * d, minlength=len(out))
        out[self.served] = tot[self.served]
        return out

    def max_assigned_cost(self) -> np.ndarray:
        """Largest cost over the sites serving each demand; NaN if unserved.

        Returns
        -------
        ndarray of float, shape (n_demand,)
            In the unit of the cost.
        """
        rows, cols, _ = self.flow_pairs()
        d = pair_cost(self.data, rows, cols)
        out = np.full(len(self.assign), -np.inf)
        np.maximum.at(out, rows, d)
        out[~self.served] = np.nan
        return out

    def load(self) -> np.ndarray:
        """Weight served by each site.

        Returns
        -------
        ndarray of float, shape (n_candidates,)
            Sum of demand weight x share served by each candidate (0 when closed).
        """
        rows, cols, share = self.flow_pairs()
        return np.bincount(cols, weights=share * self.weights[rows], minlength=len(self.is_open))

    def nearest_cost(self, mask: np.ndarray | None = None) -> np.ndarray:
        """Cost to the nearest site of ``mask`` (default: the open sites), inf if none.

        Parameters
        ----------
        mask : ndarray of bool, shape (n_candidates,), optional
            Sites to consider; default the open sites.

        Returns
        -------
        ndarray of float, shape (n_demand,)
            In the unit of the cost; inf where no site of ``mask`` is reachable.
        """
        return nearest_open(self.data, self.is_open if mask is None else mask)[0]

    def count_within(self, cutoff: float) -> np.ndarray:
        """Number of open sites within ``cutoff`` of each demand.

        Parameters
        ----------
        cutoff : float
            Largest cost counted (inclusive), in the unit of the cost.

        Returns
        -------
        ndarray of int, shape (n_demand,)
        """
        mat = self.data.matrix
        n = mat.shape[0]
        ok = (mat.data <= cutoff) & self.is_open[mat.indices]
        row_of = np.repeat(np.arange(n), np.diff(mat.indptr))
        return np.bincount(row_of[ok], minlength=n)


def check_solution(model, data: CostData, *, is_open: np.ndarray, assign: np.ndarray,
                   existing: np.ndarray, excluded: np.ndarray, capacity: np.ndarray | None,
                   objective: float, flow: sp.csr_array | None = None, extra: dict | None = None,
                   upper: np.ndarray | None = None) -> float:
    """Check a solution against the rules of ``model`` and recompute its objective.

    The rules every model shares are checked here (existing sites open, excluded
    sites closed, demands served only by open reachable sites, within the model's
    service cutoff, capacities, every demand with weight > 0 served where the
    model serves all); the model adds its own through
    :meth:`LocationModel.check_rules` (e.g. ``p`` new sites, nearest-site
    assignment) and recomputes the objective with :meth:`LocationModel.evaluate`.

    Parameters
    ----------
    model : LocationModel
        The model that produced the solution (its parameters and rules).
    data : CostData
        The cost data.
    is_open : numpy.ndarray of bool, shape (n_candidates,)
    assign : numpy.ndarray of int, shape (n_demand,)
        Serving site per demand (-1 none).
    existing, excluded : numpy.ndarray of bool, shape (n_candidates,)
    capacity : numpy.ndarray, shape (n_candidates,), or None
    objective : float
        The objective the solver reported; must equal the recomputed one to 1e-7 relative.
    flow : scipy.sparse.csr_array, shape (n_demand, n_candidates), optional
        Shares of split demand.
    extra : dict, optional
        Model-specific inputs (see :class:`Solution`).
    upper : numpy.ndarray of bool, shape (n_candidates,), optional
        Two-level models: the open sites at the upper level.

    Returns
    -------
    float
        The objective recomputed from the cost data.

    Raises
    ------
    SolverError
        If any rule is violated or the objective differs.
    """
    sol = Solution(data, np.asarray(is_open, dtype=bool), np.asarray(assign, dtype=np.int64),
                   np.asarray(existing, dtype=bool), np.asarray(excluded, dtype=bool), capacity, flow,
                   dict(extra or {}), None if upper is None else np.asarray(upper, dtype=bool))
    errs: list[str] = []
    if (sol.existing & ~sol.is_open).any():
        errs.append(f"existing sites closed: {data.candidates[sol.existing & ~sol.is_open][:10].tolist()}")
    if (sol.excluded & sol.is_open).any():
        errs.append(f"excluded sites opened: {data.candidates[sol.excluded & sol.is_open][:10].tolist()}")
    rows, cols, share = sol.flow_pairs()
    if (~sol.is_open[cols]).any():
        errs.append("demands assigned to a closed site")
    d = pair_cost(data, rows, cols)
    if np.isnan(d).any():
        errs.append("demands assigned to an unreachable site")
    cutoff = model.service_cutoff()
    if cutoff is not None and (d > cutoff).any():
        errs.append(f"demands assigned beyond the cutoff {cutoff:g}")
    if flow is not None:
        tot = np.bincount(rows, weights=share, minlength=len(sol.assign))
        if (tot > 1 + 1e-6).any() or (~sol.served & (tot > 1e-9)).any():
            errs.append("split shares of a demand sum to more than 1, or an unserved demand has shares")
        if model.serves_all and (sol.served & ~np.isclose(tot, 1.0, atol=1e-6)).any():
            errs.append("split shares of a served demand do not sum to 1")
    if capacity is not None:
        over = sol.load() > capacity * (1 + 1e-9) + 1e-9
        if over.any():
            errs.append(f"capacity exceeded at {data.candidates[over][:10].tolist()}")
    if model.serves_all and (sol.need & ~sol.served).any():
        errs.append(f"{int((sol.need & ~sol.served).sum())} demands with positive weight left unassigned")
    errs += model.check_rules(sol)
    recomputed = float(model.evaluate(sol))
    if not _close(recomputed, objective):
        errs.append(f"reported objective {objective!r} but the cost data give {recomputed!r}")
    if errs:
        raise SolverError(f"{model.model_name} solution failed the independent check: " + "; ".join(errs)
                          + ". If this is a careplan model, this is a careplan bug; please report it with "
                          "the input. If it is your own model, its _solve and evaluate disagree.")
    return recomputed


def nearest_rule(sol: Solution, cutoff: float | None) -> list[str]:
    """Uncapacitated rule: each demand served by its nearest open site (within ``cutoff``).

    Returns the violations as messages (empty if none).
    """
    best = sol.nearest_cost()
    d = sol.assigned_cost()
    has = sol.served
    errs = []
    if (has & ~np.isclose(d, best, rtol=1e-12, atol=0)).any():
        errs.append("a demand is not assigned to its nearest open site")
    if cutoff is not None and ((best <= cutoff) & sol.need & ~has).any():
        errs.append("coverage does not match the open sites")
    return errs
