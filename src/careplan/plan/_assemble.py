"""The last steps of the plan: the state after, and the :class:`LayoutPlan` assembled."""

from __future__ import annotations

from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd

from careplan.plan._explain import levels_parameters
from careplan.plan._facilities import facilities_table
from careplan.plan._propose import Choice, Sizing
from careplan.plan._result import LayoutPlan
from careplan.plan._steps import NEW_STATION_LEVEL, Inputs, Sites, State, assess

__all__ = ["assemble", "assess_after"]

SIZING_NOTE = ("existing floor area is allocated to the areas within its walking circle (exact "
               "transportation LP); each remaining deficit goes to one station within the "
               "circle (a new station, or an expansion of an existing counted facility), "
               "small deficits pooled into shared stations (exact MIP: fewest new stations, "
               "then least floor area, then least walking; a deficit below the site minimum "
               "joins a station opened for deficits only within the pooling circle), or to a "
               "room inside the estate where the profile requires on-site rooms (配建); a new "
               "station's size is the sum of the deficits allocated to it, within the "
               "profile's single-site bounds (else min_station_floor_area_m2, else careplan's "
               "default of 200 m2) and the candidate's max_floor_area_m2")


def facilities_after(inp: Inputs, sizing: Sizing) -> gpd.GeoDataFrame:
    """The existing facilities plus the proposed stations and expansions."""
    add = sizing.added
    # area_id names the estate of an on-site room (配建), also for point areas; street the
    # street of a new street centre
    keep = [c for c in add.columns
            if c in inp.facilities.columns or c in ("geometry", "area_id", "expands", "functions")
            or (c == "street" and "street" in inp.areas.columns)]
    out = pd.concat([inp.facilities, add[keep]])
    return gpd.GeoDataFrame(out, geometry="geometry", crs=inp.areas.crs)


def assess_after(inp: Inputs, sites: Sites, sizing: Sizing) -> State:
    """Coverage and compliance with the proposed stations (same distances as before)."""
    circle = [(s, sites.table.at[s, "source_id"]) for s in sites.existing]
    if NEW_STATION_LEVEL in inp.circle_levels:
        new = sizing.proposed[sizing.proposed["kind"] == "new"]
        by_candidate = {sites.table.at[s, "source_id"]: s for s in sizing.new_sites}
        circle += [(by_candidate[c], sid) for c, sid in zip(new["candidate_id"],
                                                            new["station_id"], strict=True)]
    cen = sizing.proposed[sizing.proposed["kind"] == "centre"]  # street centres (_levels)
    circle += [(f"candidate:{c}", sid) for c, sid in zip(cen["candidate_id"], cen["station_id"],
                                                         strict=True)
               if f"candidate:{c}" in sites.table.index]
    exp = sizing.proposed[sizing.proposed["kind"] == "expansion"]
    circle += [(f"existing:{f}", sid) for f, sid in zip(exp["facility_id"], exp["station_id"],
                                                        strict=True)]
    return assess(inp, sites, facilities_after(inp, sizing), circle)


def _area_table(inp: Inputs, before: State, after: State, sizing: Sizing) -> gpd.GeoDataFrame:
    out = inp.areas.copy()
    cb, ca = before.compliance.areas, after.compliance.areas
    out["required_m2"] = cb["required_m2"]
    out["provided_before_m2"] = cb["provided_m2"]
    out["provided_after_m2"] = ca["provided_m2"]
    out["deficit_before_m2"] = cb["deficit_m2"]
    out["deficit_after_m2"] = ca["deficit_m2"]
    out["compliant_before"] = cb["compliant"]
    out["compliant_after"] = ca["compliant"]
    vb, va = before.coverage.areas, after.coverage.areas
    out["nearest_distance_before_m"] = vb["nearest_distance_m"]
    out["nearest_distance_after_m"] = va["nearest_distance_m"]
    out["covered_before"] = vb["covered"].astype(bool)
    out["covered_after"] = va["covered"].astype(bool)
    out["access"] = va["access"]  # network / long_access / cut_off (issue 14.9)
    out["served_by"] = [sizing.served_by.get(a) for a in out.index]
    return gpd.GeoDataFrame(out, geometry=inp.areas.geometry.name, crs=inp.areas.crs)


