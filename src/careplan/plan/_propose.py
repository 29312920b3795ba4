"""The proposal steps of the plan: :func:`choose` the new stations, :func:`size` them."""

from __future__ import annotations

import dataclasses
import warnings
from dataclasses import dataclass
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd

from careplan._errors import CareplanWarning
from careplan.plan._steps import NEW_STATION_LEVEL, Inputs, Sites, State

__all__ = ["Choice", "Sizing", "choose", "fit_to_allocation", "size"]

_PROPOSED_COLUMNS = ["station_id", "kind", "candidate_id", "facility_id", "floor_area_m2",
                     "households_served", "elderly_served", "areas_served", "n_areas_served",
                     "geometry"]
_ADDED_COLUMNS = ["facility_id", "level", "floor_area_m2", "beds", "nursing_beds", "geometry",
                  "name"]


@dataclass(frozen=True)
class Choice:
    """New stations chosen by the location model.

    Attributes
    ----------
    model : str
        Model used ('set_covering', 'maximal_covering' or 'p_median').
    result : LocationResult or None
        None when nothing could be chosen (no reachable demand or no candidate).
    new_sites : tuple
        Site labels of the new stations.
    unreachable_areas : tuple
        Areas with households that no site reaches (they cannot be served).
    no_station_areas : tuple
        Areas with households that no station (an existing facility of a station level,
        :func:`station_levels`) and no candidate reaches within the circle: they cannot
        get a station (a larger centre may still serve them).
    """

    model: str
    result: Any
    new_sites: tuple
    unreachable_areas: tuple
    no_station_areas: tuple = ()


@dataclass(frozen=True)
class Sizing:
    """Every station's size, from the floor-area deficits allocated to it.

    Attributes
    ----------
    proposed : GeoDataFrame
        One row per new station / expansion (see :class:`careplan.LayoutPlan`).
    added : GeoDataFrame
        The same stations as facilities (``facility_id, level, floor_area_m2, beds,
        nursing_beds, name``) to assess the state after.
    allocation : DataFrame
        ``facility_id`` (station id), ``area_id``, ``floor_area_m2``: each deficit and
        the station that takes it.
    served_by : dict
        Area id -> the first station serving it.
    new_sites : tuple
        Site labels of all new stations (the model's plus the extra ones).
    unresolved_areas : tuple
        Areas keeping a deficit: no station within the walking circle.
    shortfalls : tuple
        ``(rule kind, reason, reason_zh)`` of what the plan could not propose (e.g. a
        street without a candidate site), read by :func:`careplan.plan._explain.rules_not_met`.
    """

    proposed: gpd.GeoDataFrame
    added: gpd.GeoDataFrame
    allocation: pd.DataFrame
    served_by: dict
    new_sites: tuple
    unresolved_areas: tuple
    shortfalls: tuple = ()


def station_levels(inp: Inputs) -> tuple[str, ...]:
    """Levels that count as a station for the coverage of the location model.

    The levels of the profile's ``station_coverage_share`` rules (community stations:
    a street centre or its expansion is not a station, Jinwan task 3), else the circle
    levels (a profile without a station rule only asks for the walking circle).
    """
    rules = inp.standard.get("station_coverage_share")
    if not rules:
        return tuple(inp.circle_levels)
    return tuple(dict.fromkeys(lv for r in rules for lv in r.levels))


def _station_sites(inp: Inputs, sites: Sites) -> list:
    """Existing circle sites whose facility is of a station level."""
    levels = set(station_levels(inp))
    return [s for s in sites.existing
            if inp.facilities.at[sites.table.at[s, "source_id"], "level"] in levels]


def _model(name: str, inp: Inputs, n_cand: int):
    from careplan import locate

    cfg, cutoff = inp.config, inp.circle.cutoff_m
    if name == "set_covering":
        return locate.SetCovering(cutoff_m=cutoff, time_limit_s=cfg.time_limit_s)
    p = min(int(cfg.p), n_cand)
    if name == "maximal_covering":
        return locate.MaximalCovering(p=p, cutoff_m=cutoff, time_limit_s=cfg.time_limit_s)
    return locate.PMedian(p=p, time_limit_s=cfg.time_limit_s)


