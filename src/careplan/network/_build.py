"""Building a WalkNetwork: noding OSM ways and centre-lines, components, CSR arrays.

The three builders (:meth:`WalkNetwork.from_graph`, :meth:`~WalkNetwork.from_file`,
:meth:`~WalkNetwork.from_lines`) turn their input into constructor arguments
(node ids, coordinates, edge end nodes, lengths, geometries); the
constructor then calls :func:`connected_parts` and :func:`csr_from_edges`.
"""

from __future__ import annotations

import os
import warnings
from typing import TYPE_CHECKING, Any, Literal

import geopandas as gpd
import networkx as nx
import numpy as np
import pandas as pd
import shapely
from scipy import sparse
from scipy.sparse.csgraph import connected_components

from careplan._errors import CRSError, InputError
from careplan.network._common import _check_keep, _utm_crs, _warn
from careplan.network._osm import _TAG_KEYS, edges_from_graph, read_osm_ways

if TYPE_CHECKING:
    from careplan.network._network import WalkNetwork


class _Builders:
    """The ``from_*`` constructors of :class:`~careplan.network.WalkNetwork`."""

    @classmethod
    def from_graph(cls, G: nx.Graph, *, src_crs: Any = None,
                   keep: Literal["largest", "all"] = "largest",
                   walkable_only: bool = True, crs: Any = None) -> WalkNetwork:
        """Build from an osmnx / networkx graph.

        Parameters
        ----------
        G : networkx.Graph, MultiGraph, DiGraph or MultiDiGraph
            Nodes need ``x`` and ``y`` attributes. Edge length is the ``length``
            attribute when present (osmnx: metres), otherwise the length of the
            ``geometry`` attribute (projected), otherwise the straight line.
            Directed graphs are made undirected (an edge and its reverse twin
            of the same length count once).
        src_crs : CRS-like, optional
            CRS the node coordinates are in (as ``src_crs=`` of the readers);
            default ``G.graph["crs"]``. A geographic CRS is projected to the
            local UTM zone (like ``osmnx.project_graph``).
        keep : {'largest', 'all'}
            Keep only the largest connected component (a CareplanWarning says
            how much was removed) or every component.
        walkable_only : bool
            Drop edges that fail :func:`is_walkable` on their tags (with a
            CareplanWarning). When some edges carry a ``highway`` tag (an OSM
            graph), edges without one are dropped too: ``osmnx.graph_from_xml``
            also turns building and land-use outlines into edges. An osmnx
            ``network_type="walk"`` graph passes unchanged.

        crs : CRS-like, optional
            Deprecated name of ``src_crs`` (in the readers ``crs=`` is the
            target CRS); still accepted with a DeprecationWarning.

        Returns
        -------
        WalkNetwork

        Raises
        ------
        InputError
            Not a graph, no edges, nodes without ``x``/``y``, bad ``keep``.
        CRSError
            No CRS given or found in ``G.graph["crs"]``.
        """
        _check_keep(keep)
        src_crs = _renamed_crs(src_crs, crs, "from_graph")
        kw = edges_from_graph(G, crs=src_crs, walkable_only=walkable_only)
        return cls(**kw, keep=keep, source="graph")

    @classmethod
    def from_file(cls, path: str | os.PathLike, *, keep: Literal["largest", "all"] = "largest",
                  walkable_only: bool = True) -> WalkNetwork:
        """Build from an OpenStreetMap file, offline.

        Parameters
        ----------
        path : str or path-like
            ``.osm`` / ``.xml`` (OSM XML), ``.osm.bz2`` / ``.osm.gz``
            (compressed XML) or ``.osm.pbf`` / ``.pbf``. Read with pyosmium.
        keep : {'largest', 'all'}
            See :meth:`from_graph`.
        walkable_only : bool
            Keep only ways passing :func:`is_walkable` (default).

        Returns
        -------
        WalkNetwork

        Raises
        ------
        InputError
            Missing file, unknown suffix, unreadable file, no walkable way,
            bad ``keep``.

        Notes
        -----
        Ways with a ``highway`` tag are split into edges at every node shared
        by two or more ways (or used twice by one way) and at their ends;
        intermediate nodes become the edge geometry. Edge length is the sum of
        great-circle segment lengths (the osmnx formula, Earth radius
        6,371,009 m), so distances match an osmnx graph of the same file.
        Coordinates are projected to the local UTM zone.

        The file is read as an editor shows it (see
        :mod:`careplan.network._osmfile`): a way whose nodes are missing from
        a clipped extract is split at the gaps, never bridged (one warning
        counts them); deleted elements (JOSM ``action="delete"``,
        ``visible="false"``), older versions in history files, negative ids,
        ways before their nodes and Overpass inline geometry are handled; a
        node with unreadable coordinates (``lat="nan"``) is skipped with a
        warning naming it.
        """
        _check_keep(keep)
        ways = read_osm_ways(path, walkable_only=walkable_only)
        return cls(**network_from_ways(ways["refs"], ways["lon"], ways["lat"], ways["counts"],
                                       ways["tags"]),
                   keep=keep, not_walkable_edges=ways["not_walkable"], source=ways["source"])

    @classmethod
    def from_lines(cls, lines: gpd.GeoDataFrame | gpd.GeoSeries, *, tolerance_m: float = 1.0,
                   split_at_intersections: bool = True,
                   keep: Literal["largest", "all"] = "largest") -> WalkNetwork:
        """Build from road centre-lines (e.g. a planning bureau's own network).

        Parameters
        ----------
        lines : GeoDataFrame or GeoSeries
            LineString / MultiLineString geometries in a projected CRS. Every
            line is assumed walkable both ways; filter it beforehand if not.
        tolerance_m : float
            Line end points closer than this are merged into one node (their
            centroid; the line ends are moved onto it).
        split_at_intersections : bool
            If True (default) the lines are *noded* first (``shapely.node``):
            split wherever two lines cross or touch, so a crossing becomes a
            junction. Set False when crossings can be grade-separated (bridges,
            tunnels) and the lines are already split at real junctions.
        keep : {'largest', 'all'}
            See :meth:`from_graph`.

        Returns
        -------
        WalkNetwork
            Node ids are ``0 .. n-1``; edge length is the geometry length.

        Raises
        ------
        InputError
            Not lines, no non-empty line, bad ``tolerance_m`` or ``keep``.
        CRSError
            No CRS, or a geographic one.
        """
        _check_keep(keep)
        return cls(**network_from_lines(lines, tolerance_m=tolerance_m,
                                        split_at_intersections=split_at_intersections),
                   keep=keep, source="lines")


