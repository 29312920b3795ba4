"""Spatial accessibility: the floating catchment area (FCA) family, gravity, aggregation.

Every measure takes the cost in any form :func:`careplan.locate.cost_from_input`
takes (one parser for the whole library): a long table ``origin, destination,
distance_m`` (as from :meth:`careplan.WalkNetwork.distances`), a dense array
(``np.inf`` = unreachable), a sparse matrix (stored entries reachable) or a wide
DataFrame; or a :class:`careplan.WalkNetwork` with demand and supply
GeoDataFrames, in which case the walking distances are computed here.

Direction of the cost
---------------------
Both steps of every FCA measure use the *consumer's* cost, from demand ``i`` to
supply ``j`` (``d_ij``, origin = demand). With asymmetric costs (one-way
streets, uphill walks, transit) access 1.x used the supply->demand cost in the
first step, which mixes two different journeys (pysal/access issue #18). A
table whose origins are the facilities is transposed when ``origin="supply"``.

Methods (``A_i``: accessibility of demand ``i``; ``P``: demand; ``S``: supply;
``W``: decay weight of ``d_ij``, 0 beyond the catchment)

* ``2sfca`` -- Luo & Wang (2003), binary catchment: ``W = 1`` within ``cutoff``.
  ``R_j = S_j / sum_k P_k W_kj``; ``A_i = sum_j W_ij R_j``.
* ``e2sfca`` -- Luo & Qi (2009), enhanced 2SFCA: stepped weights by zone
  (:func:`stepped_decay`; their zones 0-10/10-20/20-30 min with weights
  1, 0.68, 0.22 are :data:`LUO_QI_2009_WEIGHTS`).
* ``g2sfca`` -- Dai (2010), Gaussian 2SFCA, the form most Chinese elderly-care
  accessibility studies use: ``W = (exp(-d^2/2d0^2) - exp(-1/2)) / (1 - exp(-1/2))``
  within ``d0 = cutoff`` (:func:`gaussian_decay`).
* ``3sfca`` -- Wan, Zou & Sternberg (2012): a selection weight
  ``G_ij = W_ij / sum_l W_il`` (the share of ``i``'s demand that goes to ``j``)
  enters both steps: ``R_j = S_j / sum_k G_kj W_kj P_k``; ``A_i = sum_j G_ij W_ij R_j``.
* ``gravity`` (:func:`gravity`) -- Joseph & Bantock (1982) as written by
  Luo & Wang (2003): ``A_i = sum_j S_j f(d_ij) / V_j`` with
  ``V_j = sum_k P_k f(d_kj)`` and a continuous decay ``f``
  (:func:`power_decay`, :func:`exponential_decay`), no cutoff unless given.

Any other decay: a callable ``f(d) -> weights`` (array in, array of the same
shape out, finite and >= 0), applied to the stored pairs within the cutoff.

In all of them a facility whose catchment holds no demand gets ``R_j = 0``, and
the demand-weighted sum of the scores equals the supply of the facilities that
have demand in their catchment (the FCA family conserves supply; tested).

Catchments are given in metres (``cutoff_m``) or minutes (``minutes``, turned
into metres by :func:`careplan._schema.walking_circle_m` at
``speed_m_per_min``, default :data:`careplan._schema.DEFAULT_WALK_SPEED_M_PER_MIN`).
A cost table in minutes (e.g. from r5py) is passed with ``cost_unit="min"``.

Normalisation (``normalize=``), as access offers it: ``None`` (the ratio itself,
e.g. m2 of floor area per elderly person); ``"weighted_mean"`` divides by the
demand-weighted mean score, i.e. by total reachable supply / total demand in
reach (access's ``normalize=True``: a score of 1 is the region's average);
``"mean"`` by the plain mean; ``"max"`` by the largest score.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import scipy.sparse as sp

from careplan._errors import InputError
from careplan._schema import DEFAULT_WALK_SPEED_M_PER_MIN, walking_circle_m
from careplan.locate import cost_from_input
from careplan.network import DEFAULT_MAX_SNAP_M, WalkNetwork

__all__ = [
    "LUO_QI_2009_WEIGHTS",
    "Decay",
    "aggregate",
    "binary_decay",
    "exponential_decay",
    "fca",
    "gaussian_decay",
    "gravity",
    "linear_decay",
    "power_decay",
    "stepped_decay",
]

#: Luo & Qi (2009) E2SFCA zone weights for 0-10, 10-20, 20-30 minute zones
#: (Gaussian weights with a travel-time decay of beta = 100).
LUO_QI_2009_WEIGHTS: tuple[float, float, float] = (1.0, 0.68, 0.22)

METHODS = ("2sfca", "e2sfca", "g2sfca", "3sfca")
NORMALIZE = (None, "weighted_mean", "mean", "max")


@dataclass(frozen=True)
class Decay:
    """A distance-decay weight ``f(d)`` (d in the cost's unit).

    Attributes
    ----------
    name : str
        What the function is (for messages and reports).
    func : callable
        ``f(d, cutoff) -> weights`` on a float array; ``cutoff`` may be None.
    needs_cutoff : bool
        The weights are defined only with a catchment size (binary, Gaussian,
        linear).
    """

    name: str
    func: Callable[[np.ndarray, float | None], np.ndarray] = field(repr=False)
    needs_cutoff: bool = False

    def __call__(self, d: np.ndarray, cutoff: float | None = None) -> np.ndarray:
        if self.needs_cutoff and cutoff is None:
            raise InputError(f"the {self.name} decay needs a catchment: pass cutoff_m= or minutes=.")
        return self.func(np.asarray(d, dtype=float), cutoff)


def binary_decay() -> Decay:
    """``f(d) = 1`` within the catchment (Luo & Wang 2003).

    Returns
    -------
    Decay
        Weight ``f(d, d0)`` in [0, 1] of a distance ``d`` within the catchment ``d0``
        (same units as the cost), array-wise.
    """
    return Decay("binary", lambda d, c: np.ones_like(d), needs_cutoff=True)


def gaussian_decay() -> Decay:
    """Dai (2010) Gaussian weight, 1 at ``d = 0`` and 0 at ``d = d0`` (the catchment).

    Returns
    -------
    Decay
        Weight ``f(d, d0)`` in [0, 1] of a distance ``d`` within the catchment ``d0``
        (same units as the cost), array-wise.
    """
    e = np.exp(-0.5)

    def f(d, d0):
        return np.clip((np.exp(-0.5 * (d / d0) ** 2) - e) / (1.0 - e), 0.0, 1.0)

    return Decay("gaussian", f, needs_cutoff=True)


def linear_decay() -> Decay:
    """``f(d) = 1 - d / d0`` within the catchment ``d0`` (pandana's ``linear``).

    Returns
    -------
    Decay
        Weight ``f(d, d0)`` in [0, 1] of a distance ``d`` within the catchment ``d0``
        (same units as the cost), array-wise.
    """
    return Decay("linear", lambda d, d0: np.clip(1.0 - d / d0, 0.0, 1.0), needs_cutoff=True)


def exponential_decay(beta: float | None = None) -> Decay:
    """``f(d) = exp(-beta d)``; default ``beta = 1 / d0`` (pandana's ``exp`` decay).

    Parameters
    ----------
    beta : float, optional
        Decay rate per unit of cost (> 0). Without it the catchment is needed.

    Returns
    -------
    Decay
        Weight ``f(d, d0)`` of a cost ``d`` (catchment ``d0``, same unit), array-wise.

    Raises
    ------
    InputError
        If ``beta`` is not a positive finite number.
    """
    if beta is not None:
        beta = _positive("beta", beta)
        return Decay(f"exponential(beta={beta:g})", lambda d, c: np.exp(-beta * d))
    return Decay("exponential(beta=1/cutoff)", lambda d, c: np.exp(-d / c), needs_cutoff=True)


def power_decay(beta: float = 1.0, *, min_cost: float = 1.0) -> Decay:
    """Gravity weight ``f(d) = max(d, min_cost) ** -beta`` (Hansen 1959; Luo & Wang 2003).

    Parameters
    ----------
    beta : float
        Friction exponent (> 0; 1 to 2 in the literature).
    min_cost : float
        Costs below this are raised to it, so a facility inside the estate
        (``d = 0``) gets a finite weight. 1 (metre or minute): an assumption.

    Returns
    -------
    Decay
        Weight ``f(d, d0)`` of a cost ``d`` (catchment ``d0``, same unit), array-wise.

    Raises
    ------
    InputError
        If ``beta`` or ``min_cost`` is not a positive finite number.
    """
    beta = _positive("beta", beta)
    min_cost = _positive("min_cost", min_cost)
    return Decay(f"power(beta={beta:g})", lambda d, c: np.maximum(d, min_cost) ** -beta)


def stepped_decay(breaks: Sequence[float], weights: Sequence[float]) -> Decay:
    """Zone weights of the E2SFCA (Luo & Qi 2009).

    Parameters
    ----------
    breaks : sequence of float, shape (k,)
        Upper bounds of the zones (increasing, in the cost's unit); a cost in
        ``(breaks[z-1], breaks[z]]`` gets ``weights[z]``, beyond the last 0.
    weights : sequence of float, shape (k,)
        Zone weights in [0, 1], e.g. :data:`LUO_QI_2009_WEIGHTS`.

    Returns
    -------
    Decay
        Weight ``f(d, d0)`` of a cost ``d`` (catchment ``d0``, same unit), array-wise.

    Raises
    ------
    InputError
        If the lengths differ, breaks are not positive and increasing, or a weight
        is negative or not finite.
    """
    b = np.asarray(breaks, dtype=float)
    w = np.asarray(weights, dtype=float)
    if b.ndim != 1 or b.size == 0 or b.shape != w.shape:
        raise InputError(f"stepped_decay needs as many breaks as weights (got {b.size} and {w.size}).")
    if not (np.all(np.isfinite(b)) and np.all(b > 0) and np.all(np.diff(b) > 0)):
        raise InputError(f"stepped_decay breaks must be positive and increasing; got {b.tolist()}.")
    if not (np.all(np.isfinite(w)) and np.all(w >= 0)):
        raise InputError(f"stepped_decay weights must be finite and >= 0; got {w.tolist()}.")

    def f(d, c):
        z = np.searchsorted(b, d, side="left")
        out = np.zeros_like(d)
        inside = z < b.size
        out[inside] = w[z[inside]]
        return out

    return Decay(f"stepped({b.tolist()} -> {w.tolist()})", f)


def _positive(name: str, value: Any) -> float:
    try:
        v = float(value)
    except (TypeError, ValueError):
        raise InputError(f"{name} must be a number > 0; got {value!r}.") from None
    if not np.isfinite(v) or v <= 0:
        raise InputError(f"{name} must be a finite number > 0; got {value!r}.")
    return v


def _as_decay(decay: Any) -> Decay:
    if isinstance(decay, Decay):
        return decay
    if callable(decay):
        name = getattr(decay, "__name__", "user function")
        return Decay(name, lambda d, c: decay(d))
    raise InputError(f"decay must be a careplan Decay (binary_decay(), gaussian_decay(), ...) or a "
                     f"function of the cost array; got {decay!r}.")


def _weights(decay: Decay, d: np.ndarray, cutoff: float | None) -> np.ndarray:
    w = np.asarray(decay(d, cutoff), dtype=float)
    if w.shape != d.shape:
        raise InputError(f"the decay function {decay.name!r} returned shape {w.shape} for costs of "
                         f"shape {d.shape}: return one weight per cost.")
    bad = ~np.isfinite(w) | (w < 0)
    if bad.any():
        k = int(np.flatnonzero(bad)[0])
        raise InputError(f"the decay function {decay.name!r} gave {w[k]!r} for cost {d[k]!r}: "
                         "weights must be finite and >= 0 (a power decay needs min_cost > 0).")
    if cutoff is not None:
        w = np.where(d <= cutoff, w, 0.0)
    return w


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
        _check_long_labels(cost, rows, cols, origin)
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


def _check_long_labels(cost, rows, cols, origin):
    o_bad = ~pd.Index(cost["origin"]).isin(rows)
    d_bad = ~pd.Index(cost["destination"]).isin(cols)
    names = ("demand", "supply") if origin == "demand" else ("supply", "demand")
    for bad, col, what in ((o_bad, "origin", names[0]), (d_bad, "destination", names[1])):
        if bad.any():
            labels = pd.unique(cost[col][bad])[:5].tolist()
            raise InputError(f"the cost table's {col} has labels that are not {what} labels: {labels}; "
                             f"check origin={origin!r} or add them to the {what}.")


def _weighted(pairs: _Pairs, decay: Decay, cutoff: float | None) -> sp.csr_array:
    m = pairs.matrix
    w = _weights(decay, m.data, cutoff)
    return sp.csr_array((w, m.indices, m.indptr), shape=m.shape)


def _two_step(W: sp.csr_array, P: np.ndarray, S: np.ndarray, G: sp.csr_array | None = None):
    """``R_j`` and ``A_i`` from weights ``W`` (demand x supply) and optional selection ``G``."""
    WG = W if G is None else W.multiply(G).tocsr()
    D = WG.T @ P  # demand weighted into each facility's catchment
    R = np.divide(S, D, out=np.zeros_like(S), where=D > 0)
    return R, WG @ R


def _selection(W: sp.csr_array) -> sp.csr_array:
    """Wan et al. (2012) selection weight: each row of ``W`` divided by its sum."""
    tot = np.asarray(W.sum(axis=1)).ravel()
    inv = np.divide(1.0, tot, out=np.zeros_like(tot), where=tot > 0)
    return sp.csr_array(sp.diags_array(inv) @ W)


def _normalise(A: np.ndarray, P: np.ndarray, normalize) -> np.ndarray:
    if normalize not in NORMALIZE:
        raise InputError(f"normalize must be one of {NORMALIZE}; got {normalize!r}.")
    if normalize is None:
        return A
    ok = np.isfinite(A)
    if normalize == "weighted_mean":
        den = (A[ok] * P[ok]).sum() / P[ok].sum() if P[ok].sum() > 0 else 0.0
    elif normalize == "mean":
        den = A[ok].mean() if ok.any() else 0.0
    else:
        den = A[ok].max() if ok.any() else 0.0
    return A / den if den > 0 else A


def fca(cost: Any, demand: Any, supply: Any, *, method: str = "2sfca",
        cutoff_m: float | None = None, minutes: float | None = None,
        speed_m_per_min: float | None = None, decay: Any = None,
        demand_col: str | None = None, supply_col: str = "floor_area_m2",
        origin: str = "demand", cost_unit: str = "m", normalize: str | None = None,
        max_snap_m: float = DEFAULT_MAX_SNAP_M, verbose: bool | None = None) -> pd.Series:
    """Floating catchment area accessibility (2SFCA, E2SFCA, Gaussian 2SFCA, 3SFCA).

    Parameters
    ----------
    cost : WalkNetwork, pandas.DataFrame, numpy.ndarray or scipy.sparse matrix
        Costs between demand (rows/origins) and supply (columns/destinations):
        a long table ``origin, destination, distance_m`` (only reachable
        pairs), a dense ``(n_demand, n_supply)`` array (``np.inf``
        unreachable), a sparse matrix (stored = reachable), a wide DataFrame
        (index demand labels, columns supply labels), or a ``WalkNetwork``
        (walking distances from ``demand`` to ``supply`` within the catchment).
    demand : pandas.Series or (Geo)DataFrame, n_demand rows
        Demand ``P`` by label (e.g. elderly per estate). A frame gives
        ``demand_col``. Array costs follow its order.
    supply : pandas.Series or (Geo)DataFrame, n_supply rows
        Supply ``S`` by label (e.g. floor area m2, beds).
    method : {"2sfca", "e2sfca", "g2sfca", "3sfca"}
        See the module docstring for the formulas and sources. ``e2sfca``
        needs ``decay=stepped_decay(...)``; ``g2sfca`` uses
        :func:`gaussian_decay`; ``2sfca`` and ``3sfca`` default to binary
        (``3sfca`` with ``decay=gaussian_decay()`` is Wan et al.'s form).
    cutoff_m, minutes : float, optional
        Catchment, in metres or in minutes at ``speed_m_per_min``; required
        except with a decay that needs none (stepped, power, exponential(beta)).
    speed_m_per_min : float, optional
        Walking speed for ``minutes`` (default
        :data:`careplan._schema.DEFAULT_WALK_SPEED_M_PER_MIN`, 60 m/min).
    decay : Decay or callable, optional
        Weight of a cost; a callable ``f(d) -> weights`` is applied to every
        stored pair within the catchment.
    demand_col : str, optional
        Column of a demand frame (default ``elderly`` when present, else
        ``households``).
    supply_col : str
        Column of a supply frame (default ``floor_area_m2``).
    origin : {"demand", "supply"}
        Which side the cost's rows/origins are; ``"supply"`` transposes the
        table so the consumer's cost is used (access issue #18).
    cost_unit : {"m", "min"}
        Unit of a table's costs; with ``"min"``, ``cutoff_m`` is turned into
        minutes at ``speed_m_per_min``.
    normalize : {None, "weighted_mean", "mean", "max"}
        See the module docstring (``"weighted_mean"`` is access's ``normalize=True``).
    max_snap_m : float
        With a network: points farther from every street are unreachable (NaN).
    verbose : bool, optional
        With a network: progress bar.

    Returns
    -------
    pandas.Series of float, shape (n_demand,)
        Indexed like ``demand``, named after the method. Units: supply per
        unit of demand (e.g. m2 per elderly person) unless normalised. 0 where
        nothing is in reach; NaN for demand off the network.

    Raises
    ------
    InputError
        Unknown method/normalisation, missing or negative demand/supply,
        cost labels not among the demand/supply labels, a decay that needs a
        catchment without one, a decay giving negative or non-finite weights.
    """
    if method not in METHODS:
        raise InputError(f"method must be one of {METHODS}; got {method!r} (gravity: use gravity()).")
    cutoff = _cutoff(cutoff_m, minutes, speed_m_per_min, cost_unit)
    if decay is None:
        if method == "e2sfca":
            raise InputError("e2sfca needs zone weights: decay=stepped_decay(breaks, weights), e.g. "
                             "stepped_decay([300, 600, 900], LUO_QI_2009_WEIGHTS).")
        decay = gaussian_decay() if method == "g2sfca" else binary_decay()
    dec = _as_decay(decay)
    if dec.needs_cutoff and cutoff is None:
        raise InputError(f"{method} with the {dec.name} decay needs a catchment: pass cutoff_m= or minutes=.")
    pairs = _pairs(cost, demand, supply, demand_col=demand_col, supply_col=supply_col, origin=origin,
                   cutoff=cutoff, max_snap_m=max_snap_m, verbose=verbose, cost_unit=cost_unit)
    W = _weighted(pairs, dec, cutoff)
    G = _selection(W) if method == "3sfca" else None
    _, A = _two_step(W, pairs.P, pairs.S, G)
    A = _normalise(A, pairs.P, normalize)
    A[pairs.unreachable] = np.nan
    return pd.Series(A, index=pairs.demand.copy(), name=method)


def gravity(cost: Any, demand: Any, supply: Any, *, decay: Any = None,
            cutoff_m: float | None = None, minutes: float | None = None,
            speed_m_per_min: float | None = None, demand_col: str | None = None,
            supply_col: str = "floor_area_m2", origin: str = "demand", cost_unit: str = "m",
            normalize: str | None = None, max_snap_m: float = DEFAULT_MAX_SNAP_M,
            verbose: bool | None = None) -> pd.Series:
    """Gravity (potential) accessibility with competition for supply.

    ``A_i = sum_j S_j f(d_ij) / V_j``, ``V_j = sum_k P_k f(d_kj)`` (Joseph &
    Bantock 1982; Luo & Wang 2003 show 2SFCA is its binary special case).

    Parameters
    ----------
    decay : Decay or callable, optional
        Default :func:`power_decay` with beta = 1. Only stored (reachable)
        pairs count; with ``cutoff_m``/``minutes`` also only pairs within it.
    cost, demand, supply, cutoff_m, minutes, speed_m_per_min, demand_col, supply_col, origin, cost_unit, normalize, max_snap_m, verbose
        As in :func:`fca`. With a ``WalkNetwork`` a cutoff is required (it
        bounds the walk).

    Returns
    -------
    pandas.Series of float, shape (n_demand,)
        Named ``gravity``; supply per unit of demand unless normalised.

    Raises
    ------
    InputError
        As :func:`fca`.
    """
    cutoff = _cutoff(cutoff_m, minutes, speed_m_per_min, cost_unit)
    dec = _as_decay(power_decay() if decay is None else decay)
    if dec.needs_cutoff and cutoff is None:
        raise InputError(f"the {dec.name} decay needs a catchment: pass cutoff_m= or minutes=.")
    pairs = _pairs(cost, demand, supply, demand_col=demand_col, supply_col=supply_col, origin=origin,
                   cutoff=cutoff, max_snap_m=max_snap_m, verbose=verbose, cost_unit=cost_unit)
    _, A = _two_step(_weighted(pairs, dec, cutoff), pairs.P, pairs.S)
    A = _normalise(A, pairs.P, normalize)
    A[pairs.unreachable] = np.nan
    return pd.Series(A, index=pairs.demand.copy(), name="gravity")


AGGREGATIONS = ("sum", "mean", "count", "min", "max")
DECAYS = ("flat", "linear", "exp")


def aggregate(net: WalkNetwork, points: gpd.GeoDataFrame | gpd.GeoSeries, values: Any = None, *,
              cutoff_m: float, how: str | Sequence[str] = "sum", decay: str = "flat",
              max_snap_m: float = DEFAULT_MAX_SNAP_M, verbose: bool | None = None,
              n_threads: int | None = None) -> pd.Series | pd.DataFrame:
    """Cumulative opportunities: aggregate a value of points within a walk of every node.

    pandana's ``Network.aggregate`` job on careplan's compiled search
    (:meth:`careplan.WalkNetwork.reached_nodes`): from each point the kernel
    walks up to ``cutoff_m`` (its snap leg and the way along its edge
    included), and every node it reaches receives the point's value,
    weighted by the decay of that walk.

    Parameters
    ----------
    net : WalkNetwork
    points : GeoDataFrame or GeoSeries, n_points rows
        In the network's CRS, unique labels (e.g. facilities, estates).
    values : pandas.Series, str or None
        Value per point (a Series aligned by label, or a column of
        ``points``); default 1 per point (then ``how="sum"`` counts).
    cutoff_m : float
        Radius of the walk (metres, > 0).
    how : {"sum", "mean", "count", "min", "max"} or a sequence of them
        Aggregation over the points within reach (pandana's names; its
        ``ave`` is ``mean``). ``count`` ignores the values and the decay;
        ``min``/``max`` ignore the decay. A sequence gives a DataFrame with
        one column each, from one search.
    decay : {"flat", "linear", "exp"}
        pandana's decays: weight 1, ``1 - d / cutoff_m``, ``exp(-d / cutoff_m)``;
        ``mean`` is the decay-weighted sum divided by the count (as pandana).
    max_snap_m : float
        Points farther than this from every street are left out (metres).
    verbose, n_threads
        Progress bar; threads of the compiled kernel.

    Returns
    -------
    pandas.Series of float, shape (n_nodes,), or DataFrame (n_nodes, len(how))
        Indexed by node id, named ``f"{how}_{cutoff_m:g}m"``. Nodes reaching
        no point get 0 (sum, count) or NaN (mean, min, max; pandana gives
        -1 for min/max there).

    Raises
    ------
    InputError
        Bad ``how``/``decay``/``cutoff_m``, values missing or not finite.
    CRSError
        Points not in the network's CRS.
    """
    hows = [how] if isinstance(how, str) else list(how)
    bad_how = [h for h in hows if h not in AGGREGATIONS]
    if bad_how or not hows:
        raise InputError(f"how must be one of {AGGREGATIONS} (or a list of them); got {how!r}.")
    if decay not in DECAYS:
        raise InputError(f"decay must be one of {DECAYS} (pandana's names); got {decay!r}.")
    cutoff = _positive("cutoff_m", cutoff_m)
    if values is None:
        v = pd.Series(1.0, index=points.index)
    elif isinstance(values, str):
        if not isinstance(points, pd.DataFrame) or values not in points.columns:
            raise InputError(f"points have no column {values!r}: add it or pass a Series of values.")
        v = points[values]
    else:
        v = values
    if not isinstance(v, pd.Series):
        raise InputError("values must be a pandas Series aligned with the points' labels, or a column name.")
    missing = points.index.difference(v.index)
    if len(missing):
        raise InputError(f"values has no entry for points {missing[:5].tolist()}; give one per point.")
    vals = pd.to_numeric(v.reindex(points.index), errors="coerce").to_numpy(dtype=float)
    if not np.all(np.isfinite(vals)):
        bad = points.index[~np.isfinite(vals)][:5].tolist()
        raise InputError(f"values must be finite numbers; bad for points {bad}.")
    reach = net.reached_nodes(points, cutoff_m=cutoff, max_snap_m=max_snap_m, verbose=verbose,
                              n_threads=n_threads)
    n = net.n_nodes
    node, d = reach.node, reach.distance_m
    x = vals[reach.row]
    w = {"flat": np.ones_like(d), "linear": np.clip(1.0 - d / cutoff, 0.0, 1.0),
         "exp": np.exp(-d / cutoff)}[decay]
    count = np.bincount(node, minlength=n).astype(float)
    cols = {f"{h}_{cutoff:g}m": _reduce(h, node, x, w, count, n) for h in hows}
    if isinstance(how, str):
        return pd.Series(next(iter(cols.values())), index=net.node_ids.copy(), name=next(iter(cols)))
    return pd.DataFrame(cols, index=net.node_ids.copy())


def _reduce(how: str, node: np.ndarray, x: np.ndarray, w: np.ndarray, count: np.ndarray,
            n: int) -> np.ndarray:
    """One aggregation of values ``x`` (decay weights ``w``) onto ``n`` nodes."""
    if how == "count":
        return count.copy()
    if how in ("sum", "mean"):
        s = np.bincount(node, weights=w * x, minlength=n)
        return s if how == "sum" else np.divide(s, count, out=np.full(n, np.nan), where=count > 0)
    out = np.full(n, np.inf if how == "min" else -np.inf)
    (np.minimum if how == "min" else np.maximum).at(out, node, x)
    out[count == 0] = np.nan
    return out
