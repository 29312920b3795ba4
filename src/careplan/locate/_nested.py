"""Inputs and search steps of :class:`~careplan.locate.HierarchicalCovering`.

The existing sites' levels, the site x site matrix, the nesting matrix, and the greedy,
interchange and drop steps of the heuristic (the model and its MIP: ``_hierarchy.py``).
"""

from __future__ import annotations

import time
import warnings
from typing import Any

import numpy as np
import pandas as pd
import scipy.sparse as sp

from careplan._errors import InputError

from ._cost import LONG_COLUMNS, CostData, cost_from_input, labels_to_mask
from ._reduce import binary, collapse_rows, submatrix

UPPER, LOWER = "upper", "lower"


def _existing_levels(existing: Any, existing_upper: Any, existing_lower: Any,
                     cand: pd.Index) -> tuple[np.ndarray, np.ndarray]:
    """Masks of existing upper / lower sites from ``existing`` (label -> level) or the old per-level lists."""
    if existing_upper is not None or existing_lower is not None:
        warnings.warn("HierarchicalCovering.solve(existing_upper=, existing_lower=) is deprecated; use "
                      "existing={label: 'upper' or 'lower'} (a dict or Series).", DeprecationWarning, stacklevel=3)
        if existing is not None:
            raise InputError("give existing= (label -> level) or the old existing_upper=/existing_lower=, "
                             "not both.")
        ex_u = labels_to_mask(existing_upper, cand, "existing_upper")
        ex_l = labels_to_mask(existing_lower, cand, "existing_lower")
        both = ex_u & ex_l
        if both.any():
            raise InputError(f"sites {cand[both][:10].tolist()} are in both existing_upper and existing_lower; "
                             "a site hosts one level: list each in one of them only.")
        return ex_u, ex_l
    if existing is None:
        return np.zeros(len(cand), bool), np.zeros(len(cand), bool)
    if isinstance(existing, dict):
        existing = pd.Series(existing, dtype=object)
    if not isinstance(existing, pd.Series):
        raise InputError("HierarchicalCovering needs the level of each existing site: give existing= as a "
                         "dict or Series mapping candidate label -> 'upper' or 'lower', e.g. "
                         "{'s1': 'upper', 's7': 'lower'}.")
    if existing.index.has_duplicates:
        dup = existing.index[existing.index.duplicated()][:10].tolist()
        raise InputError(f"existing lists sites more than once: {dup}; a site hosts one level.")
    bad = ~existing.isin([UPPER, LOWER])
    if bad.any():
        raise InputError(f"existing levels must be 'upper' or 'lower'; got {existing[bad].head(10).to_dict()}.")
    ex_u = labels_to_mask(existing.index[(existing == UPPER).to_numpy()], cand, "existing")
    ex_l = labels_to_mask(existing.index[(existing == LOWER).to_numpy()], cand, "existing")
    return ex_u, ex_l


def site_matrix_from_input(site_cost: Any, candidates: pd.Index) -> sp.csr_array:
    """Candidate x candidate cost as a canonical CSR over ``candidates`` (rows and columns).

    Accepts the forms of :func:`cost_from_input`; a wide DataFrame must have exactly the
    candidate labels as index and columns (any order), an array/sparse matrix must be
    ``n_candidates x n_candidates`` in candidate order.
    """
    m = len(candidates)
    if site_cost is None:
        raise InputError("HierarchicalCovering.solve needs site_cost=: the candidate x candidate cost "
                         "(row = lower site, column = upper site), e.g. "
                         "net.distance_matrix(candidates, candidates, cutoff_m=nest_cutoff_m).")
    try:
        if isinstance(site_cost, pd.DataFrame) and set(LONG_COLUMNS).issubset(site_cost.columns):
            sd = cost_from_input(site_cost, demand_labels=candidates, candidate_labels=candidates)
        elif isinstance(site_cost, pd.DataFrame):
            for what, idx in (("index", site_cost.index), ("columns", site_cost.columns)):
                if idx.has_duplicates:
                    raise InputError(f"its {what} has duplicated labels {idx[idx.duplicated()][:10].tolist()}.")
                missing = candidates.difference(idx)
                extra = pd.Index(idx).difference(candidates)
                if len(missing) or len(extra):
                    raise InputError(f"its {what} must be exactly the candidate labels (columns of the cost); "
                                     f"missing {missing[:10].tolist()}, not candidates {extra[:10].tolist()}.")
            sd = cost_from_input(site_cost.reindex(index=candidates, columns=candidates))
        else:
            shape = site_cost.shape if sp.issparse(site_cost) else np.shape(site_cost)
            if tuple(shape) != (m, m):
                raise InputError(f"it must be n_candidates x n_candidates = {m} x {m} (the candidates are "
                                 f"the columns of the cost); got shape {tuple(shape)}.")
            sd = cost_from_input(site_cost, demand_labels=candidates, candidate_labels=candidates)
    except InputError as exc:
        raise InputError(f"site_cost (candidate x candidate): {exc}") from exc
    return sd.matrix


