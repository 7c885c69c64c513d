"""Reading a Maildir's new/ folder and marking messages seen, in a Maildir under tmp_path."""

from __future__ import annotations

from pathlib import Path

from zonewarden.notices.mailparse import iter_maildir_new, mark_seen


def make_maildir(root: Path) -> Path:
    """Create an empty Maildir and return its path."""
    for folder in ("new", "cur", "tmp"):
        (root / folder).mkdir(parents=True)
    return root


def test_new_messages_are_read_in_name_order_with_their_bytes(tmp_path: Path) -> None:
    maildir = make_maildir(tmp_path / "Maildir")
    (maildir / "new" / "1774000002.M2P2.mx").write_bytes(b"second")
    (maildir / "new" / "1774000001.M1P1.mx").write_bytes(b"first")

    found = list(iter_maildir_new(maildir))

    assert found == [
        (maildir / "new" / "1774000001.M1P1.mx", b"first"),
        (maildir / "new" / "1774000002.M2P2.mx", b"second"),
    ]


def test_hidden_files_folders_and_other_maildir_folders_are_skipped(tmp_path: Path) -> None:
    maildir = make_maildir(tmp_path / "Maildir")
    (maildir / "new" / ".lock").write_bytes(b"x")
    (maildir / "new" / "sub").mkdir()
    (maildir / "tmp" / "1774000003.M3P3.mx").write_bytes(b"being written")
    (maildir / "cur" / "1774000000.M0P0.mx:2,S").write_bytes(b"old")
    (maildir / "new" / "1774000004.M4P4.mx").write_bytes(b"new")

    assert [path.name for path, _ in iter_maildir_new(maildir)] == ["1774000004.M4P4.mx"]


def test_a_maildir_without_new_yields_nothing(tmp_path: Path) -> None:
    assert list(iter_maildir_new(tmp_path / "absent")) == []


def test_mark_seen_moves_the_file_to_cur_with_the_seen_flag(tmp_path: Path) -> None:
    maildir = make_maildir(tmp_path / "Maildir")
    message = maildir / "new" / "1774000001.M1P1.mx"
    message.write_bytes(b"body")

    moved = mark_seen(message)

    assert moved == maildir / "cur" / "1774000001.M1P1.mx:2,S"
    assert moved.read_bytes() == b"body"
    assert not message.exists()
    assert list(iter_maildir_new(maildir)) == []


def test_mark_seen_keeps_flags_a_name_already_has(tmp_path: Path) -> None:
    maildir = make_maildir(tmp_path / "Maildir")
    message = maildir / "new" / "1774000001.M1P1.mx:2,F"
    message.write_bytes(b"body")

    assert mark_seen(str(message)).name == "1774000001.M1P1.mx:2,FS"


def test_reading_and_marking_every_message_empties_new(tmp_path: Path) -> None:
    maildir = make_maildir(tmp_path / "Maildir")
    for number in range(3):
        (maildir / "new" / f"17740000{number}.M{number}.mx").write_bytes(b"From: a@example.kz\r\n\r\nhi\r\n")

    for path, _ in iter_maildir_new(maildir):
        mark_seen(path)

    assert list((maildir / "new").iterdir()) == []
    assert len(list((maildir / "cur").iterdir())) == 3
