"""OSM features (buildings, land use) from local OSM files."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from os import PathLike
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd

from careplan._errors import InputError
from careplan.io._common import fmt_ids, warn

__all__ = ["buildings_from_osm", "features_from_osm", "landuse_from_osm"]


def features_from_osm(path: str | PathLike, tags: Mapping[str, Any] | None = None) -> gpd.GeoDataFrame:
    """Read OSM features matching ``tags`` from a local .osm / .osm.bz2 file (offline).

    Parameters
    ----------
    path : str or path-like
        OSM XML file (.osm or .osm.bz2), read by :func:`osmnx.features_from_xml`.
    tags : mapping, optional
        As in osmnx (``{"building": True}``, ``{"landuse": ["residential"]}``); None reads
        every tagged feature.

    Returns
    -------
    GeoDataFrame
        EPSG:4326 features, one row per OSM element, indexed by ``osm_id`` (text such as
        ``"way/123"``, index name None) with columns ``osm_id``, ``element``
        ('node' | 'way' | 'relation') and the tags. When nothing matches: an empty frame
        with the same id columns, ``attrs["careplan"]["no_match"] = tags`` and a warning.

    Raises
    ------
    InputError
        The file does not exist or cannot be parsed.
    """
    import osmnx as ox

    path = Path(path)
    if not path.exists():
        raise InputError(f"OSM file not found: {path}")
    try:
        feats = ox.features_from_xml(path, tags=None if tags is None else dict(tags))
    except ox._errors.InsufficientResponseError:
        warn(f"{path.name}: no OSM features match tags {dict(tags) if tags else tags}; returning "
             "an empty frame.")
        out = gpd.GeoDataFrame({"osm_id": pd.Series([], dtype=object),
                                "element": pd.Series([], dtype=object)},
                               geometry=gpd.GeoSeries([], crs="EPSG:4326"), crs="EPSG:4326")
        out.index = pd.Index([], dtype=object)
        out.attrs = {"careplan": {"no_match": dict(tags) if tags else tags}}
        return out
    except Exception as exc:  # osmnx/lxml raise several types on malformed files
        first = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise InputError(f"{path.name}: cannot read OSM features ({first}).") from exc
    return _flat_ids(feats)


def _flat_ids(feats: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """(element, id) MultiIndex -> text index ``"way/123"`` plus ``osm_id``/``element`` columns."""
    out = feats.copy()
    if isinstance(out.index, pd.MultiIndex):
        element = out.index.get_level_values(0).astype(str)
        ids = [f"{e}/{i}" for e, i in zip(element, out.index.get_level_values(1), strict=True)]
    else:
        element = pd.Index(["" for _ in range(len(out))])
        ids = [str(i) for i in out.index]
    out.insert(0, "element", np.asarray(element, dtype=object))
    out.insert(0, "osm_id", np.asarray(ids, dtype=object))
    out.index = pd.Index(ids, dtype=object, name=None)
    out.attrs = {}
    return out


def buildings_from_osm(path: str | PathLike) -> gpd.GeoDataFrame:
    """Building footprints (polygons with a ``building`` tag) from a local OSM file.

    Point-only buildings are left out (they have no footprint) and their ids are
    reported in ``attrs["careplan"]["skipped_non_polygon"]`` with a warning.

    Parameters
    ----------
    path : str or path-like
        OSM XML file (.osm or .osm.bz2).

    Returns
    -------
    GeoDataFrame
        As :func:`features_from_osm` (text ids ``osm_id`` = index), polygons only, in
        EPSG:4326; ``estimate_households(...)`` and then ``aggregate_households`` or
        ``read_households(..., id_col="osm_id")`` take it directly. Empty (with a note)
        when the file has no buildings.

    Raises
    ------
    InputError
        The file does not exist or cannot be parsed.
    """
    feats = features_from_osm(path, {"building": True})
    if len(feats) == 0 or "building" not in feats.columns:
        return feats
    feats = feats[feats["building"].notna()]
    poly = feats.geom_type.isin(["Polygon", "MultiPolygon"])
    out = feats[poly].copy()
    out.attrs = {"careplan": {"skipped_non_polygon": [str(i) for i in feats.index[~poly]]}}
    if (~poly).any():
        warn(f"buildings_from_osm: {int((~poly).sum())} building(s) without a footprint left out: "
             f"{fmt_ids(feats.index[~poly])}.")
    return out


def landuse_from_osm(path: str | PathLike, values: Iterable[str] = ("residential",)) -> gpd.GeoDataFrame:
    """Landuse polygons with ``landuse`` in ``values`` from a local OSM file.

    Parameters
    ----------
    path : str or path-like
        OSM XML file (.osm or .osm.bz2).
    values : iterable of str
        ``landuse`` values to keep (default residential).

    Returns
    -------
    GeoDataFrame
        As :func:`features_from_osm` (text ids ``osm_id`` = index; ``read_areas(...,
        id_col=None)`` or ``id_col="osm_id"`` take it), polygons only, EPSG:4326. Empty
        (with a note) when nothing matches: many Chinese extracts have little
        ``landuse=residential``; see :mod:`careplan.derive` for street blocks instead.

    Raises
    ------
    InputError
        The file does not exist or cannot be parsed.
    """
    values = list(values)
    feats = features_from_osm(path, {"landuse": values})
    if len(feats) == 0 or "landuse" not in feats.columns:
        return feats
    feats = feats[feats["landuse"].isin(values) & feats.geom_type.isin(["Polygon", "MultiPolygon"])]
    return feats.copy()
