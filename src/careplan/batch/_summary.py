"""The batch's result and the provincial summary writers (province.gpkg, province.xlsx, index.html)."""

from __future__ import annotations

import html
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import quote

import geopandas as gpd
import pandas as pd
import shapely

from careplan.report.atomic import atomic_file, atomic_write_bytes


@dataclass(frozen=True)
class BatchResult:
    """What a batch run produced.

    Attributes
    ----------
    districts : GeoDataFrame
        One row per district: ``district_id, name, status ('done' | 'failed'),
        reused`` (True: skipped, done by an earlier run), ``error``, ``n_areas,
        n_facilities, n_facilities_in_reach, n_candidates``, every summary metric of
        :attr:`LayoutPlan.summary` as ``<metric>_before`` / ``<metric>_after``,
        ``runtime_s`` (wall seconds of the task), ``cpu_s`` (CPU seconds of its worker
        process), ``inputs_s``, ``plan_s``, ``write_s`` (wall seconds of its phases),
        ``cut_s`` (wall seconds the client took to cut its inputs), ``start_unix_s``,
        ``end_unix_s`` (the task's interval, seconds since the epoch on the worker's
        clock), ``worker`` (Dask worker address), ``threads`` (of careplan's pools
        there), ``report`` (path of the district's report.html, relative to
        ``out``), ``warnings``; the boundary (or the district's areas' convex hull
        when it has no boundary) as geometry.
    streets : DataFrame
        One row per district and street (``street`` '' when the areas have no
        street column): households, covered before/after, compliant areas and
        deficits.
    unassigned_areas : list
        Area ids no district boundary covers (not planned).
    unassigned_facilities : list
        Facility ids no district boundary covers: counted in no district's
        ``n_facilities``, though they still serve the estates whose halo holds them.
    out : Path
        Output directory.
    files : dict
        ``province_gpkg``, ``province_xlsx``, ``index_html`` -> Path.
    timing : dict
        Where this run's time went (tasks run now; reused ones left out): wall,
        start-up, task span, CPU per task and per worker, mean concurrency, the
        critical path and the speed-up bound; see :func:`careplan.batch.batch_timing`.
    """

    districts: gpd.GeoDataFrame
    streets: pd.DataFrame
    unassigned_areas: list
    unassigned_facilities: list
    out: Path
    files: dict
    timing: dict = field(default_factory=dict)

    @property
    def failed(self) -> pd.DataFrame:
        """The failed districts with their error."""
        d = self.districts
        return pd.DataFrame(d.loc[d["status"] != "done", ["district_id", "name", "error"]])



_FIRST_COLS = ["district_id", "name", "status", "reused", "error", "n_areas", "n_facilities",
               "n_facilities_in_reach", "n_candidates"]


def _summarise(tasks, records, geoms, unassigned, unassigned_fac, out: Path,
               options, timing: dict | None = None) -> BatchResult:
    rows, street_rows = [], []
    for t in tasks:
        rec = dict(records[t.district_id])
        for s in rec.pop("streets", []) or []:
            street_rows.append({"district_id": t.district_id, "district_name": t.name, **s})
        rec.pop("traceback", None)
        rec.pop("key", None)
        rec.pop("version", None)
        rec["warnings"] = " | ".join(rec.get("warnings") or [])
        rec["report"] = (f"districts/{t.dir_name}/report.html" if rec["status"] == "done"
                         else "")
        rec.pop("dir", None)
        hull = rec.pop("hull_wkt_wgs84", None)
        geom = geoms.get(t.district_id)
        if geom is None and hull:
            geom = shapely.from_wkt(hull)
        rec["geometry"] = geom
        rows.append(rec)
    df = pd.DataFrame(rows)
    cols = [c for c in _FIRST_COLS if c in df.columns]
    cols += [c for c in df.columns if c not in cols and c != "geometry"]
    districts = gpd.GeoDataFrame(df[cols], geometry=list(df["geometry"]), crs=4326)
    districts.index = pd.Index(districts["district_id"].to_numpy())
    streets = pd.DataFrame(street_rows, columns=[
        "district_id", "district_name", "street", "n_areas", "households",
        "households_covered_before", "households_covered_after", "areas_compliant_before",
        "areas_compliant_after", "deficit_before_m2", "deficit_after_m2"])
    files = _write_summary(districts, streets, unassigned, out, options)
    return BatchResult(districts=districts, streets=streets, unassigned_areas=unassigned,
                       unassigned_facilities=unassigned_fac, out=out, files=files,
                       timing=dict(timing or {}))


