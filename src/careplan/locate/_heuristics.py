"""Fast p-median heuristics and a Lagrangian lower bound (numba kernels).

All kernels work on the reachable pairs only (CSR / CSC arrays); an absent
pair is unreachable. Demands passed in must have positive weight.

* :func:`nearest_two` - distance to the nearest and second-nearest open site.
* :func:`greedy` - add the site with the largest saving, p times.
* :func:`interchange` - best-improvement vertex substitution (Teitz-Bart) with
  Whitaker's fast evaluation: one pass over the pairs scores every swap.
* :func:`lagrangian` - relax the assignment constraints; subgradient
  optimisation gives a proven lower bound and reduced-cost fixing.
"""

from __future__ import annotations

import time

import numpy as np
from numba import njit

__all__ = ["nearest_two", "greedy", "interchange", "lagrangian", "pmedian_cost"]


@njit(cache=True)
def nearest_two(indptr, indices, data, is_open):
    """Per row: (d1, phi1, d2) over open columns; inf / -1 when none."""
    n = len(indptr) - 1
    d1 = np.full(n, np.inf)
    d2 = np.full(n, np.inf)
    phi1 = np.full(n, -1, dtype=np.int64)
    for i in range(n):
        for k in range(indptr[i], indptr[i + 1]):
            j = indices[k]
            if is_open[j]:
                d = data[k]
                if d < d1[i]:
                    d2[i] = d1[i]
                    d1[i] = d
                    phi1[i] = j
                elif d < d2[i]:
                    d2[i] = d
    return d1, phi1, d2


def pmedian_cost(csr, w, is_open):
    d1, _, _ = nearest_two(csr.indptr, csr.indices, csr.data, is_open)
    return float(np.dot(w, d1)) if np.all(np.isfinite(d1)) else np.inf


@njit(cache=True)
def _greedy(c_indptr, c_indices, c_data, w, d1, can_open, is_open, p):
    m = len(c_indptr) - 1
    for _ in range(p):
        best = -1.0
        bj = -1
        for j in range(m):
            if is_open[j] or not can_open[j]:
                continue
            g = 0.0
            for k in range(c_indptr[j], c_indptr[j + 1]):
                i = c_indices[k]
                if c_data[k] < d1[i]:
                    g += w[i] * (d1[i] - c_data[k])
            if g > best:
                best = g
                bj = j
        if bj < 0:
            break
        is_open[bj] = True
        for k in range(c_indptr[bj], c_indptr[bj + 1]):
            i = c_indices[k]
            if c_data[k] < d1[i]:
                d1[i] = c_data[k]
    return is_open


def greedy(csr, csc, w, fixed_open, can_open, p):
    """Greedy add: start from ``fixed_open`` and open ``p`` more of ``can_open``."""
    is_open = fixed_open.copy()
    d1, _, _ = nearest_two(csr.indptr, csr.indices, csr.data, is_open)
    big = (float(csr.data.max()) + 1.0) * 1e6 if csr.nnz else 1.0
    d1 = np.where(np.isfinite(d1), d1, big)
    return _greedy(csc.indptr, csc.indices, csc.data, w, d1, can_open, is_open, p)


@njit(cache=True)
def _best_swap(c_indptr, c_indices, c_data, w, d1, phi1, d2, is_open, can_open, removable, tol):
    m = len(c_indptr) - 1
    n = len(d1)
    base = np.zeros(m)
    crit = np.zeros(m, dtype=np.int64)
    for i in range(n):
        r = phi1[i]
        if np.isinf(d2[i]):
            crit[r] += 1
        else:
            base[r] += w[i] * (d2[i] - d1[i])
    rem = np.flatnonzero(removable & is_open)
    corr = np.zeros(m)
    ccrit = np.zeros(m, dtype=np.int64)
    best = -tol
    bj = -1
    br = -1
    for j in range(m):
        if is_open[j] or not can_open[j]:
            continue
        gain = 0.0
        for k in range(c_indptr[j], c_indptr[j + 1]):
            i = c_indices[k]
            d = c_data[k]
            r = phi1[i]
            if d < d1[i]:
                gain += w[i] * (d1[i] - d)
                m1 = d
            else:
                m1 = d1[i]
            if np.isinf(d2[i]):
                ccrit[r] -= 1
                corr[r] += w[i] * (d - m1)
            else:
                m2 = d if d < d2[i] else d2[i]
                corr[r] += w[i] * ((m2 - m1) - (d2[i] - d1[i]))
        for r in rem:
            if crit[r] + ccrit[r] > 0:
                continue
            delta = -gain + base[r] + corr[r]
            if delta < best:
                best = delta
                bj = j
                br = r
        for k in range(c_indptr[j], c_indptr[j + 1]):
            r = phi1[c_indices[k]]
            corr[r] = 0.0
            ccrit[r] = 0
    return bj, br, best


