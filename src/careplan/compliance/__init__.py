"""Check residential areas and care facilities against a policy standard.

:func:`check` computes, per residential area, the community-care floor area the
standard requires (``households / 100 x rate`` for the area's ``built`` class),
the floor area provided by the facilities assigned to it, the deficit and a
compliant flag; rolls these up per street and district; and evaluates every
network-level rule of the standard (town centre size, centres per street,
station/canteen coverage, nursing-bed share, care land per resident, ...).
Each rule gives a row of the rule table with its citation. A rule that cannot be
evaluated from the inputs given is reported with ``passed = None`` and a note
saying what is missing, never as a pass.

Assignment of facilities to areas
---------------------------------
1. Facilities listed in ``allocation`` get exactly the shares given there
   (e.g. a new station serving several estates) and nothing else.
2. Otherwise an explicit facility ``area_id`` wins (``assign="auto"`` or ``"area_id"``).
3. Otherwise a facility is assigned to the polygon area containing it (boundary
   included; ``assign="auto"`` or ``"within"``). Point areas only receive facilities
   through an explicit ``area_id`` or ``allocation``.
4. A facility inside several overlapping polygons is, by default
   (``overlap="smallest"``), assigned wholly to the smallest of them (the most
   specific estate when polygons are nested; ties go to the first in ``areas``
   order): counting it twice would overstate supply. ``overlap="split"`` shares
   its floor area equally, ``overlap="first"`` takes the first area. Every such
   case is listed in :attr:`ComplianceResult.overlaps` and warned about.
5. Facilities assigned nowhere are kept in :attr:`ComplianceResult.facilities`
   with ``method = "none"`` and still count for network-level rules.

Which facilities count toward the floor-area rule
-------------------------------------------------
By default the levels of the profile's ``floor_area_per_100hh`` rule, which for
the shipped profiles are ``("community", "street")``: community stations and
street/town comprehensive centres are both community home-care floor space
(policies allow the per-100-households space to be consolidated into a larger
centre). District guidance centres, institutions (residential care, a separate
bed-based rule), stand-alone canteens and 'other' do not count. Override with
``levels=``.

Layout
------
``_contract`` (the input contract, checked cheaply), ``_assign`` (which facility
counts where), ``_tables`` (rule table, roll-ups, summary), ``_result``
(:class:`ComplianceResult`). Rule kinds, their parameters and evaluators live in
:mod:`careplan.standards.kinds` (one declaration per kind).
"""

from __future__ import annotations

import warnings
from collections.abc import Mapping, Sequence
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd

from careplan._errors import InputError
from careplan._schema import DEFAULT_FLOOR_AREA_LEVELS
from careplan.allocation import TOL_M2
from careplan.compliance import _assign, _contract, _tables
from careplan.compliance._result import ComplianceResult, check_lang
from careplan.standards import BUILT_CLASSES, FACILITY_LEVELS, Standard
from careplan.standards import load as load_standard
from careplan.standards._registry import RuleContext

__all__ = ["ComplianceResult", "check", "DEFAULT_FLOOR_AREA_LEVELS"]

# DEFAULT_FLOOR_AREA_LEVELS (levels counted toward the floor-area rule when neither the
# profile rule nor ``check(levels=...)`` says otherwise) is defined once in careplan._schema.


