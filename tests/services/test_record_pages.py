"""Record pages: an interaction, case or incident as a person reads it, built from real service calls."""

from __future__ import annotations

import pytest
from sqlmodel import Session

from agent_workspace import db
from agent_workspace.models import Interaction, SupportRecord
from agent_workspace.services import audit, left_messages, record_pages, records
from agent_workspace.services.errors import NotFound
from agent_workspace.services.record_access import Viewer
from tests.factories import add_message, make_queue
from tests.services.helpers import fresh, make_agent
from tests.services.record_helpers import (
    ESCALATION_REASON,
    TRANSFER_NOTE,
    StatementCounter,
    live_chat,
    post,
    whole_story,
)


def details(page: record_pages.RecordPage) -> dict[str, str]:
    return {field.label: field.value for field in page.details}


def texts(lines) -> list[str]:
    return [line.text for line in lines]


def test_an_interaction_page_says_everything_in_words(session: Session) -> None:
    story = whole_story(session)

    page = record_pages.record_page(session, story.viewer(story.boss), story.chat.number)

    assert (page.kind, page.number, page.title) == ("interaction", story.chat.number, "Invoice charged twice")
    assert (page.state_label, page.closed, page.history_saved, page.history_notice) == (
        "Closed complete",
        True,
        True,
        "",
    )
    assert details(page) | {"Opened": "", "Accepted": "", "Closed": ""} == {
        "Number": story.chat.number,
        "State": "Closed complete",
        "Queue": "Billing",
        "Customer": "Ada Lovelace",
        "Email": "ada@example.com",
        "Agent": "Bob Agent",
        "Category": "Billing",
        "Priority": "2 - High",
        "Opened": "",
        "Accepted": "",
        "Closed": "",
        "Wait": "0 s",
        "Duration": "0 s",
        "Close reason": "The agent ended the chat",
        "Rating": "4 of 5",
    }
    assert details(page)["Closed"].endswith(" UTC")
    bodies = [(line.sender_name, line.body) for line in page.conversation]
    assert ("Ada Lovelace", "Customer line 0") in bodies and ("Bob Agent", "Refunded, anything else?") in bodies
    [with_file] = [line for line in page.conversation if line.attachment_public_id]
    assert (with_file.attachment_public_id, with_file.attachment_name) == (story.file.public_id, "bill.png")
    assert page.work_notes == "Double charge on the March invoice."
    assert [(r.kind, r.number, r.summary, r.state_label) for r in page.related] == [
        ("case", story.case.number, "Invoice charged twice", "New")
    ]
    assert [(e.to_address, e.subject, e.status) for e in page.emails] == [
        ("ada@example.com", "Your invoice", "Queued, not sent: no mail server is configured")
    ]
    assert texts(page.transfers) == [
        f"Ann Agent transferred the chat from General to Billing: {TRANSFER_NOTE}",
        "Bob Agent asked Carol Agent to take over the chat",
        "Carol Agent declined the transfer of the chat from Bob Agent",
    ]
    assert texts(page.escalations) == [
        f"Bob Agent escalated {story.case.number}: priority 2 - High → 1 - Critical, group Network, level 1. Reason: {ESCALATION_REASON}"
    ]
    assert (page.rating, page.rating_comment) == (4, "Quick help")
    history = texts(page.history)
    assert history[0] == "The customer started the chat in General"
    assert "System offered the chat to Ann Agent" in history
    assert (
        "Ann Agent changed the chat: category Inquiry → Billing, priority 4 - Low → 2 - High, "
        "short description “My invoice shows the wrong amount.” → “Invoice charged twice”, work notes edited (0 → 35 characters)"
    ) in history
    assert "The customer attached bill.png (48 B) to the chat" in history
    assert history[-2:] == ["Bob Agent closed the chat and saved its history", "The customer rated the chat 4 of 5"]
    assert all("{" not in text and "[" not in text for text in history)
    assert page.description == "My invoice shows the wrong amount."


