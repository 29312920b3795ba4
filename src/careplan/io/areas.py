"""Read residential areas (小区 / 居住区)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import geopandas as gpd

from careplan._errors import InputError
from careplan._schema import BUILT_SYNONYMS, BUILT_VALUES, normalise_vocab
from careplan.io._common import note
from careplan.io._doc import fill
from careplan.io._read import Source
from careplan.io._validate import check_text_keys, int_column, prepare, str_column, vocab_column

__all__ = ["read_areas"]


def read_areas(
    src: Source,
    *,
    id_col: str | None = "area_id",
    layer: str | int | None = None,
    sheet: str | int | None = None,
    encoding: str | None = None,
    columns: Mapping[str, str] | None = None,
    crs: Any = None,
    src_crs: Any = None,
    coord_system: str = "wgs84",
    make_valid: bool = False,
    default_built: str | None = None,
    require_households: bool = True,
) -> gpd.GeoDataFrame:
    """Read residential areas (小区 / 居住区) and validate them.

    Parameters
    ----------
    %(common)s
    default_built : {'new', 'existing'}, optional
        Value for ``built`` when the column is absent (recorded in attrs). Missing
        values in a present column are errors either way.
    require_households : bool
        If False, a missing ``households`` column is allowed (e.g. before
        :func:`aggregate_households`).

    Returns
    -------
    GeoDataFrame
        Columns ``area_id`` (str), ``households`` (int64 >= 0), ``elderly`` and
        ``population`` (int64 >= 0, only if given), ``built`` ('new' | 'existing'),
        optional ``street``/``district``/``name``/``address`` (str), extra columns
        unchanged, geometry Polygon/MultiPolygon/Point (2-D) in a projected CRS;
        index = ``area_id``.

    Raises
    ------
    InputError
        No records, duplicate/missing ids or ids with control characters,
        negative/non-integer/missing/implausible (> 1e7) households or elderly, unknown
        ``built`` values, empty or invalid geometries, undecodable text.
    CRSError
        No CRS, or a geographic ``crs=`` target.
    """
    return _read_areas(
        src, id_col=id_col, layer=layer, sheet=sheet, encoding=encoding, columns=columns,
        crs=crs, src_crs=src_crs, coord_system=coord_system, make_valid=make_valid,
        default_built=default_built, require_households=require_households, require_built=True,
    )


read_areas.__doc__ = fill(read_areas.__doc__)


def _read_areas(src, *, id_col, layer=None, sheet=None, encoding=None, columns=None, crs=None,
                src_crs=None, coord_system="wgs84", make_valid=False, default_built=None,
                require_households=True, require_built=True) -> gpd.GeoDataFrame:
    what = "areas"
    gdf = prepare(
        src, what, kind="areas", id_col=id_col, layer=layer, sheet=sheet, encoding=encoding,
        columns=columns, crs=crs, src_crs=src_crs, coord_system=coord_system,
        make_valid=make_valid, allowed_geoms=("Polygon", "MultiPolygon", "Point"),
    )
    hint = " Households must be whole numbers >= 0 (estimate_households can estimate them)."
    if "households" in gdf.columns:
        gdf["households"] = int_column(gdf, "households", what, kind="areas", hint=hint)
    elif require_households:
        raise InputError(
            f"{what}: column 'households' is missing. Add it (or map yours with "
            "columns={'your_col': 'households'}); estimate_households/aggregate_households "
            "can derive it from buildings or household points."
        )
    for col in ("elderly", "population"):
        if col in gdf.columns:
            gdf[col] = int_column(gdf, col, what, kind="areas",
                                  hint=f" {col.capitalize()} counts must be whole numbers >= 0.")
    if "built" in gdf.columns:
        gdf["built"] = vocab_column(gdf, "built", what, BUILT_SYNONYMS, BUILT_VALUES)
    elif default_built is not None:
        value = normalise_vocab(default_built, BUILT_SYNONYMS)
        if value is None:
            raise InputError(f"{what}: default_built={default_built!r} is not one of {BUILT_VALUES}.")
        gdf["built"] = value
        note(gdf, "built_default", value)
    elif require_built:
        raise InputError(
            f"{what}: column 'built' is missing: say for each area whether it is a 'new' or an "
            "'existing' estate (standards use different rates), or pass default_built='existing'."
        )
    for col in ("street", "district", "name", "address"):
        if col in gdf.columns:
            gdf[col] = str_column(gdf, col)
            if col in ("street", "district"):
                check_text_keys(gdf[col], what, col)
    return gdf
