"""Build the inputs of the central-Shanghai example from the shared real data.

Usage (from the repository root)::

    python examples/shanghai_central/build_inputs.py        # rewrites the files here
    careplan plan examples/shanghai_central/plan.toml       # then plan

A 2 km x 2 km square around People's Square (Huangpu / Jing'an; centre 121.4737 E,
31.2304 N) of the shared central-Shanghai data: the OSM roads
(``shanghai_center_roads_overpass_2025-08-09.osm``, roads only: no buildings, landuse or
footways; © OpenStreetMap contributors, ODbL 1.0) and one operator's list of elderly-care
organisations (``shanghai_elderly_care_orgs_iacc.csv``, GCJ-02). The method and every
assumed figure are those of ``examples/shanghai_case.py`` (read its docstring), reused here:

* ``areas.geojson``: street blocks polygonized from the roads
  (:func:`careplan.derive.blocks_from_network`; 0.25-30 ha, compactness >= 0.2) whose
  representative point lies in the square; households = block area x 89.4 households/ha
  (2020 census gross density), elderly = households x 2.32 x 23.4 %; all ``existing``.
  ESTIMATES, uniform over offices and shops too.
* ``facilities.csv``: the rows of the list inside the square with the case's ASSUMED
  level, floor area and beds per category, coordinates kept in GCJ-02 as the list gives
  them (the config declares ``coord_system = "gcj02"``).
* ``candidates.geojson``: points along the streets about every 200 m
  (:func:`careplan.derive.road_candidates`) inside the square.
* ``streets.geojson``: **example** street polygons, NOT the real 街道 boundaries (the
  extract holds no boundary relations; the real streets here are 南京东路, 外滩, 南京西路,
  ... whose polygons are not in the shared data): the square cut into a 2 x 2 grid named
  示例街道西北 / 东北 / 西南 / 东南. Replace the file with the real polygons.
"""

from __future__ import annotations

import argparse
import sys
import warnings
from pathlib import Path

import geopandas as gpd
import shapely

import careplan as cp

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))
import shanghai_case as case  # noqa: E402  (the method and assumptions of the full case)

DATA = case.DEFAULT_DATA_DIR
HALF_SIZE_M = 1000.0
GRID_NAMES = (("示例街道西南", "示例街道东南"), ("示例街道西北", "示例街道东北"))  # [row][col], south first


def square(crs) -> shapely.Geometry:
    """The 2 km x 2 km square around People's Square, in ``crs``."""
    c = gpd.GeoSeries(gpd.points_from_xy([case.QUICK_CENTRE_LONLAT[0]],
                                         [case.QUICK_CENTRE_LONLAT[1]]),
                      crs="EPSG:4326").to_crs(crs).iloc[0]
    return shapely.box(c.x - HALF_SIZE_M, c.y - HALF_SIZE_M, c.x + HALF_SIZE_M,
                       c.y + HALF_SIZE_M)


def grid(box: shapely.Geometry, crs) -> gpd.GeoDataFrame:
    """``box`` cut into the 2 x 2 example streets."""
    x0, y0, x1, y1 = box.bounds
    xm, ym = (x0 + x1) / 2, (y0 + y1) / 2
    xs, ys = ((x0, xm), (xm, x1)), ((y0, ym), (ym, y1))
    rows = [(GRID_NAMES[r][c], shapely.box(xs[c][0], ys[r][0], xs[c][1], ys[r][1]))
            for r in range(2) for c in range(2)]
    return gpd.GeoDataFrame({"name": [n for n, _ in rows]}, geometry=[g for _, g in rows],
                            crs=crs)


def build(data: Path = DATA, out: Path = HERE) -> dict[str, Path]:
    """Derive the inputs and write them (GeoJSON in EPSG:4326; the facility CSV in GCJ-02)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", cp.CareplanWarning)
        net = cp.WalkNetwork.from_file(data / case.OSM_FILE)
        box = square(net.crs)
        blocks = case.blocks_from_network(net)
        inside = blocks.representative_point().within(box)
        areas = case.block_demand(blocks.assign(kept=blocks["kept"] & inside))
        facilities, status = case.read_shanghai_facilities(data / case.FACILITY_FILE, box,
                                                           net.crs)
        cands = case.road_candidates(net, within=box)
    files = {"areas": out / "areas.geojson", "candidates": out / "candidates.geojson",
             "streets": out / "streets.geojson", "facilities": out / "facilities.csv"}
    for path, gdf in ((files["areas"], areas[["area_id", "households", "elderly", "built",
                                              "geometry"]]),
                      (files["candidates"], cands[["candidate_id", "geometry"]]),
                      (files["streets"], grid(box, net.crs))):
        gdf.to_crs("EPSG:4326").to_file(path, driver="GeoJSON", COORDINATE_PRECISION=7,
                                         index=False)
    src = status.set_index("facility_id").loc[facilities.index]
    raw = case.pd.read_csv(data / case.FACILITY_FILE, dtype={"id": str})
    raw.index = "iacc-" + raw["id"]
    table = case.pd.DataFrame({
        "facility_id": facilities.index, "name": src["name"].to_numpy(),
        "level": src["level"].to_numpy(), "floor_area_m2": src["floor_area_m2_assumed"],
        "beds": src["beds_assumed"].to_numpy(), "category": src["category"].to_numpy(),
        "lon_gcj02": raw.loc[facilities.index, "lng_gcj02"].to_numpy(),
        "lat_gcj02": raw.loc[facilities.index, "lat_gcj02"].to_numpy()})
    table.rename(columns={"lon_gcj02": "lon", "lat_gcj02": "lat"}).to_csv(
        files["facilities"], index=False, encoding="utf-8")
    return files


if __name__ == "__main__":
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--data-dir", type=Path, default=DATA)
    args = ap.parse_args()
    for kind, path in build(args.data_dir).items():
        print(f"{kind}: {path}")
