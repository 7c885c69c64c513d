"""The Knot fixture for the publishing tests."""

from tests.knot import knot

__all__ = ["knot"]
