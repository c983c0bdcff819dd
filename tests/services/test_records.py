"""Cases and incidents created from a chat: numbering, prefill, edits, escalation."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest
from sqlalchemy import func
from sqlmodel import Session, select

from agent_workspace import db
from agent_workspace.models import Attachment, SenderKind, SupportRecord
from agent_workspace.services import attachments, records
from agent_workspace.services.errors import Conflict, NotFound, ValidationError
from tests.factories import add_message, make_customer, make_interaction, make_queue

PNG = b"\x89PNG\r\n\x1a\n" + bytes(24)


@pytest.fixture
def chat(session: Session, agent):
    return make_interaction(
        session,
        queue=make_queue(session),
        customer=make_customer(session),
        agent=agent,
        question="The invoice for March charges me twice for the same subscription.",
        priority=3,
    )


def create(session: Session, chat, agent, kind: str = "case", **kwargs):
    return records.create_from_interaction(session, interaction_id=chat.id, kind=kind, created_by_id=agent.id, **kwargs)


def test_records_are_numbered_per_kind(session: Session, chat, agent) -> None:
    first_case = create(session, chat, agent, "case")
    second_case = create(session, chat, agent, "case")
    incident = create(session, chat, agent, "incident")

    assert first_case.number == f"CS{1000 + first_case.id:07d}" == "CS0001001"
    assert second_case.number == "CS0001002"
    assert incident.number == f"INC{1000 + incident.id:07d}"


def test_unknown_kind_or_chat_is_refused(session: Session, chat, agent) -> None:
    with pytest.raises(ValidationError):
        create(session, chat, agent, "problem")
    with pytest.raises(NotFound):
        records.create_from_interaction(session, interaction_id=404, kind="case", created_by_id=agent.id)


def test_a_record_is_prefilled_from_the_chat(
    session: Session, chat, agent, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("AW_ATTACHMENT_DIR", str(tmp_path / "files"))
    add_message(session, chat, "Hello, I was charged twice.")
    add_message(session, chat, "Let me check.", sender_kind=SenderKind.AGENT, sender_user=agent)
    screenshot = attachments.store_attachment(
        session,
        interaction_id=chat.id,
        filename="bill.png",
        data=PNG,
        uploaded_by_kind="customer",
        uploaded_by_user_id=None,
    )

    session.commit()  # end the test's transaction: the service's own take the write lock
    record = records.create_with_files(
        interaction_id=chat.id, kind="incident", created_by_id=agent.id, authorize=lambda s: None
    )

    assert record.kind == "incident"
    assert record.interaction_id == chat.id
    assert record.customer_id == chat.customer_id
    assert record.created_by_id == agent.id
    assert (record.priority, record.state) == (3, "new")
    assert record.short_description == chat.question
    assert chat.question in record.description
    assert "Ada Lovelace: Hello, I was charged twice." in record.description
    assert "Grace Hopper: Let me check." in record.description
    [copy] = attachments.list_attachments(session, record_id=record.id)
    assert copy.filename == "bill.png" and copy.id != screenshot.id
    assert records.list_for_interaction(session, interaction_id=chat.id) == [record]
    [created, copied] = records.record_activity(session, record_id=record.id)
    assert (created["action"], created["actor"]) == ("record.created", "Grace Hopper")
    assert created["detail"]["number"] == record.number
    assert copied["action"] == "attachment.copied"


@pytest.fixture
def chat_with_files(session: Session, chat, monkeypatch: pytest.MonkeyPatch, tmp_path: Path):
    """The chat with two files, and the attachment folder."""
    folder = tmp_path / "files"
    monkeypatch.setenv("AW_ATTACHMENT_DIR", str(folder))
    for name in ("a.png", "b.png"):
        attachments.store_attachment(
            session,
            interaction_id=chat.id,
            filename=name,
            data=PNG,
            uploaded_by_kind="customer",
            uploaded_by_user_id=None,
        )
    session.commit()
    return chat, folder


def _on_disk_and_recorded(session: Session, folder: Path) -> tuple[int, int, int]:
    """Files in the folder, attachment rows, records (read in a transaction of its own)."""
    session.expire_all()
    rows = session.exec(select(func.count()).select_from(Attachment)).one()
    kept = session.exec(select(func.count()).select_from(SupportRecord)).one()
    session.rollback()
    return len(list(folder.iterdir())), rows, kept


def test_no_file_is_linked_copied_or_synced_inside_the_write_turn(
    session: Session, chat_with_files, agent, monkeypatch: pytest.MonkeyPatch
) -> None:
    chat, folder = chat_with_files
    held: list[tuple[str, bool]] = []

    def recording(name, real):
        def call(*args, **kwargs):
            held.append((name, db._sqlite_write_turn._is_owned()))
            return real(*args, **kwargs)

        return call

    for module, name in ((os, "fsync"), (os, "link"), (shutil, "copyfile")):
        monkeypatch.setattr(module, name, recording(name, getattr(module, name)))
    record = records.create_with_files(
        interaction_id=chat.id, kind="case", created_by_id=agent.id, authorize=lambda s: None
    )

    assert len(attachments.list_attachments(session, record_id=record.id)) == 2
    assert {name for name, _ in held} >= {"fsync", "link"}
    assert not any(owned for _, owned in held), held


def test_a_record_refused_in_its_write_keeps_no_copies(session: Session, chat_with_files, agent) -> None:
    chat, folder = chat_with_files
    before = _on_disk_and_recorded(session, folder)
    checks: list[int] = []

    def refuse_on_the_second_check(session) -> None:  # the chat was taken away between the read and the write
        checks.append(1)
        if len(checks) == 2:
            raise NotFound("That chat is not yours.")

    with pytest.raises(NotFound):
        records.create_with_files(
            interaction_id=chat.id, kind="case", created_by_id=agent.id, authorize=refuse_on_the_second_check
        )
    assert _on_disk_and_recorded(session, folder) == before


def test_a_caller_refused_at_first_copies_nothing(
    session: Session, chat_with_files, agent, monkeypatch: pytest.MonkeyPatch
) -> None:
    chat, folder = chat_with_files
    before = _on_disk_and_recorded(session, folder)
    monkeypatch.setattr(os, "link", lambda *args: pytest.fail("copied for a caller who may not"))

    def refuse(session) -> None:
        raise NotFound("That chat is not yours.")

    with pytest.raises(NotFound):
        records.create_with_files(interaction_id=chat.id, kind="case", created_by_id=agent.id, authorize=refuse)
    assert _on_disk_and_recorded(session, folder) == before


def test_short_description_prefers_the_given_then_the_chats_then_the_question(session: Session, agent) -> None:
    queue, customer = make_queue(session), make_customer(session)
    long_question = "word " * 100
    chat = make_interaction(session, queue=queue, customer=customer, question=long_question)
    summarised = make_interaction(session, queue=queue, customer=customer, short_description="Double charge")

    assert create(session, chat, agent, short_description=" Refund ").short_description == "Refund"
    assert create(session, summarised, agent).short_description == "Double charge"
    truncated = create(session, chat, agent).short_description
    assert len(truncated) <= 160 and truncated.endswith("…")
    assert truncated.startswith("word word")


def test_update_changes_fields_and_records_them(session: Session, chat, agent) -> None:
    record = create(session, chat, agent)
    prefilled = record.description

    records.update_record(
        session,
        record_id=record.id,
        actor_id=agent.id,
        short_description="Charged twice",
        priority=2,
        state="in_progress",
        description="Billing run from 1 March.",
    )

    assert (record.short_description, record.priority, record.state) == ("Charged twice", 2, "in_progress")
    assert record.description == "Billing run from 1 March."
    update = records.record_activity(session, record_id=record.id)[-1]
    assert update["action"] == "record.updated"
    assert update["detail"]["changes"] == {
        "short_description": [chat.question, "Charged twice"],
        "priority": [3, 2],
        "state": ["new", "in_progress"],
        "description": {"length": [len(prefilled), len("Billing run from 1 March.")]},  # not a copy of the text
    }


def test_an_update_that_changes_nothing_is_not_logged(session: Session, chat, agent) -> None:
    record = create(session, chat, agent)
    before = len(records.record_activity(session, record_id=record.id))

    records.update_record(session, record_id=record.id, actor_id=agent.id, priority=3)

    assert len(records.record_activity(session, record_id=record.id)) == before


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"short_description": "  "}, "short description is required"),
        ({"short_description": "x" * 161}, "at most 160"),
        ({"priority": 0}, "from 1"),
        ({"priority": 5}, "from 1"),
        ({"priority": True}, "whole number"),
        ({"state": "done"}, "Unknown state"),
        ({"state": "resolved"}, "resolution notes are required"),
        ({"state": "resolved", "resolution_notes": "  "}, "resolution notes are required"),
    ],
)
def test_update_validation(session: Session, chat, agent, change: dict, message: str) -> None:
    record = create(session, chat, agent)

    with pytest.raises(ValidationError, match=message):
        records.update_record(session, record_id=record.id, actor_id=agent.id, **change)


def test_resolving_with_notes_is_accepted(session: Session, chat, agent) -> None:
    record = create(session, chat, agent)

    records.update_record(
        session,
        record_id=record.id,
        actor_id=agent.id,
        state="resolved",
        resolution_notes="Refunded the second charge.",
    )

    assert (record.state, record.resolution_notes) == ("resolved", "Refunded the second charge.")
    changes = records.record_activity(session, record_id=record.id)[-1]["detail"]["changes"]
    assert changes == {"state": ["new", "resolved"], "resolution_notes": {"length": [0, 27]}}


def test_escalate_raises_priority_and_level_and_shows_in_activity(session: Session, chat, agent) -> None:
    record = create(session, chat, agent)

    records.escalate(
        session,
        record_id=record.id,
        actor_id=agent.id,
        group="Billing L2",
        reason="Customer charged twice for three months.",
    )

    assert (record.priority, record.escalation_level) == (2, 1)
    assert record.escalation_group == "Billing L2"
    assert record.escalation_reason == "Customer charged twice for three months."
    assert record.escalated_by_id == agent.id and record.escalated_at is not None
    entry = records.record_activity(session, record_id=record.id)[-1]
    assert (entry["action"], entry["actor"]) == ("record.escalated", "Grace Hopper")
    assert entry["detail"]["group"] == "Billing L2"
    assert entry["detail"]["priority"] == [3, 2]


def test_priority_never_goes_above_one(session: Session, chat, agent) -> None:
    record = create(session, chat, agent)
    for level in (1, 2, 3, 4):
        records.escalate(session, record_id=record.id, actor_id=agent.id, group="Ops", reason=f"Round {level}")

    assert (record.priority, record.escalation_level) == (1, 4)


@pytest.mark.parametrize("state", ["closed", "resolved"])
def test_escalate_is_refused_on_finished_records(session: Session, chat, agent, state: str) -> None:
    record = create(session, chat, agent)
    records.update_record(session, record_id=record.id, actor_id=agent.id, state=state, resolution_notes="Done.")

    with pytest.raises(Conflict):
        records.escalate(session, record_id=record.id, actor_id=agent.id, group="Ops", reason="Why")
    assert record.escalation_level == 0


@pytest.mark.parametrize(("group", "reason"), [("", "Needed"), ("Ops", " "), ("x" * 81, "Needed"), ("Ops", "x" * 1001)])
def test_escalate_needs_a_group_and_a_reason(session: Session, chat, agent, group: str, reason: str) -> None:
    record = create(session, chat, agent)

    with pytest.raises(ValidationError):
        records.escalate(session, record_id=record.id, actor_id=agent.id, group=group, reason=reason)


def test_unknown_record_is_not_found(session: Session, agent) -> None:
    with pytest.raises(NotFound):
        records.escalate(session, record_id=404, actor_id=agent.id, group="Ops", reason="Why")
    with pytest.raises(NotFound):
        records.record_activity(session, record_id=404)
