"""Readers of planning inputs (kept for compatibility): see :mod:`careplan.io`.

``careplan.data`` re-exports :mod:`careplan.io`, where the readers now live, split by
concern (files and encodings, validation, areas, facilities, households, OSM features).
"""

from careplan.io import *  # noqa: F403
from careplan.io import __all__  # noqa: F401
