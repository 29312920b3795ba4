"""Candidate sites in buildings unsuitable for a care facility (issue 12 leftover 5).

:func:`careplan.derive.candidates_from_osm` leaves out OSM buildings whose ``building``
tag is in :data:`careplan.derive.EXCLUDED_BUILDINGS` (commercial, retail, office,
industrial, hotel, tower, transport, sheds, ...).  Candidates a user supplies with a
``building`` column (the bundled sample's have one) get the same rule in the plan, so a
street centre no longer lands in a department store: such a candidate is left out before
any site is chosen, with a :class:`~careplan.CareplanWarning` naming it and its building
type, and is listed in the plan's parameter ``candidates_unsuitable``.  Chosen over a flag
on the proposed site because a planner cannot hand over a site the plan itself calls
unsuitable.  To keep one (a ground-floor room checked on site), give it another
``building`` value; candidates without a ``building`` column are taken as given.
"""

from __future__ import annotations

import dataclasses
import warnings
from typing import Any

import pandas as pd

from careplan._errors import CareplanWarning
from careplan.derive import EXCLUDED_BUILDINGS

__all__ = ["drop_unsuitable", "unsuitable_candidates"]


def unsuitable_candidates(candidates: pd.DataFrame) -> pd.Series:
    """The building type of each candidate in an unsuitable building.

    Parameters
    ----------
    candidates : DataFrame, shape (n_candidates, ...)
        As from :func:`careplan.read_candidates`; an optional ``building`` column (OSM
        ``building=*`` values, compared trimmed and lower-case).

    Returns
    -------
    Series
        Index = the unsuitable candidates' labels, values = their ``building`` value
        (in :data:`careplan.derive.EXCLUDED_BUILDINGS`); empty without the column.
    """
    if "building" not in candidates.columns or not len(candidates):
        return pd.Series(dtype=object)
    tag = candidates["building"].map(lambda v: v.strip().lower() if isinstance(v, str) else v)
    bad = tag.isin(EXCLUDED_BUILDINGS)
    return tag[bad].astype(object)


def drop_unsuitable(inp: Any) -> tuple[Any, str]:
    """``inp`` without its candidates in unsuitable buildings, and the parameter text.

    Parameters
    ----------
    inp : Inputs
        The plan's inputs (``candidates``).

    Returns
    -------
    tuple of (Inputs, str)
        New inputs (the candidates copied, never changed in place) and the text of the
        parameter row ``candidates_unsuitable``: ``"C006 (building=commercial), ..."``,
        or ``"none"``.
    """
    bad = unsuitable_candidates(inp.candidates)
    if not len(bad):
        return inp, "none"
    listed = [f"{i} (building={b})" for i, b in bad.items()]
    warnings.warn(f"{len(bad)} candidate site(s) are in buildings unsuitable for a care "
                  f"facility (careplan.derive.EXCLUDED_BUILDINGS) and are left out: "
                  f"{', '.join(listed[:10])}{' ...' if len(listed) > 10 else ''}; to use one, "
                  "give it another 'building' value", CareplanWarning, stacklevel=3)
    kept = inp.candidates.drop(index=bad.index)
    return dataclasses.replace(inp, candidates=kept), ", ".join(listed)
