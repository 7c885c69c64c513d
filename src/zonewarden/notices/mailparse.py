"""Classify the mail that comes back after the CERT sends notices: bounces, auto-replies, replies.

Everything here reads hostile input: `classify_message` never raises, whatever bytes it is given.
A message is parsed with `email.policy.default` first and, when that policy raises on a broken
header, again with `compat32`; the readers below work on either kind of message object.
Nothing here renders anything: the text it returns is escaped wherever it is shown.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import html
import os
import re
from collections.abc import Iterator
from email import policy as email_policy
from email.errors import HeaderParseError
from email.header import Header, decode_header
from email.message import Message
from email.parser import BytesParser, HeaderParser
from email.utils import getaddresses, parsedate_to_datetime
from pathlib import Path
from typing import Literal

MessageKind = Literal["hard_bounce", "soft_bounce", "auto_reply", "reply", "unknown"]

TEXT_LIMIT = 20_000
SUBJECT_LIMIT = 500
DIAGNOSTIC_LIMIT = 500
ID_LIMIT = 100  # Message-IDs kept per list: a References header can be made arbitrarily long
ID_LENGTH_LIMIT = 500
ADDRESS_LIMIT = 320
PART_LIMIT = 500  # MIME parts looked at: a hostile message can hold thousands
HTML_LIMIT = 500_000  # characters of HTML converted: enough for any real reply, bounded work
MAILDIR_READ_LIMIT = 64 << 20  # bytes read of one Maildir file: mail servers refuse larger messages

_ENCODING_ERRORS = (LookupError, UnicodeError, ValueError, TypeError)


@dataclasses.dataclass(frozen=True)
class InboundMessage:
    """What one incoming message is, and what ties it to a notice we sent."""

    kind: MessageKind
    reason: str = ""
    message_id: str | None = None
    in_reply_to: list[str] = dataclasses.field(default_factory=list)
    references: list[str] = dataclasses.field(default_factory=list)
    original_message_id: str | None = None
    failed_recipients: list[str] = dataclasses.field(default_factory=list)
    status: str | None = None
    diagnostic: str | None = None
    from_address: str | None = None
    subject: str = ""
    text: str = ""
    received_at: dt.datetime | None = None

    @property
    def is_bounce(self) -> bool:
        """Tell whether the message reports that a notice could not be delivered."""
        return self.kind in ("hard_bounce", "soft_bounce")


def classify_message(raw: bytes) -> InboundMessage:
    """Classify raw message bytes; never raise."""
    try:
        data = bytes(raw)
    except (TypeError, ValueError):
        return InboundMessage(kind="unknown", reason="not bytes")
    if not data.strip():
        return InboundMessage(kind="unknown", reason="empty message")
    try:
        return _classify(data, email_policy.default)
    except Exception:  # the modern policy raises on some broken headers: retry leniently
        try:
            return _classify(data, email_policy.compat32)
        except Exception as error:  # last resort: hostile input must not stop the mailbox
            return InboundMessage(
                kind="unknown", reason=f"could not parse the message ({type(error).__name__})"
            )


# --- Maildir -------------------------------------------------------------------------------------


def iter_maildir_new(path: Path | str) -> Iterator[tuple[Path, bytes]]:
    """Yield (file, bytes) for each message in the Maildir's new/ folder, oldest name first."""
    new = Path(path) / "new"
    if not new.is_dir():
        return
    for entry in sorted(new.iterdir(), key=lambda item: item.name):
        if entry.name.startswith(".") or not entry.is_file():
            continue
        try:
            with entry.open("rb") as file:
                data = file.read(MAILDIR_READ_LIMIT)  # a huge file costs no more than this
        except FileNotFoundError:
            continue  # another reader took it meanwhile
        yield entry, data


def mark_seen(path: Path | str) -> Path:
    """Move a message file from new/ to cur/ with the seen flag and return its new path."""
    source = Path(path)
    maildir = source.parent.parent
    cur = maildir / "cur"
    cur.mkdir(exist_ok=True)
    name = source.name
    if ":2," in name:
        base, flags = name.split(":2,", 1)
        name = f"{base}:2,{''.join(sorted(set(flags) | {'S'}))}"
    else:
        name = f"{name}:2,S"
    target = cur / name
    # os.rename is atomic within one file system, as Maildir requires; it never crosses to another.
    os.rename(source, target)
    return target