def interchange(csr, csc, w, is_open, can_open, removable, *, time_limit_s=None, max_swaps=100000):
    """Best-improvement swaps until none improves. Returns (is_open, cost, n_swaps)."""
    t0 = time.perf_counter()
    is_open = is_open.copy()
    d1, phi1, d2 = nearest_two(csr.indptr, csr.indices, csr.data, is_open)
    if not np.all(np.isfinite(d1)):
        return is_open, np.inf, 0
    cost = float(np.dot(w, d1))
    swaps = 0
    while swaps < max_swaps:
        if time_limit_s is not None and time.perf_counter() - t0 > time_limit_s:
            break
        tol = 1e-10 * max(1.0, abs(cost))
        j, r, delta = _best_swap(csc.indptr, csc.indices, csc.data, w, d1, phi1, d2,
                                 is_open, can_open, removable, tol)
        if j < 0:
            break
        is_open[j] = True
        is_open[r] = False
        d1, phi1, d2 = nearest_two(csr.indptr, csr.indices, csr.data, is_open)
        new = float(np.dot(w, d1))
        if not new < cost:  # numerical safety: never accept a non-improving move
            is_open[j] = False
            is_open[r] = True
            d1, phi1, d2 = nearest_two(csr.indptr, csr.indices, csr.data, is_open)
            break
        cost = new
        swaps += 1
    return is_open, cost, swaps


@njit(cache=True)
def _rho(c_indptr, c_indices, c_data, w, lam):
    m = len(c_indptr) - 1
    rho = np.zeros(m)
    for j in range(m):
        s = 0.0
        for k in range(c_indptr[j], c_indptr[j + 1]):
            v = w[c_indices[k]] * c_data[k] - lam[c_indices[k]]
            if v < 0.0:
                s += v
        rho[j] = s
    return rho


@njit(cache=True)
def _subgrad(c_indptr, c_indices, c_data, w, lam, chosen, n):
    g = np.ones(n)
    for j in chosen:
        for k in range(c_indptr[j], c_indptr[j + 1]):
            i = c_indices[k]
            if w[i] * c_data[k] < lam[i]:
                g[i] -= 1.0
    return g


def _lagr_value(rho, lam, fixed_open, free_idx, p):
    """Lagrangian value and the chosen free columns (p smallest rho)."""
    val = float(lam.sum()) + float(rho[fixed_open].sum())
    if p > 0:
        r = rho[free_idx]
        part = np.argpartition(r, p - 1)[:p] if p < len(r) else np.arange(len(r))
        chosen = free_idx[part]
        val += float(rho[chosen].sum())
    else:
        chosen = free_idx[:0]
    return val, chosen


def lagrangian(csr, csc, w, fixed_open, can_open, p, ub, ub_open, *, target_gap=1e-6,
               max_iter=2000, time_limit_s=None, lam0=None, theta0=2.0):
    """Subgradient optimisation of the Lagrangian dual of the p-median.

    Returns dict with ``bound``, ``lam``, ``rho``, the best Lagrangian open set
    ``lagr_open`` (feasible candidates for an upper bound) and ``iterations``.
    """
    t0 = time.perf_counter()
    n = csr.shape[0]
    free_idx = np.flatnonzero(can_open & ~fixed_open)
    d1, _, _ = nearest_two(csr.indptr, csr.indices, csr.data, ub_open)
    lam = w * np.where(np.isfinite(d1), d1, 0.0) if lam0 is None else lam0.copy()
    starts: list[np.ndarray] = []
    best_lb = -np.inf
    best_lam = lam.copy()
    best_rho = None
    theta = theta0
    stall = 0
    it = 0
    fixed_idx = np.flatnonzero(fixed_open)
    chosen_best = None
    improved: list[float] = []
    hist: list[float] = []
    for it in range(1, max_iter + 1):  # noqa: B007 - count is reported
        rho = _rho(csc.indptr, csc.indices, csc.data, w, lam)
        val, chosen = _lagr_value(rho, lam, fixed_idx, free_idx, p)
        if val > best_lb + 1e-12 * max(1.0, abs(val)):
            best_lb, best_lam, best_rho, chosen_best = val, lam.copy(), rho, chosen
            stall = 0
        else:
            stall += 1
            if stall >= 15:
                theta /= 2.0
                stall = 0
        hist.append(best_lb)
        if ub - best_lb <= target_gap * max(abs(ub), 1e-12) or theta < 1e-5:
            break
        if it > 150 and best_lb - hist[-100] <= 1e-6 * max(abs(best_lb), 1e-12):
            break  # the bound has stalled
        if time_limit_s is not None and time.perf_counter() - t0 > time_limit_s:
            break
        if it % 5 == 1:  # Lagrangian heuristic: the relaxed open set is a feasible solution
            trial = fixed_open.copy()
            trial[chosen] = True
            if it > 50 and it % 50 == 1:  # keep a few for interchange restarts
                starts = [*starts[-3:], trial]
            c = pmedian_cost(csr, w, trial)
            if c < ub:
                ub, ub_open = c, trial
                improved.append(c)
        g = _subgrad(csc.indptr, csc.indices, csc.data, w, lam, np.concatenate((fixed_idx, chosen)), n)
        norm = float(g @ g)
        if norm == 0.0:  # the relaxed solution is feasible and complementary: optimal
            break
        step = theta * (ub - val) / norm
        lam = np.maximum(lam + step * g, 0.0)
    lagr_open = fixed_open.copy()
    if chosen_best is not None:
        lagr_open[chosen_best] = True
    return {"bound": best_lb, "lam": best_lam, "rho": best_rho, "lagr_open": lagr_open,
            "iterations": it, "free_idx": free_idx, "ub": ub, "ub_open": ub_open,
            "ub_improvements": len(improved), "starts": [*starts, lagr_open]}


