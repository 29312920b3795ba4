"""Tests for careplan.network (WalkNetwork): build, snap, distances.

Every distance is checked against an independent computation: networkx
Dijkstra on the same graph, or a hand calculation.
"""

from __future__ import annotations

import warnings
from pathlib import Path

import geopandas as gpd
import networkx as nx
import numpy as np
import pandas as pd
import pytest
import shapely
from shapely.geometry import LineString, Point, Polygon

from careplan._errors import CareplanError, CareplanWarning, CRSError, InputError
from careplan.network import WalkNetwork, is_walkable

DATA = Path(__file__).resolve().parents[1].parent / "shared" / "data"
SMALL_OSM = DATA / "shanghai_center" / "shanghai_huangpu_jingan_drive_osmnx.osm"
OAKLAND = DATA / "west_oakland_us" / "West-Oakland.osm.bz2"
NANJING = DATA / "nanjing_xuanwu" / "nanjing_xuanwu_overpass_2021-06-12.osm"
CRS = "EPSG:32651"


def need(path: Path) -> Path:
    if not path.exists():
        pytest.skip(f"shared data {path.name} not available")
    return path


def grid_graph(n: int = 3, spacing: float = 100.0) -> nx.Graph:
    G = nx.Graph(crs=CRS)
    for i in range(n):
        for j in range(n):
            G.add_node((i, j), x=i * spacing, y=j * spacing)
    for i in range(n):
        for j in range(n):
            if i + 1 < n:
                G.add_edge((i, j), (i + 1, j), length=spacing)
            if j + 1 < n:
                G.add_edge((i, j), (i, j + 1), length=spacing)
    return G


def pts(coords, labels=None, crs=CRS) -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame(geometry=[Point(c) for c in coords], crs=crs,
                            index=labels if labels is not None else range(len(coords)))


def osm_graph(path: Path):
    ox = pytest.importorskip("osmnx")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return ox.graph_from_xml(path, retain_all=True)


def walk_nx(G):
    """The same walkable, undirected graph in networkx (independent of WalkNetwork)."""
    import osmnx as ox

    H = G.copy()
    H.remove_edges_from([(u, v, k) for u, v, k, d in G.edges(keys=True, data=True)
                         if d.get("highway") is None or not is_walkable(d)])
    return ox.convert.to_undirected(H)


# --------------------------------------------------------------------- build
def test_hand_grid_csr():
    net = WalkNetwork.from_graph(grid_graph())
    assert net.n_nodes == 9 and net.n_edges == 12
    assert net.indptr.size == 10 and net.indices.size == 24
    assert np.all(net.arc_length_m == 100.0)
    deg = np.diff(net.indptr)
    assert sorted(deg) == [2, 2, 2, 2, 3, 3, 3, 3, 4]
    assert not net.indptr.flags.writeable
    e = net.edges
    assert len(e) == 12 and e.crs == net.crs and np.allclose(e.length, e["length_m"])


def test_parallel_edges_shortest_and_directed_twins():
    G = nx.MultiDiGraph(crs=CRS)
    G.add_node(1, x=0, y=0)
    G.add_node(2, x=100, y=0)
    G.add_edge(1, 2, length=100.0)
    G.add_edge(2, 1, length=100.0)  # reverse twin of a two-way street
    G.add_edge(1, 2, length=150.0, geometry=LineString([(0, 0), (50, 50), (100, 0)]))
    net = WalkNetwork.from_graph(G)
    assert net.n_edges == 2  # the twin counted once, the detour kept for snapping
    d = net.node_distances([1], cutoff_m=500)
    assert d.set_index("node").loc[2, "distance_m"] == 100.0


def test_components_keep_largest_warns_and_all_keeps():
    G = grid_graph()
    G.add_node("a", x=1000, y=0)
    G.add_node("b", x=1050, y=0)
    G.add_edge("a", "b", length=50.0)
    with pytest.warns(CareplanWarning, match="removed 2 nodes"):
        net = WalkNetwork.from_graph(G)
    assert net.n_nodes == 9
    comps = net.components
    assert comps["n_nodes"].tolist() == [9, 2] and comps["kept"].tolist() == [True, False]
    assert net.removed["small_component_nodes"] == 2
    G.add_node("lonely", x=5000, y=5000)
    with pytest.warns(CareplanWarning):
        assert WalkNetwork.from_graph(G).removed["isolated_nodes"] == 1
    net_all = WalkNetwork.from_graph(G, keep="all")
    assert net_all.n_nodes == 11
    far = pts([(0, 0), (1025, 0)], ["grid", "island"])
    od = net_all.distances(far, far, cutoff_m=10_000)
    assert set(zip(od.origin, od.destination, strict=True)) == {("grid", "grid"), ("island", "island")}
    with pytest.raises(InputError):
        WalkNetwork.from_graph(G, keep="biggest")


