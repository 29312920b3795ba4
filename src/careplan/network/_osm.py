"""OpenStreetMap input: the walkable filter, pyosmium parsing of OSM files and
reading the edges of an osmnx / networkx graph.

The rules of :func:`is_walkable` are described in :mod:`careplan.network`.
"""

from __future__ import annotations

import ast
import math
from collections.abc import Mapping
from typing import Any

import networkx as nx
import numpy as np
import pandas as pd
import shapely
from pyproj import CRS

from careplan._errors import CRSError, InputError
from careplan.network import _osmfile
from careplan.network._common import _utm_crs, _warn

#: ``highway`` values never walkable.
EXCLUDED_HIGHWAY: frozenset[str] = frozenset({
    "motorway", "motorway_link", "bus_guideway", "busway", "construction",
    "proposed", "planned", "abandoned", "disused", "raceway", "razed",
    "escape", "no", "elevator_shaft",
})

_FOOT_OK = frozenset({"yes", "designated", "permissive"})
_TAG_KEYS = ("highway", "name", "access", "foot", "area", "service", "motorroad")


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


_WALK_KEYS = ("highway", "motorroad", "area", "foot", "service", "access")
_walkable_memo: dict[tuple, bool] = {}


def _hashable(value: Any) -> Any:
    return tuple(value) if isinstance(value, list | set) else value


def _walkable_cached(tags: Mapping[str, Any]) -> bool:
    """:func:`is_walkable`, memoised on the tag values it reads (graphs repeat a few combinations)."""
    key = tuple(map(tags.get, _WALK_KEYS))
    try:
        return _walkable_memo[key]
    except KeyError:
        pass
    except TypeError:  # lists (merged osmnx edges) are not hashable
        key = tuple(_hashable(v) for v in key)
        if key in _walkable_memo:
            return _walkable_memo[key]
    ok = is_walkable(tags)
    if len(_walkable_memo) < 100_000:
        _walkable_memo[key] = ok
    return ok


