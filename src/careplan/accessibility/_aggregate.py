"""Cumulative opportunities: pandana's ``aggregate`` job on careplan's compiled search.

Two shapes, as pandana has them:

* :class:`Aggregator` -- pandana's ``Network.precompute`` + ``set`` +
  ``aggregate``: one bounded search from a fixed set of points (facilities,
  estates) up to ``max_radius_m`` is kept, then :meth:`Aggregator.query`
  answers any number of queries (another value column, a smaller radius,
  another statistic or decay) from the stored (point, node, distance) pairs
  without walking again. Use it for repeated queries on the same points.
  Memory: 20 bytes per stored pair (the pairs are what the queries read).
* :func:`aggregate` -- one query (it builds an :class:`Aggregator` and asks once).

pandana precomputes the reach of every *node* and lets every variable be placed
anywhere; careplan searches from the *points* instead (there are far fewer points
than nodes in a planning job), so a different set of points needs its own
:class:`Aggregator`. The results are the same: a node receives a point's value when
the walk between them is within the radius (the walk includes the point's snap leg
and the way along its edge; on an undirected walking network the walk is the same
both ways).

:func:`careplan.accessibility.cumulative` is the same measure per demand label on
any cost table (long OD table, dense/sparse/wide matrix, or a network with frames).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd

from careplan._errors import InputError
from careplan._schema import DEFAULT_WALK_SPEED_M_PER_MIN
from careplan.accessibility._costs import _cutoff
from careplan.accessibility._decay import _as_decay, _positive, _weights
from careplan.network import DEFAULT_MAX_SNAP_M, WalkNetwork

__all__ = ["AGGREGATIONS", "DECAYS", "Aggregator", "aggregate"]

AGGREGATIONS = ("sum", "mean", "count", "min", "max")
DECAYS = ("flat", "linear", "exp")


def _check_how(how: str | Sequence[str]) -> list[str]:
    hows = [how] if isinstance(how, str) else list(how)
    if not hows or [h for h in hows if h not in AGGREGATIONS]:
        raise InputError(f"how must be one of {AGGREGATIONS} (or a list of them); got {how!r}.")
    return hows


def _decay_weights(decay: Any, d: np.ndarray, radius: float) -> np.ndarray:
    """pandana's decay by name (weight 1, ``1 - d/r``, ``exp(-d/r)``) or a careplan Decay / f(d)."""
    if isinstance(decay, str):
        if decay not in DECAYS:
            raise InputError(f"decay must be one of {DECAYS} (pandana's names), a careplan Decay or "
                             f"a function of the distance; got {decay!r}.")
        if decay == "flat":
            return np.ones_like(d)
        if decay == "linear":
            return np.clip(1.0 - d / radius, 0.0, 1.0)
        return np.exp(-d / radius)
    return _weights(_as_decay(decay), d, radius)


def _point_values(points: Any, values: Any, labels: pd.Index) -> np.ndarray:
    """Value per point label (a Series aligned by label, a column name, or None = 1 each)."""
    if values is None:
        return np.ones(len(labels))
    if isinstance(values, str):
        if not isinstance(points, pd.DataFrame) or values not in points.columns:
            raise InputError(f"points have no column {values!r}: add it or pass a Series of values.")
        v = points[values]
    else:
        v = values
    if not isinstance(v, pd.Series):
        raise InputError("values must be a pandas Series aligned with the points' labels, or a column name.")
    missing = labels.difference(v.index)
    if len(missing):
        raise InputError(f"values has no entry for points {missing[:5].tolist()}; give one per point.")
    vals = pd.to_numeric(v.reindex(labels), errors="coerce").to_numpy(dtype=float)
    if not np.all(np.isfinite(vals)):
        bad = labels[~np.isfinite(vals)][:5].tolist()
        raise InputError(f"values must be finite numbers; bad for points {bad}.")
    return vals


