"""The ``careplan`` command.

``careplan demo``                  whole plan on the bundled sample -> ./careplan-demo/
``careplan plan config.toml``      a plan from a config file (see examples/plan.toml)
``careplan batch province.toml``   many districts on dask.distributed (see examples/province.toml)
``careplan check ...``             floor-area / network compliance only
``careplan standards [NAME]``      list profiles, or show one profile's rules

Bad input ends with a one-line message on stderr and exit status 2; outputs are
written atomically, so a failed run never damages an earlier good one.
"""

from __future__ import annotations

import argparse
import sys
import warnings
from collections.abc import Callable, Sequence
from contextlib import contextmanager
from pathlib import Path

from careplan._errors import CareplanError, InputError

__all__ = ["main"]


def __getattr__(name: str):
    if name == "plan_from_config":  # moved to careplan.plan
        warnings.warn("careplan.cli.plan_from_config moved to careplan.plan.plan_from_config",
                      DeprecationWarning, stacklevel=2)
        from careplan.plan import plan_from_config

        return plan_from_config
    raise AttributeError(f"module 'careplan.cli' has no attribute {name!r}")

def _fail(msg: str) -> int:
    from careplan.report.escape import terminal_text

    print(f"careplan: error: {terminal_text(msg)}", file=sys.stderr)
    return 2


def _print_plan(plan, out_dir: Path, files: dict) -> None:
    from careplan.report.console import print_plan

    print_plan(plan, out_dir, files)


def _cmd_demo(args) -> int:
    import careplan as cp

    sample = cp.datasets.load_sample()
    from careplan.report.console import echo, print_table

    echo(f"careplan demo: {sample.description}")
    net = cp.WalkNetwork.from_file(sample.network_path)
    plan = cp.plan_layout(sample.areas, sample.facilities, sample.candidates, net,
                          standard=args.standard, lang=args.lang, p=args.p,
                          verbose=False if args.quiet else None)
    print()
    echo("Compliance (before any new station):")
    from careplan.report.tables import rules_frame

    # formatted like the "after" table and the report (shares as %, the circle as a share)
    print_table(rules_frame(plan.rules_before, "en"), ["rule_id", "required", "found",
                                                        "passed"])
    out = Path(args.out)
    files = plan.to_file(out, lang=args.lang)
    print()
    _print_plan(plan, out, files)
    return 0


def _cmd_plan(args) -> int:
    from careplan.plan import plan_from_config
    from careplan.plan._file import keys_text

    if args.keys:
        print(keys_text())
        return 0
    if args.config is None:
        raise InputError("careplan plan needs a config file: careplan plan config.toml "
                         "(careplan plan --keys lists its keys; see examples/plan.toml)")
    plan, out = plan_from_config(args.config, out=args.out, verbose=False if args.quiet else None)
    files = plan.to_file(out)
    _print_plan(plan, out, files)
    return 0


def _batch_total(d):
    """The province's total row (a one-row DataFrame) of the districts table (tester's
    finding 10): sums of the counts, shares as covered households over households, of the
    districts done."""
    import pandas as pd

    done = d[d["status"] == "done"] if "status" in d.columns else d
    row = {"district_id": "total", "status": f"{len(done)} of {len(d)} done",
           "reused": ""}
    for c in ("n_areas", "new_stations_after"):
        if c in d.columns:
            row[c] = pd.to_numeric(done[c], errors="coerce").sum()
    for k in ("before", "after"):
        num, den = f"households_covered_{k}", f"households_{k}"
        if {num, den} <= set(d.columns):
            tot = pd.to_numeric(done[den], errors="coerce").sum()
            row[f"households_covered_share_{k}"] = (
                pd.to_numeric(done[num], errors="coerce").sum() / tot if tot else float("nan"))
    return pd.DataFrame([row])


