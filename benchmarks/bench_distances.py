"""Benchmark: bounded walking distances, careplan's compiled kernel vs networkx (and pandana).

Not a test. Run::

    CAREPLAN_QUIET=1 python benchmarks/bench_distances.py [--quick]

0. Issue 15's two targets in one run, on the *unsimplified* osmnx graph of the
   Shanghai roads (``graph_from_xml(simplify=False)``, 21,710 nodes): (a)
   ``net.distances`` between 4,000 x 4,000 points at nodes within 1,000 m,
   snapping and labels included, against networkx cutoff Dijkstra from the
   4,000 origins (same pairs and distances checked); (b) pandana's job, the
   number of 4,000 facilities within 1,000 m of every node: careplan gets the
   networkx graph (``from_graph`` + ``node_counts``), pandana arrays of the
   same edges (``Network`` + ``precompute`` + ``set`` + ``aggregate``). Both
   ratios are printed as ``RATIO`` lines.
1. Shanghai roads (../shared/data/shanghai_center, ~17k nodes in the largest
   component): node-to-node distances within 1,000 m from sources, careplan
   (``WalkNetwork.node_distances``) vs ``networkx.single_source_dijkstra_path_length
   (cutoff=...)`` on the same graph and sources; identical distances checked.
   Also ``net.distances`` between 4,000 random points and 4,000 facilities.
2. A generated city-like graph of ~1M nodes (perturbed 1000 x 1000 grid,
   ~70 m blocks, 10% of edges removed): 20,000 sources at 1,000 m;
   networkx on a sample of sources, extrapolated.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import os
import resource
import sys
import time
import warnings
from pathlib import Path

import geopandas as gpd
import networkx as nx
import numpy as np

from careplan._errors import CareplanWarning
from careplan.network import WalkNetwork

ROOT = Path(__file__).resolve().parents[1]
SHANGHAI = ROOT.parent / "shared" / "data" / "shanghai_center" / \
    "shanghai_center_roads_overpass_2025-08-09.osm"
warnings.simplefilter("ignore", CareplanWarning)


def rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def to_nx(net: WalkNetwork) -> nx.Graph:
    """The very same graph (CSR arcs, parallel edges already collapsed) in networkx."""
    G = nx.Graph()
    G.add_nodes_from(range(net.n_nodes))
    src = np.repeat(np.arange(net.n_nodes), np.diff(net.indptr))
    keep = src < net.indices
    G.add_weighted_edges_from(zip(src[keep].tolist(), net.indices[keep].tolist(),
                                  net.arc_length_m[keep].tolist(), strict=True), weight="length")
    return G


def nx_pairs(G: nx.Graph, sources, cutoff: float) -> dict:
    out = {}
    for s in sources:
        for t, d in nx.single_source_dijkstra_path_length(G, s, cutoff=cutoff,
                                                          weight="length").items():
            out[(s, t)] = d
    return out


def compare(ours: dict, theirs: dict) -> str:
    same_keys = set(ours) == set(theirs)
    diff = max((abs(ours[k] - theirs[k]) for k in theirs if k in ours), default=0.0)
    return f"pairs {len(theirs):,}, same pairs: {same_keys}, max |diff| = {diff:.2e} m"


def kernel_pairs(net: WalkNetwork, pos: np.ndarray, cutoff: float) -> tuple[dict, float]:
    t = time.perf_counter()
    df = net.node_distances(net.node_ids[pos], cutoff_m=cutoff, verbose=False)
    el = time.perf_counter() - t
    s = net.node_ids.get_indexer(df["source"])
    v = net.node_ids.get_indexer(df["node"])
    return dict(zip(zip(s.tolist(), v.tolist(), strict=True), df["distance_m"].tolist(),
                    strict=True)), el


def bench_shanghai(cutoff: float, n_nx: int) -> WalkNetwork:
    print(f"\n== Shanghai roads: {SHANGHAI.name}")
    t = time.perf_counter()
    net = WalkNetwork.from_file(SHANGHAI)
    print(f"build from file: {time.perf_counter() - t:.2f} s   {net}")
    # warm-up (JIT cache load)
    net.node_distances(net.node_ids[:2], cutoff_m=cutoff, verbose=False)
    all_pos = np.arange(net.n_nodes)
    t = time.perf_counter()
    df = net.node_distances(net.node_ids, cutoff_m=cutoff, verbose=False)
    t_all = time.perf_counter() - t
    print(f"careplan node_distances, all {net.n_nodes:,} sources, {cutoff:g} m: {t_all:.3f} s "
          f"({len(df):,} pairs)")
    rng = np.random.default_rng(0)
    sample = rng.choice(all_pos, size=min(n_nx, net.n_nodes), replace=False)
    ours, t_s = kernel_pairs(net, sample, cutoff)
    G = to_nx(net)
    t = time.perf_counter()
    theirs = nx_pairs(G, sample.tolist(), cutoff)
    t_nx = time.perf_counter() - t
    print(f"same {sample.size:,} sources: careplan {t_s:.3f} s, networkx {t_nx:.2f} s "
          f"-> {t_nx / t_s:.0f}x;  {compare(ours, theirs)}")
    print(f"networkx extrapolated to all sources: {t_nx * net.n_nodes / sample.size:.1f} s "
          f"-> ratio vs careplan all-sources run {t_nx * net.n_nodes / sample.size / t_all:.0f}x")
    # CPU time, one thread each: the per-core ratio, independent of other load
    c_ours = np.inf
    for _ in range(3):  # best of 3
        c = time.process_time()
        net.node_distances(net.node_ids[sample], cutoff_m=cutoff, verbose=False, n_threads=1)
        c_ours = min(c_ours, time.process_time() - c)
    c = time.process_time()
    nx_pairs(G, sample.tolist(), cutoff)
    c_nx = time.process_time() - c
    print(f"CPU time, 1 thread each (careplan best of 3): careplan {c_ours:.3f} s, "
          f"networkx {c_nx:.2f} s "
          f"-> {c_nx / c_ours:.0f}x per core")
    # points API
    minx, miny, maxx, maxy = net.edges.total_bounds
    o = gpd.GeoDataFrame(geometry=gpd.points_from_xy(rng.uniform(minx, maxx, 4000),
                                                     rng.uniform(miny, maxy, 4000)), crs=net.crs)
    d = gpd.GeoDataFrame(geometry=gpd.points_from_xy(rng.uniform(minx, maxx, 4000),
                                                     rng.uniform(miny, maxy, 4000)), crs=net.crs)
    t = time.perf_counter()
    od = net.distances(o, d, cutoff_m=cutoff, verbose=False)
    print(f"net.distances 4,000 x 4,000 random points (snapped to edges), {cutoff:g} m: "
          f"{time.perf_counter() - t:.3f} s ({len(od):,} pairs)")
    return net


def city_graph(n_side: int, spacing: float, drop: float, seed: int = 1) -> WalkNetwork:
    rng = np.random.default_rng(seed)
    ii, jj = np.meshgrid(np.arange(n_side), np.arange(n_side), indexing="ij")
    x = (ii * spacing + rng.uniform(-0.3, 0.3, ii.shape) * spacing).ravel()
    y = (jj * spacing + rng.uniform(-0.3, 0.3, jj.shape) * spacing).ravel()
    idx = (ii * n_side + jj)
    u = np.concatenate([idx[:-1, :].ravel(), idx[:, :-1].ravel()])
    v = np.concatenate([idx[1:, :].ravel(), idx[:, 1:].ravel()])
    keep = rng.random(u.size) >= drop
    u, v = u[keep], v[keep]
    # streets are not straight: length 0-15% longer than the straight line
    length = np.hypot(x[u] - x[v], y[u] - y[v]) * (1 + rng.uniform(0, 0.15, u.size))
    geom = np.full(u.size, None, dtype=object)  # straight lines, made by WalkNetwork
    return WalkNetwork(node_ids=np.arange(n_side * n_side), x=x + 500_000, y=y + 3_400_000,
                       edge_u=u, edge_v=v, edge_length=length, edge_geometry=geom,
                       crs="EPSG:32651", keep="largest", source="generated grid")


def bench_city(n_side: int, n_sources: int, cutoff: float, n_nx: int) -> None:
    print(f"\n== generated city-like graph, {n_side} x {n_side} perturbed grid")
    t = time.perf_counter()
    net = city_graph(n_side, 70.0, 0.10)
    print(f"build: {time.perf_counter() - t:.1f} s   {net}   peak RSS {rss_mb():.0f} MB")
    rng = np.random.default_rng(2)
    pos = rng.choice(net.n_nodes, size=n_sources, replace=False)
    net.node_distances(net.node_ids[pos[:2]], cutoff_m=cutoff, verbose=False)  # warm-up
    rss0 = rss_mb()
    t = time.perf_counter()
    df = net.node_distances(net.node_ids[pos], cutoff_m=cutoff, verbose=False)
    t_ours = time.perf_counter() - t
    print(f"careplan node_distances, {n_sources:,} sources, {cutoff:g} m, {os.cpu_count()} threads: "
          f"{t_ours:.2f} s "
          f"({len(df):,} pairs, {len(df) / n_sources:.0f} per source; "
          f"peak RSS {rss_mb():.0f} MB, was {rss0:.0f} MB)")
    del df
    sample = pos[:n_nx]
    ours, t_s = kernel_pairs(net, sample, cutoff)
    t = time.perf_counter()
    G = to_nx(net)
    print(f"networkx graph build: {time.perf_counter() - t:.1f} s")
    t = time.perf_counter()
    theirs = nx_pairs(G, sample.tolist(), cutoff)
    t_nx = time.perf_counter() - t
    ext = t_nx * n_sources / n_nx
    print(f"networkx {n_nx} sources: {t_nx:.2f} s ({compare(ours, theirs)})")
    print(f"networkx extrapolated to {n_sources:,} sources: {ext:.0f} s -> careplan is "
          f"{ext / t_ours:.0f}x faster (load average now {os.getloadavg()[0]:.1f})")
    # per core: CPU time of one thread each on a larger sample, same sources
    big = pos[:2000]
    c = time.process_time()
    net.node_distances(net.node_ids[big], cutoff_m=cutoff, verbose=False, n_threads=1)
    c_ours = time.process_time() - c
    c = time.process_time()
    nx_pairs(G, big[:500].tolist(), cutoff)
    c_nx = (time.process_time() - c) * big.size / 500
    print(f"CPU time per core, {big.size:,} sources (networkx: 500, scaled): careplan "
          f"{c_ours:.2f} s, networkx {c_nx:.1f} s -> {c_nx / c_ours:.0f}x per core")


def unsimplified_graph(path: Path):
    """osmnx graph of the file with every way vertex kept (``simplify=False``)."""
    import osmnx as ox

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return ox.graph_from_xml(path, simplify=False)


def bench_issue15(path: Path, cutoff: float, n_pts: int = 4000, n_fac: int = 4000) -> None:
    """Both targets of issue 15 item 2 on the unsimplified graph, in one run."""
    G = unsimplified_graph(path)
    print(f"\n== issue 15 targets, unsimplified osmnx graph of {path.name}: "
          f"{G.number_of_nodes():,} nodes, {G.number_of_edges():,} directed edges")
    t = time.perf_counter()
    net = WalkNetwork.from_graph(G)
    t_build = time.perf_counter() - t
    print(f"careplan from_graph: {t_build:.2f} s   {net}")
    rng = np.random.default_rng(0)
    o = rng.choice(net.n_nodes, n_pts, replace=False)
    d = rng.choice(net.n_nodes, n_pts, replace=False)
    og = gpd.GeoDataFrame(geometry=gpd.points_from_xy(net.x[o], net.y[o]), crs=net.crs,
                         index=net.node_ids[o])
    dg = gpd.GeoDataFrame(geometry=gpd.points_from_xy(net.x[d], net.y[d]), crs=net.crs,
                         index=net.node_ids[d])
    net.distances(og.iloc[:5], dg.iloc[:5], cutoff_m=cutoff, verbose=False)  # kernels, chains
    best, c_best = np.inf, np.inf
    rss0 = rss_mb()
    for _ in range(3):
        c = time.process_time()
        t = time.perf_counter()
        od = net.distances(og, dg, cutoff_m=cutoff, verbose=False)
        best = min(best, time.perf_counter() - t)
        c_best = min(c_best, time.process_time() - c)
    rss1 = rss_mb()
    # networkx: cutoff Dijkstra from each origin node on the same undirected walk graph
    Gu = to_nx(net)
    dset = set(d.tolist())
    c = time.process_time()
    t = time.perf_counter()
    theirs = {}
    for s in o.tolist():
        for v, x in nx.single_source_dijkstra_path_length(Gu, s, cutoff=cutoff,
                                                          weight="length").items():
            if v in dset:
                theirs[(s, v)] = x
    t_nx = time.perf_counter() - t
    c_nx = time.process_time() - c
    pos = net.node_ids.get_indexer
    ours = dict(zip(zip(pos(od["origin"]).tolist(), pos(od["destination"]).tolist(),
                        strict=True), od["distance_m"].tolist(), strict=True))
    print(f"net.distances {n_pts:,} x {n_pts:,} points at nodes, {cutoff:g} m (snapping and "
          f"labels included, best of 3): {best:.3f} s wall, {c_best:.3f} s CPU "
          f"({len(od):,} pairs; peak RSS {rss0:.0f} -> {rss1:.0f} MB)")
    print(f"networkx single_source_dijkstra_path_length(cutoff) from the {n_pts:,} origins: "
          f"{t_nx:.2f} s wall, {c_nx:.2f} s CPU")
    print(f"RATIO distances vs networkx: {t_nx / best:.0f}x wall, {c_nx / c_best:.0f}x CPU;  "
          f"{compare(ours, theirs)}")
    # pandana's job: careplan gets the networkx graph, pandana arrays of the same edges
    fpos = rng.choice(net.n_nodes, size=n_fac, replace=True)  # facilities on nodes
    fac = gpd.GeoDataFrame(geometry=gpd.points_from_xy(net.x[fpos], net.y[fpos]), crs=net.crs)
    net.node_counts(fac.iloc[:3], cutoff_m=cutoff, verbose=False)  # kernel loaded
    t = time.perf_counter()
    net2 = WalkNetwork.from_graph(G)
    t_b = time.perf_counter() - t
    t = time.perf_counter()
    counts = net2.node_counts(fac, cutoff_m=cutoff, verbose=False)
    t_q = time.perf_counter() - t
    print(f"\npandana job, {n_fac:,} facilities within {cutoff:g} m of every node: careplan "
          f"from_graph {t_b:.2f} s + node_counts {t_q:.3f} s = {t_b + t_q:.2f} s")
    try:
        import pandana
        import pandas as pd
    except ImportError:
        print("pandana is not installed: `pip install pandana` to compare.")
        return
    e = net.edges
    nodes = net.nodes
    t = time.perf_counter()
    with contextlib.redirect_stdout(io.StringIO()):
        pn = pandana.Network(nodes["x"], nodes["y"], e["u"], e["v"],
                             pd.DataFrame({"w": e["length_m"].to_numpy()}, index=e.index),
                             twoway=True)
        pn.precompute(cutoff)
    t_pb = time.perf_counter() - t
    t = time.perf_counter()
    pn.set(pd.Series(net.node_ids[fpos]), name="fac")
    pc = pn.aggregate(cutoff, type="count", decay="flat", name="fac")
    t_pq = time.perf_counter() - t
    print(f"pandana {pandana.__version__}: Network + precompute {t_pb:.2f} s + set + aggregate "
          f"{t_pq:.3f} s = {t_pb + t_pq:.2f} s")
    print(f"RATIO pandana job: careplan {(t_pb + t_pq) / (t_b + t_q):.1f}x faster end to end")
    mine = counts.to_numpy()
    theirs_c = pc.reindex(counts.index).to_numpy()
    bad = np.flatnonzero(mine != theirs_c)
    msg = ""
    if bad.size:  # how close to the cutoff are the facilities of the disagreeing nodes?
        nd = net2.node_distances(counts.index[bad], cutoff_m=cutoff * 1.05, verbose=False)
        nd = nd[nd["node"].isin(set(net.node_ids[fpos].tolist()))]
        gap = (nd["distance_m"] - cutoff).abs().groupby(nd["source"]).min()
        msg = (f"; at every disagreeing node a facility lies within {gap.max():.3g} m of the "
               "cutoff")
    print(f"counts identical on {np.mean(mine == theirs_c) * 100:.2f}% of nodes "
          f"(max |diff| {np.abs(mine - theirs_c).max():.0f}){msg}")


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--quick", action="store_true", help="300 x 300 grid instead of 1000 x 1000")
    ap.add_argument("--cutoff", type=float, default=1000.0)
    ap.add_argument("--targets", action="store_true",
                    help="only the issue 15 targets (part 0): about a minute")
    args = ap.parse_args()
    os.environ.setdefault("CAREPLAN_QUIET", "1")
    print(f"python {sys.version.split()[0]}, {os.cpu_count()} CPUs, networkx {nx.__version__}, "
          f"load average {os.getloadavg()[0]:.1f} (timings scale with other work on the machine)")
    if not SHANGHAI.exists():
        print(f"missing {SHANGHAI}; skipping the Shanghai parts")
    else:
        bench_issue15(SHANGHAI, args.cutoff)
        if args.targets:
            return
        bench_shanghai(args.cutoff, n_nx=2000)
    side = 300 if args.quick else 1000
    bench_city(side, 20_000, args.cutoff, n_nx=200)


if __name__ == "__main__":
    main()
