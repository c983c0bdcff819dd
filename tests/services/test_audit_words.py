"""The audit trail in words: sentences with names and labels for every audit action."""

from __future__ import annotations

import re

import pytest
from sqlmodel import Session, col, select

from agent_workspace.models import AuditLog, EmailStatus
from agent_workspace.services import (
    audit,
    audit_words,
    auth,
    canned,
    chat_close,
    hours,
    records,
    routing,
)
from agent_workspace.services.audit import AuditAction
from agent_workspace.services.errors import ValidationError
from agent_workspace.services.knowledge.articles import upsert_article
from tests.factories import make_customer, make_interaction, make_queue, make_user
from tests.services.helpers import make_agent, use_fast_argon2
from tests.services.record_helpers import StatementCounter, whole_story

# whole_story's edit of the chat's details, in words.
DETAILS_EDIT = (
    "category Inquiry → Billing, priority 4 - Low → 2 - High, "
    "short description “My invoice shows the wrong amount.” → “Invoice charged twice”, work notes edited (0 → 35 characters)"
)


def sentences(session: Session, *, here: tuple[str, int] | None = None) -> list[str]:
    entries = list(session.exec(select(AuditLog).order_by(col(AuditLog.id))))
    return [line.text for line in audit_words.describe(session, entries, here=here)]


def test_every_audit_action_has_a_sentence() -> None:
    assert audit_words.KNOWN_ACTIONS == set(AuditAction)
    assert set(audit.EMAIL_ACTIONS) == set(EmailStatus)  # every outcome of the outbox is an action


def test_the_log_refuses_an_action_outside_the_enum(session: Session) -> None:
    """The code writes no action without a sentence: ``record`` refuses one (and mypy
    refuses a plain string where an ``AuditAction`` is due)."""
    with pytest.raises(ValueError, match="widget.spun_up"):
        audit.record(session, action="widget.spun_up", actor_kind="system")  # type: ignore[arg-type]

    audit.record(session, action=AuditAction.LOGIN, actor_kind="agent")
    session.commit()
    assert [row.action for row in session.exec(select(AuditLog))] == ["login"]  # the stored text is unchanged


def test_a_chats_life_reads_as_sentences_with_names(session: Session) -> None:
    story = whole_story(session)
    chat, case = story.chat.number, story.case.number

    said = sentences(session)

    assert f"System offered the chat {chat} to Ann Agent" in said
    assert f"Ann Agent transferred the chat {chat} from General to Billing: Billing knows refunds" in said
    assert f"Carol Agent declined the transfer of the chat {chat} from Bob Agent" in said
    assert f"Ann Agent changed the chat {chat}: {DETAILS_EDIT}" in said
    assert (
        f"Bob Agent escalated {case}: priority 2 - High → 1 - Critical, group Network, level 1. Reason: Charged twice for three months"
        in said
    )
    assert f"The customer rated the chat {chat} 4 of 5" in said
    assert "Carol Agent set their presence to Available" in said
    on_its_page = sentences(session, here=("interaction", story.chat.id))
    assert "The customer rated the chat 4 of 5" in on_its_page
    assert f"Ann Agent changed the chat: {DETAILS_EDIT}" in on_its_page
    assert f"Bob Agent created case {case} from the chat" in on_its_page
    for text in said:
        assert not re.search(r'[{}\[\]"]|_id\b', text), text


def test_an_edit_reads_each_field_from_old_to_new(session: Session, queue) -> None:
    alice = make_user(session, "alice", display_name="Alice Martin")
    chat = make_interaction(session, queue=queue, customer=make_customer(session), agent=alice)

    def edit(short_description: str, priority: int, work_notes: str) -> None:
        chat_close.update_details(
            session,
            interaction_id=chat.id,
            user_id=alice.id,
            short_description=short_description,
            category="inquiry",
            priority=priority,
            work_notes=work_notes,
        )

    edit("Printer", 4, "Toner low.")
    edit("Printer offline", 2, "Toner low. Paper jam too.")
    case = records.create_from_interaction(session, interaction_id=chat.id, kind="case", created_by_id=alice.id)
    prefilled = len(case.description)
    records.update_record(
        session,
        record_id=case.id,
        actor_id=alice.id,
        state="in_progress",
        priority=1,
        description="Printer on floor 2.",
    )
    records.update_record(
        session, record_id=case.id, actor_id=alice.id, state="resolved", resolution_notes="Cleared the jam."
    )

    said = sentences(session)

    assert said[:2] == [
        f"Alice Martin changed the chat {chat.number}: short description set to “Printer”, work notes edited (0 → 10 characters)",
        f"Alice Martin changed the chat {chat.number}: priority 4 - Low → 2 - High, "
        "short description “Printer” → “Printer offline”, work notes edited (10 → 25 characters)",
    ]
    assert said[-2:] == [
        f"Alice Martin changed {case.number}: description edited ({prefilled} → 19 characters), priority 2 - High → 1 - Critical, state New → In progress",
        f"Alice Martin changed {case.number}: resolution notes edited (0 → 16 characters), state In progress → Resolved",
    ]


