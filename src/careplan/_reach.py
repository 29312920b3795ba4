"""The street pieces a walk reaches: the bounded, vectorised core of service areas.

:func:`careplan.coverage.service_areas` draws, for every facility, the street
pieces reachable within a walking cutoff. The work here is proportional to what
is reached, never to the size of the network times the number of facilities:

1. one bounded multi-source search per facility (the compiled kernel behind
   :meth:`careplan.WalkNetwork.distances`) gives the nodes within the cutoff;
2. each reached node hands its remaining budget ``cutoff - d(node)`` to its
   incident edges (a node-to-edge incidence list built once per call);
3. per (facility, edge), the reaches from both ends decide the piece: the
   whole edge when they meet (``r_u + r_v >= length``), otherwise a piece from
   each reached end; the facility's own edge adds the piece walked both ways
   from the snapped point;
4. every piece is cut out of its edge geometry at once (coordinates, cumulative
   lengths and ``searchsorted``: a vectorised ``shapely.ops.substring``);
5. per facility the pieces are measured (they never overlap: intervals of one
   edge are merged in step 3), then buffered one by one and the buffers united
   (the same region as buffering the united lines, 10x faster in GEOS), in
   threads (shapely releases the GIL); without a buffer they are merged end to
   end (``line_merge``), no noding needed;
6. above a stated number of facilities (``coverage.MAX_BAND_SERVICE_AREAS``) the
   band is replaced by a cheaper envelope, :func:`union_per_group` with
   ``shape="hull"``: the concave hull of the pieces' points (densified so that
   no street point is farther than ``0.75 * buffer_m`` from one), buffered by
   ``buffer_m``. It covers every street point the walk reaches and draws the
   block interiors as covered (the report fills them anyway); 5-10x cheaper
   than the band (one Delaunay triangulation per facility instead of the
   union of ~300 overlapping polygons).

The pieces are the same as the former per-facility loop over every edge of the
network (tested against a networkx Dijkstra computation of the same rule).
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import numpy as np
import shapely

from careplan._threads import default_threads

__all__ = ["DEFAULT_QUAD_SEGS", "HULL_DENSIFY", "HULL_RATIO", "SHAPES", "reached_pieces",
           "substrings", "union_per_group"]

#: Segments per quarter circle of the round caps and joins of a service area's band
#: (GEOS ``quad_segs``). With 4 a chord lies at most ``r (1 - cos(pi/16))`` = 1.9 % of
#: the band's half-width inside the true circle (0.48 m at the 25 m default); the
#: area differs from GEOS's default 8 by about 0.1 % on a street grid, and the union
#: of a facility's bands takes about two thirds of the time (measured on the 100k-node
#: grid city of benchmarks/bench_scale.py: 36 against 55 ms CPU per facility).
DEFAULT_QUAD_SEGS: int = 4

#: How a service area is drawn (:func:`union_per_group`): ``"band"`` the union of the
#: reached street pieces buffered by ``buffer_m`` (exact); ``"hull"`` the concave hull of
#: the pieces' points buffered by ``buffer_m`` (an envelope: cheap, see the module
#: docstring); ``"lines"`` the pieces merged end to end (``buffer_m = 0``).
SHAPES: tuple[str, ...] = ("band", "hull", "lines")

#: Concave-hull ``ratio`` of the ``"hull"`` shape (GEOS ``ConcaveHull``: Delaunay edges
#: longer than ``min + ratio * (max - min)`` of the triangulation's edge lengths are
#: eroded from the outside). 0.1 measured on the 100k-node grid city of
#: benchmarks/bench_scale.py (200 estates, 900 m): the buffered hull's area is 1.02-1.11
#: times the exact band's with its block interiors filled, 4-5 ms CPU per facility
#: against 44 ms for the band; 0 (the most concave) follows every street and costs 2x.
HULL_RATIO: float = 0.1

#: The ``"hull"`` shape densifies the pieces to segments of at most
#: ``HULL_DENSIFY * buffer_m`` before the hull: every street point is then within
#: ``0.75 * buffer_m`` of a hull point, inside the band of ``buffer_m`` drawn around the
#: hull (at least ``cos(pi / 16) = 98 %`` of ``buffer_m`` with 4 quadrant segments), so
#: the envelope covers every reached street point.
HULL_DENSIFY: float = 1.5


def _incidence(eu: np.ndarray, ev: np.ndarray, n_nodes: int) -> tuple[np.ndarray, ...]:
    """Node -> incident edges as CSR: ``ptr`` (n_nodes + 1), ``edge``, ``side`` (0 = u, 1 = v)."""
    node = np.concatenate([eu, ev])
    edge = np.concatenate([np.arange(eu.size), np.arange(ev.size)])
    side = np.concatenate([np.zeros(eu.size, np.int8), np.ones(ev.size, np.int8)])
    order = np.argsort(node, kind="stable")
    ptr = np.zeros(n_nodes + 1, dtype=np.int64)
    np.cumsum(np.bincount(node, minlength=n_nodes), out=ptr[1:])
    return ptr, edge[order], side[order]


def reached_pieces(*, src: np.ndarray, node: np.ndarray, dist: np.ndarray, cutoff: float,
                   eu: np.ndarray, ev: np.ndarray, length: np.ndarray, n_nodes: int,
                   own_row: np.ndarray, own_edge: np.ndarray, own_snap: np.ndarray,
                   own_offset: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray,
                                                     np.ndarray]:
    """Intervals of edges reached within ``cutoff`` from each source.

    Parameters
    ----------
    src, node, dist : numpy.ndarray, shape (n_pairs,)
        Source row, node position and walking distance (m) of every node
        within the cutoff of a source (the kernel's output).
    cutoff : float
        Walking budget (m).
    eu, ev, length : numpy.ndarray, shape (n_edges,)
        Edge end node positions and lengths (m).
    n_nodes : int
        Number of nodes.
    own_row, own_edge, own_snap, own_offset : numpy.ndarray, shape (n_entrances,)
        Per entrance of a source: its row, the edge it snaps to, the snap leg
        (m) and the offset along that edge from ``u`` (m).

    Returns
    -------
    row, edge, start_m, end_m : numpy.ndarray, shape (n_pieces,)
        One interval ``[start_m, end_m]`` (metres along the edge from ``u``,
        in the edge's length units) per reached piece, sorted by row then
        edge; intervals of one (row, edge) are merged, so they never overlap.
    """
    ptr, inc_edge, inc_side = _incidence(eu, ev, n_nodes)
    deg = np.diff(ptr)[node]
    rows = np.repeat(src, deg)
    budget = np.repeat(cutoff - dist, deg)
    take = np.repeat(ptr[node] - np.concatenate([[0], np.cumsum(deg)[:-1]]), deg) + np.arange(deg.sum())
    edges = inc_edge[take]
    side = inc_side[take]
    n_edges = eu.size
    key = rows.astype(np.int64) * n_edges + edges
    uniq, inv = np.unique(key, return_inverse=True)
    ru = np.full(uniq.size, -np.inf)
    rv = np.full(uniq.size, -np.inf)
    np.maximum.at(ru, inv[side == 0], budget[side == 0])
    np.maximum.at(rv, inv[side == 1], budget[side == 1])
    r_row = uniq // n_edges
    r_edge = uniq % n_edges
    L = length[r_edge]
    full = (ru >= 0) & (rv >= 0) & (ru + rv >= L)
    a_u = np.where(full, L, np.clip(ru, 0.0, L))  # [0, a_u] from u
    a_v = np.where(full, 0.0, L - np.clip(rv, 0.0, L))  # [a_v, L] from v
    # the source's own edge, walked both ways from the snapped point
    r = cutoff - own_snap
    ok = r >= 0
    o_row, o_edge = own_row[ok], own_edge[ok]
    o_L = length[o_edge]
    o_a = np.clip(own_offset[ok] - r[ok], 0.0, o_L)
    o_b = np.clip(own_offset[ok] + r[ok], 0.0, o_L)
    row = np.concatenate([r_row, r_row, o_row])
    edge = np.concatenate([r_edge, r_edge, o_edge])
    start = np.concatenate([np.zeros(r_row.size), a_v, o_a])
    end = np.concatenate([a_u, L, o_b])
    keep = end > start
    return _merge_intervals(row[keep], edge[keep], start[keep], end[keep])


def _merge_intervals(row, edge, start, end):
    """Merge overlapping intervals of the same (row, edge); sorted by row, edge, start."""
    order = np.lexsort((start, edge, row))
    row, edge, start, end = row[order], edge[order], start[order], end[order]
    if row.size == 0:
        return row, edge, start, end
    same = np.zeros(row.size, dtype=bool)
    same[1:] = (row[1:] == row[:-1]) & (edge[1:] == edge[:-1])
    # an interval opens a new merged piece when it starts after every earlier end of its
    # group (the running maximum restarts per group: groups shifted apart by more than
    # any end; the shift only decides where pieces open, the ends are taken unshifted)
    group = np.cumsum(~same) - 1
    shift = group * (2.0 * (float(end.max()) + 1.0))
    cummax = np.maximum.accumulate(end + shift) - shift
    prev_end = np.full(end.size, -np.inf)
    prev_end[1:] = np.where(same[1:], cummax[:-1], -np.inf)
    first = np.flatnonzero(start > prev_end)
    return row[first], edge[first], start[first], np.maximum.reduceat(end, first)


def substrings(lines: np.ndarray, which: np.ndarray, frac_start: np.ndarray,
               frac_end: np.ndarray) -> np.ndarray:
    """Vectorised ``shapely.ops.substring(lines[which], a, b, normalized=True)``.

    Parameters
    ----------
    lines : numpy.ndarray of shapely.LineString, shape (m,)
        Lines (2-D; a Z coordinate is ignored).
    which : numpy.ndarray of int, shape (n,)
        The line each piece is cut from.
    frac_start, frac_end : numpy.ndarray, shape (n,)
        Fractions of the line's length, ``0 <= frac_start <= frac_end <= 1``.

    Returns
    -------
    numpy.ndarray of shapely.LineString, shape (n,)
        The interpolated start point, every vertex strictly inside, the
        interpolated end point.
    """
    n = which.size
    if n == 0:
        return np.empty(0, dtype=object)
    xy, owner = shapely.get_coordinates(lines, return_index=True)
    seg = np.hypot(*(xy[1:] - xy[:-1]).T)
    seg[owner[1:] != owner[:-1]] = 0.0
    cum = np.concatenate([[0.0], np.cumsum(seg)])
    starts = np.searchsorted(owner, np.arange(lines.size))
    ends = np.concatenate([starts[1:], [owner.size]]) - 1
    cum -= cum[starts][owner]
    total = cum[ends]
    # one monotone key over all lines: line index * span + distance along it
    span = float(total.max()) + 1.0
    key = owner * span + cum
    pa = frac_start * total[which]
    pb = frac_end * total[which]
    base = which * span
    s0, s1 = starts[which], ends[which]
    lo = np.clip(np.searchsorted(key, base + pa, side="right"), s0 + 1, s1)
    hi = np.clip(np.searchsorted(key, base + pb, side="left"), lo, s1)
    p_start = _interpolate(xy, cum, lo - 1, pa)
    p_end = _interpolate(xy, cum, hi - 1, pb)
    n_in = hi - lo  # vertices strictly inside
    count = n_in + 2
    out_ptr = np.concatenate([[0], np.cumsum(count)])
    coords = np.empty((int(out_ptr[-1]), 2))
    coords[out_ptr[:-1]] = p_start
    coords[out_ptr[1:] - 1] = p_end
    k = np.arange(int(n_in.sum())) - np.repeat(np.cumsum(n_in) - n_in, n_in)
    coords[np.repeat(out_ptr[:-1] + 1, n_in) + k] = xy[np.repeat(lo, n_in) + k]
    return shapely.linestrings(coords, indices=np.repeat(np.arange(n), count))


def _interpolate(xy: np.ndarray, cum: np.ndarray, j: np.ndarray, at: np.ndarray) -> np.ndarray:
    """Point at distance ``at`` on segment ``j -> j+1`` (clamped to the segment)."""
    d = cum[j + 1] - cum[j]
    t = np.divide(at - cum[j], d, out=np.zeros_like(at), where=d > 0)
    t = np.clip(t, 0.0, 1.0)[:, None]
    return xy[j] * (1 - t) + xy[j + 1] * t


def union_per_group(pieces: np.ndarray, group: np.ndarray, n_groups: int, *,
                    extra: np.ndarray | None = None, extra_group: np.ndarray | None = None,
                    buffer_m: float = 0.0, quad_segs: int = DEFAULT_QUAD_SEGS,
                    shape: str = "band", n_threads: int | None = None
                    ) -> tuple[np.ndarray, np.ndarray]:
    """Per group: merged pieces (their length) and the shape drawn (with extras, buffered).

    Parameters
    ----------
    pieces : numpy.ndarray of shapely.LineString, shape (n,)
        Street pieces, sorted by ``group``.
    group : numpy.ndarray of int, shape (n,)
        Group (facility row) of each piece.
    n_groups : int
        Number of groups; groups without pieces get an empty geometry.
    extra, extra_group : numpy.ndarray, optional
        Lines drawn but not measured (the snap legs), and their groups.
    buffer_m : float
        Half-width of the band drawn around the lines (0: the lines).
    quad_segs : int
        Segments per quarter circle of the band's round caps and joins
        (:data:`DEFAULT_QUAD_SEGS`).
    shape : {"band", "hull"}
        With ``buffer_m > 0``: the buffered lines united (``"band"``, exact), or
        the concave hull of their points (densified by :data:`HULL_DENSIFY`,
        ratio :data:`HULL_RATIO`) buffered by ``buffer_m`` (``"hull"``: covers
        every point of the lines, 5-10x cheaper). Ignored when ``buffer_m == 0``.
    n_threads : int, optional
        Threads (default: all CPUs).

    Returns
    -------
    length_m : numpy.ndarray, shape (n_groups,)
        Total length of each group's pieces (pieces do not overlap: the
        intervals of one edge are merged by :func:`reached_pieces`).
    shape : numpy.ndarray of shapely geometries, shape (n_groups,)
    """
    bounds = np.searchsorted(group, np.arange(n_groups + 1))
    if extra is None:
        extra = np.empty(0, dtype=object)
        extra_group = np.empty(0, dtype=np.int64)
    order = np.argsort(extra_group, kind="stable")
    extra, extra_group = extra[order], extra_group[order]
    ebounds = np.searchsorted(extra_group, np.arange(n_groups + 1))

    # pieces of one edge were merged upstream, so their lengths add up (edges that
    # share a geometry, e.g. a way mapped twice, are each counted)
    piece_len = shapely.length(pieces)
    length = np.zeros(n_groups)
    np.add.at(length, group, piece_len)
    shape_out = np.full(n_groups, None, dtype=object)

    def hull(block: range) -> None:
        a, z = bounds[block.start], bounds[block.stop]
        ea, ez = ebounds[block.start], ebounds[block.stop]
        lines = np.concatenate([pieces[a:z], extra[ea:ez]])
        owner = np.concatenate([group[a:z], extra_group[ea:ez]])
        order = np.argsort(owner, kind="stable")
        has, rank = np.unique(owner[order], return_inverse=True)  # groups with lines
        dense = shapely.segmentize(lines[order], HULL_DENSIFY * buffer_m)
        drawn = shapely.multilinestrings(dense, indices=rank)
        shape_out[block.start:block.stop] = shapely.Polygon()
        shape_out[has] = shapely.buffer(shapely.concave_hull(drawn, ratio=HULL_RATIO),
                                        buffer_m, quad_segs=quad_segs)

    def work(block: range) -> None:
        if buffer_m > 0 and shape == "hull":
            hull(block)
            return
        for i in block:
            drawn = np.concatenate([pieces[bounds[i]:bounds[i + 1]], extra[ebounds[i]:ebounds[i + 1]]])
            if buffer_m > 0:
                # the union of buffered pieces is the buffer of their union (round caps
                # and joins); GEOS is 10x faster this way than buffering the union
                shape_out[i] = shapely.union_all(shapely.buffer(drawn, buffer_m,
                                                                quad_segs=quad_segs))
            else:
                shape_out[i] = shapely.line_merge(shapely.multilinestrings(drawn))

    n_threads = default_threads() if n_threads is None else int(n_threads)
    step = max(1, min(256, -(-n_groups // (4 * n_threads))))
    blocks = [range(a, min(n_groups, a + step)) for a in range(0, n_groups, step)]
    if n_threads == 1 or len(blocks) <= 1:
        for b in blocks:
            work(b)
    else:
        with ThreadPoolExecutor(max_workers=n_threads) as pool:
            list(pool.map(work, blocks))
    return length, shape_out
