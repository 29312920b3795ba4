"""Generate a layout plan from files, step by step, with the public API.

    python examples/plan_from_files.py [--out DIR] [--p N]

Uses the bundled central-Nanjing sample files (data © OpenStreetMap contributors);
point the paths at your own GeoPackage / GeoJSON / CSV files and OSM extract.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import careplan as cp

DATA = Path(cp.datasets.__file__).parent


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", default="careplan-out")
    ap.add_argument("--p", type=int, default=None, help="budget of new stations")
    ap.add_argument("--standard", default="jinwan-2020")
    args = ap.parse_args(argv)

    net = cp.WalkNetwork.from_file(DATA / "nanjing_xuanwu.osm.bz2")
    gpkg = DATA / "sample.gpkg"
    areas = cp.read_areas(gpkg, layer="areas", crs=net.crs)
    facs = cp.read_facilities(gpkg, layer="facilities", crs=net.crs)
    cands = cp.read_candidates(gpkg, layer="candidates", crs=net.crs)

    std = cp.standards.load(args.standard)
    before = cp.compliance.check(areas, facs, standard=std)
    print(before.rules[["rule_id", "required", "found", "passed"]].to_string(index=False))

    plan = cp.plan_layout(areas, facs, cands, net, standard=std, p=args.p)
    print(plan.summary[["label_en", "before", "after"]].to_string(index=False))
    for name, path in plan.to_file(args.out).items():
        print(f"{name}: {path}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
