"""Chains: the routing graph of a WalkNetwork with its degree-2 nodes contracted.

An unsimplified OSM graph (osmnx ``simplify=False``) has a node at every
vertex of every way: on central Shanghai 17,907 of 21,684 nodes join exactly
two edges. A point-to-point query does not need them: every walk between two
*junctions* (nodes of degree other than 2) runs along whole *chains* (maximal
paths whose inner nodes have degree 2), so the search runs on the junctions
only, with one arc per chain, and a point snapped onto an edge is placed on
its chain (offset from the chain's first junction). Distances are the same
as on the full graph (sums of the same edge lengths, possibly added in
another order: differences of the order of 1e-12 m).

A node with a self-loop is a junction; a cycle without any junction gets its
lowest node made one.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np
from numba import njit

from careplan.network._build import csr_from_edges


class Chains(NamedTuple):
    """The contracted routing graph (see the module docstring).

    Attributes
    ----------
    edge_chain : numpy.ndarray of int64, shape (n_edges,)
        Chain of each edge.
    edge_start_m : numpy.ndarray of float64, shape (n_edges,)
        Chain offset (m) of the edge's ``u`` end.
    edge_dir : numpy.ndarray of int8, shape (n_edges,)
        +1 when walking the edge from ``u`` to ``v`` moves forward along the chain, else -1.
    chain_a, chain_b : numpy.ndarray of int64, shape (n_chains,)
        First and last junction of each chain, as positions in the contracted graph.
    chain_length_m : numpy.ndarray of float64, shape (n_chains,)
    indptr, indices, arc_length_m : numpy.ndarray
        CSR adjacency of the junctions (parallel chains collapsed to the shortest).
    n_junctions : int
    """

    edge_chain: np.ndarray
    edge_start_m: np.ndarray
    edge_dir: np.ndarray
    chain_a: np.ndarray
    chain_b: np.ndarray
    chain_length_m: np.ndarray
    indptr: np.ndarray
    indices: np.ndarray
    arc_length_m: np.ndarray
    n_junctions: int

    def chain_offset(self, edge: np.ndarray, offset_m: np.ndarray) -> np.ndarray:
        """Chain offsets (m) of points at ``offset_m`` from the ``u`` end of ``edge``."""
        return self.edge_start_m[edge] + self.edge_dir[edge] * offset_m


def contract(n_nodes: int, edge_u: np.ndarray, edge_v: np.ndarray,
             edge_length: np.ndarray) -> Chains:
    """Contract the degree-2 nodes of an undirected multigraph into chains.

    Parameters
    ----------
    n_nodes : int
    edge_u, edge_v : numpy.ndarray of int64, shape (n_edges,)
        End node positions.
    edge_length : numpy.ndarray of float64, shape (n_edges,)
        Metres.

    Returns
    -------
    Chains
    """
    deg = np.bincount(edge_u, minlength=n_nodes) + np.bincount(edge_v, minlength=n_nodes)
    junction = deg != 2
    junction[edge_u[edge_u == edge_v]] = True
    ends = np.concatenate([edge_u, edge_v])
    order = np.argsort(ends, kind="stable")
    inc_edge = (order % edge_u.size).astype(np.int64)
    inc_ptr = np.zeros(n_nodes + 1, dtype=np.int64)
    np.cumsum(np.bincount(ends, minlength=n_nodes), out=inc_ptr[1:])
    (edge_chain, edge_start, edge_dir, chain_a, chain_b, chain_len,
     n_chains) = _walk(edge_u, edge_v, edge_length, inc_ptr, inc_edge, junction)
    jpos = np.cumsum(junction) - 1
    n_j = int(junction.sum())
    a = jpos[chain_a[:n_chains]]
    b = jpos[chain_b[:n_chains]]
    length = chain_len[:n_chains].copy()
    indptr, indices, arc = csr_from_edges(n_j, a, b, length)
    return Chains(edge_chain, edge_start, edge_dir, a, b, length, indptr, indices, arc, n_j)


@njit(cache=True)
def _walk(eu, ev, elen, inc_ptr, inc_edge, junction):
    """Walk every chain from its first junction (``junction`` is updated for pure cycles)."""
    m = eu.shape[0]
    edge_chain = np.full(m, -1, dtype=np.int64)
    edge_start = np.zeros(m)
    edge_dir = np.zeros(m, dtype=np.int8)
    chain_a = np.empty(m, dtype=np.int64)
    chain_b = np.empty(m, dtype=np.int64)
    chain_len = np.empty(m)
    nc = 0
    for sweep in range(2):
        # sweep 0 starts at the junctions; sweep 1 at cycles without any
        for k in range(m if sweep == 1 else junction.shape[0]):
            if sweep == 0:
                j = k
                if not junction[j]:
                    continue
                q0, q1 = inc_ptr[j], inc_ptr[j + 1]
            else:
                if edge_chain[k] >= 0:
                    continue
                j = eu[k]
                junction[j] = True
                q0, q1 = inc_ptr[j], inc_ptr[j + 1]
            for q in range(q0, q1):
                e = inc_edge[q]
                if edge_chain[e] >= 0:
                    continue
                node = j
                pos = 0.0
                while True:
                    edge_chain[e] = nc
                    if eu[e] == node:
                        edge_dir[e] = 1
                        edge_start[e] = pos
                        nxt = ev[e]
                    else:
                        edge_dir[e] = -1
                        edge_start[e] = pos + elen[e]
                        nxt = eu[e]
                    pos += elen[e]
                    node = nxt
                    if junction[node]:
                        break
                    a = inc_ptr[node]
                    e = inc_edge[a + 1] if inc_edge[a] == e else inc_edge[a]
                chain_a[nc] = j
                chain_b[nc] = node
                chain_len[nc] = pos
                nc += 1
    return edge_chain, edge_start, edge_dir, chain_a, chain_b, chain_len, nc
