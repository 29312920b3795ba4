"""Compiled kernels for the walking network (numba).

Bounded single-source shortest paths over an undirected graph stored as CSR
arrays (``indptr``, ``indices``, ``arc_length_m``):

* a *bucket queue* (Dial's algorithm, as in delta-stepping): bucket ``b``
  holds the nodes with tentative distance in ``[b*delta, (b+1)*delta)``;
  buckets are scanned in order, which replaces the heap's ``log n`` sift
  with O(1) pushes and pops. With ``delta`` no larger than the shortest
  positive edge a node is final when its bucket is reached; a larger
  ``delta`` (used only when that would need more than 8,192 buckets) or
  zero-length edges make a node improve within its own bucket, in which case
  it is simply processed again (label correcting), so distances stay exact;
* a distance array, a done-flag array and the bucket heads allocated once per
  *block* of sources and reset through the list of touched nodes after every
  source, so the work and the memory of one search are proportional to what
  lies within the cutoff, never to ``n_sources x n_nodes``;
* output written to growable buffers (doubling), so memory is proportional to
  the pairs returned.

A *source* may have several seeds ``(node, initial distance)``: a point
snapped onto an edge starts from both end nodes of the edge, each with its
access leg. Every kernel is ``nogil`` so Python threads run blocks of sources
in parallel (see :func:`careplan.network.WalkNetwork.distances`).

These functions are private; the public API is :class:`careplan.WalkNetwork`.
"""

from __future__ import annotations

import numpy as np
from numba import njit

__all__ = ["node_block", "dest_block", "count_block", "n_buckets"]

_INF = np.inf


@njit(cache=True, nogil=True)
def n_buckets(cutoff, delta):
    """Number of buckets for distances in ``[0, cutoff]``."""
    return int(cutoff / delta) + 2


@njit(cache=True, nogil=True)
def _sssp(indptr, indices, arc_length_m, seed_nodes, seed_dist, cutoff, inv_delta, nb,
          dist, done, head, pool_node, pool_next, touched):
    """Bounded shortest paths from several seeds with a bucket queue.

    Fills ``touched`` with every node reached (all within ``cutoff``, final
    distances in ``dist``), in the order first reached. Returns
    ``(n_touched, ok)``; ``ok`` is False if the entry pool ran out (possible
    only with much label correcting): then :func:`_search` clears the state,
    doubles the pool and runs the search again. The caller resets
    ``dist``/``done`` through ``touched`` with :func:`_reset`; every bucket is
    empty again on a successful return.
    """
    cap = pool_node.shape[0]
    pn = 0
    nt = 0
    pending = 0
    lo = nb
    for k in range(seed_nodes.shape[0]):
        s = seed_nodes[k]
        d0 = seed_dist[k]
        if d0 <= cutoff and d0 < dist[s]:
            if dist[s] == _INF:
                touched[nt] = s
                nt += 1
            dist[s] = d0
            b = int(d0 * inv_delta)
            if pn >= cap:
                return nt, False
            pool_node[pn] = s
            pool_next[pn] = head[b]
            head[b] = pn
            pn += 1
            pending += 1
            if b < lo:
                lo = b
    b = lo
    while pending > 0:
        while head[b] >= 0:
            e = head[b]
            head[b] = pool_next[e]
            pending -= 1
            u = pool_node[e]
            du = dist[u]
            if done[u] or int(du * inv_delta) != b:
                continue  # stale entry
            done[u] = True
            for q in range(indptr[u], indptr[u + 1]):
                nd = du + arc_length_m[q]
                if nd <= cutoff:
                    v = indices[q]
                    if nd < dist[v]:
                        if dist[v] == _INF:
                            touched[nt] = v
                            nt += 1
                        dist[v] = nd
                        done[v] = False
                        bv = int(nd * inv_delta)
                        if pn >= cap:
                            return nt, False
                        pool_node[pn] = v
                        pool_next[pn] = head[bv]
                        head[bv] = pn
                        pn += 1
                        pending += 1
        b += 1
    return nt, True


@njit(cache=True, nogil=True)
def _reset(touched, n_touched, dist, done):
    for k in range(n_touched):
        v = touched[k]
        dist[v] = _INF
        done[v] = False


