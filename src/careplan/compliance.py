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
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd

from careplan._errors import CareplanWarning, CRSError, InputError
from careplan._schema import DEFAULT_FLOOR_AREA_LEVELS
from careplan.standards import FACILITY_LEVELS, Rule, Standard
from careplan.standards import load as load_standard

__all__ = ["ComplianceResult", "check", "DEFAULT_FLOOR_AREA_LEVELS"]

# DEFAULT_FLOOR_AREA_LEVELS (levels counted toward the floor-area rule when neither the
# profile rule nor ``check(levels=...)`` says otherwise) is defined once in careplan._schema.

_AREA_COLS = ("area_id", "households", "built")
_FAC_COLS = ("facility_id", "level", "floor_area_m2", "beds", "nursing_beds")
_TOL = 1e-9


# --------------------------------------------------------------------------- result


@dataclass(frozen=True)
class ComplianceResult:
    """Result of :func:`check`.

    Attributes
    ----------
    areas : GeoDataFrame
        Index = area_id. Columns ``area_id, households, [elderly], built, [street],
        [district], rate_m2_per_100hh, required_m2, provided_m2, deficit_m2,
        compliant`` (nullable boolean: NA when the standard sets no rate for the
        area's class), ``n_facilities`` (counted facilities assigned), geometry.
    streets, districts : DataFrame or None
        Roll-ups (None when ``areas`` has no ``street`` / ``district`` column):
        ``households, required_m2, provided_m2, deficit_m2`` (sum of area deficits),
        ``n_areas, n_compliant, n_centres, has_centre`` (street-level centres) and for
        districts also ``n_streets, n_streets_with_centre, n_district_centres,
        has_district_centre``.
    rules : DataFrame
        One row per rule of the standard: ``rule_id, kind, label_en, label_zh,
        required, required_max, found, found_max, unit, passed`` (True/False/None =
        not evaluated), ``note, citation``.
    facilities : DataFrame
        One row per facility: ``facility_id, level, floor_area_m2, counted`` (toward
        floor area), ``method`` ('allocation'|'area_id'|'within'|'overlap'|'none'),
        ``area_ids`` (comma-separated), ``assigned_m2``, ``unassigned_m2``, ``street``,
        ``district``.
    assignment : DataFrame
        Long table ``facility_id, area_id, level, floor_area_m2, method``.
    overlaps : DataFrame
        Facilities inside several polygons: ``facility_id, area_ids, assigned_to, rule``.
    summary : DataFrame
        ``metric, label_en, label_zh, value``.
    standard : Standard
    parameters : dict
        Options used (levels, assign, overlap, ...).
    lang : str
        Preferred label language ('en' or 'zh') for :meth:`rule_table` / exports.
    """

    areas: gpd.GeoDataFrame
    streets: pd.DataFrame | None
    districts: pd.DataFrame | None
    rules: pd.DataFrame
    facilities: pd.DataFrame
    assignment: pd.DataFrame
    overlaps: pd.DataFrame
    summary: pd.DataFrame
    standard: Standard
    parameters: dict[str, Any] = field(default_factory=dict)
    lang: str = "en"

    @property
    def passed(self) -> bool | None:
        """True if every evaluated rule passed, False if any failed, None if none evaluated."""
        vals = [p for p in self.rules["passed"] if p is not None]
        if not vals:
            return None
        return bool(all(vals))

    def rule_table(self, lang: str | None = None) -> pd.DataFrame:
        """Rule table with one ``label`` column in ``lang`` ('en' or 'zh')."""
        lang = _check_lang(lang or self.lang)
        t = self.rules.copy()
        t.insert(1, "label", t[f"label_{lang}"])
        return t.drop(columns=["label_en", "label_zh"])

    def to_excel_frames(self, lang: str | None = None) -> dict[str, pd.DataFrame]:
        """Tables for an Excel workbook, keyed by sheet name (<= 31 characters)."""
        lang = _check_lang(lang or self.lang)
        out = {
            "summary": self.summary.assign(label=self.summary[f"label_{lang}"])[
                ["metric", "label", "value"]],
            "rules": self.rule_table(lang),
            "areas": pd.DataFrame(self.areas.drop(columns="geometry")).reset_index(drop=True),
        }
        if self.streets is not None:
            out["streets"] = self.streets.reset_index(drop=True)
        if self.districts is not None:
            out["districts"] = self.districts.reset_index(drop=True)
        out["facilities"] = self.facilities.reset_index(drop=True)
        if len(self.overlaps):
            out["overlaps"] = self.overlaps.reset_index(drop=True)
        out["standard"] = self.standard.to_frame()
        return out

    def __repr__(self) -> str:
        n = len(self.areas)
        ok = int((self.areas["compliant"] == True).sum())  # noqa: E712
        return (f"ComplianceResult(standard={self.standard.name!r}, areas={n}, "
                f"compliant={ok}, passed={self.passed})")


def _check_lang(lang: str) -> str:
    if lang not in ("en", "zh"):
        raise InputError(f"lang must be 'en' or 'zh', got {lang!r}")
    return lang


# --------------------------------------------------------------------------- validation


