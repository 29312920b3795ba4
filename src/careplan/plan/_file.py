"""Plans from TOML config files: ``careplan plan config.toml``.

A config has three tables: ``[inputs]`` (one sub-table, or a plain path, per input:
``areas``, ``facilities``, ``candidates``, ``network``), ``[plan]`` (the fields of
:class:`~careplan.plan.PlanConfig`) and ``[output]`` (``dir``). The whole config is
checked against one schema before any work; every path resolves against the config
file's folder.
"""

from __future__ import annotations

import tomllib
from pathlib import Path
from typing import Any

from careplan._errors import InputError

__all__ = ["plan_from_config", "read_config"]

_INPUT_KEYS = {"areas", "areas_layer", "facilities", "facilities_layer", "candidates",
               "candidates_layer", "network", "coord_system"}


def read_config(path: str | Path) -> dict[str, Any]:
    """Read and check a plan config (see the module docs)."""
    from careplan.plan._config import PlanConfig

    path = Path(path)
    if not path.is_file():
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
    opts = dict(cfg.get("plan", {}))
    std = opts.get("standard")
    if isinstance(std, str) and std.endswith(".toml"):
        opts["standard"] = _resolve(path.resolve().parent, std)
    cfg["plan"] = PlanConfig.from_mapping(opts, where="[plan]")
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

    Parameters
    ----------
    path : str or Path
        The config (see ``examples/plan.toml`` and ``careplan plan --keys``).
    out : str or Path, optional
        Output folder; overrides ``[output] dir``.
    verbose : bool, optional
        Progress bars.

    Returns
    -------
    (LayoutPlan, Path)
        The plan and the output directory it should be written to.

    Raises
    ------
    CareplanError
        A bad config (the message names the key), a missing or bad input file.
    """
    import careplan as cp
    from careplan.plan._pipeline import plan_layout

    path = Path(path)
    cfg = read_config(path)
    base = path.resolve().parent
    inp = cfg["inputs"]
    cs = inp.get("coord_system", "wgs84")
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
    plan = plan_layout(areas, facs, cands, net, config=cfg["plan"], verbose=verbose)
    out_dir = Path(out) if out else base / cfg.get("output", {}).get("dir", "careplan-out")
    return plan, out_dir
