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
import functools
import re
from pathlib import Path
from typing import TYPE_CHECKING, Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from careplan.report._common import (
    BOUNDARY_STYLE,
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
    boundary_layers,
    boundary_names,
    checked,
    level_order,
    proposed_legend,
    proposed_levels,
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


#: What the interactive map does to stay usable in a browser at city scale (issue 15.1).
#: Polygons and lines are simplified (shapely ``simplify``, topology preserved) with these
#: tolerances in metres, in the plan's projected CRS: far below what a screen shows at the
#: zoom where a single estate fills it (1 px ~ 0.3 m at zoom 19), so nothing a planner sees
#: moves; service areas are walking envelopes, drawn to 10 m.
SIMPLIFY_M = {"areas": 1.0, "service_areas": 10.0, "network": 2.0,
              "service_areas_merged": 25.0}
#: Holes smaller than this (m2) in a service area are filled on the map: they are block
#: interiors between walked streets (estates inside reach the street by their access leg),
#: and drawing each one cost most of a service area's coordinates (about 110 holes each on
#: a 100-m street grid).  2 ha is a 140 x 140 m block.
FILL_HOLES_M2 = 20_000.0
#: Decimals of a degree kept in the map's GeoJSON: 5 = about 1.1 m (latitude).
MAP_DECIMALS = 5
#: Above this many street edges the street layer is left out of the HTML map (it stays in
#: plan.gpkg and on the PNG maps); up to it the streets are one merged line feature.
#: 50,000 edges are about 25,000 street nodes, ~1.5 MB of coordinates.
MAX_MAP_EDGES = 50_000
#: Above this many areas they are drawn as points (circles) with a short tooltip.
MAX_MAP_AREA_POLYGONS = 2_000
#: Above this many facilities (existing or proposed) they are one GeoJSON point layer with
#: tooltips instead of one marker with a popup each (a marker is ~1.5 kB of script).
MAX_MAP_MARKERS = 300
#: Above this many service areas those of each status are merged into one shape.
MAX_MAP_SERVICE_AREAS = 300
#: The merged service areas are simplified to the larger of
#: ``SIMPLIFY_M["service_areas_merged"]`` and the map's extent (the longer side of the
#: areas' bounding box, m) divided by this: 1/1,000 of the extent is under one pixel of
#: the map's first view (the whole city fitted into the 660 px high frame), so the shape
#: the planner first sees does not change; zoomed in, the outline moves by at most the
#: tolerance (a 100 km city: 100 m; the floor, 25 m, up to a 25 km one).  Issue 15.1: at
#: 1M nodes the two merged shapes were half of report.html (existing: 3.4 MB at 25 m,
#: 2.0 MB at 50 m, 0.5 MB at 100 m).
MERGED_SA_EXTENT_FRACTION = 1_000


def map_reductions(plan: LayoutPlan) -> dict[str, int]:
    """What :func:`folium_map` simplifies or leaves out for a plan of this size.

    Returns
    -------
    dict
        Keys present only where a limit applies: ``"network_dropped"`` (number of
        edges left out, above :data:`MAX_MAP_EDGES`), ``"areas_as_points"`` (number of
        areas, above :data:`MAX_MAP_AREA_POLYGONS`), ``"service_areas_merged"``
        (number of service areas, above :data:`MAX_MAP_SERVICE_AREAS`),
        ``"service_areas_hull"`` (number of service areas the plan drew as envelopes,
        above :data:`careplan.coverage.MAX_BAND_SERVICE_AREAS`).
    """
    out = {}
    edges = plan.network_edges
    if edges is not None and len(edges) > MAX_MAP_EDGES:
        out["network_dropped"] = len(edges)
    if len(plan.areas) > MAX_MAP_AREA_POLYGONS and not plan.areas.geom_type.isin(
            ["Point", "MultiPoint"]).all():
        out["areas_as_points"] = len(plan.areas)
    if len(plan.service_areas) > MAX_MAP_SERVICE_AREAS:
        out["service_areas_merged"] = len(plan.service_areas)
    sa = plan.service_areas
    if "shape" in sa.columns and (sa["shape"] == "hull").any():
        out["service_areas_hull"] = int((sa["shape"] == "hull").sum())
    return out


def merged_service_area_tolerance_m(plan: LayoutPlan) -> float:
    """Tolerance (m) to which the merged service areas are simplified on the map.

    ``max(SIMPLIFY_M["service_areas_merged"], extent_m / MERGED_SA_EXTENT_FRACTION)``
    where ``extent_m`` is the longer side of the bounding box of ``plan.areas`` in the
    plan's projected CRS (metres).  Used only above :data:`MAX_MAP_SERVICE_AREAS`.

    Returns
    -------
    float
        Metres; the 25 m floor when the areas' bounds are not finite.
    """
    floor = float(SIMPLIFY_M["service_areas_merged"])
    b = np.asarray(plan.areas.total_bounds, dtype=float)
    if not len(plan.areas) or not np.all(np.isfinite(b)):
        return floor
    extent_m = max(b[2] - b[0], b[3] - b[1])
    return max(floor, float(extent_m) / MERGED_SA_EXTENT_FRACTION)


def _simplified(gdf: gpd.GeoDataFrame, tolerance_m: float) -> gpd.GeoDataFrame:
    """*gdf* (projected CRS) with its geometries simplified to *tolerance_m* (new frame)."""
    geoms = shapely.simplify(gdf.geometry.to_numpy(), tolerance_m, preserve_topology=True)
    return gdf.set_geometry(geoms, crs=gdf.crs)


def _without_small_holes(geom, min_hole_m2: float):
    """*geom* (Polygon/MultiPolygon, projected) with holes smaller than *min_hole_m2* filled."""
    from shapely.geometry import MultiPolygon, Polygon

    def one(poly):
        keep = [r for r in poly.interiors if Polygon(r).area >= min_hole_m2]
        return Polygon(poly.exterior, keep)

    if geom is None or geom.is_empty:
        return geom
    if geom.geom_type == "Polygon":
        return one(geom)
    if geom.geom_type == "MultiPolygon":
        return MultiPolygon([one(p) for p in geom.geoms])
    return geom


def _geojson_frame(gdf: gpd.GeoDataFrame, cols: list[str]) -> dict:
    """GeoJSON (WGS84, :data:`MAP_DECIMALS` decimals) of *cols*; text values
    HTML-escaped (tooltips insert them as HTML)."""
    keep = [c for c in cols if c in gdf.columns]
    sub = gdf[keep + [gdf.geometry.name]].copy()
    for c in keep:
        col = sub[c]
        if pd.api.types.is_float_dtype(col):  # m2, m: two decimals are what a tooltip shows
            sub[c] = col.round(2)
            continue
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
    # 5 decimals of a degree is ~1 m: plenty for a map, and a much smaller report
    sub = sub.set_geometry(shapely.transform(sub.geometry.to_numpy(),
                                             lambda c: np.round(c, MAP_DECIMALS)), crs=sub.crs)
    return sub.to_geo_dict(na="null", drop_id=True)


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

    el = folium.MacroElement()
    el.js = js
    el._template = _template("{% macro script(this, kwargs) %}"
                             "{{ this.js.replace('{map}', this._parent.get_name()) }}"
                             "{% endmacro %}")
    return el


@functools.lru_cache(maxsize=8)
def _template(text: str):
    """A compiled folium template, shared by every element that uses *text* (compiling one
    per marker took most of the map's time at city scale)."""
    from folium.template import Template

    return Template(text)


def _verbatim_script(js: str):
    """A map child whose script is *js* verbatim (no ``{map}`` substitution: *js* holds
    data); *js* must already be safe (JSON literals from ``json_script``)."""
    import folium

    el = folium.MacroElement()
    el.js = js
    el._template = _template("{% macro script(this, kwargs) %}{{ this.js }}{% endmacro %}")
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

    el = Element()
    el.content = content
    el._template = _template("{{ this.content }}")
    return el


def _legend_html(plan: LayoutPlan, lang: str) -> str:
    def swatch(color: str, label: str, *, shape: str = "box", opacity: float = 0.6) -> str:
        if shape == "ring":  # an expansion / a function added: a dashed ring
            s = (f"display:inline-block;width:10px;height:10px;border-radius:50%;"
                 f"border:3px dashed {color}")
        elif shape == "proposed":  # level colour inside the proposal's orange ring
            s = (f"display:inline-block;width:10px;height:10px;border-radius:50%;"
                 f"background:{color};border:3px solid {C_PROPOSED}")
        elif shape == "outline":
            s = (f"display:inline-block;width:14px;height:10px;"
                 f"border:2px dashed {color}")
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
        for lv in sorted(levels, key=level_order):
            label = t("existing", lang) + t("colon", lang) + level_label(lv, lang)
            items.append(swatch(LEVEL_COLORS.get(lv, "#7f7f7f"), label, shape="circle",
                                opacity=0.9))
    for style, lv in proposed_legend(plan):
        color = LEVEL_COLORS.get(lv, "#7f7f7f")
        if style == "new":
            items.append(swatch(color, t("lg_proposed_level", lang).format(
                level=level_label(lv, lang)), shape="proposed"))
        elif style == "expansion":
            items.append(swatch(color, t("lg_expansion_level", lang).format(
                level=level_label(lv, lang)), shape="ring"))
        else:
            items.append(swatch(color, t("lg_canteen_function", lang), shape="ring"))
    for key, color in boundary_layers(plan):
        items.append(swatch(color, t(f"lg_{key}", lang), shape="outline"))
    if len(plan.service_areas):
        items.append(swatch(C_SA_EXISTING, t("lg_sa_existing", lang), opacity=0.3))
        if (plan.service_areas["status"] == "proposed").any():
            items.append(swatch(C_SA_PROPOSED, t("lg_sa_proposed", lang), opacity=0.3))
    if plan.network_edges is not None and len(plan.network_edges):
        items.append(swatch(C_NETWORK, t("lg_network", lang), shape="line"))
    return (
        "<div id='careplan-legend' style='position:absolute;bottom:34px;left:10px;z-index:9999;"
        "background:rgba(255,255,255,0.92);padding:6px 9px;border:1px solid #999;"
        "border-radius:4px;font:12px/1.35 sans-serif;max-width:260px'>"
        f"<b>{html_text(t('legend', lang))}</b>{''.join(items)}"
        f"<div style='margin-top:4px;color:#444'>{html_text(attribution(plan))}</div></div>"
    )


def chained_lines(geoms) -> shapely.MultiLineString | None:
    """Street edges chained into as few lines as a walk along them allows (one feature).

    Each edge is used once; a line goes on from its last node along any edge not yet
    used, so a junction's coordinates are written about once per street through it
    instead of once per edge (half the coordinates of a grid's edges, where
    ``shapely.line_merge`` can not join anything at its four-way junctions).

    Parameters
    ----------
    geoms : array-like of LineString, shape (n_edges,)

    Returns
    -------
    MultiLineString or None
        None when there is no line; the same points as *geoms* otherwise.
    """
    lines = [np.asarray(shapely.get_coordinates(g)) for g in geoms
             if g is not None and g.geom_type == "LineString" and not g.is_empty]
    if not lines:
        return None
    key = [(tuple(np.round(c[0], 3)), tuple(np.round(c[-1], 3))) for c in lines]
    at: dict[tuple, list[int]] = {}
    for i, (a, b) in enumerate(key):
        at.setdefault(a, []).append(i)
        at.setdefault(b, []).append(i)
    used = np.zeros(len(lines), dtype=bool)
    out = []
    for start in range(len(lines)):
        if used[start]:
            continue
        used[start] = True
        path, end = [lines[start]], key[start][1]
        while True:
            nxt = next((j for j in at[end] if not used[j]), None)
            if nxt is None:
                break
            used[nxt] = True
            forward = key[nxt][0] == end
            c = lines[nxt] if forward else lines[nxt][::-1]
            path.append(c[1:])
            end = key[nxt][1] if forward else key[nxt][0]
        out.append(np.concatenate(path))
    return shapely.MultiLineString(out)


def _add_network(m, plan: LayoutPlan, lang: str) -> None:
    import folium

    edges = plan.network_edges
    if edges is None or not len(edges) or "network_dropped" in map_reductions(plan):
        return
    geoms = edges.geometry.to_numpy()
    geoms = geoms[~shapely.is_missing(geoms) & ~shapely.is_empty(geoms)]
    merged = chained_lines(geoms)
    if merged is None:
        return
    e = _simplified(gpd.GeoDataFrame(geometry=[merged], crs=edges.crs), SIMPLIFY_M["network"])
    fg = folium.FeatureGroup(name=t("lyr_network", lang), show=True)
    folium.GeoJson(
        _geojson_frame(e, []),
        style_function=lambda f: {"color": C_NETWORK, "weight": 1, "opacity": 0.7},
        smooth_factor=1.0,
    ).add_to(fg)
    fg.add_to(m)


def _service_shapes(part: gpd.GeoDataFrame, key: str = "service_areas", *,
                    tolerance_m: float | None = None) -> gpd.GeoDataFrame:
    """Service areas as drawn: small holes filled, then simplified to ``SIMPLIFY_M[key]``
    or *tolerance_m* when given (before any union: the union of the full shapes took
    minutes at 900 facilities)."""
    part = part.set_geometry([_without_small_holes(g, FILL_HOLES_M2) for g in part.geometry],
                             crs=part.crs)
    return _simplified(part, SIMPLIFY_M[key] if tolerance_m is None else tolerance_m)


def _add_service_areas(m, plan: LayoutPlan, lang: str) -> None:
    import folium

    sa = plan.service_areas
    merge = "service_areas_merged" in map_reductions(plan)
    tol_m = merged_service_area_tolerance_m(plan)
    for status, key, color in (("existing", "lyr_sa_existing", C_SA_EXISTING),
                               ("proposed", "lyr_sa_proposed", C_SA_PROPOSED)):
        part = sa[sa["status"] == status] if len(sa) else sa
        if not len(part):
            continue
        part = _service_shapes(part)
        if merge:  # one shape per status: where any facility of it is within the walk
            shape = shapely.union_all(part.geometry.to_numpy())
            part = _service_shapes(gpd.GeoDataFrame({"n": [len(part)]}, geometry=[shape],
                                                    crs=part.crs), tolerance_m=tol_m)
        fg = folium.FeatureGroup(name=t(key, lang), show=status == "proposed")
        tip = None if merge else folium.GeoJsonTooltip(
            ["facility_id", "cutoff_m"],
            aliases=[html_text(t("station_id", lang)), html_text(t("cutoff_m", lang))])
        folium.GeoJson(
            _geojson_frame(part, [] if merge else ["facility_id", "status", "cutoff_m"]),
            style_function=lambda f, c=color: {"color": c, "weight": 1, "fillColor": c,
                                               "fillOpacity": 0.15},
            tooltip=tip,
        ).add_to(fg)
        fg.add_to(m)


def _add_areas(m, plan: LayoutPlan, lang: str) -> None:
    import folium

    areas = plan.areas
    as_points = "areas_as_points" in map_reductions(plan)
    shown = [c for c in ("area_id", "name", "households", "required_m2") if c in areas.columns]
    if as_points:  # a circle per area, both layers drawn from one data array
        _add_area_points(m, plan, lang)
        return
    areas = _simplified(areas, SIMPLIFY_M["areas"])
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
            # only what the tooltip shows (the full area table is in the report and XLSX)
            _geojson_frame(data, list(dict.fromkeys(fields + ["_ok"]))),
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


#: Name of the JavaScript variable holding the estates' point data above
#: :data:`MAX_MAP_AREA_POLYGONS` (one array, drawn by the before and the after layer).
AREA_POINTS_VAR = "careplan_area_points"

#: A tooltip table of point *i* of the columnar array ``d`` (values already HTML-escaped).
_JS_TABLE = """  function table(i, fields, aliases) {
    var rows = "";
    for (var k = 0; k < fields.length; k++) {
      var v = d.cols[fields[k]][i];
      rows += "<tr><th style='text-align:left;padding-right:6px'>" + aliases[k] +
              "</th><td>" + (v === null ? "" : v) + "</td></tr>";
    }
    return "<table>" + rows + "</table>";
  }
"""

_AREA_POINTS_JS = """(function () {
  var d = %(data)s;
%(table)s  function draw(fg, ok, fields, aliases) {
    var colors = %(colors)s;
    d.x.forEach(function (x, i) {
      if (x === null) return;
      var c = ok[i] === true ? colors[0] : (ok[i] === false ? colors[1] : colors[2]);
      L.circleMarker([d.y[i], x], {radius: 4, color: "#333333", weight: 1, fill: true,
                                   fillColor: c, fillOpacity: 0.45})
        .bindTooltip(function () { return table(i, fields, aliases); }, {sticky: true})
        .on("mouseover", function (e) { e.target.setStyle({weight: 3}); })
        .on("mouseout", function (e) { e.target.setStyle({weight: 1}); })
        .addTo(fg);
    });
  }
  window.%(var)s = d;
%(draws)s})();
"""


def area_points_data(plan: LayoutPlan, lang: str = "zh") -> dict:
    """The estates as one columnar point array for the map's before/after layers.

    Used above :data:`MAX_MAP_AREA_POLYGONS`: each estate's point (shapely
    ``representative_point`` in the plan's CRS, then WGS84 to :data:`MAP_DECIMALS`
    decimals) and tooltip values are written once, and both layers draw from them,
    coloured by ``ok_before`` / ``ok_after``.

    Returns
    -------
    dict
        ``x``, ``y``: lists of longitude / latitude (degrees), length n_areas, None for
        an area without a geometry; ``ok_before``, ``ok_after``: lists of True / False /
        None (``compliant_before`` / ``compliant_after``; None = not assessed);
        ``cols``: {column: list of n_areas values}, text HTML-escaped, floats to two
        decimals; ``fields``: {"before": [...], "after": [...]}, the columns each
        layer's tooltip shows, in order.
    """
    areas = plan.areas
    pts = areas.set_geometry(areas.geometry.representative_point())
    data = pts.copy()
    fields = {}
    for when in ("before", "after"):
        data[f"_ok_{when}"] = pd.Series([flag(v) for v in areas[f"compliant_{when}"]],
                                        index=data.index, dtype=object)
        data[f"compliant_{when}"] = pd.Series(
            [fmt(flag(v), lang) for v in areas[f"compliant_{when}"]], index=data.index,
            dtype=object)
        f = [c for c in ("area_id", "name", "households", f"deficit_{when}_m2",
                         f"compliant_{when}") if c in areas.columns]
        if when == "after" and "served_by" in areas.columns:
            f.append("served_by")
        fields[when] = f
    cols = list(dict.fromkeys(fields["before"] + fields["after"]))
    feats = _geojson_frame(data, cols + ["_ok_before", "_ok_after"])["features"]
    xy = [f["geometry"]["coordinates"] if f["geometry"] else [None, None] for f in feats]
    return {"x": [c[0] for c in xy], "y": [c[1] for c in xy],
            "ok_before": [f["properties"]["_ok_before"] for f in feats],
            "ok_after": [f["properties"]["_ok_after"] for f in feats],
            "cols": {c: [f["properties"][c] for f in feats] for c in cols},
            "fields": fields}


def _add_area_points(m, plan: LayoutPlan, lang: str) -> None:
    """The before and after estate layers as circles drawn from one data array (see
    :func:`area_points_data`), a tooltip table each built when hovered."""
    import folium

    from careplan.report.escape import json_script

    data = area_points_data(plan, lang)
    groups = {}
    for when, key in (("before", "lyr_areas_before"), ("after", "lyr_areas_after")):
        groups[when] = folium.FeatureGroup(name=t(key, lang), show=when == "after")
        groups[when].add_to(m)
    draws = "".join(
        f"  draw({groups[w].get_name()}, d.ok_{w}, {json_script(data['fields'][w])}, "
        f"{json_script([html_text(column_label(c, lang)) for c in data['fields'][w]])});\n"
        for w in ("before", "after"))
    js = _AREA_POINTS_JS % {"data": json_script({k: v for k, v in data.items()
                                                 if k != "fields"}),
                            "colors": json_script([C_OK, C_BAD, C_NA]),
                            "var": AREA_POINTS_VAR, "draws": draws, "table": _JS_TABLE}
    m.add_child(_verbatim_script(js))


def _add_boundaries(m, plan: LayoutPlan, lang: str) -> None:
    """Street and district polygons as dashed outlines (no fill), their names as
    tooltips (HTML-escaped)."""
    import folium

    for name, color in boundary_layers(plan):
        g = getattr(plan, name)
        g = _simplified(g.assign(_name=boundary_names(g)), SIMPLIFY_M["areas"])
        weight = BOUNDARY_STYLE[name][1]
        fg = folium.FeatureGroup(name=t(f"lyr_{name}", lang), show=True)
        folium.GeoJson(
            _geojson_frame(g, ["_name"]),
            style_function=lambda f, c=color, w=weight: {
                "color": c, "weight": w, "dashArray": "8 5", "fill": False,
                "fillOpacity": 0.0},
            tooltip=folium.GeoJsonTooltip(["_name"], aliases=[html_text(t("name", lang))],
                                          localize=False),
        ).add_to(fg)
        fg.add_to(m)


def _add_existing(m, plan: LayoutPlan, lang: str) -> None:
    import folium

    ex = plan.existing
    if not len(ex):
        return
    fg = folium.FeatureGroup(name=t("lyr_existing", lang), show=True)
    if len(ex) > MAX_MAP_MARKERS:
        pts = ex.set_geometry(ex.geometry.representative_point())
        if "level" in pts.columns:
            pts = pts.assign(level=[level_label(v, lang) for v in pts["level"].astype(str)],
                             _color=[LEVEL_COLORS.get(v, "#7f7f7f")
                                     for v in ex["level"].astype(str)])
        _point_layer(fg, pts.assign(_color=pts.get("_color", "#7f7f7f")),
                     ["facility_id", "name", "level", "floor_area_m2"], lang, radius=5)
        fg.add_to(m)
        return
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


_FACILITY_POINTS_JS = """(function () {
  var d = %(data)s;
  var fields = %(fields)s, aliases = %(aliases)s;
%(table)s  d.x.forEach(function (x, i) {
    if (x === null) return;
    L.circleMarker([d.y[i], x], {radius: %(radius)d, color: "#222222", weight: 1, fill: true,
                                 fillColor: d.palette[d.color[i]], fillOpacity: 0.9})
      .bindTooltip(function () { return table(i, fields, aliases); }, {sticky: true})
      .addTo(%(fg)s);
  });
})();
"""


def point_layer_data(pts: gpd.GeoDataFrame, fields: list[str]) -> dict:
    """Points (colour ``_color``) as one columnar array for the map (see :func:`_point_layer`).

    Returns
    -------
    dict
        ``x``, ``y``: longitude / latitude lists (degrees, :data:`MAP_DECIMALS`
        decimals; None without a geometry), ``palette``: the distinct colours,
        ``color``: each point's index into it, ``cols``: {field: list of values}, text
        HTML-escaped, floats to two decimals.
    """
    fields = [c for c in fields if c in pts.columns]
    feats = _geojson_frame(pts, fields + ["_color"])["features"]
    xy = [f["geometry"]["coordinates"] if f["geometry"] else [None, None] for f in feats]
    colors = [f["properties"]["_color"] for f in feats]
    palette = list(dict.fromkeys(colors))
    return {"x": [c[0] for c in xy], "y": [c[1] for c in xy], "palette": palette,
            "color": [palette.index(c) for c in colors] if len(palette) > 1 else
            [0] * len(colors),
            "cols": {c: [f["properties"][c] for f in feats] for c in fields}}


def _point_layer(fg, pts: gpd.GeoDataFrame, fields: list[str], lang: str, *,
                 radius: int) -> None:
    """Points as circles (colour ``_color``) drawn from one columnar array (many
    facilities at city scale: a GeoJSON feature and a style case per point were ~0.5 kB
    each), a tooltip of *fields* built when hovered."""

    from careplan.report.escape import json_script

    fields = [c for c in fields if c in pts.columns]
    js = _FACILITY_POINTS_JS % {
        "data": json_script(point_layer_data(pts, fields)), "fields": json_script(fields),
        "aliases": json_script([html_text(t(c, lang)) for c in fields]),
        "radius": int(radius), "fg": fg.get_name(), "table": _JS_TABLE}
    fg.add_child(_verbatim_script(js))


def marker_radii(proposed: gpd.GeoDataFrame, *, same_site_m: float = 5.0) -> np.ndarray:
    """Radius (px) of each proposed facility's marker, shape (n_proposed,): 6 + 12 x
    sqrt(floor area / the largest), and at a site shared with smaller facilities (points
    within *same_site_m* metres) at least 7 px more than the next smaller one, so each
    shows as a ring around the one drawn above it."""
    fa = proposed["floor_area_m2"].astype(float).fillna(0).clip(lower=0).to_numpy()
    base = 6 + 12 * np.sqrt(fa / (fa.max() or 1.0))
    pts = proposed.geometry.representative_point()
    key = [(round(p.x / same_site_m), round(p.y / same_site_m)) for p in pts]
    out = base.copy()
    for k in set(key):
        idx = sorted((i for i in range(len(key)) if key[i] == k), key=lambda i: base[i])
        for a, b in zip(idx, idx[1:], strict=False):
            out[b] = max(out[b], out[a] + 7)
    return out


def _add_proposed(m, plan: LayoutPlan, lang: str) -> None:
    import folium

    pr = plan.proposed
    if not len(pr):
        return
    fg = folium.FeatureGroup(name=t("lyr_proposed", lang), show=True)
    if len(pr) > MAX_MAP_MARKERS:
        pts = pr.set_geometry(pr.geometry.representative_point())
        if "kind" in pts.columns:
            pts = pts.assign(kind=[kind_label(k, lang) for k in pts["kind"]])
        colors = [LEVEL_COLORS.get(lv, "#7f7f7f") for lv in proposed_levels(plan)]
        _point_layer(fg, pts.assign(_color=colors), [c for c in PROPOSED_COLS
                                                     if c != "areas_served"], lang, radius=7)
        fg.add_to(m)
        return
    pts = _wgs84(pr.set_geometry(pr.geometry.representative_point()))
    radius = marker_radii(pr)
    order = np.argsort(-radius, kind="stable")
    levels = proposed_levels(plan)
    # largest first, so a small facility sharing a site with a larger one stays on top
    for (_, row), lv, r_px in zip(pts.iloc[order].iterrows(), levels[order], radius[order],
                                  strict=True):
        rows = [(t(c, lang), kind_label(row[c], lang) if c == "kind" else row[c])
                for c in PROPOSED_COLS if c in pts.columns]
        rows.insert(2, (t("level", lang), level_label(lv, lang)))
        color = LEVEL_COLORS.get(lv, "#7f7f7f")
        ring = str(row.get("kind", "new")) in ("expansion", "canteen")
        folium.CircleMarker(
            location=[row.geometry.y, row.geometry.x],
            radius=float(r_px),
            # new sites: the level's colour inside an orange ring; an expansion or an added
            # function: a dashed ring of the level's colour (the facility is existing)
            color=color if ring else C_PROPOSED, weight=4 if ring else 3,
            dash_array="6 4" if ring else None,
            fill=not ring, fill_color=color, fill_opacity=0.9,
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
        after and before, the street and district boundaries given to the plan (dashed
        outlines, names as tooltips), existing facilities by level (small circles),
        proposed facilities in their level's colour inside an orange ring, sized by
        floor area (an expansion or an added canteen function: a dashed ring; popups:
        id, kind, level, floor area, households and areas served), service areas
        (existing, proposed), street edges when the plan has them; a legend,
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
    _add_boundaries(m, plan, lang)
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

