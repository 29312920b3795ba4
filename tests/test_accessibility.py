"""careplan.accessibility against hand computations, a loop-by-loop reference and networkx."""

from __future__ import annotations

import math
from pathlib import Path

import geopandas as gpd
import networkx as nx
import numpy as np
import pandas as pd
import pytest
import scipy.sparse as sp
from shapely.geometry import Point

from careplan._errors import CareplanWarning, InputError
from careplan.accessibility import (
    AGGREGATIONS,
    DECAYS,
    LUO_QI_2009_WEIGHTS,
    Aggregator,
    aggregate,
    cumulative,
    exponential_decay,
    fca,
    gaussian_decay,
    gravity,
    power_decay,
    stepped_decay,
)
from careplan.coverage import two_step_fca
from careplan.network import WalkNetwork

CRS = "EPSG:32651"
INF = np.inf
# three estates (demand) and two stations (supply); metres, consumer -> station
D = np.array([[100.0, INF], [400.0, 300.0], [INF, 200.0]])
P = pd.Series([100.0, 200.0, 300.0], index=["a", "b", "c"], name="elderly")
S = pd.Series([60.0, 30.0], index=["f1", "f2"], name="floor_area_m2")


def long_table(mat=D, rows=P.index, cols=S.index) -> pd.DataFrame:
    i, j = np.nonzero(np.isfinite(mat))
    return pd.DataFrame({"origin": rows[i], "destination": cols[j], "distance_m": mat[i, j]})


def reference(mat, P, S, w, three_stage=False):
    """Plain-loop FCA: w(d) is the weight of a reachable cost (0 = outside)."""
    n, m = mat.shape
    W = [[w(mat[i, j]) if math.isfinite(mat[i, j]) else 0.0 for j in range(m)] for i in range(n)]
    if three_stage:
        G = []
        for i in range(n):
            tot = sum(W[i])
            G.append([W[i][j] / tot if tot else 0.0 for j in range(m)])
        W = [[G[i][j] * W[i][j] for j in range(m)] for i in range(n)]
    R = []
    for j in range(m):
        dem = sum(P[i] * W[i][j] for i in range(n))
        R.append(S[j] / dem if dem else 0.0)
    return [sum(W[i][j] * R[j] for j in range(m)) for i in range(n)]


def test_binary_2sfca_hand_and_conservation():
    # R1 = 60 / (100 + 200) = 0.2; R2 = 30 / (200 + 300) = 0.06
    A = fca(D, P, S, cutoff_m=500)
    assert A.to_dict() == pytest.approx({"a": 0.2, "b": 0.26, "c": 0.06})
    assert (A * P).sum() == pytest.approx(S.sum())  # supply conserved
    # 350 m: b no longer reaches f1; R1 = 60 / 100
    assert fca(D, P, S, cutoff_m=350).tolist() == pytest.approx([0.6, 0.06, 0.06])
    assert A.name == "2sfca"


def test_every_cost_form_gives_the_same_scores():
    want = fca(D, P, S, cutoff_m=500)
    wide = pd.DataFrame(D, index=P.index, columns=S.index)
    sparse = sp.csr_array(np.where(np.isfinite(D), D, 0.0))
    sparse.eliminate_zeros()
    tr = long_table(D.T, S.index, P.index)  # a facility -> estate table
    for cost, kw in ((long_table(), {}), (wide, {}), (wide.iloc[::-1, ::-1], {}), (sparse, {}),
                     (tr, {"origin": "supply"}), (D.T, {"origin": "supply"})):
        got = fca(cost, P, S, cutoff_m=500, **kw)
        pd.testing.assert_series_equal(got, want, check_exact=False)


