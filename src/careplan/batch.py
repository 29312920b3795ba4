"""Many districts planned as independent tasks on ``dask.distributed``.

A province (or a city) is split into districts; each district is planned with
:func:`careplan.plan_layout` on its own inputs, as one task of a Dask cluster
(a :class:`distributed.LocalCluster` on this machine by default, or any running
scheduler given by its address, with the same code). Every district gets the
usual plan outputs in its own folder; the batch adds a provincial summary.

The district rule (each estate and each facility counted once)
--------------------------------------------------------------
* A district is its boundary polygon plus a **halo** of ``halo_m`` metres
  (at least the walking cutoff; default: the cutoff itself).
* An **estate** (residential area) belongs to the first district, in the order
  given, whose boundary covers its representative point; it is planned, counted
  and reported there only. Estates no district covers are reported in
  :attr:`BatchResult.unassigned_areas` (and a warning), never dropped silently.
* A **candidate site** belongs to the district covering it (first in order), so a
  new station is proposed by at most one district.
* An **existing facility** is counted (province totals, ``n_facilities``) in the
  district covering it; it also takes part in the plan of every district whose
  halo contains it, because the estates near a boundary walk to it. Its
  ``area_id`` is kept only in the district that owns that estate (elsewhere it is
  cleared so the facility serves by walking only), so its floor area is credited
  once, to the estate it names (or, without ``area_id``, to the estate polygon
  containing it).
* The **street network** of a district is every edge that intersects the halo
  (whole edges, no cutting). Any walk of at most the cutoff from a point inside
  the boundary stays within the halo (a walk is never shorter than the straight
  line), so every distance up to the cutoff between the district's estates and
  any site is the same as on the whole network (``tests/test_batch.py`` checks
  this against the undivided network).

Halo facilities' rule tables: facility counts in a district's rule table include
the halo facilities it can walk to; the provincial summary counts each facility
once, by its home district.

Outputs (under ``out``)
-----------------------
``districts/<id>/``   the plan of each district (:meth:`LayoutPlan.to_file`);
``status/<id>.json``  the record of each finished district (what a re-run skips);
``province.gpkg``     layer ``districts``: boundary + before/after metrics;
``province.xlsx``     sheets ``districts`` (one row per district) and ``streets``
                      (one row per district and street);
``index.html``        links to every district report, failures with their error.
"""

from __future__ import annotations

import hashlib
import html
import json
import math
import os
import re
import time
import tomllib
import traceback
import uuid
import warnings
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import quote

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from careplan._errors import CareplanError, CareplanWarning, CRSError, InputError

__all__ = [
    "BatchResult",
    "DistrictInputs",
    "batch_from_config",
    "district_inputs",
    "districts_from_grid",
    "plan_districts",
]

#: Input keys a district may take (same names as the ``[inputs]`` of ``careplan plan``).
INPUT_KEYS = ("areas", "areas_layer", "facilities", "facilities_layer", "candidates",
              "candidates_layer", "network", "coord_system")
_STATUS_VERSION = 1


# ----------------------------------------------------------------------------------
# districts and their inputs
# ----------------------------------------------------------------------------------

@dataclass(frozen=True)
class DistrictInputs:
    """The inputs of one district, as :func:`careplan.plan_layout` takes them.

    Attributes
    ----------
    district_id : str
    areas : GeoDataFrame
        The estates the district owns (see the module docstring for the rule).
    facilities : GeoDataFrame
        Existing facilities within the halo (``area_id`` cleared where it names an
        estate of another district).
    candidates : GeoDataFrame or None
        Candidate sites the district owns (None: plan_layout's default).
    network : WalkNetwork
        Every edge of the network that intersects the halo (or the whole network).
    n_facilities_owned : int
        Facilities inside the boundary (the district's own, for province totals).
    """

    district_id: str
    areas: gpd.GeoDataFrame
    facilities: gpd.GeoDataFrame
    candidates: gpd.GeoDataFrame | None
    network: Any
    n_facilities_owned: int


def districts_from_grid(areas: gpd.GeoDataFrame, rows: int, cols: int) -> gpd.GeoDataFrame:
    """Split the extent of ``areas`` into a ``rows x cols`` grid of districts.

    Useful to cut one big city into tasks. Cells that hold no estate's
    representative point are left out.

    Parameters
    ----------
    areas : GeoDataFrame
        Residential areas in a projected CRS.
    rows, cols : int
        Grid shape (>= 1 each).

    Returns
    -------
    GeoDataFrame
        ``district_id`` (``r<row>c<col>``, row 0 at the south), ``name``, box
        geometry; index = ``district_id``; the areas' CRS.

    Raises
    ------
    InputError
        rows/cols not positive integers, or no areas.
    """
    for what, v in (("rows", rows), ("cols", cols)):
        if isinstance(v, bool) or not isinstance(v, int | np.integer) or v < 1:
            raise InputError(f"grid {what} must be an integer >= 1, got {v!r}")
    if len(areas) == 0:
        raise InputError("cannot split an empty set of areas into a grid; give some areas")
    pts = areas.geometry.representative_point()
    x0, y0, x1, y1 = pts.total_bounds
    # widen a hair so points on the far edges fall inside the last cells
    pad = 1e-6 * max(x1 - x0, y1 - y0, 1.0)
    xs = np.linspace(x0 - pad, x1 + pad, cols + 1)
    ys = np.linspace(y0 - pad, y1 + pad, rows + 1)
    recs = []
    for r in range(rows):
        for c in range(cols):
            box = shapely.box(xs[c], ys[r], xs[c + 1], ys[r + 1])
            recs.append((f"r{r}c{c}", f"grid cell row {r}, column {c}", box))
    grid = gpd.GeoDataFrame({"district_id": [r[0] for r in recs], "name": [r[1] for r in recs]},
                            geometry=[r[2] for r in recs], crs=areas.crs)
    owner = _owner(pts, grid.geometry)
    grid = grid[np.isin(np.arange(len(grid)), owner[owner >= 0])]
    grid.index = pd.Index(grid["district_id"].to_numpy())
    return grid


