"""Floor area counted where it serves: an exact allocation of facilities' floor area to areas.

A community station serves the estates within its walking circle, not only the one it
stands in. :func:`allocate_floor_area` splits each facility's floor area among the areas
it may serve so that the total floor-area deficit is as small as possible: a
transportation problem (capacities = facilities' floor area, demands = areas' required
floor area, arcs = facility-area pairs within the circle), solved exactly as a linear
programme with HiGHS (:func:`scipy.optimize.linprog`, ``method="highs"``).

Among the allocations with the least total deficit, a second LP picks the one with the
least walking (sum of m2 x distance), so a facility serves the estate it stands in (an
arc of distance 0) before estates further away.

On-site (配建) and off-site (补足) supply
--------------------------------------
A profile rule of kind ``floor_area_on_site`` for a built class (Jinwan: new estates
build their rooms inside the estate) makes areas of that class receive floor area only
from facilities inside them (``on_site`` arcs). Areas of other classes (existing
estates, whose floor area the town makes up) may be served by any facility within the
circle. :func:`arcs_from_reach` builds the arcs from a walking-distance table.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass

import numpy as np
import pandas as pd
import scipy.sparse as sp
from scipy.optimize import linprog

from careplan._errors import InputError, SolverError

__all__ = ["FloorAreaAllocation", "allocate_floor_area", "arcs_from_reach"]

ARC_COLS = ["facility_id", "area_id", "distance_m", "on_site"]
#: Floor-area tolerance, m2 (HiGHS's feasibility tolerance is 1e-7 on each row): shares
#: and deficits below it are 0, and an area within it of its requirement is compliant.
TOL_M2 = 1e-6


@dataclass(frozen=True)
class FloorAreaAllocation:
    """Result of :func:`allocate_floor_area`.

    Attributes
    ----------
    table : DataFrame
        One row per positive share: ``facility_id, area_id, floor_area_m2, distance_m,
        on_site``.
    provided_m2, deficit_m2 : Series
        Per area (index = area ids): floor area allocated, and required minus allocated.
    unused_m2 : Series
        Per facility: floor area allocated to no area.
    total_deficit_m2 : float
        The optimal objective (sum of ``deficit_m2``).
    walking_m2_m : float
        Sum of m2 x distance of the chosen optimal allocation.
    """

    table: pd.DataFrame
    provided_m2: pd.Series
    deficit_m2: pd.Series
    unused_m2: pd.Series
    total_deficit_m2: float
    walking_m2_m: float


def _lp(c: np.ndarray, a_ub: sp.csr_array, b_ub: np.ndarray) -> np.ndarray:
    res = linprog(c, A_ub=a_ub, b_ub=b_ub, bounds=(0, None), method="highs")
    if res.status != 0:  # pragma: no cover - a bounded feasible LP (x = 0 is feasible)
        raise SolverError(f"HiGHS could not solve the floor-area allocation: {res.message}")
    return np.asarray(res.x)


def allocate_floor_area(required_m2: pd.Series, capacity_m2: pd.Series,
                        arcs: pd.DataFrame) -> FloorAreaAllocation:
    """Allocate facilities' floor area to areas, minimising the total deficit.

    Parameters
    ----------
    required_m2 : Series of shape (n_areas,)
        Required floor area per area, m2 (index = area ids; NaN counts as 0).
    capacity_m2 : Series of shape (n_facilities,)
        Floor area of each facility, m2 (index = facility ids).
    arcs : DataFrame
        ``facility_id, area_id``, optional ``distance_m`` (walking metres, default 0) and
        ``on_site``: the pairs allowed to share (within the circle, or on site). See
        :func:`arcs_from_reach`.

    Returns
    -------
    FloorAreaAllocation

    Raises
    ------
    InputError
        Negative or non-finite floor areas, arcs naming unknown ids.
    SolverError
        If HiGHS fails (it should not: the problem is always feasible).

    Notes
    -----
    Maximise sum x_fa subject to sum_a x_fa <= capacity_f, sum_f x_fa <= required_a,
    x >= 0 (equivalently minimise the total deficit sum_a (required_a - sum_f x_fa));
    then, with the total fixed at its optimum, minimise sum d_fa x_fa. Both are LPs
    solved by HiGHS; the constraint matrix is totally unimodular, so integral inputs
    give an integral allocation.
    """
    req = pd.to_numeric(required_m2, errors="coerce").fillna(0.0).astype(float)
    cap = pd.to_numeric(capacity_m2, errors="coerce").astype(float)
    for name, v in (("required_m2", req), ("capacity_m2", cap)):
        bad = v.index[~np.isfinite(v.to_numpy()) | (v.to_numpy() < 0)]
        if len(bad):
            raise InputError(f"{name} must be finite numbers >= 0; bad for {list(bad[:10])}")
    arcs = arcs.copy()
    if "distance_m" not in arcs:
        arcs["distance_m"] = 0.0
    if "on_site" not in arcs:
        arcs["on_site"] = False
    unknown = sorted(set(arcs["area_id"]) - set(req.index), key=str)
    unknown_f = sorted(set(arcs["facility_id"]) - set(cap.index), key=str)
    if unknown or unknown_f:
        raise InputError(f"arcs name unknown areas {unknown[:10]} / facilities "
                         f"{unknown_f[:10]}; build them from the same areas and facilities")
    arcs = (arcs.sort_values("distance_m", kind="stable")
            .drop_duplicates(["facility_id", "area_id"]).reset_index(drop=True))
    ai = req.index.get_indexer(arcs["area_id"])
    fi = cap.index.get_indexer(arcs["facility_id"])
    keep = (req.to_numpy()[ai] > 0) & (cap.to_numpy()[fi] > 0)
    arcs, ai, fi = arcs[keep].reset_index(drop=True), ai[keep], fi[keep]
    n = len(arcs)
    x = np.zeros(n)
    if n:
        rows = np.concatenate([ai, len(req) + fi])
        a_ub = sp.csr_array((np.ones(2 * n), (rows, np.tile(np.arange(n), 2))),
                            shape=(len(req) + len(cap), n))
        b_ub = np.concatenate([req.to_numpy(), cap.to_numpy()])
        x = _lp(-np.ones(n), a_ub, b_ub)
        best = float(x.sum())
        dist = arcs["distance_m"].to_numpy(dtype=float)
        if dist.any():
            a2 = sp.vstack([a_ub, sp.csr_array(-np.ones((1, n)))]).tocsr()
            x = _lp(dist, a2, np.concatenate([b_ub, [-best]]))
        x[x < TOL_M2] = 0.0
    arcs["floor_area_m2"] = x
    table = arcs.loc[x > 0, ["facility_id", "area_id", "floor_area_m2", "distance_m",
                             "on_site"]].reset_index(drop=True)
    provided = table.groupby("area_id")["floor_area_m2"].sum().reindex(req.index,
                                                                        fill_value=0.0)
    deficit = (req - provided).clip(lower=0.0)
    deficit[deficit < TOL_M2] = 0.0
    used = table.groupby("facility_id")["floor_area_m2"].sum().reindex(cap.index,
                                                                        fill_value=0.0)
    return FloorAreaAllocation(
        table=table, provided_m2=provided, deficit_m2=deficit,
        unused_m2=(cap - used).clip(lower=0.0), total_deficit_m2=float(deficit.sum()),
        walking_m2_m=float((table["floor_area_m2"] * table["distance_m"]).sum()))


def arcs_from_reach(reach: pd.DataFrame | None, on_site: pd.DataFrame, *,
                    area_built: pd.Series, on_site_only: Collection[str] = (),
                    cutoff_m: float | None = None) -> pd.DataFrame:
    """The facility-area pairs allowed to share floor area.

    Parameters
    ----------
    reach : DataFrame or None
        Walking distances, long form ``origin`` (area id), ``destination`` (facility id),
        ``distance_m`` (as :meth:`careplan.WalkNetwork.distances` returns for areas x
        facilities). Pairs farther than ``cutoff_m`` are left out. None: on-site only.
    on_site : DataFrame
        ``facility_id, area_id``: facilities inside an area (or naming it in
        ``area_id``); always allowed, at distance 0.
    area_built : Series
        Built class of each area (index = area ids).
    on_site_only : collection of str
        Built classes served only on site (配建), from the profile's
        ``floor_area_on_site`` rules.
    cutoff_m : float, optional
        The walking circle, metres.

    Returns
    -------
    DataFrame
        ``facility_id, area_id, distance_m, on_site``.

    Raises
    ------
    InputError
        If ``reach`` lacks the columns.
    """
    parts = [pd.DataFrame({"facility_id": on_site["facility_id"].to_numpy(),
                           "area_id": on_site["area_id"].to_numpy(),
                           "distance_m": 0.0, "on_site": True})]
    if reach is not None:
        missing = [c for c in ("origin", "destination", "distance_m") if c not in reach]
        if missing:
            raise InputError(f"reach lacks column(s) {missing}; pass the long table of "
                             "net.distances(areas, facilities, cutoff_m=...)")
        r = reach
        if cutoff_m is not None:
            r = r[r["distance_m"] <= cutoff_m + 1e-9]
        r = r[~r["origin"].map(area_built).isin(list(on_site_only))]
        parts.append(pd.DataFrame({"facility_id": r["destination"].to_numpy(),
                                   "area_id": r["origin"].to_numpy(),
                                   "distance_m": r["distance_m"].to_numpy(dtype=float),
                                   "on_site": False}))
    arcs = pd.concat(parts, ignore_index=True)
    arcs = arcs.sort_values(["on_site", "distance_m"], ascending=[False, True], kind="stable")
    return arcs.drop_duplicates(["facility_id", "area_id"]).reset_index(drop=True)[ARC_COLS]