def test_asymmetric_costs_use_the_consumers_direction():
    # the walk b -> f1 is 400 m but f1 -> b is 600 m (access issue #18)
    both = pd.concat([long_table(), pd.DataFrame({"origin": ["f1"], "destination": ["b"],
                                                  "distance_m": [600.0]})])
    to_fac = both[both["origin"].isin(P.index)]
    from_fac = pd.DataFrame({"origin": to_fac["destination"], "destination": to_fac["origin"],
                             "distance_m": to_fac["distance_m"]})
    A = fca(from_fac, P, S, cutoff_m=500, origin="supply")
    assert A.tolist() == pytest.approx([0.2, 0.26, 0.06])  # as if f1 -> b were 400 m, both steps
    # a table holding both directions: the consumer's rows are used, the other one is reported
    with pytest.warns(CareplanWarning, match="4 rows demand -> supply are used and the 1 rows"):
        mixed = fca(both, P, S, cutoff_m=500)
    assert mixed.tolist() == pytest.approx([0.2, 0.26, 0.06])
    with pytest.warns(CareplanWarning, match="both directions"):
        assert cumulative(both, P, S, cutoff_m=500).tolist() == [60.0, 90.0, 30.0]
    with pytest.raises(InputError, match="not demand labels"):
        fca(pd.concat([both, pd.DataFrame({"origin": ["zz"], "destination": ["f1"], "distance_m": [1.0]})]),
            P, S, cutoff_m=500)


def test_explicit_zero_costs_are_reachable():
    """A station inside the estate (0 m): a stored zero of a sparse matrix is a reachable pair."""
    Z = sp.csr_array((np.array([0.0, 400.0, 300.0, 200.0]), np.array([0, 0, 1, 1]),
                      np.array([0, 1, 3, 4])), shape=(3, 2))
    dense = np.array([[0.0, INF], [400.0, 300.0], [INF, 200.0]])
    assert fca(Z, P, S, cutoff_m=500).tolist() == pytest.approx(fca(dense, P, S, cutoff_m=500).tolist())
    assert fca(Z, P, S, cutoff_m=500).tolist() == pytest.approx([0.2, 0.26, 0.06])
    assert cumulative(Z, P, S, cutoff_m=500, how="count").tolist() == [1.0, 2.0, 1.0]


def test_e2sfca_hand():
    # weights 1 up to 150 m, 0.5 up to 500 m: R1 = 60/(100 + 100) = 0.3, R2 = 30/(100 + 150) = 0.12
    A = fca(D, P, S, method="e2sfca", decay=stepped_decay([150, 500], [1.0, 0.5]))
    assert A.tolist() == pytest.approx([0.3, 0.21, 0.06])
    assert (A * P).sum() == pytest.approx(90.0)
    with pytest.raises(InputError, match="stepped_decay"):
        fca(D, P, S, method="e2sfca", cutoff_m=500)
    lq = stepped_decay([600, 1200, 1800], LUO_QI_2009_WEIGHTS)
    assert lq(np.array([0.0, 600.0, 601.0, 1800.0, 1801.0])).tolist() == [1.0, 1.0, 0.68, 0.22, 0.0]


def test_gaussian_2sfca_matches_dai_formula_and_the_loop():
    d0 = 500.0

    def dai(d):
        return (math.exp(-0.5 * (d / d0) ** 2) - math.exp(-0.5)) / (1 - math.exp(-0.5)) if d <= d0 else 0.0

    A = fca(D, P, S, method="g2sfca", cutoff_m=d0)
    assert A.tolist() == pytest.approx(reference(D, P.tolist(), S.tolist(), dai))
    assert (A * P).sum() == pytest.approx(90.0)
    assert gaussian_decay()(np.array([0.0, d0]), d0).tolist() == pytest.approx([1.0, 0.0])


def test_3sfca_hand_and_gaussian_form():
    # binary selection: b splits half/half. R1 = 60/(100 + 100) = 0.3, R2 = 30/(100 + 300) = 0.075
    A = fca(D, P, S, method="3sfca", cutoff_m=500)
    assert A.tolist() == pytest.approx([0.3, 0.1875, 0.075])
    assert (A * P).sum() == pytest.approx(90.0)
    g = fca(D, P, S, method="3sfca", cutoff_m=500, decay=gaussian_decay())
    e = math.exp(-0.5)
    assert g.tolist() == pytest.approx(reference(
        D, P.tolist(), S.tolist(), lambda d: (math.exp(-0.5 * (d / 500) ** 2) - e) / (1 - e), True))
    assert (g * P).sum() == pytest.approx(90.0)


