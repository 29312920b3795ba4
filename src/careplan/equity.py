"""Equity of access: Gini, Lorenz curve, Palma ratio, share outside the circle.

Plain functions on plain arrays and frames, so the coverage result, a 2SFCA
score or the plan's before/after tables can all be measured the same way.
Each measure is population-weighted: a value belongs to ``weight`` people
(elderly or households of an estate), as in accessibility-equity studies
(e.g. Lorenz/Gini of 2SFCA scores weighted by population).

Definitions
-----------
* Lorenz curve: sort units by value (ascending); cumulative share of people
  (x) against cumulative share of the value they hold (y), from (0, 0) to (1, 1).
* Gini: 1 - 2 * (area under the Lorenz curve), the trapezoid rule on the
  weighted points, i.e. the exact Gini of the weighted discrete distribution
  (equal weights: ``sum_i sum_j |x_i - x_j| / (2 n^2 mean)``); 0 = equal,
  -> 1 = one unit holds everything.
* Palma ratio (Palma 2011; Cobham & Sumner 2013): share of the value held by
  the top 10 % of people over the share held by the bottom 40 %, the
  Lorenz curve read at 0.4 and 0.9 (linear between its points, so a unit
  straddling a cut is split).
* Share outside: weight of the units not covered over the total weight.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from careplan._errors import InputError

__all__ = ["before_after", "equity_by", "gini", "lorenz", "palma", "share_outside"]


def _arrays(values: Any, weights: Any) -> tuple[np.ndarray, np.ndarray]:
    x = np.asarray(values, dtype=float).ravel()
    w = np.ones_like(x) if weights is None else np.asarray(weights, dtype=float).ravel()
    if isinstance(values, pd.Series) and isinstance(weights, pd.Series):
        if not values.index.equals(weights.index):
            w = weights.reindex(values.index).to_numpy(dtype=float)
    if x.shape != w.shape:
        raise InputError(f"values and weights differ in length ({x.size} and {w.size}); give one weight per value.")
    if np.isnan(w).any() or np.isinf(w).any() or (w < 0).any():
        raise InputError("weights must be finite and >= 0 (people per unit); check for missing "
                         "or negative elderly/household counts.")
    if np.isinf(x).any() or (x[~np.isnan(x)] < 0).any():
        raise InputError("values must be finite and >= 0 (an accessibility score, floor area, a distance); "
                         "NaN marks units left out (off the network).")
    keep = ~np.isnan(x)
    return x[keep], w[keep]


def lorenz(values: Any, weights: Any = None) -> pd.DataFrame:
    """Population-weighted Lorenz curve.

    Parameters
    ----------
    values : array-like of float, shape (n,)
        Value per unit (>= 0); NaN units are left out.
    weights : array-like of float, shape (n,), optional
        People per unit (default 1 each).

    Returns
    -------
    pandas.DataFrame, shape (n_kept + 1, 2)
        Columns ``population_share`` and ``value_share``, from 0 to 1.

    Raises
    ------
    InputError
        Lengths differ, negative or non-finite weights or values, no people,
        or no value at all (the curve is undefined).
    """
    x, w = _arrays(values, weights)
    if w.sum() <= 0:
        raise InputError("the weights sum to 0: there are no people to measure equity over.")
    if (x * w).sum() <= 0:
        raise InputError("every value is 0: the Lorenz curve and Gini are undefined (nobody has access).")
    order = np.argsort(x, kind="stable")
    x, w = x[order], w[order]
    p = np.concatenate([[0.0], np.cumsum(w) / w.sum()])
    v = np.concatenate([[0.0], np.cumsum(x * w) / (x * w).sum()])
    return pd.DataFrame({"population_share": p, "value_share": v})


def gini(values: Any, weights: Any = None) -> float:
    """Population-weighted Gini coefficient of ``values`` (0 equal, -> 1 concentrated).

    Parameters
    ----------
    values, weights : array-like of float, shape (n,)
        As in :func:`lorenz`.

    Returns
    -------
    float

    Raises
    ------
    InputError
        As :func:`lorenz`.
    """
    c = lorenz(values, weights)
    p, v = c["population_share"].to_numpy(), c["value_share"].to_numpy()
    return float(1.0 - np.sum(np.diff(p) * (v[1:] + v[:-1])))


def palma(values: Any, weights: Any = None) -> float:
    """Palma ratio: value share of the top 10 % of people / share of the bottom 40 %.

    Parameters
    ----------
    values, weights : array-like of float, shape (n,)
        As in :func:`lorenz`.

    Returns
    -------
    float
        ``inf`` when the bottom 40 % hold nothing.

    Raises
    ------
    InputError
        As :func:`lorenz`.
    """
    c = lorenz(values, weights)
    p, v = c["population_share"].to_numpy(), c["value_share"].to_numpy()
    bottom = float(np.interp(0.4, p, v))
    top = 1.0 - float(np.interp(0.9, p, v))
    return top / bottom if bottom > 0 else float("inf")


def share_outside(covered: Any, weights: Any = None) -> float:
    """Share of people in units that are not covered (outside the care circle).

    Parameters
    ----------
    covered : array-like of bool, shape (n,)
        Whether each unit lies within the circle.
    weights : array-like of float, shape (n,), optional
        People per unit (default 1 each).

    Returns
    -------
    float in [0, 1]

    Raises
    ------
    InputError
        Lengths differ, bad weights, non-boolean ``covered`` or no people.
    """
    c = pd.Series(covered) if not isinstance(covered, pd.Series) else covered
    if c.isna().any() or not (pd.api.types.is_bool_dtype(c) or set(pd.unique(c)) <= {0, 1}):
        raise InputError("covered must be True/False for every unit (no missing values).")
    x, w = _arrays(c.to_numpy(dtype=float), weights if not isinstance(weights, pd.Series)
                   else weights.reindex(c.index))
    if w.sum() <= 0:
        raise InputError("the weights sum to 0: there are no people to measure the share over.")
    return float(w[x == 0].sum() / w.sum())


def equity_by(frame: pd.DataFrame, *, value_col: str | None = None, weight_col: str | None = None,
              covered_col: str | None = None, by: str | list[str] | None = None) -> pd.DataFrame:
    """Equity measures overall and by group (street, district).

    Parameters
    ----------
    frame : pandas.DataFrame, one row per unit (estate)
        Not modified.
    value_col : str, optional
        Value to measure (e.g. a 2SFCA score, m2 per elderly); gives
        ``gini`` and ``palma``.
    weight_col : str, optional
        People per unit (e.g. ``elderly``); default 1 per row.
    covered_col : str, optional
        Boolean column (e.g. ``covered`` of a coverage result); gives
        ``share_outside``.
    by : str or list of str, optional
        Grouping columns (e.g. ``street``, ``district``); without it one row
        for the whole frame, labelled ``"all"``.

    Returns
    -------
    pandas.DataFrame
        One row per group: ``units``, ``people`` and, as asked, ``gini``,
        ``palma``, ``share_outside``. A group where a measure is undefined
        (no people, no value) gets NaN there.

    Raises
    ------
    InputError
        A named column is missing, or neither ``value_col`` nor ``covered_col``
        is given.
    """
    if value_col is None and covered_col is None:
        raise InputError("equity_by needs value_col= (gini, palma) and/or covered_col= (share outside).")
    cols = [c for c in (value_col, weight_col, covered_col) if c is not None]
    groups = [] if by is None else ([by] if isinstance(by, str) else list(by))
    missing = [c for c in cols + groups if c not in frame.columns]
    if missing:
        raise InputError(f"the frame has no column(s) {missing}; columns are {list(frame.columns)}.")
    rows = []
    parts = [("all", frame)] if not groups else list(frame.groupby(groups if len(groups) > 1 else groups[0],
                                                                    sort=True, dropna=False))
    for key, g in parts:
        w = g[weight_col] if weight_col else pd.Series(1.0, index=g.index)
        row: dict[str, Any] = {"units": len(g), "people": float(pd.to_numeric(w).sum())}
        if value_col:
            row["gini"] = _or_nan(gini, g[value_col], w)
            row["palma"] = _or_nan(palma, g[value_col], w)
        if covered_col:
            row["share_outside"] = _or_nan(share_outside, g[covered_col], w)
        rows.append((key, row))
    index = pd.Index([k for k, _ in rows], name=groups[0] if len(groups) == 1 else None)
    if len(groups) > 1:
        index = pd.MultiIndex.from_tuples([k for k, _ in rows], names=groups)
    return pd.DataFrame([r for _, r in rows], index=index)


def before_after(areas: pd.DataFrame, *, weight_col: str | None = None,
                 by: str | list[str] | None = None) -> pd.DataFrame:
    """Equity before and after a layout plan, from the plan's per-area table.

    Takes ``LayoutPlan.areas`` (or any frame with the same columns), so the
    report can show the change: the share of people outside the walking
    circle (``covered_before`` / ``covered_after``) and, when
    ``provided_before_m2`` / ``provided_after_m2`` are there, the Gini and
    Palma ratio of floor area per person (m2 provided to the estate / its
    people, weighted by its people).

    Parameters
    ----------
    areas : pandas.DataFrame, one row per area
        Columns ``covered_before``, ``covered_after`` (bool); optional
        ``provided_before_m2``, ``provided_after_m2``. Not modified.
    weight_col : str, optional
        People per area; default ``elderly`` when present, else ``households``.
    by : str or list of str, optional
        Grouping columns (e.g. ``street``, ``district``).

    Returns
    -------
    pandas.DataFrame
        One row per group (``"all"`` without ``by``): ``people``,
        ``share_outside_before``, ``share_outside_after`` and, with the floor
        areas, ``gini_m2_per_person_before/after``, ``palma_m2_per_person_before/after``.

    Raises
    ------
    InputError
        Missing coverage or weight columns.
    """
    if weight_col is None:
        weight_col = "elderly" if "elderly" in areas.columns else "households"
    need = ["covered_before", "covered_after", weight_col]
    missing = [c for c in need if c not in areas.columns]
    if missing:
        raise InputError(f"before_after needs columns {missing} (LayoutPlan.areas has them); "
                         f"columns are {list(areas.columns)}.")
    people = pd.to_numeric(areas[weight_col], errors="coerce").astype(float)
    out = None
    for when in ("before", "after"):
        frame = pd.DataFrame({"covered": areas[f"covered_{when}"], "people": people}, index=areas.index)
        has_m2 = f"provided_{when}_m2" in areas.columns
        if has_m2:
            m2 = pd.to_numeric(areas[f"provided_{when}_m2"], errors="coerce").astype(float)
            frame["m2"] = (m2 / people.where(people > 0)).fillna(0.0)
        if by is not None:
            for col in [by] if isinstance(by, str) else by:
                frame[col] = areas[col]
        part = equity_by(frame, value_col="m2" if has_m2 else None, weight_col="people",
                         covered_col="covered", by=by)
        part = part.rename(columns={"share_outside": f"share_outside_{when}",
                                    "gini": f"gini_m2_per_person_{when}",
                                    "palma": f"palma_m2_per_person_{when}"})
        out = part if out is None else out.join(part.drop(columns=["units", "people"]))
    return out


def _or_nan(func, values, weights) -> float:
    try:
        return func(values, weights)
    except InputError as exc:
        if "sum to 0" in str(exc) or "every value is 0" in str(exc):
            return float("nan")
        raise
