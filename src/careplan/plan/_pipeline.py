"""plan_layout: the layout plan as a pipeline of named steps."""

from __future__ import annotations

import dataclasses
import functools
import inspect
import time
import warnings
from typing import Any

import geopandas as gpd

from careplan._errors import CareplanWarning, InputError
from careplan._progress import progress
from careplan.plan._assemble import assemble, assess_after
from careplan.plan._canteens import canteen_sites, canteens
from careplan.plan._config import PlanConfig
from careplan.plan._district import district_centres
from careplan.plan._levels import street_centres
from careplan.plan._propose import choose, fit_to_allocation, size
from careplan.plan._result import LayoutPlan
from careplan.plan._sizes import candidate_caps, pooling_cutoff_m
from careplan.plan._steps import NEW_STATION_LEVEL, Inputs, assess, distances, prepare
from careplan.plan._unsuitable import drop_unsuitable
from careplan.plan._zones import zones
from careplan.standards import site_limits

__all__ = ["plan_layout"]

def plan_layout(areas: gpd.GeoDataFrame, facilities: gpd.GeoDataFrame | None = None,
                candidates: gpd.GeoDataFrame | None = None, net: Any = None, *,
                config: PlanConfig | None = None, verbose: bool | None = None,
                streets: Any = None, districts: Any = None, **options: Any) -> LayoutPlan:
    """Plan new elderly-care stations for a set of residential areas.

    Steps (each a function of :mod:`careplan.plan`): ``prepare`` the inputs and
    options; ``distances`` from every area to every site (existing circle
    facilities and candidates), walked once; ``assess`` the current state
    (floor-area compliance and walking coverage); ``choose`` new stations with a
    location model; ``size`` them by allocating each area's floor-area deficit to
    its nearest station within the circle (a new station, or an expansion of an
    existing counted facility); ``assess_after`` with the same distances;
    ``assemble`` the :class:`LayoutPlan`.

    Parameters
    ----------
    areas : GeoDataFrame
        As from :func:`careplan.read_areas` (``area_id, households, built``, optional
        ``elderly``), in the network's projected CRS.
    facilities : GeoDataFrame, optional
        As from :func:`careplan.read_facilities`; None or empty = none yet.
    candidates : GeoDataFrame, optional
        As from :func:`careplan.read_candidates`; None = a site inside every area (a
        station built in each estate, as with 配建 community rooms), stated in
        ``plan.parameters['candidates']``.
    net : WalkNetwork or path
        The walking network, or an OSM file read with :meth:`WalkNetwork.from_file`.
        (``network=`` is its old name, deprecated.)
    config : PlanConfig, optional
        All options at once; the keyword options (Other Parameters, below: the
        fields of :class:`careplan.plan.PlanConfig`) override its fields.
    verbose : bool, optional
        Progress bar (default: unless careplan is quiet).
    streets, districts : GeoDataFrame or path, optional
        Street (街道/镇) / district (区/县) boundary polygons
        (:func:`careplan.data.read_boundaries`). Areas, candidates and facilities get
        their ``street`` / ``district`` by spatial join (representative point within
        polygon; a record's own non-empty value wins; records in no polygon are
        reported, never dropped). Inputs like the areas, not options, so they are
        not fields of :class:`PlanConfig`.

    Returns
    -------
    LayoutPlan

    Raises
    ------
    CareplanError
        Bad input (see the readers), an unknown or bad option (the message names
        it), CRSs that differ, a model that needs a budget and lacks one.
    """
    t0 = time.perf_counter()
    if "network" in options:
        warnings.warn("plan_layout(network=...) is deprecated; pass the network as the 4th "
                      "argument or as net=", DeprecationWarning, stacklevel=2)
        if net is not None:
            raise InputError("give the network once: as net (4th argument), not also network=")
        net = options.pop("network")
    if net is None:
        raise InputError("plan_layout needs the walking network: plan_layout(areas, "
                         "facilities, candidates, net)")
    if config is not None and not isinstance(config, PlanConfig):
        raise InputError(f"config must be a careplan.plan.PlanConfig, got {type(config).__name__}")
    cfg = PlanConfig.from_mapping({**(config.parameters() if config else {}), **options})
    steps = iter(progress(range(5), desc="careplan plan", total=5, verbose=verbose))
    next(steps, None)
    inp = zones(prepare(areas, facilities, candidates, net, cfg, verbose=verbose,
                        streets=streets, districts=districts))
    inp, unsuitable = drop_unsuitable(inp)  # issue 12 leftover 5 (plan/_unsuitable.py)
    inp, too_small = _drop_small_candidates(inp)
    sites = canteen_sites(inp, distances(inp))
    circle_now = [(s, sites.table.at[s, "source_id"]) for s in sites.existing]
    before = assess(inp, sites, inp.facilities, circle_now)
    next(steps, None)
    choice = choose(inp, sites)
    next(steps, None)
    sizing = size(inp, sites, before, choice)
    sizing = street_centres(inp, before, district_centres(inp, before, sizing))
    sizing = canteens(inp, sites, sizing)
    next(steps, None)
    after = assess_after(inp, sites, sizing)
    sizing, after, resized = fit_to_allocation(inp, sites, sizing, after)  # fixes finding 2
    next(steps, None)
    if sizing.unresolved_areas:
        ids = list(map(str, sizing.unresolved_areas))
        warnings.warn(f"{len(ids)} area(s) keep a floor-area deficit: no station lies within "
                      f"{inp.circle.cutoff_m:.0f} m walking: {', '.join(ids[:10])}; add "
                      "candidate sites near them", CareplanWarning, stacklevel=2)
    plan = assemble(inp, sites, before, choice, sizing, after, time.perf_counter() - t0)
    plan = _with_sizing_parameters(plan, inp, too_small)
    plan = dataclasses.replace(plan, parameters={**plan.parameters,
                                                 "candidates_unsuitable": unsuitable,
                                                 "stations_resized_to_allocation": resized})
    plan = _with_cost_and_phases(plan, cfg)
    next(steps, None)
    return plan


