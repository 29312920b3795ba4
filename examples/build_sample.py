"""Build the bundled ``nanjing_xuanwu`` sample from a real OpenStreetMap extract.

Usage::

    python examples/build_sample.py [OSM_FILE] [OUT_DIR]

Defaults: ``../shared/data/nanjing_xuanwu/nanjing_xuanwu_overpass_2021-06-12.osm``
(relative to the repository) and ``src/careplan/datasets``. The build is
deterministic: running it again reproduces the same layers (tested in
``tests/test_datasets.py``).

Input: OSM (Overpass, osm_base 2021-06-12), central Nanjing around Xinjiekou,
© OpenStreetMap contributors, ODbL 1.0. It has buildings, 11 landuse=residential
polygons and streets, but no elderly-care facilities and no household counts, so
parts of the sample are *derived with stated assumptions* or *illustrative*:

Areas (layer ``areas``)
    1. every ``landuse=residential`` polygon is an area (``lu-<way id>``); where two
       overlap in OSM, the overlap stays with the lower way id;
    2. the extract is cut into street blocks by the public streets (highway =
       trunk/primary/secondary/tertiary/unclassified/residential/living_street and
       links) and its bounding box; the part of a block outside the landuse polygons
       becomes an area (``blk-NN``) when it holds at least
       ``MIN_RESIDENTIAL_BUILDINGS`` residential-like buildings or at least one
       building tagged residential/apartments/house/dormitory/terrace. It is clipped to
       ``HULL_BUFFER_M`` around the convex hull of those buildings (blocks on the
       extract's edge would otherwise reach into unmapped land).
    ``source`` says which rule made the area.
Residential-like buildings
    ``building`` in {residential, apartments, house, dormitory, terrace}; or
    ``building=yes`` inside a residential landuse polygon; or ``building=yes`` with no
    name, no amenity/shop/office/tourism/leisure/healthcare tag, footprint <=
    ``MAX_IMPLICIT_FOOTPRINT_M2``, fewer than ``MAX_IMPLICIT_LEVELS`` levels and not inside non-residential landuse or
    school/hospital/university grounds. An assumption, not a fact.
Households
    :func:`careplan.estimate_households` with its documented defaults (90 m2 per
    dwelling, 6 levels when untagged, 0.9 residential share), summed per area by
    :func:`careplan.aggregate_households` (a building counts in the area holding its
    representative point).
Elderly
    ``elderly = round(households x ELDERLY_PER_HOUSEHOLD)``, 0.47 = 2.47 persons per
    family household x 19.0 % aged 60+ (Nanjing, 2020 7th census, as we recall the
    published bulletin; stated as an assumption, not verified here).
built
    'new' when at least half of the area's estimated residential floor area is in
    buildings with >= 10 levels known from ``building:levels`` or ``height`` (high-rise estates in the old town date mostly
    from after 2000), else 'existing' (walk-up 老旧小区). A reproducible proxy only.
district
    From the admin_level=6 boundary ways in the extract (extended to the extract's
    edge), labelled by the ``addr:district`` tags and district government offices
    inside each part (玄武区, 秦淮区); the part with no tag (north of 汉中路, west of
    中山路) is 鼓楼区 by its position. No street (街道) boundaries are in the extract,
    so no ``street`` column.
Facilities (layer ``facilities``): ILLUSTRATIVE ONLY (``source='illustrative'``)
    placed at real OSM features (see ``FACILITIES``) with assumed floor areas and beds;
    ``district`` from the district polygons above.
Candidates (layer ``candidates``)
    Representative points of non-residential-like buildings with footprint >= 150 m2
    (not school/university/college/hospital/kindergarten buildings),
    at most one per 250 m grid cell (the largest), ``max_floor_area_m2`` =
    min(footprint x levels, 2000).
    ``amenity``, ``office``, ``shop``, ``tourism``: the building's own OSM tags, plus
    ``CURATED_TAGS`` (buildings OSM tags only ``building=yes`` + a name: a school, a
    bureau, a court), ``tag_source`` says which.
Network: ``nanjing_xuanwu.osm.bz2`` = the original OSM file, bz2-compressed.
"""

from __future__ import annotations

import bz2
import sys
import warnings
from pathlib import Path

import geopandas as gpd
import numpy as np
import osmnx as ox
import pandas as pd
import shapely

