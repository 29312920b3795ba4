"""Benchmark careplan.locate against PySAL spopt (CBC through PuLP).

Run::

    python benchmarks/bench_locate.py                 # everything (spopt capped, see --spopt-time-limit)
    python benchmarks/bench_locate.py --skip-spopt    # careplan only
    python benchmarks/bench_locate.py --only pmedian  # one instance family
    python benchmarks/bench_locate.py --only cover    # set covering on every class (issue 13.8)

Instances (fixed seeds): random Euclidean points on a 10 km square; clustered
demand (half of the points from one normal cluster, 8 km square); street blocks
of the Shanghai, Shenzhen and Nanjing extracts with road-side candidates; and the
real Shanghai centre street graph (osmnx.graph_from_xml on the shared OSM
extract; walking distances by networkx Dijkstra on edge lengths). Times include
model building: spopt's from_cost_matrix + solve, careplan's solve (input
checks, reductions, solver, independent check). Both get the same dense cost.
CPU times are printed next to wall-clock times (careplan: this process, HiGHS's
threads included; spopt: this process plus the CBC subprocess): on a shared
machine the CPU ratio is the stable figure.
"""

from __future__ import annotations

import argparse
import os
import resource
import time
import warnings
from pathlib import Path

import numpy as np

os.environ.setdefault("CAREPLAN_QUIET", "1")

from careplan.locate import MaximalCovering, PMedian, SetCovering  # noqa: E402

OSM = (Path(__file__).resolve().parents[1].parent / "shared" / "data" / "shanghai_center"
       / "shanghai_center_roads_overpass_2025-08-09.osm")


def euclid(n, m, seed):
    rng = np.random.default_rng(seed)
    d = rng.random((n, 2)) * 10_000
    c = rng.random((m, 2)) * 10_000
    D = np.hypot(d[:, None, 0] - c[None, :, 0], d[:, None, 1] - c[None, :, 1])
    w = rng.integers(1, 11, n).astype(float)
    return D, w


def clustered(n, m, seed, side_m=8000.0, share=0.5, sd_m=800.0):
    """Half of the ``n`` demand points from one normal cluster, the rest and the ``m``
    candidates uniform on a ``side_m`` square (housing is clustered; issue 13.8)."""
    rng = np.random.default_rng(seed)
    k = int(n * share)
    centre = rng.uniform(0.3, 0.7, 2) * side_m
    d = np.vstack((np.clip(rng.normal(centre, sd_m, (k, 2)), 0, side_m), rng.random((n - k, 2)) * side_m))
    c = rng.random((m, 2)) * side_m
    D = np.hypot(d[:, None, 0] - c[None, :, 0], d[:, None, 1] - c[None, :, 1])
    return D, np.ones(n)


STREET_EXTRACTS = {  # smallest first; Shanghai (2,136 blocks x 1,525 sites) is a hard cover for both solvers
    "Nanjing": OSM.parents[1] / "nanjing_xuanwu" / "nanjing_xuanwu_overpass_2021-06-12.osm",
    "Shenzhen": OSM.parents[1] / "shenzhen_longgang" / "shenzhen_longgang_osmapi_2019.osm",
    "Shanghai": OSM,
}


def street_blocks(path, cutoff_m, spacing_m=200.0):
    """Real streets: demand = street blocks (careplan.derive.blocks_from_network), candidates =
    road-side points every ``spacing_m`` (derive.road_candidates), walking metres from the
    WalkNetwork. Blocks that no candidate reaches within ``cutoff_m`` are dropped (counted)."""
    from careplan import WalkNetwork, derive

    if not Path(path).exists():
        return None
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        net = WalkNetwork.from_file(path)
        blocks = derive.blocks_from_network(net)
        cands = derive.road_candidates(net, spacing_m=spacing_m)
        S = net.distance_matrix(blocks, cands, cutoff_m=cutoff_m).tocoo()
    M = np.full(S.shape, np.inf)
    M[S.row, S.col] = S.data
    keep = np.isfinite(M).any(axis=1)
    return M[keep], int((~keep).sum())


