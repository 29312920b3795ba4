"""Benchmark: accessibility side by side with pandana (aggregation) and access (FCA family).

Not a test. Needs ``pip install pandana access`` in the venv (never in the test extras). Run::

    CAREPLAN_QUIET=1 python benchmarks/bench_access.py [--quick]

1. pandana's ``aggregate`` job on the unsimplified osmnx graph of the Shanghai
   roads (../shared/data/shanghai_center, the same edges given to both): a value of
   4,000 facilities placed on nodes, aggregated within 1,000 m of every node
   (sum, mean, count, min, max; flat, linear, exp decay: 15 queries). careplan:
   ``accessibility.Aggregator`` (one compiled search from the facilities, kept)
   + 15 ``query`` calls; pandana: ``Network`` + ``precompute`` + ``set`` + 15
   ``aggregate`` calls. Prints both times, the ``RATIO`` (build + queries) and
   the largest difference of the values.
2. access (pysal) on a real OD table: 2,000 estates and 300 stations on the
   same graph, walking distances within 1,000 m from ``net.distances``; 2SFCA,
   E2SFCA (Luo & Qi weights at 300/600/1,000 m) and Gaussian-weighted 3SFCA in
   careplan (``accessibility.fca``) and access (``Access.two_stage_fca`` ...);
   prints the times, the ``RATIO`` and the largest relative difference; and
   cumulative opportunities (``accessibility.cumulative`` against access's
   ``weighted_catchment``, Gaussian weights).
"""

from __future__ import annotations

import argparse
import contextlib
import io
import math
import time
import warnings
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd

from careplan._errors import CareplanWarning
from careplan.accessibility import (
    LUO_QI_2009_WEIGHTS,
    Aggregator,
    aggregate,
    cumulative,
    fca,
    stepped_decay,
)
from careplan.network import WalkNetwork

ROOT = Path(__file__).resolve().parents[1]
SHANGHAI = ROOT.parent / "shared" / "data" / "shanghai_center" / \
    "shanghai_center_roads_overpass_2025-08-09.osm"
warnings.simplefilter("ignore", CareplanWarning)
warnings.simplefilter("ignore", FutureWarning)

PANDANA_TYPES = {"sum": "sum", "mean": "ave", "count": "count", "min": "min", "max": "max"}


def on_nodes(net: WalkNetwork, pos: np.ndarray, prefix: str, **cols) -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame(cols, geometry=gpd.points_from_xy(net.x[pos], net.y[pos]), crs=net.crs,
                            index=[f"{prefix}{k}" for k in range(pos.size)])


