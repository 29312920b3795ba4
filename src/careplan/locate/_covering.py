"""Row-weighting local search for covering models (numba kernels).

One search serves both covering models on a binary coverage matrix (rows =
demands, columns = sites):

* ``size=None`` (set covering): find covers with ever fewer columns. Whenever
  every row is covered the cover is recorded and its least useful column is
  dropped; the search then tries to cover all rows again with one column fewer.
* ``size=p`` (maximal covering): keep exactly ``p`` open columns and maximise
  the covered weight.

Each step swaps one column out (the one whose removal uncovers the least
penalty weight) and one in (the best column covering a random uncovered row),
then raises the penalty weight of every row still uncovered. The penalties
steer the search out of local optima. This is the RWLS scheme of Gao et al.
(2015, "An efficient local search heuristic with row weighting for the unicost
set covering problem", EJOR 246(3)), with the real demand weight as the
penalty increment for weighted rows.

The search only finds solutions; the models prove optimality separately (an
LP or MIP bound), and every solution is re-checked by ``_check.py``.
"""

from __future__ import annotations

import time

import numpy as np
import scipy.sparse as sp
from numba import njit

__all__ = ["cover_search"]


@njit(cache=True)
def _push_uncovered(i, w, unc, pos, nunc, uw):
    """Append row ``i`` to the uncovered list."""
    unc[nunc[0]] = i
    pos[i] = nunc[0]
    nunc[0] += 1
    uw[0] += w[i]


@njit(cache=True)
def _shift_sole_cover(i, delta, skip, r_indptr, r_indices, is_open, score):
    """Add ``delta`` to the score of the open column (other than ``skip``) covering row ``i``."""
    for t in range(r_indptr[i], r_indptr[i + 1]):
        k = r_indices[t]
        if k != skip and is_open[k]:
            score[k] += delta
            break


@njit(cache=True)
def _open_col(j, c_indptr, c_indices, r_indptr, r_indices, w, pw, is_open, cnt, score, unc, pos, nunc, uw):
    is_open[j] = True
    score[j] = -score[j]
    for q in range(c_indptr[j], c_indptr[j + 1]):
        i = c_indices[q]
        cnt[i] += 1
        if cnt[i] == 1:
            # row i leaves the uncovered list (swap-with-last)
            last = unc[nunc[0] - 1]
            unc[pos[i]] = last
            pos[last] = pos[i]
            pos[i] = -1
            nunc[0] -= 1
            uw[0] -= w[i]
            for t in range(r_indptr[i], r_indptr[i + 1]):
                k = r_indices[t]
                if k != j:
                    score[k] -= pw[i]
        elif cnt[i] == 2:  # the other open column no longer covers row i alone
            _shift_sole_cover(i, pw[i], j, r_indptr, r_indices, is_open, score)


@njit(cache=True)
def _close_col(j, c_indptr, c_indices, r_indptr, r_indices, w, pw, is_open, cnt, score, unc, pos, nunc, uw):
    is_open[j] = False
    score[j] = -score[j]
    for q in range(c_indptr[j], c_indptr[j + 1]):
        i = c_indices[q]
        cnt[i] -= 1
        if cnt[i] == 0:
            _push_uncovered(i, w, unc, pos, nunc, uw)
            for t in range(r_indptr[i], r_indptr[i + 1]):
                k = r_indices[t]
                if k != j:
                    score[k] += pw[i]
        elif cnt[i] == 1:  # the remaining open column now covers row i alone
            _shift_sole_cover(i, -pw[i], -1, r_indptr, r_indices, is_open, score)


@njit(cache=True)
def _init(c_indptr, c_indices, r_indptr, r_indices, w, pw, is_open, cnt, score, unc, pos, nunc, uw):
    n = len(r_indptr) - 1
    m = len(c_indptr) - 1
    cnt[:] = 0
    score[:] = 0.0
    for j in range(m):
        if is_open[j]:
            for q in range(c_indptr[j], c_indptr[j + 1]):
                cnt[c_indices[q]] += 1
    nunc[0] = 0
    uw[0] = 0.0
    for i in range(n):
        pos[i] = -1
        if cnt[i] == 0:
            _push_uncovered(i, w, unc, pos, nunc, uw)
            for t in range(r_indptr[i], r_indptr[i + 1]):
                score[r_indices[t]] += pw[i]
        elif cnt[i] == 1:
            _shift_sole_cover(i, -pw[i], -1, r_indptr, r_indices, is_open, score)


@njit(cache=True)
def _best_open(is_open, score, stamp, skip):
    """Open column (not ``skip``) whose removal loses the least penalty weight; oldest on ties; -1 if none."""
    bj = -1
    bs = -np.inf
    for j in range(len(is_open)):
        if is_open[j] and j != skip and (score[j] > bs or (score[j] == bs and stamp[j] < stamp[bj])):
            bs = score[j]
            bj = j
    return bj