def _renamed_crs(src_crs: Any, crs: Any, where: str) -> Any:
    """``src_crs``, or the deprecated ``crs=`` (which meant the same in the builders)."""
    if crs is None:
        return src_crs
    if src_crs is not None:
        raise InputError(f"{where}: pass src_crs= only (crs= is its deprecated name).")
    warnings.warn(f"{where}(crs=...) is renamed src_crs= (the CRS the input is in; in the "
                  "readers crs= is the target CRS); crs= will be removed.",
                  DeprecationWarning, stacklevel=3)
    return crs


# ----------------------------------------------------------------------------
# noding
# ----------------------------------------------------------------------------
def network_from_ways(refs: np.ndarray, lon: np.ndarray, lat: np.ndarray, counts: np.ndarray,
                      tags: list[dict[str, Any]]) -> dict[str, Any]:
    """Split OSM ways into edges at shared nodes and ends (constructor arguments).

    Vectorised over all ways (no loop per way or per edge): at a million nodes the
    former per-edge Python loop took most of :meth:`WalkNetwork.from_file`.

    Parameters
    ----------
    refs : numpy.ndarray of int64, shape (n_refs,)
        Node ids of every way, way after way (each way's run of two or more nodes).
    lon, lat : numpy.ndarray of float64, shape (n_refs,)
        Their WGS84 coordinates (degrees).
    counts : numpy.ndarray of int, shape (n_ways,)
        Nodes per way (``counts.sum() == n_refs``, every count >= 2).
    tags : list of dict, length n_ways
        Per way: tags (``highway``, ``name``, ..., ``osmid``).

    Returns
    -------
    dict
        ``node_ids``, ``x``, ``y`` (UTM metres), ``edge_u``, ``edge_v``,
        ``edge_length`` (great-circle metres, the osmnx formula: the sum of the
        segment lengths along the way), ``edge_geometry``, ``crs``,
        ``edge_attrs``.
    """
    counts = np.asarray(counts, dtype=np.int64)
    all_refs = np.asarray(refs, dtype=np.int64)
    all_lon = np.asarray(lon, dtype=np.float64)
    all_lat = np.asarray(lat, dtype=np.float64)
    uniq, inv, uses = np.unique(all_refs, return_inverse=True, return_counts=True)
    way_start = np.concatenate([[0], np.cumsum(counts)[:-1]])
    way_end = way_start + counts - 1
    is_node = uses > 1
    is_node[inv[way_start]] = True
    is_node[inv[way_end]] = True
    node_lon = np.zeros(uniq.size)
    node_lat = np.zeros(uniq.size)
    node_lon[inv] = all_lon
    node_lat[inv] = all_lat
    # split points along the concatenated sequence; a way's first and last positions
    # always split, so consecutive split points of the same way bound one edge
    brk = np.flatnonzero(is_node[inv])
    way_of = np.repeat(np.arange(counts.size), counts)
    same_way = way_of[brk[:-1]] == way_of[brk[1:]]
    starts, ends = brk[:-1][same_way], brk[1:][same_way]
    edge_way = way_of[starts]
    # edge length: the sum of its segments (a segment joining two ways is never inside
    # an edge's range; sums agree with a per-edge .sum() to 1e-12 m)
    seg_len = _great_circle(all_lat[:-1], all_lon[:-1], all_lat[1:], all_lon[1:])
    elen = _ordered_sums(seg_len, starts, ends)
    target = _utm_crs(node_lon[is_node], node_lat[is_node])
    from pyproj import Transformer
    tr = Transformer.from_crs(4326, target, always_xy=True)
    px, py = tr.transform(all_lon, all_lat)
    npts = ends - starts + 1
    idx = np.repeat(starts, npts) + (np.arange(npts.sum()) - np.repeat(np.cumsum(npts) - npts, npts))
    geoms = shapely.linestrings(np.column_stack([np.asarray(px)[idx], np.asarray(py)[idx]]),
                                indices=np.repeat(np.arange(starts.size), npts))
    nodes_mask = is_node
    node_pos = np.cumsum(nodes_mask) - 1
    nx_, ny_ = tr.transform(node_lon[nodes_mask], node_lat[nodes_mask])
    way_attrs = pd.DataFrame(list(tags), columns=[*_TAG_KEYS, "osmid"])[["highway", "name", "osmid"]]
    attrs = way_attrs.iloc[edge_way].reset_index(drop=True)
    return {"node_ids": uniq[nodes_mask], "x": np.asarray(nx_), "y": np.asarray(ny_),
            "edge_u": node_pos[inv[starts]], "edge_v": node_pos[inv[ends]],
            "edge_length": elen, "edge_geometry": geoms, "crs": target,
            "edge_attrs": attrs}