REPO = Path(__file__).resolve().parents[1]
DEFAULT_OSM = REPO.parent / "shared" / "data" / "nanjing_xuanwu" / "nanjing_xuanwu_overpass_2021-06-12.osm"
DEFAULT_OUT = REPO / "src" / "careplan" / "datasets"

CRS = "EPSG:32650"  # WGS 84 / UTM zone 50N (Nanjing is at 118.8 E)
MIN_RESIDENTIAL_BUILDINGS = 5
MAX_IMPLICIT_FOOTPRINT_M2 = 3000.0
MAX_IMPLICIT_LEVELS = 20  # untagged towers at Xinjiekou are mostly offices/hotels
HULL_BUFFER_M = 20.0
ELDERLY_PER_HOUSEHOLD = 0.47
HIGH_RISE_LEVELS = 10
CANDIDATE_MIN_FOOTPRINT_M2 = 150.0
CANDIDATE_GRID_M = 250.0
CANDIDATE_MAX_FLOOR_AREA_M2 = 2000.0

STREET_CLASSES = {
    "trunk", "primary", "secondary", "tertiary", "unclassified", "residential",
    "living_street", "trunk_link", "primary_link", "secondary_link", "tertiary_link",
}
EXPLICIT_RESIDENTIAL = {"residential", "apartments", "house", "dormitory", "terrace"}
NON_RESIDENTIAL_TAGS = ["amenity", "shop", "office", "tourism", "leisure", "healthcare", "name"]
NON_RESIDENTIAL_GROUNDS = {"school", "university", "college", "hospital", "kindergarten"}
#: Use tags of a candidate's building carried into the candidates layer.
USE_TAGS = ["amenity", "office", "shop", "tourism"]
#: Buildings OSM tags only building=yes + a name that says their use (set by hand, the
#: plan never reads names): osm_ref -> (tag, value).
CURATED_TAGS = {"way/680512978": ("amenity", "school"),       # 石鼓路小学
                "way/322655633": ("office", "government"),    # 江苏省烟草专卖局
                "way/857726120": ("office", "government"),    # 南京市规划和自然资源局
                "way/156068417": ("amenity", "courthouse")}   # people's court

# Illustrative facilities: (facility_id, level, OSM element, OSM id, floor_area_m2, beds,
# nursing_beds, name). Placed at real OSM features; every number is assumed.
FACILITIES = [
    ("F01", "district", "relation", 2171965, 1500.0, 0, 0, "玄武区养老服务中心 (illustrative)"),
    ("F02", "street", "node", 2327962138, 600.0, 0, 0, "街道综合养老服务中心 (illustrative)"),
    ("F03", "community", "way", 857726131, 180.0, 0, 0, "华侨路社区养老服务站 (illustrative)"),
    ("F04", "community", "way", 429810970, 120.0, 0, 0, "社区养老服务站 (illustrative)"),
    ("F05", "institution", "way", 318197090, 2400.0, 150, 90, "护理院 (illustrative)"),
    ("F06", "canteen", "node", None, 80.0, 0, 0, "长者饭堂 (illustrative)"),
    ("F07", "other", "node", 4697397790, 200.0, 10, 4, "日间照料中心 (illustrative)"),
]

AREA_COLUMNS = ["area_id", "name", "households", "elderly", "built", "district",
                "n_buildings", "residential_floor_area_m2", "source"]