def test_walkable_filter():
    assert not is_walkable({"highway": "motorway"})
    assert not is_walkable({"highway": "motorway_link"})
    assert is_walkable({"highway": "trunk"})
    assert not is_walkable({"highway": "primary_link", "motorroad": "yes"})
    assert is_walkable({"highway": "footway"})
    assert is_walkable({"highway": "steps"})
    assert is_walkable({"highway": "living_street"})
    assert not is_walkable({"highway": "service", "access": "private"})
    assert is_walkable({"highway": "service", "access": "private", "foot": "yes"})
    assert not is_walkable({"highway": "residential", "foot": "no"})
    assert not is_walkable({"highway": "pedestrian", "area": "yes"})
    assert is_walkable({"highway": ["motorway", "residential"]})
    assert not is_walkable({"highway": ["motorway", "motorway_link"]})
    G = grid_graph()
    G.edges[(0, 0), (1, 0)]["highway"] = "motorway"
    for u, v in G.edges:
        G.edges[u, v].setdefault("highway", "residential")
    with pytest.warns(CareplanWarning, match="not walkable"):
        net = WalkNetwork.from_graph(G)
    assert net.n_edges == 11 and net.removed["not_walkable_edges"] == 1
    # around the removed block edge: 300 m instead of 100 m
    d = net.node_distances([(0, 0)], cutoff_m=1000).set_index("node")["distance_m"]
    assert d[(1, 0)] == 300.0


def test_empty_inputs_raise():
    with pytest.raises(InputError):
        WalkNetwork.from_graph(nx.MultiDiGraph(crs=CRS))
    G = nx.MultiDiGraph(crs=CRS)
    G.add_node(1, x=0, y=0)
    G.add_node(2, x=1, y=0)
    G.add_edge(1, 2, highway="motorway", length=1.0)
    with pytest.warns(CareplanWarning), pytest.raises(InputError, match="empty"):
        WalkNetwork.from_graph(G)
    with pytest.raises(InputError):
        WalkNetwork.from_lines(gpd.GeoDataFrame(geometry=[], crs=CRS))
    with pytest.raises(CRSError):
        WalkNetwork.from_graph(nx.Graph(grid_graph().edges(data=True)))  # no crs, no coordinates
    with pytest.raises(InputError):
        WalkNetwork.from_file(DATA / "does-not-exist.osm")


def test_from_lines_noding_and_tolerance():
    lines = gpd.GeoDataFrame(geometry=[
        LineString([(0, 0), (200, 0)]),
        LineString([(100, -100), (100, 100)]),     # crosses the first at (100, 0)
        LineString([(200.4, 0.3), (300, 0)]),      # starts 0.5 m from the end of the first
    ], crs=CRS)
    net = WalkNetwork.from_lines(lines, tolerance_m=1.0)
    assert net.n_nodes == 6 and net.n_edges == 5
    a = pts([(0, 0), (100, 100), (300, 0)], ["w", "n", "e"])
    od = net.distances(a, a, cutoff_m=1000).set_index(["origin", "destination"])["distance_m"]
    assert od["w", "n"] == pytest.approx(200.0)
    assert od["w", "e"] == pytest.approx(300.0, abs=0.01)  # gap merged, end moved 0.25 m
    net2 = WalkNetwork.from_lines(lines, tolerance_m=1.0, split_at_intersections=False,
                                  keep="all")
    od2 = net2.distances(a, a, cutoff_m=1000)
    assert not ((od2.origin == "w") & (od2.destination == "n")).any()  # grade-separated
    with pytest.raises(CRSError):
        WalkNetwork.from_lines(lines.to_crs(4326))
    # tolerance 0: the 0.5 m gap stays open; MultiLineStrings are split into parts
    multi = gpd.GeoSeries([shapely.MultiLineString([[(0, 0), (100, 0)], [(100, 0), (100, 50)]]),
                           LineString([(100.5, 50), (200, 50)])], crs=CRS)
    net0 = WalkNetwork.from_lines(multi, tolerance_m=0, keep="all")
    assert net0.n_nodes == 5 and len(net0.components) == 2
    net1 = WalkNetwork.from_lines(multi, tolerance_m=1)
    assert net1.n_nodes == 4 and len(net1.components) == 1
    with pytest.raises(InputError, match="not lines"):
        WalkNetwork.from_lines(gpd.GeoSeries([Point(0, 0)], crs=CRS))


# ----------------------------------------------------------------- snapping
def test_access_legs_hand_grid():
    net = WalkNetwork.from_graph(grid_graph())
    o = pts([(30, 10)], ["o"])          # 10 m off edge (0,0)-(100,0), 30 m along it
    d = pts([(200, 200), (80, -4), (100, 60)], ["corner", "same_edge", "other"])
    sn = net.snap(o)
    assert sn.loc["o", "snap_distance_m"] == pytest.approx(10.0)
    assert sn.loc["o", "offset_m"] in (pytest.approx(30.0), pytest.approx(70.0))
    assert {sn.loc["o", "u"], sn.loc["o", "v"]} == {(0, 0), (1, 0)}
    od = net.distances(o, d, cutoff_m=1000).set_index("destination")["distance_m"]
    # corner: 10 + 70 (to (1,0)) + 300 along the grid
    assert od["corner"] == pytest.approx(380.0)
    # same edge: 10 + |30 - 80| + 4, not through a node
    assert od["same_edge"] == pytest.approx(64.0)
    # other: snaps to edge (1,0)-(1,1) at 60 m: 10 + 70 + 60 + 0
    assert od["other"] == pytest.approx(140.0)
    # cutoff is respected
    od2 = net.distances(o, d, cutoff_m=139.0)
    assert set(od2.destination) == {"same_edge"}


def test_polygons_use_representative_point():
    net = WalkNetwork.from_graph(grid_graph())
    poly = gpd.GeoDataFrame(geometry=[Polygon([(40, 40), (60, 40), (60, 60), (40, 60)])],
                            crs=CRS, index=["block"])
    sn = net.snap(poly)
    rp = poly.geometry.iloc[0].representative_point()
    edges = net.edges.geometry
    assert sn.loc["block", "snap_distance_m"] == pytest.approx(edges.distance(rp).min())


