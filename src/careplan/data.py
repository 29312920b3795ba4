"""Read, validate and normalise planning inputs; estimate households from buildings.

Every reader accepts a GeoDataFrame, a plain DataFrame with longitude/latitude
columns, or a path (GeoPackage with optional ``layer=``, GeoJSON, Shapefile,
any other format pyogrio reads, or a CSV with longitude/latitude columns) and
returns a **new** GeoDataFrame that

* is in a projected (metric) CRS: a geographic CRS is reprojected to
  ``gdf.estimate_utm_crs()`` (or to ``crs=`` if given) with a
  :class:`~careplan.CareplanWarning`;
* is indexed by its id values (string, index name None) and keeps the id column;
* has the canonical columns of its kind (see each reader) with checked dtypes;
* keeps every extra column and every record: invalid records raise
  :class:`~careplan.InputError` naming the ids, they are never dropped.

What was changed on the user's behalf (reprojection, offset-coordinate
conversion, repaired geometries, polygons reduced to points, defaults filled) is
warned about and recorded in ``gdf.attrs["careplan"]`` (a dict).

Ids
---
``id_col`` names the column holding the ids (default: the canonical name, e.g.
``"area_id"``). Ids are converted to strings (``12`` and ``12.0`` both become
``"12"``) and must be unique and non-missing. If the named column does not exist
an :class:`~careplan.InputError` is raised; pass ``id_col=None`` to use the
frame's index (or the row number, for files) as ids instead. The canonical id
column (e.g. ``area_id``) is always present in the result.

Coordinates
-----------
A source without CRS raises :class:`~careplan.CRSError` unless ``src_crs=`` says
what it is. CSV files and plain DataFrames are read as longitude/latitude
degrees (``EPSG:4326``) from columns named ``lon``/``lng``/``longitude``/``x``
and ``lat``/``latitude``/``y`` (case-insensitive). ``coord_system="gcj02"`` or
``"bd09"`` declares Chinese offset coordinates (Amap/Gaode, Tencent; Baidu);
they are converted to WGS84 (see :mod:`careplan._crs`) before projection.
"""

from __future__ import annotations

import re
import warnings
from collections.abc import Iterable, Mapping
from os import PathLike
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from careplan._crs import COORD_SYSTEMS, to_wgs84
from careplan._errors import CareplanWarning, CRSError, InputError
from careplan._schema import BUILT_SYNONYMS, BUILT_VALUES, FACILITY_LEVELS, LEVEL_SYNONYMS

__all__ = [
    "BUILT_SYNONYMS",
    "BUILT_VALUES",
    "DEFAULT_DWELLING_M2",
    "FACILITY_LEVELS",
    "LEVEL_SYNONYMS",
    "aggregate_households",
    "buildings_from_osm",
    "estimate_households",
    "features_from_osm",
    "landuse_from_osm",
    "read_areas",
    "read_candidates",
    "read_facilities",
    "read_households",
]

Source = gpd.GeoDataFrame | pd.DataFrame | str | PathLike

DEFAULT_DWELLING_M2 = 90.0
"""Default gross floor area of one dwelling, m2 (see :func:`estimate_households`)."""

_LON_NAMES = ("lon", "lng", "longitude", "x")
_LAT_NAMES = ("lat", "latitude", "y")
_MAX_LISTED = 10


# ----------------------------------------------------------------------------- helpers
def _fmt_ids(ids: Iterable[Any]) -> str:
    ids = [str(i) for i in ids]
    shown = ", ".join(repr(i) for i in ids[:_MAX_LISTED])
    if len(ids) > _MAX_LISTED:
        shown += f", ... ({len(ids)} in all)"
    return shown


def _note(gdf: gpd.GeoDataFrame, key: str, value: Any) -> None:
    gdf.attrs.setdefault("careplan", {})[key] = value


def _warn(msg: str) -> None:
    warnings.warn(msg, CareplanWarning, stacklevel=4)


def _find_column(columns: Iterable[str], names: tuple[str, ...]) -> str | None:
    lower = {str(c).lower(): c for c in columns}
    for n in names:
        if n in lower:
            return lower[n]
    return None


