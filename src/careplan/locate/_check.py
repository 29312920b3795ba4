"""Independent check of a location solution against the original cost data.

Nothing here uses the solvers' internal models: the open set and assignment
are checked against the rules of the model and the objective is recomputed
from the cost matrix. A violation raises :class:`~careplan.SolverError`.
"""

from __future__ import annotations

import numpy as np

from careplan._errors import SolverError

from ._cost import CostData

__all__ = ["check_solution", "check_hierarchical", "pair_cost", "nearest_open"]


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


def check_solution(model: str, data: CostData, *, is_open: np.ndarray, assign: np.ndarray,
                   existing: np.ndarray, excluded: np.ndarray, capacity: np.ndarray | None,
                   p: int | None, radius: float | None, objective: float) -> float:
    """Check a solution and return the objective recomputed from the cost data.

    Parameters
    ----------
    model : {'set_covering', 'maximal_covering', 'p_median', 'p_center'}
    is_open : bool array over candidates; assign : int array over demands (-1 = none).
    objective : the objective the solver reported (checked to 1e-7 relative).
    """
    w = data.weights
    need = w > 0
    errs: list[str] = []
    if (existing & ~is_open).any():
        errs.append(f"existing sites closed: {data.candidates[existing & ~is_open][:10].tolist()}")
    if (excluded & is_open).any():
        errs.append(f"excluded sites opened: {data.candidates[excluded & is_open][:10].tolist()}")
    n_new = int((is_open & ~existing).sum())
    if p is not None and n_new != p:
        errs.append(f"{n_new} new sites opened, p={p}")
    has = assign >= 0
    if (has & ~is_open[np.where(has, assign, 0)]).any():
        errs.append("demands assigned to a closed site")
    d = np.full(len(assign), np.nan)
    d[has] = pair_cost(data, np.flatnonzero(has), assign[has])
    if np.isnan(d[has]).any():
        errs.append("demands assigned to an unreachable site")
    if radius is not None and (d[has] > radius).any():
        errs.append("demands assigned beyond the radius")
    if capacity is not None:
        load = np.bincount(assign[has], weights=w[has], minlength=len(is_open))
        over = load > capacity * (1 + 1e-9) + 1e-9
        if over.any():
            errs.append(f"capacity exceeded at {data.candidates[over][:10].tolist()}")
    best, _ = nearest_open(data, is_open)
    if model in ("p_median", "p_center", "set_covering") and (need & ~has).any():
        errs.append(f"{int((need & ~has).sum())} demands with positive weight left unassigned")
    if capacity is None and model in ("p_median", "p_center"):
        # uncapacitated: every demand must go to its nearest open site
        if (has & ~np.isclose(d, best, rtol=1e-12, atol=0)).any():
            errs.append("a demand is not assigned to its nearest open site")
    if capacity is None and model in ("maximal_covering", "set_covering"):
        if (has & ~(best <= radius)).any() or ((best <= radius) & need & ~has).any():
            errs.append("coverage does not match the open sites")
    if model == "p_median":
        recomputed = float(np.dot(w[has], d[has]))
    elif model == "p_center":
        recomputed = float(d[has & need].max()) if (has & need).any() else 0.0
    elif model == "maximal_covering":
        recomputed = float(w[has].sum())
    else:
        recomputed = float(n_new)
    if not _close(recomputed, objective):
        errs.append(f"reported objective {objective!r} but the cost data give {recomputed!r}")
    if errs:
        raise SolverError(f"{model} solution failed the independent check: " + "; ".join(errs)
                          + ". This is a careplan bug; please report it with the input.")
    return recomputed


def check_hierarchical(data: CostData, site_matrix, *, open_upper: np.ndarray, open_lower: np.ndarray,
                       assign: np.ndarray, covered_upper: np.ndarray, existing_upper: np.ndarray,
                       existing_lower: np.ndarray, excluded: np.ndarray, p_upper: int, p_lower: int,
                       radius_upper: float, radius_lower: float, nest_radius: float,
                       upper_weight: float, objective: float) -> float:
    """Check a two-level (hierarchical covering) solution; return the recomputed objective.

    Checks: existing sites open at their level, excluded sites closed, one level per
    site, at most ``p_upper`` / ``p_lower`` new sites per level, every NEW lower site
    within ``nest_radius`` (``site_matrix[lower, upper]``, stored entries reachable)
    of another open upper site, the assignment (nearest open site of either level
    within ``radius_lower``), the reported upper coverage, and the objective
    ``sum w * covered_lower + upper_weight * sum w * covered_upper`` to 1e-7 relative.
    """
    w = data.weights
    cand = data.candidates
    errs: list[str] = []
    if (open_upper & open_lower).any():
        errs.append(f"sites open at both levels: {cand[open_upper & open_lower][:10].tolist()}")
    if (existing_upper & ~open_upper).any():
        errs.append(f"existing upper sites not open as upper: {cand[existing_upper & ~open_upper][:10].tolist()}")
    if (existing_lower & ~open_lower).any():
        errs.append(f"existing lower sites not open as lower: {cand[existing_lower & ~open_lower][:10].tolist()}")
    is_open = open_upper | open_lower
    if (excluded & is_open).any():
        errs.append(f"excluded sites opened: {cand[excluded & is_open][:10].tolist()}")
    new_u = open_upper & ~existing_upper
    new_l = open_lower & ~existing_lower
    if int(new_u.sum()) > p_upper:
        errs.append(f"{int(new_u.sum())} new upper sites opened, budget p_upper={p_upper}")
    if int(new_l.sum()) > p_lower:
        errs.append(f"{int(new_l.sum())} new lower sites opened, budget p_lower={p_lower}")
    # nesting, pair by pair from the site matrix
    sm = site_matrix
    for j in np.flatnonzero(new_l):
        ks = sm.indices[sm.indptr[j]:sm.indptr[j + 1]]
        ds = sm.data[sm.indptr[j]:sm.indptr[j + 1]]
        if not ((ds <= nest_radius) & open_upper[ks] & (ks != j)).any():
            errs.append(f"new lower site {cand[j]!r} has no open upper site within nest_radius {nest_radius:g}")
    # coverage and assignment
    best_any, _ = nearest_open(data, is_open)
    best_up, _ = nearest_open(data, open_upper)
    cov_l = best_any <= radius_lower
    cov_u = best_up <= radius_upper
    has = assign >= 0
    if (has & ~is_open[np.where(has, assign, 0)]).any():
        errs.append("demands assigned to a closed site")
    d = np.full(len(assign), np.nan)
    d[has] = pair_cost(data, np.flatnonzero(has), assign[has])
    if np.isnan(d[has]).any() or (d[has] > radius_lower).any():
        errs.append("demands assigned to a site beyond radius_lower")
    if (has != cov_l).any() or (has & ~np.isclose(d, best_any, rtol=1e-12, atol=0)).any():
        errs.append("assignment is not the nearest open site within radius_lower")
    if (np.asarray(covered_upper, dtype=bool) != cov_u).any():
        errs.append("reported upper-level coverage does not match the open upper sites")
    recomputed = float(w[cov_l].sum() + upper_weight * w[cov_u].sum())
    if not _close(recomputed, objective):
        errs.append(f"reported objective {objective!r} but the cost data give {recomputed!r}")
    if errs:
        raise SolverError("hierarchical covering solution failed the independent check: " + "; ".join(errs)
                          + ". This is a careplan bug; please report it with the input.")
    return recomputed