def choose(inp: Inputs, sites: Sites) -> Choice:
    """Choose new stations among the candidates, the existing circle facilities kept open.

    Without a budget the fewest stations that bring every reachable household into
    the circle of a station (set covering, households); with ``p`` the ``p`` stations
    covering the most elderly (maximal covering) or with the least weighted walk
    (p-median). Only stations cover: existing facilities of a station level
    (:func:`station_levels`, forced open) and the candidates; a street or district
    centre within the circle does not make a station unnecessary (issue 12.3).

    Parameters
    ----------
    inp : Inputs
    sites : Sites

    Returns
    -------
    Choice
        Areas with households that no site reaches are listed (CareplanWarning).

    Raises
    ------
    CareplanError
        From the location model (e.g. its solver failing).
    """
    cfg = inp.config
    od = sites.demand_pairs(inp.areas)
    demand = inp.areas.index[inp.areas["households"] > 0]
    reached = set(od["origin"])
    unreachable = tuple(a for a in demand if a not in reached)
    if unreachable:
        ids = list(map(str, unreachable))
        warnings.warn(
            f"{len(ids)} area(s) with households have no existing facility or candidate site "
            f"within {inp.circle.cutoff_m:.0f} m walking and cannot be served by this plan: "
            f"{', '.join(ids[:10])}{' ...' if len(ids) > 10 else ''}; add candidate sites near "
            "them or check their snapping to the network", CareplanWarning, stacklevel=3)
    # coverage by stations: existing stations (forced open) and candidates only
    stations = _station_sites(inp, sites)
    od = od[od["destination"].isin(set(stations) | set(sites.candidates))]
    reached = set(od["origin"])
    reachable = [a for a in demand if a in reached]
    no_station = tuple(a for a in demand if a not in reached and a not in set(unreachable))
    name = cfg.model if cfg.model != "auto" else (
        "set_covering" if cfg.p is None else "maximal_covering")
    n_cand = len(sites.candidates)
    if not (reachable and n_cand):
        return Choice(name, None, (), unreachable, no_station)
    col = "households" if name == "set_covering" else inp.weight_col
    weights = inp.areas.loc[reachable, col].astype(float)
    dests = set(od["destination"])
    res = _model(name, inp, n_cand).solve(
        od, weights=weights, existing=[s for s in stations if s in dests],
        candidate_labels=list(stations) + list(sites.candidates))
    return Choice(name, res, tuple(res.new), unreachable, no_station)


def _nearest(od: pd.DataFrame, hosts: set) -> pd.DataFrame:
    """Nearest host (destination in ``hosts``) of every origin, ties broken by label."""
    sub = od[od["destination"].isin(hosts)]
    return (sub.sort_values(["origin", "distance_m", "destination"])
            .drop_duplicates("origin").set_index("origin"))


def size(inp: Inputs, sites: Sites, before: State, choice: Choice) -> Sizing:
    """Give every area's floor-area deficit to one station within the circle (a new
    station, or an expansion of an existing counted facility), small deficits pooled
    into shared stations (:func:`careplan.plan._sizes.pooled_allocation`: fewest new
    stations, then least floor area, then least walking); a station's size is
    the sum of the deficits it takes, within the profile's single-site bounds
    (:func:`careplan.standards.site_limits`: at least the profile's minimum, else
    ``min_station_floor_area_m2``, else a documented default; at most the profile's
    maximum and the candidate's ``max_floor_area_m2``). Areas whose built class must
    build its rooms on site (a ``floor_area_on_site`` rule, 配建) get a room inside the
    estate instead (see :func:`careplan.plan._sizes.on_site_rooms`).

    Parameters
    ----------
    inp : Inputs
    sites : Sites
    before : State
        Its compliance gives each area's deficit (m2), its coverage the areas not yet
        covered.
    choice : Choice

    Returns
    -------
    Sizing
        Station ids: ``S001, S002, ...`` for new stations (in the model's order), then
        ``X-<facility_id>`` for expansions, then ``R-<area_id>`` for on-site rooms.
    """
    from careplan.plan._sizes import on_site_rooms, pooled_allocation, split_on_site

    before, on_site_deficit = split_on_site(inp, before)
    alloc, new_sites, counted, unresolved, _ = pooled_allocation(inp, sites, before, choice)
    od = sites.demand_pairs(inp.areas)
    nearest_new = _nearest(od, set(new_sites))["destination"]
    uncovered = set(before.coverage.areas.index[~before.coverage.areas["covered"].astype(bool)])
    used = set(alloc["site"])
    rows, added, shares, served_by = [], [], [], {}
    new_set = set(new_sites)
    # each station's rows at once (one pass, not a scan of every area per station)
    parts = {k: g for k, g in alloc.groupby("site", sort=False)}
    nearest_of: dict[Any, set] = {}
    for a, s in nearest_new.items():
        nearest_of.setdefault(s, set()).add(a)
    for k, s in enumerate(new_sites + [e for e in counted if e in used]):
        part = parts.get(s, alloc.iloc[:0])
        newly = nearest_of.get(s, set()) & uncovered if s in new_set else set()
        served = sorted(set(part["area_id"]) | newly, key=str)
        row, fac = _station(inp, sites, s, s in new_set, k, part, served)
        rows.append(row)
        added.append(fac)
        shares += [(row["station_id"], a, float(m2))
                   for a, m2 in zip(part["area_id"], part["floor_area_m2"], strict=True)]
        for a in served:
            served_by.setdefault(a, row["station_id"])
    crs = inp.areas.crs
    proposed = gpd.GeoDataFrame(rows, columns=_PROPOSED_COLUMNS, geometry="geometry", crs=crs)
    proposed.index = pd.Index(proposed["station_id"].to_numpy())
    added_gdf = gpd.GeoDataFrame(added, columns=_ADDED_COLUMNS, geometry="geometry", crs=crs)
    added_gdf.index = pd.Index(added_gdf["facility_id"].to_numpy())
    allocation = pd.DataFrame(shares, columns=["facility_id", "area_id", "floor_area_m2"])
    sizing = Sizing(proposed, added_gdf, allocation, served_by, tuple(new_sites), unresolved,
                    _station_shortfall(choice))
    return _mark_expansions(on_site_rooms(inp, sizing, on_site_deficit))


