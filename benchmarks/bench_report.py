"""Benchmark: report.html at city scale (issue 15.1): size, write time, browser load time.

Not a test. Run as a new user would::

    CAREPLAN_QUIET=1 python benchmarks/bench_report.py                 # 10k and 100k nodes
    CAREPLAN_QUIET=1 python benchmarks/bench_report.py --sizes 10k --html old.html

For each size the city of ``benchmarks/bench_scale.py`` (:func:`bench_scale.make_city`:
a jittered street grid, one estate per ~100 nodes, candidates, facilities) is planned
with ``plan_layout`` (the plan is cached in ``benchmarks/.cache/`` as a pickle, since
planning 100k nodes takes minutes), then ``report.html`` is written and opened in
headless Chromium (``tests/_chromium.py``, a 1280 x 900 window). Printed per size:
the plan's layers (estates, street edges, service areas, stations), what the map
reduced (``careplan.report.maps.map_reductions``), the file size, the write time and
the browser's times: ``load`` (navigation to the load event: the page parsed, the
charts decoded) and ``map`` (until the map in its iframe has drawn its shapes), and
the page's JS heap. ``--html FILE`` measures an existing report instead (e.g. one
written by an older careplan) with the same browser steps.
"""

from __future__ import annotations

import argparse
import pickle
import sys
import tempfile
import time
import warnings
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(HERE.parent / "tests"))

from bench_scale import CACHE, CUTOFF_M, make_city  # noqa: E402


def _size(text: str) -> int:
    text = text.strip().lower()
    mult = {"k": 1_000, "m": 1_000_000}.get(text[-1], 1)
    return int(float(text.rstrip("km")) * mult)


def city_plan(n_nodes: int, time_limit_s: float = 60.0):
    """The planned generated city of about *n_nodes* street nodes (cached pickle)."""
    import careplan as cp

    path = CACHE / f"plan_{n_nodes}.pkl"
    if path.exists():
        with open(path, "rb") as f:
            return pickle.load(f)
    city = make_city(n_nodes)
    net = cp.WalkNetwork.from_file(city["pbf"])
    areas = cp.read_areas(city["areas"], crs=net.crs)
    facs = cp.read_facilities(city["facilities"], crs=net.crs)
    cands = cp.read_candidates(city["candidates"], crs=net.crs)
    t = time.perf_counter()
    plan = cp.plan_layout(areas, facs, cands, net, cutoff_m=CUTOFF_M,
                          time_limit_s=time_limit_s, verbose=False)
    print(f"  planned {n_nodes} nodes in {time.perf_counter() - t:.0f} s (cached: {path})")
    CACHE.mkdir(exist_ok=True)
    with open(path, "wb") as f:
        pickle.dump(plan, f)
    return plan


def browser_times(html: Path, *, timeout_s: float = 300.0) -> dict:
    """Seconds to the load event and until the map (in its iframe) has drawn, JS heap MB."""
    from _chromium import Browser

    with Browser(width=1280, height=900, timeout_s=timeout_s) as b:
        t0 = time.perf_counter()
        b.open(html, settle_s=0.0)
        load = time.perf_counter() - t0
        # the map draws on a canvas (prefer_canvas): drawn once its document is complete
        # and a canvas of the overlay pane has a size
        drawn = ("(() => { const f = document.querySelector('iframe');"
                 " const d = f && f.contentDocument;"
                 " if (!d || d.readyState !== 'complete') return 0;"
                 " return [...d.querySelectorAll('.leaflet-overlay-pane canvas, "
                 ".leaflet-marker-pane *, .leaflet-overlay-pane svg')]"
                 ".filter(c => c.width || c.getBoundingClientRect().width).length; })()")
        n = 0
        while time.perf_counter() - t0 < timeout_s:
            n = b.eval(drawn) or 0
            if n:
                break
            time.sleep(0.05)
        shown = time.perf_counter() - t0
        b.call("Performance.enable")
        metrics = {m["name"]: m["value"] for m in b.call("Performance.getMetrics")["metrics"]}
        errors = b.errors()
    return {"load_s": round(load, 2), "map_s": round(shown, 2), "drawn": bool(n),
            "js_heap_mb": round(metrics.get("JSHeapUsedSize", 0) / 1e6, 1),
            "errors": len(errors)}


def run(n_nodes: int) -> None:
    import careplan.report as report
    from careplan.report.maps import map_reductions, merged_service_area_tolerance_m

    plan = city_plan(n_nodes)
    edges = 0 if plan.network_edges is None else len(plan.network_edges)
    print(f"{n_nodes:>8} nodes: {len(plan.areas)} estates, {edges} street edges, "
          f"{len(plan.service_areas)} service areas, {len(plan.proposed)} stations")
    print(f"          map reductions: {map_reductions(plan) or 'none'}; merged service "
          f"areas simplified to {merged_service_area_tolerance_m(plan):.0f} m if merged")
    with tempfile.TemporaryDirectory() as d:
        t = time.perf_counter()
        path = report.write_html(plan, Path(d) / "report.html", lang="zh")
        tw = time.perf_counter() - t
        size = path.stat().st_size / 1e6
        times = browser_times(path)
    print(f"          report.html {size:.2f} MB, written in {tw:.1f} s; browser: {times}")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sizes", default="10k,100k", help="street nodes, e.g. 10k,100k")
    ap.add_argument("--html", help="measure this report.html in the browser instead")
    args = ap.parse_args()
    warnings.simplefilter("ignore")
    if args.html:
        p = Path(args.html)
        print(f"{p}: {p.stat().st_size / 1e6:.2f} MB; browser: {browser_times(p)}")
        return
    for s in args.sizes.split(","):
        run(_size(s))


if __name__ == "__main__":
    main()
