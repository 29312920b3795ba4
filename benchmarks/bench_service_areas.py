"""Benchmark: service-area polygons at city scale (issue 15 item 1).

Not a test. Run::

    CAREPLAN_QUIET=1 python benchmarks/bench_service_areas.py [--side 1000] [--facilities 2000]

A grid city of ``side x side`` nodes (100 m blocks, coordinates jittered by up
to 10 m, so every edge has its own length) and facilities at random points:
``coverage.service_areas`` at 900 m (15 minutes at 60 m/min) with the default
25 m band. The former algorithm (every edge of the network for every facility,
then one ``shapely.ops.substring`` per partial edge; kept below as
``former_service_areas`` for the comparison only) runs on the first few
facilities and is extrapolated linearly (its cost per facility is constant:
it scans every edge). Both are checked to reach the same street length on
those facilities.
"""

from __future__ import annotations

import argparse
import resource
import time
import warnings

import geopandas as gpd
import numpy as np
import shapely
import shapely.ops

from careplan._errors import CareplanWarning
from careplan.coverage import service_areas
from careplan.network import WalkNetwork

CRS = "EPSG:32651"


def grid_city(side: int, spacing: float = 100.0, seed: int = 0) -> WalkNetwork:
    """A jittered ``side x side`` street grid built through the WalkNetwork constructor."""
    rng = np.random.default_rng(seed)
    i, j = np.meshgrid(np.arange(side), np.arange(side), indexing="ij")
    x = (i * spacing + rng.uniform(-10, 10, i.shape)).ravel()
    y = (j * spacing + rng.uniform(-10, 10, j.shape)).ravel()
    ids = np.arange(side * side).reshape(side, side)
    u = np.concatenate([ids[:-1, :].ravel(), ids[:, :-1].ravel()])
    v = np.concatenate([ids[1:, :].ravel(), ids[:, 1:].ravel()])
    length = np.hypot(x[u] - x[v], y[u] - y[v])
    geoms = shapely.linestrings(np.stack([np.column_stack([x[u], y[u]]),
                                          np.column_stack([x[v], y[v]])], axis=1))
    return WalkNetwork(node_ids=np.arange(side * side), x=x, y=y, edge_u=u, edge_v=v,
                       edge_length=length, edge_geometry=geoms, crs=CRS)


def former_service_areas(net, facilities, cutoff, buffer_m):
    """The algorithm before issue 15 (per facility: every edge of the network)."""
    r = net.reached_nodes(facilities, cutoff_m=cutoff, what="facilities")
    lab, src, node, dist = r.snapped, r.row, r.node, r.distance_m
    index, reach, owner = lab.labels, lab.reachable, lab.owner
    s = {"edge": lab.snap.edge, "snap": lab.snap.snap_distance_m, "offset": lab.snap.offset_m}
    eu, ev, L, geom = net.edge_u, net.edge_v, net.edge_length_m, net.edge_geometry
    order = np.argsort(src, kind="stable")
    src, node, dist = src[order], node[order], dist[order]
    bounds = np.searchsorted(src, np.arange(len(index) + 1))
    parts = lab.parts
    pbounds = np.searchsorted(owner[parts], np.arange(len(index) + 1))
    d_full = np.full(net.n_nodes, np.inf)
    out = np.zeros(len(index))
    for i in range(len(index)):
        if not reach[i]:
            continue
        nodes_i = node[bounds[i]:bounds[i + 1]]
        d_full[nodes_i] = dist[bounds[i]:bounds[i + 1]]
        ru, rv = cutoff - d_full[eu], cutoff - d_full[ev]
        d_full[nodes_i] = np.inf
        full = (ru >= 0) & (rv >= 0) & (ru + rv >= L)
        pieces = list(geom[full])
        for e in np.flatnonzero(((ru >= 0) | (rv >= 0)) & ~full):
            if ru[e] > 0:
                pieces.append(shapely.ops.substring(geom[e], 0.0, min(ru[e], L[e]) / L[e],
                                                    normalized=True))
            if rv[e] > 0:
                pieces.append(shapely.ops.substring(geom[e], 1.0 - min(rv[e], L[e]) / L[e],
                                                    1.0, normalized=True))
        for k in parts[pbounds[i]:pbounds[i + 1]]:
            e0, r = s["edge"][k], cutoff - s["snap"][k]
            if r >= 0:
                pieces.append(shapely.ops.substring(
                    geom[e0], max(0.0, s["offset"][k] - r) / L[e0],
                    min(L[e0], s["offset"][k] + r) / L[e0], normalized=True))
        street = shapely.line_merge(shapely.union_all(pieces))
        out[i] = street.length
        if buffer_m > 0:
            street.buffer(buffer_m)
    return out


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--side", type=int, default=1000)
    ap.add_argument("--facilities", type=int, default=2000)
    ap.add_argument("--former", type=int, default=3, help="facilities run with the former code")
    ap.add_argument("--buffer", type=float, default=25.0, help="buffer_m (0: the reached lines)")
    a = ap.parse_args()
    warnings.simplefilter("ignore", CareplanWarning)
    t = time.perf_counter()
    net = grid_city(a.side)
    print(f"network: {net.n_nodes:,} nodes, {net.n_edges:,} edges, built in "
          f"{time.perf_counter() - t:.1f} s")
    rng = np.random.default_rng(1)
    span = (a.side - 1) * 100.0
    facs = gpd.GeoDataFrame(geometry=gpd.points_from_xy(rng.uniform(0, span, a.facilities),
                                                        rng.uniform(0, span, a.facilities)),
                            crs=CRS, index=[f"F{i}" for i in range(a.facilities)])
    service_areas(net, facs.iloc[:2], cutoff_m=900.0)  # compile the kernel
    t = time.perf_counter()
    sa = service_areas(net, facs, cutoff_m=900.0, buffer_m=a.buffer)
    new_s = time.perf_counter() - t
    print(f"service_areas (buffer_m={a.buffer:g}): {a.facilities:,} facilities at 900 m: {new_s:.1f} s "
          f"({1000 * new_s / a.facilities:.1f} ms each), mean reached "
          f"{sa['reached_length_m'].mean():,.0f} m of street")
    if a.former:
        t = time.perf_counter()
        old = former_service_areas(net, facs.iloc[:a.former], 900.0, a.buffer)
        per = (time.perf_counter() - t) / a.former
        same = np.allclose(old, sa["reached_length_m"].to_numpy()[:a.former], rtol=1e-6)
        print(f"former algorithm: {per:.2f} s per facility -> {per * a.facilities / 60:.1f} min "
              f"for {a.facilities:,} (extrapolated); reached lengths equal: {same}")
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"peak memory (whole process): {peak:,.0f} MiB")


if __name__ == "__main__":
    main()
