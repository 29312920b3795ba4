"""Policy standards as data.

A *standard* is a set of rules taken from Chinese elderly-care policy documents
(floor area per 100 households, one comprehensive centre per town of at least
500 m2, nursing-bed share, the 15-minute service circle, ...). Each rule carries
its value, unit, bilingual labels and a citation (document, file, clause and a
short quoted excerpt). Standards ship as TOML profiles::

    >>> import careplan as cp
    >>> cp.standards.available()
    ['jinwan-2020', 'province-report', 'sichuan-2020', 'taiyuan-2021', 'urumqi-2024']
    >>> std = cp.standards.load("jinwan-2020")
    >>> std.floor_area_rate_m2_per_100hh("new")
    20.0

Your own numbers
----------------
Other places use other numbers (e.g. 30 m2 per 100 households for new estates and
20 for existing ones). Copy a shipped profile, edit it, and load the copy::

    import shutil
    shutil.copy(cp.standards.profile_path("jinwan-2020"), "my-standard.toml")
    # edit my-standard.toml: change `value = 20.0` of rule floor_area_new to 30.0, ...
    std = cp.standards.load("my-standard.toml")

A broken profile (missing field, wrong type, negative value, unknown kind,
``min`` > ``max``) raises :class:`careplan.InputError` naming the file and the
dotted path of the bad field, e.g. ``rules[0]<floor_area_new>.value``.

Rule kinds are listed in :data:`KINDS` (with what the compliance check evaluates);
``profiles/README.md`` describes the file format.
"""

from __future__ import annotations

import os
from importlib import resources
from pathlib import Path

from careplan._errors import InputError
from careplan.standards import kinds as _kinds  # noqa: F401  (fills KINDS)
from careplan.standards._combine import combine
from careplan.standards._model import (
    BUILT_CLASSES,
    DEFAULT_WALK_SPEED_M_PER_MIN,
    FACILITY_LEVELS,
    KINDS,
    Citation,
    Document,
    KindSpec,
    Rule,
    RuleKind,
    Standard,
    parse_profile,
    read_profile,
)
from careplan.standards._registry import Outcome, RuleContext, rule_kind
from careplan.standards._sizes import DEFAULT_MIN_SITE_FLOOR_AREA_M2, SiteLimits, site_limits

__all__ = [
    "BUILT_CLASSES",
    "DEFAULT_MIN_SITE_FLOOR_AREA_M2",
    "DEFAULT_WALK_SPEED_M_PER_MIN",
    "FACILITY_LEVELS",
    "KINDS",
    "Citation",
    "Document",
    "KindSpec",
    "Outcome",
    "Rule",
    "RuleContext",
    "RuleKind",
    "SiteLimits",
    "Standard",
    "available",
    "combine",
    "load",
    "parse_profile",
    "profile_path",
    "rule_kind",
    "site_limits",
]


def _profiles_dir() -> Path:
    return Path(str(resources.files("careplan.standards") / "profiles"))


def available() -> list[str]:
    """Names of the shipped standard profiles, sorted.

    Returns
    -------
    list of str
        Profile names (e.g. ``'jinwan-2020'``), each loadable with :func:`load`.
    """
    return sorted(p.stem for p in _profiles_dir().glob("*.toml"))


def profile_path(name: str) -> Path:
    """Path of the shipped profile ``name`` (copy it to make your own standard).

    Parameters
    ----------
    name : str
        A name from :func:`available`.

    Returns
    -------
    Path
        The profile's TOML file inside the installed package.

    Raises
    ------
    InputError
        If no profile of that name is shipped.
    """
    p = _profiles_dir() / f"{name}.toml"
    if not p.is_file():
        raise InputError(f"no shipped standard named {name!r}; available: {available()}. "
                         "To use your own profile pass its file path to load()")
    return p


def load(name_or_path: str | Path | Standard | list | tuple) -> Standard:
    """Load a standard by shipped name or from a TOML file, or several combined.

    Parameters
    ----------
    name_or_path : str, Path, Standard or sequence of them
        A name from :func:`available` (e.g. ``"jinwan-2020"``), or the path of a
        ``.toml`` profile (e.g. your edited copy). A :class:`Standard` is returned as is.
        A list (or names joined by ``+``, e.g. ``"jinwan-2020+gb50437-2018"``) applies
        the profiles together: see :func:`combine` (the stricter value wins).

    Returns
    -------
    Standard
        Frozen, with every rule's citation.

    Raises
    ------
    InputError
        Unknown name, missing file, or an invalid profile (the message names the file
        and the bad field).
    """
    if isinstance(name_or_path, Standard):
        return name_or_path
    if isinstance(name_or_path, list | tuple):
        return combine([load(x) for x in name_or_path])
    if (isinstance(name_or_path, str) and "+" in name_or_path
            and not Path(name_or_path).is_file()):
        return combine([load(x.strip()) for x in name_or_path.split("+")])
    if isinstance(name_or_path, os.PathLike):
        return read_profile(Path(os.fspath(name_or_path)))
    if not isinstance(name_or_path, str):
        raise InputError(f"standard must be a name, a path or a Standard, got "
                         f"{type(name_or_path).__name__}")
    s = name_or_path
    if s in available():
        return read_profile(profile_path(s))
    if s.endswith(".toml") or "/" in s or "\\" in s or Path(s).is_file():
        return read_profile(Path(s))
    raise InputError(f"unknown standard {s!r}; available: {available()}, or give the path "
                     "of your own .toml profile")
