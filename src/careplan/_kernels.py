"""Compiled kernels for the walking network (numba).

Bounded single-source Dijkstra over an undirected graph stored as CSR arrays
(``indptr``, ``indices``, ``weights``), with

* a binary heap with lazy deletion and inline keys (only entries within the
  cutoff are ever pushed);
* a distance array and a settled-flag array allocated once per *block* of
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
def _push(hk, hv, size, key, v):
    """Push (key, v) on the binary min-heap stored in hk (keys) / hv (nodes)."""
    i = size
    while i > 0:
        p = (i - 1) >> 1
        if hk[p] <= key:
            break
        hk[i] = hk[p]
        hv[i] = hv[p]
        i = p
    hk[i] = key
    hv[i] = v
    return size + 1


@njit(cache=True, nogil=True)
def _sssp(indptr, indices, weights, seed_nodes, seed_dist, cutoff, dist, done, hk, hv, touched):
    """Bounded Dijkstra from several seeds; fill ``touched`` with the settled nodes.

    Binary heap with lazy deletion and the keys stored inline (faster than a
    decrease-key heap here). ``hk``/``hv`` must hold ``len(indices) + len(seeds)``
    entries (every push follows a strict improvement, so at most one per arc
    plus the seeds). Only nodes with distance <= cutoff are ever pushed, so
    every reached node is settled and listed in ``touched``; the caller resets
    ``dist``/``done`` through that list with :func:`_reset`. Returns the number
    of settled nodes, in settling order.
    """
    size = 0
    nt = 0
    for k in range(seed_nodes.shape[0]):
        s = seed_nodes[k]
        d0 = seed_dist[k]
        if d0 <= cutoff and d0 < dist[s]:
            dist[s] = d0
            size = _push(hk, hv, size, d0, s)
    while size > 0:
        du = hk[0]
        u = hv[0]
        size -= 1
        if size > 0:
            lk = hk[size]
            lv = hv[size]
            i = 0
            while True:
                c = 2 * i + 1
                if c >= size:
                    break
                if c + 1 < size and hk[c + 1] < hk[c]:
                    c += 1
                if hk[c] >= lk:
                    break
                hk[i] = hk[c]
                hv[i] = hv[c]
                i = c
            hk[i] = lk
            hv[i] = lv
        if done[u]:
            continue
        done[u] = True
        touched[nt] = u
        nt += 1
        for e in range(indptr[u], indptr[u + 1]):
            v = indices[e]
            nd = du + weights[e]
            if nd <= cutoff and nd < dist[v]:
                dist[v] = nd
                size = _push(hk, hv, size, nd, v)
    return nt


@njit(cache=True, nogil=True)
def _reset(touched, n_touched, dist, done):
    for k in range(n_touched):
        v = touched[k]
        dist[v] = _INF
        done[v] = False


@njit(cache=True, nogil=True)
def _work_arrays(indptr, indices, seed_ptr):
    n = indptr.shape[0] - 1
    max_seeds = 0
    for s in range(seed_ptr.shape[0] - 1):
        max_seeds = max(max_seeds, seed_ptr[s + 1] - seed_ptr[s])
    m = indices.shape[0] + max_seeds + 1
    dist = np.full(n, _INF)
    done = np.zeros(n, dtype=np.bool_)
    hk = np.empty(m, dtype=np.float64)  # untouched pages cost no memory
    hv = np.empty(m, dtype=np.int64)
    touched = np.empty(n, dtype=np.int64)
    return dist, done, hk, hv, touched


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
    dist, done, hk, hv, touched = _work_arrays(indptr, indices, seed_ptr)
    cap = 1024
    out_s = np.empty(cap, dtype=np.int64)
    out_n = np.empty(cap, dtype=np.int64)
    out_d = np.empty(cap, dtype=np.float64)
    m = 0
    for s in range(s0, s1):
        a, b = seed_ptr[s], seed_ptr[s + 1]
        nt = _sssp(indptr, indices, weights, seed_nodes[a:b], seed_dist[a:b], cutoff,
                   dist, done, hk, hv, touched)
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
def count_block(indptr, indices, weights, seed_ptr, seed_nodes, seed_dist, s0, s1, cutoff):
    """Per node, how many of sources ``s0 .. s1-1`` lie within ``cutoff`` (no pair output)."""
    dist, done, hk, hv, touched = _work_arrays(indptr, indices, seed_ptr)
    counts = np.zeros(indptr.shape[0] - 1, dtype=np.int64)
    for s in range(s0, s1):
        a, b = seed_ptr[s], seed_ptr[s + 1]
        nt = _sssp(indptr, indices, weights, seed_nodes[a:b], seed_dist[a:b], cutoff,
                   dist, done, hk, hv, touched)
        for k in range(nt):
            counts[touched[k]] += 1
        _reset(touched, nt, dist, done)
    return counts


@njit(cache=True, nogil=True)
def dest_block(indptr, indices, weights, seed_ptr, seed_nodes, seed_dist, s0, s1, cutoff,
               dst_ptr, dst_idx, dst_acc, n_dest,
               sp_ptr, sp_edge, sp_off, sp_snap, edst_ptr, edst_idx, edst_off, edst_snap):
    """Destinations within ``cutoff`` of origins ``s0 .. s1-1``.

    Destinations hang off nodes: node ``v`` carries destinations
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
    dist, done, hk, hv, touched = _work_arrays(indptr, indices, seed_ptr)
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
                   dist, done, hk, hv, touched)
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
