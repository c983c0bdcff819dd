"""A chat's whole life through the real services, for the record page and audit words tests.

Ann (General) accepts the offer, the customer sends messages and a file, Ann
edits the details and transfers the chat to Billing, where Bob accepts it, asks
Carol to take it over (she declines), opens a case and escalates it, writes an
email, and closes the chat (saving its history, or by closing the tab); then
the customer rates it.
"""

from __future__ import annotations

from dataclasses import dataclass
from itertools import count

from sqlalchemy import event
from sqlmodel import Session

from agent_workspace import db
from agent_workspace.models import Attachment, Interaction, Presence, Queue, SenderKind, SupportRecord, User
from agent_workspace.services import (
    attachment_storage,
    attachments,
    chat_close,
    chat_files,
    conversations,
    email,
    records,
    routing,
    transfers,
)
from agent_workspace.services.record_access import Viewer
from tests.factories import make_queue, make_user
from tests.services.helpers import fresh, make_agent

PNG = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(32)
TRANSFER_NOTE = "Billing knows refunds"
ESCALATION_REASON = "Charged twice for three months"
_client_ids = count()


@dataclass(frozen=True)
class Story:
    general: Queue
    billing: Queue
    ann: User
    bob: User
    carol: User
    boss: User
    chat: Interaction
    case: SupportRecord
    file: Attachment

    def viewer(self, user: User) -> Viewer:
        return Viewer.of(user.id, set(user.roles.split(",")))


def post(session: Session, chat: Interaction, body: str, *, user: User | None = None) -> None:
    conversations.post_message(
        session,
        interaction_id=chat.id,
        sender_kind=SenderKind.AGENT if user else SenderKind.CUSTOMER,
        sender_user_id=user.id if user else None,
        body=body,
        client_id=f"client-{next(_client_ids):08d}",
    )


def live_chat(
    session: Session, queue: Queue, agent: User, *, question: str = "My invoice shows the wrong amount."
) -> Interaction:
    """A customer's chat in ``queue``, offered to and accepted by ``agent``."""
    started = conversations.start_chat(
        session, name="Ada Lovelace", email="ada@example.com", queue_id=queue.id, question=question
    )
    claimed = routing.accept(session, user_id=agent.id, queue_id=queue.id)
    assert claimed.id == started.id
    return claimed


def share_png(session: Session, chat: Interaction, filename: str = "bill.png") -> Attachment:
    checked = attachments.check_file(filename, PNG)
    message = chat_files.share_file(
        session,
        interaction_id=chat.id,
        sender_kind=SenderKind.CUSTOMER,
        checked=checked,
        storage_name=attachment_storage.write_file(checked.data),
    )
    return session.get(Attachment, message.attachment_id)


def whole_story(session: Session, *, save_history: bool = True, messages: int = 2) -> Story:
    general, billing = make_queue(session, "General"), make_queue(session, "Billing")
    ann = make_agent(session, "ann_agent", queues=[general])
    bob = make_agent(session, "bob_agent", queues=[billing])
    carol = make_agent(session, "carol_agent", queues=[billing], presence=Presence.AWAY)
    boss = make_user(session, "boss", roles="workspace_user,supervisor", display_name="Sam Supervisor")
    chat = live_chat(session, general, ann)
    for number in range(messages):
        post(session, chat, f"Customer line {number}")
    file = share_png(session, chat)
    post(session, chat, "Let me look at that invoice.", user=ann)
    chat_close.update_details(
        session,
        interaction_id=chat.id,
        user_id=ann.id,
        short_description="Invoice charged twice",
        category="billing",
        priority=2,
        work_notes="Double charge on the March invoice.",
    )
    transfers.to_queue(session, interaction_id=chat.id, user_id=ann.id, queue_id=billing.id, note=TRANSFER_NOTE)
    routing.accept(session, user_id=bob.id, queue_id=billing.id)
    routing.set_presence(session, user_id=carol.id, presence=Presence.AVAILABLE)
    transfers.to_agent(session, interaction_id=chat.id, user_id=bob.id, target_user_id=carol.id)
    transfers.answer(session, interaction_id=chat.id, user_id=carol.id, accept=False)
    case = records.create_from_interaction(session, interaction_id=chat.id, kind="case", created_by_id=bob.id)
    records.escalate(session, record_id=case.id, actor_id=bob.id, group="Network", reason=ESCALATION_REASON)
    email.send_email(
        session,
        interaction_id=chat.id,
        to_address="ada@example.com",
        subject="Your invoice",
        body="We refunded the second charge.",
        created_by_id=bob.id,
    )
    post(session, chat, "Refunded, anything else?", user=bob)
    chat_close.close(session, interaction_id=chat.id, user_id=bob.id, save_history=save_history)
    chat_close.rate(session, interaction_id=chat.id, rating=4, comment="Quick help")
    return Story(
        general,
        billing,
        ann,
        bob,
        carol,
        boss,
        fresh(session, Interaction, chat.id),
        fresh(session, SupportRecord, case.id),
        file,
    )


class StatementCounter:
    """Counts the SQL statements run on the app's reader engine (or ``writer``'s) while it is active."""

    def __init__(self, *, writer: bool = False) -> None:
        self.engine = db.get_engine(writer=writer)
        self.statements = 0

    def _count(self, *_args) -> None:
        self.statements += 1

    def __enter__(self) -> StatementCounter:
        event.listen(self.engine, "before_cursor_execute", self._count)
        return self

    def __exit__(self, *_exc) -> None:
        event.remove(self.engine, "before_cursor_execute", self._count)
