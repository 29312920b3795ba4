"""Cumulative opportunities per demand label on any cost table (the job of :func:`aggregate` per estate)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd

from careplan._errors import InputError
from careplan.accessibility._aggregate import _check_how, _table
from careplan.accessibility._costs import _cutoff, _pairs
from careplan.accessibility._fca import _normalise
from careplan.network import DEFAULT_MAX_SNAP_M

__all__ = ["cumulative"]


def cumulative(cost: Any, demand: Any, supply: Any, *, cutoff_m: float | None = None,
               minutes: float | None = None, speed_m_per_min: float | None = None,
               how: str | Sequence[str] = "sum", decay: Any = "flat",
               supply_col: str | None = "floor_area_m2", demand_col: str | None = None,
               origin: str = "demand", cost_unit: str = "m", normalize: str | None = None,
               max_snap_m: float = DEFAULT_MAX_SNAP_M,
               verbose: bool | None = None) -> pd.Series | pd.DataFrame:
    """Cumulative opportunities per demand label on any cost table.

    For each demand ``i``: the statistic ``how`` of the supply values ``S_j`` of the
    facilities ``j`` within the catchment, weighted by the decay of ``d_ij`` (the
    consumer's cost, as in :func:`careplan.accessibility.fca`); e.g. the beds within
    a 15-minute walk of every estate. :func:`aggregate` is the same job per network
    node.

    Parameters
    ----------
    cost : WalkNetwork, pandas.DataFrame, numpy.ndarray or scipy.sparse matrix
        As in :func:`careplan.accessibility.fca`: a long table ``origin,
        destination, distance_m``, a dense ``(n_demand, n_supply)`` array
        (``np.inf`` unreachable), a sparse matrix (stored = reachable), a wide
        DataFrame, or a ``WalkNetwork`` (then ``demand`` and ``supply`` are
        GeoDataFrames).
    demand : pandas.Index, Series or (Geo)DataFrame, n_demand rows
        Its labels (and, with a network, its geometry); its values (a Series, or
        ``demand_col`` of a frame) only weight ``normalize="weighted_mean"``.
    supply : pandas.Series or (Geo)DataFrame, n_supply rows
        Value ``S_j`` per facility label (a frame gives ``supply_col``); with
        ``supply_col=None`` every facility counts 1.
    cutoff_m, minutes : float
        The catchment, in metres or in minutes at ``speed_m_per_min`` (one of them).
    speed_m_per_min : float, optional
        Walking speed for minutes (default 60 m/min, :mod:`careplan._schema`).
    how : {"sum", "mean", "count", "min", "max"} or a sequence of them
        As in :meth:`Aggregator.query`.
    decay : {"flat", "linear", "exp"}, Decay or callable
        As in :meth:`Aggregator.query` (the catchment is the decay's radius).
    supply_col : str or None
        Column of a supply frame (default ``floor_area_m2``).
    demand_col : str, optional
        Column of a demand frame weighting the normalisation (default ``elderly``
        or ``households`` when present, else 1 per label).
    origin : {"demand", "supply"}
        Which side the cost's rows/origins are (``"supply"`` transposes).
    cost_unit : {"m", "min"}
        Unit of a table's costs.
    normalize : {None, "weighted_mean", "mean", "max"}
        As in :func:`careplan.accessibility.fca` (``"weighted_mean"`` is access's
        ``weighted_catchment(normalize=True)``), column by column.
    max_snap_m : float
        With a network: demand farther from every street gets NaN.
    verbose : bool, optional
        With a network: progress bar.

    Returns
    -------
    pandas.Series of float, shape (n_demand,), or DataFrame (n_demand, len(how))
        Indexed like ``demand``, named ``f"{how}_{catchment:g}m"`` (``min`` for a
        table in minutes). Nothing in reach: 0 (sum, count), NaN (mean, min, max);
        demand off the network: NaN.

    Raises
    ------
    InputError
        No catchment, bad ``how``/``decay``, missing or negative supply, cost labels
        not among the demand/supply labels.
    """
    hows = _check_how(how)
    cutoff = _cutoff(cutoff_m, minutes, speed_m_per_min, cost_unit)
    if cutoff is None:
        raise InputError("cumulative needs a catchment: pass cutoff_m= or minutes=.")
    if isinstance(demand, pd.DataFrame):
        if demand_col is None:
            demand_col = next((c for c in ("elderly", "households") if c in demand.columns), None)
        dem: Any = demand if demand_col is not None else demand.assign(_careplan_one=1.0)
        demand_col = demand_col or "_careplan_one"
    elif isinstance(demand, pd.Series):
        dem = demand
    elif isinstance(demand, pd.Index):
        dem = pd.Series(1.0, index=demand)
    else:
        raise InputError(f"demand must be a pandas Index, Series or (Geo)DataFrame; got {type(demand).__name__}.")
    if supply_col is None:
        sup: Any = supply.assign(_careplan_one=1.0) if isinstance(supply, pd.DataFrame) else \
            pd.Series(1.0, index=getattr(supply, "index", None))
        supply_col = "_careplan_one"
    else:
        sup = supply
    pairs = _pairs(cost, dem, sup, demand_col=demand_col, supply_col=supply_col, origin=origin,
                   cutoff=cutoff, max_snap_m=max_snap_m, verbose=verbose, cost_unit=cost_unit)
    m = pairs.matrix
    group = np.repeat(np.arange(m.shape[0]), np.diff(m.indptr))
    keep = m.data <= cutoff
    out = _table(group[keep], pairs.S[m.indices[keep]], m.data[keep], radius=cutoff, hows=hows,
                 decay=decay, n=m.shape[0], index=pairs.demand, single=isinstance(how, str),
                 unit=cost_unit)
    out.loc[pairs.unreachable] = np.nan
    if normalize is None:
        return out
    if isinstance(out, pd.Series):
        return pd.Series(_normalise(out.to_numpy(), pairs.P, normalize), index=out.index, name=out.name)
    return out.apply(lambda col: _normalise(col.to_numpy(), pairs.P, normalize))
