"""Which facility's floor area counts for which area (allocation, area_id, location)."""

from __future__ import annotations

import warnings
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd

from careplan._errors import CareplanWarning, InputError
from careplan.allocation import allocate_floor_area, arcs_from_reach
from careplan.standards import BUILT_CLASSES, Standard

ASSIGNMENT_COLS = ["facility_id", "area_id", "level", "floor_area_m2", "method", "on_site"]


def _explicit(rest: gpd.GeoDataFrame, area_ids: set[Any]) -> list[tuple[Any, Any, float, str]]:
    explicit = rest[rest["area_id"].notna()]
    unknown = explicit[~explicit["area_id"].isin(area_ids)]
    if len(unknown):
        pairs = list(zip(unknown.index[:10], unknown["area_id"][:10], strict=False))
        raise InputError(f"facilities (facility_id, area_id) {pairs} refer to areas that "
                         "are not in areas; fix area_id or leave it empty to assign by "
                         "location")
    return [(fid, aid, float(m2), "area_id") for fid, aid, m2 in
            zip(explicit.index, explicit["area_id"], explicit["floor_area_m2"], strict=True)]


def _points(fac: gpd.GeoDataFrame) -> gpd.GeoSeries:
    geom = fac.geometry
    nonpt = geom.geom_type != "Point"
    return geom.where(~nonpt, geom.representative_point()) if nonpt.any() else geom


def _within(areas: gpd.GeoDataFrame, fac: gpd.GeoDataFrame, rest: gpd.GeoDataFrame,
            overlap: str) -> tuple[list[tuple[Any, Any, float, str]], list[dict[str, Any]]]:
    rows: list[tuple[Any, Any, float, str]] = []
    overlaps: list[dict[str, Any]] = []
    polys = areas[areas.geometry.geom_type.isin(("Polygon", "MultiPolygon"))]
    pts = rest[rest.geometry.notna() & ~rest.geometry.is_empty]
    if not len(polys) or not len(pts):
        return rows, overlaps
    left = gpd.GeoDataFrame({"_fid": pts.index}, geometry=_points(pts).values, crs=fac.crs)
    right = gpd.GeoDataFrame({"_aid": polys.index, "_order": np.arange(len(polys)),
                              "_size": polys.geometry.area.values},
                             geometry=polys.geometry.values, crs=areas.crs)
    hits = pd.DataFrame(gpd.sjoin(left, right, how="inner", predicate="intersects")
                        .drop(columns="geometry"))
    n_hits = hits["_fid"].map(hits["_fid"].value_counts())
    single = hits[n_hits == 1]
    m2s = fac["floor_area_m2"].reindex(single["_fid"]).astype(float)
    rows.extend(zip(single["_fid"], single["_aid"], m2s, ["within"] * len(single), strict=True))
    for fid, grp in hits[n_hits > 1].groupby("_fid", sort=False):
        m2 = float(fac.at[fid, "floor_area_m2"])
        grp = grp.sort_values("_order")
        cand = list(grp["_aid"])
        if overlap == "split":
            rows.extend((fid, aid, m2 / len(cand), "overlap") for aid in cand)
            chosen = cand
        else:
            best = (grp.sort_values(["_size", "_order"], kind="stable")["_aid"].iloc[0]
                    if overlap == "smallest" else cand[0])
            rows.append((fid, best, m2, "overlap"))
            chosen = [best]
        overlaps.append({"facility_id": fid, "area_ids": ",".join(map(str, cand)),
                         "assigned_to": ",".join(map(str, chosen)), "rule": overlap})
    return rows, overlaps


