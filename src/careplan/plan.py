"""The end-to-end layout plan (issue 5).

``plan_layout`` is being written; the :class:`LayoutPlan` container below is the
contract that ``careplan.report`` renders.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import geopandas as gpd
import pandas as pd

__all__ = ["LayoutPlan", "plan_layout"]


@dataclass(frozen=True)
class LayoutPlan:
    """A layout plan: the current state, the proposal and the state after it.

    Attributes
    ----------
    areas : GeoDataFrame
        One row per residential area (index = area_id), projected CRS, columns:
        ``area_id, name (optional), households, elderly (optional), built,
        required_m2, provided_before_m2, provided_after_m2, deficit_before_m2,
        deficit_after_m2, compliant_before, compliant_after,
        nearest_distance_before_m, nearest_distance_after_m (NaN = none within
        reach), covered_before, covered_after, served_by`` (proposed station id or
        None).
    existing : GeoDataFrame
        Existing facilities as read by :func:`careplan.read_facilities`.
    proposed : GeoDataFrame
        New stations: ``station_id, candidate_id, floor_area_m2, households_served,
        elderly_served, areas_served`` (comma-separated area ids), Point geometry.
    service_areas : GeoDataFrame
        Walking service areas: ``facility_id, status ('existing'|'proposed'),
        cutoff_m``, polygon geometry.
    summary : DataFrame
        ``metric, label_en, label_zh, before, after``.
    rules_before, rules_after : DataFrame
        Rule tables from :func:`careplan.compliance.check` (``rule_id, label_en,
        label_zh, required, found, passed, citation``).
    parameters : dict
        Every assumption and parameter used (standard, minutes, speed, cutoff,
        model, how candidates were chosen, ...), for the report.
    network_edges : GeoDataFrame or None
        Street edges, for maps.
    attribution : str
        Data attribution to show wherever the plan is shown.
    """

    areas: gpd.GeoDataFrame
    existing: gpd.GeoDataFrame
    proposed: gpd.GeoDataFrame
    service_areas: gpd.GeoDataFrame
    summary: pd.DataFrame
    rules_before: pd.DataFrame
    rules_after: pd.DataFrame
    parameters: dict[str, Any] = field(default_factory=dict)
    network_edges: gpd.GeoDataFrame | None = None
    attribution: str = "© OpenStreetMap contributors"

    @property
    def crs(self):
        """The plan's projected CRS."""
        return self.areas.crs


def plan_layout(*args, **kwargs):  # pragma: no cover - being written
    raise NotImplementedError
