"""The interactive (folium/Leaflet) map of a layout plan.

Every string from data or profiles reaches the map through
:mod:`careplan.report.escape`: text shown as HTML (tooltips, popups, legend) is
:func:`~careplan.report.escape.html_text`, and whatever is written into the map's
script is a JSON literal (:func:`~careplan.report.escape.js_string`, Jinja's
``tojson``), never spliced into a JavaScript template literal.  folium's own
``Tooltip`` (which pastes text into a template literal) and ``Element`` (which
renders its text as a Jinja template) are therefore not used for data.
"""

from __future__ import annotations

import base64
import json
import math
import re
from pathlib import Path
from typing import TYPE_CHECKING, Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from careplan.report._common import (
    AREA_TABLE_COLS,
    C_BAD,
    C_NA,
    C_NETWORK,
    C_OK,
    C_PROPOSED,
    C_SA_EXISTING,
    C_SA_PROPOSED,
    LEVEL_COLORS,
    PROPOSED_COLS,
    attribution,
    checked,
    is_expansion,
)
from careplan.report.escape import html_text, js_string
from careplan.report.format import flag, fmt, plain
from careplan.report.labels import check_lang, column_label, kind_label, level_label, t

if TYPE_CHECKING:  # pragma: no cover
    import folium

    from careplan.plan import LayoutPlan

__all__ = ["folium_map", "standalone_map_html"]


def _wgs84(gdf: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    return gdf.to_crs(4326)


def _geojson_frame(gdf: gpd.GeoDataFrame, cols: list[str]) -> dict:
    """GeoJSON (WGS84, 6 decimals) of *cols*; text values HTML-escaped (tooltips
    insert them as HTML)."""
    keep = [c for c in cols if c in gdf.columns]
    sub = gdf[keep + [gdf.geometry.name]].copy()
    for c in keep:
        col = sub[c]
        if pd.api.types.is_bool_dtype(col) or pd.api.types.is_numeric_dtype(col):
            continue
        vals = []
        for v in map(plain, col):
            if v is None or (not isinstance(v, str) and pd.api.types.is_scalar(v) and pd.isna(v)):
                vals.append(None)
            elif isinstance(v, bool | int | float):
                vals.append(v)
            else:
                vals.append(html_text(fmt(v)))
        sub[c] = pd.Series(vals, index=sub.index, dtype=object)
    sub = _wgs84(sub)
    # 6 decimals of a degree is ~0.1 m: plenty for a map, and a much smaller report
    sub = sub.set_geometry(shapely.transform(sub.geometry.to_numpy(), lambda c: np.round(c, 6)),
                           crs=sub.crs)
    return json.loads(sub.to_json(na="null", drop_id=True))


def _popup_table(rows: list[tuple[str, Any]], lang: str) -> str:
    cells = "".join(
        f"<tr><th style='text-align:left;padding-right:6px'>{html_text(k)}</th>"
        f"<td>{html_text(fmt(v, lang))}</td></tr>"
        for k, v in rows
    )
    return f"<table>{cells}</table>"


def _script(js: str):
    """A map child whose script is *js* with ``{map}`` = the parent layer's JS name.

    *js* must already be safe (built from :func:`js_string` literals).
    """
    import folium
    from folium.template import Template

    el = folium.MacroElement()
    el.js = js
    el._template = Template(
        "{% macro script(this, kwargs) %}"
        "{{ this.js.replace('{map}', this._parent.get_name()) }}{% endmacro %}"
    )
    return el


def _popup(content_html: str, *, max_width_px: int = 320):
    """A Leaflet popup bound with plain ``bindPopup`` (folium's Popup needs jQuery)."""
    return _script(f"{{map}}.bindPopup({js_string(content_html)}, "
                   f"{{maxWidth: {int(max_width_px)}}});")


def _tooltip(text: Any):
    """A tooltip holding *text* as plain text (HTML-escaped, then a JSON literal)."""
    return _script(f"{{map}}.bindTooltip({js_string(html_text(fmt(text)))}, "
                   "{sticky: true});")


def _raw_html(content: str):
    """An element of the page's HTML whose text is *content* verbatim (not a template)."""
    from branca.element import Element
    from folium.template import Template

    el = Element()
    el.content = content
    el._template = Template("{{ this.content }}")
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
                f" {html_text(label)}</div>")

    items = [swatch(C_OK, t("lg_compliant", lang)), swatch(C_BAD, t("lg_deficit", lang))]
    flags = [flag(v) for c in ("compliant_before", "compliant_after") for v in plan.areas[c]]
    if any(f is None for f in flags):
        items.append(swatch(C_NA, t("lg_na", lang)))
    if len(plan.existing):
        levels = (plan.existing["level"].astype(str).unique()
                  if "level" in plan.existing.columns else ["other"])
        for lv in sorted(levels, key=lambda x: list(LEVEL_COLORS).index(x)
                         if x in LEVEL_COLORS else 99):
            label = t("existing", lang) + t("colon", lang) + level_label(lv, lang)
            items.append(swatch(LEVEL_COLORS.get(lv, "#7f7f7f"), label, shape="circle",
                                opacity=0.9))
    if len(plan.proposed):
        exp = is_expansion(plan.proposed)
        if (~exp).any():
            items.append(swatch(C_PROPOSED, t("lg_proposed", lang), shape="circle", opacity=0.9))
        if exp.any():
            items.append(swatch(C_PROPOSED, t("lg_expansion", lang), shape="ring"))
    if len(plan.service_areas):
        items.append(swatch(C_SA_EXISTING, t("lg_sa_existing", lang), opacity=0.3))
        if (plan.service_areas["status"] == "proposed").any():
            items.append(swatch(C_SA_PROPOSED, t("lg_sa_proposed", lang), opacity=0.3))
    if plan.network_edges is not None and len(plan.network_edges):
        items.append(swatch(C_NETWORK, t("lg_network", lang), shape="line"))
    return (
        "<div id='careplan-legend' style='position:absolute;bottom:24px;right:10px;z-index:9999;"
        "background:rgba(255,255,255,0.92);padding:6px 9px;border:1px solid #999;"
        "border-radius:4px;font:12px/1.35 sans-serif;max-width:260px'>"
        f"<b>{html_text(t('legend', lang))}</b>{''.join(items)}"
        f"<div style='margin-top:4px;color:#444'>{html_text(attribution(plan))}</div></div>"
    )


