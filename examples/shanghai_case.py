"""Central-Shanghai case: plan community elderly-care stations on real streets.

Usage::

    python examples/shanghai_case.py                      # whole study area
    python examples/shanghai_case.py --quick              # 3 km x 3 km around People's Square
    python examples/shanghai_case.py --p 20 --out out/    # a budget of 20 new stations

Inputs (``--data-dir``, default ``../shared/data`` beside the repository)
-------------------------------------------------------------------------
* ``shanghai_center/shanghai_center_roads_overpass_2025-08-09.osm``: real OSM roads
  of central Shanghai (Overpass, osm_base 2025-08-09; Huangpu, Jing'an, N. Xuhui,
  E. Changning, S. Putuo, S. Hongkou, W. Pudong; about 12 x 11 km). **Roads only**
  (highway = residential/unclassified/tertiary/secondary/primary and links): no
  footways, buildings, landuse or POIs. © OpenStreetMap contributors, ODbL 1.0.
  Read with :meth:`careplan.WalkNetwork.from_file` (largest connected component).
* ``shanghai_center/shanghai_elderly_care_orgs_iacc.csv``: the real list of elderly-care
  organisations of one operator's dispatch map (derived, see ``SOURCES.md``);
  coordinates are GCJ-02 (``lat_gcj02``/``lng_gcj02``). It is **not** a census of
  facilities: the "before" state understates the real supply.

Method and assumptions (all stated again in the report's parameter table and in
``assumptions.md`` of the output; every figure below is an ASSUMPTION of this
example, not data)
-------------------------------------------------------------------------------
Study area
    The convex hull of the walking network's largest component. Facility rows
    outside it, in other cities or without coordinates are excluded **and listed**
    (``facilities_status.csv``); nothing is dropped silently.
Residential areas (street blocks)
    There are no buildings, so the street network is polygonized into blocks
    (``shapely.polygonize`` of the noded edge lines of the walking network). A block
    is kept as a residential area when ``MIN_BLOCK_HA <= area <= MAX_BLOCK_HA`` and
    its compactness ``4*pi*A/P^2 >= MIN_COMPACTNESS``; smaller or thin faces are the
    slivers between dual carriageways and at junctions, larger ones are parks, rail
    land, the river front and docks. Dropped blocks are counted by reason.
    Every block is ``built='existing'`` (central Shanghai is built up; old estates).
Households (gross-density method)
    ``households = block area (ha) x HOUSEHOLDS_PER_HA`` with
    ``HOUSEHOLDS_PER_HA = resident density x family-household share / household size``:
    6,683,712 residents of the seven central districts (中心城区: 黄浦 徐汇 长宁 静安
    普陀 虹口 杨浦; Shanghai 7th census 2020, press release of the Shanghai
    Statistics Bureau, May 2021) over their land area of 289.44 km2 (sum of the
    districts' published areas 20.46 + 54.76 + 38.30 + 36.88 + 54.83 + 23.48 +
    60.73 km2, as recalled from the Shanghai Statistical Yearbook, not verified here)
    = about 231 residents/ha; 89.9 % of Shanghai residents live in family households
    (22.3476 of 24.8709 million, 2020 census) and a family household has 2.32
    persons on average (2020 census) -> about 89 households per hectare of block.
    This spreads demand uniformly over every kept block, offices, shops and schools
    included: a district average, not a map of where people live.
Elderly
    ``elderly = households x 2.32 x SHARE_60_PLUS`` with ``SHARE_60_PLUS = 0.234``:
    23.4 % of Shanghai's resident population was aged 60+ (2020 census). The share
    in the *registered* (户籍) population is much higher (35.2 % at the end of 2019,
    Shanghai Elderly Population and Ageing Monitoring Statistics), and central
    districts are older than the city average, so this is a low estimate; pass
    ``--share-60-plus 0.352`` to use the registered figure.
Facilities: category -> careplan level, assumed floor area
    See ``CATEGORY_LEVELS`` below. Floor areas and beds are not in the list; the
    values are typical sizes, ASSUMED and labelled so in the output. Only
    'community' and 'street' facilities count toward the floor-area rule and the
    walking circle (careplan defaults); nursing homes count as institutions,
    hospitals, memory clinics and the operator's branch offices as 'other'.
Candidate sites
    Points along the walking network every ``--candidate-spacing-m`` metres (default
    200 m; the middles of equal pieces of each edge), thinned to one per 200 m x
    200 m grid cell, labelled ``road-<n>``: a station goes into a street-front
    building near that point. They are dense enough for every block to reach one
    within the walking circle, so ``plan_layout(fallback_candidates=False)``: no
    in-block sites are added (a block no site reaches would be listed as unreachable).
Standard
    ``jinwan-2020`` (the only shipped profile with a floor-area-per-100-households
    rule; existing estates >= 15 m2 per 100 households, 15-minute circle at 60 m/min
    = 900 m). Shanghai's own local rules are not shipped; copy and edit a profile
    (see ``careplan standards``) and pass its path with ``--standard``.

Outputs (``--out``): ``plan.gpkg``, ``report.html``, ``tables.xlsx``, PNG maps (from
:meth:`careplan.LayoutPlan.to_file`), plus ``facilities_status.csv`` (every row of the
facility list with its level, assumed floor area and whether/why it was excluded),
``blocks.gpkg`` (every polygonized block with kept/reason) and ``assumptions.md``.
"""