def _service_areas(inp: Inputs, after: State, sizing: Sizing) -> gpd.GeoDataFrame:
    from careplan.coverage import service_areas

    fac = after.facilities
    fac = fac[fac["level"].isin(inp.circle_levels) | fac.index.isin(sizing.added.index)]
    fac = fac[~fac.index.duplicated()]
    svc = service_areas(inp.net, fac, cutoff_m=inp.circle.cutoff_m, verbose=inp.verbose,
                        **inp.snap_kw).copy()
    if "facility_id" not in svc.columns:
        svc["facility_id"] = svc.index
    new_ids = set(sizing.proposed.loc[sizing.proposed["kind"] == "new", "station_id"])
    svc["status"] = ["proposed" if f in new_ids else "existing" for f in svc["facility_id"]]
    svc["cutoff_m"] = inp.circle.cutoff_m
    return svc


def service_areas_note(svc: gpd.GeoDataFrame) -> str:
    """How the plan's service areas were drawn (the parameter table's ``service_areas``)."""
    from careplan.coverage import DEFAULT_BUFFER_M, MAX_BAND_SERVICE_AREAS

    n = int(svc["reachable"].sum()) if "reachable" in svc.columns else len(svc)
    drawn = set(svc["shape"]) if "shape" in svc.columns and len(svc) else {"band"}
    if "hull" in drawn:
        return (f"{n} service areas (more than {MAX_BAND_SERVICE_AREAS}) drawn as envelopes: "
                f"the concave hull of the street points each facility reaches within the "
                f"circle, buffered by {DEFAULT_BUFFER_M:g} m (covers every street point "
                f"reached, the exact street band costs ~40 ms each), coverage is computed "
                f"from the walking distances, not from these shapes")
    return (f"{n} service areas drawn as the streets each facility reaches within the "
            f"circle, buffered by {DEFAULT_BUFFER_M:g} m (exact, envelopes above "
            f"{MAX_BAND_SERVICE_AREAS})")


def _ids(ids) -> str:
    return ", ".join(map(str, ids)) or "none"


def parameters(inp: Inputs, sites: Sites, choice: Choice, sizing: Sizing,
               runtime_s: float) -> dict[str, Any]:
    """The report's parameter table: every :class:`PlanConfig` option as resolved, then
    what the run found (candidates, unreachable areas, solver status)."""
    std, c, res = inp.standard, inp.circle, choice.result
    resolved = {"standard": std.name, "minutes": round(c.minutes, 3),
                "speed_m_per_min": c.speed_m_per_min, "cutoff_m": round(c.cutoff_m, 3),
                "model": choice.model, "circle_levels": ", ".join(inp.circle_levels)}
    params = {k: resolved.get(k, v) for k, v in inp.config.parameters().items()}
    params = {"standard": params.pop("standard"), "standard_title": std.title, **params}
    fallback = sites.fallback_areas
    note = inp.candidates_note
    if fallback:
        note += (f"; plus a fallback site inside each of {len(fallback)} area(s) that no site "
                 f"reached within {c.cutoff_m:.0f} m: {', '.join(map(str, fallback[:10]))}"
                 f"{' ...' if len(fallback) > 10 else ''}")
    params.update({
        "weights": inp.weight_col if choice.model != "set_covering" else "households",
        "floor_area_levels": ", ".join(inp.floor_area_levels),
        "candidates": note, "n_candidates": len(sites.candidates),
        "fallback_candidate_areas": _ids(fallback), "sizing": SIZING_NOTE,
        "unreachable_areas": _ids(choice.unreachable_areas),
        "unresolved_deficit_areas": _ids(sizing.unresolved_areas),
        "solver_status": None if res is None else res.status,
        "solver_gap": None if res is None else res.gap,
        "walk_speed_source": c.speed_source, "runtime_s": round(runtime_s, 3)})
    if inp.streets is not None or inp.districts is not None:
        params["boundaries"] = inp.boundaries_note
    params.update(levels_parameters(inp))  # issue 12.3: zones, centre sizes (plan/_explain)
    return params


