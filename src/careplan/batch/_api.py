"""plan_districts: many districts planned as independent tasks on dask.distributed."""

from __future__ import annotations

import os
import sys
import warnings
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np

from careplan._errors import CareplanWarning, InputError
from careplan.batch._districts import INPUT_KEYS, _check_boundaries, _Shared
from careplan.batch._run import _dir_names, _fingerprint, _load_done, _run, _Task
from careplan.batch._summary import BatchResult, _summarise
from careplan.batch._timing import batch_timing


def _plan_config(config: Any, options: Mapping[str, Any], where: str = ""):
    """The plan options of every district as one checked PlanConfig."""
    from careplan.plan import PlanConfig

    if config is None:
        return PlanConfig.from_mapping(options, where=where)
    if not isinstance(config, PlanConfig):
        raise InputError(f"config must be a careplan.plan.PlanConfig, got "
                         f"{type(config).__name__}")
    return config.replace(**options) if options else config


def _cutoff_m(config: Any) -> float:
    """The walking cutoff plan_layout uses with this config (metres)."""
    from careplan.coverage import walking_circle
    from careplan.standards import load as load_standard

    return float(walking_circle(load_standard(config.standard), minutes=config.minutes,
                                speed_m_per_min=config.speed_m_per_min,
                                cutoff_m=config.cutoff_m).cutoff_m)


def plan_districts(
    boundaries: gpd.GeoDataFrame | None,
    areas: gpd.GeoDataFrame | None,
    facilities: gpd.GeoDataFrame | None,
    candidates: gpd.GeoDataFrame | None,
    network: Any,
    *,
    out: str | os.PathLike,
    id_col: str = "district_id",
    name_col: str | None = "name",
    halo_m: float | None = None,
    extra_districts: Sequence[Mapping[str, Any]] = (),
    scheduler: str | Any | None = None,
    n_workers: int | None = None,
    processes: bool = True,
    resume: bool = True,
    verbose: bool | None = None,
    config: Any = None,
    _base: str | os.PathLike = ".",
    **plan_options: Any,
) -> BatchResult:
    """Plan many districts as independent tasks on ``dask.distributed``.

    Each district is planned by :func:`careplan.plan_layout` on its own inputs
    (its estates, the facilities within its halo, its candidate sites and the
    streets within its halo: see the module docstring for the rule), and written
    to ``out/districts/<id>/``; then the provincial summary is written.

    Parameters
    ----------
    boundaries : GeoDataFrame or None
        District polygons with ``id_col`` (and optionally ``name_col``), in the
        network's CRS; order decides estates on a shared border.
        :func:`districts_from_grid` cuts a grid. None: only ``extra_districts``.
    id_col : str, default 'district_id'
        Column of ``boundaries`` with the district ids.
    name_col : str or None, default 'name'
        Column of ``boundaries`` with display names; None or absent: the ids.
    areas, facilities, candidates : GeoDataFrame
        Province-wide inputs (careplan's readers, the network's CRS); candidates
        may be None (plan_layout's default: a site inside every estate).
    network : WalkNetwork
        Province-wide walking network.
    out : path
        Output directory (on a real cluster: a file system every worker sees).
    halo_m : float, optional
        Halo width in metres; default = the walking cutoff implied by
        ``plan_options`` (``cutoff_m`` or minutes x speed of the standard). A
        smaller halo raises: estates near the boundary would lose facilities
        across it.
    extra_districts : sequence of dict
        Districts with their own inputs: ``{"id": ..., "name": ..., "inputs":
        {"areas": path-or-GeoDataFrame, "network": ..., ...}}`` (keys as in the
        ``[inputs]`` of ``careplan plan``; missing ones fall back to the
        province-wide inputs). Each is planned whole (no boundary, no halo).
    scheduler : str or distributed.Client, optional
        A scheduler address (``tcp://host:8786``) or a Client; default: a
        LocalCluster on this machine, closed at the end.
    n_workers : int, optional
        LocalCluster workers (default: min(districts, CPU cores)), one thread each
        (careplan's own thread pools too: ``CAREPLAN_THREADS=1`` in the workers).
    processes : bool, default True
        LocalCluster workers as processes (False: threads of this process).
    resume : bool, default True
        Skip districts whose outputs and record from an earlier run exist and whose
        inputs and options are unchanged (key in ``out/status/<id>.json``).
    verbose : bool, optional
        Progress bar of districts done/failed (default: on a terminal unless
        careplan is quiet).
    config : careplan.plan.PlanConfig, optional
        The plan options of every district; ``plan_options`` override its fields.
    **plan_options
        Keyword options of :func:`careplan.plan_layout` (fields of
        :class:`careplan.plan.PlanConfig`: ``standard``, ``p``, ``cutoff_m``,
        ``minutes``, ``lang`` ...), the same for every district.

    Returns
    -------
    BatchResult

    Raises
    ------
    CareplanError
        Bad shared inputs or options (before any task runs). A district that fails
        does not raise: it is reported in ``BatchResult.districts`` (status, error)
        and in ``index.html``, and the others go on.
    """
    from careplan._progress import is_quiet

    options = _plan_config(config, plan_options)
    halo_m = _halo_m(options, halo_m)
    out = Path(out)
    shared = None
    specs: list[tuple] = []  # id, name, boundary geometry or None, clip, own inputs
    unassigned: list = []
    unassigned_fac: list = []
    shared_fp = _fingerprint(areas, facilities, candidates, network)
    if boundaries is not None:
        if network is None or areas is None or facilities is None:
            raise InputError("district boundaries need province-wide areas, facilities and "
                             "network to cut from")
        b = _check_boundaries(boundaries, id_col, network.crs)
        shared = _Shared.build(b, areas, facilities, candidates, network)
        unassigned = list(areas.index[shared.area_owner < 0])
        unassigned_fac = list(facilities.index[shared.facility_owner < 0])
        if unassigned:
            warnings.warn(f"{len(unassigned)} area(s) lie in no district boundary and are not "
                          f"planned: {', '.join(map(str, unassigned[:10]))}"
                          f"{' ...' if len(unassigned) > 10 else ''}", CareplanWarning,
                          stacklevel=2)
        names = b[name_col].astype(str) if name_col and name_col in b.columns else b.index
        for did, name, geom in zip(b.index, names, b.geometry, strict=True):
            specs.append((str(did), str(name), geom, True, {}))
    elif network is not None or areas is not None:
        shared = _Shared(areas=areas, facilities=facilities, candidates=candidates,
                         network=network)
    specs += _extra_specs(extra_districts, _base)
    tasks = _tasks_of(specs, shared_fp, halo_m, options, out, _base,
                      _work_sizes(shared, len(specs)))
    records, todo = _reused(tasks, out, resume)
    show = (not is_quiet()) if verbose is None else bool(verbose)
    timing = batch_timing([], wall_s=0.0)
    if todo:
        ran, timing = _run(todo, shared, scheduler=scheduler, n_workers=n_workers,
                           processes=processes, show=show, n_reused=len(tasks) - len(todo),
                           tty_only=verbose is None)
        records.update(ran)
    geoms = {}
    if boundaries is not None:
        wgs = gpd.GeoSeries([s[2] for s in specs if s[3]], crs=network.crs).to_crs(4326)
        geoms = dict(zip([s[0] for s in specs if s[3]], wgs, strict=True))
    return _summarise(tasks, records, geoms, unassigned, unassigned_fac, out, options,
                      timing)


