"""PlanConfig: the one source of the layout plan's options.

Every place that offers the plan's options is derived from :class:`PlanConfig`:
the keyword options of :func:`careplan.plan_layout` (its signature and docstring),
the ``[plan]`` table of a ``careplan plan`` config (its schema, ``careplan plan
--keys``), and the parameter table of the report (:meth:`PlanConfig.parameters`).
Each field carries an :class:`Option` in its metadata: its type, range, allowed
values, help text and the source of its default.
"""

from __future__ import annotations

import dataclasses
import math
import numbers
import os
import warnings
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from careplan._errors import InputError
from careplan._schema import FACILITY_LEVELS

__all__ = ["MODELS", "MODEL_ALIASES", "Option", "PlanConfig"]

#: Location models the plan can use (snake_case of the :mod:`careplan.locate` class).
MODELS: tuple[str, ...] = ("auto", "set_covering", "maximal_covering", "p_median")

#: Old model names still accepted (with a DeprecationWarning).
MODEL_ALIASES: dict[str, str] = {"max_covering": "maximal_covering"}


@dataclass(frozen=True)
class Option:
    """How one option of the plan is typed, checked and described.

    Attributes
    ----------
    kind : {'number', 'integer', 'bool', 'choice', 'levels', 'standard', 'unit_costs', \
'milestones'}
        Value type.
    help : str
        One line for ``--keys``, the docstring and error messages.
    low, high : float, optional
        Inclusive plausible range of a number (``low_open`` excludes ``low``).
    choices : tuple of str
        Allowed values of a choice / level list.
    optional : bool
        ``None`` (the TOML key left out) is allowed and means "derive it".
    """

    kind: str
    help: str
    low: float | None = None
    high: float | None = None
    low_open: bool = False
    choices: tuple[str, ...] = ()
    optional: bool = False

    def type_name(self) -> str:
        """Short type description for ``--keys`` and messages."""
        base = {"number": "number", "integer": "integer", "bool": "true/false",
                "choice": "string", "levels": "list of facility levels",
                "standard": "string (profile name or .toml path)",
                "unit_costs": "table {level = {construction_per_m2, rent_per_m2_year}} (yuan)",
                "milestones": "list of {year, budget} tables (increasing years, yuan)",
                }[self.kind]
        if self.kind in ("number", "integer") and (self.low is not None or self.high is not None):
            lo = "" if self.low is None else f"{'>' if self.low_open else '>='} {self.low:g}"
            hi = "" if self.high is None else f"<= {self.high:g}"
            base += f" ({', '.join(x for x in (lo, hi) if x)})"
        if self.choices and self.kind == "choice":
            base += f" ({' | '.join(self.choices)})"
        return base


def _opt(default: Any, option: Option) -> Any:
    return field(default=default, metadata={"option": option})