def shanghai(n, m, seed):
    import networkx as nx
    import osmnx as ox

    if not OSM.exists():
        return None
    M = ox.graph_from_xml(OSM, simplify=True, retain_all=False)
    G = nx.Graph()  # undirected walking graph; parallel edges -> the shortest
    for u, v, d in M.edges(data=True):
        length = float(d["length"])
        if not (G.has_edge(u, v) and G[u][v]["length"] <= length):
            G.add_edge(u, v, length=length)
    comp = max(nx.connected_components(G), key=len)
    nodes = np.array(sorted(comp))
    rng = np.random.default_rng(seed)
    dem = rng.choice(nodes, n, replace=False)
    cand = rng.choice(nodes, m, replace=False)
    D = np.full((n, m), np.inf)
    pos = {v: i for i, v in enumerate(dem)}
    for j, c in enumerate(cand):
        dist = nx.single_source_dijkstra_path_length(G, c, weight="length")
        for v, dv in dist.items():
            i = pos.get(v)
            if i is not None:
                D[i, j] = dv
    w = rng.integers(1, 11, n).astype(float)
    return D, w, len(G)


def shanghai_points(n, m, seed, cutoff_m):
    """n demand points scattered around street nodes, m candidate nodes, walking metres.

    Costs come from careplan's WalkNetwork (snapped points, bounded Dijkstra); both
    solvers get the same dense matrix. Demands that no candidate reaches within
    ``cutoff_m`` are dropped (and counted), since set covering needs every row covered.
    """
    import geopandas as gpd
    import shapely

    from careplan import WalkNetwork

    if not OSM.exists():
        return None
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        net = WalkNetwork.from_file(OSM)
        nodes = net.nodes
        rng = np.random.default_rng(seed)
        idx = rng.integers(0, len(nodes), n)
        pts = gpd.GeoSeries(shapely.points(nodes.geometry.x.values[idx] + rng.normal(0, 60, n),
                                           nodes.geometry.y.values[idx] + rng.normal(0, 60, n)), crs=nodes.crs)
        cand = gpd.GeoSeries(nodes.geometry.values[rng.choice(len(nodes), m, replace=False)], crs=nodes.crs)
        S = net.distance_matrix(pts, cand, cutoff_m=cutoff_m).tocoo()
    M = np.full(S.shape, np.inf)  # dense: unreachable = inf (explicit zeros are real zero distances)
    M[S.row, S.col] = S.data
    keep = np.isfinite(M).any(axis=1)
    return M[keep], int((~keep).sum())


def cpu_s():
    """CPU seconds of this process and its finished children (CBC runs as a subprocess)."""
    a, b = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return a.ru_utime + a.ru_stime + b.ru_utime + b.ru_stime


def run_spopt(kind, D, w, p, radius, time_limit):
    import pulp
    from spopt.locate import LSCP, MCLP
    from spopt.locate import PMedian as SPMedian

    solver = pulp.PULP_CBC_CMD(msg=False, timeLimit=time_limit)
    t, c = time.perf_counter(), cpu_s()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        if kind == "pmedian":
            mod = SPMedian.from_cost_matrix(D, w, p_facilities=p)
        elif kind == "mclp":
            mod = MCLP.from_cost_matrix(D, w, service_radius=radius, p_facilities=p)
        else:
            mod = LSCP.from_cost_matrix(D, service_radius=radius)
        tb = time.perf_counter() - t
        mod = mod.solve(solver)
    total, cpu = time.perf_counter() - t, cpu_s() - c
    # PuLP reports status 'Optimal' also when CBC stops on its time limit with a solution;
    # sol_status tells them apart (1: proven optimal, 2: feasible, not proven)
    status = pulp.LpStatus[mod.problem.status]
    if status == "Optimal" and getattr(mod.problem, "sol_status", 1) != 1:
        status = "NOT proven (limit)"
    return float(mod.problem.objective.value()), total, tb, status, cpu


