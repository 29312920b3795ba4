"""Walking coverage: who lies within the 15-minute care circle, service areas, 2SFCA.

All distances are network walking distances from
:meth:`careplan.WalkNetwork.distances` (points snapped to the nearest edge,
access legs counted). Areas (polygons) are represented by their
representative point.

Default walking speed
---------------------
:data:`DEFAULT_SPEED_M_PER_MIN` = 60 m/min (1.0 m/s) is an *assumption* for
older pedestrians, stated here so it can be changed:

* the US MUTCD (2009 edition, section 4E.06) times the pedestrian clearance
  interval with a walking speed of 3.5 ft/s (1.07 m/s), asks for a lower speed
  where slower pedestrians routinely cross, and uses 3.0 ft/s (0.91 m/s) for
  the whole walk + clearance time; 1.0 m/s lies between the two;
* China's GB 50180-2018 (城市居住区规划设计标准) describes the 15-minute
  life circle as a walking distance of about 800-1,000 m, i.e. 53-67 m/min.

So 15 minutes at 60 m/min = 900 m. Pass ``speed_m_per_min`` (or ``cutoff_m``
directly) to use another value, e.g. the one in a loaded standard
(``Standard.walk_speed_m_per_min``).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
import shapely.ops

from careplan._errors import InputError
from careplan.network import (
    DEFAULT_MAX_SNAP_M,
    WalkNetwork,
    _check_cutoff,
    _check_max_snap,
    _warn,
)

__all__ = [
    "DEFAULT_BUFFER_M",
    "DEFAULT_SPEED_M_PER_MIN",
    "CoverageResult",
    "service_areas",
    "two_step_fca",
    "walk_coverage",
]

#: Assumed walking speed of older pedestrians, metres per minute (see module docs).
DEFAULT_SPEED_M_PER_MIN: float = 60.0

#: Half-width (m) of the band drawn around reached street segments in
#: :func:`service_areas`: roughly a street plus the frontage of the buildings
#: along it. A display choice, not a measured quantity.
DEFAULT_BUFFER_M: float = 25.0


def _positive(name: str, value: float) -> float:
    try:
        v = float(value)
    except (TypeError, ValueError):
        raise InputError(f"{name}={value!r} is not a number.") from None
    if not v > 0 or not np.isfinite(v):
        raise InputError(f"{name}={value!r} must be a finite number > 0.")
    return v


def _check_gdf(obj, what: str) -> gpd.GeoDataFrame:
    if not isinstance(obj, gpd.GeoDataFrame):
        raise InputError(f"{what} must be a GeoDataFrame, got {type(obj).__name__}.")
    return obj


def _filter_levels(facilities: gpd.GeoDataFrame, levels: Iterable[str] | str | None):
    if levels is None:
        return facilities
    if isinstance(levels, str):
        levels = [levels]
    levels = list(levels)
    if "level" not in facilities.columns:
        raise InputError("levels= was given but facilities have no 'level' column: "
                         "add it (e.g. read them with careplan.read_facilities) or drop levels=.")
    out = facilities[facilities["level"].isin(levels)]
    if out.empty:
        _warn(f"No facility has level in {levels}: nothing can cover any area.")
    return out


@dataclass(frozen=True)
class CoverageResult:
    """Result of :func:`walk_coverage`.

    Attributes
    ----------
    areas : geopandas.GeoDataFrame
        One row per input area (same index): ``area_id``, ``households``,
        ``elderly`` (when given), ``nearest_facility`` (label of the nearest
        facility within the cutoff, missing when none), ``nearest_distance_m`` (NaN
        when none is within the cutoff), ``covered`` (bool), ``n_within``
        (facilities within the cutoff), ``reachable`` (False when the area is
        farther than ``max_snap_m`` from the network), geometry.
    summary : pandas.DataFrame
        Index ``areas``, ``households`` and ``elderly`` (when given); columns
        ``total``, ``covered``, ``uncovered``, ``share_covered``.
    cutoff_m : float
        Walking distance used (metres).
    minutes, speed_m_per_min : float or None
        The parameters behind ``cutoff_m`` (None when ``cutoff_m`` was given).
    unreachable_areas, unreachable_facilities : list
        Labels of inputs off the network (counted as not covered / not
        covering).
    pairs : pandas.DataFrame
        The (origin=area, destination=facility, distance_m) table within the cutoff.
    """

    areas: gpd.GeoDataFrame
    summary: pd.DataFrame
    cutoff_m: float
    minutes: float | None
    speed_m_per_min: float | None
    unreachable_areas: list = field(default_factory=list)
    unreachable_facilities: list = field(default_factory=list)
    pairs: pd.DataFrame | None = None

    @property
    def uncovered(self) -> gpd.GeoDataFrame:
        """Areas not covered (the gaps)."""
        return self.areas[~self.areas["covered"]]


def walk_coverage(net: WalkNetwork, areas: gpd.GeoDataFrame, facilities: gpd.GeoDataFrame, *,
                  minutes: float = 15, speed_m_per_min: float = DEFAULT_SPEED_M_PER_MIN,
                  cutoff_m: float | None = None, levels: Iterable[str] | str | None = None,
                  max_snap_m: float = DEFAULT_MAX_SNAP_M,
                  verbose: bool | None = None) -> CoverageResult:
    """Which areas lie within a walk of ``minutes`` (or ``cutoff_m``) of a facility.

    Parameters
    ----------
    net : WalkNetwork
    areas : GeoDataFrame
        Residential areas (index = labels), optional ``area_id``,
        ``households``, ``elderly`` columns; polygons or points in ``net.crs``.
    facilities : GeoDataFrame
        Facilities (index = labels), optional ``level``; in ``net.crs``.
    minutes : float
        Size of the care circle in minutes (default 15: the "15-minute home
        and community care circle").
    speed_m_per_min : float
        Walking speed; default :data:`DEFAULT_SPEED_M_PER_MIN` (60 m/min,
        see the module docs for the source of this assumption).
    cutoff_m : float, optional
        Walking distance in metres; overrides ``minutes * speed_m_per_min``.
    levels : str or list of str, optional
        Only facilities whose ``level`` is one of these count (e.g.
        ``["community"]`` for the community circle).
    max_snap_m : float
        See :meth:`WalkNetwork.snap`.

    Returns
    -------
    CoverageResult
    """
    _check_gdf(areas, "areas")
    _check_gdf(facilities, "facilities")
    if cutoff_m is None:
        minutes_v = _positive("minutes", minutes)
        speed_v = _positive("speed_m_per_min", speed_m_per_min)
        cutoff = minutes_v * speed_v
    else:
        cutoff = _check_cutoff(cutoff_m)
        minutes_v = speed_v = None
    facs = _filter_levels(facilities, levels)
    max_snap = _check_max_snap(max_snap_m)

    n = len(areas)
    nearest = np.full(n, None, dtype=object)
    nearest_d = np.full(n, np.nan)
    n_within = np.zeros(n, dtype=np.int64)
    if len(facs):
        od = net.distances(areas, facs, cutoff_m=cutoff, max_snap_m=max_snap, verbose=verbose)
        unreach_a = od.attrs["unreachable_origins"]
        unreach_f = od.attrs["unreachable_destinations"]
        pos = areas.index.get_indexer(od["origin"])
        n_within = np.bincount(pos, minlength=n).astype(np.int64)
        first = od.groupby("origin", sort=False).head(1)  # sorted by distance per origin
        fpos = areas.index.get_indexer(first["origin"])
        nearest[fpos] = first["destination"].to_numpy()
        nearest_d[fpos] = first["distance_m"].to_numpy()
    else:
        od = pd.DataFrame({"origin": [], "destination": [], "distance_m": []})
        snap = net.snap(areas, max_snap_m=max_snap)
        ok = snap.groupby("label", sort=False)["reachable"].any().reindex(areas.index)
        unreach_a = list(areas.index[~ok.to_numpy(dtype=bool)])
        unreach_f = []
    reachable = ~areas.index.isin(unreach_a)

    out = gpd.GeoDataFrame(index=areas.index.copy(), geometry=areas.geometry.copy(),
                           crs=areas.crs)
    out.insert(0, "area_id", areas["area_id"].to_numpy() if "area_id" in areas.columns
               else areas.index.to_numpy())
    for col in ("households", "elderly", "built"):
        if col in areas.columns:
            out[col] = areas[col].to_numpy()
    out["nearest_facility"] = nearest
    out["nearest_distance_m"] = nearest_d
    out["covered"] = n_within > 0
    out["n_within"] = n_within
    out["reachable"] = reachable
    out = out[[c for c in out.columns if c != "geometry"] + ["geometry"]]

    rows = {"areas": (np.ones(n), out["covered"].to_numpy())}
    for col in ("households", "elderly"):
        if col in out.columns:
            vals = pd.to_numeric(out[col], errors="coerce").to_numpy(dtype=float)
            if np.isnan(vals).any():
                bad = out.index[np.isnan(vals)]
                raise InputError(f"areas column {col!r} has missing/non-numeric values at "
                                 f"{', '.join(map(str, bad[:5]))}: fill them (>= 0).")
            rows[col] = (vals, out["covered"].to_numpy())
    summary = pd.DataFrame(
        {k: {"total": w.sum(), "covered": w[c].sum(), "uncovered": w[~c].sum()}
         for k, (w, c) in rows.items()}).T
    summary["share_covered"] = np.where(summary["total"] > 0,
                                        summary["covered"] / summary["total"].where(summary["total"] > 0, 1),
                                        np.nan)
    return CoverageResult(areas=out, summary=summary, cutoff_m=cutoff, minutes=minutes_v,
                          speed_m_per_min=speed_v, unreachable_areas=list(unreach_a),
                          unreachable_facilities=list(unreach_f), pairs=od)


def service_areas(net: WalkNetwork, facilities: gpd.GeoDataFrame | gpd.GeoSeries, *,
                  cutoff_m: float, buffer_m: float = DEFAULT_BUFFER_M,
                  max_snap_m: float = DEFAULT_MAX_SNAP_M,
                  verbose: bool | None = None) -> gpd.GeoDataFrame:
    """Walking service area (isochrone) polygon of each facility.

    Built from the street segments reachable within ``cutoff_m`` (not a
    convex hull): every edge whose both ends are reached and the two
    directions meet is taken whole; an edge reached from one or both ends
    but not across is cut at the distance where the walk runs out; the
    facility's own edge is walked both ways from the snapped point; the snap
    leg itself is included. The union of these lines is buffered by
    ``buffer_m``.

    Parameters
    ----------
    net : WalkNetwork
    facilities : GeoDataFrame or GeoSeries
        In ``net.crs``; labels = index.
    cutoff_m : float
        Walking distance (metres).
    buffer_m : float
        Half-width of the band drawn around the reached lines (default
        :data:`DEFAULT_BUFFER_M`); 0 returns the lines themselves.

    Returns
    -------
    geopandas.GeoDataFrame
        Index = facility labels; columns ``reached_length_m`` (length of
        the reached street pieces, overlaps counted once, snap leg excluded), ``cutoff_m``, ``reachable``, geometry (None for
        unreachable facilities).
    """
    cutoff = _check_cutoff(cutoff_m)
    max_snap = _check_max_snap(max_snap_m)
    b = float(buffer_m)
    if not b >= 0:
        raise InputError(f"buffer_m={buffer_m!r} must be >= 0.")
    lab, src, node, dist = net._point_node_distances(
        facilities, cutoff, max_snap, verbose, None, what="facilities")
    index, s, reach, owner, g = lab["index"], lab["s"], lab["reach"], lab["owner"], lab["g"]
    eu, ev = net._edge_u, net._edge_v
    L = net._edge_length
    geom = net._edge_geometry
    order = np.argsort(src, kind="stable")
    src, node, dist = src[order], node[order], dist[order]
    bounds = np.searchsorted(src, np.arange(len(index) + 1))
    parts = lab["parts"]  # reachable entrances, grouped by label
    pbounds = np.searchsorted(owner[parts], np.arange(len(index) + 1))
    d_full = np.full(net.n_nodes, np.inf)
    out_geom = np.full(len(index), None, dtype=object)
    out_len = np.zeros(len(index))
    for i in range(len(index)):
        if not reach[i]:
            continue
        nodes_i = node[bounds[i]:bounds[i + 1]]
        d_full[nodes_i] = dist[bounds[i]:bounds[i + 1]]
        ru = cutoff - d_full[eu]
        rv = cutoff - d_full[ev]
        d_full[nodes_i] = np.inf
        touched = (ru >= 0) | (rv >= 0)
        full = (ru >= 0) & (rv >= 0) & (ru + rv >= L)
        pieces = list(geom[full])
        for e in np.flatnonzero(touched & ~full):
            Le = L[e]
            if Le <= 0:
                continue
            if ru[e] > 0:
                pieces.append(shapely.ops.substring(geom[e], 0.0, min(ru[e], Le) / Le,
                                                    normalized=True))
            if rv[e] > 0:
                pieces.append(shapely.ops.substring(geom[e], 1.0 - min(rv[e], Le) / Le, 1.0,
                                                    normalized=True))
        # each entrance's own edge, both ways from the snapped point, + snap leg
        legs = []
        for k in parts[pbounds[i]:pbounds[i + 1]]:
            e0 = s["edge"][k]
            r = cutoff - s["snap"][k]
            Le = L[e0]
            if r < 0 or Le <= 0:
                continue
            a0 = max(0.0, s["offset"][k] - r) / Le
            a1 = min(Le, s["offset"][k] + r) / Le
            pieces.append(shapely.ops.substring(geom[e0], a0, a1, normalized=True))
            if s["snap"][k] > 0:
                sp = shapely.line_interpolate_point(geom[e0], s["offset"][k] / Le,
                                                    normalized=True)
                legs.append(shapely.LineString([g[k], sp]))
        street = shapely.line_merge(shapely.union_all(
            [g for g in pieces if g is not None and not g.is_empty and g.length > 0]))
        out_len[i] = street.length
        lines = shapely.union_all([street, *legs]) if legs else street
        out_geom[i] = lines.buffer(b) if b > 0 else lines
    return gpd.GeoDataFrame({"reached_length_m": out_len, "cutoff_m": cutoff, "reachable": reach},
                            geometry=out_geom, crs=net.crs, index=index.copy())


def two_step_fca(net: WalkNetwork, areas: gpd.GeoDataFrame, facilities: gpd.GeoDataFrame, *,
                 cutoff_m: float, capacity_col: str = "floor_area_m2",
                 demand_col: str | None = None, max_snap_m: float = DEFAULT_MAX_SNAP_M,
                 verbose: bool | None = None) -> pd.Series:
    """Two-step floating catchment area (2SFCA) accessibility, binary catchment.

    Step 1: each facility ``j`` gets a supply-to-demand ratio
    ``R_j = S_j / sum(P_k for areas k within cutoff_m of j)``.
    Step 2: each area ``i`` scores ``A_i = sum(R_j for facilities j within
    cutoff_m of i)`` (Luo & Wang 2003).

    Parameters
    ----------
    cutoff_m : float
        Catchment walking distance (metres).
    capacity_col : str
        Facility supply ``S_j`` (default ``floor_area_m2``; e.g. ``beds``).
    demand_col : str, optional
        Area demand ``P_k``; default ``elderly`` when present, else
        ``households``.

    Returns
    -------
    pandas.Series
        Indexed like ``areas``, named ``f"{capacity_col}_per_{demand_col}"``
        (e.g. m2 of floor area per elderly person). 0 where no facility is
        in reach; NaN for areas off the network (unreachable). A facility
        whose catchment has zero demand gives ``R_j = 0``.
    """
    _check_gdf(areas, "areas")
    _check_gdf(facilities, "facilities")
    cutoff = _check_cutoff(cutoff_m)
    if demand_col is None:
        demand_col = "elderly" if "elderly" in areas.columns else "households"
    for obj, col, what in ((areas, demand_col, "areas"), (facilities, capacity_col, "facilities")):
        if col not in obj.columns:
            raise InputError(f"{what} have no column {col!r}: add it or pass another "
                             f"{'demand_col' if what == 'areas' else 'capacity_col'}=.")
        vals = pd.to_numeric(obj[col], errors="coerce")
        bad = vals.isna() | (vals < 0)
        if bad.any():
            raise InputError(f"{what} column {col!r} must be numbers >= 0; bad at "
                             f"{', '.join(map(str, obj.index[bad.to_numpy()][:5]))}.")
    P = pd.to_numeric(areas[demand_col]).astype(float)
    S = pd.to_numeric(facilities[capacity_col]).astype(float)
    od = net.distances(areas, facilities, cutoff_m=cutoff, max_snap_m=max_snap_m, verbose=verbose)
    demand_j = pd.Series(P.loc[od["origin"]].to_numpy(), index=od.index).groupby(
        od["destination"].to_numpy()).sum()
    demand_j = demand_j.reindex(facilities.index, fill_value=0.0)
    R = (S / demand_j.where(demand_j > 0)).fillna(0.0)
    A = pd.Series(R.loc[od["destination"]].to_numpy(), index=od.index).groupby(
        od["origin"].to_numpy()).sum()
    A = A.reindex(areas.index, fill_value=0.0).astype(float)
    A[A.index.isin(od.attrs["unreachable_origins"])] = np.nan
    A.name = f"{capacity_col}_per_{demand_col}"
    return A
