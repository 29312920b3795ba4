"""Reader messages for command-line users.

The readers (:func:`careplan.read_areas`, ...) speak to Python users: ``columns=``,
``.set_crs(...)``, ``estimate_households``. A planner running ``careplan plan`` or
``careplan check`` needs the file's name and the config key that does the same.
:func:`for_file` rewrites one message; :func:`columns_found` lists the columns a file
does have when a required one is missing.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

__all__ = ["columns_found", "for_file"]

#: A missing required column, as the readers word it.
_MISSING = re.compile(r"column '([^']+)' is missing")
#: Advice only a Python user can follow, the config key that does the same, and what a config
#: user does instead ({s} = section); added unless the message already names that key.
_PYTHON_ONLY = (
    (re.compile(r"\.set_crs\("), "src_crs",
     "in a config: set src_crs in [{s}] (e.g. src_crs = \"EPSG:4326\" for longitude/latitude, "
     "or the EPSG code of your projected coordinates)"),
)
#: Python function names -> named as such for a command-line user.
_PYTHON_NAMES = re.compile(r"(?<![\w.])(estimate_households|aggregate_households)\b")


def _toml_table(msg: str) -> str:
    """``columns = {'a': 'b'}`` (Python) -> ``columns = { "a" = "b" }`` (TOML, what a config takes)."""
    def table(m: re.Match) -> str:
        pairs = re.findall(r"'([^']*)'\s*:\s*'([^']*)'", m.group(1))
        return m.group(0) if not pairs else \
            "columns = { " + ", ".join(f'"{a}" = "{b}"' for a, b in pairs) + " }"

    return re.sub(r"columns = \{([^{}]*)\}", table, msg)


def for_file(msg: str, path: str | Path, section: str, *,
             columns: list[str] | None = None) -> str:
    """A reader's message as a command-line user needs it.

    Parameters
    ----------
    msg : str
        The reader's message, already in config terms where it names options
        (``[inputs.areas] columns = ...``).
    path : str or Path
        The file that was read; its name is put in the message unless already there,
        as ``areas (file.csv): ...``.
    section : str
        The config section of the input, ``inputs.areas``, ...: where the config-key
        equivalent of a Python-only hint lives.
    columns : list of str, optional
        The columns the file has (from :func:`columns_found`); named when the message
        says a required column is missing.

    Returns
    -------
    str
        One line: the file named, Python-only hints followed by their config-key
        equivalent, Python dict literals of ``columns`` written as TOML.
    """
    name = Path(path).name
    if name not in msg:
        m = re.match(r"([\w .-]{1,40}?): ", msg)
        msg = f"{m.group(1)} ({name}): {msg[m.end():]}" if m else f"{name}: {msg}"
    msg = _toml_table(msg)
    if columns is not None and _MISSING.search(msg):
        shown = ", ".join(repr(c) for c in columns[:30]) + (" ..." if len(columns) > 30 else "")
        msg = msg.rstrip() + f" The file's columns are: {shown}."
    if _PYTHON_NAMES.search(msg):
        msg = _PYTHON_NAMES.sub(r"careplan.\1", msg)
        msg = re.sub(r"(careplan\.\w+(?:/careplan\.\w+)*)", r"\1 (Python functions)", msg, count=1)
    for pattern, key, advice in _PYTHON_ONLY:
        if pattern.search(msg) and f"[{section}] {key}" not in msg:
            msg = msg.rstrip().rstrip(".") + f"; {advice.format(s=section)}."
    return msg


def columns_found(reader: Callable[..., Any], path: str | Path, options: dict[str, Any]) -> list[str] | None:
    """The columns of *path* as *reader* sees them, or None when it cannot tell.

    Reads the file again with ``require_households=False`` and, unless given,
    ``default_built`` (options of :func:`careplan.read_areas`), so only for a reader that
    has them; its warnings are not shown again, and any error gives None (the original
    message is then shown as it is).
    """
    import inspect
    import warnings

    params = inspect.signature(reader).parameters
    if "require_households" not in params or "default_built" not in params:
        return None
    lenient = {**options, "require_households": False}
    tries = [(lenient, set())]  # the file's own built column first (tester's finding 8)
    if lenient.get("default_built") is None:
        tries.append(({**lenient, "default_built": "existing"}, {"built"}))
    frame, dropped = None, set()
    for opts, added in tries:
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                frame, dropped = reader(path, **opts), added
            break
        except Exception:  # noqa: BLE001, S112 - a best-effort addition to an error raised
            continue
    if frame is None:
        return None
    geom = getattr(frame, "_geometry_column_name", None)
    return [str(c) for c in frame.columns if c != geom and c not in dropped]
