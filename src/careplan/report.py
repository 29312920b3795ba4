"""Render a :class:`~careplan.plan.LayoutPlan`: HTML report, maps, Excel tables, GeoPackage.

Everything here *reads* a plan and writes files; nothing is computed that the
plan does not already hold, except simple sums for the charts.

Functions
---------
folium_map(plan, *, lang, tiles)
    Interactive folium map with toggleable layers, legend and attribution.
write_html(plan, path, *, lang)
    One self-contained ``report.html``.
write_excel(plan, path)
    ``tables.xlsx`` with one sheet per table.
write_png_maps(plan, directory, *, lang, dpi)
    Static before/after maps for print (matplotlib).
write_geopackage(plan, path)
    ``plan.gpkg`` with one layer per frame.
write_all(plan, directory, *, lang)
    All of the above, written atomically.

Notes
-----
The interactive map uses no tile server by default (``tiles=None``): streets
come from the plan's own network edges, so the report works offline.  Leaflet
itself is inlined into the HTML when the small ``xstatic-leaflet`` package is
installed (it ships Leaflet 1.9.3, the version folium uses); otherwise the
report falls back to folium's CDN links for Leaflet's JavaScript/CSS (tables,
charts and the static maps still work offline) and a :class:`CareplanWarning`
says so.  folium's jQuery/Bootstrap links are dropped: popups are bound with
plain Leaflet.

Text in figures (charts, PNG maps) is Chinese only when matplotlib can find a
CJK font (a system font, or the Noto Sans CJK SC font of the optional
``mplfonts`` package); otherwise figures fall back to English labels.  The HTML
text is always in the requested language.
"""

from __future__ import annotations

import base64
import dataclasses
import html
import io
import json
import math
import os
import shutil
import uuid
import warnings
from pathlib import Path
from typing import TYPE_CHECKING, Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from careplan._errors import CareplanWarning, CRSError, InputError
from careplan._progress import progress

if TYPE_CHECKING:  # pragma: no cover
    import folium

    from careplan.plan import LayoutPlan

__all__ = [
    "folium_map",
    "write_all",
    "write_excel",
    "write_geopackage",
    "write_html",
    "write_png_maps",
]

LANGS = ("zh", "en")

#: File names written by :func:`write_all` (key -> file name).
OUTPUT_FILES = {
    "geopackage": "plan.gpkg",
    "report": "report.html",
    "tables": "tables.xlsx",
    "map_before": "map_before.png",
    "map_after": "map_after.png",
}
_MARKER = ".careplan-output"

_UI: dict[str, dict[str, str]] = {
    "title": {"zh": "养老服务设施布局规划报告", "en": "Elderly-care facility layout plan"},
    "map": {"zh": "规划地图", "en": "Map"},
    "map_title": {"zh": "养老服务设施布局规划", "en": "Elderly-care facility layout plan"},
    "summary": {"zh": "规划前后对比", "en": "Before and after"},
    "metric": {"zh": "指标", "en": "Metric"},
    "before": {"zh": "规划前", "en": "Before"},
    "after": {"zh": "规划后", "en": "After"},
    "change": {"zh": "变化", "en": "Change"},
    "charts": {"zh": "图表", "en": "Charts"},
    "rules_before": {"zh": "规范核查（规划前）", "en": "Rule check (before)"},
    "rules_after": {"zh": "规范核查（规划后）", "en": "Rule check (after)"},
    "rule_id": {"zh": "条目", "en": "Rule"},
    "label": {"zh": "内容", "en": "Description"},
    "required": {"zh": "要求", "en": "Required"},
    "found": {"zh": "现状", "en": "Found"},
    "passed": {"zh": "是否达标", "en": "Passed"},
    "citation": {"zh": "依据", "en": "Citation"},
    "yes": {"zh": "是", "en": "yes"},
    "no": {"zh": "否", "en": "no"},
    "proposed": {"zh": "新增设施", "en": "Proposed stations"},
    "no_proposed": {"zh": "无需新增设施。", "en": "No new station is proposed."},
    "station_id": {"zh": "设施编号", "en": "Station"},
    "candidate_id": {"zh": "候选点", "en": "Candidate"},
    "floor_area_m2": {"zh": "建筑面积 (m²)", "en": "Floor area (m²)"},
    "households_served": {"zh": "服务户数", "en": "Households served"},
    "elderly_served": {"zh": "服务老年人数", "en": "Elderly served"},
    "areas_served": {"zh": "服务小区", "en": "Areas served"},
    "n_areas_served": {"zh": "服务小区数", "en": "Number of areas served"},
    "kind": {"zh": "类型", "en": "Kind"},
    "kind_new": {"zh": "新建", "en": "new"},
    "kind_expansion": {"zh": "扩建", "en": "expansion"},
    "facility_id": {"zh": "现状设施编号", "en": "Existing facility"},
    "unit": {"zh": "单位", "en": "Unit"},
    "note": {"zh": "说明", "en": "Note"},
    "lg_expansion": {"zh": "现状设施扩建（按面积大小）", "en": "Expansion of an existing facility (sized by m²)"},
    "lg_na": {"zh": "无需配置（无住户）", "en": "Not applicable (no households)"},
    "existing": {"zh": "现状设施", "en": "Existing facilities"},
    "level": {"zh": "等级", "en": "Level"},
    "count": {"zh": "数量", "en": "Count"},
    "parameters": {"zh": "假设与参数", "en": "Assumptions and parameters"},
    "parameter": {"zh": "参数", "en": "Parameter"},
    "value": {"zh": "取值", "en": "Value"},
    "attribution": {"zh": "数据来源", "en": "Data attribution"},
    "areas": {"zh": "居住小区", "en": "Residential areas"},
    "area_id": {"zh": "小区编号", "en": "Area"},
    "name": {"zh": "名称", "en": "Name"},
    "households": {"zh": "户数", "en": "Households"},
    "elderly": {"zh": "老年人数", "en": "Elderly"},
    "required_m2": {"zh": "应配面积 (m²)", "en": "Required (m²)"},
    "provided_before_m2": {"zh": "规划前面积 (m²)", "en": "Provided before (m²)"},
    "provided_after_m2": {"zh": "规划后面积 (m²)", "en": "Provided after (m²)"},
    "deficit_before_m2": {"zh": "规划前缺口 (m²)", "en": "Deficit before (m²)"},
    "deficit_after_m2": {"zh": "规划后缺口 (m²)", "en": "Deficit after (m²)"},
    "compliant_before": {"zh": "规划前达标", "en": "Compliant before"},
    "compliant_after": {"zh": "规划后达标", "en": "Compliant after"},
    "covered_before": {"zh": "规划前步行覆盖", "en": "Walk-covered before"},
    "covered_after": {"zh": "规划后步行覆盖", "en": "Walk-covered after"},
    "nearest_distance_before_m": {"zh": "规划前最近距离 (m)", "en": "Nearest before (m)"},
    "nearest_distance_after_m": {"zh": "规划后最近距离 (m)", "en": "Nearest after (m)"},
    "served_by": {"zh": "新增服务设施", "en": "Served by (new)"},
    "lyr_areas_after": {"zh": "小区达标情况（规划后）", "en": "Areas: compliance after"},
    "lyr_areas_before": {"zh": "小区达标情况（规划前）", "en": "Areas: compliance before"},
    "lyr_existing": {"zh": "现状设施", "en": "Existing facilities"},
    "lyr_proposed": {"zh": "新增设施", "en": "Proposed stations"},
    "lyr_sa_existing": {"zh": "现状服务范围", "en": "Service areas: existing"},
    "lyr_sa_proposed": {"zh": "新增服务范围", "en": "Service areas: proposed"},
    "lyr_network": {"zh": "步行路网", "en": "Street network"},
    "lg_compliant": {"zh": "面积达标", "en": "Meets floor-area rule"},
    "lg_deficit": {"zh": "面积不足", "en": "Floor-area deficit"},
    "lg_proposed": {"zh": "新增设施（按面积大小）", "en": "Proposed station (sized by m²)"},
    "lg_sa_existing": {"zh": "现状设施步行服务范围", "en": "Walking service area, existing"},
    "lg_sa_proposed": {"zh": "新增设施步行服务范围", "en": "Walking service area, proposed"},
    "lg_network": {"zh": "路网", "en": "Streets"},
    "legend": {"zh": "图例", "en": "Legend"},
    "chart_households": {"zh": "步行覆盖户数", "en": "Households within walking reach"},
    "chart_deficit": {"zh": "各小区面积缺口", "en": "Floor-area deficit by area"},
    "hh_total": {"zh": "总户数", "en": "All households"},
    "hh_covered": {"zh": "覆盖户数", "en": "Covered households"},
    "deficit_m2": {"zh": "缺口 (m²)", "en": "Deficit (m²)"},
    "deficit_top": {"zh": "（缺口最大的 {n} 个小区）", "en": " (the {n} areas with the largest deficit)"},
    "map_before": {"zh": "规划前", "en": "Before the plan"},
    "map_after": {"zh": "规划后", "en": "After the plan"},
    "easting": {"zh": "距左下角东向距离 (m)", "en": "Easting from lower-left (m)"},
    "northing": {"zh": "距左下角北向距离 (m)", "en": "Northing from lower-left (m)"},
    "crs_note": {"zh": "坐标系", "en": "CRS"},
    "offline_note": {
        "zh": "地图不使用在线底图；底图为规划所用路网。",
        "en": "The map uses no online base map; streets are the plan's own network.",
    },
    "cdn_note": {
        "zh": "注意：交互地图需联网加载 Leaflet 脚本（安装 xstatic-leaflet 后可离线）。",
        "en": "Note: the interactive map loads Leaflet from a CDN (install xstatic-leaflet to embed it).",
    },
    "all_areas": {"zh": "全部小区明细", "en": "All areas"},
}

