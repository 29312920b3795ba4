"""Single-site floor-area limits of a facility level, from a profile's rules."""

from __future__ import annotations

from dataclasses import dataclass

from careplan.standards._model import Standard

__all__ = ["DEFAULT_MIN_SITE_FLOOR_AREA_M2", "MIN_SITE_SOURCE", "SiteLimits", "site_limits"]

#: Smallest floor area of a new community station when neither the profile nor the plan's
#: ``min_station_floor_area_m2`` gives one, m2. An assumption, not policy text: a room
#: for day care, meals and activities of a few dozen older people; below it a "station"
#: is a desk (the old default of 0 proposed a 4.8 m2 station for 32 households).
DEFAULT_MIN_SITE_FLOOR_AREA_M2 = 200.0
MIN_SITE_SOURCE = ("assumption (not policy text): careplan's default smallest new station, "
                   "200 m2; set min_station_floor_area_m2 or a site_floor_area_range_m2 rule")

#: Rule kinds that bound the floor area of every single site of their levels.
_SITE_KINDS = ("site_floor_area_range_m2", "community_centre_floor_area_range_m2",
               "town_centre_min_floor_area_m2")


@dataclass(frozen=True)
class SiteLimits:
    """Floor-area bounds of one new site.

    Attributes
    ----------
    min_m2 : float
        Smallest floor area, m2.
    max_m2 : float or None
        Largest, m2 (None: no upper bound).
    source : str
        Which rule(s) or default set them.
    """

    min_m2: float
    max_m2: float | None
    source: str


def site_limits(std: Standard, level: str, *, min_m2: float | None = None) -> SiteLimits:
    """The floor-area bounds of a new site of ``level`` under ``std``.

    The highest minimum and the lowest maximum of the profile's site rules for that
    level win (``site_floor_area_range_m2``, ``community_centre_floor_area_range_m2``,
    ``town_centre_min_floor_area_m2``); a positive ``min_m2`` (the plan's
    ``min_station_floor_area_m2``) raises the minimum; without either, the minimum is
    :data:`DEFAULT_MIN_SITE_FLOOR_AREA_M2` (an assumption, stated in ``source``).

    Parameters
    ----------
    std : Standard
    level : str
        Facility level of the site ('community', 'street', ...).
    min_m2 : float, optional
        The user's smallest station, m2 (0 or None: not given).

    Returns
    -------
    SiteLimits
        ``min_m2``, ``max_m2`` (None: no upper bound), in m2, and their ``source``.
    """
    rules = [r for k in _SITE_KINDS for r in std.get(k) if level in r.levels]
    lo = max((r.value for r in rules), default=None)
    hi = min((r.max_value for r in rules if r.max_value is not None), default=None)
    src = [f"{r.id} ({r.citation.title_zh}, {r.citation.clause})" for r in rules]
    if min_m2 and (lo is None or min_m2 > lo):
        lo = float(min_m2)
        src.append("min_station_floor_area_m2 option")
    if lo is None:
        return SiteLimits(DEFAULT_MIN_SITE_FLOOR_AREA_M2 if level == "community" else 0.0,
                          hi, MIN_SITE_SOURCE if level == "community" else "none")
    return SiteLimits(float(lo), hi, "; ".join(src))