def _points_from_table(df: pd.DataFrame, what: str, src_crs: Any) -> gpd.GeoDataFrame:
    lon = _find_column(df.columns, _LON_NAMES)
    lat = _find_column(df.columns, _LAT_NAMES)
    if lon is None or lat is None:
        raise InputError(
            f"{what}: no coordinate columns found. A table needs a longitude column "
            f"(one of {', '.join(_LON_NAMES)}) and a latitude column "
            f"(one of {', '.join(_LAT_NAMES)}), case-insensitive; found {list(df.columns)}."
        )
    x = pd.to_numeric(df[lon], errors="coerce").to_numpy(dtype=float)
    y = pd.to_numeric(df[lat], errors="coerce").to_numpy(dtype=float)
    geom = shapely.points(x, y)
    geom[~(np.isfinite(x) & np.isfinite(y))] = None
    crs = src_crs if src_crs is not None else "EPSG:4326"
    if src_crs is None:
        ok = np.isfinite(x) & np.isfinite(y)
        if ok.any() and (np.abs(x[ok]).max() > 180 or np.abs(y[ok]).max() > 90):
            raise CRSError(
                f"{what}: columns {lon!r}/{lat!r} hold values outside longitude/latitude "
                f"degrees; pass src_crs= (e.g. src_crs='EPSG:32650') to say which CRS they are in."
            )
    return gpd.GeoDataFrame(df.copy(), geometry=geom, crs=crs)


def _load(src: Source, what: str, *, layer: str | int | None, src_crs: Any,
          id_col: str | None = None) -> gpd.GeoDataFrame:
    """Return a GeoDataFrame copy of ``src`` (CRS possibly None)."""
    if isinstance(src, gpd.GeoDataFrame):
        gdf = src.copy()
        if src_crs is not None and gdf.crs is None:
            gdf = gdf.set_crs(src_crs)
        return gdf
    if isinstance(src, pd.DataFrame):
        return _points_from_table(src, what, src_crs)
    if isinstance(src, str | PathLike):
        path = Path(src)
        if not path.exists():
            raise InputError(f"{what}: file not found: {path}")
        if path.suffix.lower() in (".csv", ".txt", ".tsv"):
            sep = "\t" if path.suffix.lower() == ".tsv" else ","
            # ids stay text ("007" must not become 7)
            df = pd.read_csv(path, sep=sep, encoding="utf-8-sig",
                             dtype={id_col: str} if id_col is not None else None)
            return _points_from_table(df, f"{what} ({path.name})", src_crs)
        try:
            gdf = gpd.read_file(path, layer=layer)
        except Exception as exc:  # pyogrio raises several types
            raise InputError(f"{what}: cannot read {path} (layer={layer!r}): {exc}") from exc
        if src_crs is not None and gdf.crs is None:
            gdf = gdf.set_crs(src_crs)
        return gdf
    raise InputError(
        f"{what}: expected a GeoDataFrame, a DataFrame with lon/lat columns or a file path, "
        f"got {type(src).__name__}."
    )


def _canonical_id(values: pd.Series) -> pd.Series:
    def conv(v: Any) -> Any:
        if v is None or (isinstance(v, float) and np.isnan(v)) or v is pd.NA:
            return None
        if isinstance(v, float | np.floating) and float(v).is_integer():
            return str(int(v))
        return str(v).strip()

    return values.map(conv).astype(object)