def on_site(assignment: pd.DataFrame, areas: gpd.GeoDataFrame,
            fac: gpd.GeoDataFrame) -> pd.Series:
    """Per assignment row: does the facility lie inside the area (or name it in area_id)?"""
    flag = assignment["method"].isin(("area_id", "within", "overlap")).to_numpy(copy=True)
    alloc = np.flatnonzero(assignment["method"].to_numpy() == "allocation")
    if len(alloc):
        sub = assignment.iloc[alloc]
        fids, aids = sub["facility_id"].to_numpy(), sub["area_id"].to_numpy()
        if "area_id" in fac.columns:
            named = fac["area_id"].reindex(fids).to_numpy() == aids
        else:
            named = np.zeros(len(sub), dtype=bool)
        pts = gpd.GeoSeries(_points(fac).reindex(fids).to_numpy(), crs=fac.crs)
        polys = gpd.GeoSeries(areas.geometry.reindex(aids).to_numpy(), crs=areas.crs)
        ispoly = polys.geom_type.isin(("Polygon", "MultiPolygon")).to_numpy()
        inside = np.zeros(len(sub), dtype=bool)
        if ispoly.any():
            inside[ispoly] = polys[ispoly].intersects(pts[ispoly], align=False).to_numpy()
        flag[alloc] = named | inside
    return pd.Series(flag, index=assignment.index, dtype=bool)