def test_gravity_and_user_decay():
    A = gravity(D, P, S, decay=power_decay(1.0))
    want = reference(D, P.tolist(), S.tolist(), lambda d: 1.0 / d)
    assert A.tolist() == pytest.approx(want)
    # by hand: V1 = 100/100 + 200/400 = 1.5 -> a gets 60 * (1/100) / 1.5 = 0.4
    assert A["a"] == pytest.approx(0.4)
    assert (A * P).sum() == pytest.approx(90.0)
    ex = gravity(D, P, S, decay=exponential_decay(0.01))
    assert ex.tolist() == pytest.approx(reference(D, P.tolist(), S.tolist(), lambda d: math.exp(-0.01 * d)))
    user = fca(D, P, S, cutoff_m=350, decay=lambda d: 1.0 / (1.0 + d))
    assert user.tolist() == pytest.approx(
        reference(D, P.tolist(), S.tolist(), lambda d: 1.0 / (1 + d) if d <= 350 else 0.0))
    with pytest.raises(InputError, match="finite and >= 0"):
        fca(D, P, S, cutoff_m=500, decay=lambda d: -d)
    with pytest.raises(InputError, match="one weight per cost"):
        fca(D, P, S, cutoff_m=500, decay=lambda d: d[:1])


def test_minutes_units_and_normalisation():
    m = fca(D, P, S, minutes=5)  # 5 min at the default 60 m/min = 300 m
    assert m.tolist() == pytest.approx(fca(D, P, S, cutoff_m=300).tolist())
    fast = fca(D, P, S, minutes=5, speed_m_per_min=100)
    assert fast.tolist() == pytest.approx(fca(D, P, S, cutoff_m=500).tolist())
    in_min = fca(D / 60.0, P, S, cutoff_m=300, cost_unit="min")
    assert in_min.tolist() == pytest.approx(m.tolist())
    norm = fca(D, P, S, cutoff_m=500, normalize="weighted_mean")
    # mean score = total supply reached / total demand = 90 / 600
    assert norm.tolist() == pytest.approx([0.2 / 0.15, 0.26 / 0.15, 0.06 / 0.15])
    assert (norm * P).sum() / P.sum() == pytest.approx(1.0)
    assert fca(D, P, S, cutoff_m=500, normalize="max").max() == pytest.approx(1.0)
    with pytest.raises(InputError, match="not both"):
        fca(D, P, S, cutoff_m=300, minutes=5)
    with pytest.raises(InputError, match="normalize"):
        fca(D, P, S, cutoff_m=300, normalize="z")


def test_bad_inputs_say_what_to_fix():
    with pytest.raises(InputError, match="method"):
        fca(D, P, S, method="4sfca", cutoff_m=1)
    with pytest.raises(InputError, match="needs a catchment"):
        fca(D, P, S)
    with pytest.raises(InputError, match=">= 0"):
        fca(D, P.mul(-1), S, cutoff_m=500)
    with pytest.raises(InputError, match="rows"):
        fca(D[:2], P, S, cutoff_m=500)
    with pytest.raises(InputError, match="lacks labels"):
        fca(pd.DataFrame(D[:2], index=["a", "b"], columns=S.index), P, S, cutoff_m=500)
    with pytest.raises(InputError, match="floor_area"):
        fca(D, P, S.to_frame("beds"), cutoff_m=500)


def test_network_form_equals_the_old_two_step_fca_and_the_table():
    G = nx.Graph(crs=CRS)
    G.add_node(0, x=0, y=0)
    G.add_node(1, x=1000, y=0)
    G.add_edge(0, 1, length=1000.0)
    net = WalkNetwork.from_graph(G)
    areas = gpd.GeoDataFrame({"elderly": [4, 6, 10]}, geometry=[Point(0, 0), Point(300, 0), Point(900, 0)],
                             crs=CRS, index=["a", "b", "c"])
    facs = gpd.GeoDataFrame({"floor_area_m2": [60.0, 30.0]}, geometry=[Point(100, 0), Point(800, 0)],
                            crs=CRS, index=["F", "H"])
    old = two_step_fca(net, areas, facs, cutoff_m=550)
    new = fca(net, areas, facs, cutoff_m=550)
    # F reaches a (100), b (200); H reaches b (500), c (100)
    assert new.tolist() == pytest.approx([6.0, 6.0 + 30 / 16, 30 / 16])
    assert old.tolist() == pytest.approx(new.tolist())
    od = net.distances(areas, facs, cutoff_m=550)
    assert fca(od, areas, facs, cutoff_m=550).tolist() == pytest.approx(new.tolist())
    g = fca(net, areas, facs, method="g2sfca", minutes=10)  # 600 m catchment
    dist = np.array([[100, 800], [200, 500], [800, 100]], dtype=float)
    e = math.exp(-0.5)
    assert g.tolist() == pytest.approx(reference(
        dist, [4, 6, 10], [60, 30],
        lambda d: (math.exp(-0.5 * (d / 600) ** 2) - e) / (1 - e) if d <= 600 else 0.0))
    assert areas.columns.tolist() == ["elderly", "geometry"]  # inputs untouched