def _set_ids(gdf: gpd.GeoDataFrame, id_col: str | None, canonical: str, what: str):
    if id_col is None:
        ids = _canonical_id(pd.Series(gdf.index, index=gdf.index))
        if canonical in gdf.columns:
            raise InputError(
                f"{what}: id_col=None asks for ids from the index, but a {canonical!r} column "
                f"exists; pass id_col={canonical!r} to use it or drop it."
            )
    else:
        if id_col not in gdf.columns:
            raise InputError(
                f"{what}: id column {id_col!r} not found (columns: {list(gdf.columns)}). "
                f"Pass id_col='<your id column>', or id_col=None to use the index as ids."
            )
        if id_col != canonical and canonical in gdf.columns:
            raise InputError(
                f"{what}: id_col={id_col!r} but a {canonical!r} column also exists and would be "
                f"overwritten; drop or rename it, or pass id_col={canonical!r}."
            )
        ids = _canonical_id(gdf[id_col])
    missing = ids.isna() | (ids == "")
    if missing.any():
        rows = [str(i) for i in np.flatnonzero(missing.to_numpy())]
        raise InputError(
            f"{what}: {int(missing.sum())} record(s) have no id in column "
            f"{id_col or 'index'!r} (row positions {_fmt_ids(rows)}); give every record an id."
        )
    dup = ids[ids.duplicated(keep=False)]
    if len(dup):
        raise InputError(
            f"{what}: ids must be unique; duplicated in column {id_col or 'index'!r}: "
            f"{_fmt_ids(sorted(set(dup)))}. Make the ids unique (e.g. append a suffix)."
        )
    gdf[canonical] = ids.to_numpy()
    gdf.index = pd.Index(ids.to_numpy(), dtype=object, name=None)
    return gdf


def _rename(gdf: gpd.GeoDataFrame, columns: Mapping[str, str] | None, what: str):
    if not columns:
        return gdf
    missing = [c for c in columns if c not in gdf.columns]
    if missing:
        raise InputError(f"{what}: columns= names {missing} which are not in the data.")
    clash = [v for k, v in columns.items() if v in gdf.columns and v != k and v not in columns]
    if clash:
        raise InputError(
            f"{what}: columns= would rename onto existing column(s) {clash}; drop or rename them first."
        )
    return gdf.rename(columns=dict(columns))


def _check_geometry(gdf: gpd.GeoDataFrame, what: str, allowed: tuple[str, ...], make_valid: bool):
    geom = gdf.geometry
    empty = geom.isna() | geom.is_empty
    if empty.any():
        raise InputError(
            f"{what}: record(s) {_fmt_ids(gdf.index[empty])} have no geometry (None or empty). "
            "Give them a geometry (or coordinates) or remove them explicitly."
        )
    bad_type = ~geom.geom_type.isin(allowed)
    if bad_type.any():
        types = sorted(set(geom.geom_type[bad_type]))
        raise InputError(
            f"{what}: geometry type(s) {types} not allowed (allowed: {', '.join(allowed)}); "
            f"records {_fmt_ids(gdf.index[bad_type])}."
        )
    invalid = ~geom.is_valid
    if invalid.any():
        ids = list(gdf.index[invalid])
        reasons = shapely.is_valid_reason(geom[invalid].to_numpy())
        detail = "; ".join(f"{i!r}: {r}" for i, r in list(zip(ids, reasons, strict=True))[:5])
        if not make_valid:
            raise InputError(
                f"{what}: invalid geometry in record(s) {_fmt_ids(ids)} ({detail}). "
                "Fix them, or pass make_valid=True to repair them (shapely.make_valid)."
            )
        fixed = shapely.make_valid(geom[invalid].to_numpy())
        polygonal = any(t in ("Polygon", "MultiPolygon") for t in allowed)
        if polygonal:
            fixed = np.array([_polygonal_part(g) for g in fixed], dtype=object)
        still = [i for i, g in zip(ids, fixed, strict=True) if g is None or g.is_empty]
        if still:
            raise InputError(
                f"{what}: record(s) {_fmt_ids(still)} have invalid geometry that cannot be "
                "repaired into a non-empty area; fix them by hand."
            )
        gdf.loc[invalid, gdf.geometry.name] = fixed
        _warn(f"{what}: repaired {len(ids)} invalid geometr(ies) with make_valid: {_fmt_ids(ids)}.")
        _note(gdf, "repaired_geometry", [str(i) for i in ids])
    return gdf


def _polygonal_part(g):
    if g is None:
        return None
    if g.geom_type in ("Polygon", "MultiPolygon"):
        return g
    parts = [p for p in getattr(g, "geoms", []) if p.geom_type in ("Polygon", "MultiPolygon")]
    if not parts:
        return None
    return shapely.union_all(parts)