from __future__ import annotations

import argparse
import dataclasses
import sys
import time
import warnings
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

import careplan as cp
from careplan import derive

REPO = Path(__file__).resolve().parents[1]
DEFAULT_DATA_DIR = REPO.parent / "shared" / "data"
OSM_FILE = Path("shanghai_center") / "shanghai_center_roads_overpass_2025-08-09.osm"
FACILITY_FILE = Path("shanghai_center") / "shanghai_elderly_care_orgs_iacc.csv"

# ----------------------------------------------------------------------- assumptions
#: Residents of the seven central districts (2020 census).
CENTRAL_RESIDENTS = 6_683_712
#: Land area of the seven central districts, km2 (sum of published district areas).
CENTRAL_AREA_KM2 = 20.46 + 54.76 + 38.30 + 36.88 + 54.83 + 23.48 + 60.73
#: Share of Shanghai residents living in family households (2020 census).
FAMILY_HOUSEHOLD_SHARE = 22_347_600 / 24_870_895
#: Persons per family household, Shanghai 2020 census.
PERSONS_PER_HOUSEHOLD = 2.32
#: Households per hectare of block (gross density).
HOUSEHOLDS_PER_HA = (CENTRAL_RESIDENTS / (CENTRAL_AREA_KM2 * 100.0)
                     * FAMILY_HOUSEHOLD_SHARE / PERSONS_PER_HOUSEHOLD)
#: Share of residents aged 60+, Shanghai 2020 census.
SHARE_60_PLUS = 0.234
#: Block filter.
MIN_BLOCK_HA = 0.25
MAX_BLOCK_HA = 30.0
MIN_COMPACTNESS = 0.2
#: Candidate spacing along the streets, metres.
CANDIDATE_SPACING_M = 200.0
#: --quick: a square of this half-size around People's Square (WGS84 lon, lat).
QUICK_CENTRE_LONLAT = (121.4737, 31.2304)
QUICK_HALF_SIZE_M = 1500.0
DEFAULT_STANDARD = "jinwan-2020"