def _mark_expansions(sizing: Sizing) -> Sizing:
    """``added`` with an ``expands`` column: the facility an expansion adds floor area to
    (None for a new site); rule counts treat an expansion as part of that facility."""
    p = sizing.proposed
    exp = p.loc[p["kind"] == "expansion", "facility_id"] if len(p) else pd.Series(dtype=object)
    added = sizing.added.copy()
    added["expands"] = pd.Series(added.index.map(exp.to_dict()), index=added.index,
                                 dtype=object).where(lambda v: v.notna(), None)
    return dataclasses.replace(sizing, added=added)


def _station_shortfall(choice: Choice) -> tuple:
    """Why areas keep no station: no station and no candidate within the circle."""
    ids = ", ".join(map(str, choice.no_station_areas[:10]))
    more = " ..." if len(choice.no_station_areas) > 10 else ""
    if not ids:
        return ()
    return (("station_coverage_share",
             f"no existing station or candidate site within the walking circle of: {ids}{more} "
             "(add candidate sites near them)",
             f"步行服务圈内没有既有养老服务站或候选站点:{ids}{more}(请在其附近增加候选站点)"),)


def _station(inp: Inputs, sites: Sites, site: str, is_new: bool, k: int, part: pd.DataFrame,
             served: list) -> tuple[dict, dict]:
    """The proposed-table row and the facility row of one station."""
    areas = inp.areas
    src = sites.table.at[site, "source_id"]
    from careplan.plan._sizes import station_size

    need = float(part["floor_area_m2"].sum())
    size_m2 = station_size(inp, src, need) if is_new else need
    sid = f"S{k + 1:03d}" if is_new else f"X-{src}"
    geom = sites.table.at[site, "geometry"]
    row = {"station_id": sid, "kind": "new" if is_new else "expansion",
           "candidate_id": src if is_new else None, "facility_id": None if is_new else src,
           "floor_area_m2": round(size_m2, 2),
           "households_served": _served_sum(areas, "households", served),
           "elderly_served": (_served_sum(areas, "elderly", served)
                              if "elderly" in areas.columns else np.nan),
           "areas_served": ",".join(map(str, served)), "n_areas_served": len(served),
           "geometry": geom}
    fac = {"facility_id": sid,
           "level": NEW_STATION_LEVEL if is_new else inp.facilities.at[src, "level"],
           "floor_area_m2": size_m2, "beds": 0, "nursing_beds": 0, "geometry": geom,
           "name": f"proposed station {sid}" if is_new else f"expansion of {src}"}
    return row, fac


def _served_sum(areas: pd.DataFrame, col: str, served: list) -> float:
    """``areas.loc[served, col].sum()`` (NaN skipped; 0.0 when none) without pandas'
    label indexing per station (a tenth of ``size`` at 500 stations)."""
    if not served:
        return 0.0
    pos = areas.index.get_indexer(served)
    if (pos < 0).any():  # as .loc: a label not in areas is an error
        raise KeyError([a for a, p in zip(served, pos, strict=True) if p < 0])
    return float(np.nansum(areas[col].to_numpy(dtype=float)[pos]))


