"""Benchmark: how careplan grows from a district to a city, and a batch on Dask.

Not a test. Run as a new user would::

    CAREPLAN_QUIET=1 python benchmarks/bench_scale.py                  # 10k and 100k nodes
    CAREPLAN_QUIET=1 python benchmarks/bench_scale.py --sizes 10k,100k,1M --timeout 2400
    CAREPLAN_QUIET=1 python benchmarks/bench_scale.py --batch 10k --workers 1,2  # Dask only

Each size runs in its own subprocess (so peak memory, ``ru_maxrss``, belongs to that
size alone) on a generated city (:func:`make_city`): a jittered street grid, 100 m
blocks, 6 % of street segments removed, written as an ``.osm.pbf`` with pyosmium and
read back through ``WalkNetwork.from_file`` (the build step is the real reader), with
estates (one per ~100 nodes: 100 / 1,000 / 10,000), candidate sites (half as many as
estates), existing facilities (one per 20 estates) and 4 grid districts. The city is
deterministic (seeded) and cached in ``benchmarks/.cache/``.

Steps timed (wall seconds, and peak RSS of the process after the step, MB):
``build`` (from_file), ``read`` (careplan's readers validate the frames), ``snap``
(estates + sites), ``distances`` (estates x sites within the 900 m circle),
``networkx`` (the same bounded search from a sample of estates' nodes,
extrapolated to all, distances checked equal), ``pandana`` (its aggregation job:
facilities within 900 m of every node, build + precompute + query, against
``node_counts``; up to ``--pandana-max`` nodes), ``coverage``
(``coverage.walk_coverage``), ``locate`` (``SetCovering`` on the distance table),
``service_areas_20`` (``coverage.service_areas`` of 20 facilities: the per-facility
cost of the plan's service-area polygons), ``plan`` (``plan_layout`` end to end) and
``write`` (``LayoutPlan.to_file``).
A growth exponent ``b`` (time ~ n^b) is fitted between consecutive sizes.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import resource
import subprocess
import sys
import tempfile
import threading
import time
import warnings
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
CACHE = HERE / ".cache"
CUTOFF_M = 900.0  # 15 min x 60 m/min, the jinwan-2020 circle
BLOCK_M = 100.0
LON0, LAT0 = 121.40, 31.15  # where the generated city sits (Shanghai's latitude)
M_PER_DEG_LAT = 111_320.0


def _size(text: str) -> int:
    t = text.strip().lower()
    mult = {"k": 1_000, "m": 1_000_000}.get(t[-1], 1)
    return int(float(t[:-1] if t[-1] in "km" else t) * mult)


def rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


# ----------------------------------------------------------------------------------
# the generated city
# ----------------------------------------------------------------------------------

def _lonlat(x: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    lat = LAT0 + y / M_PER_DEG_LAT
    lon = LON0 + x / (M_PER_DEG_LAT * math.cos(math.radians(LAT0)))
    return lon, lat


def make_city(n_nodes: int, seed: int = 15) -> dict:
    """A city-like street grid with estates, candidates and facilities.

    Parameters
    ----------
    n_nodes : int
        About how many street nodes (a side x side grid, side = sqrt(n_nodes)).
    seed : int
        Random seed (the same seed gives the same city).

    Returns
    -------
    dict
        ``pbf`` (path of the .osm.pbf, cached), ``areas``, ``facilities``,
        ``candidates`` (GeoDataFrames in EPSG:4326 with careplan's columns), ``side``.
    """
    import geopandas as gpd
    import shapely

    side = int(round(math.sqrt(n_nodes)))
    rng = np.random.default_rng(seed)
    CACHE.mkdir(exist_ok=True)
    pbf = CACHE / f"city_{side}x{side}_s{seed}.osm.pbf"
    gx, gy = np.meshgrid(np.arange(side) * BLOCK_M, np.arange(side) * BLOCK_M)
    jx = gx + rng.uniform(-15, 15, gx.shape)
    jy = gy + rng.uniform(-15, 15, gy.shape)
    drop_h = rng.random((side, side - 1)) < 0.06  # removed street segments
    drop_v = rng.random((side - 1, side)) < 0.06
    if not pbf.exists():
        _write_pbf(pbf, side, jx, jy, drop_h, drop_v)
    # estates: a 60 x 60 m block interior at one block in ~100 nodes' worth of blocks
    n_est = max(n_nodes // 100, 10)
    blocks = rng.choice((side - 1) ** 2, size=n_est, replace=False)
    br, bc = np.divmod(blocks, side - 1)
    cx, cy = (bc + 0.5) * BLOCK_M, (br + 0.5) * BLOCK_M
    boxes = shapely.box(cx - 30, cy - 30, cx + 30, cy + 30)
    hh = rng.integers(200, 2000, n_est)

    def to_wgs(geoms):
        return shapely.transform(geoms, lambda c: np.column_stack(_lonlat(c[:, 0], c[:, 1])))

    areas = gpd.GeoDataFrame({
        "area_id": [f"A{i:05d}" for i in range(n_est)], "households": hh,
        "elderly": (hh * rng.uniform(0.15, 0.3, n_est)).astype(int),
        "built": np.where(rng.random(n_est) < 0.3, "new", "existing"),
        "street": [f"S{r * 4 // (side - 1)}{c * 4 // (side - 1)}" for r, c in zip(br, bc, strict=True)],
    }, geometry=to_wgs(boxes), crs=4326)
    # candidates: block corners next to an estate or anywhere (half as many as estates)
    n_cand = max(n_est // 2, 5)
    cb = rng.choice((side - 1) ** 2, size=n_cand, replace=False)
    cr, cc = np.divmod(cb, side - 1)
    cpts = shapely.points((cc + 0.5) * BLOCK_M + rng.uniform(-40, 40, n_cand),
                          (cr + 0.5) * BLOCK_M + rng.uniform(-40, 40, n_cand))
    candidates = gpd.GeoDataFrame({"candidate_id": [f"C{i:05d}" for i in range(n_cand)]},
                                  geometry=to_wgs(cpts), crs=4326)
    n_fac = max(n_est // 20, 3)
    fb = rng.choice((side - 1) ** 2, size=n_fac, replace=False)
    fr, fc = np.divmod(fb, side - 1)
    fpts = shapely.points((fc + 0.5) * BLOCK_M + rng.uniform(-40, 40, n_fac),
                          (fr + 0.5) * BLOCK_M + rng.uniform(-40, 40, n_fac))
    levels = rng.choice(["community", "community", "community", "street", "institution"],
                        n_fac)
    facilities = gpd.GeoDataFrame({
        "facility_id": [f"F{i:04d}" for i in range(n_fac)], "level": levels,
        "floor_area_m2": rng.integers(100, 1500, n_fac).astype(float),
        "beds": np.where(levels == "institution", 100, 0),
        "nursing_beds": np.where(levels == "institution", 60, 0),
    }, geometry=to_wgs(fpts), crs=4326)
    return {"pbf": pbf, "areas": areas, "facilities": facilities, "candidates": candidates,
            "side": side}


def _write_pbf(path: Path, side: int, jx, jy, drop_h, drop_v) -> None:
    """Streets as OSM ways (one per run of kept segments along a grid line)."""
    import osmium
    from osmium.osm import mutable

    lon, lat = _lonlat(jx, jy)
    tmp = path.with_name(path.name + ".tmp.osm.pbf")
    if tmp.exists():
        tmp.unlink()
    nid = np.arange(side * side, dtype=np.int64).reshape(side, side) + 1
    w = osmium.SimpleWriter(str(tmp))
    try:
        for i in range(side):
            for j in range(side):
                w.add_node(mutable.Node(id=int(nid[i, j]),
                                        location=(float(lon[i, j]), float(lat[i, j]))))
        way_id = 1
        tags = {"highway": "residential"}

        def runs(ids, dropped):
            cur = [ids[0]]
            for k in range(len(dropped)):
                if dropped[k]:
                    if len(cur) > 1:
                        yield cur
                    cur = [ids[k + 1]]
                else:
                    cur.append(ids[k + 1])
            if len(cur) > 1:
                yield cur

        for i in range(side):  # east-west streets
            for r in runs(nid[i, :].tolist(), drop_h[i, :]):
                w.add_way(mutable.Way(id=way_id, nodes=r, tags=tags))
                way_id += 1
        for j in range(side):  # north-south streets
            for r in runs(nid[:, j].tolist(), drop_v[:, j]):
                w.add_way(mutable.Way(id=way_id, nodes=r, tags=tags))
                way_id += 1
    finally:
        w.close()
    os.replace(tmp, path)


# ----------------------------------------------------------------------------------
# one size (in a subprocess)
# ----------------------------------------------------------------------------------

def _clock() -> tuple[float, float]:
    return time.perf_counter(), time.process_time()


def _emit(rows: list, step: str, t0: tuple[float, float] | float, **extra) -> None:
    """One row: wall seconds, CPU seconds of this process (all threads) and peak RSS so far.

    ``t0`` is the step's start (:func:`_clock`) or, for a figure computed otherwise
    (extrapolated), the wall seconds themselves (then no CPU figure)."""
    if isinstance(t0, tuple):
        wall, cpu = time.perf_counter() - t0[0], time.process_time() - t0[1]
    else:
        wall, cpu = float(t0), None
    row = {"step": step, "time_s": round(wall, 3),
           "cpu_s": None if cpu is None else round(cpu, 3), "rss_mb": round(rss_mb(), 1),
           **extra}
    rows.append(row)
    print("ROW " + json.dumps(row), flush=True)


def _time_plan_steps(plan_mod, cov_mod) -> dict:
    """Wrap the pipeline's named steps (and ``coverage.service_areas``) to time them.

    Benchmark instrumentation only: the functions are looked up by name in
    ``careplan.plan._pipeline`` (and ``careplan.coverage``) and replaced by timing
    wrappers; returns the dict the wrappers fill (step -> [wall s, CPU s])."""
    spent: dict = {}

    def wrap(mod, name, key):
        f = getattr(mod, name)

        def timed(*args, **kw):
            t0 = _clock()
            try:
                return f(*args, **kw)
            finally:
                w = spent.setdefault(key, [0.0, 0.0])
                w[0] += time.perf_counter() - t0[0]
                w[1] += time.process_time() - t0[1]
        setattr(mod, name, timed)

    for name in ("prepare", "distances", "assess", "choose", "size", "street_centres",
                 "assess_after", "assemble"):
        if hasattr(plan_mod, name):
            wrap(plan_mod, name, name)
    wrap(cov_mod, "service_areas", "assemble: service_areas")
    return spent


def _time_writers(report_mod) -> dict:
    """The same for ``LayoutPlan.to_file``: the writers ``report.write_all`` calls by name
    (GeoPackage, HTML, workbook, PNG maps)."""
    return _time_calls(report_mod, ("write_geopackage", "write_html", "write_excel",
                                    "write_png_maps"))


def _time_calls(mod, names) -> dict:
    spent: dict = {}
    for name in names:
        f = getattr(mod, name)

        def timed(*args, _f=f, _k=name, **kw):
            t0 = _clock()
            try:
                return _f(*args, **kw)
            finally:
                w = spent.setdefault(_k, [0.0, 0.0])
                w[0] += time.perf_counter() - t0[0]
                w[1] += time.process_time() - t0[1]
        setattr(mod, name, timed)
    return spent


def run_one(n_nodes: int, *, pandana_max: int, nx_sources: int, nx_max: int, write: bool,
            time_limit_s: float) -> None:
    import careplan as cp
    import careplan.plan._pipeline as pipeline

    warnings.simplefilter("ignore")
    rows: list = []
    t = _clock()
    city = make_city(n_nodes)
    _emit(rows, "generate", t, note="not careplan: the city generator")
    t = _clock()
    net = cp.WalkNetwork.from_file(city["pbf"])
    _emit(rows, "build", t, nodes=net.n_nodes, edges=net.n_edges)
    t = _clock()
    areas = cp.read_areas(city["areas"], crs=net.crs)
    facs = cp.read_facilities(city["facilities"], crs=net.crs)
    cands = cp.read_candidates(city["candidates"], crs=net.crs)
    _emit(rows, "read", t, estates=len(areas), facilities=len(facs), candidates=len(cands))
    import geopandas as gpd
    import pandas as pd

    sites = gpd.GeoDataFrame(geometry=pd.concat([facs.geometry, cands.geometry]).to_numpy(),
                             index=list(facs.index) + list(cands.index), crs=net.crs)
    t = _clock()
    net.snap(areas)
    net.snap(sites)
    _emit(rows, "snap", t)
    t = _clock()
    od = net.distances(areas, sites, cutoff_m=CUTOFF_M, verbose=False)
    _emit(rows, "distances", t, pairs=len(od))
    if nx_sources > 0 and net.n_nodes <= nx_max:
        _bench_nx(rows, net, areas, nx_sources)
    elif nx_sources > 0:
        _emit(rows, "networkx", float("nan"), note=f"skipped above --nx-max {nx_max:,} nodes "
              "(its graph alone takes ~850 MB at 1M nodes; the 100-source figure was 1.4x "
              "careplan's node_distances there in the last round)")
    if net.n_nodes <= pandana_max:
        _bench_pandana(rows, net, facs)
    t = _clock()
    cov = cp.coverage.walk_coverage(net, areas, facs, cutoff_m=CUTOFF_M)
    _emit(rows, "coverage", t, covered_share=round(float(cov.areas["covered"].mean()), 4))
    t = _clock()
    comp = cp.compliance.check(areas, facs, standard="jinwan-2020")
    _emit(rows, "compliance", t, areas=len(comp.areas))
    t = _clock()
    sub = od[od["destination"].isin(set(cands.index))]
    w = areas.loc[sorted(set(sub["origin"])), "households"].astype(float)
    res = cp.locate.SetCovering(cutoff_m=CUTOFF_M, time_limit_s=time_limit_s).solve(
        sub, weights=w)
    _emit(rows, "locate", t, selected=len(res.selected),
          status=str(res.status), gap=None if res.gap is None else float(res.gap))
    k = min(len(facs), 20)
    t = _clock()
    cp.coverage.service_areas(net, facs.iloc[:k], cutoff_m=CUTOFF_M)
    t_sa = time.perf_counter() - t[0]
    _emit(rows, "service_areas_20", t, facilities=k, per_facility_s=round(t_sa / k, 3))
    spent = _time_plan_steps(pipeline, cp.coverage)
    t = _clock()
    plan = cp.plan_layout(areas, facs, cands, net, cutoff_m=CUTOFF_M,
                          time_limit_s=time_limit_s, verbose=False)
    _emit(rows, "plan", t,
          new_stations=int((plan.proposed["kind"] == "new").sum()),
          service_areas=len(plan.service_areas),
          steps={k: {"wall_s": round(v[0], 2), "cpu_s": round(v[1], 2)}
                 for k, v in spent.items()})
    if write:
        import careplan.report as report

        wrote = _time_writers(report)
        with tempfile.TemporaryDirectory() as d:
            t = _clock()
            files = plan.to_file(Path(d) / "out")
            sizes = {k: round(Path(p).stat().st_size / 1e6, 2) for k, p in files.items()
                     if Path(p).is_file()}
            _emit(rows, "write", t, sizes_mb=sizes,
                  steps={k: {"wall_s": round(v[0], 2), "cpu_s": round(v[1], 2)}
                         for k, v in wrote.items()})


def _bench_nx(rows, net, areas, n_src: int) -> None:
    """networkx's bounded Dijkstra from the estates' nearest nodes (a sample), against
    careplan's node_distances from the same nodes; extrapolated to every estate."""
    import networkx as nx

    sys.path.insert(0, str(HERE))
    from bench_distances import to_nx

    snap = net.snap(areas)
    col = "node" if "node" in snap.columns else None
    if col is None:  # nearest node of the snapped edge
        e = snap["edge"].to_numpy()
        edges = net.edges
        nodes = edges["u"].to_numpy()[e]
    else:
        nodes = snap[col].to_numpy()
    rng = np.random.default_rng(3)
    src = np.unique(rng.choice(nodes, size=min(n_src, len(nodes)), replace=False))
    pos = net.node_ids.get_indexer(src)
    G = to_nx(net)
    t = time.perf_counter()
    theirs = {int(s): nx.single_source_dijkstra_path_length(G, int(s), cutoff=CUTOFF_M,
                                                          weight="length") for s in pos}
    t_nx = time.perf_counter() - t
    t = time.perf_counter()
    mine = net.node_distances(src, cutoff_m=CUTOFF_M, verbose=False)
    t_me = time.perf_counter() - t
    n_pairs = sum(len(v) for v in theirs.values())
    # compare: same pairs, same distances
    pos_of = dict(zip(net.node_ids, range(net.n_nodes), strict=True))
    mine_pairs = {(pos_of[s], pos_of[n]): d for s, n, d in mine[
        ["source", "node", "distance_m"]].itertuples(index=False)}
    nx_pairs = {(s, n): d for s, v in theirs.items() for n, d in v.items()}
    same_keys = mine_pairs.keys() == nx_pairs.keys()
    diff = max((abs(mine_pairs[k] - nx_pairs[k]) for k in nx_pairs if k in mine_pairs),
               default=0.0)
    scale = len(areas) / len(src)
    _emit(rows, "networkx", t_nx * scale, sources=len(src), extrapolated_to=len(areas),
          careplan_same_sources_s=round(t_me, 4), pairs=n_pairs, same_pairs=same_keys,
          max_abs_diff_m=float(diff), ratio=round(t_nx / max(t_me, 1e-9), 1))


def _bench_pandana(rows, net, facs) -> None:
    """pandana's aggregation job (facilities within the cutoff of every node), build +
    query, against careplan's node_counts (facilities moved onto nodes for both)."""
    try:
        import pandana
    except ImportError:
        _emit(rows, "pandana", float("nan"), note="not installed: pip install pandana")
        return
    import geopandas as gpd
    import pandas as pd

    snap = net.snap(facs)
    e = snap["edge"].to_numpy()
    upos = net.node_ids.get_indexer(net.edges["u"].to_numpy()[e])
    fac = gpd.GeoDataFrame(geometry=gpd.points_from_xy(net.x[upos], net.y[upos]), crs=net.crs)
    t = time.perf_counter()
    mine = net.node_counts(fac, cutoff_m=CUTOFF_M, verbose=False).to_numpy()
    t_me = time.perf_counter() - t
    src = np.repeat(np.arange(net.n_nodes), np.diff(net.indptr))
    keep = src < net.indices
    t = time.perf_counter()
    pn = pandana.Network(pd.Series(net.x), pd.Series(net.y), pd.Series(src[keep]),
                         pd.Series(net.indices[keep]),
                         pd.DataFrame({"w": net.weights[keep]}), twoway=True)
    pn.precompute(CUTOFF_M)
    t_build = time.perf_counter() - t
    t = time.perf_counter()
    pn.set(pd.Series(upos), name="fac")
    theirs = pn.aggregate(CUTOFF_M, type="count", decay="flat", name="fac").to_numpy()
    t_q = time.perf_counter() - t
    _emit(rows, "pandana", t_build + t_q, build_precompute_s=round(t_build, 3),
          query_s=round(t_q, 3), careplan_node_counts_s=round(t_me, 3),
          same_counts_share=round(float(np.mean(mine == theirs)), 5))


# ----------------------------------------------------------------------------------
# the batch on a LocalCluster
# ----------------------------------------------------------------------------------

def run_batch(n_nodes: int, workers: list[int], time_limit_s: float, grid_rc: tuple[int, int]
              ) -> None:
    """The same batch on a LocalCluster of each worker count; one ROW per run, then a table.

    The numba kernels are compiled (or loaded from the on-disk cache) by a warm-up plan in
    this process first, so no run pays the first compilation; each run still starts its
    own worker processes (imports, cache loads: counted in ``worker_cpu_s``)."""
    import careplan as cp
    from careplan import batch

    warnings.simplefilter("ignore")
    city = make_city(n_nodes)
    net = cp.WalkNetwork.from_file(city["pbf"])
    areas = cp.read_areas(city["areas"], crs=net.crs)
    facs = cp.read_facilities(city["facilities"], crs=net.crs)
    cands = cp.read_candidates(city["candidates"], crs=net.crs)
    grid = batch.districts_from_grid(areas, *grid_rc)
    t = _clock()
    inp = batch.district_inputs(grid.index[0], grid, areas, facs, cands, net, halo_m=CUTOFF_M)
    cp.plan_layout(inp.areas, inp.facilities, inp.candidates, inp.network, cutoff_m=CUTOFF_M,
                   verbose=False)
    print(f"warm-up plan of one district (numba cache): {time.perf_counter() - t[0]:.1f} s",
          flush=True)
    ref, runs = None, []
    for n in workers:
        load0 = os.getloadavg()[0]
        with tempfile.TemporaryDirectory() as d:
            t = time.perf_counter()
            res = batch.plan_districts(grid, areas, facs, cands, net, out=Path(d) / "out",
                                       n_workers=n, processes=True, resume=False,
                                       verbose=False, cutoff_m=CUTOFF_M,
                                       time_limit_s=time_limit_s)
            wall = time.perf_counter() - t
        tab = res.districts.drop(columns="geometry")
        cols = [c for c in tab.columns if c.endswith(("_before", "_after"))]
        same = None if ref is None else bool(tab[cols].equals(ref[cols]))
        ref = tab if ref is None else ref
        tm = res.timing
        runs.append((n, {**tm, "wall_s": wall}))  # wall of plan_districts, summary included
        print("ROW " + json.dumps({
            "step": f"batch_{n}_workers", "time_s": round(wall, 2),
            "districts": len(tab), "failed": int((tab["status"] != "done").sum()),
            **{k: tm[k] for k in ("startup_s", "span_s", "sum_task_wall_s", "sum_task_cpu_s",
                                  "concurrency", "critical_path_cpu_s", "cpu_speedup_bound",
                                  "busy_cpu_s", "worker_cpu_s", "client_cpu_s")},
            "district_cpu_s": {str(k): v for k, v in tab["cpu_s"].items()},
            "load_average": [round(load0, 1), round(os.getloadavg()[0], 1)],
            "same_as_first_run": same}), flush=True)
    # repeated counts (--workers 1,2,1,2: alternating runs against a drifting load) are
    # compared with the mean wall of the 1-worker runs
    ones = [r["wall_s"] for n, r in runs if n == 1]
    base = sum(ones) / len(ones) if ones else float("nan")
    print(f"\n{'workers':>7} {'wall s':>8} {'task CPU s':>10} {'worker CPU s':>12} "
          f"{'speed-up':>8} {'efficiency':>10} {'concurrency':>11} {'CPU bound':>9}")
    for n, r in runs:
        wcpu = sum((r["worker_cpu_s"] or {}).values())
        sp = base / r["wall_s"]
        print(f"{n:>7} {r['wall_s']:>8.1f} {r['sum_task_cpu_s']:>10.1f} {wcpu:>12.1f} "
              f"{sp:>8.2f} {sp / n:>10.2f} {r['concurrency'] or float('nan'):>11.2f} "
              f"{r['cpu_speedup_bound'] or float('nan'):>9.2f}")
    print("speed-up = wall(1 worker) / wall(n); efficiency = speed-up / n; concurrency = "
          "mean tasks running at once; CPU bound = task CPU / busiest worker's task CPU "
          "(the speed-up with a free core per worker, whatever the load)", flush=True)


# ----------------------------------------------------------------------------------
# driver
# ----------------------------------------------------------------------------------

def _child(args: list[str], timeout: float) -> tuple[list[dict], str]:
    cmd = [sys.executable, str(Path(__file__).resolve()), *args]
    env = dict(os.environ, CAREPLAN_QUIET="1")
    rows, status = [], "ok"
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                            env=env)
    # a watchdog: the child may be silent for a long time inside one step
    timer = threading.Timer(timeout, proc.kill)
    timer.start()
    try:
        for line in proc.stdout:
            if line.startswith("ROW "):
                row = json.loads(line[4:])
                rows.append(row)
                print(f"    {row}", flush=True)
            elif line.strip():
                print(f"    | {line.rstrip()}", flush=True)
        proc.wait()
    finally:
        fired = not timer.is_alive()
        timer.cancel()
    if fired and proc.returncode:
        status = f"stopped after {timeout:.0f} s"
    elif proc.returncode:
        status = f"exit {proc.returncode}"
    return rows, status


