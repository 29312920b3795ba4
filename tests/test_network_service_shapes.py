"""Service areas at city scale (issue 15.1): the cheap envelope above a stated limit.

``coverage.service_areas`` draws the exact band around the reached streets up to
``coverage.MAX_BAND_SERVICE_AREAS`` reachable facilities and, above it, the concave hull
of the reached street points buffered by ``buffer_m`` (``_reach.union_per_group``,
``shape="hull"``). The envelope must cover every street point the walk reaches: checked
here against an independent networkx Dijkstra over the same streets, point by point
every 2 m along every edge of a real extract.
"""

from __future__ import annotations

import warnings
from pathlib import Path

import geopandas as gpd
import numpy as np
import pytest
import shapely
from shapely.geometry import LineString
from test_network_inputs import nx_from_snapped

from careplan import coverage
from careplan._errors import CareplanWarning, InputError
from careplan.coverage import MAX_BAND_SERVICE_AREAS, service_areas
from careplan.network import WalkNetwork

DATA = Path(__file__).resolve().parents[1] / ".." / "shared" / "data"
NANJING = DATA / "nanjing_xuanwu" / "nanjing_xuanwu_overpass_2021-06-12.osm"
CRS = "EPSG:32650"


def _grid(n: int = 6, spacing: float = 100.0) -> WalkNetwork:
    span = (n - 1) * spacing
    lines = [LineString([(0, k * spacing), (span, k * spacing)]) for k in range(n)]
    lines += [LineString([(k * spacing, 0), (k * spacing, span)]) for k in range(n)]
    return WalkNetwork.from_lines(gpd.GeoSeries(lines, crs=CRS))


@pytest.fixture(scope="module")
def nanjing() -> WalkNetwork:
    if not NANJING.exists():
        pytest.skip(f"shared data missing: {NANJING}")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", CareplanWarning)
        return WalkNetwork.from_file(NANJING)


def _reached_street_points(net: WalkNetwork, point, cutoff: float, step_m: float = 2.0):
    """Every ``step_m`` along every edge, the points a networkx Dijkstra from *point*
    (snapped: the facility splits its edge, the snap leg counts) reaches within *cutoff*."""
    e = net.edges
    s, d = nx_from_snapped(net, point, cutoff)
    # d (from "S", the facility itself) counts the snap leg
    L = e["length_m"].to_numpy()
    n_pts = np.maximum(2, np.ceil(L / step_m).astype(int) + 1)
    edge = np.repeat(np.arange(len(e)), n_pts)
    frac = np.concatenate([np.linspace(0.0, 1.0, k) for k in n_pts])
    along = frac * L[edge]
    du = np.array([d.get(u, np.inf) for u in e["u"]])[edge]
    dv = np.array([d.get(v, np.inf) for v in e["v"]])[edge]
    walk = np.minimum(du + along, dv + L[edge] - along)
    own = edge == s["edge"]
    walk[own] = np.minimum(walk[own], s["snap_distance_m"] + np.abs(along[own] - s["offset_m"]))
    keep = walk <= cutoff - 1e-6
    geom = e.geometry.to_numpy()
    return shapely.line_interpolate_point(geom[edge[keep]], frac[keep], normalized=True)


@pytest.mark.filterwarnings("ignore::careplan.CareplanWarning")
def test_hull_covers_every_street_point_the_walk_reaches(nanjing):
    """Real streets (central Nanjing), 8 facilities, 600 m: every street point within
    the walk (networkx, every 2 m) lies inside the envelope; the envelope is an envelope
    of the band, not of the whole town (area between 0.9 and 2 times the exact band's
    with its holes filled)."""
    net = nanjing
    rng = np.random.default_rng(7)
    x0, y0, x1, y1 = net.edges.total_bounds
    n = 8
    facs = gpd.GeoDataFrame(geometry=gpd.points_from_xy(
        rng.uniform(x0 + 0.25 * (x1 - x0), x1 - 0.25 * (x1 - x0), n),
        rng.uniform(y0 + 0.25 * (y1 - y0), y1 - 0.25 * (y1 - y0), n)),
        crs=net.crs, index=[f"f{i}" for i in range(n)])
    hull = service_areas(net, facs, cutoff_m=600, shape="hull")
    band = service_areas(net, facs, cutoff_m=600, shape="band")
    assert set(hull["shape"]) == {"hull"} and set(band["shape"]) == {"band"}
    # the measured length does not depend on how the shape is drawn
    assert np.array_equal(hull["reached_length_m"], band["reached_length_m"])
    checked = 0
    for lab, pt in zip(facs.index, facs.geometry, strict=True):
        if not hull.loc[lab, "reachable"]:
            continue
        pts = _reached_street_points(net, pt, 600.0)
        assert len(pts) > 100
        h = hull.loc[lab, "geometry"]
        inside = shapely.covers(h, pts)
        assert inside.all(), f"{lab}: {np.count_nonzero(~inside)} reached points outside"
        b = band.loc[lab, "geometry"]
        filled = shapely.union_all([shapely.Polygon(p.exterior) for p in getattr(b, "geoms", [b])])
        assert 0.9 * filled.area <= h.area <= 2.0 * filled.area
        checked += 1
    assert checked >= 6