def _validate_areas(areas: Any) -> None:
    if not isinstance(areas, gpd.GeoDataFrame):
        raise InputError(f"areas must be a GeoDataFrame, got {type(areas).__name__}; "
                         "read them with careplan.read_areas(...)")
    missing = [c for c in _AREA_COLS if c not in areas.columns]
    if missing:
        raise InputError(f"areas lack column(s) {missing}; required: {list(_AREA_COLS)} "
                         "(use careplan.read_areas to normalise them)")
    if areas.crs is None:
        raise CRSError("areas have no CRS; set it (areas.set_crs(...)) and use a projected, "
                       "metric CRS (areas.to_crs(areas.estimate_utm_crs()))")
    if not areas.crs.is_projected:
        raise CRSError(f"areas are in a geographic CRS ({areas.crs.to_string()}), not metres; "
                       "reproject with areas.to_crs(areas.estimate_utm_crs()) or read them "
                       "with careplan.read_areas")
    ids = areas["area_id"]
    if ids.isna().any():
        raise InputError(f"areas rows {list(areas.index[ids.isna()][:10])} have no area_id; "
                         "give every area an id")
    dup = ids[ids.duplicated()].unique()
    if len(dup):
        raise InputError(f"areas have duplicate area_id {list(dup[:10])}; ids must be unique")
    hh = pd.to_numeric(areas["households"], errors="coerce")
    bad = areas["area_id"][hh.isna() | (hh < 0) | (hh != np.floor(hh))]
    if len(bad):
        raise InputError(f"areas {list(bad[:10])}: 'households' must be a whole number >= 0; "
                         "fix or estimate them (careplan.estimate_households)")
    built = areas["built"]
    bad = areas["area_id"][~built.isin(("new", "existing"))]
    if len(bad):
        raise InputError(f"areas {list(bad[:10])}: 'built' must be 'new' or 'existing', got "
                         f"{sorted(set(map(str, built[~built.isin(('new', 'existing'))])))}")
    geom = areas.geometry
    bad = areas["area_id"][geom.isna() | geom.is_empty]
    if len(bad):
        raise InputError(f"areas {list(bad[:10])} have no geometry; give each a polygon or point")
    ok_types = geom.geom_type.isin(("Polygon", "MultiPolygon", "Point"))
    if not ok_types.all():
        raise InputError(f"areas {list(areas['area_id'][~ok_types][:10])} have geometry types "
                         f"{sorted(set(geom.geom_type[~ok_types]))}; use Polygon, MultiPolygon "
                         "or Point")


def _validate_facilities(facilities: Any, crs: Any) -> None:
    if not isinstance(facilities, gpd.GeoDataFrame):
        raise InputError(f"facilities must be a GeoDataFrame, got {type(facilities).__name__}; "
                         "read them with careplan.read_facilities(...)")
    missing = [c for c in _FAC_COLS if c not in facilities.columns]
    if missing:
        raise InputError(f"facilities lack column(s) {missing}; required: {list(_FAC_COLS)} "
                         "(use careplan.read_facilities to normalise them)")
    if len(facilities) == 0:
        return
    if facilities.crs is None:
        raise CRSError("facilities have no CRS; set it and reproject to the areas' CRS: "
                       "facilities.set_crs(...).to_crs(areas.crs)")
    if facilities.crs != crs:
        raise CRSError(f"facilities CRS ({facilities.crs.to_string()}) differs from the areas' "
                       f"({crs.to_string()}); reproject with facilities.to_crs(areas.crs)")
    ids = facilities["facility_id"]
    if ids.isna().any():
        raise InputError(f"facilities rows {list(facilities.index[ids.isna()][:10])} have no "
                         "facility_id; give every facility an id")
    dup = ids[ids.duplicated()].unique()
    if len(dup):
        raise InputError(f"facilities have duplicate facility_id {list(dup[:10])}; ids must "
                         "be unique")
    lv = facilities["level"]
    bad = ids[~lv.isin(FACILITY_LEVELS)]
    if len(bad):
        raise InputError(f"facilities {list(bad[:10])}: unknown level "
                         f"{sorted(set(map(str, lv[~lv.isin(FACILITY_LEVELS)])))}; use one of "
                         f"{list(FACILITY_LEVELS)}")
    for col in ("floor_area_m2", "beds", "nursing_beds"):
        v = pd.to_numeric(facilities[col], errors="coerce")
        bad = ids[v.isna() | (v < 0)]
        if len(bad):
            raise InputError(f"facilities {list(bad[:10])}: {col!r} must be a number >= 0 "
                             "(use 0 when there is none)")
    over = ids[pd.to_numeric(facilities["nursing_beds"]) > pd.to_numeric(facilities["beds"])]
    if len(over):
        raise InputError(f"facilities {list(over[:10])}: nursing_beds exceed beds; fix the counts")


