"""The layers of careplan: data flows one way, lower layers never import higher ones.

    base (_errors, _progress, _kernels -> _schema, _crs)
    -> io | standards -> data (io's old name) -> datasets
    -> network -> allocation | phasing | _reach -> coverage | compliance | derive -> locate -> plan -> report -> batch -> cli

(docs/ARCHITECTURE.md, /work/shared/DESIGN.md). Two independent checks:

* static: every ``import`` in every module (also those inside functions) is read
  with :mod:`ast`; a module may import a lower layer or its own package, never a
  higher layer or a sibling unit of the same layer; the module-level imports have
  no cycle;
* dynamic: each unit (module or subpackage) is imported alone in a fresh interpreter state (the
  ``careplan.*`` entries of ``sys.modules`` cleared first), which fails on import
  cycles that only bite in some import orders.

Known violations in files owned by other engineers are listed in ``KNOWN`` with the
reason and are expected failures (xfail), not silently allowed.
"""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parents[1] / "src"
PKG = SRC / "careplan"

#: Layer of each unit (a top-level module or subpackage of careplan). A unit may
#: import units of a strictly lower layer, and itself.
LAYERS: dict[str, float] = {
    "careplan._errors": 0, "careplan._progress": 0, "careplan._kernels": 0,
    "careplan._cli_text": 0,  # reader messages for CLI users (imports nothing of careplan)
    "careplan._threads": 0.2,  # default threads of careplan's pools (imports only _errors)
    "careplan._schema": 0.5, "careplan._crs": 0.5,
    "careplan.io": 1, "careplan.standards": 1,
    "careplan.data": 1.2,  # the old name of io: a re-export
    "careplan.datasets": 1.5,
    "careplan.network": 2,
    "careplan.allocation": 2.5,  # floor-area transportation LP, used by compliance and plan
    "careplan._reach": 2.5,  # service-area geometry helper of coverage (imports no careplan)
    "careplan.coverage": 3, "careplan.compliance": 3, "careplan.derive": 3,
    "careplan.locate": 4,
    "careplan.equity": 1,  # Gini/Lorenz/Palma on plain arrays (imports only _errors)
    "careplan.accessibility": 4.5,  # FCA family/aggregation: parses costs with locate's cost_from_input
    "careplan.plan": 5,
    "careplan.phasing": 2.5,  # cost table and phase order MIP (imports only _errors); plan calls it
    "careplan.report": 6,
    "careplan.batch": 7,
    "careplan.cli": 8,
}

#: Units at the top, which may use the public API (``import careplan``).
TOP = 7

#: Imports allowed against the layering, with the reason.
ALLOWED: dict[tuple[str, str], str] = {
    ("careplan.plan._result", "careplan.report"):
        "LayoutPlan.to_file is a convenience that delegates to report (issue 10.4), "
        "imported lazily inside the method",
    ("careplan.coverage", "careplan.accessibility"):
        "coverage.two_step_fca keeps its old home and signature; it delegates to the FCA "
        "family (issue 13), imported lazily inside the function",
}

#: Known violations in files owned by others: (importer module, imported unit) -> reason.
KNOWN: dict[tuple[str, str], str] = {}


def _modules() -> dict[str, Path]:
    out = {}
    for path in sorted(PKG.rglob("*.py")):
        rel = path.relative_to(SRC).with_suffix("")
        parts = list(rel.parts)
        if parts[-1] == "__init__":
            parts = parts[:-1]
        out[".".join(parts)] = path
    return out


MODULES = _modules()


def _unit(module: str) -> str | None:
    """The layered unit of a careplan module (None for the package itself)."""
    parts = module.split(".")
    return None if len(parts) < 2 else ".".join(parts[:2])


