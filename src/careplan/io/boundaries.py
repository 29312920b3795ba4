"""Street (街道 / 镇) and district (区 / 县) boundaries, and who lies in which.

:func:`read_boundaries` reads administrative polygons with the conventions of the
other readers (any format and encoding, ``layer=`` / ``sheet=``, Chinese headers, the
one CRS pipeline). :func:`assign_boundaries` gives areas, candidates or facilities the
``street`` / ``district`` of the polygon holding their representative point.
:func:`boundaries_from_osm` builds the polygons of ``boundary=administrative``
relations from a local OSM extract (admin_level 8 = 街道/镇, 6 = 区 in China,
following the OSM wiki's table of admin levels for China).
"""

from __future__ import annotations

from collections.abc import Mapping
from os import PathLike
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from careplan._errors import InputError
from careplan._schema import check_crs
from careplan.io._common import MAX_LISTED, fmt_ids, warn
from careplan.io._doc import fill
from careplan.io._read import Source
from careplan.io._validate import check_text_keys, prepare, str_column

__all__ = ["BOUNDARY_LEVELS", "OSM_ADMIN_LEVELS", "assign_boundaries", "boundaries_from_osm",
           "read_boundaries"]

#: Boundary levels and the column of areas/candidates/facilities they fill.
BOUNDARY_LEVELS: tuple[str, ...] = ("street", "district")

#: OSM ``admin_level`` of each boundary level in China (OSM wiki, "Tag:boundary=administrative",
#: table of admin levels: 6 = district/county 区/县, 8 = township/street 乡/镇/街道).
OSM_ADMIN_LEVELS: dict[str, int] = {"district": 6, "street": 8}

_BOUNDARY_GEOMS = ("Polygon", "MultiPolygon")


def _level(level: Any) -> str:
    if level not in BOUNDARY_LEVELS:
        raise InputError(f"boundaries: level must be one of {', '.join(BOUNDARY_LEVELS)} "
                         f"(街道/镇 or 区/县), got {level!r}")
    return level


def _name_column(gdf: gpd.GeoDataFrame, level: str, name_col: str | None, what: str) -> str:
    """The column holding each polygon's name: ``name_col``, else the level's own column
    (``street`` / ``district``, also recognised from 街道, 镇, 区, ...), else ``name``."""
    if name_col is not None:
        renamed = gdf.attrs.get("careplan", {}).get("recognised_columns", {})
        if name_col not in gdf.columns and name_col in renamed:
            return renamed[name_col]  # a Chinese header already recognised (街道 -> street)
        if name_col not in gdf.columns:
            raise InputError(f"{what}: name_col={name_col!r} not found (columns: "
                             f"{[c for c in gdf.columns if c != gdf.geometry.name]}); pass the "
                             "column holding the street/district names.")
        return name_col
    for col in (level, "name"):
        if col in gdf.columns:
            return col
    raise InputError(
        f"{what}: no column names the {level}s (looked for {level!r}, 'name' and the Chinese "
        f"headers 街道/镇/乡镇/区/区县/名称; columns: "
        f"{[c for c in gdf.columns if c != gdf.geometry.name]}); pass name_col='<column>'.")


