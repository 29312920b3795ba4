"""Demand, supply, catchment and cost table of an accessibility measure, in the consumer's direction.

The one place :mod:`careplan.accessibility` turns its inputs (any cost form
:func:`careplan.locate.cost_from_input` takes, or a :class:`careplan.WalkNetwork`
with frames) into a sparse demand x supply matrix of reachable costs.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import scipy.sparse as sp

from careplan._errors import CareplanWarning, InputError
from careplan._schema import DEFAULT_WALK_SPEED_M_PER_MIN, walking_circle_m
from careplan.accessibility._decay import _positive
from careplan.locate import cost_from_input
from careplan.network import WalkNetwork


def _cutoff(cutoff_m, minutes, speed_m_per_min, cost_unit) -> float | None:
    if cost_unit not in ("m", "min"):
        raise InputError(f"cost_unit must be 'm' (metres) or 'min' (minutes); got {cost_unit!r}.")
    if cutoff_m is not None and minutes is not None:
        raise InputError("give the catchment once: cutoff_m= (metres) or minutes=, not both.")
    speed = _positive("speed_m_per_min", DEFAULT_WALK_SPEED_M_PER_MIN if speed_m_per_min is None
                      else speed_m_per_min)
    if cutoff_m is not None:
        c = _positive("cutoff_m", cutoff_m)
        return c if cost_unit == "m" else c / speed
    if minutes is not None:
        mnt = _positive("minutes", minutes)
        return walking_circle_m(mnt, speed) if cost_unit == "m" else mnt
    return None


def _values(obj: Any, col: str | None, what: str, param: str) -> pd.Series:
    """Demand or supply as a float Series (labels = index), checked >= 0."""
    if isinstance(obj, pd.DataFrame):
        if col is None or col not in obj.columns:
            raise InputError(f"{what} has no column {col!r}: add it or pass {param}=.")
        s = obj[col]
    elif isinstance(obj, pd.Series):
        s = obj
    else:
        raise InputError(f"{what} must be a pandas Series (values by label) or a (Geo)DataFrame with a "
                         f"{param}= column; got {type(obj).__name__}.")
    if s.index.has_duplicates:
        raise InputError(f"{what} labels must be unique; duplicated: "
                         f"{s.index[s.index.duplicated()].unique()[:5].tolist()}.")
    v = pd.to_numeric(s, errors="coerce").astype(float)
    bad = ~np.isfinite(v.to_numpy()) | (v.to_numpy() < 0)
    if bad.any():
        raise InputError(f"{what} {s.name or col!r} must be finite numbers >= 0; bad at "
                         f"{', '.join(map(str, s.index[bad][:5]))}.")
    return v


@dataclass(frozen=True)
class _Pairs:
    """Reachable demand/supply pairs in the consumer's direction, CSR (demand rows)."""

    matrix: sp.csr_array
    P: np.ndarray
    S: np.ndarray
    demand: pd.Index
    supply: pd.Index
    unreachable: np.ndarray  # bool per demand: off the network (NaN score)


def _pairs(cost, demand, supply, *, demand_col, supply_col, origin, cutoff, max_snap_m,
           verbose, cost_unit) -> _Pairs:
    if origin not in ("demand", "supply"):
        raise InputError(f"origin must be 'demand' (rows/origins are the consumers) or 'supply'; got {origin!r}.")
    if demand_col is None and isinstance(demand, pd.DataFrame):
        demand_col = "elderly" if "elderly" in demand.columns else "households"
    P = _values(demand, demand_col, "demand", "demand_col")
    S = _values(supply, supply_col, "supply", "supply_col")
    unreachable = np.zeros(len(P), dtype=bool)
    if isinstance(cost, WalkNetwork):
        if cost_unit != "m":
            raise InputError("a WalkNetwork gives metres: leave cost_unit='m'.")
        for obj, what in ((demand, "demand"), (supply, "supply")):
            if not isinstance(obj, gpd.GeoDataFrame):
                raise InputError(f"with a WalkNetwork, {what} must be a GeoDataFrame (points or polygons).")
        if cutoff is None:
            raise InputError("with a WalkNetwork the catchment bounds the walk: pass cutoff_m= or minutes=.")
        od = cost.distances(demand, supply, cutoff_m=cutoff, max_snap_m=max_snap_m, verbose=verbose)
        unreachable = P.index.isin(od.attrs.get("unreachable_origins", []))
        cost, origin = od, "demand"
    rows, cols = (P.index, S.index) if origin == "demand" else (S.index, P.index)
    is_long = isinstance(cost, pd.DataFrame) and {"origin", "destination", "distance_m"} <= set(cost.columns)
    if is_long:
        cost = _check_long_labels(cost, rows, cols, origin)
        cd = cost_from_input(cost, demand_labels=rows, candidate_labels=cols)
    elif isinstance(cost, pd.DataFrame):
        cd = cost_from_input(cost)
        for got, want, what in ((cd.demand, rows, "index"), (cd.candidates, cols, "columns")):
            if not got.equals(want):
                cost = cost.reindex(index=rows, columns=cols) if set(got) >= set(want) else None
                if cost is None:
                    missing = pd.Index(want).difference(got)[:5].tolist()
                    raise InputError(f"the wide cost table's {what} lacks labels {missing}: it needs a "
                                     "row per demand and a column per facility (origin='demand').")
                cd = cost_from_input(cost)
                break
    else:
        cd = cost_from_input(cost, demand_labels=rows, candidate_labels=cols)
    m = cd.matrix if origin == "demand" else sp.csr_array(cd.matrix.T)
    m.sort_indices()
    return _Pairs(m, P.to_numpy(), S.to_numpy(), P.index, S.index, np.asarray(unreachable, dtype=bool))


def _check_long_labels(cost: pd.DataFrame, rows: pd.Index, cols: pd.Index, origin: str) -> pd.DataFrame:
    """The rows of a long table in the consumer's direction; a table holding both directions
    (an asymmetric OD matrix over all points) keeps the consumer's rows, with a warning."""
    o = pd.Index(cost["origin"])
    d = pd.Index(cost["destination"])
    fits = o.isin(rows) & d.isin(cols)
    if fits.all():
        return cost
    reverse = ~fits & o.isin(cols) & d.isin(rows)
    names = ("demand", "supply") if origin == "demand" else ("supply", "demand")
    if (fits | reverse).all():
        warnings.warn(f"the cost table holds both directions: {int(fits.sum())} rows "
                      f"{names[0]} -> {names[1]} are used and the {int(reverse.sum())} rows "
                      f"{names[1]} -> {names[0]} are not (the consumer's cost is used in both steps, "
                      "access issue #18; check origin= if the consumers are the other side).",
                      CareplanWarning, stacklevel=4)
        return cost[fits]
    for bad, col, what in ((~o.isin(rows), "origin", names[0]), (~d.isin(cols), "destination", names[1])):
        if bad.any():
            labels = pd.unique(cost[col][bad])[:5].tolist()
            raise InputError(f"the cost table's {col} has labels that are not {what} labels: {labels}; "
                             f"check origin={origin!r} or add them to the {what}.")
    return cost  # pragma: no cover (one of the two loops raised)
