"""Benchmark: does the city's set-covering model need decomposing by district?

Not a test. Issue 15 item 1 asks for "decomposition of the location model by district
with a proven bound" where the whole-city MIP does not scale. This measures the question
on the generated city of ``bench_scale.py`` (same seed, same cache)::

    CAREPLAN_QUIET=1 python benchmarks/bench_decompose.py --size 100k
    CAREPLAN_QUIET=1 python benchmarks/bench_decompose.py --size 1M

It builds the plan's set-covering instance (estates x candidate sites within the 900 m
walking circle, households as weights), solves it whole with ``locate.SetCovering``
(HiGHS), then splits it into the connected components of the demand-site coverage graph
(two estates are in one component when a chain of shared candidate sites links them)
and solves every component alone. The split is exact: components share no estate and no
site, so the optimum is the sum of the component optima (no bound to prove). It prints
the instance, the components, both objectives (they must be equal) and the CPU seconds.
"""

from __future__ import annotations

import argparse
import sys
import time
import warnings
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from bench_scale import CUTOFF_M, _size, make_city, rss_mb  # noqa: E402


def components(od) -> tuple[int, np.ndarray, np.ndarray]:
    """Connected components of the bipartite estate-site graph of ``od``.

    Returns
    -------
    n : int
        Number of components.
    origin_comp : ndarray of shape (n_pairs,)
        Component of each pair (row of ``od``).
    sizes : ndarray of shape (n,)
        Estates per component.
    """
    import scipy.sparse as sp
    from scipy.sparse.csgraph import connected_components

    o_lab, o_inv = np.unique(od["origin"].to_numpy().astype(str), return_inverse=True)
    d_lab, d_inv = np.unique(od["destination"].to_numpy().astype(str), return_inverse=True)
    n_o, n_d = len(o_lab), len(d_lab)
    g = sp.coo_array((np.ones(len(od)), (o_inv, n_o + d_inv)), shape=(n_o + n_d,) * 2)
    n, lab = connected_components(g, directed=False)
    sizes = np.bincount(lab[:n_o], minlength=n)
    return n, lab[o_inv], sizes


def main() -> None:
    import careplan as cp

    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--size", default="100k", help="street nodes of the generated city")
    ap.add_argument("--time-limit", type=float, default=120.0, help="solver limit, s")
    a = ap.parse_args()
    warnings.simplefilter("ignore")
    city = make_city(_size(a.size))
    net = cp.WalkNetwork.from_file(city["pbf"])
    areas = cp.read_areas(city["areas"], crs=net.crs)
    cands = cp.read_candidates(city["candidates"], crs=net.crs)
    od = net.distances(areas, cands, cutoff_m=CUTOFF_M, verbose=False)
    w = areas.loc[sorted(set(od["origin"])), "households"].astype(float)
    print(f"city {a.size}: {net.n_nodes:,} nodes; instance {od['origin'].nunique():,} estates "
          f"x {od['destination'].nunique():,} sites, {len(od):,} pairs within {CUTOFF_M:g} m "
          f"({len(areas) - od['origin'].nunique()} estates reach no site and are left out)")
    model = cp.locate.SetCovering(cutoff_m=CUTOFF_M, time_limit_s=a.time_limit)
    c = time.process_time()
    whole = model.solve(od, weights=w)
    t_whole = time.process_time() - c
    print(f"whole:      {whole.objective:g} sites, status {whole.status}, gap {whole.gap:.3g}, "
          f"{t_whole:.2f} s CPU")
    c = time.process_time()
    n, comp, sizes = components(od)
    t_split = time.process_time() - c
    print(f"components: {n:,} (estates per component: median {np.median(sizes):g}, largest "
          f"{sizes.max():,} = {sizes.max() / sizes.sum():.1%} of the estates), found in "
          f"{t_split:.3f} s CPU")
    c = time.process_time()
    total, worst = 0.0, 0.0
    statuses = set()
    for k in range(n):
        sub = od[comp == k]
        r = model.solve(sub, weights=w.loc[sorted(set(sub["origin"]))])
        total += r.objective
        worst = max(worst, r.gap)
        statuses.add(str(r.status))
    t_parts = time.process_time() - c
    print(f"by component: {total:g} sites, statuses {sorted(statuses)}, worst gap {worst:.3g}, "
          f"{t_parts:.2f} s CPU ({n:,} solves)")
    print(f"same optimum: {total == whole.objective}; peak RSS {rss_mb():,.0f} MB")


if __name__ == "__main__":
    main()
