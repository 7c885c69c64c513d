"""The demo: a replay of the process through the workflow leaves cases in every state and an intact chain."""

from __future__ import annotations

from io import StringIO

import pytest
from django.core.management import call_command

from tests.conftest import almaty
from zonewarden.cases.audit import verify_chain
from zonewarden.cases.demo import run_demo
from zonewarden.cases.models import State

pytestmark = pytest.mark.django_db


def test_the_demo_replay_reaches_every_state(defaults: None) -> None:
    states = run_demo(seed=7, domains=120, days=150, now=almaty(2026, 11, 20, 12), progress=lambda _: None)
    assert set(states) == set(State.values), f"missing: {set(State.values) - set(states)}"
    assert verify_chain().ok


def test_the_demo_command_loads_once(defaults: None) -> None:
    first, second = StringIO(), StringIO()
    call_command("demo", "--domains", "30", "--days", "40", stdout=first)
    call_command("demo", stdout=second)
    assert "demo loaded" in first.getvalue()
    assert "loaded already" in second.getvalue()
