"""The rule-kind registry: every kind declared once, with its parameters, labels and evaluator.

A *rule kind* (``floor_area_per_100hh``, ``centres_per_street``, ...) says what a
profile rule of that kind means, which fields it takes, which values are plausible,
which of two values is the stricter, and how :func:`careplan.compliance.check`
evaluates it. Each kind lives in one module of :mod:`careplan.standards.kinds`,
declared with :func:`rule_kind` on its evaluator::

    @rule_kind("town_centre_min_floor_area_m2",
               "Minimum floor area of each street/town comprehensive centre.",
               description_zh="街道(乡镇)综合服务中心最小建筑面积",
               levels=("street",), plausible=(0.0, 100_000.0))
    def _town_centre(rule: Rule, ctx: RuleContext) -> Outcome:
        ...

Adding a kind touches that one place: the profile parser, the rule table and the
documentation all read :data:`KINDS`. An evaluator gets a typed :class:`RuleContext`
and returns an :class:`Outcome`; ``passed = None`` means "not evaluated" and the note
must say what is missing.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import pandas as pd

if TYPE_CHECKING:  # pragma: no cover
    from careplan.standards._model import Rule, Standard

__all__ = ["KINDS", "Outcome", "RuleContext", "RuleKind", "rule_kind", "TOL"]

#: Absolute tolerance of every threshold comparison (floating-point sums).
TOL = 1e-9


@dataclass(frozen=True)
class Outcome:
    """What an evaluator found for one rule.

    Attributes
    ----------
    passed : bool or None
        None = not evaluated (``note`` says which input is missing).
    note : str
        Plain-language explanation (counts, failing ids, what was assumed).
    found, found_max : float or None
        The measured value (lowest, and for range kinds the highest), in the rule's unit.
    gap : float or None
        How much is missing to pass, in ``gap_unit`` (e.g. beds), when the kind states one.
    gap_unit : str
    """

    passed: bool | None
    note: str
    found: float | None = None
    found_max: float | None = None
    gap: float | None = None
    gap_unit: str = ""


Evaluator = Callable[["Rule", "RuleContext"], Outcome]


@dataclass(frozen=True)
class RuleKind:
    """What a rule kind means, which fields it takes and how it is evaluated.

    Attributes
    ----------
    name : str
        The ``kind`` string of profile rules.
    description, description_zh : str
        What the compliance check evaluates (English / simplified Chinese).
    levels : tuple of str
        Facility levels the rule looks at by default (a rule may override with ``levels``).
    applies_to : tuple of str
        Allowed ``applies_to`` values (the first is the default).
    is_range : bool
        The rule takes ``min`` / ``max`` instead of ``value``.
    is_share : bool
        The value is a share in [0, 1].
    is_count : bool
        The value is a whole number.
    plausible : (float, float)
        Inclusive range a profile value must lie in (checked at load: a rate of
        1e308 m2 per 100 households is a typo, not a standard).
    stricter : {'higher', 'lower'}
        Which of two values is the stricter when a local and a national profile are
        combined (for range kinds: of the minimum; the lower maximum always wins).
    evaluate : callable or None
        ``evaluate(rule, ctx) -> Outcome``.
    """

    name: str
    description: str
    description_zh: str = ""
    levels: tuple[str, ...] = ()
    applies_to: tuple[str, ...] = ("all",)
    is_range: bool = False
    is_share: bool = False
    is_count: bool = False
    plausible: tuple[float, float] = (0.0, 1e6)
    stricter: str = "higher"
    evaluate: Evaluator | None = None


#: Every rule kind, keyed by name (filled by the modules of :mod:`careplan.standards.kinds`).
KINDS: dict[str, RuleKind] = {}


def rule_kind(name: str, description: str, **spec: Any) -> Callable[[Evaluator], Evaluator]:
    """Declare rule kind ``name`` with ``description`` and :class:`RuleKind` fields.

    Used as a decorator on the kind's evaluator; returns the evaluator unchanged.

    Raises
    ------
    ValueError
        If ``name`` is declared twice (a programming error, not a user input).
    """

    def deco(fn: Evaluator) -> Evaluator:
        if name in KINDS:
            raise ValueError(f"rule kind {name!r} declared twice")
        if spec.get("is_share") and "plausible" not in spec:
            spec["plausible"] = (0.0, 1.0)
        KINDS[name] = RuleKind(name=name, description=description, evaluate=fn, **spec)
        return fn

    return deco


def ids_text(values: Sequence[Any], n: int = 10) -> str:
    """Up to ``n`` ids joined by commas, with a '(+k more)' tail."""
    values = list(values)
    s = ", ".join(map(str, values[:n]))
    return s + (f" (+{len(values) - n} more)" if len(values) > n else "")


def no_column(col: str) -> str:
    """The 'not evaluated' note of a rule that needs an areas column."""
    return f"not evaluated: areas have no {col!r} column; add it to roll areas up by {col}"


@dataclass(frozen=True)
class RuleContext:
    """Everything a rule evaluator may read (built by :func:`careplan.compliance.check`).

    Attributes
    ----------
    standard : Standard
    areas : DataFrame
        Per-area results, index = area_id: ``households, built, [elderly], [street],
        [district], rate_m2_per_100hh, required_m2, provided_m2, deficit_m2, compliant``.
    facilities : DataFrame
        Facility attributes, index = facility_id (``level, floor_area_m2, beds,
        nursing_beds``, optional ``land_area_m2`` ...).
    assignment : DataFrame
        Long table ``facility_id, area_id, level, floor_area_m2, method``.
    facility_zone : mapping
        ``{'street': Series, 'district': Series}``: zone of each facility (None unknown).
    levels_used : mapping
        ``{'new': levels, 'existing': levels}`` counted toward floor area.
    coverage : CoverageResult, DataFrame or None
    population, care_land_m2, social_workers : float or None
    land_source : str
        Where ``care_land_m2`` came from.
    district_types : mapping or None
        ``{district: 'urban_district' | 'county'}``.
    reach : DataFrame or None
        Walking distances ``origin`` (area id), ``destination`` (facility id),
        ``distance_m`` (``compliance.check(reach=...)``); a facility serves the areas
        within the standard's walking circle of it (:meth:`served`).
    """

    standard: Standard
    areas: pd.DataFrame
    facilities: pd.DataFrame
    assignment: pd.DataFrame
    facility_zone: Mapping[str, pd.Series]
    levels_used: Mapping[str, tuple[str, ...]]
    coverage: Any = None
    population: float | None = None
    care_land_m2: float | None = None
    land_source: str = ""
    social_workers: float | None = None
    district_types: Mapping[Any, str] | None = None
    reach: pd.DataFrame | None = None

    def of_levels(self, levels: Sequence[str]) -> pd.DataFrame:
        """Sites whose level is one of ``levels``.

        An expansion of an existing facility (a row whose ``expands`` names it, as the
        plan adds them) is no site of its own: its floor area is added to the facility it
        expands and the row is left out.
        """
        fac = self.facilities[self.facilities["level"].isin(levels)]
        if "expands" not in fac.columns:
            return fac
        ext = fac["expands"].notna() & fac["expands"].isin(fac.index)
        if not ext.any():
            return fac
        extra = fac.loc[ext, "floor_area_m2"].astype(float).groupby(fac.loc[ext, "expands"]).sum()
        out = fac[~ext].copy()
        out["floor_area_m2"] = out["floor_area_m2"].astype(float).add(
            extra.reindex(out.index, fill_value=0.0))
        return out

    def present(self, levels: Sequence[str]) -> pd.Series:
        """Per area: does at least one facility of ``levels`` serve it?"""
        a = self.assignment
        hit = set(a.loc[a["level"].isin(levels), "area_id"])
        return pd.Series(self.areas.index.isin(list(hit)), index=self.areas.index)

    def served(self, levels: Sequence[str], function: str | None = None) -> pd.Series:
        """Per area: is it served by a facility of ``levels`` (or carrying ``function``)?

        Served = the facility's floor area is assigned to the area (allocation, area_id,
        location) or, when walking distances are given (``reach``), the area lies within
        the standard's walking circle of it (``Standard.service_circle_m``, the circle
        the floor-area allocation uses; without one, every pair given). A facility of
        0 m2 serves no one.

        Parameters
        ----------
        levels : sequence of str
            Facility levels that serve.
        function : str, optional
            A function (e.g. ``'canteen'``): facilities carrying it serve too.

        Returns
        -------
        Series of bool
            Indexed by area id.
        """
        from careplan.standards._functions import carries

        fac = self.facilities
        sel = fac["level"].isin(levels)
        if function is not None:
            sel |= carries(fac, function)
        has_m2 = fac["floor_area_m2"].astype(float) > 0
        ids = set(fac.index[sel & has_m2])
        if "expands" in fac.columns:  # a function added to an existing facility (0 m2 row)
            base = fac.loc[sel & fac["expands"].notna(), "expands"]
            ids |= set(base[base.isin(fac.index[has_m2])])
        a = self.assignment
        hit = set(a.loc[a["facility_id"].isin(ids) & (a["floor_area_m2"] > 0), "area_id"])
        if self.reach is not None and len(self.reach):
            r = self.reach
            cut = self.standard.service_circle_m  # None: the pairs given are the circle
            near = (r["distance_m"].astype(float) <= cut + TOL) if cut is not None else True
            hit |= set(r.loc[near & r["destination"].isin(ids), "origin"])
        return pd.Series(self.areas.index.isin(list(hit)), index=self.areas.index)

    def universe(self, col: str) -> list[Any] | None:
        """The streets (``col='street'``) or districts of the areas; None without the column."""
        if col not in self.areas.columns:
            return None
        return list(pd.unique(self.areas[col].dropna()))

    def zone_counts(self, col: str, levels: Sequence[str]) -> pd.Series | None:
        """Facilities of ``levels`` per zone of the areas' universe (None if no column)."""
        universe = self.universe(col)
        if universe is None:
            return None
        zone = self.facility_zone[col]
        sel = self.facilities.index.isin(self.of_levels(levels).index) & zone.notna()
        counts = zone[sel].value_counts()
        return counts.reindex(universe, fill_value=0).astype(int)

    def zone_note(self, col: str, levels: Sequence[str]) -> str:
        """Note naming facilities of ``levels`` whose zone is unknown or outside the areas'."""
        sel = self.facilities.index.isin(self.of_levels(levels).index)
        z = self.facility_zone[col][sel]
        unknown = z.index[z.isna()]
        universe = set(self.universe(col) or [])
        outside = z.index[z.notna() & ~z.isin(universe)]
        s = ""
        if len(unknown):
            s += f"; {col} unknown for (not counted): {ids_text(unknown)}"
        if len(outside):
            s += f"; {col} not among the areas' (not counted): {ids_text(outside)}"
        return s
