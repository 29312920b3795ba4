"""Plans from TOML config files: ``careplan plan config.toml``.

A config has three tables, checked WHOLE against one schema before any work:

* ``[inputs.areas]``, ``[inputs.facilities]``, ``[inputs.candidates]``,
  ``[inputs.network]``, ``[inputs.streets]``, ``[inputs.districts]``: ``path`` plus every
  keyword option of the reader (:func:`careplan.read_areas`, ...,
  :func:`careplan.data.read_boundaries` with ``level`` set by the input's name) or of
  :meth:`careplan.WalkNetwork.from_file`,
  found by inspecting their signatures (so a new reader option is a new key). An
  input may also be given as a plain path (``areas = "areas.gpkg"``).
  ``[inputs] coord_system`` is a shared default of the readers.
* ``[plan]``: the fields of :class:`~careplan.plan.PlanConfig`.
* ``[output]``: ``dir``.

Every path (inputs, ``[plan] standard`` when it is a file, ``[output] dir``) resolves
against the config file's folder. ``careplan plan --keys`` lists every key
(:func:`config_keys`).
"""

from __future__ import annotations

import ast
import inspect
import math
import numbers
import re
import tomllib
import warnings
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from careplan._errors import CareplanError, InputError

__all__ = ["ConfigKey", "PlanFile", "config_keys", "keys_text", "plan_from_config",
           "read_config"]

#: Reader options the plan sets itself (the target CRS is the network's).
_SET_BY_PLAN = {"crs", "verbose"}
#: Inputs a config may name; True = required.
_REQUIRED = {"areas": True, "facilities": False, "candidates": False, "network": True,
             "streets": False, "districts": False}
#: Reader options fixed by the input's name (not config keys).
_FIXED = {"streets": {"level": "street"}, "districts": {"level": "district"}}
_DEFAULT_OUT = "careplan-out"


def _builders() -> dict[str, Callable]:
    from careplan.io import read_areas, read_boundaries, read_candidates, read_facilities
    from careplan.network import WalkNetwork

    return {"areas": read_areas, "facilities": read_facilities,
            "candidates": read_candidates, "network": WalkNetwork.from_file,
            "streets": read_boundaries, "districts": read_boundaries}


@dataclass(frozen=True)
class ConfigKey:
    """One key of the config schema.

    Attributes
    ----------
    section : str
        ``inputs.areas``, ``plan``, ``output``, ...
    name : str
    kind : str
        'path', 'string', 'integer', 'number', 'bool', 'table', 'list', 'choice',
        'crs' (a string or an EPSG number) or a PlanConfig kind.
    default : object
    help : str
    choices : tuple of str
    required : bool
    """

    section: str
    name: str
    kind: str
    default: Any
    help: str
    choices: tuple = ()
    required: bool = False

    @property
    def type_name(self) -> str:
        """Type as shown by ``--keys``."""
        names = {"path": "path", "string": "string", "integer": "integer", "number": "number",
                 "bool": "true/false", "table": "table of strings", "list": "list",
                 "crs": "string or integer (CRS)", "string_or_integer": "string or integer"}
        base = names.get(self.kind, self.kind)
        return base + (f" ({' | '.join(map(str, self.choices))})" if self.choices else "")


def _kind(annotation: Any) -> tuple[str, tuple]:
    """Config kind of a reader parameter from its (string) annotation."""
    a = str(annotation).replace(" ", "").replace('"', "'")
    if a.startswith("Literal["):
        return "choice", tuple(ast.literal_eval(f"({a[8:-1]},)"))
    parts = set(a.split("|")) - {"None"}
    if any(p.startswith(("Mapping", "dict")) for p in parts):
        return "table", ()
    if any(p.startswith(("Sequence", "list", "tuple")) for p in parts):
        return "list", ()
    if any("Path" in p for p in parts):
        return "path", ()
    simple = {"bool": "bool", "int": "integer", "float": "number", "str": "string"}
    if len(parts) == 1 and next(iter(parts)) in simple:
        return simple[next(iter(parts))], ()
    if parts <= {"int", "float"}:
        return "number", ()
    if parts == {"str", "int"}:
        return "string_or_integer", ()
    return "crs", ()


