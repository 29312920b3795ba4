"""The street level of the three-level network: comprehensive centres per street (issue 12.3).

After the community stations are sized, every street (街道/镇, the areas' ``street``
column) that has fewer comprehensive centres (facility level 'street') than the profile
requires gets new centres at candidate sites inside that street, each sized to the
profile's single-site minimum for the street level (:func:`careplan.standards.site_limits`:
Jinwan >= 500 m2, Taiyuan 500-2,000 m2, provincial report >= 1,000 m2). Required per street:
``centre_per_town`` (Jinwan one per town), ``centres_per_street`` (Taiyuan 2-3: the
minimum). ``street_centre_share`` (Urumqi: >= 60 % of streets with a centre) asks for a
centre in the fewest streets that reach the share, the streets with most households first.

Siting: among a street's candidates, the one with the least household-weighted
straight-line distance to the street's areas (representative points) is taken first
(central to its households), then the next. Straight-line, not walking: the plan walks
only within the service circle (the walk to a centre across a street of several km is
not computed) and a centre serves its whole street, by walk, bus or car.

Why a per-street model and not :class:`careplan.locate.HierarchicalCovering`: the
profiles ask for a *count per street* (a centre in every street, two in every Taiyuan
street), not for coverage within a distance; HierarchicalCovering maximises households
covered by upper-level sites within a cutoff under a total budget, which can leave a
street without a centre while placing two in a dense one. The per-street rule meets the
count exactly, sited centrally, and is checked by hand (tests/test_plan_standards.py).

A candidate's street is its own ``street`` column, else the street of the area
containing it, else of the nearest area. A street without a free candidate keeps its
shortfall: it is listed in ``rules_not_met`` with that reason (``Sizing.shortfalls``).
"""

from __future__ import annotations

import dataclasses
import math

import geopandas as gpd
import numpy as np
import pandas as pd

from careplan.plan._steps import Inputs
from careplan.standards import site_limits

__all__ = ["FALLBACK_PROFILE", "candidate_zone", "centre_size", "propose_centres", "street_centres"]

CENTRE_LEVEL = "street"
#: Profile whose street-centre minimum sizes a centre when the plan's profile gives no size.
FALLBACK_PROFILE = "province-report"


def _required(inp: Inputs) -> int:
    """Centres the profile requires in every street (0 when it sets none)."""
    n = [int(r.value) for k in ("centre_per_town", "centres_per_street")
         for r in inp.standard.get(k) if CENTRE_LEVEL in r.levels]
    return max(n, default=0)


def _share_needed(inp: Inputs, have: pd.Series) -> pd.Series:
    """Centres needed per street for the profile's ``street_centre_share`` (0 or 1 each)."""
    rules = [r for r in inp.standard.get("street_centre_share") if CENTRE_LEVEL in r.levels]
    if not rules or not len(have):
        return pd.Series(0, index=have.index)
    share = max(float(r.value) for r in rules)
    missing = max(0, math.ceil(share * len(have) - 1e-9) - int((have > 0).sum()))
    hh = inp.areas.groupby("street")["households"].sum().reindex(have.index, fill_value=0)
    pick = hh[have == 0].sort_values(ascending=False, kind="stable").index[:missing]
    return pd.Series(have.index.isin(pick).astype(int), index=have.index)


def candidate_zone(inp: Inputs, col: str) -> pd.Series:
    """The ``col`` ('street' or 'district') of every candidate: its own value, else the
    value of the area containing it, else of the nearest area (None without areas of it)."""
    cand, areas = inp.candidates, inp.areas
    own = cand[col] if col in cand.columns else pd.Series(None, index=cand.index, dtype=object)
    if own.notna().all() or col not in areas.columns or not areas[col].notna().any():
        return own
    polys = areas[areas[col].notna()]
    pts = gpd.GeoDataFrame(geometry=cand.geometry.representative_point(), crs=cand.crs)
    near = gpd.sjoin_nearest(pts, polys[[col, polys.geometry.name]], how="left")
    near = near[~near.index.duplicated()]
    return own.where(own.notna(), near[col].reindex(cand.index))


