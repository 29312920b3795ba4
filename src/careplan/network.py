"""The walking network: build, snap points, bounded many-to-many distances.

:class:`WalkNetwork` holds an undirected street graph in a projected (metric)
CRS as compact arrays (CSR adjacency ``indptr`` / ``indices`` / ``weights``
plus node coordinates and edge geometries). It is built once from an
osmnx/networkx graph (:meth:`WalkNetwork.from_graph`), an OpenStreetMap file
(:meth:`WalkNetwork.from_file`: ``.osm``, ``.osm.bz2``, ``.osm.gz``,
``.osm.pbf``) or a GeoDataFrame of road centre-lines
(:meth:`WalkNetwork.from_lines`); queries never touch networkx.

Distances between points
------------------------
A point (a polygon is replaced by its representative point) is snapped to the
nearest *edge* (not node). A MultiPoint is a set of *entrances* of one place
(e.g. the gates of a gated compound): each is snapped and the place's distance
is the shortest over its entrances (entrances beyond ``max_snap_m`` are not
used). Walking from the point to the end nodes ``u`` and
``v`` of that edge costs the straight snap leg plus the distance along the
edge::

    access(u) = snap_distance_m + offset_m
    access(v) = snap_distance_m + (edge_length_m - offset_m)

and the distance between an origin ``o`` and a destination ``d`` is::

    min over a in ends(o), b in ends(d) of access_o(a) + network(a, b) + access_d(b)

or, when both lie on the same edge, the direct walk along it
``snap_o + |offset_o - offset_d| + snap_d`` if that is shorter. Points farther
than ``max_snap_m`` from every edge are *unreachable*: they are reported
(a :class:`~careplan.CareplanWarning` and the ``unreachable_*`` entries of the
result's ``attrs``), never silently dropped. When *every* origin (or every
destination) is that far off, the query raises :class:`~careplan.InputError`:
that is almost always a location or CRS mistake, and an empty answer would
hide it.

The edge length used in distances is the graph's ``length`` attribute (osmnx
great-circle metres) when present, otherwise the projected geometry length.
``offset_m`` is measured in those same metres: the fraction of the geometry
at the projected point times the edge length.

Coordinate reference systems
----------------------------
The network is always in a projected CRS in metres (a geographic graph or OSM
file is projected to its local UTM zone). Points must be in exactly the
network's CRS: anything else, including lon/lat, raises
:class:`~careplan.CRSError` telling you to ``.to_crs(net.crs)``; careplan does
not reproject query points silently.

Performance
-----------
Queries run a compiled (numba) bounded Dijkstra per origin over the CSR arrays
(:mod:`careplan._kernels`), with per-search work and memory proportional to
what lies within the cutoff and output proportional to the pairs returned;
blocks of origins run in parallel threads (``n_threads``, default all CPUs).
Nodes are stored in Z-order so that neighbours sit close in memory.

Walkable filter
---------------
OpenStreetMap ways (and osmnx graph edges with tags) are kept unless one of
these holds (it follows osmnx's ``network_type="walk"`` filter, but keeps
cycleways, which in Chinese cities usually run beside a pavement):

* ``highway`` in :data:`EXCLUDED_HIGHWAY` (motorway, motorway_link, bus
  guideways, construction, proposed, raceways, ...). ``trunk`` roads are
  **kept**: in Chinese cities they are mostly surface arterials with
  pavements; elevated expressways are normally tagged ``motorway`` or
  ``motorroad=yes``, which are dropped;
* ``motorroad=yes``; ``area=yes``; ``foot=no``; ``service=private``;
* ``access`` in {``no``, ``private``} unless ``foot`` is ``yes``,
  ``designated`` or ``permissive``.

Footways, paths, steps, pedestrian streets, living streets, residential and
service roads, tracks and all ordinary road classes are kept. Every edge is
walkable in both directions (``oneway`` is ignored). Between two nodes, the
shortest of several parallel edges is used for routing; all are kept for
snapping.
"""

from __future__ import annotations

import math
import os
import warnings
from collections.abc import Iterable, Mapping
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, Literal

import geopandas as gpd
import networkx as nx
import numpy as np
import pandas as pd
import shapely
from pyproj import CRS
from scipy import sparse
from scipy.sparse.csgraph import connected_components

from careplan import _kernels
from careplan._errors import CareplanWarning, CRSError, InputError
from careplan._progress import progress

__all__ = [
    "DEFAULT_MAX_SNAP_M",
    "EXCLUDED_HIGHWAY",
    "WalkNetwork",
    "is_walkable",
]

#: Default largest straight distance (m) from a point to the street graph.
#: Chinese residential compounds (小区) are often gated blocks of 300-500 m
#: whose internal paths are not mapped, so a representative point can lie a
#: few hundred metres from the nearest mapped street. The snap leg is walked
#: (and counted) in every distance, so a generous limit does not flatter
#: coverage; points beyond it are reported as unreachable.
DEFAULT_MAX_SNAP_M: float = 500.0

