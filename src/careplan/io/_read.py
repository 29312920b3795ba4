"""Load any source into a GeoDataFrame: files of any format and encoding, tables, frames.

Everything that depends on *how* the data arrives lives here; the readers then
validate what :func:`load` returns the same way whatever the source was.

* Text (CSV/TSV/TXT, GeoJSON, the .dbf of a Shapefile) is decoded with ``encoding=``
  when given, else in the order UTF-8 (with or without BOM; UTF-16 when it has a BOM)
  -> GB18030 (a superset of GBK/GB2312, what Excel writes on a Chinese Windows) ->
  the best guess of charset-normalizer. The encoding used is recorded in
  ``attrs["careplan"]["encoding"]`` and warned about when it is not UTF-8.
* Excel workbooks (.xlsx, .xlsm, .xls, .xlsb, .ods; read by python-calamine) take a
  ``sheet=`` (name or 0-based position; default the first).
* Tables are read as text, title lines above the header and empty rows skipped,
  renamed (``columns=`` first, then the common headers of
  :data:`careplan._schema.HEADER_SYNONYMS`), and only then searched for coordinate
  columns (or a WKT column); id columns stay text (``007`` stays ``007``), other
  all-numeric columns become numbers (``1,200`` and full-width digits included).
"""

from __future__ import annotations

import csv
import io
import re
import unicodedata
from collections.abc import Mapping
from os import PathLike
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from careplan._errors import CRSError, InputError
from careplan._schema import CONTRACTS, HEADER_SYNONYMS, LAT_HEADERS, LON_HEADERS, LOOKALIKE_HEADERS
from careplan.io._common import note, warn
from careplan.io._encoding import _dbf_encoding, _report_encoding, decode

Source = gpd.GeoDataFrame | pd.DataFrame | str | PathLike

TABLE_SUFFIXES = (".csv", ".txt", ".tsv")
EXCEL_SUFFIXES = (".xlsx", ".xlsm", ".xls", ".xlsb", ".ods")
_TEXT_VECTOR_SUFFIXES = (".geojson", ".json", ".geojsonl", ".geojsons")
_ID_NAMES = {c.name for cols in CONTRACTS.values() for c in cols if c.name.endswith("_id")}


# ----------------------------------------------------------------------------- tables
def _sniff_sep(text: str, suffix: str) -> str:
    if suffix == ".tsv":
        return "\t"
    first = text.split("\n", 1)[0]
    if suffix == ".csv" and ("," in first or "\t" not in first and ";" not in first):
        return ","
    sample = "\n".join(text.splitlines()[:20])
    try:
        return csv.Sniffer().sniff(sample, delimiters=",\t;|").delimiter
    except csv.Error:
        return ","


def read_table(path: Path, what: str, *, encoding: str | None, sheet: Any,
               header_names: set[str] = frozenset()) -> tuple[pd.DataFrame, str | None]:
    """Read a CSV/TSV/TXT or Excel file as a DataFrame of text cells (numbers in Excel stay numbers).

    Title lines above the header (``XX区养老设施一览表``, common in office files) are skipped:
    when the first row does not name the coordinate columns (or a column of
    ``header_names``, the user's ``columns=`` keys), the first of the next 10 rows that does
    is taken as the header (reported in ``attrs["careplan_header_row"]``). Rows with no value
    at all are dropped (counted in ``attrs["careplan_blank_rows"]``).

    Returns the frame and the encoding used (None for Excel).
    """
    suffix = path.suffix.lower()
    if suffix in EXCEL_SUFFIXES:
        raw, enc = _read_excel(path, what, sheet, header_names), None
    else:
        text, enc = decode(path.read_bytes(), what, encoding)
        if not text.strip():
            raise InputError(f"{what}: the file is empty; it needs a header row (and one row per record).")
        sep = _sniff_sep(text, suffix)
        try:
            raw = pd.read_csv(io.StringIO(text), sep=sep, dtype=str, header=None,
                              skipinitialspace=True, names=range(_max_fields(text, sep)),
                              skip_blank_lines=True)
        except (pd.errors.ParserError, ValueError) as exc:
            first = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
            raise InputError(f"{what}: not a readable table ({first}); check the separator and "
                             "quotes.") from exc
    sheet_name = raw.attrs.get("careplan_sheet")
    row = _header_row(raw, header_names)
    header = [(_clean_header(v) if not _is_blank(v) else f"Unnamed: {j}")
              for j, v in enumerate(raw.iloc[row])] if len(raw) else []
    df = raw.iloc[row + 1:].copy()
    df.columns = header
    empty = pd.DataFrame({j: _blank_cells(df.iloc[:, j]) for j in range(df.shape[1])})
    keep_col = [not (h.startswith("Unnamed: ") and empty[j].all()) for j, h in enumerate(header)]
    df = df.loc[:, keep_col]
    blank = empty.loc[:, keep_col].all(axis=1).to_numpy(dtype=bool) if len(df) else np.zeros(0, bool)
    df = df[~blank].reset_index(drop=True)
    df.attrs = {"careplan_header_row": row, "careplan_blank_rows": int(blank.sum())}
    if sheet_name is not None:
        df.attrs["careplan_sheet"] = sheet_name
    return df, enc