#: category of the facility list -> (careplan level, ASSUMED floor area m2, ASSUMED beds,
#: reason). Beds are unknown; nursing beds are set to 0 (unknown), so the
#: nursing-bed-share rule is not meaningful here.
CATEGORY_LEVELS: dict[str, tuple[str, float, int, str]] = {
    "community_care_home": (
        "community", 800.0, 30,
        "长者照护之家: Shanghai's community-embedded small care home (10-49 beds); "
        "assumed 30 beds x about 27 m2 = 800 m2"),
    "day_care_or_service_center": (
        "community", 400.0, 0,
        "日间照料 / 长者服务中心: community day-care centre; assumed 400 m2 "
        "(typical 300-500 m2), no beds"),
    "nursing_home": (
        "institution", 3000.0, 100,
        "敬老院/养老院/福利院/老年公寓: residential care institution; assumed 100 beds x "
        "30 m2 = 3000 m2; institutions do not count toward the community floor-area rule"),
    "home_nursing_station": (
        "other", 100.0, 0,
        "护理站: medical home-nursing station; assumed 100 m2 office, not care floor space"),
    "operator_service_point": (
        "other", 100.0, 0,
        "爱照护 branch: a home-care operator's office; assumed 100 m2, not floor space "
        "open to the elderly, so not counted"),
    "hospital_or_memory_clinic": (
        "other", 0.0, 0,
        "hospital / memory clinic: medical, its elderly-care floor area is unknown; 0 m2"),
    "other": (
        "other", 0.0, 0,
        "company office or unclassified entry; 0 m2"),
}


# -------------------------------------------------------------------------- network
def load_network(osm_path: Path) -> cp.WalkNetwork:
    """Read the walking network (largest connected component)."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        net = cp.WalkNetwork.from_file(osm_path)
    for w in caught:
        if issubclass(w.category, cp.CareplanWarning):
            print(f"  note: {w.message}")
        else:
            warnings.warn_explicit(w.message, w.category, w.filename, w.lineno)
    return net


def study_area(net: cp.WalkNetwork) -> shapely.Geometry:
    """The study area: convex hull of the network's edges."""
    return shapely.convex_hull(shapely.union_all(net.edges.geometry.to_numpy()))


# --------------------------------------------------------------------------- blocks
def blocks_from_network(net: cp.WalkNetwork, *, min_ha: float = MIN_BLOCK_HA,
                        max_ha: float = MAX_BLOCK_HA,
                        min_compactness: float = MIN_COMPACTNESS) -> gpd.GeoDataFrame:
    """Street blocks (:func:`careplan.derive.blocks_from_network`) with ``area_ha``."""
    blocks = derive.blocks_from_network(net, min_area_m2=min_ha * 1e4, max_area_m2=max_ha * 1e4,
                                        min_compactness=min_compactness)
    return blocks.assign(area_ha=(blocks["area_m2"] / 1e4).round(4))


def block_demand(blocks: gpd.GeoDataFrame, *, households_per_ha: float = HOUSEHOLDS_PER_HA,
                 persons_per_household: float = PERSONS_PER_HOUSEHOLD,
                 share_60_plus: float = SHARE_60_PLUS) -> gpd.GeoDataFrame:
    """Residential areas from the kept blocks, with estimated households and elderly.

    ``households = round(area_ha x households_per_ha)``;
    ``elderly = round(households x persons_per_household x share_60_plus)``.
    """
    kept = blocks[blocks["kept"]]
    hh = np.rint(kept["area_ha"].to_numpy() * households_per_ha).astype(np.int64)
    eld = np.rint(hh * persons_per_household * share_60_plus).astype(np.int64)
    raw = gpd.GeoDataFrame({"area_id": kept["block_id"].to_numpy(), "households": hh,
                            "elderly": eld, "built": "existing",
                            "area_ha": kept["area_ha"].to_numpy()},
                           geometry=kept.geometry.to_numpy(), crs=blocks.crs)
    return cp.read_areas(raw)