def read_boundaries(
    src: Source,
    *,
    level: str = "street",
    name_col: str | None = None,
    layer: str | int | None = None,
    sheet: str | int | None = None,
    encoding: str | None = None,
    columns: Mapping[str, str] | None = None,
    crs: Any = None,
    src_crs: Any = None,
    coord_system: str = "wgs84",
    make_valid: bool = False,
) -> gpd.GeoDataFrame:
    """Read street (街道/镇) or district (区/县) boundary polygons.

    Parameters
    ----------
    src : GeoDataFrame, DataFrame or path
        Polygons: a GeoDataFrame, any file pyogrio reads (GeoPackage, GeoJSON,
        Shapefile, ...), or a CSV/Excel table with a WKT geometry column
        (WKT/geometry/几何). A frame's index is not used: the names are the ids.
    level : {'street', 'district'}
        What the polygons are: streets/towns (街道/镇) or districts/counties (区/县).
        It names the column the polygons fill in :func:`assign_boundaries`.
    name_col : str, optional
        Column with each polygon's name (the value areas get). Default: the level's
        own column (``street`` / ``district``, also recognised from the headers
        街道, 镇, 乡镇, 所属街道, 区, 区县, 行政区, ...), else ``name`` (名称).
    %(common)s

    Returns
    -------
    GeoDataFrame
        One row per named boundary, index = ``boundary_id`` = the name (text); columns
        ``boundary_id``, ``name``, ``level`` (the ``level`` given), the source's other
        columns (of the first record of each name), geometry Polygon/MultiPolygon in a
        projected CRS. Several records with the same name (a street with an exclave
        drawn as two features) are merged into one MultiPolygon (warned, recorded in
        ``attrs["careplan"]["merged_names"]``).

    Raises
    ------
    InputError
        No records, no name column, a record without a name, names with control
        characters, geometries that are not polygons, empty or invalid geometries,
        an unknown ``level``.
    CRSError
        No CRS, or a geographic ``crs=`` target.

    Notes
    -----
    Overlapping polygons are kept as given; :func:`assign_boundaries` takes the first
    one (in file order) covering a point and reports the points covered by several.
    """
    level = _level(level)
    what = f"{level} boundaries"
    if isinstance(src, pd.DataFrame):  # the names are the ids: the frame's index is not used
        src = src.drop(columns=[c for c in ("boundary_id",) if c in src.columns])
        src = src.reset_index(drop=True)
    kw = dict(layer=layer, sheet=sheet, encoding=encoding, columns=columns, crs=crs,
              src_crs=src_crs, coord_system=coord_system, make_valid=make_valid,
              allowed_geoms=_BOUNDARY_GEOMS)
    try:
        gdf = prepare(src, what, kind="boundaries", id_col=None, **kw)
    except InputError as exc:  # a file written from read_boundaries has its boundary_id
        if "id_col=None asks for ids from the index" not in str(exc):
            raise
        gdf = prepare(src, what, kind="boundaries", id_col="boundary_id", **kw)
    col = _name_column(gdf, level, name_col, what)
    names = str_column(gdf, col).map(lambda v: v.strip() if isinstance(v, str) else v)
    missing = names.isna() | (names == "")
    if missing.any():
        rows = [str(i + 1) for i in np.flatnonzero(missing.to_numpy())]
        raise InputError(f"{what}: {int(missing.sum())} polygon(s) have no name in column "
                         f"{col!r} (data rows {', '.join(rows[:MAX_LISTED])}); name every "
                         "polygon (the name is what areas get as their "
                         f"{level}).")
    check_text_keys(names, what, col)
    attrs = dict(gdf.attrs.get("careplan", {}))
    gdf = gdf.drop(columns=[c for c in ("boundary_id", "name", "level") if c in gdf.columns])
    gdf.insert(0, "boundary_id", names.to_numpy())
    gdf.insert(1, "name", names.to_numpy())
    gdf.insert(2, "level", level)
    dup = names[names.duplicated(keep=False)]
    if len(dup):
        merged = sorted(set(dup))
        geoms = gdf.geometry.groupby(names.to_numpy(), sort=False).agg(
            lambda g: shapely.union_all(g.to_numpy()))
        gdf = gdf[~names.duplicated(keep="first").to_numpy()].copy()
        gdf[gdf.geometry.name] = geoms.reindex(gdf["boundary_id"]).to_numpy()
        warn(f"{what}: {len(merged)} name(s) drawn as several polygons merged into one "
             f"{level} each: {fmt_ids(merged)}.")
        attrs["merged_names"] = merged
    gdf.index = pd.Index(gdf["boundary_id"].to_numpy(), dtype=object, name=None)
    gdf.attrs = {"careplan": {**attrs, "name_column": col, "level": level}}
    return gdf


read_boundaries.__doc__ = fill(read_boundaries.__doc__, exclude=("src", "id_col"))