_LEVEL_LABELS = {
    "district": {"zh": "区级", "en": "district"},
    "street": {"zh": "街道级", "en": "street"},
    "community": {"zh": "社区级", "en": "community"},
    "institution": {"zh": "养老机构", "en": "institution"},
    "canteen": {"zh": "助餐点", "en": "canteen"},
    "other": {"zh": "其他", "en": "other"},
}
_LEVEL_COLORS = {
    "district": "#542788",
    "street": "#253494",
    "community": "#41b6c4",
    "institution": "#8c510a",
    "canteen": "#bf812d",
    "other": "#7f7f7f",
}
_C_OK = "#1a9850"
_C_BAD = "#d73027"
_C_PROPOSED = "#ff7f00"
_C_SA_EXISTING = "#4393c3"
_C_SA_PROPOSED = "#ff7f00"
_C_NETWORK = "#8c8c8c"
_C_NA = "#bdbdbd"

_AREA_REQUIRED = (
    "households",
    "required_m2",
    "deficit_before_m2",
    "deficit_after_m2",
    "compliant_before",
    "compliant_after",
    "covered_before",
    "covered_after",
)
_AREA_TABLE_COLS = (
    "area_id",
    "name",
    "households",
    "elderly",
    "required_m2",
    "provided_before_m2",
    "provided_after_m2",
    "deficit_before_m2",
    "deficit_after_m2",
    "compliant_before",
    "compliant_after",
    "covered_before",
    "covered_after",
    "nearest_distance_before_m",
    "nearest_distance_after_m",
    "served_by",
)
_PROPOSED_COLS = (
    "station_id",
    "kind",
    "candidate_id",
    "facility_id",
    "floor_area_m2",
    "households_served",
    "elderly_served",
    "n_areas_served",
    "areas_served",
)
_SUMMARY_REQUIRED = ("metric", "label_en", "label_zh", "before", "after")
_RULE_REQUIRED = ("rule_id", "label_en", "label_zh", "required", "found", "passed", "citation")


# --------------------------------------------------------------------------------------
# checks and small helpers
# --------------------------------------------------------------------------------------
def _t(key: str, lang: str) -> str:
    return _UI[key][lang]


def _check_lang(lang: str) -> str:
    if lang not in LANGS:
        raise InputError(f"lang={lang!r} is not supported; use one of {LANGS}.")
    return lang


def _require(df: pd.DataFrame, cols, what: str) -> None:
    if not isinstance(df, pd.DataFrame):
        raise InputError(f"plan.{what} must be a (Geo)DataFrame, got {type(df).__name__}.")
    missing = [c for c in cols if c not in df.columns]
    if missing:
        raise InputError(
            f"plan.{what} lacks column(s) {missing}; a LayoutPlan from "
            f"careplan.plan_layout has them (see the LayoutPlan docstring)."
        )


def _as_crs(gdf: gpd.GeoDataFrame | None, crs, what: str) -> gpd.GeoDataFrame | None:
    """Return *gdf* in *crs* (reprojected with a warning, never mutated)."""
    if gdf is None:
        return None
    if not isinstance(gdf, gpd.GeoDataFrame):
        raise InputError(f"plan.{what} must be a GeoDataFrame, got {type(gdf).__name__}.")
    if gdf.crs is None:
        if len(gdf) == 0:
            return gdf.set_crs(crs, allow_override=True)
        raise CRSError(f"plan.{what} has no CRS; set one with .set_crs(...) before rendering.")
    if not gdf.crs.equals(crs):
        warnings.warn(
            f"plan.{what} is in {gdf.crs.to_string()}, not the plan's CRS "
            f"{crs.to_string()}; reprojected for rendering.",
            CareplanWarning,
            stacklevel=3,
        )
        return gdf.to_crs(crs)
    return gdf


def _checked(plan: LayoutPlan) -> LayoutPlan:
    """Validate *plan* and return it with every layer in the plan's CRS."""
    for attr in ("areas", "existing", "proposed", "service_areas", "summary",
                 "rules_before", "rules_after"):
        if not hasattr(plan, attr):
            raise InputError(
                f"expected a careplan LayoutPlan, got {type(plan).__name__} without .{attr}."
            )
    areas = plan.areas
    if not isinstance(areas, gpd.GeoDataFrame):
        raise InputError("plan.areas must be a GeoDataFrame.")
    if areas.crs is None:
        raise CRSError("plan.areas has no CRS; a plan must be in a projected (metric) CRS.")
    if not areas.crs.is_projected:
        raise CRSError(
            f"plan.areas is in the geographic CRS {areas.crs.to_string()}; a plan must be in a "
            "projected (metric) CRS, e.g. areas.to_crs(areas.estimate_utm_crs())."
        )
    _require(areas, _AREA_REQUIRED, "areas")
    _require(plan.summary, _SUMMARY_REQUIRED, "summary")
    _require(plan.rules_before, _RULE_REQUIRED, "rules_before")
    _require(plan.rules_after, _RULE_REQUIRED, "rules_after")
    crs = areas.crs
    existing = _as_crs(plan.existing, crs, "existing")
    proposed = _as_crs(plan.proposed, crs, "proposed")
    service = _as_crs(plan.service_areas, crs, "service_areas")
    edges = _as_crs(getattr(plan, "network_edges", None), crs, "network_edges")
    if len(proposed):
        _require(proposed, ("station_id", "floor_area_m2"), "proposed")
    if len(service):
        _require(service, ("facility_id", "status"), "service_areas")
    if "area_id" not in areas.columns:
        areas = areas.assign(area_id=areas.index.astype(str))
    params = getattr(plan, "parameters", None) or {}
    if not isinstance(params, dict):
        raise InputError(f"plan.parameters must be a dict, got {type(params).__name__}.")
    return dataclasses.replace(
        plan,
        areas=areas,
        existing=existing,
        proposed=proposed,
        service_areas=service,
        network_edges=edges,
    )


def _attribution(plan: LayoutPlan) -> str:
    text = getattr(plan, "attribution", None) or ""
    if "OpenStreetMap" not in text:
        text = (text + "; " if text else "") + "© OpenStreetMap contributors"
    return text


def _fmt(v: Any, lang: str = "en") -> str:
    """Format one table value as text (numbers without thousands separators)."""
    if v is None:
        return "–"
    if isinstance(v, bool | np.bool_):
        return _t("yes", lang) if v else _t("no", lang)
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


def _flag(v: Any) -> bool | None:
    """True/False, or None for a missing (NA) flag."""
    if v is None or (pd.api.types.is_scalar(v) and pd.isna(v)):
        return None
    return bool(v)


def _truthy(series: pd.Series) -> np.ndarray:
    """Boolean array of *series*, NA counted as False."""
    return np.array([_flag(v) is True for v in series], dtype=bool)


