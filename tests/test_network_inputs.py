"""Network inputs as they come: OSM files from common tools, graphs read from files, 3-D points.

Each kind of input is a small file or graph written by the test (issue 14 items
6-8, issue 11 item 8). Expected networks are either a hand-built clean file of the
same streets (what the editor shows) or distances computed here with an
independent haversine; graph round trips are compared with the graph before
saving; service areas (issue 15 item 1) with a networkx Dijkstra computation.
"""

from __future__ import annotations

import bz2
import gzip
import math
import re
import subprocess
import sys
import warnings
from pathlib import Path

import geopandas as gpd
import networkx as nx
import numpy as np
import pytest
import shapely
import shapely.ops
from shapely.geometry import LineString, Point

from careplan._errors import CareplanWarning, InputError
from careplan._reach import DEFAULT_QUAD_SEGS
from careplan.coverage import service_areas, two_step_fca, walk_coverage
from careplan.network import WalkNetwork

DATA = Path(__file__).resolve().parents[1].parent / "shared" / "data"
SMALL_OSM = DATA / "shanghai_center" / "shanghai_huangpu_jingan_drive_osmnx.osm"
OAKLAND = DATA / "west_oakland_us" / "West-Oakland.osm.bz2"
NANJING = DATA / "nanjing_xuanwu" / "nanjing_xuanwu_overpass_2021-06-12.osm"
CRS = "EPSG:32651"
R_EARTH = 6_371_009.0


def need(path: Path) -> Path:
    if not path.exists():
        pytest.skip(f"shared data {path.name} not available")
    return path


def haversine(a, b) -> float:
    """Great-circle metres between (lat, lon) pairs (independent of careplan)."""
    (la1, lo1), (la2, lo2) = a, b
    p1, p2 = math.radians(la1), math.radians(la2)
    dp, dl = p2 - p1, math.radians(lo2 - lo1)
    h = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * R_EARTH * math.asin(math.sqrt(h))


# ----------------------------------------------------------- OSM file builders
# A plus-shaped crossing near People's Square: centre 1, arms 2 (west), 3 (east),
# 4 (south), 5 (north), each about 100 m from the centre.
PLUS = {1: (31.2300, 121.4700), 2: (31.2300, 121.46895), 3: (31.2300, 121.47105),
        4: (31.2291, 121.4700), 5: (31.2309, 121.4700)}
PLUS_WAYS = {10: [2, 1, 3], 11: [4, 1, 5]}
HEAD = '<?xml version="1.0" encoding="UTF-8"?>\n'


def node_xml(i, lat, lon, extra=""):
    return f'  <node id="{i}" lat="{lat}" lon="{lon}" {extra}/>\n'


def way_xml(i, refs, extra="", tags=(("highway", "residential"),), geom=None):
    nds = "".join(f'<nd ref="{r}"/>' if geom is None
                  else f'<nd ref="{r}" lat="{geom[r][0]}" lon="{geom[r][1]}"/>' for r in refs)
    tg = "".join(f'<tag k="{k}" v="{v}"/>' for k, v in tags)
    return f'  <way id="{i}" {extra}>{nds}{tg}</way>\n'


def osm_text(nodes=PLUS, ways=PLUS_WAYS, *, root='<osm version="0.6" generator="test">',
             before="", between="", after="", node_extra=None, way_extra=None,
             ways_first=False):
    node_extra = node_extra or {}
    way_extra = way_extra or {}
    ns = "".join(node_xml(i, *c, node_extra.get(i, "")) for i, c in nodes.items())
    ws = "".join(way_xml(i, r, way_extra.get(i, "")) for i, r in ways.items())
    body = (ws + between + ns) if ways_first else (ns + between + ws)
    return HEAD + root + "\n" + before + body + after + "</osm>\n"


def build(path: Path, **kw) -> tuple[WalkNetwork, list[str]]:
    with warnings.catch_warnings(record=True) as rec:
        warnings.simplefilter("always")
        net = WalkNetwork.from_file(path, **kw)
    return net, [str(w.message) for w in rec if issubclass(w.category, CareplanWarning)]