def _validate_allocation(allocation: Any, fac: pd.DataFrame, area_ids: pd.Index) -> pd.DataFrame:
    if not isinstance(allocation, pd.DataFrame):
        raise InputError(f"allocation must be a DataFrame (facility_id, area_id, floor_area_m2), "
                         f"got {type(allocation).__name__}")
    missing = [c for c in ("facility_id", "area_id", "floor_area_m2") if c not in allocation]
    if missing:
        raise InputError(f"allocation lacks column(s) {missing}; it needs facility_id, area_id, "
                         "floor_area_m2")
    alloc = pd.DataFrame(allocation[["facility_id", "area_id", "floor_area_m2"]]).copy()
    unknown = sorted(set(alloc["facility_id"]) - set(fac.index), key=str)
    if unknown:
        raise InputError(f"allocation names facilities not in facilities: {unknown[:10]}; "
                         "add them to facilities or remove the rows")
    unknown = sorted(set(alloc["area_id"]) - set(area_ids), key=str)
    if unknown:
        raise InputError(f"allocation names areas not in areas: {unknown[:10]}; fix the area_id")
    m2 = pd.to_numeric(alloc["floor_area_m2"], errors="coerce")
    bad = alloc.loc[m2.isna() | (m2 < 0), ["facility_id", "area_id"]]
    if len(bad):
        raise InputError(f"allocation rows {bad.values.tolist()[:10]}: floor_area_m2 must be a "
                         "number >= 0")
    alloc["floor_area_m2"] = m2.astype(float)
    dup = alloc[alloc.duplicated(["facility_id", "area_id"])]
    if len(dup):
        raise InputError(f"allocation repeats (facility_id, area_id) pairs "
                         f"{dup[['facility_id', 'area_id']].values.tolist()[:10]}; give one "
                         "row per pair")
    tot = alloc.groupby("facility_id", sort=False)["floor_area_m2"].sum()
    cap = fac.loc[tot.index, "floor_area_m2"].astype(float)
    over = tot[tot > cap + 1e-6 + 1e-9 * cap]
    if len(over):
        det = [f"{k}: {over[k]:g} > {cap[k]:g}" for k in over.index[:10]]
        raise InputError(f"allocation shares exceed the facility floor area ({'; '.join(det)}); "
                         "shares of a facility must sum to at most its floor_area_m2")
    return alloc


# --------------------------------------------------------------------------- assignment


def _assign(areas: gpd.GeoDataFrame, fac: gpd.GeoDataFrame, alloc: pd.DataFrame | None,
            assign: str, overlap: str) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Return (long assignment table, overlaps table)."""
    rows: list[tuple[Any, Any, float, str]] = []
    done: set[Any] = set()
    if alloc is not None:
        for fid, aid, m2 in alloc[["facility_id", "area_id", "floor_area_m2"]].itertuples(
                index=False):
            rows.append((fid, aid, float(m2), "allocation"))
        done = set(alloc["facility_id"])
    area_ids = set(areas.index)
    rest = fac[~fac.index.isin(done)]
    if assign in ("auto", "area_id") and "area_id" in rest.columns:
        explicit = rest[rest["area_id"].notna()]
        unknown = explicit[~explicit["area_id"].isin(area_ids)]
        if len(unknown):
            pairs = list(zip(unknown.index[:10], unknown["area_id"][:10], strict=False))
            raise InputError(f"facilities (facility_id, area_id) {pairs} refer to areas that "
                             "are not in areas; fix area_id or leave it empty to assign by "
                             "location")
        for fid, aid, m2 in zip(explicit.index, explicit["area_id"],
                                explicit["floor_area_m2"], strict=True):
            rows.append((fid, aid, float(m2), "area_id"))
        rest = rest[rest["area_id"].isna()]
    overlaps: list[dict[str, Any]] = []
    if assign in ("auto", "within") and len(rest):
        polys = areas[areas.geometry.geom_type.isin(("Polygon", "MultiPolygon"))]
        pts = rest[rest.geometry.notna() & ~rest.geometry.is_empty]
        if len(polys) and len(pts):
            geom = pts.geometry
            nonpt = geom.geom_type != "Point"
            if nonpt.any():
                geom = geom.where(~nonpt, geom.representative_point())
            left = gpd.GeoDataFrame({"_fid": pts.index}, geometry=geom.values, crs=fac.crs)
            right = gpd.GeoDataFrame({"_aid": polys.index, "_order": np.arange(len(polys)),
                                      "_size": polys.geometry.area.values},
                                     geometry=polys.geometry.values, crs=areas.crs)
            hits = pd.DataFrame(gpd.sjoin(left, right, how="inner", predicate="intersects")
                                .drop(columns="geometry"))
            n_hits = hits["_fid"].map(hits["_fid"].value_counts())
            single = hits[n_hits == 1]
            m2s = fac["floor_area_m2"].reindex(single["_fid"]).astype(float)
            rows.extend(zip(single["_fid"], single["_aid"], m2s, ["within"] * len(single),
                            strict=True))
            for fid, grp in hits[n_hits > 1].groupby("_fid", sort=False):
                m2 = float(fac.at[fid, "floor_area_m2"])
                grp = grp.sort_values("_order")
                cand = list(grp["_aid"])
                if overlap == "split":
                    for aid in cand:
                        rows.append((fid, aid, m2 / len(cand), "overlap"))
                    chosen = cand
                else:
                    if overlap == "smallest":
                        best = grp.sort_values(["_size", "_order"], kind="stable")["_aid"].iloc[0]
                    else:
                        best = cand[0]
                    rows.append((fid, best, m2, "overlap"))
                    chosen = [best]
                overlaps.append({"facility_id": fid, "area_ids": ",".join(map(str, cand)),
                                 "assigned_to": ",".join(map(str, chosen)), "rule": overlap})
    assignment = pd.DataFrame(rows, columns=["facility_id", "area_id", "floor_area_m2", "method"])
    assignment.insert(2, "level", fac.loc[assignment["facility_id"], "level"].to_numpy()
                      if len(assignment) else pd.Series(dtype=object))
    ov = pd.DataFrame(overlaps, columns=["facility_id", "area_ids", "assigned_to", "rule"])
    if len(ov):
        warnings.warn(
            f"{len(ov)} facilit{'y lies' if len(ov) == 1 else 'ies lie'} inside several "
            f"overlapping areas ({', '.join(map(str, ov['facility_id'][:5]))}); "
            f"assigned by overlap={overlap!r} (see result.overlaps); give them an explicit "
            "area_id to decide yourself", CareplanWarning, stacklevel=3)
    return assignment, ov


def _facility_zone(fac: pd.DataFrame, assignment: pd.DataFrame, areas: pd.DataFrame,
                   col: str) -> pd.Series:
    """Zone (street or district) of each facility: its own column, else its main area's."""
    zone = pd.Series(pd.NA, index=fac.index, dtype=object)
    if col in areas.columns and len(assignment):
        main = (assignment.sort_values("floor_area_m2", ascending=False, kind="stable")
                .drop_duplicates("facility_id"))
        z = areas[col].reindex(main["area_id"]).to_numpy()
        zone.loc[main["facility_id"].to_numpy()] = z
    if col in fac.columns:
        own = fac[col]
        zone = zone.where(own.isna(), own)
    return zone.where(zone.notna(), None)


