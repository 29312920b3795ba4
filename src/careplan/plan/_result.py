"""The result of a layout plan: :class:`LayoutPlan` (what :mod:`careplan.report` renders)."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import geopandas as gpd
import pandas as pd

__all__ = ["LayoutPlan"]


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
        Proposed supply, one row per new station (``kind='new'``), expansion of an
        existing facility (``kind='expansion'``), on-site room (``'on_site'``), street or
        district centre (``'centre'``, ids ``C-``/``D-``; its level in ``facilities``) or
        canteen function given to an existing station (``'canteen'``, ``M-``, 0 m2):
        ``station_id, kind, candidate_id,
        facility_id, floor_area_m2, households_served, elderly_served, areas_served``
        (comma-separated ids, for the output tables, of the areas whose floor-area
        deficit it takes, plus the areas it newly brings into the walking circle), ``n_areas_served``, Point
        geometry.
    service_areas : GeoDataFrame
        Walking service areas: ``facility_id, status ('existing'|'proposed'),
        cutoff_m``, polygon geometry.
    summary : DataFrame
        ``metric, label_en, label_zh, before, after``.
    rules_before, rules_after : DataFrame
        Rule tables from :func:`careplan.compliance.check` (``rule_id, label_en,
        label_zh, required, found, passed, citation``).
    parameters : dict
        Every option of :class:`careplan.plan.PlanConfig` as resolved (standard,
        minutes, speed, cutoff, model, ...), then what the run found (how candidates
        were chosen, unreachable areas, solver status), for the report.
    network_edges : GeoDataFrame or None
        Street edges, for maps.
    attribution : str
        Data attribution to show wherever the plan is shown.
    allocation : DataFrame or None
        ``facility_id`` (station id), ``area_id``, ``floor_area_m2``: the floor-area
        deficit of each area and the proposed station / expansion that takes it.
    config : PlanConfig or None
        The options the plan was made with.
    rules_not_met : DataFrame or None
        Rules of the profile that do not pass after the plan, each with a ``category``
        and a ``reason`` (see :func:`careplan.plan._explain.rules_not_met`).
    floor_area_allocation : DataFrame or None
        After the plan, every counted facility's floor area allocated to the areas within
        its walking circle (``facility_id, area_id, floor_area_m2, distance_m,
        on_site``), as :func:`careplan.compliance.check` computed it.
    facilities : GeoDataFrame or None
        Every existing and proposed facility after the plan with name, address, level,
        floor area, functions, the estates it serves (list column), households and
        elderly served and coordinates in WGS84 and GCJ-02
        (:func:`careplan.plan._facilities.facilities_table`).
    equity : DataFrame or None
        Equity before and after the plan, overall and by street and district
        (:func:`careplan.plan._assemble.equity_table`): share of older people outside
        the walking circle, Gini and Palma ratio of floor area per older person.
    cost, phases : DataFrame or None
        Cost of each proposed facility and its phase, from
        :func:`careplan.phasing.phase_layout` (None unless the plan options
        ``unit_costs`` / ``milestones`` were given or ``phase_layout`` was called).
    streets, districts : GeoDataFrame or None
        The street / district polygons given to :func:`careplan.plan_layout`
        (``streets=`` / ``districts=``) as :func:`careplan.read_boundaries` read them
        (``boundary_id`` = name, ``level``, polygons, the plan's CRS); None when none
        were given.  Drawn as outlines on the maps and written as layers of plan.gpkg.
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
    allocation: pd.DataFrame | None = None
    config: Any = None
    rules_not_met: pd.DataFrame | None = None
    floor_area_allocation: pd.DataFrame | None = None
    cost: pd.DataFrame | None = None
    phases: pd.DataFrame | None = None
    facilities: gpd.GeoDataFrame | None = None
    equity: pd.DataFrame | None = None
    streets: gpd.GeoDataFrame | None = None
    districts: gpd.GeoDataFrame | None = None

    @property
    def crs(self):
        """The plan's projected CRS."""
        return self.areas.crs

    def to_file(self, directory: str | os.PathLike, *, lang: str | None = None) -> dict[str, Path]:
        """Write the plan to ``directory`` atomically.

        Writes ``plan.gpkg`` (areas, existing facilities, proposed stations, service
        areas, network edges, street/district boundaries when given), ``report.html``, ``tables.xlsx`` and PNG maps. The
        files are written to a temporary sibling directory which then replaces
        ``directory``: a failed run never leaves a half-written plan over a good one.

        Parameters
        ----------
        directory : path-like
            Output folder (created if missing, parents too; replaced if present).
        lang : {'zh', 'en'}, optional
            Language of the report and tables; default the plan's ``lang`` option
            (``'zh'``).

        Returns
        -------
        dict of str to Path
            Output name -> path of the written file.

        Raises
        ------
        OutputError
            A file could not be written (disk full, permissions, path in the way); a
            :class:`~careplan.CareplanError`.
        """
        from careplan.report import write_all

        return write_all(self, directory, lang=lang or self.parameters.get("lang", "zh"))
