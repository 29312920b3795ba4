"""Pooling of small deficits into shared stations (issue 12.2): the MIP against brute force."""

from __future__ import annotations

import itertools

import numpy as np
import pandas as pd
import pytest

from careplan._errors import InputError
from careplan.plan._pool import pool_deficits


def _allowed_by_hand(deficit, dist, open_hosts, optional, min_m2, pool_m):
    """{area: [hosts]} by the documented rule, written independently of the module."""
    out = {}
    for a, d in deficit.items():
        reach = {h: m for (o, h), m in dist.items() if o == a}
        hosts = [h for h in reach if h in open_hosts
                 or (h in optional and (d >= min_m2 or reach[h] <= pool_m))]
        if not hosts:  # cannot be pooled within the pooling circle
            hosts = [h for h in reach if h in optional]
        out[a] = sorted(hosts)
    return out


def _key(assign, deficit, dist, forced, expansions, min_m2, cap, opened=None):
    """(m2 over caps, optional stations opened, floor area built, m2 x m walked)."""
    load = {}
    for a, h in assign.items():
        load[h] = load.get(h, 0.0) + deficit[a]
    used = {h for h in load if h not in expansions}
    new = set(forced) | used | set(opened or ())
    over = sum(max(0.0, load.get(h, 0.0) - cap.get(h, np.inf)) for h in new)
    built = sum(min(max(load.get(h, 0.0), min_m2), cap.get(h, np.inf)) for h in new)
    built += sum(v for h, v in load.items() if h in expansions)
    walk = sum(deficit[a] * dist[a, h] for a, h in assign.items())
    return (round(over, 6), len(new - set(forced)), round(built, 6), round(walk, 3))


def _brute(deficit, dist, forced, expansions, optional, min_m2, cap, pool_m, cover=()):
    """Every set of optional stations meeting ``cover``, every assignment to open hosts."""
    allowed = _allowed_by_hand(deficit, dist, set(forced) | set(expansions), set(optional),
                               min_m2, pool_m)
    areas = [a for a in deficit.index if allowed[a]]
    best = None
    for k in range(len(optional) + 1):
        for opened in itertools.combinations(optional, k):
            if any(not set(g) & set(opened) for g in cover):
                continue
            open_ = set(forced) | set(expansions) | set(opened)
            choices = [[h for h in allowed[a] if h in open_] for a in areas]
            for combo in itertools.product(*choices):
                key = _key(dict(zip(areas, combo, strict=True)), deficit, dist, forced,
                           expansions, min_m2, cap, opened)
                best = key if best is None or key < best else best
    return best


def _pairs(dist):
    return pd.DataFrame([(a, h, m) for (a, h), m in dist.items()],
                        columns=["origin", "destination", "distance_m"])


def test_three_small_estates_share_one_station_not_three():
    # Anhui-like: minimum 350 m2, pooling circle 300 m (5 min x 60 m/min), walking circle
    # 900 m. Three estates need 100 m2 each; each has a candidate inside it (0 m) that
    # reaches only itself within 300 m; K is 250 m from all three.
    deficit = pd.Series({"A": 100.0, "B": 100.0, "C": 100.0})
    dist = {("A", "kA"): 0.0, ("B", "kB"): 0.0, ("C", "kC"): 0.0,
            ("A", "K"): 250.0, ("B", "K"): 250.0, ("C", "K"): 250.0,
            ("A", "kB"): 500.0, ("B", "kA"): 500.0}
    res = pool_deficits(deficit, _pairs(dist), optional=["kA", "kB", "kC", "K"],
                        min_m2=350.0, pool_cutoff_m=300.0)
    assert res.opened == ("K",)
    assert res.floor_area_m2.to_dict() == pytest.approx({"K": 350.0})
    assert sorted(res.assignment["area_id"]) == ["A", "B", "C"]
    assert set(res.assignment["host"]) == {"K"}
    # nearest-site assignment (each estate its own room) would build 3 x 350 = 1,050 m2
    assert _key(dict(zip(res.assignment["area_id"], res.assignment["host"], strict=True)),
                deficit, dist, (), (), 350.0, {}) == _brute(
        deficit, dist, (), (), ["kA", "kB", "kC", "K"], 350.0, {}, 300.0)


