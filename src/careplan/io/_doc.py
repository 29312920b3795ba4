"""The parameter documentation every reader shares (inserted into their docstrings)."""

from __future__ import annotations

import re

COMMON_DOC = """
    src : GeoDataFrame, DataFrame or path
        The data. A DataFrame, CSV/TSV/TXT or Excel sheet needs longitude/latitude
        columns (lon/lng/longitude/x/经度 and lat/latitude/y/纬度, case-insensitive),
        looked up after renaming, or a WKT geometry column (WKT/geometry/几何). Title
        lines above the header and empty rows are skipped (reported).
    id_col : str or None
        Column holding the ids (read as text: ``007`` stays ``007``); None uses the
        index (row number for files).
    layer : str or int, optional
        Layer of a multi-layer file (GeoPackage); for a workbook, same as ``sheet``.
    sheet : str or int, optional
        Sheet of an Excel workbook (.xlsx/.xlsm/.xls/.xlsb/.ods): name or 0-based
        position; default the first.
    encoding : str, optional
        Text encoding of a CSV/TXT, GeoJSON or Shapefile .dbf (any Python codec name).
        Default: UTF-8 (with or without BOM), then GB18030 (GBK), then a detected guess;
        the one used is in ``attrs["careplan"]["encoding"]`` (warned when not UTF-8).
    columns : mapping, optional
        Rename columns first, ``{"your name": "canonical name"}``. Common Chinese and
        English headers (户数, 建筑面积, 床位数, 等级, 所属街道, ...; see
        :data:`careplan._schema.HEADER_SYNONYMS`) are recognised without it (warned).
    crs : CRS-like, optional
        Projected target CRS. Default: keep a projected CRS, reproject a
        geographic one to its UTM zone (with a warning).
    src_crs : CRS-like, optional
        CRS of the source when it has none (e.g. a Shapefile without .prj, or x/y
        columns in metres).
    coord_system : {'wgs84', 'gcj02', 'bd09'}
        Declare Chinese offset coordinates (converted to WGS84 first).
    make_valid : bool
        Repair invalid geometries (reported) instead of raising.
"""


def fill(doc: str, *, exclude: tuple[str, ...] = ()) -> str:
    """Replace the ``%(common)s`` line of a reader's docstring by :data:`COMMON_DOC`,
    without the parameters named in *exclude* (those the reader documents itself or
    does not take)."""
    common = COMMON_DOC.lstrip("\n")
    if exclude:
        blocks = re.split(r"(?m)^(?=    \w+ : )", common)
        common = "".join(b for b in blocks if b.split(" : ", 1)[0].strip() not in exclude)
    return doc.replace("    %(common)s\n", common)
