"""Fixtures of the authorization suite: one two-tenant world per backend, restored after any
test that changed it."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.accounts.authz_world import Env, new_database_url


@pytest.fixture(scope="session")
def _authz_world(
    database_template: tuple[str, str], tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Env]:
    backend, _ = database_template
    env = Env(new_database_url(backend, tmp_path_factory.mktemp(f"authz-{backend}")))
    yield env
    env.close()


@pytest.fixture
def authz(_authz_world: Env) -> Iterator[Env]:
    """The world as it was built; whatever a test changes is undone after it."""
    yield _authz_world
    if _authz_world.fingerprint() != _authz_world.baseline:
        _authz_world.restore()