def test_small_deficits_fill_a_forced_station_before_enlarging_another():
    # S1 and S2 are built anyway (the coverage model's); a (60 m2) is nearest to S2,
    # which is already above the minimum with b (300 m2); S1 has only c (20 m2): a goes
    # to S1 (its minimum has room), saving 60 m2.
    deficit = pd.Series({"a": 60.0, "b": 300.0, "c": 20.0})
    dist = {("a", "S1"): 700.0, ("a", "S2"): 100.0, ("b", "S2"): 50.0, ("c", "S1"): 10.0}
    res = pool_deficits(deficit, _pairs(dist), forced=["S1", "S2"], min_m2=200.0,
                        pool_cutoff_m=900.0)
    host = res.assignment.set_index("area_id")["host"]
    assert host["a"] == "S1"
    assert res.floor_area_m2.to_dict() == pytest.approx({"S1": 200.0, "S2": 300.0})


def test_no_extra_station_to_shorten_walks():
    # b (50 m2) reaches only K1, so K1 opens; a (200 m2) could open K2 next door (same
    # floor area built: 200 m2 either way) but the existing facility E takes it: one
    # station, not two, even though a walks 800 m instead of 10 m.
    deficit = pd.Series({"a": 200.0, "b": 50.0})
    dist = {("a", "E"): 800.0, ("a", "K2"): 10.0, ("b", "K1"): 20.0}
    res = pool_deficits(deficit, _pairs(dist), expansions=["E"], optional=["K1", "K2"],
                        min_m2=200.0, cap_m2=pd.Series({"K1": 2000.0, "K2": 2000.0}),
                        pool_cutoff_m=900.0)
    assert res.opened == ("K1",)
    assert res.assignment.set_index("area_id")["host"].to_dict() == {"a": "E", "b": "K1"}


@pytest.mark.parametrize("seed", range(10))
def test_pooling_equals_brute_force_random(seed):
    rng = np.random.default_rng(seed)
    areas = [f"a{i}" for i in range(int(rng.integers(3, 6)))]
    hosts = ["E1", "F1", "K1", "K2", "K3"]
    expansions, forced, optional = ["E1"], ["F1"], ["K1", "K2", "K3"]
    if seed % 2:
        expansions, forced = [], []  # only stations for deficits
    deficit = pd.Series({a: float(rng.choice([30, 80, 150, 250, 400])) for a in areas})
    dist = {(a, h): float(rng.integers(0, 900)) for a in areas for h in hosts
            if h in expansions + forced + optional and rng.random() < 0.6}
    cap = {h: float(rng.choice([300, 500, np.inf])) for h in forced + optional}
    min_m2, pool_m = 200.0, 400.0
    # seeds >= 6: the walking circle also needs some areas covered by a new station
    cover = [] if seed < 6 else [sorted(rng.choice(optional, size=int(rng.integers(1, 3)),
                                                   replace=False)) for _ in range(2)]
    res = pool_deficits(deficit, _pairs(dist), expansions=expansions, forced=forced,
                        optional=optional, min_m2=min_m2, cap_m2=pd.Series(cap),
                        pool_cutoff_m=pool_m, cover=cover)
    for g in cover:
        assert set(g) & set(res.opened)
    got = _key(dict(zip(res.assignment["area_id"], res.assignment["host"], strict=True)),
               deficit, dist, forced, expansions, min_m2, cap, res.opened)
    want = _brute(deficit, dist, forced, expansions, optional, min_m2, cap, pool_m, cover)
    assert got[:2] == want[:2]  # unserved m2, then the number of stations: the least
    assert got[2] == pytest.approx(want[2], abs=1e-3)
    assert got[3] == pytest.approx(want[3], rel=1e-6, abs=1e-3)
    # sizes: every new station between the minimum and its cap
    for h, v in res.floor_area_m2.items():
        assert min(min_m2, cap.get(h, np.inf)) - 1e-6 <= v <= cap.get(h, np.inf) + 1e-6
    reached = {a for (a, _h) in dist}
    assert set(res.unresolved) == set(deficit.index) - reached


