"""A limit on failed log-ins: after ZONEWARDEN_LOGIN_FAILURES failures from one address, or for one
user name, within ZONEWARDEN_LOGIN_WINDOW_SECONDS, further log-in attempts get 429 until the window
has passed. Failures are rows in the database (zonewarden.accounts), so the count is the same in
every web server process and on every machine sharing the database."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

from django.conf import settings
from django.contrib.auth.signals import user_login_failed
from django.dispatch import receiver
from django.http import HttpRequest, HttpResponse

from zonewarden import clock

LOGIN_PATHS = ("/login/", "/admin/login/")


def _keys(request: HttpRequest | None, username: str) -> list[str]:
    keys = [f"user:{username.strip().lower()[:150]}"] if username.strip() else []
    if request is not None:
        keys.append(f"ip:{request.META.get('REMOTE_ADDR', '')[:45]}")
    return keys


def _window_start() -> dt.datetime:
    return clock.now() - dt.timedelta(seconds=settings.ZONEWARDEN_LOGIN_WINDOW_SECONDS)


@receiver(user_login_failed)
def count_failure(
    sender: Any, credentials: dict[str, Any], request: HttpRequest | None = None, **kwargs: Any
) -> None:
    from zonewarden.accounts.models import LoginFailure

    keys = _keys(request, str(credentials.get("username", "")))
    now = clock.now()
    # Forget what has left the window, then count this one: one row per failure and key.
    LoginFailure.objects.filter(key__in=keys, at__lt=_window_start()).delete()
    LoginFailure.objects.bulk_create(LoginFailure(key=key, at=now) for key in keys)


def blocked(request: HttpRequest, username: str) -> bool:
    from zonewarden.accounts.models import LoginFailure

    limit = settings.ZONEWARDEN_LOGIN_FAILURES
    since = _window_start()
    return any(
        LoginFailure.objects.filter(key=key, at__gte=since)[:limit].count() >= limit
        for key in _keys(request, username)
    )


class LoginLimitMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if request.method == "POST" and request.path in LOGIN_PATHS:
            if blocked(request, request.POST.get("username", "")):
                return HttpResponse(
                    "Too many failed log-ins: wait a quarter of an hour and try again.",
                    status=429,
                    content_type="text/plain; charset=utf-8",
                )
        return self.get_response(request)
