"""Districts and their inputs: the boundary check, who owns each estate/facility/site, the halo.

The rule is described in :mod:`careplan.batch`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from careplan._errors import CRSError, InputError

#: Input keys a district may take (same names as the ``[inputs]`` of ``careplan plan``).
INPUT_KEYS = ("areas", "areas_layer", "facilities", "facilities_layer", "candidates",
              "candidates_layer", "network", "coord_system")


@dataclass(frozen=True)
class DistrictInputs:
    """The inputs of one district, as :func:`careplan.plan_layout` takes them.

    Attributes
    ----------
    district_id : str
    areas : GeoDataFrame
        The estates the district owns (see the module docstring for the rule).
    facilities : GeoDataFrame
        Existing facilities within the halo (``area_id`` cleared where it names an
        estate of another district).
    candidates : GeoDataFrame or None
        Candidate sites the district owns (None: plan_layout's default).
    network : WalkNetwork
        Every edge of the network that intersects the halo (or the whole network).
    n_facilities_owned : int
        Facilities inside the boundary (the district's own, for province totals).
    """

    district_id: str
    areas: gpd.GeoDataFrame
    facilities: gpd.GeoDataFrame
    candidates: gpd.GeoDataFrame | None
    network: Any
    n_facilities_owned: int


def districts_from_grid(areas: gpd.GeoDataFrame, rows: int, cols: int) -> gpd.GeoDataFrame:
    """Split the extent of ``areas`` into a ``rows x cols`` grid of districts.

    Useful to cut one big city into tasks. Cells that hold no estate's
    representative point are left out.

    Parameters
    ----------
    areas : GeoDataFrame
        Residential areas in a projected CRS.
    rows, cols : int
        Grid shape (>= 1 each).

    Returns
    -------
    GeoDataFrame
        ``district_id`` (``r<row>c<col>``, row 0 at the south), ``name``, box
        geometry; index = ``district_id``; the areas' CRS.

    Raises
    ------
    InputError
        rows/cols not positive integers, or no areas.
    """
    for what, v in (("rows", rows), ("cols", cols)):
        if isinstance(v, bool) or not isinstance(v, int | np.integer) or v < 1:
            raise InputError(f"grid {what} must be an integer >= 1, got {v!r}")
    if len(areas) == 0:
        raise InputError("cannot split an empty set of areas into a grid; give some areas")
    pts = areas.geometry.representative_point()
    x0, y0, x1, y1 = pts.total_bounds
    # widen a hair so points on the far edges fall inside the last cells
    pad = 1e-6 * max(x1 - x0, y1 - y0, 1.0)
    xs = np.linspace(x0 - pad, x1 + pad, cols + 1)
    ys = np.linspace(y0 - pad, y1 + pad, rows + 1)
    recs = []
    for r in range(rows):
        for c in range(cols):
            box = shapely.box(xs[c], ys[r], xs[c + 1], ys[r + 1])
            recs.append((f"r{r}c{c}", f"grid cell row {r}, column {c}", box))
    grid = gpd.GeoDataFrame({"district_id": [r[0] for r in recs], "name": [r[1] for r in recs]},
                            geometry=[r[2] for r in recs], crs=areas.crs)
    owner = _owner(pts, grid.geometry)
    grid = grid[np.isin(np.arange(len(grid)), owner[owner >= 0])]
    grid.index = pd.Index(grid["district_id"].to_numpy())
    return grid


def _owner(points: gpd.GeoSeries, boundaries: gpd.GeoSeries) -> np.ndarray:
    """Position of the first boundary covering each point (-1: none), shape (n_points,)."""
    out = np.full(len(points), -1, dtype=np.int64)
    if len(points) == 0 or len(boundaries) == 0:
        return out
    pi, bi = gpd.GeoSeries(boundaries.to_numpy(), crs=boundaries.crs).sindex.query(
        points.to_numpy(), predicate="covered_by")
    if pi.size:
        order = np.lexsort((bi, pi))
        pi, bi = pi[order], bi[order]
        first = np.ones(pi.size, dtype=bool)
        first[1:] = pi[1:] != pi[:-1]
        out[pi[first]] = bi[first]
    return out


def _points_of(gdf: gpd.GeoDataFrame) -> gpd.GeoSeries:
    g = gdf.geometry
    nonpt = g.geom_type != "Point"
    return g.where(~nonpt, g.representative_point()) if nonpt.any() else g


def _check_boundaries(boundaries: gpd.GeoDataFrame, id_col: str, crs: Any) -> gpd.GeoDataFrame:
    if not isinstance(boundaries, gpd.GeoDataFrame):
        raise InputError("district boundaries must be a GeoDataFrame of polygons "
                         f"(got {type(boundaries).__name__}); see districts_from_grid()")
    if id_col not in boundaries.columns:
        raise InputError(f"district boundaries need a {id_col!r} column (the district id); "
                         f"columns are {list(boundaries.columns)}")
    if len(boundaries) == 0:
        raise InputError("no districts: the boundaries frame is empty")
    ids = boundaries[id_col].astype(str)
    dup = ids[ids.duplicated()].unique()
    if len(dup):
        raise InputError(f"district ids must be unique; repeated: {list(dup[:10])}")
    if boundaries.crs is None or not boundaries.crs.equals(crs):
        have = None if boundaries.crs is None else boundaries.crs.to_string()
        raise CRSError(f"district boundaries CRS {have} differs from the network's "
                       f"{crs.to_string()}; reproject with boundaries.to_crs(network.crs)")
    kinds = set(boundaries.geom_type.dropna())
    if not kinds or not kinds <= {"Polygon", "MultiPolygon"}:
        raise InputError(f"district boundaries must be polygons, got {sorted(kinds)}")
    out = boundaries.copy()
    out[id_col] = ids.to_numpy()
    out.index = pd.Index(ids.to_numpy())
    return out


def _clip_network(net: Any, halo: Any, edges: gpd.GeoDataFrame | None = None) -> Any:
    """The network made of every edge of ``net`` intersecting ``halo`` (whole edges)."""
    from careplan.network import WalkNetwork

    edges = net.edges if edges is None else edges
    hit = np.sort(edges.sindex.query(halo, predicate="intersects"))
    if hit.size == 0:
        raise InputError("no street of the network lies within this district's halo; check "
                         "the district boundary and the network cover the same place")
    sub = edges.iloc[hit]
    ids = pd.Index(pd.unique(np.concatenate([sub["u"].to_numpy(), sub["v"].to_numpy()])))
    pos = net.node_ids.get_indexer(ids)  # no node GeoDataFrame: O(district), not O(network)
    attrs = sub.drop(columns=["u", "v", "length_m", sub.geometry.name])
    return WalkNetwork(
        node_ids=ids, x=np.asarray(net.x)[pos], y=np.asarray(net.y)[pos],
        edge_u=ids.get_indexer(sub["u"]), edge_v=ids.get_indexer(sub["v"]),
        edge_length=sub["length_m"].to_numpy(), edge_geometry=sub.geometry.to_numpy(),
        crs=net.crs, edge_attrs=pd.DataFrame(attrs).reset_index(drop=True), keep="all",
        source="a district's halo")


def district_inputs(district_id: str, boundaries: gpd.GeoDataFrame, areas: gpd.GeoDataFrame,
                    facilities: gpd.GeoDataFrame, candidates: gpd.GeoDataFrame | None,
                    network: Any, *, halo_m: float, id_col: str = "district_id"
                    ) -> DistrictInputs:
    """The inputs of one district under the batch's rule (see the module docstring).

    This is exactly what :func:`plan_districts` hands to :func:`careplan.plan_layout`
    for that district, so ``plan_layout(**inputs)`` run alone gives the batch's plan.

    Parameters
    ----------
    district_id : str
        Which district.
    boundaries : GeoDataFrame
        Every district's polygon (order decides estates on a shared border), with
        ``id_col``; the network's CRS.
    areas, facilities, candidates : GeoDataFrame
        The whole province's inputs, read with careplan's readers, network CRS.
    network : WalkNetwork
        The whole network.
    halo_m : float
        Halo width in metres (>= the walking cutoff for exact distances).
    id_col : str, default 'district_id'
        Column of ``boundaries`` with the district ids.

    Returns
    -------
    DistrictInputs

    Raises
    ------
    InputError
        Unknown district, bad boundaries, or no street within the halo.
    """
    b = _check_boundaries(boundaries, id_col, network.crs)
    if str(district_id) not in b.index:
        raise InputError(f"unknown district {district_id!r}; districts are {list(b.index[:10])}")
    shared = _Shared.build(b, areas, facilities, candidates, network, with_edges=False)
    return shared.inputs_of(str(district_id), float(halo_m))


@dataclass
class _Shared:
    """Province-wide inputs and who owns what (computed once, sent to the workers)."""

    areas: gpd.GeoDataFrame | None = None
    facilities: gpd.GeoDataFrame | None = None
    candidates: gpd.GeoDataFrame | None = None
    network: Any = None
    boundaries: gpd.GeoDataFrame | None = None
    area_owner: np.ndarray | None = None
    facility_owner: np.ndarray | None = None
    candidate_owner: np.ndarray | None = None
    edges: gpd.GeoDataFrame | None = None
    fac_points: gpd.GeoSeries | None = None

    @classmethod
    def build(cls, boundaries, areas, facilities, candidates, network, *, with_edges=True):
        for what, g in (("areas", areas), ("facilities", facilities),
                        ("candidates", candidates)):
            if g is None:
                continue
            if not isinstance(g, gpd.GeoDataFrame):
                raise InputError(f"{what} must be a GeoDataFrame (read it with "
                                 f"careplan.read_{what}()), got {type(g).__name__}")
            if g.crs is None or not g.crs.equals(network.crs):
                raise CRSError(f"{what} must be in the network's CRS "
                               f"{network.crs.to_string()}; read them with "
                               f"careplan.read_{what}(..., crs=network.crs)")
        bpos = boundaries.geometry
        own = cls(areas=areas, facilities=facilities, candidates=candidates, network=network,
                  boundaries=boundaries)
        own.area_owner = _owner(_points_of(areas), bpos)
        own.facility_owner = _owner(_points_of(facilities), bpos)
        if candidates is not None:
            own.candidate_owner = _owner(_points_of(candidates), bpos)
        if with_edges:
            own.edges = network.edges
        return own

    def _facility_points(self) -> gpd.GeoSeries:
        if self.fac_points is None:
            self.fac_points = gpd.GeoSeries(_points_of(self.facilities).to_numpy(),
                                            crs=self.facilities.crs)
        return self.fac_points

    def inputs_of(self, district_id: str, halo_m: float) -> DistrictInputs:
        b = self.boundaries
        k = b.index.get_loc(district_id)
        boundary = b.geometry.iloc[k]
        halo = boundary.buffer(halo_m)
        areas = self.areas[self.area_owner == k]
        if len(areas) == 0:
            raise InputError(f"district {district_id!r} owns no residential area (no area's "
                             "representative point lies inside its boundary)")
        fac = self.facilities
        hit = (np.sort(self._facility_points().sindex.query(halo, predicate="intersects"))
               if len(fac) else np.array([], dtype=np.int64))
        fac_d = fac.iloc[hit].copy()
        if "area_id" in fac_d.columns:
            own_ids = set(areas["area_id"]) if "area_id" in areas.columns else set(areas.index)
            foreign = fac_d["area_id"].notna() & ~fac_d["area_id"].isin(own_ids)
            fac_d["area_id"] = fac_d["area_id"].where(~foreign, None)
        cands = None
        if self.candidates is not None:
            cands = self.candidates[self.candidate_owner == k]
        net = _clip_network(self.network, halo, self.edges)
        return DistrictInputs(district_id=district_id, areas=areas, facilities=fac_d,
                              candidates=cands, network=net,
                              n_facilities_owned=int((self.facility_owner == k).sum()))
