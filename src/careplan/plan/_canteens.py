"""Elderly canteens (长者饭堂, 助餐点) as a function of stations and centres (issue 12.3).

How a canteen is modelled: as a FUNCTION a facility carries, not as a site of its own.
A facility carries it when its level is 'canteen' (a stand-alone canteen) or its
``functions`` column names it (:mod:`careplan.standards._functions`: ``canteen``,
``长者饭堂``, ``助餐点`` ...). An area with households is served by a canteen when a
facility carrying the function lies within the walking circle (the walk the plan
computed once; stand-alone canteens and other non-circle carriers are walked to in
:func:`canteen_sites`) or is assigned to it. Where the profile asks for canteen
coverage (a ``canteen_coverage_share`` rule, Jinwan task 9: 100 % of communities):

1. every new station and new street/district centre carries the canteen function;
2. every area with households still not served (most households first, then by id) has
   the canteen function given to the nearest existing station (a facility of a station
   level, :func:`careplan.plan._propose.station_levels`) within its circle; that station
   then serves every area within its circle. Greedy, stated: it adds a function to an
   existing station, it does not choose sites;
3. areas no station reaches keep their gap: listed in ``rules_not_met`` with that reason.

Floor area: a canteen needs no floor area beyond the station's (no shipped profile gives
a kitchen or dining area; meals are served in the station's rooms). A function added to
an existing station is a proposed row of kind ``'canteen'`` (id ``M-<facility_id>``,
0 m2, ``expands`` = the station) so the rule counts it as part of that station.
"""

from __future__ import annotations

import dataclasses

import geopandas as gpd
import numpy as np
import pandas as pd

from careplan.plan._levels import with_rows
from careplan.plan._steps import Inputs, Sites
from careplan.standards._functions import CANTEEN, carries, function_list

__all__ = ["canteen_sites", "canteens", "requires_canteens"]

_CANTEEN_KINDS = ("new", "centre")


def requires_canteens(inp: Inputs) -> bool:
    """Does the profile ask for canteen coverage (a ``canteen_coverage_share`` rule)?"""
    return bool(inp.standard.get("canteen_coverage_share"))


def canteen_sites(inp: Inputs, sites: Sites) -> Sites:
    """``sites`` plus the walk to existing canteen carriers outside the circle levels.

    Stand-alone canteens (level 'canteen') and other carriers whose level does not count
    for the walking circle are not sites of the location model; the walk from every area
    to them (within the circle) is added to ``pairs`` and their labels
    (``canteen:<facility_id>``) to ``reach_only``, so that the canteen rule counts them
    before and after the plan, while coverage and the model ignore them.

    Parameters
    ----------
    inp : Inputs
    sites : Sites

    Returns
    -------
    Sites
        ``sites`` itself when the profile has no canteen rule or there is no such carrier.
    """
    from careplan.plan._steps import _distances, _site_table

    fac = inp.facilities
    if not requires_canteens(inp) or not len(fac):
        return sites
    sel = (carries(fac, CANTEEN) & ~fac["level"].isin(inp.circle_levels)
           & (fac["floor_area_m2"].astype(float) > 0))
    if not sel.any():
        return sites
    sub = fac[sel]
    labels = [f"canteen:{i}" for i in sub.index]
    table = _site_table(labels, "canteen", sub)
    od = _distances(inp, table)
    pairs = pd.concat([sites.pairs, od], ignore_index=True)
    pairs.attrs = dict(sites.pairs.attrs)
    return dataclasses.replace(
        sites, table=pd.concat([sites.table, table]), pairs=pairs,
        reach_only=tuple(sites.reach_only) + tuple(labels),
        unreachable_sites=sites.unreachable_sites + tuple(
            od.attrs.get("unreachable_destinations", ())))


def _carrier_sites(inp: Inputs, sites: Sites, sizing) -> set:
    """Site labels of every canteen carrier after steps 1 (existing and new)."""
    fac = inp.facilities
    own = set(fac.index[carries(fac, CANTEEN)]) if len(fac) else set()
    out = {s for s in sites.table.index
           if sites.table.at[s, "kind"] in ("existing", "canteen")
           and sites.table.at[s, "source_id"] in own}
    p = sizing.proposed
    new = p[p["kind"].isin(_CANTEEN_KINDS) & p["candidate_id"].notna()] if len(p) else p
    return out | {f"candidate:{c}" for c in new["candidate_id"]}


def _with_function(added: gpd.GeoDataFrame, ids) -> gpd.GeoDataFrame:
    """``added`` with the canteen function on the rows ``ids``."""
    out = added.copy()
    col = out["functions"] if "functions" in out.columns else pd.Series(None, index=out.index)
    out["functions"] = [
        ", ".join(function_list(v) + ([CANTEEN] if CANTEEN not in function_list(v) else []))
        if i in set(ids) else (None if not function_list(v) else ", ".join(function_list(v)))
        for i, v in zip(out.index, col, strict=True)]
    return out


