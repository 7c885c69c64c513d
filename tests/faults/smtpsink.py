"""An SMTP sink in a process of its own, so a fault test can SIGKILL it and start it again.

`python tests/faults/smtpsink.py PORT FILE [N]` listens on 127.0.0.1:PORT (aiosmtpd) and accepts
every message. Before it answers 250 to a message's final dot it appends one JSON line to FILE:
`{"message_id": "<…>", "recipients": […]}`. So a line in FILE means the server took the whole
message and was about to say so: a message the sender was not told about (the sink died between
the line and the 250) is still in FILE, and a message cut off before its dot never is. FILE is
opened with O_APPEND and each line written by one write(), so a second sink on the same file (a
restart) and a kill at any moment leave whole lines.

With N, the sink SIGKILLs itself right after writing the Nth line of its life, before it answers:
the worst moment for a sender, which cannot know whether the server took the message.
"""

from __future__ import annotations

import asyncio
import email
import json
import os
import signal
import sys
from email import policy
from typing import Any

from aiosmtpd.smtp import SMTP


class Recorder:
    """Accept every message; write down its Message-ID before answering."""

    def __init__(self, path: str, die_after: int | None = None) -> None:
        self.fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
        self.die_after = die_after
        self.accepted = 0

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # noqa: N802
        message = email.message_from_bytes(envelope.content, policy=policy.default)
        line = json.dumps(
            {"message_id": str(message.get("Message-ID", "")).strip(), "recipients": list(envelope.rcpt_tos)}
        )
        os.write(self.fd, (line + "\n").encode())
        self.accepted += 1
        if self.accepted == self.die_after:
            os.kill(os.getpid(), signal.SIGKILL)  # the message is taken; the 250 never goes out
        return "250 Message accepted for delivery"


def main(port: int, path: str, die_after: int | None = None) -> None:
    """Serve until SIGTERM (or until killed)."""
    loop = asyncio.new_event_loop()
    recorder = Recorder(path, die_after)
    # A fixed greeting name: without one aiosmtpd asks the resolver for this host's FQDN.
    server = loop.run_until_complete(
        loop.create_server(lambda: SMTP(recorder, hostname="sink.faults.invalid"), "127.0.0.1", port)
    )
    loop.add_signal_handler(signal.SIGTERM, loop.stop)
    print(f"smtp sink listening on 127.0.0.1:{port}", flush=True)
    loop.run_forever()
    server.close()


if __name__ == "__main__":
    main(int(sys.argv[1]), sys.argv[2], int(sys.argv[3]) if len(sys.argv) > 3 else None)