@njit(cache=True, nogil=True)
def _search(indptr, indices, arc_length_m, seed_nodes, seed_dist, cutoff, inv_delta, nb,
            dist, done, head, pool_node, pool_next, touched):
    """:func:`_sssp`, growing the entry pool and retrying if it ran out."""
    while True:
        nt, ok = _sssp(indptr, indices, arc_length_m, seed_nodes, seed_dist, cutoff, inv_delta, nb,
                       dist, done, head, pool_node, pool_next, touched)
        if ok:
            return nt, pool_node, pool_next
        _reset(touched, nt, dist, done)
        head[:] = -1
        pool_node = np.empty(2 * pool_node.shape[0], dtype=np.int64)
        pool_next = np.empty(2 * pool_next.shape[0], dtype=np.int64)


@njit(cache=True, nogil=True)
def _work_arrays(indptr, indices, nb):
    n = indptr.shape[0] - 1
    m = indices.shape[0] + n + 16
    dist = np.full(n, _INF)
    done = np.zeros(n, dtype=np.bool_)
    head = np.full(nb, -1, dtype=np.int64)
    pool_node = np.empty(m, dtype=np.int64)  # untouched pages cost no memory
    pool_next = np.empty(m, dtype=np.int64)
    touched = np.empty(n, dtype=np.int64)
    return dist, done, head, pool_node, pool_next, touched


@njit(cache=True, nogil=True)
def _grow_i(a, n):
    b = np.empty(max(2 * a.shape[0], n), dtype=a.dtype)
    b[: a.shape[0]] = a
    return b


@njit(cache=True, nogil=True)
def _grow_f(a, n):
    b = np.empty(max(2 * a.shape[0], n), dtype=a.dtype)
    b[: a.shape[0]] = a
    return b


@njit(cache=True, nogil=True)
def node_block(indptr, indices, arc_length_m, seed_ptr, seed_nodes, seed_dist, s0, s1, cutoff, delta):
    """Nodes within ``cutoff`` of sources ``s0 .. s1-1``.

    Source ``s`` has seeds ``seed_nodes[seed_ptr[s]:seed_ptr[s+1]]`` with
    initial distances ``seed_dist[...]``. Returns ``(src, node, dist)``
    arrays of every (source, node) pair with distance <= cutoff.
    """
    nb = n_buckets(cutoff, delta)
    inv_delta = 1.0 / delta
    dist, done, head, pool_node, pool_next, touched = _work_arrays(indptr, indices, nb)
    cap = 1024
    out_s = np.empty(cap, dtype=np.int64)
    out_n = np.empty(cap, dtype=np.int64)
    out_d = np.empty(cap, dtype=np.float64)
    m = 0
    for s in range(s0, s1):
        a, b = seed_ptr[s], seed_ptr[s + 1]
        nt, pool_node, pool_next = _search(indptr, indices, arc_length_m, seed_nodes[a:b],
                                         seed_dist[a:b], cutoff, inv_delta, nb, dist, done,
                                         head, pool_node, pool_next, touched)
        if m + nt > out_s.shape[0]:
            out_s = _grow_i(out_s, m + nt)
            out_n = _grow_i(out_n, m + nt)
            out_d = _grow_f(out_d, m + nt)
        for k in range(nt):
            v = touched[k]
            out_s[m] = s
            out_n[m] = v
            out_d[m] = dist[v]
            m += 1
        _reset(touched, nt, dist, done)
    return out_s[:m], out_n[:m], out_d[:m]  # views; the caller concatenates (copies)


@njit(cache=True, nogil=True)
def count_block(indptr, indices, arc_length_m, seed_ptr, seed_nodes, seed_dist, s0, s1, cutoff, delta):
    """Per node, how many of sources ``s0 .. s1-1`` lie within ``cutoff`` (no pair output)."""
    nb = n_buckets(cutoff, delta)
    inv_delta = 1.0 / delta
    dist, done, head, pool_node, pool_next, touched = _work_arrays(indptr, indices, nb)
    counts = np.zeros(indptr.shape[0] - 1, dtype=np.int64)
    for s in range(s0, s1):
        a, b = seed_ptr[s], seed_ptr[s + 1]
        nt, pool_node, pool_next = _search(indptr, indices, arc_length_m, seed_nodes[a:b],
                                         seed_dist[a:b], cutoff, inv_delta, nb, dist, done,
                                         head, pool_node, pool_next, touched)
        for k in range(nt):
            counts[touched[k]] += 1
        _reset(touched, nt, dist, done)
    return counts


