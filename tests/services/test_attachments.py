"""Uploads: content-checked types, private random storage, and who may download."""

from __future__ import annotations

import io
import json
import stat
import zipfile
from pathlib import Path

import pytest
from sqlmodel import Session, select

from agent_workspace.config import PROJECT_ROOT
from agent_workspace.models import Attachment, AuditLog, InteractionState, Queue, QueueMember, SupportRecord
from agent_workspace.services import attachments
from agent_workspace.services.errors import Conflict, NotFound, ValidationError
from tests.factories import make_customer, make_interaction, make_queue, make_user
from tests.services.helpers import make_agent


def office_file(folder: str) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("[Content_Types].xml", "<Types/>")
        archive.writestr(f"{folder}/document.xml", "<document/>")
    return buffer.getvalue()


PNG = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(32)
PDF = b"%PDF-1.7\n1 0 obj\n<<>>\nendobj\n"
EXECUTABLE = b"MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff" + bytes(48) + b"PE\x00\x00"

ACCEPTED = [
    ("screenshot.png", PNG, "image/png"),
    ("photo.JPG", b"\xff\xd8\xff\xe0\x00\x10JFIF\x00" + bytes(16), "image/jpeg"),
    ("photo.jpeg", b"\xff\xd8\xff\xe1\x00\x10Exif" + bytes(16), "image/jpeg"),
    ("anim.gif", b"GIF89a\x01\x00\x01\x00" + bytes(8), "image/gif"),
    ("image.webp", b"RIFF\x24\x00\x00\x00WEBPVP8 " + bytes(16), "image/webp"),
    ("invoice.pdf", PDF, "application/pdf"),
    ("notes.txt", "Grüße, the printer says E42\n".encode(), "text/plain"),
    ("server.log", b"2025-03-14 10:00 ERROR disk full\n", "text/plain"),
    ("orders.csv", b"order,amount\n1001,19.99\n", "text/csv"),
    (
        "letter.docx",
        office_file("word"),
        "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    ),
    (
        "budget.xlsx",
        office_file("xl"),
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    ),
    (
        "slides.pptx",
        office_file("ppt"),
        "application/vnd.openxmlformats-officedocument.presentationml.presentation",
    ),
]


@pytest.fixture
def storage(tmp_path: Path) -> Path:
    return tmp_path / "attachments"


@pytest.fixture
def chat(session: Session):
    agent = make_user(session, "agent_one")
    return make_interaction(session, queue=make_queue(session), customer=make_customer(session), agent=agent)


def upload(session: Session, chat, filename: str, data: bytes, storage: Path, **kwargs):
    return attachments.store_attachment(
        session,
        interaction_id=chat.id,
        filename=filename,
        data=data,
        uploaded_by_kind="customer",
        uploaded_by_user_id=None,
        storage_dir=storage,
        **kwargs,
    )


@pytest.mark.parametrize(("filename", "data", "content_type"), ACCEPTED)
def test_allowed_types_are_accepted_and_detected_from_content(
    session: Session, chat, storage: Path, filename: str, data: bytes, content_type: str
) -> None:
    attachment = upload(session, chat, filename, data, storage)

    assert attachment.content_type == content_type
    assert attachment.filename == filename
    assert attachment.size == len(data)
    assert (storage / attachment.storage_name).read_bytes() == data


def test_a_name_without_extension_gets_the_one_its_content_has(session: Session, chat, storage: Path) -> None:
    assert upload(session, chat, "scan", PDF, storage).filename == "scan.pdf"


@pytest.mark.parametrize(
    ("filename", "data", "message"),
    [
        ("cute-cat.png", EXECUTABLE, "is a program"),
        ("cute-cat.png", PDF, "is really a PDF document"),
        ("report.pdf", PNG, "is really a PNG image"),
        ("notes.txt", PNG, "is really a PNG image"),
        ("setup.exe", EXECUTABLE, ".exe files are not allowed"),
        ("page.html", b"<script>alert(1)</script>", ".html files are not allowed"),
        ("archive.docx", b"PK\x03\x04" + bytes(40), "not a kind of file"),
        ("binary.txt", b"hello\x00world", "not a kind of file"),
        ("latin1.txt", "café".encode("latin-1"), "not a kind of file"),
    ],
)
def test_content_that_is_not_allowed_or_contradicts_the_name_is_refused(
    session: Session, chat, storage: Path, filename: str, data: bytes, message: str
) -> None:
    with pytest.raises(ValidationError, match=message) as refused:
        upload(session, chat, filename, data, storage)

    assert "Allowed are" in str(refused.value) or "does not match its name" in str(refused.value)
    assert session.exec(select(Attachment)).all() == []
    assert not storage.exists() or list(storage.iterdir()) == []


def test_a_plain_zip_or_a_macro_document_is_refused(session: Session, chat, storage: Path) -> None:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("[Content_Types].xml", "<Types/>")
        archive.writestr("word/document.xml", "<document/>")
        archive.writestr("word/vbaProject.bin", "macro")

    with pytest.raises(ValidationError, match="not a kind of file"):
        upload(session, chat, "letter.docx", buffer.getvalue(), storage)


def test_oversize_file_is_refused_with_sizes_in_megabytes(session: Session, chat, storage: Path) -> None:
    limit = 10 * 1024 * 1024

    with pytest.raises(ValidationError, match=r"^File too large: 10\.1 MB \(limit 10 MB\)$"):
        upload(session, chat, "big.txt", b"a" * (limit + 1), storage, max_bytes=limit)


def test_the_configured_limit_applies_by_default(
    session: Session, chat, storage: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("AW_ATTACHMENT_MAX_BYTES", str(1024 * 1024))

    with pytest.raises(ValidationError, match=r"File too large: 1\.5 MB \(limit 1 MB\)"):
        upload(session, chat, "big.txt", b"a" * (1024 * 1024 * 3 // 2), storage)


def test_empty_file_is_refused(session: Session, chat, storage: Path) -> None:
    with pytest.raises(ValidationError, match="is empty"):
        upload(session, chat, "empty.txt", b"", storage)


@pytest.mark.parametrize(
    ("given", "kept"),
    [
        ("C:\\Users\\ada\\Desktop\\invoice.pdf", "invoice.pdf"),
        ("../../etc/invoice.pdf", "invoice.pdf"),
        ("in\x00voi\nce.pdf", "invoice.pdf"),
        ("\u202efdp.pdf", "fdp.pdf"),
        ('what?*"<now>.pdf', "what____now_.pdf"),
        ("...", "attachment.pdf"),
        ("a" * 300 + ".pdf", "a" * 251 + ".pdf"),
    ],
)
def test_stored_filename_is_sanitized(session: Session, chat, storage: Path, given: str, kept: str) -> None:
    assert upload(session, chat, given, PDF, storage).filename == kept


def test_files_are_private_random_names_outside_public_folders(session: Session, chat, tmp_path: Path) -> None:
    attachment = attachments.store_attachment(
        session,
        interaction_id=chat.id,
        filename="screenshot.png",
        data=PNG,
        uploaded_by_kind="customer",
        uploaded_by_user_id=None,
    )

    default_dir = tmp_path / "data" / "attachments"  # AW_DATA_DIR set by the fixture
    stored = default_dir / attachment.storage_name
    assert stored.read_bytes() == PNG
    assert attachment.storage_name != "screenshot.png"
    assert len(attachment.storage_name) == 32 and int(attachment.storage_name, 16) >= 0
    assert len(attachment.public_id) >= 32
    assert stat.S_IMODE(default_dir.stat().st_mode) == 0o700
    assert stat.S_IMODE(stored.stat().st_mode) == 0o600
    for public in (PROJECT_ROOT / "assets", PROJECT_ROOT / ".web"):
        assert not stored.resolve().is_relative_to(public.resolve())


def test_a_storage_folder_inside_the_published_assets_is_refused(session: Session, chat) -> None:
    with pytest.raises(RuntimeError, match="served to anyone"):
        upload(session, chat, "screenshot.png", PNG, PROJECT_ROOT / "assets" / "uploads")
    assert not (PROJECT_ROOT / "assets" / "uploads").exists()


def test_each_upload_gets_its_own_names(session: Session, chat, storage: Path) -> None:
    first = upload(session, chat, "same.png", PNG, storage)
    second = upload(session, chat, "same.png", PNG, storage)

    assert first.storage_name != second.storage_name
    assert first.public_id != second.public_id


def test_upload_is_audited(session: Session, chat, storage: Path) -> None:
    attachment = upload(session, chat, "screenshot.png", PNG, storage)

    entry = session.exec(select(AuditLog).where(AuditLog.action == "attachment.uploaded")).one()
    assert (entry.target_kind, entry.target_id, entry.actor_kind) == ("interaction", chat.id, "customer")
    assert json.loads(entry.detail)["attachment_id"] == attachment.id


def test_a_closed_chat_takes_no_more_files(session: Session, storage: Path) -> None:
    closed = make_interaction(
        session,
        queue=make_queue(session),
        customer=make_customer(session),
        state=InteractionState.CLOSED_COMPLETE,
    )

    with pytest.raises(Conflict):
        upload(session, closed, "screenshot.png", PNG, storage)


def test_an_unknown_chat_is_not_found(session: Session, storage: Path) -> None:
    with pytest.raises(NotFound):
        attachments.store_attachment(
            session,
            interaction_id=404,
            filename="a.png",
            data=PNG,
            uploaded_by_kind="customer",
            uploaded_by_user_id=None,
            storage_dir=storage,
        )


def test_open_attachment_finds_row_and_file(session: Session, chat, storage: Path) -> None:
    attachment = upload(session, chat, "screenshot.png", PNG, storage)

    found, path = attachments.open_attachment(session, public_id=attachment.public_id, storage_dir=storage)

    assert found.id == attachment.id
    assert path.read_bytes() == PNG


def test_open_attachment_is_not_found_for_unknown_id_or_missing_file(session: Session, chat, storage: Path) -> None:
    attachment = upload(session, chat, "screenshot.png", PNG, storage)
    with pytest.raises(NotFound):
        attachments.open_attachment(session, public_id="nope", storage_dir=storage)

    (storage / attachment.storage_name).unlink()
    with pytest.raises(NotFound):
        attachments.open_attachment(session, public_id=attachment.public_id, storage_dir=storage)


def test_download_permissions(session: Session, chat, storage: Path) -> None:
    billing = make_queue(session, "Billing")
    other_queue_agent = make_agent(session, "agent_two", queues=[billing])
    colleague = make_agent(session, "colleague", queues=[session.get(Queue, chat.queue_id)])
    without_role = make_user(session, "no_role", roles="")
    session.add(QueueMember(queue_id=chat.queue_id, user_id=without_role.id))
    supervisor = make_user(session, "boss", roles="workspace_user,supervisor")
    other_chat = make_interaction(session, queue=billing, customer=make_customer(session, "Bob", "bob@example.com"))
    attachment = upload(session, chat, "screenshot.png", PNG, storage)

    def allowed(user_id=None, roles=frozenset(), customer_interaction_id=None) -> bool:
        return attachments.can_download(
            session,
            attachment=attachment,
            user_id=user_id,
            roles=set(roles),
            customer_interaction_id=customer_interaction_id,
        )

    assert allowed(customer_interaction_id=chat.id)
    assert not allowed(customer_interaction_id=other_chat.id)
    assert allowed(user_id=chat.agent_id, roles={"workspace_user"})
    assert allowed(user_id=colleague.id, roles={"workspace_user"})  # the chat's queue: its record page shows the file
    assert not allowed(user_id=other_queue_agent.id, roles={"workspace_user"})
    assert not allowed(user_id=without_role.id, roles=set())
    assert allowed(user_id=supervisor.id, roles={"workspace_user", "supervisor"})
    assert not allowed()
    assert not allowed(roles={"supervisor"})  # a role without a signed-in user means nothing


def test_who_may_view_a_case_gets_the_files_of_its_chat(session: Session, chat, storage: Path) -> None:
    billing = make_queue(session, "Billing")
    case_queue_agent = make_agent(session, "case_queue_agent", queues=[billing])
    other_queue_agent = make_agent(session, "agent_two", queues=[make_queue(session, "Sales")])
    session.add(SupportRecord(kind="case", short_description="Invoice", interaction_id=chat.id, queue_id=billing.id))
    session.commit()
    attachment = upload(session, chat, "screenshot.png", PNG, storage)

    def allowed(user) -> bool:
        return attachments.can_download(
            session, attachment=attachment, user_id=user.id, roles={"workspace_user"}, customer_interaction_id=None
        )

    assert allowed(case_queue_agent)
    assert not allowed(other_queue_agent)


def test_record_files_go_to_whoever_may_view_the_record(session: Session, chat, storage: Path) -> None:
    record = SupportRecord(kind="case", short_description="Invoice", interaction_id=chat.id)
    session.add(record)
    session.commit()
    attachment = attachments.store_attachment(
        session,
        record_id=record.id,
        filename="screenshot.png",
        data=PNG,
        uploaded_by_kind="agent",
        uploaded_by_user_id=chat.agent_id,
        storage_dir=storage,
    )
    colleague = make_agent(session, "colleague", queues=[session.get(Queue, chat.queue_id)])
    other_queue_agent = make_agent(session, "agent_two", queues=[make_queue(session, "Billing")])

    def allowed(**caller) -> bool:
        return attachments.can_download(session, attachment=attachment, **caller)

    assert allowed(user_id=colleague.id, roles={"workspace_user"}, customer_interaction_id=None)
    assert allowed(user_id=chat.agent_id, roles={"workspace_user"}, customer_interaction_id=None)
    assert not allowed(user_id=other_queue_agent.id, roles={"workspace_user"}, customer_interaction_id=None)
    assert not allowed(
        user_id=None, roles=set(), customer_interaction_id=chat.id
    )  # the customer: the chat's files only


def test_downloads_are_audited(session: Session, chat, storage: Path) -> None:
    attachment = upload(session, chat, "screenshot.png", PNG, storage)

    attachments.record_download(session, attachment=attachment, actor_kind="agent", actor_id=chat.agent_id)

    entry = session.exec(select(AuditLog).where(AuditLog.action == "attachment.downloaded")).one()
    assert (entry.target_kind, entry.target_id, entry.actor_id) == ("interaction", chat.id, chat.agent_id)


def test_copies_for_a_record_are_independent_files_and_rows(session: Session, chat, storage: Path) -> None:
    originals = [
        upload(session, chat, "screenshot.png", PNG, storage),
        upload(session, chat, "invoice.pdf", PDF, storage),
    ]
    record = SupportRecord(kind="case", short_description="Invoice", interaction_id=chat.id)
    session.add(record)
    session.commit()

    made = attachments.copy_files(originals, storage)
    copies = attachments.record_copies(session, copies=made, interaction_id=chat.id, record_id=record.id)
    session.commit()

    assert [c.filename for c in copies] == ["screenshot.png", "invoice.pdf"]
    for original, copy in zip(originals, copies):
        assert copy.record_id == record.id and copy.interaction_id is None
        assert copy.public_id != original.public_id
        assert copy.storage_name != original.storage_name
        assert (storage / copy.storage_name).read_bytes() == (storage / original.storage_name).read_bytes()
    assert attachments.list_attachments(session, record_id=record.id) == copies
    assert attachments.list_attachments(session, interaction_id=chat.id) == originals
