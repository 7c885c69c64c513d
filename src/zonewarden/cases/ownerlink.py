"""The domain owner's link to their case: signed, expiring, good for that one case only.

Owners have no account. A notice carries `owner_url(case)`; whoever holds the link may see what
was found on the case and report the fix. The token is signed with the secret key and a salt of
its own, carries the case id and the moment it was made (by `zonewarden.clock`, so a replayed
process ages its links with the replay), and is refused after ZONEWARDEN_OWNER_LINK_DAYS or when
presented for another case.
"""

from __future__ import annotations

import datetime as dt

from django.conf import settings
from django.core import signing
from django.urls import reverse

from zonewarden import clock
from zonewarden.cases.models import Case

SALT = "zonewarden.owner-link"


class BadOwnerLink(Exception):
    """The link is forged, damaged or too old; `reason` says which, for the page to show."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def max_age() -> dt.timedelta:
    return dt.timedelta(days=settings.ZONEWARDEN_OWNER_LINK_DAYS)


def owner_token(case: Case) -> str:
    made = int(clock.now().timestamp())
    return signing.dumps({"case": case.pk, "made": made}, salt=SALT, compress=True)


def owner_url(case: Case) -> str:
    """The absolute link for the owner's page of `case`."""
    return settings.ZONEWARDEN_BASE_URL + reverse("owner-case", args=[owner_token(case)])


def case_for_token(token: str) -> Case:
    """Return the case a link is for, or raise BadOwnerLink."""
    try:
        data = signing.loads(token, salt=SALT)
    except signing.BadSignature:
        raise BadOwnerLink("this link is not valid") from None
    case_id = data.get("case") if isinstance(data, dict) else None
    made = data.get("made") if isinstance(data, dict) else None
    if not isinstance(case_id, int) or not isinstance(made, int):
        raise BadOwnerLink("this link is not valid")
    if clock.now().timestamp() - made > max_age().total_seconds():
        raise BadOwnerLink("this link has expired; write to the CERT for a new one")
    case = Case.objects.select_related("domain").filter(pk=case_id).first()
    if case is None:
        raise BadOwnerLink("this link is not valid")
    return case