def _imports(module: str, path: Path) -> list[tuple[str, bool]]:
    """careplan modules imported by ``module``: (name, at module level?)."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    pkg = module if path.name == "__init__.py" else module.rpartition(".")[0]
    top = {id(n) for n in tree.body}
    top |= {id(n) for s in tree.body if isinstance(s, ast.If | ast.Try) for n in ast.walk(s)}
    found = []
    for node in ast.walk(tree):
        names: list[str] = []
        if isinstance(node, ast.Import):
            names = [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = pkg.split(".")[: len(pkg.split(".")) - node.level + 1]
                base = ".".join(anchor + ([base] if base else []))
            # `from pkg import sub` imports the submodule; `from pkg import name` the package
            subs = [f"{base}.{a.name}" for a in node.names if f"{base}.{a.name}" in MODULES]
            names = subs + ([base] if len(subs) < len(node.names) else [])
        for name in names:
            if name == "careplan" or name.startswith("careplan."):
                if _is_type_checking(tree, node):
                    continue
                found.append((name, id(node) in top))
    return found


def _is_type_checking(tree: ast.Module, target: ast.AST) -> bool:
    for node in ast.walk(tree):
        if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
            if any(n is target for n in ast.walk(node)):
                return True
    return False


def _violations() -> list[tuple[str, str, str]]:
    out = []
    for module, path in MODULES.items():
        unit = _unit(module)
        if unit is None:
            continue  # careplan/__init__.py: the public API imports everything
        for name, _ in _imports(module, path):
            other = _unit(name)
            if other is None:
                if LAYERS[unit] < TOP:
                    out.append((module, "careplan", "imports the top-level package (which "
                                "imports every layer): import the module it needs"))
                continue
            if other == unit or (module, other) in ALLOWED:
                continue
            if unit not in LAYERS or other not in LAYERS:
                continue  # reported by test_every_unit_has_a_layer
            if LAYERS[other] >= LAYERS[unit]:
                out.append((module, other, f"layer {LAYERS[unit]:g} imports layer "
                            f"{LAYERS[other]:g}"))
    return out


def test_every_unit_has_a_layer():
    units = {_unit(m) for m in MODULES} - {None}
    missing = sorted(units - set(LAYERS))
    assert not missing, (f"new careplan modules {missing}: give each a layer in "
                         "tests/test_architecture.py LAYERS (and docs/ARCHITECTURE.md)")


VIOLATIONS = _violations()


def test_lower_layers_never_import_higher_ones():
    unknown = [v for v in VIOLATIONS if (v[0], v[1]) not in KNOWN]
    assert not unknown, "\n".join(f"{m} -> {o}: {why}" for m, o, why in unknown)
    known = sorted({(m, o) for m, o, _ in VIOLATIONS})
    if known:
        pytest.xfail("; ".join(f"{m} -> {o}: {KNOWN[(m, o)]}" for m, o in known))


def test_the_check_fails_on_an_upward_import(monkeypatch):
    """Without its ALLOWED entry, plan._result's lazy import of report is a violation."""
    monkeypatch.setattr(sys.modules[__name__], "ALLOWED", {})
    assert ("careplan.plan._result", "careplan.report") in {(m, o) for m, o, _ in _violations()}


def test_no_import_cycle_at_module_level():
    graph: dict[str, set[str]] = {m: set() for m in MODULES}
    for module, path in MODULES.items():
        for name, at_top in _imports(module, path):
            while name not in MODULES and "." in name:  # from x import function
                name = name.rpartition(".")[0]
            if at_top and name != module:
                graph[module].add(name)
    seen: dict[str, int] = {}
    stack: list[str] = []

    def visit(m: str) -> list[str] | None:
        seen[m] = 1
        stack.append(m)
        for n in sorted(graph[m]):
            if seen.get(n) == 1:
                return stack[stack.index(n):] + [n]
            if n not in seen and (cycle := visit(n)):
                return cycle
        stack.pop()
        seen[m] = 2
        return None

    for m in sorted(graph):
        if m not in seen:
            cycle = visit(m)
            assert cycle is None, " -> ".join(cycle)


def test_the_static_check_sees_lazy_imports():
    """The check reads imports inside functions too (else it could not fail on them)."""
    found = dict(_imports("careplan.plan._result", MODULES["careplan.plan._result"]))
    assert found.get("careplan.report") is False


def test_each_unit_imports_alone():
    code = (
        "import importlib, sys\n"
        f"mods = {sorted({_unit(m) for m in MODULES} - {None})!r}\n"
        "bad = []\n"
        "for m in mods:\n"
        "    for k in [k for k in sys.modules if k == 'careplan' or k.startswith('careplan.')]:\n"
        "        del sys.modules[k]\n"
        "    try:\n"
        "        importlib.import_module(m)\n"
        "    except Exception as exc:\n"
        "        bad.append(f'{m}: {type(exc).__name__}: {exc}')\n"
        "print('\\n'.join(bad))\n"
        "sys.exit(1 if bad else 0)\n"
    )
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                       env={"PYTHONPATH": str(SRC), "PATH": "/usr/bin:/bin",
                            "CAREPLAN_QUIET": "1"}, timeout=300)
    assert r.returncode == 0, r.stdout + r.stderr[-2000:]
