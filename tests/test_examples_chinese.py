"""End to end with `careplan plan`: the planner's folder of Chinese files, and a district
derived from a raw OSM extract with no existing facilities (issue 14, "how we will check it").
"""

from __future__ import annotations

import warnings
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest

import careplan as cp
from careplan import derive
from careplan.cli import main

REPO = Path(__file__).resolve().parents[1]
FOLDER = REPO / "examples" / "chinese_planner"
LONGGANG = REPO.parent / "shared" / "data" / "shenzhen_longgang" / "shenzhen_longgang_osmapi_2019.osm"


def _sample():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", cp.CareplanWarning)
        return cp.datasets.load_sample()


def test_folder_is_what_the_script_makes(tmp_path):
    import importlib.util

    spec = importlib.util.spec_from_file_location("make_files", FOLDER / "make_files.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    made = mod.make(tmp_path)
    for kind in ("areas", "candidates"):  # CSV bytes are deterministic
        assert made[kind].read_bytes() == (FOLDER / made[kind].name).read_bytes(), kind
    new = pd.read_excel(made["facilities"], sheet_name=None)
    old = pd.read_excel(FOLDER / made["facilities"].name, sheet_name=None)
    assert list(new) == list(old) == ["说明", "设施"]
    pd.testing.assert_frame_equal(new["设施"], old["设施"])
    # the CSVs really are GBK, not UTF-8
    raw = (FOLDER / "小区.csv").read_bytes()
    with pytest.raises(UnicodeDecodeError):
        raw.decode("utf-8")
    assert raw.decode("gbk").startswith("小区编号,")


def test_folder_reads_back_to_the_sample_values():
    s = _sample()
    with warnings.catch_warnings(record=True) as rec:
        warnings.simplefilter("always")
        areas = cp.read_areas(FOLDER / "小区.csv", coord_system="gcj02", crs=s.areas.crs)
        facs = cp.read_facilities(FOLDER / "养老设施.xlsx", sheet="设施", coord_system="gcj02",
                                  crs=s.areas.crs)
        cands = cp.read_candidates(FOLDER / "候选点.csv", coord_system="gcj02", crs=s.areas.crs)
    msgs = [str(w.message) for w in rec]
    assert any("read as gb18030" in m for m in msgs)
    # independent: the sample read from its GeoPackage (WGS84 -> UTM, no offset)
    assert list(areas.index) == [f"{i + 1:03d}" for i in range(len(s.areas))]
    np.testing.assert_array_equal(areas["households"], s.areas["households"])
    np.testing.assert_array_equal(areas["elderly"], s.areas["elderly"])
    assert areas["built"].tolist() == s.areas["built"].tolist()
    # GCJ-02 written with 7 decimals and inverted: back within 0.5 m of the sample
    ref = s.areas.geometry.representative_point()
    assert float(np.max(areas.geometry.distance(ref.set_axis(areas.index)))) < 0.5
    assert facs["level"].tolist() == s.facilities["level"].tolist()
    np.testing.assert_array_equal(facs["floor_area_m2"], s.facilities["floor_area_m2"])
    np.testing.assert_array_equal(facs["nursing_beds"], s.facilities["nursing_beds"])
    assert float(np.max(facs.geometry.distance(
        s.facilities.geometry.representative_point().set_axis(facs.index)))) < 0.5
    assert list(facs.index)[:2] == ["0001", "0002"]
    np.testing.assert_array_equal(cands["max_floor_area_m2"], s.candidates["max_floor_area_m2"])


def test_careplan_plan_on_the_folder(tmp_path, capsys):
    out = tmp_path / "out"
    assert main(["plan", str(FOLDER / "plan.toml"), "--out", str(out), "-q"]) == 0
    printed = capsys.readouterr()
    assert "Traceback" not in printed.err
    areas = gpd.read_file(out / "plan.gpkg", layer="areas")
    s = _sample()
    assert areas["area_id"].tolist() == [f"{i + 1:03d}" for i in range(len(s.areas))]
    assert int(areas["households"].sum()) == int(s.areas["households"].sum())
    assert areas["covered_after"].all() and not areas["covered_before"].all()
    # the plan never makes a deficit worse and closes most of it (what is left is the plan's
    # to report: see its summary)
    assert (areas["deficit_after_m2"] <= areas["deficit_before_m2"] + 1e-6).all()
    assert areas["deficit_after_m2"].sum() < 0.1 * areas["deficit_before_m2"].sum()
    assert (out / "report.html").exists() and (out / "tables.xlsx").exists()


@pytest.mark.skipif(not LONGGANG.exists(), reason="shared data not available")
def test_careplan_plan_on_longgang_derived_inputs_without_facilities(tmp_path, capsys):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", cp.CareplanWarning)
        net = cp.WalkNetwork.from_file(LONGGANG)
        b = cp.data.buildings_from_osm(LONGGANG)
        areas = derive.areas_from_buildings(b, types=derive.RESIDENTIAL_BUILDINGS + ("yes",),
                                            crs=net.crs)
        cands = pd.concat([derive.candidates_from_osm(LONGGANG, crs=net.crs),
                           derive.road_candidates(net, spacing_m=300)])
    assert len(areas) > 10 and areas["households"].sum() > 1000 and len(cands) > 50
    gpkg = tmp_path / "longgang.gpkg"
    areas.to_file(gpkg, layer="areas")
    cands[["candidate_id", "name", "geometry"]].to_file(gpkg, layer="candidates")
    cfg = tmp_path / "plan.toml"
    cfg.write_text(
        '[inputs.areas]\npath = "longgang.gpkg"\nlayer = "areas"\n'
        '[inputs.candidates]\npath = "longgang.gpkg"\nlayer = "candidates"\n'
        f'[inputs.network]\npath = "{LONGGANG.as_posix()}"\n'
        '[plan]\nstandard = "jinwan-2020"\nminutes = 10\nlang = "en"\n'
        '[output]\ndir = "out"\n', encoding="utf-8")
    assert main(["plan", str(cfg), "-q"]) == 0
    assert "Traceback" not in capsys.readouterr().err
    out = tmp_path / "out"
    got = gpd.read_file(out / "plan.gpkg", layer="areas").set_index("area_id")
    proposed = gpd.read_file(out / "plan.gpkg", layer="proposed_stations")
    assert len(gpd.read_file(out / "plan.gpkg", layer="existing_facilities")) == 0
    assert len(proposed) > 0 and not got["covered_before"].any()
    # sound: the floor-area deficit is (nearly) closed and every area is within the circle,
    # its distance recomputed independently of the plan through the network
    assert (got["deficit_after_m2"] <= got["deficit_before_m2"] + 1e-6).all()
    assert got["deficit_after_m2"].sum() < 0.1 * got["deficit_before_m2"].sum()
    cutoff = 10 * 60.0  # minutes x the profile's 60 m/min
    od = net.distances(areas, proposed.set_index("station_id").to_crs(net.crs), cutoff_m=cutoff)
    nearest = od.groupby("origin")["distance_m"].min().reindex(areas.index)
    covered = got["covered_after"].reindex(areas.index).to_numpy(dtype=bool)
    np.testing.assert_array_equal(covered, (nearest <= cutoff).to_numpy())
    assert covered[areas["households"].to_numpy() > 0].all()
