"""Sizing rules of the plan taken from the standard: single-site bounds and on-site rooms.

* :func:`station_size`: a new station's floor area is the deficits it takes, raised to
  the profile's single-site minimum (or the plan's ``min_station_floor_area_m2``, or
  careplan's documented default) and capped by the profile's maximum and the candidate's
  ``max_floor_area_m2``.
* :func:`pooled_allocation`: every off-site deficit goes to one host within the walking
  circle, small deficits pooled into shared stations (:mod:`careplan.plan._pool`, an
  exact MIP: fewest new stations, then least floor area, then least walking) within the
  pooling circle (:func:`pooling_cutoff_m`).
* :func:`split_on_site` / :func:`on_site_rooms`: areas of a built class that must build
  its rooms inside the estate (a ``floor_area_on_site`` rule: 配建 of new estates) are
  not served by a station elsewhere; each gets a room of its deficit inside it (at its
  representative point, ``kind = 'on_site'``).
"""

from __future__ import annotations

import dataclasses
import math
import warnings

import geopandas as gpd
import numpy as np
import pandas as pd

from careplan._errors import CareplanWarning
from careplan.plan._steps import NEW_STATION_LEVEL, Inputs, State
from careplan.standards import site_limits

__all__ = ["on_site_rooms", "pooled_allocation", "pooling_cutoff_m", "split_on_site",
           "station_size"]


def pooling_cutoff_m(inp: Inputs) -> tuple[float, str]:
    """The pooling circle in walking metres, and where it comes from.

    ``pooling_minutes`` (plan option) > the profile's ``pooling_circle_minutes`` rule
    (Anhui 2022: 5 minutes) > the plan's walking circle; minutes x the plan's walking
    speed, at most the walking circle (deficits are only served within it).
    """
    speed, circle = inp.circle.speed_m_per_min, inp.circle.cutoff_m
    if inp.config.pooling_minutes is not None:
        m, src = inp.config.pooling_minutes, "pooling_minutes option"
    else:
        rules = inp.standard.get("pooling_circle_minutes")
        if not rules:
            return circle, "default: the plan's walking circle (the profile sets no pooling circle)"
        r = min(rules, key=lambda r: r.value)
        m, src = r.value, f"{r.id} ({r.citation.title_zh}, {r.citation.clause})"
    return min(m * speed, circle), f"{m:g} min x {speed:g} m/min; {src}"


def candidate_caps(inp: Inputs) -> pd.Series:
    """Largest floor area of a new station at each candidate, m2 (inf: no cap): the
    profile's single-site maximum and the candidate's ``max_floor_area_m2``."""
    lim = site_limits(inp.standard, NEW_STATION_LEVEL,
                      min_m2=inp.config.min_station_floor_area_m2)
    cand = inp.candidates
    cap = pd.Series(np.inf if lim.max_m2 is None else float(lim.max_m2), index=cand.index)
    if "max_floor_area_m2" in cand.columns:
        own = pd.to_numeric(cand["max_floor_area_m2"], errors="coerce")
        cap = np.fmin(cap, own.fillna(np.inf))
    return cap.astype(float)


def _cover_groups(inp: Inputs, sites, od: pd.DataFrame) -> list[tuple]:
    """For every area with households that needs a new station to be within a station's
    circle (reached by a candidate, by no existing facility of a station level: the same
    demand as :func:`careplan.plan._propose.choose`): the candidates within reach."""
    from careplan.plan._propose import _station_sites

    stations = set(_station_sites(inp, sites))
    cands = set(sites.candidates)
    sub = od[od["destination"].isin(stations | cands)]
    by_area = sub.groupby("origin")["destination"].agg(tuple)
    return [tuple(d for d in ds if d in cands) for ds in by_area
            if not stations.intersection(ds)]


def pooled_allocation(inp: Inputs, sites, before: State, choice) -> tuple:
    """Every off-site deficit given to one host, small deficits pooled (see module doc).

    Hosts: the existing facilities of the floor-area levels within the circle
    (expanded), and new stations. Without a budget ``p`` (set covering) the new stations
    are chosen here together with the deficits: the fewest candidates that keep every
    reachable household within the walking circle AND give every deficit a host, then
    the least floor area, then the least walking (:mod:`careplan.plan._pool`; the set
    covering's own choice is kept when the instance has more than
    :data:`careplan.plan._pool.EXACT_PAIRS` area-site pairs: the joint problem is then
    too slow to prove). With ``p`` the model's stations are
    kept and no other is opened.

    Returns
    -------
    tuple
        ``(alloc, new_sites, counted, unresolved, pooling)``: ``alloc`` has ``site,
        area_id, floor_area_m2`` (one row per area with a deficit and a host);
        ``new_sites`` the new stations (the model's first, in its order); ``counted``
        the existing hosts; ``unresolved`` the areas no host reaches; ``pooling`` the
        :class:`careplan.plan._pool.Pooling`.
    """
    from careplan.plan._pool import EXACT_PAIRS, pool_deficits

    od = sites.demand_pairs(inp.areas)
    existing = set(sites.existing)
    counted = [f"existing:{i}" for i in inp.facilities.index
               if inp.facilities.at[i, "level"] in inp.floor_area_levels
               and f"existing:{i}" in existing]
    model = list(choice.new_sites)
    joint = (inp.config.p is None and choice.model == "set_covering"
             and len(od) <= EXACT_PAIRS)
    forced, cover = ([], _cover_groups(inp, sites, od)) if joint else (model, [])
    optional = ([c for c in sites.candidates if c not in set(forced)]
                if inp.config.p is None else [])
    deficit = before.compliance.areas["deficit_m2"].astype(float).fillna(0.0)
    caps = candidate_caps(inp)
    src = sites.table["source_id"]
    cap_by_site = pd.Series({s: caps.get(src[s], np.inf) for s in [*forced, *optional]},
                            dtype=float)
    lim = site_limits(inp.standard, NEW_STATION_LEVEL,
                      min_m2=inp.config.min_station_floor_area_m2)
    pool = pool_deficits(deficit, od, expansions=counted, forced=forced, optional=optional,
                         min_m2=lim.min_m2, cap_m2=cap_by_site,
                         pool_cutoff_m=pooling_cutoff_m(inp)[0], cover=cover,
                         time_limit_s=inp.config.time_limit_s)
    alloc = pool.assignment.rename(columns={"host": "site"})[["site", "area_id",
                                                               "floor_area_m2"]]
    _warn_pooling(pool)
    chosen = set(forced) | set(pool.opened)
    new_sites = [s for s in model if s in chosen]
    new_sites += [s for s in [*forced, *pool.opened] if s not in set(new_sites)]
    return alloc, new_sites, counted, pool.unresolved, pool