@pytest.mark.parametrize("seed", range(4))
def test_two_step_route_keeps_the_least_number_of_stations(seed):
    rng = np.random.default_rng(100 + seed)
    areas = [f"a{i}" for i in range(5)]
    hosts = ["F1", "K1", "K2", "K3"]
    deficit = pd.Series({a: float(rng.choice([30, 80, 150, 250])) for a in areas})
    dist = {(a, h): float(rng.integers(0, 900)) for a in areas for h in hosts
            if rng.random() < 0.6}
    kw = dict(forced=["F1"], optional=["K1", "K2", "K3"], min_m2=200.0, pool_cutoff_m=900.0)
    exact = pool_deficits(deficit, _pairs(dist), **kw)
    two = pool_deficits(deficit, _pairs(dist), max_pairs=0, **kw)
    assert len(two.opened) == len(exact.opened)
    assert set(two.assignment["area_id"]) == set(exact.assignment["area_id"])


@pytest.mark.parametrize("seed", range(4))
def test_large_component_route_keeps_stations_and_least_floor_area(seed):
    # forced stations only, no caps: the cut to nearest + below-minimum hosts (and the
    # relaxed gaps) still gives the least floor area
    rng = np.random.default_rng(200 + seed)
    areas = [f"a{i}" for i in range(6)]
    hosts = ["F1", "F2", "F3", "E1"]
    deficit = pd.Series({a: float(rng.choice([30, 80, 150, 250])) for a in areas})
    dist = {(a, h): float(rng.integers(0, 900)) for a in areas for h in hosts
            if rng.random() < 0.7}
    kw = dict(expansions=["E1"], forced=["F1", "F2", "F3"], min_m2=200.0, pool_cutoff_m=900.0)
    res = pool_deficits(deficit, _pairs(dist), exact_pairs=0, **kw)
    got = _key(dict(zip(res.assignment["area_id"], res.assignment["host"], strict=True)),
               deficit, dist, kw["forced"], kw["expansions"], 200.0, {})
    want = _brute(deficit, dist, kw["forced"], kw["expansions"], [], 200.0, {}, 900.0)
    assert got[:3] == pytest.approx(want[:3])


def test_bad_inputs():
    with pytest.raises(InputError, match="pairs need columns"):
        pool_deficits(pd.Series({"a": 1.0}), pd.DataFrame({"origin": ["a"]}), min_m2=1,
                      pool_cutoff_m=1)
    with pytest.raises(InputError, match="deficit_m2"):
        pool_deficits(pd.Series({"a": -1.0}), _pairs({("a", "K"): 1.0}), min_m2=1,
                      pool_cutoff_m=1)


# ----------------------------------------------------------------- through plan_layout
def _line_net(crs="EPSG:32650", x1=3000.0):
    import geopandas as gpd
    from shapely.geometry import LineString

    import careplan as cp

    return cp.WalkNetwork.from_lines(gpd.GeoSeries([LineString([(-100, 0), (x1, 0)])],
                                                   crs=crs))


def _estates(xs, households, crs="EPSG:32650", built="existing"):
    import geopandas as gpd
    from shapely.geometry import box

    ids = [f"E{k}" for k in range(len(xs))]
    return gpd.GeoDataFrame({"area_id": ids, "households": households, "built": built},
                            geometry=[box(x, 5, x + 100, 60) for x in xs], crs=crs,
                            index=ids)


def _candidates(points, caps=None, crs="EPSG:32650"):
    import geopandas as gpd
    from shapely.geometry import Point

    ids = list(points)
    data = {"candidate_id": ids}
    if caps is not None:
        data["max_floor_area_m2"] = [caps[c] for c in ids]
    return gpd.GeoDataFrame(data, geometry=[Point(*points[c]) for c in ids], crs=crs,
                            index=ids)


