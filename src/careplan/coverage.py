"""Walking coverage: who lies within the 15-minute care circle, service areas, 2SFCA.

All distances are network walking distances from
:meth:`careplan.WalkNetwork.distances` (points snapped to the nearest edge,
access legs counted). Areas (polygons) are represented by their
representative point.

The walking circle
------------------
:func:`walking_circle` is the one place the circle is worked out: minutes and a
walking speed (a loaded standard's, else
:data:`careplan._schema.DEFAULT_WALK_SPEED_M_PER_MIN` = 60 m/min, an assumption
for older pedestrians documented there), or ``cutoff_m`` directly. 15 minutes at
60 m/min = 900 m. :data:`DEFAULT_SPEED_M_PER_MIN` is the same value, kept under
its old name.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from careplan import _reach
from careplan._errors import InputError
from careplan._schema import (
    DEFAULT_SERVICE_CIRCLE_MINUTES,
    DEFAULT_WALK_SPEED_M_PER_MIN,
    walking_circle_m,
)
from careplan.equity import equity_by
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
    "EQUITY_GROUPS",
    "MAX_BAND_SERVICE_AREAS",
    "CoverageResult",
    "WalkingCircle",
    "coverage_from_distances",
    "service_areas",
    "two_step_fca",
    "walk_coverage",
    "walking_circle",
]

#: Assumed walking speed of older pedestrians, metres per minute: the one default of
#: :mod:`careplan._schema` under its old name.
DEFAULT_SPEED_M_PER_MIN: float = DEFAULT_WALK_SPEED_M_PER_MIN

#: Grouping columns of :meth:`CoverageResult.equity` (carried into the result's areas
#: when the input areas have them): streets (街道) and districts (区).
EQUITY_GROUPS: tuple[str, ...] = ("street", "district")

#: Half-width (m) of the band drawn around reached street segments in
#: :func:`service_areas`: roughly a street plus the frontage of the buildings
#: along it. A display choice, not a measured quantity.
DEFAULT_BUFFER_M: float = 25.0

#: Above this many reachable facilities :func:`service_areas` (``shape="auto"``, what
#: the plan uses) draws each as an envelope, the concave hull of its reached street
#: points buffered by ``buffer_m`` (``"hull"``), instead of the exact band around the
#: reached streets (``"band"``). No result is computed from these shapes (coverage,
#: compliance and the location models use the distance search); they are drawn, and the
#: band costs ~40 ms CPU per facility on a 100-m street grid at 900 m (the union of
#: ~300 buffered pieces): ~6 min for the ~9,000 facilities of a 1M-node city, against
#: ~5 ms for the hull. 300 is also where the report's map merges service areas
#: (``careplan.report.maps.MAX_MAP_SERVICE_AREAS``): up to it each band is drawn.
MAX_BAND_SERVICE_AREAS: int = 300


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
        farther than ``max_snap_m`` from the network), ``access``, ``street`` and
        ``district`` (when the input areas have them, for :meth:`equity`), geometry.
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

    def equity(self, value: str | pd.Series | None = None, *, weight_col: str | None = None,
               by: str | Sequence[str] | None = None) -> pd.DataFrame:
        """Equity of the circle: share of people outside it, Gini and Palma of access.

        Overall and by street and district (the measures of :mod:`careplan.equity`,
        people-weighted). Areas off the network count as outside the circle, as in
        :attr:`summary`.

        Parameters
        ----------
        value : str or pandas.Series, optional
            The access measured by ``gini``/``palma``/``value_mean``: a column of
            :attr:`areas`, or a Series by area label (e.g. a score of
            :func:`careplan.accessibility.fca`; NaN areas are left out of those
            three). Default ``n_within``, the number of facilities within the
            circle (cumulative opportunities), defined for every area (0 outside).
        weight_col : str, optional
            People per area: default ``elderly`` when present, else ``households``,
            else 1 per area.
        by : str or sequence of str, optional
            Grouping columns of :attr:`areas`; default every one of
            :data:`EQUITY_GROUPS` (``street``, ``district``) the areas have.

        Returns
        -------
        pandas.DataFrame, one row per group
            Columns ``level`` (``"all"`` or the grouping column), ``group`` (its
            value; ``"all"``), ``units`` (areas), ``people``, ``share_outside``
            (share of people not covered), ``value_mean`` (people-weighted mean of
            ``value``), ``gini``, ``palma`` (NaN where undefined: no people, or
            nobody has any access). ``attrs`` records ``value`` and ``weight``.

        Raises
        ------
        InputError
            An unknown column, or a ``value`` Series missing area labels.
        """
        frame = pd.DataFrame(self.areas.drop(columns=self.areas.geometry.name))
        name = "n_within" if value is None else value
        if isinstance(name, pd.Series):
            missing = frame.index.difference(name.index)
            if len(missing):
                raise InputError(f"the value Series has no entry for areas {missing[:5].tolist()}: "
                                 "give one per area label (NaN leaves an area out).")
            frame["_value"] = pd.to_numeric(name.reindex(frame.index), errors="coerce").astype(float)
            value_name = str(name.name) if name.name is not None else "value"
        else:
            if name not in frame.columns:
                raise InputError(f"coverage areas have no column {name!r}; columns are {list(frame.columns)}.")
            frame["_value"] = pd.to_numeric(frame[name], errors="coerce").astype(float)
            value_name = name
        if weight_col is None:
            weight_col = next((c for c in ("elderly", "households") if c in frame.columns), None)
        if weight_col is None:
            frame["_people"] = 1.0
        elif weight_col not in frame.columns:
            raise InputError(f"coverage areas have no column {weight_col!r}; columns are {list(frame.columns)}.")
        else:
            frame["_people"] = pd.to_numeric(frame[weight_col], errors="coerce").astype(float)
        groups = [c for c in EQUITY_GROUPS if c in frame.columns] if by is None else \
            ([by] if isinstance(by, str) else list(by))
        missing_cols = [c for c in groups if c not in frame.columns]
        if missing_cols:
            raise InputError(f"coverage areas have no column(s) {missing_cols}: pass areas with them to "
                             "walk_coverage, or another by=.")
        frame["_vw"] = frame["_value"] * frame["_people"]
        frame["_pv"] = frame["_people"].where(frame["_value"].notna(), 0.0)
        parts = []
        for level in [None, *groups]:
            t = equity_by(frame, value_col="_value", weight_col="_people", covered_col="covered", by=level)
            sums = frame.groupby(level, sort=True, dropna=False)[["_vw", "_pv"]].sum() if level else \
                frame[["_vw", "_pv"]].sum().to_frame("all").T
            t["value_mean"] = (sums["_vw"] / sums["_pv"].where(sums["_pv"] > 0)).reindex(t.index)
            t.insert(0, "group", t.index.to_numpy())
            t.insert(0, "level", level or "all")
            parts.append(t.reset_index(drop=True))
        out = pd.concat(parts, ignore_index=True)
        out = out[["level", "group", "units", "people", "share_outside", "value_mean", "gini", "palma"]]
        out.attrs = {"value": value_name, "weight": weight_col or "1 per area"}
        return out


@dataclass(frozen=True)
class WalkingCircle:
    """The walking circle: minutes, walking speed and the distance they give.

    Attributes
    ----------
    minutes : float
        Size of the circle, minutes (``cutoff_m / speed_m_per_min`` when the
        distance was given directly).
    speed_m_per_min : float
        Walking speed, metres per minute.
    cutoff_m : float
        Walking distance, metres.
    speed_source : str
        Where the speed comes from (the profile's note, or the default).
    """

    minutes: float
    speed_m_per_min: float
    cutoff_m: float
    speed_source: str = ""


def walking_circle(standard=None, *, minutes: float | None = None,
                   speed_m_per_min: float | None = None,
                   cutoff_m: float | None = None) -> WalkingCircle:
    """Work out the walking circle: the one place careplan does it.

    Each value comes from the first of: the argument, the standard (its
    service-circle rule and ``[service_circle] speed_m_per_min``), the defaults
    of :mod:`careplan._schema` (15 minutes, 60 m/min). ``cutoff_m`` overrides
    ``minutes * speed_m_per_min``; ``minutes`` is then ``cutoff_m / speed``.

    Parameters
    ----------
    standard : Standard, optional
        A loaded :class:`careplan.standards.Standard`.
    minutes, speed_m_per_min, cutoff_m : float, optional
        Overrides (finite, > 0).

    Returns
    -------
    WalkingCircle

    Raises
    ------
    InputError
        A value that is not a finite number > 0.
    """
    std_minutes = None if standard is None else standard.service_circle_minutes
    if speed_m_per_min is not None:
        speed, source = speed_m_per_min, "given"
    elif standard is not None:
        speed, source = standard.walk_speed_m_per_min, standard.walk_speed_source
    else:
        speed, source = DEFAULT_WALK_SPEED_M_PER_MIN, "careplan default (careplan._schema)"
    speed = _positive("speed_m_per_min", speed)
    if cutoff_m is not None:
        cutoff = _check_cutoff(cutoff_m)
        return WalkingCircle(cutoff / speed, speed, cutoff, source)
    if minutes is None:
        minutes = DEFAULT_SERVICE_CIRCLE_MINUTES if std_minutes is None else std_minutes
    minutes = _positive("minutes", minutes)
    return WalkingCircle(minutes, speed, walking_circle_m(minutes, speed), source)


def walk_coverage(net: WalkNetwork, areas: gpd.GeoDataFrame, facilities: gpd.GeoDataFrame, *,
                  minutes: float = DEFAULT_SERVICE_CIRCLE_MINUTES,
                  speed_m_per_min: float = DEFAULT_SPEED_M_PER_MIN,
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
        and community care circle", :data:`careplan._schema.DEFAULT_SERVICE_CIRCLE_MINUTES`).
    speed_m_per_min : float
        Walking speed; default :data:`DEFAULT_SPEED_M_PER_MIN` (60 m/min,
        see :mod:`careplan._schema` for the source of this assumption).
    cutoff_m : float, optional
        Walking distance in metres; overrides ``minutes * speed_m_per_min``.
    levels : str or list of str, optional
        Only facilities whose ``level`` is one of these count (e.g.
        ``["community"]`` for the community circle).
    max_snap_m : float
        See :meth:`WalkNetwork.snap`.
    verbose : bool, optional
        Progress bar (default: unless careplan is quiet, :func:`careplan.set_quiet`).

    Returns
    -------
    CoverageResult

    Raises
    ------
    InputError
        Inputs that are not GeoDataFrames, bad numbers, ``levels`` without a
        ``level`` column, missing household/elderly values.
    """
    _check_gdf(areas, "areas")
    _check_gdf(facilities, "facilities")
    minutes_v: float | None = None
    speed_v: float | None = None
    if cutoff_m is None:
        circle = walking_circle(minutes=minutes, speed_m_per_min=speed_m_per_min)
        cutoff, minutes_v, speed_v = circle.cutoff_m, circle.minutes, circle.speed_m_per_min
    else:
        cutoff = _check_cutoff(cutoff_m)
    facs = _filter_levels(facilities, levels)
    max_snap = _check_max_snap(max_snap_m)
    if len(facs):
        od = net.distances(areas, facs, cutoff_m=cutoff, max_snap_m=max_snap, verbose=verbose)
        unreach_a = od.attrs["unreachable_origins"]
        unreach_f = od.attrs["unreachable_destinations"]
    else:
        od = pd.DataFrame({"origin": [], "destination": [], "distance_m": []})
        snap = net.snap(areas, max_snap_m=max_snap)
        ok = snap.groupby("label", sort=False)["reachable"].any().reindex(areas.index)
        unreach_a = list(areas.index[~ok.to_numpy(dtype=bool)])
        unreach_f = []
    return coverage_from_distances(areas, od, cutoff_m=cutoff, minutes=minutes_v,
                                   speed_m_per_min=speed_v, unreachable_areas=unreach_a,
                                   unreachable_facilities=unreach_f)


def coverage_from_distances(areas: gpd.GeoDataFrame, pairs: pd.DataFrame, *, cutoff_m: float,
                            minutes: float | None = None, speed_m_per_min: float | None = None,
                            unreachable_areas: Iterable = (),
                            unreachable_facilities: Iterable = (),
                            cut_off_areas: Iterable | None = None,
                            long_access_areas: Iterable | None = None) -> CoverageResult:
    """Coverage of ``areas`` from an already computed distance table.

    Lets a caller that has the areas x facilities walking distances (e.g. the
    plan, which computes them once for the sites before and after) get the
    same result as :func:`walk_coverage` without walking again.

    Parameters
    ----------
    areas : GeoDataFrame
        As for :func:`walk_coverage` (index = labels).
    pairs : DataFrame
        Long table ``origin`` (area label), ``destination`` (facility label),
        ``distance_m``, as from :meth:`WalkNetwork.distances`; rows farther than
        ``cutoff_m`` are ignored.
    cutoff_m : float
        Walking distance of the circle, metres.
    minutes, speed_m_per_min : float, optional
        Reported as they were given.
    unreachable_areas, unreachable_facilities : iterable
        Labels of inputs off the network (reported; such areas are not covered).
    cut_off_areas, long_access_areas : iterable, optional
        Labels of areas snapped to a part of the network they are not connected
        to, or reaching it only by an access leg longer than
        ``careplan.network.DEFAULT_LONG_ACCESS_M`` (see :mod:`careplan.network`).
        Default: ``pairs.attrs["cut_off_origins"]`` /
        ``pairs.attrs["long_access_origins"]`` as :meth:`WalkNetwork.distances`
        records them.

    Returns
    -------
    CoverageResult
        ``areas`` has an ``access`` column: ``"network"``, ``"long_access"``
        (reached only by a long access leg) or ``"cut_off"`` (snapped across a
        gap in the network), so such areas are shown, never counted silently.

    Raises
    ------
    InputError
        Missing or non-numeric household/elderly values, a pair naming an
        unknown area.
    """
    cutoff = _check_cutoff(cutoff_m)
    od = pairs[pairs["distance_m"] <= cutoff]
    n = len(areas)
    pos = areas.index.get_indexer(od["origin"])
    if (pos < 0).any():
        raise InputError(f"distance pairs name unknown areas "
                         f"{list(od['origin'][pos < 0].unique()[:5])}")
    nearest = np.full(n, None, dtype=object)
    nearest_d = np.full(n, np.nan)
    n_within = np.bincount(pos, minlength=n).astype(np.int64)
    if len(od):
        first = od.sort_values(["distance_m"], kind="stable").groupby(
            "origin", sort=False).head(1)
        fpos = areas.index.get_indexer(first["origin"])
        nearest[fpos] = first["destination"].to_numpy()
        nearest_d[fpos] = first["distance_m"].to_numpy()
    unreach_a = list(unreachable_areas)
    reachable = ~areas.index.isin(unreach_a)

    out = gpd.GeoDataFrame(index=areas.index.copy(), geometry=areas.geometry.copy(),
                           crs=areas.crs)
    out.insert(0, "area_id", areas["area_id"].to_numpy() if "area_id" in areas.columns
               else areas.index.to_numpy())
    for col in ("households", "elderly", "built", *EQUITY_GROUPS):
        if col in areas.columns:
            out[col] = areas[col].to_numpy()
    out["nearest_facility"] = nearest
    out["nearest_distance_m"] = nearest_d
    out["covered"] = n_within > 0
    out["n_within"] = n_within
    out["reachable"] = reachable
    out["access"] = _access_flags(areas.index, pairs, cut_off_areas, long_access_areas)
    out = out[[c for c in out.columns if c != "geometry"] + ["geometry"]]
    return CoverageResult(areas=out, summary=_summary(out), cutoff_m=cutoff, minutes=minutes,
                          speed_m_per_min=speed_m_per_min, unreachable_areas=unreach_a,
                          unreachable_facilities=list(unreachable_facilities), pairs=od)


def _access_flags(index: pd.Index, pairs: pd.DataFrame, cut_off: Iterable | None,
                  long_access: Iterable | None) -> np.ndarray:
    """``"network"`` / ``"long_access"`` / ``"cut_off"`` per area (cut-off wins)."""
    cut = pairs.attrs.get("cut_off_origins", ()) if cut_off is None else cut_off
    long_ = pairs.attrs.get("long_access_origins", ()) if long_access is None else long_access
    flags = np.full(len(index), "network", dtype=object)
    flags[index.isin(list(long_))] = "long_access"
    flags[index.isin(list(cut))] = "cut_off"
    return flags


def _summary(out: gpd.GeoDataFrame) -> pd.DataFrame:
    """Totals covered / uncovered by areas, households and elderly."""
    covered = out["covered"].to_numpy()
    rows = {"areas": np.ones(len(out))}
    for col in ("households", "elderly"):
        if col in out.columns:
            vals = pd.to_numeric(out[col], errors="coerce").to_numpy(dtype=float)
            if np.isnan(vals).any():
                bad = out.index[np.isnan(vals)]
                raise InputError(f"areas column {col!r} has missing/non-numeric values at "
                                 f"{', '.join(map(str, bad[:5]))}: fill them (>= 0).")
            rows[col] = vals
    summary = pd.DataFrame(
        {k: {"total": w.sum(), "covered": w[covered].sum(), "uncovered": w[~covered].sum()}
         for k, w in rows.items()}).T
    total = summary["total"]
    summary["share_covered"] = np.where(total > 0, summary["covered"] / total.where(total > 0, 1),
                                        np.nan)
    return summary


def service_areas(net: WalkNetwork, facilities: gpd.GeoDataFrame | gpd.GeoSeries, *,
                  cutoff_m: float, buffer_m: float = DEFAULT_BUFFER_M,
                  max_snap_m: float = DEFAULT_MAX_SNAP_M,
                  quad_segs: int = _reach.DEFAULT_QUAD_SEGS, shape: str = "auto",
                  verbose: bool | None = None) -> gpd.GeoDataFrame:
    """Walking service area (isochrone) polygon of each facility.

    Built from the street segments reachable within ``cutoff_m`` (not a
    convex hull): every edge whose both ends are reached and the two
    directions meet is taken whole; an edge reached from one or both ends
    but not across is cut at the distance where the walk runs out; the
    facility's own edge is walked both ways from the snapped point; the snap
    leg itself is included. The union of these lines is buffered by
    ``buffer_m``.

    The work is bounded by what is reached: one bounded search per facility,
    then only the edges incident to reached nodes (see :mod:`careplan._reach`);
    never every edge of the network for every facility.

    Many facilities: drawing the band (the union of ~300 buffered street pieces
    per facility on a city grid) costs ~40 ms CPU each, and nothing is computed
    from it, so above :data:`MAX_BAND_SERVICE_AREAS` reachable facilities
    (``shape="auto"``) each is drawn as an envelope instead: the concave hull
    of its reached street points (densified to ``1.5 * buffer_m``), buffered by
    ``buffer_m``. The envelope covers every street point the walk reaches (and
    the block interiors between them), ~5-10x cheaper; the ``shape`` column
    says which was drawn.

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
    max_snap_m : float
        Farthest a facility may lie from the network (metres); see
        :meth:`WalkNetwork.snap`.
    quad_segs : int
        Segments per quarter circle of the band's round caps and joins (default
        :data:`careplan._reach.DEFAULT_QUAD_SEGS` = 4: at most 1.9 % of ``buffer_m``
        inside the true circle; GEOS's own default is 8, 1.5x slower).
    shape : {"auto", "band", "hull"}
        How each area is drawn when ``buffer_m > 0``: ``"band"`` the exact band
        around the reached streets; ``"hull"`` the envelope (concave hull of
        the reached street points, ratio :data:`careplan._reach.HULL_RATIO`,
        buffered); ``"auto"`` (default) the band up to
        :data:`MAX_BAND_SERVICE_AREAS` reachable facilities, the hull above.
        With ``buffer_m == 0`` the lines are returned (``"lines"``) unless
        ``"hull"`` is asked for, which needs a buffer.
    verbose : bool, optional
        Progress bar (default: unless careplan is quiet, :func:`careplan.set_quiet`).

    Returns
    -------
    geopandas.GeoDataFrame
        Index = facility labels; columns ``reached_length_m`` (length of
        the reached street pieces, the pieces of one edge counted once, snap
        leg excluded), ``cutoff_m``, ``reachable``, ``shape`` (``"band"``,
        ``"hull"`` or ``"lines"``: how the geometry was drawn), geometry (None
        for unreachable facilities).

    Raises
    ------
    InputError
        If ``cutoff_m``, ``buffer_m`` or ``max_snap_m`` is not a number in range
        (cutoff > 0; buffer and snap >= 0), ``quad_segs`` is not a whole number >= 1,
        or ``shape`` is not one of the above (``"hull"`` with ``buffer_m == 0``).
    """
    cutoff = _check_cutoff(cutoff_m)
    max_snap = _check_max_snap(max_snap_m)
    b = float(buffer_m)
    if not b >= 0:
        raise InputError(f"buffer_m={buffer_m!r} must be >= 0.")
    if isinstance(quad_segs, bool) or not isinstance(quad_segs, (int, np.integer)) \
            or quad_segs < 1:
        raise InputError(f"quad_segs={quad_segs!r} must be a whole number >= 1 (segments "
                         "per quarter circle of the band's round ends, e.g. 4 or 8).")
    if shape not in ("auto", "band", "hull"):
        raise InputError(f"shape={shape!r} is not one of 'auto', 'band', 'hull' (how a "
                         "service area is drawn: 'band' exact, 'hull' a cheap envelope).")
    if shape == "hull" and b == 0:
        raise InputError("shape='hull' needs buffer_m > 0 (the envelope is the concave "
                         "hull buffered by buffer_m); use buffer_m=0 for the lines.")
    r = net.reached_nodes(facilities, cutoff_m=cutoff, max_snap_m=max_snap, verbose=verbose,
                          what="facilities")
    lab, src, node, dist = r.snapped, r.row, r.node, r.distance_m
    index, reach, owner, g = lab.labels, lab.reachable, lab.owner, lab.points
    snap_edge, snap_m, offset_m = lab.snap.edge, lab.snap.snap_distance_m, lab.snap.offset_m
    L = net.edge_length_m
    geom = net.edge_geometry
    parts = lab.parts  # reachable entrances
    row, edge, a, z = _reach.reached_pieces(
        src=src, node=node, dist=dist, cutoff=cutoff, eu=net.edge_u, ev=net.edge_v,
        length=L, n_nodes=net.n_nodes, own_row=owner[parts], own_edge=snap_edge[parts],
        own_snap=snap_m[parts], own_offset=offset_m[parts])
    used, which = np.unique(edge, return_inverse=True)
    pos = L[edge] > 0
    pieces = _reach.substrings(geom[used], which[pos], a[pos] / L[edge][pos],
                               z[pos] / L[edge][pos])
    # snap legs of the entrances whose walk gets past them
    walked = parts[(snap_m[parts] > 0) & (snap_m[parts] <= cutoff)]
    e0 = snap_edge[walked]
    snapped = shapely.line_interpolate_point(
        geom[e0], np.divide(offset_m[walked], L[e0], out=np.zeros(walked.size),
                            where=L[e0] > 0), normalized=True)
    xy = np.stack([shapely.get_coordinates(g[walked]), shapely.get_coordinates(snapped)], axis=1)
    legs = shapely.linestrings(xy) if walked.size else np.empty(0, dtype=object)
    if b == 0:
        drawn = "lines"
    elif shape == "auto":
        drawn = "hull" if int(np.count_nonzero(reach)) > MAX_BAND_SERVICE_AREAS else "band"
    else:
        drawn = shape
    out_len, out_geom = _reach.union_per_group(
        pieces, row[pos], len(index), extra=legs, extra_group=owner[walked], buffer_m=b,
        quad_segs=int(quad_segs), shape=drawn)
    out_geom[~reach] = None
    return gpd.GeoDataFrame({"reached_length_m": out_len, "cutoff_m": cutoff, "reachable": reach,
                             "shape": drawn},
                            geometry=out_geom, crs=net.crs, index=index.copy())


def two_step_fca(net: WalkNetwork, areas: gpd.GeoDataFrame, facilities: gpd.GeoDataFrame, *,
                 cutoff_m: float, capacity_col: str = "floor_area_m2",
                 demand_col: str | None = None, max_snap_m: float = DEFAULT_MAX_SNAP_M,
                 verbose: bool | None = None) -> pd.Series:
    """Two-step floating catchment area (2SFCA) accessibility, binary catchment.

    Step 1: each facility ``j`` gets a supply-to-demand ratio
    ``R_j = S_j / sum(P_k for areas k within cutoff_m of j)``.
    Step 2: each area ``i`` scores ``A_i = sum(R_j for facilities j within
    cutoff_m of i)`` (Luo & Wang 2003). Delegates to
    :func:`careplan.accessibility.fca`, which also offers E2SFCA, Gaussian
    2SFCA, 3SFCA, gravity and any cost table.

    Parameters
    ----------
    net : WalkNetwork
        The walking network; ``areas`` and ``facilities`` in ``net.crs``.
    areas : GeoDataFrame
        Demand locations, shape (n_areas, ...), with the ``demand_col`` column.
    facilities : GeoDataFrame
        Supply locations, shape (n_facilities, ...), with the ``capacity_col`` column.
    cutoff_m : float
        Catchment walking distance (metres).
    capacity_col : str
        Facility supply ``S_j`` (default ``floor_area_m2``; e.g. ``beds``).
    demand_col : str, optional
        Area demand ``P_k``; default ``elderly`` when present, else
        ``households``.
    max_snap_m : float
        Farthest a point may lie from the network (metres); see
        :meth:`WalkNetwork.snap`.
    verbose : bool, optional
        Progress bar (default: unless careplan is quiet, :func:`careplan.set_quiet`).

    Returns
    -------
    pandas.Series
        Indexed like ``areas``, named ``f"{capacity_col}_per_{demand_col}"``
        (e.g. m2 of floor area per elderly person). 0 where no facility is
        in reach; NaN for areas off the network (unreachable). A facility
        whose catchment has zero demand gives ``R_j = 0``.
    """
    from careplan.accessibility import fca  # the FCA family lives there (issue 13)

    _check_gdf(areas, "areas")
    _check_gdf(facilities, "facilities")
    cutoff = _check_cutoff(cutoff_m)
    if demand_col is None:
        demand_col = "elderly" if "elderly" in areas.columns else "households"
    A = fca(net, areas, facilities, method="2sfca", cutoff_m=cutoff, demand_col=demand_col,
            supply_col=capacity_col, max_snap_m=max_snap_m, verbose=verbose)
    A.name = f"{capacity_col}_per_{demand_col}"
    return A