def test_a_chat_closed_by_its_tab_says_its_history_was_not_saved(session: Session) -> None:
    story = whole_story(session, save_history=False)
    viewer = story.viewer(story.bob)

    page = record_pages.record_page(session, viewer, story.chat.number)

    assert (page.closed, page.history_saved) == (True, False)
    assert page.history_notice.startswith(
        "The chat was closed by closing its tab: its history was not saved to the record."
    )
    assert details(page)["Close reason"] == "Closed by closing the tab, without saving the history"
    assert "Customer line 1" in [line.body for line in page.conversation]  # the messages are still there
    assert "Bob Agent closed the chat by closing its tab: the conversation history was not saved" in texts(page.history)
    name, text = record_pages.transcript_of(session, viewer, story.chat.number)
    assert name == f"{story.chat.number}-transcript.txt"
    assert text.startswith(page.history_notice) and "Ada Lovelace: Customer line 1" in text


def test_the_transcript_is_the_one_saved_at_close(session: Session) -> None:
    story = whole_story(session)
    viewer = story.viewer(story.boss)

    assert record_pages.transcript_of(session, viewer, story.chat.number) == (
        f"{story.chat.number}-transcript.txt",
        story.chat.transcript,
    )
    assert record_pages.transcript_of(session, viewer, story.case.number) == (
        f"{story.chat.number}-transcript.txt",
        story.chat.transcript,
    )


def test_a_number_is_found_however_it_is_typed(session: Session) -> None:
    story = whole_story(session)
    viewer = story.viewer(story.boss)
    digits = int(story.chat.number[3:])

    for typed in (story.chat.number, f"  ims{digits} ", f"Ims{digits:09d}", story.chat.number.lower()):
        assert record_pages.record_page(session, viewer, typed).number == story.chat.number
    assert record_pages.record_page(session, viewer, f" cs{int(story.case.number[2:])}").number == story.case.number
    for wrong in ("INC" + story.case.number[2:], "IMS9999999", "hello", "", "IMS"):
        with pytest.raises(NotFound, match=record_pages.NOT_FOUND):
            record_pages.record_page(session, viewer, wrong)


def test_a_record_outside_the_viewers_queues_reads_as_not_existing(session: Session) -> None:
    story = whole_story(session)
    outsider = make_agent(session, "outsider", queues=[make_queue(session, "Sales")])
    stranger = Viewer.of(outsider.id, {"workspace_user"})

    for number in (story.chat.number, story.case.number):
        for look in (record_pages.record_page, record_pages.transcript_of):
            with pytest.raises(NotFound) as refused:
                look(session, stranger, number)
            with pytest.raises(NotFound) as missing:
                look(session, stranger, number[:-4] + "9999")
            assert str(refused.value) == str(missing.value) == record_pages.NOT_FOUND
        assert record_pages.record_page(session, story.viewer(story.carol), number).number == number  # a Billing agent


def test_a_case_page_shows_its_chat_escalations_and_resolution(session: Session) -> None:
    story = whole_story(session)
    viewer = story.viewer(story.bob)

    page = record_pages.record_page(session, viewer, story.case.number)

    assert (page.kind, page.state_label, page.closed, page.history_saved, page.history_notice) == (
        "case",
        "New",
        False,
        None,
        "",
    )
    shown = details(page)
    assert (shown["Priority"], shown["Escalation"], shown["Queue"], shown["Created by"]) == (
        "1 - Critical",
        "Level 1, Network",
        "Billing",
        "Bob Agent",
    )
    assert shown["Source"] == f"Chat {story.chat.number}"
    assert [(r.kind, r.number, r.state_label) for r in page.related] == [
        ("interaction", story.chat.number, "Closed complete")
    ]
    assert page.conversation == record_pages.record_page(session, viewer, story.chat.number).conversation
    assert texts(page.history)[0] == f"Bob Agent created case {story.case.number} from the chat {story.chat.number}"
    assert texts(page.escalations) == [texts(page.history)[1]]
    assert (
        texts(page.transfers)[0]
        == f"Ann Agent transferred the chat {story.chat.number} from General to Billing: {TRANSFER_NOTE}"
    )
    assert "Customer's question" in page.description and page.rating == 4

    records.update_record(
        session, record_id=story.case.id, actor_id=story.bob.id, state="resolved", resolution_notes="Refunded."
    )
    resolved = record_pages.record_page(session, viewer, story.case.number)
    assert (resolved.state_label, resolved.closed, resolved.resolution_notes) == ("Resolved", True, "Refunded.")
    assert (
        texts(resolved.history)[-1]
        == f"Bob Agent changed {story.case.number}: resolution notes edited (0 → 9 characters), state New → Resolved"
    )