def _plan(*args, **kw):
    import warnings

    import careplan as cp

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return cp.plan_layout(*args, verbose=False, **kw)


def test_plan_hand_case_three_small_estates_one_pooled_station():
    # Anhui 2022: existing estates 20 m2 per 100 households, every site >= 350 m2, small
    # estates pooled within 5 min x 60 m/min = 300 m. Three estates of 500 households
    # (100 m2 each) at x = 0, 250, 500; kA and kC stand inside the outer estates and
    # reach only their own estate within 300 m; K (x = 300, inside the middle one) is
    # within 300 m of all three: one station of 350 m2 at K, not three rooms.
    areas = _estates([0, 250, 500], [500, 500, 500])
    cands = _candidates({"kA": (50, 3), "K": (300, 3), "kC": (550, 3)})
    plan = _plan(areas, None, cands, _line_net(), standard="anhui-2022")
    assert plan.parameters["pooling_cutoff_m"] == pytest.approx(300)
    new = plan.proposed[plan.proposed["kind"] == "new"]
    assert list(new["candidate_id"]) == ["K"]
    assert new["floor_area_m2"].tolist() == pytest.approx([350.0])
    assert sorted(plan.allocation["area_id"]) == ["E0", "E1", "E2"]
    assert plan.areas["compliant_after"].all() and plan.areas["covered_after"].all()
    # the network agrees: K within 300 m of every estate, kA and kC not of the far one
    od = _line_net().distances(areas, cands, cutoff_m=900).set_index(
        ["origin", "destination"])["distance_m"]
    assert max(od["E0", "K"], od["E1", "K"], od["E2", "K"]) <= 300
    assert od["E2", "kA"] > 300 and od["E0", "kC"] > 300
    # without a pooling rule (jinwan-2020: 15 m2 per 100 existing households, default
    # minimum 200 m2, the pooling circle is the walking circle): still one station
    jin = _plan(areas, None, cands, _line_net(), standard="jinwan-2020")
    new = jin.proposed[jin.proposed["kind"] == "new"]
    # 3 x 75 = 225 m2 of deficits; the street centre C-kA (500 m2, placed after the
    # stations) supplies E0's 75 m2 in the final allocation, so the station is re-sized to
    # the 150 m2 it supplies, raised to the 200 m2 minimum (fixes, finding 2)
    assert len(new) == 1 and new["floor_area_m2"].tolist() == pytest.approx([200.0])
    got = jin.floor_area_allocation.groupby("facility_id")["floor_area_m2"].sum()
    assert got[new.index[0]] == pytest.approx(150.0) and got.sum() == pytest.approx(225.0)
    assert "walking circle" in jin.parameters["pooling_source"]


def _with_max(tmp_path, max_m2):
    import careplan as cp

    text = cp.standards.profile_path("anhui-2022").read_text(encoding="utf-8")
    text = text.replace("min = 350.0\n", f"min = 350.0\nmax = {max_m2}\n", 1)
    path = tmp_path / "anhui-max.toml"
    path.write_text(text, encoding="utf-8")
    return str(path)


@pytest.mark.parametrize("seed", range(2))
def test_plan_random_case_every_station_within_its_bounds(tmp_path, seed):
    rng = np.random.default_rng(seed)
    n = 9
    xs = np.sort(rng.choice(np.arange(0, 2800, 120), size=n, replace=False))
    areas = _estates(list(xs), list(rng.integers(50, 3000, size=n)))
    pts = {f"c{k}": (float(x), 3.0) for k, x in enumerate(rng.uniform(0, 2900, size=8))}
    caps = {c: float(rng.choice([300, 500, 800, np.nan])) for c in pts}
    profile = _with_max(tmp_path, 700.0)
    plan = _plan(areas, None, _candidates(pts, caps), _line_net(), standard=profile)
    new = plan.proposed[plan.proposed["kind"] == "new"]
    assert len(new)
    for _, st in new.iterrows():
        cap = min(700.0, caps.get(st["candidate_id"], np.nan) if not np.isnan(
            caps.get(st["candidate_id"], np.nan)) else np.inf)
        assert 350.0 - 1e-6 <= st["floor_area_m2"] <= cap + 1e-6, st["station_id"]
    # candidates that cannot hold 350 m2 are left out and listed
    small = sorted(c for c, v in caps.items() if v < 350)
    assert plan.parameters["candidates_too_small"] == (", ".join(small) or "none")
    assert not set(new["candidate_id"]) & set(small)