def check(
    areas: gpd.GeoDataFrame,
    facilities: gpd.GeoDataFrame,
    *,
    standard: Standard | str,
    allocation: pd.DataFrame | None = None,
    reach: pd.DataFrame | None = None,
    assign: str = "auto",
    levels: Sequence[str] | None = None,
    overlap: str = "smallest",
    coverage: Any = None,
    population: float | None = None,
    care_land_m2: float | None = None,
    social_workers: float | None = None,
    district_types: Mapping[Any, str] | None = None,
    lang: str | None = None,
) -> ComplianceResult:
    """Check areas and facilities against a policy standard.

    Parameters
    ----------
    areas : GeoDataFrame
        ``area_id, households, built ('new'|'existing')``, optional ``elderly, street,
        district``; Polygon/MultiPolygon/Point geometry in a projected CRS
        (see :func:`careplan.read_areas`).
    facilities : GeoDataFrame
        ``facility_id, level, floor_area_m2, beds, nursing_beds``, optional ``area_id,
        street, district, land_area_m2``; same CRS as ``areas``
        (see :func:`careplan.read_facilities`).
    standard : Standard or str
        A :class:`~careplan.standards.Standard` or anything
        :func:`careplan.standards.load` accepts.
    allocation : DataFrame, optional
        ``facility_id, area_id, floor_area_m2``: explicit shares of facilities' floor
        area to areas (a station serving several estates). Listed facilities are not
        also assigned by ``area_id`` or location. Shares of a facility may not sum to
        more than its floor area (the rest counts nowhere and is reported).
    reach : DataFrame, optional
        Walking distances ``origin`` (area id), ``destination`` (facility id),
        ``distance_m``, e.g. ``net.distances(areas, facilities, cutoff_m=...)``. With it,
        the floor area of counted facilities is allocated to the areas within the
        standard's service circle by an exact transportation LP minimising the total
        deficit (:func:`careplan.allocation.allocate_floor_area`); areas of a built class
        with a ``floor_area_on_site`` rule receive only rooms inside them (配建). The
        result's ``allocation`` is that table. Not together with ``allocation``.
    assign : {'auto', 'area_id', 'within'}
        'auto': explicit facility ``area_id`` wins, else the polygon containing it;
        'area_id': only explicit ids; 'within': only location (ignores ``area_id``).
    levels : sequence of str, optional
        Facility levels counted toward the floor-area rule; default: the levels of the
        profile's floor-area rules (``DEFAULT_FLOOR_AREA_LEVELS`` for shipped ones).
    overlap : {'smallest', 'split', 'first'}
        What to do with a facility inside several overlapping polygons (see module doc).
    coverage : CoverageResult or DataFrame, optional
        Walking coverage per area (``covered`` column, indexed by area_id) to evaluate
        the service-circle rule; without it that rule is reported as not evaluated.
    population : float, optional
        Residents of the whole planning area, for the care-land-per-resident rule.
    care_land_m2 : float, optional
        Care-service land, m2 (default: sum of a facility ``land_area_m2`` column).
    social_workers : float, optional
        Number of social workers, for the staffing-ratio rules.
    district_types : mapping, optional
        ``{district: 'urban_district' | 'county'}`` for welfare-home rules per district.
    lang : {'en', 'zh'}, optional
        Deprecated (presentation belongs to :mod:`careplan.report`, which labels the
        plain tables): still sets the default language of
        :meth:`ComplianceResult.rule_table` and ``to_excel_frames``, with a
        DeprecationWarning. Default 'en'.

    Returns
    -------
    ComplianceResult

    Raises
    ------
    InputError
        Missing columns, bad values, unknown ids, allocation shares exceeding a
        facility's floor area, invalid options.
    CRSError
        Missing or geographic CRS, or areas and facilities in different CRSs.

    Examples
    --------
    >>> rep = careplan.compliance.check(areas, facs, standard="jinwan-2020")
    >>> rep.areas[["required_m2", "provided_m2", "deficit_m2", "compliant"]]
    >>> rep.rules[["rule_id", "required", "found", "passed"]]
    """
    std = load_standard(standard)
    if lang is not None:
        warnings.warn("compliance.check(lang=...) is deprecated: the result holds both "
                      "label_en and label_zh; careplan.report labels tables for a language",
                      DeprecationWarning, stacklevel=2)
    lang = check_lang("en" if lang is None else lang)
    levels = _contract.options(
        assign=assign, overlap=overlap, levels=levels, district_types=district_types,
        numbers={"population": population, "care_land_m2": care_land_m2,
                 "social_workers": social_workers})
    _contract.areas(areas)
    _contract.facilities(facilities, areas.crs)

    ar = areas.copy()
    ar.index = pd.Index(ar["area_id"].to_numpy(), name=None)
    fac = facilities.copy()
    fac.index = pd.Index(fac["facility_id"].to_numpy(), name=None)
    for col in ("floor_area_m2", "beds", "nursing_beds"):
        fac[col] = pd.to_numeric(fac[col]).astype(float)
    alloc = None if allocation is None else _contract.allocation(allocation, fac, ar.index)
    if alloc is not None and reach is not None:
        raise InputError("give either allocation= (shares you decided) or reach= (walking "
                         "distances: careplan allocates), not both")

    assignment, overlaps = _assign.assign(ar, fac, alloc, assign, overlap)
    levels_used = _levels_used(std, levels)
    located = assignment
    lp_table = None
    if reach is not None:
        assignment, lp_table = _assign.by_circle(ar, fac, assignment, reach, std, levels_used)
    out = _per_area(ar, assignment, std, levels_used)

    nearest = _assign.nearest_area(ar, fac)
    fac = pd.DataFrame(fac.drop(columns=fac.geometry.name))  # attributes only from here on
    ar = pd.DataFrame(ar.drop(columns=ar.geometry.name))
    fac_zone = {col: _assign.facility_zone(fac, pd.concat([located, assignment]), ar, col,
                                           nearest=nearest)
                for col in ("street", "district")}
    ftab = _facility_table(fac, assignment, overlaps, levels_used, fac_zone)

    land_source = "care_land_m2 argument"
    if care_land_m2 is None and "land_area_m2" in fac.columns:
        care_land_m2 = float(pd.to_numeric(fac["land_area_m2"], errors="coerce").fillna(0).sum())
        land_source = "sum of facilities' land_area_m2"

    ctx = RuleContext(standard=std, areas=pd.DataFrame(out.drop(columns="geometry")),
                      facilities=fac, assignment=assignment, facility_zone=fac_zone,
                      levels_used=levels_used, coverage=coverage, population=population,
                      care_land_m2=care_land_m2, land_source=land_source,
                      social_workers=social_workers, district_types=district_types,
                      reach=reach)
    rules = _tables.rule_table(ctx)
    params = {"standard": std.name, "assign": assign, "overlap": overlap,
              "levels_new": list(levels_used["new"]),
              "levels_existing": list(levels_used["existing"]),
              "allocation_rows": 0 if alloc is None else len(alloc),
              "allocation": ("walking circle (transportation LP)" if reach is not None else
                             "given" if alloc is not None else "location / area_id"),
              "population": population, "care_land_m2": care_land_m2,
              "social_workers": social_workers,
              "walk_speed_m_per_min": std.walk_speed_m_per_min,
              "service_circle_minutes": std.service_circle_minutes}
    return ComplianceResult(
        areas=out, streets=_tables.rollup(ctx.areas, fac, fac_zone, "street"),
        districts=_tables.rollup(ctx.areas, fac, fac_zone, "district"), rules=rules,
        facilities=ftab.reset_index(drop=True), assignment=assignment, overlaps=overlaps,
        allocation=_allocation_table(assignment, lp_table, levels_used),
        summary=_tables.summary(out, ftab, overlaps, rules), standard=std,
        parameters=params, lang=lang)