def test_far_points_unreachable_reported():
    net = WalkNetwork.from_graph(grid_graph())
    p = pts([(50, 0), (5000, 5000)], ["near", "far"])
    with pytest.warns(CareplanWarning, match="far"):
        sn = net.snap(p, max_snap_m=100)
    assert sn["reachable"].tolist() == [True, False]
    with pytest.warns(CareplanWarning, match="unreachable"):
        od = net.distances(p, p, cutoff_m=10_000, max_snap_m=100)
    assert od.attrs["unreachable_origins"] == ["far"]
    assert od.attrs["unreachable_destinations"] == ["far"]
    assert "far" not in set(od.origin) | set(od.destination)
    # every point off the network: an error, not an empty answer
    only_far = p.loc[["far"]]
    with pytest.raises(InputError, match="None of the 1 origins"):
        net.distances(only_far, p, cutoff_m=10_000, max_snap_m=100)
    with pytest.raises(CareplanError, match="destinations"):
        net.distance_matrix(p.loc[["near"]], only_far, cutoff_m=10_000, max_snap_m=100)
    with pytest.raises(CareplanError):
        net.node_counts(only_far, cutoff_m=1000, max_snap_m=100)


def test_bad_inputs_raise_careplan_errors():
    net = WalkNetwork.from_graph(grid_graph())
    p = pts([(50, 0)])
    for bad in (0, -1, float("nan"), float("inf"), "x"):
        with pytest.raises(InputError):
            net.distances(p, p, cutoff_m=bad)
    with pytest.raises(CRSError, match="to_crs"):
        net.distances(pts([(50, 0)], crs="EPSG:32650"), p, cutoff_m=100)
    with pytest.raises(CRSError):
        net.distances(p.to_crs(4326), p, cutoff_m=100)
    with pytest.raises(CRSError):
        net.snap(gpd.GeoDataFrame(geometry=[Point(0, 0)]))
    with pytest.raises(InputError, match="duplicate"):
        net.distances(pts([(0, 0), (1, 1)], ["a", "a"]), p, cutoff_m=100)
    with pytest.raises(InputError):
        net.distances(gpd.GeoDataFrame(geometry=[None], crs=CRS), p, cutoff_m=100)
    with pytest.raises(InputError):
        net.node_distances(["nope"], cutoff_m=100)
    with pytest.raises(CareplanError):
        net.nearest(p, p, k=0, cutoff_m=100)


# ------------------------------------------------- against networkx / brute force
def test_random_points_match_bruteforce_networkx():
    rng = np.random.default_rng(42)
    G = grid_graph(6, 100.0)
    for n in G.nodes:  # perturb nodes; lengths from straight geometry
        G.nodes[n]["x"] += rng.uniform(-20, 20)
        G.nodes[n]["y"] += rng.uniform(-20, 20)
    for u, v in G.edges:
        del G.edges[u, v]["length"]
    net = WalkNetwork.from_graph(G)
    o = pts(rng.uniform(-30, 530, size=(25, 2)), [f"o{i}" for i in range(25)])
    d = pts(rng.uniform(-30, 530, size=(30, 2)), [f"d{i}" for i in range(30)])
    od = net.distances(o, d, cutoff_m=450)
    got = {(a, b): x for a, b, x in od.itertuples(index=False)}
    # independent: splice every point into one networkx graph by brute force
    # (a point node hangs off its own split node, so it is never a shortcut)
    expected = _bruteforce_od(net, o, d, 450)
    assert len(expected) > 50
    assert set(got) == set(expected)
    for k, x in expected.items():
        assert got[k] == pytest.approx(x, abs=1e-6)


def _bruteforce_od(net, o, d, cutoff_m):
    """{(origin, destination): distance} by networkx on the spliced graph.

    The same-place rule, independently: a pair is also its straight walk when
    that is no longer than either point's distance to the nearest edge (a
    pair's own shortcut, never a transit for other pairs).
    """
    H = _merge_splices(net, o, d)
    edges = net.edges.geometry
    leg = {("o", k): edges.distance(p).min() for k, p in o.geometry.items()}
    leg.update({("d", k): edges.distance(p).min() for k, p in d.geometry.items()})
    expected = {}
    for lab_o, po in o.geometry.items():
        lengths = nx.single_source_dijkstra_path_length(H, ("o", lab_o), cutoff=cutoff_m,
                                                        weight="length")
        for lab_d, pd_ in d.geometry.items():
            x = lengths.get(("d", lab_d), np.inf)
            walk = po.distance(pd_)
            if walk <= max(leg[("o", lab_o)], leg[("d", lab_d)]):
                x = min(x, walk)
            if x <= cutoff_m:
                expected[(lab_o, lab_d)] = x
    return expected


def _merge_splices(net, o, d):
    """Base edges, with the origin and destination spliced onto their nearest edges."""
    edges = net.edges
    H = nx.MultiGraph()
    cuts: dict[int, list] = {}
    for tag, g in (("o", o), ("d", d)):
        for lab, p in g.geometry.items():
            dist = edges.geometry.distance(p).to_numpy()
            e = int(np.argmin(dist))
            geom = edges.geometry.iloc[e]
            frac = geom.project(p) / geom.length
            cuts.setdefault(e, []).append((frac * edges["length_m"].iloc[e], (tag, lab), dist[e]))
    for e in edges.itertuples():
        chain = [(0.0, e.u)]
        for pos, lab, leg in sorted(cuts.get(e.Index, []), key=lambda t: t[0]):
            mid = (*lab, "on")
            chain.append((pos, mid))
            H.add_edge(lab, mid, length=leg)
        chain.append((e.length_m, e.v))
        for (p0, a), (p1, b) in zip(chain[:-1], chain[1:], strict=True):
            H.add_edge(a, b, length=p1 - p0)
    return H


