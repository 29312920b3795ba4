"""Tests for careplan.coverage on hand-built street grids with hand counts."""

from __future__ import annotations

import warnings

import geopandas as gpd
import networkx as nx
import numpy as np
import pandas as pd
import pytest
import shapely
from shapely.geometry import LineString, Point, Polygon

from careplan._errors import CareplanWarning, CRSError, InputError
from careplan.coverage import (
    DEFAULT_SPEED_M_PER_MIN,
    CoverageResult,
    service_areas,
    two_step_fca,
    walk_coverage,
)
from careplan.network import WalkNetwork

CRS = "EPSG:32651"


def grid_net(n: int = 5, spacing: float = 100.0) -> WalkNetwork:
    G = nx.Graph(crs=CRS)
    for i in range(n):
        for j in range(n):
            G.add_node((i, j), x=i * spacing, y=j * spacing)
            if i:
                G.add_edge((i - 1, j), (i, j), length=spacing)
            if j:
                G.add_edge((i, j - 1), (i, j), length=spacing)
    return WalkNetwork.from_graph(G)


def grid_areas(n: int = 5, spacing: float = 100.0) -> gpd.GeoDataFrame:
    ids = [f"A{i}{j}" for i in range(n) for j in range(n)]
    geom = [Point(i * spacing, j * spacing) for i in range(n) for j in range(n)]
    hh = [10 * (1 + i) for i in range(n) for j in range(n)]
    return gpd.GeoDataFrame({"area_id": ids, "households": hh, "elderly": [h // 5 for h in hh],
                             "built": "existing"}, geometry=geom, crs=CRS, index=ids)


def facilities(rows) -> gpd.GeoDataFrame:
    ids = [r[0] for r in rows]
    return gpd.GeoDataFrame({
        "facility_id": ids,
        "level": [r[1] for r in rows],
        "floor_area_m2": [r[2] for r in rows],
        "beds": 0,
    }, geometry=[Point(r[3]) for r in rows], crs=CRS, index=ids)


def test_coverage_hand_count():
    net = grid_net()
    areas = grid_areas()
    facs = facilities([("F1", "community", 300.0, (200, 200)),
                       ("F2", "institution", 500.0, (0, 0))])
    cov = walk_coverage(net, areas, facs, minutes=2, speed_m_per_min=100, levels=["community"])
    assert isinstance(cov, CoverageResult) and cov.cutoff_m == 200
    # grid nodes within 2 blocks (Manhattan) of the centre: 1 + 4 + 8 = 13
    hand = {f"A{i}{j}" for i in range(5) for j in range(5) if abs(i - 2) + abs(j - 2) <= 2}
    assert set(cov.areas.index[cov.areas["covered"]]) == hand
    a = cov.areas
    assert a.loc["A22", "nearest_distance_m"] == 0 and a.loc["A02", "nearest_distance_m"] == 200
    assert pd.isna(a.loc["A00", "nearest_facility"]) and np.isnan(a.loc["A00", "nearest_distance_m"])
    hh_hand = sum(10 * (1 + int(x[1])) for x in hand)
    assert cov.summary.loc["households", "covered"] == hh_hand
    assert cov.summary.loc["households", "total"] == areas["households"].sum()
    assert cov.summary.loc["areas", "covered"] == 13
    assert cov.summary.loc["areas", "share_covered"] == pytest.approx(13 / 25)
    assert cov.summary.loc["elderly", "covered"] == sum(2 * (1 + int(x[1])) for x in hand)
    assert len(cov.uncovered) == 12
    # all levels: F2 adds the 6 nodes within 200 m of the corner, 3 of them new
    cov2 = walk_coverage(net, areas, facs, cutoff_m=200)
    corner = {f"A{i}{j}" for i in range(5) for j in range(5) if i + j <= 2}
    assert set(cov2.areas.index[cov2.areas["covered"]]) == hand | corner
    assert cov2.areas.loc["A11", "n_within"] == 2 and cov2.areas.loc["A00", "n_within"] == 1
    assert cov2.minutes is None


def test_default_speed_and_minutes():
    net = grid_net()
    facs = facilities([("F", "community", 100.0, (0, 0))])
    cov = walk_coverage(net, grid_areas(), facs)
    assert cov.cutoff_m == 15 * DEFAULT_SPEED_M_PER_MIN == 900
    assert cov.areas["covered"].all()  # farthest corner: 800 m
    cov = walk_coverage(net, grid_areas(), facs, minutes=5, speed_m_per_min=60)
    hand = sum(1 for i in range(5) for j in range(5) if (i + j) * 100 <= 300)
    assert int(cov.areas["covered"].sum()) == hand
    for bad in ({"minutes": 0}, {"speed_m_per_min": -1}, {"cutoff_m": 0}):
        with pytest.raises(InputError):
            walk_coverage(net, grid_areas(), facs, **bad)


def test_coverage_unreachable_and_errors():
    net = grid_net()
    areas = grid_areas()
    far = gpd.GeoDataFrame({"area_id": ["FAR"], "households": [7], "elderly": [1],
                            "built": ["new"]},
                           geometry=[Point(9000, 9000)], crs=CRS, index=["FAR"])
    areas2 = pd.concat([areas, far])
    facs = facilities([("F", "community", 100.0, (200, 200))])
    with pytest.warns(CareplanWarning, match="FAR"):
        cov = walk_coverage(net, areas2, facs, cutoff_m=100)
    assert cov.unreachable_areas == ["FAR"]
    assert not cov.areas.loc["FAR", "covered"] and not cov.areas.loc["FAR", "reachable"]
    assert cov.summary.loc["households", "uncovered"] >= 7
    with pytest.raises(CRSError):
        walk_coverage(net, areas.to_crs(4326), facs)
    with pytest.raises(InputError, match="None of the 1 origins"):
        walk_coverage(net, far, facs, cutoff_m=100)
    with pytest.raises(InputError, match="level"):
        walk_coverage(net, areas, facs.drop(columns="level"), levels="community")
    with pytest.warns(CareplanWarning, match="No facility"):
        cov = walk_coverage(net, areas, facs, levels="district")
    assert not cov.areas["covered"].any()


def test_polygon_areas():
    net = grid_net()
    sq = Polygon([(180, 180), (220, 180), (220, 220), (180, 220)])
    areas = gpd.GeoDataFrame({"area_id": ["P"], "households": [5]}, geometry=[sq], crs=CRS,
                             index=["P"])
    facs = facilities([("F", "community", 100.0, (400, 200))])
    cov = walk_coverage(net, areas, facs, cutoff_m=1000)
    rp = sq.representative_point()
    # rp snaps to an edge through (200, 200); the walk to (400, 200) is exact on the grid
    leg = min(abs(rp.x - 200), abs(rp.y - 200))
    along = abs(rp.x - 200) + abs(rp.y - 200) - leg
    assert cov.areas.loc["P", "nearest_distance_m"] == pytest.approx(leg + along + 200)
    assert cov.areas.loc["P", "geometry"].equals(sq)


def test_service_area_reached_edges_hand():
    net = grid_net()
    facs = facilities([("F", "community", 100.0, (200, 200)),
                       ("G", "community", 100.0, (250, 0))])
    sa = service_areas(net, facs, cutoff_m=150, buffer_m=0)
    # F at a node: 4 whole edges (400 m) + 3 half-edges from each of the 4 neighbours
    assert sa.loc["F", "reached_length_m"] == pytest.approx(400 + 12 * 50)
    assert sa.loc["F", "geometry"].length == pytest.approx(1000)
    # G mid-edge on the bottom row: its edge (100) + 2x50 along the row + 100 up at each end
    # ... within 150: 50 to each end node, then 100 further each way (row + up)
    assert sa.loc["G", "reached_length_m"] == pytest.approx(100 + 4 * 100)
    poly = service_areas(net, facs, cutoff_m=150, buffer_m=10)
    g = poly.loc["F", "geometry"]
    assert g.geom_type in ("Polygon", "MultiPolygon")
    assert g.contains(Point(200, 340)) and not g.contains(Point(260, 260))  # not a hull
    assert g.area < g.convex_hull.area * 0.6
    assert poly.crs == net.crs


def test_service_area_partial_edge_within_cutoff():
    # a single straight street; facility 40 m along, 30 m off it
    G = nx.Graph(crs=CRS)
    G.add_node(0, x=0, y=0)
    G.add_node(1, x=500, y=0)
    G.add_edge(0, 1, length=500.0)
    net = WalkNetwork.from_graph(G)
    facs = facilities([("F", "community", 1.0, (40, 30))])
    sa = service_areas(net, facs, cutoff_m=130, buffer_m=0)
    # reach 100 m along the street each way from x=40: [0, 140] on the street
    lines = sa.loc["F", "geometry"]
    street = lines.intersection(LineString([(0, 0), (500, 0)]).buffer(0.01))
    assert street.length == pytest.approx(140, abs=0.05)
    assert shapely.get_coordinates(street)[:, 0].max() == pytest.approx(140)


def test_two_step_fca_hand():
    # street 0 -- 1000 m; areas at 0, 300, 900; facilities at 100 (S=60) and 800 (S=30)
    G = nx.Graph(crs=CRS)
    G.add_node(0, x=0, y=0)
    G.add_node(1, x=1000, y=0)
    G.add_edge(0, 1, length=1000.0)
    net = WalkNetwork.from_graph(G)
    areas = gpd.GeoDataFrame({"area_id": ["a", "b", "c"], "households": [10, 20, 40],
                              "elderly": [4, 6, 10]},
                             geometry=[Point(0, 0), Point(300, 0), Point(900, 0)],
                             crs=CRS, index=["a", "b", "c"])
    facs = facilities([("F", "community", 60.0, (100, 0)), ("H", "community", 30.0, (800, 0))])
    acc = two_step_fca(net, areas, facs, cutoff_m=250)
    # F reaches a (100) and b (200): R_F = 60 / (4 + 6) = 6; H reaches c (100): R_H = 30/10 = 3
    assert acc.to_dict() == pytest.approx({"a": 6.0, "b": 6.0, "c": 3.0})
    assert acc.name == "floor_area_m2_per_elderly"
    acc = two_step_fca(net, areas, facs, cutoff_m=550, demand_col="households")
    # F: a, b (500 > 550? no: 800) -> a(100), b(200) ; H: b(500), c(100)
    r_f = 60 / (10 + 20)
    r_h = 30 / (20 + 40)
    assert acc.to_dict() == pytest.approx({"a": r_f, "b": r_f + r_h, "c": r_h})
    with pytest.raises(InputError, match="capacity_col|nursing"):
        two_step_fca(net, areas, facs, cutoff_m=250, capacity_col="nursing_beds")
    bad = areas.assign(elderly=[1, -1, 2])
    with pytest.raises(InputError):
        two_step_fca(net, bad, facs, cutoff_m=250)


def test_service_area_of_multipoint_entrances():
    net = grid_net(3)
    gate = shapely.MultiPoint([(0, 150), (190, 0)])
    facs = gpd.GeoDataFrame({"level": ["community"]}, geometry=[gate], crs=CRS, index=["C"])
    sa = service_areas(net, facs, cutoff_m=60, buffer_m=0)
    # west gate: its edge (100) + 10 m on each of three edges beyond its two end nodes;
    # south gate: 70 m of its edge + 50 m up from (200, 0)
    assert sa.loc["C", "reached_length_m"] == pytest.approx(130 + 120)


def test_coverage_shows_areas_reached_only_by_a_long_leg_or_across_a_gap():
    """Issue 14.9: an area snapped across a gap, or 300+ m off the street, is shown as such."""
    from test_network import island_graph, pts

    with pytest.warns(CareplanWarning, match="removed"):
        net = WalkNetwork.from_graph(island_graph())
    homes = pts([(612, 150), (150, 620), (150, 150)], ["island", "north", "inland"])
    homes = homes.assign(households=[10, 20, 30])
    fac = pts([(300, 150)], ["mainland"]).assign(level="community")
    with pytest.warns(CareplanWarning):
        cov = walk_coverage(net, homes, fac, cutoff_m=1000)
    # the same labels the network flags (test_network checks those against hand distances)
    assert cov.areas["access"].to_dict() == {"island": "cut_off", "north": "long_access",
                                             "inland": "network"}
    assert cov.areas["covered"].all()


def test_plan_areas_carry_the_access_flag():
    """The plan's area table shows how each area reaches the network (issue 14.9)."""
    from test_network import island_graph, pts

    import careplan as cp

    with pytest.warns(CareplanWarning, match="removed"):
        net = WalkNetwork.from_graph(island_graph())
    areas = pts([(612, 150), (150, 620), (150, 150)], ["island", "north", "inland"])
    areas = cp.read_areas(areas.assign(area_id=areas.index, households=[10, 20, 30],
                                       built="existing"))
    cands = cp.read_candidates(pts([(300, 150)], ["C1"]).assign(candidate_id=["C1"]))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", CareplanWarning)
        plan = cp.plan_layout(areas, None, cands, net, standard="guangdong", cutoff_m=1000)
    assert plan.areas["access"].to_dict() == {"island": "cut_off", "north": "long_access",
                                              "inland": "network"}
