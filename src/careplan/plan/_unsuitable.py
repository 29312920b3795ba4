"""Candidate sites in buildings unsuitable for a care facility (issue 12 leftover 5).

:func:`careplan.derive.candidates_from_osm` leaves out OSM buildings whose ``building``
tag is in :data:`careplan.derive.EXCLUDED_BUILDINGS` (commercial, retail, office,
industrial, hotel, tower, transport, sheds, ...).  Candidates a user supplies with a
``building`` column (the bundled sample's have one) get the same rule in the plan, so a
street centre no longer lands in a department store: such a candidate is left out before
any site is chosen, with a :class:`~careplan.CareplanWarning` naming it and its building
type, and is listed in the plan's parameter ``candidates_unsuitable``.  Chosen over a flag
on the proposed site because a planner cannot hand over a site the plan itself calls
unsuitable.  Candidates with OSM ``amenity`` / ``office`` / ``shop`` / ``tourism`` columns
are checked against :data:`UNSUITABLE_TAGS` too (a school, a government office, a bank);
names are never used.  To keep one (a ground-floor room checked on site), give it another
``building`` value; candidates without a ``building`` column are taken as given.
"""

from __future__ import annotations

import dataclasses
import warnings
from typing import Any

import pandas as pd

from careplan._errors import CareplanWarning
from careplan.derive import EXCLUDED_BUILDINGS

__all__ = ["UNSUITABLE_TAGS", "drop_unsuitable", "unsuitable_candidates"]

#: OSM tags of a candidate's own building that make it unsuitable for a care facility
#: (tester's finding 3), used when the candidates carry these columns: schools, courts,
#: police, government and other offices, banks, libraries, museums, hotels and shops are
#: in use for another public or commercial purpose (the same reasoning as the excluded
#: building types of :func:`careplan.derive.candidates_from_osm`); ``None`` = any value.
#: Names are not tags: a candidate is never judged by its name.
UNSUITABLE_TAGS: dict[str, frozenset | None] = {
    "amenity": frozenset({"school", "kindergarten", "college", "university", "courthouse",
                          "police", "fire_station", "townhall", "prison", "bank", "library",
                          "arts_centre", "theatre", "cinema", "place_of_worship",
                          "fuel", "nightclub", "casino"}),
    "office": None,
    "shop": None,
    "tourism": frozenset({"hotel", "museum", "gallery", "hostel", "motel"}),
}


def unsuitable_candidates(candidates: pd.DataFrame) -> pd.Series:
    """The building type of each candidate in an unsuitable building.

    Parameters
    ----------
    candidates : DataFrame, shape (n_candidates, ...)
        As from :func:`careplan.read_candidates`; optional ``building``, ``amenity``,
        ``office``, ``shop``, ``tourism`` columns (OSM values, compared trimmed and
        lower-case).

    Returns
    -------
    Series
        Index = the unsuitable candidates' labels, values = the first tag that rules
        each out (``'building=commercial'``: :data:`careplan.derive.EXCLUDED_BUILDINGS`;
        ``'amenity=school'``, ``'office=government'``, ...: :data:`UNSUITABLE_TAGS`);
        empty without those columns.
    """
    if not len(candidates):
        return pd.Series(dtype=object)
    out = pd.Series(None, index=candidates.index, dtype=object)
    checks = [("building", frozenset(EXCLUDED_BUILDINGS)), *UNSUITABLE_TAGS.items()]
    for col, values in checks:
        if col not in candidates.columns:
            continue
        tag = candidates[col].map(lambda v: v.strip().lower() if isinstance(v, str) else None)
        bad = tag.notna() & (tag != "") & (tag != "no")
        if values is not None:
            bad &= tag.isin(values)
        out = out.where(out.notna() | ~bad, col + "=" + tag.astype(str))
    return out.dropna().astype(object)


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
    listed = [f"{i} ({b})" for i, b in bad.items()]
    warnings.warn(f"{len(bad)} candidate site(s) are in buildings unsuitable for a care "
                  "facility (careplan.derive.EXCLUDED_BUILDINGS, careplan.plan._unsuitable."
                  f"UNSUITABLE_TAGS) and are left out: {', '.join(listed[:10])}{' ...' if len(listed) > 10 else ''}; to use one, "
                  "give it another value of that column", CareplanWarning, stacklevel=3)
    kept = inp.candidates.drop(index=bad.index)
    return dataclasses.replace(inp, candidates=kept), ", ".join(listed)
