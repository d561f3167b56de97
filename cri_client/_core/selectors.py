"""Label selectors as kubectl writes them: ``app=web``, ``app==web``, ``app!=web``,
``app in (a,b)``, ``app notin (a,b)``, ``app``, ``!app``, terms joined by commas (all
must hold), as in Kubernetes' ``labels.Parse``.

The CRI's own filter is a map of exact values, so a selector is split in two: its
equality terms go to the runtime (:meth:`LabelSelector.server_side`), and the whole
selector is checked again on what comes back (:meth:`LabelSelector.matches`). A
mapping (``{"app": "web"}``) is the selector of its equality terms. Syntax is checked
before any RPC, with a ValueError naming the argument and the term.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass

from cri_client._core.validation import check_label_key, check_label_value, check_labels

__all__ = ["LabelSelector", "Requirement", "label_selector"]

_SET_TERM = re.compile(r"(?P<key>[^\s=!(),<>]+)\s+(?P<op>in|notin)\s*\((?P<values>[^()]*)\)")
_VALUE_TERM = re.compile(r"(?P<key>[^\s=!(),<>]+)\s*(?P<op>==|=|!=)\s*(?P<value>[^\s=!(),<>]*)")
_EXISTS_TERM = re.compile(r"(?P<not>!?)\s*(?P<key>[^\s=!(),<>]+)")


@dataclass(frozen=True, slots=True)
class Requirement:
    """One term: ``key``, an operator (``=``, ``!=``, ``in``, ``notin``, ``exists``,
    ``!``) and the values it names (one for ``=``/``!=``, none for the existence tests)."""

    key: str
    operator: str
    values: tuple[str, ...] = ()

    def matches(self, labels: Mapping[str, str]) -> bool:
        """Whether labels satisfy the term. As in Kubernetes, ``!=`` and ``notin``
        hold for an object without the label."""
        value = labels.get(self.key)
        if self.operator == "exists":
            return value is not None
        if self.operator == "!":
            return value is None
        if self.operator in ("=", "in"):
            return value is not None and value in self.values
        return value is None or value not in self.values


@dataclass(frozen=True, slots=True)
class LabelSelector:
    """Every term must hold; no term selects everything."""

    requirements: tuple[Requirement, ...] = ()

    def server_side(self) -> dict[str, str]:
        """The part the CRI filter can do: each key's first exact value."""
        exact: dict[str, str] = {}
        for term in self.requirements:
            if term.operator == "=":
                exact.setdefault(term.key, term.values[0])
        return exact

    def matches(self, labels: Mapping[str, str]) -> bool:
        return all(term.matches(labels) for term in self.requirements)


def label_selector(value: object, field: str = "labels") -> LabelSelector:
    """A ``labels=`` argument: None (everything), a mapping of exact values, or a
    selector string in kubectl's syntax. Raises ValueError naming ``field`` on bad
    syntax, a bad key or value, and TypeError on anything else.

    >>> label_selector("app in (web,api), !canary").server_side()
    {}
    >>> label_selector("tier=front,app").server_side()
    {'tier': 'front'}
    """
    if value is None:
        return LabelSelector()
    if isinstance(value, Mapping):
        exact = check_labels(value, field)
        return LabelSelector(tuple(Requirement(k, "=", (v,)) for k, v in exact.items()))
    if not isinstance(value, str):
        raise TypeError(
            f"{field} must be a mapping or a selector string such as 'app=web', "
            f"not {type(value).__name__}"
        )
    return LabelSelector(tuple(_requirement(term, field) for term in _terms(value, field)))


def _terms(text: str, field: str) -> list[str]:
    """The comma-separated terms, commas inside ``( )`` kept with their term."""
    terms, depth, start = [], 0, 0
    for index, char in enumerate(text):
        if char == "(":
            depth += 1
        elif char == ")":
            depth -= 1
        if depth not in (0, 1):
            raise ValueError(f"{field}: unbalanced parentheses in label selector {text!r}")
        if char == "," and depth == 0:
            terms.append(text[start:index])
            start = index + 1
    if depth:
        raise ValueError(f"{field}: unbalanced parentheses in label selector {text!r}")
    terms.append(text[start:])
    if len(terms) == 1 and not terms[0].strip():
        return []
    return [term.strip() for term in terms]


def _requirement(term: str, field: str) -> Requirement:
    if not term:
        raise ValueError(f"{field}: empty term in label selector (two commas, or one at an end)")
    if found := _SET_TERM.fullmatch(term):
        key = check_label_key(found["key"], f"{field} selector")
        values = tuple(value.strip() for value in found["values"].split(","))
        if values == ("",):
            raise ValueError(f"{field}: {term!r} needs at least one value in its parentheses")
        for value in values:
            check_label_value(value, f"{field} selector {term!r}")
        return Requirement(key, found["op"], values)
    if found := _VALUE_TERM.fullmatch(term):
        key = check_label_key(found["key"], f"{field} selector")
        value = check_label_value(found["value"], f"{field} selector {term!r}")
        return Requirement(key, "!=" if found["op"] == "!=" else "=", (value,))
    if found := _EXISTS_TERM.fullmatch(term):
        key = check_label_key(found["key"], f"{field} selector")
        return Requirement(key, "!" if found["not"] else "exists")
    raise ValueError(
        f"{field}: cannot parse label selector term {term!r}: use key=value, key==value, "
        "key!=value, 'key in (a,b)', 'key notin (a,b)', key or !key"
    )