def assign(areas: gpd.GeoDataFrame, fac: gpd.GeoDataFrame, alloc: pd.DataFrame | None,
           how: str, overlap: str) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Assign facilities' floor area to areas; return (assignment table, overlaps table).

    ``areas`` and ``fac`` are indexed by their ids. Order of precedence: ``alloc`` rows,
    then an explicit facility ``area_id`` (``how`` in 'auto'/'area_id'), then the polygon
    containing the facility (``how`` in 'auto'/'within'), see :mod:`careplan.compliance`.
    """
    rows: list[tuple[Any, Any, float, str]] = []
    done: set[Any] = set()
    if alloc is not None:
        rows.extend((fid, aid, float(m2), "allocation") for fid, aid, m2 in
                    alloc[["facility_id", "area_id", "floor_area_m2"]].itertuples(index=False))
        done = set(alloc["facility_id"])
    rest = fac[~fac.index.isin(done)]
    if how in ("auto", "area_id") and "area_id" in rest.columns:
        rows.extend(_explicit(rest, set(areas.index)))
        rest = rest[rest["area_id"].isna()]
    overlaps: list[dict[str, Any]] = []
    if how in ("auto", "within") and len(rest):
        more, overlaps = _within(areas, fac, rest, overlap)
        rows.extend(more)
    assignment = pd.DataFrame(rows, columns=["facility_id", "area_id", "floor_area_m2", "method"])
    assignment.insert(2, "level", fac.loc[assignment["facility_id"], "level"].to_numpy()
                      if len(assignment) else pd.Series(dtype=object))
    assignment["on_site"] = on_site(assignment, areas, fac) if len(assignment) else pd.Series(
        dtype=bool)
    ov = pd.DataFrame(overlaps, columns=["facility_id", "area_ids", "assigned_to", "rule"])
    if len(ov):
        warnings.warn(
            f"{len(ov)} facilit{'y lies' if len(ov) == 1 else 'ies lie'} inside several "
            f"overlapping areas ({', '.join(map(str, ov['facility_id'][:5]))}); "
            f"assigned by overlap={overlap!r} (see result.overlaps); give them an explicit "
            "area_id to decide yourself", CareplanWarning, stacklevel=3)
    return assignment[ASSIGNMENT_COLS], ov


def nearest_area(areas: gpd.GeoDataFrame, fac: gpd.GeoDataFrame) -> pd.Series:
    """The area nearest to each facility (straight line; ties: first in ``areas``)."""
    pts = fac[fac.geometry.notna() & ~fac.geometry.is_empty]
    if not len(pts) or not len(areas):
        return pd.Series(dtype=object)
    left = gpd.GeoDataFrame({"_fid": pts.index}, geometry=_points(pts).values, crs=fac.crs)
    right = gpd.GeoDataFrame({"_aid": areas.index}, geometry=areas.geometry.values,
                             crs=areas.crs)
    hit = gpd.sjoin_nearest(left, right, how="left").drop_duplicates("_fid")
    return pd.Series(hit["_aid"].to_numpy(), index=hit["_fid"].to_numpy(), dtype=object)


def facility_zone(fac: pd.DataFrame, assignment: pd.DataFrame, areas: pd.DataFrame,
                  col: str, nearest: pd.Series | None = None) -> pd.Series:
    """Zone (street or district) of each facility: its own column, else its main area's
    (the area given most of its floor area), else the nearest area's (``nearest``:
    facility id -> area id)."""
    zone = pd.Series(pd.NA, index=fac.index, dtype=object)
    if col in areas.columns and nearest is not None and len(nearest):
        near = nearest.reindex(fac.index)
        zone = pd.Series(areas[col].reindex(near.to_numpy()).to_numpy(), index=fac.index,
                         dtype=object)
    if col in areas.columns and len(assignment):
        main = (assignment.sort_values("floor_area_m2", ascending=False, kind="stable")
                .drop_duplicates("facility_id"))
        z = areas[col].reindex(main["area_id"]).to_numpy()
        zone.loc[main["facility_id"].to_numpy()] = z
    if col in fac.columns:
        own = fac[col]
        zone = zone.where(own.isna(), own)
    return zone.where(zone.notna(), None)


def by_circle(areas: gpd.GeoDataFrame, fac: gpd.GeoDataFrame, located: pd.DataFrame,
              reach: pd.DataFrame, std: Standard,
              levels_used: dict[str, tuple[str, ...]]) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Allocate counted facilities' floor area within the walking circle (exact LP).

    Facilities of counted levels get their shares from
    :func:`careplan.allocation.allocate_floor_area` (method 'circle'); other facilities
    keep their ``located`` rows. Returns (assignment, allocation table).
    """
    counted = set(levels_used["new"]) | set(levels_used["existing"])
    is_counted = located["level"].isin(counted)
    on_site = located[is_counted & located["on_site"]]
    only = [r.applies_to for r in std.get("floor_area_on_site") if r.value > 0]
    arcs = arcs_from_reach(reach, on_site, area_built=areas["built"], on_site_only=only,
                           cutoff_m=std.service_circle_m)
    unknown = sorted(set(arcs["area_id"]) - set(areas.index), key=str)[:10]
    unknown_f = sorted(set(arcs["facility_id"]) - set(fac.index), key=str)[:10]
    if unknown or unknown_f:
        raise InputError(f"reach names areas {unknown} / facilities {unknown_f} that are not "
                         "in areas / facilities; compute it with net.distances(areas, "
                         "facilities, ...) on the same frames (labels = area_id, facility_id)")
    # an area counts only the levels of its built class
    ok = np.zeros(len(arcs), dtype=bool)
    lv = fac["level"].reindex(arcs["facility_id"]).to_numpy()
    built = areas["built"].reindex(arcs["area_id"]).to_numpy()
    for b in BUILT_CLASSES:
        ok |= (built == b) & np.isin(lv, list(levels_used[b]))
    arcs = arcs[ok]
    rate = pd.Series({b: (r.value if (r := std.floor_area_rule(b)) is not None else 0.0)
                      for b in BUILT_CLASSES})
    required = areas["households"].astype(float) / 100.0 * areas["built"].map(rate).astype(float)
    cap = fac.loc[fac["level"].isin(counted), "floor_area_m2"].astype(float)
    res = allocate_floor_area(required, cap, arcs)
    t = res.table
    rows = pd.DataFrame({"facility_id": t["facility_id"], "area_id": t["area_id"],
                         "level": fac["level"].reindex(t["facility_id"]).to_numpy(),
                         "floor_area_m2": t["floor_area_m2"], "method": "circle",
                         "on_site": t["on_site"].astype(bool)})
    parts = [p for p in (located[~is_counted], rows) if len(p)]
    assignment = (pd.concat(parts, ignore_index=True) if parts else rows)[ASSIGNMENT_COLS]
    assignment = assignment.astype({"floor_area_m2": float, "on_site": bool})
    return assignment, t
