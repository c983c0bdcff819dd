"""Files shared in a chat, and files kept on cases and incidents.

An upload is judged by its content, never by its name: only a short list of
harmless formats is accepted, and a name that claims another format than the
bytes carry (a program renamed ``photo.png``) is refused. Files are stored
outside anything the web server publishes, under random names, and are reached
only through an unguessable ``public_id`` once ``can_download`` agrees.
"""

from __future__ import annotations

import io
import math
import re
import secrets
import unicodedata
import zipfile
from dataclasses import dataclass
from pathlib import Path, PurePath

from sqlmodel import Session, col, select

from agent_workspace.config import settings
from agent_workspace.models import (
    OPEN_STATES,
    Attachment,
    Interaction,
    Role,
    SupportRecord,
)
from agent_workspace.services import attachment_storage, audit
from agent_workspace.services.audit import AuditAction
from agent_workspace.services.errors import Conflict, NotFound, ValidationError
from agent_workspace.services.record_access import Viewer, can_view_interaction, can_view_record

MEGABYTE = 1024 * 1024
MAX_FILENAME_LENGTH = 255
# Room around the files of one upload request for its multipart framing.
MULTIPART_OVERHEAD = 64 * 1024


@dataclass(frozen=True)
class FileType:
    content_type: str
    label: str
    # The first extension is the one given to a file uploaded without one.
    extensions: tuple[str, ...]


PNG = FileType("image/png", "PNG image", (".png",))
JPEG = FileType("image/jpeg", "JPEG image", (".jpg", ".jpeg"))
GIF = FileType("image/gif", "GIF image", (".gif",))
WEBP = FileType("image/webp", "WebP image", (".webp",))
PDF = FileType("application/pdf", "PDF document", (".pdf",))
TEXT = FileType("text/plain", "text file", (".txt", ".log"))
CSV = FileType("text/csv", "CSV file", (".csv",))
DOCX = FileType(
    "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    "Word document",
    (".docx",),
)
XLSX = FileType(
    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "Excel workbook",
    (".xlsx",),
)
PPTX = FileType(
    "application/vnd.openxmlformats-officedocument.presentationml.presentation",
    "PowerPoint presentation",
    (".pptx",),
)
ALLOWED_TYPES = (PNG, JPEG, GIF, WEBP, PDF, TEXT, CSV, DOCX, XLSX, PPTX)
ALLOWED_EXTENSIONS = frozenset(ext for kind in ALLOWED_TYPES for ext in kind.extensions)
ALLOWED_TYPES_TEXT = (
    "PNG, JPEG, GIF and WebP images, PDF documents, text, CSV and log files, "
    "and Word, Excel and PowerPoint files (.docx, .xlsx, .pptx)"
)

# Windows and macOS programs; only named in the refusal, they fail the checks anyway.
_EXECUTABLE_MAGIC = (
    b"MZ",
    b"\x7fELF",
    b"\xca\xfe\xba\xbe",
    b"\xfe\xed\xfa\xce",
    b"\xfe\xed\xfa\xcf",
    b"\xce\xfa\xed\xfe",
    b"\xcf\xfa\xed\xfe",
)
# Characters Windows refuses in file names; replaced so a download saves anywhere.
_RESERVED_CHARACTERS = str.maketrans({c: "_" for c in '<>:"|?*'})


def format_size(size: int) -> str:
    """A byte count the way people read it: "512 B", "14 KB", "2.5 MB"."""
    if size < 1024:
        return f"{size} B"
    if size < MEGABYTE:
        return f"{round(size / 1024)} KB"
    return f"{round(size / MEGABYTE, 1):g} MB"


def sanitize_filename(filename: str) -> str:
    """The name to keep and offer on download: the last path part, printable, ≤ 255 chars.

    Browsers on Windows may send a full ``C:\\...`` path; invisible format
    characters are dropped so a right-to-left override cannot disguise
    ``gnp.exe`` as ``exe.png``.
    """
    name = re.split(r"[\\/]", unicodedata.normalize("NFC", filename))[-1]
    name = "".join(ch for ch in name if unicodedata.category(ch) not in ("Cc", "Cf"))
    name = name.translate(_RESERVED_CHARACTERS).strip().strip(".").strip()
    if len(name) > MAX_FILENAME_LENGTH:
        suffix = PurePath(name).suffix
        if len(suffix) > 16:
            suffix = ""
        name = name[: MAX_FILENAME_LENGTH - len(suffix)] + suffix
    return name or "attachment"