def _convert_offset(gdf: gpd.GeoDataFrame, coord_system: str, what: str):
    if coord_system not in COORD_SYSTEMS:
        raise InputError(f"{what}: coord_system must be one of {COORD_SYSTEMS}, got {coord_system!r}.")
    if coord_system == "wgs84":
        return gdf
    if not gdf.crs.is_geographic:
        raise CRSError(
            f"{what}: coord_system={coord_system!r} needs longitude/latitude degrees, but the data "
            f"is in projected CRS {gdf.crs.to_string()}. Offset coordinates are never projected; "
            "check the source or drop coord_system."
        )
    if not gdf.crs.equals("EPSG:4326"):
        gdf = gdf.to_crs("EPSG:4326")

    def fn(xy: np.ndarray) -> np.ndarray:
        lon, lat = to_wgs84(xy[:, 0], xy[:, 1], coord_system)
        return np.column_stack([lon, lat])

    gdf[gdf.geometry.name] = shapely.transform(gdf.geometry.to_numpy(), fn)
    gdf = gdf.set_crs("EPSG:4326", allow_override=True)
    _note(gdf, "converted_from", coord_system)
    return gdf


def _project(gdf: gpd.GeoDataFrame, crs: Any, what: str):
    if crs is not None:
        from pyproj import CRS

        target = CRS.from_user_input(crs)
        if target.is_geographic:
            raise CRSError(
                f"{what}: crs={crs!r} is geographic (degrees); careplan needs a projected CRS in "
                "metres, e.g. a UTM zone ('EPSG:32650') or CGCS2000 / Gauss-Kruger."
            )
        if not gdf.crs.equals(target):
            _note(gdf, "source_crs", gdf.crs.to_string())
            gdf = gdf.to_crs(target)
            _note(gdf, "reprojected_to", target.to_string())
        return gdf
    if gdf.crs.is_geographic:
        source = gdf.crs.to_string()
        target = gdf.estimate_utm_crs()
        gdf = gdf.to_crs(target)
        _warn(
            f"{what}: geographic CRS {source} reprojected to {target.to_string()} "
            f"({target.name}) so distances and areas are in metres; pass crs= to choose."
        )
        _note(gdf, "source_crs", source)
        _note(gdf, "reprojected_to", target.to_string())
    return gdf


def _prepare(
    src: Source,
    what: str,
    *,
    canonical_id: str,
    id_col: str | None,
    layer,
    columns,
    crs,
    src_crs,
    coord_system: str,
    make_valid: bool,
    allowed_geoms: tuple[str, ...],
) -> gpd.GeoDataFrame:
    gdf = _load(src, what, layer=layer, src_crs=src_crs, id_col=id_col)
    gdf.attrs = {}
    gdf = _rename(gdf, columns, what)
    if gdf.crs is None:
        raise CRSError(
            f"{what}: the data has no CRS. Set it, e.g. gdf.set_crs('EPSG:4326') for "
            "longitude/latitude degrees, or pass src_crs='EPSG:...' to the reader."
        )
    if len(gdf) == 0:
        raise InputError(f"{what}: no records.")
    gdf = _set_ids(gdf, id_col, canonical_id, what)
    gdf = _check_geometry(gdf, what, allowed_geoms, make_valid)
    gdf = _convert_offset(gdf, coord_system, what)
    gdf = _project(gdf, crs, what)
    return gdf


