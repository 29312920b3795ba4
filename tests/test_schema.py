"""Tests for careplan._schema: vocabularies, column contracts and the one CRS guard."""

from __future__ import annotations

import geopandas as gpd
import pytest
import shapely
from pyproj import CRS

import careplan as cp
from careplan import _schema
from careplan._errors import CRSError


def _pts(crs):
    return gpd.GeoDataFrame({"a": [1]}, geometry=[shapely.Point(0, 0)], crs=crs)


def test_old_import_paths_are_the_schema_objects():
    import careplan.data as data
    import careplan.standards as standards

    assert data.FACILITY_LEVELS is _schema.FACILITY_LEVELS
    assert data.LEVEL_SYNONYMS is _schema.LEVEL_SYNONYMS
    assert data.BUILT_SYNONYMS is _schema.BUILT_SYNONYMS
    assert standards.FACILITY_LEVELS is _schema.FACILITY_LEVELS
    assert tuple(standards.BUILT_CLASSES) == _schema.BUILT_VALUES


def test_standards_does_not_import_the_readers():
    import ast
    from pathlib import Path

    root = Path(cp.standards.__file__).parent
    imported = set()
    for f in root.rglob("*.py"):
        for node in ast.walk(ast.parse(f.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ImportFrom) and node.module:
                imported.add(node.module)
            elif isinstance(node, ast.Import):
                imported.update(a.name for a in node.names)
    assert "careplan._schema" in imported
    assert not {m for m in imported if m == "careplan.data" or m.startswith("careplan.io")}


@pytest.mark.parametrize("value, level", [
    ("社区养老服务站", "community"), ("日间照料中心", "community"), (" 街道综合养老服务中心 ", "street"),
    ("区域养老服务中心", "district"), ("长者饭堂", "canteen"), ("老年食堂", "canteen"),
    ("助餐点", "canteen"), ("养老院", "institution"), ("敬老院", "institution"),
    ("福利院", "institution"), ("Nursing Home", "institution"), ("\u3000社区\u3000", "community"),
])
def test_level_names(value, level):
    assert _schema.normalise_vocab(value, _schema.LEVEL_SYNONYMS) == level


def test_vocabulary_is_closed():
    assert set(_schema.LEVEL_SYNONYMS.values()) == set(_schema.FACILITY_LEVELS)
    assert set(_schema.BUILT_SYNONYMS.values()) == set(_schema.BUILT_VALUES)
    assert _schema.normalise_vocab("comunity", _schema.LEVEL_SYNONYMS) is None
    assert _schema.normalise_vocab(float("nan"), _schema.LEVEL_SYNONYMS) is None
    for kind, cols in _schema.CONTRACTS.items():
        names = [c.name for c in cols]
        assert len(names) == len(set(names)), kind
        for canonical in _schema.HEADER_SYNONYMS[kind].values():
            assert canonical in names, (kind, canonical)


def test_check_crs_one_message_three_problems():
    utm = _pts(32651)
    assert _schema.check_crs(utm, "areas") == CRS.from_epsg(32651)
    assert _schema.check_crs(None, "facilities") is None
    msgs = []
    for data, like in ((_pts(None), None), (_pts(4326), None), (_pts(32650), utm)):
        with pytest.raises(CRSError) as e:
            _schema.check_crs(data, "facilities", like=like)
        msgs.append(str(e.value))
    assert "no CRS" in msgs[0] and "set_crs" in msgs[0]
    assert "geographic" in msgs[1] and "EPSG:4326" in msgs[1] and "estimate_utm_crs" in msgs[1]
    assert "differs" in msgs[2] and "EPSG:32651" in msgs[2] and "to_crs" in msgs[2]
    for m in msgs:
        assert m.startswith("facilities: ")
        assert "careplan measures in metres, so every input must be in one projected CRS" in m
    # a bare CRS is accepted too
    with pytest.raises(CRSError, match="geographic"):
        _schema.check_crs(CRS.from_epsg(4490), "the network")


def test_check_crs_accepts_an_empty_frame_without_crs_only():
    empty = _pts(None).iloc[:0]
    assert _schema.check_crs(empty, "facilities", like=_pts(32651)) is None
    with pytest.raises(CRSError, match="geographic"):
        _schema.check_crs(_pts(4326).iloc[:0], "facilities")