# --- The classification --------------------------------------------------------------------------

_DAEMON_LOCAL_PARTS = frozenset(
    {"mailer-daemon", "mailer_daemon", "mailerdaemon", "mail-daemon", "postmaster", "mdaemon"}
)
_DAEMON_NAME = re.compile(r"mail delivery (?:system|subsystem|service)|mailer[-_ ]daemon", re.I)
_FAILURE_SUBJECT = re.compile(
    r"^\s*(?:undelivered mail returned to sender|delivery status notification \(failure\)"
    r"|mail delivery failed|undeliverable\b|undelivered mail\b|returned mail\b|failure notice"
    r"|delivery failure|mail delivery failure|message not delivered|delivery has failed"
    r"|недоставленное сообщение|сообщение не доставлено|не доставлено\b|ошибка доставки"
    r"|не удалось доставить)",
    re.I,
)
_DELAY_SUBJECT = re.compile(
    r"^\s*(?:delivery status notification \(delay\)|delayed mail|delivery delayed|"
    r"warning: could not send message|mail delivery delayed|message delayed|задержка доставки)",
    re.I,
)
_AUTO_SUBJECT = re.compile(
    r"^\s*(?:out of (?:the )?office|out-of-office|automatic reply|auto[- ]?reply|auto[- ]?response"
    r"|autoresponse|vacation reply|автоответ|автоматический ответ|автоматты жауап)(?:\W|$)",
    re.I,
)
_AUTO_HEADERS = ("X-Autoreply", "X-Autorespond", "X-Autoresponder")
_PRECEDENCE_AUTO = frozenset({"auto_reply", "bulk", "junk"})
# Where the copy of the returned message starts in a plain-text bounce: codes after it are not the MTA's.
_COPY_MARKERS = (
    "this is a copy of the message",
    "below this line is a copy of the message",
    "original message follows",
    "----- original message -----",
    "-----original message-----",
    "------ original message ------",
    "returned message follows",
)
_ENHANCED_WITH_REPLY = re.compile(r"(?<!\d)[45]\d\d[ -]([45]\.\d{1,3}\.\d{1,3})(?![\d])")
_ENHANCED = re.compile(r"(?<![\d.])([245]\.\d{1,3}\.\d{1,3})(?!\d)(?!\.\d)")
# A bare reply code at a line start (sendmail's "<<< 550 ..."), after a colon, or after "said:".
_BASIC_REPLY = re.compile(r"(?m)(?:^[ \t<]*|:\s*)([45][0-5]\d)[ -](?=\S)")
_MESSAGE_ID_LINE = re.compile(r"(?im)^[ \t]*message-id:[ \t]*(.+)$")
_ANGLE_ID = re.compile(r"<([^<>\s]+)>")
_BARE_ADDRESS = re.compile(r"[^\s<>()\[\]\"',;:]+@[^\s<>()\[\]\"',;:]+\.[^\s<>()\[\]\"',;:]+")
_EXIM_FAILED = re.compile(r"(?is)following address(?:\(es\)|es)? failed:\s*\n(.*?)(?:\n\s*\n|\Z)")
_POSTFIX_TEXT_RECIPIENT = re.compile(r"(?m)^<([^<>\s]+@[^<>\s]+)>:")


@dataclasses.dataclass
class _Verdict:
    """A bounce verdict while it is being worked out."""

    kind: MessageKind
    reason: str
    status: str | None = None
    diagnostic: str | None = None
    failed_recipients: list[str] = dataclasses.field(default_factory=list)


