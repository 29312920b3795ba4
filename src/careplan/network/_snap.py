"""Snapping points to the nearest edge of a WalkNetwork (see :mod:`careplan.network`)."""

from __future__ import annotations

from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from pyproj import CRS

from careplan._errors import CRSError, InputError
from careplan.network._common import DEFAULT_MAX_SNAP_M, _check_max_snap, _label_list, _warn


class _Snapping:
    """Snapping methods of :class:`~careplan.network.WalkNetwork`."""

    def _tree_(self) -> shapely.STRtree:
        if self._tree is None:
            self._tree = shapely.STRtree(self._edge_geometry)
        return self._tree

    def _points(self, points: Any, what: str) -> tuple[pd.Index, np.ndarray]:
        if isinstance(points, gpd.GeoDataFrame):
            geo = points.geometry
        elif isinstance(points, gpd.GeoSeries):
            geo = points
        else:
            raise InputError(f"{what} must be a GeoDataFrame or GeoSeries, got {type(points).__name__}.")
        if geo.crs is None:
            raise CRSError(f"{what} have no CRS: set it with .set_crs(...), then "
                           f".to_crs(net.crs) (the network is in {self._crs.name}).")
        if not CRS.from_user_input(geo.crs).equals(self._crs):
            raise CRSError(f"{what} are in {geo.crs.name!r} but the network is in "
                           f"{self._crs.name!r}: reproject with {what}.to_crs(net.crs).")
        if not geo.index.is_unique:
            dup = geo.index[geo.index.duplicated()]
            raise InputError(f"{what} index has duplicate labels ({', '.join(map(str, dup[:5]))}): "
                             "results are labelled by the index, so make it unique "
                             "(e.g. .set_index('area_id') or .reset_index()).")
        g = np.asarray(geo.values, dtype=object)
        empty = pd.isna(g)
        empty[~empty] = shapely.is_empty(g[~empty])
        if empty.any():
            raise InputError(f"{what} {_label_list(geo.index, empty)} have no geometry: "
                             "give them a location or remove them.")
        types = shapely.get_type_id(g)
        other = (types != 0) & (types != 4)
        if other.any():
            g = g.copy()
            g[other] = shapely.point_on_surface(g[other])
        if (types == 4).any():  # MultiPoint: one part per entrance
            g, owner = shapely.get_parts(g, return_index=True)
        else:
            owner = np.arange(g.size)
        return geo.index, g, owner.astype(np.int64)

    def _snap_labels(self, points: Any, what: str, max_snap: float, strict: bool = True):
        """Snap every part (entrance) of every label; reachability per label."""
        index, g, owner = self._points(points, what)
        s = self._snap_arrays(g, max_snap)
        part_ok = s["snap"] <= max_snap
        reach = np.zeros(len(index), dtype=bool)
        reach[owner[part_ok]] = True
        best = np.full(len(index), np.inf)
        np.minimum.at(best, owner, s["snap"])
        self._warn_unreachable(index, reach, what, max_snap, best, strict=strict)
        parts = np.flatnonzero(part_ok)
        parts = parts[np.argsort(owner[parts], kind="stable")]
        rows = np.unique(owner[parts])  # reachable labels, in input order
        ptr = np.searchsorted(owner[parts], np.arange(len(index) + 1))
        # part ranges of the reachable labels
        part_ptr = np.concatenate([[0], np.cumsum(ptr[rows + 1] - ptr[rows])]).astype(np.int64)
        return {"index": index, "g": g, "owner": owner, "s": s, "reach": reach,
                "parts": parts, "rows": rows, "part_ptr": part_ptr, "best_snap": best}

    def _snap_arrays(self, g: np.ndarray, max_snap: float | None = None) -> dict[str, np.ndarray]:
        tree = self._tree_()
        if max_snap is None:
            (pi, ei), dist = tree.query_nearest(g, return_distance=True, all_matches=True)
        else:
            # bounded search first (fast), unbounded only for the far points
            (pi, ei), dist = tree.query_nearest(g, max_distance=max(max_snap, 1e-9),
                                                return_distance=True, all_matches=True)
            miss = np.ones(g.size, dtype=bool)
            miss[pi] = False
            if miss.any():
                rows = np.flatnonzero(miss)
                (p2, e2), d2 = tree.query_nearest(g[rows], return_distance=True, all_matches=True)
                pi = np.concatenate([pi, rows[p2]])
                ei = np.concatenate([ei, e2])
                dist = np.concatenate([dist, d2])
        # ties (a point on a node touches every edge there, and maybe a bridge
        # passing over it): prefer the edge with an end node nearest the point
        px, py = shapely.get_x(g)[pi], shapely.get_y(g)[pi]
        eu, ev = self._edge_u[ei], self._edge_v[ei]
        end_d = np.minimum(np.hypot(self._x[eu] - px, self._y[eu] - py),
                           np.hypot(self._x[ev] - px, self._y[ev] - py))
        order = np.lexsort((ei, end_d, pi))
        pi, ei, dist = pi[order], ei[order], dist[order]
        first = np.ones(pi.size, dtype=bool)
        first[1:] = pi[1:] != pi[:-1]
        pi, ei, dist = pi[first], ei[first], dist[first]
        edge = np.full(g.size, -1, dtype=np.int64)
        snap = np.full(g.size, np.inf)
        edge[pi] = ei
        snap[pi] = dist
        geoms = self._edge_geometry[edge]
        along = shapely.line_locate_point(geoms, g)
        glen = self._edge_geom_length[edge]
        L = self._edge_length[edge]
        frac = np.divide(along, glen, out=np.zeros_like(along), where=glen > 0)
        frac = np.clip(frac, 0.0, 1.0)
        offset = frac * L
        return {"edge": edge, "snap": snap, "offset": offset, "length": L,
                "u": self._edge_u[edge], "v": self._edge_v[edge]}

    def snap(self, points: gpd.GeoDataFrame | gpd.GeoSeries, *,
             max_snap_m: float = DEFAULT_MAX_SNAP_M) -> pd.DataFrame:
        """Snap points to their nearest edge.

        Parameters
        ----------
        points : GeoDataFrame or GeoSeries
            In the network's CRS. Polygons (or any non-point) are replaced by
            their representative point (``point_on_surface``); a MultiPoint
            is a set of entrances (one row per entrance).
        max_snap_m : float
            Points farther than this from every edge are unreachable.

        Returns
        -------
        pandas.DataFrame
            Indexed by the points' labels, with columns ``label``, ``part``
            (0, or the entrance number of a MultiPoint), ``edge``
            (position in :attr:`edges`), ``u``, ``v`` (node ids),
            ``snap_distance_m`` (straight leg to the edge), ``offset_m``
            (metres along the edge from ``u``), ``edge_length_m``, ``x``,
            ``y`` (the snapped point) and ``reachable``. A CareplanWarning
            lists unreachable points.
        """
        max_snap = _check_max_snap(max_snap_m)
        index, g, owner = self._points(points, "points")
        s = self._snap_arrays(g, max_snap)
        reach = s["snap"] <= max_snap
        self._warn_unreachable(index[owner], reach, "points", max_snap, strict=False)
        sp = shapely.line_interpolate_point(self._edge_geometry[s["edge"]],
                                            np.divide(s["offset"], s["length"],
                                                      out=np.zeros_like(s["offset"]),
                                                      where=s["length"] > 0), normalized=True)
        first = np.ones(owner.size, dtype=bool)
        first[1:] = owner[1:] != owner[:-1]
        start = np.maximum.accumulate(np.where(first, np.arange(owner.size), 0))
        return pd.DataFrame({
            "label": index[owner],
            "part": np.arange(owner.size) - start,
            "edge": s["edge"],
            "u": self._node_ids[s["u"]],
            "v": self._node_ids[s["v"]],
            "snap_distance_m": s["snap"],
            "offset_m": s["offset"],
            "edge_length_m": s["length"],
            "x": shapely.get_x(sp),
            "y": shapely.get_y(sp),
            "reachable": reach,
        }, index=index[owner])

    @staticmethod
    def _warn_unreachable(index: pd.Index, reach: np.ndarray, what: str, max_snap: float,
                          snap: np.ndarray | None = None, strict: bool = True) -> None:
        """Warn about unreachable points; raise if *all* of them are (``strict``)."""
        if reach.all():
            return
        if strict and not reach.any():
            near = f" (the nearest is {np.min(snap):,.0f} m away)" if snap is not None else ""
            raise InputError(
                f"None of the {reach.size} {what} lies within max_snap_m={max_snap:g} m of the "
                f"network{near}: are they in the network's area and CRS? Raise max_snap_m if "
                "they really are that far from every street.")
        _warn(f"{int((~reach).sum())} {what} lie farther than max_snap_m={max_snap:g} m "
                      f"from the network and are unreachable: {_label_list(index, ~reach)}. "
                      "Check their location/CRS or raise max_snap_m.")

    @staticmethod
    def _seeds(lab: dict[str, Any]):
        """Seeds per reachable label: both end nodes of each entrance's edge with access legs."""
        s, parts = lab["s"], lab["parts"]
        n = parts.size
        nodes = np.empty(2 * n, dtype=np.int64)
        d = np.empty(2 * n, dtype=np.float64)
        nodes[0::2] = s["u"][parts]
        nodes[1::2] = s["v"][parts]
        d[0::2] = s["snap"][parts] + s["offset"][parts]
        d[1::2] = s["snap"][parts] + (s["length"][parts] - s["offset"][parts])
        return 2 * lab["part_ptr"], nodes, d