def _num(v: Any) -> float | None:
    if isinstance(v, bool | np.bool_):
        return None
    if isinstance(v, int | float | np.integer | np.floating) and not pd.isna(v):
        return float(v)
    return None


def _plain(value: Any) -> Any:
    """A JSON/Excel/GPKG-friendly scalar."""
    if value is None:
        return None
    if isinstance(value, np.bool_):
        return bool(value)
    if isinstance(value, np.integer):
        return int(value)
    if isinstance(value, np.floating):
        return float(value)
    if isinstance(value, dict | list | tuple | set):
        return _fmt(value)
    return value


def _table_frame(df: pd.DataFrame) -> pd.DataFrame:
    """Drop geometry and make object columns hold plain scalars (for Excel/GPKG)."""
    if isinstance(df, gpd.GeoDataFrame):
        out = pd.DataFrame(df.drop(columns=df.geometry.name))
    else:
        out = pd.DataFrame(df).copy()
    for c in out.columns:
        if out[c].dtype == object:
            vals = [_plain(v) for v in out[c]]
            kinds = {type(v) for v in vals
                     if v is not None and not (pd.api.types.is_scalar(v) and pd.isna(v))}
            if len(kinds) > 1:  # mixed types: a file column needs one type, use text
                vals = [None if v is None or (pd.api.types.is_scalar(v) and pd.isna(v))
                        else _fmt(v) for v in vals]
            out[c] = pd.Series(vals, index=out.index, dtype=object)
    return out


_EXCEL_MAX_CHARS = 32767


def _excel_safe(df: pd.DataFrame) -> pd.DataFrame:
    """Text cells Excel accepts: no control characters, at most 32,767 characters."""
    from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE

    out = df.copy()
    for c in out.columns:
        if out[c].dtype == object or pd.api.types.is_string_dtype(out[c].dtype):
            vals = []
            for v in out[c]:
                if isinstance(v, str):
                    v = ILLEGAL_CHARACTERS_RE.sub("", v)
                    if len(v) > _EXCEL_MAX_CHARS:
                        tail = " … [truncated; see plan.gpkg]"
                        v = v[: _EXCEL_MAX_CHARS - len(tail)] + tail
                vals.append(v)
            out[c] = pd.Series(vals, index=out.index, dtype=object)
    return out


def _frame_without_index_dup(df: pd.DataFrame) -> pd.DataFrame:
    """Reset the index unless it only duplicates an id column."""
    idx_name = df.index.name
    if idx_name is None or idx_name in df.columns:
        return df.reset_index(drop=True)
    return df.reset_index()


def _cjk_font() -> str | None:
    """Name of an installed font that can draw Chinese, or None.

    Looks at the fonts matplotlib knows, then at the Noto Sans CJK SC font shipped
    by the optional ``mplfonts`` package (found without importing it).
    """
    import importlib.util

    from matplotlib import font_manager

    spec = importlib.util.find_spec("mplfonts")
    if spec is not None and spec.submodule_search_locations:
        for loc in spec.submodule_search_locations:
            f = Path(loc) / "fonts" / "NotoSansCJKsc-Regular.otf"
            known = {e.fname for e in font_manager.fontManager.ttflist}
            if f.is_file() and str(f) not in known:
                try:
                    font_manager.fontManager.addfont(str(f))
                except (OSError, RuntimeError, ValueError):  # pragma: no cover
                    continue
    keys = ("CJK", "Hei", "Song", "WenQuanYi", "Noto Sans SC", "Noto Serif SC", "Droid Sans Fallback",
            "Source Han", "Microsoft YaHei", "PingFang", "Heiti", "SimSun", "AR PL")
    for f in font_manager.fontManager.ttflist:
        if any(k in f.name for k in keys):
            return f.name
    return None


def _fig_lang(lang: str) -> tuple[str, str | None]:
    """Language for figure text: Chinese only when a CJK font is installed."""
    if lang == "zh":
        font = _cjk_font()
        if font is not None:
            return "zh", font
        return "en", None
    return lang, None