def _classify(data: bytes, policy: email_policy.Policy) -> InboundMessage:
    """Classify the bytes, parsed with the given policy; may raise on broken input."""
    msg = BytesParser(policy=policy).parsebytes(data)
    names = {name.lower() for name in msg.keys()}
    if not names & {"from", "subject", "date", "message-id", "in-reply-to", "references"}:
        reason = "no headers" if not names else "no From, Subject, Date or Message-ID header"
        return InboundMessage(kind="unknown", reason=f"not a mail message: {reason}")

    parts = _walk(msg)
    subject = _truncate(_header(msg, "Subject"), SUBJECT_LIMIT)
    from_address = _from_address(msg)
    own_in_reply_to = _message_ids(_header(msg, "In-Reply-To"))
    own_references = _message_ids(_header(msg, "References"))
    text = _body_text(parts)

    verdict = _dsn_verdict(parts, text) or _plain_bounce_verdict(msg, from_address, subject, text)
    if verdict is None:
        verdict = _auto_reply_verdict(msg, parts, subject)
    if verdict is None:
        threaded = bool(own_in_reply_to or own_references)
        verdict = _Verdict(
            kind="reply", reason="a reply in a thread" if threaded else "a message without thread headers"
        )

    in_reply_to, references, original = own_in_reply_to, own_references, None
    if verdict.kind in ("hard_bounce", "soft_bounce"):
        returned = _returned_headers(parts, text)
        original = _first_id(returned.get("message-id", ""))
        # As if the bounce replied to our message (RFC 5322 3.6.4): its thread, then its own id.
        thread = returned.get("references") or returned.get("in-reply-to", "")
        references = _merge(own_references, _message_ids(thread))
        if original is None and (own_in_reply_to or own_references):
            # An MTA that returned no headers may still name the message it bounces (Exim does).
            original = own_in_reply_to[0] if own_in_reply_to else own_references[-1]
        if original is not None:
            in_reply_to = _merge(in_reply_to, [original])
            references = _merge(references, [original])

    return InboundMessage(
        kind=verdict.kind,
        reason=verdict.reason,
        message_id=_first_id(_header(msg, "Message-ID")),
        in_reply_to=in_reply_to,
        references=references,
        original_message_id=original,
        failed_recipients=verdict.failed_recipients,
        status=verdict.status,
        diagnostic=verdict.diagnostic,
        from_address=from_address,
        subject=subject,
        text=text,
        received_at=_date(_header(msg, "Date")),
    )


def _dsn_verdict(parts: list[Message], text: str) -> _Verdict | None:
    """Judge an RFC 3464 delivery-status report, or return None when there is none."""
    reports = [
        part
        for part in parts
        if part.get_content_type() in ("message/delivery-status", "message/global-delivery-status")
    ]
    if not reports:
        return None
    recipients = [
        block
        for report in reports
        for block in _field_blocks(report)
        if {"action", "status", "final-recipient", "original-recipient"} & block.keys()
    ]
    failed = [block for block in recipients if _action(block) == "failed"]
    delayed = [block for block in recipients if _action(block) == "delayed"]
    failed_recipients = _merge(
        [],
        [
            address
            for block in failed
            for address in (
                _recipient(block.get("original-recipient", "")),
                _recipient(block.get("final-recipient", "")),
            )
            if address
        ],
    )
    if failed:
        hard = [block for block in failed if not (_status(block) or "").startswith("4")]
        block = (hard or failed)[0]
        status = _status(block)
        if hard:
            reason = (
                f"delivery-status report: Action failed, status {status}"
                if status
                else "delivery-status report: Action failed, no parseable status"
            )
            return _Verdict("hard_bounce", reason, status, _diagnostic(block), failed_recipients)
        return _Verdict(
            "soft_bounce",
            f"delivery-status report: Action failed with transient status {status}",
            status,
            _diagnostic(block),
            failed_recipients,
        )
    if delayed:
        block = delayed[0]
        status = _status(block)
        return _Verdict(
            "soft_bounce",
            f"delivery-status report: Action delayed, status {status}",
            status,
            _diagnostic(block),
        )
    with_status = [block for block in recipients if _status(block)]
    for block in with_status:
        status = _status(block) or ""
        if status[0] in "45" and not _action(block):
            kind: MessageKind = "hard_bounce" if status.startswith("5") else "soft_bounce"
            return _Verdict(
                kind, f"delivery-status report without Action, status {status}", status, _diagnostic(block)
            )
    if recipients and all(_action(block) in ("delivered", "relayed", "expanded") for block in recipients):
        # A success notice: automatic, nothing for anyone to read or act on.
        return _Verdict(
            "auto_reply", f"delivery-status report: Action {_action(recipients[0])}, not a failure"
        )
    status = _text_status(_cut_returned_copy(text))
    if status and status[0] == "5":
        return _Verdict(
            "hard_bounce", f"delivery-status report without fields; status {status} in its text", status
        )
    # Unclear: call it soft, so that no one is accused on the strength of a report we cannot read.
    return _Verdict("soft_bounce", "delivery-status report without a readable failure", status)