def _within(M: sp.csr_array, radius: float) -> sp.csr_array:
    """Binary matrix of the stored pairs with cost <= radius (same shape)."""
    n, m = M.shape
    return binary(submatrix(M, np.ones(n, bool), np.ones(m, bool), M.data <= radius)[0])


def _nest_matrix(site: sp.csr_array, nest_radius: float) -> sp.csr_array:
    """Binary (lower, upper) pairs within nest_radius, without the diagonal."""
    m = site.shape[0]
    rows = np.repeat(np.arange(m, dtype=np.int64), np.diff(site.indptr))
    keep = (site.data <= nest_radius) & (site.indices != rows)
    out = sp.csr_array((np.ones(int(keep.sum())), (rows[keep], site.indices[keep])), shape=site.shape)
    out.sort_indices()
    return out


def _merged_rows(A: sp.csr_array, rows_mask: np.ndarray, cols: np.ndarray, w: np.ndarray):
    """Rows of ``A`` (mask) over ``cols`` (sorted), empty rows dropped, identical rows merged
    (weights summed)."""
    col_mask = np.zeros(A.shape[1], dtype=bool)
    col_mask[cols] = True
    sub, rows, _ = submatrix(A, rows_mask, col_mask)
    nonempty = np.diff(sub.indptr) > 0
    sub, kept, _ = submatrix(sub, nonempty, np.ones(len(cols), bool))
    out, wsum, _ = collapse_rows(sub, w[rows[kept]])
    return out, wsum


def _reduced_value(BL, wL, BU, wU, uw, y_u, y_l) -> float:
    cl = BL @ (y_u | y_l).astype(float) > 0
    cu = BU @ y_u.astype(float) > 0
    return float(wL[cl].sum() + uw * wU[cu].sum())


def _greedy(BL, wL, BU, wU, uw, keep_u, can_l, nested_ex, NF, p_upper, p_lower):
    """Greedy start: repeatedly open the (site, level) with the largest gain, a lower
    site only where it nests under an open (or existing) upper site."""
    nf = len(keep_u)
    y_u = np.zeros(nf, dtype=bool)
    y_l = np.zeros(nf, dtype=bool)
    if nf == 0:
        return y_u, y_l
    BLt = sp.csr_array(BL.T)
    BUt = sp.csr_array(BU.T)
    NFc = sp.csc_array(NF)
    cov_l = np.zeros(BL.shape[0], dtype=bool)
    cov_u = np.zeros(BU.shape[0], dtype=bool)
    hosted = nested_ex.copy()
    left_u, left_l = p_upper, p_lower
    while left_u > 0 or left_l > 0:
        g_l = BLt @ np.where(cov_l, 0.0, wL)
        g_u = g_l + uw * (BUt @ np.where(cov_u, 0.0, wU))
        closed = ~y_u & ~y_l
        gu = np.where(keep_u & closed, g_u, -1.0) if left_u > 0 else np.full(nf, -1.0)
        gl = np.where(can_l & hosted & closed, g_l, -1.0) if left_l > 0 else np.full(nf, -1.0)
        ju, jl = int(np.argmax(gu)), int(np.argmax(gl))
        if max(gu[ju], gl[jl]) <= 0:
            break
        if gl[jl] > gu[ju] or (gl[jl] == gu[ju] and left_u == 0):
            j = jl
            y_l[j] = True
            left_l -= 1
        else:
            j = ju
            y_u[j] = True
            left_u -= 1
            cov_u[BUt.indices[BUt.indptr[j]:BUt.indptr[j + 1]]] = True
            hosted[NFc.indices[NFc.indptr[j]:NFc.indptr[j + 1]]] = True
        cov_l[BLt.indices[BLt.indptr[j]:BLt.indptr[j + 1]]] = True
    return y_u, y_l