def _grid(n=6, spacing=100.0, seed=3):
    rng = np.random.default_rng(seed)
    G = nx.Graph(crs=CRS)
    for i in range(n):
        for j in range(n):
            G.add_node((i, j), x=i * spacing, y=j * spacing)
    for i in range(n):
        for j in range(n):
            for di, dj in ((1, 0), (0, 1)):
                if i + di < n and j + dj < n and rng.random() < 0.85:
                    G.add_edge((i, j), (i + di, j + dj), length=spacing * (1 + rng.random()))
    G.remove_nodes_from([v for v in list(G) if G.degree(v) == 0])
    return G


@pytest.mark.parametrize("how", ["sum", "mean", "count", "min", "max"])
@pytest.mark.parametrize("decay", ["flat", "linear", "exp"])
def test_aggregate_equals_networkx_brute_force(how, decay):
    G = _grid()
    net = WalkNetwork.from_graph(G)
    nodes = sorted(G)[::3]
    pts = gpd.GeoDataFrame({"beds": np.arange(len(nodes), dtype=float) * 7 % 11},
                           geometry=[Point(G.nodes[v]["x"], G.nodes[v]["y"]) for v in nodes],
                           crs=CRS, index=[f"p{k}" for k in range(len(nodes))])
    cutoff = 250.0
    got = aggregate(net, pts, "beds", cutoff_m=cutoff, how=how, decay=decay)
    where = dict(zip(pts.index, nodes, strict=True))
    want = _brute(G, where, pts["beds"], cutoff, how, decay, list(G))
    got_d = {k: got.loc[[k]].iloc[0] for k in want}
    assert got.index.size == len(want)
    for k in want:
        assert got_d[k] == pytest.approx(want[k], nan_ok=True), k


def test_aggregate_bad_inputs():
    net = WalkNetwork.from_graph(_grid())
    pts = gpd.GeoDataFrame(geometry=[Point(0, 0)], crs=CRS, index=["p"])
    with pytest.raises(InputError, match="how"):
        aggregate(net, pts, cutoff_m=100, how="median")
    with pytest.raises(InputError, match="decay"):
        aggregate(net, pts, cutoff_m=100, decay="gauss")
    with pytest.raises(InputError, match="no entry"):
        aggregate(net, pts, pd.Series({"q": 1.0}), cutoff_m=100)
    assert aggregate(net, pts, cutoff_m=100, how="count").max() == 1.0
    with pytest.raises(InputError, match="how"):
        aggregate(net, pts, cutoff_m=100, how=[])


def test_aggregate_many_at_once_equals_one_by_one():
    net = WalkNetwork.from_graph(_grid())
    pts = gpd.GeoDataFrame({"v": [3.0, 5.0, 7.0]}, geometry=[Point(0, 0), Point(210, 95), Point(400, 300)],
                           crs=CRS, index=["p", "q", "r"])
    many = aggregate(net, pts, "v", cutoff_m=300, how=["sum", "min", "count"], decay="linear")
    for h in ("sum", "min", "count"):
        one = aggregate(net, pts, "v", cutoff_m=300, how=h, decay="linear")
        pd.testing.assert_series_equal(many[f"{h}_300m"], one)