def _plain_bounce_verdict(msg: Message, from_address: str | None, subject: str, text: str) -> _Verdict | None:
    """Judge a bounce sent as an ordinary message (Exim, qmail, many others), or return None."""
    failed_header = _header(msg, "X-Failed-Recipients")
    daemon = _is_daemon(msg, from_address)
    failure_subject = bool(_FAILURE_SUBJECT.search(subject))
    delay_subject = bool(_DELAY_SUBJECT.search(subject))
    own_text = _cut_returned_copy(text)
    status = _text_status(own_text)
    basic = _BASIC_REPLY.search(own_text)
    basic_code = basic.group(1) if basic else None
    if not (
        failed_header
        or (daemon and (failure_subject or delay_subject or status or basic_code))
        or ((failure_subject or delay_subject) and status)
    ):
        return None
    recipients = _merge([], _addresses_in(failed_header) + _text_failed_recipients(own_text))
    diagnostic = _diagnostic_line(own_text, status or basic_code)
    if delay_subject:
        return _Verdict("soft_bounce", f"bounce text: delay subject {subject!r}", status, diagnostic)
    code_class = (status or basic_code or " ")[0]
    if code_class == "4":
        return _Verdict(
            "soft_bounce",
            f"bounce text: transient code {status or basic_code}",
            status,
            diagnostic,
            recipients,
        )
    if code_class == "5":
        return _Verdict(
            "hard_bounce",
            f"bounce text: permanent code {status or basic_code}",
            status,
            diagnostic,
            recipients,
        )
    if failure_subject or failed_header:
        why = "X-Failed-Recipients" if failed_header else f"failure subject {subject!r}"
        return _Verdict("hard_bounce", f"bounce text: {why}", status, diagnostic, recipients)
    # A daemon's message with nothing in it that says failure: no verdict; read on.
    return None


def _auto_reply_verdict(msg: Message, parts: list[Message], subject: str) -> _Verdict | None:
    """Judge an automatic reply (out of office, auto-responder, read receipt), or return None."""
    auto_submitted = _token(_header(msg, "Auto-Submitted"))
    if auto_submitted and auto_submitted != "no":
        return _Verdict("auto_reply", f"Auto-Submitted: {auto_submitted}")
    for name in _AUTO_HEADERS:
        value = _token(_header(msg, name))
        if msg.get(name) is not None and value not in ("no", "false", "0"):
            return _Verdict("auto_reply", f"{name} header")
    precedence = _token(_header(msg, "Precedence"))
    if precedence in _PRECEDENCE_AUTO:
        return _Verdict("auto_reply", f"Precedence: {precedence}")
    if any(part.get_content_type() == "message/disposition-notification" for part in parts):
        return _Verdict("auto_reply", "a read receipt (disposition notification)")
    if _AUTO_SUBJECT.search(subject):
        return _Verdict("auto_reply", f"auto-reply subject {subject!r}")
    return None


# --- Reading a message, whichever policy parsed it ------------------------------------------------


def _walk(msg: Message) -> list[Message]:
    """Return the message's parts, depth first, without entering attached messages."""
    found: list[Message] = []
    stack: list[Message] = [msg]
    while stack and len(found) < PART_LIMIT:
        part = stack.pop()
        found.append(part)
        if part.get_content_maintype() == "multipart":
            payload = part.get_payload()
            if isinstance(payload, list):
                stack.extend(reversed([child for child in payload if isinstance(child, Message)]))
    return found


def _header(msg: Message, name: str) -> str:
    """Return a header's decoded, unfolded text, or "" when it is absent."""
    value = msg.get(name)
    if value is None:
        return ""
    return _decode_header_value(value)