def _int_column(gdf, col, what, *, minimum=0, hint="") -> pd.Series:
    raw = gdf[col]
    num = pd.to_numeric(raw, errors="coerce")
    bad = num.isna() & raw.notna()
    if bad.any():
        raise InputError(f"{what}: column {col!r} is not numeric for {_fmt_ids(gdf.index[bad])}.{hint}")
    nan = num.isna()
    if nan.any():
        raise InputError(f"{what}: column {col!r} is missing for {_fmt_ids(gdf.index[nan])}.{hint}")
    vals = num.to_numpy(dtype=float)
    frac = vals != np.round(vals)
    if frac.any():
        raise InputError(
            f"{what}: column {col!r} must hold whole numbers; not integer for "
            f"{_fmt_ids(gdf.index[frac])}.{hint}"
        )
    neg = vals < minimum
    if neg.any():
        raise InputError(
            f"{what}: column {col!r} must be >= {minimum}; got "
            + ", ".join(f"{i!r}={v:g}" for i, v in list(zip(gdf.index[neg], vals[neg], strict=True))[:_MAX_LISTED])
            + f".{hint}"
        )
    return pd.Series(vals.astype(np.int64), index=gdf.index, name=col)


def _float_column(gdf, col, what, *, minimum=0.0, hint="") -> pd.Series:
    raw = gdf[col]
    num = pd.to_numeric(raw, errors="coerce")
    bad = num.isna()
    if bad.any():
        raise InputError(
            f"{what}: column {col!r} is missing or not numeric for {_fmt_ids(gdf.index[bad])}.{hint}"
        )
    vals = num.to_numpy(dtype=float)
    neg = ~(vals >= minimum) | ~np.isfinite(vals)
    if neg.any():
        raise InputError(
            f"{what}: column {col!r} must be a finite number >= {minimum}; got "
            + ", ".join(f"{i!r}={v:g}" for i, v in list(zip(gdf.index[neg], vals[neg], strict=True))[:_MAX_LISTED])
            + f".{hint}"
        )
    return pd.Series(vals, index=gdf.index, name=col)


def _vocab_column(gdf, col, what, synonyms: Mapping[str, str], allowed: tuple[str, ...]) -> pd.Series:
    norm = {k.lower(): v for k, v in synonyms.items()}

    def conv(v):
        if v is None or (isinstance(v, float) and np.isnan(v)):
            return None
        return norm.get(str(v).strip().lower())

    out = gdf[col].map(conv)
    bad = out.isna()
    if bad.any():
        vals = sorted({str(v) for v in gdf[col][bad]})
        raise InputError(
            f"{what}: column {col!r} has unknown value(s) {vals[:_MAX_LISTED]} in record(s) "
            f"{_fmt_ids(gdf.index[bad])}. Allowed: {', '.join(allowed)} (or their documented "
            f"synonyms in careplan.data)."
        )
    return out.astype(object)


def _str_column(gdf, col) -> pd.Series:
    s = gdf[col]
    return s.map(lambda v: None if v is None or (isinstance(v, float) and np.isnan(v)) else str(v)).astype(object)


def _to_points(gdf: gpd.GeoDataFrame, what: str) -> gpd.GeoDataFrame:
    poly = ~gdf.geom_type.isin(["Point"])
    if poly.any():
        ids = list(gdf.index[poly])
        gdf.loc[poly, gdf.geometry.name] = gdf.geometry[poly].representative_point()
        _warn(f"{what}: {len(ids)} polygon geometr(ies) replaced by a representative point: {_fmt_ids(ids)}.")
        _note(gdf, "polygons_to_points", [str(i) for i in ids])
    return gdf


# ----------------------------------------------------------------------------- readers
_COMMON_DOC = """
    src : GeoDataFrame, DataFrame or path
        The data. A DataFrame (or CSV) needs lon/lat columns (see module docs).
    id_col : str or None
        Column holding the ids; None uses the index (row number for files).
    layer : str or int, optional
        Layer of a multi-layer file (GeoPackage).
    columns : mapping, optional
        Rename columns first, ``{"your name": "canonical name"}``.
    crs : CRS-like, optional
        Projected target CRS. Default: keep a projected CRS, reproject a
        geographic one to its UTM zone (with a warning).
    src_crs : CRS-like, optional
        CRS of the source when it has none (e.g. a Shapefile without .prj).
    coord_system : {'wgs84', 'gcj02', 'bd09'}
        Declare Chinese offset coordinates (converted to WGS84 first).
    make_valid : bool
        Repair invalid geometries (reported) instead of raising.
"""