def _owner(points: gpd.GeoSeries, boundaries: gpd.GeoSeries) -> np.ndarray:
    """Position of the first boundary covering each point (-1: none), shape (n_points,)."""
    out = np.full(len(points), -1, dtype=np.int64)
    if len(points) == 0 or len(boundaries) == 0:
        return out
    pi, bi = gpd.GeoSeries(boundaries.to_numpy(), crs=boundaries.crs).sindex.query(
        points.to_numpy(), predicate="covered_by")
    if pi.size:
        order = np.lexsort((bi, pi))
        pi, bi = pi[order], bi[order]
        first = np.ones(pi.size, dtype=bool)
        first[1:] = pi[1:] != pi[:-1]
        out[pi[first]] = bi[first]
    return out


def _points_of(gdf: gpd.GeoDataFrame) -> gpd.GeoSeries:
    g = gdf.geometry
    nonpt = g.geom_type != "Point"
    return g.where(~nonpt, g.representative_point()) if nonpt.any() else g


def _check_boundaries(boundaries: gpd.GeoDataFrame, id_col: str, crs: Any) -> gpd.GeoDataFrame:
    if not isinstance(boundaries, gpd.GeoDataFrame):
        raise InputError("district boundaries must be a GeoDataFrame of polygons "
                         f"(got {type(boundaries).__name__}); see districts_from_grid()")
    if id_col not in boundaries.columns:
        raise InputError(f"district boundaries need a {id_col!r} column (the district id); "
                         f"columns are {list(boundaries.columns)}")
    if len(boundaries) == 0:
        raise InputError("no districts: the boundaries frame is empty")
    ids = boundaries[id_col].astype(str)
    dup = ids[ids.duplicated()].unique()
    if len(dup):
        raise InputError(f"district ids must be unique; repeated: {list(dup[:10])}")
    if boundaries.crs is None or not boundaries.crs.equals(crs):
        have = None if boundaries.crs is None else boundaries.crs.to_string()
        raise CRSError(f"district boundaries CRS {have} differs from the network's "
                       f"{crs.to_string()}; reproject with boundaries.to_crs(network.crs)")
    kinds = set(boundaries.geom_type.dropna())
    if not kinds or not kinds <= {"Polygon", "MultiPolygon"}:
        raise InputError(f"district boundaries must be polygons, got {sorted(kinds)}")
    out = boundaries.copy()
    out[id_col] = ids.to_numpy()
    out.index = pd.Index(ids.to_numpy())
    return out


def _clip_network(net: Any, halo: Any, edges: gpd.GeoDataFrame | None = None) -> Any:
    """The network made of every edge of ``net`` intersecting ``halo`` (whole edges)."""
    from careplan.network import WalkNetwork

    edges = net.edges if edges is None else edges
    hit = np.sort(edges.sindex.query(halo, predicate="intersects"))
    if hit.size == 0:
        raise InputError("no street of the network lies within this district's halo; check "
                         "the district boundary and the network cover the same place")
    sub = edges.iloc[hit]
    ids = pd.Index(pd.unique(np.concatenate([sub["u"].to_numpy(), sub["v"].to_numpy()])))
    pos = net.node_ids.get_indexer(ids)  # no node GeoDataFrame: O(district), not O(network)
    attrs = sub.drop(columns=["u", "v", "length_m", sub.geometry.name])
    return WalkNetwork(
        node_ids=ids, x=np.asarray(net.x)[pos], y=np.asarray(net.y)[pos],
        edge_u=ids.get_indexer(sub["u"]), edge_v=ids.get_indexer(sub["v"]),
        edge_length=sub["length_m"].to_numpy(), edge_geometry=sub.geometry.to_numpy(),
        crs=net.crs, edge_attrs=pd.DataFrame(attrs).reset_index(drop=True), keep="all",
        source="a district's halo")


def district_inputs(district_id: str, boundaries: gpd.GeoDataFrame, areas: gpd.GeoDataFrame,
                    facilities: gpd.GeoDataFrame, candidates: gpd.GeoDataFrame | None,
                    network: Any, *, halo_m: float, id_col: str = "district_id"
                    ) -> DistrictInputs:
    """The inputs of one district under the batch's rule (see the module docstring).

    This is exactly what :func:`plan_districts` hands to :func:`careplan.plan_layout`
    for that district, so ``plan_layout(**inputs)`` run alone gives the batch's plan.

    Parameters
    ----------
    district_id : str
        Which district.
    boundaries : GeoDataFrame
        Every district's polygon (order decides estates on a shared border), with
        ``id_col``; the network's CRS.
    areas, facilities, candidates : GeoDataFrame
        The whole province's inputs, read with careplan's readers, network CRS.
    network : WalkNetwork
        The whole network.
    halo_m : float
        Halo width in metres (>= the walking cutoff for exact distances).
    id_col : str, default 'district_id'
        Column of ``boundaries`` with the district ids.

    Returns
    -------
    DistrictInputs

    Raises
    ------
    InputError
        Unknown district, bad boundaries, or no street within the halo.
    """
    b = _check_boundaries(boundaries, id_col, network.crs)
    if str(district_id) not in b.index:
        raise InputError(f"unknown district {district_id!r}; districts are {list(b.index[:10])}")
    shared = _Shared.build(b, areas, facilities, candidates, network, with_edges=False)
    return shared.inputs_of(str(district_id), float(halo_m))


