"""Formulation reductions shared by the models (pure numpy / scipy)."""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp

__all__ = ["submatrix", "binary", "within", "collapse_rows", "dominated_columns", "dominated_rows", "reduce_cover",
           "greedy_cover"]


def submatrix(mat: sp.csr_array, row_mask: np.ndarray, col_mask: np.ndarray,
              entry_mask: np.ndarray | None = None) -> tuple[sp.csr_array, np.ndarray, np.ndarray]:
    """Rows/columns/entries subset of a CSR matrix, keeping explicit zeros.

    Returns (sub, rows, cols): ``rows``/``cols`` map sub positions to the original.
    """
    rows = np.flatnonzero(row_mask)
    cols = np.flatnonzero(col_mask)
    colmap = np.full(mat.shape[1], -1, dtype=np.int64)
    colmap[cols] = np.arange(len(cols))
    counts = np.diff(mat.indptr)[rows]
    starts = mat.indptr[:-1][rows]
    total = int(counts.sum())
    offs = np.arange(total, dtype=np.int64) - np.repeat(np.cumsum(counts) - counts, counts)
    ent = np.repeat(starts, counts) + offs
    keep = col_mask[mat.indices[ent]]
    if entry_mask is not None:
        keep &= entry_mask[ent]
    ent = ent[keep]
    newrow = np.repeat(np.arange(len(rows), dtype=np.int64), counts)[keep]
    indptr = np.zeros(len(rows) + 1, dtype=np.int64)
    np.cumsum(np.bincount(newrow, minlength=len(rows)), out=indptr[1:])
    sub = sp.csr_array((mat.data[ent], colmap[mat.indices[ent]], indptr), shape=(len(rows), len(cols)))
    sub.has_sorted_indices = True
    return sub, rows, cols


def binary(A: sp.csr_array) -> sp.csr_array:
    """The same sparsity pattern with every stored entry set to 1 (a coverage matrix)."""
    return sp.csr_array((np.ones(A.nnz), A.indices, A.indptr), shape=A.shape)


def within(mat: sp.csr_array, radius: float) -> np.ndarray:
    """Entry mask: pairs with cost <= radius."""
    return mat.data <= radius


def collapse_rows(A: sp.csr_array, w: np.ndarray) -> tuple[sp.csr_array, np.ndarray, np.ndarray]:
    """Merge rows with identical column sets (weights summed).

    Returns (unique_rows_matrix, summed_weights, group_of_each_row).
    """
    n = A.shape[0]
    keys: dict[bytes, int] = {}
    group = np.empty(n, dtype=np.int64)
    first = []
    ind, ptr = A.indices, A.indptr
    for i in range(n):
        k = ind[ptr[i]:ptr[i + 1]].tobytes()
        g = keys.get(k)
        if g is None:
            g = len(first)
            keys[k] = g
            first.append(i)
        group[i] = g
    first = np.asarray(first, dtype=np.int64)
    wsum = np.bincount(group, weights=w, minlength=len(first))
    sub, _, _ = submatrix(A, _mask(n, first), np.ones(A.shape[1], bool))
    return sub, wsum, group


def _mask(n: int, idx: np.ndarray) -> np.ndarray:
    m = np.zeros(n, dtype=bool)
    m[idx] = True
    return m


def _contained_pairs(S: sp.csr_array, max_work: float) -> tuple[np.ndarray, np.ndarray, np.ndarray] | None:
    """Pairs ``(a, b)``, ``a != b``, of rows of ``S`` whose column set of ``a`` lies within ``b``'s.

    Returns (a, b, row sizes), or None when the pairwise product would cost more
    than ``max_work`` pair operations.
    """
    elem_deg = np.bincount(S.indices, minlength=S.shape[1]).astype(float)
    if float((elem_deg ** 2).sum()) > max_work:
        return None
    B = sp.csr_array((np.ones(S.nnz), S.indices, S.indptr), shape=S.shape)
    C = (B @ B.T).tocoo()
    size = np.diff(B.indptr)
    keep = (C.row != C.col) & (C.data >= size[C.row] - 0.5)
    return C.row[keep], C.col[keep], size


def dominated_columns(A: sp.csr_array, max_work: float = 8e7) -> np.ndarray:
    """Columns whose row set is contained in another column's (ties: keep the first).

    Returns a boolean mask of dominated columns (all False when the check would
    cost more than ``max_work`` pair operations).
    """
    m = A.shape[1]
    pairs = _contained_pairs(sp.csr_array(sp.csc_array(A).T), max_work)
    if pairs is None:
        return np.zeros(m, dtype=bool)
    j, k, size = pairs  # column j's rows lie within column k's: drop j (on a tie, the later one)
    dom = (size[k] > size[j]) | ((size[k] == size[j]) & (k < j))
    out = np.zeros(m, dtype=bool)
    out[j[dom]] = True
    out[size == 0] = True
    return out


def dominated_rows(A: sp.csr_array, max_work: float = 8e7) -> np.ndarray:
    """Rows whose column set contains another row's (ties: keep the first).

    In a set covering, a cover of the other row covers these rows too, so they
    can be dropped. Returns a boolean mask (all False when the check would cost
    more than ``max_work`` pair operations).
    """
    n = A.shape[0]
    pairs = _contained_pairs(sp.csr_array(A), max_work)
    if pairs is None:
        return np.zeros(n, dtype=bool)
    k, i, size = pairs  # row k's columns lie within row i's: drop i (on a tie, the later one)
    dom = (size[i] > size[k]) | ((size[i] == size[k]) & (k < i))
    out = np.zeros(n, dtype=bool)
    out[i[dom]] = True
    return out


def reduce_cover(A: sp.csr_array, *, max_rounds: int = 10) -> tuple[sp.csr_array, np.ndarray, np.ndarray]:
    """Set-covering reductions: drop dominated rows and dominated columns until nothing changes.

    Every optimal cover of the reduced matrix (mapped back) is an optimal cover of
    ``A`` for unit column costs. Returns (reduced, kept_rows, kept_cols).
    """
    rows = np.arange(A.shape[0])
    cols = np.arange(A.shape[1])
    for _ in range(max_rounds):
        rd = dominated_rows(A)
        A, r, _ = submatrix(A, ~rd, np.ones(A.shape[1], bool))
        rows = rows[r]
        cd = dominated_columns(A)
        A, _, c = submatrix(A, np.ones(A.shape[0], bool), ~cd)
        cols = cols[c]
        if not rd.any() and not cd.any():
            break
    return A, rows, cols


def greedy_cover(A: sp.csr_array) -> np.ndarray:
    """Greedy set cover of all rows of A (every row must have an entry). Column mask."""
    n, m = A.shape
    csc = sp.csc_array(A)
    uncovered = np.ones(n, dtype=bool)
    chosen = np.zeros(m, dtype=bool)
    gain = np.diff(csc.indptr).astype(np.int64)
    while uncovered.any():
        j = int(np.argmax(gain))
        if gain[j] <= 0:
            break
        chosen[j] = True
        rows = csc.indices[csc.indptr[j]:csc.indptr[j + 1]]
        newly = rows[uncovered[rows]]
        uncovered[newly] = False
        # lower the gain of every column touching the newly covered rows
        sub = A[newly] if len(newly) else None
        if sub is not None:
            np.subtract.at(gain, sub.indices, 1)
    return chosen