def assemble(inp: Inputs, sites: Sites, before: State, choice: Choice, sizing: Sizing,
             after: State, runtime_s: float) -> LayoutPlan:
    """Put the plan together: area table, summary, service areas, parameters."""
    from careplan.plan._explain import on_site_minimum, rules_not_met

    out = _area_table(inp, before, after, sizing)
    params = parameters(inp, sites, choice, sizing, runtime_s)
    params["equity"] = EQUITY_NOTE
    params["on_site_below_minimum"], small_rooms = on_site_minimum(inp, sizing.proposed)
    equity = equity_table(out)
    svc = _service_areas(inp, after, sizing)
    params["service_areas"] = service_areas_note(svc)
    return LayoutPlan(
        areas=out, existing=inp.facilities, proposed=sizing.proposed,
        service_areas=svc,
        summary=summary_table(out, sizing.proposed, equity=equity), equity=equity,
        rules_before=before.compliance.rules, rules_after=after.compliance.rules,
        parameters=params,
        network_edges=inp.net.edges, attribution="© OpenStreetMap contributors",
        allocation=sizing.allocation, config=inp.config,
        rules_not_met=rules_not_met(after.compliance.rules, params,
                                    sizing.shortfalls + small_rooms),
        floor_area_allocation=after.compliance.allocation,
        facilities=facilities_table(inp.facilities, inp.candidates, sizing.proposed,
                                    sizing.added, after.compliance.allocation, inp.areas),
        streets=inp.streets, districts=inp.districts)


#: How the plan measures equity (the report's parameter table states it).
EQUITY_NOTE = ("equity of access (careplan.equity.before_after): per area, the floor area "
               "allocated to it (provided_before_m2 / provided_after_m2) per older person "
               "(per household when the areas have no elderly column), weighted by its older "
               "people; Gini (0 equal, 1 concentrated) and Palma (share held by the top 10 % "
               "over the bottom 40 %) of that value, and the share of older people outside "
               "the walking circle; overall and by street and district where the areas have "
               "those columns")


def equity_table(areas: pd.DataFrame) -> pd.DataFrame:
    """Equity before and after the plan: overall, then by street and by district.

    Parameters
    ----------
    areas : DataFrame, shape (n_areas, ...)
        The plan's area table (``covered_before/after``, ``provided_before/after_m2``,
        ``elderly`` or ``households``, optional ``street``, ``district``).

    Returns
    -------
    DataFrame
        One row per group: ``level`` ('all', 'street', 'district'), ``group`` (the
        street or district name; 'all'), ``weight`` (the people column measured:
        'elderly' or 'households'), ``units`` (areas), ``people``,
        ``outside_share_before/after`` (share of people outside the walking circle,
        0-1), ``gini_before/after`` and ``palma_before/after`` of floor area per person
        (NaN where nobody in the group has any floor area; Palma ``inf`` where the
        bottom 40 % have none), from :func:`careplan.equity.before_after`.
    """
    from careplan.equity import before_after

    weight = "elderly" if "elderly" in areas.columns else "households"
    frame = (pd.DataFrame(areas.drop(columns=areas.geometry.name))
             if isinstance(areas, gpd.GeoDataFrame) else pd.DataFrame(areas))
    parts = [("all", None)] + [(c, c) for c in ("street", "district") if c in frame.columns]
    rows = []
    for level, by in parts:
        sub = frame if by is None else frame[frame[by].notna()]
        if not len(sub):
            continue
        res = before_after(sub, weight_col=weight, by=by)
        for group, r in res.iterrows():
            row = {"level": level, "group": str(group), "weight": weight,
                   "units": int(r["units"]), "people": float(r["people"])}
            for when in ("before", "after"):
                row[f"outside_share_{when}"] = float(r[f"share_outside_{when}"])
            for when in ("before", "after"):
                row[f"gini_{when}"] = float(r.get(f"gini_m2_per_person_{when}", np.nan))
            for when in ("before", "after"):
                row[f"palma_{when}"] = float(r.get(f"palma_m2_per_person_{when}", np.nan))
            rows.append(row)
    return pd.DataFrame(rows)


