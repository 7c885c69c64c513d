"""Django's own `check` command, which `zonewarden check` (the re-checks) hands over to."""

from django.core.management.commands.check import Command as DjangoCheck


class Command(DjangoCheck):
    help = "Django's system checks (what `manage.py check` does); `zonewarden check --deploy` runs it."