def _district_polygons(feats: gpd.GeoDataFrame, frame: shapely.Polygon) -> gpd.GeoDataFrame:
    adm = feats[(feats.get("admin_level") == "6") & feats.geom_type.isin(["LineString", "MultiLineString"])]
    lines = shapely.line_merge(shapely.union_all(adm.geometry.to_numpy()).intersection(frame))
    parts = list(getattr(lines, "geoms", [lines]))
    extended = []
    reach = 10 * max(frame.bounds[2] - frame.bounds[0], frame.bounds[3] - frame.bounds[1])
    ends = [shapely.Point(c) for part in parts for c in (part.coords[0], part.coords[-1])]
    for part in parts:
        coords = list(part.coords)
        for a, b in ((coords[1], coords[0]), (coords[-2], coords[-1])):
            end = shapely.Point(b)
            touches = sum(end.distance(e) < 1e-6 for e in ends) > 1
            if end.distance(frame.exterior) < 1.0 or touches:
                continue
            d = np.subtract(b, a)
            d = d / np.hypot(*d)
            extended.append(shapely.LineString([b, tuple(np.add(b, d * reach))]).intersection(frame))
    net = shapely.union_all(parts + extended + [frame.exterior])
    polys = gpd.GeoDataFrame(geometry=list(shapely.polygonize([net]).geoms), crs=feats.crs)
    polys = polys[polys.area > 1e4].reset_index(drop=True)
    tagged = feats[feats.get("addr:district").notna()].copy()
    votes = tagged.representative_point()
    labels = []
    for poly in polys.geometry:
        inside = tagged.loc[votes.within(poly).to_numpy(), "addr:district"]
        halls = feats[(feats.get("amenity") == "townhall") & feats.representative_point().within(poly)]
        names = list(inside) + [n[:3] for n in halls["name"].dropna() if n.endswith(("区政府", "区人民政府"))]
        labels.append(pd.Series(names).mode().iloc[0] if names else "鼓楼区")
    polys["district"] = labels
    return polys


