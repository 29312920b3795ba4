"""Excel workbooks: ``tables.xlsx`` of a plan and ``careplan check --out`` workbooks.

Cells are written one by one with openpyxl so that their type is what the value
is: text cells are always text (``data_type 's'``, never a formula), neutralised
per OWASP's CSV-injection guidance (:func:`careplan.report.escape.spreadsheet_text`);
numbers stay numbers, booleans booleans, NA an empty cell, ±inf the text ``∞``.
"""

from __future__ import annotations

import math
import os
import re
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

import geopandas as gpd
import numpy as np
import pandas as pd

from careplan.report._common import attribution, checked, extra_tables
from careplan.report.atomic import atomic_file
from careplan.report.escape import spreadsheet_text
from careplan.report.format import fmt, frame_without_index_dup, table_frame
from careplan.report.labels import check_lang, is_share, metric_label
from careplan.report.tables import citation_text, with_totals

if TYPE_CHECKING:  # pragma: no cover
    from careplan.compliance import ComplianceResult
    from careplan.plan import LayoutPlan

__all__ = ["compliance_sheets", "write_compliance_excel", "write_excel", "write_workbook"]

_SHEET_BAD = re.compile(r"[\[\]:*?/\\]")


def _cell_value(v: Any) -> tuple[Any, bool]:
    """(value for openpyxl, is_text)."""
    if v is None:
        return None, False
    if isinstance(v, bool | np.bool_):
        return bool(v), False
    if isinstance(v, int | np.integer):
        return int(v), False
    if isinstance(v, float | np.floating):
        if math.isnan(v):
            return None, False
        if math.isinf(v):
            return ("∞" if v > 0 else "-∞"), True
        return float(v), False
    if isinstance(v, pd.Timestamp):
        return v.to_pydatetime(), False
    try:
        if pd.isna(v):
            return None, False
    except (TypeError, ValueError):
        pass
    return spreadsheet_text(fmt(v)), True


def _sheet_name(name: str, used: set[str]) -> str:
    base = _SHEET_BAD.sub("_", str(name)).strip("'")[:31] or "sheet"
    out, i = base, 2
    while out.lower() in used:
        suffix = f"_{i}"
        out, i = base[: 31 - len(suffix)] + suffix, i + 1
    used.add(out.lower())
    return out


def _fill_sheet(ws, df: pd.DataFrame, percent_rows: set[int] | None = None,
                percent_cols: tuple[str, ...] = ()) -> None:
    cols = list(df.columns)
    for j, c in enumerate(cols, start=1):
        cell = ws.cell(row=1, column=j, value=spreadsheet_text(str(c)))
        cell.data_type = "s"
    widths = [min(max(len(str(c)), 6), 60) for c in cols]
    pct_idx = {cols.index(c) for c in percent_cols if c in cols}
    share_idx = {j for j, c in enumerate(cols) if is_share(c)}
    for i, row in enumerate(df.itertuples(index=False, name=None)):
        for j, v in enumerate(row):
            val, is_text = _cell_value(v)
            cell = ws.cell(row=i + 2, column=j + 1)
            cell.value = val
            if is_text:
                cell.data_type = "s"
                if i < 200:
                    widths[j] = min(max(widths[j], len(val)), 60)
            elif isinstance(val, float) and (j in share_idx or (
                    percent_rows and i in percent_rows and j in pct_idx)):
                cell.number_format = "0.0%"
    ws.freeze_panes = "A2"
    from openpyxl.utils import get_column_letter

    for j, w in enumerate(widths, start=1):
        ws.column_dimensions[get_column_letter(j)].width = w + 2


def write_workbook(sheets: Mapping[str, pd.DataFrame], path: str | os.PathLike, *,
                   percent: Mapping[str, tuple[set[int], tuple[str, ...]]] | None = None
                   ) -> Path:
    """Write *sheets* (name -> frame) to an ``.xlsx`` file atomically.

    Parameters
    ----------
    sheets : mapping of str to DataFrame
        Sheet name (made valid: at most 31 characters, no ``[]:*?/\\``, unique)
        to its table; the frame's index is not written.
    path : path-like
        The workbook; its folder must exist.
    percent : mapping, optional
        ``sheet -> (row positions, column names)`` whose numbers are shown as
        percentages (the stored value stays the fraction).

    Returns
    -------
    Path

    Raises
    ------
    OutputError
        If the file cannot be written (one line; an earlier file is unchanged).
    """
    from openpyxl import Workbook

    wb = Workbook()
    wb.remove(wb.active)
    used: set[str] = set()
    percent = percent or {}
    for name, df in sheets.items():
        ws = wb.create_sheet(_sheet_name(name, used))
        rows, cols = percent.get(name, (set(), ()))
        _fill_sheet(ws, pd.DataFrame(df), rows, cols)
    with atomic_file(path) as tmp:
        wb.save(tmp)
    return Path(path)


def _parameters_frame(params: dict) -> pd.DataFrame:
    return pd.DataFrame({"parameter": [str(k) for k in params],
                         "value": [fmt(v) for v in params.values()]})


def _with_xy(g: gpd.GeoDataFrame) -> pd.DataFrame:
    out = frame_without_index_dup(table_frame(g))
    if len(g):
        pts = g.geometry.representative_point()
        ll = pts.to_crs(4326)
        out["x_m"] = pts.x.to_numpy()
        out["y_m"] = pts.y.to_numpy()
        out["lon"] = ll.x.to_numpy()
        out["lat"] = ll.y.to_numpy()
    return out


