"""Small helpers shared by the readers: id lists in messages, notes, warnings."""

from __future__ import annotations

import numbers
import sys
import unicodedata
import warnings
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import geopandas as gpd

from careplan._errors import CareplanWarning

MAX_LISTED = 10
"""How many ids a message lists before '... (N in all)'."""

_PACKAGE_DIR = str(Path(__file__).resolve().parents[1])


def visible(text: Any) -> str:
    """``repr``-like display of a value with control/format characters made visible.

    Characters of the Unicode categories Cc (controls, NUL, escape) and Cf (format:
    zero-width, bidi overrides) are shown as ``\\xNN`` / ``\\uNNNN`` escapes, so two
    ids that differ only by such a character look different in every message.
    """
    out = []
    for ch in str(text):
        if unicodedata.category(ch) in ("Cc", "Cf"):
            code = ord(ch)
            out.append(f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}")
        else:
            out.append(ch)
    return "'" + "".join(out) + "'"


def fmt_ids(ids: Iterable[Any]) -> str:
    """Comma-separated, quoted, control-safe list of at most :data:`MAX_LISTED` ids."""
    ids = [str(i) for i in ids]
    shown = ", ".join(visible(i) for i in ids[:MAX_LISTED])
    if len(ids) > MAX_LISTED:
        shown += f", ... ({len(ids)} in all)"
    return shown


def note(gdf: gpd.GeoDataFrame, key: str, value: Any) -> None:
    """Record what was done on the user's behalf in ``gdf.attrs['careplan'][key]``."""
    gdf.attrs.setdefault("careplan", {})[key] = value


def warn(msg: str) -> None:
    """Warn with a :class:`~careplan.CareplanWarning` attributed to the caller's own code.

    The warning points at the first stack frame outside the careplan package, however
    deep inside careplan it was raised.
    """
    level = 1
    frame = sys._getframe(1)
    while frame is not None and frame.f_code.co_filename.startswith(_PACKAGE_DIR):
        frame = frame.f_back
        level += 1
    warnings.warn(msg, CareplanWarning, stacklevel=level)


def is_number(v: Any) -> bool:
    """A real number that is not a bool (NaN and inf fail every range check after)."""
    return isinstance(v, numbers.Real) and not isinstance(v, bool)