def test_access_published_grid_example():
    """pysal/access tests/test_floating_catchment_area.py: supply 1 at each point of a
    5 x 5 unit grid, demand 1 at 5 of them, Euclidean cost. A large catchment gives
    every demand 25 / 5 = 5; a 0.9 catchment only its own point: 1."""
    from scipy.spatial.distance import cdist

    xy = np.array([(x, y) for x in range(5) for y in range(5)], dtype=float)
    rows = [0, 7, 12, 18, 24]
    cost = cdist(xy[rows], xy)
    demand = pd.Series(1.0, index=[f"d{r}" for r in rows])
    supply = pd.Series(1.0, index=[f"s{k}" for k in range(25)])
    for method in ("2sfca", "3sfca"):
        assert fca(cost, demand, supply, method=method, cutoff_m=100).tolist() == pytest.approx([5.0] * 5)
        assert fca(cost, demand, supply, method=method, cutoff_m=0.9).tolist() == pytest.approx([1.0] * 5)
    steps = stepped_decay([100.0], [1.0])
    assert fca(cost, demand, supply, method="e2sfca", decay=steps).tolist() == pytest.approx([5.0] * 5)
    norm = fca(cost, demand, supply, cutoff_m=100, normalize="weighted_mean")
    assert norm.tolist() == pytest.approx([1.0] * 5)


# ------------------------------------------------------------------ Aggregator (precompute once)
SMALL_OSM = Path(__file__).resolve().parents[1].parent / "shared" / "data" / "shanghai_center" / \
    "shanghai_huangpu_jingan_drive_osmnx.osm"


@pytest.fixture(scope="module")
def real_graph():
    """Huangpu/Jing'an streets (osmnx), the WalkNetwork on them and an independent networkx copy."""
    if not SMALL_OSM.exists():
        pytest.skip(f"shared data {SMALL_OSM.name} not available")
    ox = pytest.importorskip("osmnx")
    import warnings

    from careplan._errors import CareplanWarning
    from careplan.network import is_walkable

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        G = ox.graph_from_xml(SMALL_OSM, retain_all=True)
        warnings.simplefilter("ignore", CareplanWarning)
        net = WalkNetwork.from_graph(G)
    H = G.copy()
    H.remove_edges_from([(u, v, k) for u, v, k, d in G.edges(keys=True, data=True)
                         if d.get("highway") is None or not is_walkable(d)])
    return net, ox.convert.to_undirected(H)


def _brute(Gu, where, vals, radius, how, decay, nodes):
    """Per node: the statistic of the values of points within ``radius`` (networkx Dijkstra)."""
    near = {v: [] for v in nodes}
    for p, src in where.items():
        for v, d in nx.single_source_dijkstra_path_length(Gu, src, cutoff=radius, weight="length").items():
            if v in near:
                near[v].append((vals[p], d))
    out = {}
    for v, lst in near.items():
        x = [a for a, _ in lst]
        w = [1.0 if decay == "flat" else (1 - d / radius if decay == "linear" else math.exp(-d / radius))
             for _, d in lst]
        if how == "count":
            out[v] = float(len(lst))
        elif how == "sum":
            out[v] = sum(a * b for a, b in zip(x, w, strict=True))
        elif how == "mean":
            out[v] = sum(a * b for a, b in zip(x, w, strict=True)) / len(lst) if lst else np.nan
        else:
            out[v] = (min(x) if how == "min" else max(x)) if lst else np.nan
    return out


def test_aggregator_every_statistic_equals_networkx_on_real_streets(real_graph):
    """One search, 30 queries (5 statistics x 3 decays x 2 radii) against networkx Dijkstra."""
    net, Gu = real_graph
    rng = np.random.default_rng(7)
    nodes = net.nodes
    pos = rng.choice(len(nodes), size=40, replace=False)
    pts = gpd.GeoDataFrame({"beds": rng.integers(5, 90, size=40).astype(float)},
                           geometry=list(nodes.geometry.iloc[pos]), crs=net.crs,
                           index=[f"F{k}" for k in range(40)])
    where = dict(zip(pts.index, nodes.index[pos], strict=True))
    agg = Aggregator(net, pts, max_radius_m=800)
    assert agg.n_pairs > 1000 and agg.unreachable == []
    check = list(nodes.index[rng.choice(len(nodes), size=300, replace=False)])
    for radius in (800.0, 450.0):
        for decay in DECAYS:
            got = agg.query("beds", radius_m=radius, how=list(AGGREGATIONS), decay=decay)
            for how in AGGREGATIONS:
                want = _brute(Gu, where, pts["beds"], radius, how, decay, check)
                col = got[f"{how}_{radius:g}m"]
                assert col.loc[check].to_numpy() == pytest.approx(
                    [want[v] for v in check], rel=1e-9, abs=1e-9, nan_ok=True), (radius, decay, how)
    # a subset of the points is the same as an aggregator built on them alone
    some = pts.index[::3]
    alone = Aggregator(net, pts.loc[some], max_radius_m=800).query("beds", radius_m=600, how=["sum", "max"])
    pd.testing.assert_frame_equal(agg.query(pts["beds"].loc[some], radius_m=600, how=["sum", "max"],
                                            subset=some), alone)
    mask = pts.index.isin(some)
    pd.testing.assert_frame_equal(agg.query("beds", radius_m=600, how=["sum", "max"], subset=mask), alone)
    with pytest.raises(InputError, match="does not have"):
        agg.query(subset=["nope"])
    # the one-shot function is the same query
    one = aggregate(net, pts, "beds", cutoff_m=450, how="mean", decay="linear")
    pd.testing.assert_series_equal(one, agg.query("beds", radius_m=450, how="mean", decay="linear"))
    # minutes: 7.5 min at 60 m/min = 450 m
    pd.testing.assert_series_equal(agg.query(pts["beds"], minutes=7.5), agg.query("beds", radius_m=450))


