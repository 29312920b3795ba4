"""Shared machinery of the location models: parameters, input checks, results."""

from __future__ import annotations

import sys
import time
import warnings
from dataclasses import dataclass, field, fields
from typing import Any, ClassVar

import numpy as np
import pandas as pd

from careplan._errors import InputError, SolverError

from ._check import Solution, check_solution, nearest_open, nearest_rule, pair_cost
from ._cost import CostData, capacity_array, cost_from_input, labels_to_mask
from ._mip import NoSolutionInTime

__all__ = ["LocationModel", "LocationResult", "OldName", "Problem", "RawSolution", "Solution"]

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
        Demand label -> within the upper-level cutoff of an open upper-level site
        (hierarchical models only; ``covered`` is then the lower-level coverage).
    allocation : pandas.DataFrame or None
        With ``split_demand=True``: one row per serving pair, columns ``demand``,
        ``facility``, ``share`` (of the demand's weight), ``weight`` and ``cost``;
        ``assignment`` then names the site with the largest share. None otherwise.
    weights : pandas.Series or None
        Demand label -> the demand weights of the solve (for the summaries below).
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
    allocation: pd.DataFrame | None = None
    weights: pd.Series | None = None

    def coverage_share(self, by: str = "points") -> float:
        """Share of demands served (within the cutoff for covering models), in [0, 1].

        spopt's ``perc_cov`` is ``100 * coverage_share("points")``.

        Parameters
        ----------
        by : {'points', 'weight'}, default 'points'
            Count demand points, or sum their weights (e.g. elderly).

        Returns
        -------
        float
            ``nan`` when there is no demand (or no weight).

        Raises
        ------
        InputError
            If ``by`` is not one of the two choices.
        """
        served = self.covered if self.covered is not None else self.assignment.notna()
        served = served.to_numpy(dtype=bool)
        if by == "points":
            return float(served.mean()) if len(served) else float("nan")
        if by == "weight":
            w = self._weights()
            return float(w[served].sum() / w.sum()) if w.sum() > 0 else float("nan")
        raise InputError(f"by must be 'points' or 'weight'; got {by!r}.")

    def mean_cost(self, weighted: bool = True) -> float:
        """Mean cost (e.g. walking metres) from the served demands to their sites.

        spopt's ``mean_dist`` is ``mean_cost(weighted=True)`` (total weighted
        distance / total weight) on a p-median result.

        Parameters
        ----------
        weighted : bool, default True
            Weight each demand by its weight; False gives the plain mean over points.

        Returns
        -------
        float
            In the unit of the cost; ``nan`` if nothing is served.
        """
        c = self.assigned_cost.to_numpy(dtype=float)
        has = ~np.isnan(c)
        w = self._weights() if weighted else np.ones(len(c))
        tot = w[has].sum()
        return float(np.dot(w[has], c[has]) / tot) if tot > 0 else float("nan")

    def _weights(self) -> np.ndarray:
        if self.weights is None:
            return np.ones(len(self.assignment))
        return self.weights.to_numpy(dtype=float)

    def to_frame(self) -> pd.DataFrame:
        """One row per demand: ``facility``, ``cost``, and ``covered`` (``covered_upper``) where it applies.

        Returns
        -------
        DataFrame
            Shape (n_demands, 2 to 4), indexed like the demands: ``facility`` (the
            serving candidate's label), ``cost`` (in the cost's unit), and the
            ``covered`` / ``covered_upper`` flags of the covering models.
        """
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
    split: bool = False
    extra: dict = field(default_factory=dict)

    @property
    def free(self) -> np.ndarray:
        """Candidates that may be opened as new sites."""
        return ~self.existing & ~self.excluded

    def remaining(self) -> float | None:
        """Seconds left before the solve's deadline (``time_limit_s``).

        Returns
        -------
        float or None
            Seconds left, at least 0.01 (so a solver call still gets a positive limit);
            None without a time limit.
        """
        if self.deadline is None:
            return None
        return max(self.deadline - time.perf_counter(), 0.01)


@dataclass
class RawSolution:
    """What a model's ``_solve`` returns: positional solution plus solver figures.

    ``is_open`` (bool per candidate), ``assign`` (site column per demand, -1 none),
    the solver's ``objective`` and proven ``bound``, ``status``, ``method``, times,
    ``info`` and, for split demand, ``flow`` (sparse shares, demand x candidate).
    """

    is_open: np.ndarray
    assign: np.ndarray
    objective: float
    bound: float
    status: str
    method: str
    solve_time_s: float
    build_time_s: float
    info: dict = field(default_factory=dict)
    flow: Any = None  # scipy.sparse.csr_array (n_demand x n_candidates) of shares when demand is split


@dataclass(kw_only=True)
class LocationModel:
    """Base of all location models; subclass it to add a model.

    A model describes itself, so the shared machinery (input checks, the
    independent check of every solution, result labelling) needs no knowledge
    of particular models:

    * ``sense`` (``'min'`` or ``'max'``): direction of the objective, and so of ``bound``;
    * :meth:`service_cutoff`: the cost within which a demand counts as served and
      ``covered`` (``None``: any reachable site serves, no ``covered`` column);
    * ``serves_all``: every demand with weight > 0 must be served;
    * :meth:`evaluate`: the objective recomputed from the cost data alone;
    * :meth:`check_rules`: the model's own feasibility rules (e.g. ``p`` new sites,
      nearest-site assignment), on top of the shared ones;
    * ``supports_capacity`` / ``supports_split``: whether ``capacity=`` and
      ``split_demand=True`` apply.

    A subclass implements ``_solve(problem) -> RawSolution`` and :meth:`evaluate`
    (and :meth:`check_rules` if its rules differ from "``p`` new sites if it has a
    ``p``, nearest open site when uncapacitated"); every solution then passes
    through :func:`careplan.locate._check.check_solution`.

    Parameters
    ----------
    time_limit_s : float, optional
        Wall-clock limit for the whole solve; the best solution found and its proven
        bound are returned with ``status='time_limit'`` when it is reached.
    mip_gap : float, default 1e-6
        Relative gap at which a solution counts as optimal.
    method : {'auto', 'mip', 'heuristic'}, default 'auto'
        ``'mip'``: exact HiGHS MIP; ``'heuristic'``: fast heuristic with a proven bound
        where the model has one (uncapacitated models only); ``'auto'``: the fastest exact route.
    split_demand : bool, default False
        Capacitated models only: let a demand's weight be split over several open
        sites (as spopt's capacitated set covering allows). The default serves each
        demand whole by one site, which is what a care station serving an estate
        means; without ``capacity`` both give the same solution.
    verbose : bool, optional
        Show the HiGHS log.
    """

    time_limit_s: float | None = None
    mip_gap: float = 1e-6
    method: str = "auto"
    split_demand: bool = False
    verbose: bool | None = None

    model_name: ClassVar[str] = "LocationModel"
    #: 'min' or 'max': direction of the objective (and of ``bound``)
    sense: ClassVar[str] = "min"
    #: every demand with weight > 0 must be served (False: serving is optional, as in maximal covering)
    serves_all: ClassVar[bool] = True
    supports_capacity: ClassVar[bool] = True
    supports_split: ClassVar[bool] = True
    #: deprecated constructor names -> current names (kept working with a DeprecationWarning)
    renamed: ClassVar[dict[str, str]] = {}

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        own = {name: v.new for name, v in vars(cls).items() if isinstance(v, OldName)}
        if own:
            cls.renamed = {**cls.renamed, **own}

    def __post_init__(self, *old: Any) -> None:
        # values given under the deprecated names (the InitVars declared with OldName, in order)
        self._take_renamed(**dict(zip(self.renamed, old, strict=True)))
        if self.method not in METHODS:
            raise InputError(f"method must be one of {METHODS}; got {self.method!r}.")
        if self.time_limit_s is not None and not self.time_limit_s > 0:
            raise InputError(f"time_limit_s must be > 0 (or None); got {self.time_limit_s!r}.")
        if not 0 <= self.mip_gap < 1:
            raise InputError(f"mip_gap must be in [0, 1); got {self.mip_gap!r}.")
        if self.sense not in ("min", "max"):  # pragma: no cover - a subclass bug
            raise TypeError(f"{type(self).__name__}.sense must be 'min' or 'max'; got {self.sense!r}.")
        if not isinstance(self.split_demand, (bool, np.bool_)):
            raise InputError(f"split_demand must be True or False; got {self.split_demand!r}.")
        if self.split_demand and not self.supports_split:
            raise InputError(f"{self.model_name} has no split-demand variant; drop split_demand=True.")
        p = getattr(self, "p", None)
        if p is not None and (not isinstance(p, (int, np.integer)) or isinstance(p, bool) or p < 0):
            raise InputError(f"p (number of NEW sites) must be an integer >= 0; got {p!r}.")
        if "cutoff_m" in {f.name for f in fields(self)}:
            _check_distance(self.cutoff_m, self._old_name("cutoff_m"), required=True)

    def _take_renamed(self, **old: Any) -> None:
        """Move values given under deprecated names to their new fields, with a DeprecationWarning."""
        for name, value in old.items():
            if value is None:
                continue
            new = self.renamed[name]
            _check_distance(value, f"{new} (given as {name}=)", required=True)
            if getattr(self, new) is not None:
                raise InputError(f"{self.model_name}: give {new}= only ({name}= is its old name).")
            warnings.warn(f"{self.model_name}({name}=...) is deprecated; use {new}= (same meaning, in the "
                          "unit of the cost, e.g. metres).", DeprecationWarning, stacklevel=_caller_level())
            object.__setattr__(self, new, value)

    def _old_name(self, new: str) -> str:
        old = [k for k, v in self.renamed.items() if v == new]
        return f"{new} (old name {old[0]})" if old else new

    def get_params(self) -> dict[str, Any]:
        """Parameters as a dict (scikit-learn style).

        Returns
        -------
        dict of str to object
            Field name -> value, every field of the model.
        """
        return {f.name: getattr(self, f.name) for f in fields(self)}

    # -- self-description ---------------------------------------------------
    def service_cutoff(self) -> float | None:
        """Cost within which a demand counts as served (``covered``); None if any reachable site serves.

        Returns
        -------
        float or None
            ``cutoff_m`` for covering models, None for p-median / p-center.
        """
        return getattr(self, "cutoff_m", None)

    def evaluate(self, solution: Solution) -> float:
        """Objective of ``solution`` recomputed from the cost data alone (the independent check).

        Parameters
        ----------
        solution : careplan.locate._check.Solution
            Open sites, assignment (and split shares) with the cost data.

        Returns
        -------
        float

        Raises
        ------
        NotImplementedError
            In a subclass that does not implement it.
        """
        raise NotImplementedError(f"{type(self).__name__} must implement evaluate(solution): the objective "
                                  "recomputed from solution.data, used by the independent check.")

    def check_rules(self, solution: Solution) -> list[str]:
        """The model's own rules, as messages for each violation (empty list if none).

        Default: exactly ``p`` new sites if the model has ``p``; without capacities,
        every demand served by its nearest open site (within :meth:`service_cutoff`).

        Parameters
        ----------
        solution : careplan.locate._check.Solution

        Returns
        -------
        list of str
        """
        errs = []
        p = getattr(self, "p", None)
        if p is not None and solution.n_new != p:
            errs.append(f"{solution.n_new} new sites opened, p={p}")
        if solution.capacity is None and solution.flow is None:
            errs += nearest_rule(solution, self.service_cutoff())
        return errs

    def time_limit_advice(self, problem: Problem) -> str:
        """What to do when the time limit passed before any solution was found (works in this situation).

        Parameters
        ----------
        problem : Problem
            The problem being solved (its ``capacity`` decides the advice).

        Returns
        -------
        str
            One sentence of advice, for the error message.
        """
        if problem.capacity is not None:
            return ("raise time_limit_s (or drop it): capacitated models are solved exactly only, "
                    "so method='heuristic' does not apply to them")
        return "raise time_limit_s (or drop it), or use method='heuristic' for a quick solution with a proven gap"

    # -- the work ---------------------------------------------------------
    def solve(self, cost: Any, *, weights: Any = None, existing: Any = None, excluded: Any = None,
              capacity: Any = None, demand_labels: Any = None, candidate_labels: Any = None) -> LocationResult:
        """Solve the model.

        Parameters
        ----------
        cost : array of shape (n_demand, n_candidates), sparse matrix or DataFrame
            Demand x candidate cost (e.g. walking metres); see :func:`cost_from_input`
            for the accepted forms. Unreachable pairs: ``np.inf`` / not stored / NaN.
        weights : array-like of shape (n_demand,) or Series, optional
            Demand weights (e.g. elderly); default 1. Demands with weight 0 need no
            service (they are still assigned where possible).
        existing : labels, optional
            Candidate labels that are open already and stay open (not counted in ``p``).
            Labels, not spopt's 0/1 dummies (a 0/1 vector with one entry per site is refused).
        excluded : labels, optional
            Candidate labels that must not be opened.
        capacity : scalar, array of shape (n_candidates,) or Series, optional
            Capacity per candidate in weight units (``np.inf`` = unlimited); turns on
            the capacitated model (each demand served whole by one site unless
            ``split_demand=True``).
        demand_labels, candidate_labels : sequence, optional
            Labels for array costs (and the candidate set of a long table).

        Returns
        -------
        LocationResult

        Raises
        ------
        InputError
            Malformed cost, weights, labels or capacities, or ``p`` larger than the free candidates.
        InfeasibleError
            No solution satisfies the rules (e.g. a demand nothing reaches).
        SolverError
            The time limit passed before any solution was found (the message says what to do).
        """
        t0 = time.perf_counter()
        prob = self._problem(cost, weights=weights, existing=existing, excluded=excluded, capacity=capacity,
                             demand_labels=demand_labels, candidate_labels=candidate_labels, t0=t0)
        t_prep = time.perf_counter() - t0
        raw = self._run(prob)
        return self._checked_result(prob, raw, t_prep)

    def _problem(self, cost: Any, *, weights: Any, existing: Any, excluded: Any, capacity: Any,
                 demand_labels: Any, candidate_labels: Any, t0: float) -> Problem:
        """Check and normalise the inputs of one solve."""
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
        return Problem(data=data, existing=ex, excluded=exc, capacity=cap, deadline=deadline,
                       split=bool(self.split_demand) and cap is not None)

    def _run(self, prob: Problem) -> RawSolution:
        """``_solve`` with the time-limit advice of this model."""
        try:
            return self._solve(prob)
        except NoSolutionInTime as exc:
            raise SolverError(f"{self.model_name}: {exc} What to do: {self.time_limit_advice(prob)}.") from None

    def _checked_result(self, prob: Problem, raw: RawSolution, t_prep: float) -> LocationResult:
        objective = check_solution(self, prob.data, is_open=raw.is_open, assign=raw.assign,
                                   existing=prob.existing, excluded=prob.excluded, capacity=prob.capacity,
                                   objective=raw.objective, flow=raw.flow, extra=prob.extra)
        return self._result(prob.data, raw, prob.existing, objective, t_prep)

    def _solve(self, prob: Problem) -> RawSolution:  # pragma: no cover - abstract
        raise NotImplementedError(f"{type(self).__name__} must implement _solve(problem) -> RawSolution.")

    def _result(self, data: CostData, raw: RawSolution, existing: np.ndarray, objective: float, t_prep: float,
                *, site_level: np.ndarray | None = None, covered_upper: np.ndarray | None = None) -> LocationResult:
        """Label a checked solution. ``site_level`` (per candidate) and ``covered_upper`` (per
        demand) fill the optional fields of two-level models."""
        cand = data.candidates
        sol = Solution(data, raw.is_open, raw.assign, existing, np.zeros(len(cand), bool), None, raw.flow)
        has = raw.assign >= 0
        fac = np.empty(len(raw.assign), dtype=object)
        fac[:] = None
        fac[has] = np.asarray(cand, dtype=object)[raw.assign[has]]
        cst = sol.assigned_cost()
        covered = None
        if self.service_cutoff() is not None:
            covered = pd.Series(has, index=data.demand, name="covered")
        load = sol.load()
        sel = np.flatnonzero(raw.is_open)
        order = np.concatenate((sel[existing[sel]], sel[~existing[sel]]))
        bound = raw.bound
        if np.isfinite(bound):
            bound = max(bound, objective) if self.sense == "max" else min(bound, objective)
        gap = _gap(objective, bound)
        status = raw.status
        if status == "optimal" and gap > max(self.mip_gap, 1e-9) * 1.0001:
            status = "time_limit"
        extra: dict[str, Any] = {}
        if site_level is not None:
            extra["level"] = pd.Series(site_level[order], index=cand[order], name="level", dtype=object)
        if covered_upper is not None:
            extra["covered_upper"] = pd.Series(covered_upper, index=data.demand, name="covered_upper")
        if raw.flow is not None:
            r, c, share = sol.flow_pairs()
            extra["allocation"] = pd.DataFrame({
                "demand": np.asarray(data.demand, dtype=object)[r],
                "facility": np.asarray(cand, dtype=object)[c], "share": share,
                "weight": share * data.weights[r], "cost": pair_cost(data, r, c)})
        return LocationResult(
            model=self.model_name, params=self.get_params(),
            selected=list(cand[order]), new=list(cand[sel[~existing[sel]]]),
            existing=list(cand[existing]),
            assignment=pd.Series(fac, index=data.demand, name="facility", dtype=object),
            assigned_cost=pd.Series(cst, index=data.demand, name="cost"),
            covered=covered,
            load=pd.Series(load[order], index=cand[order], name="load"),
            objective=objective, bound=bound, gap=gap, status=status, method=raw.method,
            solve_time_s=raw.solve_time_s, build_time_s=raw.build_time_s + t_prep, info=raw.info,
            weights=pd.Series(data.weights, index=data.demand, name="weight"), **extra)


def _check_distance(value: Any, name: str, *, required: bool) -> None:
    """A finite non-negative number (in the unit of the cost)."""
    if value is None and not required:
        return
    if value is None:
        raise InputError(f"{name} is required: the service cutoff in the unit of the cost (e.g. metres).")
    if isinstance(value, bool) or not isinstance(value, (int, float, np.integer, np.floating)) \
            or not np.isfinite(value) or value < 0:
        raise InputError(f"{name} must be a finite number >= 0 (same unit as the cost, e.g. metres); "
                         f"got {value!r}.")


class OldName:
    """The deprecated name of a renamed model parameter, declared once in the model's body.

    ``radius: InitVar[float | None] = OldName("cutoff_m")`` makes ``radius=`` a
    constructor keyword that moves its value to ``cutoff_m`` with a
    DeprecationWarning (:meth:`LocationModel._take_renamed`), and ``model.radius``
    a read-only attribute that warns and returns ``model.cutoff_m``. The model's
    ``renamed`` map (old -> new) is collected from these declarations. As a class
    attribute it reads ``None``: the dataclass default ("not given"). Import ``InitVar``
    at module level: with ``from __future__ import annotations`` dataclasses recognise
    the string annotation only through the module's namespace.

    Parameters
    ----------
    new : str
        The current name of the parameter.
    """

    def __init__(self, new: str) -> None:
        self.new = new
        self.name = ""

    def __set_name__(self, owner: type, name: str) -> None:
        self.name = name

    def __get__(self, obj: Any, owner: type | None = None) -> Any:
        if obj is None:
            return None
        warnings.warn(f"{type(obj).__name__}.{self.name} is deprecated; use .{self.new}.", DeprecationWarning,
                      stacklevel=2)
        return getattr(obj, self.new)


def _caller_level() -> int:
    """``stacklevel`` of the first frame outside careplan.locate and the generated ``__init__``."""
    here = __file__.rsplit("/", 1)[0]
    frame, level = sys._getframe(1), 1
    while frame is not None and (frame.f_code.co_filename.startswith(here)
                                 or frame.f_code.co_filename.startswith("<")):
        frame, level = frame.f_back, level + 1
    return level


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
