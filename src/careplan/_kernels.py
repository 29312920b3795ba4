"""Compiled kernels for the walking network (numba).

Bounded single-source Dijkstra over an undirected graph stored as CSR arrays
(``indptr``, ``indices``, ``weights``), with

* an indexed binary heap (decrease-key), so the heap never holds more
  entries than the nodes reached;
* a distance array and a heap-position array allocated once per *block* of
  sources and reset through the list of touched nodes after every source, so
  the work and the memory of one search are proportional to what lies within
  the cutoff, never to ``n_sources x n_nodes``;
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

__all__ = ["node_block", "dest_block", "count_block"]

_INF = np.inf


@njit(cache=True, nogil=True)
def _heap_push_or_decrease(heap, pos, dist, size, v):
    """Insert node v (or move it up after its key decreased); return new size."""
    i = pos[v]
    if i < 0:
        i = size
        heap[i] = v
        pos[v] = i
        size += 1
    dv = dist[v]
    # sift up
    while i > 0:
        parent = (i - 1) >> 1
        p = heap[parent]
        if dist[p] <= dv:
            break
        heap[i] = p
        pos[p] = i
        i = parent
    heap[i] = v
    pos[v] = i
    return size


@njit(cache=True, nogil=True)
def _heap_pop(heap, pos, dist, size):
    """Remove and return the node with the smallest distance; return (node, size)."""
    top = heap[0]
    size -= 1
    pos[top] = -2  # settled
    if size > 0:
        last = heap[size]
        dl = dist[last]
        i = 0
        while True:
            c = 2 * i + 1
            if c >= size:
                break
            if c + 1 < size and dist[heap[c + 1]] < dist[heap[c]]:
                c += 1
            if dist[heap[c]] >= dl:
                break
            heap[i] = heap[c]
            pos[heap[c]] = i
            i = c
        heap[i] = last
        pos[last] = i
    return top, size


@njit(cache=True, nogil=True)
def _sssp(indptr, indices, weights, seed_nodes, seed_dist, cutoff, dist, pos, heap, touched):
    """Bounded Dijkstra from several seeds; fill ``touched`` with settled nodes.

    Returns the number of settled nodes (all with ``dist <= cutoff``), in
    settling order. Nodes that were reached but not settled (distance above
    the cutoff) are reset before returning; the caller resets the settled ones
    with :func:`_reset`.
    """
    size = 0
    n_touched = 0
    for k in range(seed_nodes.shape[0]):
        s = seed_nodes[k]
        d0 = seed_dist[k]
        if d0 <= cutoff and d0 < dist[s]:
            dist[s] = d0
            size = _heap_push_or_decrease(heap, pos, dist, size, s)
    while size > 0:
        u, size = _heap_pop(heap, pos, dist, size)
        touched[n_touched] = u
        n_touched += 1
        du = dist[u]
        for e in range(indptr[u], indptr[u + 1]):
            v = indices[e]
            if pos[v] == -2:
                continue
            nd = du + weights[e]
            if nd <= cutoff and nd < dist[v]:
                dist[v] = nd
                size = _heap_push_or_decrease(heap, pos, dist, size, v)
    return n_touched


@njit(cache=True, nogil=True)
def _reset(touched, n_touched, dist, pos):
    for k in range(n_touched):
        v = touched[k]
        dist[v] = _INF
        pos[v] = -1


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
def node_block(indptr, indices, weights, seed_ptr, seed_nodes, seed_dist, s0, s1, cutoff):
    """Nodes within ``cutoff`` of sources ``s0 .. s1-1``.

    Source ``s`` has seeds ``seed_nodes[seed_ptr[s]:seed_ptr[s+1]]`` with
    initial distances ``seed_dist[...]``. Returns ``(src, node, dist)``
    arrays of every (source, node) pair with distance <= cutoff.
    """
    n = indptr.shape[0] - 1
    dist = np.full(n, _INF)
    pos = np.full(n, -1, dtype=np.int64)
    heap = np.empty(n, dtype=np.int64)
    touched = np.empty(n, dtype=np.int64)
    cap = 1024
    out_s = np.empty(cap, dtype=np.int64)
    out_n = np.empty(cap, dtype=np.int64)
    out_d = np.empty(cap, dtype=np.float64)
    m = 0
    for s in range(s0, s1):
        a, b = seed_ptr[s], seed_ptr[s + 1]
        nt = _sssp(indptr, indices, weights, seed_nodes[a:b], seed_dist[a:b], cutoff,
                   dist, pos, heap, touched)
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
        _reset(touched, nt, dist, pos)
    return out_s[:m].copy(), out_n[:m].copy(), out_d[:m].copy()


@njit(cache=True, nogil=True)
def count_block(indptr, indices, weights, seed_ptr, seed_nodes, seed_dist, s0, s1, cutoff):
    """Per node, how many of sources ``s0 .. s1-1`` lie within ``cutoff`` (no pair output)."""
    n = indptr.shape[0] - 1
    dist = np.full(n, _INF)
    pos = np.full(n, -1, dtype=np.int64)
    heap = np.empty(n, dtype=np.int64)
    touched = np.empty(n, dtype=np.int64)
    counts = np.zeros(n, dtype=np.int64)
    for s in range(s0, s1):
        a, b = seed_ptr[s], seed_ptr[s + 1]
        nt = _sssp(indptr, indices, weights, seed_nodes[a:b], seed_dist[a:b], cutoff,
                   dist, pos, heap, touched)
        for k in range(nt):
            counts[touched[k]] += 1
        _reset(touched, nt, dist, pos)
    return counts


@njit(cache=True, nogil=True)
def dest_block(indptr, indices, weights, seed_ptr, seed_nodes, seed_dist, s0, s1, cutoff,
               dst_ptr, dst_idx, dst_acc, n_dest,
               src_edge, src_off, src_snap, edst_ptr, edst_idx, edst_off, edst_snap):
    """Destinations within ``cutoff`` of origins ``s0 .. s1-1``.

    Destinations hang off nodes: node ``v`` carries destinations
    ``dst_idx[dst_ptr[v]:dst_ptr[v+1]]`` with access legs ``dst_acc[...]``
    (walk from the node along the edge and off it to the point). The
    distance of a pair is the minimum over both end nodes of the origin's
    and the destination's edges of access + network + access, and, when both
    points lie on the same edge, the direct walk along it:
    ``src_snap + |src_off - edst_off| + edst_snap`` (edge ``e`` carries
    destinations ``edst_idx[edst_ptr[e]:edst_ptr[e+1]]``; ``src_edge[s] < 0``
    means the origin has no edge).

    Returns ``(origin, destination, dist)`` arrays of the pairs <= cutoff.
    """
    n = indptr.shape[0] - 1
    dist = np.full(n, _INF)
    pos = np.full(n, -1, dtype=np.int64)
    heap = np.empty(n, dtype=np.int64)
    touched = np.empty(n, dtype=np.int64)
    best = np.full(n_dest, _INF)
    found = np.empty(n_dest, dtype=np.int64)
    cap = 1024
    out_s = np.empty(cap, dtype=np.int64)
    out_t = np.empty(cap, dtype=np.int64)
    out_d = np.empty(cap, dtype=np.float64)
    m = 0
    for s in range(s0, s1):
        a, b = seed_ptr[s], seed_ptr[s + 1]
        nt = _sssp(indptr, indices, weights, seed_nodes[a:b], seed_dist[a:b], cutoff,
                   dist, pos, heap, touched)
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
        e = src_edge[s]
        if e >= 0:
            for q in range(edst_ptr[e], edst_ptr[e + 1]):
                j = edst_idx[q]
                c = src_snap[s] + abs(src_off[s] - edst_off[q]) + edst_snap[q]
                if c < best[j]:
                    if best[j] == _INF:
                        found[nf] = j
                        nf += 1
                    best[j] = c
        if m + nf > out_s.shape[0]:
            out_s = _grow_i(out_s, m + nf)
            out_t = _grow_i(out_t, m + nf)
            out_d = _grow_f(out_d, m + nf)
        for k in range(nf):
            j = found[k]
            if best[j] <= cutoff:
                out_s[m] = s
                out_t[m] = j
                out_d[m] = best[j]
                m += 1
            best[j] = _INF
        _reset(touched, nt, dist, pos)
    return out_s[:m].copy(), out_t[:m].copy(), out_d[:m].copy()