#: ``highway`` values never walkable.
EXCLUDED_HIGHWAY: frozenset[str] = frozenset({
    "motorway", "motorway_link", "bus_guideway", "busway", "construction",
    "proposed", "planned", "abandoned", "disused", "raceway", "razed",
    "escape", "no", "elevator_shaft",
})

_FOOT_OK = frozenset({"yes", "designated", "permissive"})
_TAG_KEYS = ("highway", "name", "access", "foot", "area", "service", "motorroad")
_KEEP = ("largest", "all")


# ----------------------------------------------------------------------------
# walkable filter
# ----------------------------------------------------------------------------
def _as_set(value: Any) -> set[str]:
    if value is None:
        return set()
    if isinstance(value, float) and math.isnan(value):
        return set()
    if isinstance(value, list | tuple | set):
        return {str(v) for v in value}
    return {str(value)}


def is_walkable(tags: Mapping[str, Any]) -> bool:
    """Return True when an OSM way / graph edge with these tags may be walked.

    Parameters
    ----------
    tags : mapping
        OSM tags (``highway``, ``access``, ``foot``, ``area``, ``service``,
        ``motorroad``). Values may be lists (osmnx merges tags of simplified
        edges); then the edge is dropped only if *every* ``highway`` value is
        excluded, and kept if any ``foot`` value allows walking.

    Notes
    -----
    See the module docstring for the rules. A mapping without ``highway``
    (e.g. a hand-built graph) is walkable unless another rule excludes it.
    """
    hw = _as_set(tags.get("highway"))
    foot = _as_set(tags.get("foot"))
    if hw and hw <= EXCLUDED_HIGHWAY:
        return False
    if "yes" in _as_set(tags.get("motorroad")) and not (foot & _FOOT_OK):
        return False
    if _as_set(tags.get("area")) == {"yes"}:
        return False
    if foot == {"no"}:
        return False
    if _as_set(tags.get("service")) == {"private"} and not (foot & _FOOT_OK):
        return False
    access = _as_set(tags.get("access"))
    if access and access <= {"no", "private"} and not (foot & _FOOT_OK):
        return False
    return True


# ----------------------------------------------------------------------------
# helpers
# ----------------------------------------------------------------------------
def _warn(message: str) -> None:
    """CareplanWarning attributed to the first caller outside careplan."""
    import sys

    level = 2
    frame = sys._getframe(1)
    while frame is not None and frame.f_globals.get("__name__", "").startswith("careplan."):
        frame = frame.f_back
        level += 1
    warnings.warn(message, CareplanWarning, stacklevel=level)


def _check_keep(keep: str) -> None:
    if keep not in _KEEP:
        raise InputError(f"keep={keep!r} is not valid: use 'largest' or 'all'.")


def _check_cutoff(cutoff_m: Any) -> float:
    try:
        c = float(cutoff_m)
    except (TypeError, ValueError):
        raise InputError(f"cutoff_m={cutoff_m!r} is not a number: give a distance in metres > 0.") from None
    if not (c > 0 and math.isfinite(c)):  # also catches NaN
        raise InputError(f"cutoff_m={cutoff_m!r} must be a finite distance > 0 metres "
                         "(e.g. cutoff_m=1000).")
    return c


def _check_max_snap(max_snap_m: Any) -> float:
    try:
        c = float(max_snap_m)
    except (TypeError, ValueError):
        raise InputError(f"max_snap_m={max_snap_m!r} is not a number of metres.") from None
    if not c >= 0:
        raise InputError(f"max_snap_m={max_snap_m!r} must be >= 0 metres.")
    return c


def _utm_crs(lon: np.ndarray, lat: np.ndarray) -> CRS:
    pts = gpd.GeoSeries(gpd.points_from_xy([np.mean(lon)], [np.mean(lat)]), crs=4326)
    return pts.estimate_utm_crs()


def _label_list(index: pd.Index, mask: np.ndarray, limit: int = 10) -> str:
    labels = [str(x) for x in index[mask][:limit]]
    more = int(mask.sum()) - len(labels)
    return ", ".join(labels) + (f" and {more} more" if more > 0 else "")


def _n_threads(n_threads: int | None) -> int:
    if n_threads is None:
        return max(1, os.cpu_count() or 1)
    if int(n_threads) < 1:
        raise InputError(f"n_threads={n_threads!r} must be >= 1.")
    return int(n_threads)


def _blocks(n: int, n_threads: int, max_block: int = 2000) -> list[tuple[int, int]]:
    if n == 0:
        return []
    size = max(1, min(max_block, math.ceil(n / (4 * n_threads))))
    return [(a, min(n, a + size)) for a in range(0, n, size)]


