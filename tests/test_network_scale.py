"""The vectorised network build (issue 15.2) against a per-way, per-node reference.

``WalkNetwork.from_file`` splits OSM ways into edges without a Python loop per way or
per edge (a million-node city spent most of its build there). These tests write small
``.osm.pbf`` files with pyosmium and check the edges against an independent loop over
the ways: split at every node used twice or at a way's end, length = the sum of the
great-circle segment lengths (the osmnx formula, computed here with ``math``).
"""

from __future__ import annotations

import math
import warnings
from collections import Counter

import numpy as np
import pytest

from careplan import CareplanWarning, WalkNetwork
from careplan.network._build import _ordered_sums

osmium = pytest.importorskip("osmium")

R_EARTH_M = 6_371_009.0


def _gc(lat1, lon1, lat2, lon2):
    y1, y2 = math.radians(lat1), math.radians(lat2)
    dy, dx = y2 - y1, math.radians(lon2) - math.radians(lon1)
    h = math.sin(dy / 2) ** 2 + math.cos(y1) * math.cos(y2) * math.sin(dx / 2) ** 2
    return 2 * math.asin(math.sqrt(min(1.0, h))) * R_EARTH_M


def _write(path, nodes, ways):
    from osmium.osm import mutable

    w = osmium.SimpleWriter(str(path))
    try:
        for i, (lon, lat) in nodes.items():
            w.add_node(mutable.Node(id=i, location=(lon, lat)))
        for k, refs in enumerate(ways, start=1):
            w.add_way(mutable.Way(id=k, nodes=refs, tags={"highway": "residential"}))
    finally:
        w.close()


def _reference_edges(nodes, ways):
    """Per way, per node: split at shared nodes and ends; (sorted ends, length, n points)."""
    uses = Counter(r for refs in ways for r in refs)
    out = []
    for refs in ways:
        cut = [0] + [i for i in range(1, len(refs) - 1) if uses[refs[i]] > 1] + [len(refs) - 1]
        for a, b in zip(cut[:-1], cut[1:], strict=True):
            length = 0.0
            for i in range(a, b):
                (lo1, la1), (lo2, la2) = nodes[refs[i]], nodes[refs[i + 1]]
                length += _gc(la1, lo1, la2, lo2)
            out.append((min(refs[a], refs[b]), max(refs[a], refs[b]), length, b - a + 1))
    return out


def _city(seed: int, side: int = 14):
    """A jittered grid of ways with intermediate (degree-2) nodes, gaps between runs,
    a few diagonal ways through grid nodes and one closed loop."""
    rng = np.random.default_rng(seed)
    nodes, nid = {}, {}
    for i in range(side):
        for j in range(side):
            k = len(nodes) + 1
            nid[i, j] = k
            nodes[k] = (121.4 + j * 0.0011 + rng.uniform(-2e-4, 2e-4),
                        31.2 + i * 0.0009 + rng.uniform(-2e-4, 2e-4))
    ways = []

    def add_run(cells):
        refs = []
        for c0, c1 in zip(cells[:-1], cells[1:], strict=True):
            if not refs:
                refs.append(nid[c0])
            # an intermediate shape node half way (used by this way only)
            k = len(nodes) + 1
            (x0, y0), (x1, y1) = nodes[nid[c0]], nodes[nid[c1]]
            nodes[k] = ((x0 + x1) / 2 + rng.uniform(-5e-5, 5e-5), (y0 + y1) / 2)
            refs += [k, nid[c1]]
        ways.append(refs)

    for i in range(side):
        for line in ([(i, j) for j in range(side)], [(j, i) for j in range(side)]):
            run = [line[0]]
            for c in line[1:]:
                if rng.random() < 0.1 and len(run) > 1:  # a removed segment ends the way
                    add_run(run)
                    run = [c]
                else:
                    run.append(c)
            if len(run) > 1:
                add_run(run)
    for d in range(0, side - 3, 4):  # diagonals through grid nodes
        ways.append([nid[d + t, t] for t in range(side - d)])
    ways.append([nid[1, 1], nid[1, 2], nid[2, 2], nid[2, 1], nid[1, 1]])  # closed loop
    # the coordinates a .pbf holds: 1e-7 degree fixed point
    return {k: (round(x * 1e7) / 1e7, round(y * 1e7) / 1e7) for k, (x, y) in nodes.items()}, ways


@pytest.mark.parametrize("seed", [1, 2])
def test_from_file_edges_equal_per_way_loop(tmp_path, seed):
    nodes, ways = _city(seed)
    path = tmp_path / f"city{seed}.osm.pbf"
    _write(path, nodes, ways)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", CareplanWarning)
        net = WalkNetwork.from_file(path, keep="all")
    ref = _reference_edges(nodes, ways)
    ids = np.asarray(net.node_ids)
    u, v = ids[net.edge_u], ids[net.edge_v]
    npts = [len(g.coords) for g in net.edge_geometry]
    got = sorted((int(min(a, b)), int(max(a, b)), float(L), n)
                 for a, b, L, n in zip(u, v, net.edge_length_m, npts, strict=True))
    exp = sorted(ref)
    assert len(got) == len(exp)
    for g, e in zip(got, exp, strict=True):
        assert g[:2] == e[:2] and g[3] == e[3]
        assert g[2] == pytest.approx(e[2], rel=1e-12, abs=1e-9)
    # the osmid of each edge is its way's
    assert set(net.edges["osmid"]) == set(range(1, len(ways) + 1))


def test_ordered_sums_equal_slices():
    rng = np.random.default_rng(0)
    v = rng.uniform(0, 100, 500)
    cuts = np.sort(rng.choice(np.arange(1, 500), size=60, replace=False))
    starts, ends = cuts[:-1:2], cuts[1::2]
    got = _ordered_sums(v[:-1], starts, ends)  # ranges touching the last value too
    exp = [v[s:e].sum() for s, e in zip(starts, ends, strict=True)]
    assert np.allclose(got, exp, rtol=1e-13, atol=0)
    assert _ordered_sums(v, np.array([0, 3]), np.array([3, 500])).tolist() == pytest.approx(
        [v[:3].sum(), v[3:].sum()], rel=1e-13)
    assert _ordered_sums(v, np.zeros(0, int), np.zeros(0, int)).size == 0
