"""The end-to-end layout plan: current state, proposal, state after.

:func:`plan_layout` runs the planner's workflow; :class:`LayoutPlan` holds the result
and is what :mod:`careplan.report` renders.
"""

from __future__ import annotations

import os
import time
import warnings
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd

from careplan._errors import CareplanWarning, CRSError, InputError
from careplan._progress import progress

__all__ = ["DEFAULT_CIRCLE_LEVELS", "LayoutPlan", "plan_layout"]


@dataclass(frozen=True)
class LayoutPlan:
    """A layout plan: the current state, the proposal and the state after it.

    Attributes
    ----------
    areas : GeoDataFrame
        One row per residential area (index = area_id), projected CRS, columns:
        ``area_id, name (optional), households, elderly (optional), built,
        required_m2, provided_before_m2, provided_after_m2, deficit_before_m2,
        deficit_after_m2, compliant_before, compliant_after,
        nearest_distance_before_m, nearest_distance_after_m (NaN = none within
        reach), covered_before, covered_after, served_by`` (proposed station id or
        None).
    existing : GeoDataFrame
        Existing facilities as read by :func:`careplan.read_facilities`.
    proposed : GeoDataFrame
        Proposed supply, one row per new station (``kind='new'``) or expansion of an
        existing facility (``kind='expansion'``): ``station_id, kind, candidate_id,
        facility_id, floor_area_m2, households_served, elderly_served, areas_served``
        (comma-separated ids of the areas whose floor-area deficit it takes, plus the
        areas it newly brings into the walking circle), ``n_areas_served``, Point
        geometry.
    service_areas : GeoDataFrame
        Walking service areas: ``facility_id, status ('existing'|'proposed'),
        cutoff_m``, polygon geometry.
    summary : DataFrame
        ``metric, label_en, label_zh, before, after``.
    rules_before, rules_after : DataFrame
        Rule tables from :func:`careplan.compliance.check` (``rule_id, label_en,
        label_zh, required, found, passed, citation``).
    parameters : dict
        Every assumption and parameter used (standard, minutes, speed, cutoff,
        model, how candidates were chosen, ...), for the report.
    network_edges : GeoDataFrame or None
        Street edges, for maps.
    attribution : str
        Data attribution to show wherever the plan is shown.
    """

    areas: gpd.GeoDataFrame
    existing: gpd.GeoDataFrame
    proposed: gpd.GeoDataFrame
    service_areas: gpd.GeoDataFrame
    summary: pd.DataFrame
    rules_before: pd.DataFrame
    rules_after: pd.DataFrame
    parameters: dict[str, Any] = field(default_factory=dict)
    network_edges: gpd.GeoDataFrame | None = None
    attribution: str = "© OpenStreetMap contributors"

    @property
    def crs(self):
        """The plan's projected CRS."""
        return self.areas.crs

    def to_file(self, directory: str | os.PathLike, *, lang: str | None = None) -> dict[str, Path]:
        """Write the plan to ``directory`` atomically.

        Writes ``plan.gpkg`` (areas, existing facilities, proposed stations, service
        areas, network edges), ``report.html``, ``tables.xlsx`` and PNG maps. The
        files are written to a temporary sibling directory which then replaces
        ``directory``: a failed run never leaves a half-written plan over a good one.

        Returns
        -------
        dict
            Output name -> path.
        """
        from careplan.report import write_all

        return write_all(self, directory, lang=lang or self.parameters.get("lang", "zh"))




# ----------------------------------------------------------------------------------
# plan_layout
# ----------------------------------------------------------------------------------

#: Facility levels whose walking reach counts toward the home & community care circle
#: by default (institutions and canteens do not provide home/community care visits).
DEFAULT_CIRCLE_LEVELS: tuple[str, ...] = ("district", "street", "community")

_MODELS = ("auto", "set_covering", "max_covering", "p_median")


def _network(network: Any) -> Any:
    from careplan.network import WalkNetwork

    if isinstance(network, WalkNetwork):
        return network
    if isinstance(network, str | os.PathLike):
        p = Path(network)
        if not p.exists():
            raise InputError(f"network file {str(p)!r} does not exist; give a .osm, "
                             ".osm.bz2 or .osm.pbf file or a careplan.WalkNetwork")
        return WalkNetwork.from_file(p)
    raise InputError(f"network must be a careplan.WalkNetwork or a path to an OSM file, "
                     f"got {type(network).__name__}")