def canteens(inp: Inputs, sites: Sites, sizing):
    """``sizing`` with canteens where the profile requires them (see the module doc).

    Parameters
    ----------
    inp : Inputs
    sites : Sites
        With the canteen carriers' walk (:func:`canteen_sites`).
    sizing : Sizing
        After the stations and the centres.

    Returns
    -------
    Sizing
        ``added`` has a ``functions`` column; new rows ``M-<facility_id>`` (kind
        ``'canteen'``) for existing stations given the function; a shortfall for the
        areas no station reaches.
    """
    if not requires_canteens(inp):
        return sizing
    p = sizing.proposed
    new_ids = list(p.index[p["kind"].isin(_CANTEEN_KINDS)]) if len(p) else []
    sizing = dataclasses.replace(sizing, added=_with_function(sizing.added, new_ids))
    od = sites.demand_pairs(inp.areas)
    od = od[od["distance_m"] <= inp.circle.cutoff_m]
    served = set(od.loc[od["destination"].isin(_carrier_sites(inp, sites, sizing)), "origin"])
    served |= _assigned(inp)
    from careplan.plan._propose import _station_sites

    stations = set(_station_sites(inp, sites))
    hh = inp.areas["households"]
    todo = sorted((a for a in hh.index[hh > 0] if a not in served),
                  key=lambda a: (-float(hh[a]), str(a)))
    # each area's stations nearest first, and each station's areas (grouped once: the loop
    # below is over unserved areas only, never a scan of all pairs per area)
    st = od[od["destination"].isin(stations)].sort_values(["origin", "distance_m",
                                                           "destination"])
    nearest = st.groupby("origin", sort=False)["destination"].agg(list).to_dict()
    reach = od.groupby("destination", sort=False)["origin"].agg(set).to_dict()
    given, lacking = [], []
    for a in todo:
        if a in served:
            continue
        s = next((x for x in nearest.get(a, ()) if x not in set(given)), None)
        if s is None:
            lacking.append(a)
            continue
        given.append(s)
        served |= reach[s]
    return _shortfall(_add_rows(inp, sites, sizing, given, reach), lacking)


def _assigned(inp: Inputs) -> set:
    """Areas with a canteen carrier inside them or named by its ``area_id``."""
    fac = inp.facilities
    if not len(fac):
        return set()
    car = fac[carries(fac, CANTEEN)]
    out = set(car["area_id"].dropna()) if "area_id" in car.columns else set()
    polys = inp.areas[inp.areas.geometry.geom_type.isin(("Polygon", "MultiPolygon"))]
    if len(car) and len(polys):
        hit = gpd.sjoin(gpd.GeoDataFrame(geometry=car.geometry.representative_point(),
                                         crs=car.crs), polys[[polys.geometry.name]],
                        predicate="within")
        out |= set(hit["index_right"])
    return out


def _add_rows(inp: Inputs, sites: Sites, sizing, given: list, reach: dict):
    """Rows ``M-<facility_id>``: the canteen function given to existing stations."""
    if not given:
        return sizing
    areas, fac = inp.areas, inp.facilities
    rows, added = [], []
    for s in given:
        fid = sites.table.at[s, "source_id"]
        mine = sorted(reach[s], key=str)
        sid = f"M-{fid}"
        geom = sites.table.at[s, "geometry"]
        rows.append({"station_id": sid, "kind": "canteen", "candidate_id": None,
                     "facility_id": fid, "floor_area_m2": 0.0,
                     "households_served": float(areas.loc[mine, "households"].sum()),
                     "elderly_served": (float(areas.loc[mine, "elderly"].sum())
                                        if "elderly" in areas.columns else np.nan),
                     "areas_served": ",".join(map(str, mine)), "n_areas_served": len(mine),
                     "geometry": geom})
        added.append({"facility_id": sid, "level": fac.at[fid, "level"], "floor_area_m2": 0.0,
                      "beds": 0, "nursing_beds": 0, "geometry": geom, "functions": CANTEEN,
                      "name": f"canteen function added to {fid}", "expands": fid})
    return with_rows(sizing, rows, added, areas.crs)


def _shortfall(sizing, lacking: list):
    if not lacking:
        return sizing
    ids = ", ".join(map(str, lacking[:10])) + (" ..." if len(lacking) > 10 else "")
    return dataclasses.replace(sizing, shortfalls=sizing.shortfalls + ((
        "canteen_coverage_share",
        f"no station (existing or new) within the walking circle of: {ids}, so no canteen "
        "function can be placed there (add candidate sites near them)",
        f"以下居住区步行服务圈内没有养老服务站,无法配置助餐(长者饭堂)功能:{ids}(请在其附近增加候选站点)"),))
