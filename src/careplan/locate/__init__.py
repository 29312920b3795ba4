"""Location models for new service stations: exact, fast, easy to extend.

Every model is an object that stores its parameters and has one method,
``solve(cost, *, weights=None, existing=None, excluded=None, capacity=None)``,
returning a :class:`LocationResult` labelled by the input labels.

``p`` always counts NEW sites: existing sites (``existing=``) stay open in
addition and are not counted in ``p``.

>>> import numpy as np
>>> from careplan.locate import PMedian
>>> cost = np.array([[1.0, 5.0], [4.0, 1.0], [3.0, 2.0]])
>>> PMedian(p=1).solve(cost).selected
[1]
"""

from ._base import LocationModel, LocationResult
from ._cost import CostData, cost_from_input
from ._models import MaximalCovering, PCenter, PMedian, SetCovering

__all__ = [
    "CostData",
    "LocationModel",
    "LocationResult",
    "MaximalCovering",
    "PCenter",
    "PMedian",
    "SetCovering",
    "cost_from_input",
]
