"""The named steps of the layout plan, each a small function with typed inputs and outputs.

``prepare -> distances -> assess (before) -> choose -> size -> assess (after) -> assemble``
(:func:`careplan.plan.plan_layout` runs them in that order). The walking distances
from every area to every site (existing circle facilities and candidate sites) are
computed once, in :func:`distances`, and reused for the coverage before and after,
for the location model and for the sizing.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd

from careplan._errors import CareplanWarning, InputError
from careplan._schema import (
    CONTRACTS,
    DEFAULT_CIRCLE_LEVELS,
    DEFAULT_FLOOR_AREA_LEVELS,
    check_crs,
)
from careplan.coverage import CoverageResult, WalkingCircle, coverage_from_distances, walking_circle
from careplan.network import WalkNetwork
from careplan.plan._config import PlanConfig

__all__ = ["Inputs", "Sites", "State", "prepare", "distances", "assess"]

#: Level of a proposed (new) station.
NEW_STATION_LEVEL = "community"


@dataclass(frozen=True)
class Inputs:
    """Checked inputs of a plan and the options resolved against the standard.

    Attributes
    ----------
    areas, facilities, candidates : GeoDataFrame
        Copies indexed by ``area_id`` / ``facility_id`` / ``candidate_id``, one CRS.
    candidates_note : str
        Where the candidates come from (user-supplied or one per area).
    net : WalkNetwork
    standard : Standard
    circle : WalkingCircle
    circle_levels, floor_area_levels : tuple of str
        Facility levels counting toward the walking circle / the floor-area rule
        (of new estates: the levels that may host a deficit).
    weight_col : str
        Demand weight of the budgeted models: ``elderly`` when given, else households.
    config : PlanConfig
    verbose : bool or None
        Progress bars of the network queries.
    streets, districts : GeoDataFrame or None
        The street / district polygons given (:func:`careplan.io.read_boundaries`, in
        the areas' CRS); areas, candidates and facilities already carry the ``street``
        / ``district`` they give (:func:`careplan.io.assign_boundaries`).
    """

    areas: gpd.GeoDataFrame
    facilities: gpd.GeoDataFrame
    candidates: gpd.GeoDataFrame
    candidates_note: str
    net: WalkNetwork
    standard: Any
    circle: WalkingCircle
    circle_levels: tuple[str, ...]
    floor_area_levels: tuple[str, ...]
    weight_col: str
    config: PlanConfig
    verbose: bool | None = None
    streets: gpd.GeoDataFrame | None = None
    districts: gpd.GeoDataFrame | None = None

    @property
    def boundaries_note(self) -> str:
        """How the areas got their street and district (for the parameter table)."""
        parts = []
        assumed = " ".join(self.areas.attrs.get("careplan", {}).get("zones", []))
        for level, b in (("street", self.streets), ("district", self.districts)):
            src = self.areas.attrs.get("careplan", {}).get(f"{level}_source")
            if b is None and f"areas have no {level}" in assumed:  # zones() filled it in
                parts.append(f"{level}: no polygons and no {level!r} of the areas' own "
                             "(see zones)")
                continue
            if b is None or src is None:
                own = int(self.areas[level].notna().sum()) if level in self.areas.columns else 0
                parts.append(f"{level}: no polygons; {own} area(s) with their own {level!r}")
                continue
            outside = self.areas.attrs["careplan"].get(f"outside_{level}", [])
            empty = [n for n in b["name"] if n not in set(self.areas[level].dropna())]
            parts.append(
                f"{level}: {len(b)} polygon(s); areas by polygon {src['polygon']}, own value "
                f"{src['own']} (wins), in none {src['none']}"
                + (f" ({', '.join(outside[:10])}{' ...' if len(outside) > 10 else ''})"
                   if outside else "")
                + (f"; {len(empty)} polygon(s) hold no area and are not planned: "
                   f"{', '.join(empty[:10])}{' ...' if len(empty) > 10 else ''}" if empty else ""))
        return "; ".join(parts)

    @property
    def snap_kw(self) -> dict[str, Any]:
        """Keyword arguments of the network queries (``max_snap_m`` when given)."""
        m = self.config.max_snap_m
        return {} if m is None else {"max_snap_m": m}


@dataclass(frozen=True)
class Sites:
    """Every site a station can be at and the walk from every area to it.

    Attributes
    ----------
    table : GeoDataFrame
        Index = site label (``existing:<facility_id>`` or ``candidate:<candidate_id>``),
        columns ``kind`` ('existing'|'candidate'), ``source_id``; Point geometry.
    pairs : DataFrame
        ``origin`` (area_id), ``destination`` (site label), ``distance_m``: every pair
        within the walking circle, all areas (also those without households).
    existing, candidates : tuple
        Site labels of the existing circle facilities / of the candidate sites.
    fallback_areas : tuple
        Areas that got a candidate site inside them (nothing else reached them).
    unreachable_areas, unreachable_sites : tuple
        Area ids / site labels off the network.
    reach_only : tuple
        Site labels walked to only for the compliance rules (``canteen:<facility_id>``:
        canteen carriers outside the circle levels, :func:`careplan.plan._canteens.canteen_sites`);
        not sites of the location model, not counted for coverage.
    """

    table: gpd.GeoDataFrame
    pairs: pd.DataFrame
    existing: tuple
    candidates: tuple
    fallback_areas: tuple = ()
    unreachable_areas: tuple = ()
    unreachable_sites: tuple = ()
    reach_only: tuple = ()

    def demand_pairs(self, areas: gpd.GeoDataFrame) -> pd.DataFrame:
        """The pairs whose area has households (the demand of the location model)."""
        demand = areas.index[areas["households"] > 0]
        return self.pairs[self.pairs["origin"].isin(demand)]


@dataclass(frozen=True)
class State:
    """Floor-area compliance and walking coverage at one moment (before or after).

    Attributes
    ----------
    coverage : CoverageResult
    compliance : ComplianceResult
    facilities : GeoDataFrame
        The facilities assessed.
    """

    coverage: CoverageResult
    compliance: Any
    facilities: gpd.GeoDataFrame


def _by_id(gdf: gpd.GeoDataFrame, col: str, what: str) -> gpd.GeoDataFrame:
    """A copy indexed by its id column, with the contract's required columns checked."""
    if not isinstance(gdf, gpd.GeoDataFrame):
        raise InputError(f"{what} must be a GeoDataFrame (read them with "
                         f"careplan.read_{what}()), got {type(gdf).__name__}")
    missing = [c.name for c in CONTRACTS[what] if c.required and c.name not in gdf.columns]
    if missing:
        raise InputError(f"{what} need column(s) {missing}; read them with "
                         f"careplan.read_{what}()")
    for c in ("households", "elderly"):
        if what == "areas" and c in gdf.columns:
            v = pd.to_numeric(gdf[c], errors="coerce")
            bad = gdf.index[~(np.isfinite(v) & (v >= 0))]
            if len(bad):
                raise InputError(f"areas column {c!r} must be finite numbers >= 0; bad at "
                                 f"{', '.join(map(str, bad[:5]))}")
    out = gdf.copy()
    if not out.index.equals(pd.Index(out[col])):
        out.index = pd.Index(out[col].to_numpy(), name=None)
    return out


def _one_per_area(areas: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """A candidate site at the representative point of every area (``in-<area_id>``)."""
    ids = [f"in-{a}" for a in areas["area_id"]]
    return gpd.GeoDataFrame(
        {"candidate_id": ids, "name": [f"inside area {a}" for a in areas["area_id"]]},
        geometry=areas.geometry.representative_point().to_numpy(), index=ids, crs=areas.crs)


def _facilities(facilities: gpd.GeoDataFrame | None, areas: gpd.GeoDataFrame):
    if facilities is None:
        facilities = gpd.GeoDataFrame(
            {"facility_id": pd.Series(dtype=str), "level": pd.Series(dtype=str),
             "floor_area_m2": pd.Series(dtype=float), "beds": pd.Series(dtype="int64"),
             "nursing_beds": pd.Series(dtype="int64")}, geometry=[], crs=areas.crs)
    return _by_id(facilities, "facility_id", "facilities")


def network_from(net: Any) -> WalkNetwork:
    """``net`` itself, or the network read from an OSM file path."""
    import os
    from pathlib import Path

    if isinstance(net, WalkNetwork):
        return net
    if isinstance(net, str | os.PathLike):
        p = Path(net)
        if not p.exists():
            raise InputError(f"network file {str(p)!r} does not exist; give a .osm, "
                             ".osm.bz2 or .osm.pbf file or a careplan.WalkNetwork")
        return WalkNetwork.from_file(p)
    raise InputError(f"net must be a careplan.WalkNetwork or a path to an OSM file, "
                     f"got {type(net).__name__}")


def _boundaries(src: Any, level: str, areas: gpd.GeoDataFrame) -> gpd.GeoDataFrame | None:
    """Street/district polygons from a GeoDataFrame (in the areas' CRS) or a file path."""
    import os

    from careplan.io import read_boundaries

    if src is None:
        return None
    what = f"{level} boundaries ({level}s=)"
    if isinstance(src, gpd.GeoDataFrame):
        check_crs(src, what, like=areas)
        return read_boundaries(src, level=level)
    if isinstance(src, str | os.PathLike):
        return read_boundaries(src, level=level, crs=areas.crs)
    raise InputError(f"{what} must be a GeoDataFrame of polygons or a file path (read with "
                     f"careplan.data.read_boundaries), got {type(src).__name__}")


def _with_boundaries(areas, facilities, candidates, streets, districts):
    """Areas, facilities and candidates with ``street``/``district`` from the polygons
    holding their representative points (a record's own value wins; see
    :func:`careplan.io.assign_boundaries`)."""
    from careplan.io import assign_boundaries

    for level, b in (("street", streets), ("district", districts)):
        if b is None:
            continue
        areas = assign_boundaries(areas, b, column=level, what="areas", require_any=True)
        candidates = assign_boundaries(candidates, b, column=level, what="candidates")
        facilities = assign_boundaries(facilities, b, column=level, what="facilities")
    return areas, facilities, candidates


def prepare(areas, facilities, candidates, net, config: PlanConfig, *,
            verbose: bool | None = None, streets: Any = None, districts: Any = None) -> Inputs:
    """Check the inputs and resolve the options against the standard.

    Parameters
    ----------
    areas, facilities, candidates, net
        As for :func:`careplan.plan_layout` (facilities/candidates may be None).
    config : PlanConfig
    verbose : bool, optional
        Progress bars of the network queries.
    streets, districts : GeoDataFrame or path, optional
        Street (街道/镇) / district (区/县) polygons (:func:`careplan.io.read_boundaries`;
        a frame must be in the areas' CRS, a file is reprojected to it). Areas,
        candidates and facilities get ``street`` / ``district`` from the polygon holding
        their representative point; a record's own non-empty value wins; records in no
        polygon keep none and are warned about (never dropped).

    Returns
    -------
    Inputs
        Copies indexed by their ids; the circle (:func:`careplan.coverage.walking_circle`:
        option > profile > :mod:`careplan._schema` default) and the counted levels.

    Raises
    ------
    CareplanError
        Missing contract columns, households that are not finite numbers >= 0, CRSs
        that differ or are not projected (the one guard, :func:`_schema.check_crs`),
        an unknown standard, a missing network file.
    """
    from careplan.standards import load as load_standard

    std = load_standard(config.standard)
    areas = _by_id(areas, "area_id", "areas")
    facilities = _facilities(facilities, areas)
    if candidates is None:
        note = ("default: one candidate site inside every residential area "
                "(its representative point); pass candidates= to use your own sites")
        candidates = _one_per_area(areas)
    else:
        candidates = _by_id(candidates, "candidate_id", "candidates")
        note = f"{len(candidates)} user-supplied candidate sites"
    net = network_from(net)
    check_crs(areas, "areas")
    for what, g in (("facilities", facilities), ("candidates", candidates), ("the network", net)):
        check_crs(g, what, like=areas)
    streets, districts = _boundaries(streets, "street", areas), _boundaries(
        districts, "district", areas)
    areas, facilities, candidates = _with_boundaries(areas, facilities, candidates, streets,
                                                     districts)
    circle = walking_circle(std, minutes=config.minutes, speed_m_per_min=config.speed_m_per_min,
                            cutoff_m=config.cutoff_m)
    rule = std.get("service_circle")
    circle_levels = config.circle_levels or (rule[0].levels if rule and rule[0].levels
                                             else DEFAULT_CIRCLE_LEVELS)
    fa_rule = std.floor_area_rule("new")
    fa_levels = fa_rule.levels if fa_rule is not None and fa_rule.levels \
        else DEFAULT_FLOOR_AREA_LEVELS
    weight_col = "elderly" if "elderly" in areas.columns else "households"
    return Inputs(areas, facilities, candidates, note, net, std, circle, tuple(circle_levels),
                  tuple(fa_levels), weight_col, config, verbose, streets, districts)


def _distances(inp: Inputs, sites: gpd.GeoDataFrame) -> pd.DataFrame:
    """Walk from every area to ``sites`` within the circle (network warnings re-emitted)."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        od = inp.net.distances(inp.areas, sites, cutoff_m=inp.circle.cutoff_m,
                               verbose=inp.verbose, **inp.snap_kw)
    for w in caught:
        warnings.warn(w.message, w.category, stacklevel=3)
    return od


def _site_table(labels: list, kind: str, source: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame({"kind": [kind] * len(labels), "source_id": list(source.index)},
                            geometry=list(source.geometry.representative_point()),
                            index=labels, crs=source.crs)


def distances(inp: Inputs) -> Sites:
    """The sites and the walk from every area to every site, computed once.

    Sites are the existing facilities of the circle levels and the candidates;
    with ``fallback_candidates`` an area with households that no site reaches gets
    a candidate inside it (CareplanWarning), and only the walk to those new sites is
    added.

    Parameters
    ----------
    inp : Inputs

    Returns
    -------
    Sites
        ``pairs`` holds every (area, site) pair within ``inp.circle.cutoff_m``, for all
        n_areas areas (those without households too: their coverage is reported).
    """
    circle_fac = inp.facilities[inp.facilities["level"].isin(inp.circle_levels)]
    ex = [f"existing:{i}" for i in circle_fac.index]
    ca = [f"candidate:{i}" for i in inp.candidates.index]
    table = pd.concat([_site_table(ex, "existing", circle_fac),
                       _site_table(ca, "candidate", inp.candidates)])
    od = _distances(inp, table)
    unreach_a, unreach_s = list(od.attrs["unreachable_origins"]), list(
        od.attrs["unreachable_destinations"])
    sites = Sites(table, od, tuple(ex), tuple(ca), (), tuple(unreach_a), tuple(unreach_s))
    if inp.config.fallback_candidates:
        sites = _add_fallback(inp, sites)
    return sites


def _add_fallback(inp: Inputs, sites: Sites) -> Sites:
    """Add a candidate inside every area with households that no station site reaches
    (a candidate or an existing facility of a station level: a street centre within the
    circle does not make a station unnecessary, issue 12.3)."""
    from careplan.plan._propose import station_levels  # lazy: _propose imports this module

    levels = set(station_levels(inp))
    lv = inp.facilities["level"]
    ok = [s for s in sites.existing if lv.get(sites.table.at[s, "source_id"]) in levels]
    pairs = sites.demand_pairs(inp.areas)
    reached = set(pairs.loc[pairs["destination"].isin(set(ok) | set(sites.candidates)),
                            "origin"])
    demand = inp.areas[inp.areas["households"] > 0]
    lonely = demand.loc[~demand.index.isin(reached)]
    if not len(lonely):
        return sites
    extra = _one_per_area(lonely)
    labels = [f"candidate:{i}" for i in extra.index]
    new = _site_table(labels, "candidate", extra)
    new = new[~new.index.isin(sites.table.index)]
    od = _distances(inp, new)
    cutoff = inp.circle.cutoff_m
    ids = list(map(str, lonely.index))
    warnings.warn(f"{len(ids)} area(s) had no existing station or candidate site within "
                  f"{cutoff:.0f} m walking; added a candidate site inside each: "
                  f"{', '.join(ids[:10])} (fallback_candidates=False turns this off)",
                  CareplanWarning, stacklevel=3)
    pairs = pd.concat([sites.pairs, od], ignore_index=True)
    pairs.attrs = dict(sites.pairs.attrs)  # the areas' access flags do not depend on the sites
    return Sites(pd.concat([sites.table, new]), pairs,
                 sites.existing, sites.candidates + tuple(new.index), tuple(lonely.index),
                 sites.unreachable_areas,
                 sites.unreachable_sites + tuple(od.attrs["unreachable_destinations"]))


def assess(inp: Inputs, sites: Sites, facilities: gpd.GeoDataFrame, circle_sites: list,
           allocation: pd.DataFrame | None = None) -> State:
    """Coverage (from the distances already computed) and floor-area compliance.

    Floor area is counted where it serves: the walking distances from every area to the
    circle facilities go to :func:`careplan.compliance.check` as ``reach``, which
    allocates each counted facility's floor area to the areas within the circle by an
    exact transportation LP (new estates only on site where the profile says so).

    Parameters
    ----------
    facilities : GeoDataFrame
        Facilities to check (the existing ones, or those after the plan).
    circle_sites : list
        Site labels counting toward the walking circle, with the facility id each
        stands for (``[(site, facility_id), ...]``; a site may stand for several, e.g.
        an existing facility and its expansion).
    allocation : DataFrame, optional
        Explicit shares for :func:`careplan.compliance.check` instead of the walking
        allocation.

    Returns
    -------
    State
        Coverage equal to :func:`careplan.coverage.walk_coverage` over the same
        facilities (tested), without walking again.
    """
    from careplan import compliance

    site_map = pd.DataFrame(circle_sites, columns=["destination", "facility_id"])
    pairs = sites.pairs.merge(site_map, on="destination", how="inner")
    pairs = pairs.assign(destination=pairs["facility_id"]).drop(columns="facility_id")
    unreach = set(sites.unreachable_sites)
    cov = coverage_from_distances(
        inp.areas, pairs, cutoff_m=inp.circle.cutoff_m, unreachable_areas=sites.unreachable_areas,
        cut_off_areas=sites.pairs.attrs.get("cut_off_origins", ()),
        long_access_areas=sites.pairs.attrs.get("long_access_origins", ()),
        unreachable_facilities=list(site_map.loc[site_map["destination"].isin(unreach),
                                                 "facility_id"]))
    reach = pairs
    if sites.reach_only:  # canteen carriers outside the circle: for the canteen rule only
        extra = sites.pairs[sites.pairs["destination"].isin(set(sites.reach_only))]
        ids = sites.table.loc[extra["destination"], "source_id"].to_numpy()
        reach = pd.concat([pairs, extra.assign(destination=ids)], ignore_index=True)
    comp = compliance.check(inp.areas, facilities, standard=inp.standard, coverage=cov,
                            allocation=allocation, reach=reach if allocation is None else None)
    return State(cov, comp, facilities)
