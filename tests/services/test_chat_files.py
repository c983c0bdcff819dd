"""Chat uploads: counted first, stored second, never a file without its message.

Every test counts the files in the attachment folder and the attachment rows
before and after, so a refusal that left anything behind fails.
"""

from __future__ import annotations

import os
import time
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import event
from sqlmodel import Session, func, select

from agent_workspace import db
from agent_workspace.config import settings
from agent_workspace.models import Attachment, InteractionState, Message, SenderKind, utcnow
from agent_workspace.services import attachment_storage, chat_files, conversations
from agent_workspace.services.chat_files import IncomingFile, QuotaExceeded
from agent_workspace.services.errors import Conflict, Forbidden, ValidationError
from agent_workspace.services.events import InteractionChanged
from tests.factories import add_message, make_customer, make_interaction, make_queue, make_user

PNG = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(32)
EXECUTABLE = b"MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff" + bytes(48) + b"PE\x00\x00"


@pytest.fixture
def storage(database_url: str) -> Path:
    return settings().attachment_dir


@pytest.fixture
def agent(session: Session):
    return make_user(session, "agent_one")


def _chat(session: Session, agent, address: str = "198.51.100.7", state: str = InteractionState.WORK_IN_PROGRESS):
    customer = make_customer(session)
    customer.client_address = address
    session.add(customer)
    session.commit()
    queue = make_queue(session, f"Queue {customer.id}")
    return make_interaction(session, queue=queue, customer=customer, agent=agent, state=state)


@pytest.fixture
def chat(session: Session, agent):
    return _chat(session, agent)


def stored(session: Session, storage: Path) -> tuple[int, int]:
    """Attachment rows, and files in the attachment folder (of any name)."""
    session.expire_all()
    rows = session.exec(select(func.count()).select_from(Attachment)).one()
    session.rollback()  # end the read: the service's own transactions take the write lock
    files = len(list(storage.iterdir())) if storage.exists() else 0
    return rows, files


def text_files(count: int, prefix: str = "note") -> list[IncomingFile]:
    return [IncomingFile(f"{prefix}-{n}.txt", f"line {n}\n".encode()) for n in range(count)]


def customer_sends(chat, files: list[IncomingFile]) -> chat_files.SentFiles:
    return chat_files.send_files(interaction_id=chat.id, sender_kind=SenderKind.CUSTOMER, files=files)


def check(chat, count: int, size: int = 10, sender_kind=SenderKind.CUSTOMER, sender_user_id: int | None = None) -> None:
    """``check_upload`` as the page's handler calls it: a read of its own."""
    with db.session_scope(writer=False) as reading:
        chat_files.check_upload(
            reading,
            interaction_id=chat.id,
            sender_kind=sender_kind,
            sizes=[size] * count,
            sender_user_id=sender_user_id,
        )


def test_each_file_is_posted_with_its_message(session: Session, chat, storage: Path, announced) -> None:
    sent = customer_sends(chat, [IncomingFile("screenshot.png", PNG), *text_files(1)])

    assert sent.problems == []
    assert [m.body for m in sent.messages] == ["Sent a file: screenshot.png", "Sent a file: note-0.txt"]
    rows = session.exec(select(Attachment).order_by(Attachment.id)).all()
    assert [m.attachment_id for m in sent.messages] == [a.id for a in rows]
    assert sorted(p.name for p in storage.iterdir()) == sorted(a.storage_name for a in rows)  # no .part left
    assert announced.take() == [InteractionChanged(chat.id)] * 2  # a file's details are read with its message


def test_too_many_files_in_one_upload_are_refused_first(session: Session, chat, storage: Path) -> None:
    with pytest.raises(QuotaExceeded, match=r"at most 5 per upload \(you chose 6\)"):
        check(chat, 6)
    check(chat, 5)
    assert stored(session, storage) == (0, 0)


