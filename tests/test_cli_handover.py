"""The command as a bureau planner meets it: help on every option, -q hides progress
bars only, each warning once, no Dask log lines, reader errors that name the file."""

from __future__ import annotations

import argparse
import logging
import os
import warnings
from pathlib import Path

import pytest

from careplan.cli import _dask_logs, _parser, _warning_printer, main

NETWORK = Path(__file__).resolve().parents[1] / "src" / "careplan" / "datasets" / "nanjing_xuanwu.osm.bz2"


def _subcommands() -> dict[str, argparse.ArgumentParser]:
    sub = next(a for a in _parser()._actions if isinstance(a, argparse._SubParsersAction))
    return dict(sub.choices)


@pytest.mark.parametrize("cmd", ["demo", "plan", "batch", "check", "standards"])
def test_every_option_of_every_subcommand_has_help(cmd, capsys):
    parser = _subcommands()[cmd]
    bare = [a.option_strings or [a.dest] for a in parser._actions
            if not isinstance(a, argparse._HelpAction) and not (a.help or "").strip()]
    assert bare == [], f"careplan {cmd}: options without help: {bare}"
    with pytest.raises(SystemExit) as stop:
        main([cmd, "--help"])
    assert stop.value.code == 0
    shown = capsys.readouterr().out
    for a in parser._actions:  # the help text shows each option with its help
        if a.option_strings and not isinstance(a, argparse._HelpAction):
            assert a.option_strings[-1] in shown and a.help.split()[0] in shown


def test_quiet_is_documented_as_hiding_progress_bars_only():
    helps = {cmd: next(a.help for a in p._actions if "--quiet" in a.option_strings)
             for cmd, p in _subcommands().items() if cmd in ("demo", "plan", "batch")}
    for text in helps.values():
        assert "progress bars" in text and "warnings" in text and "still print" in text
    readme = (Path(__file__).resolve().parents[1] / "README.md").read_text(encoding="utf-8")
    assert "warnings about the data" in readme


def test_each_distinct_warning_prints_once_per_run(capsys):
    show = _warning_printer()
    for _ in range(3):
        show(UserWarning("1 origins are nearest to a street of a small piece (blk-19)"),
             UserWarning, "x.py", 1)
    show(UserWarning("another\n  warning"), UserWarning, "x.py", 2)
    assert capsys.readouterr().err.splitlines() == [
        "careplan: warning: 1 origins are nearest to a street of a small piece (blk-19)",
        "careplan: warning: another warning"]
    _warning_printer()(UserWarning("another warning"), UserWarning, "x.py", 2)  # a new run
    assert capsys.readouterr().err.count("another warning") == 1


def test_dask_log_lines_stay_below_error_unless_verbose():
    seen: list[str] = []

    class Keep(logging.Handler):
        def emit(self, record):
            seen.append(record.getMessage())

    nanny = logging.getLogger("distributed.nanny")
    handler = Keep(level=logging.DEBUG)
    nanny.addHandler(handler)
    before = (nanny.level, os.environ.get("DASK_LOGGING__DISTRIBUTED"))
    try:
        with _dask_logs():
            assert os.environ["DASK_LOGGING__DISTRIBUTED"] == "error"  # spawned workers too
            nanny.warning("Worker process still alive after 4.0 seconds, killing")
            nanny.error("a real failure")
        assert (nanny.level, os.environ.get("DASK_LOGGING__DISTRIBUTED")) == before
        with _dask_logs(shown=True):
            nanny.warning("shown with --verbose")
    finally:
        nanny.removeHandler(handler)
    assert seen == ["a real failure", "shown with --verbose"]


def test_batch_scheduler_does_not_bind_port_8787():
    import socket

    from distributed import LocalCluster

    from careplan.batch import _run

    assert '"dashboard_address": ":0"' in Path(_run.__file__).read_text(encoding="utf-8")
    busy = socket.socket()
    try:
        busy.bind(("127.0.0.1", 8787))
        busy.listen()
    except OSError:
        pass  # already taken by someone else: the point of the test
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            cluster = LocalCluster(n_workers=1, threads_per_worker=1, processes=False,
                                   dashboard_address=None,
                                   scheduler_kwargs={"dashboard_address": ":0"})
        try:
            assert cluster.scheduler.http_server.port != 8787
        finally:
            cluster.close()
    finally:
        busy.close()