def run_careplan(kind, D, w, p, radius, **kw):
    t, c = time.perf_counter(), cpu_s()
    if kind == "pmedian":
        r = PMedian(p=p, **kw).solve(D, weights=w)
    elif kind == "mclp":
        r = MaximalCovering(p=p, cutoff_m=radius, **kw).solve(D, weights=w)
    else:
        r = SetCovering(cutoff_m=radius, **kw).solve(D)
    return r, time.perf_counter() - t, cpu_s() - c


def row(name, kind, D, w, p, radius, args, spopt_time_limit=None, **kw):
    if args.careplan_time_limit:
        kw.setdefault("time_limit_s", args.careplan_time_limit)
    r, tc, cc = run_careplan(kind, D, w, p, radius, **kw)
    line = (f"{name:<34} careplan obj={r.objective:<14.6f} gap={r.gap:<8.2e} {r.status:<10} "
            f"t={tc:7.2f}s cpu={cc:7.2f}s (build {r.build_time_s:.2f}s) bound={r.bound:g}")
    print(line, flush=True)
    line = ""
    if not args.skip_spopt and kind != "big":
        try:
            so, ts, tb, st, cs = run_spopt(kind, D, w, p, radius, spopt_time_limit or args.spopt_time_limit)
            same = abs(so - r.objective) <= 1e-6 * max(1.0, abs(so))
            line += f"{'':<34} spopt    obj={so:<14.6f} {st:<19} t={ts:7.2f}s cpu={cs:7.2f}s (build {tb:.2f}s)"
            if r.status == "optimal" and st == "Optimal":
                line += f"  -> speed-up x{ts / tc:.1f} wall, x{cs / cc:.1f} CPU, same objective: {same}"
            else:  # a capped run: times are the limits, compare the solutions instead
                better = "careplan" if (r.objective > so if kind == "mclp" else r.objective < so) else (
                    "equal" if same else "spopt")
                line += f"  -> capped run, better solution: {better}"

        except ImportError:
            line += "  [spopt/pulp not installed]"
    if line:
        print(line, flush=True)


SHANGHAI_CAP_S = 120.0  # Shanghai blocks: neither solver proves it quickly; both get this limit


def cover_classes(args):
    """Set covering on every class in one run (issue 13.8): uniform and clustered demand
    (1,500 x 400, 8 km square, 1,100 m) and the street blocks of three cities (1,000 m)."""
    for seed in (10, 11):
        D, w = clustered(1500, 400, seed, share=0.0)
        row(f"uniform set covering 1500x400 r=1100m s{seed}", "lscp", D, w, None, 1100.0, args)
    for seed in (10, 11, 12):
        D, w = clustered(1500, 400, seed)
        row(f"clustered set covering 1500x400 r=1100m s{seed}", "lscp", D, w, None, 1100.0, args)
    block_rows(args, cap_shanghai=True)


