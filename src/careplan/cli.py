"""The ``careplan`` command.

``careplan demo``                  whole plan on the bundled sample -> ./careplan-demo/
``careplan plan config.toml``      a plan from a config file (see examples/plan.toml)
``careplan check ...``             floor-area / network compliance only
``careplan standards [NAME]``      list profiles, or show one profile's rules

Bad input ends with a one-line message on stderr and exit status 2; outputs are
written atomically, so a failed run never damages an earlier good one.
"""

from __future__ import annotations

import argparse
import sys
import tomllib
import warnings
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from careplan._errors import CareplanError, InputError

__all__ = ["main", "plan_from_config"]

_PLAN_OPTIONS = {
    "standard": str, "minutes": (int, float), "speed_m_per_min": (int, float),
    "cutoff_m": (int, float), "p": int, "model": str, "circle_levels": list,
    "min_station_floor_area_m2": (int, float), "max_snap_m": (int, float),
    "time_limit_s": (int, float), "lang": str,
}
_INPUT_KEYS = {"areas", "areas_layer", "facilities", "facilities_layer", "candidates",
               "candidates_layer", "network", "coord_system"}


def _fail(msg: str) -> int:
    print(f"careplan: error: {msg}", file=sys.stderr)
    return 2


def _read_config(path: Path) -> dict[str, Any]:
    if not path.exists():
        raise InputError(f"config file {str(path)!r} does not exist")
    try:
        with path.open("rb") as fh:
            cfg = tomllib.load(fh)
    except tomllib.TOMLDecodeError as exc:
        raise InputError(f"config {str(path)!r} is not valid TOML: {exc}") from exc
    unknown = set(cfg) - {"inputs", "plan", "output"}
    if unknown:
        raise InputError(f"config {str(path)!r}: unknown section(s) {sorted(unknown)}; "
                         "use [inputs], [plan] and [output]")
    inputs = cfg.get("inputs", {})
    bad = set(inputs) - _INPUT_KEYS
    if bad:
        raise InputError(f"config [inputs]: unknown key(s) {sorted(bad)}; allowed: "
                         f"{sorted(_INPUT_KEYS)}")
    for key in ("areas", "facilities", "network"):
        if key not in inputs:
            raise InputError(f"config [inputs] needs '{key}' (a file path)")
    opts = cfg.get("plan", {})
    for k, v in opts.items():
        if k not in _PLAN_OPTIONS:
            raise InputError(f"config [plan]: unknown option {k!r}; allowed: "
                             f"{sorted(_PLAN_OPTIONS)}")
        if isinstance(v, bool) or not isinstance(v, _PLAN_OPTIONS[k]):
            raise InputError(f"config [plan].{k} has a bad value {v!r}")
    return cfg


def _resolve(base: Path, value: str) -> Path:
    p = Path(value)
    p = p if p.is_absolute() else base / p
    if not p.exists():
        raise InputError(f"input file {str(p)!r} does not exist (paths in the config are "
                         "relative to the config file)")
    return p


def plan_from_config(path: str | Path, *, out: str | Path | None = None,
                     verbose: bool | None = None):
    """Run :func:`careplan.plan_layout` as described by a TOML config file.

    Returns
    -------
    (LayoutPlan, Path)
        The plan and the output directory it should be written to.
    """
    import careplan as cp

    path = Path(path)
    cfg = _read_config(path)
    base = path.resolve().parent
    inp = cfg["inputs"]
    opts = dict(cfg.get("plan", {}))
    cs = inp.get("coord_system", "wgs84")
    std = cp.standards.load(opts.pop("standard", "jinwan-2020"))
    net = cp.WalkNetwork.from_file(_resolve(base, inp["network"]))
    areas = cp.read_areas(_resolve(base, inp["areas"]), layer=inp.get("areas_layer"),
                          coord_system=cs, crs=net.crs)
    facs = cp.read_facilities(_resolve(base, inp["facilities"]),
                              layer=inp.get("facilities_layer"), coord_system=cs, crs=net.crs)
    cands = None
    if inp.get("candidates"):
        cands = cp.read_candidates(_resolve(base, inp["candidates"]),
                                   layer=inp.get("candidates_layer"), coord_system=cs,
                                   crs=net.crs)
    plan = cp.plan_layout(areas, facs, cands, net, standard=std, verbose=verbose, **opts)
    out_dir = Path(out) if out else base / cfg.get("output", {}).get("dir", "careplan-out")
    return plan, out_dir


