"""The :class:`WalkNetwork` class: constructor, properties and edge geometry.

Building (``from_*``) lives in :mod:`._build`, snapping in :mod:`._snap` and
queries in :mod:`._query`; they are mixed into this class.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Iterable
from typing import Any, Literal

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from pyproj import CRS

from careplan._errors import CRSError, InputError
from careplan.network._build import (
    _Builders,
    _morton_order,
    connected_parts,
    csr_from_edges,
    lines_or_straight,
)
from careplan.network._common import _check_keep, _readonly
from careplan.network._query import _delta, _Queries
from careplan.network._snap import _Snapping


class WalkNetwork(_Builders, _Snapping, _Queries):
    """An undirected walking network in a projected CRS, stored as CSR arrays.

    Build it with :meth:`from_graph`, :meth:`from_file` or :meth:`from_lines`
    (the constructor takes the arrays those produce and is not meant to be
    called directly).

    Attributes
    ----------
    crs : pyproj.CRS
        Projected CRS of node coordinates and edge geometries (metres).
    indptr, indices, arc_length_m : numpy.ndarray
        Read-only CSR adjacency over node positions ``0 .. n_nodes-1``; every
        undirected edge appears in both directions, parallel edges collapsed
        to the shortest; ``arc_length_m`` in metres (float64). (``weights`` is
        its deprecated name.)
    edge_u, edge_v, edge_length_m, edge_geometry : numpy.ndarray
        Per edge (parallel edges kept): end node positions, length (m) and
        LineString from ``u`` to ``v``.
    node_ids : pandas.Index
        Node labels (OSM ids when built from OSM), by position.
    x, y : numpy.ndarray
        Node coordinates in ``crs``.
    components : pandas.DataFrame
        Connected components of the graph *before* ``keep`` was applied:
        ``component``, ``n_nodes``, ``n_edges``, ``length_m``, ``kept``;
        largest first.
    removed : dict
        What was left out on the user's behalf: ``not_walkable_edges``,
        ``small_component_nodes``, ``small_component_edges``, ``isolated_nodes``
        (nodes without any walkable edge; counts).
    """

    def __init__(self, *, node_ids: Iterable[Any], x: np.ndarray, y: np.ndarray,
                 edge_u: np.ndarray, edge_v: np.ndarray, edge_length: np.ndarray,
                 edge_geometry: np.ndarray, crs: Any, edge_attrs: pd.DataFrame | None = None,
                 keep: Literal["largest", "all"] = "largest", not_walkable_edges: int = 0,
                 source: str = "") -> None:
        _check_keep(keep)
        crs = CRS.from_user_input(crs) if crs is not None else None
        if crs is None:
            raise CRSError("The network has no CRS: pass crs= (a projected CRS in metres).")
        if crs.is_geographic:
            raise CRSError(f"The network CRS {crs.name!r} is geographic: project it to metres first.")
        node_ids = pd.Index(list(node_ids) if not isinstance(node_ids, np.ndarray) else node_ids,
                            tupleize_cols=False)
        x = np.asarray(x, dtype=np.float64)
        y = np.asarray(y, dtype=np.float64)
        edge_u = np.asarray(edge_u, dtype=np.int64)
        edge_v = np.asarray(edge_v, dtype=np.int64)
        edge_length = np.asarray(edge_length, dtype=np.float64)
        edge_geometry = np.asarray(edge_geometry, dtype=object)
        n_edges = edge_u.shape[0]
        where = f" from {source}" if source else ""
        if n_edges == 0:
            raise InputError(f"The walking network{where} is empty (no walkable edges): "
                             "check the input covers streets and that the walkable filter "
                             "(see careplan.network.is_walkable) keeps some of them.")
        if not node_ids.is_unique:
            raise InputError("Node ids are not unique.")
        bad = ~np.isfinite(edge_length) | (edge_length < 0)
        if bad.any():
            raise InputError(f"{int(bad.sum())} edge(s){where} have a missing or negative length: "
                             "give every edge a length >= 0 metres.")
        if edge_attrs is None:
            edge_attrs = pd.DataFrame(index=pd.RangeIndex(n_edges))
        edge_attrs = edge_attrs.reset_index(drop=True)

        parts = connected_parts(len(node_ids), edge_u, edge_v, edge_length, keep)
        keep_node, keep_edge = parts["keep_node"], parts["keep_edge"]
        # streets of the removed small components: a point whose nearest street
        # is one of them is cut off from the kept network (see _snap)
        rem = np.flatnonzero(~keep_edge)
        self._removed_lines = lines_or_straight(
            edge_geometry[rem], x[edge_u[rem]], y[edge_u[rem]], x[edge_v[rem]], y[edge_v[rem]])

        # relabel nodes in spatial (Z-order) order: neighbours sit close in
        # memory, which makes the searches several times faster on big graphs
        kept = np.flatnonzero(keep_node)
        kept = kept[_morton_order(x[kept], y[kept])]
        new_pos = np.full(len(node_ids), -1, dtype=np.int64)
        new_pos[kept] = np.arange(kept.size)
        self._node_ids = node_ids[kept]
        self._x = x[kept]
        self._y = y[kept]
        self._node_component = parts["node_component"][kept]
        # geometries are completed lazily (see _edge_geometry): straight lines
        # for edges without one, all oriented from u to v
        self._edge_u = new_pos[edge_u[keep_edge]]
        self._edge_v = new_pos[edge_v[keep_edge]]
        self._edge_length = edge_length[keep_edge]
        self._geom_given = edge_geometry[keep_edge]
        self._geom_cache: np.ndarray | None = None
        self._geom_len_cache: np.ndarray | None = None
        self._edge_attrs = edge_attrs.loc[keep_edge].reset_index(drop=True)
        # kept writable internally (numba optimises read-only arrays less well);
        # the public properties hand out read-only views
        self._indptr, self._indices, self._arc_length_m = csr_from_edges(
            len(self._node_ids), self._edge_u, self._edge_v, self._edge_length)
        self._crs = crs
        self._components = parts["components"]
        self._keep = keep
        self._removed = {
            "not_walkable_edges": int(not_walkable_edges),
            "small_component_nodes": parts["removed_nodes"],
            "small_component_edges": parts["removed_edges"],
            "isolated_nodes": int((~parts["used"]).sum()),
        }
        self._tree: shapely.STRtree | None = None
        self._seg_cache: dict[str, Any] | None = None  # snapping grid, see _snap
        self._source = source

    # ------------------------------------------------------------- properties
    @property
    def crs(self) -> CRS:
        """Projected CRS (metres) of the network."""
        return self._crs

    @property
    def indptr(self) -> np.ndarray:
        """CSR row pointers (read-only view), length ``n_nodes + 1``."""
        return _readonly(self._indptr)

    @property
    def indices(self) -> np.ndarray:
        """CSR neighbour node positions (read-only view)."""
        return _readonly(self._indices)

    @property
    def arc_length_m(self) -> np.ndarray:
        """CSR arc lengths in metres, float64 (read-only view), aligned with :attr:`indices`."""
        return _readonly(self._arc_length_m)

    @property
    def weights(self) -> np.ndarray:
        """Deprecated name of :attr:`arc_length_m` (``weights`` means demand weights in locate)."""
        warnings.warn("WalkNetwork.weights is renamed arc_length_m (in careplan 'weights' are "
                      "demand weights); use net.arc_length_m.", DeprecationWarning, stacklevel=2)
        return self.arc_length_m

    @property
    def edge_u(self) -> np.ndarray:
        """Node position of each edge's first end, shape (n_edges,) (read-only view)."""
        return _readonly(self._edge_u)

    @property
    def edge_v(self) -> np.ndarray:
        """Node position of each edge's second end, shape (n_edges,) (read-only view)."""
        return _readonly(self._edge_v)

    @property
    def edge_length_m(self) -> np.ndarray:
        """Length of each edge in metres, shape (n_edges,), as used in distances (read-only)."""
        return _readonly(self._edge_length)

    @property
    def edge_geometry(self) -> np.ndarray:
        """LineString of each edge, from ``edge_u`` to ``edge_v``, shape (n_edges,) (a copy)."""
        return self._edge_geometry.copy()

    @property
    def x(self) -> np.ndarray:
        """Node x coordinates in :attr:`crs` (read-only view)."""
        return _readonly(self._x)

    @property
    def y(self) -> np.ndarray:
        """Node y coordinates in :attr:`crs` (read-only view)."""
        return _readonly(self._y)

    @property
    def node_ids(self) -> pd.Index:
        """Node labels by position (OSM ids when built from OSM)."""
        return self._node_ids

    @property
    def n_nodes(self) -> int:
        """Number of nodes."""
        return len(self._node_ids)

    @property
    def n_edges(self) -> int:
        """Number of edges (parallel edges counted)."""
        return int(self._edge_u.size)

    @property
    def components(self) -> pd.DataFrame:
        """Connected components before ``keep`` was applied (largest first)."""
        return self._components.copy()

    @property
    def removed(self) -> dict[str, int]:
        """Counts of what was left out on the user's behalf."""
        return dict(self._removed)

    @property
    def nodes(self) -> gpd.GeoDataFrame:
        """Nodes as a GeoDataFrame indexed by node id (columns x, y, component)."""
        return gpd.GeoDataFrame(
            {"x": self._x, "y": self._y, "component": self._node_component},
            geometry=gpd.points_from_xy(self._x, self._y), crs=self._crs,
            index=self._node_ids.copy())

    @property
    def edges(self) -> gpd.GeoDataFrame:
        """Edges as a GeoDataFrame: u, v (node ids), length_m, highway, name, osmid, geometry.

        The index is the edge position used in :meth:`snap` results
        (column ``edge``). Geometries run from ``u`` to ``v``. Tag lists of
        merged osmnx edges are joined with ``;`` (the OSM convention), so the
        frame can be written to a GeoPackage.
        """
        df = pd.DataFrame({
            "u": self._node_ids[self._edge_u],
            "v": self._node_ids[self._edge_v],
            "length_m": np.asarray(self._edge_length),
        })
        for c in self._edge_attrs.columns:
            col = self._edge_attrs[c].to_numpy()
            if col.dtype == object:  # osmnx merges tags of simplified edges into lists
                col = np.array([";".join(map(str, v)) if isinstance(v, list | tuple) else v
                                for v in col], dtype=object)
            df[c] = col
        return gpd.GeoDataFrame(df, geometry=self._edge_geometry.copy(), crs=self._crs)

    def __getstate__(self) -> dict[str, Any]:
        state = self.__dict__.copy()
        state["_tree"] = None  # rebuilt on demand
        state["_seg_cache"] = None
        return state

    def __repr__(self) -> str:
        km = float(self._edge_length.sum()) / 1000
        return (f"WalkNetwork({self.n_nodes} nodes, {self.n_edges} edges, {km:.1f} km, "
                f"crs={self._crs.to_string()!r}, keep={self._keep!r})")

    # -------------------------------------------------------------- geometry
    @property
    def _edge_geometry(self) -> np.ndarray:
        if self._geom_cache is None:
            egeom = self._geom_given
            eu, ev, xs, ys = self._edge_u, self._edge_v, self._x, self._y
            missing = np.array([g is None or (isinstance(g, float) and math.isnan(g))
                                for g in egeom], dtype=bool)
            out = np.empty(egeom.size, dtype=object)
            given = np.flatnonzero(~missing)
            if given.size:
                g = egeom[given]
                empty = shapely.is_empty(g)
                missing[given[empty]] = True
                given, g = given[~empty], g[~empty]
                first = shapely.get_point(g, 0)
                fx, fy = shapely.get_x(first), shapely.get_y(first)
                du = np.hypot(fx - xs[eu[given]], fy - ys[eu[given]])
                dv = np.hypot(fx - xs[ev[given]], fy - ys[ev[given]])
                flip = dv < du
                g = g.copy()
                g[flip] = shapely.reverse(g[flip])
                out[given] = g
            if missing.any():
                m = np.flatnonzero(missing)
                coords = np.empty((m.size, 2, 2))
                coords[:, 0, 0] = xs[eu[m]]
                coords[:, 0, 1] = ys[eu[m]]
                coords[:, 1, 0] = xs[ev[m]]
                coords[:, 1, 1] = ys[ev[m]]
                out[m] = shapely.linestrings(coords)
            self._geom_cache = out
        return self._geom_cache

    @property
    def _edge_geom_length(self) -> np.ndarray:
        if self._geom_len_cache is None:
            self._geom_len_cache = shapely.length(self._edge_geometry)
        return self._geom_len_cache

    def _delta(self, cutoff: float) -> float:
        """Bucket width of the search kernel on the full graph (see careplan._kernels)."""
        if not math.isfinite(cutoff):
            raise InputError("cutoff_m must be a finite distance in metres.")
        return _delta(self._arc_length_m, cutoff)