def _cmd_batch(args) -> int:
    from careplan.batch import batch_from_config

    with _dask_logs(shown=args.verbose):
        res = batch_from_config(args.config, out=args.out, scheduler=args.scheduler,
                                n_workers=args.workers, resume=False if args.no_resume else None,
                                verbose=False if args.quiet else None)
    d = res.districts
    cols = [c for c in ("district_id", "status", "reused", "n_areas",
                        "households_covered_share_before", "households_covered_share_after",
                        "new_stations_after") if c in d.columns]
    import pandas as pd

    from careplan.report.console import echo, print_table
    from careplan.report.format import fmt_percent

    shown = pd.concat([d, _batch_total(d)], ignore_index=True)
    for c in cols:  # shares as % like careplan plan's tables (tester's finding 10)
        if "share" in c:
            shown[c] = [fmt_percent(v) for v in shown[c]]
    print_table(shown, cols)
    print()
    echo(f"wrote {res.out}/ (index.html, province.gpkg, province.xlsx, districts/)")
    print("Map data © OpenStreetMap contributors (ODbL).")
    failed = res.failed
    if len(failed):
        for _, r in failed.iterrows():
            echo(f"district {r['district_id']} failed: {r['error']}", file=sys.stderr)
        raise InputError(f"{len(failed)} of {len(d)} districts failed "
                         f"({', '.join(map(str, failed['district_id'][:5]))}); the others were "
                         f"written; see {res.out}/index.html, fix and re-run to resume")
    return 0


@contextmanager
def _dask_logs(shown: bool = False):
    """Keep Dask's own log lines (``distributed.nanny - WARNING - Worker process still
    alive after 4.0 seconds, killing``, ...) off the terminal during a batch run: the
    ``distributed`` loggers of this process, and of the worker processes it spawns
    (through Dask's ``DASK_LOGGING__DISTRIBUTED`` setting, read when a worker imports
    distributed), show ERROR and above only. ``shown=True`` (``--verbose``) leaves them."""
    if shown:
        yield
        return
    import logging
    import os

    names = ("distributed", "distributed.nanny", "distributed.scheduler", "distributed.worker",
             "distributed.core", "distributed.comm", "distributed.deploy", "tornado")
    levels = {n: logging.getLogger(n).level for n in names}
    env = os.environ.get("DASK_LOGGING__DISTRIBUTED")
    os.environ["DASK_LOGGING__DISTRIBUTED"] = "error"
    for n in names:
        logging.getLogger(n).setLevel(logging.ERROR)
    try:
        yield
    finally:
        for n, level in levels.items():
            logging.getLogger(n).setLevel(level)
        if env is None:
            os.environ.pop("DASK_LOGGING__DISTRIBUTED", None)
        else:
            os.environ["DASK_LOGGING__DISTRIBUTED"] = env


@contextmanager
def _reading(path, section: str, read=None, options: dict | None = None):
    """Re-raise a reader's CareplanError for a command-line user, as ``careplan plan``
    does (:class:`careplan.plan._file._ConfigTerms`): the file named, the columns it has
    when one is missing, Python-only hints with their config keys, and its warnings without
    Python-only advice (``pass crs= to choose``). ``careplan check`` has no option for
    those keys: the message says they go in a ``careplan plan`` config."""
    from careplan.plan._file import _ConfigTerms

    try:
        with _ConfigTerms(section, None if path is None else Path(path), read, options):
            yield
    except CareplanError as exc:
        msg = str(exc)
        if f"[{section}]" in msg:
            msg = msg.rstrip() + (f" ([{section}] keys go in a careplan plan config; "
                                  "careplan plan --keys lists them)")
        raise type(exc)(msg) from exc.__cause__