def propose_centres(inp: Inputs, sizing, short: pd.Series, *, col: str, level: str,
                    size_m2: float, prefix: str, what: tuple[str, str]):
    """``sizing`` plus ``short[zone]`` new centres of ``level`` in every zone of ``col``.

    Parameters
    ----------
    inp : Inputs
    sizing : Sizing
    short : Series of int
        Centres missing per zone (index = zone name).
    col : {'street', 'district'}
        The areas' zone column.
    level : str
        Facility level of the new centres.
    size_m2 : float
        Floor area of each new centre, m2.
    prefix : str
        Id prefix (``C-`` street centre, ``D-`` district centre) + candidate id.
    what : (str, str)
        English and Chinese name of the centre, for names and shortfall reasons.

    Returns
    -------
    Sizing
        New rows of kind ``'centre'`` in ``proposed`` and ``added`` (with ``street`` /
        ``district``), and a shortfall for every zone without enough free candidates.
    """
    areas = inp.areas
    zone = candidate_zone(inp, col)
    free = _free(inp, sizing, size_m2)
    rows, added, lacking = [], [], []
    for z, n in short.items():
        if n <= 0:
            continue
        mine = areas[areas[col] == z]
        cands = inp.candidates[(zone == z).to_numpy() & free.to_numpy()]
        if len(cands) < n:
            lacking.append((z, int(n - len(cands))))
        hh = mine["households"].astype(float).to_numpy()
        pts = mine.geometry.representative_point()
        cost = [float((hh * pts.distance(p).to_numpy()).sum()) for p in cands.geometry]
        for k in np.argsort(cost, kind="stable")[:n]:
            cid = cands.index[k]
            free[cid] = False
            sid = f"{prefix}{cid}"
            geom = cands.geometry.iloc[k]
            rows.append({"station_id": sid, "kind": "centre", "candidate_id": cid,
                         "facility_id": None, "floor_area_m2": size_m2,
                         "households_served": float(hh.sum()),
                         "elderly_served": (float(mine["elderly"].sum())
                                            if "elderly" in mine.columns else np.nan),
                         "areas_served": ",".join(map(str, mine.index)),
                         "n_areas_served": len(mine), "geometry": geom})
            zones = {c: (z if c == col else _zone_of(mine, c)) for c in ("street", "district")
                     if c in areas.columns}
            added.append({"facility_id": sid, "level": level, "floor_area_m2": size_m2,
                          "beds": 0, "nursing_beds": 0, "geometry": geom, **zones,
                          "name": f"proposed {what[0]} {sid} ({z})"})
    out = sizing
    if lacking:
        txt = ", ".join(f"{z} ({k})" for z, k in lacking[:10])
        out = dataclasses.replace(out, shortfalls=out.shortfalls + ((
            _kind_of(inp, col),
            f"no free candidate site inside {col} {txt} for the {what[0]} (add candidates "
            f"there)", f"以下{'街道' if col == 'street' else '区县'}内没有可用候选站点,无法新增"
            f"{what[1]}:{txt}(请在其中增加候选站点)"),))
    return with_rows(out, rows, added, areas.crs)


def with_rows(sizing, rows: list, added: list, crs):
    """``sizing`` with the proposed-table ``rows`` and the facility rows ``added`` (dicts
    with ``station_id`` / ``facility_id`` and ``geometry``) appended."""
    if not rows:
        return sizing
    prop = gpd.GeoDataFrame(rows, geometry="geometry", crs=crs).set_axis([r["station_id"]
                                                                          for r in rows])
    add = gpd.GeoDataFrame(added, geometry="geometry", crs=crs).set_axis([a["facility_id"]
                                                                          for a in added])
    return dataclasses.replace(
        sizing, proposed=pd.concat([sizing.proposed, prop[sizing.proposed.columns]]),
        added=pd.concat([sizing.added, add]))