# ----------------------------------------------------------------------- facilities
def read_shanghai_facilities(csv_path: Path, area: shapely.Geometry,
                             crs: Any) -> tuple[gpd.GeoDataFrame, pd.DataFrame]:
    """Read the facility list (GCJ-02), map categories, exclude and report rows.

    Returns
    -------
    facilities : GeoDataFrame
        The rows used, read by :func:`careplan.read_facilities` with
        ``coord_system='gcj02'`` in ``crs``.
    status : DataFrame
        One row per CSV row: ``facility_id, name, city, category, level,
        floor_area_m2_assumed, beds_assumed, used, reason, wgs84_check_m`` (distance
        between careplan's GCJ-02 conversion and the file's ``*_wgs84_approx``
        columns), ``gcj02_as_wgs84_error_m`` (how far off the point would be if the
        GCJ-02 values were wrongly read as WGS84), ``distance_outside_m``.
    """
    df = pd.read_csv(csv_path, dtype={"id": str})
    unknown = sorted(set(df["category"].dropna()) - set(CATEGORY_LEVELS))
    if unknown:
        raise cp.InputError(f"{csv_path.name}: categories {unknown} have no level in "
                            "CATEGORY_LEVELS; add them there")
    st = pd.DataFrame({
        "facility_id": "iacc-" + df["id"],
        "name": df["name"], "city": df["city"], "category": df["category"],
        "level": [CATEGORY_LEVELS[c][0] for c in df["category"]],
        "floor_area_m2_assumed": [CATEGORY_LEVELS[c][1] for c in df["category"]],
        "beds_assumed": [CATEGORY_LEVELS[c][2] for c in df["category"]],
        "used": False, "reason": "", "wgs84_check_m": np.nan,
        "gcj02_as_wgs84_error_m": np.nan, "distance_outside_m": np.nan,
    })
    st.index = pd.Index(st["facility_id"].to_numpy())
    no_xy = df[["lat_gcj02", "lng_gcj02"]].isna().any(axis=1).to_numpy()
    st.loc[no_xy, "reason"] = "no coordinates"
    other_city = ~no_xy & (df["city"].fillna("") != "上海").to_numpy()
    st.loc[other_city, "reason"] = "other city"
    ok = ~no_xy & ~other_city
    sub = df[ok]
    table = pd.DataFrame({
        "facility_id": st.index[ok], "name": sub["name"].to_numpy(),
        "category": sub["category"].to_numpy(), "level": st["level"][ok].to_numpy(),
        "floor_area_m2": st["floor_area_m2_assumed"][ok].to_numpy(),
        "beds": st["beds_assumed"][ok].to_numpy(),
        "lon": sub["lng_gcj02"].to_numpy(), "lat": sub["lat_gcj02"].to_numpy()})
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", cp.CareplanWarning)
        fac = cp.read_facilities(table, coord_system="gcj02", crs=crs)
    for w in caught:
        print(f"  note: {w.message}")
    with warnings.catch_warnings():  # the comparison reads: their notes repeat the above
        warnings.simplefilter("ignore", cp.CareplanWarning)
        wgs = cp.read_facilities(table.assign(lon=sub["lng_wgs84_approx"].to_numpy(),
                                              lat=sub["lat_wgs84_approx"].to_numpy()), crs=crs)
        raw = cp.read_facilities(table, crs=crs)  # GCJ-02 wrongly taken as WGS84
    st.loc[fac.index, "wgs84_check_m"] = fac.distance(wgs.loc[fac.index]).round(2)
    st.loc[fac.index, "gcj02_as_wgs84_error_m"] = fac.distance(raw.loc[fac.index]).round(1)
    inside = fac.within(area)
    st.loc[fac.index, "distance_outside_m"] = np.where(
        inside, 0.0, fac.distance(area).round(0))
    st.loc[fac.index[~inside], "reason"] = "outside study area"
    st.loc[fac.index[inside], "used"] = True
    st.loc[fac.index[inside], "reason"] = "used"
    return fac[inside.to_numpy()], st.reset_index(drop=True)


