"""The street level of the three-level network: comprehensive centres per street (issue 12.3).

After the community stations are sized, every street (街道/镇, the areas' ``street``
column) that has fewer comprehensive centres (facility level 'street') than the profile
requires (``centre_per_town``: Jinwan one per town; ``centres_per_street``: Taiyuan 2-3)
gets new centres at candidate sites inside that street, each sized to the profile's
single-site minimum for the street level (:func:`careplan.standards.site_limits`: Jinwan
>= 500 m2, Taiyuan 500-2,000 m2). Among a street's candidates, the one with the least
household-weighted straight-line distance to the street's areas is taken first (central
to its households), then the next. A candidate's street is its own ``street`` column,
else the street of the area containing it, else of the nearest area. A street without
a candidate keeps its shortfall (reported in ``rules_not_met``).
"""

from __future__ import annotations

import dataclasses

import geopandas as gpd
import numpy as np
import pandas as pd

from careplan.plan._steps import Inputs
from careplan.standards import site_limits

__all__ = ["street_centres"]

CENTRE_LEVEL = "street"
CENTRE_FUNCTIONS = "day care, training, assessment, supervision (综合服务中心)"


def _required(inp: Inputs) -> int:
    """Centres the profile requires in every street (0 when it sets none)."""
    n = [int(r.value) for k in ("centre_per_town", "centres_per_street")
         for r in inp.standard.get(k) if CENTRE_LEVEL in r.levels]
    return max(n, default=0)


def _candidate_streets(inp: Inputs) -> pd.Series:
    cand, areas = inp.candidates, inp.areas
    if "street" in cand.columns and cand["street"].notna().all():
        return cand["street"]
    polys = areas[areas["street"].notna()]
    pts = gpd.GeoDataFrame(geometry=cand.geometry.representative_point(), crs=cand.crs)
    near = gpd.sjoin_nearest(pts, polys[["street", polys.geometry.name]], how="left")
    near = near[~near.index.duplicated()]
    street = near["street"].reindex(cand.index)
    if "street" in cand.columns:
        street = cand["street"].where(cand["street"].notna(), street)
    return street


def street_centres(inp: Inputs, before, sizing):
    """``sizing`` plus the new street centres the profile requires (see module doc)."""
    need = _required(inp)
    areas = inp.areas
    if not need or "street" not in areas.columns or not len(inp.candidates):
        return sizing
    # centres per street as the compliance check counts them (the facility's own street,
    # else the street of the area it lies in)
    ftab = before.compliance.facilities
    cnt = ftab.loc[ftab["level"] == CENTRE_LEVEL, "street"].value_counts()
    have = cnt.reindex(pd.unique(areas["street"].dropna()), fill_value=0)
    cstreet = _candidate_streets(inp)
    used = set(sizing.proposed["candidate_id"].dropna())
    size = site_limits(inp.standard, CENTRE_LEVEL).min_m2
    rows, added = [], []
    for street, n in have.items():
        short = need - int(n)
        if short <= 0:
            continue
        mine = areas[areas["street"] == street]
        cands = inp.candidates[(cstreet == street) & ~inp.candidates.index.isin(used)]
        if not len(cands):
            continue
        hh = mine["households"].astype(float).to_numpy()
        pts = mine.geometry.representative_point()
        cost = [float((hh * pts.distance(p).to_numpy()).sum()) for p in cands.geometry]
        for k in np.argsort(cost, kind="stable")[:short]:
            cid = cands.index[k]
            sid = f"C-{cid}"
            geom = cands.geometry.iloc[k]
            rows.append({"station_id": sid, "kind": "centre", "candidate_id": cid,
                         "facility_id": None, "floor_area_m2": size,
                         "households_served": float(hh.sum()),
                         "elderly_served": (float(mine["elderly"].sum())
                                            if "elderly" in mine.columns else np.nan),
                         "areas_served": ",".join(map(str, mine.index)),
                         "n_areas_served": len(mine), "geometry": geom})
            added.append({"facility_id": sid, "level": CENTRE_LEVEL, "floor_area_m2": size,
                          "beds": 0, "nursing_beds": 0, "geometry": geom, "street": street,
                          "name": f"proposed street centre {sid} ({street})"})
    if not rows:
        return sizing
    crs = areas.crs
    prop = gpd.GeoDataFrame(rows, geometry="geometry", crs=crs).set_axis([r["station_id"]
                                                                          for r in rows])
    add = gpd.GeoDataFrame(added, geometry="geometry", crs=crs).set_axis([a["facility_id"]
                                                                          for a in added])
    return dataclasses.replace(
        sizing, proposed=pd.concat([sizing.proposed, prop[sizing.proposed.columns]]),
        added=pd.concat([sizing.added, add]))
