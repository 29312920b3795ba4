"""The plan's "facilities" table: every existing and proposed facility, findable on a map.

Issue 12 item 5 ("Sites a planner can find"): one row per facility after the plan, with
the candidate's own columns (``name``, ``address``, ``building`` ...) carried through, its
level, floor area, functions, the estates it serves and its coordinates in WGS84 and in
GCJ-02 (what Amap/Gaode shows; forward transform :func:`careplan._crs.wgs84_to_gcj02`).
"""

from __future__ import annotations

from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd

from careplan._crs import wgs84_to_gcj02
from careplan.standards._functions import CANTEEN, function_list

__all__ = ["FUNCTIONS", "facilities_table"]

#: Functions a facility carries by its level; more from its ``functions`` column (a canteen
#: in a station or centre: :mod:`careplan.plan._canteens`).
FUNCTIONS: dict[str, tuple[str, ...]] = {
    "community": ("station",),
    "street": ("centre",),
    "district": ("district centre",),
    "canteen": ("canteen",),
}
_ON_SITE = "on-site room"
#: Columns the table builds itself (a candidate's or facility's own columns of the same name
#: are not copied over them).
_BUILT = ("facility_id", "status", "kind", "station_id", "candidate_id", "name", "address",
          "level", "floor_area_m2", "functions", "estates", "n_estates", "households_served",
          "elderly_served", "lon_wgs84", "lat_wgs84", "lon_gcj02", "lat_gcj02", "x_m", "y_m")


def _text(v: Any) -> str | None:
    if v is None or (isinstance(v, float) and np.isnan(v)) or v is pd.NA:
        return None
    s = str(v).strip()
    return s or None


def _functions(level: object, kind: str, *rows: pd.Series) -> list[str]:
    """Functions of a facility: its level's, then those its rows name (a ``functions``
    cell, :func:`careplan.standards._functions.function_list`, or a true ``canteen`` flag)."""
    if kind == "on_site":
        return [_ON_SITE]
    out = list(FUNCTIONS.get(str(level), (str(level),)))
    if kind == "canteen":  # the canteen function added to an existing station
        out = []
    for r in rows:
        more = function_list(r.get("functions")) if "functions" in r.index else []
        if "canteen" in r.index and _text(r["canteen"]) and bool(r["canteen"]) is True:
            more.append(CANTEEN)
        out += [f for f in more if f not in out]
    return out