def is_walkable(tags: Mapping[str, Any]) -> bool:
    """Return True when an OSM way / graph edge with these tags may be walked.

    Parameters
    ----------
    tags : mapping
        OSM tags (``highway``, ``access``, ``foot``, ``area``, ``service``,
        ``motorroad``). Values may be lists (osmnx merges tags of simplified
        edges); then the edge is dropped only if *every* ``highway`` value is
        excluded, and kept if any ``foot`` value allows walking.

    Returns
    -------
    bool
        True if walkable.

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
# OSM files (pyosmium)
# ----------------------------------------------------------------------------
def read_osm_ways(path: Any, *, walkable_only: bool = True) -> dict[str, Any]:
    """Read the walkable ``highway`` ways of an OSM file (see :mod:`._osmfile`).

    Ways are split where their nodes are missing (never bridged); deleted
    elements, history versions, bad coordinates and each tool's habits are
    handled as described in :mod:`careplan.network._osmfile`.
    """
    return _osmfile.read_osm_ways(path, walkable_only=walkable_only, tag_keys=_TAG_KEYS,
                                  is_walkable=_walkable_cached)


# ----------------------------------------------------------------------------
# osmnx / networkx graphs
# ----------------------------------------------------------------------------
def _number(value: Any, what: str, attr: str, *, minimum: float | None = None) -> float:
    """A finite float from a number or a numeric string (``read_graphml`` gives strings)."""
    try:
        v = float(value)
    except (TypeError, ValueError):
        v = math.nan
    if not math.isfinite(v) or (minimum is not None and v < minimum):
        need = "a finite number" if minimum is None else f"a finite number >= {minimum:g}"
        raise InputError(f"{what} has {attr!r} = {value!r}, which is not {need}. Fix or drop it "
                         "before building the network (a graph read with "
                         "networkx.read_graphml keeps every attribute as text; "
                         "osmnx.load_graphml converts them).")
    return v


def _tag_value(value: Any) -> Any:
    """An OSM tag value; a stringified list (``"['residential', 'footway']"``) becomes a list."""
    if isinstance(value, str) and value.startswith("[") and value.endswith("]"):
        try:
            parsed = ast.literal_eval(value)
        except (ValueError, SyntaxError):
            return value
        if isinstance(parsed, list):
            return parsed
    return value


def _osmid(value: Any) -> Any:
    """OSM way id(s): ``"123"`` -> 123, ``"[1, 2]"`` -> [1, 2]; anything else unchanged."""
    value = _tag_value(value)
    if isinstance(value, str):
        try:
            return int(value)
        except ValueError:
            return value
    if isinstance(value, list):
        return [_osmid(v) for v in value]
    return value


def _edge_geometries(geoms: list[Any], labels: list[Any]) -> np.ndarray:
    """Edge geometries as shapely LineStrings or None; WKT strings are parsed.

    Raises InputError naming the first edge whose geometry is not a line.
    """
    out = np.empty(len(geoms), dtype=object)
    out[:] = geoms
    is_str = np.fromiter((isinstance(g, str) for g in geoms), dtype=bool, count=len(geoms))
    if is_str.any():
        out[is_str] = shapely.from_wkt(out[is_str].astype(str), on_invalid="ignore")
    missing = np.fromiter((g is None or (isinstance(g, float) and math.isnan(g)) for g in geoms),
                          dtype=bool, count=len(geoms))
    out[missing] = None
    given = ~missing
    ok = np.zeros(len(geoms), dtype=bool)
    is_geom = np.fromiter((isinstance(g, shapely.Geometry) for g in out), dtype=bool,
                          count=len(geoms))
    ok[is_geom] = (shapely.get_type_id(out[is_geom]) == 1) & ~shapely.is_empty(out[is_geom])
    bad = np.flatnonzero(given & ~ok)
    if bad.size:
        i = int(bad[0])
        raise InputError(f"edge {labels[i]!r} has 'geometry' = {str(geoms[i])[:80]!r}, which is "
                         f"not a LineString ({bad.size} edge(s) like this). Give edges "
                         "LineString geometries (or WKT text of one), or remove the attribute "
                         "to use straight lines.")
    return out


def edges_from_graph(G: nx.Graph, *, crs: Any, walkable_only: bool) -> dict[str, Any]:
    """Nodes and walkable edges of a networkx graph as arrays (see ``WalkNetwork.from_graph``).

    Attributes that arrive as text, as in a graph read back with
    ``networkx.read_graphml`` from an ``osmnx.save_graphml`` file, are parsed:
    ``x``, ``y`` and ``length`` as numbers, ``geometry`` as WKT, ``osmid`` as
    integers (``"[1, 2]"`` as a list) and stringified tag lists
    (``"['residential', 'footway']"``) as lists. Anything that cannot be
    parsed raises here, at build time, naming the node or edge, never later
    at query time.

    Parameters
    ----------
    G : networkx.Graph, MultiGraph, DiGraph or MultiDiGraph
        Nodes with ``x``, ``y``; edges with optional ``length`` (m),
        ``geometry`` and OSM tags.
    crs : CRS-like or None
        CRS of the coordinates; default ``G.graph["crs"]``. A geographic CRS
        is projected to the local UTM zone.
    walkable_only : bool
        Leave out edges failing :func:`is_walkable` (and untagged edges of a
        graph where some edges carry ``highway``).

    Returns
    -------
    dict
        Keyword arguments of the ``WalkNetwork`` constructor (``node_ids``,
        ``x``, ``y``, ``edge_u``, ``edge_v``, ``edge_length``,
        ``edge_geometry``, ``crs``, ``edge_attrs``, ``not_walkable_edges``).

    Raises
    ------
    InputError
        Not a graph, no edges, a node without numeric finite ``x``/``y``, an
        edge whose ``length`` is not a number >= 0 or whose ``geometry`` is
        not a LineString (or its WKT).
    CRSError
        No CRS given or found.
    """
    if not isinstance(G, nx.Graph):
        raise InputError(f"from_graph needs a networkx graph, got {type(G).__name__}.")
    if next(iter(G.edges), None) is None:  # (number_of_edges() sums every degree)
        raise InputError("The graph has no edges: nothing to walk on. Check the graph was "
                         "downloaded/read for the right area.")
    crs = crs if crs is not None else G.graph.get("crs")
    if crs is None:
        raise CRSError("The graph has no CRS (G.graph['crs'] is missing): pass crs=, e.g. "
                       "crs='EPSG:4326' for lon/lat coordinates.")
    crs = CRS.from_user_input(crs)
    nodes = list(G.nodes)
    try:  # fast path: numbers (or numeric text) everywhere
        x = np.array([G.nodes[n]["x"] for n in nodes], dtype=np.float64)
        y = np.array([G.nodes[n]["y"] for n in nodes], dtype=np.float64)
        ok = bool(np.isfinite(x).all() and np.isfinite(y).all())
    except (KeyError, TypeError, ValueError):
        ok = False
    if not ok:  # find the node to name
        for n, d in G.nodes(data=True):
            if "x" not in d or "y" not in d:
                raise InputError(f"Every graph node needs 'x' and 'y' attributes "
                                 f"(coordinates); node {n!r} has {sorted(d)}.")
            _number(d["x"], f"node {n!r}", "x")
            _number(d["y"], f"node {n!r}", "y")
    # a graph read with networkx.read_graphml holds every attribute as text
    u0, v0, d0 = next(iter(G.edges(data=True)))
    text = isinstance(d0.get("length"), str) or isinstance(G.nodes[u0].get("x"), str)
    pos = {n: i for i, n in enumerate(nodes)}
    multi = G.is_multigraph()
    it = G.edges(keys=True, data=True) if multi else ((u, v, None, d) for u, v, d in G.edges(data=True))
    eu, ev, lengths, geoms, tags, labels = [], [], [], [], [], []
    dropped = 0
    seen: set[tuple[int, int, float]] = set()
    directed = G.is_directed()
    # OSM-derived graph (some edges tagged highway): untagged edges are
    # not streets (osmnx.graph_from_xml keeps building/landuse outlines)
    osm_like = any(d.get("highway") is not None for _, _, d in G.edges(data=True))
    for u, v, k, d in it:
        label = (u, v) if k is None else (u, v, k)
        t = {key: _tag_value(d.get(key)) for key in _TAG_KEYS} if text else d
        if walkable_only and (not _walkable_cached(t) or (osm_like and t.get("highway") is None)):
            dropped += 1
            continue
        raw = d.get("length")
        L = None if raw is None else _number(raw, f"edge {label!r}", "length", minimum=0)
        pu, pv = pos[u], pos[v]
        if directed and L is not None:
            key = (min(pu, pv), max(pu, pv), round(L, 6))
            if key in seen:
                continue
            seen.add(key)
        eu.append(pu)
        ev.append(pv)
        lengths.append(np.nan if L is None else L)
        geoms.append(d.get("geometry"))
        labels.append(label)
        tags.append({"highway": t.get("highway"), "name": t.get("name"),
                     "osmid": _osmid(d.get("osmid")) if text else d.get("osmid")})
    if dropped:
        _warn(f"{dropped} graph edge(s) are not walkable (motorway, access=no, ...) "
              "and were left out; pass walkable_only=False to keep them.")
    geoms_arr = _edge_geometries(geoms, labels)
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
    return {"node_ids": nodes, "x": x, "y": y, "edge_u": eu_arr, "edge_v": ev_arr,
            "edge_length": lengths_arr, "edge_geometry": geoms_arr, "crs": crs,
            "edge_attrs": pd.DataFrame(tags, columns=["highway", "name", "osmid"]),
            "not_walkable_edges": dropped}


def _project(x, y, geoms, crs_from, crs_to):
    """Project node coordinates and edge geometries (None entries kept)."""
    from pyproj import Transformer

    tr = Transformer.from_crs(crs_from, crs_to, always_xy=True)
    px, py = tr.transform(x, y)
    out = geoms.copy()
    has = np.array([g is not None and not (isinstance(g, float)) for g in geoms], dtype=bool)
    if has.any():
        out[has] = shapely.transform(np.asarray(list(geoms[has]), dtype=object),
                                     lambda c: np.column_stack(tr.transform(c[:, 0], c[:, 1])))
    return np.asarray(px), np.asarray(py), out