def _add_network(m, plan: LayoutPlan, lang: str) -> None:
    import folium

    edges = plan.network_edges
    if edges is None or not len(edges):
        return
    e = edges[[edges.geometry.name]].copy()
    e = e[~e.geometry.is_empty & e.geometry.notna()]
    e = e.set_geometry(e.geometry.simplify(1.0))
    fg = folium.FeatureGroup(name=t("lyr_network", lang), show=True)
    folium.GeoJson(
        _geojson_frame(e, []),
        style_function=lambda f: {"color": C_NETWORK, "weight": 1, "opacity": 0.7},
        smooth_factor=1.0,
    ).add_to(fg)
    fg.add_to(m)


def _add_service_areas(m, plan: LayoutPlan, lang: str) -> None:
    import folium

    sa = plan.service_areas
    for status, key, color in (("existing", "lyr_sa_existing", C_SA_EXISTING),
                               ("proposed", "lyr_sa_proposed", C_SA_PROPOSED)):
        part = sa[sa["status"] == status] if len(sa) else sa
        if not len(part):
            continue
        fg = folium.FeatureGroup(name=t(key, lang), show=status == "proposed")
        folium.GeoJson(
            _geojson_frame(part, ["facility_id", "status", "cutoff_m"]),
            style_function=lambda f, c=color: {"color": c, "weight": 1, "fillColor": c,
                                               "fillOpacity": 0.15},
            tooltip=folium.GeoJsonTooltip(
                ["facility_id", "cutoff_m"],
                aliases=[html_text(t("station_id", lang)), html_text(t("cutoff_m", lang))]),
        ).add_to(fg)
        fg.add_to(m)


def _add_areas(m, plan: LayoutPlan, lang: str) -> None:
    import folium

    areas = plan.areas
    area_cols = [c for c in AREA_TABLE_COLS if c in areas.columns]
    shown = [c for c in ("area_id", "name", "households", "required_m2") if c in areas.columns]
    point_areas = bool(areas.geom_type.isin(["Point", "MultiPoint"]).any())
    for when, key in (("before", "lyr_areas_before"), ("after", "lyr_areas_after")):
        data = areas.copy()
        data["_ok"] = pd.Series([flag(v) for v in data[f"compliant_{when}"]],
                                index=data.index, dtype=object)
        for c in (f"compliant_{when}", f"covered_{when}"):
            data[c] = pd.Series([fmt(flag(v), lang) for v in data[c]], index=data.index,
                                dtype=object)
        fields = shown + [c for c in (f"provided_{when}_m2", f"deficit_{when}_m2",
                                      f"compliant_{when}", f"covered_{when}",
                                      f"nearest_distance_{when}_m") if c in areas.columns]
        if when == "after" and "served_by" in areas.columns:
            fields.append("served_by")
        fg = folium.FeatureGroup(name=t(key, lang), show=when == "after")
        folium.GeoJson(
            _geojson_frame(data, list(dict.fromkeys(area_cols + fields + ["_ok"]))),
            style_function=lambda f: {
                "color": "#333333", "weight": 1,
                "fillColor": {True: C_OK, False: C_BAD}.get(f["properties"]["_ok"], C_NA),
                "fillOpacity": 0.45,
            },
            highlight_function=lambda f: {"weight": 3},
            tooltip=folium.GeoJsonTooltip(
                fields, aliases=[html_text(column_label(c, lang)) for c in fields],
                localize=False),
            # areas given as points (allowed by read_areas) are drawn as circles, not pins
            marker=folium.CircleMarker(radius=7, fill=True) if point_areas else None,
        ).add_to(fg)
        fg.add_to(m)


