"""What the ``careplan`` command prints: tables, messages and warnings, terminal-safe.

Every value that comes from data (ids, names, notes, file paths) passes through
:func:`careplan.report.escape.terminal_text`, so escape sequences in an input
file never reach the user's terminal; labels come from the catalogue.
"""

from __future__ import annotations

import sys
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any, TextIO

import pandas as pd

from careplan.report.escape import terminal_text
from careplan.report.format import fmt
from careplan.report.labels import column_label, kind_label, t
from careplan.report.tables import rules_frame, summary_frame

if TYPE_CHECKING:  # pragma: no cover
    from careplan.plan import LayoutPlan

__all__ = ["echo", "print_plan", "print_table", "terminal_frame"]

_MAX_CELL = 60


def echo(*parts: Any, file: TextIO | None = None) -> None:
    """Print *parts* (joined by spaces) with controls made visible."""
    print(" ".join(terminal_text(p) for p in parts), file=file or sys.stdout)


def terminal_frame(df: pd.DataFrame, columns: Iterable[str], lang: str = "en",
                   *, headers: bool = True) -> pd.DataFrame:
    """*columns* of *df* as terminal-safe text cells (long cells cut at 60 characters)."""
    cols = [c for c in columns if c in df.columns]
    out = pd.DataFrame(index=range(len(df)))
    for c in cols:
        vals = []
        for v in df[c]:
            s = terminal_text(fmt(v, lang))
            vals.append(s if len(s) <= _MAX_CELL else s[: _MAX_CELL - 1] + "…")
        name = terminal_text(column_label(c, lang) if headers else c)
        out[name] = vals
    return out


def print_table(df: pd.DataFrame, columns: Iterable[str], lang: str = "en", *,
                headers: bool = False, file: TextIO | None = None) -> None:
    """Print *columns* of *df* as an aligned, terminal-safe text table."""
    print(terminal_frame(df, columns, lang, headers=headers).to_string(index=False),
          file=file or sys.stdout)


def print_plan(plan: LayoutPlan, out_dir: Path, files: Mapping[str, Path], *,
               lang: str = "en") -> None:
    """The CLI's account of a finished plan: summary, proposed stations, rules, files."""
    summ = summary_frame(plan.summary, lang)
    echo(t("cli_summary", lang))
    print_table(summ, ["label", "before", "after"], lang)
    print()
    if len(plan.proposed):
        pr = pd.DataFrame(plan.proposed.drop(columns=plan.proposed.geometry.name))
        if "kind" in pr.columns:
            pr["kind"] = [kind_label(k, lang) for k in pr["kind"]]
        echo(t("cli_proposed", lang))
        print_table(pr, ["station_id", "kind", "floor_area_m2", "households_served",
                         "n_areas_served"], lang)
        print()
    echo(t("cli_rules_after", lang))
    # shares as percentages, the service circle as a share of households (like the report)
    print_table(rules_frame(plan.rules_after, lang), ["rule_id", "required", "found", "passed"],
                lang)
    print()
    echo(t("cli_wrote", lang).format(n=len(files), dir=out_dir))
    for name, p in files.items():
        echo(f"  {name}: {terminal_text(p)}")
    echo("Map data © OpenStreetMap contributors (ODbL).")
