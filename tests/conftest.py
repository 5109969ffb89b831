"""Session-wide test settings."""

from __future__ import annotations

import os
import sys
from typing import Iterator

import pytest

_exit_status = 0


def pytest_sessionfinish(session, exitstatus) -> None:  # noqa: ANN001 - pytest hook
    global _exit_status
    _exit_status = int(exitstatus)


def pytest_unconfigure(config) -> None:  # noqa: ANN001 - pytest hook
    # torch probes for triton while SAM2 runs; triton's nanobind extension then prints hundreds of
    # "leaked" lines at interpreter shutdown, after pytest's summary, so the summary is no longer the
    # run's closing line. Once pytest has reported everything, end the process with its own status.
    if "triton._C" in sys.modules:
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(_exit_status)


@pytest.fixture
def test_model_registered() -> Iterator[str]:
    """The hash embedder (tests/eval_fixtures.py) registered as its TEST_MODEL for one test, then removed,
    so other tests see the registry as shipped. Use with `pytestmark = pytest.mark.usefixtures(...)`."""
    from evaluators.models import registry
    from tests.eval_fixtures import TEST_MODEL, register_test_model

    register_test_model()
    yield TEST_MODEL
    registry.unregister(TEST_MODEL, family="test")