def detect_content_type(filename: str, data: bytes) -> str:
    """The content type of ``data`` if it is an allowed kind that agrees with ``filename``.

    Raises ``ValidationError`` naming the allowed types otherwise.
    """
    return _check_type(filename, data).content_type


@dataclass(frozen=True)
class CheckedFile:
    """An upload that passed every check, under the name it will be kept as."""

    filename: str
    content_type: str
    data: bytes


def check_file(filename: str, data: bytes, *, max_bytes: int | None = None) -> CheckedFile:
    """Judge one file by its size and content; no database, no disk.

    Raises ``ValidationError`` with a message for the person uploading.
    """
    name = sanitize_filename(filename)
    limit = settings().attachment_max_bytes if max_bytes is None else max_bytes
    if not data:
        raise ValidationError(f"“{name}” is empty.")
    if len(data) > limit:
        raise ValidationError(f"File too large: {_megabytes(len(data))} MB (limit {_megabytes(limit)} MB)")
    file_type = _check_type(name, data)
    if not PurePath(name).suffix:
        name = name[: MAX_FILENAME_LENGTH - 5] + file_type.extensions[0]
    return CheckedFile(filename=name, content_type=file_type.content_type, data=data)


def record_attachment(
    session: Session,
    *,
    checked: CheckedFile,
    storage_name: str,
    interaction_id: int | None = None,
    record_id: int | None = None,
    uploaded_by_kind: str,
    uploaded_by_user_id: int | None,
) -> Attachment:
    """The row (and audit entry) of a file already written; the caller commits."""
    target_kind, target_id = _owner(session, interaction_id, record_id)
    attachment = Attachment(
        public_id=secrets.token_urlsafe(24),
        interaction_id=interaction_id,
        record_id=record_id,
        filename=checked.filename,
        content_type=checked.content_type,
        size=len(checked.data),
        storage_name=storage_name,
        uploaded_by_kind=uploaded_by_kind,
        uploaded_by_user_id=uploaded_by_user_id,
    )
    session.add(attachment)
    session.flush()
    audit.record(
        session,
        action=AuditAction.ATTACHMENT_UPLOADED,
        actor_kind=uploaded_by_kind,
        actor_id=uploaded_by_user_id,
        target_kind=target_kind,
        target_id=target_id,
        attachment_id=attachment.id,
        filename=checked.filename,
        content_type=checked.content_type,
        size=len(checked.data),
    )
    return attachment


def store_attachment(
    session: Session,
    *,
    interaction_id: int | None = None,
    record_id: int | None = None,
    filename: str,
    data: bytes,
    uploaded_by_kind: str,
    uploaded_by_user_id: int | None,
    max_bytes: int | None = None,
    storage_dir: Path | None = None,
) -> Attachment:
    """Check a file, write it to private storage and record it on a chat or a record.

    The file is written before this function's first statement, and deleted
    again if the row is not committed. Chat uploads go through
    ``chat_files.send_files`` instead, which also counts them against the quotas.
    """
    checked = check_file(filename, data, max_bytes=max_bytes)
    storage_name = attachment_storage.write_file(checked.data, storage_dir)
    try:
        attachment = record_attachment(
            session,
            checked=checked,
            storage_name=storage_name,
            interaction_id=interaction_id,
            record_id=record_id,
            uploaded_by_kind=uploaded_by_kind,
            uploaded_by_user_id=uploaded_by_user_id,
        )
        session.commit()
    except BaseException:
        attachment_storage.discard(storage_name, storage_dir)
        raise
    return attachment


def open_attachment(session: Session, *, public_id: str, storage_dir: Path | None = None) -> tuple[Attachment, Path]:
    """The attachment row and the path of its file; ``NotFound`` if either is missing."""
    attachment = session.exec(select(Attachment).where(Attachment.public_id == public_id)).first()
    if attachment is None:
        raise NotFound("That file does not exist.")
    path = attachment_storage.storage_root(storage_dir) / attachment.storage_name
    if not path.is_file():
        raise NotFound("That file is no longer available.")
    return attachment, path


