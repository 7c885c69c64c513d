"""The `zonewarden` command: Django's manage.py for this project."""

from __future__ import annotations

import os
import sys


def main() -> None:
    """Run a management command with zonewarden's settings."""
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "zonewarden.settings")
    import django
    from django.core.management import execute_from_command_line
    from django.utils import translation

    django.setup()
    # Commands speak English (their messages are written so) unless told otherwise; the web pages
    # follow each visitor's language, and notices and letters their own settings.
    translation.activate(os.environ.get("ZONEWARDEN_CLI_LANGUAGE", "en"))
    execute_from_command_line(sys.argv)


if __name__ == "__main__":
    main()
