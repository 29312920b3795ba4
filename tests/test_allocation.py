"""Floor area counted where it serves: the walking-circle allocation (issue 12.1).

Checked against hand cases and against networkx's max-flow-min-cost on the same
instances (an independent exact solver of the same transportation problem).
"""

from __future__ import annotations

import geopandas as gpd
import networkx as nx
import numpy as np
import pandas as pd
import pytest
from shapely.geometry import LineString, Point, box

from careplan import WalkNetwork, compliance
from careplan._errors import InputError
from careplan.allocation import allocate_floor_area

CRS = "EPSG:32650"


def _areas(rows):
    """Areas indexed by area_id, as careplan.read_areas returns them."""
    df = pd.DataFrame(rows)
    gdf = gpd.GeoDataFrame(df.drop(columns="geometry"), geometry=list(df["geometry"]), crs=CRS)
    return gdf.set_axis(list(df["area_id"]))


def _facs(rows):
    df = pd.DataFrame([{"beds": 0, "nursing_beds": 0, **r} for r in rows])
    gdf = gpd.GeoDataFrame(df.drop(columns="geometry"), geometry=list(df["geometry"]), crs=CRS)
    return gdf.set_axis(list(df["facility_id"]))


@pytest.fixture(scope="module")
def street():
    """A 1,000 m street; estates at x = 0-100 and 300-400, a 300 m2 station at x = 200."""
    net = WalkNetwork.from_lines(gpd.GeoSeries([LineString([(-100, 0), (1000, 0)])], crs=CRS))
    return net


def test_hand_case_a_one_station_two_estates_both_compliant(street):
    # existing estates: 15 m2 per 100 households (Jinwan); 1,000 households need 150 m2 each
    areas = _areas([
        {"area_id": "A", "households": 1000, "built": "existing", "geometry": box(0, 5, 100, 50)},
        {"area_id": "B", "households": 1000, "built": "existing",
         "geometry": box(300, 5, 400, 50)}])
    facs = _facs([{"facility_id": "S", "level": "community", "floor_area_m2": 300.0,
                   "geometry": Point(200, 5)}])
    # counted only inside an estate (the old way): nothing provided
    before = compliance.check(areas, facs, standard="jinwan-2020")
    assert list(before.areas["provided_m2"]) == [0.0, 0.0]
    reach = street.distances(areas, facs, cutoff_m=900)
    res = compliance.check(areas, facs, standard="jinwan-2020", reach=reach)
    a = res.areas
    assert list(a["required_m2"]) == [150.0, 150.0]
    assert list(a["provided_m2"]) == pytest.approx([150.0, 150.0], abs=1e-6)
    assert a["compliant"].all() and (a["deficit_m2"] == 0).all()
    al = res.allocation.set_index("area_id")
    assert set(al["facility_id"]) == {"S"} and al["floor_area_m2"].sum() == pytest.approx(300)
    assert not al["on_site"].any()
    assert (al["distance_m"] <= 900).all()
    rules = res.rules.set_index("rule_id")
    assert rules.loc["floor_area_existing", "passed"] is True
    assert res.parameters["allocation"].startswith("walking circle")


def test_new_estates_count_only_rooms_inside_them_where_the_profile_says_so(street):
    areas = _areas([
        {"area_id": "N", "households": 1000, "built": "new", "geometry": box(0, 5, 100, 50)},
        {"area_id": "E", "households": 1000, "built": "existing",
         "geometry": box(300, 5, 400, 50)}])
    facs = _facs([{"facility_id": "S", "level": "community", "floor_area_m2": 500.0,
                   "geometry": Point(200, 5)},
                  {"facility_id": "R", "level": "community", "floor_area_m2": 50.0,
                   "geometry": Point(50, 20)}])  # a room inside N
    reach = street.distances(areas, facs, cutoff_m=900)
    jin = compliance.check(areas, facs, standard="jinwan-2020", reach=reach).areas
    # Jinwan: new estates build their rooms on site (配建): only R (50 m2) counts for N
    assert jin.loc["N", "provided_m2"] == pytest.approx(50.0)
    assert jin.loc["N", "deficit_m2"] == pytest.approx(150.0)
    assert jin.loc["E", "provided_m2"] == pytest.approx(150.0)
    # Guangdong sets no on-site rule: S serves N too
    gd = compliance.check(areas, facs, standard="guangdong", reach=reach).areas
    assert gd.loc["N", "provided_m2"] == pytest.approx(200.0) and gd.loc["N", "compliant"]