def _halo_m(options: Any, halo_m: float | None) -> float:
    """The halo width in metres: the walking cutoff by default, never less."""
    cutoff = _cutoff_m(options)
    if halo_m is None:
        halo_m = cutoff
    halo_m = float(halo_m)
    if not halo_m >= cutoff:
        raise InputError(f"halo_m={halo_m:g} is smaller than the walking cutoff {cutoff:g} m: "
                         "estates near a district boundary would miss facilities across it; "
                         "leave halo_m unset (= the cutoff) or give at least the cutoff")
    return halo_m


def _extra_specs(extra_districts: Sequence[Mapping[str, Any]], base: str | os.PathLike
                 ) -> list[tuple]:
    """(id, name, None, False, own inputs) of each district with its own inputs."""
    specs = []
    for d in extra_districts:
        if "id" not in d:
            raise InputError(f"every extra district needs an 'id', got {dict(d)!r}")
        ov = dict(d.get("inputs", {}))
        bad = set(ov) - set(INPUT_KEYS)
        if bad:
            raise InputError(f"district {d['id']!r}: unknown input key(s) {sorted(bad)}; "
                             f"allowed: {list(INPUT_KEYS)}")
        for k in ("areas", "facilities", "candidates", "network"):
            if isinstance(ov.get(k), str | os.PathLike) and not Path(ov[k]).is_absolute():
                ov[k] = str(Path(base).resolve() / ov[k])
        specs.append((str(d["id"]), str(d.get("name", d["id"])), None, False, ov))
    return specs


def _work_sizes(shared: _Shared | None, n_specs: int) -> list[int]:
    """Estimated work of each district spec: its estates + candidate sites.

    Districts with their own inputs (not read yet) get the largest size, so they start
    first: they are whole cities read from files.
    """
    sizes = [sys.maxsize] * n_specs
    if shared is not None and shared.area_owner is not None:
        k = len(shared.boundaries)
        n = np.bincount(shared.area_owner[shared.area_owner >= 0], minlength=k)
        if shared.candidate_owner is not None:
            n = n + np.bincount(shared.candidate_owner[shared.candidate_owner >= 0],
                                minlength=k)
        sizes[:k] = [int(v) for v in n]
    return sizes


def _tasks_of(specs: list[tuple], shared_fp: str, halo_m: float, options: Any, out: Path,
              base: str | os.PathLike, sizes: Sequence[int]) -> list[_Task]:
    """One task per district spec, keyed by everything its plan depends on."""
    if not specs:
        raise InputError("no districts to plan: give boundaries (or a grid) or districts "
                         "with their own inputs")
    ids = [s[0] for s in specs]
    dup = sorted({i for i in ids if ids.count(i) > 1})
    if dup:
        raise InputError(f"district ids must be unique; repeated: {dup[:10]}")
    tasks = []
    for (did, name, geom, clip, ov), dname, size in zip(specs, _dir_names(ids), sizes,
                                                        strict=True):
        key = _fingerprint(shared_fp, did, geom, halo_m, options.parameters(),
                           {k: _fingerprint(v) for k, v in ov.items()})
        tasks.append(_Task(district_id=did, name=name, dir_name=dname, key=key,
                           out=str(out.resolve()), options=options, halo_m=halo_m, clip=clip,
                           overrides=ov, base=str(Path(base).resolve()), size=size))
    return tasks


def _reused(tasks: list[_Task], out: Path, resume: bool) -> tuple[dict[str, dict], list[_Task]]:
    """Records of the districts an earlier run finished (resume) and the tasks left to run."""
    records: dict[str, dict] = {}
    todo = []
    for t in tasks:
        rec = _load_done(out, t) if resume else None
        if rec is not None:
            rec["reused"] = True
            records[t.district_id] = rec
        else:
            todo.append(t)
    return records, todo
