"""Read existing facilities and candidate sites."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import geopandas as gpd
import numpy as np

from careplan._errors import InputError
from careplan._schema import FACILITY_LEVELS, LEVEL_SYNONYMS, normalise_vocab
from careplan.io._common import MAX_LISTED, note, visible
from careplan.io._doc import fill
from careplan.io._read import Source
from careplan.io._validate import (
    canonical_id,
    check_text_keys,
    empty_frame,
    float_column,
    int_column,
    prepare,
    str_column,
    to_points,
    vocab_column,
)

__all__ = ["read_candidates", "read_facilities"]


def read_facilities(
    src: Source | None,
    *,
    id_col: str | None = "facility_id",
    layer: str | int | None = None,
    sheet: str | int | None = None,
    encoding: str | None = None,
    columns: Mapping[str, str] | None = None,
    crs: Any = None,
    src_crs: Any = None,
    coord_system: str = "wgs84",
    make_valid: bool = False,
    default_level: str | None = None,
) -> gpd.GeoDataFrame:
    """Read existing elderly-care facilities and validate them.

    A district with no facilities yet is normal: ``src=None``, an empty frame or a
    header-only file give an empty frame with the columns below (in ``crs`` when given,
    else without CRS: it has no positions to measure).

    Parameters
    ----------
    %(common)s
    default_level : str, optional
        Level for every facility when the ``level`` column is absent.

    Returns
    -------
    GeoDataFrame
        ``facility_id`` (str), ``level`` (one of :data:`FACILITY_LEVELS`; synonyms in
        :data:`LEVEL_SYNONYMS` are mapped), ``floor_area_m2`` (float >= 0), ``beds``
        and ``nursing_beds`` (int64 >= 0, nursing_beds <= beds; 0 when the column is
        absent, recorded in attrs), optional ``area_id``/``street``/``district``/``name``/
        ``address`` (str); Point geometry (2-D; polygons are replaced by a representative
        point, with a warning); index = ``facility_id``.

    Raises
    ------
    InputError
        Duplicate ids or ids with control characters, unknown levels, missing/negative/
        implausible floor areas, bad bed counts, ``nursing_beds > beds``, empty/invalid
        geometries, undecodable text.
    CRSError
        No CRS.
    """
    what = "facilities"
    if src is None:
        return empty_frame("facilities", crs, what)
    gdf = prepare(
        src, what, kind="facilities", id_col=id_col, layer=layer, sheet=sheet, encoding=encoding,
        columns=columns, crs=crs, src_crs=src_crs, coord_system=coord_system,
        make_valid=make_valid, allowed_geoms=("Point", "Polygon", "MultiPolygon"), allow_empty=True,
    )
    if gdf.attrs.get("careplan", {}).get("empty"):
        return gdf
    if "level" in gdf.columns:
        gdf["level"] = vocab_column(gdf, "level", what, LEVEL_SYNONYMS, FACILITY_LEVELS)
    elif default_level is not None:
        value = normalise_vocab(default_level, LEVEL_SYNONYMS)
        if value is None:
            raise InputError(f"{what}: default_level={default_level!r} is not one of {FACILITY_LEVELS}.")
        gdf["level"] = value
        note(gdf, "level_default", value)
    else:
        raise InputError(
            f"{what}: column 'level' is missing; give each facility one of {FACILITY_LEVELS} "
            "(or a Chinese name such as 社区养老服务站, 日间照料中心, 养老院) or pass default_level=..."
        )
    if "floor_area_m2" not in gdf.columns:
        raise InputError(
            f"{what}: column 'floor_area_m2' (building floor area in m2, 建筑面积) is missing; map "
            "yours with columns={'your_col': 'floor_area_m2'}."
        )
    gdf["floor_area_m2"] = float_column(gdf, "floor_area_m2", what, kind="facilities")
    filled = []
    for col in ("beds", "nursing_beds"):
        if col in gdf.columns:
            gdf[col] = int_column(gdf, col, what, kind="facilities",
                                  hint=" Use 0 for facilities without beds.")
        else:
            gdf[col] = np.zeros(len(gdf), dtype=np.int64)
            filled.append(col)
    if filled:
        note(gdf, "filled_zero", filled)
    over = gdf["nursing_beds"] > gdf["beds"]
    if over.any():
        pairs = ", ".join(
            f"{visible(i)} ({n} > {b})"
            for i, n, b in list(zip(gdf.index[over], gdf["nursing_beds"][over], gdf["beds"][over],
                                    strict=True))[:MAX_LISTED]
        )
        raise InputError(
            f"{what}: nursing_beds must not exceed beds: {pairs}. Nursing beds are a subset of beds."
        )
    if "area_id" in gdf.columns:  # same id normalisation as read_areas (1.0 -> "1")
        gdf["area_id"] = canonical_id(gdf["area_id"])
        check_text_keys(gdf["area_id"], what, "area_id")
    for col in ("street", "district", "name", "address"):
        if col in gdf.columns:
            gdf[col] = str_column(gdf, col)
            if col in ("street", "district"):
                check_text_keys(gdf[col], what, col)
    return to_points(gdf, what)


read_facilities.__doc__ = fill(read_facilities.__doc__)


def read_candidates(
    src: Source,
    *,
    id_col: str | None = "candidate_id",
    layer: str | int | None = None,
    sheet: str | int | None = None,
    encoding: str | None = None,
    columns: Mapping[str, str] | None = None,
    crs: Any = None,
    src_crs: Any = None,
    coord_system: str = "wgs84",
    make_valid: bool = False,
) -> gpd.GeoDataFrame:
    """Read candidate sites for new facilities.

    Parameters
    ----------
    %(common)s

    Returns
    -------
    GeoDataFrame
        ``candidate_id`` (str), optional ``max_floor_area_m2`` (float >= 0) and
        ``name``/``address`` (str), Point geometry (2-D; polygons -> representative
        point, warned); index = ``candidate_id``.

    Raises
    ------
    InputError
        No records, duplicate ids or ids with control characters, bad
        ``max_floor_area_m2``, empty/invalid geometries, undecodable text.
    CRSError
        No CRS, or a geographic ``crs=`` target.
    """
    what = "candidates"
    gdf = prepare(
        src, what, kind="candidates", id_col=id_col, layer=layer, sheet=sheet, encoding=encoding,
        columns=columns, crs=crs, src_crs=src_crs, coord_system=coord_system,
        make_valid=make_valid, allowed_geoms=("Point", "Polygon", "MultiPolygon"),
    )
    if "max_floor_area_m2" in gdf.columns:
        gdf["max_floor_area_m2"] = float_column(gdf, "max_floor_area_m2", what, kind="candidates")
    for col in ("name", "address", "street", "district"):
        if col in gdf.columns:
            gdf[col] = str_column(gdf, col)
    return to_points(gdf, what)


read_candidates.__doc__ = fill(read_candidates.__doc__)