def _warn_pooling(pool) -> None:
    """Say what the pooling could not do: stations at their cap, unpooled small areas."""
    over = pool.unserved_m2[pool.unserved_m2 > 0]
    if len(over):
        ids = [str(h).removeprefix("candidate:") for h in over.index]
        warnings.warn(f"{len(ids)} new station(s) at their largest floor area (the profile's "
                      f"maximum or the candidate's max_floor_area_m2) leave {over.sum():.1f} m2 "
                      f"of deficits unserved: {', '.join(ids[:10])}; add candidate sites "
                      "near them or raise max_floor_area_m2", CareplanWarning, stacklevel=4)
    for note in pool.notes:
        warnings.warn(f"pooling: {note}", CareplanWarning, stacklevel=4)


def station_size(inp: Inputs, candidate_id: object, need_m2: float) -> float:
    """Floor area of a new station taking ``need_m2`` of deficits at ``candidate_id``, m2."""
    lim = site_limits(inp.standard, NEW_STATION_LEVEL,
                      min_m2=inp.config.min_station_floor_area_m2)
    size = max(need_m2, lim.min_m2)
    caps = [lim.max_m2] if lim.max_m2 is not None else []
    cand = inp.candidates
    if "max_floor_area_m2" in cand.columns and candidate_id in cand.index:
        v = pd.to_numeric(pd.Series([cand.at[candidate_id, "max_floor_area_m2"]]),
                          errors="coerce").iloc[0]
        if not math.isnan(v):
            caps.append(float(v))
    return min([size, *caps])


def on_site_classes(inp: Inputs) -> list[str]:
    """Built classes whose rooms must be inside the estate (profile rules)."""
    return [r.applies_to for r in inp.standard.get("floor_area_on_site") if r.value > 0]


def split_on_site(inp: Inputs, before: State) -> tuple[State, pd.Series]:
    """The state with on-site areas' deficits set aside, and those deficits (m2 per area)."""
    only = on_site_classes(inp)
    a = before.compliance.areas
    mask = a["built"].isin(only) & (a["deficit_m2"].fillna(0.0) > 0)
    if not mask.any():
        return before, pd.Series(dtype=float)
    comp = dataclasses.replace(before.compliance,
                               areas=a.assign(deficit_m2=a["deficit_m2"].where(~mask, 0.0)))
    return dataclasses.replace(before, compliance=comp), a.loc[mask, "deficit_m2"].astype(float)


def on_site_rooms(inp: Inputs, sizing, deficit: pd.Series):
    """``sizing`` plus one room inside every area of ``deficit`` (its deficit, m2)."""
    if not len(deficit):
        return sizing
    areas = inp.areas.loc[deficit.index]
    pts = areas.geometry.representative_point()
    ids = [f"R-{a}" for a in deficit.index]
    hh = areas["households"].astype(float).to_numpy()
    eld = (areas["elderly"].astype(float).to_numpy() if "elderly" in areas.columns
           else [float("nan")] * len(ids))
    rows = gpd.GeoDataFrame({
        "station_id": ids, "kind": "on_site", "candidate_id": None, "facility_id": None,
        "floor_area_m2": deficit.round(2).to_numpy(), "households_served": hh,
        "elderly_served": eld, "areas_served": [str(a) for a in deficit.index],
        "n_areas_served": 1}, geometry=pts.to_numpy(), crs=inp.areas.crs, index=ids)
    added = gpd.GeoDataFrame({
        "facility_id": ids, "level": NEW_STATION_LEVEL, "floor_area_m2": deficit.to_numpy(),
        "beds": 0, "nursing_beds": 0, "name": [f"on-site room of {a} (配建)" for a in deficit.index],
        "area_id": list(deficit.index)},
        geometry=pts.to_numpy(), crs=inp.areas.crs, index=ids)
    shares = pd.DataFrame({"facility_id": ids, "area_id": list(deficit.index),
                           "floor_area_m2": deficit.to_numpy()})
    served = dict(sizing.served_by)
    for a, sid in zip(deficit.index, ids, strict=True):
        served.setdefault(a, sid)
    return dataclasses.replace(
        sizing, proposed=pd.concat([sizing.proposed, rows[sizing.proposed.columns]]),
        added=pd.concat([sizing.added, added[[*sizing.added.columns, "area_id"]]]),
        allocation=pd.concat([sizing.allocation, shares], ignore_index=True), served_by=served)