def _decode_header_value(value: object) -> str:
    """Decode RFC 2047 words and stray 8-bit bytes of a header value into clean text."""
    source: Header | str = value if isinstance(value, Header) else str(value)
    chunks: list[tuple[bytes | str, str | None]] = [(source, None)] if isinstance(source, str) else []
    if not isinstance(source, str) or "=?" in source:
        try:
            chunks = decode_header(source)
        except HeaderParseError:
            # A broken encoded word (bad base64, say): show the header as it came.
            chunks = [(str(source), None)]
    pieces: list[str] = []
    for chunk, charset in chunks:
        if isinstance(chunk, bytes):
            if charset is None:
                pieces.append(chunk.decode("raw-unicode-escape", "replace"))
            else:
                pieces.append(_decode_bytes(chunk, charset))
        else:
            pieces.append(_recover_8bit(chunk))
    return _clean(re.sub(r"\r?\n(?=[ \t])", "", "".join(pieces))).strip()


def _recover_8bit(text: str) -> str:
    """Turn bytes smuggled in as surrogates back into text (UTF-8, else windows-1251)."""
    if not any("\udc80" <= char <= "\udcff" for char in text):
        return text
    return _decode_bytes(text.encode("utf-8", "surrogateescape"), None)


def _decode_bytes(data: bytes, charset: str | None) -> str:
    """Decode bytes with the declared charset, else UTF-8, else windows-1251 (common in .kz mail)."""
    if charset:
        try:
            return data.decode(charset.strip().strip('"').lower(), "replace")
        except _ENCODING_ERRORS:
            pass  # an unknown or non-text codec name: guess instead
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        return data.decode("cp1251", "replace")


def _clean(text: str) -> str:
    """Drop what no database or terminal should get: NULs and lone surrogates."""
    return text.encode("utf-8", "replace").decode("utf-8").replace("\x00", "")


def _truncate(text: str, limit: int) -> str:
    """Cut text to a length limit."""
    return text if len(text) <= limit else text[:limit]


def _token(value: str) -> str:
    """Return the first word of a header value, lower case, without comments or parameters."""
    value = re.split(r"[;(\s]", value.strip().strip('"').lower(), maxsplit=1)[0]
    return value.strip('"')


def _message_ids(text: str) -> list[str]:
    """Return the Message-IDs in a header value, without angle brackets, in order, once each."""
    ids = _ANGLE_ID.findall(text)
    if not ids:
        # Some software leaves the brackets off; take anything that looks like an id.
        ids = [word.strip("<>,;") for word in text.split() if "@" in word]
    return _merge([], [_clean(item)[:ID_LENGTH_LIMIT] for item in ids if item])


def _first_id(text: str) -> str | None:
    """Return the first Message-ID in a header value."""
    ids = _message_ids(text)
    return ids[0] if ids else None


def _merge(first: list[str], more: list[str]) -> list[str]:
    """Append the new items of `more` to `first`, keeping order and a size limit."""
    merged = list(first)
    for item in more:
        if item and item not in merged and len(merged) < ID_LIMIT:
            merged.append(item)
    return merged


def _from_address(msg: Message) -> str | None:
    """Return the address in From, or None."""
    value = msg.get("From")
    if value is None:
        return None
    addresses = getattr(value, "addresses", None)
    if addresses:
        spec = str(getattr(addresses[0], "addr_spec", "") or "")
    else:
        pairs = getaddresses([str(value)])
        spec = pairs[0][1] if pairs else ""
    spec = _clean(_recover_8bit(spec)).strip().strip("<>")
    return spec[:ADDRESS_LIMIT] or None


def _is_daemon(msg: Message, from_address: str | None) -> bool:
    """Tell whether the message comes from a mail system rather than a person."""
    local = (from_address or "").rsplit("@", 1)[0].lower()
    return local in _DAEMON_LOCAL_PARTS or bool(_DAEMON_NAME.search(_header(msg, "From")))


def _date(text: str) -> dt.datetime | None:
    """Parse a Date header into an aware datetime, or None."""
    if not text:
        return None
    try:
        when = parsedate_to_datetime(text)
    except (ValueError, TypeError, OverflowError, IndexError):
        return None
    if when.tzinfo is None:
        # RFC 5322 "-0000": the time is UTC, its origin's zone unknown.
        when = when.replace(tzinfo=dt.UTC)
    return when


def _part_text(part: Message) -> str:
    """Decode one leaf part's body with its charset."""
    payload = part.get_payload(decode=True)
    if isinstance(payload, bytes):
        return _clean(_decode_bytes(payload, part.get_content_charset()))
    if isinstance(payload, str):
        return _clean(_recover_8bit(payload))
    return ""