# ----------------------------------------------------------------------- candidates
def road_candidates(net: cp.WalkNetwork, *, spacing_m: float = CANDIDATE_SPACING_M,
                    within: shapely.Geometry | None = None) -> gpd.GeoDataFrame:
    """Candidate sites along the streets (:func:`careplan.derive.road_candidates`)."""
    return derive.road_candidates(net, spacing_m=spacing_m, within=within)


# ------------------------------------------------------------------------------ run
def _quick_box(crs: Any) -> shapely.Geometry:
    c = gpd.GeoSeries(gpd.points_from_xy([QUICK_CENTRE_LONLAT[0]], [QUICK_CENTRE_LONLAT[1]]),
                      crs="EPSG:4326").to_crs(crs).iloc[0]
    h = QUICK_HALF_SIZE_M
    return shapely.box(c.x - h, c.y - h, c.x + h, c.y + h)


def _fmt_share(x: float) -> str:
    return "n/a" if x is None or not np.isfinite(x) else f"{100 * x:.1f} %"


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    ap = argparse.ArgumentParser(
        description="Plan elderly-care stations for central Shanghai (careplan case example).")
    ap.add_argument("--data-dir", type=Path, default=DEFAULT_DATA_DIR,
                    help="folder holding shanghai_center/ (default: ../shared/data)")
    ap.add_argument("--out", type=Path, default=Path("careplan-shanghai"),
                    help="output directory (default: ./careplan-shanghai)")
    ap.add_argument("--standard", default=DEFAULT_STANDARD,
                    help="standard profile name or TOML path (default: jinwan-2020)")
    ap.add_argument("--p", type=int, default=None,
                    help="budget of new stations (default: fewest stations covering everyone)")
    ap.add_argument("--model", default="auto",
                    choices=["auto", "set_covering", "maximal_covering", "p_median"])
    ap.add_argument("--quick", action="store_true",
                    help=f"only blocks and candidates within a {2 * QUICK_HALF_SIZE_M / 1000:g} km "
                         "square around People's Square")
    ap.add_argument("--candidate-spacing-m", type=float, default=CANDIDATE_SPACING_M)
    ap.add_argument("--households-per-ha", type=float, default=HOUSEHOLDS_PER_HA)
    ap.add_argument("--share-60-plus", type=float, default=SHARE_60_PLUS)
    ap.add_argument("--lang", default="zh", choices=["zh", "en"])
    ap.add_argument("--time-limit-s", type=float, default=60.0)
    args = ap.parse_args(argv)
    if args.p is not None and args.p < 0:
        ap.error("--p must be >= 0")
    if args.candidate_spacing_m <= 0 or args.households_per_ha <= 0:
        ap.error("--candidate-spacing-m and --households-per-ha must be > 0")
    if not 0 <= args.share_60_plus <= 1:
        ap.error("--share-60-plus must be between 0 and 1")
    return args


