"""Zone files written by several workers at once: no writer trips over another's temporary file,
and no writer holding an older view of the names overwrites a newer one."""

from __future__ import annotations

import threading
import time
from pathlib import Path

from zonewarden.publish import publishers


def test_two_writers_of_one_file_never_collide(tmp_path: Path) -> None:
    target = tmp_path / "kz.zone"
    errors: list[BaseException] = []
    texts = {"a": "a" * 50_000 + "\n", "b": "b" * 50_000 + "\n"}

    def write(name: str) -> None:
        try:
            for _ in range(200):
                publishers._write(target, texts[name])
        except BaseException as exc:  # noqa: BLE001 - collected for the assertion
            errors.append(exc)

    threads = [threading.Thread(target=write, args=(name,)) for name in texts]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert target.read_text() in texts.values()  # whole, never a mix
    assert [path.name for path in tmp_path.iterdir() if path.name.endswith(".tmp")] == []


def test_writers_take_turns_under_the_lock(tmp_path: Path) -> None:
    order: list[str] = []
    inside = threading.Event()

    def first() -> None:
        with publishers._files_locked(tmp_path):
            inside.set()
            time.sleep(0.3)
            order.append("first done")

    def second() -> None:
        inside.wait()
        with publishers._files_locked(tmp_path):
            order.append("second in")

    threads = [threading.Thread(target=first), threading.Thread(target=second)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert order == ["first done", "second in"]