def bench_aggregate(net: WalkNetwork, rng, n_fac: int, cutoff: float) -> None:
    fpos = rng.choice(net.n_nodes, size=n_fac, replace=False)
    beds = rng.integers(10, 200, size=n_fac).astype(float)
    fac = on_nodes(net, fpos, "F", beds=beds)
    aggregate(net, fac.iloc[:3], "beds", cutoff_m=cutoff, verbose=False)  # kernel compiled
    try:
        import pandana
    except ImportError:
        print("pandana is not installed: `pip install pandana` to compare.")
        return
    e, nodes = net.edges, net.nodes
    t = time.perf_counter()
    with contextlib.redirect_stdout(io.StringIO()):
        pn = pandana.Network(nodes["x"], nodes["y"], e["u"], e["v"],
                             pd.DataFrame({"w": e["length_m"].to_numpy()}, index=e.index), twoway=True)
        pn.precompute(cutoff)
    t_pb = time.perf_counter() - t
    pn.set(pd.Series(net.node_ids[fpos]), variable=pd.Series(beds), name="beds")
    t = time.perf_counter()
    agg = Aggregator(net, fac, max_radius_m=cutoff, verbose=False)
    t_cb = time.perf_counter() - t
    print(f"\n1. aggregate: {n_fac:,} facilities (beds) within {cutoff:g} m of each of {net.n_nodes:,} "
          f"nodes\n   pandana {pandana.__version__} Network + precompute {t_pb:.2f} s (once); careplan "
          f"Aggregator (one search from the facilities) {t_cb:.2f} s (once, {agg.n_pairs:,} pairs)")
    tot_c = tot_p = 0.0
    for decay in ("flat", "linear", "exp"):
        for how, ptype in PANDANA_TYPES.items():
            t = time.perf_counter()
            ours = agg.query("beds", how=how, decay=decay)
            t_c = time.perf_counter() - t
            t = time.perf_counter()
            theirs = pn.aggregate(cutoff, type=ptype, decay=decay, name="beds")
            t_p = time.perf_counter() - t
            tot_c, tot_p = tot_c + t_c, tot_p + t_p
            a = ours.to_numpy()
            b = theirs.reindex(ours.index).to_numpy()
            if how in ("mean", "min", "max"):
                # nothing in reach: careplan NaN, pandana 0 (mean) or -1 (min, max)
                a = np.where(np.isnan(a), -1.0 if how != "mean" else 0.0, a)
            diff = np.abs(a - b)
            rel = np.max(diff / np.maximum(np.abs(b), 1e-9)) if diff.size else 0.0
            print(f"   {how:>5} {decay:>6}: careplan query {t_c:.3f} s  pandana {t_p:.3f} s  "
                  f"nodes differing by > 1e-6 rel: {int(np.sum(diff > 1e-6 * np.maximum(np.abs(b), 1)))} "
                  f"(max rel {rel:.1e})")
    print("   (differences: pandana keeps distances in float32, so a facility at 1,000.005 m counts\n"
          "    at 1,000 m and linear/exp weights differ by ~3e-5 at the median node; and pandana\n"
          "    places a facility on a node id while careplan snaps its point to the nearest edge:\n"
          "    where two ways cross without a shared node (bridges, elevated roads; the\n"
          "    unsimplified graph has them) the point may sit on the other way, ~1 % of nodes)")
    t = time.perf_counter()
    agg.query("beds", how=list(PANDANA_TYPES), radius_m=cutoff / 2)
    print(f"   careplan, the five aggregations at half the radius in one query: {time.perf_counter() - t:.3f} s")
    t = time.perf_counter()
    aggregate(net, fac, "beds", cutoff_m=cutoff, how="sum", verbose=False)
    print(f"   careplan one-shot aggregate() (search + one query): {time.perf_counter() - t:.2f} s")
    c_all, p_all = t_cb + tot_c, t_pb + tot_p
    print(f"RATIO aggregate, build + 15 queries: careplan {c_all:.2f} s ({t_cb:.2f} + {tot_c:.2f}) vs "
          f"pandana {p_all:.2f} s ({t_pb:.2f} + {tot_p:.2f}): {p_all / c_all:.1f}x; "
          f"queries alone {tot_p / tot_c:.1f}x")