def main(argv: Sequence[str] | None = None) -> dict[str, Any]:
    """Run the case; return a dict of figures (also printed)."""
    args = parse_args(argv)
    osm = args.data_dir / OSM_FILE
    csv = args.data_dir / FACILITY_FILE
    for f in (osm, csv):
        if not f.exists():
            raise SystemExit(f"error: {f} not found; pass --data-dir (the folder holding "
                             "shanghai_center/)")
    timings: dict[str, float] = {}
    t_all = t = time.perf_counter()

    print(f"reading {osm.name} ...")
    net = load_network(osm)
    area = study_area(net)
    timings["network_s"] = time.perf_counter() - t
    print(f"  {net!r}; study area {shapely.area(area) / 1e6:.1f} km2")

    t = time.perf_counter()
    blocks = blocks_from_network(net)
    sub_box = _quick_box(net.crs) if args.quick else None
    if sub_box is not None:
        in_box = blocks.representative_point().within(sub_box)
        blocks = blocks.assign(
            reason=np.where(~in_box, "outside quick sub-area", blocks["reason"]),
            kept=blocks["kept"] & in_box)
    areas = block_demand(blocks, households_per_ha=args.households_per_ha,
                         share_60_plus=args.share_60_plus)
    timings["blocks_s"] = time.perf_counter() - t
    counts = blocks["reason"].value_counts()
    print(f"  {len(blocks)} polygonized blocks: " +
          ", ".join(f"{k} {v}" for k, v in counts.items()))
    print(f"  {len(areas)} residential areas, {int(areas['households'].sum()):,} households, "
          f"{int(areas['elderly'].sum()):,} elderly (estimated, "
          f"{args.households_per_ha:.1f} households/ha)")

    t = time.perf_counter()
    facilities, status = read_shanghai_facilities(csv, area, net.crs)
    timings["facilities_s"] = time.perf_counter() - t
    excl = status[~status["used"]]
    print(f"  facility list: {len(status)} rows, {len(facilities)} used, "
          f"{len(excl)} excluded (" +
          ", ".join(f"{k} {v}" for k, v in excl["reason"].value_counts().items()) + ")")
    print("  used by level: " + ", ".join(
        f"{k} {v}" for k, v in facilities["level"].value_counts().items()))
    chk = status["wgs84_check_m"].dropna()
    off = status["gcj02_as_wgs84_error_m"].dropna()
    print(f"  GCJ-02 -> WGS84 vs the file's *_wgs84_approx: median {chk.median():.2f} m, "
          f"max {chk.max():.2f} m; reading GCJ-02 as WGS84 would misplace points by "
          f"{off.min():.0f}-{off.max():.0f} m")

    t = time.perf_counter()
    candidates = road_candidates(net, spacing_m=args.candidate_spacing_m, within=sub_box)
    timings["candidates_s"] = time.perf_counter() - t
    print(f"  {len(candidates)} candidate sites every ~{args.candidate_spacing_m:g} m "
          "along the streets")

    t = time.perf_counter()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", cp.CareplanWarning)
        plan = cp.plan_layout(areas, facilities, candidates, net, standard=args.standard,
                              p=args.p, model=args.model, time_limit_s=args.time_limit_s,
                              lang=args.lang, fallback_candidates=False)
    for w in caught:
        if issubclass(w.category, cp.CareplanWarning):
            print(f"  note: {w.message}")
        else:
            warnings.warn_explicit(w.message, w.category, w.filename, w.lineno)
    timings["plan_s"] = time.perf_counter() - t

    assumptions = _assumptions(args, blocks, status)
    plan = dataclasses.replace(plan, parameters={**plan.parameters, **assumptions})
    t = time.perf_counter()
    paths = plan.to_file(args.out, lang=args.lang)
    status.to_csv(args.out / "facilities_status.csv", index=False, encoding="utf-8-sig")
    blocks.to_file(args.out / "blocks.gpkg", layer="blocks", driver="GPKG")
    (args.out / "assumptions.md").write_text(
        "# Central-Shanghai case: assumptions\n\n" +
        "\n".join(f"- **{k}**: {v}" for k, v in assumptions.items()) +
        "\n\nMap data © OpenStreetMap contributors (ODbL).\n", encoding="utf-8")
    timings["write_s"] = time.perf_counter() - t
    timings["total_s"] = time.perf_counter() - t_all

    s = plan.summary.set_index("metric")
    hh_share = (float(s.at["households_covered_share", "before"]),
                float(s.at["households_covered_share", "after"]))
    print("\nbefore -> after")
    for m in ("households_covered_share", "elderly_covered_share"):
        if m in s.index:
            print(f"  {s.at[m, 'label_en']}: {_fmt_share(s.at[m, 'before'])} -> "
                  f"{_fmt_share(s.at[m, 'after'])}")
    for m in ("areas_compliant", "deficit_m2", "new_stations", "expansions",
              "new_floor_area_m2"):
        print(f"  {s.at[m, 'label_en']}: {s.at[m, 'before']:,.0f} -> {s.at[m, 'after']:,.0f}")
    gap = plan.parameters["solver_gap"]
    unresolved = [a for a in str(plan.parameters["unresolved_deficit_areas"]).split(", ")
                  if a and a != "none"]
    unreachable = [a for a in str(plan.parameters["unreachable_areas"]).split(", ")
                   if a and a != "none"]
    print(f"  model {plan.parameters['model']}: {plan.parameters['solver_status']}"
          + (f", gap {100 * gap:.1f} %" if gap is not None and np.isfinite(gap) else ""))
    print(f"  areas left with a deficit (no station within reach): {len(unresolved)}"
          + (f" ({', '.join(unresolved[:5])}{' ...' if len(unresolved) > 5 else ''}; "
             "all listed in the report)" if unresolved else ""))
    print(f"  areas no site reaches: {len(unreachable)}")
    print("timings: " + ", ".join(f"{k} {v:.1f}" for k, v in timings.items()))
    print(f"wrote {args.out}/: " + ", ".join(sorted(p.name for p in paths.values())) +
          ", facilities_status.csv, blocks.gpkg, assumptions.md")
    print("Map data © OpenStreetMap contributors (ODbL).")
    return {"plan": plan, "areas": areas, "blocks": blocks, "facilities": facilities,
            "status": status, "candidates": candidates, "paths": paths,
            "timings": timings, "households_covered_share": hh_share,
            "unresolved_deficit_areas": unresolved, "unreachable_areas": unreachable}


