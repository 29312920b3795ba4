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

Same place, zero walk (issue 14 item 10). Two rules can only shorten the
distance above:

* a destination inside an origin's polygon (or an origin inside a
  destination's, or two polygons that meet) is **0 m** away: a station inside
  an estate serves it without a walk (both must be within ``max_snap_m`` of
  the network: unreachable points have no pairs at all);
* two points off the network are their **straight walk** apart when that walk
  is no longer than either point's snap leg. The disc around a point of
  radius its snap distance contains no street, so such a walk stays inside
  the same off-street block the snap leg already crosses (an estate and its
  station at one point 300 m off the street are 0 m apart, not 600 m). A
  longer straight walk is never used: it may cross a river or a wall the
  street graph knows nothing about.

A point reaches only what it can walk to (issue 14 item 9). With
``keep='largest'`` the small disconnected pieces (an island loop, a gated
estate's internal ring) are removed; a point whose nearest street belongs to
such a piece is still snapped to the kept network (its straight leg is
walked and counted) but is flagged ``cut_off`` (the ``cut_off`` column of
:meth:`WalkNetwork.snap`, :attr:`SnappedPoints.cut_off`,
``attrs["cut_off_origins"]`` / ``["cut_off_destinations"]`` of distance
tables) and named in a CareplanWarning at query time. With ``keep='all'``
the point snaps to its own piece and reaches nothing else. Independently,
a point whose leg is longer than :data:`DEFAULT_LONG_ACCESS_M` (300 m, the
5-minute life circle of GB 50180-2018) is flagged ``long_access`` the same
way: reached only by a long access leg, never counted silently.

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

Modules
-------
``_osm`` (walkable filter, OSM files, networkx graphs), ``_build``
(noding, components, CSR), ``_snap`` (snapping), ``_query`` (distances),
``_network`` (the class), ``_common`` (checks and helpers).

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
from careplan.network._common import DEFAULT_LONG_ACCESS_M, DEFAULT_MAX_SNAP_M
from careplan.network._common import _check_cutoff as _check_cutoff  # used by coverage
from careplan.network._common import _check_max_snap as _check_max_snap
from careplan.network._common import _warn as _warn
from careplan.network._network import WalkNetwork
from careplan.network._osm import EXCLUDED_HIGHWAY, is_walkable
from careplan.network._types import EdgeSnap, ReachedNodes, SnappedPoints

__all__ = [
    "DEFAULT_LONG_ACCESS_M",
    "DEFAULT_MAX_SNAP_M",
    "EXCLUDED_HIGHWAY",
    "EdgeSnap",
    "ReachedNodes",
    "SnappedPoints",
    "WalkNetwork",
    "is_walkable",
]
