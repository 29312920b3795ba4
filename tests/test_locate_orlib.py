"""OR-Library p-median instances (Beasley) through the walking network and the models.

The files are graphs (``n m p`` then ``i j cost`` edges; a repeated edge takes the
last cost). The graph goes through :meth:`WalkNetwork.from_graph` (node positions
on a large circle, so every edge's straight line meets the others only at shared
ends and every point snaps onto its own node; edge lengths are the file's costs),
the all-pairs walking distances are checked against networkx's Dijkstra, and the
models must reach the published optima (Beasley 1990, OR-Library ``pmedinfo``;
p-center optima as given in ``../shared/data/SOURCES.md``).
"""

from __future__ import annotations

from pathlib import Path

import geopandas as gpd
import networkx as nx
import numpy as np
import pytest
import shapely

from careplan import WalkNetwork
from careplan.locate import PCenter, PMedian

ORLIB = Path(__file__).resolve().parents[1] / ".." / "shared" / "data" / "orlib"
PUBLISHED = {"pmed1": (5, 5819.0, 127.0), "pmed5": (33, 1355.0, 48.0)}


def _graph(name: str) -> tuple[nx.Graph, int]:
    lines = (ORLIB / f"{name}.txt").read_text().split("\n")
    n, _, p = (int(v) for v in lines[0].split())
    G = nx.Graph(crs="EPSG:3857")
    ang = 2 * np.pi * np.arange(n) / n
    for k in range(n):
        G.add_node(k + 1, x=1e6 * np.cos(ang[k]), y=1e6 * np.sin(ang[k]))
    for line in lines[1:]:
        if line.strip():
            i, j, c = (int(v) for v in line.split())
            G.add_edge(i, j, length=float(c))  # a repeated edge: the last cost wins
    return G, p


@pytest.fixture(scope="module", params=sorted(PUBLISHED))
def orlib(request):
    if not ORLIB.is_dir():
        pytest.skip("../shared/data/orlib is not available")
    name = request.param
    G, p = _graph(name)
    net = WalkNetwork.from_graph(G, walkable_only=False)
    pts = gpd.GeoDataFrame(geometry=[shapely.Point(G.nodes[v]["x"], G.nodes[v]["y"]) for v in G.nodes],
                           index=list(G.nodes), crs="EPSG:3857")
    D = net.distance_matrix(pts, pts, cutoff_m=1e9).toarray()
    return name, G, p, D


def test_network_distances_equal_networkx(orlib):
    name, G, p, D = orlib
    ref = dict(nx.all_pairs_dijkstra_path_length(G, weight="length"))
    nodes = list(G.nodes)
    R = np.array([[ref[u][v] for v in nodes] for u in nodes])
    assert D.shape == (100, 100)
    np.testing.assert_allclose(D, R, rtol=0, atol=1e-6)


def test_published_p_median_optimum(orlib):
    name, _, p, D = orlib
    assert p == PUBLISHED[name][0]
    res = PMedian(p=p).solve(D)
    assert res.objective == pytest.approx(PUBLISHED[name][1], abs=1e-6)
    assert res.status == "optimal" and res.gap <= 1e-6


def test_published_p_center_optimum(orlib):
    name, _, p, D = orlib
    res = PCenter(p=p).solve(D)
    assert res.objective == pytest.approx(PUBLISHED[name][2], abs=1e-6)
    assert res.status == "optimal"
