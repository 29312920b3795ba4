"""Spatial accessibility: the floating catchment area (FCA) family, gravity, aggregation.

Every measure takes the cost in any form :func:`careplan.locate.cost_from_input`
takes (one parser for the whole library): a long table ``origin, destination,
distance_m`` (as from :meth:`careplan.WalkNetwork.distances`), a dense array
(``np.inf`` = unreachable), a sparse matrix (stored entries reachable) or a wide
DataFrame; or a :class:`careplan.WalkNetwork` with demand and supply
GeoDataFrames, in which case the walking distances are computed here.

Direction of the cost
---------------------
Both steps of every FCA measure use the *consumer's* cost, from demand ``i`` to
supply ``j`` (``d_ij``, origin = demand). With asymmetric costs (one-way
streets, uphill walks, transit) access 1.x used the supply->demand cost in the
first step, which mixes two different journeys (pysal/access issue #18). A
table whose origins are the facilities is transposed when ``origin="supply"``.
A long table holding both directions (an asymmetric matrix over all points)
keeps the rows in the consumer's direction and warns how many of the others
were not used; a row whose labels fit neither direction is an error.

Methods (``A_i``: accessibility of demand ``i``; ``P``: demand; ``S``: supply;
``W``: decay weight of ``d_ij``, 0 beyond the catchment)

* ``2sfca`` -- Luo & Wang (2003), binary catchment: ``W = 1`` within ``cutoff``.
  ``R_j = S_j / sum_k P_k W_kj``; ``A_i = sum_j W_ij R_j``.
* ``e2sfca`` -- Luo & Qi (2009), enhanced 2SFCA: stepped weights by zone
  (:func:`stepped_decay`; their zones 0-10/10-20/20-30 min with weights
  1, 0.68, 0.22 are :data:`LUO_QI_2009_WEIGHTS`).
* ``g2sfca`` -- Dai (2010), Gaussian 2SFCA, the form most Chinese elderly-care
  accessibility studies use: ``W = (exp(-d^2/2d0^2) - exp(-1/2)) / (1 - exp(-1/2))``
  within ``d0 = cutoff`` (:func:`gaussian_decay`).
* ``3sfca`` -- Wan, Zou & Sternberg (2012): a selection weight
  ``G_ij = W_ij / sum_l W_il`` (the share of ``i``'s demand that goes to ``j``)
  enters both steps: ``R_j = S_j / sum_k G_kj W_kj P_k``; ``A_i = sum_j G_ij W_ij R_j``.
* ``gravity`` (:func:`gravity`) -- Joseph & Bantock (1982) as written by
  Luo & Wang (2003): ``A_i = sum_j S_j f(d_ij) / V_j`` with
  ``V_j = sum_k P_k f(d_kj)`` and a continuous decay ``f``
  (:func:`power_decay`, :func:`exponential_decay`), no cutoff unless given.

Any other decay: a callable ``f(d) -> weights`` (array in, array of the same
shape out, finite and >= 0), applied to the stored pairs within the cutoff.

In all of them a facility whose catchment holds no demand gets ``R_j = 0``, and
the demand-weighted sum of the scores equals the supply of the facilities that
have demand in their catchment (the FCA family conserves supply; tested).

Catchments are given in metres (``cutoff_m``) or minutes (``minutes``, turned
into metres by :func:`careplan._schema.walking_circle_m` at
``speed_m_per_min``, default :data:`careplan._schema.DEFAULT_WALK_SPEED_M_PER_MIN`).
A cost table in minutes (e.g. from r5py) is passed with ``cost_unit="min"``.

Normalisation (``normalize=``), as access offers it: ``None`` (the ratio itself,
e.g. m2 of floor area per elderly person); ``"weighted_mean"`` divides by the
demand-weighted mean score ``sum_i P_i A_i / sum_i P_i`` (access's
``normalize=True``; for 2SFCA it is the supply of the facilities with demand in
their catchment over the total demand, so a score of 1 is the region's
average); ``"mean"`` by the plain mean; ``"max"`` by the largest score. Every
mean runs over the demand on the network (off-network demand is NaN and left
out); a denominator of 0 (nothing reachable) leaves the scores as they are.

Cumulative opportunities
------------------------
:func:`aggregate` and :class:`Aggregator` are pandana's ``aggregate`` job per
network node (sum, mean, count, min, max of a value within a walk, flat /
linear / exponential decay); :class:`Aggregator` keeps one bounded search and
answers repeated queries from it. :func:`cumulative` is the same measure per
demand label on any cost table.
"""


from careplan.accessibility._aggregate import (
    AGGREGATIONS,
    DECAYS,
    Aggregator,
    aggregate,
)
from careplan.accessibility._cumulative import cumulative
from careplan.accessibility._decay import (
    LUO_QI_2009_WEIGHTS,
    Decay,
    binary_decay,
    exponential_decay,
    gaussian_decay,
    linear_decay,
    power_decay,
    stepped_decay,
)
from careplan.accessibility._fca import METHODS, NORMALIZE, fca, gravity

__all__ = [
    "AGGREGATIONS",
    "DECAYS",
    "Aggregator",
    "LUO_QI_2009_WEIGHTS",
    "METHODS",
    "NORMALIZE",
    "Decay",
    "aggregate",
    "binary_decay",
    "cumulative",
    "exponential_decay",
    "fca",
    "gaussian_decay",
    "gravity",
    "linear_decay",
    "power_decay",
    "stepped_decay",
]