def fit_to_allocation(inp: Inputs, sites: Sites, sizing: Sizing,
                      after: State) -> tuple[Sizing, State, str]:
    """New stations and expansions shrunk to the floor area they finally supply.

    :func:`size` sizes a station by the deficits given to it; the street and district
    centres placed afterwards (:mod:`careplan.plan._levels`, :mod:`careplan.plan._district`)
    also count toward the floor-area rule and take over part of those deficits in the
    final allocation (:func:`careplan.compliance.check`, exact transportation LP). Each new
    station is then re-sized to its final allocation, at least the single-site minimum
    (:func:`careplan.plan._sizes.station_size`), each expansion to its final allocation
    (an expansion given nothing is dropped); sizes only shrink. The state after is
    re-assessed until no size changes (at most 5 rounds). When centres take deficits,
    ``allocation`` becomes the final allocation of the proposed facilities (centres
    included: the deficits each supplies, m2) and a station's ``areas_served`` gains the
    areas it finally supplies.

    Parameters
    ----------
    inp : Inputs
    sites : Sites
    sizing : Sizing
        After the centres are placed.
    after : State
        :func:`careplan.plan._assemble.assess_after` of ``sizing``.

    Returns
    -------
    (Sizing, State, str)
        The re-sized stations, the state after with them, and what changed
        (``'S004 512.1 -> 318.6 m2, ...'``; ``'none'``), for the parameter table.
    """
    from careplan.plan._assemble import assess_after
    from careplan.plan._sizes import station_size

    first = sizing.proposed["floor_area_m2"].astype(float).to_dict()
    for _ in range(5):
        got = after.compliance.allocation.groupby("facility_id")["floor_area_m2"].sum()
        p = sizing.proposed
        resized = {}
        for sid, kind, cid, m2 in zip(p["station_id"], p["kind"], p["candidate_id"],
                                      p["floor_area_m2"], strict=True):
            if kind not in ("new", "expansion"):
                continue
            final = float(got.get(sid, 0.0))
            fit = round(station_size(inp, cid, final) if kind == "new" else final, 2)
            if fit < float(m2) - 0.005:
                resized[sid] = fit
        if not resized:
            break
        sizing = _resized(sizing, resized)
        after = assess_after(inp, sites, sizing)
    final = after.compliance.allocation
    centres = sizing.proposed.index[sizing.proposed["kind"] == "centre"]
    if len(final) and (final["facility_id"].isin(list(centres))
                       & (final["floor_area_m2"] > 1e-9)).any():
        sizing = _final_shares(inp, sizing, final)
    last = sizing.proposed["floor_area_m2"].astype(float).to_dict()
    changes = [f"{sid} {m2:.1f} -> {last.get(sid, 0.0):.1f} m2" for sid, m2 in first.items()
               if last.get(sid, 0.0) < m2 - 0.005]
    return sizing, after, ", ".join(changes) or "none"


def _resized(sizing: Sizing, resized: dict) -> Sizing:
    """``sizing`` with the stations of ``resized`` (id -> m2) at their new size and an
    expansion at 0 m2 dropped."""
    drop = [sid for sid, m2 in resized.items() if m2 <= 0.005 and sid.startswith("X-")]
    sizes = pd.Series(resized, dtype=float)
    prop = sizing.proposed.drop(index=drop)
    prop = prop.assign(floor_area_m2=sizes.reindex(prop.index).fillna(prop["floor_area_m2"]))
    added = sizing.added.drop(index=drop)
    added = added.assign(floor_area_m2=sizes.reindex(added.index).fillna(added["floor_area_m2"]))
    return dataclasses.replace(sizing, proposed=prop, added=added)


def _final_shares(inp: Inputs, sizing: Sizing, final: pd.DataFrame) -> Sizing:
    """``sizing`` whose ``allocation`` is the final one of the proposed facilities
    (stations, expansions, rooms and the centres that took deficits), each station's
    ``areas_served`` gaining the areas it finally supplies."""
    p = sizing.proposed
    mine = final.loc[final["facility_id"].isin(list(p.index))
                     & (final["floor_area_m2"] > 1e-9), ["facility_id", "area_id",
                                                          "floor_area_m2"]]
    mine = mine.reset_index(drop=True)
    by = mine.groupby("facility_id")["area_id"].agg(set)
    rows = p.copy()
    for sid in by.index:
        if rows.at[sid, "kind"] == "centre":  # a centre serves its whole zone already
            continue
        old = {a for a in str(rows.at[sid, "areas_served"] or "").split(",") if a}
        served = sorted(old | set(map(str, by[sid])), key=str)
        if len(served) == len(old):
            continue
        rows.at[sid, "areas_served"] = ",".join(served)
        rows.at[sid, "n_areas_served"] = len(served)
        ids = [a for a in inp.areas.index if str(a) in set(served)]
        rows.at[sid, "households_served"] = _served_sum(inp.areas, "households", ids)
        if "elderly" in inp.areas.columns:
            rows.at[sid, "elderly_served"] = _served_sum(inp.areas, "elderly", ids)
    return dataclasses.replace(sizing, proposed=rows, allocation=mine)