def _grid(text: str) -> tuple[int, int]:
    rows, _, cols = text.lower().partition("x")
    return int(rows), int(cols)


def _figures(row: dict) -> dict[str, tuple[float | None, float | None]]:
    """``step -> (wall s, CPU s)`` of one size's row, the plan's and the write's sub-steps
    as ``plan: <step>`` / ``write: <writer>``."""
    out = {}
    for st, r in row.items():
        if st == "generate":
            continue
        out[st] = (r.get("time_s"), r.get("cpu_s"))
        for sub, v in (r.get("steps") or {}).items():
            out[f"{st}: {sub}"] = (v.get("wall_s"), v.get("cpu_s"))
    return out


def growth_exponent(t0: float | None, t1: float | None, n0: int, n1: int) -> float | None:
    """``b`` in ``t ~ n^b`` from two sizes (None when a figure is missing or not > 0)."""
    if not (t0 and t1) or t0 <= 0 or t1 <= 0 or math.isnan(t0) or math.isnan(t1):
        return None
    return math.log(t1 / t0) / math.log(n1 / n0)


def print_growth(results: dict[int, dict]) -> None:
    """The growth exponent of every step between consecutive sizes, from CPU seconds (the
    figure to compare on a shared machine) and from wall seconds."""
    print("\n== growth exponent b (time ~ n^b) between consecutive sizes: CPU (wall)")
    sizes = sorted(results)
    figs = {n: _figures(results[n]) for n in sizes}
    for st in figs[sizes[0]]:
        parts = []
        for lo, hi in zip(sizes, sizes[1:], strict=False):
            a, b = figs[lo].get(st, (None, None)), figs[hi].get(st, (None, None))
            cpu = growth_exponent(a[1], b[1], lo, hi)
            wall = growth_exponent(a[0], b[0], lo, hi)
            if cpu is None and wall is None:
                continue
            txt = "n/a" if cpu is None else f"{cpu:.2f}"
            parts.append(f"{lo:,}->{hi:,}: {txt}" + ("" if wall is None else f" ({wall:.2f})"))
        print(f"  {st:32s} " + ("; ".join(parts) or "n/a"))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--sizes", default=None,
                    help="street nodes, e.g. 10k,100k,1M (default 10k,100k; none with --batch)")
    ap.add_argument("--timeout", type=float, default=1200, help="per size, seconds")
    ap.add_argument("--pandana-max", default="100k",
                    help="largest graph pandana runs on (its precompute grows fast)")
    ap.add_argument("--nx-sources", type=int, default=100)
    ap.add_argument("--nx-max", default="100k", help="largest graph networkx runs on")
    ap.add_argument("--no-write", action="store_true", help="skip LayoutPlan.to_file")
    ap.add_argument("--time-limit", type=float, default=120.0, help="solver limit, s")
    ap.add_argument("--batch", default=None, help="size of the city for the Dask batch")
    ap.add_argument("--workers", default="1,2",
                    help="LocalCluster worker counts (--batch); repeat to alternate: 1,2,1,2")
    ap.add_argument("--districts", default="4x4",
                    help="grid of districts of the --batch city, rows x cols")
    ap.add_argument("--one", default=None, help=argparse.SUPPRESS)
    ap.add_argument("--batch-one", default=None, help=argparse.SUPPRESS)
    a = ap.parse_args()
    if a.one:
        run_one(_size(a.one), pandana_max=_size(a.pandana_max), nx_sources=a.nx_sources,
                nx_max=_size(a.nx_max),
                write=not a.no_write, time_limit_s=a.time_limit)
        return
    if a.batch_one:
        run_batch(_size(a.batch_one), [int(w) for w in a.workers.split(",")], a.time_limit,
                  _grid(a.districts))
        return
    print(f"python {sys.version.split()[0]}, {os.cpu_count()} CPUs, load average "
          f"{os.getloadavg()[0]:.1f} at start (the machine is shared: timings move with it)")
    results = {}
    sizes = a.sizes if a.sizes is not None else ("" if a.batch else "10k,100k")
    for s in filter(None, sizes.split(",")):  # --sizes "" runs the batch only
        n = _size(s)
        print(f"\n== {s}: about {n:,} street nodes", flush=True)
        extra = ["--pandana-max", a.pandana_max, "--nx-sources", str(a.nx_sources),
                 "--nx-max", a.nx_max,
                 "--time-limit", str(a.time_limit)] + (["--no-write"] if a.no_write else [])
        rows, status = _child(["--one", s, *extra], a.timeout)
        print(f"    status: {status}; load average now {os.getloadavg()[0]:.1f}")
        results[n] = {r["step"]: r for r in rows}
    if len(results) > 1:
        print_growth(results)
    if a.batch:
        print(f"\n== batch: {a.batch} nodes city, {a.districts} grid districts, LocalCluster "
              f"(processes, 1 thread each), workers {a.workers}", flush=True)
        _, status = _child(["--batch-one", a.batch, "--workers", a.workers,
                            "--districts", a.districts, "--time-limit", str(a.time_limit)],
                           a.timeout)
        print(f"    status: {status}; load average now {os.getloadavg()[0]:.1f}")


if __name__ == "__main__":
    main()
