"""careplan.batch on a real dask LocalCluster: districts cut from the bundled central-Nanjing
sample (real OSM streets) by a grid, plus one district with a broken input.

Checked against independent computations: each district planned alone with
plan_layout (no Dask), and the walking distances of each district's estates on
the undivided network (the halo rule must not change any distance up to the cutoff).
"""

from __future__ import annotations

import dataclasses
import warnings
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pyogrio
import pytest

import careplan as cp
from careplan import batch
from careplan._errors import InputError

CUTOFF_M = 900.0  # jinwan-2020: 15 min x 60 m/min


@pytest.fixture(scope="module")
def sample():
    s = cp.datasets.load_sample()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        net = cp.WalkNetwork.from_file(s.network_path)
    return s, net


@pytest.fixture(scope="module")
def grid(sample):
    s, _ = sample
    g = batch.districts_from_grid(s.areas, 1, 2)
    g.loc[g.index[0], "name"] = "<i>R&D</i> 西区"  # must come out escaped in index.html
    return g


@pytest.fixture(scope="module")
def broken_areas(tmp_path_factory, sample):
    s, _ = sample
    bad = s.areas.head(3).copy()
    bad["households"] = [10, -5, 20]
    path = tmp_path_factory.mktemp("broken") / "broken_areas.gpkg"
    bad.to_crs(4326).to_file(path, layer="areas")
    return path


@pytest.fixture(scope="module")
def run(tmp_path_factory, sample, grid, broken_areas):
    s, net = sample
    out = tmp_path_factory.mktemp("province") / "out"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        res = batch.plan_districts(
            grid, s.areas, s.facilities, s.candidates, net, out=out,
            extra_districts=[{"id": "broken", "name": "broken input",
                              "inputs": {"areas": str(broken_areas)}}],
            processes=True, n_workers=2, verbose=False)
    return res


def test_grid_covers_every_estate_once(sample, grid):
    s, _ = sample
    owner = batch._owner(s.areas.geometry.representative_point(), grid.geometry)
    assert (owner >= 0).all()
    # each estate in exactly one cell: check against shapely directly
    pts = s.areas.geometry.representative_point()
    n_cover = np.array([sum(b.covers(p) for b in grid.geometry) for p in pts])
    assert (n_cover >= 1).all()
    assert (owner == np.array([next(k for k, b in enumerate(grid.geometry) if b.covers(p))
                               for p in pts])).all()


def test_halo_keeps_every_distance_within_the_cutoff(sample, grid):
    """District estates -> all facilities: the clipped network gives exactly the
    whole network's distances up to the cutoff (and no pair more or less)."""
    s, net = sample
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for did in grid.index:
            inp = batch.district_inputs(did, grid, s.areas, s.facilities, s.candidates, net,
                                        halo_m=CUTOFF_M)
            assert inp.network.n_edges < net.n_edges
            sites = pd.concat([s.facilities.geometry, s.candidates.geometry])
            sites = gpd.GeoDataFrame(geometry=sites.to_numpy(), crs=net.crs,
                                     index=[f"f{i}" for i in range(len(sites))])
            whole = net.distances(inp.areas, sites, cutoff_m=CUTOFF_M)
            part = inp.network.distances(inp.areas, sites, cutoff_m=CUTOFF_M)
            key = ["origin", "destination"]
            a = whole.sort_values(key).reset_index(drop=True)
            b = part.sort_values(key).reset_index(drop=True)
            assert len(a) > 0
            pd.testing.assert_frame_equal(a[key], b[key])
            np.testing.assert_allclose(a["distance_m"], b["distance_m"], rtol=0, atol=1e-6)
            # the district's facilities are those within the halo, nothing more
            halo = grid.geometry[did].buffer(CUTOFF_M)
            assert set(inp.facilities.index) == set(
                s.facilities.index[s.facilities.geometry.intersects(halo)])


