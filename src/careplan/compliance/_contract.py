"""The input contract of :func:`careplan.compliance.check`, checked cheaply.

The readers (:func:`careplan.read_areas`, :func:`careplan.read_facilities`) already
guarantee these columns, types and vocabularies; compliance does not repeat their
cleaning. It checks the contract with whole-column (vectorised) tests so that a frame
built by hand fails with the same one-line message instead of a wrong number.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd

from careplan._errors import InputError
from careplan._schema import CONTRACTS, FACILITY_LEVELS, check_crs

AREA_COLS = tuple(c.name for c in CONTRACTS["areas"] if c.required)
FAC_COLS = tuple(c.name for c in CONTRACTS["facilities"] if c.required)
ALLOC_COLS = ("facility_id", "area_id", "floor_area_m2")


def _frame(obj: Any, what: str, cols: Sequence[str], reader: str) -> None:
    if not isinstance(obj, gpd.GeoDataFrame):
        raise InputError(f"{what} must be a GeoDataFrame, got {type(obj).__name__}; "
                         f"read them with careplan.{reader}(...)")
    missing = [c for c in cols if c not in obj.columns]
    if missing:
        raise InputError(f"{what} lack column(s) {missing}; required: {list(cols)} "
                         f"(use careplan.{reader} to normalise them)")


def _ids(df: pd.DataFrame, col: str, what: str, one: str) -> pd.Series:
    ids = df[col]
    if ids.isna().any():
        raise InputError(f"{what} rows {list(df.index[ids.isna()][:10])} have no {col}; "
                         f"give every {one} an id")
    dup = ids[ids.duplicated()].unique()
    if len(dup):
        raise InputError(f"{what} have duplicate {col} {list(dup[:10])}; ids must be unique")
    return ids


def areas(areas: Any) -> None:
    """Check the areas contract (see :func:`careplan.read_areas`).

    Raises
    ------
    InputError, CRSError
    """
    _frame(areas, "areas", AREA_COLS, "read_areas")
    check_crs(areas, "areas")
    ids = _ids(areas, "area_id", "areas", "area")
    hh = pd.to_numeric(areas["households"], errors="coerce")
    bad = ids[hh.isna() | (hh < 0) | (hh != np.floor(hh))]
    if len(bad):
        raise InputError(f"areas {list(bad[:10])}: 'households' must be a whole number >= 0; "
                         "fix or estimate them (careplan.estimate_households)")
    built = areas["built"]
    wrong = ~built.isin(("new", "existing"))
    if wrong.any():
        raise InputError(f"areas {list(ids[wrong][:10])}: 'built' must be 'new' or 'existing', "
                         f"got {sorted(set(map(str, built[wrong])))}")
    geom = areas.geometry
    bad = ids[geom.isna() | geom.is_empty]
    if len(bad):
        raise InputError(f"areas {list(bad[:10])} have no geometry; give each a polygon or point")
    ok_types = geom.geom_type.isin(("Polygon", "MultiPolygon", "Point"))
    if not ok_types.all():
        raise InputError(f"areas {list(ids[~ok_types][:10])} have geometry types "
                         f"{sorted(set(geom.geom_type[~ok_types]))}; use Polygon, MultiPolygon "
                         "or Point")


def facilities(facilities: Any, crs: Any) -> None:
    """Check the facilities contract (see :func:`careplan.read_facilities`).

    Raises
    ------
    InputError, CRSError
    """
    _frame(facilities, "facilities", FAC_COLS, "read_facilities")
    if len(facilities) == 0:
        return
    check_crs(facilities, "facilities", like=crs, like_what="the areas")
    ids = _ids(facilities, "facility_id", "facilities", "facility")
    lv = facilities["level"]
    wrong = ~lv.isin(FACILITY_LEVELS)
    if wrong.any():
        raise InputError(f"facilities {list(ids[wrong][:10])}: unknown level "
                         f"{sorted(set(map(str, lv[wrong])))}; use one of "
                         f"{list(FACILITY_LEVELS)}")
    for col in ("floor_area_m2", "beds", "nursing_beds"):
        v = pd.to_numeric(facilities[col], errors="coerce")
        bad = ids[v.isna() | (v < 0) | ~np.isfinite(v.fillna(0))]
        if len(bad):
            raise InputError(f"facilities {list(bad[:10])}: {col!r} must be a finite number "
                             ">= 0 (use 0 when there is none)")
    over = ids[pd.to_numeric(facilities["nursing_beds"]) > pd.to_numeric(facilities["beds"])]
    if len(over):
        raise InputError(f"facilities {list(over[:10])}: nursing_beds exceed beds; fix the counts")


def allocation(allocation: Any, fac: pd.DataFrame, area_ids: pd.Index) -> pd.DataFrame:
    """Check an explicit allocation table and return its three columns (m2 as float).

    Raises
    ------
    InputError
        Wrong type or columns, unknown ids, bad or repeated shares, or shares of a
        facility summing to more than its floor area.
    """
    if not isinstance(allocation, pd.DataFrame):
        raise InputError(f"allocation must be a DataFrame (facility_id, area_id, floor_area_m2), "
                         f"got {type(allocation).__name__}")
    missing = [c for c in ALLOC_COLS if c not in allocation]
    if missing:
        raise InputError(f"allocation lacks column(s) {missing}; it needs facility_id, area_id, "
                         "floor_area_m2")
    alloc = pd.DataFrame(allocation[list(ALLOC_COLS)]).copy()
    unknown = sorted(set(alloc["facility_id"]) - set(fac.index), key=str)
    if unknown:
        raise InputError(f"allocation names facilities not in facilities: {unknown[:10]}; "
                         "add them to facilities or remove the rows")
    unknown = sorted(set(alloc["area_id"]) - set(area_ids), key=str)
    if unknown:
        raise InputError(f"allocation names areas not in areas: {unknown[:10]}; fix the area_id")
    m2 = pd.to_numeric(alloc["floor_area_m2"], errors="coerce")
    bad = alloc.loc[m2.isna() | (m2 < 0) | ~np.isfinite(m2.fillna(0)), ["facility_id", "area_id"]]
    if len(bad):
        raise InputError(f"allocation rows {bad.values.tolist()[:10]}: floor_area_m2 must be a "
                         "number >= 0")
    alloc["floor_area_m2"] = m2.astype(float)
    dup = alloc[alloc.duplicated(["facility_id", "area_id"])]
    if len(dup):
        raise InputError(f"allocation repeats (facility_id, area_id) pairs "
                         f"{dup[['facility_id', 'area_id']].values.tolist()[:10]}; give one "
                         "row per pair")
    tot = alloc.groupby("facility_id", sort=False)["floor_area_m2"].sum()
    cap = fac.loc[tot.index, "floor_area_m2"].astype(float)
    over = tot[tot > cap + 1e-6 + 1e-9 * cap]
    if len(over):
        det = [f"{k}: {over[k]:g} > {cap[k]:g}" for k in over.index[:10]]
        raise InputError(f"allocation shares exceed the facility floor area ({'; '.join(det)}); "
                         "shares of a facility must sum to at most its floor_area_m2")
    return alloc


def options(*, assign: str, overlap: str, levels: Sequence[str] | str | None,
            numbers: Mapping[str, Any],
            district_types: Mapping[Any, str] | None) -> tuple[str, ...] | None:
    """Check :func:`check`'s options; return ``levels`` as a tuple (or None).

    Raises
    ------
    InputError
    """
    if assign not in ("auto", "area_id", "within"):
        raise InputError(f"assign must be 'auto', 'area_id' or 'within', got {assign!r}")
    if overlap not in ("smallest", "split", "first"):
        raise InputError(f"overlap must be 'smallest', 'split' or 'first', got {overlap!r}")
    if levels is not None:
        if isinstance(levels, str):
            levels = (levels,)
        bad = [x for x in levels if x not in FACILITY_LEVELS]
        if bad:
            raise InputError(f"levels {bad} unknown; use some of {list(FACILITY_LEVELS)}")
        levels = tuple(levels)
    for name, v in numbers.items():
        if v is not None and (not isinstance(v, int | float | np.number) or isinstance(v, bool)
                              or not math.isfinite(v) or v < 0):
            raise InputError(f"{name} must be a number >= 0, got {v!r}")
    if district_types is not None:
        bad = {k: v for k, v in district_types.items() if v not in ("urban_district", "county")}
        if bad:
            raise InputError(f"district_types values must be 'urban_district' or 'county', "
                             f"got {bad}")
    return levels