def _share(part: float, total: float) -> float:
    return part / total if total else np.nan


def summary_table(out: gpd.GeoDataFrame, proposed: gpd.GeoDataFrame, *,
                  equity: pd.DataFrame | None = None) -> pd.DataFrame:
    """Before/after summary: ``metric, label_en, label_zh, before, after``.

    With *equity* (:func:`equity_table`), its overall Gini of floor area per older
    person (per household without an elderly column) is added.
    """
    cb_cov, ca_cov = out["covered_before"], out["covered_after"]
    hh = out["households"].astype(float)
    rows = [("households", "Households", "户数", hh.sum(), hh.sum()),
            ("households_covered", "Households within the walking circle", "步行服务圈覆盖户数",
             hh[cb_cov].sum(), hh[ca_cov].sum()),
            ("households_covered_share", "Share of households covered", "户数覆盖率",
             _share(hh[cb_cov].sum(), hh.sum()), _share(hh[ca_cov].sum(), hh.sum()))]
    if "elderly" in out.columns:
        el = out["elderly"].astype(float)
        rows += [("elderly_covered", "Elderly within the walking circle", "步行服务圈覆盖老年人数",
                  el[cb_cov].sum(), el[ca_cov].sum()),
                 ("elderly_covered_share", "Share of elderly covered", "老年人覆盖率",
                  _share(el[cb_cov].sum(), el.sum()), _share(el[ca_cov].sum(), el.sum()))]
    cb = out["compliant_before"].fillna(False).astype(bool)
    ca = out["compliant_after"].fillna(False).astype(bool)
    kind = proposed["kind"] if len(proposed) else pd.Series(dtype=str)
    rows += [
        ("areas", "Residential areas", "居住区数", len(out), len(out)),
        ("areas_compliant", "Areas meeting the floor-area rule", "达标居住区数",
         int(cb.sum()), int(ca.sum())),
        ("required_m2", "Required floor area (m2)", "应配建筑面积(m²)",
         out["required_m2"].sum(), out["required_m2"].sum()),
        ("provided_m2", "Provided floor area (m2)", "已配建筑面积(m²)",
         out["provided_before_m2"].sum(), out["provided_after_m2"].sum()),
        ("deficit_m2", "Floor-area deficit (m2)", "缺口面积(m²)",
         out["deficit_before_m2"].sum(), out["deficit_after_m2"].sum()),
        ("new_stations", "New stations", "新增站点数", 0, int((kind == "new").sum())),
        ("expansions", "Expanded existing facilities", "扩建既有设施数", 0,
         int((kind == "expansion").sum())),
        ("new_floor_area_m2", "Added floor area (m2)", "新增建筑面积(m²)", 0.0,
         float(proposed["floor_area_m2"].sum()) if len(proposed) else 0.0),
    ]
    rows += _equity_rows(equity)
    rows = [(m, en, zh, _num(b), _num(a)) for m, en, zh, b, a in rows]
    return pd.DataFrame(rows, columns=["metric", "label_en", "label_zh", "before", "after"])


def _equity_rows(equity: pd.DataFrame | None) -> list[tuple]:
    """The overall Gini before/after (the Palma ratio, which is infinite when the bottom
    40 % have nothing, stays in the equity table)."""
    if equity is None or not len(equity) or not (equity["level"] == "all").any():
        return []
    r = equity[equity["level"] == "all"].iloc[0]
    if r["weight"] == "elderly":
        return [("gini_m2_per_elderly", "Gini of floor area per older person (0 = equal)",
                 "老年人人均养老服务用房面积基尼系数", r["gini_before"], r["gini_after"])]
    return [("gini_m2_per_household", "Gini of floor area per household (0 = equal)",
             "户均养老服务用房面积基尼系数", r["gini_before"], r["gini_after"])]


def _num(v: Any) -> Any:
    """Plain Python number (int stays int)."""
    return int(v) if isinstance(v, int | np.integer) else float(v)
