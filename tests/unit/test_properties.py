"""Property tests: every builder and validator either raises ValueError naming the
bad field, or returns a request that serializes. Nothing else, for any input."""

from __future__ import annotations

import math
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from cri_client._core.validation import check_command, check_image_reference, check_seconds
from cri_client._proto import api_pb2 as pb
from cri_client.configs import container_config, pod_sandbox_config

LABEL_ALPHABET = st.characters(codec="utf-8", exclude_categories=("Cs",))
label_keys = st.one_of(
    st.from_regex(r"\A([a-z0-9]{1,8}\.)?[a-z]{1,5}/[A-Za-z0-9][-A-Za-z0-9_.]{0,20}[A-Za-z0-9]\Z"),
    st.from_regex(r"\A[A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?\Z"),
    st.text(LABEL_ALPHABET, max_size=70),
)
label_values = st.one_of(
    st.from_regex(r"\A([A-Za-z0-9]([-A-Za-z0-9_.]{0,30}[A-Za-z0-9])?)?\Z"), st.text(max_size=70)
)
names = st.one_of(st.from_regex(r"\A[a-z][a-z0-9-]{0,20}\Z"), st.text(max_size=260))
references = st.one_of(
    st.from_regex(
        r"\A([a-z0-9.]{1,12}(:[0-9]{1,5})?/)?[a-z0-9]{1,10}(/[a-z0-9_.-]{1,10})?(:[\w.-]{1,10})?\Z"
    ),
    st.text(max_size=80),
)
commands = st.one_of(
    st.none(),
    st.text(max_size=10),
    st.lists(st.text(max_size=12), max_size=4),
    st.lists(st.one_of(st.text(max_size=5), st.integers()), max_size=3),
)
seconds = st.one_of(
    st.floats(allow_nan=True, allow_infinity=True),
    st.integers(-5, 10**6),
    st.text(max_size=3),
    st.booleans(),
)
mounts = st.lists(
    st.one_of(
        st.tuples(st.text(max_size=12), st.text(max_size=12)),
        st.tuples(st.text(max_size=12), st.text(max_size=12), st.booleans()),
        st.fixed_dictionaries(
            {"host_path": st.text(max_size=8), "container_path": st.text(max_size=8)}
        ),
    ),
    max_size=3,
)
FIELDS = (
    "name",
    "namespace",
    "uid",
    "labels",
    "annotations",
    "hostname",
    "log_directory",
    "attempt",
    "image",
    "command",
    "args",
    "env",
    "mount",
    "working_dir",
    "run_as_user",
    "timeout",
    "cmd",
)


def assert_names_a_field(error: ValueError) -> None:
    assert any(field in str(error) for field in FIELDS), str(error)


@settings(max_examples=300, deadline=None)
@given(
    name=names,
    namespace=names,
    labels=st.dictionaries(label_keys, label_values, max_size=4),
    annotations=st.dictionaries(label_keys, st.text(max_size=40), max_size=3),
    host_network=st.booleans(),
    hostname=st.one_of(st.none(), names),
    attempt=st.integers(-3, 5),
)
def test_pod_sandbox_config_validates_or_builds(**kwargs: Any) -> None:
    try:
        config = pod_sandbox_config(**kwargs)
    except ValueError as error:
        assert_names_a_field(error)
        return
    again = pb.PodSandboxConfig.FromString(config.SerializeToString())
    assert again.metadata.name == kwargs["name"]
    assert dict(again.labels) == kwargs["labels"]
    assert again.linux.security_context.namespace_options.pid == pb.CONTAINER
    assert (again.hostname == "") == (kwargs["host_network"] or again.hostname == "")


@settings(max_examples=300, deadline=None)
@given(
    name=names,
    image=references,
    command=commands,
    args=commands,
    env=st.dictionaries(st.text(max_size=8), st.text(max_size=8), max_size=3),
    mounts=mounts,
    working_dir=st.text(max_size=10),
    run_as_user=st.one_of(st.none(), st.integers(-2, 70000)),
)
def test_container_config_validates_or_builds(**kwargs: Any) -> None:
    try:
        config = container_config(**kwargs)
    except ValueError as error:
        assert_names_a_field(error)
        return
    again = pb.ContainerConfig.FromString(config.SerializeToString())
    assert again.image.image == kwargs["image"]
    assert list(again.command) == list(kwargs["command"] or [])
    assert all(m.host_path.startswith("/") for m in again.mounts)


@settings(max_examples=500, deadline=None)
@given(references)
def test_image_references(reference: str) -> None:
    try:
        assert check_image_reference(reference) == reference
    except ValueError as error:
        assert "image" in str(error)
        return
    assert reference and " " not in reference and reference == reference.strip()


@settings(max_examples=300, deadline=None)
@given(commands)
def test_commands(command: Any) -> None:
    try:
        checked = check_command(command, "cmd", allow_empty=False)
    except ValueError as error:
        assert "cmd" in str(error)
        return
    assert checked and all(isinstance(part, str) for part in checked) and checked[0]


@settings(max_examples=300, deadline=None)
@given(seconds)
def test_seconds(value: Any) -> None:
    try:
        checked = check_seconds(value, "timeout")
    except ValueError as error:
        assert "timeout" in str(error)
        return
    assert math.isfinite(checked) and checked >= 0