def _ordered_sums(values: np.ndarray, starts: np.ndarray, ends: np.ndarray) -> np.ndarray:
    """``[values[s:e].sum() for s, e in zip(starts, ends)]`` for sorted, disjoint ranges.

    Vectorised with ``np.add.reduceat`` over the interleaved bounds ``s0, e0, s1, e1 ...``
    (the odd slots, between ranges, are dropped); ``e > s`` for every range.
    """
    if starts.size == 0:
        return np.zeros(0)
    padded = np.concatenate([values, [0.0]])  # reduceat needs every index < len
    bounds = np.empty(2 * starts.size, dtype=np.int64)
    bounds[0::2] = starts
    bounds[1::2] = ends
    return np.add.reduceat(padded, bounds)[0::2]


def network_from_lines(lines: gpd.GeoDataFrame | gpd.GeoSeries, *, tolerance_m: float,
                       split_at_intersections: bool) -> dict[str, Any]:
    """Node road centre-lines into edges (constructor arguments); see ``from_lines``."""
    if isinstance(lines, gpd.GeoDataFrame):
        geo = lines.geometry
    elif isinstance(lines, gpd.GeoSeries):
        geo = lines
    else:
        raise InputError(f"from_lines needs a GeoDataFrame or GeoSeries, got {type(lines).__name__}.")
    if geo.crs is None:
        raise CRSError("The lines have no CRS: set one with .set_crs(...) (projected, metres).")
    if geo.crs.is_geographic:
        raise CRSError(f"The lines are in a geographic CRS ({geo.crs.name}): reproject to metres, "
                       "e.g. lines.to_crs(lines.estimate_utm_crs()).")
    tol = float(tolerance_m)
    if not tol >= 0:
        raise InputError(f"tolerance_m={tolerance_m!r} must be >= 0.")
    g = np.asarray(geo.values, dtype=object)
    g = g[~(pd.isna(g))]
    g = g[~shapely.is_empty(g)] if g.size else g
    if g.size:
        types = shapely.get_type_id(g)
        bad = ~np.isin(types, [1, 5])
        if bad.any():
            raise InputError(f"{int(bad.sum())} geometries are not lines "
                             "(LineString/MultiLineString): give road centre-lines.")
        if split_at_intersections:
            g = shapely.get_parts(shapely.node(shapely.multilinestrings(shapely.get_parts(g))))
        else:
            g = shapely.get_parts(g)
        g = g[shapely.length(g) > 0]
    if g.size == 0:
        raise InputError("The lines GeoDataFrame has no non-empty lines: the network is empty.")
    start = shapely.get_point(g, 0)
    end = shapely.get_point(g, -1)
    ends = np.concatenate([start, end])
    exy = shapely.get_coordinates(ends)
    n_end = ends.size
    if tol > 0:  # ends within the tolerance, transitively, form one node
        i, j = shapely.STRtree(ends).query(ends, predicate="dwithin", distance=tol)
        adj = sparse.coo_array((np.ones(i.size), (i, j)), shape=(n_end, n_end)).tocsr()
        _, cl = connected_components(adj, directed=False)
    else:  # exactly coincident ends only
        _, cl = np.unique(exy, axis=0, return_inverse=True)
        cl = cl.ravel()
    n_nodes = int(cl.max()) + 1
    cnt = np.bincount(cl, minlength=n_nodes)
    nx_ = np.bincount(cl, weights=exy[:, 0], minlength=n_nodes) / cnt
    ny_ = np.bincount(cl, weights=exy[:, 1], minlength=n_nodes) / cnt
    m = g.size
    u = cl[:m]
    v = cl[m:]
    coords = shapely.get_coordinates(g)
    nparts = shapely.get_num_coordinates(g)
    off = np.concatenate([[0], np.cumsum(nparts)])
    coords[off[:-1], 0] = nx_[u]
    coords[off[:-1], 1] = ny_[u]
    coords[off[1:] - 1, 0] = nx_[v]
    coords[off[1:] - 1, 1] = ny_[v]
    geoms = shapely.linestrings(coords, indices=np.repeat(np.arange(m), nparts))
    return {"node_ids": np.arange(n_nodes), "x": nx_, "y": ny_, "edge_u": u, "edge_v": v,
            "edge_length": shapely.length(geoms), "edge_geometry": geoms, "crs": geo.crs}

