"""Bulk import and export of knowledge articles as JSON Lines, the format the seed articles ship in."""

from __future__ import annotations

import json
import os
import re
import tempfile
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy import insert, update
from sqlmodel import Session, col, select

from agent_workspace.models import KnowledgeArticle, utcnow
from agent_workspace.services import audit
from agent_workspace.services.audit import AuditAction
from agent_workspace.services.errors import ValidationError
from agent_workspace.services.knowledge.articles import (
    FIRST_NUMBER,
    clean_fields,
    format_number,
    highest_number,
)

# The starter articles shipped with the product (load them with import_jsonl).
SEED_ARTICLES_FILE = Path(__file__).resolve().parent.parent.parent / "seed_data" / "kb_articles.jsonl"
_NUMBER_IN_BYTES = re.compile(rb"KB(\d{7})")


@dataclass
class LineError:
    line: int
    reason: str

    def __str__(self) -> str:
        return f"line {self.line}: {self.reason}"


@dataclass
class ImportReport:
    created: int = 0
    updated: int = 0
    errors: list[LineError] = field(default_factory=list)

    @property
    def skipped(self) -> int:
        return len(self.errors)


def import_jsonl(
    session: Session,
    path: str | os.PathLike[str],
    batch_size: int = 1000,
    progress: Callable[[int, int], None] | None = None,
    *,
    actor_id: int | None = None,
) -> ImportReport:
    """Create or update articles from a JSON Lines file; one object per line.

    Each line: ``title`` and ``body`` (markdown) required; optional ``number``
    (an existing number is updated), ``category``, ``tags`` (list of strings),
    ``published`` (default true). A bad line is reported with its line number
    and skipped; the good lines are written in batches of ``batch_size``, each
    batch committed whole (this function commits). ``progress(lines_done,
    total_lines)`` is called after every batch.
    """
    if batch_size < 1:
        raise ValidationError("The batch size must be at least 1.")
    path = Path(path)
    # Numbers for unnumbered lines come after every number in the database and
    # in the file, so a later line of the file can never collide with them.
    total_lines = highest_in_file = 0
    with path.open("rb") as lines:
        for total_lines, line in enumerate(lines, start=1):  # noqa: B007 (the count is read after the loop)
            for digits in _NUMBER_IN_BYTES.findall(line):
                highest_in_file = max(highest_in_file, int(digits))
    next_number = max(highest_number(session), highest_in_file, FIRST_NUMBER - 1) + 1

    report = ImportReport()
    batch: dict[str, dict[str, Any]] = {}
    with path.open("rb") as lines:
        for line_number, line in enumerate(lines, start=1):
            try:
                values = _parse_line(line, line_number)
            except ValidationError as error:
                report.errors.append(LineError(line_number, str(error)))
                values = None
            if values is not None:
                if values["number"] is None:
                    values["number"] = format_number(next_number)
                    next_number += 1
                batch[values["number"]] = values
            if len(batch) >= batch_size:
                _write_batch(session, batch, report)
                batch = {}
                if progress:
                    progress(line_number, total_lines)
    if batch:
        _write_batch(session, batch, report)
    if progress:
        progress(total_lines, total_lines)
    audit.record(
        session,
        action=AuditAction.KB_IMPORTED,
        actor_kind="agent" if actor_id else "system",
        actor_id=actor_id,
        file=path.name,
        created=report.created,
        updated=report.updated,
        skipped=report.skipped,
    )
    session.commit()
    return report


def _parse_line(line: bytes, line_number: int) -> dict[str, Any] | None:
    """Validated values of one line, None for a blank line; ValidationError if bad."""
    try:
        text = line.decode("utf-8-sig" if line_number == 1 else "utf-8").strip()
    except UnicodeDecodeError:
        raise ValidationError("not UTF-8 text") from None
    if not text:
        return None
    try:
        item = json.loads(text)
    except json.JSONDecodeError as error:
        raise ValidationError(f"invalid JSON ({error.msg} at column {error.colno})") from None
    if not isinstance(item, dict):
        raise ValidationError("not a JSON object")
    return clean_fields(
        number=item.get("number"),
        title=item.get("title"),
        body=item.get("body"),
        category=item.get("category"),
        tags=item.get("tags", []),
        published=item.get("published", True),
    )


def _write_batch(session: Session, batch: dict[str, dict[str, Any]], report: ImportReport) -> None:
    """Insert the new numbers and update the known ones: two statements, one commit."""
    existing = dict(
        session.exec(
            select(col(KnowledgeArticle.number), col(KnowledgeArticle.id)).where(
                col(KnowledgeArticle.number).in_(list(batch))
            )
        ).all()
    )
    now = utcnow()
    new_rows = [{**values, "updated_at": now} for number, values in batch.items() if number not in existing]
    changed_rows = [
        {**values, "id": existing[number], "updated_at": now} for number, values in batch.items() if number in existing
    ]
    try:
        if new_rows:
            session.exec(insert(KnowledgeArticle), params=new_rows)
        if changed_rows:
            session.exec(update(KnowledgeArticle), params=changed_rows)
        session.commit()
    except BaseException:
        session.rollback()
        raise
    report.created += len(new_rows)
    report.updated += len(changed_rows)


def article_to_json(article: KnowledgeArticle) -> str:
    """One export line; key order fixed so an export of an import is byte-identical."""
    return json.dumps(
        {
            "number": article.number,
            "title": article.title,
            "category": article.category,
            "tags": [tag for tag in article.tags.split(",") if tag],
            "published": article.published,
            "body": article.body,
        },
        ensure_ascii=False,
    )


def export_jsonl(session: Session, path: str | os.PathLike[str]) -> int:
    """Write every article, by number, in the import format; returns how many.

    Written to a temporary file then renamed, so a failed export never leaves
    a truncated file where a good one was.
    """
    path = Path(path)
    count = 0
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(handle, "w", encoding="utf-8", newline="\n") as out:
            rows = session.exec(
                select(KnowledgeArticle).order_by(KnowledgeArticle.number).execution_options(yield_per=1000)
            )
            for article in rows:
                out.write(article_to_json(article) + "\n")
                count += 1
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
    return count