# --------------------------------------------------------------------------- rules


def _row(rule: Rule, *, found: float | None = None, found_max: float | None = None,
         passed: bool | None, note: str) -> dict[str, Any]:
    return {
        "rule_id": rule.id, "kind": rule.kind, "label_en": rule.label_en,
        "label_zh": rule.label_zh, "required": float(rule.value),
        "required_max": np.nan if rule.max_value is None else float(rule.max_value),
        "found": np.nan if found is None else float(found),
        "found_max": np.nan if found_max is None else float(found_max),
        "unit": rule.unit, "passed": None if passed is None else bool(passed),
        "note": note, "citation": str(rule.citation),
    }


def _ids(values: Sequence[Any], n: int = 10) -> str:
    values = list(values)
    s = ", ".join(map(str, values[:n]))
    return s + (f" (+{len(values) - n} more)" if len(values) > n else "")


class _Ctx:
    """Everything a rule evaluator needs."""

    def __init__(self, **kw: Any):
        self.__dict__.update(kw)

    def present(self, levels: Sequence[str]) -> pd.Series:
        """Per area: does at least one facility of ``levels`` serve it?"""
        a = self.assignment
        hit = set(a.loc[a["level"].isin(levels), "area_id"])
        return pd.Series(self.areas.index.isin(list(hit)), index=self.areas.index)

    def zone_counts(self, col: str, levels: Sequence[str]) -> pd.Series | None:
        """Facilities of ``levels`` per zone of the areas' universe (None if no column)."""
        universe = self.universe(col)
        if universe is None:
            return None
        zone = self.fac_zone[col]
        sel = self.fac["level"].isin(levels) & zone.notna()
        counts = zone[sel].value_counts()
        return counts.reindex(universe, fill_value=0).astype(int)

    def universe(self, col: str) -> list[Any] | None:
        if col not in self.areas.columns:
            return None
        return list(pd.unique(self.areas[col].dropna()))


def _no_col(col: str) -> str:
    return (f"not evaluated: areas have no {col!r} column; add it to roll areas up by "
            f"{col}")


