"""The result object of :func:`careplan.compliance.check`."""

from __future__ import annotations

import warnings
from dataclasses import dataclass, field
from typing import Any

import geopandas as gpd
import pandas as pd

from careplan._errors import InputError
from careplan.standards import Standard

__all__ = ["ComplianceResult"]


def check_lang(lang: str) -> str:
    """Return ``lang`` if it is 'en' or 'zh'.

    Raises
    ------
    InputError
        For any other value.
    """
    if lang not in ("en", "zh"):
        raise InputError(f"lang must be 'en' or 'zh', got {lang!r}")
    return lang


@dataclass(frozen=True)
class ComplianceResult:
    """Result of :func:`careplan.compliance.check`.

    Attributes
    ----------
    areas : GeoDataFrame
        Index = area_id. Columns ``area_id, households, [elderly], built, [street],
        [district], rate_m2_per_100hh, required_m2, provided_m2, deficit_m2,
        compliant`` (nullable boolean: NA when the standard sets no rate for the
        area's class), ``n_facilities`` (counted facilities assigned), geometry.
    streets, districts : DataFrame or None
        Roll-ups (None when ``areas`` has no ``street`` / ``district`` column):
        ``households, required_m2, provided_m2, deficit_m2`` (sum of area deficits),
        ``n_areas, n_compliant, n_centres, has_centre`` (street-level centres) and for
        districts also ``n_streets, n_streets_with_centre, n_district_centres,
        has_district_centre``.
    rules : DataFrame
        One row per rule of the standard: ``rule_id, kind, label_en, label_zh,
        required, required_max, found, found_max, unit, passed`` (True/False/None =
        not evaluated), ``note, citation, gap, gap_unit`` (what is missing to pass, where
        the kind states it: m2, beds, facilities).
    facilities : DataFrame
        One row per facility: ``facility_id, level, floor_area_m2, counted`` (toward
        floor area), ``method`` ('allocation'|'area_id'|'within'|'overlap'|'none'),
        ``area_ids`` (comma-separated), ``assigned_m2``, ``unassigned_m2``, ``street``,
        ``district``.
    assignment : DataFrame
        Long table ``facility_id, area_id, level, floor_area_m2, method, on_site``
        (``on_site``: the facility lies inside the area or names it in ``area_id``).
    allocation : DataFrame
        Floor-area shares of the counted facilities: ``facility_id, area_id,
        floor_area_m2, on_site`` (+ ``distance_m`` when allocated by walking circle).
    overlaps : DataFrame
        Facilities inside several polygons: ``facility_id, area_ids, assigned_to, rule``.
    summary : DataFrame
        ``metric, label_en, label_zh, value``.
    standard : Standard
    parameters : dict
        Options used (levels, assign, overlap, ...).
    lang : str
        Preferred label language ('en' or 'zh') for :meth:`rule_table` / exports.
    """

    areas: gpd.GeoDataFrame
    streets: pd.DataFrame | None
    districts: pd.DataFrame | None
    rules: pd.DataFrame
    facilities: pd.DataFrame
    assignment: pd.DataFrame
    overlaps: pd.DataFrame
    summary: pd.DataFrame
    standard: Standard
    parameters: dict[str, Any] = field(default_factory=dict)
    lang: str = "en"
    allocation: pd.DataFrame = field(default_factory=pd.DataFrame)

    @property
    def passed(self) -> bool | None:
        """True if every evaluated rule passed, False if any failed, None if none evaluated."""
        vals = [p for p in self.rules["passed"] if p is not None]
        if not vals:
            return None
        return bool(all(vals))

    def rule_table(self, lang: str | None = None) -> pd.DataFrame:
        """Rule table with one ``label`` column in ``lang`` ('en' or 'zh').

        Deprecated: use :attr:`rules` (both ``label_en`` and ``label_zh``) or
        ``careplan.report.xlsx.compliance_sheets`` for a labelled workbook.
        """
        warnings.warn("ComplianceResult.rule_table is deprecated; use .rules (label_en, "
                      "label_zh) or careplan.report", DeprecationWarning, stacklevel=2)
        lang = check_lang(lang or self.lang)
        return self._labelled(lang)

    def _labelled(self, lang: str) -> pd.DataFrame:
        t = self.rules.copy()
        t.insert(1, "label", t[f"label_{lang}"])
        return t.drop(columns=["label_en", "label_zh"])

    def to_excel_frames(self, lang: str | None = None) -> dict[str, pd.DataFrame]:
        """Tables for an Excel workbook, keyed by sheet name (<= 31 characters).

        Deprecated: ``careplan.report.xlsx.compliance_sheets`` labels the workbook.
        """
        warnings.warn("ComplianceResult.to_excel_frames is deprecated; use "
                      "careplan.report.xlsx.compliance_sheets", DeprecationWarning, stacklevel=2)
        lang = check_lang(lang or self.lang)
        out = {
            "summary": self.summary.assign(label=self.summary[f"label_{lang}"])[
                ["metric", "label", "value"]],
            "rules": self._labelled(lang),
            "areas": pd.DataFrame(self.areas.drop(columns="geometry")).reset_index(drop=True),
        }
        if self.streets is not None:
            out["streets"] = self.streets.reset_index(drop=True)
        if self.districts is not None:
            out["districts"] = self.districts.reset_index(drop=True)
        out["facilities"] = self.facilities.reset_index(drop=True)
        if len(self.allocation):
            out["allocation"] = self.allocation.reset_index(drop=True)
        if len(self.overlaps):
            out["overlaps"] = self.overlaps.reset_index(drop=True)
        out["standard"] = self.standard.to_frame().drop(columns="file")  # no internal names
        return out

    def __repr__(self) -> str:
        n = len(self.areas)
        ok = int((self.areas["compliant"] == True).sum())  # noqa: E712
        return (f"ComplianceResult(standard={self.standard.name!r}, areas={n}, "
                f"compliant={ok}, passed={self.passed})")