def signature(net: WalkNetwork) -> list[tuple[float, float, float, float, float]]:
    """Edges as sorted (x_u, y_u, x_v, y_v, length) rounded: comparable across node ids."""
    e = net.edges
    out = []
    for g, L in zip(e.geometry, e["length_m"], strict=True):
        (x0, y0), (x1, y1) = g.coords[0], g.coords[-1]
        a, b = sorted([(round(x0, 2), round(y0, 2)), (round(x1, 2), round(y1, 2))])
        out.append((*a, *b, round(float(L), 4)))
    return sorted(out)


@pytest.fixture
def clean(tmp_path):
    p = tmp_path / "clean.osm"
    p.write_text(osm_text())
    net, msgs = build(p)
    assert msgs == []
    assert net.n_nodes == 5 and net.n_edges == 4
    # hand check: every arm is its haversine length
    expect = sorted(round(haversine(PLUS[1], PLUS[k]), 4) for k in (2, 3, 4, 5))
    assert sorted(s[-1] for s in signature(net)) == pytest.approx(expect, abs=1e-3)
    return signature(net)


# ------------------------------------------------- 14.6 clipped extracts: gaps
def test_clipped_way_is_split_at_missing_nodes_never_bridged(tmp_path):
    # way 100 = 1-2-3-4 with 2 and 3 (1 km north) missing from the extract; the
    # real detour 1-5-6-4 (present) is about 2.3 km; a bridge 1-4 would be 100 m.
    nodes = {1: (31.2000, 121.4000), 4: (31.2000, 121.40105),
             5: (31.2100, 121.4000), 6: (31.2100, 121.40105),
             7: (31.1900, 121.4000), 8: (31.1900, 121.4010),
             9: (31.1900, 121.4030), 10: (31.1900, 121.4040)}
    ways = {100: [1, 2, 3, 4], 101: [1, 5, 6, 4], 102: [7, 8, 3, 9, 10]}
    p = tmp_path / "clipped.osm"
    p.write_text(osm_text(nodes, ways))
    net, msgs = build(p, keep="all")
    gap_msgs = [m for m in msgs if "gap" in m]
    assert len(gap_msgs) == 1, msgs
    # two gaps (2-3 in way 100, 3 in way 102), three missing references
    assert "2 gap(s)" in gap_msgs[0] and "3 " in gap_msgs[0]
    assert "way 100" in gap_msgs[0] and "way 102" in gap_msgs[0]
    d = net.node_distances([1], cutoff_m=10_000).set_index("node")["distance_m"]
    detour = (haversine(nodes[1], nodes[5]) + haversine(nodes[5], nodes[6])
              + haversine(nodes[6], nodes[4]))
    assert d[4] == pytest.approx(detour, rel=1e-9)
    assert d[4] > 2000
    # way 102 keeps its present pieces 7-8 and 9-10, not joined across node 3
    d7 = net.node_distances([7], cutoff_m=10_000).set_index("node")["distance_m"]
    assert d7[8] == pytest.approx(haversine(nodes[7], nodes[8]), rel=1e-9)
    assert 9 not in d7.index and 10 not in d7.index
    assert set(net.edges["osmid"]) == {101, 102}


def test_way_with_only_missing_nodes_left_out(tmp_path):
    p = tmp_path / "allgone.osm"
    p.write_text(osm_text(PLUS, {**PLUS_WAYS, 12: [77, 78, 79]}))
    net, msgs = build(p)
    assert net.n_edges == 4
    assert any("way 12" in m for m in msgs)


# ------------------------------------------- 14.6 files written by common tools
def _josm(deleted_way=True):
    # JOSM: negative ids for new objects, action="modify"/"delete", upload flags
    nodes = {-k: c for k, c in PLUS.items()}
    nodes[-6] = (31.2309, 121.46895)
    extra = {-6: 'action="delete"'}
    ways = {-10: [-2, -1, -3], -11: [-4, -1, -5]}
    wextra = {-10: 'action="modify"'}
    if deleted_way:
        ways[-12] = [-2, -6, -5]
        wextra[-12] = 'action="delete" visible="true"'
    return osm_text(nodes, ways, root='<osm version="0.6" upload="never" generator="JOSM">',
                    node_extra=extra, way_extra=wextra)