@njit(cache=True, nogil=True)
def dest_block(indptr, indices, arc_length_m, seed_ptr, seed_nodes, seed_dist, s0, s1, cutoff, delta,
               dst_ptr, dst_idx, dst_acc, n_dest,
               sp_ptr, sp_edge, sp_off, sp_snap, edst_ptr, edst_idx, edst_off, edst_snap):
    """Destinations within ``cutoff`` of origins ``s0 .. s1-1``.

    The graph may be the full network or its junction graph (see
    ``careplan.network._chains``): then an "edge" below is a chain, and
    offsets are chain offsets. Destinations hang off nodes: node ``v`` carries destinations
    ``dst_idx[dst_ptr[v]:dst_ptr[v+1]]`` with access legs ``dst_acc[...]``
    (walk from the node along the edge and off it to the point). The
    distance of a pair is the minimum over both end nodes of the origin's
    and the destination's edges of access + network + access, and, when both
    points lie on the same edge, the direct walk along it:
    ``sp_snap + |sp_off - edst_off| + edst_snap``. Origin ``s`` has snapped
    points (entrances) ``sp_ptr[s]:sp_ptr[s+1]`` on edges ``sp_edge``; edge
    ``e`` carries destinations ``edst_idx[edst_ptr[e]:edst_ptr[e+1]]``.

    Returns ``(origin, destination, dist)`` arrays of the pairs <= cutoff,
    by origin, then distance, then destination index.
    """
    nb = n_buckets(cutoff, delta)
    inv_delta = 1.0 / delta
    dist, done, head, pool_node, pool_next, touched = _work_arrays(indptr, indices, nb)
    best = np.full(n_dest, _INF)
    found = np.empty(n_dest, dtype=np.int64)
    cap = 1024
    out_s = np.empty(cap, dtype=np.int64)
    out_t = np.empty(cap, dtype=np.int64)
    out_d = np.empty(cap, dtype=np.float64)
    m = 0
    for s in range(s0, s1):
        a, b = seed_ptr[s], seed_ptr[s + 1]
        nt, pool_node, pool_next = _search(indptr, indices, arc_length_m, seed_nodes[a:b],
                                         seed_dist[a:b], cutoff, inv_delta, nb, dist, done,
                                         head, pool_node, pool_next, touched)
        nf = 0
        for k in range(nt):
            v = touched[k]
            dv = dist[v]
            for q in range(dst_ptr[v], dst_ptr[v + 1]):
                j = dst_idx[q]
                c = dv + dst_acc[q]
                if c < best[j]:
                    if best[j] == _INF:
                        found[nf] = j
                        nf += 1
                    best[j] = c
        for p in range(sp_ptr[s], sp_ptr[s + 1]):
            e = sp_edge[p]
            for q in range(edst_ptr[e], edst_ptr[e + 1]):
                j = edst_idx[q]
                c = sp_snap[p] + abs(sp_off[p] - edst_off[q]) + edst_snap[q]
                if c < best[j]:
                    if best[j] == _INF:
                        found[nf] = j
                        nf += 1
                    best[j] = c
        if m + nf > out_s.shape[0]:
            out_s = _grow_i(out_s, m + nf)
            out_t = _grow_i(out_t, m + nf)
            out_d = _grow_f(out_d, m + nf)
        # output sorted by distance, ties by destination index
        fj = np.sort(found[:nf])
        order = np.argsort(best[fj], kind="mergesort")
        for k in range(nf):
            j = fj[order[k]]
            if best[j] <= cutoff:
                out_s[m] = s
                out_t[m] = j
                out_d[m] = best[j]
                m += 1
            best[j] = _INF
        _reset(touched, nt, dist, done)
    return out_s[:m], out_t[:m], out_d[:m]  # views; the caller concatenates (copies)


# ----------------------------------------------------------------------------
# nearest edge (snapping): a uniform grid over the edges' straight segments
# ----------------------------------------------------------------------------
@njit(cache=True, nogil=True)
def _cell_range(a, b, lo, cell, n):
    """First and last cell (clipped to ``0 .. n-1``) spanned by ``[min(a, b), max(a, b)]``."""
    return (min(n - 1, max(0, int((min(a, b) - lo) / cell))),
            min(n - 1, max(0, int((max(a, b) - lo) / cell))))


