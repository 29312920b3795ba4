"""batch_from_config: a batch described by a TOML file (``careplan batch``)."""

from __future__ import annotations

import os
import tomllib
from pathlib import Path
from typing import Any

import geopandas as gpd

from careplan._errors import CRSError, InputError
from careplan.batch._api import _plan_config, plan_districts
from careplan.batch._districts import INPUT_KEYS, districts_from_grid
from careplan.batch._run import _file_path
from careplan.batch._summary import BatchResult

_BATCH_KEYS = {"halo_m", "n_workers", "scheduler", "processes", "resume"}
_DISTRICTS_KEYS = {"file", "layer", "id_col", "name_col", "grid"}


def batch_from_config(path: str | os.PathLike, *, out: str | os.PathLike | None = None,
                      scheduler: str | None = None, n_workers: int | None = None,
                      resume: bool | None = None, verbose: bool | None = None) -> BatchResult:
    """Run :func:`plan_districts` as described by a TOML file (``careplan batch``).

    The file reuses the sections of ``careplan plan``'s config (``[inputs]``,
    ``[plan]``, ``[output]``) and adds ``[districts]`` (``file`` + ``layer``,
    ``id_col``, ``name_col``: a polygon layer; or ``grid = [rows, cols]`` over the
    areas), ``[[district]]`` entries with their own ``inputs`` (planned whole) and
    ``[batch]`` (``halo_m``, ``n_workers``, ``scheduler``, ``processes``,
    ``resume``). See ``examples/province.toml``. Paths are relative to the file.

    Parameters
    ----------
    path : path-like
        The TOML file.
    out : path-like, optional
        Output directory; overrides the file's ``[output] dir``.
    scheduler : str, optional
        Scheduler address (``tcp://host:8786``); overrides ``[batch] scheduler``.
    n_workers : int, optional
        LocalCluster workers; overrides ``[batch] n_workers``.
    resume : bool, optional
        Overrides ``[batch] resume`` (see :func:`plan_districts`).
    verbose : bool, optional
        Progress bar of districts (default: unless careplan is quiet).

    Returns
    -------
    BatchResult

    Raises
    ------
    InputError
        A missing or malformed config, unknown keys, missing files.
    """
    path = Path(path)
    cfg = _read_toml(path)
    base = path.resolve().parent
    inp = _section(cfg, "inputs", set(INPUT_KEYS), list(INPUT_KEYS))
    bcfg = _section(cfg, "batch", _BATCH_KEYS, sorted(_BATCH_KEYS))
    dcfg = _section(cfg, "districts", _DISTRICTS_KEYS, sorted(_DISTRICTS_KEYS))
    extra = cfg.get("district", [])
    if not isinstance(extra, list):
        raise InputError("config: districts with their own inputs are [[district]] tables")
    opts = dict(cfg.get("plan", {}))
    std = opts.get("standard")
    if isinstance(std, str) and std.endswith(".toml") and not Path(std).is_absolute():
        opts["standard"] = base / std
    plan_cfg = _plan_config(None, opts, where="[plan]")
    net, areas, facs, cands = _read_inputs(inp, base)
    boundaries = None
    id_col = dcfg.get("id_col", "district_id")
    if dcfg:
        if net is None or areas is None or facs is None:
            raise InputError("config [districts] cuts the province-wide inputs: [inputs] needs "
                             "network, areas and facilities")
        boundaries = _boundaries(dcfg, areas, net, base)
        if "grid" in dcfg:
            id_col = "district_id"
    elif not extra:
        raise InputError("config: give [districts] (a boundary file or a grid) or "
                         "[[district]] entries")
    for d in extra:
        if not isinstance(d, dict):
            raise InputError("config: each [[district]] must be a table")
        bad = set(d) - {"id", "name", "inputs"}
        if bad:
            raise InputError(f"config [[district]] {d.get('id')!r}: unknown key(s) "
                             f"{sorted(bad)}; allowed: id, name, inputs")
    out_dir = Path(out) if out else base / cfg.get("output", {}).get("dir", "careplan-batch")
    resume = bcfg.get("resume", True) if resume is None else resume
    return plan_districts(
        boundaries, areas, facs, cands, net, out=out_dir, id_col=id_col,
        name_col=dcfg.get("name_col", "name"), halo_m=bcfg.get("halo_m"),
        extra_districts=extra, scheduler=scheduler or bcfg.get("scheduler"),
        n_workers=n_workers or bcfg.get("n_workers"),
        processes=bool(bcfg.get("processes", True)), resume=bool(resume), verbose=verbose,
        config=plan_cfg, _base=base)


