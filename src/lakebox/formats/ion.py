"""Ion path extractors (``ion.<column>.path_extractor = '(Item id)'``) applied to decoded
Ion values: engine-neutral, so any engine's Ion reader finds the same values."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from amazon.ion import simpleion
from amazon.ion.core import IonType
from amazon.ion.exceptions import IonException
from amazon.ion.simple_types import IonPyDict

from lakebox.errors import InvalidRequestError

_MISSING = object()
#: a decoded struct: a dict, or amazon-ion's multimap IonPyDict, whose items() keep a
#: repeated field name and the fields' order (decoded so when index, wildcard or
#: annotation steps need them)
STRUCTS = (dict, IonPyDict)


@dataclass(frozen=True)
class Step:
    """One path-extractor component: a field name, an index, or ``*``; with annotations
    the matched value must carry."""

    field: str | None = None
    index: int | None = None
    annotations: tuple[str, ...] = ()

    @property
    def wildcard(self) -> bool:
        return self.field is None and self.index is None


def parse_path(text: str, where: str) -> list[Step]:
    """Parse a search path such as ``(Item id)``, ``(foo 0)``, ``(*)`` or ``(A::bar)``."""
    try:
        sexp = simpleion.loads(text)
    except (IonException, ValueError) as err:
        raise InvalidRequestError(f"{where}: {text!r} is not an Ion s-expression") from err
    if getattr(sexp, "ion_type", None) is not IonType.SEXP:
        raise InvalidRequestError(f"{where}: {text!r} must be an s-expression like (a b)")
    steps = []
    for part in sexp:
        notes = tuple(a.text for a in getattr(part, "ion_annotations", ()))
        kind = getattr(part, "ion_type", None)
        if kind is IonType.INT:
            steps.append(Step(index=int(part), annotations=notes))
        elif kind in (IonType.SYMBOL, IonType.STRING):
            text_value = part.text if hasattr(part, "text") else str(part)
            if kind is IonType.SYMBOL and text_value == "*":
                steps.append(Step(annotations=notes))
            else:
                steps.append(Step(field=text_value, annotations=notes))
        else:
            raise InvalidRequestError(
                f"{where}: path components must be field names, indexes or *, not {part!r}"
            )
    return steps


def _children(value: Any, step: Step, case_sensitive: bool) -> Iterator[Any]:
    if isinstance(value, STRUCTS):
        pairs = list(value.items())
        if step.field is not None:
            yield from (v for k, v in pairs if k == step.field)
            if not case_sensitive:
                low = step.field.lower()
                yield from (
                    v
                    for k, v in pairs
                    if k != step.field and isinstance(k, str) and k.lower() == low
                )
        elif step.index is not None:
            if 0 <= step.index < len(pairs):
                yield pairs[step.index][1]
        else:
            yield from (v for _, v in pairs)
    elif isinstance(value, list):
        if step.index is not None:
            if 0 <= step.index < len(value):
                yield value[step.index]
        elif step.field is None:
            yield from value


def _annotated(value: Any, notes: tuple[str, ...]) -> bool:
    have = {a.text for a in getattr(value, "ion_annotations", ())}
    return all(n in have for n in notes)


def _search(value: Any, steps: list[Step], i: int, case_sensitive: bool) -> Iterator[Any]:
    if i == len(steps):
        yield value
        return
    step = steps[i]
    for child in _children(value, step, case_sensitive):
        if step.annotations and not _annotated(child, step.annotations):
            continue
        yield from _search(child, steps, i + 1, case_sensitive)


def _ci_get(value: Any, low: str) -> Any:
    if not isinstance(value, STRUCTS):
        return None
    # a field whose name symbol is unknown (damaged symbol table) has no text: no match
    return next((v for k, v in value.items() if isinstance(k, str) and k.lower() == low), None)


class Extractor:
    """Applies one column's path to a chunk of top-level values. Paths made of field
    names only (the default and DynamoDB's ``(Item id)``) run step by step as list
    comprehensions, sharing prefixes between columns through ``cache``; other paths
    (indexes, wildcards, annotations) search value by value."""

    def __init__(self, steps: list[Step], case_sensitive: bool) -> None:
        self.steps = steps
        self.case_sensitive = case_sensitive
        self.fields: tuple[str, ...] | None = None
        if steps and all(s.field is not None and not s.annotations for s in steps):
            self.fields = tuple(s.field for s in steps if s.field is not None)

    @property
    def needs_field_order(self) -> bool:
        """True when the path has an index, wildcard or annotation step: those need every
        field of a struct in order, repeated names included, which a dict loses."""
        return self.fields is None

    def first(self, value: Any) -> Any:
        return next(_search(value, self.steps, 0, self.case_sensitive), None)

    def values(self, chunk: list[Any], cache: dict[tuple[str, ...], list[Any]]) -> list[Any]:
        if self.fields is None:
            return [self.first(v) for v in chunk]
        vals = chunk
        for depth in range(1, len(self.fields) + 1):
            prefix = self.fields[:depth]
            cached = cache.get(prefix)
            if cached is not None:
                vals = cached
                continue
            name = prefix[-1]
            parents = vals
            vals = [p.get(name, _MISSING) if isinstance(p, STRUCTS) else None for p in parents]
            if any(v is _MISSING for v in vals):
                if self.case_sensitive:
                    vals = [None if v is _MISSING else v for v in vals]
                else:
                    low = name.lower()
                    vals = [
                        _ci_get(p, low) if v is _MISSING else v
                        for p, v in zip(parents, vals, strict=True)
                    ]
            cache[prefix] = vals
        return vals