def _history():
    # osmium / osmosis history style: several versions, last one wins; deleted = visible=false
    h = HEAD + '<osm version="0.6" generator="osmium/1.16.0">\n'
    h += '  <bounds minlat="31.22" minlon="121.46" maxlat="31.24" maxlon="121.48"/>\n'
    h += node_xml(1, 31.25, 121.45, 'version="1" visible="true"')
    for k, c in PLUS.items():
        h += node_xml(k, *c, 'version="2" visible="true"' if k == 1 else 'version="1"')
    h += node_xml(6, 31.2309, 121.46895, 'version="1" visible="true"')
    h += '  <node id="6" version="2" visible="false"/>\n'
    h += way_xml(10, [2, 1], 'version="1" visible="true"')
    h += way_xml(10, [2, 1, 3], 'version="2" visible="true"')
    h += way_xml(11, [4, 1, 5], 'version="1"')
    h += way_xml(12, [2, 6, 5], 'version="1" visible="true"')
    h += '  <way id="12" version="2" visible="false"/>\n'
    return h + "</osm>\n"


META = 'version="3" changeset="123" user="张三" uid="42" timestamp="2021-06-12T00:00:00Z"'
KINDS = {
    "josm": _josm,
    "josm_visible_false": lambda: osm_text(
        {**PLUS, 6: (31.2309, 121.46895)}, {**PLUS_WAYS, 12: [2, 6, 5]},
        node_extra={6: 'visible="false"'}, way_extra={12: 'visible="false"'}),
    "api_download": lambda: osm_text(
        root='<osm version="0.6" generator="CGImap 0.8.3" copyright="OpenStreetMap and '
             'contributors" attribution="http://www.openstreetmap.org/copyright" '
             'license="http://opendatacommons.org/licenses/odbl/1-0/">',
        before='  <bounds minlat="31.22" minlon="121.46" maxlat="31.24" maxlon="121.48"/>\n',
        node_extra={k: META for k in PLUS}, way_extra={k: META for k in PLUS_WAYS},
        after='  <relation id="900" version="1"><member type="way" ref="10" role=""/>'
              '<member type="node" ref="99999" role=""/><tag k="type" v="route"/></relation>\n'),
    "overpass_ways_first": lambda: osm_text(
        root='<osm version="0.6" generator="Overpass API 0.7.62.7 e90b2b6e">',
        before='<note>The data included in this document is from www.openstreetmap.org.</note>\n'
               '<meta osm_base="2025-08-09T12:00:00Z"/>\n', ways_first=True),
    "overpass_out_geom": lambda: HEAD + '<osm version="0.6" generator="Overpass API">\n'
        + "".join(way_xml(i, r, geom=PLUS) for i, r in PLUS_WAYS.items()) + "</osm>\n",
    "osmium_history": _history,
    "osmconvert": lambda: osm_text(
        root='<osm version="0.6" generator="osmconvert 0.8.10">',
        before='\t<bound box="31.22000,121.46000,31.24000,121.48000" '
               'origin="0.40.1"/>\n'),
    "osmosis": lambda: osm_text(
        root="<osm version='0.6' generator='Osmosis 0.48.3'>",
        before="  <bound box='31.22,121.46,31.24,121.48' origin='Osmosis 0.48.3'/>\n"),
    "changesets": lambda: osm_text(
        between='  <changeset id="123" created_at="2021-01-01T00:00:00Z" open="false" '
                'min_lat="31.2" min_lon="121.4" max_lat="31.3" max_lon="121.5" user="a" '
                'uid="1"><tag k="comment" v="add streets"/></changeset>\n'),
}


