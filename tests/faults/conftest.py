"""Fixtures of the fault-injection suite (marker `faults`; PostgreSQL run only, see tests/pgcluster.py)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from tests.faults.harness import Harness, Sink
from zonewarden import clock


@pytest.fixture
def harness(
    request: pytest.FixtureRequest,
    tmp_path: Path,
    record_property: Callable[[str, object], None],
    transactional_db: None,
    defaults: None,
) -> Iterator[Harness]:
    """The test's processes, killed at its end, before pytest-django empties the database."""
    (tmp_path / "var").mkdir()
    kit = Harness(tmp_path, request.node.name, record_property)
    try:
        yield kit
    finally:
        kit.cleanup()


@pytest.fixture
def sink(harness: Harness) -> Sink:
    """An SMTP sink process (not started yet: the test decides when it runs)."""
    return Sink(harness)


@pytest.fixture
def at() -> dt.datetime:
    """When the test's work was decided: a minute ago, so every worker finds it due."""
    return clock.now() - dt.timedelta(minutes=1)