def _max_fields(text: str, sep: str) -> int:
    rows = csv.reader(io.StringIO(text), delimiter=sep)
    return max((len(r) for r in rows), default=1) or 1


def _blank_cells(col: pd.Series) -> np.ndarray:
    """Vectorised :func:`_is_blank` of a column (missing, or text of blanks only)."""
    miss = col.isna().to_numpy(dtype=bool)
    is_str = np.array([isinstance(v, str) for v in col], dtype=bool) if col.dtype == object \
        else np.full(len(col), pd.api.types.is_string_dtype(col.dtype))
    out = miss.copy()
    if is_str.any():
        txt = col[is_str & ~miss].astype(str).str.strip()
        out[np.flatnonzero(is_str & ~miss)] = (txt == "").to_numpy(dtype=bool)
    return out


def _is_blank(v: Any) -> bool:
    return v is None or (isinstance(v, float) and v != v) or (isinstance(v, str) and not v.strip())


def _clean_header(v: Any) -> Any:
    if isinstance(v, float) and v.is_integer():
        v = int(v)
    return str(v).replace("\u3000", " ").strip().lstrip("\ufeff")


def _header_row(raw: pd.DataFrame, header_names: set[str]) -> int:
    """Row index of the header: the first of the first 10 rows naming lon and lat columns
    (or a column the user maps), else row 0."""
    wanted = {header_key(n) for n in header_names}
    for i in range(min(10, len(raw))):
        cells = [header_key(v) for v in raw.iloc[i] if not _is_blank(v)]
        if not cells:
            continue
        if (any(c in LON_HEADERS for c in cells) and any(c in LAT_HEADERS for c in cells)) or \
                (wanted and wanted <= set(cells)):
            return i
    return 0


def _read_excel(path: Path, what: str, sheet: Any, header_names: set[str] = frozenset()) -> pd.DataFrame:
    try:
        import python_calamine  # noqa: F401
    except ImportError as exc:  # pragma: no cover - a declared dependency
        raise InputError(f"{what}: reading Excel needs python-calamine (pip install python-calamine).") from exc
    try:
        book = pd.ExcelFile(path, engine="calamine")
    except Exception as exc:  # calamine raises its own error types for broken files
        raise InputError(f"{what}: cannot open the workbook {path.name} ({exc}).") from exc
    names = list(book.sheet_names)
    if sheet is None:
        sheet = _pick_sheet(book, names, header_names)
        if sheet != names[0]:
            warn(f"{what}: the first sheet {names[0]!r} has no coordinate columns; read sheet "
                 f"{sheet!r}, the first that has. Pass sheet= to choose.")
    if isinstance(sheet, int | np.integer) and not isinstance(sheet, bool):
        if not 0 <= int(sheet) < len(names):
            raise InputError(f"{what}: sheet={sheet} but {path.name} has {len(names)} sheet(s): {names}.")
        sheet = names[int(sheet)]
    elif str(sheet) not in names:
        raise InputError(f"{what}: no sheet {sheet!r} in {path.name}; its sheets are {names}.")
    df = book.parse(sheet_name=str(sheet), dtype=object, header=None)
    df.attrs = {}
    df.attrs["careplan_sheet"] = str(sheet)
    return df