@pytest.mark.parametrize("kind", sorted(KINDS))
def test_tool_outputs_read_as_the_editor_shows_them(kind, tmp_path, clean):
    p = tmp_path / f"{kind}.osm"
    p.write_text(KINDS[kind](), encoding="utf-8")
    net, msgs = build(p)
    assert signature(net) == clean, (kind, msgs)
    assert not [m for m in msgs if "gap" in m or "missing" in m], msgs


@pytest.mark.parametrize("suffix", [".osm.bz2", ".osm.gz"])
def test_compressed_editor_files_keep_deletions(suffix, tmp_path, clean):
    raw = _josm().encode()
    p = tmp_path / f"josm{suffix}"
    p.write_bytes(bz2.compress(raw) if suffix.endswith("bz2") else gzip.compress(raw))
    net, _ = build(p)
    assert signature(net) == clean


def test_deleted_way_alone_is_not_a_street(tmp_path, clean):
    # without the deletion handling the deleted way -12 would add two edges
    p = tmp_path / "josm_no_delete.osm"
    p.write_text(_josm(deleted_way=False))
    assert signature(build(p)[0]) == clean


# ------------------------------------------------ 11.8 nodes with bad coordinates
@pytest.mark.parametrize("lat", ["nan", "abc", "", "95", "inf", "-1e999"])
def test_bad_node_coordinates_skip_the_node_with_a_warning(lat, tmp_path):
    nodes = {k: (lat if k == 3 else c[0], c[1]) for k, c in PLUS.items()}
    p = tmp_path / "bad.osm"
    p.write_text(osm_text(nodes))
    net, msgs = build(p)
    bad = [m for m in msgs if "node 3" in m]
    assert len(bad) == 1, msgs
    assert "coordinate" in bad[0]
    # the east arm 1-3 is gone, the rest intact
    assert net.n_edges == 3 and net.n_nodes == 4
    assert 3 not in set(net.node_ids)


@pytest.mark.parametrize("lat", ["+31.2300", " 31.2300 ", "3.123e1", "31.23000000001"])
def test_coordinates_in_other_number_forms_read_as_numbers(lat, tmp_path, clean):
    # pyosmium refuses '+' and spaces and reads exponents; each is the number it says
    nodes = {k: (lat if k == 3 else c[0], c[1]) for k, c in PLUS.items()}
    p = tmp_path / "forms.osm"
    p.write_text(osm_text(nodes))
    net, msgs = build(p)
    assert msgs == []
    assert signature(net) == clean


def test_only_bad_coordinates_is_an_input_error(tmp_path):
    nodes = {k: ("nan", c[1]) for k, c in PLUS.items()}
    p = tmp_path / "allbad.osm"
    p.write_text(osm_text(nodes))
    with pytest.raises(InputError, match="node"):
        build(p)


def test_cli_plan_with_bad_coordinate_network(tmp_path):
    """`careplan plan` on a network file with a lat="nan" node: warns and plans (exit 0)."""
    import careplan

    sample = Path(careplan.__file__).parent / "datasets"
    text = bz2.decompress((sample / "nanjing_xuanwu.osm.bz2").read_bytes()).decode()
    # the second node of the first residential street
    ways = re.findall(r"<way\b.*?</way>", text, re.S)
    way = next(w for w in ways if 'k="highway" v="residential"' in w)
    node_id = re.findall(r'<nd ref="(-?\d+)"', way)[1]
    i = re.search(rf'<node id="{node_id}"', text).start()
    j = text.index('lat="', i) + 5
    k = text.index('"', j)
    (tmp_path / "net.osm").write_text(text[:j] + "nan" + text[k:])
    cfg = tmp_path / "plan.toml"
    gpkg = (sample / "sample.gpkg").as_posix()
    cfg.write_text(f'[inputs]\nareas = "{gpkg}"\nareas_layer = "areas"\n'
                   f'facilities = "{gpkg}"\nfacilities_layer = "facilities"\n'
                   'network = "net.osm"\n[plan]\nstandard = "jinwan-2020"\n'
                   '[output]\ndir = "out"\n')
    r = subprocess.run([sys.executable, "-m", "careplan.cli", "plan", str(cfg)],
                       capture_output=True, text=True, timeout=600,
                       env={"PYTHONPATH": str(Path(careplan.__file__).parents[1]),
                            "CAREPLAN_QUIET": "1", "PATH": "/usr/bin:/bin"})
    assert "Traceback" not in r.stderr
    assert r.returncode == 0, r.stderr[-2000:]
    assert f"node {node_id}" in r.stderr
    assert (tmp_path / "out" / "report.html").exists()


