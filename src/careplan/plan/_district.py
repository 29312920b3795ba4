"""The district level of the three-level network: the district centre (issue 12.3).

A plan step before the street centres (the district's most central free candidate goes
to the district centre, then the street centres take theirs): every district (the
areas' ``district`` column; a plan without one is one district, see
:mod:`careplan.plan._zones`) with fewer
district-level centres (facility level 'district') than the profile's
``district_centre_count`` (Jinwan: a district guidance centre, 区养老服务指导中心; Urumqi:
one regional centre per district, 区域养老服务中心) gets new centres of level 'district'
at candidate sites inside the district.

Siting: the candidate with the least household-weighted straight-line distance to the
district's areas (representative points) -- straight-line, because the plan walks only
within the service circle and a district centre (planning, guidance, assessment,
training for the whole district) is reached by transport, not on foot.

Size (:func:`careplan.plan._levels.centre_size`): the profile's district-level
single-site minimum (:func:`careplan.standards.site_limits`); none of the shipped
profiles gives one, so the profile's street-centre minimum (a district centre is not
smaller than the street centres it guides; assumption, stated), else the street-centre
minimum of the provincial report (002 (一)二, >= 1,000 m2). The source is in the plan's
parameter table (row ``district_centre_size``).

A district without a free candidate keeps its shortfall, listed in ``rules_not_met``.
"""

from __future__ import annotations

import pandas as pd

from careplan.plan._levels import centre_size, propose_centres
from careplan.plan._steps import Inputs

__all__ = ["DISTRICT_LEVEL", "district_centres"]

#: Facility level of a district centre.
DISTRICT_LEVEL = "district"


def _required(inp: Inputs) -> int:
    """District centres the profile requires in every district (0 when it sets none)."""
    return max((int(r.value) for r in inp.standard.get("district_centre_count")
                if DISTRICT_LEVEL in r.levels), default=0)


def district_centres(inp: Inputs, before, sizing):
    """``sizing`` plus the district centres the profile requires (see the module doc).

    Parameters
    ----------
    inp : Inputs
        Areas with a ``district`` column (:func:`careplan.plan._zones.zones`).
    before : State
        Its compliance counts the district centres per district (a facility's own
        ``district``, else the district of the area it serves most).
    sizing : Sizing

    Returns
    -------
    Sizing
        New rows of kind ``'centre'``, level 'district', ids ``D-<candidate_id>``; a
        shortfall for every district without a free candidate.
    """
    need = _required(inp)
    areas = inp.areas
    if not need or "district" not in areas.columns or not areas["district"].notna().any():
        return sizing
    ftab = before.compliance.facilities
    cnt = ftab.loc[ftab["level"] == DISTRICT_LEVEL, "district"].value_counts()
    have = cnt.reindex(pd.unique(areas["district"].dropna()), fill_value=0)
    short = (need - have).clip(lower=0)
    if not short.any():
        return sizing
    return propose_centres(inp, sizing, short, col="district", level=DISTRICT_LEVEL,
                           size_m2=centre_size(inp.standard, DISTRICT_LEVEL)[0], prefix="D-",
                           what=("district centre", "区级养老服务中心"))