def _reduce(how: str, group: np.ndarray, x: np.ndarray, w: np.ndarray | None, count: np.ndarray,
            n: int) -> np.ndarray:
    """One aggregation of values ``x`` (decay weights ``w``, None = 1) onto ``n`` groups
    (``count``: pairs per group; not read by ``sum``)."""
    if how == "count":
        return count.copy()
    if how in ("sum", "mean"):
        s = np.bincount(group, weights=x if w is None else w * x, minlength=n)
        return s if how == "sum" else np.divide(s, count, out=np.full(n, np.nan), where=count > 0)
    out = np.full(n, np.inf if how == "min" else -np.inf)
    (np.minimum if how == "min" else np.maximum).at(out, group, x)
    out[count == 0] = np.nan
    return out


def _table(group, x, d, *, radius, hows, decay, n, index, single, unit="m",
           count=None) -> pd.Series | pd.DataFrame:
    """The statistics ``hows`` per group; ``count`` (pairs per group) when already known."""
    w = None if (isinstance(decay, str) and decay == "flat") or set(hows) <= {"count", "min", "max"} \
        else _decay_weights(decay, d, radius)
    if isinstance(decay, str):
        _decay_weights(decay, d[:0], radius)  # an unknown name fails even when unused
    if count is None:
        count = np.bincount(group, minlength=n).astype(float) if set(hows) - {"sum"} else np.empty(0)
    cols = {f"{h}_{radius:g}{unit}": _reduce(h, group, x, w, count, n) for h in hows}
    if single:
        name = next(iter(cols))
        return pd.Series(cols[name], index=index.copy(), name=name)
    return pd.DataFrame(cols, index=index.copy())