def _pick_sheet(book: pd.ExcelFile, names: list[str], header_names: set[str]) -> str:
    """The first sheet whose first 10 rows hold a header naming lon/lat (or the user's
    columns); the first sheet when none does."""
    for name in names:
        head = book.parse(sheet_name=name, dtype=object, header=None, nrows=10)
        for i in range(len(head)):
            cells = {header_key(v) for v in head.iloc[i] if not _is_blank(v)}
            wanted = {header_key(n) for n in header_names}
            if (cells & set(LON_HEADERS) and cells & set(LAT_HEADERS)) or (wanted and wanted <= cells):
                return name
    return names[0]


def _strip_headers(df: pd.DataFrame) -> pd.DataFrame:
    def clean(c: Any) -> Any:
        return c.replace("\u3000", " ").strip().lstrip("\ufeff") if isinstance(c, str) else c

    return df.rename(columns={c: clean(c) for c in df.columns})


# ----------------------------------------------------------------------------- column names
def rename(df: pd.DataFrame, columns: Mapping[str, str] | None, what: str) -> pd.DataFrame:
    """Apply the user's ``columns={"their name": "canonical"}`` mapping (checked)."""
    if not columns:
        return df
    if not isinstance(columns, Mapping):
        raise InputError(f"{what}: columns= must map your column names to careplan's, e.g. "
                         "{'编号': 'area_id'}; got " + type(columns).__name__ + ".")
    missing = [c for c in columns if c not in df.columns]
    if missing:
        raise InputError(f"{what}: columns= names {missing} which are not in the data "
                         f"(its columns: {list(df.columns)}).")
    clash = [v for k, v in columns.items() if v in df.columns and v != k and v not in columns]
    if clash:
        raise InputError(
            f"{what}: columns= would rename onto existing column(s) {clash}; drop or rename them first."
        )
    return df.rename(columns=dict(columns))


_UNIT = re.compile(r"\s*[(（\[【][^)）\]】]*[)）\]】]\s*$")


def header_key(name: Any) -> str:
    """Look-up form of a header: NFKC (full-width -> ASCII), blanks trimmed, lower case, a
    trailing unit or note in brackets dropped (``建筑面积（㎡）`` -> ``建筑面积``,
    ``经度(GCJ02)`` -> ``经度``)."""
    text = unicodedata.normalize("NFKC", str(name)).strip().lower()
    stripped = _UNIT.sub("", text)
    return stripped or text


def recognise_headers(df: pd.DataFrame, kind: str, keep: set[str]) -> tuple[pd.DataFrame, dict[str, str]]:
    """Rename common Chinese/English headers of ``kind`` to canonical names.

    A header is renamed only when its canonical column is absent and it is not in
    ``keep`` (the id column the user named, the user's own mapping); the first matching
    header wins. Returns the frame and ``{header: canonical}`` of what was renamed.
    """
    table = {header_key(k): v for k, v in HEADER_SYNONYMS.get(kind, {}).items()}
    present = {str(c) for c in df.columns}
    done: dict[str, str] = {}
    for col in df.columns:
        if not isinstance(col, str) or col in keep or col in present & set(table.values()):
            continue
        target = table.get(col.lower(), table.get(header_key(col)))
        if target is None or target in present or target in done.values():
            continue
        done[col] = target
    return (df.rename(columns=done) if done else df), done


def _find_column(columns, names: tuple[str, ...]) -> str | None:
    lower = {str(c).lower(): c for c in columns}
    for n in names:
        if n in lower:
            return lower[n]
    keyed: dict[str, Any] = {}
    for c in columns:
        keyed.setdefault(header_key(c), c)
    for n in names:
        if n in keyed:
            return keyed[n]
    return None


def _is_id_column(name: Any, id_cols: set[str]) -> bool:
    s = str(name)
    low = s.lower()
    return (s in id_cols or s in _ID_NAMES or low == "id" or low.endswith("_id")
            or any(k in s for k in ("编号", "编码", "代码", "序号")))


_THOUSANDS = re.compile(r"^[+-]?\d{1,3}(,\d{3})+(\.\d+)?$")


def to_number(col: pd.Series) -> pd.Series:
    """``pd.to_numeric`` of a column, cells failing it retried through :func:`clean_number`
    (NaN where still not a number)."""
    num = pd.to_numeric(col, errors="coerce")
    retry = num.isna() & col.notna()
    if retry.any():
        num = num.astype(float)
        num[retry] = pd.to_numeric(col[retry].map(clean_number), errors="coerce")
    return num


