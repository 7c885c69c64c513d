"""`zonewarden serve --demo` runs the demo's sites and name server beside the web server and stops them with it."""

from __future__ import annotations

import http.client
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import dns.message
import dns.query
import dns.rcode

from tests.smtpserver import free_port
from zonewarden.demo import network
from zonewarden.demo.sites import SiteBook


def free_udp_and_tcp_port(address: str) -> int:
    for _attempt in range(20):
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as udp:
            udp.bind((address, 0))
            port = int(udp.getsockname()[1])
            with socket.socket() as tcp:
                try:
                    tcp.bind((address, port))
                except OSError:
                    continue
                return port
    raise OSError("no port free for both UDP and TCP")


def wait_for(condition: object, timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if callable(condition) and condition():
            return True
        time.sleep(0.2)
    return False


def answers(address: str, port: int) -> bool:
    try:
        socket.create_connection((address, port), timeout=0.5).close()
    except OSError:
        return False
    return True


def serve_demo(var_dir: Path, web: int) -> subprocess.Popen[str]:
    env = {**os.environ, "ZONEWARDEN_VAR_DIR": str(var_dir)}
    env.pop("DATABASE_URL", None)  # nothing here touches the database
    command = [sys.executable, "-m", "zonewarden", "serve", "--demo", "--no-worker", "--workers", "1"]
    return subprocess.Popen(  # noqa: S603 - our own command
        [*command, "--addr", f"127.0.0.1:{web}"],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )


def stop(serve: subprocess.Popen[str]) -> str:
    """SIGTERM, as a service manager stops it; what it printed."""
    serve.send_signal(signal.SIGTERM)
    try:
        output, _ = serve.communicate(timeout=30)
    except subprocess.TimeoutExpired:
        serve.kill()
        output, _ = serve.communicate()
        raise AssertionError(f"serve did not stop on SIGTERM:\n{output}") from None
    return output


def test_serve_demo_starts_and_stops_the_demo_sites(tmp_path: Path) -> None:
    address = network.DEFAULT_ADDRESS
    book = SiteBook(zones=["kz"])
    book.add("almatybank12.kz", "Almatybank12 LLP")
    book.infect("almatybank12.kz", "/login.php", "phishing", title="QazBank Online — Вход")
    book.address, book.http_port, book.dns_port = address, free_port(), free_udp_and_tcp_port(address)
    book.save(tmp_path / network.STATE_FILE)
    web = free_port()
    with serve_demo(tmp_path, web) as serve:
        try:
            started = wait_for(lambda: answers(address, book.http_port) and answers("127.0.0.1", web), 30)
            assert started, "not started"
            connection = http.client.HTTPConnection(address, book.http_port, timeout=5)
            connection.request("GET", "/login.php", headers={"Host": "www.almatybank12.kz"})
            page = connection.getresponse()
            assert page.status == 200 and "QazBank Online" in page.read().decode()
            connection.close()
            query = dns.message.make_query("almatybank12.kz", "A")
            reply = dns.query.udp(query, address, port=book.dns_port, timeout=3)
            assert reply.rcode() == dns.rcode.NOERROR and reply.answer[0][0].to_text() == address
        finally:
            output = stop(serve)
    assert serve.returncode == 0, output
    assert f"the demo's sites: web server http://{address}:{book.http_port}/" in output
    assert "stopped" in output
    assert not answers(address, book.http_port), "the demo's sites outlived serve"
    assert not answers(address, book.dns_port), "the demo's name server outlived serve"


def sites_pid(serve: subprocess.Popen[str]) -> int | None:
    """The pid of serve's `demo --serve-sites` child (None while it has none)."""
    for entry in Path("/proc").iterdir():
        try:
            parent = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
            command = (entry / "cmdline").read_bytes().split(b"\0")
        except (OSError, ValueError, IndexError):
            continue
        if parent == serve.pid and b"--serve-sites" in command:
            return int(entry.name)
    return None


def test_serve_demo_starts_the_demo_sites_again_when_they_die(tmp_path: Path) -> None:
    address = network.DEFAULT_ADDRESS
    book = SiteBook(zones=["kz"])
    book.add("almatybank12.kz", "Almatybank12 LLP")
    book.address, book.http_port, book.dns_port = address, free_port(), free_udp_and_tcp_port(address)
    book.save(tmp_path / network.STATE_FILE)
    web = free_port()
    with serve_demo(tmp_path, web) as serve:
        try:
            assert wait_for(lambda: answers(address, book.http_port) and answers("127.0.0.1", web), 30)
            first = sites_pid(serve)
            assert first is not None
            os.kill(first, signal.SIGKILL)
            assert wait_for(lambda: sites_pid(serve) not in (None, first), 30), "not started again"
            assert wait_for(lambda: answers(address, book.http_port) and answers(address, book.dns_port), 30)
        finally:
            output = stop(serve)
    assert serve.returncode == 0, output
    assert f"the demo's sites (pid {first}) was killed by SIGKILL" in output
    assert not answers(address, book.http_port), "the demo's sites outlived serve"


def test_serve_demo_without_saved_sites_warns_and_serves_the_rest(tmp_path: Path) -> None:
    web = free_port()
    with serve_demo(tmp_path, web) as serve:
        try:
            assert wait_for(lambda: answers("127.0.0.1", web), 30), "not started"
        finally:
            output = stop(serve)
    assert serve.returncode == 0, output
    assert "no demo sites saved" in output and "unreachable" in output