def can_download(
    session: Session,
    *,
    attachment: Attachment,
    user_id: int | None,
    roles: set[str],
    customer_interaction_id: int | None,
) -> bool:
    """Whether this caller may fetch the file.

    A chat's files go to that chat's customer and to the workspace users who may
    view the chat (``record_access``: the agents of its queue, the agents who
    handled it, supervisors) or a case or incident made from it; a case's or
    incident's files to those who may view that record. The record pages link
    every file they show, so the two answers agree.
    """
    if attachment.interaction_id is not None and customer_interaction_id == attachment.interaction_id:
        return True
    if user_id is None or not roles & {Role.WORKSPACE_USER, Role.SUPERVISOR}:
        return False
    viewer = Viewer.of(user_id, roles)
    if attachment.record_id is not None:
        record = session.get(SupportRecord, attachment.record_id)
        return record is not None and can_view_record(session, viewer, record)
    interaction = session.get(Interaction, attachment.interaction_id) if attachment.interaction_id is not None else None
    if interaction is None:
        return False
    if can_view_interaction(session, viewer, interaction):
        return True
    made_from_it = session.exec(select(SupportRecord).where(SupportRecord.interaction_id == interaction.id))
    return any(can_view_record(session, viewer, record) for record in made_from_it)


def record_download(session: Session, *, attachment: Attachment, actor_kind: str, actor_id: int | None) -> None:
    """Log that a file was handed out: who saw a customer's file is worth knowing."""
    target_kind, target_id = (
        ("record", attachment.record_id)
        if attachment.record_id is not None
        else ("interaction", attachment.interaction_id)
    )
    audit.record(
        session,
        action=AuditAction.ATTACHMENT_DOWNLOADED,
        actor_kind=actor_kind,
        actor_id=actor_id,
        target_kind=target_kind,
        target_id=target_id,
        attachment_id=attachment.id,
        filename=attachment.filename,
    )
    session.commit()


def list_attachments(
    session: Session, *, interaction_id: int | None = None, record_id: int | None = None
) -> list[Attachment]:
    """The files of one chat or one record, oldest first."""
    query = (
        select(Attachment)
        .where(Attachment.interaction_id == interaction_id, Attachment.record_id == record_id)
        .order_by(col(Attachment.id))
    )
    return list(session.exec(query).all())


@dataclass(frozen=True)
class FileCopy:
    """A second name, already durable, for one of a chat's files; not yet recorded."""

    original: Attachment
    storage_name: str


def copy_files(originals: list[Attachment], storage_dir: Path | None = None) -> list[FileCopy]:
    """Give each file a second name on disk and make the names durable. Blocking,
    and for no session to be open meanwhile (the SQLite write turn is never held
    over a link, a copy or an ``fsync``); record the copies with ``record_copies``
    and ``discard_copies`` if that fails."""
    copies: list[FileCopy] = []
    try:
        for original in originals:
            copies.append(FileCopy(original, attachment_storage.copy_file(original.storage_name, storage_dir)))
        if copies:
            attachment_storage.sync_folder(storage_dir)
    except BaseException:
        discard_copies(copies, storage_dir)
        raise
    return copies


def record_copies(session: Session, *, copies: list[FileCopy], interaction_id: int, record_id: int) -> list[Attachment]:
    """The rows (and audit entry) of files ``copy_files`` made for a case or
    incident; the caller commits. A copy, not a link to the chat's row: the
    record's files stay with the record (and its wider audience) whatever later
    happens to the chat's."""
    if not copies:
        return []
    if session.get(SupportRecord, record_id) is None:
        raise NotFound("That case or incident does not exist.")
    rows = [
        Attachment(
            public_id=secrets.token_urlsafe(24),
            record_id=record_id,
            filename=copy.original.filename,
            content_type=copy.original.content_type,
            size=copy.original.size,
            storage_name=copy.storage_name,
            uploaded_by_kind=copy.original.uploaded_by_kind,
            uploaded_by_user_id=copy.original.uploaded_by_user_id,
        )
        for copy in copies
    ]
    session.add_all(rows)
    session.flush()
    audit.record(
        session,
        action=AuditAction.ATTACHMENT_COPIED,
        actor_kind="system",
        target_kind="record",
        target_id=record_id,
        interaction_id=interaction_id,
        attachment_ids=[row.id for row in rows],
    )
    return rows


