"""The systemd units in deploy/: valid for systemd (`systemd-analyze verify`), hardened, and in
line with the README's deployment (its environment file and var folder)."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
DEPLOY = ROOT / "deploy"
INSTALLED = "/opt/zonewarden/.venv/bin/zonewarden"
SERVICES = ["zonewarden-web.service", "zonewarden-worker@.service", "zonewarden-migrate.service"]
# The highest `systemd-analyze security` exposure (0 safest … 10) a unit may have: they score 1.3–1.4
# today, and dropping a hardening line shows up here.
MOST_EXPOSURE = 2.0


def systemd_analyze() -> str:
    """The systemd-analyze binary; skip (fail under CI=true) without it."""
    found = shutil.which("systemd-analyze")
    if found is None:
        reason = "systemd-analyze is not installed (Debian package systemd)"
        if os.environ.get("CI") == "true":
            pytest.fail(f"CI=true and {reason}")
        print(f"skipping: {reason}")
        pytest.skip(reason)
    return found


def parse(path: Path) -> dict[str, dict[str, list[str]]]:
    """A unit file's sections, each key with all its values in order (systemd allows a key again)."""
    sections: dict[str, dict[str, list[str]]] = {}
    current: dict[str, list[str]] = {}
    for line in path.read_text(encoding="utf-8").splitlines():
        line = line.strip()
        if not line or line.startswith(("#", ";")):
            continue
        if line.startswith("[") and line.endswith("]"):
            current = sections.setdefault(line[1:-1], {})
            continue
        key, _, value = line.partition("=")
        current.setdefault(key.strip(), []).append(value.strip())
    return sections


def installed_here(tmp_path: Path) -> Path:
    """A copy of deploy/ whose ExecStart runs this venv's zonewarden (verify wants the binary to exist)."""
    here = str(Path(sys.executable).parent / "zonewarden")
    assert Path(here).exists()
    folder = tmp_path / "units"
    folder.mkdir()
    for unit in DEPLOY.iterdir():
        text = unit.read_text(encoding="utf-8")
        (folder / unit.name).write_text(text.replace(INSTALLED, here), encoding="utf-8")
    return folder


def verify(folder: Path, *units: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [systemd_analyze(), "verify", "--man=no", *(str(folder / unit) for unit in units)],
        capture_output=True,
        text=True,
        timeout=60,
        cwd=folder,
    )


def test_the_units_pass_systemd_analyze_verify(tmp_path: Path) -> None:
    folder = installed_here(tmp_path)
    # The template is verified as an instance, zonewarden-worker@1, as `systemctl enable` would run it.
    units = [
        "zonewarden-web.service",
        "zonewarden-worker@1.service",
        "zonewarden-migrate.service",
        "zonewarden.target",
    ]
    result = verify(folder, *units)
    # Any message (an unknown key is only a warning, exit status 0) is a fault.
    assert result.returncode == 0 and not result.stdout and not result.stderr, result.stdout + result.stderr


def test_verify_finds_a_unit_s_faults(tmp_path: Path) -> None:
    """The check above would see a mistake: a misspelt key, a program that is not there."""
    folder = installed_here(tmp_path)
    unit = folder / "zonewarden-web.service"
    unit.write_text(unit.read_text().replace("ProtectHome=", "ProtectHomes="), encoding="utf-8")
    result = verify(folder, "zonewarden-web.service")
    assert "Unknown key 'ProtectHomes'" in result.stderr, result.stderr
    template = folder / "zonewarden-worker@.service"
    template.write_text(template.read_text().replace(str(Path(sys.executable).parent), "/nonexistent"))
    result = verify(folder, "zonewarden-worker@1.service")
    assert result.returncode != 0 and "/nonexistent/zonewarden is not executable" in result.stderr, (
        result.stderr
    )


@pytest.mark.parametrize(
    "unit", ["zonewarden-web.service", "zonewarden-worker@1.service", "zonewarden-migrate.service"]
)
def test_each_service_s_exposure_stays_low(tmp_path: Path, unit: str) -> None:
    folder = installed_here(tmp_path)
    result = subprocess.run(
        [systemd_analyze(), "security", "--offline=yes", "--no-pager", str(folder / unit)],
        capture_output=True,
        text=True,
        timeout=60,
        cwd=folder,
    )
    found = re.search(r"Overall exposure level for \S+: (\d+\.\d+)", result.stdout)
    assert found, result.stdout + result.stderr
    print(f"{unit}: exposure {found.group(1)}")
    assert float(found.group(1)) <= MOST_EXPOSURE, result.stdout


@pytest.mark.parametrize("name", SERVICES)
def test_each_service_runs_hardened_as_its_own_user_with_the_readme_s_settings(name: str) -> None:
    unit = parse(DEPLOY / name)
    service = {key: values[-1] for key, values in unit["Service"].items()}
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    # The deployment's environment file, as "Setting up a real deployment" writes it, and its var folder.
    assert f"# {service['EnvironmentFile']}\n" in readme
    assert f"ZONEWARDEN_VAR_DIR={service['ReadWritePaths']}\n" in readme
    expected = {
        "User": "zonewarden",
        "Group": "zonewarden",
        "ProtectSystem": "strict",
        "ReadWritePaths": "/var/lib/zonewarden",
        "ProtectHome": "true",
        "PrivateTmp": "true",
        "NoNewPrivileges": "true",
        "CapabilityBoundingSet": "",
        "RestrictAddressFamilies": "AF_UNIX AF_INET AF_INET6",
        "SystemCallArchitectures": "native",
        "LockPersonality": "true",
        "EnvironmentFile": "/etc/zonewarden/zonewarden.env",
        "Environment": "HOME=/var/lib/zonewarden",
    }
    assert {key: service.get(key) for key in expected} == expected
    assert service["ExecStart"].startswith(INSTALLED + " ")
    if name != "zonewarden-migrate.service":
        assert service["Restart"] == "on-failure" and service["KillSignal"] == "SIGTERM"
        assert int(service["RestartSec"]) > 0 and int(service["TimeoutStopSec"]) > 30
        assert unit["Unit"]["PartOf"] == ["zonewarden.target"]
        assert unit["Install"]["WantedBy"] == ["zonewarden.target"]


def test_the_web_server_runs_serve_without_its_worker_and_the_workers_run_apart() -> None:
    web = parse(DEPLOY / "zonewarden-web.service")["Service"]["ExecStart"][-1].split()
    worker = parse(DEPLOY / "zonewarden-worker@.service")["Service"]["ExecStart"][-1].split()
    assert web[1:3] == ["serve", "--no-worker"]
    assert worker[1:] == ["worker"]
