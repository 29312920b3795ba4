"""Named results of snapping and searching (instead of tuples and dicts).

These are what :mod:`careplan.coverage` (service areas) and the benchmarks
use; every array is indexed as its docstring says, positions refer to
``WalkNetwork`` node / edge positions (see :attr:`WalkNetwork.node_ids`,
:attr:`WalkNetwork.edge_u`).
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np
import pandas as pd


class EdgeSnap(NamedTuple):
    """Nearest edge of each point (one entry per point).

    Attributes
    ----------
    edge : numpy.ndarray of int64, shape (n,)
        Edge position.
    snap_distance_m : numpy.ndarray of float64, shape (n,)
        Straight distance from the point to the edge (metres).
    offset_m : numpy.ndarray of float64, shape (n,)
        Metres along the edge from its ``u`` end to the foot of the snap leg.
    edge_length_m : numpy.ndarray of float64, shape (n,)
    u, v : numpy.ndarray of int64, shape (n,)
        Node positions of the edge's ends.
    """

    edge: np.ndarray
    snap_distance_m: np.ndarray
    offset_m: np.ndarray
    edge_length_m: np.ndarray
    u: np.ndarray
    v: np.ndarray


class SnappedPoints(NamedTuple):
    """Labelled points snapped to the network (:meth:`WalkNetwork.snap_points`).

    A label may have several *parts* (the entrances of a MultiPoint); a
    polygon is one part at its representative point.

    Attributes
    ----------
    labels : pandas.Index, shape (n_labels,)
        The input's index.
    points : numpy.ndarray of shapely.Point, shape (n_parts,)
        One point per part.
    owner : numpy.ndarray of int64, shape (n_parts,)
        Label row of each part.
    snap : EdgeSnap
        Nearest edge of each part (arrays of shape (n_parts,)).
    reachable : numpy.ndarray of bool, shape (n_labels,)
        Some part lies within ``max_snap_m`` of the network.
    nearest_m : numpy.ndarray of float64, shape (n_labels,)
        Shortest snap distance over the label's parts (metres).
    parts : numpy.ndarray of int64, shape (n_reachable_parts,)
        Parts within ``max_snap_m``, grouped by label in input order.
    rows : numpy.ndarray of int64, shape (n_reachable_labels,)
        Label rows of the reachable labels, in input order.
    part_ptr : numpy.ndarray of int64, shape (n_reachable_labels + 1,)
        ``parts[part_ptr[k]:part_ptr[k + 1]]`` are the parts of ``rows[k]``.
    cut_off : numpy.ndarray of bool, shape (n_labels,)
        Reachable, but the nearest street of every usable part belongs to a
        small component removed by ``keep='largest'`` (an island): the label
        reaches the kept network only by its straight snap leg across
        whatever separates them.
    long_access : numpy.ndarray of bool, shape (n_labels,)
        Reachable, but even the nearest part lies farther than the plausible
        access leg (:data:`careplan.network.DEFAULT_LONG_ACCESS_M`).
    """

    labels: pd.Index
    points: np.ndarray
    owner: np.ndarray
    snap: EdgeSnap
    reachable: np.ndarray
    nearest_m: np.ndarray
    parts: np.ndarray
    rows: np.ndarray
    part_ptr: np.ndarray
    cut_off: np.ndarray
    long_access: np.ndarray


class ReachedNodes(NamedTuple):
    """Nodes within a walking distance of labelled points (:meth:`WalkNetwork.reached_nodes`).

    Attributes
    ----------
    snapped : SnappedPoints
    row : numpy.ndarray of int64, shape (n_pairs,)
        Label row (into ``snapped.labels``).
    node : numpy.ndarray of int64, shape (n_pairs,)
        Node position.
    distance_m : numpy.ndarray of float64, shape (n_pairs,)
        Walk from the label (its nearest entrance, snap leg included) to the node.
    """

    snapped: SnappedPoints
    row: np.ndarray
    node: np.ndarray
    distance_m: np.ndarray


class ODPairs(NamedTuple):
    """Origin-destination pairs within a cutoff, by position (internal to the queries).

    ``origin`` / ``destination`` are rows into ``origins`` / ``destinations``
    (the inputs' labels), pairs sorted by origin (input order), then distance.
    """

    origins: pd.Index
    destinations: pd.Index
    origin: np.ndarray
    destination: np.ndarray
    distance_m: np.ndarray
    origin_reachable: np.ndarray
    destination_reachable: np.ndarray
    cutoff_m: float
    origins_snapped: SnappedPoints
    destinations_snapped: SnappedPoints
