"""Checks of a plan before rendering, colours and column lists shared by the writers."""

from __future__ import annotations

import dataclasses
import warnings
from typing import TYPE_CHECKING

import geopandas as gpd
import numpy as np
import pandas as pd

from careplan._errors import CareplanWarning, CRSError, InputError

if TYPE_CHECKING:  # pragma: no cover
    from careplan.plan import LayoutPlan

#: File names written by :func:`careplan.report.write_all` (key -> file name).
OUTPUT_FILES = {
    "geopackage": "plan.gpkg",
    "report": "report.html",
    "tables": "tables.xlsx",
    "map_before": "map_before.png",
    "map_after": "map_after.png",
}

LEVEL_COLORS = {
    "district": "#542788",
    "street": "#253494",
    "community": "#41b6c4",
    "institution": "#8c510a",
    "canteen": "#bf812d",
    "other": "#7f7f7f",
}
C_OK = "#1a9850"
C_BAD = "#d73027"
C_PROPOSED = "#ff7f00"
C_SA_EXISTING = "#4393c3"
C_SA_PROPOSED = "#ff7f00"
C_NETWORK = "#8c8c8c"
C_NA = "#bdbdbd"
#: Outlines of the street / district polygons given to the plan (dashed, no fill).
BOUNDARY_STYLE = {"streets": ("#c51b7d", 2.0), "districts": ("#1a1a1a", 3.0)}

