"""One district as a Dask task: the task, its record, resume (status files) and the run on a cluster."""

from __future__ import annotations

import hashlib
import json
import math
import os
import re
import socket
import time
import traceback
import warnings
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from careplan._errors import CareplanError, InputError
from careplan._threads import default_threads
from careplan.batch._districts import DistrictInputs, _Shared
from careplan.batch._timing import batch_timing
from careplan.report.atomic import atomic_write_bytes

_STATUS_VERSION = 1


@dataclass(frozen=True)
class _Task:
    district_id: str
    name: str
    dir_name: str
    key: str
    out: str
    options: Any  # PlanConfig
    halo_m: float
    clip: bool  # True: cut from the shared inputs by boundary; False: whole inputs
    overrides: dict = field(default_factory=dict)  # per-district inputs (paths or objects)
    base: str = ""  # directory that relative override paths are relative to
    size: int = 0  # estimated work (owned estates + sites): larger districts go first


def _read_override(ov: Mapping[str, Any], base: Path, shared: _Shared | None):
    """Per-district inputs: a path is read with careplan's readers, objects pass through."""
    import careplan as cp

    def path(v):
        return _file_path(base, v, "[[district]] inputs")

    net = ov.get("network", shared.network if shared else None)
    if net is None:
        raise InputError("this district has no network: give [inputs].network or the "
                         "district's own inputs.network")
    if isinstance(net, str | os.PathLike):
        net = cp.WalkNetwork.from_file(path(net))
    cs = ov.get("coord_system", "wgs84")
    out = {"network": net}
    for key, reader in (("areas", cp.read_areas), ("facilities", cp.read_facilities),
                        ("candidates", cp.read_candidates)):
        v = ov.get(key, getattr(shared, key) if shared else None)
        if isinstance(v, str | os.PathLike):
            v = reader(path(v), layer=ov.get(f"{key}_layer"), coord_system=cs, crs=net.crs)
        out[key] = v
    if out["areas"] is None or out["facilities"] is None:
        raise InputError("this district lacks areas or facilities: give them in [inputs] or "
                         "in the district's own inputs")
    return out


def _file_path(base: Path, value: Any, where: str) -> Path:
    """A config path, relative to the config's folder; InputError when missing."""
    p = Path(value) if Path(value).is_absolute() else base / value
    if p.exists():
        return p
    raise InputError(f"config {where}: file {str(p)!r} does not exist (paths in a config are "
                     "relative to the config file's folder)")


class _CutFailed(Exception):
    """The client could not cut this district's inputs (the message says why)."""


@dataclass(frozen=True)
class _Cut:
    """A district's inputs cut on the client (sent with its task), or why the cut failed."""

    inputs: DistrictInputs | None
    error: str = ""
    traceback: str = ""
    warnings: tuple[str, ...] = ()
    cut_s: float = 0.0  # wall seconds of the cut on the client


def _cut(task: _Task, shared: _Shared) -> _Cut:
    """Cut one district's inputs out of the province's (on the client: O(district) bytes
    go to the worker, instead of the whole province to every worker)."""
    t0 = time.perf_counter()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            inp = shared.inputs_of(task.district_id, task.halo_m)
            err = tb = ""
        except Exception as exc:  # reported as the district's failure, like any other
            inp, (err, tb) = None, _error_text(exc)
    return _Cut(inputs=inp, error=err, traceback=tb, warnings=_warning_lines(caught),
                cut_s=round(time.perf_counter() - t0, 3))


def _error_text(exc: BaseException) -> tuple[str, str]:
    """``'Type: first line'`` of an exception, and its traceback unless a CareplanError."""
    msg = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
    text = f"{type(exc).__name__}: {msg}" if msg else type(exc).__name__
    return text, "" if isinstance(exc, CareplanError) else traceback.format_exc(limit=8)


def _warning_lines(caught: Sequence[warnings.WarningMessage]) -> tuple[str, ...]:
    return tuple(sorted({str(w.message).splitlines()[0] for w in caught
                         if issubclass(w.category, UserWarning)}))


