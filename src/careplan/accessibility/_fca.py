"""The floating catchment area family and gravity (formulas and sources: :mod:`careplan.accessibility`)."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
import scipy.sparse as sp

from careplan._errors import InputError
from careplan.accessibility._costs import _cutoff, _Pairs, _pairs
from careplan.accessibility._decay import (
    Decay,
    _as_decay,
    _weights,
    binary_decay,
    gaussian_decay,
    power_decay,
)
from careplan.network import DEFAULT_MAX_SNAP_M

__all__ = ["METHODS", "NORMALIZE", "fca", "gravity"]

METHODS = ("2sfca", "e2sfca", "g2sfca", "3sfca")
NORMALIZE = (None, "weighted_mean", "mean", "max")


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
    A[pairs.unreachable] = np.nan  # off the network: left out of the normalisation too
    A = _normalise(A, pairs.P, normalize)
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
    A[pairs.unreachable] = np.nan  # off the network: left out of the normalisation too
    A = _normalise(A, pairs.P, normalize)
    return pd.Series(A, index=pairs.demand.copy(), name="gravity")