def _read_toml(path: Path) -> dict:
    """The config as a dict; InputError when missing, not TOML or with unknown sections."""
    if not path.is_file():
        raise InputError(f"config file {str(path)!r} does not exist")
    try:
        cfg = tomllib.loads(path.read_text(encoding="utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise InputError(f"config {str(path)!r} is not valid TOML: {exc}") from exc
    unknown = set(cfg) - {"inputs", "plan", "output", "districts", "district", "batch"}
    if unknown:
        raise InputError(f"config {str(path)!r}: unknown section(s) {sorted(unknown)}; use "
                         "[inputs], [plan], [districts], [[district]], [batch] and [output]")
    return cfg


def _section(cfg: dict, name: str, keys: set, allowed: list) -> dict:
    """The ``[name]`` table of the config (empty when absent); InputError on unknown keys."""
    sec = dict(cfg.get(name, {}))
    bad = set(sec) - keys
    if bad:
        raise InputError(f"config [{name}]: unknown key(s) {sorted(bad)}; allowed: {allowed}")
    return sec


def _read_inputs(inp: dict, base: Path) -> tuple:
    """(network, areas, facilities, candidates) of ``[inputs]``, read as ``careplan plan`` reads them.

    Both styles of ``careplan plan``'s ``[inputs]`` work: a table per input
    (``[inputs.areas] path = ... layer = ...``) and a plain path (``areas = "..."``, with
    the older ``areas_layer = "..."``). The specs are checked and read by
    :mod:`careplan.plan._file` (so errors name the file and the config key). Nothing is
    read without a network (each is then None); files are relative to ``base``.
    """
    from types import SimpleNamespace

    from careplan.plan import _file

    inp = dict(inp)
    if "network" not in inp:
        return None, None, None, None
    keys = _file.config_keys()
    shared = {"coord_system": inp.pop("coord_system")} if "coord_system" in inp else {}
    for name in ("areas", "facilities", "candidates"):  # flat style: areas_layer = "..."
        layer = inp.pop(f"{name}_layer", None)
        if layer is None:
            continue
        if not isinstance(inp.get(name), str):
            raise InputError(f"config [inputs] {name}_layer goes with a plain path "
                             f"({name} = \"file.gpkg\"); in a table [inputs.{name}] write "
                             "layer = ... inside it")
        inp[name] = {"path": inp[name], "layer": layer}
    specs = {}
    for name in ("areas", "facilities", "candidates", "network"):
        if name in inp:
            sec = {k.name: k for k in keys if k.section == f"inputs.{name}"}
            specs[name] = _file._input(name, inp[name], shared, sec, base)
    data = _file._read_inputs(SimpleNamespace(inputs=specs))
    net_spec = specs["network"]
    with _file._ConfigTerms("inputs.network", net_spec.path):
        net = _file._builders()["network"](net_spec.path, **net_spec.options)
    out = [net]
    for name in ("areas", "facilities", "candidates"):
        g = data.get(name)
        if g is not None and g.crs is not None and not g.crs.equals(net.crs):
            g = g.to_crs(net.crs)
        out.append(g)
    return tuple(out)


def _boundaries(dcfg: dict, areas: gpd.GeoDataFrame, net: Any, base: Path) -> gpd.GeoDataFrame:
    """The district polygons of ``[districts]``: a grid over the areas or a polygon layer."""
    if "grid" in dcfg:
        grid = dcfg["grid"]
        if not (isinstance(grid, list) and len(grid) == 2):
            raise InputError(f"config [districts].grid must be [rows, cols], got {grid!r}")
        return districts_from_grid(areas, *grid)
    if "file" in dcfg:
        boundaries = gpd.read_file(_file_path(base, dcfg["file"], "[inputs]"),
                                   layer=dcfg.get("layer"))
        if boundaries.crs is None:
            raise CRSError(f"district boundaries {dcfg['file']!r} have no CRS; set one")
        return boundaries.to_crs(net.crs)
    raise InputError("config [districts] needs file = \"...\" (a polygon layer) or "
                     "grid = [rows, cols]")