@dataclass(frozen=True)
class PlanConfig:
    """Options of a layout plan, checked when the object is made.

    Attributes
    ----------
    standard : str, Path or Standard
        Policy profile: a name from :func:`careplan.standards.available`, the path of
        a TOML profile, or a loaded :class:`~careplan.standards.Standard`.
    minutes, speed_m_per_min : float, optional
        The walking circle (minutes x metres per minute); default: the profile's
        service circle and walking speed (15 min, 60 m/min for the shipped profiles,
        see :data:`careplan._schema.DEFAULT_WALK_SPEED_M_PER_MIN`).
    cutoff_m : float, optional
        Walking circle in metres; overrides ``minutes`` (then ``minutes`` is reported
        as ``cutoff_m / speed_m_per_min``).
    p : int, optional
        Budget of new stations. Without it the fewest stations that put every
        reachable household inside the circle; with it the ``p`` stations covering the
        most elderly (households where no elderly column exists).
    model : {'auto', 'set_covering', 'maximal_covering', 'p_median'}
        Location model ('auto': set_covering without ``p``, maximal_covering with it;
        'p_median' minimises the demand-weighted walk of the areas not yet covered and
        needs ``p``). 'max_covering' is an old name of 'maximal_covering'.
    circle_levels : tuple of str, optional
        Facility levels whose reach counts toward the walking circle; default: the
        ``levels`` of the profile's service-circle rule, else
        :data:`careplan._schema.DEFAULT_CIRCLE_LEVELS`.
    min_station_floor_area_m2 : float
        Smallest floor area a new station is given (m2); 0 = the profile's single-site
        minimum, else careplan's documented default of 200 m2
        (:data:`careplan.standards.DEFAULT_MIN_SITE_FLOOR_AREA_M2`). A higher value
        raises the profile's minimum.
    pooling_minutes : float, optional
        Pooling circle (walking minutes x ``speed_m_per_min``): a deficit below the
        site minimum is served together with its neighbours by one shared station
        within it, never by a station of its own. Default: the profile's
        ``pooling_circle_minutes`` rule (Anhui 2022: 5 minutes), else the plan's
        walking circle (the profiles without a pooling rule: any station within the
        circle may pool them). At most the walking circle.
    fallback_candidates : bool
        Add a candidate site inside every area with households that no site reaches.
    max_snap_m : float, optional
        Farthest a point may lie from the network (m); default the network's.
    time_limit_s : float
        Time limit of the location model's solver (s).
    lang : {'zh', 'en'}
        Language of the report.
    unit_costs : dict, optional
        Unit costs by facility level, yuan: ``{level: {"construction_per_m2": ...,
        "rent_per_m2_year": ...}}`` (either key may be left out: 0). When given the plan
        has a cost table (:attr:`LayoutPlan.cost`, :func:`careplan.phasing.cost_table`):
        new stations and on-site rooms are priced at their level, expansions at the
        expanded facility's level, for their added floor area. A level without an entry
        costs 0 and is named in the table's ``note``. No default: costs are local.
    milestones : tuple of (int, float), optional
        Phases: ``[(year, budget), ...]`` (config: ``[[plan.milestones]] year = 2022
        budget = 3e6``), years increasing, budgets in yuan of construction per phase;
        e.g. the profile's target years (the ``year`` of its rules: Jinwan 2022,
        Urumqi 2025). Needs ``unit_costs``. Each new facility gets a phase by
        :func:`careplan.phasing.phase_order` (exact MIP: the most elderly served
        earliest within each phase's budget; facilities no budget fits get none) in
        :attr:`LayoutPlan.phases`. Every budget must pay for at least the cheapest
        proposed facility.

    Raises
    ------
    InputError
        A value of the wrong type, out of its range or not in its vocabulary; the
        message names the option.
    """

    standard: Any = _opt("jinwan-2020", Option(
        "standard", "policy profile: a name from `careplan standards` or a .toml path"))
    minutes: float | None = _opt(None, Option(
        "number", "walking circle in minutes (default: the profile's service circle)",
        low=0, high=24 * 60, low_open=True, optional=True))
    speed_m_per_min: float | None = _opt(None, Option(
        "number", "elderly walking speed, m/min (default: the profile's)",
        low=0, high=200, low_open=True, optional=True))
    cutoff_m: float | None = _opt(None, Option(
        "number", "walking circle in metres (overrides minutes)",
        low=0, high=100_000, low_open=True, optional=True))
    p: int | None = _opt(None, Option(
        "integer", "budget of new stations (default: as many as needed)",
        low=0, high=1_000_000, optional=True))
    model: str = _opt("auto", Option(
        "choice", "location model for the new stations", choices=MODELS))
    circle_levels: tuple[str, ...] | None = _opt(None, Option(
        "levels", "facility levels counting toward the walking circle "
        f"(default: the profile's service-circle levels; of {', '.join(FACILITY_LEVELS)})",
        choices=FACILITY_LEVELS,
        optional=True))
    min_station_floor_area_m2: float = _opt(0.0, Option(
        "number", "smallest floor area of a new station, m2", low=0, high=100_000))
    pooling_minutes: float | None = _opt(None, Option(
        "number", "pooling circle in minutes: small deficits share one station within it "
        "(default: the profile's pooling circle, else the walking circle)",
        low=0, high=24 * 60, low_open=True, optional=True))
    fallback_candidates: bool = _opt(True, Option(
        "bool", "add a site inside areas that no candidate reaches"))
    max_snap_m: float | None = _opt(None, Option(
        "number", "farthest a point may lie from the network, m (default: the network's)",
        low=0, high=100_000, low_open=True, optional=True))
    time_limit_s: float = _opt(60.0, Option(
        "number", "solver time limit, s", low=0, high=7 * 86_400, low_open=True))
    lang: str = _opt("zh", Option("choice", "report language", choices=("zh", "en")))
    unit_costs: dict | None = _opt(None, Option(
        "unit_costs", "unit costs by facility level, yuan: construction per m2 and rent per m2 "
        "per year (gives the plan's cost table)", choices=FACILITY_LEVELS, optional=True))
    milestones: tuple | None = _opt(None, Option(
        "milestones", "phases: target year and construction budget (yuan) of each; needs "
        "unit_costs (gives each new facility a phase)", optional=True))

    def __post_init__(self) -> None:
        for f in dataclasses.fields(self):
            value = _check(f.name, f.metadata["option"], getattr(self, f.name), "")
            object.__setattr__(self, f.name, value)
        if self.model == "p_median" and self.p is None:
            raise InputError("model='p_median' needs a budget: give p (number of new "
                             "stations)")
        if self.milestones is not None and self.unit_costs is None:
            raise InputError("milestones need unit costs to price the facilities: give "
                             "unit_costs (e.g. {community = {construction_per_m2 = 5000}})")

    @classmethod
    def options(cls) -> dict[str, tuple[Option, Any]]:
        """``{name: (Option, default)}`` of every plan option, in order."""
        return {f.name: (f.metadata["option"], f.default) for f in dataclasses.fields(cls)}

    @classmethod
    def from_mapping(cls, values: Mapping[str, Any], *, where: str = "") -> PlanConfig:
        """Make a config from a mapping, checking every key and value.

        Parameters
        ----------
        values : mapping
            Option name -> value.
        where : str
            How the user names an option, used in messages: ``""`` for Python
            keywords (``p=...``), ``"[plan]"`` for a config file (``[plan].p``).

        Raises
        ------
        InputError
            An unknown key (the message lists the known ones) or a bad value.
        """
        known = cls.options()
        if not isinstance(values, Mapping):
            raise InputError(f"{where or 'options'} must be a table of options, got "
                             f"{type(values).__name__}")
        unknown = [k for k in values if k not in known]
        if unknown:
            what = f"{where} key" if where else "option"
            raise InputError(f"unknown {what}(s) {unknown}; known: {', '.join(known)}")
        checked = {k: _check(k, known[k][0], v, where) for k, v in values.items()}
        return cls(**checked)

    def replace(self, **changes: Any) -> PlanConfig:
        """Return a copy with some options changed (checked like the constructor).

        Parameters
        ----------
        **changes
            Option name -> new value (the fields of :class:`PlanConfig`).

        Returns
        -------
        PlanConfig
            A new object; ``self`` is unchanged.

        Raises
        ------
        InputError
            A value of the wrong type, out of its range or not in its vocabulary.
        """
        return dataclasses.replace(self, **changes)

    def parameters(self) -> dict[str, Any]:
        """Return the options as given.

        Returns
        -------
        dict of str to object
            ``{name: value}``, every field; None = derived at run time.
        """
        return {f.name: getattr(self, f.name) for f in dataclasses.fields(self)}