def test_each_district_equals_its_plan_alone(sample, grid, run):
    s, net = sample
    done = run.districts[run.districts["status"] == "done"]
    assert set(done.index) == set(grid.index)
    for did in grid.index:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            inp = batch.district_inputs(did, grid, s.areas, s.facilities, s.candidates, net,
                                        halo_m=CUTOFF_M)
            alone = cp.plan_layout(inp.areas, inp.facilities, inp.candidates, inp.network,
                                   verbose=False)
        row = run.districts.loc[did]
        for _, m in alone.summary.iterrows():
            assert row[f"{m['metric']}_before"] == pytest.approx(m["before"], nan_ok=True)
            assert row[f"{m['metric']}_after"] == pytest.approx(m["after"], nan_ok=True)
        gpkg = run.out / "districts" / did / "plan.gpkg"
        got = pyogrio.read_dataframe(gpkg, layer="proposed_stations")
        exp = alone.proposed
        assert list(got["station_id"]) == list(exp["station_id"])
        assert list(got["candidate_id"].fillna("")) == list(exp["candidate_id"].fillna(""))
        np.testing.assert_allclose(got["floor_area_m2"], exp["floor_area_m2"])
        areas = pyogrio.read_dataframe(gpkg, layer="areas").set_index("area_id")
        np.testing.assert_allclose(
            areas.loc[alone.areas.index, "nearest_distance_after_m"].astype(float),
            alone.areas["nearest_distance_after_m"].astype(float))


def test_counted_once_across_districts(sample, grid, run):
    s, _ = sample
    d = run.districts[run.districts["district_id"] != "broken"]
    assert int(d["n_areas"].sum()) == len(s.areas)
    assert d["households_before"].sum() == s.areas["households"].sum()
    # facilities outside every grid cell are counted nowhere but reported
    outside = [f for f, g in s.facilities.geometry.items()
               if not any(b.covers(g) for b in grid.geometry)]
    assert sorted(run.unassigned_facilities) == sorted(outside)
    assert int(d["n_facilities"].sum()) + len(outside) == len(s.facilities)
    assert run.unassigned_areas == []
    cands = []  # a candidate is used by one district only (a station and a centre may
    for did in d.index:  # share a building within a district: plan/_levels._free)
        p = pyogrio.read_dataframe(run.out / "districts" / did / "plan.gpkg",
                                   layer="proposed_stations")
        cands += sorted(set(p["candidate_id"].dropna()))
    assert len(cands) == len(set(cands))


def test_broken_district_fails_alone(run):
    d = run.districts
    assert d.at["broken", "status"] == "failed"
    assert "households" in d.at["broken", "error"]
    assert "InputError" in d.at["broken", "error"]
    assert (d.loc[d.index != "broken", "status"] == "done").all()
    assert not (run.out / "districts" / "broken").exists()
    assert list(run.failed["district_id"]) == ["broken"]
    # every task records its wall and CPU seconds (the benchmark's speed-up figures)
    ok = d.loc[d.index != "broken"]
    assert (ok["runtime_s"] > 0).all() and (ok["cpu_s"] > 0).all()


def test_provincial_summary_files(grid, run):
    gp = pyogrio.read_dataframe(run.files["province_gpkg"], layer="districts")
    assert set(gp["district_id"]) == set(grid.index) | {"broken"}
    assert gp.crs.to_epsg() == 4326
    xl = pd.read_excel(run.files["province_xlsx"], sheet_name=None)
    assert len(xl["districts"]) == 3
    assert set(xl["streets"]["district_id"]) == set(grid.index)
    streets = xl["streets"].groupby("district_id")["households"].sum()
    for did in grid.index:
        assert streets[did] == run.districts.at[did, "households_before"]
    page = run.files["index_html"].read_text(encoding="utf-8")
    assert "&lt;i&gt;R&amp;D&lt;/i&gt;" in page and "<i>R&D" not in page
    for did in grid.index:
        href = f'href="districts/{did}/report.html"'
        assert href in page
        assert (run.out / "districts" / did / "report.html").is_file()
    assert "failed" in page and "households" in page