def _excel_sheets(plan: LayoutPlan) -> dict[str, pd.DataFrame]:
    params = dict(plan.parameters or {})
    params.setdefault("crs", plan.crs.to_string())
    params.setdefault("attribution", attribution(plan))
    sheets = {
        "summary": plan.summary.reset_index(drop=True),
        "areas": frame_without_index_dup(table_frame(plan.areas)),
        "proposed": _with_xy(plan.proposed),
        "existing": _with_xy(plan.existing),
        "rules_before": table_frame(plan.rules_before).reset_index(drop=True),
        "rules_after": table_frame(plan.rules_after).reset_index(drop=True),
        **{name: (_with_xy(df) if isinstance(df, gpd.GeoDataFrame)
                  else with_totals(name, table_frame(df).reset_index(drop=True), "en")[0])
           for name, df in extra_tables(plan).items()},
        "parameters": _parameters_frame(params),
    }
    return sheets


def write_excel(plan: LayoutPlan, path: str | os.PathLike) -> Path:
    """Write ``tables.xlsx``: sheets summary, areas, proposed, existing, rules_before,
    rules_after, the plan's optional tables (allocation, facilities, rules_not_met, cost,
    phases, ...), parameters.

    ``cost`` and ``phases`` end with their total rows (``station_id`` "Total", and a
    "Phase k subtotal" after each phase; :func:`careplan.report.tables.with_totals`).

    Geometry is left out; ``proposed`` and ``existing`` get ``x_m, y_m`` (plan CRS)
    and ``lon, lat`` (WGS84) of each point.  Non-scalar cells (lists, dicts) are
    written as JSON text.  Shares stay fractions (numbers) shown as percentages
    (cell format ``0.0%``): the summary's ``*_share`` metrics, every ``*_share``
    column and the rule rows whose unit is a share.

    Parameters
    ----------
    plan : LayoutPlan
        The plan, from :func:`careplan.plan_layout`.
    path : path-like
        The ``.xlsx`` file to write (replaced if present).

    Returns
    -------
    Path
        The file written.

    Raises
    ------
    InputError, CRSError
        If *plan* is not a valid layout plan.
    OutputError
        If the file cannot be written.
    """
    plan = checked(plan)
    sheets = _excel_sheets(plan)
    summ = sheets["summary"]
    shares = {i for i, m in enumerate(summ["metric"]) if is_share(m)}
    percent = {"summary": (shares, ("before", "after"))}
    for name in ("rules_before", "rules_after", "rules_not_met"):
        if name in sheets and "unit" in sheets[name].columns:
            rows = {i for i, u in enumerate(sheets[name]["unit"])
                    if isinstance(u, str) and u.strip().lower().startswith("share")}
            percent[name] = (rows, ("required", "found", "required_max", "found_max"))
    return write_workbook(sheets, path, percent=percent)


def compliance_sheets(result: ComplianceResult, *, lang: str = "en") -> dict[str, pd.DataFrame]:
    """Sheets of a compliance workbook, labelled in *lang*.

    ``summary`` (metric, label, value), ``rules`` (rule_id, label, the numbers,
    passed, note, citation by document and clause), ``areas``, ``streets`` /
    ``districts`` (when rolled up), ``facilities``, ``overlaps`` (when any) and
    ``standard`` (the profile's rules).
    """
    from careplan.report.tables import standard_citations

    lang = check_lang(lang)
    s = result.summary
    out: dict[str, pd.DataFrame] = {"summary": pd.DataFrame({
        "metric": s["metric"].to_numpy(),
        "label": [metric_label(m, lang, s[f"label_{lang}"].iloc[i]
                               if f"label_{lang}" in s.columns else None)
                  for i, m in enumerate(s["metric"])],
        "value": s["value"].to_numpy(),
    })}
    rules = table_frame(result.rules).reset_index(drop=True)
    cits = standard_citations({"standard": getattr(result.standard, "name", None)})
    label_col = f"label_{lang}" if f"label_{lang}" in rules.columns else "rule_id"
    rules.insert(1, "label", rules[label_col])
    rules = rules.drop(columns=[c for c in ("label_en", "label_zh") if c in rules.columns])
    rules["citation"] = [citation_text(c, lang, cits.get(r))
                         for r, c in zip(rules["rule_id"], rules["citation"], strict=True)]
    out["rules"] = rules
    out["areas"] = frame_without_index_dup(table_frame(result.areas))
    for name in ("streets", "districts"):
        df = getattr(result, name, None)
        if df is not None:
            out[name] = table_frame(df).reset_index(drop=True)
    out["facilities"] = table_frame(result.facilities).reset_index(drop=True)
    if len(result.overlaps):
        out["overlaps"] = table_frame(result.overlaps).reset_index(drop=True)
    out["standard"] = table_frame(result.standard.to_frame())
    return out


def write_compliance_excel(result: ComplianceResult, path: str | os.PathLike, *,
                           lang: str = "en") -> Path:
    """Write the workbook of ``careplan check --out`` atomically (see :func:`compliance_sheets`).

    Parameters
    ----------
    result : ComplianceResult
        From :func:`careplan.compliance.check`.
    path : path-like
        The ``.xlsx`` file to write (replaced if present).
    lang : {'en', 'zh'}, default 'en'
        Language of the labels (see :func:`compliance_sheets`).

    Returns
    -------
    Path
        The file written.

    Raises
    ------
    OutputError
        If the file cannot be written (one line; an earlier file is unchanged).
    """
    return write_workbook(compliance_sheets(result, lang=lang), path)