def test_aggregator_bad_queries_say_what_to_fix():
    net = WalkNetwork.from_graph(_grid())
    pts = gpd.GeoDataFrame({"v": [1.0, 2.0]}, geometry=[Point(0, 0), Point(200, 100)], crs=CRS,
                           index=["p", "q"])
    agg = Aggregator(net, pts, max_radius_m=300)
    with pytest.raises(InputError, match="larger max_radius_m"):
        agg.query("v", radius_m=301)
    with pytest.raises(InputError, match="how"):
        agg.query("v", how="median")
    with pytest.raises(InputError, match="no column"):
        agg.query("w")
    with pytest.raises(InputError, match="max_radius_m"):
        Aggregator(net, pts)
    with pytest.raises(InputError, match="WalkNetwork"):
        Aggregator(D, pts, max_radius_m=300)
    # a point beyond max_snap_m is warned, listed and reaches nothing (never dropped silently)
    far = pd.concat([pts, gpd.GeoDataFrame({"v": [5.0]}, geometry=[Point(5000, 5000)], crs=CRS, index=["r"])])
    with pytest.warns(CareplanWarning):
        agg_far = Aggregator(net, far, max_radius_m=300, max_snap_m=50)
    assert agg_far.unreachable == ["r"]
    pd.testing.assert_series_equal(agg_far.query("v"), agg.query("v"))
    # a careplan decay works too (Gaussian weights of the walk)
    g = agg.query("v", decay=gaussian_decay())
    assert np.isfinite(g).all() and (g <= 3.0).all()
    assert "max_radius_m=300" in repr(agg)


def test_cumulative_hand_and_every_cost_form():
    # within 350 m: a reaches f1 (100 m); b reaches f2 (300 m); c reaches f2 (200 m)
    got = cumulative(D, P, S, cutoff_m=350, how=["sum", "count", "min"])
    assert got["sum_350m"].tolist() == [60.0, 30.0, 30.0]
    assert got["count_350m"].tolist() == [1.0, 1.0, 1.0]
    lin = cumulative(D, P.index, S, cutoff_m=500, decay="linear")
    # b: 60 * (1 - 400/500) + 30 * (1 - 300/500) = 12 + 12
    assert lin.tolist() == pytest.approx([60 * 0.8, 24.0, 30 * 0.6])
    wide = pd.DataFrame(D, index=P.index, columns=S.index)
    for cost, kw in ((long_table(), {}), (wide, {}), (long_table(D.T, S.index, P.index), {"origin": "supply"}),
                     (D / 60.0, {"cost_unit": "min"})):
        c = cumulative(cost, P, S, cutoff_m=500, decay="linear", **kw)
        assert c.tolist() == pytest.approx(lin.tolist())
    assert cumulative(D, P, S, cutoff_m=100, how="mean").isna().tolist() == [False, True, True]
    with pytest.raises(InputError, match="catchment"):
        cumulative(D, P, S)