def test_halo_smaller_than_cutoff_is_refused(sample, grid, tmp_path):
    s, net = sample
    with pytest.raises(InputError, match="halo_m"):
        batch.plan_districts(grid, s.areas, s.facilities, s.candidates, net, out=tmp_path,
                             halo_m=100, processes=False)


def test_cli_resumes_and_reports_the_failure(run, broken_areas, capsys):
    """The same batch from a TOML config: districts done are skipped (resumable),
    the broken one fails again, with one error line and exit status 2."""
    from careplan.cli import main

    root = Path(cp.__file__).parent / "datasets"
    cfg = run.out.parent / "province.toml"
    cfg.write_text(f"""
[inputs]
areas = "{root / 'sample.gpkg'}"
areas_layer = "areas"
facilities = "{root / 'sample.gpkg'}"
facilities_layer = "facilities"
candidates = "{root / 'sample.gpkg'}"
candidates_layer = "candidates"
network = "{root / 'nanjing_xuanwu.osm.bz2'}"
[districts]
grid = [1, 2]
[[district]]
id = "broken"
inputs = {{ areas = "{broken_areas}" }}
[batch]
processes = false
n_workers = 1
""", encoding="utf-8")
    before = {p: p.stat().st_mtime_ns for p in (run.out / "districts").rglob("report.html")}
    code = main(["batch", str(cfg), "--out", str(run.out), "-q"])
    err = capsys.readouterr().err.strip().splitlines()
    assert code == 2
    assert err[-1].startswith("careplan: error: 1 of 3 districts failed (broken)")
    after = {p: p.stat().st_mtime_ns for p in (run.out / "districts").rglob("report.html")}
    assert before == after  # nothing re-planned
    xl = pd.read_excel(run.out / "province.xlsx", sheet_name="districts")
    assert xl.set_index("district_id")["reused"].to_dict() == {
        "r0c0": True, "r0c1": True, "broken": False}


