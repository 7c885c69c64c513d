"""Suspensions and restorations on their way to the DNS (see the module docs of publish.service)."""

from __future__ import annotations