def read_areas(
    src: Source,
    *,
    id_col: str | None = "area_id",
    layer: str | int | None = None,
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
        Columns ``area_id`` (str), ``households`` (int64 >= 0), ``elderly``
        (int64 >= 0, only if given), ``built`` ('new' | 'existing'), optional
        ``street``/``district`` (str), extra columns unchanged, geometry
        Polygon/MultiPolygon/Point in a projected CRS; index = ``area_id``.

    Raises
    ------
    InputError
        Duplicate/missing ids, negative/non-integer/missing households or elderly,
        unknown ``built`` values, empty or invalid geometries.
    CRSError
        No CRS, or a geographic ``crs=`` target.
    """
    return _read_areas(
        src, id_col=id_col, layer=layer, columns=columns, crs=crs, src_crs=src_crs,
        coord_system=coord_system, make_valid=make_valid, default_built=default_built,
        require_households=require_households, require_built=True,
    )


def _read_areas(src, *, id_col, layer, columns, crs, src_crs, coord_system, make_valid,
                default_built, require_households, require_built) -> gpd.GeoDataFrame:
    what = "areas"
    gdf = _prepare(
        src, what, canonical_id="area_id", id_col=id_col, layer=layer, columns=columns, crs=crs,
        src_crs=src_crs, coord_system=coord_system, make_valid=make_valid,
        allowed_geoms=("Polygon", "MultiPolygon", "Point"),
    )
    hint = " Households must be whole numbers >= 0 (estimate_households can estimate them)."
    if "households" in gdf.columns:
        gdf["households"] = _int_column(gdf, "households", what, hint=hint)
    elif require_households:
        raise InputError(
            f"{what}: column 'households' is missing. Add it (or map yours with "
            "columns={'your_col': 'households'}); estimate_households/aggregate_households "
            "can derive it from buildings or household points."
        )
    if "elderly" in gdf.columns:
        gdf["elderly"] = _int_column(gdf, "elderly", what, hint=" Elderly counts must be whole numbers >= 0.")
    if "built" in gdf.columns:
        gdf["built"] = _vocab_column(gdf, "built", what, BUILT_SYNONYMS, BUILT_VALUES)
    elif default_built is not None:
        value = BUILT_SYNONYMS.get(str(default_built).strip().lower())
        if value is None:
            raise InputError(f"{what}: default_built={default_built!r} is not one of {BUILT_VALUES}.")
        gdf["built"] = value
        _note(gdf, "built_default", value)
    elif require_built:
        raise InputError(
            f"{what}: column 'built' is missing: say for each area whether it is a 'new' or an "
            "'existing' estate (standards use different rates), or pass default_built='existing'."
        )
    for col in ("street", "district", "name"):
        if col in gdf.columns:
            gdf[col] = _str_column(gdf, col)
    return gdf


def read_facilities(
    src: Source,
    *,
    id_col: str | None = "facility_id",
    layer: str | int | None = None,
    columns: Mapping[str, str] | None = None,
    crs: Any = None,
    src_crs: Any = None,
    coord_system: str = "wgs84",
    make_valid: bool = False,
    default_level: str | None = None,
) -> gpd.GeoDataFrame:
    """Read existing elderly-care facilities and validate them.

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
        absent, recorded in attrs), optional ``area_id``/``street``/``district``/``name``
        (str); Point geometry (polygons are replaced by a representative point, with a
        warning); index = ``facility_id``.

    Raises
    ------
    InputError
        Duplicate ids, unknown levels, missing/negative floor areas, bad bed counts,
        ``nursing_beds > beds``, empty/invalid geometries.
    CRSError
        No CRS.
    """
    what = "facilities"
    gdf = _prepare(
        src, what, canonical_id="facility_id", id_col=id_col, layer=layer, columns=columns,
        crs=crs, src_crs=src_crs, coord_system=coord_system, make_valid=make_valid,
        allowed_geoms=("Point", "Polygon", "MultiPolygon"),
    )
    if "level" in gdf.columns:
        gdf["level"] = _vocab_column(gdf, "level", what, LEVEL_SYNONYMS, FACILITY_LEVELS)
    elif default_level is not None:
        value = LEVEL_SYNONYMS.get(str(default_level).strip().lower())
        if value is None:
            raise InputError(f"{what}: default_level={default_level!r} is not one of {FACILITY_LEVELS}.")
        gdf["level"] = value
        _note(gdf, "level_default", value)
    else:
        raise InputError(
            f"{what}: column 'level' is missing; give each facility one of {FACILITY_LEVELS} "
            "or pass default_level=..."
        )
    if "floor_area_m2" not in gdf.columns:
        raise InputError(
            f"{what}: column 'floor_area_m2' (building floor area in m2) is missing; map yours with "
            "columns={'your_col': 'floor_area_m2'}."
        )
    gdf["floor_area_m2"] = _float_column(gdf, "floor_area_m2", what)
    filled = []
    for col in ("beds", "nursing_beds"):
        if col in gdf.columns:
            gdf[col] = _int_column(gdf, col, what, hint=" Use 0 for facilities without beds.")
        else:
            gdf[col] = np.zeros(len(gdf), dtype=np.int64)
            filled.append(col)
    if filled:
        _note(gdf, "filled_zero", filled)
    over = gdf["nursing_beds"] > gdf["beds"]
    if over.any():
        pairs = ", ".join(
            f"{i!r} ({n} > {b})"
            for i, n, b in list(zip(gdf.index[over], gdf["nursing_beds"][over], gdf["beds"][over], strict=True))[:_MAX_LISTED]
        )
        raise InputError(
            f"{what}: nursing_beds must not exceed beds: {pairs}. Nursing beds are a subset of beds."
        )
    if "area_id" in gdf.columns:  # same id normalisation as read_areas (1.0 -> "1")
        gdf["area_id"] = _canonical_id(gdf["area_id"])
    for col in ("street", "district", "name"):
        if col in gdf.columns:
            gdf[col] = _str_column(gdf, col)
    return _to_points(gdf, what)


def read_candidates(
    src: Source,
    *,
    id_col: str | None = "candidate_id",
    layer: str | int | None = None,
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
        ``name`` (str), Point geometry (polygons -> representative point, warned);
        index = ``candidate_id``.
    """
    what = "candidates"
    gdf = _prepare(
        src, what, canonical_id="candidate_id", id_col=id_col, layer=layer, columns=columns,
        crs=crs, src_crs=src_crs, coord_system=coord_system, make_valid=make_valid,
        allowed_geoms=("Point", "Polygon", "MultiPolygon"),
    )
    if "max_floor_area_m2" in gdf.columns:
        gdf["max_floor_area_m2"] = _float_column(gdf, "max_floor_area_m2", what)
    if "name" in gdf.columns:
        gdf["name"] = _str_column(gdf, "name")
    return _to_points(gdf, what)