# --------------------------------------------------------------------------------------
# folium map
# --------------------------------------------------------------------------------------
def _wgs84(gdf: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    return gdf.to_crs(4326)


def _geojson_frame(gdf: gpd.GeoDataFrame, cols: list[str]) -> dict:
    keep = [c for c in cols if c in gdf.columns]
    sub = gdf[keep + [gdf.geometry.name]].copy()
    for c in keep:
        col = sub[c]
        if pd.api.types.is_bool_dtype(col) or pd.api.types.is_numeric_dtype(col):
            continue
        # text (object or string dtype): tooltips show values as HTML, so escape it
        vals = []
        for v in map(_plain, col):
            if v is None or (not isinstance(v, str) and pd.api.types.is_scalar(v) and pd.isna(v)):
                vals.append(None)
            elif isinstance(v, bool | int | float):
                vals.append(v)
            else:
                vals.append(_map_text(v))
        sub[c] = pd.Series(vals, index=sub.index, dtype=object)
    sub = _wgs84(sub)
    # 6 decimals of a degree is ~0.1 m: plenty for a map, and a much smaller report
    sub = sub.set_geometry(shapely.transform(sub.geometry.to_numpy(), lambda c: np.round(c, 6)),
                           crs=sub.crs)
    return json.loads(sub.to_json(na="null", drop_id=True))


def _popup_table(rows: list[tuple[str, Any]], lang: str) -> str:
    cells = "".join(
        f"<tr><th style='text-align:left;padding-right:6px'>{_map_text(k)}</th>"
        f"<td>{_map_text(_fmt(v, lang))}</td></tr>"
        for k, v in rows
    )
    return f"<table>{cells}</table>"


def _map_text(text: Any) -> str:
    """Escape text for the folium map: HTML-escaped, and braces as entities.

    folium/branca render the map's script and HTML as Jinja templates a second
    time, so a literal ``{{`` in data would be evaluated (or crash the render).
    """
    return html.escape(_fmt(text)).replace("{", "&#123;").replace("}", "&#125;")


def _kind_label(kind: Any, lang: str) -> str:
    k = _fmt(kind)
    return _UI[f"kind_{k}"][lang] if f"kind_{k}" in _UI else k


def _is_expansion(proposed: pd.DataFrame) -> np.ndarray:
    if "kind" not in proposed.columns:
        return np.zeros(len(proposed), dtype=bool)
    return (proposed["kind"].astype(str) == "expansion").to_numpy()


def _popup(content_html: str, *, max_width_px: int = 320):
    """A Leaflet popup bound with plain ``bindPopup`` (folium's Popup needs jQuery)."""
    import folium
    from folium.template import Template

    el = folium.MacroElement()
    el.content = content_html
    el.max_width_px = int(max_width_px)
    el._template = Template(
        "{% macro script(this, kwargs) %}"
        "{{ this._parent.get_name() }}.bindPopup({{ this.content|tojson }}, "
        "{maxWidth: {{ this.max_width_px }}});{% endmacro %}"
    )
    return el


def _legend_html(plan: LayoutPlan, lang: str) -> str:
    def swatch(color: str, label: str, *, shape: str = "box", opacity: float = 0.6) -> str:
        if shape == "ring":
            s = (f"display:inline-block;width:10px;height:10px;border-radius:50%;"
                 f"border:3px solid {color}")
        elif shape == "circle":
            s = (f"display:inline-block;width:12px;height:12px;border-radius:50%;"
                 f"background:{color};border:1px solid #333;opacity:{opacity}")
        elif shape == "line":
            s = f"display:inline-block;width:16px;height:0;border-top:2px solid {color}"
        else:
            s = (f"display:inline-block;width:14px;height:12px;background:{color};"
                 f"opacity:{opacity};border:1px solid #555")
        return (f"<div style='margin:2px 0'><span style='{s};vertical-align:middle'></span>"
                f" {_map_text(label)}</div>")

    items = [swatch(_C_OK, _t("lg_compliant", lang)), swatch(_C_BAD, _t("lg_deficit", lang))]
    flags = [_flag(v) for c in ("compliant_before", "compliant_after") for v in plan.areas[c]]
    if any(f is None for f in flags):
        items.append(swatch(_C_NA, _t("lg_na", lang)))
    if len(plan.existing):
        levels = (plan.existing["level"].astype(str).unique()
                  if "level" in plan.existing.columns else ["other"])
        for lv in sorted(levels, key=lambda x: list(_LEVEL_COLORS).index(x)
                         if x in _LEVEL_COLORS else 99):
            label = _t("existing", lang) + ": " + _LEVEL_LABELS.get(lv, {}).get(lang, lv)
            items.append(swatch(_LEVEL_COLORS.get(lv, "#7f7f7f"), label, shape="circle",
                                opacity=0.9))
    if len(plan.proposed):
        exp = _is_expansion(plan.proposed)
        if (~exp).any():
            items.append(swatch(_C_PROPOSED, _t("lg_proposed", lang), shape="circle",
                                opacity=0.9))
        if exp.any():
            items.append(swatch(_C_PROPOSED, _t("lg_expansion", lang), shape="ring"))
    if len(plan.service_areas):
        items.append(swatch(_C_SA_EXISTING, _t("lg_sa_existing", lang), opacity=0.3))
        if (plan.service_areas["status"] == "proposed").any():
            items.append(swatch(_C_SA_PROPOSED, _t("lg_sa_proposed", lang), opacity=0.3))
    if plan.network_edges is not None and len(plan.network_edges):
        items.append(swatch(_C_NETWORK, _t("lg_network", lang), shape="line"))
    return (
        "<div id='careplan-legend' style='position:absolute;bottom:24px;left:10px;z-index:9999;"
        "background:rgba(255,255,255,0.92);padding:6px 9px;border:1px solid #999;"
        "border-radius:4px;font:12px/1.35 sans-serif;max-width:260px'>"
        f"<b>{_map_text(_t('legend', lang))}</b>{''.join(items)}"
        f"<div style='margin-top:4px;color:#444'>{_map_text(_attribution(plan))}</div></div>"
    )


def folium_map(plan: LayoutPlan, *, lang: str = "zh", tiles: str | None = None) -> folium.Map:
    """Interactive map of a layout plan.

    Parameters
    ----------
    plan : LayoutPlan
        The plan to show (projected CRS; reprojected to EPSG:4326 for the map).
    lang : {"zh", "en"}, default "zh"
        Language of layer names, legend and popups.
    tiles : str or None, default None
        folium ``tiles`` argument.  ``None`` (default) uses no tile server, so the
        map works offline and the plan's street network is the base map.  Pass e.g.
        ``"OpenStreetMap"`` for an online base map.

    Returns
    -------
    folium.Map
        With toggleable layers (a ``LayerControl``): areas coloured by compliance
        after and before, existing facilities by level, proposed stations sized by
        floor area (popups: id, floor area, households and areas served), service
        areas (existing, proposed), street edges when the plan has them; a legend
        and the OpenStreetMap attribution.
    """
    import folium
    from folium.template import Template

    lang = _check_lang(lang)
    plan = _checked(plan)
    areas = plan.areas

    m = folium.Map(location=None, tiles=tiles, control_scale=True, prefer_canvas=True)
    if tiles is None:
        # Only Leaflet is needed: drop folium's jQuery/Bootstrap/awesome-markers links.
        m.default_js = [(n, u) for n, u in m.default_js if n == "leaflet"]
        m.default_css = [(n, u) for n, u in m.default_css if n == "leaflet_css"]

    # street network (bottom)
    edges = plan.network_edges
    if edges is not None and len(edges):
        e = edges[[edges.geometry.name]].copy()
        e = e[~e.geometry.is_empty & e.geometry.notna()]
        e = e.set_geometry(e.geometry.simplify(1.0))
        fg = folium.FeatureGroup(name=_t("lyr_network", lang), show=True)
        folium.GeoJson(
            _geojson_frame(e, []),
            style_function=lambda f: {"color": _C_NETWORK, "weight": 1, "opacity": 0.7},
            smooth_factor=1.0,
        ).add_to(fg)
        fg.add_to(m)

    # service areas
    sa = plan.service_areas
    for status, key, color in (("existing", "lyr_sa_existing", _C_SA_EXISTING),
                               ("proposed", "lyr_sa_proposed", _C_SA_PROPOSED)):
        part = sa[sa["status"] == status] if len(sa) else sa
        if not len(part):
            continue
        fg = folium.FeatureGroup(name=_t(key, lang), show=status == "proposed")
        folium.GeoJson(
            _geojson_frame(part, ["facility_id", "status", "cutoff_m"]),
            style_function=lambda f, c=color: {"color": c, "weight": 1, "fillColor": c,
                                               "fillOpacity": 0.15},
            tooltip=folium.GeoJsonTooltip(["facility_id", "cutoff_m"],
                                          aliases=[_t("station_id", lang), "cutoff (m)"]),
        ).add_to(fg)
        fg.add_to(m)

    # areas before / after
    area_cols = [c for c in _AREA_TABLE_COLS if c in areas.columns]
    shown = [c for c in ("area_id", "name", "households", "required_m2") if c in areas.columns]
    point_areas = bool(areas.geom_type.isin(["Point", "MultiPoint"]).any())
    for when, key in (("before", "lyr_areas_before"), ("after", "lyr_areas_after")):
        data = areas.copy()
        data["_ok"] = pd.Series([_flag(v) for v in data[f"compliant_{when}"]],
                                index=data.index, dtype=object)
        for c in (f"compliant_{when}", f"covered_{when}"):
            data[c] = pd.Series([_fmt(_flag(v), lang) for v in data[c]], index=data.index,
                                dtype=object)
        fields = shown + [c for c in (f"provided_{when}_m2", f"deficit_{when}_m2",
                                      f"compliant_{when}", f"covered_{when}",
                                      f"nearest_distance_{when}_m") if c in areas.columns]
        if when == "after" and "served_by" in areas.columns:
            fields.append("served_by")
        fg = folium.FeatureGroup(name=_t(key, lang), show=when == "after")
        folium.GeoJson(
            _geojson_frame(data, list(dict.fromkeys(area_cols + fields + ["_ok"]))),
            style_function=lambda f: {
                "color": "#333333", "weight": 1,
                "fillColor": {True: _C_OK, False: _C_BAD}.get(f["properties"]["_ok"], _C_NA),
                "fillOpacity": 0.45,
            },
            highlight_function=lambda f: {"weight": 3},
            tooltip=folium.GeoJsonTooltip(fields, aliases=[_t(c, lang) for c in fields],
                                          localize=False),
            # areas given as points (allowed by read_areas) are drawn as circles, not pins
            marker=folium.CircleMarker(radius=7, fill=True) if point_areas else None,
        ).add_to(fg)
        fg.add_to(m)

    # existing facilities
    ex = plan.existing
    if len(ex):
        fg = folium.FeatureGroup(name=_t("lyr_existing", lang), show=True)
        pts = _wgs84(ex.set_geometry(ex.geometry.representative_point()))
        for idx, row in pts.iterrows():
            level = str(row["level"]) if "level" in pts.columns else "other"
            fid = row["facility_id"] if "facility_id" in pts.columns else idx
            rows = [(_t("station_id", lang), fid)]
            if "name" in pts.columns:
                rows.append((_t("name", lang), row["name"]))
            rows.append((_t("level", lang), _LEVEL_LABELS.get(level, {}).get(lang, level)))
            if "floor_area_m2" in pts.columns:
                rows.append((_t("floor_area_m2", lang), row["floor_area_m2"]))
            folium.CircleMarker(
                location=[row.geometry.y, row.geometry.x], radius=5,
                color="#222222", weight=1, fill=True,
                fill_color=_LEVEL_COLORS.get(level, "#7f7f7f"), fill_opacity=0.9,
                tooltip=_map_text(fid),
            ).add_child(_popup(_popup_table(rows, lang), max_width_px=320)).add_to(fg)
        fg.add_to(m)

    # proposed stations
    pr = plan.proposed
    if len(pr):
        fg = folium.FeatureGroup(name=_t("lyr_proposed", lang), show=True)
        pts = _wgs84(pr.set_geometry(pr.geometry.representative_point()))
        amax = float(np.nanmax(pts["floor_area_m2"].to_numpy(dtype=float))) or 1.0
        for _, row in pts.iterrows():
            rows = [(_t(c, lang), _kind_label(row[c], lang) if c == "kind" else row[c])
                    for c in _PROPOSED_COLS if c in pts.columns]
            area = float(row["floor_area_m2"]) if not pd.isna(row["floor_area_m2"]) else 0.0
            expansion = str(row.get("kind", "new")) == "expansion"
            folium.CircleMarker(
                location=[row.geometry.y, row.geometry.x],
                radius=6 + 12 * math.sqrt(max(area, 0.0) / amax),
                color=_C_PROPOSED if expansion else "#7f2704", weight=4 if expansion else 2,
                fill=not expansion, fill_color=_C_PROPOSED, fill_opacity=0.9,
                tooltip=_map_text(row["station_id"]),
            ).add_child(_popup(_popup_table(rows, lang), max_width_px=360)).add_to(fg)
        fg.add_to(m)

    folium.LayerControl(collapsed=False).add_to(m)

    # legend + attribution
    m.get_root().html.add_child(folium.Element(_legend_html(plan, lang)))
    attr = folium.MacroElement()
    attr.text = _map_text(_attribution(plan))
    attr._template = Template(
        "{% macro script(this, kwargs) %}"
        "{{ this._parent.get_name() }}.attributionControl.addAttribution("
        "{{ this.text|tojson }});{% endmacro %}"
    )
    m.add_child(attr)

    b = _wgs84(areas).total_bounds
    if np.all(np.isfinite(b)):
        m.fit_bounds([[b[1], b[0]], [b[3], b[2]]])
    return m


def _leaflet_assets() -> tuple[str, str] | None:
    """Leaflet's JS and CSS (images as data URIs) from xstatic-leaflet, or None."""
    try:
        import xstatic.pkg.leaflet as xl  # type: ignore[import-not-found]
    except ImportError:
        return None
    base = Path(xl.BASE_DIR)
    try:
        js = (base / "leaflet.js").read_text(encoding="utf-8")
        css = (base / "leaflet.css").read_text(encoding="utf-8")
    except OSError:
        return None
    for img in sorted((base / "images").glob("*.png")):
        uri = "data:image/png;base64," + base64.b64encode(img.read_bytes()).decode("ascii")
        css = css.replace(f"images/{img.name}", uri)
    return js, css


def _standalone_map_html(m: folium.Map) -> tuple[str, bool]:
    """Render *m* to a full HTML page, inlining Leaflet when it is installed.

    Returns the page and whether every script/stylesheet is inline.
    """
    page = m.get_root().render()
    assets = _leaflet_assets()
    if assets is None:
        return page, False
    js, css = assets
    js = js.replace("</script", "<\\/script")
    import re

    page, n_js = re.subn(
        r'<script src="[^"]*/leaflet(?:@[\d.]+)?/dist/leaflet\.js"></script>',
        lambda _: f"<script>{js}</script>", page, count=1)
    page, n_css = re.subn(
        r'<link rel="stylesheet" href="[^"]*/leaflet(?:@[\d.]+)?/dist/leaflet\.css"\s*/?>',
        lambda _: f"<style>{css}</style>", page, count=1)
    external = re.search(r'<(?:script|link)[^>]+(?:src|href)="https?://', page)
    return page, bool(n_js and n_css and external is None)


# --------------------------------------------------------------------------------------
# charts
# --------------------------------------------------------------------------------------
def _mpl():
    import matplotlib

    if matplotlib.get_backend().lower() not in ("agg", "pdf", "svg", "ps", "cairo"):
        matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def _households_covered(areas: pd.DataFrame) -> tuple[float, float, float]:
    hh = areas["households"].astype(float)
    return (
        float(hh.sum()),
        float(hh[_truthy(areas["covered_before"])].sum()),
        float(hh[_truthy(areas["covered_after"])].sum()),
    )


def _png_b64(fig) -> str:
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=110, bbox_inches="tight")
    return base64.b64encode(buf.getvalue()).decode("ascii")