def clean_number(v: Any) -> Any:
    """A cell as a planner types numbers: full-width digits (NFKC), blanks and thousands
    separators (``1,200``) allowed; anything else is returned unchanged."""
    if not isinstance(v, str):
        return v
    t = unicodedata.normalize("NFKC", v).strip()
    if _THOUSANDS.match(t):
        t = t.replace(",", "")
    return t


def infer_numbers(df: pd.DataFrame, id_cols: set[str], skip: set[str]) -> pd.DataFrame:
    """Turn text columns whose every value is a number into numbers; ids stay text."""
    out = df.copy()
    for col in out.columns:
        if col in skip or _is_id_column(col, id_cols):
            continue
        s = out[col]
        if not (s.dtype == object or pd.api.types.is_string_dtype(s.dtype)):
            continue
        vals = s[s.notna()]
        if vals.empty:
            continue
        num = to_number(vals)
        if num.notna().all():
            out[col] = to_number(s)
    return out


def ids_as_text(df: pd.DataFrame, id_cols: set[str]) -> pd.DataFrame:
    """Id columns of a text-read table stay text (object dtype, missing = None)."""
    out = df.copy()
    for col in out.columns:
        if _is_id_column(col, id_cols) and pd.api.types.is_string_dtype(out[col].dtype):
            out[col] = out[col].astype(object).where(out[col].notna(), None)
    return out


# ----------------------------------------------------------------------------- points from tables
WKT_HEADERS: tuple[str, ...] = ("wkt", "geometry", "geom", "the_geom", "shape", "几何", "空间信息")
"""Names of a column of WKT geometries (as QGIS/ArcGIS export a layer to CSV)."""


def _not_degrees(gdf: gpd.GeoDataFrame) -> bool:
    """A geographic CRS on coordinates out of the degree range (|x| > 180 or |y| > 90)."""
    if gdf.crs is None or not gdf.crs.is_geographic or len(gdf) == 0:
        return False
    b = np.asarray(gdf.total_bounds, dtype=float)
    return bool(np.isfinite(b).all() and (np.abs(b[[0, 2]]).max() > 180
                                          or np.abs(b[[1, 3]]).max() > 90))


def _from_wkt(df: pd.DataFrame, col: str, what: str, src_crs: Any) -> gpd.GeoDataFrame:
    text = df[col]
    geom = np.empty(len(df), dtype=object)
    bad = []
    for i, v in enumerate(text):
        if v is None or (isinstance(v, float) and v != v) or (isinstance(v, str) and not v.strip()):
            geom[i] = None
            continue
        try:
            geom[i] = shapely.from_wkt(str(v).strip())
        except shapely.errors.GEOSException:
            bad.append(i + 1)
    if bad:
        raise InputError(f"{what}: column {col!r} holds text that is not WKT geometry in data rows "
                         f"{', '.join(map(str, bad[:10]))}; fix them (e.g. 'POLYGON ((x y, ...))').")
    out = gpd.GeoDataFrame(df.drop(columns=[col]), geometry=geom,
                           crs=src_crs if src_crs is not None else "EPSG:4326")
    if src_crs is None:
        b = out.geometry.dropna()
        if len(b) and (np.abs(b.bounds[["minx", "maxx"]].to_numpy()).max() > 180
                       or np.abs(b.bounds[["miny", "maxy"]].to_numpy()).max() > 90):
            raise CRSError(f"{what}: the WKT in column {col!r} is not in longitude/latitude degrees; "
                           "pass src_crs= (e.g. src_crs='EPSG:32650') to say which CRS it is in.")
    return out


