"""The audit chain: every case event carries the hash of the one before, so edits are detectable."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from zonewarden.bulkinsert import insert_rows
from zonewarden.cases.models import AuditHead, CaseEvent

GENESIS_HASH = "0" * 64


def _canonical_time(at: dt.datetime) -> str:
    return at.astimezone(dt.UTC).isoformat(timespec="microseconds")


def event_hash(
    *,
    seq: int,
    case_id: int,
    actor: str,
    action: str,
    grounds: str,
    at: dt.datetime,
    state_before: str,
    state_after: str,
    detail: Any,
    prev_hash: str,
) -> str:
    """Return the SHA-256 of an event's content and the hash before it."""
    return _digest(
        [
            seq,
            case_id,
            actor,
            action,
            grounds,
            _canonical_time(at),
            state_before,
            state_after,
            detail,
            prev_hash,
        ]
    )


def _digest(content: list[Any]) -> str:
    payload = json.dumps(content, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(payload.encode("utf-8")).hexdigest()


def stored_event_hash(event: CaseEvent) -> str:
    """Return the hash an event's stored content should have."""
    return event_hash(
        seq=event.seq,
        case_id=event.case_id,
        actor=event.actor,
        action=event.action,
        grounds=event.grounds,
        at=event.at,
        state_before=event.state_before,
        state_after=event.state_after,
        detail=event.detail,
        prev_hash=event.prev_hash,
    )


def lock_head() -> AuditHead:
    """Return the chain's head, locked until the caller's transaction ends."""
    head = AuditHead.objects.select_for_update().filter(pk=1).first()
    if head is None:
        AuditHead.objects.get_or_create(pk=1, defaults={"seq": 0, "hash": GENESIS_HASH})
        head = AuditHead.objects.select_for_update().get(pk=1)
    return head


_EVENT_COLUMNS = (
    "seq",
    "case_id",
    "actor",
    "action",
    "grounds",
    "at",
    "state_before",
    "state_after",
    "detail",
    "prev_hash",
    "hash",
)


def append_events(head: AuditHead, drafts: Iterable[dict[str, Any]]) -> int:
    """Chain and store events after `head` (locked by the caller), moving the head on.

    Returns how many were stored; they are ``head.seq - count + 1`` … ``head.seq`` afterwards.
    """
    rows = []
    seq, prev = head.seq, head.hash
    times: dict[dt.datetime, str] = {}  # a batch's events mostly share one time
    for draft in drafts:
        seq += 1
        at = draft["at"]
        stamp = times.get(at) or times.setdefault(at, _canonical_time(at))
        case_id, actor, action, grounds = draft["case_id"], draft["actor"], draft["action"], draft["grounds"]
        before, after, detail = draft["state_before"], draft["state_after"], draft["detail"]
        digest = _digest([seq, case_id, actor, action, grounds, stamp, before, after, detail, prev])
        # In the order of _EVENT_COLUMNS.
        rows.append((seq, case_id, actor, action, grounds, at, before, after, detail, prev, digest))
        prev = digest
    if not rows:
        return 0
    insert_rows(CaseEvent, _EVENT_COLUMNS, rows)
    AuditHead.objects.filter(pk=head.pk).update(seq=seq, hash=prev)
    head.seq, head.hash = seq, prev
    return len(rows)


@dataclass(frozen=True)
class ChainReport:
    """What `verify_chain` found: the number of events checked and the first break, if any."""

    checked: int
    broken_seq: int | None = None
    problem: str = ""

    @property
    def ok(self) -> bool:
        return self.broken_seq is None and not self.problem


def verify_chain(batch_size: int = 5000) -> ChainReport:
    """Recompute the chain from the first event and name the first event that does not fit."""
    expected_prev = GENESIS_HASH
    expected_seq = 0
    checked = 0
    last_seq = 0
    while True:
        batch = list(CaseEvent.objects.filter(seq__gt=last_seq).order_by("seq")[:batch_size])
        if not batch:
            break
        for event in batch:
            expected_seq += 1
            if event.seq != expected_seq:
                return ChainReport(
                    checked,
                    expected_seq,
                    f"event #{expected_seq} is missing (the next stored one is #{event.seq}): deleted",
                )
            if event.prev_hash != expected_prev:
                return ChainReport(
                    checked,
                    event.seq,
                    f"event #{event.seq} does not follow the hash of event #{event.seq - 1}",
                )
            if stored_event_hash(event) != event.hash:
                return ChainReport(
                    checked,
                    event.seq,
                    f"event #{event.seq} ({event.action} on case {event.case_id}) was changed after it was written",
                )
            expected_prev = event.hash
            checked += 1
        last_seq = batch[-1].seq
    head = AuditHead.objects.filter(pk=1).first()
    head_seq, head_hash = (head.seq, head.hash) if head else (0, GENESIS_HASH)
    if head_seq != expected_seq or head_hash != expected_prev:
        return ChainReport(
            checked,
            expected_seq + 1 if head_seq > expected_seq else None,
            f"the chain ends at event #{expected_seq} but its head records #{head_seq}: events were deleted",
        )
    return ChainReport(checked)