# ---------------------------------------------------- 14.7 graphs read from files
def _typed_and_string_graph(tmp_path):
    ox = pytest.importorskip("osmnx")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        G = ox.graph_from_xml(need(SMALL_OSM), retain_all=True)
    path = tmp_path / "g.graphml"
    ox.save_graphml(G, path)
    H = nx.read_graphml(path)  # every attribute comes back as a string
    return G, H


def test_graphml_round_trip_equals_the_original_graph(tmp_path):
    G, H = _typed_and_string_graph(tmp_path)
    e = next(iter(H.edges(data=True)))[2]
    assert isinstance(e["length"], str)
    assert any(isinstance(d.get("geometry"), str) for _, _, d in H.edges(data=True))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", CareplanWarning)
        a = WalkNetwork.from_graph(G)
        b = WalkNetwork.from_graph(H)
    assert (a.n_nodes, a.n_edges) == (b.n_nodes, b.n_edges)
    assert signature(a) == signature(b)
    ea, eb = a.edges, b.edges
    assert shapely.equals_exact(np.asarray(sorted(ea.geometry, key=lambda g: g.wkb)),
                                np.asarray(sorted(eb.geometry, key=lambda g: g.wkb)),
                                tolerance=1e-6).all()
    # osmid strings ("123" or "[1, 2]") come back as the numbers osmnx had
    assert sorted(map(str, ea["osmid"])) == sorted(map(str, eb["osmid"]))
    # distances through the public API are identical (this raised TypeError before)
    rng = np.random.default_rng(7)
    x0, y0, x1, y1 = ea.total_bounds
    pts = gpd.GeoDataFrame(geometry=gpd.points_from_xy(rng.uniform(x0, x1, 40),
                                                       rng.uniform(y0, y1, 40)), crs=a.crs)
    da = a.distances(pts, pts, cutoff_m=800)
    db = b.distances(pts, pts, cutoff_m=800)
    assert len(da) > 100
    np.testing.assert_allclose(da["distance_m"], db["distance_m"], rtol=1e-12, atol=1e-9)
    assert (da[["origin", "destination"]].to_numpy() == db[["origin", "destination"]].to_numpy()).all()


def string_graph():
    """A 3-node graph with attributes as networkx.read_graphml returns them (strings)."""
    G = nx.MultiDiGraph(crs="epsg:4326")
    for n, (x, y) in {"1": (121.47, 31.23), "2": (121.471, 31.23), "3": (121.471, 31.231)}.items():
        G.add_node(n, x=str(x), y=str(y), osmid=n, street_count="2")
    G.add_edge("1", "2", key=0, length="95.3", osmid="[11, 12]", highway="['residential', 'footway']",
               geometry="LINESTRING (121.47 31.23, 121.4705 31.2301, 121.471 31.23)",
               oneway="False", reversed="['False', 'True']")
    G.add_edge("2", "3", key=0, length="111.2", osmid="13", highway="residential")
    G.add_edge("2", "1", key=0, length="95.3", osmid="[11, 12]",
               highway="['residential', 'footway']",
               geometry="LINESTRING (121.471 31.23, 121.4705 31.2301, 121.47 31.23)")
    return G


def test_string_attributes_are_parsed():
    net = WalkNetwork.from_graph(string_graph())
    assert net.n_edges == 2
    e = net.edges.sort_values("length_m")
    assert list(e["length_m"]) == [95.3, 111.2]
    assert list(e["osmid"]) == ["11;12", 13]
    assert list(e["highway"]) == ["residential;footway", "residential"]
    assert len(e.geometry.iloc[0].coords) == 3  # the WKT geometry, projected


