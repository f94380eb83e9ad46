"""What counts as a change, by Terraform's rules: zero values, sets and
blocks as its SDK compares them, Optional+Computed values the program left
out, and the engine's detailed diff."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from pulumi.runtime.proto import provider_pb2

from provisioning.sandbox.provider.properties import Props

_KIND = provider_pb2.PropertyDiff


def canonical(
    value: Any, ordered: frozenset[str], key: str = "", maps: frozenset[str] | None = None
) -> Any:
    """The value as Terraform's SDK compares it; equal canonical forms mean
    "unchanged".

    - The SDK reads an unset string, number or bool as "", 0 or false, and an
      unset list, set or map as empty, so zero values and empty collections
      are the same as leaving the property out.
    - Every list not named in ``ordered`` is a set: its order doesn't count.
    - With ``maps`` given, objects are nested blocks, except the map
      properties ``maps`` names: Terraform counts blocks, so a block whose
      fields all hold zero values still differs from no block (a disabled
      origin shield is not the absent one Terraform reads back). Without
      ``maps``, an object of zero values counts as unset too.
    """
    if isinstance(value, dict):
        out = {k: c for k, v in value.items() if (c := canonical(v, ordered, k, maps)) is not None}
        return out if out or (maps is not None and key not in maps) else None
    if isinstance(value, list):
        items = [c for v in value if (c := canonical(v, ordered, "", maps)) is not None]
        if not items:
            return None
        if key in ordered:
            return items
        return sorted(items, key=lambda item: json.dumps(item, sort_keys=True))
    zero = value is False or (type(value) in (int, float) and value == 0)
    return None if value is None or value == "" or zero else value


def inherit(new: Any, old: Any, path: tuple[str, ...]) -> Any:
    """Keeps an Optional+Computed value the program left out at its previous
    value, as Terraform's planner does; ``name[]`` steps into list elements."""
    if not isinstance(new, dict) or not isinstance(old, dict):
        return new
    head, rest = path[0], path[1:]
    name = head.removesuffix("[]")
    if name not in old:
        return new
    if not rest:
        return new if new.get(name) is not None else {**new, name: old[name]}
    if name not in new:
        return new
    if head.endswith("[]"):
        if not isinstance(new[name], list) or not isinstance(old[name], list):
            return new
        pairs = [inherit(n, o, rest) for n, o in zip(new[name], old[name], strict=False)]
        return {**new, name: pairs + new[name][len(old[name]) :]}
    return {**new, name: inherit(new[name], old[name], rest)}


def inherit_all(new: Props, old: Props, paths: tuple[tuple[str, ...], ...]) -> Props:
    for path in paths:
        new = inherit(new, old, path)
    return new


def overlay(base: Any, top: Any, ordered: frozenset[str], key: str = "") -> Any:
    """``top`` (the inputs) wins; ``base`` (what AWS reports) fills in what the
    inputs leave out, such as computed defaults."""
    if isinstance(base, dict) and isinstance(top, dict):
        return {**base, **{k: overlay(base.get(k), v, ordered, k) for k, v in top.items()}}
    aligned = isinstance(base, list) and isinstance(top, list) and len(base) == len(top)
    if key in ordered and aligned:
        return [overlay(b, t, ordered) for b, t in zip(base, top, strict=True)]
    return base if top is None else top


@dataclass(frozen=True)
class Change:
    diffs: list[str] = field(default_factory=list)
    replaces: list[str] = field(default_factory=list)
    detailed: dict[str, provider_pb2.PropertyDiff] = field(default_factory=dict)

    def add(self, path: str, before: Any, after: Any, replace: bool) -> None:
        if isinstance(before, dict) and isinstance(after, dict):
            for key in sorted(set(before) | set(after)):
                if before.get(key) != after.get(key):
                    self.add(f"{path}.{key}", before.get(key), after.get(key), replace)
            return
        kind = _KIND.ADD if before is None else _KIND.DELETE if after is None else _KIND.UPDATE
        if replace:
            kind = {
                _KIND.ADD: _KIND.ADD_REPLACE,
                _KIND.DELETE: _KIND.DELETE_REPLACE,
                _KIND.UPDATE: _KIND.UPDATE_REPLACE,
            }[kind]
        self.detailed[path] = provider_pb2.PropertyDiff(kind=kind, inputDiff=True)


def compare(
    old: Props,
    new: Props,
    *,
    replace_keys: frozenset[str],
    ordered: frozenset[str],
    ignore: frozenset[str] = frozenset(),
    maps: frozenset[str] | None = None,
) -> Change:
    """``maps`` as for ``canonical``: given, objects are compared as blocks."""
    change = Change()
    for key in sorted((set(old) | set(new)) - ignore):
        before = canonical(old.get(key), ordered, key, maps)
        after = canonical(new.get(key), ordered, key, maps)
        if before == after:
            continue
        change.diffs.append(key)
        if key in replace_keys:
            change.replaces.append(key)
        change.add(key, before, after, key in replace_keys)
    return change


def diff_response(change: Change) -> provider_pb2.DiffResponse:
    if not change.diffs:
        return provider_pb2.DiffResponse(
            changes=provider_pb2.DiffResponse.DIFF_NONE, hasDetailedDiff=True
        )
    return provider_pb2.DiffResponse(
        changes=provider_pb2.DiffResponse.DIFF_SOME,
        diffs=change.diffs,
        replaces=change.replaces,
        detailedDiff=change.detailed,
        hasDetailedDiff=True,
        deleteBeforeReplace=False,
    )
