"""Normalise the cost input of a location model.

Every model accepts the cost in one of the forms fixed in ``docs/ARCHITECTURE.md``
and works internally on one representation, :class:`CostData`: a CSR matrix whose
*stored* entries are the reachable demand/candidate pairs (explicit zeros kept),
plus the demand and candidate labels and the demand weights.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
import scipy.sparse as sp

from careplan._errors import InputError

__all__ = ["CostData", "cost_from_input", "labels_to_mask", "capacity_array", "per_candidate"]

LONG_COLUMNS = ("origin", "destination", "distance_m")


@dataclass(frozen=True)
class CostData:
    """Reachable demand/candidate pairs with labels and weights.

    Attributes
    ----------
    matrix : scipy.sparse.csr_array
        ``n_demand x n_candidate``; stored entries are the reachable pairs
        (zeros included), absent entries are unreachable. Canonical (sorted,
        no duplicates), float64 data, int64 index arrays.
    demand : pandas.Index
        Demand labels (unique), in row order.
    candidates : pandas.Index
        Candidate labels (unique), in column order.
    weights : numpy.ndarray
        Non-negative finite demand weights, in row order.
    """

    matrix: sp.csr_array
    demand: pd.Index
    candidates: pd.Index
    weights: np.ndarray

    @property
    def shape(self) -> tuple[int, int]:
        return self.matrix.shape

    def csc(self) -> sp.csc_array:
        """Column-major copy (explicit zeros kept).

        Returns
        -------
        scipy.sparse.csc_array
            Shape (n_demands, n_candidates), the same entries as ``matrix``.
        """
        return _csr_to_csc(self.matrix)


def _csr_to_csc(m: sp.csr_array) -> sp.csc_array:
    # scipy keeps explicit zeros through tocsc(); sort indices for the kernels
    out = sp.csc_array(m.tocsc(copy=True))
    out.sort_indices()
    return out


def _label_list(labels: pd.Index, positions: np.ndarray, limit: int = 10) -> str:
    shown = [repr(x) for x in labels[positions[:limit]]]
    more = f" and {len(positions) - limit} more" if len(positions) > limit else ""
    return ", ".join(shown) + more


def _check_unique(index: pd.Index, what: str) -> pd.Index:
    if index.has_duplicates:
        dup = index[index.duplicated()].unique()[:10].tolist()
        raise InputError(f"{what} labels must be unique; duplicated: {dup}. Give each {what} a distinct id.")
    return index


def _from_dense(values: np.ndarray) -> sp.csr_array:
    values = np.asarray(values, dtype=float)
    if values.ndim != 2:
        raise InputError(f"cost must be 2-dimensional (demand x candidate); got shape {values.shape}.")
    reach = np.isfinite(values)
    rows, cols = np.nonzero(reach)
    data = values[rows, cols]
    mat = sp.csr_array((data, (rows, cols)), shape=values.shape)
    mat.has_sorted_indices = True
    return mat, values


def _check_values(mat: sp.csr_array, demand: pd.Index, candidates: pd.Index) -> None:
    data = mat.data
    bad = np.isnan(data)
    if bad.any():
        k = int(np.flatnonzero(bad)[0])
        i = int(np.searchsorted(mat.indptr, k, side="right") - 1)
        raise InputError(f"cost has a NaN stored for demand {demand[i]!r} and candidate "
                         f"{candidates[mat.indices[k]]!r}; store only reachable pairs (or use np.inf).")
    neg = data < 0
    if neg.any():
        k = int(np.flatnonzero(neg)[0])
        i = int(np.searchsorted(mat.indptr, k, side="right") - 1)
        raise InputError(f"cost must be non-negative; demand {demand[i]!r} -> candidate "
                         f"{candidates[mat.indices[k]]!r} has {data[k]!r} ({int(neg.sum())} negative entries).")


def _weights_array(weights: Any, demand: pd.Index | None, n: int | None) -> tuple[np.ndarray | None, pd.Index | None]:
    """Return (values aligned to demand or None, labels taken from weights or None)."""
    if weights is None:
        return None, None
    if isinstance(weights, pd.DataFrame):
        raise InputError("weights must be a 1-d Series or array, not a DataFrame; pick one column, e.g. areas['elderly'].")
    if isinstance(weights, pd.Series):
        if demand is not None:
            missing = demand.difference(weights.index)
            if len(missing):
                raise InputError(f"weights has no value for demand labels {missing[:10].tolist()} "
                                 f"({len(missing)} missing); give a weight for every row of the cost.")
            _check_unique(weights.index, "weights")
            return np.asarray(weights.reindex(demand), dtype=float), None
        return np.asarray(weights, dtype=float), _check_unique(pd.Index(weights.index), "weights")
    arr = np.asarray(weights, dtype=float)
    if arr.ndim == 0:
        arr = np.full(n if n is not None else len(demand), float(arr))
    if arr.ndim != 1:
        raise InputError(f"weights must be 1-dimensional; got shape {arr.shape}.")
    return arr, None


def cost_from_input(cost: Any, *, weights: Any = None, demand_labels: Sequence | None = None,
                    candidate_labels: Sequence | None = None) -> CostData:
    """Convert any accepted cost form to :class:`CostData`.

    Parameters
    ----------
    cost : numpy.ndarray, scipy.sparse matrix/array, pandas.DataFrame
        * dense array ``n x m``: ``np.inf`` (or NaN) marks unreachable pairs;
        * sparse ``n x m``: stored entries are reachable (explicit zeros kept);
        * wide DataFrame: index = demand labels, columns = candidate labels,
          NaN/inf unreachable;
        * long DataFrame with columns ``origin``, ``destination``, ``distance_m``
          (as from ``WalkNetwork.distances``): the demand set is ``weights.index``
          (or ``demand_labels``), the candidate set is ``candidate_labels`` or the
          distinct destinations in order of appearance.
    weights : array-like or pandas.Series, optional
        Demand weights; a Series is aligned by label. Default 1 per demand.
    demand_labels, candidate_labels : sequence, optional
        Labels for the rows / columns of an array cost (default 0..n-1 / 0..m-1,
        or ``weights.index`` for the demand when weights is a Series).

    Returns
    -------
    CostData

    Raises
    ------
    InputError
        A cost that is not numeric, labels or weights whose count does not match the
        cost's rows/columns, duplicate labels, weights not finite and >= 0, or a
        stored NaN or negative cost (the message names the demand and candidate).
    """
    demand = pd.Index(demand_labels) if demand_labels is not None else None
    candidates = pd.Index(candidate_labels) if candidate_labels is not None else None

    if isinstance(cost, pd.DataFrame) and set(LONG_COLUMNS).issubset(cost.columns):
        mat, demand, candidates, w = _from_long(cost, weights, demand, candidates)
    else:
        if isinstance(cost, pd.DataFrame):
            if demand is not None or candidate_labels is not None:
                raise InputError("demand_labels/candidate_labels cannot be combined with a wide DataFrame "
                                 "cost: its index and columns are the labels.")
            demand = _check_unique(pd.Index(cost.index), "demand")
            candidates = _check_unique(pd.Index(cost.columns), "candidate")
            try:
                values = cost.to_numpy(dtype=float)
            except (TypeError, ValueError) as exc:
                raise InputError(f"wide cost DataFrame must be numeric: {exc}") from exc
            mat, _ = _from_dense(values)
        elif sp.issparse(cost):
            if cost.ndim != 2:
                raise InputError(f"cost must be 2-dimensional; got shape {cost.shape}.")
            coo = sp.coo_array(cost)
            n, m = coo.shape
            key = coo.row.astype(np.int64) * m + coo.col.astype(np.int64)
            if len(np.unique(key)) != len(key):
                raise InputError("sparse cost has duplicate entries for the same demand/candidate pair; "
                                 "call .sum_duplicates() only if summing is meant, else keep one distance per pair.")
            data = coo.data.astype(float)
            keep = ~np.isinf(data)  # a stored inf still means unreachable
            mat = sp.csr_array((data[keep], (coo.row[keep], coo.col[keep])), shape=(n, m))
        else:
            try:
                arr = np.asarray(cost, dtype=float)
            except (TypeError, ValueError) as exc:
                raise InputError(f"cost must be numeric (array, sparse matrix or DataFrame): {exc}") from exc
            mat, _ = _from_dense(arr)
        n, m = mat.shape
        w, w_labels = _weights_array(weights, demand, n)
        if demand is None:
            demand = w_labels if w_labels is not None else pd.RangeIndex(n)
        if candidates is None:
            candidates = pd.RangeIndex(m)
        if len(demand) != n:
            raise InputError(f"cost has {n} rows (demands) but {len(demand)} demand labels/weights were given.")
        if len(candidates) != m:
            raise InputError(f"cost has {m} columns (candidates) but {len(candidates)} candidate labels were given.")
        _check_unique(demand, "demand")
        _check_unique(candidates, "candidate")

    n, m = mat.shape
    if w is None:
        w = np.ones(n)
    if len(w) != n:
        raise InputError(f"cost has {n} demand rows but weights has {len(w)} values; give one weight per demand.")
    badw = ~np.isfinite(w) | (w < 0)
    if badw.any():
        pos = np.flatnonzero(badw)
        raise InputError(f"weights must be finite and >= 0; bad for demand {_label_list(demand, pos)}.")
    mat.sort_indices()
    mat = sp.csr_array((mat.data.astype(np.float64), mat.indices.astype(np.int64),
                        mat.indptr.astype(np.int64)), shape=(n, m))
    _check_values(mat, demand, candidates)
    return CostData(matrix=mat, demand=demand, candidates=candidates, weights=np.ascontiguousarray(w, dtype=float))


def _from_long(cost: pd.DataFrame, weights: Any, demand: pd.Index | None, candidates: pd.Index | None):
    if demand is None:
        if isinstance(weights, pd.Series):
            demand = pd.Index(weights.index)
        else:
            raise InputError("a long cost table (origin, destination, distance_m) lists only reachable pairs, "
                             "so the demand set must come from weights (a Series indexed by demand label) "
                             "or demand_labels=.")
    _check_unique(demand, "demand")
    if candidates is None:
        candidates = pd.Index(pd.unique(cost["destination"]))
    _check_unique(candidates, "candidate")
    rows = demand.get_indexer(cost["origin"])
    cols = candidates.get_indexer(cost["destination"])
    if (rows < 0).any():
        bad = pd.unique(cost["origin"][rows < 0])[:10].tolist()
        raise InputError(f"cost table origin labels {bad} are not among the demand labels "
                         "(weights.index / demand_labels); add them or drop those rows.")
    if (cols < 0).any():
        bad = pd.unique(cost["destination"][cols < 0])[:10].tolist()
        raise InputError(f"cost table destination labels {bad} are not among candidate_labels; "
                         "add them or drop those rows.")
    data = pd.to_numeric(cost["distance_m"], errors="coerce").to_numpy(dtype=float)
    if np.isnan(data).any():
        k = int(np.flatnonzero(np.isnan(data))[0])
        raise InputError(f"cost table row {cost.index[k]!r} has a missing/non-numeric distance_m.")
    n, m = len(demand), len(candidates)
    key = rows.astype(np.int64) * m + cols
    if len(np.unique(key)) != len(key):
        dup = cost[pd.Series(key).duplicated().to_numpy()].iloc[0]
        raise InputError(f"cost table has more than one row for origin {dup['origin']!r} -> "
                         f"destination {dup['destination']!r}; keep one distance per pair.")
    keep = ~np.isinf(data)
    mat = sp.csr_array((data[keep], (rows[keep], cols[keep])), shape=(n, m))
    w, _ = _weights_array(weights, demand, n)
    return mat, demand, candidates, w


def labels_to_mask(labels: Any, candidates: pd.Index, what: str) -> np.ndarray:
    """Boolean mask over candidates for a collection of candidate labels."""
    mask = np.zeros(len(candidates), dtype=bool)
    if labels is None:
        return mask
    if isinstance(labels, (str, bytes)) or np.isscalar(labels):
        labels = [labels]
    values = list(labels)
    _refuse_dummies(values, candidates, what)
    labels = pd.Index(values)
    pos = candidates.get_indexer(labels)
    if (pos < 0).any():
        bad = labels[pos < 0][:10].tolist()
        raise InputError(f"{what} labels {bad} are not candidate labels (columns of the cost); "
                         f"every {what} site must be a column of the cost.")
    mask[pos] = True
    return mask


def _refuse_dummies(values: list, candidates: pd.Index, what: str) -> None:
    """Refuse spopt's 0/1 dummy vectors (one entry per site), which would read as the labels {0, 1}.

    A 0/1 vector with one entry per candidate and repeated values cannot be a list
    of labels (labels are distinct), so it is refused with the way to convert it.
    """
    if len(values) != len(candidates) or len(values) < 2:
        return
    try:
        arr = np.asarray(values, dtype=float)
    except (TypeError, ValueError):
        return
    if arr.ndim != 1 or not np.isin(arr, (0.0, 1.0)).all() or len(np.unique(arr)) == len(arr):
        return
    raise InputError(
        f"{what} looks like a 0/1 (or boolean) dummy vector with one entry per site (spopt's style), but careplan takes "
        f"candidate LABELS: [0, 0, 1] would mean the sites labelled 0 and 1. Pass the labels of the {what} "
        f"sites, e.g. {what}=candidate_labels[np.asarray(dummies) == 1] (or np.flatnonzero(dummies) for an "
        "array cost without labels).")


def per_candidate(value: Any, candidates: pd.Index, what: str, *, allow_inf: bool) -> np.ndarray:
    """A scalar, an array with one value per candidate, or a Series by candidate label -> float array.

    Values must be >= 0 (and finite unless ``allow_inf``).

    Raises
    ------
    InputError
        Missing labels, wrong length, NaN, negative (or infinite) values.
    """
    m = len(candidates)
    if isinstance(value, pd.Series):
        missing = candidates.difference(value.index)
        if len(missing):
            raise InputError(f"{what} has no value for candidates {missing[:10].tolist()}; give one per candidate"
                             + (" (np.inf for unlimited)." if allow_inf else "."))
        arr = value.reindex(candidates).to_numpy(dtype=float)
    else:
        arr = np.asarray(value, dtype=float)
        if arr.ndim == 0:
            arr = np.full(m, float(arr))
        if arr.shape != (m,):
            raise InputError(f"{what} must be a scalar or have one value per candidate ({m}); got shape {arr.shape}.")
    bad = np.isnan(arr) | (arr < 0) | (~np.isfinite(arr) if not allow_inf else False)
    if bad.any():
        rule = ">= 0 (np.inf for unlimited)" if allow_inf else \
            "finite and >= 0 (leave a site out with excluded= instead of an infinite value)"
        raise InputError(f"{what} must be {rule}; bad for candidates {_label_list(candidates, np.flatnonzero(bad))}.")
    return arr


def capacity_array(capacity: Any, candidates: pd.Index) -> np.ndarray | None:
    """Capacity per candidate as a float array (np.inf = uncapacitated), or None."""
    return None if capacity is None else per_candidate(capacity, candidates, "capacity", allow_inf=True)