def test_edits_logged_before_the_values_were_kept_still_read(session: Session, queue) -> None:
    alice = make_user(session, "alice", display_name="Alice Martin")
    chat = make_interaction(session, queue=queue, customer=make_customer(session), agent=alice)
    case = records.create_from_interaction(session, interaction_id=chat.id, kind="case", created_by_id=alice.id)
    audit.record(
        session,
        action=AuditAction.INTERACTION_UPDATED,
        actor_kind="agent",
        actor_id=alice.id,
        target_kind="interaction",
        target_id=chat.id,
        fields=["priority", "work_notes"],
    )
    audit.record(
        session,
        action=AuditAction.RECORD_UPDATED,
        actor_kind="agent",
        actor_id=alice.id,
        target_kind="record",
        target_id=case.id,
        changes={"description": "(edited)", "priority": [3, 2]},
    )
    session.commit()

    said = sentences(session)

    assert said[-2:] == [
        f"Alice Martin changed Priority, Work notes of the chat {chat.number}",
        f"Alice Martin changed {case.number}: description edited, priority 3 - Moderate → 2 - High",
    ]


def test_email_outcomes_are_told_by_the_system(session: Session) -> None:
    story = whole_story(session)
    audit.record(
        session,
        action=AuditAction.EMAIL_FAILED,
        actor_kind="agent",
        actor_id=story.bob.id,
        target_kind="interaction",
        target_id=story.chat.id,
        email_id=1,
        to="ada@example.com",
        subject="Your invoice",
        error="550 mailbox unavailable",
    )
    session.commit()

    [line] = audit_words.describe(
        session, [session.exec(select(AuditLog).where(AuditLog.action == "email.failed")).one()]
    )

    assert line.actor == "System"
    assert (
        line.text
        == f"The email to ada@example.com “Your invoice” about the chat {story.chat.number} could not be sent: 550 mailbox unavailable"
    )


def test_accounts_queues_and_knowledge_read_in_words(session: Session, monkeypatch) -> None:
    use_fast_argon2(monkeypatch)
    queue = make_queue(session, "General")
    lead = make_agent(session, "ann_agent", queues=[queue])
    auth.create_user(
        session,
        username="bob",
        password="a long enough password",
        display_name="Bob Agent",
        roles=["workspace_user", "supervisor"],
    )
    auth.set_roles(session, username="bob", roles=["workspace_user"])
    auth.deactivate(session, username="bob")
    with pytest.raises(ValidationError):
        auth.finish_login(
            session, check=auth.begin_login(session, username="nobody", client_address="192.0.2.1"), ok=False
        )
    hours.set_hours(
        session,
        queue_id=queue.id,
        weekly_hours="Mon-Fri 09:00-17:00",
        time_zone="Europe/Berlin",
        closures="",
        closed_message="",
        actor_id=lead.id,
    )
    response = canned.create(session, title="Greeting", body="Hello!", queue_id=None, created_by_id=lead.id)
    canned.delete(session, response_id=response.id, actor_id=lead.id)
    upsert_article(session, title="Reset a password", body="Open Settings.", actor_id=lead.id)
    routing.set_after_hours(session, user_id=lead.id, enabled=True)
    session.commit()

    said = sentences(session)

    assert "System created the user Bob Agent with the roles Supervisor, Workspace user" in said
    assert "System set the roles of Bob Agent to Workspace user (removed: Supervisor)" in said
    assert "System deactivated Bob Agent" in said
    assert "Someone failed to sign in as “nobody”" in said
    assert "Ann Agent changed the business hours of the queue General: Mon-Fri 09:00-17:00 (Europe/Berlin)" in said
    assert "Ann Agent deleted a canned response" in said  # its title went with it
    assert any(re.fullmatch(r"Ann Agent created knowledge article KB\d+", text) for text in said)
    assert "Ann Agent opted in to chats outside business hours" in said


def test_an_action_without_a_sentence_still_reads_as_words(session: Session) -> None:
    agent = make_user(session, "ann_agent")
    # A row of an action this version no longer writes (``audit.record`` refuses it now).
    detail = '{"limits": {"max_rpm": 9}, "noisy": true, "speeds": [1, 2], "widget_id": 7}'
    session.add(
        AuditLog(
            action="widget.spun_up",
            actor_kind="agent",
            actor_id=agent.id,
            target_kind="widget",
            target_id=7,
            detail=detail,
        )
    )
    session.commit()

    [line] = audit_words.describe(session, list(session.exec(select(AuditLog))))

    assert (line.actor, line.text) == (
        "Ann Agent",
        "Ann Agent: widget spun up (widget) — limits Max rpm 9, noisy yes, speeds 1, 2",
    )
    assert audit_words.action_label("widget.spun_up") == "Widget spun up"


def test_names_for_many_rows_are_read_once_per_kind(session: Session) -> None:
    for number in range(30):
        agent = make_agent(session, f"agent_{number}", queues=[make_queue(session, f"Queue {number}")])
        audit.record(
            session,
            action=AuditAction.PRESENCE_CHANGED,
            actor_kind="agent",
            actor_id=agent.id,
            target_kind="user",
            target_id=agent.id,
            presence="away",
        )
        audit.record(
            session, action=AuditAction.QUEUE_CREATED, actor_kind="system", target_kind="queue", target_id=number + 1
        )
    session.commit()
    entries = list(session.exec(select(AuditLog)))

    with StatementCounter(writer=True) as few:
        audit_words.describe(session, entries[:2])
    with StatementCounter(writer=True) as many:
        lines = audit_words.describe(session, entries)

    assert many.statements == few.statements <= 2  # the people, the queues
    assert lines[0].text == "Agent 0 set their presence to Away" and lines[1].text == "System created the queue Queue 0"
