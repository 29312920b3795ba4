"""Where a batch's time went: task intervals, CPU per task and per worker, the speed-up bound.

On a shared machine the wall time of a batch moves with the load, so a speed-up measured
by wall time alone can hide (or invent) parallelism. Each task records its CPU seconds and
its start and end (:func:`careplan.batch._run._plan_one`); from these records this module
derives figures that hold whatever the load:

* ``concurrency``: the mean number of tasks running at once over the tasks' span
  (sum of task wall times / span); 2 workers that truly overlap give close to 2.
* ``critical_path_cpu_s``: the CPU seconds of the busiest worker (the sum of its tasks'
  CPU). With one free core per worker the task part of the batch cannot end sooner.
* ``cpu_speedup_bound``: ``sum_task_cpu_s / critical_path_cpu_s``, the speed-up the
  same assignment of tasks to workers reaches when each worker has a core of its own
  (1.0 for one worker; at most the number of workers).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any


def batch_timing(records: Iterable[Mapping[str, Any]], *, wall_s: float,
                 n_workers: int | None = None, startup_s: float | None = None,
                 worker_cpu_s: Mapping[str, float] | None = None,
                 client_cpu_s: float | None = None) -> dict[str, Any]:
    """Summarise the timing of the tasks a batch ran (reused districts are left out).

    Parameters
    ----------
    records : iterable of mapping
        District records with ``runtime_s``, ``cpu_s`` (seconds), ``start_unix_s``,
        ``end_unix_s`` (seconds since the epoch, the worker's clock) and ``worker``.
        Records without these (reused, or lost with their worker) are skipped.
    wall_s : float
        Wall seconds of the whole run as the caller saw it (cluster start to results).
    n_workers : int, optional
        Workers of the cluster (None when an outside scheduler was given).
    startup_s : float, optional
        Wall seconds to start the cluster and send the shared inputs.
    worker_cpu_s : mapping of str to float, optional
        CPU seconds of each worker process over its life (imports, unpickling, tasks).
    client_cpu_s : float, optional
        CPU seconds of the calling process during the run (for a LocalCluster: the
        scheduler too, which runs in it).

    Returns
    -------
    dict
        ``n_tasks``, ``n_workers``, ``wall_s``, ``startup_s``, ``span_s`` (first task
        start to last task end), ``sum_task_wall_s``, ``sum_task_cpu_s``,
        ``concurrency``, ``busy_cpu_s`` (worker -> CPU seconds of its tasks),
        ``critical_path_cpu_s``, ``cpu_speedup_bound``, ``worker_cpu_s``,
        ``client_cpu_s`` (seconds; None where unknown).
    """
    ran = [r for r in records
           if not r.get("reused") and r.get("start_unix_s") is not None
           and r.get("end_unix_s") is not None and r.get("cpu_s") is not None]
    out: dict[str, Any] = {"n_tasks": len(ran), "n_workers": n_workers,
                           "wall_s": round(float(wall_s), 3),
                           "startup_s": None if startup_s is None else round(startup_s, 3)}
    busy: dict[str, float] = {}
    for r in ran:
        w = str(r.get("worker", ""))
        busy[w] = busy.get(w, 0.0) + float(r["cpu_s"])
    sum_wall = sum(float(r["runtime_s"]) for r in ran)
    sum_cpu = sum(busy.values())
    span = (max(float(r["end_unix_s"]) for r in ran)
            - min(float(r["start_unix_s"]) for r in ran)) if ran else 0.0
    crit = max(busy.values(), default=0.0)
    out.update({
        "span_s": round(span, 3),
        "sum_task_wall_s": round(sum_wall, 3),
        "sum_task_cpu_s": round(sum_cpu, 3),
        "concurrency": round(sum_wall / span, 3) if span > 0 else None,
        "busy_cpu_s": {w: round(v, 3) for w, v in sorted(busy.items())},
        "critical_path_cpu_s": round(crit, 3),
        "cpu_speedup_bound": round(sum_cpu / crit, 3) if crit > 0 else None,
        "worker_cpu_s": (None if worker_cpu_s is None else
                         {str(k): round(float(v), 3) for k, v in sorted(worker_cpu_s.items())}),
        "client_cpu_s": None if client_cpu_s is None else round(float(client_cpu_s), 3),
    })
    return out