def _write_summary(districts, streets, unassigned, out: Path, options) -> dict:
    import pyogrio

    out.mkdir(parents=True, exist_ok=True)
    files = {"province_gpkg": out / "province.gpkg", "province_xlsx": out / "province.xlsx",
             "index_html": out / "index.html"}
    tab = pd.DataFrame(districts.drop(columns=districts.geometry.name))
    tab = tab.astype({c: object for c in tab.columns if tab[c].dtype == bool})
    # GPKG: every district; a failed district without boundary has an empty geometry
    g = gpd.GeoDataFrame(tab, geometry=districts.geometry.to_numpy(), crs=districts.crs)
    kinds = set(g.geom_type.dropna())
    kind = "MultiPolygon" if kinds <= {"Polygon", "MultiPolygon"} else "Unknown"
    with atomic_file(files["province_gpkg"], create=False) as tmp:
        pyogrio.write_dataframe(g.reset_index(drop=True), tmp, layer="districts",
                                driver="GPKG", geometry_type=kind)
    with atomic_file(files["province_xlsx"]) as tmp:
        with pd.ExcelWriter(tmp, engine="openpyxl") as xw:
            tab.to_excel(xw, sheet_name="districts", index=False)
            streets.to_excel(xw, sheet_name="streets", index=False)
            pd.DataFrame({"area_id": [str(a) for a in unassigned]}).to_excel(
                xw, sheet_name="unassigned_areas", index=False)
            par = options.parameters()
            pd.DataFrame({"option": list(par), "value": [str(v) for v in par.values()]}
                         ).to_excel(xw, sheet_name="options", index=False)
    atomic_write_bytes(files["index_html"], _index_html(tab, unassigned).encode("utf-8"))
    return files


def _fmt(v: Any) -> str:
    if v is None or (isinstance(v, float) and math.isnan(v)):
        return ""
    if isinstance(v, float):
        return f"{v:,.3f}".rstrip("0").rstrip(".") if abs(v) < 1 else f"{v:,.0f}"
    return str(v)


def _index_html(tab: pd.DataFrame, unassigned: list) -> str:
    e = html.escape
    cols = [("households", "户数 Households"),
            ("households_covered_share", "覆盖率 Covered share"),
            ("deficit_m2", "缺口面积 Deficit (m²)"),
            ("areas_compliant", "达标居住区 Compliant areas")]
    head = "".join(f"<th>{e(lab)} (before → after)</th>" for _, lab in cols)
    body = []
    for _, r in tab.iterrows():
        ok = r["status"] == "done"
        link = (f'<a href="{e(quote(str(r["report"])))}">{e(str(r["name"]))}</a>' if ok
                else e(str(r["name"])))
        cells = "".join(
            f"<td>{e(_fmt(r.get(f'{m}_before')))} → {e(_fmt(r.get(f'{m}_after')))}</td>"
            if ok else "<td></td>" for m, _ in cols)
        new = e(_fmt(r.get("new_stations_after"))) if ok else ""
        status = "done (earlier run)" if ok and bool(r.get("reused")) else r["status"]
        err = f'<td class="err">{e(str(r["error"]))}</td>' if not ok else "<td></td>"
        body.append(f"<tr class=\"{'ok' if ok else 'failed'}\"><td>{e(str(r['district_id']))}"
                    f"</td><td>{link}</td><td>{e(str(status))}</td>{cells}<td>{new}</td>"
                    f"{err}</tr>")
    n_fail = int((tab["status"] != "done").sum())
    note = ""
    if unassigned:
        note = (f"<p>{len(unassigned)} residential area(s) lie in no district and were not "
                f"planned: {e(', '.join(map(str, unassigned[:50])))}</p>")
    return (
        "<!DOCTYPE html><html lang=\"zh\"><head><meta charset=\"utf-8\">"
        "<title>careplan 省级汇总 Provincial summary</title><style>"
        "body{font-family:sans-serif;margin:1.5em}table{border-collapse:collapse}"
        "td,th{border:1px solid #ccc;padding:.3em .6em}tr.failed{background:#fde8e8}"
        ".err{color:#a00}</style></head><body>"
        "<h1>养老服务设施布局规划 省级汇总 / Provincial summary</h1>"
        f"<p>{len(tab)} districts: {len(tab) - n_fail} planned, {n_fail} failed. "
        "Tables: <a href=\"province.xlsx\">province.xlsx</a>, map layer: "
        "<a href=\"province.gpkg\">province.gpkg</a>.</p>"
        f"{note}<table><thead><tr><th>ID</th><th>区 District</th><th>Status</th>{head}"
        "<th>新增站点 New stations</th><th>Error</th></tr></thead><tbody>"
        + "".join(body) +
        "</tbody></table><p>Map data © OpenStreetMap contributors (ODbL).</p></body></html>")
