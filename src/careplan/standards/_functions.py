"""Functions a facility carries (a canteen in a station, day care in a centre, ...).

A facility has one ``level`` (its place in the three-level network) and may carry several
*functions*. Issue 12.3 models an elderly canteen (长者饭堂, 助餐点) as a function: a
stand-alone canteen is a facility of level ``canteen``; a station or centre that serves
meals carries the function ``canteen`` in its ``functions`` column. A facility carries a
function when its level is that function (``level == 'canteen'``) or when its
``functions`` cell names it: a list of names, or text separated by ``,`` ``;`` ``/`` ``|``
``、`` or ``，`` (English or Chinese names of :data:`FUNCTION_SYNONYMS`).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any

import numpy as np
import pandas as pd

__all__ = ["CANTEEN", "FUNCTION_SYNONYMS", "carries", "function_list"]

#: The canteen function (Jinwan 2020 task 9: 长者饭堂 in every village/community).
CANTEEN = "canteen"

#: Names of functions as planners write them (lower-cased English, simplified Chinese).
FUNCTION_SYNONYMS: dict[str, str] = {
    "canteen": CANTEEN, "meal point": CANTEEN, "meals": CANTEEN, "elderly canteen": CANTEEN,
    "长者饭堂": CANTEEN, "长者食堂": CANTEEN, "老年食堂": CANTEEN, "助餐点": CANTEEN,
    "助餐": CANTEEN, "老年助餐点": CANTEEN, "助餐服务点": CANTEEN, "社区食堂": CANTEEN,
    "饭堂": CANTEEN, "食堂": CANTEEN,
}
_SPLIT = re.compile(r"[,;/|、，；]")


def function_list(value: Any) -> list[str]:
    """The functions named by one ``functions`` cell, normalised (unknown names kept).

    Parameters
    ----------
    value : str, list of str, None or NaN
        A list of names, or text separated by ``, ; / |`` or the Chinese ``、，；``.

    Returns
    -------
    list of str
        Names in order, duplicates removed, known synonyms mapped (``长者饭堂`` ->
        ``canteen``); empty for None/NaN/empty text.
    """
    if value is None or value is pd.NA or (isinstance(value, float) and np.isnan(value)):
        return []
    parts: Iterable[Any] = (value if isinstance(value, list | tuple | np.ndarray)
                            else _SPLIT.split(str(value)))
    out: list[str] = []
    for p in parts:
        s = str(p).strip()
        s = FUNCTION_SYNONYMS.get(s.lower(), s)
        if s and s not in out:
            out.append(s)
    return out


def carries(facilities: pd.DataFrame, function: str) -> pd.Series:
    """Per facility: does it carry ``function`` (its level, or its ``functions`` cell)?

    Parameters
    ----------
    facilities : DataFrame
        ``level`` and optional ``functions`` columns.
    function : str
        A function name (e.g. :data:`CANTEEN`).

    Returns
    -------
    Series of bool
        Indexed like ``facilities``.
    """
    has = facilities["level"].astype(str) == function
    if "functions" in facilities.columns:
        has |= facilities["functions"].map(lambda v: function in function_list(v)).astype(bool)
    return has