def _eval_rule(rule: Rule, c: _Ctx) -> dict[str, Any]:  # noqa: C901 - one branch per kind
    k = rule.kind
    lv = rule.levels
    fac = c.fac
    lvtxt = "/".join(lv)
    if k == "floor_area_per_100hh":
        a = c.out[c.out["built"] == rule.applies_to]
        if not len(a):
            return _row(rule, passed=None, note=f"not evaluated: no {rule.applies_to!r} areas")
        hh = a["households"].astype(float)
        pos = hh > 0
        rate = (a["provided_m2"][pos] / hh[pos] * 100.0)
        found = float(rate.min()) if len(rate) else None
        bad = a.index[a["compliant"] == False]  # noqa: E712
        note = (f"{len(a) - len(bad)} of {len(a)} {rule.applies_to} areas compliant; deficit "
                f"{a['deficit_m2'].sum():.1f} m2; found = lowest provided m2 per 100 households "
                f"(counting levels {'/'.join(c.levels_used[rule.applies_to])})")
        if len(bad):
            note += f"; failing: {_ids(bad)}"
        return _row(rule, found=found, passed=len(bad) == 0, note=note)
    if k == "town_centre_min_floor_area_m2":
        cen = fac[fac["level"].isin(lv)]
        if not len(cen):
            return _row(rule, passed=None, note=f"not evaluated: no facility of level {lvtxt}")
        fa = cen["floor_area_m2"].astype(float)
        bad = cen.index[fa < rule.value - _TOL]
        note = f"{len(cen)} {lvtxt} centre(s); found = smallest floor area"
        if len(bad):
            note += f"; below {rule.value:g} m2: {_ids(bad)}"
        return _row(rule, found=fa.min(), passed=len(bad) == 0, note=note)
    if k in ("centre_per_town", "district_centre_count", "centres_per_street"):
        col = "district" if k == "district_centre_count" else "street"
        counts = c.zone_counts(col, lv)
        if counts is None:
            return _row(rule, passed=None, note=_no_col(col))
        if not len(counts):
            return _row(rule, passed=None, note=f"not evaluated: no area has a {col}")
        low = counts.index[counts < rule.value]
        high = (counts.index[counts > rule.max_value] if rule.max_value is not None
                else pd.Index([]))
        note = (f"{len(counts) - len(low) - len(high)} of {len(counts)} {col}s within the rule; "
                f"found = fewest {lvtxt} facilities in a {col}")
        if len(low):
            note += f"; too few in: {_ids(low)}"
        if len(high):
            note += f"; more than {rule.max_value:g} in: {_ids(high)}"
        note += c.zone_note(col, lv)
        return _row(rule, found=counts.min(),
                    found_max=counts.max() if k == "centres_per_street" else None,
                    passed=len(low) == 0 and len(high) == 0, note=note)
    if k in ("station_coverage_share", "canteen_coverage_share"):
        if not len(c.out):
            return _row(rule, passed=None, note="not evaluated: no areas")
        has = c.present(lv)
        share = float(has.mean())
        note = (f"{int(has.sum())} of {len(has)} areas served by a {lvtxt} facility "
                "(assigned by allocation, area_id or location)")
        if (~has).any():
            note += f"; without: {_ids(has.index[~has])}"
        return _row(rule, found=share, passed=share >= rule.value - _TOL, note=note)
    if k in ("street_coverage_share", "street_centre_share"):
        counts = c.zone_counts("street", lv)
        if counts is None:
            return _row(rule, passed=None, note=_no_col("street"))
        if not len(counts):
            return _row(rule, passed=None, note="not evaluated: no area has a street")
        has = counts > 0
        share = float(has.mean())
        note = f"{int(has.sum())} of {len(has)} streets have a {lvtxt} facility"
        if (~has).any():
            note += f"; without: {_ids(has.index[~has])}"
        return _row(rule, found=share, passed=share >= rule.value - _TOL,
                    note=note + c.zone_note("street", lv))
    if k == "service_circle":
        return _eval_service_circle(rule, c)
    if k == "nursing_bed_share_min":
        inst = fac[fac["level"].isin(lv)]
        beds = float(inst["beds"].sum())
        if beds <= 0:
            return _row(rule, passed=None, note=f"not evaluated: no beds in {lvtxt} facilities")
        share = float(inst["nursing_beds"].sum()) / beds
        return _row(rule, found=share, passed=share >= rule.value - _TOL,
                    note=f"{int(inst['nursing_beds'].sum())} nursing beds of {int(beds)} beds in "
                         f"{len(inst)} {lvtxt} facilities")
    if k == "care_land_m2_per_resident":
        if c.population is None:
            return _row(rule, passed=None, note="not evaluated: pass population= (residents) "
                                               "and care_land_m2= (or a facility column "
                                               "land_area_m2)")
        if c.care_land_m2 is None:
            return _row(rule, passed=None, note="not evaluated: pass care_land_m2= or give "
                                               "facilities a land_area_m2 column")
        if c.population <= 0:
            return _row(rule, passed=None, note="not evaluated: population is 0")
        v = c.care_land_m2 / c.population
        return _row(rule, found=v, passed=v >= rule.value - _TOL,
                    note=f"{c.care_land_m2:g} m2 of care land for {c.population:g} residents "
                         f"({c.land_source})")
    if k == "community_centre_floor_area_range_m2":
        cen = fac[fac["level"].isin(lv)]
        if not len(cen):
            return _row(rule, passed=None, note=f"not evaluated: no facility of level {lvtxt}")
        fa = cen["floor_area_m2"].astype(float)
        bad = fa < rule.value - _TOL
        if rule.max_value is not None:
            bad |= fa > rule.max_value + _TOL
        note = f"{int((~bad).sum())} of {len(cen)} {lvtxt} centres within range"
        if bad.any():
            note += f"; outside: {_ids(cen.index[bad])}"
        return _row(rule, found=fa.min(), found_max=fa.max(), passed=not bad.any(), note=note)
    if k == "welfare_home_beds":
        return _eval_welfare(rule, c)
    if k == "social_workers_per_1000_elderly":
        if c.social_workers is None:
            return _row(rule, passed=None, note="not evaluated: pass social_workers= (count)")
        if "elderly" not in c.out.columns:
            return _row(rule, passed=None, note="not evaluated: areas have no 'elderly' column")
        eld = float(c.out["elderly"].sum())
        if eld <= 0:
            return _row(rule, passed=None, note="not evaluated: no older people in areas")
        v = c.social_workers / eld * 1000.0
        return _row(rule, found=v, passed=v >= rule.value - _TOL,
                    note=f"{c.social_workers:g} social workers for {int(eld)} older people")
    if k == "social_workers_per_100_beds":
        if c.social_workers is None:
            return _row(rule, passed=None, note="not evaluated: pass social_workers= (count)")
        beds = float(fac.loc[fac["level"].isin(lv), "beds"].sum())
        if beds <= 0:
            return _row(rule, passed=None, note=f"not evaluated: no beds in {lvtxt} facilities")
        v = c.social_workers / beds * 100.0
        return _row(rule, found=v, passed=v >= rule.value - _TOL,
                    note=f"{c.social_workers:g} social workers for {int(beds)} beds")
    raise InputError(f"rule {rule.id!r}: kind {k!r} has no evaluator")  # pragma: no cover