def _cmd_check(args) -> int:
    import careplan as cp

    opts = {"layer": args.areas_layer, "sheet": args.sheet, "encoding": args.encoding}
    with _reading(args.areas, "inputs.areas", cp.read_areas, opts):
        areas = cp.read_areas(args.areas, **opts)
    with _reading(args.facilities, "inputs.facilities"):
        facs = cp.read_facilities(args.facilities, layer=args.facilities_layer,
                                  sheet=args.facilities_sheet,
                                  encoding=args.facilities_encoding or args.encoding,
                                  crs=areas.crs)
    # (args.facilities None: no facilities yet, an empty frame in the areas' CRS)
    rep = cp.compliance.check(areas, facs, standard=args.standard)
    lab = "label_zh" if args.lang == "zh" else "label_en"
    from careplan.report import write_compliance_excel
    from careplan.report.console import echo, print_table

    print_table(rep.rules, ["rule_id", lab, "required", "found", "passed"], args.lang)
    if args.out:
        out = Path(args.out)
        out.parent.mkdir(parents=True, exist_ok=True)
        write_compliance_excel(rep, out, lang=args.lang)
        echo(f"wrote {out}")
    return 0


def _cmd_standards(args) -> int:
    import careplan as cp
    from careplan.report.console import echo, print_table
    from careplan.report.escape import terminal_text

    if args.name:
        std = cp.standards.load(args.name)
        echo(f"{std.name}: {std.title}")
        print_table(std.to_frame(), ["rule_id", "value", "unit", "label_en"])
    else:
        for name in cp.standards.available():
            print(f"{terminal_text(name)}\t{terminal_text(cp.standards.load(name).title)}")
    return 0


_STANDARD_HELP = ("policy profile: a name from `careplan standards` or a path to your own "
                  ".toml (default: jinwan-2020)")
_LANG_HELP = "language of tables and reports: zh (Chinese) or en (English)"
_QUIET_HELP = ("no progress bars (and, for batch, no Dask log lines); warnings about the data "
               "and errors still print")


def _parser() -> argparse.ArgumentParser:
    ap = argparse.ArgumentParser(prog="careplan", description=__doc__.split("\n")[0])
    sub = ap.add_subparsers(dest="cmd", required=True)
    d = sub.add_parser("demo", help="run the whole plan on the bundled sample")
    d.add_argument("--out", default="careplan-demo",
                   help="output directory (default: ./careplan-demo)")
    d.add_argument("--standard", default="jinwan-2020", help=_STANDARD_HELP)
    d.add_argument("--lang", choices=("zh", "en"), default="zh", help=_LANG_HELP + " (default: zh)")
    d.add_argument("--p", type=int, default=None,
                   help="budget of new stations (default: as many as needed)")
    d.add_argument("-q", "--quiet", action="store_true", help=_QUIET_HELP)
    d.set_defaults(func=_cmd_demo)
    p = sub.add_parser("plan", help="run a plan from a TOML config",
                       formatter_class=argparse.RawDescriptionHelpFormatter,
                       description="Run a layout plan from a TOML config (see examples/plan.toml)."
                       " Paths in the config are relative to its folder.",
                       epilog="config keys ([section] key, type, default, meaning):\n"
                       + _keys_for_help())
    p.add_argument("config", nargs="?", help="the TOML config file")
    p.add_argument("--keys", action="store_true", help="list every config key and exit")
    p.add_argument("--out", default=None, help="output directory (overrides the config)")
    p.add_argument("-q", "--quiet", action="store_true", help=_QUIET_HELP)
    p.set_defaults(func=_cmd_plan)
    b = sub.add_parser("batch", help="plan many districts on dask.distributed")
    b.add_argument("config", help="province TOML (see examples/province.toml)")
    b.add_argument("--out", default=None, help="output directory (overrides the config)")
    b.add_argument("--scheduler", default=None,
                   help="Dask scheduler address tcp://host:port (default: a LocalCluster)")
    b.add_argument("--workers", type=int, default=None, help="LocalCluster workers")
    b.add_argument("--no-resume", action="store_true",
                   help="re-plan districts already done by an earlier run")
    b.add_argument("-q", "--quiet", action="store_true", help=_QUIET_HELP)
    b.add_argument("-v", "--verbose", action="store_true",
                   help="also show Dask's own log lines (workers, nanny, scheduler)")
    b.set_defaults(func=_cmd_batch)
    c = sub.add_parser("check", help="compliance only")
    c.add_argument("--areas", required=True,
                   help="residential areas file (GeoPackage, Shapefile, GeoJSON, CSV or Excel)")
    c.add_argument("--areas-layer", default=None,
                   help="layer of a multi-layer areas file (GeoPackage)")
    c.add_argument("--facilities", default=None,
                   help="existing facilities (leave out when there are none yet)")
    c.add_argument("--facilities-layer", default=None,
                   help="layer of a multi-layer facilities file (GeoPackage)")
    c.add_argument("--sheet", default=None,
                   help="sheet name of an Excel areas file (default: the first with coordinates)")
    c.add_argument("--facilities-sheet", default=None,
                   help="sheet name of an Excel facilities file")
    c.add_argument("--encoding", default=None,
                   help="text encoding of CSV/TXT files and Shapefile .dbf, e.g. gbk, big5, utf-8 "
                   "(default: detected; applies to the facilities too unless --facilities-encoding)")
    c.add_argument("--facilities-encoding", default=None,
                   help="text encoding of the facilities file, when it differs")
    c.add_argument("--standard", default="jinwan-2020", help=_STANDARD_HELP)
    c.add_argument("--lang", choices=("zh", "en"), default="en", help=_LANG_HELP + " (default: en)")
    c.add_argument("--out", default=None, help="write the tables to this .xlsx")
    c.set_defaults(func=_cmd_check)
    s = sub.add_parser("standards", help="list policy profiles or show one")
    s.add_argument("name", nargs="?",
                   help="a profile to show (default: list every profile)")
    s.set_defaults(func=_cmd_standards)
    return ap


