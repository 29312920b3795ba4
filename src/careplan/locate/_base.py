"""Shared machinery of the location models: parameters, input checks, results."""

from __future__ import annotations

import time
from dataclasses import dataclass, field, fields
from typing import Any, ClassVar

import numpy as np
import pandas as pd

from careplan._errors import InputError

from ._check import check_solution, nearest_open
from ._cost import CostData, capacity_array, cost_from_input, labels_to_mask

__all__ = ["LocationModel", "LocationResult", "Problem", "RawSolution"]

METHODS = ("auto", "mip", "heuristic")


@dataclass(frozen=True)
class LocationResult:
    """Solution of a location model, labelled by the input labels.

    Attributes
    ----------
    model : str
        Model name, e.g. ``'PMedian'``.
    params : dict
        The model's parameters (``p``, ``radius``, ``time_limit_s``, ...).
    selected : list
        Labels of all open sites (existing first, then new, in candidate order).
    new : list
        Labels of the newly opened sites.
    existing : list
        Labels of the existing (forced open) sites.
    assignment : pandas.Series
        Demand label -> facility label (``None`` where a demand is not served).
    assigned_cost : pandas.Series
        Demand label -> cost to its facility (NaN where not served).
    covered : pandas.Series or None
        Demand label -> served within the radius (covering models only).
    load : pandas.Series
        Selected site label -> total weight assigned to it.
    objective : float
        Objective value recomputed from the cost data by an independent check:
        number of new sites (SetCovering), covered weight (MaximalCovering),
        weighted total cost (PMedian), largest cost (PCenter).
    bound : float
        Proven bound on the optimum (lower for minimisation, upper for MaximalCovering).
    gap : float
        ``|objective - bound| / |objective|`` (0 when proven optimal).
    status : str
        ``'optimal'`` (gap within ``mip_gap``), ``'time_limit'`` (stopped by the limit,
        ``gap`` says how far from proven) or ``'heuristic'`` (no exact solve; gap is proven).
    method : str
        How it was solved, e.g. ``'mip'``, ``'heuristic+lagrangian'``.
    solve_time_s, build_time_s : float
        Solver time and time spent checking input and building models.
    info : dict
        Extra figures (reductions applied, iterations, ...).
    level : pandas.Series or None
        Selected site label -> ``'upper'`` or ``'lower'`` (hierarchical models only).
    covered_upper : pandas.Series or None
        Demand label -> within the upper-level radius of an open upper-level site
        (hierarchical models only; ``covered`` is then the lower-level coverage).
    """

    model: str
    params: dict
    selected: list
    new: list
    existing: list
    assignment: pd.Series
    assigned_cost: pd.Series
    covered: pd.Series | None
    load: pd.Series
    objective: float
    bound: float
    gap: float
    status: str
    method: str
    solve_time_s: float
    build_time_s: float
    info: dict = field(default_factory=dict)
    level: pd.Series | None = None
    covered_upper: pd.Series | None = None

    def to_frame(self) -> pd.DataFrame:
        """One row per demand: ``facility``, ``cost``, and ``covered`` (``covered_upper``) where it applies."""
        df = pd.DataFrame({"facility": self.assignment, "cost": self.assigned_cost})
        if self.covered is not None:
            df["covered"] = self.covered
        if self.covered_upper is not None:
            df["covered_upper"] = self.covered_upper
        return df

    def __repr__(self) -> str:
        return (f"LocationResult(model={self.model!r}, objective={self.objective:.6g}, "
                f"bound={self.bound:.6g}, gap={self.gap:.3g}, status={self.status!r}, "
                f"n_new={len(self.new)}, n_existing={len(self.existing)}, "
                f"solve_time_s={self.solve_time_s:.3f})")


@dataclass
class Problem:
    """Checked input of one solve (positional arrays over demands / candidates)."""

    data: CostData
    existing: np.ndarray
    excluded: np.ndarray
    capacity: np.ndarray | None
    deadline: float | None

    @property
    def free(self) -> np.ndarray:
        """Candidates that may be opened as new sites."""
        return ~self.existing & ~self.excluded

    def remaining(self) -> float | None:
        if self.deadline is None:
            return None
        return max(self.deadline - time.perf_counter(), 0.01)


