"""Tester's finding 8: the missing-households error lists every column of the file (it
left out ``built``: the lenient re-read set a default built class and then dropped it)."""

from __future__ import annotations

from pathlib import Path

import careplan as cp
from careplan.cli import main

NETWORK = Path(cp.__file__).parent / "datasets" / "nanjing_xuanwu.osm.bz2"


def _error_line(tmp_path: Path, header: str, row: str, capsys) -> str:
    f = tmp_path / "areas.csv"
    f.write_text(f"{header}\n{row}\n", encoding="utf-8")
    cfg = tmp_path / "plan.toml"
    cfg.write_text(f'[inputs.areas]\npath = "{f.name}"\n[inputs.network]\n'
                   f'path = "{NETWORK.as_posix()}"\n', encoding="utf-8")
    assert main(["plan", str(cfg), "--quiet"]) == 2
    lines = [ln for ln in capsys.readouterr().err.splitlines()
             if ln.strip() and not ln.startswith("careplan: warning")]
    assert len(lines) == 1 and lines[0].startswith("careplan: error: ")
    return lines[0]


def test_missing_households_lists_the_built_column_too(tmp_path, capsys):
    line = _error_line(tmp_path, "area_id,lon,lat,built", "a1,118.79,32.05,new", capsys)
    assert "column 'households' is missing" in line
    assert "The file's columns are: 'area_id', 'lon', 'lat', 'built'." in line


def test_without_built_the_list_has_no_built(tmp_path, capsys):
    line = _error_line(tmp_path, "area_id,lon,lat", "a1,118.79,32.05", capsys)
    assert "The file's columns are: 'area_id', 'lon', 'lat'." in line