def test_bad_config_is_one_line(tmp_path, capsys):
    from careplan.cli import main

    cfg = tmp_path / "p.toml"
    cfg.write_text("[plan]\nbogus = 1\n[districts]\ngrid=[1,1]\n", encoding="utf-8")
    assert main(["batch", str(cfg)]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "bogus" in err[0]


def test_batch_timing_against_a_hand_example():
    """Two workers: A runs tasks of 4 s and 2 s CPU back to back over [0, 6] s, B one
    task of 3 s CPU over [1, 4] s (wall = CPU); a reused district is left out."""
    recs = [
        {"worker": "A", "runtime_s": 4.0, "cpu_s": 4.0, "start_unix_s": 100.0,
         "end_unix_s": 104.0},
        {"worker": "A", "runtime_s": 2.0, "cpu_s": 2.0, "start_unix_s": 104.0,
         "end_unix_s": 106.0},
        {"worker": "B", "runtime_s": 3.0, "cpu_s": 3.0, "start_unix_s": 101.0,
         "end_unix_s": 104.0},
        {"worker": "C", "runtime_s": 50.0, "cpu_s": 50.0, "start_unix_s": 0.0,
         "end_unix_s": 50.0, "reused": True},
    ]
    t = batch.batch_timing(recs, wall_s=8.0, n_workers=2)
    assert t["n_tasks"] == 3
    assert t["span_s"] == 6.0  # 100 -> 106
    assert t["sum_task_cpu_s"] == 9.0 and t["sum_task_wall_s"] == 9.0
    assert t["concurrency"] == 1.5  # 9 task-seconds over a 6 s span
    assert t["busy_cpu_s"] == {"A": 6.0, "B": 3.0}
    assert t["critical_path_cpu_s"] == 6.0
    assert t["cpu_speedup_bound"] == 1.5  # 9 / 6
    one = batch.batch_timing(recs[:2], wall_s=6.0, n_workers=1)
    assert one["cpu_speedup_bound"] == 1.0 and one["concurrency"] == 1.0


def test_threads_default_follows_careplan_threads(monkeypatch):
    import os

    from careplan._threads import default_threads

    monkeypatch.delenv("CAREPLAN_THREADS", raising=False)
    assert default_threads() == max(1, os.cpu_count() or 1)
    monkeypatch.setenv("CAREPLAN_THREADS", "3")
    assert default_threads() == 3
    for bad in ("0", "two", "-1"):
        monkeypatch.setenv("CAREPLAN_THREADS", bad)
        with pytest.raises(InputError, match="CAREPLAN_THREADS"):
            default_threads()


def test_run_records_intervals_and_largest_first(sample, grid, run):
    """Each task's interval, worker and CPU are recorded; the timing summary adds them up
    (checked against the district table); tasks start largest first."""
    s, _ = sample
    d = run.districts
    tm = run.timing
    assert tm["n_tasks"] == 3 and tm["n_workers"] == 2
    assert tm["sum_task_cpu_s"] == pytest.approx(d["cpu_s"].sum(), abs=1e-2)
    assert tm["span_s"] == pytest.approx(d["end_unix_s"].max() - d["start_unix_s"].min(),
                                         abs=1e-2)
    assert (d["end_unix_s"] - d["start_unix_s"]).sub(d["runtime_s"]).abs().max() < 0.05
    assert set(tm["busy_cpu_s"]) == set(d["worker"])
    assert 1.0 <= tm["cpu_speedup_bound"] <= 2.0
    # largest first: work = owned estates + sites, counted here with shapely directly
    pts = s.areas.geometry.representative_point()
    cpts = s.candidates.geometry.representative_point()
    size = {did: sum(b.covers(p) for p in pts) + sum(b.covers(p) for p in cpts)
            for did, b in grid.geometry.items()}
    small, large = sorted(size, key=size.get)
    assert size[small] < size[large]
    # 2 workers, 3 tasks: the broken district (own inputs: size unknown, first) and the
    # larger grid district start at once; the smaller one waits for a free worker
    first_end = min(d.at["broken", "end_unix_s"], d.at[large, "end_unix_s"])
    assert d.at[small, "start_unix_s"] >= first_end - 0.05
    # with processes (the default), workers run careplan's pools with one thread
    assert set(d["threads"]) == {1}


def test_a_district_whose_cut_fails_is_reported(sample, grid, tmp_path):
    """The client cuts each district's inputs (only they go to the worker); a district
    that cannot be cut (here: a box far from every estate) becomes a failed record with
    the reason, through the same path as a failure on a worker."""
    import shapely

    from careplan.batch._districts import _check_boundaries
    from careplan.batch._run import _cut, _plan_one, _Task

    s, net = sample
    x0, y0, _, _ = grid.total_bounds
    far = gpd.GeoDataFrame({"district_id": ["far"], "name": ["far"]},
                           geometry=[shapely.box(x0 - 5e4, y0 - 5e4, x0 - 4e4, y0 - 4e4)],
                           crs=grid.crs)
    b = _check_boundaries(pd.concat([grid, far]), "district_id", net.crs)
    shared = batch._districts._Shared.build(b, s.areas, s.facilities, s.candidates, net)
    opts = cp.plan.PlanConfig.from_mapping({})
    task = _Task(district_id="far", name="far", dir_name="far", key="k", out=str(tmp_path),
                 options=opts, halo_m=CUTOFF_M, clip=True)
    cut = _cut(task, shared)
    assert cut.inputs is None and cut.error.startswith("InputError: district 'far' owns no")
    rec = _plan_one(task, cut)
    assert rec["status"] == "failed" and rec["error"] == cut.error
    assert not (tmp_path / "districts").exists() and not (tmp_path / "status").exists()
    # a district that can be cut carries exactly district_inputs()
    ok = _cut(dataclasses.replace(task, district_id=grid.index[0]), shared)
    alone = batch.district_inputs(grid.index[0], grid, s.areas, s.facilities, s.candidates,
                                  net, halo_m=CUTOFF_M)
    assert ok.error == "" and list(ok.inputs.areas.index) == list(alone.areas.index)
    assert ok.inputs.network.n_edges == alone.network.n_edges