def _allocation_table(assignment: pd.DataFrame, lp_table: pd.DataFrame | None,
                      levels_used: Mapping[str, tuple[str, ...]]) -> pd.DataFrame:
    """Facility x area floor-area shares of the counted levels (the allocation output)."""
    if lp_table is not None:
        return lp_table
    counted = set(levels_used["new"]) | set(levels_used["existing"])
    t = assignment[assignment["level"].isin(counted)]
    return t[["facility_id", "area_id", "floor_area_m2", "on_site"]].reset_index(drop=True)


def _levels_used(std: Standard, levels: tuple[str, ...] | None) -> dict[str, tuple[str, ...]]:
    """Facility levels counted toward floor area, per built class."""
    used: dict[str, tuple[str, ...]] = {}
    for b in BUILT_CLASSES:
        r = std.floor_area_rule(b)
        used[b] = levels if levels is not None else (
            r.levels if r is not None else DEFAULT_FLOOR_AREA_LEVELS)
    return used


def _per_area(ar: gpd.GeoDataFrame, assignment: pd.DataFrame, std: Standard,
              levels_used: Mapping[str, tuple[str, ...]]) -> gpd.GeoDataFrame:
    """Required, provided and deficit floor area per area (the result's ``areas``)."""
    grp = assignment.groupby(["area_id", "level"])["floor_area_m2"]
    by_level = (grp.sum().unstack() if len(assignment) else pd.DataFrame())
    by_level = by_level.reindex(index=ar.index, columns=list(FACILITY_LEVELS)).fillna(0.0)
    cnt_level = (grp.size().unstack() if len(assignment) else pd.DataFrame())
    cnt_level = cnt_level.reindex(index=ar.index, columns=list(FACILITY_LEVELS)).fillna(0)
    built = ar["built"]
    hh = pd.to_numeric(ar["households"]).astype("int64")
    rate = pd.Series(np.nan, index=ar.index)
    provided = pd.Series(0.0, index=ar.index)
    n_counted = pd.Series(0, index=ar.index, dtype="int64")
    for b in BUILT_CLASSES:
        m = built == b
        r = std.floor_area_rule(b)
        if r is not None:
            rate[m] = float(r.value)
        provided[m] = by_level.loc[m, list(levels_used[b])].sum(axis=1)
        n_counted[m] = cnt_level.loc[m, list(levels_used[b])].sum(axis=1).astype("int64")
    required = hh / 100.0 * rate
    deficit = (required - provided).clip(lower=0.0)
    deficit[(deficit < TOL_M2)] = 0.0
    compliant = pd.Series(provided.to_numpy() >= required.to_numpy() - TOL_M2,
                          index=ar.index).astype("boolean")
    compliant[rate.isna()] = pd.NA
    cols: dict[str, Any] = {"area_id": ar["area_id"], "households": hh}
    if "elderly" in ar.columns:
        cols["elderly"] = ar["elderly"]
    cols["built"] = built
    for opt in ("name", "street", "district"):
        if opt in ar.columns:
            cols[opt] = ar[opt]
    cols.update({"rate_m2_per_100hh": rate, "required_m2": required, "provided_m2": provided,
                 "deficit_m2": deficit, "compliant": compliant, "n_facilities": n_counted})
    return gpd.GeoDataFrame(cols, geometry=ar.geometry.values, index=ar.index, crs=ar.crs)