@dataclass
class _Shared:
    """Province-wide inputs and who owns what (computed once, sent to the workers)."""

    areas: gpd.GeoDataFrame | None = None
    facilities: gpd.GeoDataFrame | None = None
    candidates: gpd.GeoDataFrame | None = None
    network: Any = None
    boundaries: gpd.GeoDataFrame | None = None
    area_owner: np.ndarray | None = None
    facility_owner: np.ndarray | None = None
    candidate_owner: np.ndarray | None = None
    edges: gpd.GeoDataFrame | None = None
    fac_points: gpd.GeoSeries | None = None

    @classmethod
    def build(cls, boundaries, areas, facilities, candidates, network, *, with_edges=True):
        for what, g in (("areas", areas), ("facilities", facilities),
                        ("candidates", candidates)):
            if g is None:
                continue
            if not isinstance(g, gpd.GeoDataFrame):
                raise InputError(f"{what} must be a GeoDataFrame (read it with "
                                 f"careplan.read_{what}()), got {type(g).__name__}")
            if g.crs is None or not g.crs.equals(network.crs):
                raise CRSError(f"{what} must be in the network's CRS "
                               f"{network.crs.to_string()}; read them with "
                               f"careplan.read_{what}(..., crs=network.crs)")
        bpos = boundaries.geometry
        own = cls(areas=areas, facilities=facilities, candidates=candidates, network=network,
                  boundaries=boundaries)
        own.area_owner = _owner(_points_of(areas), bpos)
        own.facility_owner = _owner(_points_of(facilities), bpos)
        if candidates is not None:
            own.candidate_owner = _owner(_points_of(candidates), bpos)
        if with_edges:
            own.edges = network.edges
        return own

    def _facility_points(self) -> gpd.GeoSeries:
        if self.fac_points is None:
            self.fac_points = gpd.GeoSeries(_points_of(self.facilities).to_numpy(),
                                            crs=self.facilities.crs)
        return self.fac_points

    def inputs_of(self, district_id: str, halo_m: float) -> DistrictInputs:
        b = self.boundaries
        k = b.index.get_loc(district_id)
        boundary = b.geometry.iloc[k]
        halo = boundary.buffer(halo_m)
        areas = self.areas[self.area_owner == k]
        if len(areas) == 0:
            raise InputError(f"district {district_id!r} owns no residential area (no area's "
                             "representative point lies inside its boundary)")
        fac = self.facilities
        hit = (np.sort(self._facility_points().sindex.query(halo, predicate="intersects"))
               if len(fac) else np.array([], dtype=np.int64))
        fac_d = fac.iloc[hit].copy()
        if "area_id" in fac_d.columns:
            own_ids = set(areas["area_id"]) if "area_id" in areas.columns else set(areas.index)
            foreign = fac_d["area_id"].notna() & ~fac_d["area_id"].isin(own_ids)
            fac_d["area_id"] = fac_d["area_id"].where(~foreign, None)
        cands = None
        if self.candidates is not None:
            cands = self.candidates[self.candidate_owner == k]
        net = _clip_network(self.network, halo, self.edges)
        return DistrictInputs(district_id=district_id, areas=areas, facilities=fac_d,
                              candidates=cands, network=net,
                              n_facilities_owned=int((self.facility_owner == k).sum()))


# ----------------------------------------------------------------------------------
# one task
# ----------------------------------------------------------------------------------

@dataclass(frozen=True)
class _Task:
    district_id: str
    name: str
    dir_name: str
    key: str
    out: str
    options: Any  # PlanConfig
    halo_m: float
    clip: bool  # True: cut from the shared inputs by boundary; False: whole inputs
    overrides: dict = field(default_factory=dict)  # per-district inputs (paths or objects)
    base: str = ""  # directory that relative override paths are relative to


def _read_override(ov: Mapping[str, Any], base: Path, shared: _Shared | None):
    """Per-district inputs: a path is read with careplan's readers, objects pass through."""
    import careplan as cp

    def path(v):
        return _file_path(base, v, "[[district]] inputs")

    net = ov.get("network", shared.network if shared else None)
    if net is None:
        raise InputError("this district has no network: give [inputs].network or the "
                         "district's own inputs.network")
    if isinstance(net, str | os.PathLike):
        net = cp.WalkNetwork.from_file(path(net))
    cs = ov.get("coord_system", "wgs84")
    out = {"network": net}
    for key, reader in (("areas", cp.read_areas), ("facilities", cp.read_facilities),
                        ("candidates", cp.read_candidates)):
        v = ov.get(key, getattr(shared, key) if shared else None)
        if isinstance(v, str | os.PathLike):
            v = reader(path(v), layer=ov.get(f"{key}_layer"), coord_system=cs, crs=net.crs)
        out[key] = v
    if out["areas"] is None or out["facilities"] is None:
        raise InputError("this district lacks areas or facilities: give them in [inputs] or "
                         "in the district's own inputs")
    return out