def points_from_table(df: pd.DataFrame, what: str, src_crs: Any) -> gpd.GeoDataFrame:
    """GeoDataFrame of points from longitude/latitude (or x/y with ``src_crs``) columns, or of
    any geometry from a WKT column (see :data:`WKT_HEADERS`) when there are no such columns."""
    lon = _find_column(df.columns, LON_HEADERS)
    lat = _find_column(df.columns, LAT_HEADERS)
    if lon is None or lat is None:
        wkt = _find_column(df.columns, WKT_HEADERS)
        if wkt is not None:
            return _from_wkt(df, wkt, what, src_crs)
        raise InputError(
            f"{what}: no coordinate columns found. A table needs a longitude column "
            f"(one of {', '.join(LON_HEADERS)}) and a latitude column "
            f"(one of {', '.join(LAT_HEADERS)}), case-insensitive, after renaming with "
            f"columns=, or a WKT geometry column (one of {', '.join(WKT_HEADERS)}); found "
            f"{list(df.columns)}."
        )
    x = to_number(df[lon]).to_numpy(dtype=float)
    y = to_number(df[lat]).to_numpy(dtype=float)
    geom = shapely.points(x, y)
    ok = np.isfinite(x) & np.isfinite(y)
    geom[~ok] = None
    crs = src_crs if src_crs is not None else "EPSG:4326"
    if src_crs is None and ok.any() and (np.abs(x[ok]).max() > 180 or np.abs(y[ok]).max() > 90):
        if np.abs(x[ok]).max() <= 90 and np.abs(y[ok]).max() <= 180:
            raise InputError(
                f"{what}: latitude column {lat!r} holds values above 90 (up to "
                f"{np.abs(y[ok]).max():g}) while longitude column {lon!r} stays within 90: the "
                "two look swapped; swap them (e.g. columns={" + f"{lon!r}: 'lat', {lat!r}: 'lon'" + "})."
            )
        raise CRSError(
            f"{what}: columns {lon!r}/{lat!r} hold values outside longitude/latitude "
            f"degrees; pass src_crs= (e.g. src_crs='EPSG:32650') to say which CRS they are in."
        )
    zero = ok & (x == 0) & (y == 0)
    if zero.any():
        rows = ", ".join(str(i + 1) for i in np.flatnonzero(zero)[:10])
        raise InputError(
            f"{what}: {int(zero.sum())} record(s) at coordinates 0, 0 (data rows {rows}): a "
            "placeholder for 'unknown', not a place; give their coordinates or remove them."
        )
    return gpd.GeoDataFrame(df.copy(), geometry=geom, crs=crs)


# ----------------------------------------------------------------------------- vector files
def read_vector(path: Path, what: str, *, layer: Any, encoding: str | None) -> gpd.GeoDataFrame:
    """Read any vector format pyogrio reads, fixing a missing or wrong text encoding."""
    suffix = path.suffix.lower()
    source: Any = path
    kwargs: dict[str, Any] = {}
    enc: str | None = None
    given = encoding is not None
    if suffix == ".shp":
        enc, given = _dbf_encoding(path, what, encoding)
        if enc is not None:
            kwargs["encoding"] = enc
    elif suffix in _TEXT_VECTOR_SUFFIXES:
        text, enc = decode(path.read_bytes(), what, encoding)
        source = io.BytesIO(text.encode("utf-8"))
    elif encoding is not None:
        kwargs["encoding"] = encoding
        enc = encoding
    try:
        gdf = gpd.read_file(source, layer=layer, **kwargs)
    except Exception as exc:  # pyogrio raises several types (DataSourceError, UnicodeDecodeError...)
        first = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        hint = (" The text may be in another encoding: pass encoding= (e.g. 'gb18030')."
                if isinstance(exc, UnicodeDecodeError) else "")
        raise InputError(f"{what}: cannot read {path} (layer={layer!r}): {first}.{hint}") from exc
    gdf.attrs = {}
    _report_encoding(gdf, what, enc, given)
    return gdf