def test_node_points_match_networkx_osmnx_graph():
    G = osm_graph(need(SMALL_OSM))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", CareplanWarning)
        net = WalkNetwork.from_graph(G)
    Gu = walk_nx(G)
    nodes = net.nodes
    o = nodes.sample(25, random_state=1)[["geometry"]]
    d = nodes.sample(400, random_state=2)[["geometry"]]
    od = net.distances(o, d, cutoff_m=1500, verbose=False)
    dset = set(d.index)
    n = 0
    for s in o.index:
        exp = {k: v for k, v in nx.single_source_dijkstra_path_length(
            Gu, s, cutoff=1500, weight="length").items() if k in dset}
        sub = od[od.origin == s]
        mine = dict(zip(sub.destination, sub.distance_m, strict=True))
        assert set(mine) == set(exp)
        for k, v in exp.items():
            assert abs(mine[k] - v) < 1e-6
        n += len(exp)
    assert n > 500
    # node-level API too
    nd = net.node_distances(list(o.index[:5]), cutoff_m=800)
    for s in o.index[:5]:
        exp = nx.single_source_dijkstra_path_length(Gu, s, cutoff=800, weight="length")
        sub = nd[nd.source == s]
        assert dict(zip(sub.node, sub.distance_m, strict=True)) == pytest.approx(exp, abs=1e-6)


@pytest.mark.parametrize("path", [OAKLAND, NANJING])
def test_from_file_matches_osmnx_lengths(path):
    need(path)
    G = osm_graph(path)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", CareplanWarning)
        net = WalkNetwork.from_file(path)
    Gu = walk_nx(G)
    # motorroad=yes is not an osmnx edge attribute: drop those ways from networkx too
    import osmium

    motorroad = {w.id for w in osmium.FileProcessor(str(path), osmium.osm.WAY)
                 if w.tags.get("motorroad") == "yes"}
    Gu.remove_edges_from([(u, v, k) for u, v, k, dd in Gu.edges(keys=True, data=True)
                          if set(np.atleast_1d(dd.get("osmid"))) & motorroad])
    common = [n for n in net.node_ids if n in Gu][:30]
    assert len(common) >= 20
    nd = net.node_distances(common, cutoff_m=1200)
    n = 0
    for s in common:
        exp = nx.single_source_dijkstra_path_length(Gu, s, cutoff=1200, weight="length")
        sub = nd[nd.source == s]
        mine = dict(zip(sub.node, sub.distance_m, strict=True))
        shared = set(mine) & set(exp)  # osmnx simplifies away some degree-2 nodes
        assert len(shared) >= 0.5 * len(exp)
        for k in shared:
            assert abs(mine[k] - exp[k]) < 1e-6
        n += len(shared)
    assert n > 100


def test_from_file_pbf_and_bz2_equal_xml(tmp_path):
    import bz2

    import osmium

    src = need(OAKLAND)
    xml = tmp_path / "oak.osm"
    xml.write_bytes(bz2.decompress(src.read_bytes()))
    pbf = tmp_path / "oak.osm.pbf"
    with osmium.SimpleWriter(str(pbf)) as w:
        for obj in osmium.FileProcessor(str(xml)):
            w.add(obj)
    nets = []
    for p in (src, xml, pbf):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", CareplanWarning)
            nets.append(WalkNetwork.from_file(p))
    for other in nets[1:]:
        assert other.n_nodes == nets[0].n_nodes and other.n_edges == nets[0].n_edges
        assert np.allclose(other.arc_length_m, nets[0].arc_length_m)
    txt = tmp_path / "x.txt"
    txt.write_text("")
    with pytest.raises(InputError, match="unknown OSM file type"):
        WalkNetwork.from_file(txt)


def test_distance_matrix_and_nearest():
    net = WalkNetwork.from_graph(grid_graph())
    o = pts([(0, 0), (100, 100), (5, 3)], ["a", "b", "c"])
    d = pts([(0, 0), (200, 0), (100, 200)], ["x", "y", "z"])
    od = net.distances(o, d, cutoff_m=250)
    m = net.distance_matrix(o, d, cutoff_m=250)
    assert m.shape == (3, 3)
    dense = np.full((3, 3), np.nan)
    for a, b, x in od.itertuples(index=False):
        dense[o.index.get_loc(a), d.index.get_loc(b)] = x
    assert m.nnz == len(od) == int(np.isfinite(dense).sum())
    assert m[0, 0] == 0.0
    stored = {(i, j) for i in range(3) for j in m.indices[m.indptr[i]:m.indptr[i + 1]]}
    assert (0, 0) in stored  # explicit zero kept
    for (i, j) in stored:
        assert m[i, j] == dense[i, j]
    near = net.nearest(o, d, k=2, cutoff_m=250)
    for lab in o.index:
        sub = od[od.origin == lab].sort_values("distance_m").head(2)
        got = near[near.origin == lab]
        assert got["destination"].tolist() == sub["destination"].tolist()
        assert got["rank"].tolist() == list(range(1, len(sub) + 1))