# ------------------------------------------------------------- reader errors in the CLI
def _one_error(err: str) -> str:
    lines = [ln for ln in err.splitlines() if ln.strip() and not ln.startswith("careplan: warning")]
    assert len(lines) == 1 and lines[0].startswith("careplan: error: "), err
    return lines[0]


def _config(tmp_path: Path, areas: Path) -> Path:
    cfg = tmp_path / "plan.toml"
    cfg.write_text(f'[inputs.areas]\npath = "{areas.name}"\n[inputs.network]\n'
                   f'path = "{NETWORK.as_posix()}"\n', encoding="utf-8")
    return cfg


def test_missing_households_names_the_file_and_the_columns_it_has(tmp_path, capsys):
    f = tmp_path / "小区台账.csv"
    f.write_text("area_id,x,y,住户\na1,118.79,32.05,100\n", encoding="utf-8")
    assert main(["plan", str(_config(tmp_path, f)), "--quiet"]) == 2
    err = capsys.readouterr().err
    line = _one_error(err)
    assert "areas (小区台账.csv): column 'households' is missing" in line
    assert "The file's columns are: 'area_id', 'x', 'y', '住户'." in line
    # TOML a config takes, not a Python dict; the Python functions said to be Python
    assert '[inputs.areas] columns = { "your_col" = "households" }' in line
    assert "careplan.estimate_households/careplan.aggregate_households (Python functions)" in line
    # -q kept the data warning (the reprojection), printed once
    assert err.count("careplan: warning: areas: geographic CRS EPSG:4326 reprojected") == 1

    assert main(["check", "--areas", str(f)]) == 2
    err = capsys.readouterr().err
    line = _one_error(err)
    assert "areas (小区台账.csv)" in line and "'住户'" in line
    assert "reprojected to EPSG:32650" in err and "crs=" not in err  # no option of check
    assert "keys go in a careplan plan config" in line


def test_empty_file_and_metres_without_crs_name_the_file(tmp_path, capsys):
    empty = tmp_path / "empty.csv"
    empty.write_text("area_id,x,y,households\n", encoding="utf-8")
    assert main(["check", "--areas", str(empty)]) == 2
    assert _one_error(capsys.readouterr().err) == (
        "careplan: error: areas (empty.csv): no records; give at least one area.")
    assert main(["plan", str(_config(tmp_path, empty))]) == 2
    assert "areas (empty.csv): no records" in _one_error(capsys.readouterr().err)


def test_no_crs_hint_gets_its_config_key(tmp_path, capsys):
    import geopandas as gpd
    from shapely.geometry import Point

    shp = tmp_path / "noprj.shp"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # pyogrio: "'crs' was not provided"
        gpd.GeoDataFrame({"area_id": ["a"], "households": [10], "built": ["existing"]},
                         geometry=[Point(500000, 3500000).buffer(50)]).to_file(shp)
    shp.with_suffix(".prj").unlink(missing_ok=True)
    assert main(["check", "--areas", str(shp)]) == 2
    line = _one_error(capsys.readouterr().err)
    assert "areas (noprj.shp): " in line and "[inputs.areas] src_crs" in line
    assert main(["plan", str(_config(tmp_path, shp))]) == 2
    line = _one_error(capsys.readouterr().err)
    assert "areas (noprj.shp): " in line and "[inputs.areas] src_crs" in line


def test_for_file_adds_the_config_key_to_a_python_only_hint():
    from careplan._cli_text import for_file

    msg = for_file("areas: no CRS; set it with .set_crs(...) (e.g. 'EPSG:4326')", "d/b.shp",
                   "inputs.streets")
    assert msg.startswith("areas (b.shp): no CRS; set it with .set_crs(...)")
    assert msg.endswith('in a config: set src_crs in [inputs.streets] (e.g. src_crs = "EPSG:4326" '
                        "for longitude/latitude, or the EPSG code of your projected coordinates).")
    assert for_file("b.shp is broken", "b.shp", "inputs.areas") == "b.shp is broken"
    assert for_file("bad bytes", "x/y.csv", "inputs.areas") == "y.csv: bad bytes"
