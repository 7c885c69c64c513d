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
        outcome = getattr(request.node, "faults_call", None)
        if outcome is not None and outcome.failed:
            kit.report_failure()


@pytest.hookimpl(wrapper=True, tryfirst=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Iterator[pytest.TestReport]:
    """Keep the call's outcome on the item, so the harness knows at teardown that the test failed."""
    report = yield
    if report.when == "call":
        item.faults_call = report  # type: ignore[attr-defined]
    return report


@pytest.fixture
def sink(harness: Harness) -> Sink:
    """An SMTP sink process (not started yet: the test decides when it runs)."""
    return Sink(harness)


@pytest.fixture
def at() -> dt.datetime:
    """When the test's work was decided: a minute ago, so every worker finds it due."""
    return clock.now() - dt.timedelta(minutes=1)