AREA_REQUIRED = (
    "households",
    "required_m2",
    "deficit_before_m2",
    "deficit_after_m2",
    "compliant_before",
    "compliant_after",
    "covered_before",
    "covered_after",
)
AREA_TABLE_COLS = (
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
PROPOSED_COLS = (
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
SUMMARY_REQUIRED = ("metric", "label_en", "label_zh", "before", "after")
RULE_REQUIRED = ("rule_id", "label_en", "label_zh", "required", "found", "passed", "citation")


def require(df: pd.DataFrame, cols, what: str) -> None:
    if not isinstance(df, pd.DataFrame):
        raise InputError(f"plan.{what} must be a (Geo)DataFrame, got {type(df).__name__}.")
    missing = [c for c in cols if c not in df.columns]
    if missing:
        raise InputError(
            f"plan.{what} lacks column(s) {missing}; a LayoutPlan from "
            f"careplan.plan_layout has them (see the LayoutPlan docstring)."
        )


def as_crs(gdf: gpd.GeoDataFrame | None, crs, what: str) -> gpd.GeoDataFrame | None:
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


def checked(plan: LayoutPlan) -> LayoutPlan:
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
    require(areas, AREA_REQUIRED, "areas")
    require(plan.summary, SUMMARY_REQUIRED, "summary")
    require(plan.rules_before, RULE_REQUIRED, "rules_before")
    require(plan.rules_after, RULE_REQUIRED, "rules_after")
    crs = areas.crs
    existing = as_crs(plan.existing, crs, "existing")
    proposed = as_crs(plan.proposed, crs, "proposed")
    service = as_crs(plan.service_areas, crs, "service_areas")
    edges = as_crs(getattr(plan, "network_edges", None), crs, "network_edges")
    zones = {k: as_crs(getattr(plan, k, None), crs, k) for k in BOUNDARY_STYLE
             if hasattr(plan, k)}
    if len(proposed):
        require(proposed, ("station_id", "floor_area_m2"), "proposed")
    if len(service):
        require(service, ("facility_id", "status"), "service_areas")
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
        **zones,
    )


def attribution(plan: LayoutPlan) -> str:
    text = getattr(plan, "attribution", None) or ""
    if "OpenStreetMap" not in text:
        text = (text + "; " if text else "") + "© OpenStreetMap contributors"
    return text


def is_expansion(proposed: pd.DataFrame) -> np.ndarray:
    if "kind" not in proposed.columns:
        return np.zeros(len(proposed), dtype=bool)
    return (proposed["kind"].astype(str) == "expansion").to_numpy()


def proposed_levels(plan: LayoutPlan) -> np.ndarray:
    """The facility level of each proposed row (for its colour on the maps), shape
    (n_proposed,).

    The level the plan's facilities table gives the station (``facilities.level`` where
    ``facility_id`` is the ``station_id``); else from the kind: a canteen function is
    ``'canteen'``, an expansion the level of the facility it expands, a centre
    ``'district'`` (ids ``D-``) or ``'street'``, anything else ``'community'``.
    """
    pr = plan.proposed
    if not len(pr):
        return np.array([], dtype=object)
    fac = getattr(plan, "facilities", None)
    known: dict[str, str] = {}
    if isinstance(fac, pd.DataFrame) and {"facility_id", "level"} <= set(fac.columns):
        known = {str(f): str(lv) for f, lv in zip(fac["facility_id"], fac["level"], strict=True)
                 if isinstance(lv, str)}
    ex = plan.existing
    ex_level = ({str(f): str(lv) for f, lv in zip(ex["facility_id"], ex["level"], strict=True)}
                if len(ex) and {"facility_id", "level"} <= set(ex.columns) else {})
    kinds = pr["kind"].astype(str) if "kind" in pr.columns else pd.Series("new", index=pr.index)
    out = []
    for sid, kind, fid in zip(pr["station_id"].astype(str), kinds,
                              pr["facility_id"] if "facility_id" in pr.columns
                              else [None] * len(pr), strict=True):
        if kind == "canteen":
            out.append("canteen")
        elif sid in known:
            out.append(known[sid])
        elif kind == "expansion":
            out.append(ex_level.get(str(fid), "other"))
        elif kind == "centre":
            out.append("district" if sid.startswith("D-") else "street")
        else:
            out.append("community")
    return np.array(out, dtype=object)


def boundary_layers(plan: LayoutPlan) -> list[tuple[str, str]]:
    """``(name, colour)`` of the boundary layers the plan has (``streets``, ``districts``
    with at least one polygon), in the order they are drawn."""
    out = []
    for name, (color, _w) in BOUNDARY_STYLE.items():
        g = getattr(plan, name, None)
        if isinstance(g, gpd.GeoDataFrame) and len(g):
            out.append((name, color))
    return out


def boundary_names(g: gpd.GeoDataFrame) -> list[str]:
    """Display name of each boundary polygon: ``name``, else ``boundary_id``, else the
    index."""
    for col in ("name", "boundary_id"):
        if col in g.columns:
            return [str(v) for v in g[col]]
    return [str(v) for v in g.index]


def proposed_legend(plan: LayoutPlan) -> list[tuple[str, str]]:
    """The legend entries of the proposed facilities: ``(style, level)`` in level order,
    style ``'new'`` (new sites, centres, on-site rooms), ``'expansion'`` or
    ``'canteen'`` (a function added to an existing facility)."""
    pr = plan.proposed
    if not len(pr):
        return []
    kinds = pr["kind"].astype(str) if "kind" in pr.columns else pd.Series("new", index=pr.index)
    style = np.where(kinds == "expansion", "expansion",
                     np.where(kinds == "canteen", "canteen", "new"))
    pairs = set(zip(style, proposed_levels(plan), strict=True))
    order = {"new": 0, "expansion": 1, "canteen": 2}
    return sorted(pairs, key=lambda p: (order[p[0]], level_order(p[1])))


def level_order(level: object) -> int:
    """Position of a level in :data:`LEVEL_COLORS` (legend order; unknown levels last)."""
    return list(LEVEL_COLORS).index(level) if level in LEVEL_COLORS else len(LEVEL_COLORS)


def area_names(areas: pd.DataFrame) -> pd.Series:
    """Display name of each area: its ``name`` where it has one, else its id."""
    ids = areas["area_id"].astype(str)
    if "name" not in areas.columns:
        return ids
    names = areas["name"]
    ok = names.notna() & (names.astype(str).str.strip() != "")
    return names.astype(str).where(ok, ids)


#: Optional tables a plan may carry (attribute names), shown after the rule tables
#: and written as sheets (tables.xlsx) and layers (plan.gpkg) of the same name.
EXTRA_TABLES = ("equity", "allocation", "floor_area_allocation", "facilities", "rules_not_met",
                "cost", "phases")


#: Columns of a wide optional table shown in the HTML report (the XLSX and the GPKG keep
#: every column): what a planner needs to find and judge a site on an A4 / 1280-px page.
HTML_COLUMNS = {
    "facilities": ("facility_id", "name", "address", "level", "kind", "floor_area_m2",
                   "functions", "estates", "households_served", "elderly_served",
                   "lon_gcj02", "lat_gcj02"),
}

#: In the HTML report, a list cell (the estates a facility serves) shows at most this many
#: items, then "+k" (the XLSX has the whole list).
HTML_LIST_ITEMS = 8


def extra_tables(plan: LayoutPlan, *, joined: bool = True) -> dict[str, pd.DataFrame]:
    """The plan's optional tables (:data:`EXTRA_TABLES`) that it has and that have rows.

    With ``joined=False`` list cells stay lists (the HTML writer labels their items).
    """
    out = {}
    for name in EXTRA_TABLES:
        df = getattr(plan, name, None)
        if isinstance(df, pd.DataFrame) and len(df):
            out[name] = _lists_joined(df) if joined else df
    return out


def _lists_joined(df: pd.DataFrame) -> pd.DataFrame:
    """*df*, or a copy whose list cells (a facility's estates, functions) are joined with
    ", " for display (the plan keeps them as lists)."""
    cols = [c for c in df.columns if df[c].dtype == object
            and any(isinstance(v, list | tuple) for v in df[c])]
    if not cols:
        return df
    out = df.copy()
    for c in cols:
        out[c] = [", ".join(map(str, v)) if isinstance(v, list | tuple) else v for v in out[c]]
    return out
