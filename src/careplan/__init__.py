"""careplan: plan elderly-care service facilities against policy standards.

Public API only; see the modules for details.
"""

from careplan import (
    accessibility,
    batch,
    compliance,
    coverage,
    datasets,
    derive,
    equity,
    locate,
    report,
    standards,
)
from careplan._errors import (
    CareplanError,
    CareplanWarning,
    CRSError,
    InfeasibleError,
    InputError,
    SolverError,
)
from careplan._progress import set_quiet
from careplan.batch import plan_districts
from careplan.io import (
    aggregate_households,
    estimate_households,
    read_areas,
    read_boundaries,
    read_candidates,
    read_facilities,
    read_households,
)
from careplan.network import WalkNetwork
from careplan.plan import LayoutPlan, plan_layout

__version__ = "0.1.0"

__all__ = [
    "CRSError",
    "CareplanError",
    "CareplanWarning",
    "InfeasibleError",
    "InputError",
    "LayoutPlan",
    "SolverError",
    "WalkNetwork",
    "__version__",
    "accessibility",
    "aggregate_households",
    "batch",
    "compliance",
    "coverage",
    "datasets",
    "derive",
    "equity",
    "estimate_households",
    "locate",
    "plan_districts",
    "plan_layout",
    "read_areas",
    "read_boundaries",
    "read_candidates",
    "read_facilities",
    "read_households",
    "report",
    "set_quiet",
    "standards",
]