def _eval_service_circle(rule: Rule, c: _Ctx) -> dict[str, Any]:
    cov = c.coverage
    dist_m = c.standard.service_circle_m
    if cov is None:
        return _row(rule, passed=None,
                    note=f"not evaluated: needs walking distances; pass coverage="
                         f"careplan.coverage.walk_coverage(net, areas, facilities, "
                         f"minutes={rule.value:g}) ({dist_m:g} m at "
                         f"{c.standard.walk_speed_m_per_min:g} m/min)")
    tab = cov.areas if hasattr(cov, "areas") and not isinstance(cov, pd.DataFrame) else cov
    if not isinstance(tab, pd.DataFrame) or "covered" not in tab.columns:
        raise InputError("coverage must be a CoverageResult or a DataFrame with a boolean "
                         "'covered' column indexed by area_id (or with an area_id column)")
    if "area_id" in tab.columns:
        tab = tab.set_index("area_id")
    missing = [a for a in c.out.index if a not in tab.index]
    if missing:
        raise InputError(f"coverage has no row for areas {missing[:10]}; compute coverage for "
                         "the same areas")
    covered = tab["covered"].reindex(c.out.index)
    if covered.isna().any():
        raise InputError(f"coverage 'covered' is missing for areas "
                         f"{list(covered.index[covered.isna()][:10])}; give True/False")
    covered = covered.astype(bool)
    hh = c.out["households"].astype(float)
    share = float(hh[covered].sum() / hh.sum()) if hh.sum() > 0 else float(covered.mean())
    note = (f"share of households within the {rule.value:g}-minute walk: {int(covered.sum())} of "
            f"{len(covered)} areas covered")
    cut = getattr(cov, "cutoff_m", None)
    if cut is not None:
        note += f"; coverage cutoff {float(cut):g} m (standard: {dist_m:g} m)"
    if (~covered).any():
        note += f"; uncovered: {_ids(covered.index[~covered])}"
    return _row(rule, found=share, passed=share >= 1 - _TOL, note=note)


def _eval_welfare(rule: Rule, c: _Ctx) -> dict[str, Any]:
    fac = c.fac
    inst = fac[fac["level"].isin(rule.levels)]
    lvtxt = "/".join(rule.levels)
    if rule.applies_to == "city":
        if not len(inst):
            return _row(rule, found=0, passed=False,
                        note=f"no facility of level {lvtxt} in the input")
        b = inst["beds"].astype(float)
        return _row(rule, found=b.max(), passed=b.max() >= rule.value,
                    note=f"largest {lvtxt}: {b.idxmax()} with {int(b.max())} beds")
    if c.district_types is None:
        return _row(rule, passed=None,
                    note="not evaluated: pass district_types={district: 'urban_district' | "
                         "'county'} to say which districts are urban districts and counties")
    districts = [d for d, t in c.district_types.items() if t == rule.applies_to]
    if not districts:
        return _row(rule, passed=None, note=f"not evaluated: no district of type "
                                            f"{rule.applies_to!r} in district_types")
    zone = c.fac_zone["district"]
    best = {}
    for d in districts:
        b = inst.loc[zone.reindex(inst.index) == d, "beds"].astype(float)
        best[d] = float(b.max()) if len(b) else 0.0
    low = [d for d, v in best.items() if v < rule.value]
    note = f"largest {lvtxt} per {rule.applies_to}: " + ", ".join(
        f"{d}={int(v)}" for d, v in list(best.items())[:10])
    if low:
        note += f"; below {rule.value:g} beds: {_ids(low)}"
    return _row(rule, found=min(best.values()), passed=not low, note=note)


# --------------------------------------------------------------------------- roll-ups


