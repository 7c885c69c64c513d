from __future__ import annotations

from django.apps import AppConfig


class DomainsConfig(AppConfig):
    name = "zonewarden.domains"
    verbose_name = "Domains, registrars and contacts"
