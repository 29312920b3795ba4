"""The layout plan: current state, proposal, state after.

:func:`plan_layout` runs the plan as named steps (:mod:`careplan.plan._steps`,
``_propose``, ``_assemble``); :class:`PlanConfig` is the one source of its options
(keyword arguments, the ``[plan]`` table of ``careplan plan`` configs, ``careplan
plan --keys`` and the report's parameter table); :func:`plan_from_config` runs a
plan from a TOML config; :class:`LayoutPlan` is the result the report renders.
"""

from careplan._schema import DEFAULT_CIRCLE_LEVELS
from careplan.plan._config import MODELS, PlanConfig
from careplan.plan._file import PlanFile, plan_from_config, read_config
from careplan.plan._pipeline import plan_layout
from careplan.plan._result import LayoutPlan

__all__ = ["DEFAULT_CIRCLE_LEVELS", "MODELS", "LayoutPlan", "PlanConfig", "PlanFile",
           "plan_from_config", "plan_layout", "read_config"]
