"""Validate and normalise a loaded GeoDataFrame: ids, typed columns, geometry, CRS.

Used by every reader after :func:`careplan.io._read.load`, so the rules are the
same whatever the source: ids are text without control characters, numbers are
finite and within the plausible range of :data:`careplan._schema.CONTRACTS`,
Z coordinates are dropped (one note), geometries are checked, offset coordinates
are converted and the frame is projected to metres.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Mapping
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from careplan._crs import COORD_SYSTEMS, to_wgs84
from careplan._errors import CRSError, InputError
from careplan._schema import CONTRACTS, normalise_vocab
from careplan.io._common import MAX_LISTED, fmt_ids, note, visible, warn
from careplan.io._read import Source, load, to_number


# ----------------------------------------------------------------------------- ids
def _is_missing(v: Any) -> bool:
    return v is None or v is pd.NA or (isinstance(v, float | np.floating) and np.isnan(v))


def canonical_id(values: pd.Series) -> pd.Series:
    """Ids as text: ``12`` and ``12.0`` -> ``"12"``, ``"007"`` stays ``"007"``, blanks trimmed."""
    def conv(v: Any) -> Any:
        if _is_missing(v):
            return None
        if isinstance(v, bool | np.bool_):
            return str(v)
        if isinstance(v, float | np.floating) and float(v).is_integer():
            return str(int(v))
        return str(v).strip()

    return pd.Series([conv(v) for v in values], index=values.index, dtype=object)


def _control_chars(values: pd.Series) -> np.ndarray:
    """True where a text value holds a Cc (control) or Cf (format) character."""
    vals = pd.Series(values.to_numpy(dtype=object), dtype=object)
    present = vals.notna().to_numpy(dtype=bool)
    out = np.zeros(len(vals), dtype=bool)
    if not present.any():
        return out
    txt = vals[present].astype(str)
    ascii_ = txt.str.isascii().to_numpy(dtype=bool)
    pos = np.flatnonzero(present)
    out[pos[ascii_]] = txt[ascii_].str.contains(r"[\x00-\x1f\x7f]", regex=True).to_numpy(dtype=bool)
    for i, v in zip(pos[~ascii_], txt[~ascii_], strict=True):
        out[i] = any(unicodedata.category(c) in ("Cc", "Cf") for c in v)
    return out


def check_text_keys(values: pd.Series, what: str, col: str) -> None:
    """Refuse keys (ids, street/district names) holding control or format characters.

    Such ids display identically to others (``'a'`` and ``'a\\x00'``), are truncated at
    a NUL by some writers and collide in spreadsheets; they are refused, shown escaped.
    """
    bad = _control_chars(values)
    if bad.any():
        raise InputError(
            f"{what}: column {col!r} holds control or invisible characters in "
            f"{fmt_ids(values[bad])} (data rows {', '.join(str(i + 1) for i in np.flatnonzero(bad)[:MAX_LISTED])}); "
            "remove them (they display like other ids and are cut at NUL by some programs)."
        )


def set_ids(gdf: gpd.GeoDataFrame, id_col: str | None, canonical: str, what: str) -> gpd.GeoDataFrame:
    """Index ``gdf`` by its ids (text, unique, non-missing) and store them in ``canonical``."""
    if id_col is None:
        ids = canonical_id(pd.Series(gdf.index, index=gdf.index))
        if canonical in gdf.columns:
            raise InputError(
                f"{what}: id_col=None asks for ids from the index, but a {canonical!r} column "
                f"exists; pass id_col={canonical!r} to use it or drop it."
            )
    else:
        if id_col not in gdf.columns:
            raise InputError(
                f"{what}: id column {id_col!r} not found (columns: {list(gdf.columns)}). "
                f"Pass id_col='<your id column>' (or map it with columns={{'<yours>': "
                f"{canonical!r}}}), or id_col=None to use the index as ids."
            )
        if id_col != canonical and canonical in gdf.columns:
            raise InputError(
                f"{what}: id_col={id_col!r} but a {canonical!r} column also exists and would be "
                f"overwritten; drop or rename it, or pass id_col={canonical!r}."
            )
        ids = canonical_id(gdf[id_col])
    missing = ids.isna() | (ids == "")
    if missing.any():
        rows = [str(i) for i in np.flatnonzero(missing.to_numpy())]
        raise InputError(
            f"{what}: {int(missing.sum())} record(s) have no id in column "
            f"{id_col or 'index'!r} (row positions {', '.join(rows[:MAX_LISTED])}); give every "
            "record an id."
        )
    check_text_keys(ids, what, id_col or "index")
    dup = ids[ids.duplicated(keep=False)]
    if len(dup):
        raise InputError(
            f"{what}: ids must be unique; duplicated in column {id_col or 'index'!r}: "
            f"{fmt_ids(sorted(set(dup)))}. Make the ids unique (e.g. append a suffix)."
        )
    gdf[canonical] = ids.to_numpy()
    gdf.index = pd.Index(ids.to_numpy(), dtype=object, name=None)
    return gdf


# ----------------------------------------------------------------------------- typed columns
def _max_value(kind: str, col: str) -> float | None:
    return next((c.max_value for c in CONTRACTS.get(kind, ()) if c.name == col), None)


def _range_error(gdf, col, what, vals, bad, rule, hint) -> InputError:
    shown = ", ".join(f"{visible(i)}={v:g}" for i, v in
                      list(zip(gdf.index[bad], vals[bad], strict=True))[:MAX_LISTED])
    more = f" ({int(bad.sum())} in all)" if bad.sum() > MAX_LISTED else ""
    return InputError(f"{what}: column {col!r} must be {rule}; got {shown}{more}.{hint}")


def int_column(gdf, col, what, *, kind: str, minimum=0, hint="") -> pd.Series:
    """Whole numbers in ``[minimum, contract max]`` as int64 (errors name the records)."""
    raw = gdf[col]
    num = to_number(raw)
    bad = num.isna() & raw.notna()
    if bad.any():
        shown = ", ".join(f"{visible(i)}={visible(v)}" for i, v in
                          list(zip(gdf.index[bad], raw[bad], strict=True))[:MAX_LISTED])
        raise InputError(f"{what}: column {col!r} is not numeric for {shown}.{hint}")
    nan = num.isna()
    if nan.any():
        raise InputError(f"{what}: column {col!r} is missing for {fmt_ids(gdf.index[nan])}.{hint}")
    vals = num.to_numpy(dtype=float)
    top = _max_value(kind, col)
    out = ~np.isfinite(vals) | (vals < minimum) | (vals > (top if top is not None else 2.0**53))
    if out.any():
        rule = f"a finite number in [{minimum}, {top if top is not None else 2.0**53:g}]"
        raise _range_error(gdf, col, what, vals, out, rule, hint)
    frac = vals != np.round(vals)
    if frac.any():
        raise _range_error(gdf, col, what, vals, frac, "a whole number", hint)
    return pd.Series(vals.astype(np.int64), index=gdf.index, name=col)


def float_column(gdf, col, what, *, kind: str, minimum=0.0, hint="") -> pd.Series:
    """Finite numbers in ``[minimum, contract max]`` as float64 (errors name the records)."""
    raw = gdf[col]
    num = to_number(raw)
    bad = num.isna()
    if bad.any():
        raise InputError(
            f"{what}: column {col!r} is missing or not numeric for {fmt_ids(gdf.index[bad])}.{hint}"
        )
    vals = num.to_numpy(dtype=float)
    top = _max_value(kind, col)
    out = ~np.isfinite(vals) | ~(vals >= minimum) | (vals > (top if top is not None else np.inf))
    if out.any():
        rule = f"a finite number >= {minimum:g}" + (f" and <= {top:g}" if top is not None else "")
        raise _range_error(gdf, col, what, vals, out, rule, hint)
    return pd.Series(vals, index=gdf.index, name=col)


def vocab_column(gdf, col, what, synonyms: Mapping[str, str], allowed: tuple[str, ...]) -> pd.Series:
    """Map a column through a vocabulary; unknown or missing values are errors."""
    out = pd.Series([normalise_vocab(v, synonyms) for v in gdf[col]], index=gdf.index, dtype=object)
    bad = out.isna()
    if bad.any():
        vals = sorted({visible(v) for v in gdf[col][bad]})
        raise InputError(
            f"{what}: column {col!r} has unknown value(s) {', '.join(vals[:MAX_LISTED])} in record(s) "
            f"{fmt_ids(gdf.index[bad])}. Allowed: {', '.join(allowed)} (or their synonyms in "
            f"careplan._schema)."
        )
    return out


def str_column(gdf, col) -> pd.Series:
    """Text column (missing stays None)."""
    return pd.Series([None if _is_missing(v) else str(v) for v in gdf[col]], index=gdf.index,
                     dtype=object)


# ----------------------------------------------------------------------------- geometry
def drop_z(gdf: gpd.GeoDataFrame, what: str) -> gpd.GeoDataFrame:
    """Drop Z coordinates (POINT Z from CAD/GPS exports): careplan works in 2-D; one note."""
    geom = gdf.geometry
    has_z = np.asarray(shapely.has_z(geom.to_numpy()), dtype=bool)
    if has_z.any():
        gdf[geom.name] = shapely.force_2d(geom.to_numpy())
        note(gdf, "dropped_z", int(has_z.sum()))
        warn(f"{what}: Z coordinates of {int(has_z.sum())} geometr(ies) dropped (careplan works "
             "in 2-D).")
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


def check_geometry(gdf: gpd.GeoDataFrame, what: str, allowed: tuple[str, ...], make_valid: bool):
    """Refuse empty, wrongly typed and (unless ``make_valid``) invalid geometries."""
    geom = gdf.geometry
    empty = geom.isna() | geom.is_empty
    if empty.any():
        raise InputError(
            f"{what}: record(s) {fmt_ids(gdf.index[empty])} have no geometry (None or empty). "
            "Give them a geometry (or coordinates) or remove them explicitly."
        )
    bad_type = ~geom.geom_type.isin(allowed)
    if bad_type.any():
        types = sorted(set(geom.geom_type[bad_type]))
        raise InputError(
            f"{what}: geometry type(s) {types} not allowed (allowed: {', '.join(allowed)}); "
            f"records {fmt_ids(gdf.index[bad_type])}."
        )
    invalid = ~geom.is_valid
    if invalid.any():
        ids = list(gdf.index[invalid])
        reasons = shapely.is_valid_reason(geom[invalid].to_numpy())
        detail = "; ".join(f"{visible(i)}: {r}" for i, r in list(zip(ids, reasons, strict=True))[:5])
        if not make_valid:
            raise InputError(
                f"{what}: invalid geometry in record(s) {fmt_ids(ids)} ({detail}). "
                "Fix them, or pass make_valid=True to repair them (shapely.make_valid)."
            )
        fixed = shapely.make_valid(geom[invalid].to_numpy())
        if any(t in ("Polygon", "MultiPolygon") for t in allowed):
            fixed = np.array([_polygonal_part(g) for g in fixed], dtype=object)
        still = [i for i, g in zip(ids, fixed, strict=True) if g is None or g.is_empty]
        if still:
            raise InputError(
                f"{what}: record(s) {fmt_ids(still)} have invalid geometry that cannot be "
                "repaired into a non-empty area; fix them by hand."
            )
        gdf.loc[invalid, gdf.geometry.name] = fixed
        warn(f"{what}: repaired {len(ids)} invalid geometr(ies) with make_valid: {fmt_ids(ids)}.")
        note(gdf, "repaired_geometry", [str(i) for i in ids])
    return gdf


def to_points(gdf: gpd.GeoDataFrame, what: str) -> gpd.GeoDataFrame:
    """Replace polygons by a representative point (reported)."""
    poly = ~gdf.geom_type.isin(["Point"])
    if poly.any():
        ids = list(gdf.index[poly])
        gdf.loc[poly, gdf.geometry.name] = gdf.geometry[poly].representative_point()
        warn(f"{what}: {len(ids)} polygon geometr(ies) replaced by a representative point: {fmt_ids(ids)}.")
        note(gdf, "polygons_to_points", [str(i) for i in ids])
    return gdf


# ----------------------------------------------------------------------------- coordinates
def convert_offset(gdf: gpd.GeoDataFrame, coord_system: str, what: str):
    """Convert GCJ-02 / BD-09 longitude/latitude to WGS84 (see :mod:`careplan._crs`)."""
    if coord_system not in COORD_SYSTEMS:
        raise InputError(f"{what}: coord_system must be one of {COORD_SYSTEMS}, got {coord_system!r}.")
    if coord_system == "wgs84" or len(gdf) == 0:
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
    note(gdf, "converted_from", coord_system)
    return gdf


def check_degrees(gdf: gpd.GeoDataFrame, what: str) -> None:
    """A geographic CRS whose coordinates are not degrees (|x| > 180 or |y| > 90): most
    likely metres in a file without a CRS (GeoJSON defaults to EPSG:4326) -> CRSError."""
    if gdf.crs is None or not gdf.crs.is_geographic or len(gdf) == 0:
        return
    x0, y0, x1, y1 = (float(v) for v in gdf.total_bounds)
    if not all(np.isfinite([x0, y0, x1, y1])):
        return
    if max(abs(x0), abs(x1)) > 180 or max(abs(y0), abs(y1)) > 90:
        raise CRSError(
            f"{what}: the coordinates look like metres (x {x0:,.0f} to {x1:,.0f}, y {y0:,.0f} "
            f"to {y1:,.0f}), not the longitude/latitude degrees of its CRS "
            f"{gdf.crs.to_string()} (a GeoJSON without a CRS is read as EPSG:4326); set "
            "the CRS the coordinates are in for this input, e.g. src_crs='EPSG:32650' "
            "(WGS 84 / UTM zone 50N).")


def project(gdf: gpd.GeoDataFrame, crs: Any, what: str):
    """Reproject to ``crs`` (projected) or, when geographic, to the local UTM zone (warned).

    Raises
    ------
    CRSError
        A geographic CRS with coordinates out of the degree range (:func:`check_degrees`).
    """
    check_degrees(gdf, what)
    if crs is not None:
        from pyproj import CRS

        target = CRS.from_user_input(crs)
        if target.is_geographic:
            raise CRSError(
                f"{what}: crs={crs!r} is geographic (degrees); careplan needs a projected CRS in "
                "metres, e.g. a UTM zone ('EPSG:32650') or CGCS2000 / Gauss-Kruger."
            )
        if not gdf.crs.equals(target):
            note(gdf, "source_crs", gdf.crs.to_string())
            gdf = gdf.to_crs(target)
            note(gdf, "reprojected_to", target.to_string())
        return gdf
    if gdf.crs.is_geographic:
        source = gdf.crs.to_string()
        target = gdf.estimate_utm_crs()
        gdf = gdf.to_crs(target)
        warn(
            f"{what}: geographic CRS {source} reprojected to {target.to_string()} "
            f"({target.name}) so distances and areas are in metres; pass crs= to choose."
        )
        note(gdf, "source_crs", source)
        note(gdf, "reprojected_to", target.to_string())
    return gdf


# ----------------------------------------------------------------------------- the common pipeline
def prepare(src: Source, what: str, *, kind: str, id_col: str | None, layer=None, sheet=None,
            encoding: str | None = None, columns=None, crs=None, src_crs=None,
            coord_system: str = "wgs84", make_valid: bool = False,
            allowed_geoms: tuple[str, ...], allow_empty: bool = False) -> gpd.GeoDataFrame:
    """Load ``src`` and apply the checks every reader shares; return a projected copy."""
    canonical = next(c.name for c in CONTRACTS[kind] if c.name.endswith("_id"))
    gdf = load(src, what, kind=kind, id_col=id_col, layer=layer, sheet=sheet, encoding=encoding,
               columns=columns, src_crs=src_crs)
    if len(gdf) == 0:
        if not allow_empty:
            one = {"boundaries": "polygon", "households": "household point"}.get(kind, kind[:-1])
            raise InputError(f"{what}: no records; give at least one {one}.")
        if crs is None and gdf.crs is not None and gdf.crs.is_projected:
            crs = gdf.crs
        return empty_frame(kind, crs, what, base=gdf)
    if gdf.crs is None:
        raise CRSError(
            f"{what}: the data has no CRS. Set it, e.g. gdf.set_crs('EPSG:4326') for "
            "longitude/latitude degrees, or pass src_crs='EPSG:...' to the reader."
        )
    gdf = set_ids(gdf, id_col, canonical, what)
    gdf = drop_z(gdf, what)
    gdf = check_geometry(gdf, what, allowed_geoms, make_valid)
    gdf = convert_offset(gdf, coord_system, what)
    return project(gdf, crs, what)


_DTYPES = {"str": object, "vocab": object, "int64": np.int64, "float64": np.float64}


def empty_frame(kind: str, crs: Any = None, what: str | None = None,
                base: gpd.GeoDataFrame | None = None) -> gpd.GeoDataFrame:
    """An empty GeoDataFrame with the required columns of ``kind`` (and ``base``'s others).

    Parameters
    ----------
    kind : {'areas', 'facilities', 'candidates', 'households'}
    crs : CRS-like, optional
        Projected CRS to give it (e.g. the areas' CRS). Without one the frame has no CRS:
        an empty frame has no positions to measure, and the CRS guard accepts it.
    what : str, optional
        How messages name it.
    base : GeoDataFrame, optional
        An empty frame read from a file (its extra columns are kept).

    Returns
    -------
    GeoDataFrame
        0 rows, required columns with their contract dtypes, object index.

    Raises
    ------
    CRSError
        ``crs`` is geographic.
    """
    what = what or kind
    if crs is not None:
        from pyproj import CRS

        crs = CRS.from_user_input(crs)
        if not crs.is_projected:
            raise CRSError(f"{what}: crs={crs.to_string()!r} is geographic; give the projected "
                           "CRS of the other inputs (e.g. crs=areas.crs).")
    data = {}
    for c in CONTRACTS[kind]:
        if c.required:
            data[c.name] = pd.Series([], dtype=_DTYPES[c.dtype])
    if base is not None:
        for col in base.columns:
            if col not in data and col != base.geometry.name:
                data[col] = pd.Series([], dtype=object)
    out = gpd.GeoDataFrame(data, geometry=gpd.GeoSeries([], crs=crs), crs=crs)
    out.index = pd.Index([], dtype=object)
    note(out, "empty", True)
    return out