def bench_fca(net: WalkNetwork, rng, n_dem: int, n_sup: int, cutoff: float) -> None:
    dem = on_nodes(net, rng.choice(net.n_nodes, size=n_dem, replace=False), "A",
                   elderly=rng.integers(20, 800, size=n_dem).astype(float))
    sup = on_nodes(net, rng.choice(net.n_nodes, size=n_sup, replace=False), "S",
                   floor_area_m2=rng.integers(200, 2000, size=n_sup).astype(float))
    t = time.perf_counter()
    od = net.distances(dem, sup, cutoff_m=cutoff, verbose=False)
    t_od = time.perf_counter() - t
    print(f"\n2. FCA: {n_dem:,} estates x {n_sup:,} stations, {len(od):,} pairs within {cutoff:g} m "
          f"(net.distances {t_od:.2f} s, shared by both)")
    try:
        from access import Access, weights
    except ImportError:
        print("access is not installed: `pip install access` to compare.")
        return
    breaks = [300.0, 600.0, cutoff]
    sigma = cutoff / 2

    def gauss(d):  # access's weights.gaussian(sigma): exp(-d^2 / 2 sigma^2), f(0) = 1
        return np.exp(-0.5 * (d / sigma) ** 2)

    runs = [
        ("2sfca", dict(method="2sfca", cutoff_m=cutoff), "two_stage_fca", dict(max_cost=cutoff)),
        ("e2sfca", dict(method="e2sfca", decay=stepped_decay(breaks, LUO_QI_2009_WEIGHTS)),
         "enhanced_two_stage_fca",
         dict(max_cost=cutoff, weight_fn=weights.step_fn(dict(zip(breaks, LUO_QI_2009_WEIGHTS, strict=True))))),
        ("3sfca", dict(method="3sfca", cutoff_m=cutoff, decay=gauss), "three_stage_fca",
         dict(max_cost=cutoff, weight_fn=weights.gaussian(sigma))),
    ]
    dem_df = pd.DataFrame({"id": dem.index, "elderly": dem["elderly"].to_numpy()})
    sup_df = pd.DataFrame({"id": sup.index, "floor_area_m2": sup["floor_area_m2"].to_numpy()})
    tot_c = tot_a = 0.0
    for name, ours_kw, method, their_kw in runs:
        t = time.perf_counter()
        ours = fca(od, dem["elderly"], sup["floor_area_m2"], **ours_kw)
        t_c = time.perf_counter() - t
        t = time.perf_counter()
        with contextlib.redirect_stdout(io.StringIO()), warnings.catch_warnings():
            warnings.simplefilter("ignore")
            acc = Access(demand_df=dem_df, demand_index="id", demand_value="elderly", supply_df=sup_df,
                         supply_index="id", supply_value="floor_area_m2", cost_df=od,
                         cost_origin="origin", cost_dest="destination", cost_name="distance_m")
            res = getattr(acc, method)(name=name, **their_kw)
        t_a = time.perf_counter() - t
        tot_c, tot_a = tot_c + t_c, tot_a + t_a
        theirs = res.iloc[:, 0].reindex(ours.index).fillna(0.0).to_numpy()
        a = ours.to_numpy()
        rel = np.max(np.abs(a - theirs) / np.maximum(np.abs(theirs), 1e-12))
        print(f"   {name:>6}: careplan {t_c:.3f} s  access {t_a:.3f} s  max rel diff {rel:.1e}  "
              f"(supply conserved: {math.isclose((a * dem['elderly']).sum(), sup['floor_area_m2'][np.isin(sup.index, od['destination'])].sum(), rel_tol=1e-9)})")
    print(f"RATIO FCA, 3 measures: careplan {tot_c:.3f} s vs access {tot_a:.3f} s ({tot_a / tot_c:.1f}x)")
    # cumulative opportunities: access's weighted_catchment (floor area within the catchment,
    # Gaussian-weighted) against careplan's cumulative on the same table
    t = time.perf_counter()
    ours = cumulative(od, dem["elderly"], sup["floor_area_m2"], cutoff_m=cutoff, decay=gauss)
    t_c = time.perf_counter() - t
    t = time.perf_counter()
    with contextlib.redirect_stdout(io.StringIO()), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        acc = Access(demand_df=dem_df, demand_index="id", demand_value="elderly", supply_df=sup_df,
                     supply_index="id", supply_value="floor_area_m2", cost_df=od,
                     cost_origin="origin", cost_dest="destination", cost_name="distance_m")
        res = acc.weighted_catchment(name="wc", weight_fn=weights.gaussian(sigma), max_cost=cutoff)
    t_a = time.perf_counter() - t
    theirs = res.iloc[:, 0].reindex(ours.index).fillna(0.0).to_numpy()
    a = ours.to_numpy()
    rel = np.max(np.abs(a - theirs) / np.maximum(np.abs(theirs), 1e-12))
    print(f"   cumulative (access weighted_catchment, Gaussian): careplan {t_c:.3f} s  access {t_a:.3f} s  "
          f"max rel diff {rel:.1e}  ({t_a / t_c:.1f}x)")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="fewer points")
    ap.add_argument("--only", choices=("aggregate", "fca"), default=None, help="run one part")
    args = ap.parse_args()
    rng = np.random.default_rng(13)
    import osmnx as ox

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        G = ox.graph_from_xml(SHANGHAI, simplify=False)  # as bench_distances: ~21,700 nodes
    t = time.perf_counter()
    net = WalkNetwork.from_graph(G)
    print(f"Shanghai roads, unsimplified osmnx graph: {net.n_nodes:,} nodes, {net.n_edges:,} edges "
          f"(from_graph {time.perf_counter() - t:.1f} s)")
    if args.only in (None, "aggregate"):
        bench_aggregate(net, rng, 1000 if args.quick else 4000, 1000.0)
    if args.only in (None, "fca"):
        bench_fca(net, rng, 500 if args.quick else 2000, 100 if args.quick else 300, 1000.0)


if __name__ == "__main__":
    main()