def _free(inp: Inputs, sizing, size_m2: float) -> pd.Series:
    """Per candidate: may it take a new centre of ``size_m2``? Not if it holds a centre
    already; a candidate holding a new station may (a centre and a station can share a
    building) if its ``max_floor_area_m2`` leaves room for both."""
    cand, p = inp.candidates, sizing.proposed
    held = p.loc[p["candidate_id"].notna()] if len(p) else p
    centre = set(held.loc[held["kind"] == "centre", "candidate_id"])
    used = held.groupby("candidate_id")["floor_area_m2"].sum() if len(held) else pd.Series(
        dtype=float)
    used = used.reindex(cand.index, fill_value=0.0).astype(float)
    free = pd.Series(~cand.index.isin(list(centre)), index=cand.index)
    if "max_floor_area_m2" in cand.columns:
        cap = pd.to_numeric(cand["max_floor_area_m2"], errors="coerce")
        free &= cap.isna() | (cap - used >= size_m2 - 1e-9)
    return free


def centre_size(std, level: str) -> tuple[float, str]:
    """Floor area of a new centre of ``level`` ('street' or 'district'), m2, and its source.

    The profile's single-site minimum for the level (:func:`careplan.standards.site_limits`);
    else, for a district centre, the profile's street-centre minimum (a district centre is
    not smaller than the street centres it guides: an assumption, stated); else the
    street-centre minimum of the provincial report (profile :data:`FALLBACK_PROFILE`,
    002 (一)二: every street centre >= 1,000 m2), the largest street-centre minimum of the
    shipped profiles, stated in the source.
    """
    from careplan.standards import load

    lim = site_limits(std, level)
    if lim.source != "none" and lim.min_m2 > 0:
        return lim.min_m2, lim.source
    if level != CENTRE_LEVEL:
        st = site_limits(std, CENTRE_LEVEL)
        if st.source != "none" and st.min_m2 > 0:
            return st.min_m2, (f"no {level}-level size in {std.name}: its street-centre "
                               f"minimum, {st.source} (a {level} centre is not smaller than "
                               "the street centres it guides; assumption)")
    ref = site_limits(load(FALLBACK_PROFILE), CENTRE_LEVEL)
    return ref.min_m2, (f"no {level}-level size in {std.name}: the street-centre minimum of "
                        f"{FALLBACK_PROFILE}, {ref.source} (default, stated)")


def _zone_of(areas: pd.DataFrame, col: str) -> object:
    """The most common value of ``col`` among ``areas`` (None if none)."""
    v = areas[col].dropna()
    return v.mode().iloc[0] if len(v) else None


def _kind_of(inp: Inputs, col: str) -> str:
    """The rule kind whose shortfall a missing centre of zone ``col`` is."""
    if col == "district":
        return "district_centre_count"
    for k in ("centre_per_town", "centres_per_street", "street_centre_share"):
        if inp.standard.get(k):
            return k
    return "centre_per_town"


def street_centres(inp: Inputs, before, sizing):
    """``sizing`` plus the new street centres the profile requires (see module doc).

    Parameters
    ----------
    inp : Inputs
    before : State
        Its compliance counts the centres per street (a facility's own street, else the
        street of the area it serves most).
    sizing : Sizing

    Returns
    -------
    Sizing
    """
    areas = inp.areas
    if "street" not in areas.columns or not areas["street"].notna().any():
        return sizing
    ftab = before.compliance.facilities
    cnt = ftab.loc[ftab["level"] == CENTRE_LEVEL, "street"].value_counts()
    have = cnt.reindex(pd.unique(areas["street"].dropna()), fill_value=0)
    need = (_required(inp) - have).clip(lower=0)
    need = np.maximum(need, _share_needed(inp, have))
    if not need.any():
        return sizing
    return propose_centres(inp, sizing, need, col="street", level=CENTRE_LEVEL,
                           size_m2=centre_size(inp.standard, CENTRE_LEVEL)[0], prefix="C-",
                           what=("street centre", "街道(乡镇)综合养老服务中心"))