def test_the_chat_quota_counts_the_files_already_there(
    session: Session, chat, storage: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("AW_FILES_PER_CHAT", "3")
    customer_sends(chat, text_files(2))
    with pytest.raises(QuotaExceeded, match="you can send 1 more"):
        check(chat, 2)

    # Past the check (two tabs at once): the write transaction counts again.
    sent = customer_sends(chat, text_files(2, "late"))
    assert len(sent.messages) == 1
    assert sent.problems == ["late-1.txt: A chat can hold 3 of your files: this one has no room for more."]
    assert stored(session, storage) == (3, 3)


def test_the_chat_quota_counts_bytes(session: Session, chat, storage: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AW_BYTES_PER_CHAT", "2048")
    customer_sends(chat, [IncomingFile("big.txt", b"x" * 1500)])
    with pytest.raises(QuotaExceeded, match="A chat can hold 2 KB of your files: 548 B are left"):
        check(chat, 1, size=1000)
    sent = customer_sends(chat, [IncomingFile("more.txt", b"y" * 1000)])
    assert sent.messages == [] and "548 B are left" in sent.problems[0]
    assert stored(session, storage) == (1, 1)


def test_the_hourly_quota_forgets_files_older_than_an_hour(
    session: Session, chat, storage: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("AW_FILES_PER_CHAT_HOUR", "2")
    customer_sends(chat, text_files(2))
    with pytest.raises(QuotaExceeded, match="You can send 2 files an hour: try again later"):
        check(chat, 1)

    for attachment in session.exec(select(Attachment)).all():
        attachment.created_at = utcnow() - timedelta(minutes=61)
        session.add(attachment)
    session.commit()
    check(chat, 2)


def test_the_hourly_quota_per_address_spans_the_chats_started_from_it(
    session: Session, agent, storage: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("AW_FILES_PER_ADDRESS_HOUR", "3")
    first, second = _chat(session, agent), _chat(session, agent)
    elsewhere = _chat(session, agent, address="203.0.113.9")
    customer_sends(first, text_files(2))

    sent = customer_sends(second, text_files(2, "second"))
    assert len(sent.messages) == 1
    assert sent.problems == [
        "second-1.txt: Too many files have come from your network in the last hour: try again later."
    ]
    with pytest.raises(QuotaExceeded, match="from your network"):
        check(first, 1)
    check(elsewhere, 3)
    assert stored(session, storage) == (3, 3)


def test_files_count_against_the_message_rate_before_they_are_written(session: Session, chat, storage: Path) -> None:
    for n in range(conversations.MAX_CUSTOMER_MESSAGES_PER_WINDOW - 1):
        add_message(session, chat, f"message {n}")
    with pytest.raises(QuotaExceeded, match="Slow down"):
        check(chat, 2)

    sent = customer_sends(chat, text_files(2))
    assert len(sent.messages) == 1 and "Slow down" in sent.problems[0]
    assert stored(session, storage) == (1, 1)


def test_agents_are_held_to_their_own_chat_not_to_the_customer_quotas(
    session: Session, chat, agent, storage: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("AW_FILES_PER_CHAT", "1")
    colleague = make_user(session, "agent_two")
    with pytest.raises(Forbidden):
        check(chat, 1, sender_kind=SenderKind.AGENT, sender_user_id=colleague.id)
    sent = chat_files.send_files(
        interaction_id=chat.id, sender_kind=SenderKind.AGENT, sender_user_id=colleague.id, files=text_files(1)
    )
    assert sent.messages == [] and "Only the agent assigned" in sent.problems[0]

    sent = chat_files.send_files(
        interaction_id=chat.id, sender_kind=SenderKind.AGENT, sender_user_id=agent.id, files=text_files(2)
    )
    assert len(sent.messages) == 2 and sent.problems == []
    assert stored(session, storage) == (2, 2)


def test_an_ended_chat_takes_no_files(session: Session, agent, storage: Path) -> None:
    ended = _chat(session, agent, state=InteractionState.CLOSED_COMPLETE)
    with pytest.raises(Conflict, match="ended"):
        check(ended, 1)
    sent = customer_sends(ended, text_files(1))
    assert sent.messages == [] and "ended" in sent.problems[0]
    assert stored(session, storage) == (0, 0)


def test_a_file_refused_by_its_content_is_never_written_and_the_others_go_on(
    session: Session, chat, storage: Path
) -> None:
    sent = customer_sends(chat, [IncomingFile("cute-cat.png", EXECUTABLE), *text_files(1)])
    assert len(sent.messages) == 1
    assert sent.problems[0].startswith("cute-cat.png: “cute-cat.png” is a program")
    assert stored(session, storage) == (1, 1)


def test_once_the_chat_refuses_a_file_the_rest_are_not_written(
    session: Session, chat, storage: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("AW_FILES_PER_CHAT", "1")
    written: list[str] = []
    real_write = attachment_storage.write_file
    monkeypatch.setattr(
        attachment_storage, "write_file", lambda data, d=None: written.append(real_write(data, d)) or written[-1]
    )

    sent = customer_sends(chat, text_files(4))
    assert sent.problems[-1] == "Not sent: note-2.txt, note-3.txt."
    assert len(written) == 2  # the one stored and the one the quota refused (then deleted)
    assert stored(session, storage) == (1, 1)


@pytest.mark.parametrize("failure", [ValidationError("refused"), RuntimeError("database gone")])
def test_a_failed_store_deletes_its_file(
    session: Session, chat, storage: Path, monkeypatch: pytest.MonkeyPatch, failure: Exception
) -> None:
    def fail(*args, **kwargs):
        raise failure

    monkeypatch.setattr(conversations, "post_message", fail)
    if isinstance(failure, RuntimeError):
        with pytest.raises(RuntimeError):
            customer_sends(chat, text_files(1))
    else:
        assert customer_sends(chat, text_files(1)).problems == ["note-0.txt: refused"]
    assert stored(session, storage) == (0, 0)
    assert session.exec(select(func.count()).select_from(Message)).one() == 0


def test_no_file_is_written_or_synced_inside_the_write_turn(
    session: Session, chat, storage: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    held_at_sync: list[bool] = []
    real_fsync = os.fsync

    def recording_fsync(fd):
        held_at_sync.append(db._sqlite_write_turn._is_owned())
        return real_fsync(fd)

    monkeypatch.setattr(os, "fsync", recording_fsync)
    assert customer_sends(chat, text_files(2)).problems == []
    assert held_at_sync and not any(held_at_sync)


# ---------------------------------------------------------------- the orphan sweep

LATER = attachment_storage.ORPHAN_AGE.total_seconds() + 60


def test_the_sweep_removes_old_files_no_row_names_and_keeps_the_rest(session: Session, chat, storage: Path) -> None:
    customer_sends(chat, text_files(1))
    recorded = session.exec(select(Attachment)).one().storage_name
    orphan = attachment_storage.write_file(b"written, then the process died\n")
    unfinished = storage / ("0" * 32 + attachment_storage.PART_SUFFIX)
    unfinished.write_bytes(b"half a fi")

    assert attachment_storage.sweep_orphans() == 0  # young: maybe still on its way to a row
    assert stored(session, storage) == (1, 3)

    assert attachment_storage.sweep_orphans(now=time.time() + LATER) == 2
    assert [p.name for p in storage.iterdir()] == [recorded]
    assert orphan != recorded


def test_the_sweep_asks_only_for_the_old_files_names_a_chunk_at_a_time(
    session: Session, chat, storage: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    customer_sends(chat, text_files(3))
    recorded = set(session.exec(select(Attachment.storage_name)).all())
    session.rollback()
    orphans = {attachment_storage.write_file(f"orphan {n}\n".encode()) for n in range(2)}
    monkeypatch.setattr(attachment_storage, "SWEEP_CHUNK", 2)
    asked: list[tuple[str, tuple]] = []

    def record(conn, cursor, statement, parameters, context, executemany) -> None:
        if "storage_name" in statement:
            asked.append((statement, tuple(parameters or ())))

    engine = db.get_engine(writer=False)
    event.listen(engine, "before_cursor_execute", record)
    try:
        assert attachment_storage.sweep_orphans(now=time.time() + LATER) == 2
    finally:
        event.remove(engine, "before_cursor_execute", record)

    assert {p.name for p in storage.iterdir()} == recorded
    assert len(asked) == 3  # five old files, two names a query
    assert all(" IN " in statement.upper() and len(names) <= 2 for statement, names in asked)
    assert {name for _, names in asked for name in names} == recorded | orphans


def test_a_fresh_copy_of_an_old_file_is_young(session: Session, chat, storage: Path) -> None:
    """A record's copy is a hard link that shares the old file's times; its
    new link makes it young, so a sweep cannot take it before its row commits."""
    old = attachment_storage.write_file(b"an old file\n")
    past = time.time() - LATER
    os.utime(storage / old, (past, past))
    copy = attachment_storage.copy_file(old)
    assert attachment_storage.sweep_orphans() == 0
    assert {p.name for p in storage.iterdir()} == {old, copy}


def test_the_sweep_runs_at_start_up_then_every_few_minutes(
    session: Session, chat, storage: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(attachment_storage, "_last_sweep", None)
    monkeypatch.setattr(attachment_storage, "ORPHAN_AGE", timedelta(0))
    attachment_storage.write_file(b"orphan one\n")
    assert attachment_storage.sweep_orphans_when_due() == 1  # the first call of the process
    attachment_storage.write_file(b"orphan two\n")
    assert attachment_storage.sweep_orphans_when_due() == 0  # not due yet
    monkeypatch.setattr(attachment_storage, "_last_sweep", time.monotonic() - attachment_storage.SWEEP_INTERVAL_SECONDS)
    assert attachment_storage.sweep_orphans_when_due() == 1
    assert stored(session, storage) == (0, 0)


def test_the_sweep_of_a_missing_folder_does_nothing(database_url: str) -> None:
    assert not settings().attachment_dir.exists()
    assert attachment_storage.sweep_orphans() == 0