def _keys_for_help() -> str:
    try:
        from careplan.plan._file import keys_text

        return keys_text()
    except Exception as exc:  # --help must work even if an optional reader is broken
        return f"(run careplan plan --keys: {exc})"


def _warning_printer() -> Callable[..., None]:
    """A ``warnings.showwarning`` for one run: each warning as one clean line (no source
    line, no file:line), and each distinct text once per run (the same cut-off warning
    comes from every step that snaps points to the network)."""
    from careplan.report.escape import terminal_text

    seen: set[str] = set()

    def show(message, category, filename, lineno, file=None, line=None) -> None:
        text = " ".join(str(message).split()) or category.__name__
        if text in seen:
            return
        seen.add(text)
        print(f"careplan: warning: {terminal_text(text)}", file=file or sys.stderr)

    return show


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``careplan`` command.

    Returns
    -------
    int
        0 on success, 2 on any failure (one line ``careplan: error: ...`` on stderr).
    """
    args = _parser().parse_args(argv)
    if getattr(args, "quiet", False):
        from careplan._progress import set_quiet

        set_quiet(True)
    try:
        with warnings.catch_warnings():
            # -q hides progress bars only: warnings about the data stay (README, --help)
            warnings.showwarning = _warning_printer()
            return int(args.func(args) or 0)
    except CareplanError as exc:
        return _fail(str(exc).splitlines()[0] if str(exc) else type(exc).__name__)
    except (OSError, MemoryError, RecursionError) as exc:
        return _fail(" ".join(str(exc).split()) or type(exc).__name__)
    except KeyboardInterrupt:
        return _fail("interrupted")
    except Exception as exc:  # a bug: still one line and exit 2, details with CAREPLAN_DEBUG=1
        import os

        if os.environ.get("CAREPLAN_DEBUG"):
            raise
        return _fail(f"internal error ({type(exc).__name__}: {' '.join(str(exc).split())}); "
                     "please report it (CAREPLAN_DEBUG=1 shows the traceback)")


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