def _is_attachment(part: Message) -> bool:
    """Tell whether a part is marked as an attachment."""
    return _token(_header(part, "Content-Disposition")) == "attachment"


def _body_text(parts: list[Message]) -> str:
    """Return the readable text: the first text/plain part, else the first HTML part as text."""
    plain = [part for part in parts if part.get_content_type() == "text/plain" and not _is_attachment(part)]
    if plain:
        return _truncate(_tidy(_part_text(plain[0])), TEXT_LIMIT)
    markup = [part for part in parts if part.get_content_type() == "text/html" and not _is_attachment(part)]
    if markup:
        return _truncate(html_to_text(_part_text(markup[0])), TEXT_LIMIT)
    return ""


def _tidy(text: str) -> str:
    """Normalise line ends and trim trailing blank space."""
    return text.replace("\r\n", "\n").replace("\r", "\n").strip()


_DROP_ELEMENTS = re.compile(
    r"<(script|style|head|title|template|noscript|iframe|object)\b[^>]*>.*?(?:</\1\s*>|\Z)", re.I | re.S
)
_COMMENTS = re.compile(r"<!--.*?(?:-->|\Z)", re.S)
_BLOCK_TAGS = re.compile(r"<\s*/?\s*(?:br|p|div|tr|li|h[1-6]|blockquote|table|ul|ol|hr)\b[^>]*>", re.I)
_TAGS = re.compile(r"<[^>]*>?")


def html_to_text(markup: str) -> str:
    """Convert HTML to plain text crudely: drop scripts and styles, strip tags, unescape entities."""
    text = markup[:HTML_LIMIT]
    text = _COMMENTS.sub("", text)
    text = _DROP_ELEMENTS.sub("", text)
    text = _BLOCK_TAGS.sub("\n", text)
    text = _TAGS.sub("", text)
    text = html.unescape(text).replace("\xa0", " ")
    lines = [re.sub(r"[ \t\f\v]+", " ", line).strip() for line in text.replace("\r", "\n").split("\n")]
    return _clean(re.sub(r"\n{3,}", "\n\n", "\n".join(lines)).strip())


# --- Bounce details ------------------------------------------------------------------------------


def _field_blocks(part: Message) -> list[dict[str, str]]:
    """Return a delivery-status part's field blocks as lower-case name → value maps."""
    payload = part.get_payload()
    blocks: list[dict[str, str]] = []
    if isinstance(payload, list):
        for block in payload[:PART_LIMIT]:
            if not isinstance(block, Message):
                continue
            fields: dict[str, str] = {}
            for name in block.keys():
                fields.setdefault(name.lower(), _header(block, name))
            blocks.append(fields)
            inner = block.get_payload()
            if isinstance(inner, str) and inner.strip():
                # The parser of message/global-delivery-status keeps the later blocks as a body.
                blocks.extend(_parse_field_text(inner))
        return blocks
    raw = part.get_payload(decode=True)
    text = _decode_bytes(raw, part.get_content_charset()) if isinstance(raw, bytes) else str(payload or "")
    return _parse_field_text(text)


def _parse_field_text(text: str) -> list[dict[str, str]]:
    """Parse "Name: value" blocks separated by blank lines."""
    blocks: list[dict[str, str]] = []
    for chunk in re.split(r"\r?\n[ \t]*\r?\n", text)[:PART_LIMIT]:
        fields: dict[str, str] = {}
        for name, value in HeaderParser(policy=email_policy.compat32).parsestr(chunk.strip() + "\n").items():
            fields.setdefault(name.lower(), _decode_header_value(value))
        if fields:
            blocks.append(fields)
    return blocks


def _action(block: dict[str, str]) -> str:
    """Return a recipient block's Action, lower case."""
    return _token(block.get("action", ""))


def _status(block: dict[str, str]) -> str | None:
    """Return a recipient block's enhanced status code, e.g. "5.1.1", or None."""
    match = _ENHANCED.search(block.get("status", ""))
    return match.group(1) if match else None


def _diagnostic(block: dict[str, str]) -> str | None:
    """Return a block's Diagnostic-Code text without its type, unfolded and cut to size."""
    value = block.get("diagnostic-code", "")
    value = re.sub(r"^\s*[A-Za-z0-9-]+\s*;\s*", "", value)
    value = re.sub(r"\s+", " ", value).strip()
    return _truncate(value, DIAGNOSTIC_LIMIT) or None