def reduced_cost_fixing(lagr, fixed_open, p, ub, tol):
    """Sites that must be closed / open in any solution strictly better than ``ub``."""
    rho, free_idx = lagr["rho"], lagr["free_idx"]
    lb = lagr["bound"]
    close = np.zeros(len(rho), dtype=bool)
    force = np.zeros(len(rho), dtype=bool)
    if rho is None or p <= 0 or p >= len(free_idx):
        return close, force
    r = rho[free_idx]
    order = np.argsort(r, kind="stable")
    rp = r[order[p - 1]]  # largest chosen
    rp1 = r[order[p]]  # smallest not chosen
    chosen = np.zeros(len(r), dtype=bool)
    chosen[order[:p]] = True
    # opening j (not chosen) instead of the p-th: bound lb + r_j - rp
    close_loc = ~chosen & (lb + r - rp >= ub - tol)
    force_loc = chosen & (lb - r + rp1 >= ub - tol)
    close[free_idx[close_loc]] = True
    force[free_idx[force_loc]] = True
    return close, force


# ----------------------------------------------------------------- maximal covering
@njit(cache=True)
def _mclp_counts(c_indptr, c_indices, n, is_open):
    cnt = np.zeros(n, dtype=np.int64)
    who = np.zeros(n, dtype=np.int64)
    for j in range(len(c_indptr) - 1):
        if is_open[j]:
            for k in range(c_indptr[j], c_indptr[j + 1]):
                cnt[c_indices[k]] += 1
                who[c_indices[k]] += j
    return cnt, who


@njit(cache=True)
def _mclp_best_swap(c_indptr, c_indices, w, is_open, cnt, who):
    m = len(c_indptr) - 1
    loss = np.zeros(m)
    for r in range(m):
        if is_open[r]:
            s = 0.0
            for k in range(c_indptr[r], c_indptr[r + 1]):
                if cnt[c_indices[k]] == 1:
                    s += w[c_indices[k]]
            loss[r] = s
    rem = np.flatnonzero(is_open)
    corr = np.zeros(m)
    best = 1e-9
    bj = -1
    br = -1
    for j in range(m):
        if is_open[j]:
            continue
        gain = 0.0
        for k in range(c_indptr[j], c_indptr[j + 1]):
            i = c_indices[k]
            if cnt[i] == 0:
                gain += w[i]
            elif cnt[i] == 1:
                corr[who[i]] += w[i]
        for r in rem:
            d = gain - loss[r] + corr[r]
            if d > best:
                best = d
                bj = j
                br = r
        for k in range(c_indptr[j], c_indptr[j + 1]):
            i = c_indices[k]
            if cnt[i] == 1:
                corr[who[i]] = 0.0
    return bj, br, best


def mclp_interchange(A_csc, w, is_open, *, target=np.inf, time_limit_s=None, max_swaps=10000):
    """Best-improvement swaps for maximal covering (A: binary coverage, rows x sites).

    Stops early when the covered weight reaches ``target`` (an upper bound).
    """
    t0 = time.perf_counter()
    is_open = is_open.copy()
    n = A_csc.shape[0]
    for _ in range(max_swaps):
        cnt, who = _mclp_counts(A_csc.indptr, A_csc.indices, n, is_open)
        if float(w[cnt > 0].sum()) >= target - 1e-9:
            break
        if time_limit_s is not None and time.perf_counter() - t0 > time_limit_s:
            break
        j, r, _ = _mclp_best_swap(A_csc.indptr, A_csc.indices, w, is_open, cnt, who)
        if j < 0:
            break
        is_open[j] = True
        is_open[r] = False
    cnt, _ = _mclp_counts(A_csc.indptr, A_csc.indices, n, is_open)
    return is_open, float(w[cnt > 0].sum())