def test_beyond_the_circle_counts_nothing(street):
    areas = _areas([{"area_id": "A", "households": 1000, "built": "existing",
                     "geometry": box(0, 5, 100, 50)}])
    facs = _facs([{"facility_id": "S", "level": "community", "floor_area_m2": 300.0,
                   "geometry": Point(990, 5)}])  # ~900-990 m away: beyond 900 m
    reach = street.distances(areas, facs, cutoff_m=2000)
    assert reach["distance_m"].min() > 900
    a = compliance.check(areas, facs, standard="jinwan-2020", reach=reach).areas
    assert a.loc["A", "provided_m2"] == 0.0


def _networkx_optimum(req, cap, arcs):
    """Max flow, then min walking among max flows: networkx on a source/sink graph."""
    g = nx.DiGraph()
    for f, c in cap.items():
        g.add_edge("src", ("f", f), capacity=int(c), weight=0)
    for a, r in req.items():
        g.add_edge(("a", a), "snk", capacity=int(r), weight=0)
    for f, a, d in arcs[["facility_id", "area_id", "distance_m"]].itertuples(index=False):
        g.add_edge(("f", f), ("a", a), capacity=10**9, weight=int(d))
    flow = nx.max_flow_min_cost(g, "src", "snk")
    total = sum(flow["src"].values())
    return total, nx.cost_of_flow(g, flow)


@pytest.mark.parametrize("seed", range(8))
def test_lp_equals_networkx_max_flow_min_cost(seed):
    rng = np.random.default_rng(seed)
    n_a, n_f = int(rng.integers(3, 15)), int(rng.integers(2, 8))
    req = pd.Series(rng.integers(0, 300, n_a).astype(float), index=[f"a{i}" for i in range(n_a)])
    cap = pd.Series(rng.integers(0, 400, n_f).astype(float), index=[f"f{j}" for j in range(n_f)])
    pairs = [(f, a) for f in cap.index for a in req.index if rng.random() < 0.4]
    arcs = pd.DataFrame(pairs, columns=["facility_id", "area_id"])
    arcs["distance_m"] = rng.integers(0, 900, len(arcs)).astype(float)
    res = allocate_floor_area(req, cap, arcs)
    total, cost = _networkx_optimum(req, cap, arcs)
    assert res.provided_m2.sum() == pytest.approx(total, abs=1e-5)
    assert res.total_deficit_m2 == pytest.approx(req.sum() - total, abs=1e-5)
    assert res.walking_m2_m == pytest.approx(cost, rel=1e-7, abs=1e-3)
    # feasibility, checked directly
    t = res.table
    used = t.groupby("facility_id")["floor_area_m2"].sum()
    assert (used <= cap.reindex(used.index) + 1e-6).all()
    assert (res.provided_m2 <= req + 1e-6).all()
    assert set(zip(t["facility_id"], t["area_id"], strict=True)) <= set(pairs)


def test_allocation_inputs_checked(street):
    areas = _areas([{"area_id": "A", "households": 10, "built": "existing",
                     "geometry": box(0, 5, 100, 50)}])
    facs = _facs([{"facility_id": "S", "level": "community", "floor_area_m2": 30.0,
                   "geometry": Point(200, 5)}])
    bad = pd.DataFrame({"origin": ["Z"], "destination": ["S"], "distance_m": [10.0]})
    with pytest.raises(InputError, match="not in areas"):
        compliance.check(areas, facs, standard="jinwan-2020", reach=bad)
    with pytest.raises(InputError, match="lacks column"):
        compliance.check(areas, facs, standard="jinwan-2020", reach=bad.drop(columns="origin"))
    alloc = pd.DataFrame({"facility_id": ["S"], "area_id": ["A"], "floor_area_m2": [1.0]})
    with pytest.raises(InputError, match="not both"):
        compliance.check(areas, facs, standard="jinwan-2020", reach=bad, allocation=alloc)
    with pytest.raises(InputError, match="finite"):
        allocate_floor_area(pd.Series({"A": float("inf")}), pd.Series({"S": 1.0}),
                            pd.DataFrame({"facility_id": ["S"], "area_id": ["A"]}))
