"""Zones of the three-level network: the street and district of every area (issue 12.3).

Run right after ``prepare``, before anything is assessed, so that the state before and
after the plan count centres in the same zones. The rules (stated in the plan's
parameter table, row ``zones``):

* areas without a ``district`` column (or with none filled) form one district named
  :data:`DEFAULT_DISTRICT` ('district'): the plan is taken as one district;
* areas without a ``street`` column (or with none filled) take their district as their
  street: a district without street boundaries is planned as one street (town), the
  smallest zone known. Give a ``street`` column or street polygons (``streets=``) for
  centres per street.

Areas whose zone is missing while others have one keep it missing (they are counted in
the compliance summary, ``n_areas_without_street``), never guessed.
"""

from __future__ import annotations

import dataclasses

from careplan.plan._steps import Inputs

__all__ = ["DEFAULT_DISTRICT", "zones", "zones_note"]

#: Name of the one district of a plan whose areas have no district.
DEFAULT_DISTRICT = "district"


def _empty(areas, col: str) -> bool:
    return col not in areas.columns or not areas[col].notna().any()


def zones(inp: Inputs) -> Inputs:
    """``inp`` with every area's ``district`` and ``street`` (see the module rules).

    Parameters
    ----------
    inp : Inputs

    Returns
    -------
    Inputs
        A new Inputs (the areas copied, never changed in place); what was assumed is
        recorded in ``areas.attrs['careplan']['zones']`` (:func:`zones_note`).
    """
    areas, notes = inp.areas, []
    if _empty(areas, "district"):
        areas = areas.assign(district=DEFAULT_DISTRICT)
        notes.append(f"areas have no district: the plan is one district named "
                     f"{DEFAULT_DISTRICT!r}")
    if _empty(areas, "street"):
        areas = areas.assign(street=areas["district"])
        notes.append("areas have no street: each district is taken as one street (town); "
                     "give areas a street column or street polygons (streets=) for centres "
                     "per street")
    if not notes:
        return inp
    areas.attrs = {**inp.areas.attrs,
                   "careplan": {**inp.areas.attrs.get("careplan", {}), "zones": notes}}
    return dataclasses.replace(inp, areas=areas)


def zones_note(inp: Inputs) -> str | None:
    """What :func:`zones` assumed (None if the areas had their streets and districts)."""
    notes = inp.areas.attrs.get("careplan", {}).get("zones")
    return "; ".join(notes) if notes else None