def build(osm_path: Path = DEFAULT_OSM, out_dir: Path = DEFAULT_OUT, *, quiet: bool = True) -> dict:
    """Build the sample into ``out_dir``; return the three layers (EPSG:32650)."""
    import careplan as cp

    osm_path = Path(osm_path)
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    feats = ox.features_from_xml(osm_path).to_crs(CRS)
    feats = feats.sort_index()
    streets = feats[feats["highway"].isin(STREET_CLASSES) & feats.geom_type.isin(["LineString", "MultiLineString"])]
    frame = shapely.box(*streets.total_bounds)

    # ---------------------------------------------------------------- buildings
    bld = feats[feats["building"].notna() & feats.geom_type.isin(["Polygon", "MultiPolygon"])].copy()
    bld.index = [f"{e}/{i}" for e, i in bld.index]
    landuse = feats[feats["landuse"].notna() & feats.geom_type.isin(["Polygon", "MultiPolygon"])]
    res_lu = landuse[landuse["landuse"] == "residential"]
    nonres_lu = landuse[landuse["landuse"] != "residential"]
    grounds = feats[feats["amenity"].isin(NON_RESIDENTIAL_GROUNDS) & feats.geom_type.isin(["Polygon", "MultiPolygon"])
                    & feats["building"].isna()]
    rep = bld.representative_point()
    in_res_lu = rep.within(shapely.union_all(res_lu.geometry.to_numpy()))
    in_nonres = rep.within(shapely.union_all(list(nonres_lu.geometry) + list(grounds.geometry)))
    untagged = bld[[c for c in NON_RESIDENTIAL_TAGS if c in bld.columns]].isna().all(axis=1)
    explicit = bld["building"].isin(EXPLICIT_RESIDENTIAL)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", cp.CareplanWarning)
        levels = cp.estimate_households(bld)["levels"]
    implicit = (bld["building"] == "yes") & (
        in_res_lu
        | (untagged & ~in_nonres & (bld.area <= MAX_IMPLICIT_FOOTPRINT_M2) & (levels < MAX_IMPLICIT_LEVELS))
    )
    bld["residential_like"] = explicit | implicit
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", cp.CareplanWarning)
        est = cp.estimate_households(bld[bld["residential_like"]])

    # ---------------------------------------------------------------- areas
    areas = []
    taken = shapely.Polygon()
    for (_, osm_id), row in res_lu.iterrows():  # sorted by way id; overlaps stay with the lower id
        geom = row.geometry.difference(taken)
        taken = taken.union(row.geometry)
        areas.append({"area_id": f"lu-{osm_id}", "name": row.get("name"), "source": "osm landuse=residential",
                      "geometry": geom})
    lines = shapely.union_all(list(streets.geometry.intersection(frame)) + [frame.exterior])
    blocks = list(shapely.polygonize([lines]).geoms)
    lu_union = shapely.union_all(res_lu.geometry.to_numpy())
    est_pts = gpd.GeoSeries(est.representative_point(), crs=CRS)
    block_rows = []
    for blk in blocks:
        rest = blk.difference(lu_union)
        if rest.is_empty:
            continue
        inside = est[est_pts.within(rest).to_numpy()]
        n_explicit = int(inside["building"].isin(EXPLICIT_RESIDENTIAL).sum())
        if len(inside) >= MIN_RESIDENTIAL_BUILDINGS or n_explicit >= 1:
            # edge blocks are closed by the extract's frame: keep the built-up part only
            hull = shapely.union_all(inside.geometry.to_numpy()).convex_hull.buffer(HULL_BUFFER_M)
            rest = rest.intersection(hull)
            c = rest.representative_point()
            block_rows.append((-round(c.y, 0), round(c.x, 0), rest))
    block_rows.sort(key=lambda t: (t[0], t[1]))
    for k, (_, _, geom) in enumerate(block_rows, start=1):
        areas.append({"area_id": f"blk-{k:02d}", "name": None, "source": "street block with residential-like buildings",
                      "geometry": shapely.normalize(geom)})
    areas = gpd.GeoDataFrame(areas, geometry="geometry", crs=CRS)
    areas["geometry"] = shapely.set_precision(areas.geometry.to_numpy(), 0.01)
    areas = areas.set_index("area_id", drop=False)
    areas.index.name = None

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", cp.CareplanWarning)
        agg = cp.aggregate_households(est, areas, households_id_col=None)
    outside = agg.attrs["careplan"]["unassigned"]
    areas["households"] = agg["households"].astype(np.int64)
    pos = gpd.sjoin(gpd.GeoDataFrame(est[["floor_area_m2", "levels", "levels_source"]], geometry=est_pts, crs=CRS),
                    areas[["area_id", "geometry"]], predicate="intersects").drop_duplicates(subset=None)
    pos = pos[~pos.index.duplicated(keep="first")]
    g = pos.groupby("area_id")
    areas["n_buildings"] = g.size().reindex(areas.index, fill_value=0).astype(np.int64)
    areas["residential_floor_area_m2"] = g["floor_area_m2"].sum().reindex(areas.index, fill_value=0.0).round(1)
    tall = pos["levels_source"].ne("default") & (pos["levels"] >= HIGH_RISE_LEVELS)
    tall_share = (pos["floor_area_m2"] * tall).groupby(pos["area_id"]).sum().reindex(areas.index, fill_value=0.0)
    share = tall_share / areas["residential_floor_area_m2"].where(areas["residential_floor_area_m2"] > 0)
    areas["built"] = np.where(share.fillna(0) >= 0.5, "new", "existing")
    areas["elderly"] = np.rint(areas["households"] * ELDERLY_PER_HOUSEHOLD).astype(np.int64)
    dpolys = _district_polygons(feats, frame)
    arep = gpd.GeoDataFrame(geometry=areas.representative_point(), crs=CRS)
    dj = gpd.sjoin(arep, dpolys, predicate="within")
    areas["district"] = dj["district"].reindex(areas.index)
    areas = areas[AREA_COLUMNS + ["geometry"]].sort_index()

    # ---------------------------------------------------------------- facilities
    rows = []
    restaurants = feats.loc["node"]
    restaurants = restaurants[(restaurants["amenity"] == "restaurant")]
    blk_union = shapely.union_all(areas.geometry.to_numpy())
    restaurants = restaurants[restaurants.within(blk_union)].sort_index()
    for fid, level, elem, osm_id, fa, beds, nb, name in FACILITIES:
        if osm_id is None:  # canteen: first restaurant (lowest node id) inside a residential area
            osm_id = int(restaurants.index[0])
        geom = feats.loc[(elem, osm_id)].geometry
        if elem == "way" and feats.loc[(elem, osm_id)].get("landuse") == "residential":
            # a station inside an estate: at the largest residential building of the estate
            inside = est[est_pts.within(geom).to_numpy()]
            geom = inside.geometry.iloc[int(np.argmax(inside.area.to_numpy()))]
        rows.append({"facility_id": fid, "name": name, "level": level, "floor_area_m2": fa, "beds": beds,
                     "nursing_beds": nb, "source": "illustrative", "osm_ref": f"{elem}/{osm_id}",
                     "geometry": geom.representative_point()})
    facilities = gpd.GeoDataFrame(rows, geometry="geometry", crs=CRS).set_index("facility_id", drop=False)
    facilities.index.name = None
    fj = gpd.sjoin(facilities[["geometry"]], dpolys, predicate="within")
    facilities.insert(3, "district", fj["district"].reindex(facilities.index))

    # ---------------------------------------------------------------- candidates
    cand = bld[~bld["residential_like"] & (bld.area >= CANDIDATE_MIN_FOOTPRINT_M2)
               & ~bld["building"].isin(NON_RESIDENTIAL_GROUNDS)].copy()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", cp.CareplanWarning)
        cand_est = cp.estimate_households(cand)
    cand["footprint_m2"] = cand_est["footprint_m2"]
    cand["max_floor_area_m2"] = np.minimum(cand_est["floor_area_m2"], CANDIDATE_MAX_FLOOR_AREA_M2).round(0)
    pts = cand.representative_point()
    cand["cell"] = [f"{int(p.x // CANDIDATE_GRID_M)}_{int(p.y // CANDIDATE_GRID_M)}" for p in pts]
    cand["osm_ref"] = cand.index
    cand = cand.sort_values(["cell", "footprint_m2", "osm_ref"], ascending=[True, False, True])
    cand = cand.drop_duplicates("cell", keep="first").sort_values("osm_ref")
    candidates = gpd.GeoDataFrame(
        {"candidate_id": [f"C{k:03d}" for k in range(1, len(cand) + 1)],
         "name": cand["name"].to_numpy() if "name" in cand else None,
         "building": cand["building"].to_numpy(),
         "max_floor_area_m2": cand["max_floor_area_m2"].to_numpy(),
         "osm_ref": cand["osm_ref"].to_numpy()},
        geometry=shapely.set_precision(cand.representative_point().to_numpy(), 0.01), crs=CRS,
    )
    candidates.index = candidates["candidate_id"].to_numpy()
    # the building's own use tags (the plan leaves out schools, offices, banks, shops, ...:
    # careplan.plan._unsuitable.UNSUITABLE_TAGS), then the curated ones (CURATED_TAGS)
    source = pd.Series(None, index=candidates.index, dtype=object)
    for col in USE_TAGS:
        own = cand[col].to_numpy() if col in cand.columns else [None] * len(cand)
        candidates[col] = pd.Series(own, index=candidates.index, dtype=object).where(
            lambda v: v.notna(), None)
        source = source.where(source.notna() | candidates[col].isna(), "osm")
    for ref, (col, value) in CURATED_TAGS.items():
        hit = candidates.index[candidates["osm_ref"] == ref]
        candidates.loc[hit, col] = value
        source.loc[hit] = "curated from the name; OSM has building=yes only"
    candidates["tag_source"] = source
    facilities["geometry"] = shapely.set_precision(facilities.geometry.to_numpy(), 0.01)

    # ---------------------------------------------------------------- write
    gpkg = out_dir / "sample.gpkg"
    if gpkg.exists():
        gpkg.unlink()
    areas.to_file(gpkg, layer="areas", driver="GPKG", index=False)
    facilities.to_file(gpkg, layer="facilities", driver="GPKG", index=False)
    candidates.to_file(gpkg, layer="candidates", driver="GPKG", index=False)
    with open(osm_path, "rb") as fh, bz2.open(out_dir / "nanjing_xuanwu.osm.bz2", "wb", compresslevel=9) as out:
        out.write(fh.read())
    summary = {
        "areas": len(areas), "landuse_areas": int(areas["source"].str.startswith("osm").sum()),
        "households": int(areas["households"].sum()), "elderly": int(areas["elderly"].sum()),
        "new": int((areas["built"] == "new").sum()), "facilities": len(facilities),
        "candidates": len(candidates), "buildings": len(bld),
        "residential_like": int(bld["residential_like"].sum()),
        "residential_outside_areas": len(outside),
        "districts": areas["district"].value_counts().to_dict(),
        "warnings": [str(w.message) for w in caught if "outside" not in str(w.message)],
    }
    if not quiet:
        for k, v in summary.items():
            print(f"{k}: {v}")
    return {"areas": areas, "facilities": facilities, "candidates": candidates, "summary": summary}


if __name__ == "__main__":
    osm = Path(sys.argv[1]) if len(sys.argv) > 1 else DEFAULT_OSM
    out = Path(sys.argv[2]) if len(sys.argv) > 2 else DEFAULT_OUT
    build(osm, out, quiet=False)