def _recipient(value: str) -> str | None:
    """Return the address of a Final-Recipient or Original-Recipient field."""
    if ";" in value:
        address_type, value = value.split(";", 1)
        if address_type.strip().lower() not in ("rfc822", "utf-8", ""):
            return None  # an X.400 or other address: nothing we can match
    value = value.strip().strip("<>").strip()
    if "@" not in value or any(char.isspace() for char in value):
        return None
    return _clean(value)[:ADDRESS_LIMIT]


def _cut_returned_copy(text: str) -> str:
    """Return the text before the copy of the returned message, where a marker shows it."""
    lowered = text.lower()
    cuts = [index for marker in _COPY_MARKERS if (index := lowered.find(marker)) >= 0]
    return text[: min(cuts)] if cuts else text


def _text_status(text: str) -> str | None:
    """Find an enhanced status code of class 4 or 5 in free text, preferring one after a reply code."""
    match = _ENHANCED_WITH_REPLY.search(text)
    if match:
        return match.group(1)
    for found in _ENHANCED.finditer(text):
        if found.group(1)[0] in "45":
            return found.group(1)
    return None


def _diagnostic_line(text: str, code: str | None) -> str | None:
    """Return the text around the first mention of a code, unfolded and cut to size."""
    if not code:
        return None
    index = text.find(code)
    if index < 0:
        return None
    start = text.rfind("\n\n", 0, index)
    end = text.find("\n\n", index)
    snippet = text[start + 1 if start >= 0 else 0 : end if end >= 0 else len(text)]
    return _truncate(re.sub(r"\s+", " ", snippet).strip(), DIAGNOSTIC_LIMIT) or None


def _addresses_in(text: str) -> list[str]:
    """Return the addresses in a comma-separated header value."""
    return [_clean(address)[:ADDRESS_LIMIT] for _, address in getaddresses([text]) if "@" in address]


def _text_failed_recipients(text: str) -> list[str]:
    """Find failed addresses in a plain-text bounce (Exim's list, Postfix's "<address>:" lines)."""
    found: list[str] = []
    exim = _EXIM_FAILED.search(text)
    if exim:
        for line in exim.group(1).splitlines():
            word = line.strip().split(" ", 1)[0].strip("<>:")
            if _BARE_ADDRESS.fullmatch(word):
                found.append(word)
    found.extend(_POSTFIX_TEXT_RECIPIENT.findall(text))
    return [_clean(address)[:ADDRESS_LIMIT] for address in found]


def _returned_headers(parts: list[Message], text: str) -> dict[str, str]:
    """Return the headers of the returned original message (lower-case names), from wherever a bounce put them."""
    for part in parts:
        content_type = part.get_content_type()
        if content_type == "message/rfc822":
            payload = part.get_payload()
            inner = payload[0] if isinstance(payload, list) and payload else None
            if isinstance(inner, Message):
                return {name.lower(): _header(inner, name) for name in inner.keys()}
            return _headers_from_text(_part_text(part))
        if content_type in ("text/rfc822-headers", "message/rfc822-headers"):
            return _headers_from_text(_part_text(part))
    # A plain-text bounce quotes the message after a marker: read the headers found there.
    lowered = text.lower()
    cuts = [index for marker in _COPY_MARKERS if (index := lowered.find(marker)) >= 0]
    if cuts:
        copy = text[min(cuts) :].split("\n", 1)[-1]
        return _headers_from_text(copy.lstrip("\n"))
    match = _MESSAGE_ID_LINE.search(text)
    return {"message-id": match.group(1)} if match else {}


def _headers_from_text(text: str) -> dict[str, str]:
    """Parse a header block given as text; the first occurrence of a name wins."""
    headers: dict[str, str] = {}
    for name, value in HeaderParser(policy=email_policy.compat32).parsestr(text).items():
        headers.setdefault(name.lower(), _decode_header_value(value))
    if "message-id" not in headers:
        # Indented or damaged copies defeat the header parser; a plain search still finds the id.
        match = _MESSAGE_ID_LINE.search(text)
        if match:
            headers["message-id"] = match.group(1)
    return headers
