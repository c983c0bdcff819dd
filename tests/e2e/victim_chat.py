"""Someone else's chat, for the tests that attack it over the websocket: a queue
with a live chat full of data and a chat waiting in it (``make_victim``), and
every row of it to compare before and after (``victim_snapshot``)."""

from __future__ import annotations

import time
import uuid
from dataclasses import dataclass

from sqlalchemy import or_
from sqlmodel import col, select

from agent_workspace.models import (
    Attachment,
    AuditLog,
    EmailStatus,
    Interaction,
    Message,
    OfferRejection,
    OutgoingEmail,
    Queue,
    SenderKind,
    SupportRecord,
    User,
)
from agent_workspace.services import (
    attachment_storage,
    attachments,
    chat_files,
    conversations,
    email,
    left_messages,
    records,
    routing,
    transfers,
)


@dataclass
class Victim:
    """Someone else's queue with a live chat full of data, and a chat waiting in it."""

    queue_id: int
    chat_id: int
    waiting_id: int
    record_id: int
    left_record_id: int  # a message a customer left in the victim's queue
    owner_client_id: str  # of the owner's message, for retry_message
    secrets: tuple[str, ...]  # what must never reach the intruder


def make_victim(world, monkeypatch) -> Victim:
    """Made with the services, straight in the app's database (and its attachment folder)."""
    monkeypatch.setenv("AW_DATA_DIR", str(world.app.data_dir))
    mark = uuid.uuid4().hex[:8]
    queue_name = world.queue("Victim")
    owner_name, _ = world.agent(queues=[queue_name])
    colleague_name, _ = world.agent(queues=[])
    with world.session() as session:
        queue = session.exec(select(Queue).where(Queue.name == queue_name)).one()
        owner, colleague = (
            session.exec(select(User).where(User.username == n)).one() for n in (owner_name, colleague_name)
        )
        for agent in (owner, colleague):
            routing.touch_agent(session, user_id=agent.id)
            routing.set_presence(session, user_id=agent.id, presence="available")
        chat = conversations.start_chat(
            session,
            name=f"Victim {mark}",
            email=f"victim-{mark}@example.com",
            queue_id=queue.id,
            question=f"Secret question {mark}",
        )
        routing.accept(session, user_id=owner.id, queue_id=queue.id)
        conversations.post_message(
            session,
            interaction_id=chat.id,
            sender_kind=SenderKind.CUSTOMER,
            body=f"Secret message {mark}",
            client_id=f"cust-{mark}",
        )
        conversations.post_message(
            session,
            interaction_id=chat.id,
            sender_kind=SenderKind.AGENT,
            sender_user_id=owner.id,
            body=f"Secret reply {mark}",
            client_id=f"owner-{mark}",
        )
        secret_file = attachments.check_file(f"secret-{mark}.txt", b"secret\n")
        chat_files.share_file(
            session,
            interaction_id=chat.id,
            sender_kind=SenderKind.CUSTOMER,
            checked=secret_file,
            storage_name=attachment_storage.write_file(secret_file.data),
        )
        record = records.create_from_interaction(session, interaction_id=chat.id, kind="case", created_by_id=owner.id)
        sent = email.send_email(
            session,
            interaction_id=chat.id,
            to_address=f"victim-{mark}@example.com",
            subject=f"Secret subject {mark}",
            body="b",
            created_by_id=owner.id,
        )
        transfers.to_agent(
            session, interaction_id=chat.id, user_id=owner.id, target_user_id=colleague.id, note=f"Secret note {mark}"
        )
        routing.set_presence(session, user_id=owner.id, presence="away")  # the waiting chat stays unoffered
        waiting = conversations.start_chat(
            session,
            name=f"Waiting {mark}",
            email=f"waiting-{mark}@example.com",
            queue_id=queue.id,
            question=f"Secret wait {mark}",
        )
        left = left_messages.leave_message(
            session,
            queue_id=queue.id,
            name=f"Left {mark}",
            email=f"left-{mark}@example.com",
            message=f"Secret left {mark}",
        )
        attachment = session.exec(select(Attachment).where(Attachment.interaction_id == chat.id)).one()
        assert session.get(Interaction, chat.id).agent_id == owner.id and sent.id
        return Victim(
            queue_id=queue.id,
            chat_id=chat.id,
            waiting_id=waiting.id,
            record_id=record.id,
            left_record_id=left.record_id,
            owner_client_id=f"owner-{mark}",
            secrets=(
                mark,
                chat.public_id,
                waiting.public_id,
                attachment.public_id,
                chat.number,
                record.number,
                left.number,
            ),
        )


def wait_for_outbox(world, victim: Victim, timeout: float = 15) -> None:
    """The app's mail worker delivers the victim's email in the background; the
    snapshot is taken once it has, so only the intruder could change the row."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with world.session() as session:
            pending = session.exec(
                select(OutgoingEmail.id).where(
                    OutgoingEmail.interaction_id == victim.chat_id,
                    col(OutgoingEmail.status).in_([EmailStatus.QUEUED, EmailStatus.SENDING]),
                )
            ).first()
        if pending is None:
            return
        time.sleep(0.1)
    raise AssertionError("the victim's email was never delivered")


def victim_snapshot(world, victim: Victim, intruder_id: int) -> dict[str, object]:
    """Every row of the victim's chats, and what the intruder left in the audit log."""
    chats = (victim.chat_id, victim.waiting_id)
    with world.session() as session:

        def rows(model, *where):
            return [row.model_dump() for row in session.exec(select(model).where(*where).order_by(model.id))]

        record_ids = [
            r.id for r in session.exec(select(SupportRecord).where(col(SupportRecord.interaction_id).in_(chats)))
        ]
        record_ids.append(victim.left_record_id)
        return {
            "interactions": rows(Interaction, col(Interaction.id).in_(chats)),
            "messages": rows(Message, col(Message.interaction_id).in_(chats)),
            "records": rows(SupportRecord, col(SupportRecord.id).in_(record_ids)),
            "emails": rows(
                OutgoingEmail,
                or_(col(OutgoingEmail.interaction_id).in_(chats), col(OutgoingEmail.record_id).in_(record_ids)),
            ),
            "attachments": rows(
                Attachment, or_(col(Attachment.interaction_id).in_(chats), col(Attachment.record_id).in_(record_ids))
            ),
            "rejections": [
                r.model_dump()
                for r in session.exec(select(OfferRejection).where(col(OfferRejection.interaction_id).in_(chats)))
            ],
            "audit about the victim": rows(
                AuditLog,
                or_(
                    (AuditLog.target_kind == "interaction") & col(AuditLog.target_id).in_(chats),
                    (AuditLog.target_kind == "record") & col(AuditLog.target_id).in_(record_ids),
                ),
            ),
            "audit by the intruder": rows(
                AuditLog, AuditLog.actor_id == intruder_id, AuditLog.action != "presence.changed"
            ),
            "stored files": sorted(p.name for p in (world.app.data_dir / "attachments").iterdir()),
        }