def _file_path(base: Path, value: Any, where: str) -> Path:
    """A config path, relative to the config's folder; InputError when missing."""
    p = Path(value) if Path(value).is_absolute() else base / value
    if p.exists():
        return p
    raise InputError(f"config {where}: file {str(p)!r} does not exist (paths in a config are "
                     "relative to the config file's folder)")


def _plan_one(task: _Task, shared: _Shared | None) -> dict:
    """Plan one district and write its outputs; never raises (errors go in the record)."""
    import careplan as cp

    t0 = time.perf_counter()
    rec: dict[str, Any] = {"district_id": task.district_id, "name": task.name,
                           "dir": task.dir_name, "key": task.key, "version": _STATUS_VERSION}
    caught: list[warnings.WarningMessage] = []
    try:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            if task.clip:
                inp = shared.inputs_of(task.district_id, task.halo_m)
                args = (inp.areas, inp.facilities, inp.candidates, inp.network)
                n_own = inp.n_facilities_owned
            else:
                d = _read_override(task.overrides, Path(task.base), shared)
                args = (d["areas"], d["facilities"], d["candidates"], d["network"])
                n_own = len(d["facilities"])
            plan = cp.plan_layout(*args, config=task.options, verbose=False)
            plan.to_file(Path(task.out) / "districts" / task.dir_name)
        rec.update(_record_of(plan, args, n_own))
        rec["status"] = "done"
        rec["error"] = ""
    except Exception as exc:  # a failing district is reported, the others go on
        msg = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
        rec["status"] = "failed"
        rec["error"] = f"{type(exc).__name__}: {msg}" if msg else type(exc).__name__
        if not isinstance(exc, CareplanError):
            rec["traceback"] = traceback.format_exc(limit=8)
    rec["warnings"] = sorted({str(w.message).splitlines()[0] for w in caught
                              if issubclass(w.category, UserWarning)})
    rec["runtime_s"] = round(time.perf_counter() - t0, 3)
    if rec["status"] == "done":
        _write_json(Path(task.out) / "status" / f"{task.dir_name}.json", rec)
    return rec


def _record_of(plan, args, n_facilities_owned: int) -> dict:
    areas, facilities, candidates, _net = args
    s = plan.summary.set_index("metric")
    rec: dict[str, Any] = {
        "n_areas": len(plan.areas),
        "n_facilities": int(n_facilities_owned),
        "n_facilities_in_reach": len(facilities),
        "n_candidates": None if candidates is None else len(candidates),
    }
    for m in s.index:
        for when in ("before", "after"):
            v = s.at[m, when]
            rec[f"{m}_{when}"] = None if pd.isna(v) else float(v)
    rec["report"] = "report.html"
    rec["streets"] = _street_rows(plan.areas)
    hull = shapely.convex_hull(shapely.union_all(plan.areas.geometry.to_numpy()))
    rec["hull_wkt_wgs84"] = gpd.GeoSeries([hull], crs=plan.areas.crs).to_crs(4326).iloc[0].wkt
    return rec


def _street_rows(areas: gpd.GeoDataFrame) -> list[dict]:
    """One row per street (``street`` column of the areas); one '' row without it."""
    a = pd.DataFrame(areas.drop(columns=areas.geometry.name))
    key = a["street"].fillna("").astype(str) if "street" in a.columns else pd.Series(
        "", index=a.index)
    hh = a["households"].astype(float)
    rows = []
    for street, idx in a.groupby(key.to_numpy(), sort=True).groups.items():
        g = a.loc[idx]
        h = hh.loc[idx]
        rows.append({
            "street": street, "n_areas": len(g), "households": float(h.sum()),
            "households_covered_before": float(h[g["covered_before"].astype(bool)].sum()),
            "households_covered_after": float(h[g["covered_after"].astype(bool)].sum()),
            "areas_compliant_before": int(g["compliant_before"].fillna(False).astype(bool).sum()),
            "areas_compliant_after": int(g["compliant_after"].fillna(False).astype(bool).sum()),
            "deficit_before_m2": float(g["deficit_before_m2"].astype(float).sum()),
            "deficit_after_m2": float(g["deficit_after_m2"].astype(float).sum()),
        })
    return rows


def _write_json(path: Path, obj: dict) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{uuid.uuid4().hex}.tmp")
    tmp.write_text(json.dumps(obj, ensure_ascii=False, indent=1, default=_json_default),
                   encoding="utf-8")
    os.replace(tmp, path)


def _json_default(v):
    if isinstance(v, np.integer):
        return int(v)
    if isinstance(v, np.floating):
        return None if math.isnan(v) else float(v)
    if isinstance(v, np.bool_):
        return bool(v)
    return str(v)