def test_node_counts_match_pairs():
    net = WalkNetwork.from_graph(grid_graph(4))
    rng = np.random.default_rng(3)
    f = pts(rng.uniform(0, 300, size=(15, 2)))
    counts = net.node_counts(f, cutoff_m=180)
    nodes = net.nodes[["geometry"]]
    od = net.distances(nodes, f, cutoff_m=180)
    exp = od.groupby("origin").size().reindex(nodes.index, fill_value=0)
    # node -> point distance equals point -> node distance (undirected)
    assert counts.to_numpy().tolist() == exp.to_numpy().tolist()
    assert counts.sum() > 0


def test_threads_give_same_result():
    net = WalkNetwork.from_graph(grid_graph(8, 50.0))
    rng = np.random.default_rng(5)
    o = pts(rng.uniform(0, 350, size=(300, 2)))
    d = pts(rng.uniform(0, 350, size=(50, 2)))
    a = net.distances(o, d, cutoff_m=200, n_threads=1)
    b = net.distances(o, d, cutoff_m=200, n_threads=2)
    pd.testing.assert_frame_equal(a, b)
    assert len(a) > 0
    # rows follow the origins' input order, then distance, then destination order
    opos = o.index.get_indexer(a["origin"])
    dpos = d.index.get_indexer(a["destination"])
    key = np.lexsort((dpos, a["distance_m"].to_numpy(), opos))
    assert np.array_equal(key, np.arange(len(a)))
    assert len(np.unique(opos)) > 250


def test_inputs_not_mutated():
    net = WalkNetwork.from_graph(grid_graph())
    o = pts([(30, 10)])
    before = o.copy()
    net.distances(o, o, cutoff_m=100)
    pd.testing.assert_frame_equal(o, before)
    assert shapely.equals(o.geometry.iloc[0], Point(30, 10))


def test_empty_point_sets_and_pickle():
    import pickle

    net = WalkNetwork.from_graph(grid_graph())
    p = pts([(50, 0), (150, 100)], ["a", "b"])
    empty = p.iloc[:0]
    od = net.distances(p, empty, cutoff_m=500)
    assert len(od) == 0 and list(od.columns) == ["origin", "destination", "distance_m"]
    assert net.distance_matrix(empty, p, cutoff_m=500).shape == (0, 2)
    assert len(net.node_distances([], cutoff_m=100)) == 0
    net.snap(p)  # builds the spatial index
    net2 = pickle.loads(pickle.dumps(net))
    pd.testing.assert_frame_equal(net2.distances(p, p, cutoff_m=500),
                                  net.distances(p, p, cutoff_m=500))


def test_geographic_graph_is_projected_and_lengths_kept():
    G = grid_graph()
    for n in G.nodes:  # ~100 m apart in lon/lat near Shanghai
        G.nodes[n]["x"] = 121.47 + G.nodes[n]["x"] / 95_000
        G.nodes[n]["y"] = 31.23 + G.nodes[n]["y"] / 111_000
    G.graph["crs"] = "EPSG:4326"
    net = WalkNetwork.from_graph(G)
    assert net.crs.is_projected and net.crs.to_epsg() == 32651
    assert np.all(net.arc_length_m == 100.0)  # the 'length' attribute, not the geometry
    assert np.allclose(net.edges.length, 100, rtol=0.05)


def test_point_on_node_prefers_incident_edge_over_bridge():
    G = grid_graph()
    # a bridge from (-50, 100) to (250, 100) passing exactly over node (1, 1) at (100, 100)
    G.add_node("b0", x=-50, y=100)
    G.add_node("b1", x=250, y=100)
    G.add_edge("b0", "b1", length=300.0)
    G.add_edge("b0", (0, 0), length=500.0)  # connected far away only
    net = WalkNetwork.from_graph(G)
    p = pts([(100, 100), (0, 0)], ["centre", "corner"])
    sn = net.snap(p)
    assert (1, 1) in (sn.loc["centre", "u"], sn.loc["centre", "v"])
    od = net.distances(p, p, cutoff_m=1000).set_index(["origin", "destination"])["distance_m"]
    assert od["centre", "corner"] == pytest.approx(200.0)


def test_multipoint_entrances_take_the_shortest():
    net = WalkNetwork.from_graph(grid_graph())
    gate = shapely.MultiPoint([(0, 150), (190, 0)])  # two gates of one compound
    o = gpd.GeoDataFrame(geometry=[gate, Point(0, 150)], crs=CRS, index=["compound", "west"])
    d = pts([(200, 30), (0, 200)], ["se", "nw"])
    od = net.distances(o, d, cutoff_m=1000).set_index(["origin", "destination"])["distance_m"]
    # to 'se': gate (190,0) 10 to (200,0) + 30 up; to 'nw': gate (0,150) 50 up
    assert od["compound", "se"] == pytest.approx(40.0)
    assert od["compound", "nw"] == pytest.approx(50.0)
    # west only: down 50 to (0,100), across 200, down 70 (the other way round is 380)
    assert od["west", "se"] == pytest.approx(50 + 200 + 70)
    # as a destination too
    od2 = net.distances(d, o, cutoff_m=1000).set_index(["origin", "destination"])["distance_m"]
    assert od2["se", "compound"] == pytest.approx(40.0)
    sn = net.snap(o)
    assert sn.loc["compound", "part"].tolist() == [0, 1] and len(sn) == 3
    counts = net.node_counts(o.loc[["compound"]], cutoff_m=60)
    # within 60 m: (0,100) and (0,200) from the west gate (50 m each), (2,0) from the
    # south gate (10 m); (1,0) is 90 m away: three nodes, each counted once
    assert counts[(2, 0)] == 1 and counts[(1, 0)] == 0 and counts[(0, 1)] == 1
    assert counts[(0, 2)] == 1 and counts.sum() == 3