def facilities_table(existing: gpd.GeoDataFrame, candidates: gpd.GeoDataFrame,
                     proposed: gpd.GeoDataFrame, added: gpd.GeoDataFrame,
                     allocation: pd.DataFrame | None,
                     areas: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """Every existing and proposed facility after the plan, with where to find it.

    Parameters
    ----------
    existing : GeoDataFrame
        Existing facilities (index ``facility_id``), projected CRS.
    candidates : GeoDataFrame
        Candidate sites (index ``candidate_id``); their columns (``name``, ``address``,
        ``building``, ``osm_ref`` ...) are carried to the proposed facilities built there.
    proposed : GeoDataFrame
        The plan's proposed table (``station_id, kind, candidate_id, facility_id,
        areas_served`` ...).
    added : GeoDataFrame
        The facility rows the plan adds (index = station id; ``level, floor_area_m2,
        name``).
    allocation : DataFrame or None
        After-plan floor-area allocation (``facility_id, area_id, floor_area_m2``) from
        :func:`careplan.compliance.check`.
    areas : GeoDataFrame
        Residential areas (index ``area_id``; ``households``, optional ``elderly``).

    Returns
    -------
    GeoDataFrame
        One row per facility (existing first, then proposed), index ``facility_id``, same
        CRS and point geometry as the inputs (an area's representative point for a polygon),
        columns ``facility_id, status ('existing'|'proposed'), kind ('existing', 'new',
        'expansion', 'centre', 'on_site', 'canteen'), station_id, candidate_id, name,
        address, level, floor_area_m2, functions`` (list of str), ``estates`` (list of area
        ids: for an existing facility the areas its floor area is allocated to after the
        plan; for a proposed one exactly the proposed table's ``areas_served``, so the
        two tables give the same ``n_areas_served`` / ``households_served`` /
        ``elderly_served`` for it), ``n_estates, households_served, elderly_served``
        (sums over ``estates``), ``lon_wgs84, lat_wgs84`` (EPSG:4326 degrees),
        ``lon_gcj02, lat_gcj02`` (GCJ-02 degrees, what Amap shows; unchanged outside
        China, as every GCJ-02 implementation does), ``x_m, y_m`` (projected CRS, m),
        then the other columns of the facility or candidate.

    Notes
    -----
    Names: the candidate's ``name`` when it has one, else the plan's label (``proposed
    station S001``); an expansion is named after the facility it expands. ``address`` is
    the candidate's / facility's ``address`` column, None where the input has none.
    """
    served: dict[Any, list] = {}
    if allocation is not None and len(allocation):
        pos = allocation[allocation["floor_area_m2"].astype(float) > 0]
        for f, a in zip(pos["facility_id"], pos["area_id"], strict=True):
            served.setdefault(f, [])
            if a not in served[f]:
                served[f].append(a)
    rows = []
    for fid, r in existing.iterrows():
        rows.append({"facility_id": fid, "status": "existing", "kind": "existing",
                     "station_id": None, "candidate_id": None, "name": _text(r.get("name")),
                     "address": _text(r.get("address")), "level": r.get("level"),
                     "floor_area_m2": r.get("floor_area_m2"),
                     "functions": _functions(r.get("level"), "existing", r),
                     "estates": list(served.get(fid, [])), "geometry": r.geometry,
                     **{c: r[c] for c in existing.columns
                        if c not in _BUILT and c != existing.geometry.name}})
    prop = proposed.set_index("station_id", drop=False) if len(proposed) else proposed
    area_by_text = {}  # area label by its text (first wins), looked up once per served area
    for x in areas.index:
        area_by_text.setdefault(str(x), x)
    for sid, r in added.iterrows():
        p = prop.loc[sid] if sid in prop.index else pd.Series(dtype=object)
        kind = str(p.get("kind", "new"))
        cid = p.get("candidate_id")
        cid = None if _text(cid) is None else cid
        cand = (candidates.loc[cid] if cid is not None and cid in candidates.index
                else pd.Series(dtype=object))
        src = p.get("facility_id")
        base = (existing.loc[src] if kind == "expansion" and src in existing.index
                else pd.Series(dtype=object))
        name = _text(cand.get("name")) or _text(r.get("name"))
        if kind == "expansion" and _text(base.get("name")):
            name = f"expansion of {base.get('name')}"
        # one definition of "served" for a proposed facility: the plan's own
        # ``areas_served`` (the proposed table's), so both tables give the same figures;
        # the after-plan allocation only where the proposed table has no row for it
        estates = [] if sid in prop.index else list(served.get(sid, []))
        for a in str(p.get("areas_served") or "").split(","):
            a = a.strip()
            key = area_by_text.get(a) if a else None
            if key is not None and key not in estates:
                estates.append(key)
        other = cand if len(cand) else base
        rows.append({"facility_id": sid, "status": "proposed", "kind": kind,
                     "station_id": sid, "candidate_id": cid, "name": name,
                     "address": _text(cand.get("address")) or _text(base.get("address")),
                     "level": r.get("level"), "floor_area_m2": r.get("floor_area_m2"),
                     "functions": _functions(r.get("level"), kind, r, other),
                     "estates": estates, "geometry": r.geometry,
                     **{c: other[c] for c in other.index
                        if c not in _BUILT and c not in ("geometry", "max_floor_area_m2")}})
    if not rows:
        return gpd.GeoDataFrame({c: [] for c in _BUILT}, geometry=gpd.GeoSeries([], crs=areas.crs),
                                crs=areas.crs)
    out = gpd.GeoDataFrame(rows, geometry="geometry", crs=areas.crs)
    for c in ("station_id", "candidate_id", "name", "address"):  # None, not NaN, where absent
        out[c] = pd.Series([None if _text(v) is None else v for v in out[c]], index=out.index,
                           dtype=object)
    hh = areas["households"].astype(float)
    el = areas["elderly"].astype(float) if "elderly" in areas.columns else None
    out["n_estates"] = [len(e) for e in out["estates"]]
    out["households_served"] = _sums(hh, out["estates"])
    out["elderly_served"] = _sums(el, out["estates"]) if el is not None else np.nan
    pts = out.geometry.representative_point()
    out = out.set_geometry(pts.to_numpy())
    ll = pts.to_crs(4326)
    lon, lat = ll.x.to_numpy(), ll.y.to_numpy()
    glon, glat = wgs84_to_gcj02(lon, lat)
    out["lon_wgs84"], out["lat_wgs84"] = lon, lat
    out["lon_gcj02"], out["lat_gcj02"] = np.asarray(glon, float), np.asarray(glat, float)
    out["x_m"], out["y_m"] = pts.x.to_numpy(), pts.y.to_numpy()
    first = [c for c in _BUILT if c in out.columns]
    rest = [c for c in out.columns if c not in first and c != "geometry"]
    out = out[first + rest + ["geometry"]]
    out.index = pd.Index(out["facility_id"].to_numpy(), name=None)
    return out


def _sums(values: pd.Series, groups: pd.Series) -> list[float]:
    """Per list of labels, the sum of ``values`` over those labels (missing labels and NaN
    skipped, as ``values.reindex(labels).sum()``), in one pass over all lists."""
    lens = np.array([len(e) for e in groups], dtype=np.int64)
    flat = [a for e in groups for a in e]
    v = values.reindex(flat).to_numpy(dtype=float) if flat else np.zeros(0)
    v = np.where(np.isnan(v), 0.0, v)
    owner = np.repeat(np.arange(lens.size), lens)
    return [float(x) for x in np.bincount(owner, weights=v, minlength=lens.size)]