def _facility_table(fac: pd.DataFrame, assignment: pd.DataFrame, overlaps: pd.DataFrame,
                    levels_used: Mapping[str, tuple[str, ...]],
                    fac_zone: Mapping[str, pd.Series]) -> pd.DataFrame:
    """One row per facility: counted, method, areas served, assigned m2, zones."""
    agg = assignment.groupby("facility_id", sort=False).agg(
        area_ids=("area_id", lambda s: ",".join(map(str, s))),
        assigned_m2=("floor_area_m2", "sum"), method=("method", "first"))
    ftab = pd.DataFrame({"facility_id": fac["facility_id"], "level": fac["level"],
                         "floor_area_m2": fac["floor_area_m2"]}, index=fac.index)
    counted_levels = set(levels_used["new"]) | set(levels_used["existing"])
    ftab["counted"] = fac["level"].isin(counted_levels)
    ftab["method"] = agg["method"].reindex(fac.index).fillna("none")
    ftab["area_ids"] = agg["area_ids"].reindex(fac.index).fillna("")
    ftab["assigned_m2"] = agg["assigned_m2"].reindex(fac.index).fillna(0.0)
    ftab["unassigned_m2"] = (ftab["floor_area_m2"] - ftab["assigned_m2"]).clip(lower=0.0)
    ftab["street"] = fac_zone["street"]
    ftab["district"] = fac_zone["district"]
    if len(overlaps):
        ftab.loc[overlaps["facility_id"].to_numpy(), "method"] = "overlap"
    return ftab