def test_string_list_tags_feed_the_walkable_filter():
    G = string_graph()
    G.edges["2", "3", 0]["highway"] = "['motorway', 'motorway_link']"
    with pytest.warns(CareplanWarning, match="not walkable"):
        net = WalkNetwork.from_graph(G, keep="all")
    assert net.n_edges == 1


@pytest.mark.parametrize("where, attr, value, match", [
    ("node", "x", "abc", r"node '2'.*'x'"),
    ("node", "y", "nan", r"node '2'.*'y'"),
    ("edge", "length", "12 m", r"edge \('2', '3', 0\).*'length'"),
    ("edge", "length", "-5", r"edge \('2', '3', 0\).*'length'"),
    ("edge", "geometry", "LINESTRING (121.47 31.23, 121.4", r"edge \('2', '3', 0\).*'geometry'"),
    ("edge", "geometry", "POINT (121.47 31.23)", r"edge \('2', '3', 0\).*'geometry'"),
    ("edge", "geometry", 5.0, r"edge \('2', '3', 0\).*'geometry'"),
])
def test_unparseable_attributes_fail_at_build_time(where, attr, value, match):
    G = string_graph()
    if where == "node":
        G.nodes["2"][attr] = value
    else:
        G.edges["2", "3", 0][attr] = value
    with pytest.raises(InputError, match=match):
        WalkNetwork.from_graph(G)


# ------------------------------------------------------------------ 14.8 3-D points
def grid_net(n=4, spacing=100.0) -> WalkNetwork:
    """An n x n street grid from centre-lines (rows and columns, noded where they cross)."""
    span = (n - 1) * spacing
    lines = [LineString([(0, k * spacing), (span, k * spacing)]) for k in range(n)]
    lines += [LineString([(k * spacing, 0), (k * spacing, span)]) for k in range(n)]
    return WalkNetwork.from_lines(gpd.GeoSeries(lines, crs=CRS))


def test_z_coordinates_dropped_with_one_note():
    net = grid_net()
    xy = [(20, 30), (250, 110), (310, 290)]
    flat = gpd.GeoDataFrame({"level": "community", "floor_area_m2": 100.0},
                            geometry=[Point(p) for p in xy], crs=CRS, index=["a", "b", "c"])
    z = flat.set_geometry(shapely.force_3d(flat.geometry.values, 12.5)).set_crs(CRS, allow_override=True)
    areas = flat.assign(households=[10, 20, 30], area_id=["a", "b", "c"])
    areas_z = z.assign(households=[10, 20, 30], area_id=["a", "b", "c"])

    calls = (lambda f, a: net.distances(a, f, cutoff_m=600), lambda f, a: net.snap(f),
             lambda f, a: service_areas(net, f, cutoff_m=150),
             lambda f, a: walk_coverage(net, a, f, cutoff_m=300).areas,
             lambda f, a: two_step_fca(net, a, f, cutoff_m=300))

    def run(f, a):
        out, notes = [], []
        for call in calls:
            with warnings.catch_warnings(record=True) as rec:
                warnings.simplefilter("always")
                out.append(call(f, a))
            notes.append([str(w.message) for w in rec if "Z (3-D)" in str(w.message)])
        return out, notes

    ref, notes = run(flat, areas)
    assert notes == [[]] * 5
    got, notes = run(z, areas_z)
    assert all(1 <= len(n) <= 2 for n in notes), notes  # a note per 3-D input of each call
    # one wording, naming the input ("origins", "destinations", "points", "facilities")
    assert len({m.split(" have ", 1)[1] for n in notes for m in n}) == 1
    assert ref[0].equals(got[0]) and ref[1].equals(got[1])
    assert shapely.equals_exact(ref[2].geometry.values, got[2].geometry.values, 1e-9).all()
    assert (ref[2]["reached_length_m"] == got[2]["reached_length_m"]).all()
    assert ref[3].drop(columns="geometry").equals(got[3].drop(columns="geometry"))
    assert ref[4].equals(got[4])
    assert z.geometry.has_z.all()  # inputs untouched


