"""Households: read household points, estimate households from buildings, sum them into areas."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd

from careplan._errors import CRSError, InputError
from careplan.io._common import fmt_ids, note, warn
from careplan.io._common import is_number as _is_number
from careplan.io._doc import fill
from careplan.io._read import Source
from careplan.io._validate import int_column, prepare, project
from careplan.io.areas import _read_areas

__all__ = ["DEFAULT_DWELLING_M2", "aggregate_households", "estimate_households", "read_households"]

DEFAULT_DWELLING_M2 = 90.0
"""Default gross floor area of one dwelling, m2 (see :func:`estimate_households`)."""


def read_households(
    src: Source,
    *,
    id_col: str | None = "household_id",
    layer: str | int | None = None,
    sheet: str | int | None = None,
    encoding: str | None = None,
    columns: Mapping[str, str] | None = None,
    crs: Any = None,
    src_crs: Any = None,
    coord_system: str = "wgs84",
    make_valid: bool = False,
) -> gpd.GeoDataFrame:
    """Read household locations (points, or buildings with a household count).

    Parameters
    ----------
    %(common)s

    Returns
    -------
    GeoDataFrame
        ``household_id`` (str), ``households`` (int64 >= 0; 1 per record when the
        column is absent, recorded in attrs), optional ``elderly`` (int64 >= 0),
        Point or polygon geometry (polygons are placed by their representative point
        when aggregated); index = ``household_id``.

    Raises
    ------
    InputError
        No records, duplicate ids or ids with control characters, negative, non-integer or
        implausible (> 1e7) counts, empty/invalid geometries, undecodable text.
    CRSError
        No CRS, or a geographic ``crs=`` target.
    """
    what = "households"
    gdf = prepare(
        src, what, kind="households", id_col=id_col, layer=layer, sheet=sheet, encoding=encoding,
        columns=columns, crs=crs, src_crs=src_crs, coord_system=coord_system, make_valid=make_valid,
        allowed_geoms=("Point", "Polygon", "MultiPolygon"),
    )
    if "households" in gdf.columns:
        gdf["households"] = int_column(gdf, "households", what, kind="households")
    else:
        gdf["households"] = np.ones(len(gdf), dtype=np.int64)
        note(gdf, "households_default", 1)
    if "elderly" in gdf.columns:
        gdf["elderly"] = int_column(gdf, "elderly", what, kind="households")
    return gdf


read_households.__doc__ = fill(read_households.__doc__)


# ----------------------------------------------------------------------------- households
def _first_number(v: Any) -> float:
    if v is None:
        return np.nan
    if isinstance(v, int | float | np.integer | np.floating):
        return float(v)
    m = re.search(r"-?\d+(?:\.\d+)?", str(v).replace(",", "."))
    return float(m.group()) if m else np.nan


def estimate_households(
    buildings: gpd.GeoDataFrame,
    *,
    dwelling_m2: float = DEFAULT_DWELLING_M2,
    floor_height_m: float = 3.0,
    default_levels: float = 6.0,
    residential_share: float = 0.9,
    occupancy: float = 1.0,
    levels_col: str = "building:levels",
    height_col: str = "height",
    crs: Any = None,
) -> gpd.GeoDataFrame:
    """Estimate households per building from its footprint and height.

    ``households_est = footprint_m2 x levels x residential_share x occupancy / dwelling_m2``

    ``levels`` comes from ``building:levels`` (first number in the tag); else from
    ``height / floor_height_m`` (rounded, at least 1); else ``default_levels``.
    The source used is reported per building in ``levels_source``.

    Default assumptions (all explicit, change them for your city):

    * ``dwelling_m2 = 90`` m2 of gross floor area (建筑面积, which in Chinese housing
      statistics includes each flat's share of common areas) per dwelling. Stated as an
      assumption from published census figures as we recall them: the 2020 (7th) census
      reports roughly 36-37 m2 of housing floor area per urban resident and about 2.6
      persons per family household, i.e. roughly 90-95 m2 per household; central-city
      stock is older and smaller, so a round 90 is used. Verify for your city.
    * ``floor_height_m = 3.0`` m storey height (typical residential 2.8-3.0 m).
    * ``default_levels = 6``: the six-storey walk-up (多层住宅) typical of 1980s-1990s
      estates, also the most common ``building:levels`` value in the bundled Nanjing sample.
    * ``residential_share = 0.9``: share of the gross floor area that is dwellings
      (the rest: ground-floor shops, plant rooms, lobbies not counted in flats).
    * ``occupancy = 1.0``: share of dwellings occupied (lower it to model vacancy).

    Parameters
    ----------
    buildings : GeoDataFrame
        Building footprints (Polygon/MultiPolygon) with a CRS. Select residential
        buildings yourself: every row is estimated. A geographic CRS is reprojected
        to UTM (warned) to measure areas.
    dwelling_m2, floor_height_m, default_levels, residential_share, occupancy : float
        See above.
    levels_col, height_col : str
        Tag columns for levels and height (metres; '20 m' is read as 20).
    crs : CRS-like, optional
        Projected CRS to measure in (default: keep projected, else UTM).

    Returns
    -------
    GeoDataFrame
        A copy of ``buildings`` (same index) with ``footprint_m2``, ``levels``,
        ``levels_source`` ('building:levels' | 'height' | 'default'),
        ``floor_area_m2`` (gross: footprint x levels), ``households_est`` (float) and
        ``households`` (int64, rounded to nearest).

    Raises
    ------
    InputError
        Settings outside their plausible ranges, not a GeoDataFrame, footprints that are
        not non-empty polygons.
    CRSError
        The buildings have no CRS, or ``crs=`` is geographic.
    """
    what = "buildings"
    # plausible ranges: a dwelling of 5-2,000 m2, a storey of 0.5-20 m, 1-200 storeys
    for name, val, lo, hi in (("dwelling_m2", dwelling_m2, 5.0, 2000.0),
                              ("floor_height_m", floor_height_m, 0.5, 20.0),
                              ("default_levels", default_levels, 1.0, 200.0)):
        if not (_is_number(val) and lo <= val <= hi):
            raise InputError(f"estimate_households: {name} must be a number in [{lo:g}, {hi:g}], "
                             f"got {val!r}.")
    for name, val in (("residential_share", residential_share), ("occupancy", occupancy)):
        if not (_is_number(val) and 0 <= val <= 1):
            raise InputError(f"estimate_households: {name} must be within [0, 1], got {val!r}.")
    if not isinstance(buildings, gpd.GeoDataFrame):
        raise InputError(f"{what}: expected a GeoDataFrame of footprints, got {type(buildings).__name__}.")
    gdf = buildings.copy()
    gdf.attrs = {}
    if gdf.crs is None:
        raise CRSError(f"{what}: the data has no CRS; set it, e.g. gdf.set_crs('EPSG:4326').")
    geom = gdf.geometry
    bad = geom.isna() | geom.is_empty | ~geom.geom_type.isin(["Polygon", "MultiPolygon"])
    if bad.any():
        raise InputError(
            f"{what}: footprints must be non-empty polygons; record(s) {fmt_ids(gdf.index[bad])} "
            "are not. Drop or fix them before estimating."
        )
    gdf = project(gdf, crs, what)
    footprint = gdf.geometry.area.to_numpy(dtype=float)
    n = len(gdf)
    lv = (gdf[levels_col].map(_first_number).to_numpy(dtype=float) if levels_col in gdf.columns
          else np.full(n, np.nan))
    ht = (gdf[height_col].map(_first_number).to_numpy(dtype=float) if height_col in gdf.columns
          else np.full(n, np.nan))
    levels = np.full(n, float(default_levels))
    source = np.full(n, "default", dtype=object)
    from_h = np.isfinite(ht) & (ht > 0)
    levels[from_h] = np.maximum(1.0, np.round(ht[from_h] / floor_height_m))
    source[from_h] = height_col
    from_l = np.isfinite(lv) & (lv > 0)
    levels[from_l] = lv[from_l]
    source[from_l] = levels_col
    gdf["footprint_m2"] = footprint
    gdf["levels"] = levels
    gdf["levels_source"] = source
    gdf["floor_area_m2"] = footprint * levels
    est = gdf["floor_area_m2"].to_numpy() * residential_share * occupancy / dwelling_m2
    gdf["households_est"] = est
    gdf["households"] = np.rint(est).astype(np.int64)
    gdf.attrs.setdefault("careplan", {})["estimator"] = {
        "dwelling_m2": dwelling_m2, "floor_height_m": floor_height_m,
        "default_levels": default_levels, "residential_share": residential_share,
        "occupancy": occupancy,
    }
    return gdf


def aggregate_households(
    households: Source,
    areas: Source,
    *,
    households_id_col: str | None = "household_id",
    areas_id_col: str | None = "area_id",
) -> gpd.GeoDataFrame:
    """Sum household points (or buildings) into the areas that contain them.

    Each record is placed by its point (polygons: representative point) and
    counted in the **first** area (in ``areas`` order) that contains it (points on a
    boundary count as inside), so
    overlapping areas never double count (such records are reported). Records
    outside every area are not counted; they are warned about and listed.

    Parameters
    ----------
    households : GeoDataFrame or path
        Read with :func:`read_households` (``households`` defaults to 1 per point;
        ``elderly`` is summed too when present). Output of :func:`estimate_households`
        works directly.
    households_id_col : str or None
        Id column of ``households``; when a GeoDataFrame lacks it, its index is used
        (ids only label the records reported as outside / in several areas).
    areas_id_col : str or None
        Id column of ``areas`` (None: the index).
    areas : GeoDataFrame or path
        Validated like :func:`read_areas`, except that ``households`` and ``built``
        may be absent (``households`` is replaced); polygon areas only.

    Returns
    -------
    GeoDataFrame
        The areas with ``households`` (int64) = the sum inside each (0 if none) and
        ``elderly`` when the points have it. ``attrs["careplan"]`` holds
        ``unassigned`` (ids outside every area), ``unassigned_households`` (their
        total), ``multiple_areas`` (ids inside more than one area).

    Raises
    ------
    InputError
        Invalid households or areas (as their readers), or point areas (nothing can be
        inside a point).
    CRSError
        Either input has no CRS.
    """
    if (isinstance(households, pd.DataFrame) and households_id_col is not None
            and households_id_col not in households.columns):
        households_id_col = None
    a = _read_areas(areas, id_col=areas_id_col, require_households=False, require_built=False)
    h = read_households(households, id_col=households_id_col, crs=a.crs)
    if "households" in a.columns:
        warn("aggregate_households: the areas' existing 'households' column is replaced by the sums.")
    points = a.geom_type.isin(["Point"])
    if points.any():
        raise InputError(
            f"aggregate_households: areas must be polygons to contain households; "
            f"{fmt_ids(a.index[points])} are points."
        )
    pts = h.geometry.copy()
    nonpt = ~h.geom_type.isin(["Point"])
    pts[nonpt] = h.geometry[nonpt].representative_point()
    pts_gdf = gpd.GeoDataFrame({"_pos": np.arange(len(h))}, geometry=pts.to_numpy(), crs=h.crs)
    area_gdf = gpd.GeoDataFrame({"_apos": np.arange(len(a))}, geometry=a.geometry.to_numpy(), crs=a.crs)
    joined = gpd.sjoin(pts_gdf, area_gdf, how="left", predicate="intersects")
    joined = joined.sort_values(["_pos", "_apos"])
    counts = joined.groupby("_pos")["_apos"].count()
    multiple = h.index[counts.index[counts.to_numpy() > 1].to_numpy()]
    first = joined.drop_duplicates("_pos", keep="first")
    assigned = first["_apos"].to_numpy()
    inside = ~np.isnan(assigned.astype(float))
    result = a.copy()
    for col in ("households", "elderly"):
        if col == "elderly" and "elderly" not in h.columns:
            continue
        sums = np.zeros(len(a), dtype=np.int64)
        vals = h[col].to_numpy(dtype=np.int64)[first["_pos"].to_numpy()]
        np.add.at(sums, assigned[inside].astype(np.int64), vals[inside])
        result[col] = sums
    outside_ids = list(h.index[first["_pos"].to_numpy()[~inside]])
    result.attrs = {"careplan": dict(a.attrs.get("careplan", {}))}
    note(result, "unassigned", [str(i) for i in outside_ids])
    note(result, "unassigned_households", int(h.loc[outside_ids, "households"].sum()) if outside_ids else 0)
    note(result, "multiple_areas", [str(i) for i in multiple])
    if outside_ids:
        warn(
            f"aggregate_households: {len(outside_ids)} record(s) with "
            f"{result.attrs['careplan']['unassigned_households']} households lie outside every area "
            f"and are not counted: {fmt_ids(outside_ids)}."
        )
    if len(multiple):
        warn(
            f"aggregate_households: {len(multiple)} record(s) lie in more than one area and were "
            f"counted once, in the first: {fmt_ids(multiple)}."
        )
    return result