def _charts(plan: LayoutPlan, lang: str, max_areas: int = 30) -> list[tuple[str, str]]:
    """(title, base64 PNG) for each chart."""
    plt = _mpl()
    flang, font = _fig_lang(lang)
    rc = {"font.family": [font, "sans-serif"]} if font else {}
    out = []
    with plt.rc_context(rc):
        total, cov_b, cov_a = _households_covered(plan.areas)
        fig, ax = plt.subplots(figsize=(5.5, 3.2))
        labels = [_t("before", flang), _t("after", flang)]
        ax.bar(labels, [total, total], color="#dddddd", edgecolor="#999999",
               label=_t("hh_total", flang))
        bars = ax.bar(labels, [cov_b, cov_a], color=[_C_SA_EXISTING, _C_PROPOSED], width=0.55,
                      label=_t("hh_covered", flang))
        for b_, v in zip(bars, [cov_b, cov_a], strict=True):
            ax.annotate(_fmt(v), (b_.get_x() + b_.get_width() / 2, v), ha="center",
                        va="bottom", fontsize=9)
        ax.set_ylim(0, max(total, 1.0) * 1.18)
        ax.set_ylabel(_t("households", flang))
        ax.set_title(_t("chart_households", flang))
        ax.legend(loc="upper center", ncols=2, fontsize=8, frameon=False)
        out.append((_t("chart_households", lang), _png_b64(fig)))
        plt.close(fig)

        a = plan.areas
        d = pd.DataFrame({
            "id": a["area_id"].astype(str).to_numpy(),
            "before": a["deficit_before_m2"].astype(float).to_numpy(),
            "after": a["deficit_after_m2"].astype(float).to_numpy(),
        })
        d = d[(d["before"] > 0) | (d["after"] > 0)]
        title = _t("chart_deficit", lang)
        if len(d):
            d = d.sort_values("before", ascending=False)
            if len(d) > max_areas:
                d = d.head(max_areas)
                title += _t("deficit_top", lang).format(n=max_areas)
            d = d.iloc[::-1]
            y = np.arange(len(d))
            fig, ax = plt.subplots(figsize=(6.5, 1.2 + 0.28 * len(d)))
            ax.barh(y + 0.2, d["before"], height=0.4, color=_C_BAD, label=_t("before", flang))
            ax.barh(y - 0.2, d["after"], height=0.4, color=_C_OK, label=_t("after", flang))
            ax.set_yticks(y, d["id"].tolist(), fontsize=8)
            ax.set_xlabel(_t("deficit_m2", flang))
            ax.set_title(_t("chart_deficit", flang))
            ax.legend(fontsize=8)
            out.append((title, _png_b64(fig)))
            plt.close(fig)
    return out


# --------------------------------------------------------------------------------------
# HTML
# --------------------------------------------------------------------------------------
def _html_table(df: pd.DataFrame, cols: list[tuple[str, str]], lang: str, *,
                cls: str = "") -> str:
    """HTML table of *df*; *cols* = (column, header text)."""
    head = "".join(f"<th>{html.escape(h)}</th>" for _, h in cols)
    body = []
    for _, row in df.iterrows():
        cells = []
        for c, _h in cols:
            v = row[c] if c in row.index else None
            num = _num(v) is not None
            style = " class='num'" if num else ""
            if isinstance(v, bool | np.bool_):
                style = " class='ok'" if v else " class='bad'"
            elif c == "passed" or c.startswith(("compliant_", "covered_")):
                f = _flag(v)
                style = "" if f is None else (" class='ok'" if f else " class='bad'")
                v = f
            cells.append(f"<td{style}>{html.escape(_fmt(v, lang))}</td>")
        body.append("<tr>" + "".join(cells) + "</tr>")
    return (f"<table class='{cls}'><thead><tr>{head}</tr></thead>"
            f"<tbody>{''.join(body)}</tbody></table>")


def _summary_table(summary: pd.DataFrame, lang: str) -> str:
    df = summary.copy()
    change = []
    for b, a in zip(df["before"], df["after"], strict=True):
        nb, na = _num(b), _num(a)
        change.append(na - nb if nb is not None and na is not None else None)
    df["_change"] = change
    df["_label"] = df[f"label_{lang}"].where(df[f"label_{lang}"].notna(), df["metric"])
    return _html_table(df, [("_label", _t("metric", lang)), ("before", _t("before", lang)),
                            ("after", _t("after", lang)), ("_change", _t("change", lang))],
                       lang, cls="summary")


