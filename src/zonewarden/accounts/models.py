"""Failed log-ins, counted in the database so every web server process (and every machine sharing
a PostgreSQL) sees the same count: the limit holds however many processes serve the pages."""

from __future__ import annotations

from django.db import models


class LoginFailure(models.Model):
    key = models.CharField(max_length=200, help_text="user:NAME or ip:ADDRESS")
    at = models.DateTimeField()

    class Meta:
        indexes = [models.Index(fields=["key", "at"], name="login_failure_key_at")]

    def __str__(self) -> str:
        return f"{self.key} {self.at.isoformat()}"
