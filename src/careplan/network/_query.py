"""Bounded distance queries of a WalkNetwork (compiled kernels in :mod:`careplan._kernels`)."""

from __future__ import annotations

from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from scipy import sparse

from careplan import _kernels
from careplan._errors import InputError
from careplan.network._chains import Chains, contract
from careplan.network._common import (
    DEFAULT_MAX_SNAP_M,
    _cat,
    _check_cutoff,
    _check_max_snap,
    _group_gather,
    _label_list,
    _n_threads,
    _run_blocks,
)
from careplan.network._types import ODPairs, ReachedNodes, SnappedPoints


def _on_chains(ch: Chains, lab: SnappedPoints) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Chain, chain offset (m) and snap leg (m) of every reachable entrance, grouped by label."""
    s, parts = lab.snap, lab.parts
    edge = s.edge[parts]
    return (ch.edge_chain[edge], ch.chain_offset(edge, s.offset_m[parts]),
            s.snap_distance_m[parts])


def _chain_seeds(ch: Chains, chain: np.ndarray, off: np.ndarray,
                 snap: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Two seeds per entrance: both end junctions of its chain with their access legs."""
    nodes = np.empty(2 * chain.size, dtype=np.int64)
    d = np.empty(2 * chain.size, dtype=np.float64)
    nodes[0::2] = ch.chain_a[chain]
    nodes[1::2] = ch.chain_b[chain]
    d[0::2] = snap + off
    d[1::2] = snap + (ch.chain_length_m[chain] - off)
    return nodes, d


