"""Combine a local profile with national/provincial ones: the stricter value wins."""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence

from careplan._errors import InputError
from careplan.standards._model import Rule, Standard
from careplan.standards._registry import KINDS

__all__ = ["combine"]


def _key(r: Rule) -> tuple[str, str, tuple[str, ...]]:
    return (r.kind, r.applies_to, tuple(sorted(r.levels)))


def _stricter(a: Rule, b: Rule) -> Rule:
    """The stricter of two rules of the same kind (``a`` wins ties: the first profile)."""
    spec = KINDS[a.kind]
    if spec.stricter == "lower":
        return b if b.value < a.value else a
    return b if b.value > a.value else a


def _merge(group: list[tuple[str, Rule]]) -> Rule:
    """One rule from rules of the same kind/applies_to/levels in several profiles."""
    best = group[0][1]
    for _, r in group[1:]:
        best = _stricter(best, r)
    maxes = [(p, r) for p, r in group if r.max_value is not None]
    max_value, max_note = best.max_value, ""
    if maxes:
        p_max, r_max = min(maxes, key=lambda pr: pr[1].max_value)
        if r_max.max_value < best.value:
            raise InputError(
                f"profiles cannot be combined: rule kind {best.kind!r} needs at least "
                f"{best.value:g} ({best.citation.title}) but at most {r_max.max_value:g} "
                f"({r_max.citation.title}); edit one of the profiles")
        if r_max.max_value != best.max_value:
            max_value = r_max.max_value
            max_note = (f"; maximum {max_value:g} set by {r_max.citation.title_zh} "
                        f"({p_max}: {r_max.id})")
    values = "; ".join(
        f"{p}: {r.id} = {r.value:g}" + (f"-{r.max_value:g}" if r.max_value is not None else "")
        for p, r in group)
    owner = next(p for p, r in group if r is best)
    note = (f"stricter value of the combined profiles ({values}) set by "
            f"{best.citation.title_zh} ({owner}){max_note}")
    note = f"{best.note} {note}".strip() if best.note else note
    return dataclasses.replace(best, max_value=max_value, note=note)


def combine(standards: Sequence[Standard], *, name: str | None = None) -> Standard:
    """Apply several profiles together (e.g. a local plan and a national code).

    Rules of the same kind, ``applies_to`` and levels are merged into one: the stricter
    value wins (each kind declares whether higher or lower is stricter; for ranges the
    higher minimum and the lower maximum), and the merged rule keeps the winner's
    citation, so the rule table says which document set the value; its ``note`` lists
    every profile's value. Other rules are kept as they are. Walking assumptions come
    from the first profile.

    Parameters
    ----------
    standards : sequence of Standard
        Two or more loaded profiles; the first is the local one (it wins ties).
    name : str, optional
        Name of the result (default: the names joined by '+').

    Returns
    -------
    Standard

    Raises
    ------
    InputError
        Fewer than one profile, a minimum above another profile's maximum, or two
        rules with the same id that cannot be told apart.
    """
    stds = list(standards)
    if not stds:
        raise InputError("combine needs at least one standard")
    if len(stds) == 1:
        return stds[0]
    groups: dict[tuple, list[tuple[str, Rule]]] = {}
    for s in stds:
        for r in s.rules:
            groups.setdefault(_key(r), []).append((s.name, r))
    rules: list[Rule] = []
    seen: set[str] = set()
    for group in groups.values():
        r = _merge(group) if len(group) > 1 else group[0][1]
        if r.id in seen:
            owner = next(p for p, g in group if g.id == r.id)
            r = dataclasses.replace(r, id=f"{owner}:{r.id}")
        seen.add(r.id)
        rules.append(r)
    docs = {}
    for s in stds:
        for d in s.documents:
            docs.setdefault(d.key, d)
    first = stds[0]
    return dataclasses.replace(
        first, name=name or "+".join(s.name for s in stds),
        title=" + ".join(s.title for s in stds), title_zh=" + ".join(s.title_zh for s in stds),
        documents=tuple(docs.values()), rules=tuple(rules),
        default_minutes=next((s.default_minutes for s in stds if s.default_minutes is not None),
                             None),
        default_minutes_source=next((s.default_minutes_source for s in stds
                                     if s.default_minutes is not None), ""),
        description=f"Combined profiles: {', '.join(s.name for s in stds)}; the stricter value "
                    "of each rule wins.", source="+".join(s.source for s in stds))