def _run_blocks(func, args_before, args_after, n_sources, *, n_threads, verbose, desc):
    """Run a ``nogil`` kernel over blocks of sources in threads; results in block order."""
    blocks = _blocks(n_sources, n_threads)
    if not blocks:
        return []

    def one(block):
        return func(*args_before, block[0], block[1], *args_after)

    if n_threads == 1 or len(blocks) == 1:
        return [one(b) for b in progress(blocks, desc=desc, verbose=verbose)]
    # compile (or load from cache) in this thread first
    first = one(blocks[0])
    with ThreadPoolExecutor(max_workers=n_threads) as pool:
        rest = list(progress(pool.map(one, blocks[1:]), desc=desc, total=len(blocks) - 1,
                             verbose=verbose))
    return [first, *rest]


# ----------------------------------------------------------------------------
# WalkNetwork
# ----------------------------------------------------------------------------
class WalkNetwork:
    """An undirected walking network in a projected CRS, stored as CSR arrays.

    Build it with :meth:`from_graph`, :meth:`from_file` or :meth:`from_lines`
    (the constructor takes the arrays those produce and is not meant to be
    called directly).

    Attributes
    ----------
    crs : pyproj.CRS
        Projected CRS of node coordinates and edge geometries (metres).
    indptr, indices, weights : numpy.ndarray
        Read-only CSR adjacency over node positions ``0 .. n_nodes-1``; every
        undirected edge appears in both directions, parallel edges collapsed
        to the shortest; ``weights`` in metres (float64).
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

        # connected components over all nodes used by edges
        n_all = len(node_ids)
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

        if keep == "largest":
            keep_node = node_comp == 0
        else:
            keep_node = used
        keep_edge = keep_node[edge_u]
        removed_nodes = int(used.sum() - keep_node.sum())
        removed_edges = int(n_edges - keep_edge.sum())
        if removed_nodes:
            _warn(
                f"keep='largest': removed {removed_nodes} nodes and {removed_edges} edges in "
                f"{order.size - 1} smaller disconnected component(s); the largest has "
                f"{int(comps['n_nodes'].iloc[0])} nodes. Pass keep='all' to keep them "
                "(points near them then reach only their own piece); see .components.")

        # relabel nodes in spatial (Z-order) order: neighbours sit close in
        # memory, which makes the searches several times faster on big graphs
        kept = np.flatnonzero(keep_node)
        kept = kept[_morton_order(x[kept], y[kept])]
        new_pos = np.full(n_all, -1, dtype=np.int64)
        new_pos[kept] = np.arange(kept.size)
        self._node_ids = node_ids[kept]
        self._x = x[kept]
        self._y = y[kept]
        self._node_component = node_comp[kept]
        eu = new_pos[edge_u[keep_edge]]
        ev = new_pos[edge_v[keep_edge]]
        elen = edge_length[keep_edge]
        egeom = edge_geometry[keep_edge]
        eattrs = edge_attrs.loc[keep_edge].reset_index(drop=True)

        # geometries are completed lazily (see _edge_geometry): straight lines
        # for edges without one, all oriented from u to v
        self._edge_u = eu
        self._edge_v = ev
        self._edge_length = elen
        self._geom_given = egeom
        self._geom_cache: np.ndarray | None = None
        self._geom_len_cache: np.ndarray | None = None
        self._edge_attrs = eattrs

        # CSR, both directions, no self-loops, parallel arcs -> shortest
        n = len(self._node_ids)
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
        self._indptr = indptr
        self._indices = dst.astype(np.int64)
        self._weights = w.astype(np.float64)
        # kept writable internally (numba optimises read-only arrays less well);
        # the public properties hand out read-only views
        self._crs = crs
        self._components = comps
        self._keep = keep
        self._removed = {
            "not_walkable_edges": int(not_walkable_edges),
            "small_component_nodes": removed_nodes,
            "small_component_edges": removed_edges,
            "isolated_nodes": int((~used).sum()),
        }
        self._tree: shapely.STRtree | None = None
        self._source = source

    # ------------------------------------------------------------------ build
    @classmethod
    def from_graph(cls, G: nx.Graph, *, crs: Any = None,
                   keep: Literal["largest", "all"] = "largest",
                   walkable_only: bool = True) -> WalkNetwork:
        """Build from an osmnx / networkx graph.

        Parameters
        ----------
        G : networkx.Graph, MultiGraph, DiGraph or MultiDiGraph
            Nodes need ``x`` and ``y`` attributes. Edge length is the ``length``
            attribute when present (osmnx: metres), otherwise the length of the
            ``geometry`` attribute (projected), otherwise the straight line.
            Directed graphs are made undirected (an edge and its reverse twin
            of the same length count once).
        crs : CRS-like, optional
            CRS of the node coordinates; default ``G.graph["crs"]``. A
            geographic CRS is projected to the local UTM zone (like
            ``osmnx.project_graph``).
        keep : {'largest', 'all'}
            Keep only the largest connected component (a CareplanWarning says
            how much was removed) or every component.
        walkable_only : bool
            Drop edges that fail :func:`is_walkable` on their tags (with a
            CareplanWarning). When some edges carry a ``highway`` tag (an OSM
            graph), edges without one are dropped too: ``osmnx.graph_from_xml``
            also turns building and land-use outlines into edges. An osmnx
            ``network_type="walk"`` graph passes unchanged.

        Returns
        -------
        WalkNetwork
        """
        _check_keep(keep)
        if not isinstance(G, nx.Graph):
            raise InputError(f"from_graph needs a networkx graph, got {type(G).__name__}.")
        if G.number_of_edges() == 0:
            raise InputError("The graph has no edges: nothing to walk on. Check the graph was "
                             "downloaded/read for the right area.")
        crs = crs if crs is not None else G.graph.get("crs")
        if crs is None:
            raise CRSError("The graph has no CRS (G.graph['crs'] is missing): pass crs=, e.g. "
                           "crs='EPSG:4326' for lon/lat coordinates.")
        crs = CRS.from_user_input(crs)
        nodes = list(G.nodes)
        try:
            x = np.array([G.nodes[n]["x"] for n in nodes], dtype=np.float64)
            y = np.array([G.nodes[n]["y"] for n in nodes], dtype=np.float64)
        except KeyError:
            raise InputError("Every graph node needs 'x' and 'y' attributes (coordinates).") from None
        pos = {n: i for i, n in enumerate(nodes)}
        multi = G.is_multigraph()
        it = G.edges(keys=True, data=True) if multi else ((u, v, 0, d) for u, v, d in G.edges(data=True))
        eu, ev, lengths, geoms, tags = [], [], [], [], []
        dropped = 0
        seen: set[tuple[int, int, float]] = set()
        directed = G.is_directed()
        # OSM-derived graph (some edges tagged highway): untagged edges are
        # not streets (osmnx.graph_from_xml keeps building/landuse outlines)
        osm_like = any(d.get("highway") is not None for _, _, d in G.edges(data=True))
        for u, v, _k, d in it:
            if walkable_only and (not is_walkable(d) or (osm_like and d.get("highway") is None)):
                dropped += 1
                continue
            L = d.get("length")
            geom = d.get("geometry")
            pu, pv = pos[u], pos[v]
            if directed and L is not None:
                key = (min(pu, pv), max(pu, pv), round(float(L), 6))
                if key in seen:
                    continue
                seen.add(key)
            eu.append(pu)
            ev.append(pv)
            lengths.append(np.nan if L is None else float(L))
            geoms.append(geom)
            tags.append({k: d.get(k) for k in ("highway", "name", "osmid")})
        if dropped:
            _warn(f"{dropped} graph edge(s) are not walkable (motorway, access=no, ...) "
                          "and were left out; pass walkable_only=False to keep them.")
        geoms_arr = np.empty(len(geoms), dtype=object)
        geoms_arr[:] = geoms
        if crs.is_geographic:
            target = _utm_crs(x, y)
            x, y, geoms_arr = _project(x, y, geoms_arr, crs, target)
            crs = target
        lengths_arr = np.asarray(lengths, dtype=np.float64)
        eu_arr = np.asarray(eu, dtype=np.int64)
        ev_arr = np.asarray(ev, dtype=np.int64)
        nolen = np.isnan(lengths_arr)
        if nolen.any():
            has_geom = np.array([g is not None for g in geoms_arr]) & nolen
            lengths_arr[has_geom] = shapely.length(geoms_arr[has_geom])
            straight = nolen & ~has_geom
            lengths_arr[straight] = np.hypot(x[eu_arr[straight]] - x[ev_arr[straight]],
                                             y[eu_arr[straight]] - y[ev_arr[straight]])
        return cls(node_ids=nodes, x=x, y=y, edge_u=eu_arr, edge_v=ev_arr,
                   edge_length=lengths_arr, edge_geometry=geoms_arr, crs=crs,
                   edge_attrs=pd.DataFrame(tags, columns=["highway", "name", "osmid"]),
                   keep=keep, not_walkable_edges=dropped, source="graph")

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

        Notes
        -----
        Ways with a ``highway`` tag are split into edges at every node shared
        by two or more ways (or used twice by one way) and at their ends;
        intermediate nodes become the edge geometry. Edge length is the sum of
        great-circle segment lengths (the osmnx formula, Earth radius
        6,371,009 m), so distances match an osmnx graph of the same file.
        Coordinates are projected to the local UTM zone.
        """
        import osmium

        _check_keep(keep)
        p = Path(path)
        if not p.exists():
            raise InputError(f"OSM file not found: {str(p)!r}.")
        name = p.name.lower()
        if not name.endswith((".osm", ".xml", ".osm.bz2", ".osm.gz", ".pbf", ".osm.pbf")):
            raise InputError(f"{p.name!r}: unknown OSM file type; use .osm, .osm.bz2, .osm.gz or .osm.pbf.")
        ways_refs: list[np.ndarray] = []
        ways_lon: list[np.ndarray] = []
        ways_lat: list[np.ndarray] = []
        tags: list[dict[str, Any]] = []
        dropped = 0
        bad_nodes = 0
        try:
            fp = osmium.FileProcessor(str(p), osmium.osm.NODE | osmium.osm.WAY).with_locations()
            fp = fp.with_filter(osmium.filter.KeyFilter("highway"))
            for w in fp:
                if not w.is_way():
                    continue
                t = {k: w.tags.get(k) for k in _TAG_KEYS}
                if walkable_only and not is_walkable(t):
                    dropped += 1
                    continue
                refs, lon, lat = [], [], []
                for nd in w.nodes:
                    loc = nd.location
                    if not loc.valid():
                        bad_nodes += 1
                        continue
                    refs.append(nd.ref)
                    lon.append(loc.lon)
                    lat.append(loc.lat)
                if len(refs) < 2:
                    continue
                t["osmid"] = w.id
                ways_refs.append(np.asarray(refs, dtype=np.int64))
                ways_lon.append(np.asarray(lon))
                ways_lat.append(np.asarray(lat))
                tags.append(t)
        except RuntimeError as exc:  # osmium parse errors
            raise InputError(f"Could not read OSM file {p.name!r}: {exc}") from exc
        if bad_nodes:
            _warn(f"{bad_nodes} way node reference(s) in {p.name!r} have no location "
                          "(node missing from the extract) and were skipped.")
        if dropped:
            _warn(f"{dropped} way(s) in {p.name!r} are not walkable (motorway, "
                          "access=no, ...) and were left out; pass walkable_only=False to keep them.")
        if not ways_refs:
            raise InputError(f"{p.name!r} has no walkable highway ways: the walking network is empty.")
        return cls._from_ways(ways_refs, ways_lon, ways_lat, tags, keep=keep,
                              not_walkable=dropped, source=p.name)

    @classmethod
    def _from_ways(cls, refs, lons, lats, tags, *, keep, not_walkable, source) -> WalkNetwork:
        counts = np.array([r.size for r in refs])
        all_refs = np.concatenate(refs)
        all_lon = np.concatenate(lons)
        all_lat = np.concatenate(lats)
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
        # split points along the concatenated sequence
        brk = is_node[inv]
        seg_len = _great_circle(all_lat[:-1], all_lon[:-1], all_lat[1:], all_lon[1:])
        target = _utm_crs(node_lon[is_node], node_lat[is_node])
        from pyproj import Transformer
        tr = Transformer.from_crs(4326, target, always_xy=True)
        px, py = tr.transform(all_lon, all_lat)
        eu, ev, elen, parts, etags = [], [], [], [], []
        for w in range(len(refs)):
            a, b = way_start[w], way_end[w]
            cuts = a + np.flatnonzero(brk[a:b + 1])
            for s, e in zip(cuts[:-1], cuts[1:], strict=True):
                eu.append(inv[s])
                ev.append(inv[e])
                elen.append(seg_len[s:e].sum())
                parts.append((s, e))
                etags.append(tags[w])
        starts = np.array([s for s, _ in parts])
        ends = np.array([e for _, e in parts])
        npts = ends - starts + 1
        idx = np.repeat(starts, npts) + (np.arange(npts.sum()) - np.repeat(np.cumsum(npts) - npts, npts))
        geoms = shapely.linestrings(np.column_stack([px[idx], py[idx]]),
                                    indices=np.repeat(np.arange(len(parts)), npts))
        nodes_mask = is_node
        node_pos = np.cumsum(nodes_mask) - 1
        nx_, ny_ = tr.transform(node_lon[nodes_mask], node_lat[nodes_mask])
        attrs = pd.DataFrame(etags, columns=[*_TAG_KEYS, "osmid"])
        return cls(node_ids=uniq[nodes_mask], x=np.asarray(nx_), y=np.asarray(ny_),
                   edge_u=node_pos[np.asarray(eu)], edge_v=node_pos[np.asarray(ev)],
                   edge_length=np.asarray(elen), edge_geometry=geoms, crs=target,
                   edge_attrs=attrs[["highway", "name", "osmid"]], keep=keep,
                   not_walkable_edges=not_walkable, source=source)

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
        """
        _check_keep(keep)
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
        return cls(node_ids=np.arange(n_nodes), x=nx_, y=ny_, edge_u=u, edge_v=v,
                   edge_length=shapely.length(geoms), edge_geometry=geoms, crs=geo.crs,
                   keep=keep, source="lines")

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
    def weights(self) -> np.ndarray:
        """CSR arc lengths in metres, float64 (read-only view)."""
        return _readonly(self._weights)

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
        """Bucket width of the search kernel for this cutoff (see careplan._kernels)."""
        if not math.isfinite(cutoff):
            raise InputError("cutoff_m must be a finite distance in metres.")
        w = self._weights[self._weights > 0]
        min_w = float(w.min()) if w.size else cutoff
        return max(min_w, cutoff / 8192.0)

    # ---------------------------------------------------------------- snapping
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

    # --------------------------------------------------------------- distances
    def _od(self, origins, destinations, cutoff_m, max_snap_m, verbose, n_threads):
        cutoff = _check_cutoff(cutoff_m)
        max_snap = _check_max_snap(max_snap_m)
        n_threads = _n_threads(n_threads)
        lo = self._snap_labels(origins, "origins", max_snap)
        ld = self._snap_labels(destinations, "destinations", max_snap)
        oi, di = lo["index"], ld["index"]
        so, sd = lo["s"], ld["s"]
        n = self.n_nodes
        # destinations per node (every reachable entrance, labelled by its owner)
        dp = ld["parts"]
        downer = ld["owner"][dp]
        dn = np.concatenate([sd["u"][dp], sd["v"][dp]])
        dj = np.concatenate([downer, downer])
        da = np.concatenate([sd["snap"][dp] + sd["offset"][dp],
                             sd["snap"][dp] + sd["length"][dp] - sd["offset"][dp]])
        o = np.argsort(dn, kind="stable")
        dn, dj, da = dn[o], dj[o], da[o]
        dst_ptr = np.zeros(n + 1, dtype=np.int64)
        np.cumsum(np.bincount(dn, minlength=n), out=dst_ptr[1:])
        # destinations per edge
        de = sd["edge"][dp]
        o = np.argsort(de, kind="stable")
        edst_idx = downer[o].astype(np.int64)
        edst_off = sd["offset"][dp][o]
        edst_snap = sd["snap"][dp][o]
        edst_ptr = np.zeros(self.n_edges + 1, dtype=np.int64)
        np.cumsum(np.bincount(de, minlength=self.n_edges), out=edst_ptr[1:])
        # search the origins in spatial (node) order: consecutive searches then
        # touch the same memory; the output is put back in input order below
        orows = lo["rows"]
        key = so["u"][lo["parts"][lo["part_ptr"][:-1]]]
        perm = np.argsort(key, kind="stable")
        take, part_ptr = _group_gather(lo["part_ptr"], perm)
        op = lo["parts"][take]
        lab_p = {"s": so, "parts": op, "part_ptr": part_ptr}
        seed_ptr, seed_nodes, seed_dist = self._seeds(lab_p)
        before = (self._indptr, self._indices, self._weights, seed_ptr, seed_nodes, seed_dist)
        after = (cutoff, self._delta(cutoff), dst_ptr, dj.astype(np.int64), da, int(len(di)),
                 part_ptr, so["edge"][op].astype(np.int64), so["offset"][op],
                 so["snap"][op], edst_ptr, edst_idx, edst_off, edst_snap)
        res = _run_blocks(_kernels.dest_block, before, after, orows.size,
                          n_threads=n_threads, verbose=verbose, desc="distances")
        src = _cat(res, 0, np.int64)  # processing position, ascending
        dst = _cat(res, 1, np.int64)
        dist = _cat(res, 2, np.float64)
        # the kernel returns pairs by origin (processing order), then distance,
        # then destination index; regroup the origins into input order
        out_ptr = np.zeros(orows.size + 1, dtype=np.int64)
        np.cumsum(np.bincount(src, minlength=orows.size), out=out_ptr[1:])
        back, _ = _group_gather(out_ptr, np.argsort(perm))
        return (oi, di, orows[perm[src[back]]], dst[back], dist[back], lo["reach"],
                ld["reach"], cutoff)

    def distances(self, origins: gpd.GeoDataFrame | gpd.GeoSeries,
                  destinations: gpd.GeoDataFrame | gpd.GeoSeries, *, cutoff_m: float,
                  max_snap_m: float = DEFAULT_MAX_SNAP_M, verbose: bool | None = None,
                  n_threads: int | None = None) -> pd.DataFrame:
        """Walking distances of every origin-destination pair within ``cutoff_m``.

        Parameters
        ----------
        origins, destinations : GeoDataFrame or GeoSeries
            Points (polygons use their representative point) in the
            network's CRS, with unique index labels.
        cutoff_m : float
            Largest distance reported (metres, > 0).
        max_snap_m : float
            Points farther than this from the network are unreachable
            (reported, see below).
        verbose : bool, optional
            Progress bar (default: unless careplan is quiet).
        n_threads : int, optional
            Threads running the compiled kernel (default: all CPUs).

        Returns
        -------
        pandas.DataFrame
            Columns ``origin``, ``destination`` (the inputs' index labels) and
            ``distance_m``, sorted by origin (input order), then distance.
            ``attrs`` holds ``cutoff_m``, ``unreachable_origins`` and
            ``unreachable_destinations`` (lists of labels).

        Raises
        ------
        InputError
            ``cutoff_m <= 0``, non-unique or missing labels/geometries, or
            every origin (or every destination) farther than ``max_snap_m``
            from the network.
        CRSError
            Points not in the network's CRS.
        """
        oi, di, o, d, dist, ro, rd, cutoff = self._od(origins, destinations, cutoff_m,
                                                      max_snap_m, verbose, n_threads)
        df = pd.DataFrame({"origin": oi.to_numpy()[o], "destination": di.to_numpy()[d],
                           "distance_m": dist}, copy=False)
        df.attrs["cutoff_m"] = cutoff
        df.attrs["unreachable_origins"] = list(oi[~ro])
        df.attrs["unreachable_destinations"] = list(di[~rd])
        return df

    def nearest(self, origins: gpd.GeoDataFrame | gpd.GeoSeries,
                destinations: gpd.GeoDataFrame | gpd.GeoSeries, *, k: int = 1, cutoff_m: float,
                max_snap_m: float = DEFAULT_MAX_SNAP_M, verbose: bool | None = None,
                n_threads: int | None = None) -> pd.DataFrame:
        """The ``k`` nearest destinations of each origin within ``cutoff_m``.

        Returns
        -------
        pandas.DataFrame
            Columns ``origin``, ``rank`` (1 = nearest), ``destination``,
            ``distance_m``; origins with fewer than ``k`` destinations in reach
            have fewer rows (none if nothing is in reach). Ties are broken by
            the destinations' input order. ``attrs`` as in :meth:`distances`.
        """
        if int(k) < 1:
            raise InputError(f"k={k!r} must be >= 1.")
        df = self.distances(origins, destinations, cutoff_m=cutoff_m, max_snap_m=max_snap_m,
                            verbose=verbose, n_threads=n_threads)
        rank = df.groupby("origin", sort=False).cumcount() + 1
        out = df.assign(rank=rank.to_numpy())[lambda t: t["rank"] <= int(k)]
        out = out[["origin", "rank", "destination", "distance_m"]].reset_index(drop=True)
        out.attrs = dict(df.attrs)
        return out

    def distance_matrix(self, origins: gpd.GeoDataFrame | gpd.GeoSeries,
                        destinations: gpd.GeoDataFrame | gpd.GeoSeries, *, cutoff_m: float,
                        max_snap_m: float = DEFAULT_MAX_SNAP_M, verbose: bool | None = None,
                        n_threads: int | None = None) -> sparse.csr_array:
        """Sparse origin x destination distance matrix (metres).

        Row ``i`` is ``origins.index[i]``, column ``j`` is
        ``destinations.index[j]``. Stored entries are exactly the pairs within
        ``cutoff_m`` (explicit zeros are kept: a distance of 0 m is a stored
        0); absent entries are unreachable. Column indices are sorted.
        """
        oi, di, o, d, dist, *_ = self._od(origins, destinations, cutoff_m, max_snap_m,
                                          verbose, n_threads)
        order = np.lexsort((d, o))
        o, d, dist = o[order], d[order], dist[order]
        indptr = np.zeros(len(oi) + 1, dtype=np.int64)
        np.cumsum(np.bincount(o, minlength=len(oi)), out=indptr[1:])
        return sparse.csr_array((dist, d.astype(np.int64), indptr), shape=(len(oi), len(di)))

    def _node_positions(self, sources: Any) -> np.ndarray:
        if isinstance(sources, pd.Index | pd.Series | np.ndarray | list | tuple | set):
            src = pd.Index(list(sources), tupleize_cols=False)
        else:
            src = pd.Index([sources], tupleize_cols=False)
        pos = self._node_ids.get_indexer(src)
        if (pos < 0).any():
            raise InputError(f"node id(s) {_label_list(src, pos < 0)} are not in the network "
                             "(see net.node_ids; nodes of removed small components are gone).")
        return pos.astype(np.int64)

    def node_distances(self, sources: Any, *, cutoff_m: float, verbose: bool | None = None,
                       n_threads: int | None = None) -> pd.DataFrame:
        """Node-to-node distances within ``cutoff_m`` from each source node.

        Parameters
        ----------
        sources : array-like
            Node ids (see :attr:`node_ids`).
        cutoff_m : float
            Largest distance (metres, > 0).

        Returns
        -------
        pandas.DataFrame
            Columns ``source``, ``node`` (node ids) and ``distance_m``: every
            node within the cutoff of each source (the source itself at 0),
            grouped by source (rows within a group are in the order the
            search reached them, not sorted). Sources are searched, and
            grouped, in the network's internal (spatial) node order, which
            keeps the memory the searches touch warm in the cache.
        """
        cutoff = _check_cutoff(cutoff_m)
        pos = np.sort(self._node_positions(sources), kind="stable")
        ptr = np.arange(pos.size + 1, dtype=np.int64)
        res = _run_blocks(_kernels.node_block,
                          (self._indptr, self._indices, self._weights, ptr, pos, np.zeros(pos.size)),
                          (cutoff, self._delta(cutoff)), pos.size, n_threads=_n_threads(n_threads), verbose=verbose,
                          desc="node distances")
        s = _cat(res, 0, np.int64)
        v = _cat(res, 1, np.int64)
        d = _cat(res, 2, np.float64)
        ids = self._node_ids.to_numpy()
        return pd.DataFrame({"source": ids[pos[s]], "node": ids[v], "distance_m": d}, copy=False)

    def _point_node_distances(self, points, cutoff, max_snap, verbose, n_threads, what="points"):
        """Snapped labels and (label row, node position, distance) within cutoff of each."""
        lab = self._snap_labels(points, what, max_snap)
        rows = lab["rows"]
        ptr, nodes, d = self._seeds(lab)
        res = _run_blocks(_kernels.node_block,
                          (self._indptr, self._indices, self._weights, ptr, nodes, d),
                          (cutoff, self._delta(cutoff)), rows.size, n_threads=_n_threads(n_threads),
                          verbose=verbose, desc="searching")
        if res:
            src = np.concatenate([r[0] for r in res])
            v = np.concatenate([r[1] for r in res])
            dist = np.concatenate([r[2] for r in res])
        else:
            src = v = np.empty(0, dtype=np.int64)
            dist = np.empty(0)
        return lab, rows[src], v, dist

    def node_counts(self, points: gpd.GeoDataFrame | gpd.GeoSeries, *, cutoff_m: float,
                    max_snap_m: float = DEFAULT_MAX_SNAP_M, verbose: bool | None = None,
                    n_threads: int | None = None) -> pd.Series:
        """How many points lie within ``cutoff_m`` of every node (pandana-style aggregation).

        The access leg of each point (snap + along its edge) is included; a
        MultiPoint (entrances) counts once. No pair table is built: memory is one count per node and thread.

        Returns
        -------
        pandas.Series
            int64, indexed by node id, named ``count``.
        """
        cutoff = _check_cutoff(cutoff_m)
        max_snap = _check_max_snap(max_snap_m)
        lab = self._snap_labels(points, "points", max_snap)
        rows = lab["rows"]
        ptr, nodes, d = self._seeds(lab)
        res = _run_blocks(_kernels.count_block,
                          (self._indptr, self._indices, self._weights, ptr, nodes, d),
                          (cutoff, self._delta(cutoff)), rows.size, n_threads=_n_threads(n_threads),
                          verbose=verbose, desc="counting")
        counts = np.zeros(self.n_nodes, dtype=np.int64)
        for r in res:
            counts += r
        return pd.Series(counts, index=self._node_ids.copy(), name="count")


# ----------------------------------------------------------------------------
# module helpers
# ----------------------------------------------------------------------------
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


def _group_gather(ptr: np.ndarray, order: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Index array taking the groups ``ptr[g]:ptr[g+1]`` in ``order``, and their new ptr."""
    lens = np.diff(ptr)[order]
    new_ptr = np.zeros(order.size + 1, dtype=np.int64)
    np.cumsum(lens, out=new_ptr[1:])
    idx = np.repeat(ptr[:-1][order] - new_ptr[:-1], lens) + np.arange(new_ptr[-1])
    return idx.astype(np.int64), new_ptr


def _cat(res: list, k: int, dtype) -> np.ndarray:
    """Concatenate the k-th array of every block result (empty if no blocks)."""
    return np.concatenate([r[k] for r in res]) if res else np.empty(0, dtype=dtype)


def _readonly(a: np.ndarray) -> np.ndarray:
    v = a.view()
    v.setflags(write=False)
    return v


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


def _project(x, y, geoms, crs_from, crs_to):
    from pyproj import Transformer

    tr = Transformer.from_crs(crs_from, crs_to, always_xy=True)
    px, py = tr.transform(x, y)
    out = geoms.copy()
    has = np.array([g is not None and not (isinstance(g, float)) for g in geoms], dtype=bool)
    if has.any():
        out[has] = shapely.transform(np.asarray(list(geoms[has]), dtype=object),
                                     lambda c: np.column_stack(tr.transform(c[:, 0], c[:, 1])))
    return np.asarray(px), np.asarray(py), out
