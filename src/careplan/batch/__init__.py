"""Many districts planned as independent tasks on ``dask.distributed``.

A province (or a city) is split into districts; each district is planned with
:func:`careplan.plan_layout` on its own inputs, as one task of a Dask cluster
(a :class:`distributed.LocalCluster` on this machine by default, or any running
scheduler given by its address, with the same code). Every district gets the
usual plan outputs in its own folder; the batch adds a provincial summary.

The district rule (each estate and each facility counted once)
--------------------------------------------------------------
* A district is its boundary polygon plus a **halo** of ``halo_m`` metres
  (at least the walking cutoff; default: the cutoff itself).
* An **estate** (residential area) belongs to the first district, in the order
  given, whose boundary covers its representative point; it is planned, counted
  and reported there only. Estates no district covers are reported in
  :attr:`BatchResult.unassigned_areas` (and a warning), never dropped silently.
* A **candidate site** belongs to the district covering it (first in order), so a
  new station is proposed by at most one district.
* An **existing facility** is counted (province totals, ``n_facilities``) in the
  district covering it; it also takes part in the plan of every district whose
  halo contains it, because the estates near a boundary walk to it. Its
  ``area_id`` is kept only in the district that owns that estate (elsewhere it is
  cleared so the facility serves by walking only), so its floor area is credited
  once, to the estate it names (or, without ``area_id``, to the estate polygon
  containing it).
* The **street network** of a district is every edge that intersects the halo
  (whole edges, no cutting). Any walk of at most the cutoff from a point inside
  the boundary stays within the halo (a walk is never shorter than the straight
  line), so every distance up to the cutoff between the district's estates and
  any site is the same as on the whole network (``tests/test_batch.py`` checks
  this against the undivided network).

Halo facilities' rule tables: facility counts in a district's rule table include
the halo facilities it can walk to; the provincial summary counts each facility
once, by its home district.

How the work is spread
----------------------
The client cuts each district's inputs (its estates, halo facilities, sites and halo
streets: O(district)) and sends them with the district's task, largest district first
(estates + sites; Dask priority), while the workers already plan the earlier ones: a
worker never receives the whole province. LocalCluster workers are processes with one
thread each, and careplan's own thread pools follow (``CAREPLAN_THREADS=1``), so n
workers use n cores. On a cluster of your own, start workers with ``--nthreads 1`` and
``CAREPLAN_THREADS=1`` (or several threads and no more workers than cores).
Every record carries the task's wall and CPU seconds, its start and end and its worker;
:attr:`BatchResult.timing` (:func:`batch_timing`) sums them into the mean concurrency,
the busiest worker's CPU seconds and the speed-up those allow.

Outputs (under ``out``)
-----------------------
``districts/<id>/``   the plan of each district (:meth:`LayoutPlan.to_file`);
``status/<id>.json``  the record of each finished district (what a re-run skips);
``province.gpkg``     layer ``districts``: boundary + before/after metrics;
``province.xlsx``     sheets ``districts`` (one row per district) and ``streets``
                      (one row per district and street);
``index.html``        links to every district report, failures with their error.
"""

from careplan.batch._api import plan_districts
from careplan.batch._config import batch_from_config
from careplan.batch._districts import (
    INPUT_KEYS,  # noqa: F401  (a public constant of the old module)
    DistrictInputs,
    _owner,  # noqa: F401  (tests/test_batch.py checks the ownership rule with it)
    district_inputs,
    districts_from_grid,
)
from careplan.batch._summary import BatchResult
from careplan.batch._timing import batch_timing

__all__ = [
    "BatchResult",
    "DistrictInputs",
    "batch_from_config",
    "batch_timing",
    "district_inputs",
    "districts_from_grid",
    "plan_districts",
]
