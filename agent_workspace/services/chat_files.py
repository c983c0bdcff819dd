"""Files shared in a chat: counted first, stored second, never without their message.

An upload goes in three steps. ``check_upload`` refuses a request the quotas
forbid from the files' sizes alone, before any of them is read into memory or
stored (Starlette has already received the body and spooled it to temporary
files; ``uploads.UploadLimit`` bounds that). ``send_files`` then judges each file and
writes it to disk with no transaction open (the SQLite write turn is never held
over an ``fsync``), and records it in one short write transaction that counts
again, inserts the attachment row and its chat message together. If that
transaction fails or is refused, the file is deleted; if the process dies in
between, ``attachment_storage.sweep_orphans`` deletes it later.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path

from sqlalchemy import case
from sqlmodel import Session, col, func, select

from agent_workspace.config import UploadQuotas, upload_quotas
from agent_workspace.db import session_scope
from agent_workspace.models import (
    OPEN_STATES,
    Attachment,
    Customer,
    Interaction,
    InteractionState,
    Message,
    SenderKind,
    utcnow,
)
from agent_workspace.services import attachment_storage, attachments, conversations
from agent_workspace.services.errors import Conflict, Forbidden, NotFound, ServiceError, ValidationError

QUOTA_WINDOW = timedelta(hours=1)


class QuotaExceeded(ValidationError):
    """More files than a quota allows; nothing of this upload was stored."""


@dataclass(frozen=True)
class IncomingFile:
    filename: str
    data: bytes


@dataclass
class SentFiles:
    """What became of one upload request: the messages posted and what was refused."""

    messages: list[Message] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)


def check_upload(
    session: Session,
    *,
    interaction_id: int,
    sender_kind: SenderKind,
    sizes: list[int],
    sender_user_id: int | None = None,
) -> None:
    """Refuse an upload of files of these ``sizes`` if this sender may not add
    them to this chat now; only reads. Raises a ``ServiceError`` saying why."""
    quotas = upload_quotas()
    if not sizes:
        raise ValidationError("Choose a file to send.")
    if len(sizes) > quotas.files_per_upload:
        raise QuotaExceeded(
            f"Too many files: at most {quotas.files_per_upload} per upload (you chose {len(sizes)}). "
            "Send the others in another upload."
        )
    chat = session.get(Interaction, interaction_id)
    if chat is None:
        raise NotFound("That chat does not exist.")
    if chat.state not in OPEN_STATES or chat.customer_ended_at is not None:
        raise Conflict("This chat has ended; files can no longer be added to it.")
    if sender_kind == SenderKind.AGENT:
        if chat.state != InteractionState.WORK_IN_PROGRESS or chat.agent_id != sender_user_id:
            raise Forbidden("Only the agent assigned to this chat can send files in it.")
        return
    if sender_kind != SenderKind.CUSTOMER:
        raise ValidationError("Only the customer and the agent send files in a chat.")
    _check_customer_quotas(session, chat, count=len(sizes), size=sum(sizes), quotas=quotas)


def upload_too_many() -> str:
    """What the upload endpoint answers a body with more files than an upload may carry."""
    return f"Too many files: at most {upload_quotas().files_per_upload} per upload. Send the others in another upload."


def share_file(
    session: Session,
    *,
    interaction_id: int,
    sender_kind: SenderKind,
    checked: attachments.CheckedFile,
    storage_name: str,
    sender_user_id: int | None = None,
) -> Message:
    """Record a file already written as ``storage_name`` and post it in the chat:
    the row and its message in the caller's one transaction, counted again
    under the chat's lock (a concurrent upload cannot slip past a quota; SQLite
    writers are serialised already)."""
    session.exec(select(Interaction.id).where(Interaction.id == interaction_id).with_for_update()).first()
    check_upload(
        session,
        interaction_id=interaction_id,
        sender_kind=sender_kind,
        sizes=[len(checked.data)],
        sender_user_id=sender_user_id,
    )
    attachment = attachments.record_attachment(
        session,
        checked=checked,
        storage_name=storage_name,
        interaction_id=interaction_id,
        uploaded_by_kind=sender_kind,
        uploaded_by_user_id=sender_user_id,
    )
    message, _follows = conversations.post_message(
        session,
        interaction_id=interaction_id,
        sender_kind=sender_kind,
        sender_user_id=sender_user_id,
        body=f"Sent a file: {attachment.filename}",
        client_id=f"att-{attachment.public_id[:40]}",
        attachment_id=attachment.id,
    )
    if message.attachment_id != attachment.id:  # the insert was undone; so was the row
        raise Conflict(f"“{checked.filename}” could not be sent. Try again.")
    return message


def send_files(
    *,
    interaction_id: int,
    sender_kind: SenderKind,
    files: list[IncomingFile],
    sender_user_id: int | None = None,
    storage_dir: Path | None = None,
) -> SentFiles:
    """Judge, write and post each file, one transaction per file. Blocking: run
    it off the event loop, and after ``check_upload`` (it counts again, per file).

    A file refused by its content is reported and the others go on; once the
    chat refuses one (a quota, the chat ended), the rest are not written at all.
    """
    sent = SentFiles()
    for number, file in enumerate(files):
        try:
            checked = attachments.check_file(file.filename, file.data)
        except ServiceError as error:
            sent.problems.append(f"{attachments.sanitize_filename(file.filename)}: {error}")
            continue
        storage_name = attachment_storage.write_file(checked.data, storage_dir)
        try:
            with session_scope() as session:
                message = share_file(
                    session,
                    interaction_id=interaction_id,
                    sender_kind=sender_kind,
                    checked=checked,
                    storage_name=storage_name,
                    sender_user_id=sender_user_id,
                )
        except BaseException as error:
            attachment_storage.discard(storage_name, storage_dir)
            if not isinstance(error, ServiceError):
                raise
            sent.problems.append(f"{checked.filename}: {error}")
            left = [attachments.sanitize_filename(f.filename) for f in files[number + 1 :]]
            if left:
                sent.problems.append(f"Not sent: {', '.join(left)}.")
            break
        sent.messages.append(message)
    return sent


def _check_customer_quotas(session: Session, chat: Interaction, *, count: int, size: int, quotas: UploadQuotas) -> None:
    since = utcnow() - QUOTA_WINDOW
    in_chat, bytes_in_chat, this_hour = session.exec(
        select(
            func.count(col(Attachment.id)),
            func.coalesce(func.sum(Attachment.size), 0),
            func.coalesce(func.sum(case((col(Attachment.created_at) >= since, 1), else_=0)), 0),
        ).where(Attachment.interaction_id == chat.id, Attachment.uploaded_by_kind == SenderKind.CUSTOMER)
    ).one()
    if in_chat + count > quotas.files_per_chat:
        room = quotas.files_per_chat - in_chat
        raise QuotaExceeded(
            f"A chat can hold {quotas.files_per_chat} of your files: "
            + (f"you can send {room} more." if room > 0 else "this one has no room for more.")
        )
    if bytes_in_chat + size > quotas.bytes_per_chat:
        room = max(0, quotas.bytes_per_chat - bytes_in_chat)
        raise QuotaExceeded(
            f"A chat can hold {attachments.format_size(quotas.bytes_per_chat)} of your files: "
            f"{attachments.format_size(room)} are left."
        )
    if this_hour + count > quotas.files_per_chat_hour:
        room = quotas.files_per_chat_hour - this_hour
        raise QuotaExceeded(
            f"You can send {quotas.files_per_chat_hour} files an hour: "
            + (f"{room} more now, the rest later." if room > 0 else "try again later.")
        )
    customer = session.get(Customer, chat.customer_id)
    address = customer.client_address if customer else ""
    if address and _files_from_address(session, address, since) + count > quotas.files_per_address_hour:
        raise QuotaExceeded("Too many files have come from your network in the last hour: try again later.")
    recent = session.exec(
        select(func.count(col(Message.id))).where(
            Message.interaction_id == chat.id,
            Message.sender_kind == SenderKind.CUSTOMER,
            col(Message.created_at) >= utcnow() - conversations.MESSAGE_RATE_WINDOW,
        )
    ).one()
    if recent + count > conversations.MAX_CUSTOMER_MESSAGES_PER_WINDOW:
        raise QuotaExceeded("Slow down: you are sending messages too fast. Wait a few seconds and retry.")


def _files_from_address(session: Session, address: str, since) -> int:
    """Customer files of the last hour in every chat started from ``address``
    (customers by their address index, their chats and files by foreign-key indexes)."""
    return session.exec(
        select(func.count(col(Attachment.id)))
        .join(Interaction, col(Interaction.id) == col(Attachment.interaction_id))
        .join(Customer, col(Customer.id) == col(Interaction.customer_id))
        .where(
            Customer.client_address == address,
            Attachment.uploaded_by_kind == SenderKind.CUSTOMER,
            col(Attachment.created_at) >= since,
        )
    ).one()