def test_edges_frame_writes_to_gpkg(tmp_path):
    G = grid_graph()
    for u, v in G.edges:
        G.edges[u, v]["highway"] = "residential"
    G.edges[(0, 0), (1, 0)]["highway"] = ["residential", "footway"]  # osmnx-merged tags
    G.edges[(0, 0), (1, 0)]["osmid"] = [11, 12]
    net = WalkNetwork.from_graph(G)
    e = net.edges
    row = e[(e.u == (0, 0)) | (e.v == (0, 0))]
    assert "residential;footway" in set(row["highway"])
    e.drop(columns=["u", "v"]).to_file(tmp_path / "edges.gpkg")  # tuple ids aside
    back = gpd.read_file(tmp_path / "edges.gpkg")
    assert len(back) == net.n_edges == 12
    assert back["length_m"].sum() == pytest.approx(net.arc_length_m.sum() / 2)


def test_kernel_exact_with_tiny_and_zero_edges():
    """Bucket width above the shortest edge (and 0 m edges): still exact."""
    rng = np.random.default_rng(11)
    n = 400
    G = nx.Graph(crs=CRS)
    for i in range(n):
        G.add_node(i, x=float(rng.uniform(0, 1000)), y=float(rng.uniform(0, 1000)))
    for _ in range(1400):
        u, v = (int(a) for a in rng.integers(0, n, 2))
        if u == v:
            continue
        r = rng.random()
        w = 0.0 if r < 0.05 else (rng.uniform(0, 0.05) if r < 0.35 else rng.uniform(1, 120))
        G.add_edge(u, v, length=float(w))
    net = WalkNetwork.from_graph(G, keep="all")
    cutoff = 900.0
    assert net._delta(cutoff) > 0.05  # buckets wider than the tiny edges
    nd = net.node_distances(list(net.node_ids), cutoff_m=cutoff)
    got = {(a, b): d for a, b, d in nd.itertuples(index=False)}
    exp = {}
    for s, lengths in nx.all_pairs_dijkstra_path_length(G, cutoff=cutoff, weight="length"):
        if G.degree(s) == 0:
            continue
        for t, d in lengths.items():
            exp[(s, t)] = d
    assert set(got) == set(exp)
    assert max(abs(got[k] - exp[k]) for k in exp) < 1e-9


def test_kernel_pool_growth_retry():
    """The search restarts with a bigger entry pool when it runs out (private kernel)."""
    from careplan import _kernels

    net = WalkNetwork.from_graph(grid_graph(6))
    n = net.n_nodes
    cutoff = 1000.0
    delta = net._delta(cutoff)
    nb = _kernels.n_buckets(cutoff, delta)
    dist = np.full(n, np.inf)
    done = np.zeros(n, dtype=bool)
    head = np.full(nb, -1, dtype=np.int64)
    touched = np.empty(n, dtype=np.int64)
    tiny = np.empty(2, dtype=np.int64)
    nt, pool_node, _ = _kernels._search(net._indptr, net._indices, net._arc_length_m,
                                        np.array([0], dtype=np.int64), np.zeros(1), cutoff,
                                        1.0 / delta, nb, dist, done, head, tiny, tiny.copy(),
                                        touched)
    assert pool_node.size > 2 and nt == n
    G = nx.Graph()
    for u in range(n):
        for e in range(net._indptr[u], net._indptr[u + 1]):
            G.add_edge(u, int(net._indices[e]), w=float(net._arc_length_m[e]))
    exp = nx.single_source_dijkstra_path_length(G, 0, weight="w")
    assert {int(v): dist[v] for v in touched[:nt]} == pytest.approx(exp)
    assert (head == -1).all()


# ------------------------------------------------- chains, snapping grid, UTM
def chain_heavy_graph(seed: int = 3) -> nx.MultiGraph:
    """A 5 x 5 grid whose streets are split into 3 pieces (degree-2 nodes), plus a
    parallel edge, a self-loop, a dead-end chain and a separate ring with no junction."""
    rng = np.random.default_rng(seed)
    G = nx.MultiGraph(crs=CRS)
    k = 0

    def node(x, y):
        nonlocal k
        k += 1
        G.add_node(k, x=x + rng.uniform(-8, 8), y=y + rng.uniform(-8, 8))
        return k

    corner = {(i, j): node(i * 120.0, j * 120.0) for i in range(5) for j in range(5)}
    for (i, j), a in corner.items():
        for di, dj in ((1, 0), (0, 1)):
            if (i + di, j + dj) not in corner:
                continue
            b = corner[(i + di, j + dj)]
            m1 = node(i * 120.0 + di * 40, j * 120.0 + dj * 40)
            m2 = node(i * 120.0 + di * 80, j * 120.0 + dj * 80)
            for p, q in ((a, m1), (m1, m2), (m2, b)):
                G.add_edge(p, q)
    G.add_edge(corner[(0, 0)], corner[(0, 1)])           # parallel to a chain
    loop = [corner[(2, 2)], node(250, 270), node(270, 250)]
    for p, q in zip(loop, loop[1:] + loop[:1], strict=True):  # loop through a junction
        G.add_edge(p, q)
    tail = [corner[(4, 4)], node(520, 520), node(560, 560), node(600, 600)]
    for p, q in zip(tail[:-1], tail[1:], strict=True):    # dead end
        G.add_edge(p, q)
    ring = [node(800 + 60 * np.cos(t), 200 + 60 * np.sin(t)) for t in np.linspace(0, 6, 7)]
    for p, q in zip(ring, ring[1:] + ring[:1], strict=True):  # no junction at all
        G.add_edge(p, q)
    G.add_edge(corner[(3, 3)], corner[(3, 3)])           # self-loop with a geometry
    for u, v, key in list(G.edges(keys=True)):
        if u == v:
            x, y = G.nodes[u]["x"], G.nodes[u]["y"]
            G.edges[u, v, key]["geometry"] = LineString([(x, y), (x + 30, y), (x, y + 30), (x, y)])
    return G