def _plan_one(task: _Task, data: _Cut | _Shared | None) -> dict:
    """Plan one district and write its outputs; never raises (errors go in the record).

    ``data``: the district's cut (:func:`_cut`) for a district cut from the province,
    else the province-wide inputs its own inputs fall back to (or None)."""
    import careplan as cp

    t0, c0, u0 = time.perf_counter(), time.process_time(), time.time()
    rec: dict[str, Any] = {"district_id": task.district_id, "name": task.name,
                           "dir": task.dir_name, "key": task.key, "version": _STATUS_VERSION}
    caught: list[warnings.WarningMessage] = []
    phase: dict[str, float] = {}
    cut = data if isinstance(data, _Cut) else None
    try:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            if cut is not None and cut.error:
                raise _CutFailed(cut.error)
            if cut is not None:
                inp = cut.inputs
                args = (inp.areas, inp.facilities, inp.candidates, inp.network)
                n_own = inp.n_facilities_owned
            elif task.clip:  # a _Shared with boundaries: cut here
                inp = data.inputs_of(task.district_id, task.halo_m)
                args = (inp.areas, inp.facilities, inp.candidates, inp.network)
                n_own = inp.n_facilities_owned
            else:
                d = _read_override(task.overrides, Path(task.base), data)
                args = (d["areas"], d["facilities"], d["candidates"], d["network"])
                n_own = len(d["facilities"])
            phase["inputs_s"] = time.perf_counter() - t0
            plan = cp.plan_layout(*args, config=task.options, verbose=False)
            phase["plan_s"] = time.perf_counter() - t0 - sum(phase.values())
            plan.to_file(Path(task.out) / "districts" / task.dir_name)
            phase["write_s"] = time.perf_counter() - t0 - sum(phase.values())
        rec.update(_record_of(plan, args, n_own))
        rec["status"] = "done"
        rec["error"] = ""
    except _CutFailed as exc:
        rec["status"], rec["error"] = "failed", str(exc)
        if cut.traceback:
            rec["traceback"] = cut.traceback
    except Exception as exc:  # a failing district is reported, the others go on
        rec["status"] = "failed"
        rec["error"], tb = _error_text(exc)
        if tb:
            rec["traceback"] = tb
    if cut is not None:
        rec["cut_s"] = cut.cut_s
    rec["warnings"] = sorted(set(_warning_lines(caught)) | set(cut.warnings if cut else ()))
    rec["runtime_s"] = round(time.perf_counter() - t0, 3)
    # CPU seconds of the worker process during the task (one thread per worker), to
    # tell computing from waiting for a core on a shared machine
    rec["cpu_s"] = round(time.process_time() - c0, 3)
    rec.update({k: round(v, 3) for k, v in phase.items()})
    # the task's interval and worker: the batch's overlap and critical path (_timing)
    rec["start_unix_s"], rec["end_unix_s"] = round(u0, 3), round(time.time(), 3)
    rec["worker"] = _worker_name()
    rec["threads"] = default_threads()  # of careplan's pools in this worker (1 per worker)
    if rec["status"] == "done":
        _write_json(Path(task.out) / "status" / f"{task.dir_name}.json", rec)
    return rec


def _record_of(plan, args, n_facilities_owned: int) -> dict:
    areas, facilities, candidates, _net = args
    s = plan.summary.set_index("metric")
    rec: dict[str, Any] = {
        "n_areas": len(plan.areas),
        "n_facilities": int(n_facilities_owned),
        "n_facilities_in_reach": len(facilities),
        "n_candidates": None if candidates is None else len(candidates),
    }
    for m in s.index:
        for when in ("before", "after"):
            v = s.at[m, when]
            rec[f"{m}_{when}"] = None if pd.isna(v) else float(v)
    rec["report"] = "report.html"
    rec["streets"] = _street_rows(plan.areas)
    hull = shapely.convex_hull(shapely.union_all(plan.areas.geometry.to_numpy()))
    rec["hull_wkt_wgs84"] = gpd.GeoSeries([hull], crs=plan.areas.crs).to_crs(4326).iloc[0].wkt
    return rec