def test_auto_draws_the_band_up_to_the_limit_and_the_hull_above():
    """``shape="auto"`` (what the plan uses): the exact band for up to
    MAX_BAND_SERVICE_AREAS reachable facilities (unreachable ones do not count), the
    envelope above; each row the same as asking for that shape."""
    net = _grid(6)
    rng = np.random.default_rng(1)
    n = MAX_BAND_SERVICE_AREAS
    xy = rng.uniform(0, 500, (n + 1, 2))
    pts = list(gpd.points_from_xy(xy[:, 0], xy[:, 1]))
    far = gpd.points_from_xy([5_000.0], [5_000.0])[0]  # beyond max_snap_m: unreachable
    at_limit = gpd.GeoDataFrame(geometry=pts[:n] + [far], crs=CRS,
                                index=[f"f{i}" for i in range(n + 1)])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", CareplanWarning)
        sa = service_areas(net, at_limit, cutoff_m=170)
    assert int(sa["reachable"].sum()) == n and set(sa["shape"]) == {"band"}
    above = gpd.GeoDataFrame(geometry=pts, crs=CRS, index=[f"f{i}" for i in range(n + 1)])
    sa2 = service_areas(net, above, cutoff_m=170)
    assert int(sa2["reachable"].sum()) == n + 1 and set(sa2["shape"]) == {"hull"}
    few = above.iloc[:5]
    for shape, got in (("band", sa.iloc[:5]), ("hull", sa2.iloc[:5])):
        ref = service_areas(net, few, cutoff_m=170, shape=shape)
        assert shapely.equals_exact(ref.geometry.to_numpy(), got.geometry.to_numpy(), 1e-9).all()
    # on a grid the envelope fills the blocks the band leaves as holes: larger, never smaller
    band5 = service_areas(net, few, cutoff_m=170, shape="band").geometry.to_numpy()
    assert (shapely.area(sa2.geometry.to_numpy()[:5]) >= shapely.area(band5) - 1e-6).all()
    # unreachable: no geometry, whatever the shape
    assert sa.loc[f"f{n}", "geometry"] is None


def test_hull_of_a_facility_with_a_snap_leg_only_and_of_one_street():
    """Degenerate inputs: pieces along one straight street (the hull is a line, its
    buffer a band) and a facility whose walk ends on its own edge."""
    net = WalkNetwork.from_lines(gpd.GeoSeries([LineString([(0, 0), (1000, 0)])], crs=CRS))
    facs = gpd.GeoDataFrame(geometry=gpd.points_from_xy([500.0, 10.0], [20.0, 5.0]), crs=CRS,
                            index=["mid", "end"])
    hull = service_areas(net, facs, cutoff_m=100, shape="hull")
    band = service_areas(net, facs, cutoff_m=100, shape="band")
    for lab in facs.index:
        h, b = hull.loc[lab, "geometry"], band.loc[lab, "geometry"]
        # the two round caps are drawn with chords at other angles: up to 25 (1 - cos(3 pi
        # / 32)) = 1.1 m apart (GEOS may round a join to 1.5 quadrant steps)
        assert h.geom_type == "Polygon" and h.covers(b.buffer(-1.2))
        # the hull fills the triangles between the snap leg and the street: at most the
        # two 80 x 20 m triangles of "mid" (1,600 m2) more than the band's 10,625 m2
        assert b.area - 20 <= h.area <= b.area + 1_600