class Aggregator:
    """One bounded search from fixed points, then any number of aggregation queries.

    pandana's ``Network.precompute(max_radius)`` + ``set(node_ids)`` +
    ``aggregate(radius, type, decay)`` (module docstring): the walk from every
    point up to ``max_radius_m`` is searched once on the compiled kernel
    (:meth:`careplan.WalkNetwork.reached_nodes`) and kept as (point, node,
    distance) pairs; :meth:`query` reduces those pairs.

    Parameters
    ----------
    net : WalkNetwork
        The walking network.
    points : GeoDataFrame or GeoSeries, n_points rows
        In the network's CRS, unique labels (e.g. facilities, estates). Their
        columns can be queried by name.
    max_radius_m : float, optional
        Largest radius any query will use (metres, > 0).
    max_minutes : float, optional
        The same in minutes of walking at ``speed_m_per_min`` (give one of the two).
    speed_m_per_min : float, optional
        Walking speed for minutes (default
        :data:`careplan._schema.DEFAULT_WALK_SPEED_M_PER_MIN`, 60 m/min).
    max_snap_m : float
        Points farther than this from every street are left out, warned and listed
        in :attr:`unreachable` (metres).
    verbose : bool, optional
        Progress bar of the search.
    n_threads : int, optional
        Threads of the compiled kernel (default: all CPUs).

    Attributes
    ----------
    max_radius_m : float
        The radius searched (metres).
    speed_m_per_min : float
        Speed used for queries in minutes.
    labels : pandas.Index
        The points' labels.
    node_ids : pandas.Index
        Node ids of the network (the index of every query result).
    unreachable : list
        Labels of points beyond ``max_snap_m`` (they reach no node).
    n_pairs : int
        Stored (point, node) pairs within ``max_radius_m``.

    Raises
    ------
    InputError
        Bad radius, both or neither of ``max_radius_m`` and ``max_minutes``, bad
        labels or geometries, every point beyond ``max_snap_m``.
    CRSError
        Points not in the network's CRS.

    Examples
    --------
    >>> agg = Aggregator(net, facilities, max_radius_m=1000)        # doctest: +SKIP
    >>> beds = agg.query("beds", radius_m=800, how="sum", decay="linear")  # doctest: +SKIP
    """

    def __init__(self, net: WalkNetwork, points: gpd.GeoDataFrame | gpd.GeoSeries,
                 max_radius_m: float | None = None, *, max_minutes: float | None = None,
                 speed_m_per_min: float | None = None, max_snap_m: float = DEFAULT_MAX_SNAP_M,
                 verbose: bool | None = None, n_threads: int | None = None) -> None:
        if not isinstance(net, WalkNetwork):
            raise InputError(f"Aggregator needs a careplan WalkNetwork; got {type(net).__name__} "
                             "(for a cost table use careplan.accessibility.cumulative).")
        if not isinstance(points, gpd.GeoDataFrame | gpd.GeoSeries):
            raise InputError(f"points must be a GeoDataFrame or GeoSeries; got {type(points).__name__}.")
        radius = _cutoff(max_radius_m, max_minutes, speed_m_per_min, "m")
        if radius is None:
            raise InputError("give the largest query radius: max_radius_m= (metres) or max_minutes=.")
        self.speed_m_per_min = _positive("speed_m_per_min", DEFAULT_WALK_SPEED_M_PER_MIN
                                         if speed_m_per_min is None else speed_m_per_min)
        reach = net.reached_nodes(points, cutoff_m=radius, max_snap_m=max_snap_m, verbose=verbose,
                                  n_threads=n_threads)
        self.max_radius_m = radius
        self.labels = reach.snapped.labels.copy()
        self.node_ids = net.node_ids.copy()
        self.unreachable = list(self.labels[~reach.snapped.reachable])
        self._points = points.copy() if isinstance(points, pd.DataFrame) else None
        self._row = reach.row.astype(np.int32)
        self._node = reach.node.astype(np.intp)  # what bincount takes without a copy
        self._dist = reach.distance_m
        self._count = np.bincount(self._node, minlength=net.n_nodes).astype(float)
        self.n_pairs = int(self._dist.size)

    def __repr__(self) -> str:
        return (f"Aggregator({len(self.labels)} points, max_radius_m={self.max_radius_m:g}, "
                f"{self.n_pairs} pairs)")

    def query(self, values: Any = None, *, radius_m: float | None = None, minutes: float | None = None,
              how: str | Sequence[str] = "sum", decay: Any = "flat",
              subset: Any = None) -> pd.Series | pd.DataFrame:
        """Aggregate a value of the points within ``radius_m`` of every node.

        Parameters
        ----------
        values : pandas.Series, str or None
            Value per point (a Series aligned by label, or a column of the
            points); default 1 per point (then ``how="sum"`` counts).
        radius_m : float, optional
            Radius of this query (metres, ``0 < radius_m <= max_radius_m``);
            default ``max_radius_m``.
        minutes : float, optional
            The radius in minutes at the aggregator's speed (instead of ``radius_m``).
        how : {"sum", "mean", "count", "min", "max"} or a sequence of them
            pandana's statistics (its ``ave`` is ``mean``). ``count`` ignores the
            values and the decay; ``min``/``max`` ignore the decay. A sequence gives a
            DataFrame with one column each.
        decay : {"flat", "linear", "exp"}, Decay or callable
            pandana's decays: weight 1, ``1 - d / radius_m``, ``exp(-d / radius_m)``;
            or any careplan decay (e.g. :func:`careplan.accessibility.gaussian_decay`)
            or ``f(d)``. ``mean`` is the decay-weighted sum over the count (as pandana).
        subset : array-like of labels or of bool, optional
            Only these points take part (labels, or a mask in the points' order), e.g.
            the community-level facilities; ``values`` is then needed for them only.
            pandana's ``set`` of a variable on some of the points.

        Returns
        -------
        pandas.Series of float, shape (n_nodes,), or DataFrame (n_nodes, len(how))
            Indexed by node id, named ``f"{how}_{radius_m:g}m"``. Nodes reaching no
            point get 0 (sum, count) or NaN (mean, min, max; pandana gives -1 for
            min/max there).

        Raises
        ------
        InputError
            Bad ``how``/``decay``, a radius above ``max_radius_m``, values missing or
            not finite, a subset naming unknown points.
        """
        hows = _check_how(how)
        radius = _cutoff(radius_m, minutes, self.speed_m_per_min, "m") or self.max_radius_m
        if radius > self.max_radius_m * (1 + 1e-12):
            raise InputError(f"radius {radius:g} m is larger than the {self.max_radius_m:g} m this "
                             "Aggregator searched: build it with a larger max_radius_m.")
        row, node, d = self._row, self._node, self._dist
        count: np.ndarray | None = self._count  # pairs per node, valid for every pair kept
        if subset is None:
            vals = _point_values(self._points, values, self.labels)
        else:
            sel = self._subset(subset)
            vals = np.zeros(len(self.labels))
            vals[sel] = _point_values(self._points, values, self.labels[sel])
            keep = sel[row]
            row, node, d, count = row[keep], node[keep], d[keep], None
        if radius < self.max_radius_m:
            keep = d <= radius
            row, node, d, count = row[keep], node[keep], d[keep], None
        return _table(node, vals[row], d, radius=radius, hows=hows, decay=decay, n=len(self.node_ids),
                      index=self.node_ids, single=isinstance(how, str), count=count)

    def _subset(self, subset: Any) -> np.ndarray:
        """Boolean mask over the points from labels or a mask."""
        arr = np.asarray(subset)
        if arr.dtype == bool:
            if arr.shape != (len(self.labels),):
                raise InputError(f"a boolean subset needs one entry per point ({len(self.labels)}); "
                                 f"got shape {arr.shape}.")
            return arr
        wanted = pd.Index(list(subset) if not isinstance(subset, pd.Index) else subset)
        unknown = wanted.difference(self.labels)
        if len(unknown):
            raise InputError(f"subset names points this Aggregator does not have: {unknown[:5].tolist()}.")
        return np.asarray(self.labels.isin(wanted))


