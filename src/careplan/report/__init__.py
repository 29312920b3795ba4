"""Render a :class:`~careplan.plan.LayoutPlan`: HTML report, maps, Excel tables, GeoPackage.

Everything here *reads* a plan and writes files; nothing is computed that the
plan does not already hold, except simple sums for the charts.  Computation
returns plain frames; labels (zh/en) are attached here.

Modules
-------
labels
    The one zh/en label catalogue (tables, map, charts, CLI messages).
format
    Number, percent and flag formatting.
escape
    Encoding of text from data for each output context (HTML, JS, JSON, CSS,
    spreadsheet cells, figures, terminal).
tables
    Labelled planner tables (summary, rules with citations) from plain frames.
maps
    The interactive folium map (:func:`folium_map`).
figures
    matplotlib charts and the PNG maps (:func:`write_png_maps`).
html, xlsx, gpkg
    :func:`write_html`, :func:`write_excel`, :func:`write_geopackage`.
atomic
    Crash-safe writes of one file or a whole output folder.

Notes
-----
The interactive map uses no tile server by default (``tiles=None``): streets
come from the plan's own network edges, so the report works offline.  Leaflet
itself is inlined into the HTML when the small ``xstatic-leaflet`` package is
installed (it ships Leaflet 1.9.3, the version folium uses); otherwise the
report falls back to folium's CDN links (a :class:`CareplanWarning` says so).
"""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path
from typing import TYPE_CHECKING

from careplan._progress import progress
from careplan.report._common import OUTPUT_FILES, checked
from careplan.report.atomic import OutputError, atomic_file, replace_dir
from careplan.report.figures import write_png_maps
from careplan.report.gpkg import write_geopackage
from careplan.report.html import write_html
from careplan.report.labels import LANGS, check_lang
from careplan.report.maps import folium_map
from careplan.report.xlsx import write_compliance_excel, write_excel, write_workbook

if TYPE_CHECKING:  # pragma: no cover
    from careplan.plan import LayoutPlan

__all__ = [
    "LANGS",
    "MANIFEST",
    "OUTPUT_FILES",
    "OutputError",
    "atomic_file",
    "folium_map",
    "verify_output",
    "write_manifest",
    "write_all",
    "write_compliance_excel",
    "write_excel",
    "write_geopackage",
    "write_html",
    "write_png_maps",
    "write_workbook",
]

#: Manifest written last into every plan folder: the SHA-256 of each output file.
MANIFEST = ".careplan-output"


def _sha256(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def write_manifest(directory: str | os.PathLike) -> Path:
    """Write the manifest (:data:`MANIFEST`) of the output files in *directory*.

    Parameters
    ----------
    directory : path-like
        Folder holding every file of :data:`OUTPUT_FILES`.

    Returns
    -------
    Path
        Path of the manifest written (JSON: file name -> SHA-256).
    """
    d = Path(directory)
    files = {n: _sha256(d / n) for n in OUTPUT_FILES.values()}
    text = json.dumps({"written_by": "careplan.report.write_all", "files": files},
                      indent=1, sort_keys=True)
    with atomic_file(d / MANIFEST) as m:
        m.write_text(text + "\n", encoding="utf-8")
    return d / MANIFEST


def verify_output(directory: str | os.PathLike) -> bool:
    """Tell whether *directory* holds a complete plan.

    Complete: every output file present and matching the SHA-256 recorded in its
    manifest (:data:`MANIFEST`).

    Parameters
    ----------
    directory : path-like
        Folder written by :func:`write_all`.

    Returns
    -------
    bool
        True if complete; False if the manifest or a file is missing, unreadable or
        does not match (never raises for these).
    """
    d = Path(directory)
    try:
        manifest = json.loads((d / MANIFEST).read_text(encoding="utf-8"))
        files = manifest["files"]
        return (set(files) == set(OUTPUT_FILES.values())
                and all(_sha256(d / n) == h for n, h in files.items()))
    except (OSError, ValueError, KeyError, TypeError):
        return False


def write_all(plan: LayoutPlan, directory: str | os.PathLike, *, lang: str = "zh",
              verbose: bool | None = None) -> dict[str, Path]:
    """Write every output of a plan into *directory*, atomically.

    Parameters
    ----------
    plan : LayoutPlan
    directory : path-like
        Output folder (created if missing, parents too).  A symbolic link to a
        folder is kept and the folder it points to is replaced.
    lang : {"zh", "en"}, default "zh"
    verbose : bool, optional
        Show a progress bar (default: unless careplan is quiet).

    Returns
    -------
    dict
        ``{"geopackage", "report", "tables", "map_before", "map_after"}`` -> Path.

    Raises
    ------
    InputError, CRSError
        If *plan* is not a valid layout plan, *lang* is not supported or
        *directory* is a file.
    OutputError
        If the outputs cannot be written (full disk, permissions): one line, and the
        earlier output, if any, is unchanged.

    Notes
    -----
    At every instant *directory* holds either the complete earlier plan or the
    complete new one, even if the run is killed: the new plan is written into a
    hidden sibling folder and exchanged with the old one in one atomic step; the
    user's own files in the folder are carried over untouched (hard links);
    leftovers of killed runs are removed by the next run; two runs writing the
    same folder switch one after the other.  See :mod:`careplan.report.atomic`.
    A manifest (:data:`MANIFEST`) records the SHA-256 of each file
    (:func:`verify_output` checks a folder against it).
    """
    lang = check_lang(lang)
    plan = checked(plan)

    def write(tmp: Path) -> None:
        steps = [
            ("geopackage", lambda: write_geopackage(plan, tmp / OUTPUT_FILES["geopackage"])),
            ("report", lambda: write_html(plan, tmp / OUTPUT_FILES["report"], lang=lang)),
            ("tables", lambda: write_excel(plan, tmp / OUTPUT_FILES["tables"])),
            ("maps", lambda: write_png_maps(plan, tmp, lang=lang)),
        ]
        for _key, fn in progress(steps, desc="writing plan", verbose=verbose):
            fn()
        write_manifest(tmp)

    replace_dir(directory, write, ours=set(OUTPUT_FILES.values()) | {MANIFEST})
    target = Path(directory)
    return {k: target / v for k, v in OUTPUT_FILES.items()}