def _street_rows(areas: gpd.GeoDataFrame) -> list[dict]:
    """One row per street (``street`` column of the areas); one '' row without it."""
    a = pd.DataFrame(areas.drop(columns=areas.geometry.name))
    key = a["street"].fillna("").astype(str) if "street" in a.columns else pd.Series(
        "", index=a.index)
    hh = a["households"].astype(float)
    rows = []
    for street, idx in a.groupby(key.to_numpy(), sort=True).groups.items():
        g = a.loc[idx]
        h = hh.loc[idx]
        rows.append({
            "street": street, "n_areas": len(g), "households": float(h.sum()),
            "households_covered_before": float(h[g["covered_before"].astype(bool)].sum()),
            "households_covered_after": float(h[g["covered_after"].astype(bool)].sum()),
            "areas_compliant_before": int(g["compliant_before"].fillna(False).astype(bool).sum()),
            "areas_compliant_after": int(g["compliant_after"].fillna(False).astype(bool).sum()),
            "deficit_before_m2": float(g["deficit_before_m2"].astype(float).sum()),
            "deficit_after_m2": float(g["deficit_after_m2"].astype(float).sum()),
        })
    return rows


def _write_json(path: Path, obj: dict) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    text = json.dumps(obj, ensure_ascii=False, indent=1, default=_json_default)
    atomic_write_bytes(path, text.encode("utf-8"))


def _json_default(v):
    if isinstance(v, np.integer):
        return int(v)
    if isinstance(v, np.floating):
        return None if math.isnan(v) else float(v)
    if isinstance(v, np.bool_):
        return bool(v)
    return str(v)




def _dir_names(ids: Sequence[str]) -> list[str]:
    """File-system-safe, unique folder names for district ids (CJK kept)."""
    out, seen = [], set()
    for i in ids:
        name = re.sub(r"[^\w.-]+", "_", str(i)).strip("._") or "district"
        base, n = name, 2
        while name.lower() in seen:
            name, n = f"{base}_{n}", n + 1
        seen.add(name.lower())
        out.append(name)
    return out


def _fingerprint(*parts: Any) -> str:
    h = hashlib.sha256()
    for p in parts:
        if isinstance(p, gpd.GeoDataFrame):
            h.update(pd.util.hash_pandas_object(
                pd.DataFrame(p.drop(columns=p.geometry.name)).astype(str), index=True
            ).to_numpy().tobytes())
            h.update(b"".join(shapely.to_wkb(p.geometry.to_numpy(), hex=False)))
            h.update(str(p.crs).encode())
        elif hasattr(p, "n_edges") and hasattr(p, "weights"):  # WalkNetwork
            h.update(np.asarray(p.weights).tobytes())
            h.update(np.asarray(p.x).tobytes())
            h.update(np.asarray(p.y).tobytes())
        elif isinstance(p, str | os.PathLike) and Path(p).exists():
            st = Path(p).stat()
            h.update(f"{Path(p).resolve()}|{st.st_size}|{st.st_mtime_ns}".encode())
        elif isinstance(p, shapely.Geometry):
            h.update(shapely.to_wkb(p))
        else:
            h.update(json.dumps(p, sort_keys=True, default=str).encode())
        h.update(b"|")
    return h.hexdigest()[:20]


def _load_done(out: Path, task: _Task) -> dict | None:
    p = out / "status" / f"{task.dir_name}.json"
    if not p.is_file() or not (out / "districts" / task.dir_name / "report.html").is_file():
        return None
    try:
        rec = json.loads(p.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError):
        return None
    if rec.get("key") != task.key or rec.get("status") != "done":
        return None
    return rec



def _submit(client: Any, todo: list[_Task], shared: _Shared | None) -> dict:
    """Submit every task, largest first; future -> task.

    A district cut from the province gets its own cut (:func:`_cut`, made here, one at a
    time, while the workers already plan the earlier ones) inside its task: each worker
    receives and holds only its districts' inputs, never the whole province. Districts
    with their own inputs share the province-wide ones (sent once to every worker) only
    when some of them needs it.
    """
    import dask

    base = None
    if shared is not None and any(not t.clip for t in todo):
        base = client.scatter(_Shared(areas=shared.areas, facilities=shared.facilities,
                                      candidates=shared.candidates, network=shared.network),
                              broadcast=True)
    futs = {}
    # the cut is sent with its task on purpose (one district's inputs, once): no warning
    # about "large graphs" for it
    with dask.config.set({"distributed.admin.large-graph-warning-threshold": "2GB"}):
        for t in sorted(todo, key=lambda t: -t.size):  # stable: ties keep the given order
            data = _cut(t, shared) if t.clip else base
            futs[client.submit(_plan_one, t, data, key=f"careplan-{t.dir_name}-{t.key}",
                               pure=False, priority=t.size)] = t
    return futs