@njit(cache=True)
def _steps(c_indptr, c_indices, r_indptr, r_indices, w, pw, is_open, cnt, score, unc, pos, nunc, uw,
           stamp, best_open, best, rng, n_steps, fixed_size, target, stop_size, step0):
    """Run up to ``n_steps`` steps; ``best`` = [best uncovered weight, best size]. Returns steps done."""
    m = len(c_indptr) - 1
    tabu_add = -1
    tabu_rem = -1
    for s in range(n_steps):
        it = step0 + s
        if nunc[0] == 0 and not fixed_size:
            # a full cover: record it, then drop its least useful column
            size = 0
            for j in range(m):
                if is_open[j]:
                    size += 1
            if size < best[1]:
                best[1] = size
                best[0] = 0.0
                best_open[:] = is_open
            if size <= stop_size:
                return s
            bj = _best_open(is_open, score, stamp, -1)
            _close_col(bj, c_indptr, c_indices, r_indptr, r_indices, w, pw, is_open, cnt, score, unc, pos,
                       nunc, uw)
            stamp[bj] = it
            tabu_add = bj
            continue
        if nunc[0] == 0:
            return s  # fixed size and everything covered: nothing better exists
        # remove the open column losing the least penalty weight (not the one just added)
        bj = _best_open(is_open, score, stamp, tabu_rem)
        if bj < 0:
            bj = tabu_rem  # one open column only: it has to go
        if bj >= 0:
            _close_col(bj, c_indptr, c_indices, r_indptr, r_indices, w, pw, is_open, cnt, score, unc, pos,
                       nunc, uw)
            stamp[bj] = it
            tabu_add = bj
        # add the best column covering a random uncovered row (not the one just removed)
        i = unc[_rand_below(rng, nunc[0])]
        aj = -1
        bs = -np.inf
        for t in range(r_indptr[i], r_indptr[i + 1]):
            k = r_indices[t]
            if k != tabu_add and (score[k] > bs or (score[k] == bs and stamp[k] < stamp[aj])):
                bs = score[k]
                aj = k
        if aj < 0:  # the row's only column was just removed: take it back
            aj = tabu_add
        _open_col(aj, c_indptr, c_indices, r_indptr, r_indices, w, pw, is_open, cnt, score, unc, pos, nunc, uw)
        stamp[aj] = it
        tabu_rem = aj
        if fixed_size and uw[0] < best[0] - 1e-9:
            best[0] = uw[0]
            best_open[:] = is_open
            if uw[0] <= target + 1e-9:
                return s + 1
        # raise the penalty of every row left uncovered
        for u in range(nunc[0]):
            r = unc[u]
            d = w[r]
            pw[r] += d
            for t in range(r_indptr[r], r_indptr[r + 1]):
                score[r_indices[t]] += d
    return n_steps


def cover_search(A: sp.sparray, w: np.ndarray | None, start: np.ndarray, *, size: int | None = None,
                 lower_bound: float = 0.0, time_limit_s: float = 1.0, max_steps: int = 10**7,
                 seed: int = 0) -> tuple[np.ndarray, float, int]:
    """Row-weighting local search from ``start`` (a column mask).

    Parameters
    ----------
    A : sparse (rows x columns), binary coverage; every row must have an entry.
    w : row weights (> 0), default 1.
    start : column mask; with ``size`` it must have exactly ``size`` columns,
        without it it must cover every row.
    size : fixed number of columns (maximal covering) or None (set covering).
    lower_bound : stop once this is reached: the uncovered weight (maximal covering)
        or the number of columns (set covering).
    time_limit_s, max_steps : effort limits.

    Returns
    -------
    (best column mask, its uncovered weight (maximal covering) or size (set covering), steps)
    """
    csc = sp.csc_array(A)
    csr = sp.csr_array(A)
    n, m = A.shape
    w = np.ones(n) if w is None else np.asarray(w, dtype=np.float64)
    args = (csc.indptr.astype(np.int64), csc.indices.astype(np.int64), csr.indptr.astype(np.int64),
            csr.indices.astype(np.int64), w)
    pw = w.copy()
    is_open = np.asarray(start, dtype=bool).copy()
    cnt = np.zeros(n, dtype=np.int64)
    score = np.zeros(m)
    unc = np.zeros(n, dtype=np.int64)
    pos = np.zeros(n, dtype=np.int64)
    nunc = np.zeros(1, dtype=np.int64)  # number of uncovered rows
    uw = np.zeros(1)  # their weight
    _init(*args, pw, is_open, cnt, score, unc, pos, nunc, uw)
    fixed = size is not None
    if not fixed and nunc[0] > 0:
        raise ValueError("cover_search: the start does not cover every row")
    stamp = np.zeros(m, dtype=np.int64)
    best_open = is_open.copy()
    best = np.array([uw[0], float(is_open.sum())])
    rng = np.array([0x9E3779B97F4A7C15 ^ (seed + 1)], dtype=np.uint64)
    t0 = time.perf_counter()
    done = 0
    chunk = 2000
    while done < max_steps and time.perf_counter() - t0 < time_limit_s:
        k = _steps(*args, pw, is_open, cnt, score, unc, pos, nunc, uw, stamp, best_open, best, rng,
                   min(chunk, max_steps - done), fixed, float(lower_bound) if fixed else 0.0,
                   int(np.ceil(lower_bound - 1e-9)) if not fixed else 0, done)
        done += k
        if k < chunk and (fixed and (best[0] <= lower_bound + 1e-9 or nunc[0] == 0)
                          or not fixed and best[1] <= np.ceil(lower_bound - 1e-9)):
            break
    value = float(best[0]) if fixed else float(best[1])
    return best_open, value, done


@njit(cache=True)
def _rand_below(rng, n):
    """xorshift64 step on ``rng[0]``; a number in [0, n) (own generator: reproducible, no global state)."""
    x = rng[0]
    x ^= (x << np.uint64(13))
    x ^= (x >> np.uint64(7))
    x ^= (x << np.uint64(17))
    rng[0] = x
    return np.int64(x % np.uint64(n))