def block_rows(args, cap_shanghai=False):
    """Set covering of the street blocks of each city at 1,000 m (Shanghai capped if asked)."""
    for city, path in STREET_EXTRACTS.items():
        out = street_blocks(path, 1000.0)
        if out is None:
            print(f"{city} OSM extract missing; skipped")
            continue
        D, dropped = out
        cap = {}
        if cap_shanghai and city == "Shanghai":
            cap = {"spopt_time_limit": SHANGHAI_CAP_S, "time_limit_s": SHANGHAI_CAP_S}
        row(f"{city} blocks set covering {D.shape[0]}x{D.shape[1]} r=1000m", "lscp", D, np.ones(len(D)),
            None, 1000.0, args, **cap)
        if dropped:
            print(f"{'':<34} ({dropped} blocks reach no candidate within 1000 m: dropped)")


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--skip-spopt", action="store_true")
    ap.add_argument("--spopt-time-limit", type=float, default=900.0,
                    help="CBC time limit per spopt run (s); a capped run reports 'Not Solved'/best found")
    ap.add_argument("--careplan-time-limit", type=float, default=None,
                    help="careplan time limit per run (s); a capped run reports its proven gap")
    ap.add_argument("--only", choices=["pmedian", "mclp", "lscp", "clustered", "blocks", "shanghai", "lscp-shanghai",
                                       "big", "cover"],
                    default=None)
    args = ap.parse_args()
    # warm up numba kernels (compiled once, cached on disk)
    PMedian(p=1).solve(np.array([[1.0, 2.0], [2.0, 1.0]]))
    todo = args.only
    if todo == "cover":
        cover_classes(args)
        return
    if todo in (None, "pmedian"):
        D, w = euclid(800, 150, 0)
        row("p-median 800x150 p=15", "pmedian", D, w, 15, None, args)
    if todo in (None, "mclp"):
        D, w = euclid(5000, 1000, 1)
        row("MCLP 5000x1000 p=50 r=1000m", "mclp", D, w, 50, 1000.0, args)
    if todo in (None, "lscp"):
        D, w = euclid(5000, 1000, 2)
        # 1.6 x the largest nearest-candidate distance (851 m): ~60 sites, hard to prove for
        # both solvers; larger radii: denser rows, fewer sites (the row generation's case)
        for r in (float(np.ceil(D.min(axis=1).max() * 1.6)), 1600.0, 2000.0, 2500.0):
            row(f"set covering 5000x1000 r={r:.0f}m", "lscp", D, w, None, r, args)
    if todo in (None, "clustered"):
        # issue 13.8: 1,500 demand points (half from one normal cluster), 8 km square, 400 candidates
        for seed in (0, 1, 2):
            D, w = clustered(1500, 400, 10 + seed)
            row(f"clustered set covering 1500x400 r=1100m s{seed}", "lscp", D, w, None, 1100.0, args)
        D, w = clustered(1500, 400, 10)
        row("clustered p-median 1500x400 p=20", "pmedian", D, w, 20, None, args)
        row("clustered MCLP 1500x400 p=20 r=1100m", "mclp", D, w, 20, 1100.0, args)
    if todo in (None, "blocks"):
        block_rows(args)
    if todo in (None, "shanghai"):
        out = shanghai(800, 150, 3)
        if out is None:
            print("Shanghai OSM extract missing; skipped")
        else:
            D, w, nn = out
            print(f"Shanghai centre street graph: {nn} nodes; networkx Dijkstra costs (m)")
            row("Shanghai p-median 800x150 p=15", "pmedian", D, w, 15, None, args)
            row("Shanghai MCLP 800x150 p=15 r=1000m", "mclp", D, w, 15, 1000.0, args)
    if todo in (None, "lscp-shanghai"):
        for radius in (600.0, 800.0, 1200.0):
            out = shanghai_points(5000, 1000, 5, radius)
            if out is None:
                print("Shanghai OSM extract missing; skipped")
                break
            D, dropped = out
            row(f"Shanghai set covering {len(D)}x1000 r={radius:.0f}m", "lscp", D, np.ones(len(D)), None,
                radius, args)
            if dropped:
                print(f"{'':<34} ({dropped} of 5000 demand points reach no candidate within {radius:.0f} m: dropped)")
    if todo in (None, "big"):
        D, w = euclid(10_000, 2000, 4)
        t = time.perf_counter()
        r = PMedian(p=100, method="heuristic", mip_gap=0.01).solve(D, weights=w)
        print(f"{'p-median 10000x2000 p=100':<34} careplan obj={r.objective:.1f} bound={r.bound:.1f} "
              f"proven gap={r.gap:.4%} {r.status} t={time.perf_counter() - t:.1f}s (spopt not run)")


if __name__ == "__main__":
    main()