# ---------------------------------------------- 15.1 service areas: bounded search
def nx_from_snapped(net: WalkNetwork, point: Point, cutoff: float | None = None):
    """networkx Dijkstra from *point* snapped (the facility a node ``F`` splitting its
    edge, the snap leg ``S``-``F``): the snap row and {node: distance} within *cutoff*."""
    e = net.edges
    s = net.snap(gpd.GeoSeries([point], crs=net.crs)).iloc[0]
    G = nx.MultiGraph()
    for k, (u, v, L) in enumerate(zip(e["u"], e["v"], e["length_m"], strict=True)):
        if k != s["edge"]:
            G.add_edge(u, v, key=k, weight=L)
    G.add_edge("F", s["u"], key="a", weight=s["offset_m"])
    G.add_edge("F", s["v"], key="b", weight=s["edge_length_m"] - s["offset_m"])
    G.add_edge("S", "F", key="s", weight=s["snap_distance_m"])
    return s, nx.single_source_dijkstra_path_length(G, "S", cutoff=cutoff, weight="weight")


def nx_service_area(net: WalkNetwork, point: Point, cutoff: float, buffer_m: float):
    """Reference service area: networkx Dijkstra from the snapped point, edge by edge.

    The facility becomes a node splitting its edge; each edge is reached from its
    ends by ``cutoff - d(end)``; whole when the two reaches meet. Overlapping
    intervals of an edge are merged before cutting (two substrings of one edge do
    not overlay exactly in floating point, and GEOS's union then counts the overlap
    twice: 410 m instead of 393 m for one Oakland facility with the former code).
    """
    e = net.edges
    s, d = nx_from_snapped(net, point, cutoff)
    pieces = []
    for k, (u, v, L, g) in enumerate(zip(e["u"], e["v"], e["length_m"], e.geometry, strict=True)):
        ru = cutoff - d.get(u, np.inf)
        rv = cutoff - d.get(v, np.inf)
        iv = []
        if k == s["edge"]:
            r = cutoff - s["snap_distance_m"]
            iv.append((max(0.0, s["offset_m"] - r), min(L, s["offset_m"] + r)))
        if ru >= 0 and rv >= 0 and ru + rv >= L:
            iv.append((0.0, L))
        else:
            if ru > 0:
                iv.append((0.0, min(ru, L)))
            if rv > 0:
                iv.append((L - min(rv, L), L))
        merged: list[list[float]] = []  # overlapping intervals of one edge counted once
        for a, b in sorted(iv):
            if merged and a <= merged[-1][1]:
                merged[-1][1] = max(merged[-1][1], b)
            else:
                merged.append([a, b])
        for a, b in merged:
            if b > a and L > 0:
                pieces.append(shapely.ops.substring(g, a / L, b / L, normalized=True))
    street = shapely.union_all(pieces)
    sp = Point(s["x"], s["y"])
    walked = 0 < s["snap_distance_m"] <= cutoff  # the snap leg, when the walk gets that far
    lines = shapely.union_all([street, LineString([point, sp])]) if walked else street
    return street.length, lines.buffer(buffer_m, quad_segs=DEFAULT_QUAD_SEGS) if buffer_m > 0 else lines


