"""/healthz for load balancers and service managers, /metrics for Prometheus.

/healthz needs no login and says one word: `ok` (200) when the database answers and a worker beat
within two tick periods, `unavailable` (503) otherwise. It reads no session and no user, so no
middleware touches the database before it does, and a database that does not answer is a 503,
not an error page. /metrics is for staff (their session) or whoever holds
ZONEWARDEN_METRICS_TOKEN (`Authorization: Bearer …`).
"""

from __future__ import annotations

import hmac
import logging

from django.conf import settings
from django.db import DatabaseError
from django.http import HttpRequest, HttpResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_safe
from prometheus_client import CONTENT_TYPE_LATEST

from zonewarden import clock
from zonewarden.jobs import heartbeat
from zonewarden.metrics import exposition

log = logging.getLogger("zonewarden.health")
PLAIN = "text/plain; charset=utf-8"


def _unavailable() -> HttpResponse:
    return HttpResponse("unavailable\n", status=503, content_type=PLAIN)


@never_cache
@require_safe
def healthz(request: HttpRequest) -> HttpResponse:
    """Answer 200 `ok` while the database answers and a worker is alive, else 503 `unavailable`."""
    try:
        alive = heartbeat.any_alive(clock.now())  # the query is also the proof the database answers
    except DatabaseError as exc:
        log.warning("health check: the database does not answer: %s", str(exc).strip() or type(exc).__name__)
        return _unavailable()
    if not alive:
        return _unavailable()
    return HttpResponse("ok\n", content_type=PLAIN)


def _token_matches(presented: str) -> bool:
    expected: str = settings.ZONEWARDEN_METRICS_TOKEN
    # compare_digest takes as long for a near miss as for a wild guess.
    return bool(expected) and hmac.compare_digest(
        presented.encode("utf-8", "surrogateescape"), expected.encode("utf-8", "surrogateescape")
    )


def _challenge(error: str = "") -> HttpResponse:
    response = HttpResponse("authentication required\n", status=401, content_type=PLAIN)
    response["WWW-Authenticate"] = 'Bearer realm="zonewarden metrics"' + (
        f', error="{error}"' if error else ""
    )
    return response


@never_cache
@require_safe
def metrics(request: HttpRequest) -> HttpResponse:
    """Serve the metrics to staff or to the bearer of the metrics token; 401/403 to anyone else."""
    authorization = request.headers.get("Authorization", "")
    if authorization:
        scheme, _, token = authorization.partition(" ")
        if scheme.lower() != "bearer" or not _token_matches(token.strip()):
            return _challenge("invalid_token")
    else:
        try:
            user = request.user  # the session lives in the database
            staff = user.is_authenticated and user.is_staff
            logged_in = user.is_authenticated
        except DatabaseError:
            return _unavailable()
        if not staff:
            if logged_in:
                return HttpResponse("staff only\n", status=403, content_type=PLAIN)
            return _challenge()
    try:
        body = exposition(clock.now())
    except DatabaseError as exc:
        log.warning("metrics: the database does not answer: %s", str(exc).strip() or type(exc).__name__)
        return _unavailable()
    return HttpResponse(body, content_type=CONTENT_TYPE_LATEST)
