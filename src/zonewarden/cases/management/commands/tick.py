"""`zonewarden tick [--at TIME]`: move every due case on, once."""

from __future__ import annotations

from typing import Any

from zonewarden import clock
from zonewarden.cases.tick import tick


class Command(clock.ReplayableCommand):
    help = "Move every due case on: reminders due, escalation due, late registry and registrar deadlines."

    def handle(self, *args: Any, **options: Any) -> None:
        self.stdout.write(str(tick(clock.now())))
