"""Label selectors as kubectl writes them (``_core.selectors``), ``state=`` in any
spelling, and what a listing sends the runtime for each."""

from __future__ import annotations

import pytest

from cri_client._core.listing import container_filter, pod_filter
from cri_client._core.model import parse_state
from cri_client._core.selectors import LabelSelector, Requirement, label_selector
from cri_client.types import ContainerState, PodState

LABELS = {"app": "web", "tier": "front", "canary": ""}


@pytest.mark.parametrize(
    ("text", "requirements"),
    [
        ("app=web", [Requirement("app", "=", ("web",))]),
        ("app==web", [Requirement("app", "=", ("web",))]),
        ("app != web", [Requirement("app", "!=", ("web",))]),
        ("app=", [Requirement("app", "=", ("",))]),
        ("app in (a, b)", [Requirement("app", "in", ("a", "b"))]),
        ("app notin (a,b)", [Requirement("app", "notin", ("a", "b"))]),
        ("app", [Requirement("app", "exists")]),
        ("! app", [Requirement("app", "!")]),
        ("example.com/app", [Requirement("example.com/app", "exists")]),
        (
            "app in (a,b), tier=front,!canary",
            [
                Requirement("app", "in", ("a", "b")),
                Requirement("tier", "=", ("front",)),
                Requirement("canary", "!"),
            ],
        ),
        ("", []),
        ("  ", []),
    ],
)
def test_every_form_parses(text: str, requirements: list[Requirement]) -> None:
    assert label_selector(text) == LabelSelector(tuple(requirements))


@pytest.mark.parametrize(
    ("text", "selected"),
    [
        ("app=web", True),
        ("app==api", False),
        ("app!=api", True),
        ("missing!=x", True),  # as in Kubernetes: != holds without the label
        ("app in (api,web)", True),
        ("app notin (api,web)", False),
        ("missing notin (a)", True),
        ("canary", True),
        ("!canary", False),
        ("!missing", True),
        ("canary=", True),
        ("app=web,tier=back", False),
        ("app=web,app=api", False),
        ("", True),
    ],
)
def test_matching(text: str, selected: bool) -> None:
    assert label_selector(text).matches(LABELS) is selected


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("app in (a", "unbalanced parentheses"),
        ("app in a)", "unbalanced parentheses"),
        ("app in ((a))", "unbalanced parentheses"),
        ("app in ()", "at least one value"),
        ("app=web,,tier=x", "empty term"),
        ("app=web,", "empty term"),
        ("=web", "cannot parse"),
        ("a b", "cannot parse"),
        ("app>3", "cannot parse"),
        ("app=(web)", "cannot parse"),
        ("app=we b", "cannot parse"),
        ("-app=web", "key '-app' is invalid"),
        ("app=-web", "value '-web' is invalid"),
        ("app in (a,-b)", "value '-b' is invalid"),
    ],
)
def test_bad_syntax_is_a_value_error_naming_the_argument(text: str, message: str) -> None:
    with pytest.raises(ValueError, match=message) as raised:
        label_selector(text, "labels")
    assert str(raised.value).startswith("labels")


def test_a_mapping_is_its_equality_terms_checked_as_labels() -> None:
    assert label_selector({"app": "web"}) == LabelSelector((Requirement("app", "=", ("web",)),))
    assert label_selector(None) == LabelSelector()
    with pytest.raises(ValueError, match=r"labels\['app'\] value"):
        label_selector({"app": "bad value"})
    with pytest.raises(TypeError, match="labels must be a mapping or a selector string"):
        label_selector(["app=web"])


def test_only_exact_values_go_to_the_runtime() -> None:
    selector = label_selector("app=web,app=api,tier!=x,env in (a),!canary,region")
    assert selector.server_side() == {"app": "web"}
    request = container_filter(all=True, id=None, state=None, selector=selector, pod_id=None)
    assert dict(request.label_selector) == {"app": "web"}
    assert dict(pod_filter(id=None, state=None, selector=selector).label_selector) == {"app": "web"}


@pytest.mark.parametrize("given", ["exited", "EXITED", "Exited", ContainerState.EXITED])
def test_state_in_any_spelling(given: object) -> None:
    assert parse_state(ContainerState, given) is ContainerState.EXITED


def test_pod_state_in_any_spelling_and_bad_names() -> None:
    assert parse_state(PodState, "NotReady") is PodState.NOT_READY
    with pytest.raises(ValueError, match="state must be one of created, running, exited"):
        parse_state(ContainerState, "stopped")
    with pytest.raises(ValueError, match="state must be one of"):
        parse_state(ContainerState, 3)