@dataclass
class RawSolution:
    is_open: np.ndarray
    assign: np.ndarray
    objective: float
    bound: float
    status: str
    method: str
    solve_time_s: float
    build_time_s: float
    info: dict = field(default_factory=dict)


@dataclass(kw_only=True)
class LocationModel:
    """Base of all location models (do not use directly).

    Parameters
    ----------
    time_limit_s : float, optional
        Wall-clock limit for the whole solve; the best solution found and its proven
        bound are returned with ``status='time_limit'`` when it is reached.
    mip_gap : float, default 1e-6
        Relative gap at which a solution counts as optimal.
    method : {'auto', 'mip', 'heuristic'}, default 'auto'
        ``'mip'``: exact HiGHS MIP; ``'heuristic'``: fast heuristic with a proven bound
        where the model has one (p-median); ``'auto'``: the fastest exact route.
    verbose : bool, optional
        Show the HiGHS log.
    """

    time_limit_s: float | None = None
    mip_gap: float = 1e-6
    method: str = "auto"
    verbose: bool | None = None

    model_name: ClassVar[str] = "LocationModel"
    kind: ClassVar[str] = ""
    supports_capacity: ClassVar[bool] = True

    def __post_init__(self) -> None:
        if self.method not in METHODS:
            raise InputError(f"method must be one of {METHODS}; got {self.method!r}.")
        if self.time_limit_s is not None and not self.time_limit_s > 0:
            raise InputError(f"time_limit_s must be > 0 (or None); got {self.time_limit_s!r}.")
        if not 0 <= self.mip_gap < 1:
            raise InputError(f"mip_gap must be in [0, 1); got {self.mip_gap!r}.")
        p = getattr(self, "p", None)
        if p is not None and (not isinstance(p, (int, np.integer)) or isinstance(p, bool) or p < 0):
            raise InputError(f"p (number of NEW sites) must be an integer >= 0; got {p!r}.")
        radius = getattr(self, "radius", None)
        if hasattr(self, "radius") and (radius is None or not np.isfinite(radius) or radius < 0):
            raise InputError(f"radius must be a finite number >= 0 (same unit as the cost); got {radius!r}.")

    def get_params(self) -> dict[str, Any]:
        """Parameters as a dict (scikit-learn style)."""
        return {f.name: getattr(self, f.name) for f in fields(self)}

    # -- the work ---------------------------------------------------------
    def solve(self, cost: Any, *, weights: Any = None, existing: Any = None, excluded: Any = None,
              capacity: Any = None, demand_labels: Any = None, candidate_labels: Any = None) -> LocationResult:
        """Solve the model.

        Parameters
        ----------
        cost : array, sparse matrix or DataFrame
            Demand x candidate cost (e.g. walking metres); see :func:`cost_from_input`
            for the accepted forms. Unreachable pairs: ``np.inf`` / not stored / NaN.
        weights : array-like or Series, optional
            Demand weights (e.g. elderly); default 1. Demands with weight 0 need no
            service (they are still assigned where possible).
        existing : labels, optional
            Candidate labels that are open already and stay open (not counted in ``p``).
        excluded : labels, optional
            Candidate labels that must not be opened.
        capacity : scalar, array or Series, optional
            Capacity per candidate in weight units (``np.inf`` = unlimited); turns on
            the capacitated model (each demand served whole by one site).
        demand_labels, candidate_labels : sequence, optional
            Labels for array costs (and the candidate set of a long table).

        Returns
        -------
        LocationResult
        """
        t0 = time.perf_counter()
        data = cost_from_input(cost, weights=weights, demand_labels=demand_labels,
                               candidate_labels=candidate_labels)
        ex = labels_to_mask(existing, data.candidates, "existing")
        exc = labels_to_mask(excluded, data.candidates, "excluded")
        both = ex & exc
        if both.any():
            raise InputError(f"sites {data.candidates[both][:10].tolist()} are both existing and excluded; "
                             "an existing site always stays open, so remove them from excluded.")
        cap = capacity_array(capacity, data.candidates)
        if cap is not None and not self.supports_capacity:
            raise InputError(f"{self.model_name} has no capacitated variant; drop capacity=.")
        if cap is not None and np.isinf(cap).all():
            cap = None
        if cap is not None and self.method == "heuristic":
            raise InputError("capacitated models are solved exactly only; use method='auto' or 'mip'.")
        p = getattr(self, "p", None)
        if p is not None:
            n_free = int((~ex & ~exc).sum())
            if p > n_free:
                raise InputError(f"p={p} new sites requested but only {n_free} candidates can be opened "
                                 f"({int(ex.sum())} existing, {int(exc.sum())} excluded); lower p or add candidates.")
        deadline = t0 + self.time_limit_s if self.time_limit_s is not None else None
        prob = Problem(data=data, existing=ex, excluded=exc, capacity=cap, deadline=deadline)
        t_prep = time.perf_counter() - t0
        raw = self._solve(prob)
        objective = check_solution(self.kind, data, is_open=raw.is_open, assign=raw.assign,
                                   existing=ex, excluded=exc, capacity=cap, p=p,
                                   radius=getattr(self, "radius", None), objective=raw.objective)
        return self._result(data, raw, ex, objective, t_prep)

    def _solve(self, prob: Problem) -> RawSolution:  # pragma: no cover - abstract
        raise NotImplementedError

    def _result(self, data: CostData, raw: RawSolution, existing: np.ndarray, objective: float, t_prep: float,
                *, site_level: np.ndarray | None = None, covered_upper: np.ndarray | None = None) -> LocationResult:
        """Label a checked solution. ``site_level`` (per candidate) and ``covered_upper`` (per
        demand) fill the optional fields of two-level models."""
        cand = data.candidates
        has = raw.assign >= 0
        fac = np.empty(len(raw.assign), dtype=object)
        fac[:] = None
        fac[has] = np.asarray(cand, dtype=object)[raw.assign[has]]
        from ._check import pair_cost

        cst = np.full(len(raw.assign), np.nan)
        cst[has] = pair_cost(data, np.flatnonzero(has), raw.assign[has])
        covered = None
        if self.kind in ("set_covering", "maximal_covering", "hierarchical_covering"):
            covered = pd.Series(has, index=data.demand, name="covered")
        load = np.bincount(raw.assign[has], weights=data.weights[has], minlength=len(cand))
        sel = np.flatnonzero(raw.is_open)
        order = np.concatenate((sel[existing[sel]], sel[~existing[sel]]))
        bound = raw.bound
        sense_max = self.kind in ("maximal_covering", "hierarchical_covering")
        if np.isfinite(bound):
            bound = max(bound, objective) if sense_max else min(bound, objective)
        gap = _gap(objective, bound)
        status = raw.status
        if status == "optimal" and gap > max(self.mip_gap, 1e-9) * 1.0001:
            status = "time_limit"
        extra = {}
        if site_level is not None:
            extra["level"] = pd.Series(site_level[order], index=cand[order], name="level", dtype=object)
        if covered_upper is not None:
            extra["covered_upper"] = pd.Series(covered_upper, index=data.demand, name="covered_upper")
        return LocationResult(
            model=self.model_name, params=self.get_params(),
            selected=list(cand[order]), new=list(cand[sel[~existing[sel]]]),
            existing=list(cand[existing]),
            assignment=pd.Series(fac, index=data.demand, name="facility", dtype=object),
            assigned_cost=pd.Series(cst, index=data.demand, name="cost"),
            covered=covered,
            load=pd.Series(load[order], index=cand[order], name="load"),
            objective=objective, bound=bound, gap=gap, status=status, method=raw.method,
            solve_time_s=raw.solve_time_s, build_time_s=raw.build_time_s + t_prep, info=raw.info, **extra)


def _gap(obj: float, bound: float) -> float:
    if not (np.isfinite(obj) and np.isfinite(bound)):
        return np.inf
    diff = abs(obj - bound)
    if diff <= 1e-9 * max(1.0, abs(obj)):
        return 0.0
    return diff / max(abs(obj), 1e-12)


def nearest_assignment(data: CostData, is_open: np.ndarray, radius: float | None = None) -> np.ndarray:
    """Assign each demand to its nearest open site (within ``radius``), -1 if none."""
    best, arg = nearest_open(data, is_open)
    ok = np.isfinite(best) if radius is None else best <= radius
    return np.where(ok, arg, -1)