def discard_copies(copies: list[FileCopy], storage_dir: Path | None = None) -> None:
    """Delete copies whose rows were never committed."""
    for copy in copies:
        attachment_storage.discard(copy.storage_name, storage_dir)


def _owner(session: Session, interaction_id: int | None, record_id: int | None) -> tuple[str, int]:
    """The chat or record an upload belongs to, which must exist (and a chat must be open)."""
    if (interaction_id is None) == (record_id is None):
        raise ValidationError("A file belongs to either a chat or a case/incident.")
    if interaction_id is not None:
        interaction = session.get(Interaction, interaction_id)
        if interaction is None:
            raise NotFound("That chat does not exist.")
        if interaction.state not in OPEN_STATES:
            raise Conflict("This chat has ended; files can no longer be added to it.")
        return "interaction", interaction_id
    if record_id is None or session.get(SupportRecord, record_id) is None:
        raise NotFound("That case or incident does not exist.")
    return "record", record_id


def _check_type(filename: str, data: bytes) -> FileType:
    extension = PurePath(filename).suffix.lower()
    if extension and extension not in ALLOWED_EXTENSIONS:
        raise ValidationError(
            f"“{filename}” cannot be shared: {extension} files are not allowed. Allowed are {ALLOWED_TYPES_TEXT}."
        )
    detected = _sniff_binary(data)
    if detected is None and _is_text(data):
        detected = CSV if extension == ".csv" else TEXT
    if detected is None:
        what = (
            "is a program, and programs cannot be shared"
            if data.startswith(_EXECUTABLE_MAGIC)
            else "is not a kind of file that can be shared"
        )
        raise ValidationError(f"“{filename}” {what}. Allowed are {ALLOWED_TYPES_TEXT}.")
    if extension and extension not in detected.extensions:
        raise ValidationError(
            f"“{filename}” is really a {detected.label}, which does not match its name. "
            "Rename it or choose another file."
        )
    return detected


def _sniff_binary(data: bytes) -> FileType | None:
    """The allowed binary format ``data`` starts with, if any."""
    if data.startswith(b"\x89PNG\r\n\x1a\n"):
        return PNG
    if data.startswith(b"\xff\xd8\xff"):
        return JPEG
    if data.startswith((b"GIF87a", b"GIF89a")):
        return GIF
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return WEBP
    if data.startswith(b"%PDF-"):
        return PDF
    if data.startswith(b"PK\x03\x04"):
        return _sniff_office(data)
    return None


def _sniff_office(data: bytes) -> FileType | None:
    """DOCX/XLSX/PPTX by their package parts; any other ZIP, or one with macros, is refused."""
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            names = archive.namelist()
    except (zipfile.BadZipFile, OSError, ValueError):
        return None
    if "[Content_Types].xml" not in names or any(n.endswith("vbaProject.bin") for n in names):
        return None
    for folder, kind in (("word/", DOCX), ("xl/", XLSX), ("ppt/", PPTX)):
        if any(name.startswith(folder) for name in names):
            return kind
    return None


def _is_text(data: bytes) -> bool:
    if b"\x00" in data:
        return False
    try:
        data.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True


def upload_body_limit() -> int:
    """The most one upload request may carry: the files' size limit plus room for
    the multipart framing (boundaries, part headers, Reflex's arguments field)."""
    return settings().attachment_max_bytes + MULTIPART_OVERHEAD


def upload_too_large() -> str:
    return (
        f"Upload too large: the limit is {_megabytes(settings().attachment_max_bytes)} MB per upload. "
        "Send smaller files, or fewer at a time."
    )


def _megabytes(size: int) -> str:
    """Megabytes rounded up to a tenth, so a file just over the limit never reads as equal to it."""
    return f"{math.ceil(size * 10 / MEGABYTE) / 10:g}"