def _interchange(BL, wL, BU, wU, uw, keep_u, can_l, nested_ex, NF, y_u, y_l, deadline,
                 max_passes: int = 50):
    """Swap local search within each level (an open site for a closed one) keeping nesting.

    Each open site in turn is swapped for the closed site that raises the objective most
    (if any does); passes repeat until none improves, ``max_passes`` or the deadline.
    Returns (y_u, y_l, number of swaps made).
    """
    y_u, y_l = y_u.copy(), y_l.copy()
    BLt, BUt = sp.csr_array(BL.T), sp.csr_array(BU.T)
    NFc = sp.csc_array(NF)
    cnt_l = np.asarray(BL @ (y_u | y_l).astype(float)).ravel()
    cnt_u = np.asarray(BU @ y_u.astype(float)).ravel()
    hcnt = np.asarray(NF @ y_u.astype(float)).ravel()
    tol = 1e-9 * max(1.0, float(wL.sum() + uw * wU.sum()))
    moves = 0

    def rows(M, j):
        return M.indices[M.indptr[j]:M.indptr[j + 1]]

    for _ in range(max_passes):
        improved = False
        for j in np.flatnonzero(y_u | y_l):
            if deadline is not None and time.perf_counter() > deadline:
                return y_u, y_l, moves
            if not (y_u[j] or y_l[j]):
                continue
            upper = bool(y_u[j])
            rl = rows(BLt, j)
            cl = cnt_l.copy()
            cl[rl] -= 1
            loss = float(wL[rl][cl[rl] < 0.5].sum())
            gain = BLt @ np.where(cl < 0.5, wL, 0.0)
            closed = ~y_u & ~y_l
            if upper:
                ru = rows(BUt, j)
                cu = cnt_u.copy()
                cu[ru] -= 1
                loss += uw * float(wU[ru][cu[ru] < 0.5].sum())
                if uw > 0:
                    gain = gain + uw * (BUt @ np.where(cu < 0.5, wU, 0.0))
                dep = rows(NFc, j)
                orphans = dep[y_l[dep] & ~nested_ex[dep] & (hcnt[dep] < 1.5)]
                ok = keep_u & closed
                if len(orphans):
                    ok &= np.asarray(NF[orphans].sum(axis=0)).ravel() >= len(orphans) - 0.5
            else:
                ok = can_l & closed & (nested_ex | (hcnt > 0.5))
            ok[j] = False
            if not ok.any():
                continue
            k = int(np.argmax(np.where(ok, gain, -np.inf)))
            if gain[k] - loss <= tol:
                continue
            # apply the swap j -> k
            cnt_l[rl] -= 1
            cnt_l[rows(BLt, k)] += 1
            if upper:
                cnt_u[ru] -= 1
                cnt_u[rows(BUt, k)] += 1
                hcnt[rows(NFc, j)] -= 1
                hcnt[rows(NFc, k)] += 1
                y_u[j], y_u[k] = False, True
            else:
                y_l[j], y_l[k] = False, True
            moves += 1
            improved = True
        if not improved:
            break
    return y_u, y_l, moves


def _drop_useless(data: CostData, AL: sp.csr_array, AU: sp.csr_array, NS: sp.csr_array, open_u: np.ndarray,
                  open_l: np.ndarray, ex_u: np.ndarray, ex_l: np.ndarray, upper_weight: float):
    """Close new sites whose closing loses no weighted coverage and breaks no nesting.

    Returns new (open_upper, open_lower, number closed); the objective is unchanged.
    """
    open_u, open_l = open_u.copy(), open_l.copy()
    need = data.weights > 0
    ALc = sp.csc_array(AL)
    AUc = sp.csc_array(AU)
    NSc = sp.csc_array(NS)
    cnt_l = np.asarray(ALc @ (open_u | open_l).astype(float)).ravel()
    cnt_u = np.asarray(AUc @ open_u.astype(float)).ravel()
    dropped = 0

    def col(M, j):
        return M.indices[M.indptr[j]:M.indptr[j + 1]]

    for j in np.flatnonzero(open_l & ~ex_l):
        r = col(ALc, j)
        if not (need[r] & (cnt_l[r] < 1.5)).any():
            open_l[j] = False
            cnt_l[r] -= 1
            dropped += 1
    new_l = open_l & ~ex_l
    hosts = np.asarray(NS @ open_u.astype(float)).ravel()
    for k in np.flatnonzero(open_u & ~ex_u):
        rl, ru = col(ALc, k), col(AUc, k)
        if (need[rl] & (cnt_l[rl] < 1.5)).any():
            continue
        if upper_weight > 0 and (need[ru] & (cnt_u[ru] < 1.5)).any():
            continue
        dep = col(NSc, k)
        dep = dep[new_l[dep]]
        if (hosts[dep] < 1.5).any():
            continue
        open_u[k] = False
        cnt_l[rl] -= 1
        cnt_u[ru] -= 1
        hosts[dep] -= 1
        dropped += 1
    return open_u, open_l, dropped