def _param_help(func: Callable) -> dict[str, str]:
    """First sentence of each parameter's numpydoc description (a "See :meth:`x`" reference
    is followed to x's description of the same parameter)."""
    doc = inspect.getdoc(func) or ""
    out: dict[str, str] = {}
    lines = doc.splitlines()
    for i, line in enumerate(lines):
        m = re.match(r"^([A-Za-z_][\w, ]*) : ", line)
        if not m:
            continue
        desc = []
        for nxt in lines[i + 1:]:
            if not nxt.startswith("    "):
                break
            desc.append(nxt.strip())
        text = " ".join(desc)
        text = re.split(r"(?<=[.;])\s+(?=[A-Z])", text, maxsplit=1)[0].replace("``", "")
        for name in m.group(1).split(","):
            out.setdefault(name.strip(), text)
    for name, text in out.items():
        ref = re.match(r"See :meth:`~?([\w.]+)`", text)
        owner = getattr(func, "__self__", None)
        if ref and owner is not None and hasattr(owner, ref.group(1).split(".")[-1]):
            out[name] = _param_help(getattr(owner, ref.group(1).split(".")[-1])).get(name, text)
    return out


def _toml(value: Any) -> str:
    if value is None:
        return "-"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return f'"{value}"'
    if isinstance(value, tuple | list):
        return "[" + ", ".join(_toml(v) for v in value) + "]"
    return f"{value:g}" if isinstance(value, float) else str(value)


def config_keys() -> list[ConfigKey]:
    """Every key a ``careplan plan`` config may hold, derived from the readers'
    signatures, :meth:`WalkNetwork.from_file` and :class:`PlanConfig`."""
    from careplan.plan._config import PlanConfig

    keys: list[ConfigKey] = []
    for name, func in _builders().items():
        sec = f"inputs.{name}"
        keys.append(ConfigKey(sec, "path", "path", None, f"{name} file (relative to the config)",
                              required=_REQUIRED[name]))
        helps = _param_help(func)
        params = list(inspect.signature(func).parameters.values())[1:]
        for p in params:
            if p.kind is not p.KEYWORD_ONLY or p.name in _SET_BY_PLAN | set(_FIXED.get(name, ())):
                continue
            kind, choices = _kind(p.annotation)
            keys.append(ConfigKey(sec, p.name, kind, p.default, helps.get(p.name, ""), choices))
    keys.append(ConfigKey("inputs", "coord_system", "string", "wgs84",
                          "shared default of the readers' coord_system"))
    for name, (opt, default) in PlanConfig.options().items():
        keys.append(ConfigKey("plan", name, opt.type_name(), default, opt.help))
    keys.append(ConfigKey("output", "dir", "path", _DEFAULT_OUT,
                          "output folder (relative to the config; --out overrides)"))
    return keys


def keys_text() -> str:
    """The config keys as a plain-text table (``careplan plan --keys``)."""
    rows = []
    for k in config_keys():
        default = "(required)" if k.required else _toml(k.default)
        rows.append((f"[{k.section}] {k.name}", k.type_name, default, k.help))
    w = [max(len(r[i]) for r in rows) for i in range(3)]
    return "\n".join(f"{a:<{w[0]}}  {b:<{w[1]}}  {c:<{w[2]}}  {d}".rstrip()
                     for a, b, c, d in rows)


# ------------------------------------------------------------------------- reading
@dataclass(frozen=True)
class InputSpec:
    """One input of a config: its file and the reader's keyword options."""

    path: Path
    options: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class PlanFile:
    """A checked config: inputs, plan options and output folder (all paths resolved)."""

    path: Path
    inputs: dict[str, InputSpec]
    plan: Any
    output_dir: Path


