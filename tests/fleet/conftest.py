"""Fixtures over tests/fleet/harness.py: one fleet of three containerd nodes per session,
every test once per tested ansible-core (newest, oldest), on a clean fleet or on one
where tests/fleet/playbooks/lifecycle.yml ran (once per ansible-core: the tests that
use it put back what they change, and come after those that clean the fleet)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.fleet.harness import PLAYBOOKS, Ansible, Fleet, ansible_venvs, running_fleet


@pytest.fixture(scope="session")
def fleet() -> Iterator[Fleet]:
    with running_fleet() as started:
        yield started


@pytest.fixture(scope="module", params=ansible_venvs(), ids=lambda venv: venv.name)
def ansible(request: pytest.FixtureRequest, fleet: Fleet) -> Ansible:
    return Ansible(request.param, fleet)


@pytest.fixture
def clean_fleet(fleet: Fleet) -> Fleet:
    """The fleet with nothing on it but the sandbox image."""
    fleet.reset()
    return fleet


@pytest.fixture(scope="module")
def deployed_fleet(ansible: Ansible, fleet: Fleet) -> Fleet:
    """The fleet after lifecycle.yml: on every node the pod fleet/web with a running
    container httpd and a created one, sidecar."""
    fleet.reset()
    run = ansible.playbook(PLAYBOOKS / "lifecycle.yml")
    assert run.returncode == 0, run.output
    return fleet
