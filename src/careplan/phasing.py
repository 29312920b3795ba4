"""Phasing and cost of a layout plan: what first, and how much (issue 12.6).

The public home of :func:`cost_table`, :func:`phase_order`, :func:`phase_layout` and
:func:`served_weight`; they live in :mod:`careplan.plan._phasing` so that the plan
itself can apply them (the options ``unit_costs`` and ``milestones`` of
:class:`careplan.plan.PlanConfig`) without importing a layer above it. See that module
for the method (an exact MIP: the most elderly served as early as possible within each
phase's budget).
"""

from careplan.plan._phasing import cost_table, phase_layout, phase_order, served_weight

__all__ = ["cost_table", "phase_layout", "phase_order", "served_weight"]