def aggregate(net: WalkNetwork, points: gpd.GeoDataFrame | gpd.GeoSeries, values: Any = None, *,
              cutoff_m: float | None = None, minutes: float | None = None,
              speed_m_per_min: float | None = None, how: str | Sequence[str] = "sum",
              decay: Any = "flat", max_snap_m: float = DEFAULT_MAX_SNAP_M,
              verbose: bool | None = None, n_threads: int | None = None) -> pd.Series | pd.DataFrame:
    """Cumulative opportunities: aggregate a value of points within a walk of every node.

    One query of pandana's ``Network.aggregate`` job: builds an
    :class:`Aggregator` with ``max_radius_m=cutoff_m`` and asks once. For several
    queries on the same points build the :class:`Aggregator` yourself (the
    search is then done once).

    Parameters
    ----------
    net : WalkNetwork
        The walking network.
    points : GeoDataFrame or GeoSeries, n_points rows
        In the network's CRS, unique labels (e.g. facilities, estates).
    values : pandas.Series, str or None
        As in :meth:`Aggregator.query`.
    cutoff_m : float, optional
        Radius of the walk (metres, > 0).
    minutes : float, optional
        The radius in minutes at ``speed_m_per_min`` (give one of the two).
    speed_m_per_min : float, optional
        Walking speed for ``minutes`` (default 60 m/min, :mod:`careplan._schema`).
    how, decay
        As in :meth:`Aggregator.query`.
    max_snap_m : float
        Points farther than this from every street are left out, with a warning (metres).
    verbose : bool, optional
        Progress bar.
    n_threads : int, optional
        Threads of the compiled kernel.

    Returns
    -------
    pandas.Series of float, shape (n_nodes,), or DataFrame (n_nodes, len(how))
        As :meth:`Aggregator.query`.

    Raises
    ------
    InputError
        Bad ``how``/``decay``/radius, values missing or not finite.
    CRSError
        Points not in the network's CRS.
    """
    _check_how(how)
    if isinstance(decay, str):
        _decay_weights(decay, np.zeros(0), 1.0)
    if isinstance(points, gpd.GeoDataFrame | gpd.GeoSeries):
        _point_values(points, values, points.index)  # bad values fail before the search
    agg = Aggregator(net, points, cutoff_m, max_minutes=minutes, speed_m_per_min=speed_m_per_min,
                     max_snap_m=max_snap_m, verbose=verbose, n_threads=n_threads)
    return agg.query(values, how=how, decay=decay)

