"""Read, validate and normalise planning inputs; OSM features; households from buildings.

Every reader accepts a GeoDataFrame, a plain DataFrame with longitude/latitude
columns, or a path (GeoPackage with optional ``layer=``, GeoJSON, Shapefile, any
other format pyogrio reads, a CSV/TSV/TXT table or an Excel workbook with
``sheet=``; text in any encoding, see ``encoding=``) and returns a **new**
GeoDataFrame that

* is in a projected (metric) CRS: a geographic CRS is reprojected to
  ``gdf.estimate_utm_crs()`` (or to ``crs=`` if given) with a
  :class:`~careplan.CareplanWarning`;
* is indexed by its id values (text, index name None) and keeps the id column;
* has the canonical columns of its kind (:data:`careplan._schema.CONTRACTS`) with
  checked dtypes and plausible ranges, 2-D geometries;
* keeps every extra column and every record: invalid records raise
  :class:`~careplan.InputError` naming the ids, they are never dropped.

What was changed on the user's behalf (reprojection, offset-coordinate conversion,
detected encoding, recognised headers, dropped Z, repaired geometries, polygons
reduced to points, defaults filled) is warned about and recorded in
``gdf.attrs["careplan"]`` (a dict).

Modules: :mod:`~careplan.io._read` (files, encodings, Excel, headers),
:mod:`~careplan.io._validate` (ids, columns, geometry, CRS), :mod:`~careplan.io.areas`,
:mod:`~careplan.io.facilities` (and candidates), :mod:`~careplan.io.households`,
:mod:`~careplan.io.osm_features`, :mod:`~careplan.io.boundaries` (street/district polygons and
the spatial join that gives records their ``street``/``district``).

Ids
---
``id_col`` names the column holding the ids (default: the canonical name, e.g.
``"area_id"``). Ids are text (``12`` and ``12.0`` both become ``"12"``, ``"007"``
stays ``"007"``) and must be unique, non-missing and free of control characters. If
the named column does not exist an :class:`~careplan.InputError` is raised; pass
``id_col=None`` to use the frame's index (or the row number, for files) as ids.

Coordinates
-----------
A source without CRS raises :class:`~careplan.CRSError` unless ``src_crs=`` says
what it is. Tables are read as longitude/latitude degrees (``EPSG:4326``) from
columns named ``lon``/``lng``/``longitude``/``x``/``经度`` and
``lat``/``latitude``/``y``/``纬度`` (case-insensitive), looked up after renaming.
``coord_system="gcj02"`` or ``"bd09"`` declares Chinese offset coordinates
(Amap/Gaode, Tencent; Baidu); they are converted to WGS84 (see
:mod:`careplan._crs`) before projection.
"""

from careplan._schema import BUILT_SYNONYMS, BUILT_VALUES, FACILITY_LEVELS, LEVEL_SYNONYMS
from careplan.io._validate import empty_frame
from careplan.io.areas import read_areas
from careplan.io.boundaries import assign_boundaries, boundaries_from_osm, read_boundaries
from careplan.io.facilities import read_candidates, read_facilities
from careplan.io.households import (
    DEFAULT_DWELLING_M2,
    aggregate_households,
    estimate_households,
    read_households,
)
from careplan.io.osm_features import buildings_from_osm, features_from_osm, landuse_from_osm

__all__ = [
    "BUILT_SYNONYMS",
    "BUILT_VALUES",
    "DEFAULT_DWELLING_M2",
    "FACILITY_LEVELS",
    "LEVEL_SYNONYMS",
    "aggregate_households",
    "assign_boundaries",
    "boundaries_from_osm",
    "buildings_from_osm",
    "empty_frame",
    "estimate_households",
    "features_from_osm",
    "landuse_from_osm",
    "read_areas",
    "read_boundaries",
    "read_candidates",
    "read_facilities",
    "read_households",
]
