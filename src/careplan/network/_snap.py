"""Snapping points to the nearest edge of a WalkNetwork (see :mod:`careplan.network`)."""

from __future__ import annotations

import math
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from pyproj import CRS

from careplan import _kernels
from careplan._errors import CRSError, InputError
from careplan.network._common import (
    DEFAULT_LONG_ACCESS_M,
    DEFAULT_MAX_SNAP_M,
    _check_max_snap,
    _label_list,
    _warn,
)
from careplan.network._types import EdgeSnap, SnappedPoints


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
        if shapely.has_z(g).any():  # 3-D points (CAD / GPS exports): Z dropped at the boundary
            g = shapely.force_2d(g)
            _warn(f"{what} have Z (3-D) coordinates: Z is ignored, walking distances are "
                  "measured in 2-D along the streets.")
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

    def _snap_labels(self, points: Any, what: str, max_snap: float,
                     strict: bool = True) -> SnappedPoints:
        """Snap every part (entrance) of every label; reachability per label."""
        index, g, owner = self._points(points, what)
        s = self._snap_arrays(g, max_snap)
        part_ok = s.snap_distance_m <= max_snap
        reach = np.zeros(len(index), dtype=bool)
        reach[owner[part_ok]] = True
        best = np.full(len(index), np.inf)
        np.minimum.at(best, owner, s.snap_distance_m)
        self._warn_unreachable(index, reach, what, max_snap, best, strict=strict)
        cut_part = self._cut_off_parts(g, s.snap_distance_m) & part_ok
        n_ok = np.bincount(owner[part_ok], minlength=len(index))
        cut = reach & (np.bincount(owner[cut_part], minlength=len(index)) == n_ok)
        long_leg = reach & (best > DEFAULT_LONG_ACCESS_M)
        self._warn_access(index, cut, long_leg, best, what)
        parts = np.flatnonzero(part_ok)
        parts = parts[np.argsort(owner[parts], kind="stable")]
        rows = np.unique(owner[parts])  # reachable labels, in input order
        ptr = np.searchsorted(owner[parts], np.arange(len(index) + 1))
        # part ranges of the reachable labels
        part_ptr = np.concatenate([[0], np.cumsum(ptr[rows + 1] - ptr[rows])]).astype(np.int64)
        return SnappedPoints(labels=index, points=g, owner=owner, snap=s, reachable=reach,
                             nearest_m=best, parts=parts, rows=rows, part_ptr=part_ptr,
                             cut_off=cut, long_access=long_leg)

    def _cut_off_parts(self, g: np.ndarray, snap_m: np.ndarray) -> np.ndarray:
        """Per point: is a street of a removed small component nearer than its snapped edge?"""
        cut = np.zeros(g.size, dtype=bool)
        lines = self._removed_lines
        ok = np.isfinite(snap_m) & (snap_m > 0)
        if lines.size == 0 or not ok.any():
            return cut
        rows = np.flatnonzero(ok)
        tree = shapely.STRtree(lines)
        (pi, _), d = tree.query_nearest(g[rows], max_distance=float(snap_m[rows].max()),
                                        return_distance=True)
        hit = d < snap_m[rows[pi]]
        cut[rows[pi[hit]]] = True
        return cut

    @staticmethod
    def _warn_access(index: pd.Index, cut: np.ndarray, long_leg: np.ndarray,
                     nearest_m: np.ndarray, what: str) -> None:
        """One warning listing points cut off from the kept network or with a long access leg."""
        msgs = []
        if cut.any():
            msgs.append(
                f"{int(cut.sum())} {what} are nearest to a street of a small disconnected piece "
                f"removed by keep='largest' ({_label_list(index, cut)}): they reach the kept "
                "network only by a straight leg across whatever separates them (up to "
                f"{nearest_m[cut].max():,.0f} m); see attrs['cut_off_*'] of distance tables. "
                "Build with keep='all' to let them reach only their own piece")
        if long_leg.any():
            msgs.append(
                f"{int(long_leg.sum())} {what} lie more than {DEFAULT_LONG_ACCESS_M:g} m from "
                f"any street ({_label_list(index, long_leg)}): reached only by a long access "
                "leg, walked straight; see attrs['long_access_*']")
        if msgs:
            _warn("; ".join(msgs) + ".")

    def snap_points(self, points: gpd.GeoDataFrame | gpd.GeoSeries, *,
                    max_snap_m: float = DEFAULT_MAX_SNAP_M) -> SnappedPoints:
        """Snap labelled points to their nearest edges, as arrays (the form queries use).

        Parameters
        ----------
        points : GeoDataFrame or GeoSeries, n_labels rows
            In the network's CRS, unique index labels. Polygons use their
            representative point; a MultiPoint is a set of entrances.
        max_snap_m : float
            Parts farther than this from every edge are not used (metres).

        Returns
        -------
        SnappedPoints
            See :class:`careplan.network.SnappedPoints`; :meth:`snap` gives
            the same as a labelled table.

        Raises
        ------
        InputError
            Bad labels or geometries, or every point beyond ``max_snap_m``.
        CRSError
            Points not in the network's CRS.
        """
        return self._snap_labels(points, "points", _check_max_snap(max_snap_m))

    def _segment_index(self) -> dict[str, Any]:
        """Straight segments of every edge geometry and a uniform grid over them (cached)."""
        if getattr(self, "_seg_cache", None) is None:
            coords, owner = shapely.get_coordinates(self._edge_geometry, return_index=True)
            same = owner[1:] == owner[:-1]  # consecutive vertices of one edge
            x0, y0 = coords[:-1, 0][same], coords[:-1, 1][same]
            x1, y1 = coords[1:, 0][same], coords[1:, 1][same]
            seg_edge = owner[:-1][same].astype(np.int64)
            seg_len = np.hypot(x1 - x0, y1 - y0)
            # metres of geometry before each segment, within its edge
            csum = np.cumsum(seg_len)
            first = np.ones(seg_edge.size, dtype=bool)
            first[1:] = seg_edge[1:] != seg_edge[:-1]
            base = np.maximum.accumulate(np.where(first, np.arange(seg_edge.size), 0))
            seg_along = csum - seg_len - (csum[base] - seg_len[base])
            glen = np.bincount(seg_edge, weights=seg_len, minlength=self.n_edges)
            xmin, xmax = float(min(x0.min(), x1.min())), float(max(x0.max(), x1.max()))
            ymin, ymax = float(min(y0.min(), y1.min())), float(max(y0.max(), y1.max()))
            area = max((xmax - xmin) * (ymax - ymin), 1.0)
            # about one segment per cell, but no cell shorter than a typical
            # segment (long segments would otherwise be listed in many cells)
            cell = max(math.sqrt(area / seg_edge.size), float(np.median(seg_len)), 1e-3)
            ncx = int((xmax - xmin) / cell) + 1
            ncy = int((ymax - ymin) / cell) + 1
            cell_ptr, cell_seg = _kernels.segment_grid(x0, y0, x1, y1, xmin, ymin, cell, ncx, ncy)
            self._seg_cache = {
                "x0": x0, "y0": y0, "x1": x1, "y1": y1, "seg_edge": seg_edge,
                "seg_len": seg_len, "seg_along": seg_along, "geom_len": glen,
                "xmin": xmin, "ymin": ymin, "cell": cell, "ncx": ncx, "ncy": ncy,
                "cell_ptr": cell_ptr, "cell_seg": cell_seg}
        return self._seg_cache

    def _snap_arrays(self, g: np.ndarray, max_snap: float | None = None) -> EdgeSnap:
        """Nearest edge, straight snap distance and offset along the edge of every point.

        The compiled grid search (:func:`careplan._kernels.nearest_segment`)
        answers every point within ``max_snap``; the few farther points are
        answered by an STRtree (their distance is reported in messages).
        """
        ix = self._segment_index()
        px = shapely.get_x(g).astype(np.float64)
        py = shapely.get_y(g).astype(np.float64)
        limit = np.inf if max_snap is None else float(max_snap)
        seg, snap, t = _kernels.nearest_segment(
            px, py, x0=ix["x0"], y0=ix["y0"], x1=ix["x1"], y1=ix["y1"], seg_edge=ix["seg_edge"],
            edge_u=self._edge_u, edge_v=self._edge_v, node_x=self._x, node_y=self._y,
            xmin=ix["xmin"], ymin=ix["ymin"], cell=ix["cell"], ncx=ix["ncx"], ncy=ix["ncy"],
            cell_ptr=ix["cell_ptr"], cell_seg=ix["cell_seg"], max_dist=limit)
        found = seg >= 0
        edge = np.full(g.size, -1, dtype=np.int64)
        edge[found] = ix["seg_edge"][seg[found]]
        along = np.zeros(g.size)
        along[found] = ix["seg_along"][seg[found]] + t[found] * ix["seg_len"][seg[found]]
        glen = ix["geom_len"][edge]
        if not found.all():  # farther than max_snap: nearest edge by the STRtree
            rows = np.flatnonzero(~found)
            edge[rows], snap[rows] = self._nearest_edge_tree(g[rows])
            glen[rows] = self._edge_geom_length[edge[rows]]
            along[rows] = shapely.line_locate_point(self._edge_geometry[edge[rows]], g[rows])
        L = self._edge_length[edge]
        frac = np.divide(along, glen, out=np.zeros_like(along), where=glen > 0)
        offset = np.clip(frac, 0.0, 1.0) * L
        return EdgeSnap(edge=edge, snap_distance_m=snap, offset_m=offset, edge_length_m=L,
                        u=self._edge_u[edge], v=self._edge_v[edge])

    def _nearest_edge_tree(self, g: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Nearest edge and distance of each point, no distance limit (STRtree)."""
        (pi, ei), dist = self._tree_().query_nearest(g, return_distance=True, all_matches=True)
        # ties: prefer the edge with an end node nearest the point, then the lowest edge
        px, py = shapely.get_x(g)[pi], shapely.get_y(g)[pi]
        eu, ev = self._edge_u[ei], self._edge_v[ei]
        end_d = np.minimum(np.hypot(self._x[eu] - px, self._y[eu] - py),
                           np.hypot(self._x[ev] - px, self._y[ev] - py))
        order = np.lexsort((ei, end_d, pi))
        pi, ei, dist = pi[order], ei[order], dist[order]
        first = np.ones(pi.size, dtype=bool)
        first[1:] = pi[1:] != pi[:-1]
        edge = np.full(g.size, -1, dtype=np.int64)
        snap = np.full(g.size, np.inf)
        edge[pi[first]] = ei[first]
        snap[pi[first]] = dist[first]
        return edge, snap

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
            ``y`` (the snapped point), ``reachable``, ``cut_off`` (the
            nearest street is in a piece removed by ``keep='largest'``) and
            ``long_access`` (leg longer than ``DEFAULT_LONG_ACCESS_M``). A
            CareplanWarning lists unreachable points.

        Raises
        ------
        InputError
            Bad ``max_snap_m``, non-unique labels, missing geometries.
        CRSError
            Points not in the network's CRS.
        """
        max_snap = _check_max_snap(max_snap_m)
        index, g, owner = self._points(points, "points")
        s = self._snap_arrays(g, max_snap)
        reach = s.snap_distance_m <= max_snap
        self._warn_unreachable(index[owner], reach, "points", max_snap, strict=False)
        sp = shapely.line_interpolate_point(self._edge_geometry[s.edge],
                                            np.divide(s.offset_m, s.edge_length_m,
                                                      out=np.zeros_like(s.offset_m),
                                                      where=s.edge_length_m > 0), normalized=True)
        first = np.ones(owner.size, dtype=bool)
        first[1:] = owner[1:] != owner[:-1]
        start = np.maximum.accumulate(np.where(first, np.arange(owner.size), 0))
        return pd.DataFrame({
            "label": index[owner],
            "part": np.arange(owner.size) - start,
            "edge": s.edge,
            "u": self._node_ids[s.u],
            "v": self._node_ids[s.v],
            "snap_distance_m": s.snap_distance_m,
            "offset_m": s.offset_m,
            "edge_length_m": s.edge_length_m,
            "x": shapely.get_x(sp),
            "y": shapely.get_y(sp),
            "reachable": reach,
            "cut_off": self._cut_off_parts(g, s.snap_distance_m) & reach,
            "long_access": reach & (s.snap_distance_m > DEFAULT_LONG_ACCESS_M),
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
    def _seeds(lab: SnappedPoints) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Seeds per reachable label: both end nodes of each entrance's edge with access legs."""
        s, parts = lab.snap, lab.parts
        n = parts.size
        nodes = np.empty(2 * n, dtype=np.int64)
        d = np.empty(2 * n, dtype=np.float64)
        nodes[0::2] = s.u[parts]
        nodes[1::2] = s.v[parts]
        d[0::2] = s.snap_distance_m[parts] + s.offset_m[parts]
        d[1::2] = s.snap_distance_m[parts] + (s.edge_length_m[parts] - s.offset_m[parts])
        return 2 * lab.part_ptr, nodes, d