def _rules_table(rules: pd.DataFrame, lang: str) -> str:
    df = rules.copy()
    df["_label"] = df[f"label_{lang}"]
    for c in ("required", "found"):  # a range when the rule has an upper bound
        if f"{c}_max" in df.columns:
            df[c] = pd.Series(
                [f"{_fmt(lo)}–{_fmt(hi)}" if _num(lo) is not None and _num(hi) is not None
                 and _num(hi) != _num(lo) else lo for lo, hi in zip(df[c], df[f"{c}_max"],
                                                                     strict=True)],
                index=df.index, dtype=object)
    cols = [("rule_id", _t("rule_id", lang)), ("_label", _t("label", lang)),
            ("required", _t("required", lang)), ("found", _t("found", lang))]
    if "unit" in df.columns:
        cols.append(("unit", _t("unit", lang)))
    cols.append(("passed", _t("passed", lang)))
    if "note" in df.columns:
        cols.append(("note", _t("note", lang)))
    cols.append(("citation", _t("citation", lang)))
    return _html_table(df, cols, lang, cls="rules")


def _existing_by_level(existing: pd.DataFrame, lang: str) -> str:
    if not len(existing):
        return ""
    lv = existing["level"].astype(str) if "level" in existing.columns else pd.Series(
        "other", index=existing.index)
    fa = (existing["floor_area_m2"].astype(float) if "floor_area_m2" in existing.columns
          else pd.Series(np.nan, index=existing.index))
    g = pd.DataFrame({"level": lv.to_numpy(), "fa": fa.to_numpy()}).groupby("level", sort=True)
    df = pd.DataFrame({"count": g.size(), "fa": g["fa"].sum(min_count=1)}).reset_index()
    df["level"] = [_LEVEL_LABELS.get(x, {}).get(lang, x) for x in df["level"]]
    return _html_table(df, [("level", _t("level", lang)), ("count", _t("count", lang)),
                            ("fa", _t("floor_area_m2", lang))], lang)


_CSS = """
body{font-family:"Noto Sans CJK SC","Microsoft YaHei","PingFang SC",Helvetica,Arial,sans-serif;
margin:0 auto;max-width:1180px;padding:12px 20px;color:#222}
h1{font-size:1.6em;border-bottom:2px solid #2166ac;padding-bottom:6px}
h2{font-size:1.25em;margin-top:1.6em;color:#2166ac}
table{border-collapse:collapse;margin:8px 0;font-size:13px}
th,td{border:1px solid #ccc;padding:3px 7px;vertical-align:top}
th{background:#f0f4f8;text-align:left}
td.num{text-align:right;font-variant-numeric:tabular-nums}
td.ok{color:#1a7a3c;font-weight:600}td.bad{color:#b2182b;font-weight:600}
iframe.map{width:100%;height:620px;border:1px solid #999}
.charts img{max-width:100%;margin:6px 12px 6px 0;border:1px solid #eee}
.note{color:#555;font-size:12px}footer{margin-top:2em;border-top:1px solid #ccc;padding-top:6px;
font-size:12px;color:#444}
"""


def _report_html(plan: LayoutPlan, lang: str) -> tuple[str, bool]:
    m = folium_map(plan, lang=lang)
    map_page, inline = _standalone_map_html(m)
    has_edges = plan.network_edges is not None and len(plan.network_edges) > 0
    attribution = _attribution(plan)
    esc = html.escape
    parts = [
        "<!DOCTYPE html>",
        f"<html lang='{'zh-CN' if lang == 'zh' else 'en'}'><head><meta charset='utf-8'>",
        "<meta name='viewport' content='width=device-width, initial-scale=1'>",
        f"<title>{esc(_t('title', lang))}</title><style>{_CSS}</style></head><body>",
        f"<h1>{esc(_t('title', lang))}</h1>",
    ]
    params = plan.parameters or {}
    std, std_title = params.get("standard"), params.get("standard_title")
    if std is not None or std_title is not None:
        text = " · ".join(_fmt(x) for x in (std_title, std) if x is not None)
        parts.append(f"<p class='standard'>{esc(text)}</p>")
    parts += [
        f"<h2 id='map'>{esc(_t('map', lang))}</h2>",
        f"<iframe class='map' title='{esc(_t('map', lang))}' "
        f"srcdoc=\"{esc(map_page, quote=True)}\"></iframe>",
        f"<p class='note'>{esc(_t('offline_note', lang)) if has_edges else ''}"
        + ("" if inline else " " + esc(_t("cdn_note", lang)))
        + f" © {esc(attribution.lstrip('© '))}</p>",
        f"<h2 id='summary'>{esc(_t('summary', lang))}</h2>",
        _summary_table(plan.summary, lang),
        f"<h2 id='charts'>{esc(_t('charts', lang))}</h2><div class='charts'>",
    ]
    for title, b64 in _charts(plan, lang):
        parts.append(f"<img alt='{esc(title)}' title='{esc(title)}' "
                     f"src='data:image/png;base64,{b64}'>")
    parts.append("</div>")

    parts.append(f"<h2 id='proposed'>{esc(_t('proposed', lang))}</h2>")
    if len(plan.proposed):
        pr = pd.DataFrame(plan.proposed.drop(columns=plan.proposed.geometry.name))
        if "kind" in pr.columns:
            pr["kind"] = [_kind_label(k, lang) for k in pr["kind"]]
        cols = [(c, _t(c, lang)) for c in _PROPOSED_COLS if c in pr.columns]
        parts.append(_html_table(pr, cols, lang))
    else:
        parts.append(f"<p>{esc(_t('no_proposed', lang))}</p>")

    parts += [
        f"<h2 id='rules-before'>{esc(_t('rules_before', lang))}</h2>",
        _rules_table(plan.rules_before, lang),
        f"<h2 id='rules-after'>{esc(_t('rules_after', lang))}</h2>",
        _rules_table(plan.rules_after, lang),
        f"<h2 id='existing'>{esc(_t('existing', lang))}</h2>",
        _existing_by_level(plan.existing, lang),
    ]
    a = plan.areas
    cols = [(c, _t(c, lang)) for c in _AREA_TABLE_COLS if c in a.columns]
    parts += [
        f"<h2 id='areas'>{esc(_t('areas', lang))}</h2>",
        f"<details><summary>{esc(_t('all_areas', lang))} ({len(a)})</summary>",
        _html_table(pd.DataFrame(a.drop(columns=a.geometry.name)), cols, lang),
        "</details>",
        f"<h2 id='parameters'>{esc(_t('parameters', lang))}</h2>",
    ]
    params = [(k, v) for k, v in (plan.parameters or {}).items()]
    params.append((_t("crs_note", lang), plan.crs.to_string()))
    pdf = pd.DataFrame(params, columns=["k", "v"])
    pdf["v"] = [_fmt(v, lang) for v in pdf["v"]]
    parts.append(_html_table(pdf, [("k", _t("parameter", lang)), ("v", _t("value", lang))],
                             lang, cls="params"))
    parts.append(f"<footer>{esc(_t('attribution', lang))}: {esc(attribution)}</footer>")
    parts.append("</body></html>")
    return "\n".join(parts), inline


def write_html(plan: LayoutPlan, path: str | os.PathLike, *, lang: str = "zh") -> Path:
    """Write the self-contained HTML report.

    Parameters
    ----------
    plan : LayoutPlan
    path : path-like
        File to write (e.g. ``out/report.html``); its directory must exist.
    lang : {"zh", "en"}, default "zh"
        Language of every label; tables use the ``label_zh`` / ``label_en`` columns.

    Returns
    -------
    Path
        The file written.

    Notes
    -----
    The report holds the interactive map (in an ``iframe`` ``srcdoc``), the
    before/after summary with the change, charts (PNG, base64), the proposed
    stations, both rule tables with citations, existing facilities by level, all
    areas, every parameter and the data attribution.  Without ``xstatic-leaflet``
    Leaflet's JS/CSS are linked from a CDN (a :class:`CareplanWarning` says so).
    """
    lang = _check_lang(lang)
    plan = _checked(plan)
    page, inline = _report_html(plan, lang)
    if not inline:
        warnings.warn(
            "Leaflet could not be embedded (install the 'xstatic-leaflet' package); "
            "report.html links Leaflet's JS/CSS from a CDN, so the interactive map needs "
            "internet (no tile server is used either way).",
            CareplanWarning,
            stacklevel=2,
        )
    return _atomic_write_bytes(Path(path), page.encode("utf-8"))