def _with_cost_and_phases(plan: LayoutPlan, cfg: PlanConfig) -> LayoutPlan:
    """The plan with its cost table and phases when ``unit_costs`` (and ``milestones``)
    are given (:func:`careplan.phasing.phase_layout`); their summary in the parameters."""
    if cfg.unit_costs is None:
        return plan
    from careplan.phasing import phase_layout

    plan = phase_layout(plan, milestones=cfg.milestones, unit_costs=cfg.unit_costs,
                        time_limit_s=cfg.time_limit_s)
    params = dict(plan.parameters)
    params["unit_costs"] = "; ".join(
        f"{lv}: construction {c['construction_per_m2']:,.0f} yuan/m2, rent "
        f"{c['rent_per_m2_year']:,.0f} yuan/m2/year" for lv, c in cfg.unit_costs.items())
    params["construction_cost_total"] = round(float(plan.cost["construction_cost"].sum()), 2)
    params["rent_per_year_total"] = round(float(plan.cost["rent_per_year"].sum()), 2)
    if cfg.milestones is not None:
        params["milestones"] = "; ".join(f"{y}: budget {b:,.0f} yuan"
                                         for y, b in cfg.milestones)
        from careplan.phasing import BEYOND_BUDGET

        ph = plan.phases
        unphased = list(map(str, ph.loc[ph["milestone"] == BEYOND_BUDGET, "station_id"]))
        params["unphased_facilities"] = ", ".join(unphased) or "none"
        if unphased:
            warnings.warn(f"{len(unphased)} proposed facilit(y/ies) fit no phase's budget and "
                          f"go to a last phase '{BEYOND_BUDGET}': {', '.join(unphased[:10])}; "
                          "raise the budgets or add a milestone", CareplanWarning, stacklevel=3)
    return dataclasses.replace(plan, parameters=params)


def _drop_small_candidates(inp: Inputs) -> tuple[Inputs, tuple]:
    """Leave out candidates whose ``max_floor_area_m2`` is below a new station's minimum
    (they cannot host a station within the bounds; CareplanWarning, listed)."""
    lim = site_limits(inp.standard, NEW_STATION_LEVEL,
                      min_m2=inp.config.min_station_floor_area_m2)
    cap = candidate_caps(inp)
    small = cap.index[cap < lim.min_m2 - 1e-9]
    if not len(small):
        return inp, ()
    ids = list(map(str, small))
    warnings.warn(f"{len(ids)} candidate site(s) can hold less than a new station's minimum "
                  f"of {lim.min_m2:g} m2 (their max_floor_area_m2) and are left out: "
                  f"{', '.join(ids[:10])}{' ...' if len(ids) > 10 else ''}; lower "
                  "min_station_floor_area_m2 or the profile's minimum to use them",
                  CareplanWarning, stacklevel=3)
    return dataclasses.replace(inp, candidates=inp.candidates.drop(small)), tuple(small)


def _with_sizing_parameters(plan: LayoutPlan, inp: Inputs, too_small: tuple) -> LayoutPlan:
    """The plan with the resolved pooling circle and site minimum in its parameters."""
    m, src = pooling_cutoff_m(inp)
    lim = site_limits(inp.standard, NEW_STATION_LEVEL,
                      min_m2=inp.config.min_station_floor_area_m2)
    params = dict(plan.parameters)
    params["pooling_minutes"] = round(m / inp.circle.speed_m_per_min, 3)
    params.update({
        "pooling_cutoff_m": round(m, 3), "pooling_source": src,
        "station_min_floor_area_m2": lim.min_m2,
        "station_max_floor_area_m2": lim.max_m2, "station_size_source": lim.source,
        "candidates_too_small": ", ".join(map(str, too_small)) or "none"})
    return dataclasses.replace(plan, parameters=params)


def _options_doc() -> str:
    # numpydoc section: the fields of careplan.plan.PlanConfig, given as keywords
    lines = ["", "    Other Parameters", "    ----------------"]
    for name, (opt, default) in PlanConfig.options().items():
        lines.append(f"    {name} : {opt.type_name()}, default {default!r}")
        lines.append(f"        {opt.help[:1].upper()}{opt.help[1:]}.")
    return "\n".join(lines) + "\n"


def _signature() -> inspect.Signature:
    base = inspect.signature(plan_layout)
    params = [p for p in base.parameters.values() if p.kind is not p.VAR_KEYWORD]
    params += [inspect.Parameter(name, inspect.Parameter.KEYWORD_ONLY, default=default)
               for name, (_, default) in PlanConfig.options().items()]
    return base.replace(parameters=params)


def _warn_once(func):
    """``func`` whose warnings are each shown once (same category and text), pointing at
    the caller's line, not at careplan's internals (tester's finding 9: the same data
    warning came up to 3 times, from the steps that walk the network)."""

    @functools.wraps(func)
    def wrapper(*args, **kwargs):
        caught: list = []
        try:
            with warnings.catch_warnings(record=True) as caught:
                warnings.simplefilter("always")
                return func(*args, **kwargs)
        finally:
            seen = set()
            for w in caught:
                key = (w.category, str(w.message))
                if key not in seen:
                    seen.add(key)
                    warnings.warn(str(w.message), w.category, stacklevel=2)

    return wrapper


plan_layout = _warn_once(plan_layout)
plan_layout.__doc__ = (plan_layout.__doc__ or "") + _options_doc()
plan_layout.__signature__ = _signature()  # type: ignore[attr-defined]