def test_cumulative_on_a_network_equals_the_table(real_graph):
    net, _ = real_graph
    nodes = net.nodes
    est = gpd.GeoDataFrame(geometry=list(nodes.geometry.iloc[:60:3]), crs=net.crs,
                           index=[f"E{k}" for k in range(20)])
    fac = gpd.GeoDataFrame({"beds": np.arange(15, dtype=float) + 1}, geometry=list(nodes.geometry.iloc[5:80:5]),
                           crs=net.crs, index=[f"F{k}" for k in range(15)])
    by_net = cumulative(net, est, fac, minutes=12, supply_col="beds", how=["sum", "max"])
    od = net.distances(est, fac, cutoff_m=720)
    by_table = cumulative(od, est, fac, cutoff_m=720, supply_col="beds", how=["sum", "max"])
    pd.testing.assert_frame_equal(by_net, by_table)
    hand = od.assign(beds=fac["beds"].reindex(od["destination"]).to_numpy()).groupby("origin")["beds"].sum()
    assert by_net["sum_720m"].reindex(hand.index).tolist() == pytest.approx(hand.tolist())


def test_2sfca_conserves_supply_on_real_streets(real_graph):
    """Luo & Wang (2003): sum_i P_i A_i = total supply of the facilities with demand in reach."""
    net, _ = real_graph
    rng = np.random.default_rng(11)
    nodes = net.nodes
    pick = rng.choice(len(nodes), size=70, replace=False)
    est = gpd.GeoDataFrame({"elderly": rng.integers(0, 600, size=40).astype(float)},
                           geometry=list(nodes.geometry.iloc[pick[:40]]), crs=net.crs,
                           index=[f"E{k}" for k in range(40)])
    fac = gpd.GeoDataFrame({"floor_area_m2": rng.integers(100, 900, size=30).astype(float)},
                           geometry=list(nodes.geometry.iloc[pick[40:]]), crs=net.crs,
                           index=[f"F{k}" for k in range(30)])
    od = net.distances(est, fac, cutoff_m=400)
    with_demand = od[od["origin"].isin(est.index[est["elderly"] > 0])]["destination"].unique()
    reached = fac.loc[with_demand, "floor_area_m2"].sum()
    assert 0 < len(with_demand) < len(fac)  # some supply is out of every catchment: the test can fail
    for method, kw in (("2sfca", {}), ("g2sfca", {}), ("3sfca", {}), ("3sfca", {"decay": gaussian_decay()})):
        A = fca(net, est, fac, method=method, cutoff_m=400, **kw)
        assert (A * est["elderly"]).sum() == pytest.approx(reached, rel=1e-9), method


def test_access_published_weighted_catchment_examples():
    """pysal/access tests/test_weighted_catchment.py: supply 1 at each point of a 5 x 5
    unit grid, Euclidean cost. One demand point: a 0.5 catchment holds its own point
    (1; 0.5 with a step weight of 0.5), a 10 catchment all 25 (normalised: 1). Every
    point as demand with access's gravity weight (d / 60) ** 1 over the whole grid:
    the published values at ids 1, 5, 13, 19, 24."""
    from scipy.spatial.distance import cdist

    xy = np.array([(x, y) for x in range(5) for y in range(5)], dtype=float)
    ids = pd.Index(range(1, 26))
    long = pd.DataFrame([(ids[i], ids[j], d) for i, row in enumerate(cdist(xy, xy)) for j, d in enumerate(row)],
                        columns=["origin", "destination", "distance_m"])
    supply = pd.Series(1.0, index=ids)
    one = pd.Series(1.0, index=[13])
    small = long[long["origin"] == 13]
    assert cumulative(small, one, supply, cutoff_m=0.5).tolist() == [1.0]
    half = stepped_decay([0.5], [0.5])
    assert cumulative(small, one, supply, cutoff_m=0.5, decay=half).tolist() == [0.5]
    assert cumulative(small, one, supply, cutoff_m=10).tolist() == [25.0]
    assert cumulative(small, one, supply, cutoff_m=10, normalize="weighted_mean").tolist() == [1.0]
    grav = cumulative(long, pd.Series(1.0, index=ids), supply, cutoff_m=100, decay=lambda d: d / 60.0)
    assert grav.loc[[1, 5, 13, 19, 24]].tolist() == pytest.approx(
        [1.322340210, 1.322340210, 0.780985109, 0.925540119, 1.133733026])
