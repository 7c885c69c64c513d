"""Pytest plugin: with `--db postgres`, run the suite on a PostgreSQL cluster of its own.

The cluster is made with Debian's initdb in a temporary folder owned by the postgres user,
listens on a free loopback port and a private socket folder, and is stopped and removed at the
end. Under CI=true a missing PostgreSQL is a failure, not a skip.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import tempfile
import time
from pathlib import Path

import pytest

PG_BIN_DIRS = [
    Path("/usr/lib/postgresql/15/bin"),
    Path("/usr/lib/postgresql/16/bin"),
    Path("/usr/lib/postgresql/17/bin"),
]
_cluster: dict[str, object] = {}
_unavailable: list[str] = []


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--db",
        choices=["sqlite", "postgres"],
        default="sqlite",
        help="database to run the suite on: sqlite (default) or postgres (a cluster the suite starts itself)",
    )


def _pg_bin() -> Path | None:
    for candidate in PG_BIN_DIRS:
        if (candidate / "initdb").exists() and (candidate / "pg_ctl").exists():
            return candidate
    found = shutil.which("pg_ctl")
    return Path(found).parent if found else None


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _as_postgres(args: list[str], **kwargs: object) -> subprocess.CompletedProcess[str]:
    command = args if os.geteuid() != 0 else ["runuser", "-u", "postgres", "--", *args]
    return subprocess.run(command, check=True, capture_output=True, text=True, **kwargs)  # type: ignore[call-overload]


def start_cluster() -> str:
    """Start a throwaway PostgreSQL on loopback and return its DATABASE_URL."""
    bin_dir = _pg_bin()
    if bin_dir is None:
        raise RuntimeError(
            "PostgreSQL is not installed (initdb/pg_ctl not found; Debian: apt-get install postgresql-15)"
        )
    root = Path(tempfile.mkdtemp(prefix="zonewarden-pg-"))
    data, sockets = root / "data", root / "sock"
    sockets.mkdir()
    if os.geteuid() == 0:
        shutil.chown(root, "postgres", "postgres")
        shutil.chown(sockets, "postgres", "postgres")
    port = _free_port()
    _as_postgres(
        [
            str(bin_dir / "initdb"),
            "-D",
            str(data),
            "-U",
            "postgres",
            "-A",
            "trust",
            "-E",
            "UTF8",
            "--locale=C.UTF-8",
            "--no-sync",
        ]
    )
    options = (
        f"-c listen_addresses=127.0.0.1 -p {port} -k {sockets} -c fsync=off -c synchronous_commit=off "
        "-c full_page_writes=off -c max_connections=60"
    )
    _as_postgres(
        [
            str(bin_dir / "pg_ctl"),
            "-D",
            str(data),
            "-o",
            options,
            "-l",
            str(root / "log"),
            "-w",
            "-t",
            "60",
            "start",
        ]
    )
    _cluster.update(root=root, data=data, bin=bin_dir)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        with socket.socket() as probe:
            if probe.connect_ex(("127.0.0.1", port)) == 0:
                break
        time.sleep(0.1)
    return f"postgres://postgres@127.0.0.1:{port}/zonewarden"


def restart_cluster() -> None:
    """Restart the suite's cluster as an administrator does (`pg_ctl restart -m fast`): every
    connection is cut, and the server is back within a second or two."""
    root, data, bin_dir = _cluster.get("root"), _cluster.get("data"), _cluster.get("bin")
    if not isinstance(root, Path) or not isinstance(data, Path) or not isinstance(bin_dir, Path):
        raise RuntimeError("the suite's PostgreSQL cluster is not running (run with --db postgres)")
    # -l: the restarted server must not hold our pipes open; its options are the ones it ran with.
    _as_postgres(
        [
            str(bin_dir / "pg_ctl"),
            "-D",
            str(data),
            "-l",
            str(root / "log"),
            "-m",
            "fast",
            "-w",
            "-t",
            "60",
            "restart",
        ]
    )


def stop_cluster() -> None:
    root, data, bin_dir = _cluster.get("root"), _cluster.get("data"), _cluster.get("bin")
    if not isinstance(root, Path) or not isinstance(data, Path) or not isinstance(bin_dir, Path):
        return
    try:
        _as_postgres([str(bin_dir / "pg_ctl"), "-D", str(data), "-m", "immediate", "-w", "stop"])
    finally:
        shutil.rmtree(root, ignore_errors=True)
        _cluster.clear()


@pytest.hookimpl(tryfirst=True)
def pytest_load_initial_conftests(
    early_config: pytest.Config, parser: pytest.Parser, args: list[str]
) -> None:
    # Runs before pytest-django reads the settings, so DATABASE_URL decides the engine.
    options = parser.parse_known_args(args)
    if getattr(options, "db", "sqlite") != "postgres":
        os.environ.pop("DATABASE_URL", None)
        return
    try:
        os.environ["DATABASE_URL"] = start_cluster()
    except (RuntimeError, subprocess.CalledProcessError, FileNotFoundError) as exc:
        detail = exc.stderr if isinstance(exc, subprocess.CalledProcessError) else str(exc)
        if os.environ.get("CI", "").lower() == "true":
            raise pytest.UsageError(f"--db postgres: could not start PostgreSQL under CI: {detail}") from exc
        os.environ.pop("DATABASE_URL", None)
        _unavailable.append(f"PostgreSQL unavailable, so the PostgreSQL run is skipped: {detail.strip()}")


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    if _unavailable:
        for item in items:
            item.add_marker(pytest.mark.skip(reason=_unavailable[0]))
    if config.getoption("db") != "postgres":
        # Row locks between connections exist only on PostgreSQL; its run of the suite covers them.
        # So do the fault-injection tests: several worker processes, and a cluster they restart.
        kept = [
            item
            for item in items
            if item.get_closest_marker("postgres_only") is None and item.get_closest_marker("faults") is None
        ]
        if len(kept) != len(items):
            config.hook.pytest_deselected(items=[item for item in items if item not in kept])
            items[:] = kept


def pytest_unconfigure(config: pytest.Config) -> None:
    stop_cluster()


def pytest_report_header(config: pytest.Config) -> str:
    return f"database: {config.getoption('db')}"
