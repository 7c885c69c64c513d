"""A limit on failed log-ins: after ZONEWARDEN_LOGIN_FAILURES failures from one address, or for one
user name, within ZONEWARDEN_LOGIN_WINDOW_SECONDS, further log-in attempts get 429 until the window
has passed. Counted in Django's cache (per process with the default local-memory cache; set a
shared cache for several processes)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.conf import settings
from django.contrib.auth.signals import user_login_failed
from django.core.cache import cache
from django.dispatch import receiver
from django.http import HttpRequest, HttpResponse

LOGIN_PATHS = ("/login/", "/admin/login/")


def _keys(request: HttpRequest | None, username: str) -> list[str]:
    keys = [f"zw-login-user:{username.strip().lower()[:150]}"] if username else []
    if request is not None:
        keys.append(f"zw-login-ip:{request.META.get('REMOTE_ADDR', '')}")
    return keys


@receiver(user_login_failed)
def count_failure(
    sender: Any, credentials: dict[str, Any], request: HttpRequest | None = None, **kwargs: Any
) -> None:
    for key in _keys(request, str(credentials.get("username", ""))):
        cache.add(key, 0, settings.ZONEWARDEN_LOGIN_WINDOW_SECONDS)
        try:
            cache.incr(key)
        except ValueError:
            cache.set(key, 1, settings.ZONEWARDEN_LOGIN_WINDOW_SECONDS)


class LoginLimitMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if request.method == "POST" and request.path in LOGIN_PATHS:
            limit = settings.ZONEWARDEN_LOGIN_FAILURES
            if any(
                (cache.get(key) or 0) >= limit for key in _keys(request, request.POST.get("username", ""))
            ):
                return HttpResponse(
                    "Too many failed log-ins: wait a quarter of an hour and try again.",
                    status=429,
                    content_type="text/plain; charset=utf-8",
                )
        return self.get_response(request)
