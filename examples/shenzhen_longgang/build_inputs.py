"""Build the inputs of the Shenzhen Longgang example from the shared OSM extract.

Usage (from the repository root)::

    python examples/shenzhen_longgang/build_inputs.py        # rewrites the three files here
    careplan plan examples/shenzhen_longgang/plan.toml       # then plan

Source: ``../shared/data/shenzhen_longgang/shenzhen_longgang_osmapi_2019.osm`` (real OSM,
an OpenStreetMap API export of 2019, part of Longgang district, Shenzhen; © OpenStreetMap
contributors, ODbL 1.0). Everything below is derived from it with :mod:`careplan.derive`;
the figures are ESTIMATES of this example, not data.

* ``areas.geojson``: residential areas = clusters of residential buildings
  (:func:`careplan.derive.areas_from_buildings`, buildings tagged residential/apartments/
  house/... and the untyped ``building=yes``, 30 m gap), households estimated from
  their footprints (:func:`careplan.estimate_households` defaults); every area
  ``built='existing'``. The extract has no estate names and no elderly counts.
* ``candidates.geojson``: community-facing buildings and amenities
  (:func:`careplan.derive.candidates_from_osm`, towers, commercial and industrial
  buildings excluded) plus points along the streets every 300 m
  (:func:`careplan.derive.road_candidates`).
* ``streets.geojson``: **example** street polygons, NOT the real 街道 boundaries. The
  extract's only admin_level=8 relation (凤岗镇, Dongguan, relation 4424350) is clipped
  (:func:`careplan.data.boundaries_from_osm` reports it open: 4 of its 5 member ways are
  outside the extract; its one way present, the Shenzhen-Dongguan border, crosses only
  the western 9 % of the extract, where no residential building lies). The extract is
  therefore split by a documented grid: the longitude/latitude box around every network
  edge, area and candidate (a little larger than the extract's ``<bounds>``, since an
  API export holds whole ways) cut in two equal halves at its middle longitude, named
  示例街道西 (west) / 示例街道东 (east), each clipped to 龙岗区 below (streets lie in
  their district).
* ``districts.geojson``: 龙岗区 (Longgang District, relation 5664102), REAL on the side
  the extract shows: the box above cut by the one admin boundary way of the extract
  (way 318806388, the Shenzhen-Dongguan border, member of the 龙岗区, 深圳市, 东莞市
  and 凤岗镇 relations); the piece holding the box's east edge is 龙岗区, the western
  strip (9 % of the box, no residential area) is 凤岗镇 of Dongguan and is left out
  (areas there would be reported as in no district). The box's other edges are the
  extract's, not the district's. Replace the file with the real
  street polygons (e.g. from the district's planning bureau) and plan again.

The existing facilities are not known (the extract has no elderly-care POIs): the plan
starts from nothing.
"""

from __future__ import annotations

import argparse
import warnings
import xml.etree.ElementTree as ET
from pathlib import Path

import geopandas as gpd
import pandas as pd
import shapely
import shapely.ops

import careplan as cp
import careplan.data
from careplan import derive

HERE = Path(__file__).resolve().parent
OSM = HERE.parents[1].parent / "shared" / "data" / "shenzhen_longgang" / \
    "shenzhen_longgang_osmapi_2019.osm"
STREET_NAMES = ("示例街道西", "示例街道东")


def halves(*frames: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """The box around ``frames`` cut in two at its middle longitude (EPSG:4326)."""
    x0, y0, x1, y1 = pd.concat([f.geometry.to_crs("EPSG:4326") for f in frames]).total_bounds
    mid = (x0 + x1) / 2
    return gpd.GeoDataFrame({"name": list(STREET_NAMES)}, geometry=[
        shapely.box(x0, y0, mid, y1), shapely.box(mid, y0, x1, y1)], crs="EPSG:4326")


BORDER_WAY = "318806388"
DISTRICT_NAME = "龙岗区"


def longgang(osm: Path, box: shapely.Geometry) -> gpd.GeoDataFrame:
    """The piece of ``box`` (EPSG:4326) east of the border way: 龙岗区."""
    root = ET.parse(osm).getroot()
    nodes = {n.get("id"): (float(n.get("lon")), float(n.get("lat"))) for n in root.iter("node")}
    way = next(w for w in root.iter("way") if w.get("id") == BORDER_WAY)
    border = shapely.LineString([nodes[nd.get("ref")] for nd in way.iter("nd")])
    pieces = list(shapely.ops.split(box, border).geoms)
    east = max(pieces, key=lambda p: p.bounds[2] - 1e-9 * p.bounds[0])
    return gpd.GeoDataFrame({"name": [DISTRICT_NAME]}, geometry=[east], crs="EPSG:4326")


def build(osm: Path = OSM, out: Path = HERE) -> dict[str, Path]:
    """Derive areas, candidates and example streets; write them as GeoJSON (EPSG:4326)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", cp.CareplanWarning)
        net = cp.WalkNetwork.from_file(osm)
        buildings = careplan.data.buildings_from_osm(osm)
        areas = derive.areas_from_buildings(
            buildings, types=derive.RESIDENTIAL_BUILDINGS + ("yes",), crs=net.crs)
        cands = pd.concat([derive.candidates_from_osm(osm, crs=net.crs),
                           derive.road_candidates(net, spacing_m=300)])
    streets = halves(net.edges, areas, cands)
    districts = longgang(osm, shapely.union_all(streets.geometry.to_numpy()))
    streets = streets.assign(geometry=streets.intersection(districts.geometry.iloc[0]))
    files = {"areas": out / "areas.geojson", "candidates": out / "candidates.geojson",
             "streets": out / "streets.geojson", "districts": out / "districts.geojson"}
    for path, gdf in zip(files.values(), (
            areas[["area_id", "households", "built", "geometry"]],
            cands[["candidate_id", "name", "geometry"]], streets, districts), strict=True):
        gdf.to_crs("EPSG:4326").to_file(path, driver="GeoJSON", COORDINATE_PRECISION=7,
                                        index=False)
    return files


if __name__ == "__main__":
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--osm", type=Path, default=OSM)
    args = ap.parse_args()
    for kind, path in build(args.osm).items():
        print(f"{kind}: {path}")
