"""Every public callable has a numpydoc docstring (issue 10 item 8).

Walks ``careplan.__all__`` and the public names of the public modules, and validates each
public function, class and method with :func:`numpydoc.validate.validate`: a summary, every
parameter documented (for classes, in Parameters or Attributes, the usual place for the
fields of a frozen result dataclass; a field inherited from a careplan base class may be
documented in the base's docstring only), no documented parameter that does not exist, a
Returns (or Yields) section where the function returns something, and a Raises section
where the function itself raises a ``CareplanError`` subclass.

What still fails is listed in ``ALLOWED`` with the reason; the list may only shrink: an
entry that no longer fails makes the test fail, so it is removed when fixed.
"""

from __future__ import annotations

import ast
import importlib
import inspect
import re

import pytest

numpydoc_validate = pytest.importorskip("numpydoc.validate")
docscrape = pytest.importorskip("numpydoc.docscrape")

MODULES = [
    "careplan", "careplan.io", "careplan.network", "careplan.coverage", "careplan.compliance",
    "careplan.locate", "careplan.plan", "careplan.report", "careplan.batch", "careplan.standards",
    "careplan.allocation", "careplan.phasing", "careplan.derive", "careplan.accessibility",
    "careplan.equity",
]
#: numpydoc codes checked: no docstring, no summary, parameter not documented / unknown,
#: no Returns section (functions and methods only; a class returns nothing).
CODES = {"GL08", "SS01", "PR01", "PR02", "RT01"}
ERROR_NAMES = ("CareplanError", "InputError", "CRSError", "InfeasibleError", "SolverError",
               "OutputError")
_RAISE = re.compile(r"^\s*raise\s+(" + "|".join(ERROR_NAMES) + r")\b", re.M)


def _public_names(mod):
    return getattr(mod, "__all__", [n for n in dir(mod) if not n.startswith("_")])


def _targets():
    """(qualified name, object) of every public function, class and method, once each."""
    seen: dict[str, object] = {}
    for mod_name in MODULES:
        try:
            mod = importlib.import_module(mod_name)
        except ImportError:  # a module not (yet) in this tree
            continue
        for name in _public_names(mod):
            obj = getattr(mod, name, None)
            if not (inspect.isfunction(obj) or inspect.isclass(obj)):
                continue
            if not getattr(obj, "__module__", "").startswith("careplan"):
                continue
            seen.setdefault(f"{obj.__module__}.{obj.__qualname__}", obj)
            if inspect.isclass(obj):
                for attr, value in vars(obj).items():
                    if attr.startswith("_"):
                        continue
                    if isinstance(value, (staticmethod, classmethod)):
                        value = value.__func__
                    if inspect.isfunction(value):
                        seen.setdefault(f"{obj.__module__}.{obj.__qualname__}.{attr}", value)
    return sorted(seen.items())


def _class_param_errors(obj):
    """Parameters of the class's signature documented in neither Parameters nor Attributes."""
    try:
        sig = inspect.signature(obj)
    except (TypeError, ValueError):
        return []
    documented = set()
    # a field inherited from a careplan base class may be documented once, in the base
    for cls in (c for c in obj.__mro__ if c.__module__.startswith("careplan")):
        doc = docscrape.NumpyDocString(cls.__doc__ and inspect.cleandoc(cls.__doc__) or "")
        own = set()
        for section in ("Parameters", "Other Parameters", "Attributes"):
            for p in doc[section]:
                own.update(n.strip() for n in p.name.split(","))
        if cls is not obj:  # only what the base itself takes
            try:
                own &= set(inspect.signature(cls).parameters)
            except (TypeError, ValueError):
                own = set()
        documented |= own
    missing = []
    for p in sig.parameters.values():
        name = {p.VAR_POSITIONAL: "*", p.VAR_KEYWORD: "**"}.get(p.kind, "") + p.name
        if name not in documented and name.lstrip("*") not in documented:
            missing.append(name)
    return [("PR01", f"Parameters {sorted(missing)} not documented")] if missing else []