def test_chain_contraction_matches_bruteforce_networkx():
    """Point-to-point searches run on the junction graph; the spliced full graph is the reference."""
    G = chain_heavy_graph()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", CareplanWarning)
        net = WalkNetwork.from_graph(G, keep="all")
    ch = net._chains_()
    assert ch.n_junctions < net.n_nodes / 2  # the degree-2 nodes are gone
    rng = np.random.default_rng(5)
    xy = np.vstack([rng.uniform(-30, 880, size=(40, 2)),
                    np.column_stack([net.x[:30], net.y[:30]])])  # some exactly on nodes
    o = pts(xy[::2], [f"o{i}" for i in range(len(xy[::2]))])
    d = pts(xy[1::2], [f"d{i}" for i in range(len(xy[1::2]))])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", CareplanWarning)
        od = net.distances(o, d, cutoff_m=700, max_snap_m=10_000)
    got = {(a, b): x for a, b, x in od.itertuples(index=False)}
    expected = _bruteforce_od(net, o, d, 700)
    assert len(expected) > 100
    assert set(got) == set(expected)
    for key, x in expected.items():
        assert got[key] == pytest.approx(x, abs=1e-6)


def test_grid_snapping_matches_shapely_nearest_distance():
    G = chain_heavy_graph(seed=8)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", CareplanWarning)
        net = WalkNetwork.from_graph(G, keep="all")
    rng = np.random.default_rng(9)
    # inside the grid, outside it, and far outside (beyond max_snap_m)
    xy = np.vstack([rng.uniform(-50, 900, size=(300, 2)), [[5_000.0, -3_000.0], [-900, 300]]])
    g = shapely.points(xy)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", CareplanWarning)
        s = net.snap(pts(xy), max_snap_m=400)
    edges = net.edges.geometry.to_numpy()
    brute = np.array([shapely.distance(p, edges).min() for p in g])
    assert s["snap_distance_m"].to_numpy() == pytest.approx(brute, abs=1e-9)
    # the chosen edge really is at that distance, and the snapped point lies on it
    chosen = edges[s["edge"].to_numpy()]
    assert shapely.distance(g, chosen) == pytest.approx(brute, abs=1e-9)
    on = shapely.points(s[["x", "y"]].to_numpy())
    assert shapely.distance(on, chosen) == pytest.approx(0, abs=1e-6)
    assert list(s["reachable"]) == list(brute <= 400)


@pytest.mark.parametrize("lon,lat", [(121.47, 31.23), (118.8, 32.06), (-122.28, 37.8),
                                     (-70.0, -33.0), (179.9, 0.5), (-180.0, 10.0)])
def test_utm_zone_formula_equals_geopandas(lon, lat):
    from careplan.network._common import _utm_crs

    ref = gpd.GeoSeries(gpd.points_from_xy([lon], [lat]), crs=4326).estimate_utm_crs()
    assert _utm_crs(np.array([lon]), np.array([lat])).equals(ref)


# ------------------------------------------------------------ public surface
def test_public_arrays_and_named_results_match_the_tables():
    net = WalkNetwork.from_graph(grid_graph(4, 100.0))
    p = pts([(30, 10), (250, 160)], ["a", "b"])
    s = net.snap_points(p, max_snap_m=50)
    table = net.snap(p, max_snap_m=50)
    assert list(s.labels) == ["a", "b"] and s.reachable.all()
    assert np.array_equal(s.snap.edge, table["edge"].to_numpy())
    assert s.snap.snap_distance_m == pytest.approx([10.0, 40.0])  # (250, 160): y=200 is 40 m
    assert np.array_equal(net.node_ids[s.snap.u], table["u"].to_numpy())
    # edge arrays agree with the edges frame
    e = net.edges
    assert np.array_equal(net.node_ids[net.edge_u], e["u"].to_numpy())
    assert np.array_equal(net.edge_length_m, e["length_m"].to_numpy())
    assert all(a.equals(b) for a, b in zip(net.edge_geometry, e.geometry, strict=True))
    # reached nodes: by hand, 'a' sits 30 m along the edge (0,0)-(100,0), 10 m off it
    r = net.reached_nodes(p.loc[["a"]], cutoff_m=150)
    got = {net.node_ids[n]: d for n, d in zip(r.node, r.distance_m, strict=True)}
    assert got == pytest.approx({(0, 0): 40.0, (1, 0): 80.0, (0, 1): 140.0})
    assert set(r.row) == {0}


def test_deprecated_names_still_work():
    G = grid_graph(3, 100.0)
    G.graph.pop("crs")
    with pytest.warns(DeprecationWarning, match="src_crs"):
        old = WalkNetwork.from_graph(G, crs=CRS)
    new = WalkNetwork.from_graph(G, src_crs=CRS)
    assert old.crs.equals(new.crs)
    with pytest.warns(DeprecationWarning, match="arc_length_m"):
        w = new.weights
    assert np.array_equal(w, new.arc_length_m)
    with pytest.raises(InputError, match="src_crs"):
        WalkNetwork.from_graph(G, crs=CRS, src_crs=CRS)