#: Environment of LocalCluster worker processes: one thread each, so that n workers use n
#: cores (careplan's own kernel and geometry thread pools, numba, BLAS/OpenMP in numpy,
#: scipy and HiGHS). Dask's nanny already sets the BLAS/OpenMP ones to 1
#: (``distributed.nanny.pre-spawn-environ``); careplan's pools follow CAREPLAN_THREADS.
WORKER_ENV = {"CAREPLAN_THREADS": "1", "NUMBA_NUM_THREADS": "1", "OMP_NUM_THREADS": "1",
              "MKL_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1"}


def _worker_name() -> str:
    """The Dask worker running this code (its address), or host:pid outside a worker."""
    try:
        from distributed import get_worker

        return str(get_worker().address)
    except (ImportError, ValueError):
        return f"{socket.gethostname()}:{os.getpid()}"


def _run(todo: list[_Task], shared: _Shared | None, *, scheduler, n_workers, processes,
         show: bool, n_reused: int, tty_only: bool) -> tuple[dict[str, dict], dict]:
    """Submit the tasks to a Dask cluster; one record per district and the run's timing.

    Tasks go largest first (``_Task.size``, Dask priority) so that the last task to
    finish is a small one (longest-processing-time order). Timing: see ``_timing``.
    """
    from distributed import Client, LocalCluster, as_completed
    from tqdm import tqdm

    t0, c0 = time.perf_counter(), time.process_time()
    cluster = None
    own_client = True
    if scheduler is None:
        n = n_workers or min(len(todo), os.cpu_count() or 1)
        if isinstance(n, bool) or not isinstance(n, int) or n < 1:
            raise InputError(f"n_workers must be an integer >= 1, got {n_workers!r}")
        # no dashboard; the scheduler's small HTTP server (health checks) on a free port, not
        # 8787 (which warned "Port 8787 is already in use" beside any other Dask session)
        cluster = LocalCluster(n_workers=n, threads_per_worker=1, processes=processes,
                               dashboard_address=None,
                               scheduler_kwargs={"dashboard_address": ":0"},
                               **({"env": WORKER_ENV} if processes else {}))
        client = Client(cluster)
    elif isinstance(scheduler, str):
        try:
            client = Client(scheduler, timeout="20s")
        except OSError as exc:
            raise InputError(f"cannot reach the Dask scheduler at {scheduler!r} ({exc}); "
                             "start one with `dask scheduler` or leave --scheduler out") from exc
    else:
        client, own_client = scheduler, False
    records: dict[str, dict] = {}
    timing: dict = {}
    try:
        startup_s = time.perf_counter() - t0
        futs = _submit(client, todo, shared)
        bar = tqdm(total=len(todo), desc="careplan batch", unit="district", leave=False,
                   disable=(None if tty_only else False) if show else True)
        n_fail = 0
        for fut in as_completed(futs):
            t = futs[fut]
            try:
                rec = fut.result()
            except Exception as exc:  # the worker died or the task could not run
                rec = {"district_id": t.district_id, "name": t.name, "dir": t.dir_name,
                       "status": "failed", "error": f"{type(exc).__name__}: {exc}",
                       "warnings": [], "runtime_s": None, "cpu_s": None}
            rec["reused"] = False
            records[t.district_id] = rec
            n_fail += rec["status"] != "done"
            bar.update(1)
            bar.set_postfix(done=len(records) - n_fail + n_reused, failed=n_fail)
        bar.close()
        worker_cpu = client.run(time.process_time) if cluster is not None and processes \
            else None
        timing = batch_timing(records.values(), wall_s=time.perf_counter() - t0,
                              n_workers=len(client.scheduler_info()["workers"]),
                              startup_s=startup_s, worker_cpu_s=worker_cpu,
                              client_cpu_s=time.process_time() - c0)
    finally:
        if own_client:
            client.close()
        if cluster is not None:
            cluster.close()
    return records, timing