def test_an_open_chat_is_not_read_only_and_has_no_verdict_on_its_history(session: Session, queue) -> None:
    agent = make_agent(session, "ann_agent", queues=[queue])
    chat = live_chat(session, queue, agent)
    post(session, chat, "Hello?")

    page = record_pages.record_page(session, Viewer.of(agent.id, {"workspace_user"}), chat.number)

    assert (page.closed, page.history_saved, page.history_notice, page.state_label) == (
        False,
        None,
        "",
        "Work in progress",
    )
    assert details(page)["Closed"] == "—" and details(page)["Rating"] == "Not rated"
    assert page.conversation[-1].body == "Hello?"


def test_a_left_message_is_a_case_without_a_chat(session: Session, queue) -> None:
    member = make_agent(session, "ann_agent", queues=[queue])
    left = left_messages.leave_message(
        session, queue_id=queue.id, name="Ada Lovelace", email="ada@example.com", message="Call me back."
    )
    record = fresh(session, SupportRecord, left.record_id)
    viewer = Viewer.of(member.id, {"workspace_user"})

    page = record_pages.record_page(session, viewer, record.number)

    assert (page.related, page.conversation, page.transfers) == ([], [], [])
    shown = details(page)
    assert (shown["Source"], shown["Created by"], shown["Queue"], shown["Customer"]) == (
        "A message left on the public page",
        "The customer",
        "General",
        "Ada Lovelace",
    )
    assert texts(page.history) == [f"The customer left a message in General: case {record.number} was opened"]
    with pytest.raises(NotFound, match="has no transcript"):
        record_pages.transcript_of(session, viewer, record.number)


def _statements_for(number: str, viewer: Viewer) -> int:
    with Session(db.get_engine(writer=False)) as fresh_session, StatementCounter() as counter:
        record_pages.record_page(fresh_session, viewer, number)
    return counter.statements


def test_a_page_costs_the_same_statements_however_long_the_chat(session: Session) -> None:
    story = whole_story(session, messages=2)
    agent, supervisor = story.viewer(story.bob), story.viewer(story.boss)
    before = {
        (who, number): _statements_for(number, who)
        for who in (agent, supervisor)
        for number in (story.chat.number, story.case.number)
    }

    chat = session.get(Interaction, story.chat.id)
    for number in range(60):
        add_message(session, chat, f"Later line {number}", attachment=story.file if number % 10 == 0 else None)
    for number in range(20):  # more transfers, between more people and queues
        other = make_agent(session, f"agent_{number}", queues=[make_queue(session, f"Queue {number}")])
        audit.record(
            session,
            action="interaction.transfer_requested",
            actor_kind="agent",
            actor_id=other.id,
            target_kind="interaction",
            target_id=chat.id,
            to_agent=story.carol.id,
            note=f"Round {number}",
        )
    session.commit()

    after = {
        (who, number): _statements_for(number, who)
        for who in (agent, supervisor)
        for number in (story.chat.number, story.case.number)
    }
    assert after == before
    assert max(after.values()) <= 14
