"""`careplan check --encoding/--sheet` (issue 13 tidy): through the command, on real files.

Every expected value is what the test wrote into the file (encoded with Python's codecs,
the workbook with openpyxl); the command's own output workbook (``--out``) is read back.
"""

from __future__ import annotations

import pandas as pd
import pytest

from careplan.cli import main

LON = [118.790, 118.795]
LAT = [32.050, 32.052]


def _areas(households) -> pd.DataFrame:
    return pd.DataFrame({"小区编号": ["007", "010"], "名称": ["梅园新村", "长江路小区"], "户数": households,
                         "类型": ["新建", "老旧小区"], "经度": LON, "纬度": LAT})


def _written(out) -> tuple[pd.DataFrame, pd.DataFrame]:
    book = pd.read_excel(out, sheet_name=None, dtype={"area_id": str}, engine="openpyxl")
    return book["areas"], book["facilities"]


def _one_line_error(err: str) -> str:
    lines = [x for x in err.splitlines() if x.startswith("careplan: error:")]
    assert len(lines) == 1, err
    return lines[0]


def test_check_reads_a_gbk_csv_with_encoding(tmp_path, capsys):
    f = tmp_path / "小区.csv"
    f.write_bytes(_areas([1200, 800]).to_csv(index=False).encode("gbk"))
    out = tmp_path / "check.xlsx"
    assert main(["check", "--areas", str(f), "--encoding", "gbk", "--out", str(out)]) == 0
    err = capsys.readouterr().err
    assert "not UTF-8" not in err  # told, not guessed
    areas, _ = _written(out)
    assert areas["area_id"].tolist() == ["007", "010"]
    assert areas["households"].tolist() == [1200, 800]
    # without --encoding the legacy encoding is detected and said; a wrong one is one line, exit 2
    assert main(["check", "--areas", str(f)]) == 0
    assert "not UTF-8" in capsys.readouterr().err
    assert main(["check", "--areas", str(f), "--encoding", "utf-8"]) == 2
    assert "not valid utf-8" in _one_line_error(capsys.readouterr().err)
    assert main(["check", "--areas", str(f), "--encoding", "klingon"]) == 2
    assert "unknown encoding" in _one_line_error(capsys.readouterr().err)


def test_check_reads_the_sheet_it_is_told(tmp_path, capsys):
    book = tmp_path / "台账.xlsx"
    facs = pd.DataFrame({"facility_id": ["F1"], "level": ["community"], "floor_area_m2": [350.0],
                         "lon": [118.791], "lat": [32.051]})
    with pd.ExcelWriter(book, engine="openpyxl") as xw:
        _areas([10, 20]).to_excel(xw, sheet_name="2023", index=False)
        _areas([1200, 800]).to_excel(xw, sheet_name="2024更新", index=False)
        facs.to_excel(xw, sheet_name="设施", index=False)
    out = tmp_path / "check.xlsx"
    assert main(["check", "--areas", str(book), "--out", str(out)]) == 0
    assert _written(out)[0]["households"].tolist() == [10, 20]  # the first sheet by default
    assert main(["check", "--areas", str(book), "--sheet", "2024更新", "--facilities", str(book),
                 "--facilities-sheet", "设施", "--out", str(out)]) == 0
    areas, fac = _written(out)
    assert areas["households"].tolist() == [1200, 800]
    assert fac["facility_id"].tolist() == ["F1"] and fac["floor_area_m2"].tolist() == [350.0]
    capsys.readouterr()
    assert main(["check", "--areas", str(book), "--sheet", "2025"]) == 2
    line = _one_line_error(capsys.readouterr().err)
    assert "no sheet '2025'" in line and "2024更新" in line


@pytest.mark.parametrize("flag", ["--sheet", "--encoding", "--facilities-sheet", "--facilities-encoding"])
def test_check_help_lists_the_options(flag, capsys):
    with pytest.raises(SystemExit):
        main(["check", "--help"])
    assert flag in capsys.readouterr().out