def read_households(
    src: Source,
    *,
    id_col: str | None = "household_id",
    layer: str | int | None = None,
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
    """
    what = "households"
    gdf = _prepare(
        src, what, canonical_id="household_id", id_col=id_col, layer=layer, columns=columns,
        crs=crs, src_crs=src_crs, coord_system=coord_system, make_valid=make_valid,
        allowed_geoms=("Point", "Polygon", "MultiPolygon"),
    )
    if "households" in gdf.columns:
        gdf["households"] = _int_column(gdf, "households", what)
    else:
        gdf["households"] = np.ones(len(gdf), dtype=np.int64)
        _note(gdf, "households_default", 1)
    if "elderly" in gdf.columns:
        gdf["elderly"] = _int_column(gdf, "elderly", what)
    return gdf


for _f in (read_areas, read_facilities, read_candidates, read_households):
    _f.__doc__ = _f.__doc__.replace("    %(common)s\n", _COMMON_DOC.lstrip("\n"))


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
    """
    what = "buildings"
    for name, val in (("dwelling_m2", dwelling_m2), ("floor_height_m", floor_height_m),
                      ("default_levels", default_levels)):
        if not (np.isfinite(val) and val > 0):
            raise InputError(f"estimate_households: {name} must be a positive number, got {val!r}.")
    for name, val in (("residential_share", residential_share), ("occupancy", occupancy)):
        if not (0 <= val <= 1):
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
            f"{what}: footprints must be non-empty polygons; record(s) {_fmt_ids(gdf.index[bad])} "
            "are not. Drop or fix them before estimating."
        )
    gdf = _project(gdf, crs, what)
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
    """
    if (isinstance(households, pd.DataFrame) and households_id_col is not None
            and households_id_col not in households.columns):
        households_id_col = None
    a = _read_areas(
        areas, id_col=areas_id_col, layer=None, columns=None, crs=None, src_crs=None,
        coord_system="wgs84", make_valid=False, default_built=None,
        require_households=False, require_built=False,
    )
    h = read_households(households, id_col=households_id_col, crs=a.crs)
    if "households" in a.columns:
        _warn("aggregate_households: the areas' existing 'households' column is replaced by the sums.")
    points = a.geom_type.isin(["Point"])
    if points.any():
        raise InputError(
            f"aggregate_households: areas must be polygons to contain households; "
            f"{_fmt_ids(a.index[points])} are points."
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
    _note(result, "unassigned", [str(i) for i in outside_ids])
    _note(result, "unassigned_households", int(h.loc[outside_ids, "households"].sum()) if outside_ids else 0)
    _note(result, "multiple_areas", [str(i) for i in multiple])
    if outside_ids:
        _warn(
            f"aggregate_households: {len(outside_ids)} record(s) with "
            f"{result.attrs['careplan']['unassigned_households']} households lie outside every area "
            f"and are not counted: {_fmt_ids(outside_ids)}."
        )
    if len(multiple):
        _warn(
            f"aggregate_households: {len(multiple)} record(s) lie in more than one area and were "
            f"counted once, in the first: {_fmt_ids(multiple)}."
        )
    return result


# ----------------------------------------------------------------------------- OSM helpers
def features_from_osm(path: str | PathLike, tags: Mapping[str, Any] | None = None) -> gpd.GeoDataFrame:
    """Read OSM features matching ``tags`` from a local .osm / .osm.bz2 file (offline).

    Thin wrapper of :func:`osmnx.features_from_xml`; ``tags`` as in osmnx
    (``{"building": True}``, ``{"landuse": ["residential"]}``); None reads every
    tagged feature. Returns EPSG:4326 features indexed by (element, id).
    """
    import osmnx as ox

    path = Path(path)
    if not path.exists():
        raise InputError(f"OSM file not found: {path}")
    try:
        return ox.features_from_xml(path, tags=None if tags is None else dict(tags))
    except ox._errors.InsufficientResponseError as exc:
        raise InputError(f"{path.name}: no OSM features match tags {tags}.") from exc


def buildings_from_osm(path: str | PathLike) -> gpd.GeoDataFrame:
    """Building footprints (polygons with a ``building`` tag) from a local OSM file.

    Point-only buildings are left out (they have no footprint) and their number is
    reported in ``attrs["careplan"]["skipped_non_polygon"]`` with a warning.
    """
    feats = features_from_osm(path, {"building": True})
    feats = feats[feats["building"].notna()]
    poly = feats.geom_type.isin(["Polygon", "MultiPolygon"])
    out = feats[poly].copy()
    out.attrs = {"careplan": {"skipped_non_polygon": [str(i) for i in feats.index[~poly]]}}
    if (~poly).any():
        _warn(f"buildings_from_osm: {int((~poly).sum())} building(s) without a footprint left out: "
              f"{_fmt_ids(feats.index[~poly])}.")
    return out


def landuse_from_osm(path: str | PathLike, values: Iterable[str] = ("residential",)) -> gpd.GeoDataFrame:
    """Landuse polygons with ``landuse`` in ``values`` from a local OSM file."""
    values = list(values)
    feats = features_from_osm(path, {"landuse": values})
    feats = feats[feats["landuse"].isin(values) & feats.geom_type.isin(["Polygon", "MultiPolygon"])]
    return feats.copy()