# --------------------------------------------------------------------------------------
# Excel, GeoPackage, PNG maps
# --------------------------------------------------------------------------------------
def _atomic_write_bytes(path: Path, data: bytes) -> Path:
    tmp = path.with_name(f".{path.name}.{uuid.uuid4().hex}.tmp")
    try:
        tmp.write_bytes(data)
        os.replace(tmp, path)
    finally:
        if tmp.exists():
            tmp.unlink()
    return path


def _tmp_sibling(path: Path) -> Path:
    return path.with_name(f".{path.stem}.{uuid.uuid4().hex}.tmp{path.suffix}")


def _parameters_frame(params: dict) -> pd.DataFrame:
    return pd.DataFrame({"parameter": [str(k) for k in params],
                         "value": [_fmt(v) for v in params.values()]})


def _excel_sheets(plan: LayoutPlan) -> dict[str, pd.DataFrame]:
    def with_xy(g: gpd.GeoDataFrame) -> pd.DataFrame:
        t = _frame_without_index_dup(_table_frame(g))
        if len(g):
            pts = g.geometry.representative_point()
            ll = pts.to_crs(4326)
            t["x_m"] = pts.x.to_numpy()
            t["y_m"] = pts.y.to_numpy()
            t["lon"] = ll.x.to_numpy()
            t["lat"] = ll.y.to_numpy()
        return t

    params = dict(plan.parameters or {})
    params.setdefault("crs", plan.crs.to_string())
    params.setdefault("attribution", _attribution(plan))
    return {
        "summary": plan.summary.reset_index(drop=True),
        "areas": _frame_without_index_dup(_table_frame(plan.areas)),
        "proposed": with_xy(plan.proposed),
        "existing": with_xy(plan.existing),
        "rules_before": _table_frame(plan.rules_before).reset_index(drop=True),
        "rules_after": _table_frame(plan.rules_after).reset_index(drop=True),
        "parameters": _parameters_frame(params),
    }


def write_excel(plan: LayoutPlan, path: str | os.PathLike) -> Path:
    """Write ``tables.xlsx``: sheets summary, areas, proposed, existing, rules_before,
    rules_after, parameters.

    Geometry is left out; ``proposed`` and ``existing`` get ``x_m, y_m`` (plan CRS)
    and ``lon, lat`` (WGS84) of each point.  Non-scalar cells (lists, dicts) are
    written as JSON text.

    Returns
    -------
    Path
        The file written.
    """
    plan = _checked(plan)
    path = Path(path)
    tmp = _tmp_sibling(path)
    try:
        with pd.ExcelWriter(tmp, engine="openpyxl") as xw:
            for name, df in _excel_sheets(plan).items():
                _excel_safe(df).to_excel(xw, sheet_name=name, index=False)
                ws = xw.sheets[name]
                ws.freeze_panes = "A2"
                for col in ws.columns:
                    width = max((len(str(c.value)) for c in col[:200] if c.value is not None),
                                default=8)
                    ws.column_dimensions[col[0].column_letter].width = min(max(width + 2, 8), 60)
        os.replace(tmp, path)
    finally:
        if tmp.exists():
            tmp.unlink()
    return path


