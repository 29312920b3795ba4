"""Distance-decay weights of the accessibility measures (see :mod:`careplan.accessibility`)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from careplan._errors import InputError

__all__ = [
    "LUO_QI_2009_WEIGHTS",
    "Decay",
    "binary_decay",
    "exponential_decay",
    "gaussian_decay",
    "linear_decay",
    "power_decay",
    "stepped_decay",
]

#: Luo & Qi (2009) E2SFCA zone weights for 0-10, 10-20, 20-30 minute zones
#: (Gaussian weights with a travel-time decay of beta = 100).
LUO_QI_2009_WEIGHTS: tuple[float, float, float] = (1.0, 0.68, 0.22)


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
        ``binary``: weight 1 for every cost ``d`` up to the catchment ``d0`` (needs one).
    """
    return Decay("binary", lambda d, c: np.ones_like(d), needs_cutoff=True)


def gaussian_decay() -> Decay:
    """Dai (2010) Gaussian weight, 1 at ``d = 0`` and 0 at ``d = d0`` (the catchment).

    Returns
    -------
    Decay
        ``gaussian``: weights in [0, 1] falling from 1 at ``d = 0`` to 0 at the
        catchment ``d0`` (needs one; same unit as the cost).
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
        ``linear``: weights ``1 - d / d0`` in [0, 1] (needs the catchment ``d0``).
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
        ``exponential``: weights in (0, 1], ``exp(-beta d)`` or ``exp(-d / d0)``.

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
        ``power``: weights ``max(d, min_cost) ** -beta`` (no catchment needed).

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
        ``stepped``: the zone weight of each cost, 0 beyond the last break.

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