def test_no_network_privates_used_outside_the_package():
    root = Path(__file__).resolve().parents[1]
    files = [p for p in (root / "src" / "careplan").rglob("*.py") if "network" not in p.parts]
    files += list((root / "benchmarks").glob("*.py"))
    pattern = ("._edge_u", "._edge_v", "._edge_length", "._edge_geometry", "._point_node_",
               "._snap_labels", "._od(", "._indptr", "._arc_length_m", "._weights")
    offenders = [f"{p.name}: {t}" for p in files for t in pattern
                 if f"net{t}" in p.read_text(encoding="utf-8")
                 or f"network{t}" in p.read_text(encoding="utf-8")]
    assert offenders == []


# ------------------------------------- issue 14 items 9 and 10 (hand cases)
def island_graph() -> nx.Graph:
    """Mainland 4 x 4 grid (0-300 m) and an island loop 310 m east across a 'river'."""
    G = grid_graph(4, 100.0)
    ring = [(610, 100), (710, 100), (710, 200), (610, 200)]
    for k, (x, y) in enumerate(ring):
        G.add_node(("i", k), x=float(x), y=float(y))
    for k in range(4):
        G.add_edge(("i", k), ("i", (k + 1) % 4), length=100.0)
    return G


def test_island_point_is_flagged_cut_off_with_keep_largest():
    with pytest.warns(CareplanWarning, match="removed"):
        net = WalkNetwork.from_graph(island_graph())
    homes = pts([(612, 150), (150, 620), (150, 150)], ["island", "north", "inland"])
    fac = pts([(300, 150)], ["mainland"])
    with pytest.warns(CareplanWarning) as rec:
        od = net.distances(homes, fac, cutoff_m=1000)
    msg = " ".join(str(w.message) for w in rec)
    assert "small disconnected piece" in msg and "island" in msg
    # still reached (the 312 m leg is walked straight) but flagged, never silently
    got = dict(zip(od.origin, od.distance_m, strict=True))
    assert got["island"] == pytest.approx(312.0)
    assert od.attrs["cut_off_origins"] == ["island"]
    # 'north' is 320 m off the grid: a long access leg, but on the mainland
    assert od.attrs["long_access_origins"] == ["island", "north"]
    assert got["north"] == pytest.approx(320 + 150 + 150)
    s = net.snap(homes, max_snap_m=500)
    assert list(s["cut_off"]) == [True, False, False]
    assert list(s["long_access"]) == [True, True, False]


def test_island_point_reaches_only_its_piece_with_keep_all():
    net = WalkNetwork.from_graph(island_graph(), keep="all")
    homes = pts([(612, 150)], ["island"])
    facs = pts([(300, 150), (710, 150)], ["mainland", "on_island"])
    od = net.distances(homes, facs, cutoff_m=1000)
    # snapped 2 m to the island loop; the mainland is not walkable from there
    assert list(od.destination) == ["on_island"]
    assert od.distance_m.iloc[0] == pytest.approx(2 + 50 + 100 + 50)
    assert od.attrs["cut_off_origins"] == [] and od.attrs["long_access_origins"] == []


def test_same_place_is_not_twice_the_snap_leg():
    street = gpd.GeoDataFrame(geometry=[LineString([(0, 0), (1000, 0)])], crs=CRS)
    net = WalkNetwork.from_lines(street)
    estate = Polygon([(400, 250), (600, 250), (600, 350), (400, 350)])
    areas = gpd.GeoDataFrame(geometry=[Point(500, 300), estate, Point(500, 300), Point(500, 40)],
                             index=["same", "polygon", "near", "south"], crs=CRS)
    facs = gpd.GeoDataFrame(geometry=[Point(500, 300), Point(450, 320), Point(500, 260),
                                      Point(800, -40)],
                            index=["same", "inside", "near", "across"], crs=CRS)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", CareplanWarning)
        od = net.distances(areas, facs, cutoff_m=2000)
    d = {(a, b): x for a, b, x in od.itertuples(index=False)}
    # same point 300 m off the street: 0 m, not 300 + 0 + 300
    assert d[("same", "same")] == 0.0
    # a station inside the estate polygon is 0 m from it
    assert d[("polygon", "inside")] == 0.0
    # 40 m apart, both ~300 m off the street: the direct walk (40 <= either leg)
    assert d[("near", "near")] == pytest.approx(40.0)
    assert d[("same", "near")] == pytest.approx(40.0)
    # far apart on both sides of the street: the walk is 310 m, longer than either
    # 40 m leg, so the network rule holds: 40 + 300 + 40
    assert d[("south", "across")] == pytest.approx(380.0)
    # pairs not covered by the rule keep the network distance (legs + along + legs)
    assert d[("same", "across")] == pytest.approx(300 + 300 + 40)
    # still sorted by origin (input order), then distance
    assert list(od.origin.drop_duplicates()) == ["same", "polygon", "near", "south"]
    for _, grp in od.groupby("origin", sort=False):
        assert grp.distance_m.is_monotonic_increasing
    # the sparse matrix and nearest() follow the same rule
    m = net.distance_matrix(areas, facs, cutoff_m=2000)
    assert m[0, 0] == 0.0 and m[1, 1] == 0.0 and m.nnz == len(od)
    near = net.nearest(areas, facs, cutoff_m=2000)
    assert near.set_index("origin").loc["polygon", "destination"] in ("inside", "same")
