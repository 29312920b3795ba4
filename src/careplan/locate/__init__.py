"""Location models for new service stations: exact, fast, easy to extend.

Every model is an object that stores its parameters and has one method,
``solve(cost, *, weights=None, existing=None, excluded=None, capacity=None, ...)``,
returning a :class:`LocationResult` labelled by the input labels. Model-specific
inputs are further keyword arguments (``opening_cost=`` of
:class:`WeightedSetCovering`, ``site_cost=`` of :class:`HierarchicalCovering`).

Models: :class:`SetCovering`, :class:`WeightedSetCovering` (a cost per site),
:class:`BackupCovering` (LSCP-B / BACOP), :class:`MaximalCovering`,
:class:`PMedian`, :class:`PCenter` and :class:`HierarchicalCovering` (new street
centres and nested community stations for the three-level network, with
``existing={label: 'upper' | 'lower'}``). Distance thresholds are ``cutoff_m``
(the old ``radius=`` still works with a DeprecationWarning). ``secondary='cost'``
(set and maximal covering) returns, among the optimal solutions, one with the least
total weighted cost, as ArcGIS does.

``p`` always counts NEW sites: existing sites (``existing=``) stay open in
addition and are not counted in ``p``. ``excluded=`` sites are never opened.
``capacity=`` serves each demand whole by one site; ``split_demand=True`` on the
model lets it be split (capacitated models only).

Models describe themselves (``sense``, :meth:`LocationModel.service_cutoff`,
``serves_all``, :meth:`LocationModel.evaluate`, :meth:`LocationModel.check_rules`,
``supports_capacity``): a researcher's subclass implements ``_solve`` and
``evaluate`` and its solutions pass the same independent check.

Cost forms (see :func:`cost_from_input`): a dense array (``np.inf`` unreachable),
a scipy.sparse matrix (stored entries are the reachable pairs, explicit zeros
kept), a wide DataFrame (index demand, columns candidates), or the long table
``origin, destination, distance_m`` returned by ``WalkNetwork.distances`` (the
demand set is then ``weights.index``); :func:`cost_from_frames` makes the wide
table from two GeoDataFrames (and a network)::

    od = net.distances(areas, candidates, cutoff_m=1200)
    res = PMedian(p=5).solve(od, weights=areas["elderly"], candidate_labels=candidates.index)

Solvers: HiGHS MIPs built directly as sparse matrices, with reductions (pairs
within the cutoff only, duplicate demands merged, dominated candidates and, for
set covering, dominated demands dropped until nothing changes; Lagrangian
reduced-cost fixing and a proof-safe k-nearest chained formulation for the
p-median). The covering models first run a row-weighting local search
(``_covering.py``) and stop without a MIP when its solution meets the bound (the
LP bound rounded up for set covering, all coverable weight for maximal
covering); otherwise it is the MIP's start. The p-median also has a fast
heuristic (greedy + fast interchange + Lagrangian relaxation) that reports a
proven gap. Capacitated, split, weighted and lexicographic variants share one
assignment MIP (``_assign.py``).
Every solution is re-checked against the cost data by code independent of the
solvers (``_check.py``); a failed check raises :class:`~careplan.SolverError`.

>>> import numpy as np
>>> from careplan.locate import PMedian
>>> cost = np.array([[1.0, 5.0], [4.0, 1.0], [3.0, 1.0]])
>>> PMedian(p=1).solve(cost).selected
[1]
"""

from ._adapter import cost_from_frames
from ._backup import BackupCovering, WeightedSetCovering
from ._base import LocationModel, LocationResult, Problem, RawSolution
from ._check import Solution
from ._cost import CostData, cost_from_input
from ._hierarchy import HierarchicalCovering
from ._maximal import MaximalCovering
from ._models import PMedian, SetCovering
from ._pcenter import PCenter

__all__ = [
    "BackupCovering",
    "CostData",
    "HierarchicalCovering",
    "LocationModel",
    "LocationResult",
    "MaximalCovering",
    "PCenter",
    "PMedian",
    "Problem",
    "RawSolution",
    "SetCovering",
    "WeightedSetCovering",
    "Solution",
    "cost_from_frames",
    "cost_from_input",
]
