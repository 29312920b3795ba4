"""The GeoPackage of a plan (``plan.gpkg``): one layer per frame, in the plan's CRS."""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING

import geopandas as gpd

from careplan.report._common import boundary_layers, checked, extra_tables
from careplan.report.atomic import OutputError, atomic_file
from careplan.report.format import frame_without_index_dup, table_frame

if TYPE_CHECKING:  # pragma: no cover
    from careplan.plan import LayoutPlan

__all__ = ["write_geopackage"]

_GEOM_TYPE_FOR_EMPTY = {
    "areas": "Polygon",
    "existing_facilities": "Point",
    "proposed_stations": "Point",
    "service_areas": "Polygon",
    "network_edges": "LineString",
    "streets": "MultiPolygon",
    "districts": "MultiPolygon",
}


def _clean(g: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    geom = g.geometry.name
    out = frame_without_index_dup(table_frame(g))
    out = gpd.GeoDataFrame(out, geometry=g.geometry.to_numpy(), crs=g.crs)
    if geom != "geometry" and geom in out.columns:  # pragma: no cover - defensive
        out = out.drop(columns=geom)
    return out


def _gpkg_layers(plan: LayoutPlan) -> dict[str, gpd.GeoDataFrame]:
    layers = {
        "areas": _clean(plan.areas),
        "existing_facilities": _clean(plan.existing),
        "proposed_stations": _clean(plan.proposed),
        "service_areas": _clean(plan.service_areas),
    }
    if plan.network_edges is not None:
        layers["network_edges"] = _clean(plan.network_edges)
    for name, _color in boundary_layers(plan):  # the street / district polygons given
        layers[name] = _clean(getattr(plan, name))
    for name, df in extra_tables(plan).items():  # attribute tables unless spatial
        layers[name] = (_clean(df) if isinstance(df, gpd.GeoDataFrame)
                        else table_frame(df).reset_index(drop=True))
    return layers


def _geometry_type(name: str, g) -> dict:
    if not isinstance(g, gpd.GeoDataFrame):
        return {}
    if len(g) == 0:
        return {"geometry_type": _GEOM_TYPE_FOR_EMPTY[name]}
    if g.geom_type.nunique() > 1:
        kinds = set(g.geom_type)
        if kinds <= {"Polygon", "MultiPolygon"}:
            return {"geometry_type": "MultiPolygon"}
        if kinds <= {"LineString", "MultiLineString"}:
            return {"geometry_type": "MultiLineString"}
        return {"geometry_type": "Unknown"}
    return {}


def write_geopackage(plan: LayoutPlan, path: str | os.PathLike) -> Path:
    """Write ``plan.gpkg`` with layers areas, existing_facilities, proposed_stations,
    service_areas and (when the plan has them) network_edges, streets and districts
    (the polygons given to :func:`careplan.plan_layout`), then the plan's optional
    tables.

    Empty frames become empty layers (with their columns), never an error.
    The file is written to a temporary sibling and then moved into place.

    Parameters
    ----------
    plan : LayoutPlan
        The plan, from :func:`careplan.plan_layout`.
    path : path-like
        The ``.gpkg`` file to write (replaced if present).

    Returns
    -------
    Path
        The file written.

    Raises
    ------
    InputError, CRSError
        If *plan* is not a valid layout plan.
    OutputError
        If the file cannot be written (one line; an earlier file is unchanged).
    """
    import pyogrio

    plan = checked(plan)
    layers = _gpkg_layers(plan)
    with atomic_file(path, create=False) as tmp:
        try:
            for name, g in layers.items():
                pyogrio.write_dataframe(g, tmp, layer=name, driver="GPKG",
                                        **_geometry_type(name, g))
        except (pyogrio.errors.DataSourceError, pyogrio.errors.DataLayerError,
                pyogrio.errors.FieldError) as e:
            first = str(e).strip().splitlines()[0] if str(e).strip() else type(e).__name__
            raise OutputError(path, f"the GeoPackage could not be written (is the disk "
                              f"full? GDAL said: {first[:200]})") from None
    return Path(path)