def _gpkg_layers(plan: LayoutPlan) -> dict[str, gpd.GeoDataFrame]:
    def clean(g: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
        geom = g.geometry.name
        out = _frame_without_index_dup(_table_frame(g))
        out = gpd.GeoDataFrame(out, geometry=g.geometry.to_numpy(), crs=g.crs)
        if geom != "geometry" and geom in out.columns:  # pragma: no cover - defensive
            out = out.drop(columns=geom)
        return out

    layers = {
        "areas": clean(plan.areas),
        "existing_facilities": clean(plan.existing),
        "proposed_stations": clean(plan.proposed),
        "service_areas": clean(plan.service_areas),
    }
    if plan.network_edges is not None:
        layers["network_edges"] = clean(plan.network_edges)
    return layers


_GEOM_TYPE_FOR_EMPTY = {
    "areas": "Polygon",
    "existing_facilities": "Point",
    "proposed_stations": "Point",
    "service_areas": "Polygon",
    "network_edges": "LineString",
}


def write_geopackage(plan: LayoutPlan, path: str | os.PathLike) -> Path:
    """Write ``plan.gpkg`` with layers areas, existing_facilities, proposed_stations,
    service_areas and (when the plan has them) network_edges.

    Empty frames become empty layers (with their columns), never an error.
    The file is written to a temporary sibling and then moved into place.

    Returns
    -------
    Path
        The file written.
    """
    import pyogrio

    plan = _checked(plan)
    path = Path(path)
    tmp = _tmp_sibling(path)
    try:
        for name, g in _gpkg_layers(plan).items():
            kw = {}
            if len(g) == 0:
                kw["geometry_type"] = _GEOM_TYPE_FOR_EMPTY[name]
            elif g.geom_type.nunique() > 1:
                kinds = set(g.geom_type)
                if kinds <= {"Polygon", "MultiPolygon"}:
                    kw["geometry_type"] = "MultiPolygon"
                elif kinds <= {"LineString", "MultiLineString"}:
                    kw["geometry_type"] = "MultiLineString"
                else:
                    kw["geometry_type"] = "Unknown"
            pyogrio.write_dataframe(g, tmp, layer=name, driver="GPKG", **kw)
        os.replace(tmp, path)
    finally:
        if tmp.exists():
            tmp.unlink()
    return path


def _draw_map(plan: LayoutPlan, when: str, path: Path, lang: str, dpi: int = 150) -> Path:
    plt = _mpl()
    from matplotlib.lines import Line2D
    from matplotlib.patches import Patch
    from matplotlib.ticker import MaxNLocator

    flang, font = _fig_lang(lang)
    rc = {"font.family": [font, "sans-serif"]} if font else {}
    a = plan.areas
    with plt.rc_context(rc):
        fig, ax = plt.subplots(figsize=(8.27, 8.27))
        xmin, ymin, xmax, ymax = a.total_bounds
        pad = 0.05 * max(xmax - xmin, ymax - ymin, 100.0)
        xmin, ymin, xmax, ymax = xmin - pad, ymin - pad, xmax + pad, ymax + pad
        handles = []
        edges = plan.network_edges
        if edges is not None and len(edges):
            edges.plot(ax=ax, color=_C_NETWORK, linewidth=0.4, zorder=1)
            handles.append(Line2D([], [], color=_C_NETWORK, lw=1, label=_t("lg_network", flang)))
        sa = plan.service_areas
        if len(sa):
            ex_sa = sa[sa["status"] == "existing"]
            if len(ex_sa):
                ex_sa.plot(ax=ax, color=_C_SA_EXISTING, alpha=0.15, edgecolor=_C_SA_EXISTING,
                           linewidth=0.6, zorder=2)
                handles.append(Patch(color=_C_SA_EXISTING, alpha=0.3,
                                     label=_t("lg_sa_existing", flang)))
            pr_sa = sa[sa["status"] == "proposed"]
            if when == "after" and len(pr_sa):
                pr_sa.plot(ax=ax, color=_C_SA_PROPOSED, alpha=0.15, edgecolor=_C_SA_PROPOSED,
                           linewidth=0.6, zorder=2)
                handles.append(Patch(color=_C_SA_PROPOSED, alpha=0.3,
                                     label=_t("lg_sa_proposed", flang)))
        flags = [_flag(v) for v in a[f"compliant_{when}"]]
        colors = [{True: _C_OK, False: _C_BAD}.get(f, _C_NA) for f in flags]
        a.plot(ax=ax, color=colors, alpha=0.5, edgecolor="#333333", linewidth=0.6, zorder=3)
        handles += [Patch(color=_C_OK, alpha=0.5, label=_t("lg_compliant", flang)),
                    Patch(color=_C_BAD, alpha=0.5, label=_t("lg_deficit", flang))]
        if any(f is None for f in flags):
            handles.append(Patch(color=_C_NA, alpha=0.5, label=_t("lg_na", flang)))
        ex = plan.existing
        if len(ex):
            pts = ex.geometry.representative_point()
            levels = (ex["level"].astype(str) if "level" in ex.columns
                      else pd.Series("other", index=ex.index))
            for lv in sorted(levels.unique()):
                sel = (levels == lv).to_numpy()
                color = _LEVEL_COLORS.get(lv, "#7f7f7f")
                ax.scatter(pts.x[sel], pts.y[sel], s=28, c=color, edgecolors="#222222",
                           linewidths=0.6, zorder=5)
                handles.append(Line2D([], [], marker="o", ls="", color=color, mec="#222222",
                                      label=_t("existing", flang) + ": "
                                      + _LEVEL_LABELS.get(lv, {}).get(flang, lv)))
        pr = plan.proposed
        if when == "after" and len(pr):
            pts = pr.geometry.representative_point()
            fa = pr["floor_area_m2"].astype(float).fillna(0).clip(lower=0).to_numpy()
            fmax = fa.max() or 1.0
            size = 60 + 340 * fa / fmax
            exp = _is_expansion(pr)
            if (~exp).any():
                ax.scatter(pts.x[~exp], pts.y[~exp], s=size[~exp], c=_C_PROPOSED, marker="*",
                           edgecolors="#7f2704", linewidths=0.8, zorder=6)
                handles.append(Line2D([], [], marker="*", ls="", ms=12, color=_C_PROPOSED,
                                      mec="#7f2704", label=_t("lg_proposed", flang)))
            if exp.any():
                ax.scatter(pts.x[exp], pts.y[exp], s=2 * size[exp], facecolors="none",
                           edgecolors=_C_PROPOSED, linewidths=2.2, zorder=6)
                handles.append(Line2D([], [], marker="o", ls="", ms=11, mfc="none",
                                      mec=_C_PROPOSED, mew=2.2, label=_t("lg_expansion", flang)))
            for x, y, sid in zip(pts.x, pts.y, pr["station_id"], strict=True):
                ax.annotate(str(sid), (x, y), xytext=(6, 6), textcoords="offset points",
                            fontsize=8, zorder=7)
        ax.set_xlim(xmin, xmax)
        ax.set_ylim(ymin, ymax)
        ax.set_aspect("equal")
        # ticks at round distances from the lower-left corner
        for axis, lo, hi in ((ax.xaxis, xmin, xmax), (ax.yaxis, ymin, ymax)):
            ticks = [t for t in MaxNLocator(6).tick_values(0, hi - lo) if 0 <= t <= hi - lo]
            axis.set_ticks([lo + t for t in ticks], [f"{t:.0f}" for t in ticks])
        ax.set_xlabel(_t("easting", flang))
        ax.set_ylabel(_t("northing", flang))
        ax.tick_params(labelsize=8)
        # scale bar: a round length about a fifth of the width
        width = xmax - xmin
        exp = 10 ** math.floor(math.log10(max(width / 5, 1.0)))
        bar = max(s * exp for s in (1, 2, 5) if s * exp <= max(width / 5, 1.0))
        x0, y0 = xmin + 0.04 * width, ymin + 0.04 * (ymax - ymin)
        ax.plot([x0, x0 + bar], [y0, y0], color="black", lw=3, zorder=8,
                solid_capstyle="butt")
        ax.text(x0 + bar / 2, y0 + 0.012 * (ymax - ymin), f"{bar:.0f} m", ha="center",
                va="bottom", fontsize=8, zorder=8)
        ax.legend(handles=handles, loc="upper left", bbox_to_anchor=(1.01, 1.0), fontsize=7,
                  framealpha=0.9, borderaxespad=0.0)
        ax.set_title(f"{_t('map_title', flang)}: {_t('map_' + when, flang)}")
        ax.text(0.99, 0.01, f"{_attribution(plan)} | {_t('crs_note', flang)}: "
                f"{plan.crs.to_string()}", transform=ax.transAxes, ha="right", va="bottom",
                fontsize=7, color="#222222", zorder=9,
                bbox={"facecolor": "white", "alpha": 0.8, "edgecolor": "none", "pad": 2})
        tmp = _tmp_sibling(path)
        try:
            fig.savefig(tmp, format="png", dpi=dpi, bbox_inches="tight")
            os.replace(tmp, path)
        finally:
            plt.close(fig)
            if tmp.exists():
                tmp.unlink()
    return path


def write_png_maps(plan: LayoutPlan, directory: str | os.PathLike, *,
                   lang: str = "zh", dpi: int = 150) -> list[Path]:
    """Write static before/after maps for print: ``map_before.png``, ``map_after.png``.

    Each shows areas coloured by compliance, existing facilities by level,
    service areas, streets, and (after) the proposed stations sized by floor area,
    with a legend, axes in metres from the lower-left corner, a scale bar and the
    attribution.  Chinese text needs a CJK font; without one the figures fall back
    to English (the HTML report is unaffected).

    Parameters
    ----------
    plan : LayoutPlan
    directory : path-like
        An existing directory.
    lang : {"zh", "en"}, default "zh"
    dpi : int, default 150
        Resolution (an A4-wide map at 150 dpi is about 1,300 pixels).

    Returns
    -------
    list of Path
        ``[map_before.png, map_after.png]``.
    """
    lang = _check_lang(lang)
    plan = _checked(plan)
    directory = Path(directory)
    if not directory.is_dir():
        raise InputError(f"{directory} is not a directory; create it first.")
    if not (isinstance(dpi, int | float) and 10 <= dpi <= 1200):
        raise InputError(f"dpi={dpi!r} is out of range; use a number from 10 to 1200.")
    return [_draw_map(plan, when, directory / OUTPUT_FILES[f"map_{when}"], lang, dpi)
            for when in ("before", "after")]


# --------------------------------------------------------------------------------------
# everything, atomically
# --------------------------------------------------------------------------------------
def _only_our_outputs(directory: Path) -> bool:
    ours = set(OUTPUT_FILES.values()) | {_MARKER}
    return all(p.name in ours for p in directory.iterdir())


def write_all(plan: LayoutPlan, directory: str | os.PathLike, *, lang: str = "zh",
              verbose: bool | None = None) -> dict[str, Path]:
    """Write every output of a plan into *directory*, atomically.

    Parameters
    ----------
    plan : LayoutPlan
    directory : path-like
        Output directory (created if missing, parents too).
    lang : {"zh", "en"}, default "zh"
    verbose : bool, optional
        Show a progress bar (default: unless careplan is quiet).

    Returns
    -------
    dict
        ``{"geopackage", "report", "tables", "map_before", "map_after"}`` -> Path.

    Notes
    -----
    Everything is written into a temporary sibling directory first; only when
    every file is written is it moved into place, so a failed run never leaves a
    half-written plan and an earlier good output stays as it was.  If *directory*
    holds only careplan outputs it is swapped whole (two renames); if it also holds
    other files, those are kept and each output file is moved in with an atomic
    ``os.replace``.
    """
    lang = _check_lang(lang)
    plan = _checked(plan)
    target = Path(directory)
    if target.exists() and not target.is_dir():
        raise InputError(f"{target} exists and is not a directory; choose a directory path.")
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = target.parent / f".{target.name}.{uuid.uuid4().hex}.tmp"
    tmp.mkdir()
    steps = [
        ("geopackage", lambda p: write_geopackage(plan, p)),
        ("report", lambda p: write_html(plan, p, lang=lang)),
        ("tables", lambda p: write_excel(plan, p)),
        ("maps", lambda _p: write_png_maps(plan, tmp, lang=lang)),
    ]
    try:
        for key, fn in progress(steps, desc="writing plan", verbose=verbose):
            fn(tmp / OUTPUT_FILES.get(key, ""))
        (tmp / _MARKER).write_text("written by careplan.report.write_all\n", encoding="utf-8")
        missing = [n for n in OUTPUT_FILES.values() if not (tmp / n).is_file()]
        if missing:  # pragma: no cover - defensive
            raise OSError(f"outputs not written: {missing}")
        if not target.exists():
            os.replace(tmp, target)
        elif _only_our_outputs(target):
            old = target.parent / f".{target.name}.{uuid.uuid4().hex}.old"
            os.replace(target, old)
            try:
                os.replace(tmp, target)
            except BaseException:
                os.replace(old, target)
                raise
            shutil.rmtree(old, ignore_errors=True)
        else:
            for p in tmp.iterdir():
                os.replace(p, target / p.name)
    finally:
        if tmp.exists():
            shutil.rmtree(tmp, ignore_errors=True)
    return {k: target / v for k, v in OUTPUT_FILES.items()}