def _rollup(out: pd.DataFrame, fac: pd.DataFrame, fac_zone: dict[str, pd.Series],
            col: str) -> pd.DataFrame | None:
    if col not in out.columns:
        return None
    g = out[out[col].notna()].groupby(col, sort=True)
    roll = pd.DataFrame({
        "households": g["households"].sum().astype("int64"),
    })
    if "elderly" in out.columns:
        roll["elderly"] = g["elderly"].sum()
    roll["required_m2"] = g["required_m2"].sum(min_count=1)
    roll.loc[g["required_m2"].apply(lambda s: s.isna().any()), "required_m2"] = np.nan
    roll["provided_m2"] = g["provided_m2"].sum()
    roll["deficit_m2"] = g["deficit_m2"].sum(min_count=1)
    roll.loc[g["deficit_m2"].apply(lambda s: s.isna().any()), "deficit_m2"] = np.nan
    roll["n_areas"] = g.size().astype(int)
    roll["n_compliant"] = g["compliant"].apply(lambda s: int((s == True).sum()))  # noqa: E712
    zone = fac_zone[col]
    centres = zone[fac["level"] == "street"].value_counts()
    roll["n_centres"] = centres.reindex(roll.index, fill_value=0).astype(int)
    roll["has_centre"] = roll["n_centres"] > 0
    if col == "district":
        if "street" in out.columns:
            streets = out[out["street"].notna()].groupby("street")["district"].first()
            s_cent = fac_zone["street"][fac["level"] == "street"].value_counts()
            with_c = streets[streets.index.isin(s_cent.index)]
            roll["n_streets"] = streets.value_counts().reindex(roll.index, fill_value=0)
            roll["n_streets_with_centre"] = with_c.value_counts().reindex(roll.index,
                                                                          fill_value=0)
        dc = zone[fac["level"] == "district"].value_counts()
        roll["n_district_centres"] = dc.reindex(roll.index, fill_value=0).astype(int)
        roll["has_district_centre"] = roll["n_district_centres"] > 0
    roll.index.name = None
    roll.insert(0, col, roll.index)
    return roll


# --------------------------------------------------------------------------- check