def _owner(points: np.ndarray, polygons: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Position of the first polygon covering each point (-1: none) and how many cover it.

    Returns two int64 arrays of shape (n_points,).
    """
    first = np.full(len(points), -1, dtype=np.int64)
    count = np.zeros(len(points), dtype=np.int64)
    if len(points) == 0 or len(polygons) == 0:
        return first, count
    tree = shapely.STRtree(polygons)
    pi, bi = tree.query(points, predicate="covered_by")
    if pi.size:
        np.add.at(count, pi, 1)
        order = np.lexsort((bi, pi))
        pi, bi = pi[order], bi[order]
        head = np.ones(pi.size, dtype=bool)
        head[1:] = pi[1:] != pi[:-1]
        first[pi[head]] = bi[head]
    return first, count


def assign_boundaries(gdf: gpd.GeoDataFrame, boundaries: gpd.GeoDataFrame, *,
                      column: str | None = None, what: str = "areas",
                      require_any: bool = False) -> gpd.GeoDataFrame:
    """Give each record the name of the boundary polygon holding its representative point.

    Parameters
    ----------
    gdf : GeoDataFrame
        Areas, candidates or facilities (any geometry; polygons are placed at
        their representative point, which always lies inside them), n records.
    boundaries : GeoDataFrame
        From :func:`read_boundaries` (``name`` column, polygons), in ``gdf``'s CRS.
    column : {'street', 'district'}, optional
        Column to fill; default the boundaries' ``level``.
    what : str
        How messages name ``gdf``.
    require_any : bool
        Fail (InputError) when no record lies in any polygon and none has a value of its
        own: the boundaries miss the records altogether (another place, another CRS), so
        a warning per record would hide a wrong file. :func:`careplan.plan_layout` sets
        it for the areas.

    Returns
    -------
    GeoDataFrame
        A copy of ``gdf`` (same index, n rows) with ``column`` (str or None). A record's
        own non-empty value in ``column`` wins over the polygon's (the planner's table
        is more specific than a drawn boundary); the disagreements are warned about and
        recorded. Records whose point lies in no polygon (and that have no value of
        their own) keep None: they are warned about and listed in
        ``attrs["careplan"]["outside_<column>"]``, never dropped. A point covered by
        several polygons takes the first in the boundaries' order (listed in
        ``attrs["careplan"]["ambiguous_<column>"]``). ``attrs["careplan"]["<column>_source"]``
        counts how each value was found (``own``, ``polygon``, ``none``).

    Raises
    ------
    InputError
        ``boundaries`` is not a GeoDataFrame with a ``name`` column, ``column`` is not
        a boundary level; with ``require_any``, no record in any polygon.
    CRSError
        The two are not in one projected CRS (:func:`careplan._schema.check_crs`).
    """
    if not isinstance(boundaries, gpd.GeoDataFrame) or "name" not in boundaries.columns:
        raise InputError("boundaries must be a GeoDataFrame with a 'name' column; read them "
                         "with careplan.data.read_boundaries(path, level=...)")
    if column is None:
        column = (str(boundaries["level"].iloc[0]) if "level" in boundaries.columns
                  and len(boundaries) else "street")
    column = _level(column)
    out = gdf.copy()
    if len(out) == 0:
        if column not in out.columns:
            out[column] = pd.Series([], dtype=object)
        return out
    check_crs(out, what)
    check_crs(boundaries, f"{column} boundaries", like=out, like_what=what)
    pts = out.geometry.representative_point().to_numpy()
    first, count = _owner(pts, boundaries.geometry.to_numpy())
    names = boundaries["name"].astype(object).to_numpy()
    found = np.where(first >= 0, names[np.maximum(first, 0)], None)
    if column in out.columns:
        own = str_column(out, column).map(lambda v: v.strip() if isinstance(v, str) else v)
        own = own.where(own != "", None)
    else:
        own = pd.Series([None] * len(out), index=out.index, dtype=object)
    has_own = own.notna().to_numpy()
    value = np.where(has_own, own.to_numpy(dtype=object), found)
    out[column] = pd.Series(value, index=out.index, dtype=object)
    meta = out.attrs.setdefault("careplan", {})
    meta[f"{column}_source"] = {"own": int(has_own.sum()),
                                "polygon": int((~has_own & (first >= 0)).sum()),
                                "none": int((~has_own & (first < 0)).sum())}
    differ = has_own & (first >= 0) & (own.to_numpy(dtype=object) != found)
    if differ.any():
        ids = list(out.index[differ])
        meta[f"own_{column}_differs"] = [str(i) for i in ids]
        warn(f"{what}: {len(ids)} record(s) keep their own {column!r} although their point lies "
             f"in another {column} polygon (their own value wins): {fmt_ids(ids)}.")
    outside = ~has_own & (first < 0)
    if require_any and outside.all():
        gap_m = float(shapely.distance(shapely.box(*out.total_bounds),
                                       shapely.box(*boundaries.total_bounds)))
        raise InputError(
            f"{what}: none of the {len(out)} record(s) lies in any of the {len(boundaries)} "
            f"{column} polygon(s) (their extents are {gap_m / 1000:,.1f} km apart): the "
            f"{column} boundaries are of another place or in another CRS. Give the {column} "
            f"boundaries that contain the {what} (check src_crs), or drop them.")
    if outside.any():
        ids = list(out.index[outside])
        meta[f"outside_{column}"] = [str(i) for i in ids]
        warn(f"{what}: {len(ids)} record(s) lie in no {column} polygon and have no {column} of "
             f"their own; they keep none (rules by {column} leave them out): {fmt_ids(ids)}. "
             f"Extend the {column} boundaries or give them a {column!r} value.")
    amb = ~has_own & (count > 1)
    if amb.any():
        ids = list(out.index[amb])
        meta[f"ambiguous_{column}"] = [str(i) for i in ids]
        warn(f"{what}: {len(ids)} record(s) lie in {column} polygons that overlap; each took the "
             f"first in the boundaries' order: {fmt_ids(ids)}.")
    return out



def _read_osm_admin(path: Path, admin_level: int):
    """Nodes, ways and the admin relations of ``admin_level`` of an OSM XML file."""
    import bz2
    import gzip
    import xml.etree.ElementTree as ET

    opener = {".bz2": bz2.open, ".gz": gzip.open}.get(path.suffix.lower(), open)
    nodes: dict[str, tuple[float, float]] = {}
    ways: dict[str, list[str]] = {}
    rels: list[tuple[str, dict[str, str], list[tuple[str, str, str]]]] = []
    try:
        with opener(path, "rb") as fh:
            for _, el in ET.iterparse(fh, events=("end",)):
                if el.tag == "node" and el.get("lat") is not None:
                    nodes[el.get("id")] = (float(el.get("lon")), float(el.get("lat")))
                elif el.tag == "way":
                    ways[el.get("id")] = [nd.get("ref") for nd in el.iter("nd")]
                elif el.tag == "relation":
                    tags = {t.get("k"): t.get("v") for t in el.iter("tag")}
                    if tags.get("boundary") == "administrative" and \
                            tags.get("admin_level", "").strip() == str(admin_level):
                        rels.append((el.get("id"), tags,
                                     [(m.get("type"), m.get("ref"), m.get("role") or "")
                                      for m in el.iter("member")]))
                if el.tag in ("node", "way", "relation"):
                    el.clear()
    except (ET.ParseError, OSError, EOFError, ValueError) as exc:
        raise InputError(f"{path.name}: not a readable OSM XML file ({exc}); give a .osm or "
                         ".osm.bz2 extract") from None
    return nodes, ways, rels


def _relation_polygon(members, nodes, ways):
    """(polygon or None, reason): the area of one relation's outer minus inner rings."""
    lines: dict[str, list] = {"outer": [], "inner": []}
    missing_ways, broken_ways = 0, 0
    for typ, ref, role in members:
        if typ != "way":
            continue
        refs = ways.get(ref)
        if refs is None:
            missing_ways += 1
            continue
        coords = [nodes[r] for r in refs if r in nodes]
        if len(coords) < len(refs) or len(coords) < 2:
            broken_ways += 1
            continue
        lines["inner" if role == "inner" else "outer"].append(shapely.LineString(coords))
    if missing_ways or broken_ways:
        return None, (f"clipped by the extract: {missing_ways} member way(s) absent, "
                      f"{broken_ways} with nodes absent")
    faces = {}
    for role, ls in lines.items():
        if not ls:
            faces[role] = None
            continue
        polys, cuts, dangles, invalid = shapely.polygonize_full(
            [shapely.union_all(ls)])
        if not cuts.is_empty or not dangles.is_empty or not invalid.is_empty:
            return None, f"the {role} ways do not close into rings"
        faces[role] = shapely.union_all(list(polys.geoms)) if len(polys.geoms) else None
    if faces["outer"] is None or faces["outer"].is_empty:
        return None, "no outer ring"
    geom = faces["outer"] if faces["inner"] is None else faces["outer"].difference(faces["inner"])
    return geom, ""