def _same_place_pairs(origins: Any, destinations: Any, lo: SnappedPoints, ld: SnappedPoints,
                      cutoff: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Pairs closer than the snap + network + snap rule says (label rows, distance in m).

    * A destination inside an origin's polygon (or an origin inside a
      destination's, or two polygons that meet) is 0 m away.
    * Two points (entrances) off the network are a straight walk apart when
      that walk is no longer than either one's snap leg: the disc around a
      point of radius its snap distance holds no street, so the walk stays in
      the same off-street block the snap leg crosses. Used where it is
      shorter than the network route (which is at least both legs).
    """
    found = []
    go = np.asarray(_geometry(origins).values, dtype=object)
    gd = np.asarray(_geometry(destinations).values, dtype=object)
    areal = np.isin(shapely.get_type_id(go), (3, 6, 7)).any() or \
        np.isin(shapely.get_type_id(gd), (3, 6, 7)).any()
    if areal:
        i, j = shapely.STRtree(gd).query(go, predicate="intersects")
        ok = lo.reachable[i] & ld.reachable[j]
        found.append((i[ok], j[ok], np.zeros(int(ok.sum()))))
    so, sd = lo.snap.snap_distance_m, ld.snap.snap_distance_m
    po, pd_ = lo.parts[so[lo.parts] > 0], ld.parts[sd[ld.parts] > 0]
    if po.size or pd_.size:
        pairs = []
        if po.size:  # destination entrances within an origin entrance's own leg
            j, i = shapely.STRtree(ld.points[ld.parts]).query(lo.points[po], predicate="dwithin",
                                                              distance=so[po])
            pairs.append((po[j], ld.parts[i]))
        if pd_.size:  # origin entrances within a destination entrance's own leg
            j, i = shapely.STRtree(lo.points[lo.parts]).query(ld.points[pd_], predicate="dwithin",
                                                              distance=sd[pd_])
            pairs.append((lo.parts[i], pd_[j]))
        a = np.concatenate([p[0] for p in pairs])
        b = np.concatenate([p[1] for p in pairs])
        walk = shapely.distance(lo.points[a], ld.points[b])
        ok = (walk < so[a] + sd[b]) & (walk <= cutoff)
        found.append((lo.owner[a[ok]], ld.owner[b[ok]], walk[ok]))
    if not found:
        return np.empty(0, dtype=np.int64), np.empty(0, dtype=np.int64), np.empty(0)
    return (np.concatenate([f[0] for f in found]).astype(np.int64),
            np.concatenate([f[1] for f in found]).astype(np.int64),
            np.concatenate([f[2] for f in found]))


def _with_same_place(o: np.ndarray, d: np.ndarray, dist: np.ndarray,
                     extra: tuple[np.ndarray, np.ndarray, np.ndarray]):
    """Network pairs with the same-place pairs merged in (shortest kept), re-sorted."""
    if extra[0].size == 0:
        return o, d, dist
    o = np.concatenate([o, extra[0]])
    d = np.concatenate([d, extra[1]])
    dist = np.concatenate([dist, extra[2]])
    order = np.lexsort((dist, d, o))
    o, d, dist = o[order], d[order], dist[order]
    first = np.ones(o.size, dtype=bool)
    first[1:] = (o[1:] != o[:-1]) | (d[1:] != d[:-1])
    o, d, dist = o[first], d[first], dist[first]
    order = np.lexsort((d, dist, o))  # by origin, then distance, then destination
    return o[order], d[order], dist[order]


def _geometry(points: Any) -> gpd.GeoSeries:
    return points.geometry if isinstance(points, gpd.GeoDataFrame) else points


def _delta(arc_length_m: np.ndarray, cutoff: float) -> float:
    """Bucket width of the search kernel for this cutoff (see careplan._kernels)."""
    w = arc_length_m[arc_length_m > 0]
    min_w = float(w.min()) if w.size else cutoff
    return max(min_w, cutoff / 8192.0)


class _Queries:
    """Distance queries of :class:`~careplan.network.WalkNetwork`."""

    # --------------------------------------------------------------- distances
    def _graph_kw(self, cutoff: float) -> dict[str, Any]:
        """Keyword arguments of the search kernels for the full graph."""
        return {"indptr": self._indptr, "indices": self._indices,
                "arc_length_m": self._arc_length_m, "cutoff": cutoff,
                "delta": _delta(self._arc_length_m, cutoff)}

    def _chains_(self) -> Chains:
        """The routing graph with degree-2 nodes contracted (cached, see ``_chains``)."""
        if getattr(self, "_chain_cache", None) is None:
            self._chain_cache = contract(self.n_nodes, self._edge_u, self._edge_v,
                                         self._edge_length)
        return self._chain_cache

    def _od(self, origins, destinations, cutoff_m, max_snap_m, verbose, n_threads):
        cutoff = _check_cutoff(cutoff_m)
        max_snap = _check_max_snap(max_snap_m)
        n_threads = _n_threads(n_threads)
        lo = self._snap_labels(origins, "origins", max_snap)
        ld = self._snap_labels(destinations, "destinations", max_snap)
        oi, di = lo.labels, ld.labels
        ch = self._chains_()
        # every reachable entrance placed on its chain: chain, offset, snap leg
        oc, ooff, osnap = _on_chains(ch, lo)
        dc, doff, dsnap = _on_chains(ch, ld)
        dlen = ch.chain_length_m[dc]
        n = ch.n_junctions
        # destinations per junction (every reachable entrance, labelled by its owner)
        downer = ld.owner[ld.parts]
        dn = np.concatenate([ch.chain_a[dc], ch.chain_b[dc]])
        dj = np.concatenate([downer, downer]).astype(np.int64)
        da = np.concatenate([dsnap + doff, dsnap + dlen - doff])
        o = np.argsort(dn, kind="stable")
        dn, dj, da = dn[o], dj[o], da[o]
        dst_ptr = np.zeros(n + 1, dtype=np.int64)
        np.cumsum(np.bincount(dn, minlength=n), out=dst_ptr[1:])
        # destinations per chain (the direct walk along a shared chain)
        n_ch = ch.chain_length_m.size
        o = np.argsort(dc, kind="stable")
        edst_ptr = np.zeros(n_ch + 1, dtype=np.int64)
        np.cumsum(np.bincount(dc, minlength=n_ch), out=edst_ptr[1:])
        # search the origins in spatial (junction) order: consecutive searches
        # then touch the same memory; the output is put back in input order below
        orows = lo.rows
        perm = np.argsort(ch.chain_a[oc[lo.part_ptr[:-1]]], kind="stable")
        take, part_ptr = _group_gather(lo.part_ptr, perm)
        oc, ooff, osnap = oc[take], ooff[take], osnap[take]
        seeds = _chain_seeds(ch, oc, ooff, osnap)
        res = _run_blocks(
            _kernels.dest_block, orows.size, n_threads=n_threads, verbose=verbose,
            desc="distances", indptr=ch.indptr, indices=ch.indices, arc_length_m=ch.arc_length_m,
            seed_ptr=2 * part_ptr, seed_nodes=seeds[0], seed_dist=seeds[1], cutoff=cutoff,
            delta=_delta(ch.arc_length_m, cutoff), dst_ptr=dst_ptr, dst_idx=dj, dst_acc=da,
            n_dest=int(len(di)), sp_ptr=part_ptr, sp_edge=oc, sp_off=ooff, sp_snap=osnap,
            edst_ptr=edst_ptr, edst_idx=downer[o].astype(np.int64), edst_off=doff[o],
            edst_snap=dsnap[o])
        src = _cat(res, 0, np.int64)  # processing position, ascending
        dst = _cat(res, 1, np.int64)
        dist = _cat(res, 2, np.float64)
        # the kernel returns pairs by origin (processing order), then distance,
        # then destination index; regroup the origins into input order
        out_ptr = np.zeros(orows.size + 1, dtype=np.int64)
        np.cumsum(np.bincount(src, minlength=orows.size), out=out_ptr[1:])
        back, _ = _group_gather(out_ptr, np.argsort(perm))
        o_row, d_row, dist = _with_same_place(
            orows[perm[src[back]]], dst[back], dist[back],
            _same_place_pairs(origins, destinations, lo, ld, cutoff))
        return ODPairs(origins=oi, destinations=di, origin=o_row,
                       destination=d_row, distance_m=dist,
                       origin_reachable=lo.reachable, destination_reachable=ld.reachable,
                       cutoff_m=cutoff, origins_snapped=lo, destinations_snapped=ld)

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
            ``unreachable_destinations`` (lists of labels), and
            ``cut_off_origins`` / ``cut_off_destinations`` and
            ``long_access_origins`` / ``long_access_destinations`` (labels
            reached only across a gap to a removed piece of the network, or
            by a leg longer than ``DEFAULT_LONG_ACCESS_M``; see
            :mod:`careplan.network`). A destination inside an origin's
            polygon is 0 m away; two off-network points are their straight
            walk apart when it is no longer than either one's snap leg.

        Raises
        ------
        InputError
            ``cutoff_m <= 0``, non-unique or missing labels/geometries, or
            every origin (or every destination) farther than ``max_snap_m``
            from the network.
        CRSError
            Points not in the network's CRS.
        """
        p = self._od(origins, destinations, cutoff_m, max_snap_m, verbose, n_threads)
        df = pd.DataFrame({"origin": p.origins.to_numpy()[p.origin],
                           "destination": p.destinations.to_numpy()[p.destination],
                           "distance_m": p.distance_m}, copy=False)
        df.attrs["cutoff_m"] = p.cutoff_m
        df.attrs["unreachable_origins"] = list(p.origins[~p.origin_reachable])
        df.attrs["unreachable_destinations"] = list(p.destinations[~p.destination_reachable])
        for end, lab in (("origins", p.origins_snapped), ("destinations", p.destinations_snapped)):
            df.attrs[f"cut_off_{end}"] = list(lab.labels[lab.cut_off])
            df.attrs[f"long_access_{end}"] = list(lab.labels[lab.long_access])
        return df

    def nearest(self, origins: gpd.GeoDataFrame | gpd.GeoSeries,
                destinations: gpd.GeoDataFrame | gpd.GeoSeries, *, k: int = 1, cutoff_m: float,
                max_snap_m: float = DEFAULT_MAX_SNAP_M, verbose: bool | None = None,
                n_threads: int | None = None) -> pd.DataFrame:
        """The ``k`` nearest destinations of each origin within ``cutoff_m``.

        Distances follow the rules of :meth:`distances`.

        Parameters
        ----------
        origins, destinations : GeoDataFrame or GeoSeries
            Points (polygons use their representative point, MultiPoints are
            entrances) in the network's CRS, with unique index labels.
        k : int
            How many destinations per origin (>= 1).
        cutoff_m : float
            Largest distance (metres, > 0).
        max_snap_m : float
            Points farther than this from the network are unreachable (metres).
        verbose : bool, optional
            Progress bar (default: unless careplan is quiet).
        n_threads : int, optional
            Threads running the compiled kernel (default: all CPUs).

        Returns
        -------
        pandas.DataFrame
            Columns ``origin``, ``rank`` (1 = nearest), ``destination``,
            ``distance_m``; origins with fewer than ``k`` destinations in reach
            have fewer rows (none if nothing is in reach). Ties are broken by
            the destinations' input order. ``attrs`` as in :meth:`distances`.

        Raises
        ------
        InputError
            ``k < 1``, bad ``cutoff_m``/``max_snap_m``, non-unique or missing labels or
            geometries, or every origin (or destination) beyond ``max_snap_m``.
        CRSError
            Points not in the network's CRS.
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

        Distances follow the rules of :meth:`distances`.

        Parameters
        ----------
        origins, destinations : GeoDataFrame or GeoSeries
            Points (polygons use their representative point, MultiPoints are
            entrances) in the network's CRS, with unique index labels.
        cutoff_m : float
            Largest distance (metres, > 0).
        max_snap_m : float
            Points farther than this from the network are unreachable (metres).
        verbose : bool, optional
            Progress bar (default: unless careplan is quiet).
        n_threads : int, optional
            Threads running the compiled kernel (default: all CPUs).

        Returns
        -------
        scipy.sparse.csr_array of float64, shape (n_origins, n_destinations)
            Row ``i`` is ``origins.index[i]``, column ``j`` is
            ``destinations.index[j]``. Stored entries are exactly the pairs
            within ``cutoff_m`` (explicit zeros are kept: a distance of 0 m is
            a stored 0); absent entries are unreachable. Column indices are
            sorted.

        Raises
        ------
        InputError
            Bad ``cutoff_m``/``max_snap_m``, non-unique or missing labels or
            geometries, or every origin (or destination) beyond ``max_snap_m``.
        CRSError
            Points not in the network's CRS.
        """
        p = self._od(origins, destinations, cutoff_m, max_snap_m, verbose, n_threads)
        order = np.lexsort((p.destination, p.origin))
        o, d, dist = p.origin[order], p.destination[order], p.distance_m[order]
        n_o, n_d = len(p.origins), len(p.destinations)
        indptr = np.zeros(n_o + 1, dtype=np.int64)
        np.cumsum(np.bincount(o, minlength=n_o), out=indptr[1:])
        return sparse.csr_array((dist, d.astype(np.int64), indptr), shape=(n_o, n_d))

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
        sources : array-like of node ids, shape (n_sources,), or one node id
            See :attr:`node_ids`.
        cutoff_m : float
            Largest distance (metres, > 0).
        verbose : bool, optional
            Progress bar (default: unless careplan is quiet).
        n_threads : int, optional
            Threads running the compiled kernel (default: all CPUs).

        Returns
        -------
        pandas.DataFrame
            Columns ``source``, ``node`` (node ids) and ``distance_m``: every
            node within the cutoff of each source (the source itself at 0),
            grouped by source (rows within a group are in the order the
            search reached them, not sorted). Sources are searched, and
            grouped, in the network's internal (spatial) node order, which
            keeps the memory the searches touch warm in the cache.

        Raises
        ------
        InputError
            Bad ``cutoff_m``, or a source that is not a node of the network.
        """
        cutoff = _check_cutoff(cutoff_m)
        pos = np.sort(self._node_positions(sources), kind="stable")
        ptr = np.arange(pos.size + 1, dtype=np.int64)
        res = _run_blocks(_kernels.node_block, pos.size, n_threads=_n_threads(n_threads),
                          verbose=verbose, desc="node distances", **self._graph_kw(cutoff),
                          seed_ptr=ptr, seed_nodes=pos, seed_dist=np.zeros(pos.size))
        s = _cat(res, 0, np.int64)
        v = _cat(res, 1, np.int64)
        d = _cat(res, 2, np.float64)
        ids = self._node_ids.to_numpy()
        return pd.DataFrame({"source": ids[pos[s]], "node": ids[v], "distance_m": d}, copy=False)

    def reached_nodes(self, points: gpd.GeoDataFrame | gpd.GeoSeries, *, cutoff_m: float,
                      max_snap_m: float = DEFAULT_MAX_SNAP_M, verbose: bool | None = None,
                      n_threads: int | None = None, what: str = "points") -> ReachedNodes:
        """Every node within ``cutoff_m`` of each labelled point, as arrays.

        What isochrones (:func:`careplan.coverage.service_areas`) are built
        from: the walk from a point includes its snap leg and the way along
        its edge to either end (the shortest over a MultiPoint's entrances).

        Parameters
        ----------
        points : GeoDataFrame or GeoSeries, n_labels rows
            In the network's CRS, unique index labels.
        cutoff_m : float
            Largest walk (metres, > 0).
        max_snap_m : float
            Parts farther than this from every edge are not used (metres).
        verbose : bool, optional
            Progress bar (default: unless careplan is quiet).
        n_threads : int, optional
            Threads running the compiled kernel (default: all CPUs).
        what : str
            What the points are, in messages (e.g. ``"facilities"``).

        Returns
        -------
        ReachedNodes
            ``snapped`` (the :class:`SnappedPoints`), and per (label, node)
            pair within the cutoff: ``row``, ``node`` (position) and
            ``distance_m``, grouped by label.

        Raises
        ------
        InputError
            ``cutoff_m <= 0``, bad labels/geometries, every point beyond ``max_snap_m``.
        CRSError
            Points not in the network's CRS.
        """
        cutoff = _check_cutoff(cutoff_m)
        lab = self._snap_labels(points, what, _check_max_snap(max_snap_m))
        ptr, nodes, d = self._seeds(lab)
        res = _run_blocks(_kernels.node_block, lab.rows.size, n_threads=_n_threads(n_threads),
                          verbose=verbose, desc="searching", **self._graph_kw(cutoff),
                          seed_ptr=ptr, seed_nodes=nodes, seed_dist=d)
        return ReachedNodes(snapped=lab, row=lab.rows[_cat(res, 0, np.int64)],
                            node=_cat(res, 1, np.int64), distance_m=_cat(res, 2, np.float64))

    def node_counts(self, points: gpd.GeoDataFrame | gpd.GeoSeries, *, cutoff_m: float,
                    max_snap_m: float = DEFAULT_MAX_SNAP_M, verbose: bool | None = None,
                    n_threads: int | None = None) -> pd.Series:
        """How many points lie within ``cutoff_m`` of every node (pandana-style aggregation).

        The access leg of each point (snap + along its edge) is included; a
        MultiPoint (entrances) counts once. No pair table is built: memory is
        one count per node and thread.

        Parameters
        ----------
        points : GeoDataFrame or GeoSeries
            In the network's CRS, unique index labels.
        cutoff_m : float
            Largest walk (metres, > 0).
        max_snap_m : float
            Points farther than this from the network are not counted (metres).
        verbose : bool, optional
            Progress bar (default: unless careplan is quiet).
        n_threads : int, optional
            Threads running the compiled kernel (default: all CPUs).

        Returns
        -------
        pandas.Series of int64, shape (n_nodes,)
            Indexed by node id, named ``count``.

        Raises
        ------
        InputError
            Bad ``cutoff_m``/``max_snap_m``, non-unique or missing labels or
            geometries, or every point beyond ``max_snap_m``.
        CRSError
            Points not in the network's CRS.
        """
        cutoff = _check_cutoff(cutoff_m)
        max_snap = _check_max_snap(max_snap_m)
        lab = self._snap_labels(points, "points", max_snap)
        rows = lab.rows
        ptr, nodes, d = self._seeds(lab)
        res = _run_blocks(_kernels.count_block, rows.size, n_threads=_n_threads(n_threads),
                          verbose=verbose, desc="counting", **self._graph_kw(cutoff),
                          seed_ptr=ptr, seed_nodes=nodes, seed_dist=d)
        counts = np.zeros(self.n_nodes, dtype=np.int64)
        for r in res:
            counts += r
        return pd.Series(counts, index=self._node_ids.copy(), name="count")