def _load_toml(path: Path) -> dict[str, Any]:
    if not path.is_file():
        raise InputError(f"config file {str(path)!r} does not exist")
    try:
        with path.open("rb") as fh:
            return tomllib.load(fh)
    except UnicodeDecodeError as exc:
        raise InputError(f"config {str(path)!r} is not UTF-8 text (byte {exc.start}); TOML "
                         "files must be UTF-8: save it as UTF-8") from None
    except RecursionError:
        raise InputError(f"config {str(path)!r} nests arrays or tables too deeply") from None
    except tomllib.TOMLDecodeError as exc:
        raise InputError(f"config {str(path)!r} is not valid TOML: {exc}") from None


def _table(value: Any, where: str) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise InputError(f"config {where} must be a table ([{where.strip('[]')}] with "
                         f"key = value lines), got {type(value).__name__} {_short(value)}")
    return value


def _short(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def _check_value(key: ConfigKey, value: Any) -> Any:  # noqa: C901 - one branch per kind
    where = f"[{key.section}] {key.name}"
    bad = InputError(f"config {where} must be a {key.type_name}, got {_short(value)}")
    if key.kind in ("path", "string"):
        if not isinstance(value, str) or not value.strip():
            raise bad
    elif key.kind == "choice":
        if value not in key.choices:
            raise bad
    elif key.kind == "bool":
        if not isinstance(value, bool):
            raise bad
    elif key.kind in ("integer", "number"):
        if isinstance(value, bool) or not isinstance(value, numbers.Real) or not math.isfinite(
                value) or (key.kind == "integer" and not float(value).is_integer()):
            raise bad
    elif key.kind == "table":
        if not isinstance(value, dict) or not all(
                isinstance(k, str) and isinstance(v, str) for k, v in value.items()):
            raise bad
    elif key.kind == "list":
        if not isinstance(value, list):
            raise bad
    elif key.kind in ("crs", "string_or_integer"):
        if isinstance(value, bool) or not isinstance(value, str | int):
            raise bad
    return value


def _resolve(base: Path, value: str, where: str) -> Path:
    p = Path(value)
    p = p if p.is_absolute() else base / p
    if not p.exists():
        raise InputError(f"config {where}: file {str(p)!r} does not exist (paths in a config "
                         "are relative to the config file's folder)")
    return p


def _input(name: str, raw: Any, shared: dict, keys: dict, base: Path) -> InputSpec:
    where = f"[inputs.{name}]"
    table = {"path": raw} if isinstance(raw, str) else raw
    if not isinstance(table, dict):
        raise InputError(f"config [inputs] {name} must be a path (string) or a table "
                         f"{where} with path = ..., got {_short(raw)}")
    table = {**{k: v for k, v in shared.items() if k in keys}, **table}
    unknown = [k for k in table if k not in keys]
    if unknown:
        raise InputError(f"config {where}: unknown key(s) {unknown}; known: "
                         f"{', '.join(keys)} (careplan plan --keys lists them)")
    if "path" not in table:
        raise InputError(f"config {where} needs path = \"<file>\"")
    opts = {k: _check_value(keys[k], v) for k, v in table.items()}
    path = _resolve(base, opts.pop("path"), f"{where} path")
    return InputSpec(path, opts)


def _inputs(raw: Any, keys: list[ConfigKey], base: Path) -> dict[str, InputSpec]:
    raw = dict(_table(raw, "[inputs]"))
    shared = {}
    if "coord_system" in raw:
        shared["coord_system"] = _check_value(
            next(k for k in keys if k.section == "inputs"), raw.pop("coord_system"))
    for name in _REQUIRED:  # old flat keys: areas_layer = "..."
        old = raw.pop(f"{name}_layer", None)
        if old is not None:
            warnings.warn(f"config [inputs] {name}_layer is deprecated; use [inputs.{name}] "
                          "layer = ...", DeprecationWarning, stacklevel=4)
            entry = raw.get(name)
            raw[name] = {"path": entry, "layer": old} if isinstance(entry, str) else entry
    unknown = [k for k in raw if k not in _REQUIRED]
    if unknown:
        raise InputError(f"config [inputs]: unknown input(s) {unknown}; use "
                         f"{', '.join(_REQUIRED)} (careplan plan --keys lists their keys)")
    out = {}
    for name, required in _REQUIRED.items():
        if name not in raw:
            if required:
                raise InputError(f"config [inputs] needs {name} (a file path, or "
                                 f"[inputs.{name}] path = ...)")
            continue
        sec_keys = {k.name: k for k in keys if k.section == f"inputs.{name}"}
        out[name] = _input(name, raw[name], shared, sec_keys, base)
    return out


def _plan_options(raw: Any, base: Path):
    from careplan.plan._config import PlanConfig
    from careplan.standards import load as load_standard

    opts = dict(_table(raw, "[plan]"))
    std = opts.get("standard")
    if isinstance(std, str) and (std.endswith(".toml") or "/" in std or "\\" in std):
        opts["standard"] = _resolve(base, std, "[plan] standard")
    cfg = PlanConfig.from_mapping(opts, where="[plan]")
    return cfg.replace(standard=load_standard(cfg.standard))


def read_config(path: str | Path) -> PlanFile:
    """Read a plan config and check it whole (see the module docs).

    Parameters
    ----------
    path : str or Path
        The TOML file (UTF-8).

    Returns
    -------
    PlanFile

    Raises
    ------
    InputError
        The first problem found, in one line naming the key: not a file, not UTF-8,
        not TOML, nested too deeply, an unknown section or key, a value of the wrong
        type or out of range, a path that does not exist, an unknown standard.
    """
    path = Path(path)
    cfg = _load_toml(path)
    base = path.resolve().parent
    unknown = [k for k in cfg if k not in ("inputs", "plan", "output")]
    if unknown:
        raise InputError(f"config {str(path)!r}: unknown section(s) {unknown}; use [inputs], "
                         "[plan] and [output]")
    for section in ("inputs", "plan", "output"):  # shapes first, then keys and values
        _table(cfg.get(section, {}), f"[{section}]")
    keys = config_keys()
    inputs = _inputs(cfg.get("inputs", {}), keys, base)
    plan = _plan_options(cfg.get("plan", {}), base)
    output = _table(cfg.get("output", {}), "[output]")
    bad = [k for k in output if k != "dir"]
    if bad:
        raise InputError(f"config [output]: unknown key(s) {bad}; use dir")
    out_key = next(k for k in keys if k.section == "output")
    out_dir = Path(_check_value(out_key, output.get("dir", _DEFAULT_OUT)))
    return PlanFile(path, inputs, plan, out_dir if out_dir.is_absolute() else base / out_dir)


# ------------------------------------------------------------------------- running
#: Advice that only makes sense in Python (the plan sets these itself in a config run).
_PYTHON_ONLY = (re.compile(r"[;,]?\s*pass crs= to choose"),)


def _in_config_terms(msg: str, section: str = "plan") -> str:
    """Rewrite Python option names (``columns=``) in a message as config keys of
    ``section`` (``inputs.areas``, ...) or of ``[plan]``."""
    names = {k.name: k.section for k in config_keys() if k.section == section}
    for k in config_keys():
        if k.section == "plan":
            names.setdefault(k.name, "plan")
    for pattern in _PYTHON_ONLY:
        msg = pattern.sub("", msg)
    alt = "|".join(sorted(map(re.escape, names), key=len, reverse=True))
    def key(m: re.Match) -> str:
        name = m.group(1)
        return f"[{names[name]}] {name}" + (" = " if m.group(2) else "")

    msg = re.sub(rf"(?<![\w.\]])({alt})=(?=([\w'\"{{\[(<-])?)", key, msg)
    msg = re.sub(r"(\] \w+ = )(True|False)\b", lambda m: m.group(1) + m.group(2).lower(), msg)
    inputs = "|".join(_REQUIRED)
    return re.sub(rf"(?<![\w.\]])({inputs})=", lambda m: f"[inputs.{m.group(1)}] path", msg)


class _ConfigTerms:
    """Re-raise a CareplanError, and re-emit warnings, in config terms of one section."""

    def __init__(self, section: str, path: Path | None = None,
                 read: Callable | None = None, options: dict | None = None):
        self.section, self.path, self.read, self.options = section, path, read, options or {}

    def __enter__(self):
        self._cm = warnings.catch_warnings(record=True)
        self.caught = self._cm.__enter__()
        warnings.simplefilter("always")
        return self

    def __exit__(self, exc_type, exc, tb):
        self._cm.__exit__(None, None, None)
        for w in self.caught:
            warnings.warn_explicit(_in_config_terms(str(w.message), self.section), w.category,
                                   w.filename, w.lineno)
        if isinstance(exc, CareplanError):
            msg = _in_config_terms(str(exc), self.section)
            if self.path is not None:  # name the file, config keys for Python-only hints
                from careplan._cli_text import columns_found, for_file

                found = columns_found(self.read, self.path, self.options) if self.read else None
                msg = for_file(msg, self.path, self.section, columns=found)
            raise type(exc)(msg) from exc
        return False


def _read_inputs(spec: PlanFile) -> dict[str, Any]:
    """Read areas, facilities, candidates and boundaries (before the slow network)."""
    builders = _builders()
    out: dict[str, Any] = {"facilities": None, "candidates": None, "streets": None,
                           "districts": None}
    for name in ("areas", "facilities", "candidates", "streets", "districts"):
        if name in spec.inputs:
            s = spec.inputs[name]
            opts = {**_FIXED.get(name, {}), **s.options}
            if name != "areas" and "crs" not in opts and out.get("areas") is not None:
                opts["crs"] = out["areas"].crs  # every input in the areas' one CRS
            with _ConfigTerms(f"inputs.{name}", s.path, builders[name], opts):
                out[name] = builders[name](s.path, **opts)
    return out


def plan_from_config(path: str | Path, *, out: str | Path | None = None,
                     verbose: bool | None = None):
    """Run :func:`careplan.plan_layout` as described by a TOML config file.

    The config is checked whole, then the areas, facilities and candidates are read
    (so a bad input is reported before the network loads), then the network.
    Messages name config keys (``[inputs.areas] columns = ...``), not Python ones.

    Parameters
    ----------
    path : str or Path
        The config (see ``examples/plan.toml`` and ``careplan plan --keys``).
    out : str or Path, optional
        Output folder; overrides ``[output] dir``.
    verbose : bool, optional
        Progress bars.

    Returns
    -------
    (LayoutPlan, Path)
        The plan and the output directory it should be written to.

    Raises
    ------
    CareplanError
        A bad config (the message names the key), a missing or bad input file.
    """
    from careplan.plan._pipeline import plan_layout

    spec = read_config(path)
    data = _read_inputs(spec)
    net_spec = spec.inputs["network"]
    with _ConfigTerms("inputs.network", net_spec.path):
        net = _builders()["network"](net_spec.path, **net_spec.options)
    for name in ("areas", "facilities", "candidates", "streets", "districts"):
        g = data[name]
        if g is not None and g.crs is not None and not g.crs.equals(net.crs):
            data[name] = g.to_crs(net.crs)
    with _ConfigTerms("plan"):
        plan = plan_layout(data["areas"], data["facilities"], data["candidates"], net,
                           config=spec.plan, verbose=verbose, streets=data["streets"],
                           districts=data["districts"])
    return plan, Path(out) if out else spec.output_dir