def _errors(qualname, obj):
    result = numpydoc_validate.validate(qualname)
    errors = []
    for code, message in result["errors"]:
        if code == "PR01":  # private parameters (``_base``) are not part of the API
            names = ast.literal_eval(message.split(" ", 1)[1].rsplit(" not documented", 1)[0])
            if not [n for n in names if not n.lstrip("*").startswith("_")]:
                continue
        if code in CODES:
            errors.append((code, message))
    if inspect.isclass(obj):
        errors = [(c, m) for c, m in errors if c not in {"PR01", "RT01"}]
        if inspect.getdoc(obj):
            errors += _class_param_errors(obj)
    else:
        try:
            source = inspect.getsource(obj)
        except (OSError, TypeError):
            source = ""
        if _RAISE.search(source) and "Raises" not in (inspect.getdoc(obj) or ""):
            errors.append(("RA01", "raises a CareplanError but has no Raises section"))
    return errors


#: (qualified name, code) -> why it is still allowed. Only shrinks.
ALLOWED: dict[tuple[str, str], str] = {
    ("careplan.compliance._result.ComplianceResult.rule_table", "PR01"): "deprecated (report labels the tables); goes with it",
    ("careplan.compliance._result.ComplianceResult.rule_table", "RT01"): "deprecated (report labels the tables); goes with it",
    ("careplan.compliance._result.ComplianceResult.to_excel_frames", "PR01"): "deprecated (report labels the tables); goes with it",
    ("careplan.compliance._result.ComplianceResult.to_excel_frames", "RT01"): "deprecated (report labels the tables); goes with it",
    ("careplan.locate._base.Problem", "PR01"): "fields not yet documented (Parameters or Attributes)",
    ("careplan.locate._base.RawSolution", "PR01"): "fields not yet documented (Parameters or Attributes)",
    ("careplan.network._network.WalkNetwork", "PR01"): "fields not yet documented (Parameters or Attributes)",
    ("careplan.plan._file.PlanFile", "PR01"): "fields not yet documented (Parameters or Attributes)",
    ("careplan.standards._registry.RuleContext.of_levels", "PR01"): "parameters not yet documented",
    ("careplan.standards._registry.RuleContext.of_levels", "RT01"): "Returns section not yet written",
    ("careplan.standards._registry.RuleContext.present", "PR01"): "parameters not yet documented",
    ("careplan.standards._registry.RuleContext.present", "RT01"): "Returns section not yet written",
    ("careplan.standards._registry.RuleContext.universe", "PR01"): "parameters not yet documented",
    ("careplan.standards._registry.RuleContext.universe", "RT01"): "Returns section not yet written",
    ("careplan.standards._registry.RuleContext.zone_counts", "PR01"): "parameters not yet documented",
    ("careplan.standards._registry.RuleContext.zone_counts", "RT01"): "Returns section not yet written",
    ("careplan.standards._registry.RuleContext.zone_note", "PR01"): "parameters not yet documented",
    ("careplan.standards._registry.RuleContext.zone_note", "RT01"): "Returns section not yet written",
    ("careplan.standards._registry.rule_kind", "PR01"): "parameters not yet documented",
    ("careplan.standards._registry.rule_kind", "RT01"): "Returns section not yet written",

}

TARGETS = _targets()


def test_walk_finds_the_public_api():
    names = {q for q, _ in TARGETS}
    # the DESIGN.md entry points are among what is checked
    for needed in ("careplan.plan._pipeline.plan_layout", "careplan.io.areas.read_areas",
                   "careplan.coverage.walk_coverage", "careplan.locate._models.PMedian"):
        assert any(n == needed or n.endswith(needed.rsplit(".", 1)[1]) for n in names), needed
    assert len(TARGETS) > 100


def test_docstrings_are_numpydoc_complete():
    failing = {}
    for qualname, obj in TARGETS:
        for code, message in _errors(qualname, obj):
            if (qualname, code) not in ALLOWED:
                failing.setdefault(qualname, []).append(f"{code} {message}")
    assert not failing, "docstrings to fix (numpydoc):\n" + "\n".join(
        f"{q}: {'; '.join(m)}" for q, m in sorted(failing.items()))


def test_allowlist_only_shrinks():
    current = {(q, c) for q, obj in TARGETS for c, _ in _errors(q, obj)}
    stale = sorted(k for k in ALLOWED if k not in current)
    assert not stale, f"fixed: remove these from ALLOWED in {__file__}: {stale}"