def test_sample_plan_stations_within_bounds_and_fewest():
    """The bundled sample (the demo's inputs): every new station >= 200 m2 (the default
    minimum) and <= its candidate's max_floor_area_m2; the new floor area beyond the
    deficits is only what the minimum forces."""
    import warnings

    import careplan as cp

    s = cp.datasets.load_sample()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        net = cp.WalkNetwork.from_file(s.network_path)
    plan = _plan(s.areas, s.facilities, s.candidates, net, standard="jinwan-2020")
    new = plan.proposed[plan.proposed["kind"] == "new"]
    cap = s.candidates["max_floor_area_m2"]
    assert (new["floor_area_m2"] >= 200 - 1e-6).all()
    assert (new["floor_area_m2"].to_numpy()
            <= cap.reindex(new["candidate_id"]).fillna(np.inf).to_numpy() + 1e-6).all()
    taken = plan.allocation.groupby("facility_id")["floor_area_m2"].sum()
    padding = sum(max(0.0, 200 - taken.get(sid, 0.0)) for sid in new.index)
    stations = plan.proposed[plan.proposed["kind"].isin(["new", "expansion", "on_site"])]
    extra = stations["floor_area_m2"].sum() - taken.reindex(stations.index).fillna(0).sum()
    assert extra == pytest.approx(padding, abs=0.05)


@pytest.mark.parametrize("standard, seed", [("anhui-2022", 0), ("anhui-2022", 1),
                                            ("jinwan-2020", 2)])
def test_plan_new_stations_are_the_fewest_by_brute_force(standard, seed):
    """plan_layout on a tiny line town: its number of new stations equals the least number
    of candidates that (a) put every estate within 900 m of a station and (b) give every
    estate's deficit a station, within the pooling circle for a deficit below the minimum
    when some candidate lies within it; every subset of the candidates is tried."""
    import careplan as cp

    rng = np.random.default_rng(seed)
    xs = sorted(rng.choice(np.arange(0, 2700, 150), size=5, replace=False))
    areas = _estates(list(xs), list(rng.integers(100, 2500, size=5)))
    pts = {f"c{k}": (float(x), 3.0) for k, x in enumerate(rng.uniform(0, 2800, size=6))}
    cands = _candidates(pts)
    net = _line_net()
    plan = _plan(areas, None, cands, net, standard=standard)
    std = cp.standards.load(standard)
    lim = cp.standards.site_limits(std, "community")
    pool_m = plan.parameters["pooling_cutoff_m"]
    od = net.distances(areas, cands, cutoff_m=900)
    reach = {a: dict(zip(g["destination"], g["distance_m"], strict=True))
             for a, g in od.groupby("origin")}
    need = {a: h / 100 * std.floor_area_rate_m2_per_100hh("existing")
            for a, h in areas["households"].items()}
    best = None
    for k in range(len(pts) + 1):
        for s in itertools.combinations(pts, k):
            ok = True
            for a in reach:
                near = [c for c in reach[a] if c in s]
                if need[a] < lim.min_m2 and any(d <= pool_m for d in reach[a].values()):
                    near = [c for c in near if reach[a][c] <= pool_m]
                ok = ok and bool(near)
            if ok:
                best = k
                break
        if best is not None:
            break
    new = plan.proposed[plan.proposed["kind"] == "new"]
    assert len(new) == best
    assert (new["floor_area_m2"] >= lim.min_m2 - 1e-6).all()
