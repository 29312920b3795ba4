"""From GeoDataFrames to the cost table the location models take (for spopt users)."""

from __future__ import annotations

import warnings
from typing import Any

import numpy as np
import pandas as pd

from careplan._errors import CareplanWarning, InputError
from careplan._schema import check_crs

__all__ = ["cost_from_frames"]


def cost_from_frames(demand: Any, candidates: Any, *, network: Any = None, cutoff_m: float | None = None,
                     max_snap_m: float | None = None) -> pd.DataFrame:
    """Demand x candidate cost from two GeoDataFrames: walking metres over a network, else straight lines.

    The one call a PySAL spopt user needs before any careplan model: spopt's
    ``from_geodataframe(gdf_demand, gdf_fac, demand_col, facility_col, ...)``
    becomes ``cost = cost_from_frames(gdf_demand, gdf_fac, network=net)`` and
    ``PMedian(p=...).solve(cost, weights=gdf_demand[demand_col])``. See
    ``docs/spopt.md`` for the mapping of spopt's names.

    Parameters
    ----------
    demand : GeoDataFrame or GeoSeries, n_demand rows
        Demand points (polygons use their representative point), unique index labels,
        in a projected CRS in metres.
    candidates : GeoDataFrame or GeoSeries, n_candidates rows
        Candidate sites, same CRS, unique index labels.
    network : WalkNetwork, optional
        Walking network (same CRS). With it the costs are walking metres by
        :meth:`WalkNetwork.distance_matrix` (snap + network + snap); without it they
        are straight-line metres between the points, with a :class:`CareplanWarning`
        (straight lines understate walks, typically by a fifth to a half in cities).
    cutoff_m : float, optional
        Pairs farther than this are unreachable (``np.inf``). Required with a network
        (bounded search: use the largest cutoff any model will use); optional for
        straight lines (default: every pair).
    max_snap_m : float, optional
        Largest snapping distance passed to the network (its default if None).

    Returns
    -------
    pandas.DataFrame, shape (n_demand, n_candidates)
        Wide cost table: index = demand labels, columns = candidate labels, values in
        metres, ``np.inf`` where unreachable. Every model's ``solve`` takes it as
        ``cost`` (memory grows with n_demand x n_candidates; for very large instances
        pass ``network.distances(...)``'s long table instead).

    Raises
    ------
    InputError
        Not point-like frames, duplicated labels, a missing or bad ``cutoff_m``.
    CRSError
        A CRS that is missing, geographic or different between the inputs.

    Examples
    --------
    >>> import geopandas as gpd, shapely
    >>> d = gpd.GeoDataFrame(geometry=[shapely.Point(0, 0), shapely.Point(300, 400)], crs=3857)
    >>> c = gpd.GeoDataFrame(geometry=[shapely.Point(0, 0)], index=["s"], crs=3857)
    >>> import warnings; warnings.simplefilter("ignore")
    >>> cost_from_frames(d, c)["s"].tolist()
    [0.0, 500.0]
    """
    for what, frame in (("demand", demand), ("candidates", candidates)):
        if not hasattr(frame, "geometry") and not hasattr(frame, "geom_type"):
            raise InputError(f"{what} must be a GeoDataFrame or GeoSeries of points; got {type(frame).__name__}.")
        if frame.index.has_duplicates:
            dup = frame.index[frame.index.duplicated()][:10].tolist()
            raise InputError(f"{what} index labels must be unique (they label the cost table); duplicated: {dup}.")
    check_crs(demand, "demand")
    check_crs(candidates, "candidates", like=demand, like_what="demand")
    if cutoff_m is not None and (isinstance(cutoff_m, bool) or not np.isfinite(cutoff_m) or cutoff_m <= 0):
        raise InputError(f"cutoff_m must be a finite number > 0 (metres); got {cutoff_m!r}.")
    if network is not None:
        if cutoff_m is None:
            raise InputError("with network=, give cutoff_m= (metres): walking distances are searched up to it; "
                             "use the largest cutoff your models will use.")
        check_crs(network, "the network", like=demand, like_what="demand")
        kw = {} if max_snap_m is None else {"max_snap_m": max_snap_m}
        mat = network.distance_matrix(demand, candidates, cutoff_m=cutoff_m, **kw)
        dense = np.full(mat.shape, np.inf)
        rows = np.repeat(np.arange(mat.shape[0]), np.diff(mat.indptr))
        dense[rows, mat.indices] = mat.data
    else:
        warnings.warn("cost_from_frames without network=: costs are straight-line metres, which understate "
                      "walking distances; pass network=WalkNetwork(...) for walking metres.", CareplanWarning,
                      stacklevel=2)
        a, b = _xy(demand, "demand"), _xy(candidates, "candidates")
        dense = np.hypot(a[:, None, 0] - b[None, :, 0], a[:, None, 1] - b[None, :, 1])
        if cutoff_m is not None:
            dense[dense > cutoff_m] = np.inf
    return pd.DataFrame(dense, index=demand.index.copy(), columns=candidates.index.copy())


def _xy(frame: Any, what: str) -> np.ndarray:
    geom = frame.geometry if hasattr(frame, "geometry") else frame
    if geom.isna().any() or geom.is_empty.any():
        bad = frame.index[(geom.isna() | geom.is_empty).to_numpy()][:10].tolist()
        raise InputError(f"{what} has missing or empty geometries at {bad}; drop or fix those rows.")
    pts = geom.representative_point()
    return np.column_stack((pts.x.to_numpy(), pts.y.to_numpy()))