def boundaries_from_osm(path: str | PathLike, *, admin_level: int | None = None,
                        level: str = "street", crs: Any = None) -> gpd.GeoDataFrame:
    """Administrative boundary polygons from the relations of a local OSM extract.

    Each ``boundary=administrative`` relation of ``admin_level`` becomes a polygon: its
    ``outer`` member ways (role empty counts as outer) are noded and polygonized
    (:func:`shapely.polygonize_full`) and the ``inner`` rings cut out. A relation
    clipped by the extract (member ways or their nodes absent) or whose ways do not
    close into rings is **not** returned: it is warned about and listed with the
    reason in ``attrs["careplan"]["open_relations"]``.

    Parameters
    ----------
    path : str or path-like
        OSM XML file (.osm, .osm.bz2 or .osm.gz).
    admin_level : int, optional
        OSM ``admin_level`` to read; default the level's value in China
        (:data:`OSM_ADMIN_LEVELS`: street 8 = 乡/镇/街道, district 6 = 区/县; OSM wiki,
        "Tag:boundary=administrative").
    level : {'street', 'district'}
        What the polygons are (the column they fill, see :func:`read_boundaries`).
    crs : CRS-like, optional
        Projected target CRS (e.g. the network's); default the UTM zone (warned).

    Returns
    -------
    GeoDataFrame
        As :func:`read_boundaries`: index = name (``name`` tag, else ``name:zh``, else
        ``relation/<id>``), columns ``boundary_id``, ``name``, ``level``, ``osm_id``
        (``relation/<id>``), ``name_en`` (``name:en`` or None), ``admin_level``;
        Polygon/MultiPolygon geometry in a projected CRS. Empty (0 rows, with these
        columns) when no relation closes.

    Raises
    ------
    InputError
        The file does not exist or is not OSM XML; an unknown ``level``.
    """
    level = _level(level)
    path = Path(path)
    if not path.exists():
        raise InputError(f"OSM file not found: {path}")
    al = OSM_ADMIN_LEVELS[level] if admin_level is None else admin_level
    if isinstance(al, bool) or not isinstance(al, int | np.integer) or not 1 <= al <= 12:
        raise InputError(f"admin_level must be an integer 1-12 (OSM), got {admin_level!r}")
    nodes, ways, rels = _read_osm_admin(path, int(al))
    rows, open_ = [], []
    for rid, tags, members in rels:
        name = tags.get("name") or tags.get("name:zh") or f"relation/{rid}"
        geom, reason = _relation_polygon(members, nodes, ways)
        if geom is None:
            open_.append({"osm_id": f"relation/{rid}", "name": name, "reason": reason})
            continue
        rows.append({"name": name, "osm_id": f"relation/{rid}", "name_en": tags.get("name:en"),
                     "admin_level": int(al), "geometry": geom})
    if open_:
        warn(f"{path.name}: {len(open_)} admin_level={al} relation(s) do not close and are "
             "left out: " + "; ".join(f"{o['name']} ({o['osm_id']}): {o['reason']}"
                                      for o in open_[:MAX_LISTED])
             + ". Use a larger extract or give the polygons with read_boundaries.")
    if not rows:
        warn(f"{path.name}: no closed admin_level={al} boundary relation; returning an empty "
             "frame.")
        out = gpd.GeoDataFrame(
            {c: pd.Series([], dtype=object) for c in
             ("boundary_id", "name", "level", "osm_id", "name_en", "admin_level")},
            geometry=gpd.GeoSeries([], crs=crs), crs=crs)
        out.index = pd.Index([], dtype=object)
    else:
        src = gpd.GeoDataFrame(rows, geometry="geometry", crs="EPSG:4326")
        out = read_boundaries(src, level=level, name_col="name", crs=crs, make_valid=True)
    out.attrs.setdefault("careplan", {}).update(
        {"open_relations": open_, "admin_level": int(al), "source": path.name})
    return out
