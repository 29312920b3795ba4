"""Errors raised by careplan.

Every error is a :class:`CareplanError`, itself a :class:`ValueError`, so
callers can catch one class. Messages say what is wrong *and* how to fix it.
"""

from __future__ import annotations

__all__ = ["CareplanError", "InputError", "CRSError", "InfeasibleError", "SolverError"]


class CareplanError(ValueError):
    """Base class of every error careplan raises on purpose."""


class InputError(CareplanError):
    """Input data is missing, malformed or out of range."""


class CRSError(CareplanError):
    """A coordinate reference system is missing, geographic where metres are needed, or mismatched."""


class InfeasibleError(CareplanError):
    """A model has no feasible solution (e.g. a demand no candidate can reach)."""


class SolverError(CareplanError):
    """The solver failed or stopped without a usable solution."""


class CareplanWarning(UserWarning):
    """Something was changed on the user's behalf and they should know (e.g. a reprojection)."""


__all__ += ["CareplanWarning"]