def _name(key: str, where: str) -> str:
    return f"{where} {key}" if where else key


def _check(key: str, opt: Option, value: Any, where: str) -> Any:  # noqa: C901 - one branch per kind
    """Check and normalise one option value; InputError naming the key otherwise."""
    name = _name(key, where)
    if value is None:
        if opt.optional:
            return None
        raise InputError(f"{name} must be given ({opt.type_name()})")
    if opt.kind in ("number", "integer"):
        if isinstance(value, bool) or not isinstance(value, numbers.Real):
            raise InputError(f"{name} must be a {opt.type_name()}, got {value!r}")
        if opt.kind == "integer" and not float(value).is_integer():
            raise InputError(f"{name} must be an integer, got {value!r}")
        v = float(value)
        if not math.isfinite(v) or (opt.low is not None and (v < opt.low or (
                opt.low_open and v == opt.low))) or (opt.high is not None and v > opt.high):
            raise InputError(f"{name} must be a finite {opt.type_name()}, got {value!r}")
        return int(v) if opt.kind == "integer" else v
    if opt.kind == "bool":
        if not isinstance(value, bool):
            raise InputError(f"{name} must be true or false, got {value!r}")
        return value
    if opt.kind == "choice":
        if isinstance(value, str) and key == "model" and value in MODEL_ALIASES:
            new = MODEL_ALIASES[value]
            warnings.warn(f"model {value!r} is deprecated; use {new!r}", DeprecationWarning,
                          stacklevel=4)
            value = new
        if not isinstance(value, str) or value not in opt.choices:
            raise InputError(f"{name} must be one of {' | '.join(opt.choices)}, got {value!r}")
        return value
    if opt.kind == "levels":
        if isinstance(value, str) or not isinstance(value, list | tuple) or not value:
            raise InputError(f"{name} must be a non-empty list of facility levels "
                             f"({' | '.join(opt.choices)}), got {value!r}")
        bad = [v for v in value if not isinstance(v, str) or v not in opt.choices]
        if bad:
            raise InputError(f"{name} has unknown level(s) {bad}; use some of "
                             f"{' | '.join(opt.choices)}")
        return tuple(dict.fromkeys(value))
    if opt.kind == "unit_costs":
        return _unit_costs(name, value, opt.choices)
    if opt.kind == "milestones":
        return _milestones(name, value)
    # standard: a name, a path or a loaded Standard (checked when loaded)
    if isinstance(value, str | os.PathLike) or hasattr(value, "rules"):
        if isinstance(value, str) and not value.strip():
            raise InputError(f"{name} must not be empty")
        return value
    raise InputError(f"{name} must be a profile name, a .toml path or a Standard, "
                     f"got {type(value).__name__}")