# ----------------------------------------------------------------------------- entry point
def load(src: Source, what: str, *, kind: str, id_col: str | None, layer: Any = None,
         sheet: Any = None, encoding: str | None = None, columns: Mapping[str, str] | None = None,
         src_crs: Any = None) -> gpd.GeoDataFrame:
    """Return a renamed GeoDataFrame copy of ``src`` (CRS possibly None; attrs reset).

    Renaming (``columns=``, then common headers) happens before the coordinate look-up.
    """
    canonical = next(c.name for c in CONTRACTS[kind] if c.name.endswith("_id"))
    id_cols = {canonical} | ({id_col} if id_col else set())
    keep = set(id_cols - {canonical}) | set((columns or {}).keys()) | set((columns or {}).values())
    enc: str | None = None
    sheet_used = None
    header_row, blank_rows = 0, 0
    if isinstance(src, str | PathLike) and not isinstance(src, pd.DataFrame):
        path = Path(src).expanduser()
        if not path.exists():
            raise InputError(f"{what}: file not found: {path}")
        what = f"{what} ({path.name})"
        suffix = path.suffix.lower()
        if suffix in TABLE_SUFFIXES or suffix in EXCEL_SUFFIXES:
            if suffix in TABLE_SUFFIXES and sheet is not None:
                raise InputError(f"{what}: sheet= is for Excel workbooks; a {suffix} file has none.")
            df, enc = read_table(path, what, encoding=encoding,
                                 sheet=sheet if sheet is not None else layer,
                                 header_names=set((columns or {}).keys()))
            sheet_used = df.attrs.get("careplan_sheet")
            header_row, blank_rows = df.attrs["careplan_header_row"], df.attrs["careplan_blank_rows"]
            df = _strip_headers(df)
            df.attrs = {}
            df = rename(df, columns, what)
            df, found = recognise_headers(df, kind, keep)
            df = ids_as_text(infer_numbers(df, id_cols, set()), id_cols)
            gdf = points_from_table(df, what, src_crs)
        else:
            if sheet is not None:
                raise InputError(f"{what}: sheet= is for Excel workbooks; use layer= for {suffix} files.")
            gdf = read_vector(path, what, layer=layer, encoding=encoding)
            attrs = dict(gdf.attrs)
            gdf = rename(gdf, columns, what)
            gdf, found = recognise_headers(gdf, kind, keep)
            gdf.attrs = attrs
            if src_crs is not None and (gdf.crs is None or _not_degrees(gdf)):
                # no CRS, or GeoJSON's implied EPSG:4326 on coordinates in metres
                gdf = gdf.set_crs(src_crs, allow_override=True)
    elif isinstance(src, gpd.GeoDataFrame):
        gdf = src.copy()
        gdf.attrs = {}
        gdf = rename(gdf, columns, what)
        gdf, found = recognise_headers(gdf, kind, keep)
        if src_crs is not None and gdf.crs is None:
            gdf = gdf.set_crs(src_crs)
    elif isinstance(src, pd.DataFrame):
        df = rename(src.copy(), columns, what)
        df, found = recognise_headers(df, kind, keep)
        gdf = points_from_table(df, what, src_crs)
    else:
        raise InputError(
            f"{what}: expected a GeoDataFrame, a DataFrame with lon/lat columns or a file path, "
            f"got {type(src).__name__}."
        )
    attrs = dict(gdf.attrs.get("careplan", {}))
    gdf.attrs = {"careplan": attrs} if attrs else {}
    if isinstance(src, str | PathLike) and Path(src).suffix.lower() in TABLE_SUFFIXES:
        _report_encoding(gdf, what, enc, encoding is not None)
    if sheet_used is not None:
        note(gdf, "sheet", sheet_used)
    if header_row:
        note(gdf, "header_row", header_row)
        warn(f"{what}: {header_row} title line(s) above the header skipped; the header is line "
             f"{header_row + 1}.")
    if blank_rows:
        note(gdf, "blank_rows", blank_rows)
        warn(f"{what}: {blank_rows} empty row(s) (no value in any column) skipped.")
    if found:
        note(gdf, "recognised_columns", found)
        warn(f"{what}: recognised column(s) " + ", ".join(f"{k!r} as {v!r}" for k, v in found.items())
             + "; pass columns= to map them differently.")
    _report_lookalikes(gdf, kind, what)
    return gdf


def _report_lookalikes(gdf: pd.DataFrame, kind: str, what: str) -> None:
    """Warn about columns that look like a missing canonical field (a header with 床 and no
    ``nursing_beds`` column ...): they would otherwise leave the field at its default."""
    words = LOOKALIKE_HEADERS.get(kind, {})
    present = {str(c) for c in gdf.columns}
    hits = []
    for col in gdf.columns:
        if not isinstance(col, str) or col in present & {c.name for c in CONTRACTS[kind]}:
            continue
        missing = sorted({f for w, fields in words.items() if w in col for f in fields
                          if f not in present})
        if missing:
            hits.append(f"{col!r} (like {' or '.join(repr(f) for f in missing)})")
    if hits:
        note(gdf, "unrecognised_lookalike_columns", hits)
        warn(f"{what}: column(s) {', '.join(hits)} look like a known field but are not "
             "recognised, so the field keeps its default (e.g. 0 beds); map them with "
             "columns={'header': 'field'} if they are.")
