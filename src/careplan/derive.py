"""Residential areas, households and candidate sites derived from OpenStreetMap.

Many Chinese OSM extracts have little or no ``landuse=residential`` and no estate
(小区) boundaries, yet they have streets and some buildings. These helpers turn an
extract into planning inputs a planner can check and correct:

* :func:`blocks_from_network` - street blocks: the polygons enclosed by the walk
  network (every face kept and labelled, implausible ones flagged);
* :func:`areas_from_blocks` - residential areas from the kept blocks, households
  estimated from the buildings inside (or from a density);
* :func:`areas_from_buildings` - residential areas as clusters of residential
  buildings, households estimated from their floor area;
* :func:`candidates_from_osm` - candidate sites at community-facing buildings and
  amenities, unsuitable building types excluded by default;
* :func:`road_candidates` - candidate sites along the streets.

Every result goes through the readers (:func:`careplan.read_areas`,
:func:`careplan.read_candidates`), so it has their contract (text ids, projected CRS).
This module sits above the network layer: it may import :mod:`careplan.network`,
never the reverse.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from os import PathLike
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from careplan._errors import InputError
from careplan.io import (
    aggregate_households,
    estimate_households,
    features_from_osm,
    read_areas,
    read_candidates,
)
from careplan.io._common import is_number as _is_number
from careplan.io._common import note, warn

__all__ = [
    "CANDIDATE_AMENITIES",
    "CANDIDATE_BUILDINGS",
    "EXCLUDED_BUILDINGS",
    "RESIDENTIAL_BUILDINGS",
    "areas_from_blocks",
    "areas_from_buildings",
    "blocks_from_network",
    "candidates_from_osm",
    "road_candidates",
]

RESIDENTIAL_BUILDINGS: tuple[str, ...] = (
    "residential", "apartments", "house", "detached", "semidetached_house", "terrace",
    "dormitory", "bungalow",
)
"""``building=*`` values counted as dwellings (OSM wiki, Key:building, "Accommodation").
``building=yes`` (type unknown, most buildings of Chinese extracts) is not included by
default: pass ``types=RESIDENTIAL_BUILDINGS + ("yes",)`` where you know that the
untyped buildings are mostly homes."""

CANDIDATE_AMENITIES: tuple[str, ...] = (
    "community_centre", "social_facility", "social_centre", "townhall", "library", "clinic",
    "doctors", "nursing_home",
)
"""``amenity=*`` values of community-facing places where a care station can be embedded
(community centres, social facilities, neighbourhood offices, libraries, clinics):
the co-location the seed documents recommend (Taiyuan item 02: stations with
community service centres; 002_… 二(一): not in remote corners of estates)."""

CANDIDATE_BUILDINGS: tuple[str, ...] = (
    "civic", "public", "government", "community_centre", "residential", "apartments",
    "dormitory",
)
"""``building=*`` values that can host a station: civic/public buildings, and the ground
floor of residential buildings (the usual home of a 社区养老服务站)."""

EXCLUDED_BUILDINGS: tuple[str, ...] = (
    "commercial", "retail", "office", "industrial", "warehouse", "factory", "manufacture",
    "hotel", "tower", "transportation", "train_station", "stadium", "construction",
    "garage", "garages", "parking", "service", "roof", "ruins", "hut", "shed",
    "greenhouse", "barn", "farm_auxiliary", "kiosk", "bridge",
)
"""Default exclusion: building types unsuitable for a care station (commercial,
industrial, towers, transport, sheds, ...). Buildings of 100 m or more (超高层,
GB 50352-2019 §3.1.2), estimated from ``height`` or ``building:levels`` x 3 m, are
excluded too."""

_SUPERTALL_M = 100.0
_FLOOR_M = 3.0


# ----------------------------------------------------------------------------- blocks
def blocks_from_network(net: Any, *, min_area_m2: float = 2_500.0, max_area_m2: float = 300_000.0,
                        min_compactness: float = 0.2) -> gpd.GeoDataFrame:
    """Street blocks: the polygons enclosed by the walk network's edges.

    The edges are noded (``shapely.union_all``) and polygonized; every face is returned,
    labelled, so nothing is dropped silently.

    Parameters
    ----------
    net : WalkNetwork
        The walk network (its ``edges`` in a projected CRS, metres).
    min_area_m2, max_area_m2 : float
        Plausible block size, m2. Defaults 0.25 ha (smaller faces are traffic islands and
        road junctions) and 30 ha (larger faces are parks, campuses, water or the
        outside of a sparse network); the range of urban blocks in GB 50180-2018's
        5-minute life circle (residential blocks of 2-4 ha are typical).
    min_compactness : float
        Smallest ``4 pi A / P^2`` (1 for a circle; long slivers between parallel roads
        are below 0.2).

    Returns
    -------
    GeoDataFrame
        One row per face, indexed by ``block_id`` (``"B00000"``..., ordered west to east
        then south to north): ``block_id``, ``area_m2``, ``compactness``, ``kept`` (bool),
        ``reason`` ('kept' | 'too small' | 'too large' | 'too thin'); Polygon geometry in
        ``net.crs``.

    Raises
    ------
    InputError
        ``net`` has no edges attribute, or bad thresholds.
    """
    if not hasattr(net, "edges") or not hasattr(net, "crs"):
        raise InputError(f"blocks_from_network: expected a careplan.WalkNetwork, got {type(net).__name__}.")
    for name, val in (("min_area_m2", min_area_m2), ("max_area_m2", max_area_m2)):
        if not (np.isfinite(val) and val >= 0):
            raise InputError(f"blocks_from_network: {name} must be a finite number >= 0, got {val!r}.")
    if not 0 <= min_compactness <= 1:
        raise InputError(f"blocks_from_network: min_compactness must be within [0, 1], got {min_compactness!r}.")
    lines = shapely.get_parts(shapely.union_all(net.edges.geometry.to_numpy()))
    polys = shapely.get_parts(shapely.polygonize(lines))
    if len(polys):
        c = shapely.centroid(polys)
        polys = polys[np.lexsort((shapely.get_y(c).round(1), shapely.get_x(c).round(1)))]
    area = shapely.area(polys)
    compact = 4.0 * math.pi * area / np.maximum(shapely.length(polys), 1e-9) ** 2
    reason = np.where(area < min_area_m2, "too small",
                      np.where(area > max_area_m2, "too large",
                               np.where(compact < min_compactness, "too thin", "kept")))
    ids = [f"B{i:05d}" for i in range(len(polys))]
    out = gpd.GeoDataFrame({"block_id": pd.Series(ids, dtype=object), "area_m2": area,
                            "compactness": compact, "kept": reason == "kept",
                            "reason": pd.Series(reason, dtype=object)},
                           geometry=gpd.GeoSeries(polys, crs=net.crs), crs=net.crs)
    out.index = pd.Index(ids, dtype=object)
    return out


def areas_from_blocks(blocks: gpd.GeoDataFrame, *, buildings: gpd.GeoDataFrame | None = None,
                      households_per_ha: float | None = None, built: str = "existing",
                      **estimate: Any) -> gpd.GeoDataFrame:
    """Residential areas from the kept street blocks, with estimated households.

    Parameters
    ----------
    blocks : GeoDataFrame
        From :func:`blocks_from_network` (rows with ``kept`` False are left out).
    buildings : GeoDataFrame, optional
        Residential building footprints (e.g. from :func:`careplan.data.buildings_from_osm`
        filtered to :data:`RESIDENTIAL_BUILDINGS`): each block gets the households of the
        buildings whose representative point it contains, estimated by
        :func:`careplan.estimate_households` (``**estimate`` passes its options).
    households_per_ha : float, optional
        Instead of buildings: a gross density (households per hectare of block), e.g. a
        city's family households / built-up area from the census.
    built : {'new', 'existing'}
        Class of every area (default 'existing': blocks of an existing street grid).
    **estimate
        Options of :func:`careplan.estimate_households` (e.g. ``dwelling_m2``), used
        with ``buildings``.

    Returns
    -------
    GeoDataFrame
        As :func:`careplan.read_areas`: ``area_id`` = block id, ``households`` (int64),
        ``built``, ``area_m2``; polygons in the blocks' CRS.

    Raises
    ------
    InputError
        Neither or both of ``buildings`` and ``households_per_ha``, a bad density, or
        no kept block.
    """
    if (buildings is None) == (households_per_ha is None):
        raise InputError("areas_from_blocks: give exactly one of buildings= (footprints) or "
                         "households_per_ha= (a density).")
    kept = blocks[blocks["kept"]] if "kept" in blocks.columns else blocks
    if len(kept) == 0:
        raise InputError("areas_from_blocks: no kept block; loosen the thresholds of "
                         "blocks_from_network (min_area_m2, max_area_m2, min_compactness).")
    raw = gpd.GeoDataFrame({"area_id": kept.index.astype(str), "built": built,
                            "area_m2": kept.geometry.area.to_numpy()},
                           geometry=kept.geometry.to_numpy(), crs=blocks.crs)
    if buildings is not None:
        est = estimate_households(buildings, crs=blocks.crs, **estimate)
        return aggregate_households(est, raw, households_id_col=None)
    density = households_per_ha
    if density is None or not (_is_number(density) and 0 <= density <= 5000):
        raise InputError(f"areas_from_blocks: households_per_ha must be a number in [0, 5000] (the "
                         f"densest city blocks hold about 2,000 per ha), got {households_per_ha!r}.")
    raw["households"] = np.rint(raw["area_m2"].to_numpy() / 1e4 * density).astype(np.int64)
    out = read_areas(raw)
    note(out, "households_per_ha", float(density))
    return out


# ----------------------------------------------------------------------------- building clusters
def areas_from_buildings(buildings: gpd.GeoDataFrame, *, gap_m: float = 30.0,
                         types: Iterable[str] | None = RESIDENTIAL_BUILDINGS,
                         built: str = "existing", crs: Any = None,
                         **estimate: Any) -> gpd.GeoDataFrame:
    """Residential areas as clusters of residential buildings, households from their floor area.

    Buildings closer than ``gap_m`` to each other form one cluster (an estate-like group);
    its area is the union of the footprints grown by ``gap_m / 2``, so clusters never
    overlap. Households per building come from :func:`careplan.estimate_households`
    (``**estimate`` passes its options) and are summed per cluster.

    Parameters
    ----------
    buildings : GeoDataFrame
        Building footprints with a ``building`` tag column (e.g. from
        :func:`careplan.data.buildings_from_osm`), any CRS.
    gap_m : float
        Largest gap between buildings of one cluster, metres (default 30 m: about the
        spacing of six-storey slab blocks, 1.0-1.2 x their height, and narrower than a
        city street with its setbacks).
    types : iterable of str or None
        ``building`` values kept (default :data:`RESIDENTIAL_BUILDINGS`); None keeps all.
    built : {'new', 'existing'}
        Class of every area.
    crs : CRS-like, optional
        Projected CRS of the result (default: the buildings' if projected, else UTM).
    **estimate
        Options of :func:`careplan.estimate_households` (e.g. ``dwelling_m2``).

    Returns
    -------
    GeoDataFrame
        As :func:`careplan.read_areas`: ``area_id`` (``"C0000"``..., west to east),
        ``households`` (int64, sum of the buildings' rounded estimates), ``built``,
        ``n_buildings``, ``floor_area_m2`` (gross); polygons.

    Raises
    ------
    InputError
        No building of the kept types, or a bad ``gap_m``.
    """
    if not (_is_number(gap_m) and 0 <= gap_m <= 1000):
        raise InputError(f"areas_from_buildings: gap_m must be a number in [0, 1000] m, got {gap_m!r}.")
    b = buildings
    if len(b) == 0:
        raise InputError("areas_from_buildings: no buildings given (the extract may have none); "
                         "use blocks_from_network and areas_from_blocks instead.")
    if types is not None:
        if "building" not in b.columns:
            raise InputError("areas_from_buildings: the buildings have no 'building' column to "
                             "select types from; pass types=None to use them all.")
        b = b[b["building"].isin(list(types))]
    if len(b) == 0:
        raise InputError(f"areas_from_buildings: no building of type(s) {list(types or [])}; "
                         "pass types= (e.g. add 'yes' for untyped buildings).")
    est = estimate_households(b, crs=crs, **estimate)
    grown = shapely.get_parts(shapely.union_all(est.geometry.buffer(gap_m / 2.0).to_numpy()))
    c = shapely.centroid(grown)
    grown = grown[np.lexsort((shapely.get_y(c), shapely.get_x(c)))]
    tree = shapely.STRtree(grown)
    pts = est.geometry.representative_point().to_numpy()
    b_idx, c_idx = tree.query(pts, predicate="intersects")
    cluster = np.full(len(est), -1)
    cluster[b_idx] = c_idx  # a point lies in exactly one grown part (they are disjoint)
    hh = np.bincount(cluster, weights=est["households"].to_numpy(), minlength=len(grown))
    fa = np.bincount(cluster, weights=est["floor_area_m2"].to_numpy(), minlength=len(grown))
    nb = np.bincount(cluster, minlength=len(grown))
    ids = [f"C{i:04d}" for i in range(len(grown))]
    raw = gpd.GeoDataFrame({"area_id": ids, "households": np.rint(hh).astype(np.int64),
                            "built": built, "n_buildings": nb, "floor_area_m2": fa},
                           geometry=grown, crs=est.crs)
    out = read_areas(raw)
    note(out, "clustered_from", {"buildings": int(len(est)), "gap_m": float(gap_m)})
    return out


# ----------------------------------------------------------------------------- candidates
def _height_m(feats: gpd.GeoDataFrame) -> np.ndarray:
    from careplan.io.households import _first_number

    n = len(feats)
    h = (feats["height"].map(_first_number).to_numpy(dtype=float) if "height" in feats.columns
         else np.full(n, np.nan))
    lv = (feats["building:levels"].map(_first_number).to_numpy(dtype=float)
          if "building:levels" in feats.columns else np.full(n, np.nan))
    return np.where(np.isfinite(h), h, lv * _FLOOR_M)


def candidates_from_osm(path: str | PathLike, *, crs: Any = None,
                        amenities: Iterable[str] = CANDIDATE_AMENITIES,
                        buildings: Iterable[str] = CANDIDATE_BUILDINGS,
                        exclude: Iterable[str] = EXCLUDED_BUILDINGS,
                        within: Any = None) -> gpd.GeoDataFrame:
    """Candidate sites at community-facing buildings and amenities of an OSM extract.

    A feature is a candidate when its ``amenity`` is in ``amenities`` or its ``building``
    is in ``buildings``, unless its ``building`` is in ``exclude`` or it is 100 m or
    taller (see :data:`EXCLUDED_BUILDINGS`). Polygons are placed at a representative
    point (inside the footprint).

    Parameters
    ----------
    path : str or path-like
        OSM XML file (.osm, .osm.bz2).
    crs : CRS-like, optional
        Projected CRS of the result (e.g. ``net.crs``); default the local UTM zone.
    amenities, buildings, exclude : iterable of str
        See :data:`CANDIDATE_AMENITIES`, :data:`CANDIDATE_BUILDINGS`,
        :data:`EXCLUDED_BUILDINGS`.
    within : shapely geometry, optional
        Keep only sites inside it (in ``crs``).

    Returns
    -------
    GeoDataFrame
        As :func:`careplan.read_candidates`: ``candidate_id`` = OSM id (``"way/123"``),
        ``name``, ``kind`` (e.g. ``"amenity=community_centre"``), ``footprint_m2`` (0 for
        nodes); points. Empty (with ``attrs["careplan"]["no_candidates"]``) and a warning
        when the extract has none. ``attrs["careplan"]["excluded"]`` lists the ids left
        out by ``exclude`` or height.

    Raises
    ------
    InputError
        The file does not exist or cannot be parsed.
    """
    amenities, buildings, exclude = list(amenities), list(buildings), set(exclude)
    tags: dict[str, Any] = {}
    if amenities:
        tags["amenity"] = amenities
    if buildings:
        tags["building"] = buildings
    feats = features_from_osm(path, tags) if tags else features_from_osm(path, {"amenity": []})
    amen = feats["amenity"] if "amenity" in feats.columns else pd.Series(None, index=feats.index)
    bld = feats["building"] if "building" in feats.columns else pd.Series(None, index=feats.index)
    match = amen.isin(amenities) | bld.isin(buildings)
    feats = feats[match.to_numpy()]
    amen, bld = amen[feats.index], bld[feats.index]
    tall = _height_m(feats) >= _SUPERTALL_M
    bad = bld.isin(exclude).to_numpy() | tall
    excluded = [str(i) for i in feats.index[bad]]
    feats = feats[~bad]
    if len(feats) == 0:
        warn(f"candidates_from_osm: no community-facing building or amenity in {path}; "
             "use road_candidates(net) for sites along the streets.")
        from careplan.io import empty_frame

        out = empty_frame("candidates", crs)
        note(out, "no_candidates", True)
        note(out, "excluded", excluded)
        return out
    amen, bld = amen[feats.index], bld[feats.index]
    kind = [f"amenity={a}" if a in amenities else f"building={b}"
            for a, b in zip(amen.to_numpy(), bld.to_numpy(), strict=True)]
    metric = feats.to_crs(crs) if crs is not None else feats.to_crs(feats.estimate_utm_crs())
    footprint = np.where(metric.geom_type.isin(["Polygon", "MultiPolygon"]), metric.geometry.area, 0.0)
    name = feats["name"] if "name" in feats.columns else pd.Series(None, index=feats.index)
    raw = gpd.GeoDataFrame({"candidate_id": feats.index.astype(str), "kind": kind,
                            "name": [n if isinstance(n, str) else "" for n in name],
                            "footprint_m2": footprint},
                           geometry=metric.geometry.representative_point().to_numpy(),
                           crs=metric.crs)
    if within is not None:
        raw = raw[raw.within(within)]
    out = read_candidates(raw)
    note(out, "excluded", excluded)
    return out


def road_candidates(net: Any, *, spacing_m: float = 200.0, within: Any = None) -> gpd.GeoDataFrame:
    """Candidate sites along the streets, about one per ``spacing_m`` square.

    Points are placed on every edge at the middles of ``max(1, round(L / spacing_m))``
    equal pieces (an edge of length L), then thinned to the first point in each
    ``spacing_m`` x ``spacing_m`` grid cell (short edges of a dense grid would otherwise
    give many near-duplicate sites).

    Parameters
    ----------
    net : WalkNetwork
        The walk network.
    spacing_m : float
        Spacing, metres (default 200 m: a 5-minute life circle of 300 m radius then holds
        several candidates; GB 50180-2018 table 3.0.4).
    within : shapely geometry, optional
        Keep only points inside it (in ``net.crs``).

    Returns
    -------
    GeoDataFrame
        As :func:`careplan.read_candidates`: ``candidate_id`` (``"road-0"``...), ``name``
        (the street's name, '' when unnamed); points in ``net.crs``.

    Raises
    ------
    InputError
        ``spacing_m`` not a positive number, or no point left (``within`` outside the network).
    """
    if not (_is_number(spacing_m) and 1 <= spacing_m <= 100_000):
        raise InputError(f"road_candidates: spacing_m must be a number in [1, 100000] m, got {spacing_m!r}.")
    e = net.edges
    geoms = e.geometry.to_numpy()
    n = np.maximum(1, np.rint(shapely.length(geoms) / spacing_m)).astype(int)
    rep = np.repeat(np.arange(len(geoms)), n)
    k = np.arange(n.sum()) - np.repeat(np.cumsum(n) - n, n)
    pts = shapely.line_interpolate_point(geoms[rep], (k + 0.5) / n[rep], normalized=True)
    cell = np.column_stack([np.floor(shapely.get_x(pts) / spacing_m),
                            np.floor(shapely.get_y(pts) / spacing_m)])
    _, first = np.unique(cell, axis=0, return_index=True)
    first = np.sort(first)
    pts, rep = pts[first], rep[first]
    if within is not None:
        keep = shapely.within(pts, within)
        pts, rep = pts[keep], rep[keep]
    if len(pts) == 0:
        raise InputError("road_candidates: no point left; is `within` inside the network?")
    names = e["name"].to_numpy()[rep] if "name" in e.columns else np.full(len(pts), None)
    raw = gpd.GeoDataFrame({"candidate_id": [f"road-{i}" for i in range(len(pts))],
                            "name": [str(x) if isinstance(x, str) else "" for x in names]},
                           geometry=pts, crs=net.crs)
    return read_candidates(raw)