@pytest.mark.parametrize("kw, needle", [
    ({"shape": "convex"}, "shape='convex' is not one of"),
    ({"shape": "hull", "buffer_m": 0}, "needs buffer_m > 0"),
])
def test_bad_shape_is_refused(kw, needle):
    net = _grid(3)
    facs = gpd.GeoDataFrame(geometry=gpd.points_from_xy([50.0], [0.0]), crs=CRS)
    with pytest.raises(InputError, match=needle):
        service_areas(net, facs, cutoff_m=100, **kw)


def test_lines_whatever_the_count_without_a_buffer():
    """buffer_m=0 returns the reached lines (cheap at any count): shape 'lines'."""
    net = _grid(4)
    facs = gpd.GeoDataFrame(geometry=gpd.points_from_xy([50.0, 150.0], [0.0, 100.0]), crs=CRS)
    sa = service_areas(net, facs, cutoff_m=120, buffer_m=0)
    assert set(sa["shape"]) == {"lines"}
    assert sa.geometry.geom_type.isin(["LineString", "MultiLineString"]).all()
    assert coverage.MAX_BAND_SERVICE_AREAS == MAX_BAND_SERVICE_AREAS


def _town_plan():
    from shapely.geometry import Point, box

    import careplan as cp

    net = WalkNetwork.from_lines(gpd.GeoSeries([LineString([(0, 0), (2000, 0)])], crs=CRS))
    areas = gpd.GeoDataFrame(
        {"area_id": ["A", "B", "C"], "households": [1000, 400, 500],
         "built": ["new", "existing", "new"]},
        geometry=[box(70, 0, 130, 60), box(270, 0, 330, 60), box(1470, 0, 1530, 60)],
        crs=CRS, index=["A", "B", "C"])
    facs = gpd.GeoDataFrame(
        {"facility_id": ["F1"], "level": ["community"], "floor_area_m2": [120.0],
         "beds": [0], "nursing_beds": [0]}, geometry=[Point(100, 30)], crs=CRS, index=["F1"])
    cands = gpd.GeoDataFrame({"candidate_id": ["K1", "K2"]},
                             geometry=[Point(300, -20), Point(1500, -20)], crs=CRS,
                             index=["K1", "K2"])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return cp.plan_layout(areas, facs, cands, net, standard="jinwan-2020", cutoff_m=400,
                              verbose=False)


def test_plan_states_how_service_areas_are_drawn(monkeypatch, tmp_path):
    """The plan's parameter table and the report's map note say which shape was drawn:
    the band at the real limit, envelopes once the limit is below the plan's count (the
    constant lowered for the test); the coverage figures do not change with it."""
    from careplan.report import write_html
    from careplan.report.maps import map_reductions
    from careplan.report.phrases import parameter_text

    band = _town_plan()
    n = len(band.service_areas)
    assert n >= 2 and set(band.service_areas["shape"]) == {"band"}
    assert band.parameters["service_areas"].startswith(f"{n} service areas drawn as the streets")
    assert "service_areas_hull" not in map_reductions(band)
    monkeypatch.setattr(coverage, "MAX_BAND_SERVICE_AREAS", 1)
    hull = _town_plan()
    assert set(hull.service_areas["shape"]) == {"hull"}
    assert hull.parameters["service_areas"].startswith(f"{n} service areas (more than 300)"
                                                       ) is False  # the limit in force: 1
    assert hull.parameters["service_areas"].startswith(f"{n} service areas (more than 1)")
    assert map_reductions(hull)["service_areas_hull"] == n
    zh = parameter_text(hull.parameters["service_areas"], "zh")
    assert zh.startswith(f"{n} 个服务范围（超过 1 个）以外包范围绘制")
    assert parameter_text(band.parameters["service_areas"], "zh").startswith(f"{n} 个服务范围按")
    pd_cols = ["covered_before", "covered_after", "provided_after_m2", "deficit_after_m2"]
    assert hull.areas[pd_cols].equals(band.areas[pd_cols])
    assert hull.proposed.drop(columns="geometry").equals(band.proposed.drop(columns="geometry"))
    html = write_html(hull, tmp_path / "r.html", lang="en").read_text(encoding="utf-8")
    assert f"The {n} service areas (more than 1) are drawn as envelopes" in html
    html = write_html(hull, tmp_path / "z.html", lang="zh").read_text(encoding="utf-8")
    assert f"服务范围共 {n} 个，超过 1 个，每个以步行可达路网点的凹包外扩 25 m 表示" in html