def _add_existing(m, plan: LayoutPlan, lang: str) -> None:
    import folium

    ex = plan.existing
    if not len(ex):
        return
    fg = folium.FeatureGroup(name=t("lyr_existing", lang), show=True)
    pts = _wgs84(ex.set_geometry(ex.geometry.representative_point()))
    for idx, row in pts.iterrows():
        level = str(row["level"]) if "level" in pts.columns else "other"
        fid = row["facility_id"] if "facility_id" in pts.columns else idx
        rows = [(t("station_id", lang), fid)]
        if "name" in pts.columns:
            rows.append((t("name", lang), row["name"]))
        rows.append((t("level", lang), level_label(level, lang)))
        if "floor_area_m2" in pts.columns:
            rows.append((t("floor_area_m2", lang), row["floor_area_m2"]))
        name = row["name"] if "name" in pts.columns and isinstance(row["name"], str) else None
        folium.CircleMarker(
            location=[row.geometry.y, row.geometry.x], radius=5,
            color="#222222", weight=1, fill=True,
            fill_color=LEVEL_COLORS.get(level, "#7f7f7f"), fill_opacity=0.9,
        ).add_child(_tooltip(name or fid)).add_child(
            _popup(_popup_table(rows, lang), max_width_px=320)).add_to(fg)
    fg.add_to(m)


def _add_proposed(m, plan: LayoutPlan, lang: str) -> None:
    import folium

    pr = plan.proposed
    if not len(pr):
        return
    fg = folium.FeatureGroup(name=t("lyr_proposed", lang), show=True)
    pts = _wgs84(pr.set_geometry(pr.geometry.representative_point()))
    amax = float(np.nanmax(pts["floor_area_m2"].to_numpy(dtype=float))) or 1.0
    for _, row in pts.iterrows():
        rows = [(t(c, lang), kind_label(row[c], lang) if c == "kind" else row[c])
                for c in PROPOSED_COLS if c in pts.columns]
        area = float(row["floor_area_m2"]) if not pd.isna(row["floor_area_m2"]) else 0.0
        expansion = str(row.get("kind", "new")) == "expansion"
        folium.CircleMarker(
            location=[row.geometry.y, row.geometry.x],
            radius=6 + 12 * math.sqrt(max(area, 0.0) / amax),
            color=C_PROPOSED if expansion else "#7f2704", weight=4 if expansion else 2,
            fill=not expansion, fill_color=C_PROPOSED, fill_opacity=0.9,
        ).add_child(_tooltip(row["station_id"])).add_child(
            _popup(_popup_table(rows, lang), max_width_px=360)).add_to(fg)
    fg.add_to(m)


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
        areas (existing, proposed), street edges when the plan has them; a legend,
        a metric scale bar (metres/kilometres only) and the OpenStreetMap
        attribution.

    Raises
    ------
    InputError, CRSError
        If *plan* is not a valid layout plan or *lang* is not supported.
    """
    import folium

    lang = check_lang(lang)
    plan = checked(plan)

    m = folium.Map(location=None, tiles=tiles, control_scale=False, prefer_canvas=True)
    if tiles is None:
        # Only Leaflet is needed: drop folium's jQuery/Bootstrap/awesome-markers links.
        m.default_js = [(n, u) for n, u in m.default_js if n == "leaflet"]
        m.default_css = [(n, u) for n, u in m.default_css if n == "leaflet_css"]
    _add_network(m, plan, lang)
    _add_service_areas(m, plan, lang)
    _add_areas(m, plan, lang)
    _add_existing(m, plan, lang)
    _add_proposed(m, plan, lang)
    folium.LayerControl(collapsed=False).add_to(m)
    # metric scale bar (Leaflet's default also draws feet and miles)
    m.add_child(_script("L.control.scale({metric: true, imperial: false, maxWidth: 160})"
                        ".addTo({map});"))
    m.get_root().html.add_child(_raw_html(_legend_html(plan, lang)))
    m.add_child(_script("{map}.attributionControl.addAttribution("
                        f"{js_string(html_text(attribution(plan)))});"))
    b = _wgs84(plan.areas).total_bounds
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


def standalone_map_html(m: folium.Map) -> tuple[str, bool]:
    """Render *m* to a full HTML page, inlining Leaflet when it is installed.

    Returns
    -------
    tuple of (str, bool)
        The page and whether every script/stylesheet is inline.
    """
    page = m.get_root().render()
    assets = _leaflet_assets()
    if assets is None:
        return page, False
    js, css = assets
    js = js.replace("</script", "<\\/script")
    page, n_js = re.subn(
        r'<script src="[^"]*/leaflet(?:@[\d.]+)?/dist/leaflet\.js"></script>',
        lambda _: f"<script>{js}</script>", page, count=1)
    page, n_css = re.subn(
        r'<link rel="stylesheet" href="[^"]*/leaflet(?:@[\d.]+)?/dist/leaflet\.css"\s*/?>',
        lambda _: f"<style>{css}</style>", page, count=1)
    external = re.search(r'<(?:script|link)[^>]+(?:src|href)="https?://', page)
    return page, bool(n_js and n_css and external is None)