def _assumptions(args: argparse.Namespace, blocks: gpd.GeoDataFrame,
                 status: pd.DataFrame) -> dict[str, str]:
    cats = "; ".join(f"{c} -> {lv}, {fa:g} m2, {b} beds ({why})"
                     for c, (lv, fa, b, why) in CATEGORY_LEVELS.items())
    counts = ", ".join(f"{k} {v}" for k, v in blocks["reason"].value_counts().items())
    excl = status[~status["used"]]
    return {
        "case_study_area": ("convex hull of the largest connected component of the OSM "
                            "roads (shanghai_center_roads_overpass_2025-08-09.osm)" +
                            ("; --quick: blocks and candidates within a "
                             f"{2 * QUICK_HALF_SIZE_M / 1000:g} km square around People's "
                             "Square" if args.quick else "")),
        "case_areas": (f"ASSUMED: street blocks polygonized from the road lines, kept "
                       f"when {MIN_BLOCK_HA} <= area <= {MAX_BLOCK_HA} ha and compactness "
                       f">= {MIN_COMPACTNESS} ({counts}); all built='existing'"),
        "case_households": (f"ASSUMED gross density {args.households_per_ha:.1f} households/ha "
                            "of block = 6,683,712 residents of the 7 central districts (2020 "
                            "census) / 289.44 km2 x 89.9 % in family households / 2.32 "
                            "persons per household (2020 census); uniform over every kept "
                            "block"),
        "case_elderly": (f"ASSUMED elderly = households x {PERSONS_PER_HOUSEHOLD} x "
                         f"{args.share_60_plus:g} (60+ share; 0.234 = Shanghai residents, "
                         "2020 census; registered population: 0.352, end of 2019)"),
        "case_facilities": ("iacc-map list (one operator's map, not a census), GCJ-02 "
                            f"converted to WGS84; category -> level, ASSUMED floor area: "
                            f"{cats}"),
        "case_facilities_excluded": "; ".join(
            f"{r.facility_id} {r.name} ({r.reason})" for r in excl.itertuples()),
        "case_candidates": (f"points along the streets every ~{args.candidate_spacing_m:g} m "
                            "(middles of equal pieces of each edge), at most one per "
                            f"{args.candidate_spacing_m:g} m grid cell"),
    }


if __name__ == "__main__":
    main(sys.argv[1:])