def _print_plan(plan, out_dir: Path, files: dict) -> None:
    import pandas as pd

    with pd.option_context("display.width", 120, "display.max_columns", 10,
                           "display.max_colwidth", 60):
        print("Summary (before -> after):")
        print(plan.summary[["label_en", "before", "after"]].to_string(
            index=False, float_format=lambda v: f"{v:,.3f}".rstrip("0").rstrip(".")))
        print()
        if len(plan.proposed):
            print("Proposed stations:")
            print(plan.proposed.drop(columns="geometry")[
                ["station_id", "kind", "floor_area_m2", "households_served",
                 "n_areas_served"]].to_string(index=False))
            print()
        print("Rules after the plan:")
        print(plan.rules_after[["rule_id", "required", "found", "passed"]]
              .to_string(index=False))
    print(f"\nwrote {len(files)} outputs to {out_dir}/:")
    for name, p in files.items():
        print(f"  {name}: {p}")
    print("Map data © OpenStreetMap contributors (ODbL).")


def _cmd_demo(args) -> int:
    import careplan as cp

    sample = cp.datasets.load_sample()
    print(f"careplan demo: {sample.description}")
    net = cp.WalkNetwork.from_file(sample.network_path)
    plan = cp.plan_layout(sample.areas, sample.facilities, sample.candidates, net,
                          standard=args.standard, lang=args.lang, p=args.p,
                          verbose=False if args.quiet else None)
    print("\nCompliance (before any new station):")
    print(plan.rules_before[["rule_id", "required", "found", "passed"]].to_string(index=False))
    out = Path(args.out)
    files = plan.to_file(out, lang=args.lang)
    print()
    _print_plan(plan, out, files)
    return 0


def _cmd_plan(args) -> int:
    plan, out = plan_from_config(args.config, out=args.out, verbose=False if args.quiet else None)
    files = plan.to_file(out)
    _print_plan(plan, out, files)
    return 0


def _cmd_check(args) -> int:
    import careplan as cp

    areas = cp.read_areas(args.areas, layer=args.areas_layer)
    facs = cp.read_facilities(args.facilities, layer=args.facilities_layer, crs=areas.crs)
    rep = cp.compliance.check(areas, facs, standard=args.standard, lang=args.lang)
    lab = "label_zh" if args.lang == "zh" else "label_en"
    print(rep.rules[["rule_id", lab, "required", "found", "passed"]].to_string(index=False))
    if args.out:
        import pandas as pd

        out = Path(args.out)
        out.parent.mkdir(parents=True, exist_ok=True)
        tmp = out.with_name(out.name + ".tmp")
        with pd.ExcelWriter(tmp, engine="openpyxl") as xw:
            for name, df in rep.to_excel_frames(lang=args.lang).items():
                df.to_excel(xw, sheet_name=name[:31], index=False)
        tmp.replace(out)
        print(f"wrote {out}")
    return 0


def _cmd_standards(args) -> int:
    import careplan as cp

    if args.name:
        std = cp.standards.load(args.name)
        print(f"{std.name}: {std.title}")
        print(std.to_frame()[["rule_id", "value", "unit", "label_en"]].to_string(index=False))
    else:
        for name in cp.standards.available():
            print(f"{name}\t{cp.standards.load(name).title}")
    return 0


def _parser() -> argparse.ArgumentParser:
    ap = argparse.ArgumentParser(prog="careplan", description=__doc__.split("\n")[0])
    sub = ap.add_subparsers(dest="cmd", required=True)
    d = sub.add_parser("demo", help="run the whole plan on the bundled sample")
    d.add_argument("--out", default="careplan-demo")
    d.add_argument("--standard", default="jinwan-2020")
    d.add_argument("--lang", choices=("zh", "en"), default="zh")
    d.add_argument("--p", type=int, default=None, help="budget of new stations")
    d.add_argument("-q", "--quiet", action="store_true")
    d.set_defaults(func=_cmd_demo)
    p = sub.add_parser("plan", help="run a plan from a TOML config")
    p.add_argument("config")
    p.add_argument("--out", default=None, help="output directory (overrides the config)")
    p.add_argument("-q", "--quiet", action="store_true")
    p.set_defaults(func=_cmd_plan)
    c = sub.add_parser("check", help="compliance only")
    c.add_argument("--areas", required=True)
    c.add_argument("--areas-layer", default=None)
    c.add_argument("--facilities", required=True)
    c.add_argument("--facilities-layer", default=None)
    c.add_argument("--standard", default="jinwan-2020")
    c.add_argument("--lang", choices=("zh", "en"), default="en")
    c.add_argument("--out", default=None, help="write the tables to this .xlsx")
    c.set_defaults(func=_cmd_check)
    s = sub.add_parser("standards", help="list policy profiles or show one")
    s.add_argument("name", nargs="?")
    s.set_defaults(func=_cmd_standards)
    return ap


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``careplan`` command."""
    args = _parser().parse_args(argv)
    if getattr(args, "quiet", False):
        from careplan._progress import set_quiet

        set_quiet(True)
    try:
        with warnings.catch_warnings():
            if getattr(args, "quiet", False):
                warnings.simplefilter("ignore")
            return int(args.func(args) or 0)
    except CareplanError as exc:
        return _fail(str(exc).splitlines()[0] if str(exc) else type(exc).__name__)
    except (FileNotFoundError, PermissionError, IsADirectoryError) as exc:
        return _fail(str(exc))


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