@pytest.mark.parametrize("source, cutoff", [("grid", 170.0), (OAKLAND, 350.0), (NANJING, 600.0)])
def test_service_areas_match_networkx(source, cutoff):
    if source == "grid":
        net = grid_net(6)
    else:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", CareplanWarning)
            net = WalkNetwork.from_file(need(source))
    rng = np.random.default_rng(3)
    x0, y0, x1, y1 = net.edges.total_bounds
    n = 12
    facs = gpd.GeoDataFrame(geometry=gpd.points_from_xy(rng.uniform(x0, x1, n),
                                                        rng.uniform(y0, y1, n)),
                            crs=net.crs, index=[f"f{i}" for i in range(n)])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", CareplanWarning)
        sa = service_areas(net, facs, cutoff_m=cutoff, buffer_m=20)
        lines = service_areas(net, facs, cutoff_m=cutoff, buffer_m=0)
    checked = 0
    for lab, pt in zip(facs.index, facs.geometry, strict=True):
        if not sa.loc[lab, "reachable"]:
            continue
        L, poly = nx_service_area(net, pt, cutoff, 20)
        _, ref_lines = nx_service_area(net, pt, cutoff, 0)
        assert sa.loc[lab, "reached_length_m"] == pytest.approx(L, rel=1e-9, abs=1e-6)
        got_lines = lines.loc[lab, "geometry"]
        assert got_lines.length == pytest.approx(ref_lines.length, rel=1e-9)
        if ref_lines.length:
            assert got_lines.hausdorff_distance(ref_lines) < 1e-6
        # buffers: every outline vertex lies 20 m from the reference lines, up to the arc
        # chords (4 per quarter circle; GEOS rounds a join's segment count, so one chord
        # may span 1.5 steps: 20 cos(3 pi / 32) = 19.14 m), and the areas agree
        got = sa.loc[lab, "geometry"]
        if ref_lines.is_empty:
            assert got.is_empty
            continue
        edge_d = shapely.distance(shapely.points(shapely.get_coordinates(got.boundary)), ref_lines)
        assert edge_d.min() > 20 * math.cos(3 * math.pi / 32) and edge_d.max() < 20 + 1e-4
        assert got.symmetric_difference(poly).area <= 2e-3 * poly.area
        checked += 1
    assert checked >= 6



def test_service_area_quad_segs():
    """The band's precision: quad_segs=8 is GEOS's default buffer of the reached lines;
    the default (4) differs from it by the chords only; a bad value is refused."""
    net = WalkNetwork.from_file(need(NANJING))
    x0, y0, x1, y1 = net.edges.total_bounds
    facs = gpd.GeoDataFrame(geometry=[Point((x0 + x1) / 2, (y0 + y1) / 2)], crs=net.crs,
                            index=["f"])
    lines = service_areas(net, facs, cutoff_m=500, buffer_m=0).geometry.iloc[0]
    geos8 = lines.buffer(25.0)  # GEOS default: 8 segments per quarter circle
    q8 = service_areas(net, facs, cutoff_m=500, quad_segs=8).geometry.iloc[0]
    q4 = service_areas(net, facs, cutoff_m=500).geometry.iloc[0]
    # united per-piece bands against one buffer of the united lines: the same region up
    # to where the chords fall at joins
    assert q8.symmetric_difference(geos8).area <= 1e-3 * geos8.area
    # 4 chords per quarter circle are every other vertex of 8: inside it (but for the
    # rounded segment counts of a bent piece's joins), a little smaller
    assert 0 < q8.area - q4.area <= 5e-3 * q8.area
    assert q4.difference(q8).area <= 1e-5 * q8.area
    for bad in (0, 2.5, "4", True):
        with pytest.raises(InputError, match="quad_segs"):
            service_areas(net, facs, cutoff_m=500, quad_segs=bad)


def test_plan_layout_with_3d_facilities_equals_2d():
    import careplan as cp

    sample = cp.datasets.load_sample()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", CareplanWarning)
        net = WalkNetwork.from_file(sample.network_path)
        flat = cp.plan_layout(sample.areas, sample.facilities, sample.candidates, net)
        facs = sample.facilities.copy()
        facs["geometry"] = shapely.force_3d(facs.geometry.values, 7.0)
        assert facs.geometry.has_z.all()
        z = cp.plan_layout(sample.areas, facs, sample.candidates, net)
    assert z.summary.equals(flat.summary)
    assert len(z.service_areas) == len(flat.service_areas)
    assert np.allclose(z.service_areas.geometry.area, flat.service_areas.geometry.area)
