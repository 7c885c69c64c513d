"""Registered names, their registrars and their contacts, as the registry knows them."""

from __future__ import annotations

from django.db import models


class Registrar(models.Model):
    """An accredited registrar of the zone."""

    code = models.SlugField(max_length=64, unique=True, help_text="The registry's handle of the registrar")
    name = models.CharField(max_length=200)
    email = models.EmailField(blank=True, help_text="Where suspension notices to the registrar go")
    phone = models.CharField(max_length=64, blank=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class Contact(models.Model):
    """A registrant or administrative contact of a name, with what the registry holds about it."""

    handle = models.CharField(max_length=64, unique=True, help_text="The registry's contact handle")
    name = models.CharField(max_length=200, blank=True)
    organization = models.CharField(max_length=200, blank=True)
    email = models.CharField(max_length=254, blank=True, help_text="As registered: may be malformed")
    phone = models.CharField(max_length=64, blank=True)
    street = models.CharField(max_length=200, blank=True)
    city = models.CharField(max_length=100, blank=True)
    postal_code = models.CharField(max_length=20, blank=True)
    country = models.CharField(max_length=2, blank=True)
    unreliable = models.BooleanField(default=False, help_text="The contact data was found unreliable")

    class Meta:
        ordering = ["handle"]

    def __str__(self) -> str:
        return self.name or self.organization or self.handle


class Domain(models.Model):
    """A registered name of the zone, keyed by its A-label."""

    name = models.CharField(
        max_length=253, primary_key=True, help_text="A-label, lower case, no trailing dot"
    )
    unicode_name = models.CharField(max_length=253, blank=True)
    registrar = models.ForeignKey(
        Registrar, null=True, blank=True, on_delete=models.PROTECT, related_name="domains"
    )
    registrant = models.ForeignKey(
        Contact, null=True, blank=True, on_delete=models.PROTECT, related_name="registered_domains"
    )
    admin_contact = models.ForeignKey(
        Contact, null=True, blank=True, on_delete=models.PROTECT, related_name="administered_domains"
    )
    nameservers = models.JSONField(default=list, blank=True, help_text='[{"name": …, "addresses": […]}]')
    statuses = models.JSONField(default=list, blank=True, help_text="EPP status values, e.g. serverHold")
    created = models.DateTimeField(null=True, blank=True)
    registered = models.BooleanField(default=True, help_text="False when the registry does not know the name")
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.unicode_name or self.name

    @property
    def notice_email(self) -> str:
        """Return where notices to the owner go: the administrative contact's e-mail."""
        contact = self.admin_contact or self.registrant
        return contact.email if contact else ""


class WhoisAnswer(models.Model):
    """One answer of a WHOIS server, kept with its fetch time: a cache and evidence at once."""

    domain = models.CharField(max_length=253, db_index=True, help_text="The A-label asked about")
    server = models.CharField(max_length=300, help_text="host:port")
    fetched_at = models.DateTimeField()
    found = models.BooleanField()
    raw = models.TextField()
    parsed = models.JSONField(default=dict, help_text="The answer as `zonewarden whois --json` prints it")

    class Meta:
        ordering = ["-fetched_at", "-pk"]

    def __str__(self) -> str:
        return f"{self.domain} from {self.server} at {self.fetched_at:%Y-%m-%d %H:%M}"
