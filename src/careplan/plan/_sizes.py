"""Sizing rules of the plan taken from the standard: single-site bounds and on-site rooms.

* :func:`station_size`: a new station's floor area is the deficits it takes, raised to
  the profile's single-site minimum (or the plan's ``min_station_floor_area_m2``, or
  careplan's documented default) and capped by the profile's maximum and the candidate's
  ``max_floor_area_m2``.
* :func:`split_on_site` / :func:`on_site_rooms`: areas of a built class that must build
  its rooms inside the estate (a ``floor_area_on_site`` rule: 配建 of new estates) are
  not served by a station elsewhere; each gets a room of its deficit inside it (at its
  representative point, ``kind = 'on_site'``).
"""

from __future__ import annotations

import dataclasses
import math

import geopandas as gpd
import pandas as pd

from careplan.plan._steps import NEW_STATION_LEVEL, Inputs, State
from careplan.standards import site_limits

__all__ = ["on_site_rooms", "split_on_site", "station_size"]


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