def _great_circle(lat1, lon1, lat2, lon2, earth_radius: float = 6_371_009.0) -> np.ndarray:
    """Great-circle distance in metres (the formula osmnx uses for edge lengths)."""
    y1 = np.deg2rad(lat1)
    y2 = np.deg2rad(lat2)
    dy = y2 - y1
    x1 = np.deg2rad(lon1)
    x2 = np.deg2rad(lon2)
    dx = x2 - x1
    h = np.sin(dy / 2) ** 2 + np.cos(y1) * np.cos(y2) * np.sin(dx / 2) ** 2
    h = np.minimum(1, h)
    arc = 2 * np.arcsin(np.sqrt(h))
    return arc * earth_radius


def _part1by1(v: np.ndarray) -> np.ndarray:
    v = v & np.uint64(0x0000FFFF)
    v = (v | (v << np.uint64(8))) & np.uint64(0x00FF00FF)
    v = (v | (v << np.uint64(4))) & np.uint64(0x0F0F0F0F)
    v = (v | (v << np.uint64(2))) & np.uint64(0x33333333)
    v = (v | (v << np.uint64(1))) & np.uint64(0x55555555)
    return v


def _morton_order(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """Permutation sorting points along a Z-order (Morton) curve, 16 bits per axis."""
    if x.size == 0:
        return np.arange(0)
    span = max(float(np.ptp(x)), float(np.ptp(y)), 1e-9)
    qx = ((x - x.min()) / span * 65535).astype(np.uint64)
    qy = ((y - y.min()) / span * 65535).astype(np.uint64)
    return np.argsort(_part1by1(qx) | (_part1by1(qy) << np.uint64(1)), kind="stable")


# ----------------------------------------------------------------------------
# components and CSR
# ----------------------------------------------------------------------------
def connected_parts(n_all: int, edge_u: np.ndarray, edge_v: np.ndarray,
                    edge_length: np.ndarray, keep: str) -> dict[str, Any]:
    """Connected components (largest first) and what ``keep`` keeps.

    Parameters
    ----------
    n_all : int
        Number of nodes (positions ``0 .. n_all-1``).
    edge_u, edge_v : numpy.ndarray of int, shape (n_edges,)
        End node positions.
    edge_length : numpy.ndarray of float, shape (n_edges,)
        Metres.
    keep : {'largest', 'all'}

    Returns
    -------
    dict
        ``components`` (DataFrame ``component, n_nodes, n_edges, length_m,
        kept``), ``node_component`` (rank of each node's component, -1 for a
        node without edges), ``keep_node``, ``keep_edge`` (bool masks),
        ``used`` (nodes with an edge), ``removed_nodes``, ``removed_edges``.
    """
    n_edges = edge_u.size
    used = np.zeros(n_all, dtype=bool)
    used[edge_u] = True
    used[edge_v] = True
    adj = sparse.coo_array((np.ones(n_edges), (edge_u, edge_v)), shape=(n_all, n_all)).tocsr()
    n_comp, label = connected_components(adj, directed=False)
    label = np.where(used, label, -1)
    comp_nodes = np.bincount(label[used], minlength=n_comp)
    comp_edges = np.bincount(label[edge_u], minlength=n_comp)
    comp_len = np.bincount(label[edge_u], weights=edge_length, minlength=n_comp)
    present = comp_nodes > 0
    order = np.argsort(-comp_nodes, kind="stable")
    order = order[present[order]]
    rank = np.empty(n_comp, dtype=np.int64)
    rank[order] = np.arange(order.size)
    comps = pd.DataFrame({
        "component": np.arange(order.size),
        "n_nodes": comp_nodes[order],
        "n_edges": comp_edges[order],
        "length_m": comp_len[order],
    })
    comps["kept"] = True if keep == "all" else comps["component"] == 0
    node_comp = np.where(used, rank[np.maximum(label, 0)], -1)
    keep_node = node_comp == 0 if keep == "largest" else used
    keep_edge = keep_node[edge_u]
    removed_nodes = int(used.sum() - keep_node.sum())
    removed_edges = int(n_edges - keep_edge.sum())
    if removed_nodes:
        _warn(
            f"keep='largest': removed {removed_nodes} nodes and {removed_edges} edges in "
            f"{order.size - 1} smaller disconnected component(s); the largest has "
            f"{int(comps['n_nodes'].iloc[0])} nodes. Pass keep='all' to keep them "
            "(points near them then reach only their own piece); see .components.")
    return {"components": comps, "node_component": node_comp, "keep_node": keep_node,
            "keep_edge": keep_edge, "used": used, "removed_nodes": removed_nodes,
            "removed_edges": removed_edges}


def lines_or_straight(geoms: np.ndarray, x0: np.ndarray, y0: np.ndarray, x1: np.ndarray,
                      y1: np.ndarray) -> np.ndarray:
    """The given edge geometries, with a straight line where one is missing (None/NaN/empty)."""
    out = np.asarray(geoms, dtype=object).copy()
    missing = np.array([g is None or (isinstance(g, float) and g != g) or g.is_empty
                        for g in out], dtype=bool)
    if missing.any():
        coords = np.stack([np.column_stack([x0, y0]), np.column_stack([x1, y1])], axis=1)
        out[missing] = shapely.linestrings(coords[missing])
    return out


def csr_from_edges(n: int, eu: np.ndarray, ev: np.ndarray,
                   elen: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Undirected CSR adjacency: both directions, no self-loops, parallel arcs -> shortest.

    Parameters
    ----------
    n : int
        Number of nodes.
    eu, ev : numpy.ndarray of int, shape (n_edges,)
        End node positions.
    elen : numpy.ndarray of float, shape (n_edges,)
        Edge lengths (m).

    Returns
    -------
    indptr : numpy.ndarray of int64, shape (n + 1,)
    indices : numpy.ndarray of int64, shape (n_arcs,)
        Neighbour positions, sorted within each row.
    arc_length_m : numpy.ndarray of float64, shape (n_arcs,)
    """
    loop = eu == ev
    src = np.concatenate([eu[~loop], ev[~loop]])
    dst = np.concatenate([ev[~loop], eu[~loop]])
    w = np.concatenate([elen[~loop], elen[~loop]])
    key = src * np.int64(n) + dst
    o = np.argsort(key, kind="stable")
    key, src, dst, w = key[o], src[o], dst[o], w[o]
    first_arc = np.ones(src.size, dtype=bool)
    first_arc[1:] = key[1:] != key[:-1]
    starts = np.flatnonzero(first_arc)
    w = np.minimum.reduceat(w, starts) if starts.size else w
    src, dst = src[first_arc], dst[first_arc]
    indptr = np.zeros(n + 1, dtype=np.int64)
    np.cumsum(np.bincount(src, minlength=n), out=indptr[1:])
    return indptr, dst.astype(np.int64), w.astype(np.float64)