# ----------------------------------------------------------------------------------
# the batch
# ----------------------------------------------------------------------------------

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
        ``runtime_s``, ``report`` (path of the district's report.html, relative to
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
    """

    districts: gpd.GeoDataFrame
    streets: pd.DataFrame
    unassigned_areas: list
    unassigned_facilities: list
    out: Path
    files: dict

    @property
    def failed(self) -> pd.DataFrame:
        """The failed districts with their error."""
        d = self.districts
        return pd.DataFrame(d.loc[d["status"] != "done", ["district_id", "name", "error"]])


def _plan_config(config: Any, options: Mapping[str, Any], where: str = ""):
    """The plan options of every district as one checked PlanConfig."""
    from careplan.plan import PlanConfig

    if config is None:
        return PlanConfig.from_mapping(options, where=where)
    if not isinstance(config, PlanConfig):
        raise InputError(f"config must be a careplan.plan.PlanConfig, got "
                         f"{type(config).__name__}")
    return config.replace(**options) if options else config


def _cutoff_m(config: Any) -> float:
    """The walking cutoff plan_layout uses with this config (metres)."""
    from careplan.coverage import walking_circle
    from careplan.standards import load as load_standard

    return float(walking_circle(load_standard(config.standard), minutes=config.minutes,
                                speed_m_per_min=config.speed_m_per_min,
                                cutoff_m=config.cutoff_m).cutoff_m)


def _dir_names(ids: Sequence[str]) -> list[str]:
    """File-system-safe, unique folder names for district ids (CJK kept)."""
    out, seen = [], set()
    for i in ids:
        name = re.sub(r"[^\w.-]+", "_", str(i)).strip("._") or "district"
        base, n = name, 2
        while name.lower() in seen:
            name, n = f"{base}_{n}", n + 1
        seen.add(name.lower())
        out.append(name)
    return out


def _fingerprint(*parts: Any) -> str:
    h = hashlib.sha256()
    for p in parts:
        if isinstance(p, gpd.GeoDataFrame):
            h.update(pd.util.hash_pandas_object(
                pd.DataFrame(p.drop(columns=p.geometry.name)).astype(str), index=True
            ).to_numpy().tobytes())
            h.update(b"".join(shapely.to_wkb(p.geometry.to_numpy(), hex=False)))
            h.update(str(p.crs).encode())
        elif hasattr(p, "n_edges") and hasattr(p, "weights"):  # WalkNetwork
            h.update(np.asarray(p.weights).tobytes())
            h.update(np.asarray(p.x).tobytes())
            h.update(np.asarray(p.y).tobytes())
        elif isinstance(p, str | os.PathLike) and Path(p).exists():
            st = Path(p).stat()
            h.update(f"{Path(p).resolve()}|{st.st_size}|{st.st_mtime_ns}".encode())
        elif isinstance(p, shapely.Geometry):
            h.update(shapely.to_wkb(p))
        else:
            h.update(json.dumps(p, sort_keys=True, default=str).encode())
        h.update(b"|")
    return h.hexdigest()[:20]


def _load_done(out: Path, task: _Task) -> dict | None:
    p = out / "status" / f"{task.dir_name}.json"
    if not p.is_file() or not (out / "districts" / task.dir_name / "report.html").is_file():
        return None
    try:
        rec = json.loads(p.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError):
        return None
    if rec.get("key") != task.key or rec.get("status") != "done":
        return None
    return rec


def plan_districts(
    boundaries: gpd.GeoDataFrame | None,
    areas: gpd.GeoDataFrame | None,
    facilities: gpd.GeoDataFrame | None,
    candidates: gpd.GeoDataFrame | None,
    network: Any,
    *,
    out: str | os.PathLike,
    id_col: str = "district_id",
    name_col: str | None = "name",
    halo_m: float | None = None,
    extra_districts: Sequence[Mapping[str, Any]] = (),
    scheduler: str | Any | None = None,
    n_workers: int | None = None,
    processes: bool = True,
    resume: bool = True,
    verbose: bool | None = None,
    config: Any = None,
    _base: str | os.PathLike = ".",
    **plan_options: Any,
) -> BatchResult:
    """Plan many districts as independent tasks on ``dask.distributed``.

    Each district is planned by :func:`careplan.plan_layout` on its own inputs
    (its estates, the facilities within its halo, its candidate sites and the
    streets within its halo: see the module docstring for the rule), and written
    to ``out/districts/<id>/``; then the provincial summary is written.

    Parameters
    ----------
    boundaries : GeoDataFrame or None
        District polygons with ``id_col`` (and optionally ``name_col``), in the
        network's CRS; order decides estates on a shared border.
        :func:`districts_from_grid` cuts a grid. None: only ``extra_districts``.
    id_col : str, default 'district_id'
        Column of ``boundaries`` with the district ids.
    name_col : str or None, default 'name'
        Column of ``boundaries`` with display names; None or absent: the ids.
    areas, facilities, candidates : GeoDataFrame
        Province-wide inputs (careplan's readers, the network's CRS); candidates
        may be None (plan_layout's default: a site inside every estate).
    network : WalkNetwork
        Province-wide walking network.
    out : path
        Output directory (on a real cluster: a file system every worker sees).
    halo_m : float, optional
        Halo width in metres; default = the walking cutoff implied by
        ``plan_options`` (``cutoff_m`` or minutes x speed of the standard). A
        smaller halo raises: estates near the boundary would lose facilities
        across it.
    extra_districts : sequence of dict
        Districts with their own inputs: ``{"id": ..., "name": ..., "inputs":
        {"areas": path-or-GeoDataFrame, "network": ..., ...}}`` (keys as in the
        ``[inputs]`` of ``careplan plan``; missing ones fall back to the
        province-wide inputs). Each is planned whole (no boundary, no halo).
    scheduler : str or distributed.Client, optional
        A scheduler address (``tcp://host:8786``) or a Client; default: a
        LocalCluster on this machine, closed at the end.
    n_workers : int, optional
        LocalCluster workers (default: min(districts, CPU cores)), one thread each.
    processes : bool, default True
        LocalCluster workers as processes (False: threads of this process).
    resume : bool, default True
        Skip districts whose outputs and record from an earlier run exist and whose
        inputs and options are unchanged (key in ``out/status/<id>.json``).
    verbose : bool, optional
        Progress bar of districts done/failed (default: on a terminal unless
        careplan is quiet).
    config : careplan.plan.PlanConfig, optional
        The plan options of every district; ``plan_options`` override its fields.
    **plan_options
        Keyword options of :func:`careplan.plan_layout` (fields of
        :class:`careplan.plan.PlanConfig`: ``standard``, ``p``, ``cutoff_m``,
        ``minutes``, ``lang`` ...), the same for every district.

    Returns
    -------
    BatchResult

    Raises
    ------
    CareplanError
        Bad shared inputs or options (before any task runs). A district that fails
        does not raise: it is reported in ``BatchResult.districts`` (status, error)
        and in ``index.html``, and the others go on.
    """
    from careplan._progress import is_quiet

    options = _plan_config(config, plan_options)
    cutoff = _cutoff_m(options)
    if halo_m is None:
        halo_m = cutoff
    halo_m = float(halo_m)
    if not halo_m >= cutoff:
        raise InputError(f"halo_m={halo_m:g} is smaller than the walking cutoff {cutoff:g} m: "
                         "estates near a district boundary would miss facilities across it; "
                         "leave halo_m unset (= the cutoff) or give at least the cutoff")
    out = Path(out)
    shared = None
    tasks: list[_Task] = []
    specs: list[tuple] = []  # id, name, boundary geometry or None, clip, own inputs
    unassigned: list = []
    unassigned_fac: list = []
    shared_fp = _fingerprint(areas, facilities, candidates, network)
    if boundaries is not None:
        if network is None or areas is None or facilities is None:
            raise InputError("district boundaries need province-wide areas, facilities and "
                             "network to cut from")
        b = _check_boundaries(boundaries, id_col, network.crs)
        shared = _Shared.build(b, areas, facilities, candidates, network)
        unassigned = list(areas.index[shared.area_owner < 0])
        unassigned_fac = list(facilities.index[shared.facility_owner < 0])
        if unassigned:
            warnings.warn(f"{len(unassigned)} area(s) lie in no district boundary and are not "
                          f"planned: {', '.join(map(str, unassigned[:10]))}"
                          f"{' ...' if len(unassigned) > 10 else ''}", CareplanWarning,
                          stacklevel=2)
        names = b[name_col].astype(str) if name_col and name_col in b.columns else b.index
        for did, name, geom in zip(b.index, names, b.geometry, strict=True):
            specs.append((str(did), str(name), geom, True, {}))
    elif network is not None or areas is not None:
        shared = _Shared(areas=areas, facilities=facilities, candidates=candidates,
                         network=network)
    for d in extra_districts:
        if "id" not in d:
            raise InputError(f"every extra district needs an 'id', got {dict(d)!r}")
        ov = dict(d.get("inputs", {}))
        bad = set(ov) - set(INPUT_KEYS)
        if bad:
            raise InputError(f"district {d['id']!r}: unknown input key(s) {sorted(bad)}; "
                             f"allowed: {list(INPUT_KEYS)}")
        for k in ("areas", "facilities", "candidates", "network"):
            if isinstance(ov.get(k), str | os.PathLike) and not Path(ov[k]).is_absolute():
                ov[k] = str(Path(_base).resolve() / ov[k])
        specs.append((str(d["id"]), str(d.get("name", d["id"])), None, False, ov))
    if not specs:
        raise InputError("no districts to plan: give boundaries (or a grid) or districts "
                         "with their own inputs")
    ids = [s[0] for s in specs]
    dup = sorted({i for i in ids if ids.count(i) > 1})
    if dup:
        raise InputError(f"district ids must be unique; repeated: {dup[:10]}")
    for (did, name, geom, clip, ov), dname in zip(specs, _dir_names(ids), strict=True):
        key = _fingerprint(shared_fp, did, geom, halo_m, options.parameters(),
                           {k: _fingerprint(v) for k, v in ov.items()})
        tasks.append(_Task(district_id=did, name=name, dir_name=dname, key=key,
                           out=str(out.resolve()), options=options, halo_m=halo_m, clip=clip,
                           overrides=ov, base=str(Path(_base).resolve())))

    records: dict[str, dict] = {}
    todo = []
    for t in tasks:
        rec = _load_done(out, t) if resume else None
        if rec is not None:
            rec["reused"] = True
            records[t.district_id] = rec
        else:
            todo.append(t)

    show = (not is_quiet()) if verbose is None else bool(verbose)
    if todo:
        records.update(_run(todo, shared, scheduler=scheduler, n_workers=n_workers,
                            processes=processes, show=show, n_reused=len(tasks) - len(todo),
                            tty_only=verbose is None))
    geoms = {}
    if boundaries is not None:
        wgs = gpd.GeoSeries([s[2] for s in specs if s[3]], crs=network.crs).to_crs(4326)
        geoms = dict(zip([s[0] for s in specs if s[3]], wgs, strict=True))
    return _summarise(tasks, records, geoms, unassigned, unassigned_fac, out, options)


def _run(todo: list[_Task], shared: _Shared | None, *, scheduler, n_workers, processes,
         show: bool, n_reused: int, tty_only: bool) -> dict[str, dict]:
    """Submit the tasks to a Dask cluster; collect one record per district."""
    from distributed import Client, LocalCluster, as_completed
    from tqdm import tqdm

    cluster = None
    own_client = True
    if scheduler is None:
        n = n_workers or min(len(todo), os.cpu_count() or 1)
        if isinstance(n, bool) or not isinstance(n, int) or n < 1:
            raise InputError(f"n_workers must be an integer >= 1, got {n_workers!r}")
        cluster = LocalCluster(n_workers=n, threads_per_worker=1, processes=processes,
                               dashboard_address=None)
        client = Client(cluster)
    elif isinstance(scheduler, str):
        try:
            client = Client(scheduler, timeout="20s")
        except OSError as exc:
            raise InputError(f"cannot reach the Dask scheduler at {scheduler!r} ({exc}); "
                             "start one with `dask scheduler` or leave --scheduler out") from exc
    else:
        client, own_client = scheduler, False
    records: dict[str, dict] = {}
    try:
        sh = client.scatter(shared, broadcast=True) if shared is not None else None
        futs = {client.submit(_plan_one, t, sh, key=f"careplan-{t.dir_name}-{t.key}",
                              pure=False): t for t in todo}
        bar = tqdm(total=len(todo), desc="careplan batch", unit="district", leave=False,
                   disable=(None if tty_only else False) if show else True)
        n_fail = 0
        for fut in as_completed(futs):
            t = futs[fut]
            try:
                rec = fut.result()
            except Exception as exc:  # the worker died or the task could not run
                rec = {"district_id": t.district_id, "name": t.name, "dir": t.dir_name,
                       "status": "failed", "error": f"{type(exc).__name__}: {exc}",
                       "warnings": [], "runtime_s": None}
            rec["reused"] = False
            records[t.district_id] = rec
            n_fail += rec["status"] != "done"
            bar.update(1)
            bar.set_postfix(done=len(records) - n_fail + n_reused, failed=n_fail)
        bar.close()
    finally:
        if own_client:
            client.close()
        if cluster is not None:
            cluster.close()
    return records


_FIRST_COLS = ["district_id", "name", "status", "reused", "error", "n_areas", "n_facilities",
               "n_facilities_in_reach", "n_candidates"]


def _summarise(tasks, records, geoms, unassigned, unassigned_fac, out: Path,
               options) -> BatchResult:
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
                       unassigned_facilities=unassigned_fac, out=out, files=files)


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
    tmp = out / f".province.{uuid.uuid4().hex}.gpkg"
    try:
        pyogrio.write_dataframe(g.reset_index(drop=True), tmp, layer="districts",
                                driver="GPKG", geometry_type=kind)
        os.replace(tmp, files["province_gpkg"])
    finally:
        if tmp.exists():
            tmp.unlink()
    tmp = out / f".province.{uuid.uuid4().hex}.xlsx"
    try:
        with pd.ExcelWriter(tmp, engine="openpyxl") as xw:
            tab.to_excel(xw, sheet_name="districts", index=False)
            streets.to_excel(xw, sheet_name="streets", index=False)
            pd.DataFrame({"area_id": [str(a) for a in unassigned]}).to_excel(
                xw, sheet_name="unassigned_areas", index=False)
            par = options.parameters()
            pd.DataFrame({"option": list(par), "value": [str(v) for v in par.values()]}
                         ).to_excel(xw, sheet_name="options", index=False)
        os.replace(tmp, files["province_xlsx"])
    finally:
        if tmp.exists():
            tmp.unlink()
    tmp = out / f".index.{uuid.uuid4().hex}.html"
    tmp.write_text(_index_html(tab, unassigned), encoding="utf-8")
    os.replace(tmp, files["index_html"])
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


# ----------------------------------------------------------------------------------
# config
# ----------------------------------------------------------------------------------

_BATCH_KEYS = {"halo_m", "n_workers", "scheduler", "processes", "resume"}
_DISTRICTS_KEYS = {"file", "layer", "id_col", "name_col", "grid"}


def batch_from_config(path: str | os.PathLike, *, out: str | os.PathLike | None = None,
                      scheduler: str | None = None, n_workers: int | None = None,
                      resume: bool | None = None, verbose: bool | None = None) -> BatchResult:
    """Run :func:`plan_districts` as described by a TOML file (``careplan batch``).

    The file reuses the sections of ``careplan plan``'s config (``[inputs]``,
    ``[plan]``, ``[output]``) and adds ``[districts]`` (``file`` + ``layer``,
    ``id_col``, ``name_col``: a polygon layer; or ``grid = [rows, cols]`` over the
    areas), ``[[district]]`` entries with their own ``inputs`` (planned whole) and
    ``[batch]`` (``halo_m``, ``n_workers``, ``scheduler``, ``processes``,
    ``resume``). See ``examples/province.toml``. Paths are relative to the file.

    Parameters
    ----------
    path : path-like
        The TOML file.
    out : path-like, optional
        Output directory; overrides the file's ``[output] dir``.
    scheduler : str, optional
        Scheduler address (``tcp://host:8786``); overrides ``[batch] scheduler``.
    n_workers : int, optional
        LocalCluster workers; overrides ``[batch] n_workers``.
    resume : bool, optional
        Overrides ``[batch] resume`` (see :func:`plan_districts`).
    verbose : bool, optional
        Progress bar of districts (default: unless careplan is quiet).

    Returns
    -------
    BatchResult

    Raises
    ------
    InputError
        A missing or malformed config, unknown keys, missing files.
    """
    import careplan as cp

    path = Path(path)
    if not path.is_file():
        raise InputError(f"config file {str(path)!r} does not exist")
    try:
        cfg = tomllib.loads(path.read_text(encoding="utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise InputError(f"config {str(path)!r} is not valid TOML: {exc}") from exc
    unknown = set(cfg) - {"inputs", "plan", "output", "districts", "district", "batch"}
    if unknown:
        raise InputError(f"config {str(path)!r}: unknown section(s) {sorted(unknown)}; use "
                         "[inputs], [plan], [districts], [[district]], [batch] and [output]")
    base = path.resolve().parent
    inp = dict(cfg.get("inputs", {}))
    bad = set(inp) - set(INPUT_KEYS)
    if bad:
        raise InputError(f"config [inputs]: unknown key(s) {sorted(bad)}; allowed: "
                         f"{list(INPUT_KEYS)}")
    bcfg = dict(cfg.get("batch", {}))
    bad = set(bcfg) - _BATCH_KEYS
    if bad:
        raise InputError(f"config [batch]: unknown key(s) {sorted(bad)}; allowed: "
                         f"{sorted(_BATCH_KEYS)}")
    dcfg = dict(cfg.get("districts", {}))
    bad = set(dcfg) - _DISTRICTS_KEYS
    if bad:
        raise InputError(f"config [districts]: unknown key(s) {sorted(bad)}; allowed: "
                         f"{sorted(_DISTRICTS_KEYS)}")
    extra = cfg.get("district", [])
    if not isinstance(extra, list):
        raise InputError("config: districts with their own inputs are [[district]] tables")
    opts = dict(cfg.get("plan", {}))
    std = opts.get("standard")
    if isinstance(std, str) and std.endswith(".toml") and not Path(std).is_absolute():
        opts["standard"] = base / std
    plan_cfg = _plan_config(None, opts, where="[plan]")

    def resolve(v: str) -> Path:
        return _file_path(base, v, "[inputs]")

    net = areas = facs = cands = None
    cs = inp.get("coord_system", "wgs84")
    if "network" in inp:
        net = cp.WalkNetwork.from_file(resolve(inp["network"]))
        if "areas" in inp:
            areas = cp.read_areas(resolve(inp["areas"]), layer=inp.get("areas_layer"),
                                  coord_system=cs, crs=net.crs)
        if "facilities" in inp:
            facs = cp.read_facilities(resolve(inp["facilities"]),
                                      layer=inp.get("facilities_layer"), coord_system=cs,
                                      crs=net.crs)
        if "candidates" in inp:
            cands = cp.read_candidates(resolve(inp["candidates"]),
                                       layer=inp.get("candidates_layer"), coord_system=cs,
                                       crs=net.crs)
    boundaries = None
    id_col = dcfg.get("id_col", "district_id")
    if dcfg:
        if net is None or areas is None or facs is None:
            raise InputError("config [districts] cuts the province-wide inputs: [inputs] needs "
                             "network, areas and facilities")
        if "grid" in dcfg:
            grid = dcfg["grid"]
            if not (isinstance(grid, list) and len(grid) == 2):
                raise InputError(f"config [districts].grid must be [rows, cols], got {grid!r}")
            boundaries = districts_from_grid(areas, *grid)
            id_col = "district_id"
        elif "file" in dcfg:
            boundaries = gpd.read_file(resolve(dcfg["file"]), layer=dcfg.get("layer"))
            if boundaries.crs is None:
                raise CRSError(f"district boundaries {dcfg['file']!r} have no CRS; set one")
            boundaries = boundaries.to_crs(net.crs)
        else:
            raise InputError("config [districts] needs file = \"...\" (a polygon layer) or "
                             "grid = [rows, cols]")
    elif not extra:
        raise InputError("config: give [districts] (a boundary file or a grid) or "
                         "[[district]] entries")
    for d in extra:
        if not isinstance(d, dict):
            raise InputError("config: each [[district]] must be a table")
        bad = set(d) - {"id", "name", "inputs"}
        if bad:
            raise InputError(f"config [[district]] {d.get('id')!r}: unknown key(s) "
                             f"{sorted(bad)}; allowed: id, name, inputs")
    out_dir = Path(out) if out else base / cfg.get("output", {}).get("dir", "careplan-batch")
    resume = bcfg.get("resume", True) if resume is None else resume
    return plan_districts(
        boundaries, areas, facs, cands, net, out=out_dir, id_col=id_col,
        name_col=dcfg.get("name_col", "name"), halo_m=bcfg.get("halo_m"),
        extra_districts=extra, scheduler=scheduler or bcfg.get("scheduler"),
        n_workers=n_workers or bcfg.get("n_workers"),
        processes=bool(bcfg.get("processes", True)), resume=bool(resume), verbose=verbose,
        config=plan_cfg, _base=base)
