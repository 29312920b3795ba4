"""Number, percent and flag formatting shared by every writer of the report."""

from __future__ import annotations

import json
import math
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd

from careplan.report.labels import t

__all__ = ["flag", "fmt", "fmt_percent", "num", "plain", "table_frame", "truthy"]


def fmt(v: Any, lang: str = "en") -> str:
    """Format one table value as text.

    Integers as digits (no thousands separator), other floats with at most two
    decimals, booleans as yes/no in *lang*, NA as an en dash, infinities as
    ``∞``; lists and dicts as JSON.
    """
    if v is None:
        return "–"
    if isinstance(v, bool | np.bool_):
        return t("yes", lang) if v else t("no", lang)
    if isinstance(v, int | np.integer):
        return str(int(v))
    if isinstance(v, float | np.floating):
        if math.isnan(v):
            return "–"
        if math.isinf(v):
            return "∞" if v > 0 else "-∞"
        if float(v).is_integer():
            return str(int(v))
        return f"{v:.2f}".rstrip("0").rstrip(".")
    try:
        if pd.isna(v):
            return "–"
    except (TypeError, ValueError):
        pass
    if isinstance(v, dict | list | tuple | set):
        return json.dumps(v, ensure_ascii=False, default=str, sort_keys=isinstance(v, dict))
    return str(v)


def fmt_percent(v: Any, *, decimals: int = 1) -> str:
    """A fraction (0.734) as a percentage (``73.4%``); NA as an en dash.

    Trailing zeros are dropped (``1.0`` -> ``100%``).
    """
    x = num(v)
    if x is None or math.isnan(x):
        return "–"
    s = f"{100.0 * x:.{decimals}f}"
    if "." in s:
        s = s.rstrip("0").rstrip(".")
    return s + "%"


def flag(v: Any) -> bool | None:
    """True/False, or None for a missing (NA) flag."""
    if v is None or (pd.api.types.is_scalar(v) and pd.isna(v)):
        return None
    return bool(v)


def truthy(series: pd.Series) -> np.ndarray:
    """Boolean array of *series*, NA counted as False."""
    return np.array([flag(v) is True for v in series], dtype=bool)


def num(v: Any) -> float | None:
    """*v* as a float if it is a real number (not a bool, not NA), else None."""
    if isinstance(v, bool | np.bool_):
        return None
    if isinstance(v, int | float | np.integer | np.floating) and not pd.isna(v):
        return float(v)
    return None


def plain(value: Any) -> Any:
    """A JSON/Excel/GPKG-friendly scalar (numpy scalars to Python, containers to JSON text)."""
    if value is None:
        return None
    if isinstance(value, np.bool_):
        return bool(value)
    if isinstance(value, np.integer):
        return int(value)
    if isinstance(value, np.floating):
        return float(value)
    if isinstance(value, dict | list | tuple | set):
        return fmt(value)
    return value


def _is_na(v: Any) -> bool:
    return v is None or (pd.api.types.is_scalar(v) and pd.isna(v))


def table_frame(df: pd.DataFrame) -> pd.DataFrame:
    """A new frame without geometry whose object columns hold plain scalars.

    A column mixing types (e.g. numbers and text) becomes text, since a file
    column needs one type.
    """
    if isinstance(df, gpd.GeoDataFrame):
        out = pd.DataFrame(df.drop(columns=df.geometry.name))
    else:
        out = pd.DataFrame(df).copy()
    for c in out.columns:
        if out[c].dtype == object:
            vals = [plain(v) for v in out[c]]
            kinds = {type(v) for v in vals if not _is_na(v)}
            if len(kinds) > 1:
                vals = [None if _is_na(v) else fmt(v) for v in vals]
            out[c] = pd.Series(vals, index=out.index, dtype=object)
    return out


def frame_without_index_dup(df: pd.DataFrame) -> pd.DataFrame:
    """Reset the index unless it only duplicates an id column."""
    idx_name = df.index.name
    if idx_name is None or idx_name in df.columns:
        return df.reset_index(drop=True)
    return df.reset_index()