_COST_KEYS = ("construction_per_m2", "rent_per_m2_year")


def _cost(name: str, value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, numbers.Real) or not math.isfinite(
            float(value)) or float(value) < 0:
        raise InputError(f"{name} must be a finite number >= 0 (yuan), got {value!r}; give "
                         "the cost as a non-negative number")
    return float(value)


def _unit_costs(name: str, value: Any, levels: tuple[str, ...]) -> dict:
    """``{level: {construction_per_m2, rent_per_m2_year}}`` checked, missing keys 0."""
    if not isinstance(value, Mapping) or not value:
        raise InputError(f"{name} must be a table of facility levels, e.g. {{community = "
                         f"{{construction_per_m2 = 5000, rent_per_m2_year = 300}}}}, "
                         f"got {value!r}")
    out = {}
    for level, costs in value.items():
        if level not in levels:
            raise InputError(f"{name} has unknown level {level!r}; use some of "
                             f"{' | '.join(levels)}")
        if not isinstance(costs, Mapping):
            raise InputError(f"{name}.{level} must be a table with construction_per_m2 and/or "
                             f"rent_per_m2_year, got {costs!r}")
        bad = [k for k in costs if k not in _COST_KEYS]
        if bad:
            raise InputError(f"{name}.{level} has unknown key(s) {bad}; use "
                             f"{' and '.join(_COST_KEYS)}")
        out[level] = {k: _cost(f"{name}.{level}.{k}", costs.get(k, 0.0)) for k in _COST_KEYS}
    return out


def _milestones(name: str, value: Any) -> tuple[tuple[int, float], ...]:
    """``((year, budget), ...)`` from a list of {year, budget} tables or pairs, checked."""
    if isinstance(value, str | Mapping) or not isinstance(value, list | tuple) or not value:
        raise InputError(f"{name} must be a non-empty list of {{year, budget}} tables (config: "
                         f"[[plan.milestones]] year = 2022, budget = 3000000), got {value!r}")
    out = []
    for k, m in enumerate(value):
        if isinstance(m, Mapping):
            bad = [x for x in m if x not in ("year", "budget")]
            if bad or "year" not in m or "budget" not in m:
                raise InputError(f"{name}[{k}] needs exactly year and budget, got "
                                 f"{sorted(m)}")
            year, budget = m["year"], m["budget"]
        elif isinstance(m, list | tuple) and len(m) == 2:
            year, budget = m
        else:
            raise InputError(f"{name}[{k}] must be a {{year, budget}} table or a (year, "
                             f"budget) pair, got {m!r}")
        if isinstance(year, bool) or not isinstance(year, numbers.Integral) or not (
                1900 <= int(year) <= 2200):
            raise InputError(f"{name}[{k}].year must be a year such as 2025, got {year!r}")
        out.append((int(year), _cost(f"{name}[{k}].budget", budget)))
    years = [y for y, _ in out]
    for a, b in zip(years, years[1:], strict=False):
        if b <= a:
            raise InputError(f"{name} years must increase, got {a} then {b}; list the "
                             "milestones in time order, each year once (e.g. 2022 then 2025)")
    return tuple(out)
