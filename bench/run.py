"""Run every benchmark in its own process and print what each measured (`make bench`)."""

from __future__ import annotations

import platform
import subprocess
import sys
from pathlib import Path

BENCHES = ["ingest", "checks", "letters", "publish", "lists", "lanes"]


def main() -> None:
    here = Path(__file__).resolve().parent
    print(
        f"machine: {platform.machine()}, {platform.processor() or 'cpu'}, Python {platform.python_version()}"
    )
    failed = 0
    for name in BENCHES:
        print(f"--- {name}", flush=True)
        result = subprocess.run([sys.executable, str(here / f"{name}.py")], check=False)
        failed += result.returncode != 0
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
