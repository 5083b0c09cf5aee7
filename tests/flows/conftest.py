"""One Prefect test harness for the whole session (per xdist worker), for the modules that run flows in-process.

A module asks for it with ``pytestmark = pytest.mark.usefixtures("prefect_harness")``. Those modules share the
xdist group ``prefect``, so that under ``-n`` one worker starts the harness's server, not each worker.
"""
from __future__ import annotations

from collections.abc import Iterator

import pytest
from prefect.testing.utilities import prefect_test_harness


@pytest.fixture(scope="session")
def prefect_harness() -> Iterator[None]:
    with prefect_test_harness(server_startup_timeout=120):
        yield