@njit(cache=True)
def segment_grid(x0, y0, x1, y1, xmin, ymin, cell, ncx, ncy):
    """Cells -> segments (CSR): each segment is listed in every cell its bounding box overlaps.

    Cell ``(i, j)`` (``i`` along x) is ``[xmin + i*cell, xmin + (i+1)*cell) x [...)``,
    numbered ``i * ncy + j``. Returns ``(cell_ptr, cell_seg)``.
    """
    n = x0.shape[0]
    counts = np.zeros(ncx * ncy + 1, dtype=np.int64)
    for s in range(n):
        i0, i1 = _cell_range(x0[s], x1[s], xmin, cell, ncx)
        j0, j1 = _cell_range(y0[s], y1[s], ymin, cell, ncy)
        for i in range(i0, i1 + 1):
            for j in range(j0, j1 + 1):
                counts[i * ncy + j + 1] += 1
    cell_ptr = np.cumsum(counts)
    fill = cell_ptr[:-1].copy()
    cell_seg = np.empty(cell_ptr[-1], dtype=np.int64)
    for s in range(n):
        i0, i1 = _cell_range(x0[s], x1[s], xmin, cell, ncx)
        j0, j1 = _cell_range(y0[s], y1[s], ymin, cell, ncy)
        for i in range(i0, i1 + 1):
            for j in range(j0, j1 + 1):
                c = i * ncy + j
                cell_seg[fill[c]] = s
                fill[c] += 1
    return cell_ptr, cell_seg


@njit(cache=True, nogil=True)
def nearest_segment(px, py, *, x0, y0, x1, y1, seg_edge, edge_u, edge_v, node_x, node_y,
                    xmin, ymin, cell, ncx, ncy, cell_ptr, cell_seg, max_dist):
    """Nearest segment of each point within ``max_dist`` (ring search over the grid).

    Ties (equal distance, e.g. a point on a node touches every edge there)
    go to the edge with an end node nearest the point, then the lowest edge,
    then the lowest segment: the rule ``WalkNetwork.snap`` documents.

    Returns ``(seg, dist, t)`` per point: segment (-1 when none lies within
    ``max_dist``), straight distance, and the position of the foot of the
    perpendicular along the segment as a fraction in ``[0, 1]``.
    """
    n = px.shape[0]
    out_s = np.full(n, -1, dtype=np.int64)
    out_d = np.full(n, _INF)
    out_t = np.zeros(n)
    for k in range(n):
        qx = px[k]
        qy = py[k]
        fx = (qx - xmin) / cell
        fy = (qy - ymin) / cell
        cx = int(np.floor(fx))
        cy = int(np.floor(fy))
        # distance from the point to the grid's edge: rings before that are empty
        r_max = max(max(cx, ncx - 1 - cx), max(cy, ncy - 1 - cy))
        best_d = _INF
        best_e = _INF
        best_edge = -1
        best_s = -1
        best_t = 0.0
        r = max(0, max(max(-cx, cx - ncx + 1), max(-cy, cy - ncy + 1)))
        while r <= r_max:
            for i in range(cx - r, cx + r + 1):
                if i < 0 or i >= ncx:
                    continue
                on_edge = i == cx - r or i == cx + r
                step = 1 if on_edge else 2 * r
                j = cy - r
                while j <= cy + r:
                    if 0 <= j < ncy:
                        c = i * ncy + j
                        for q in range(cell_ptr[c], cell_ptr[c + 1]):
                            s = cell_seg[q]
                            ax = x0[s]
                            ay = y0[s]
                            dx = x1[s] - ax
                            dy = y1[s] - ay
                            ll = dx * dx + dy * dy
                            t = 0.0
                            if ll > 0.0:
                                t = ((qx - ax) * dx + (qy - ay) * dy) / ll
                                t = min(1.0, max(0.0, t))
                            d = np.hypot(ax + t * dx - qx, ay + t * dy - qy)
                            if d > best_d or d > max_dist:
                                continue
                            e = seg_edge[s]
                            ed = min(np.hypot(node_x[edge_u[e]] - qx, node_y[edge_u[e]] - qy),
                                     np.hypot(node_x[edge_v[e]] - qx, node_y[edge_v[e]] - qy))
                            if d < best_d or ed < best_e or (ed == best_e and (
                                    e < best_edge or (e == best_edge and s < best_s))):
                                best_d = d
                                best_e = ed
                                best_edge = e
                                best_s = s
                                best_t = t
                    if r == 0:
                        break
                    j += step
            # every unseen segment lies outside the square of rings <= r: at
            # least this far from the point
            lower = min(min(fx - (cx - r), (cx + r + 1) - fx),
                        min(fy - (cy - r), (cy + r + 1) - fy)) * cell
            if lower > best_d or lower > max_dist:
                break
            r += 1
        out_s[k] = best_s
        out_d[k] = best_d
        out_t[k] = best_t
    return out_s, out_d, out_t