def check(
    areas: gpd.GeoDataFrame,
    facilities: gpd.GeoDataFrame,
    *,
    standard: Standard | str,
    allocation: pd.DataFrame | None = None,
    assign: str = "auto",
    levels: Sequence[str] | None = None,
    overlap: str = "smallest",
    coverage: Any = None,
    population: float | None = None,
    care_land_m2: float | None = None,
    social_workers: float | None = None,
    district_types: Mapping[Any, str] | None = None,
    lang: str = "en",
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
    lang : {'en', 'zh'}
        Preferred label language for :meth:`ComplianceResult.rule_table` and exports.

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
    lang = _check_lang(lang)
    if assign not in ("auto", "area_id", "within"):
        raise InputError(f"assign must be 'auto', 'area_id' or 'within', got {assign!r}")
    if overlap not in ("smallest", "split", "first"):
        raise InputError(f"overlap must be 'smallest', 'split' or 'first', got {overlap!r}")
    if levels is not None:
        if isinstance(levels, str):
            levels = (levels,)
        bad = [x for x in levels if x not in FACILITY_LEVELS]
        if bad:
            raise InputError(f"levels {bad} unknown; use some of {list(FACILITY_LEVELS)}")
        levels = tuple(levels)
    for name, v in (("population", population), ("care_land_m2", care_land_m2),
                    ("social_workers", social_workers)):
        if v is not None and (not isinstance(v, int | float | np.number) or isinstance(v, bool)
                              or not math.isfinite(v) or v < 0):
            raise InputError(f"{name} must be a number >= 0, got {v!r}")
    if district_types is not None:
        bad = {k: v for k, v in district_types.items() if v not in ("urban_district", "county")}
        if bad:
            raise InputError(f"district_types values must be 'urban_district' or 'county', "
                             f"got {bad}")

    _validate_areas(areas)
    _validate_facilities(facilities, areas.crs)

    ar = areas.copy()
    ar.index = pd.Index(ar["area_id"].to_numpy(), name=None)
    fac = facilities.copy()
    fac.index = pd.Index(fac["facility_id"].to_numpy(), name=None)
    for col in ("floor_area_m2", "beds", "nursing_beds"):
        fac[col] = pd.to_numeric(fac[col]).astype(float)
    alloc = None if allocation is None else _validate_allocation(allocation, fac, ar.index)

    assignment, overlaps = _assign(ar, fac, alloc, assign, overlap)

    # levels counted per built class
    levels_used: dict[str, tuple[str, ...]] = {}
    for b in ("new", "existing"):
        r = std.floor_area_rule(b)
        levels_used[b] = levels if levels is not None else (
            r.levels if r is not None else DEFAULT_FLOOR_AREA_LEVELS)

    # per-area provided floor area (and facility count) by level
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
    for b in ("new", "existing"):
        m = built == b
        r = std.floor_area_rule(b)
        if r is not None:
            rate[m] = float(r.value)
        provided[m] = by_level.loc[m, list(levels_used[b])].sum(axis=1)
        n_counted[m] = cnt_level.loc[m, list(levels_used[b])].sum(axis=1).astype("int64")
    required = hh / 100.0 * rate
    deficit = (required - provided).clip(lower=0.0)
    deficit[(deficit < 1e-9)] = 0.0
    compliant = pd.Series(provided.to_numpy() >= required.to_numpy() - 1e-9,
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
    out = gpd.GeoDataFrame(cols, geometry=ar.geometry.values, index=ar.index, crs=ar.crs)

    fac = pd.DataFrame(fac.drop(columns=fac.geometry.name))  # attributes only from here on
    ar = pd.DataFrame(ar.drop(columns=ar.geometry.name))
    fac_zone = {col: _facility_zone(fac, assignment, ar, col) for col in ("street", "district")}

    # facility table
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

    # care land
    land_source = "care_land_m2 argument"
    if care_land_m2 is None and "land_area_m2" in fac.columns:
        care_land_m2 = float(pd.to_numeric(fac["land_area_m2"], errors="coerce").fillna(0).sum())
        land_source = "sum of facilities' land_area_m2"

    ctx = _Ctx(out=pd.DataFrame(out.drop(columns="geometry")), areas=ar, fac=fac, assignment=assignment, fac_zone=fac_zone,
               standard=std, coverage=coverage, population=population,
               care_land_m2=care_land_m2, land_source=land_source,
               social_workers=social_workers, district_types=district_types,
               levels_used=levels_used)

    def zone_note(col: str, lv: Sequence[str]) -> str:
        sel = fac["level"].isin(lv)
        z = fac_zone[col][sel]
        unknown = z.index[z.isna()]
        universe = set(ctx.universe(col) or [])
        outside = z.index[z.notna() & ~z.isin(universe)]
        s = ""
        if len(unknown):
            s += f"; {col} unknown for (not counted): {_ids(unknown)}"
        if len(outside):
            s += f"; {col} not among the areas' (not counted): {_ids(outside)}"
        return s

    ctx.zone_note = zone_note
    rule_rows = [_eval_rule(r, ctx) for r in std.rules]
    rules = pd.DataFrame(rule_rows, columns=[
        "rule_id", "kind", "label_en", "label_zh", "required", "required_max", "found",
        "found_max", "unit", "passed", "note", "citation"])
    rules["passed"] = pd.Series([r["passed"] for r in rule_rows], index=rules.index,
                                dtype=object)

    streets = _rollup(ctx.out, fac, fac_zone, "street")
    districts = _rollup(ctx.out, fac, fac_zone, "district")

    summary = _summary(out, ftab, overlaps, rules)
    params = {"standard": std.name, "assign": assign, "overlap": overlap,
              "levels_new": list(levels_used["new"]),
              "levels_existing": list(levels_used["existing"]),
              "allocation_rows": 0 if alloc is None else len(alloc),
              "population": population, "care_land_m2": care_land_m2,
              "social_workers": social_workers,
              "walk_speed_m_per_min": std.walk_speed_m_per_min,
              "service_circle_minutes": std.service_circle_minutes}
    return ComplianceResult(areas=out, streets=streets, districts=districts, rules=rules,
                            facilities=ftab.reset_index(drop=True),
                            assignment=assignment, overlaps=overlaps, summary=summary,
                            standard=std, parameters=params, lang=lang)


def _summary(out: pd.DataFrame, ftab: pd.DataFrame, overlaps: pd.DataFrame,
             rules: pd.DataFrame) -> pd.DataFrame:
    ev = out["compliant"].notna()
    passed = list(rules["passed"])
    rows = [
        ("n_areas", "Residential areas", "居住区数量", len(out)),
        ("households", "Households", "户数", int(out["households"].sum())),
        ("required_m2", "Required community-care floor area (m2)", "应配建养老服务用房面积(平方米)",
         float(out["required_m2"].sum(min_count=1)) if ev.any() else np.nan),
        ("provided_m2", "Provided floor area counted (m2)", "已有养老服务用房面积(平方米)",
         float(out["provided_m2"].sum())),
        ("deficit_m2", "Floor-area deficit, sum over areas (m2)", "养老服务用房缺口(平方米)",
         float(out["deficit_m2"].sum(min_count=1)) if ev.any() else np.nan),
        ("n_compliant", "Areas meeting the floor-area rule", "达标居住区数量",
         int((out["compliant"] == True).sum())),  # noqa: E712
        ("n_not_evaluated", "Areas without a floor-area rate in the standard",
         "标准未规定面积指标的居住区数量", int((~ev).sum())),
    ]
    for col, en, zh in (("street", "Areas without a street (left out of the street roll-up)",
                         "未标注街道的居住区数量"),
                        ("district", "Areas without a district (left out of the district "
                         "roll-up)", "未标注区县的居住区数量")):
        if col in out.columns:
            rows.append((f"n_areas_without_{col}", en, zh, int(out[col].isna().sum())))
    rows += [
        ("n_facilities", "Facilities", "设施数量", len(ftab)),
        ("n_facilities_unassigned", "Facilities assigned to no area", "未归属任何居住区的设施数量",
         int((ftab["method"] == "none").sum())),
        ("n_overlaps", "Facilities inside overlapping areas", "位于重叠居住区内的设施数量",
         len(overlaps)),
        ("n_rules", "Rules", "规则数量", len(rules)),
        ("n_rules_passed", "Rules passed", "达标规则数量", sum(p is True for p in passed)),
        ("n_rules_failed", "Rules failed", "未达标规则数量", sum(p is False for p in passed)),
        ("n_rules_not_evaluated", "Rules not evaluated (inputs missing)", "未评估规则数量",
         sum(p is None for p in passed)),
    ]
    tab = pd.DataFrame(rows, columns=["metric", "label_en", "label_zh", "value"])
    tab["value"] = pd.Series([v for *_, v in rows], dtype=object)
    return tab
