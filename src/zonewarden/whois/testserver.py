"""A small real WHOIS server on 127.0.0.1 for tests and the demo.

It speaks RFC 3912 like whois.nic.kz: read one query line, write the answer, close. It can
also misbehave on purpose: answer late, trickle the answer, or close without answering.

Run `python -m zonewarden.whois.testserver DIR` to serve `DIR/<name>.txt` as the answer for
<name> (A-label) until Ctrl-C.
"""

from __future__ import annotations

import argparse
import socketserver
import sys
import threading
from collections.abc import Mapping, Sequence
from pathlib import Path
from types import TracebackType

NOT_FOUND_ANSWER = (
    "Whois Server for the .kz and .xn--80ao21a top level domains.\n"
    "This server is maintained by the KazNIC, the ccTLD manager for the Republic of Kazakhstan.\n"
    "\n"
    "*** Nothing found for this query.\n"
)
# A query line is a domain name; anything longer is not read further.
MAX_QUERY_BYTES = 4096


class _Handler(socketserver.StreamRequestHandler):
    """Answer one connection of a `WhoisTestServer`."""

    server: _Server
    # A client that connects and never sends its line must not hold a thread for ever.
    timeout = 5.0

    def handle(self) -> None:
        """Read the query line, wait if told to, write the answer and let the connection close."""
        owner = self.server.owner
        line = self.rfile.readline(MAX_QUERY_BYTES)
        query = line.decode("utf-8", errors="replace").strip()
        owner.record_query(query)
        if owner.close_without_answer:
            return
        # Waiting on the stop event (not time.sleep) lets the server stop at once.
        if owner.delay > 0 and owner.stopping.wait(owner.delay):
            return
        answer = owner.answer_for(query)
        try:
            if owner.drip_interval > 0:
                for start in range(0, len(answer), owner.drip_bytes):
                    self.wfile.write(answer[start : start + owner.drip_bytes])
                    self.wfile.flush()
                    if owner.stopping.wait(owner.drip_interval):
                        return
            else:
                self.wfile.write(answer)
        except OSError:
            # The client hung up first (timeout or size cap tests); that is what was tested.
            return


class _Server(socketserver.ThreadingTCPServer):
    """Serve each connection in its own daemon thread, on an ephemeral loopback port."""

    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, owner: WhoisTestServer, host: str) -> None:
        """Bind to host on a port the kernel picks."""
        self.owner = owner
        super().__init__((host, 0), _Handler)

    def handle_error(self, request: object, client_address: object) -> None:
        """Keep the test output quiet; the client side reports what went wrong."""


class WhoisTestServer:
    """Run a WHOIS server on 127.0.0.1 in a background thread (a context manager; `.port`).

    `answers` maps a query (matched case-insensitively after trimming) to its answer; other
    queries get `default`. `delay` waits before answering, `drip_interval` pauses between
    chunks of `drip_bytes`, and `close_without_answer` reads the query and hangs up.
    """

    def __init__(
        self,
        answers: Mapping[str, str | bytes],
        default: str | bytes = NOT_FOUND_ANSWER,
        *,
        delay: float = 0.0,
        drip_interval: float = 0.0,
        drip_bytes: int = 16,
        close_without_answer: bool = False,
        host: str = "127.0.0.1",
    ) -> None:
        """Keep the answers and the behaviour; nothing listens until `start()`."""
        self._answers = {key.strip().lower(): _encode(value) for key, value in answers.items()}
        self._default = _encode(default)
        self.delay = delay
        self.drip_interval = drip_interval
        self.drip_bytes = max(1, drip_bytes)
        self.close_without_answer = close_without_answer
        self.host = host
        self.stopping = threading.Event()
        self._lock = threading.Lock()
        self._queries: list[str] = []
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None

    @property
    def port(self) -> int:
        """Return the port the server listens on."""
        if self._server is None:
            raise RuntimeError("the WHOIS test server is not running; use it as a context manager")
        return int(self._server.server_address[1])

    @property
    def queries(self) -> list[str]:
        """Return the query lines received so far, in order."""
        with self._lock:
            return list(self._queries)

    def record_query(self, query: str) -> None:
        """Remember one received query line."""
        with self._lock:
            self._queries.append(query)

    def answer_for(self, query: str) -> bytes:
        """Return the answer bytes for a query line."""
        return self._answers.get(query.lower(), self._default)

    def start(self) -> WhoisTestServer:
        """Start listening and serving in a background thread."""
        if self._server is not None:
            raise RuntimeError("the WHOIS test server is already running")
        self.stopping.clear()
        self._server = _Server(self, self.host)
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, name="whois-test-server"
        )
        self._thread.daemon = True
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop serving, cut short any delayed answer and close the listening socket."""
        if self._server is None:
            return
        self.stopping.set()
        self._server.shutdown()
        self._server.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)
        self._server = None
        self._thread = None

    def __enter__(self) -> WhoisTestServer:
        """Start the server."""
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        """Stop the server."""
        self.stop()


def _encode(answer: str | bytes) -> bytes:
    """Return an answer as the bytes to send (text goes out as UTF-8, like whois.nic.kz)."""
    return answer if isinstance(answer, bytes) else answer.encode("utf-8")


def main(argv: Sequence[str] | None = None) -> int:
    """Serve the answers in a folder on 127.0.0.1 until interrupted."""
    parser = argparse.ArgumentParser(description="Serve WHOIS answers from DIR/<name>.txt on 127.0.0.1.")
    parser.add_argument("folder", type=Path, help="folder of <name>.txt answers (name as A-label)")
    args = parser.parse_args(argv)
    folder: Path = args.folder
    answers: dict[str, str | bytes] = {
        path.stem: path.read_text(encoding="utf-8") for path in sorted(folder.glob("*.txt"))
    }
    with WhoisTestServer(answers) as server:
        print(f"WHOIS test server on 127.0.0.1:{server.port}, {len(answers)} answer file(s); Ctrl-C stops it")
        try:
            threading.Event().wait()
        except KeyboardInterrupt:
            return 0
    return 0


if __name__ == "__main__":
    sys.exit(main())
