"""The `zonewarden` command: Django's manage.py for this project."""

from __future__ import annotations

import os
import sys


def main() -> None:
    """Run a management command with zonewarden's settings."""
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "zonewarden.settings")
    from django.core.management import execute_from_command_line

    execute_from_command_line(sys.argv)


if __name__ == "__main__":  # python -m zonewarden
    main()