def _by_id(gdf: gpd.GeoDataFrame, col: str) -> gpd.GeoDataFrame:
    """A copy indexed by its id column (the index is kept as is when it already is)."""
    out = gdf.copy()
    if not out.index.equals(pd.Index(out[col])):
        out.index = pd.Index(out[col].to_numpy(), name=None)
    return out


def _default_candidates(areas: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    pts = areas.geometry.representative_point()
    return gpd.GeoDataFrame(
        {"candidate_id": [f"in-{a}" for a in areas["area_id"]],
         "name": [f"inside area {a}" for a in areas["area_id"]]},
        geometry=pts.to_numpy(), index=[f"in-{a}" for a in areas["area_id"]], crs=areas.crs)


def _check_crs(areas, facilities, candidates, net) -> None:
    for what, g in (("areas", areas), ("facilities", facilities), ("candidates", candidates)):
        if g is None:
            continue
        if g.crs is None or not g.crs.is_projected:
            raise CRSError(f"{what} must be in a projected CRS (metres); read them with "
                           f"careplan.read_{what}() which reprojects and reports it")
        if not g.crs.equals(areas.crs):
            raise CRSError(f"{what} CRS {g.crs.to_string()} differs from the areas' "
                           f"{areas.crs.to_string()}; reproject with .to_crs(areas.crs)")
    if not net.crs.equals(areas.crs):
        raise CRSError(f"network CRS {net.crs.to_string()} differs from the areas' "
                       f"{areas.crs.to_string()}; reproject the areas with "
                       f"areas.to_crs(network.crs) (or build the network in their CRS)")


def plan_layout(
    areas: gpd.GeoDataFrame,
    facilities: gpd.GeoDataFrame,
    candidates: gpd.GeoDataFrame | None,
    network: Any,
    *,
    standard: Any = "jinwan-2020",
    minutes: float | None = None,
    speed_m_per_min: float | None = None,
    cutoff_m: float | None = None,
    p: int | None = None,
    model: str = "auto",
    circle_levels: Sequence[str] = DEFAULT_CIRCLE_LEVELS,
    min_station_floor_area_m2: float = 0.0,
    fallback_candidates: bool = True,
    max_snap_m: float | None = None,
    time_limit_s: float = 60.0,
    lang: str = "zh",
    verbose: bool | None = None,
) -> LayoutPlan:
    """Plan new elderly-care stations for a set of residential areas.

    Steps: (1) the current state: floor-area compliance and walking coverage;
    (2) the proposal: new community stations chosen by a location model among the
    candidate sites, then every area's floor-area deficit allocated to its nearest
    station within the walking circle (a new station, or an expansion of an existing
    counted facility), which sizes each station; (3) the state after the proposal,
    with the same metrics.

    Parameters
    ----------
    areas, facilities, candidates : GeoDataFrame
        As returned by :func:`careplan.read_areas`, :func:`careplan.read_facilities`
        and :func:`careplan.read_candidates`, all in the network's projected CRS.
        ``candidates=None`` uses a point inside every residential area (a station
        built in each estate, as with 配建 community rooms); the choice is stated in
        ``plan.parameters['candidates']``.
    network : WalkNetwork or path
        The walking network (an OSM file path is read with
        :meth:`WalkNetwork.from_file`).
    standard : str, Path or Standard
        Policy profile (:func:`careplan.standards.load`).
    minutes, speed_m_per_min : float, optional
        The walking circle; default: the standard's service circle (15 minutes) and
        its documented elderly walking speed. ``cutoff_m`` overrides both.
    p : int, optional
        A budget of new stations. Without it (model 'auto' -> 'set_covering') the
        fewest new stations that put every reachable household inside the walking
        circle; with it (model 'auto' -> 'max_covering') the ``p`` stations covering
        the most elderly (households where no elderly column exists).
    model : {'auto', 'set_covering', 'max_covering', 'p_median'}
        Location model for the new stations ('p_median' minimises the demand-weighted
        walking distance of the areas not yet covered, and needs ``p``).
    circle_levels : sequence of str
        Facility levels whose reach counts toward the walking circle.
    min_station_floor_area_m2 : float
        Smallest floor area a new station is given.
    fallback_candidates : bool
        When an area with households has no existing facility and no candidate site
        within the walking circle, add a candidate inside it (its representative
        point), with a CareplanWarning; the areas are listed in
        ``plan.parameters['candidates']``. With False such areas stay unserved
        (listed in ``plan.parameters['unreachable_areas']``).
    max_snap_m : float, optional
        Passed to the network's snapping (points farther away are unreachable and
        reported).
    time_limit_s : float
        Time limit of the location model's solver.
    lang : {'zh', 'en'}
        Language of the report labels.
    verbose : bool, optional
        Progress bar (default: unless careplan is quiet).

    Returns
    -------
    LayoutPlan

    Raises
    ------
    CareplanError
        Bad input (see the readers), mismatched CRSs, an unknown model or a budget
        the model needs and lacks.
    """
    from careplan import compliance as _compliance
    from careplan import coverage as _coverage
    from careplan import locate as _locate
    from careplan.standards import load as _load_standard

    t0 = time.perf_counter()
    if model not in _MODELS:
        raise InputError(f"model must be one of {list(_MODELS)}, got {model!r}")
    if p is not None and (isinstance(p, bool) or not isinstance(p, int | np.integer) or p < 0):
        raise InputError(f"p (budget of new stations) must be an integer >= 0, got {p!r}")
    if model == "p_median" and p is None:
        raise InputError("model='p_median' needs a budget: pass p=<number of new stations>")
    if lang not in ("zh", "en"):
        raise InputError(f"lang must be 'zh' or 'en', got {lang!r}")
    if not (isinstance(min_station_floor_area_m2, int | float) and min_station_floor_area_m2 >= 0):
        raise InputError("min_station_floor_area_m2 must be a number >= 0, "
                         f"got {min_station_floor_area_m2!r}")
    std = _load_standard(standard)
    net = _network(network)
    if "area_id" not in getattr(areas, "columns", []):
        raise InputError("areas need an 'area_id' column; read them with careplan.read_areas()")
    for col in ("facility_id", "level"):
        if col not in getattr(facilities, "columns", []):
            raise InputError(f"facilities need a {col!r} column; read them with "
                             "careplan.read_facilities()")
    areas = _by_id(areas, "area_id")
    facilities = _by_id(facilities, "facility_id")
    if candidates is None:
        cand_note = ("default: one candidate site inside every residential area "
                     "(its representative point); pass candidates= to use your own sites")
        candidates = _default_candidates(areas)
    else:
        if "candidate_id" not in candidates.columns:
            raise InputError("candidates need a 'candidate_id' column; read them with "
                             "careplan.read_candidates()")
        candidates = _by_id(candidates, "candidate_id")
        cand_note = f"{len(candidates)} user-supplied candidate sites"
    _check_crs(areas, facilities, candidates, net)

    if cutoff_m is None:
        minutes = float(std.service_circle_minutes if minutes is None else minutes)
        speed = float(std.walk_speed_m_per_min if speed_m_per_min is None else speed_m_per_min)
        if minutes <= 0 or speed <= 0:
            raise InputError(f"minutes and speed_m_per_min must be > 0, got {minutes}, {speed}")
        cutoff = minutes * speed
    else:
        cutoff = float(cutoff_m)
        if not cutoff > 0:
            raise InputError(f"cutoff_m must be > 0, got {cutoff_m!r}")
        speed = float(std.walk_speed_m_per_min if speed_m_per_min is None else speed_m_per_min)
        minutes = cutoff / speed
    snap_kw: dict[str, Any] = {"verbose": verbose}
    if max_snap_m is not None:
        snap_kw["max_snap_m"] = float(max_snap_m)
    circle_levels = tuple(circle_levels)
    weight_col = "elderly" if "elderly" in areas.columns else "households"

    steps = iter(progress(range(5), desc="careplan plan", total=5, verbose=verbose))
    next(steps, None)

    # ---------------------------------------------------------------- (1) before
    circle_fac = facilities[facilities["level"].isin(circle_levels)]
    cov_before = _coverage.walk_coverage(net, areas, circle_fac, cutoff_m=cutoff, **snap_kw)
    comp_before = _compliance.check(areas, facilities, standard=std, coverage=cov_before,
                                    lang="en")
    next(steps, None)

    # ---------------------------------------------------------------- (2) sites
    counted_levels = tuple(comp_before.parameters.get("levels_new", ())) or tuple(
        _compliance.DEFAULT_FLOOR_AREA_LEVELS)
    ex_lab = [f"existing:{i}" for i in circle_fac.index]
    ca_lab = [f"candidate:{i}" for i in candidates.index]
    sites = gpd.GeoDataFrame(
        {"kind": ["existing"] * len(ex_lab) + ["candidate"] * len(ca_lab),
         "source_id": list(circle_fac.index) + list(candidates.index)},
        geometry=list(circle_fac.geometry) + list(candidates.geometry.representative_point()),
        index=ex_lab + ca_lab, crs=areas.crs)
    demand = areas[areas["households"] > 0]
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        od = net.distances(demand, sites, cutoff_m=cutoff, **snap_kw)
    for w in caught:  # re-emit what the network reported (unreachable points...)
        warnings.warn(w.message, w.category, stacklevel=2)
    fallback: list = []
    if fallback_candidates:
        lonely = demand.loc[~demand.index.isin(od["origin"].unique())]
        if len(lonely):
            extra = _default_candidates(lonely)
            extra.index = pd.Index([f"candidate:{i}" for i in extra.index])
            extra = gpd.GeoDataFrame({"kind": "candidate", "source_id": extra["candidate_id"]},
                                     geometry=extra.geometry, crs=areas.crs)
            extra = extra[~extra.index.isin(sites.index)]
            od_extra = net.distances(demand, extra, cutoff_m=cutoff, **snap_kw)
            sites = pd.concat([sites, extra])
            ca_lab = ca_lab + list(extra.index)
            od = pd.concat([od, od_extra], ignore_index=True)
            fallback = list(lonely.index)
            cand_note += (f"; plus a fallback site inside each of {len(fallback)} area(s) "
                          f"that no site reached within {cutoff:.0f} m: "
                          f"{', '.join(map(str, fallback[:10]))}"
                          f"{' ...' if len(fallback) > 10 else ''}")
            warnings.warn(f"{len(fallback)} area(s) had no existing facility or candidate "
                          f"site within {cutoff:.0f} m walking; added a candidate site inside "
                          f"each: {', '.join(map(str, fallback[:10]))} (fallback_candidates="
                          "False turns this off)", CareplanWarning, stacklevel=2)
    reached = set(od["origin"])
    reachable_demand = [a for a in demand.index if a in reached]
    unreachable = [a for a in demand.index if a not in reached]
    if unreachable:
        warnings.warn(
            f"{len(unreachable)} area(s) with households have no existing facility or "
            f"candidate site within {cutoff:.0f} m walking and cannot be served by this plan: "
            f"{', '.join(map(str, unreachable[:10]))}{' ...' if len(unreachable) > 10 else ''}; "
            "add candidate sites near them or check their snapping to the network",
            CareplanWarning, stacklevel=2)

    chosen_model = model
    if model == "auto":
        chosen_model = "set_covering" if p is None else "max_covering"
    weights = demand.loc[reachable_demand, weight_col].astype(float)
    hh_weights = demand.loc[reachable_demand, "households"].astype(float)
    dests = set(od["destination"])
    existing_sites = [s for s in ex_lab if s in dests]
    n_cand = len(ca_lab)
    loc_res = None
    new_sites: list[str] = []
    if reachable_demand and n_cand:
        if chosen_model == "set_covering":
            # demands already covered by an existing facility need nothing new
            mdl = _locate.SetCovering(radius=cutoff, time_limit_s=time_limit_s)
            loc_res = mdl.solve(od, weights=hh_weights, existing=existing_sites,
                                candidate_labels=ex_lab + ca_lab)
        elif chosen_model == "max_covering":
            mdl = _locate.MaximalCovering(p=min(int(p), n_cand), radius=cutoff,
                                          time_limit_s=time_limit_s)
            loc_res = mdl.solve(od, weights=weights, existing=existing_sites,
                                candidate_labels=ex_lab + ca_lab)
        else:  # p_median
            mdl = _locate.PMedian(p=min(int(p), n_cand), time_limit_s=time_limit_s)
            loc_res = mdl.solve(od, weights=weights, existing=existing_sites,
                                candidate_labels=ex_lab + ca_lab)
        new_sites = [s for s in loc_res.new]
    next(steps, None)

    # ------------------------------------------------ (3) size: allocate deficits
    deficit = comp_before.areas["deficit_m2"].astype(float).fillna(0.0)
    ex_set = set(ex_lab)
    counted_exist = [f"existing:{i}" for i in facilities.index
                     if facilities.at[i, "level"] in counted_levels
                     and f"existing:{i}" in ex_set]
    nearest_host = _nearest(od, set(new_sites) | set(counted_exist))
    # areas with a deficit but no station that may host it within reach (e.g. covered
    # only by a district centre or an institution): open the fewest extra stations
    # among the remaining candidates that reach them
    # (not with a budget p: then such deficits stay and are reported)
    short = [a for a, d in deficit.items() if d > 0 and a not in nearest_host.index]
    new_set = set(new_sites)
    if short and n_cand and p is None:
        extra = _cover_rest(od, short, [c for c in ca_lab if c not in new_set],
                            cutoff, time_limit_s)
        new_sites = new_sites + extra
        nearest_host = _nearest(od, set(new_sites) | set(counted_exist))
    alloc_rows = []
    unresolved = []
    for a, d in deficit.items():
        if d <= 0:
            continue
        if a in nearest_host.index:
            alloc_rows.append((nearest_host.at[a, "destination"], a, float(d),
                               float(nearest_host.at[a, "distance_m"])))
        else:
            unresolved.append(a)
    alloc = pd.DataFrame(alloc_rows, columns=["site", "area_id", "floor_area_m2", "distance_m"])

    # serving station per area (for coverage-driven stations and the report)
    od_new = od[od["destination"].isin(new_sites)]
    nearest_new = (od_new.sort_values(["origin", "distance_m", "destination"])
                   .drop_duplicates("origin").set_index("origin")["destination"])

    uncovered_before = set(cov_before.areas.index[~cov_before.areas["covered"].astype(bool)])
    rows = []
    fac_rows = []
    alloc_out = []
    new_set = set(new_sites)
    alloc_sites = set(alloc["site"])
    for k, s in enumerate(new_sites + [e for e in counted_exist if e in alloc_sites]):
        is_new = s in new_set
        src = sites.at[s, "source_id"]
        part = alloc[alloc["site"] == s]
        # served: areas whose deficit it takes, plus areas it newly brings into the
        # walking circle (uncovered before, this is their nearest new station)
        newly = set(nearest_new[nearest_new == s].index) & uncovered_before if is_new else set()
        served = sorted(set(part["area_id"]) | newly, key=str)
        need = float(part["floor_area_m2"].sum())
        size = max(need, float(min_station_floor_area_m2)) if is_new else need
        sid = f"S{k + 1:03d}" if is_new else f"X-{src}"
        geom = sites.at[s, "geometry"]
        hh = float(areas.loc[served, "households"].sum()) if served else 0.0
        eld = (float(areas.loc[served, "elderly"].sum())
               if served and "elderly" in areas.columns else np.nan)
        rows.append({"station_id": sid, "kind": "new" if is_new else "expansion",
                     "candidate_id": src if is_new else None,
                     "facility_id": None if is_new else src,
                     "floor_area_m2": round(size, 2), "households_served": hh,
                     "elderly_served": eld, "areas_served": ",".join(map(str, served)),
                     "n_areas_served": len(served), "geometry": geom})
        level = "community" if is_new else facilities.at[src, "level"]
        fac_rows.append({"facility_id": sid, "level": level, "floor_area_m2": size,
                         "beds": 0, "nursing_beds": 0, "geometry": geom,
                         "name": f"proposed station {sid}" if is_new
                         else f"expansion of {src}"})
        for _, r in part.iterrows():
            alloc_out.append((sid, r["area_id"], float(r["floor_area_m2"])))
    proposed = gpd.GeoDataFrame(
        rows, columns=["station_id", "kind", "candidate_id", "facility_id", "floor_area_m2",
                       "households_served", "elderly_served", "areas_served",
                       "n_areas_served", "geometry"],
        geometry="geometry", crs=areas.crs)
    proposed.index = pd.Index(proposed["station_id"].to_numpy())
    next(steps, None)

    # ---------------------------------------------------------------- (4) after
    add = gpd.GeoDataFrame(fac_rows, columns=["facility_id", "level", "floor_area_m2", "beds",
                                              "nursing_beds", "geometry", "name"],
                           geometry="geometry", crs=areas.crs)
    add.index = pd.Index(add["facility_id"].to_numpy())
    keep_cols = [c for c in add.columns if c in facilities.columns] + ["geometry"]
    fac_after = pd.concat([facilities, add[[c for c in add.columns if c in keep_cols]]])
    fac_after = gpd.GeoDataFrame(fac_after, geometry="geometry", crs=areas.crs)
    allocation = pd.DataFrame(alloc_out, columns=["facility_id", "area_id", "floor_area_m2"])
    circle_after = fac_after[fac_after["level"].isin(circle_levels)]
    cov_after = _coverage.walk_coverage(net, areas, circle_after, cutoff_m=cutoff, **snap_kw)
    comp_after = _compliance.check(areas, fac_after, standard=std, allocation=allocation,
                                   coverage=cov_after, lang="en")
    next(steps, None)

    # ---------------------------------------------------------------- tables
    out = areas.copy()
    cb, ca = comp_before.areas, comp_after.areas
    out["required_m2"] = cb["required_m2"]
    out["provided_before_m2"] = cb["provided_m2"]
    out["provided_after_m2"] = ca["provided_m2"]
    out["deficit_before_m2"] = cb["deficit_m2"]
    out["deficit_after_m2"] = ca["deficit_m2"]
    out["compliant_before"] = cb["compliant"]
    out["compliant_after"] = ca["compliant"]
    vb, va = cov_before.areas, cov_after.areas
    out["nearest_distance_before_m"] = vb["nearest_distance_m"]
    out["nearest_distance_after_m"] = va["nearest_distance_m"]
    out["covered_before"] = vb["covered"].astype(bool)
    out["covered_after"] = va["covered"].astype(bool)
    served_by = {}
    for _, r in proposed.iterrows():
        for a in filter(None, r["areas_served"].split(",")):
            served_by.setdefault(a, r["station_id"])
    out["served_by"] = [served_by.get(str(a)) for a in out["area_id"]]
    out = gpd.GeoDataFrame(out, geometry=areas.geometry.name, crs=areas.crs)

    summary = _summary_table(out, proposed, weight_col)
    sa_fac = fac_after[fac_after["level"].isin(circle_levels) | fac_after.index.isin(add.index)]
    sa_fac = sa_fac[~sa_fac.index.duplicated()]
    svc = _coverage.service_areas(net, sa_fac, cutoff_m=cutoff, **snap_kw)
    svc = svc.copy()
    if "facility_id" not in svc.columns:
        svc["facility_id"] = svc.index
    new_ids = set(proposed.loc[proposed["kind"] == "new", "station_id"])
    svc["status"] = ["proposed" if f in new_ids else "existing" for f in svc["facility_id"]]
    svc["cutoff_m"] = cutoff

    params = {
        "standard": std.name,
        "standard_title": std.title,
        "minutes": round(minutes, 3),
        "speed_m_per_min": speed,
        "cutoff_m": round(cutoff, 3),
        "model": chosen_model,
        "budget_p": p,
        "weights": weight_col if chosen_model != "set_covering" else "households",
        "circle_levels": ", ".join(circle_levels),
        "floor_area_levels": ", ".join(counted_levels),
        "candidates": cand_note,
        "n_candidates": n_cand,
        "fallback_candidate_areas": ", ".join(map(str, fallback)) or "none",
        "min_station_floor_area_m2": min_station_floor_area_m2,
        "sizing": ("each area's floor-area deficit is allocated to its nearest station "
                   "within the walking circle (a new station, or an expansion of an "
                   "existing counted facility); a new station's size is the sum of "
                   "the deficits allocated to it (at least min_station_floor_area_m2)"),
        "unreachable_areas": ", ".join(map(str, unreachable)) or "none",
        "unresolved_deficit_areas": ", ".join(map(str, unresolved)) or "none",
        "solver_status": None if loc_res is None else loc_res.status,
        "solver_gap": None if loc_res is None else loc_res.gap,
        "walk_speed_source": std.walk_speed_source,
        "lang": lang,
        "runtime_s": round(time.perf_counter() - t0, 3),
    }
    if unresolved:
        warnings.warn(
            f"{len(unresolved)} area(s) keep a floor-area deficit: no station lies within "
            f"{cutoff:.0f} m walking: {', '.join(map(str, unresolved[:10]))}; add candidate "
            "sites near them", CareplanWarning, stacklevel=2)
    next(steps, None)
    edges = net.edges
    return LayoutPlan(
        areas=out, existing=facilities, proposed=proposed, service_areas=svc,
        summary=summary, rules_before=comp_before.rules, rules_after=comp_after.rules,
        parameters=params, network_edges=edges,
        attribution="© OpenStreetMap contributors",
    )


def _nearest(od: pd.DataFrame, hosts: set) -> pd.DataFrame:
    """Nearest host (destination in ``hosts``) of every origin, ties broken by label."""
    sub = od[od["destination"].isin(hosts)]
    return (sub.sort_values(["origin", "distance_m", "destination"])
            .drop_duplicates("origin").set_index("origin"))


def _cover_rest(od: pd.DataFrame, areas: list, candidates: list, cutoff: float,
                time_limit_s: float) -> list:
    """Fewest candidates that put every area in ``areas`` that any of them reaches in reach."""
    from careplan import locate as _locate

    sub = od[od["origin"].isin(set(areas)) & od["destination"].isin(set(candidates))]
    reach = sorted(set(sub["origin"]), key=str)
    if not reach:
        return []
    res = _locate.SetCovering(radius=cutoff, time_limit_s=time_limit_s).solve(
        sub, weights=pd.Series(1.0, index=reach),
        candidate_labels=sorted(set(sub["destination"]), key=str))
    return list(res.new)


def _summary_table(out: gpd.GeoDataFrame, proposed: gpd.GeoDataFrame,
                   weight_col: str) -> pd.DataFrame:
    hh = out["households"].astype(float)
    tot = float(hh.sum())
    rows = [
        ("households", "Households", "户数", tot, tot),
        ("households_covered", "Households within the walking circle",
         "步行服务圈覆盖户数", float(hh[out["covered_before"]].sum()),
         float(hh[out["covered_after"]].sum())),
        ("households_covered_share", "Share of households covered", "户数覆盖率",
         float(hh[out["covered_before"]].sum()) / tot if tot else np.nan,
         float(hh[out["covered_after"]].sum()) / tot if tot else np.nan),
    ]
    if "elderly" in out.columns:
        el = out["elderly"].astype(float)
        et = float(el.sum())
        rows.append(("elderly_covered", "Elderly within the walking circle",
                     "步行服务圈覆盖老年人数", float(el[out["covered_before"]].sum()),
                     float(el[out["covered_after"]].sum())))
        rows.append(("elderly_covered_share", "Share of elderly covered", "老年人覆盖率",
                     float(el[out["covered_before"]].sum()) / et if et else np.nan,
                     float(el[out["covered_after"]].sum()) / et if et else np.nan))
    cb = out["compliant_before"].fillna(False).astype(bool)
    ca = out["compliant_after"].fillna(False).astype(bool)
    rows += [
        ("areas", "Residential areas", "居住区数", len(out), len(out)),
        ("areas_compliant", "Areas meeting the floor-area rule", "达标居住区数",
         int(cb.sum()), int(ca.sum())),
        ("required_m2", "Required floor area (m2)", "应配建筑面积(m²)",
         float(out["required_m2"].sum()), float(out["required_m2"].sum())),
        ("provided_m2", "Provided floor area (m2)", "已配建筑面积(m²)",
         float(out["provided_before_m2"].sum()), float(out["provided_after_m2"].sum())),
        ("deficit_m2", "Floor-area deficit (m2)", "缺口面积(m²)",
         float(out["deficit_before_m2"].sum()), float(out["deficit_after_m2"].sum())),
        ("new_stations", "New stations", "新增站点数", 0,
         int((proposed["kind"] == "new").sum()) if len(proposed) else 0),
        ("expansions", "Expanded existing facilities", "扩建既有设施数", 0,
         int((proposed["kind"] == "expansion").sum()) if len(proposed) else 0),
        ("new_floor_area_m2", "Added floor area (m2)", "新增建筑面积(m²)", 0.0,
         float(proposed["floor_area_m2"].sum()) if len(proposed) else 0.0),
    ]
    return pd.DataFrame(rows, columns=["metric", "label_en", "label_zh", "before", "after"])
