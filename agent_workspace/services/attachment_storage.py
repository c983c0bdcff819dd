"""The attachment folder on disk: durable writes, discards, and the orphan sweep.

Nothing here opens a database transaction while it touches the disk: a file
is written (and fsynced) before the short transaction that records it, and is
deleted again if that transaction fails. A crash between the two leaves a file
no row names; ``sweep_orphans`` removes such files once they are older than
anything still on its way to being recorded.
"""

from __future__ import annotations

import logging
import os
import secrets
import shutil
import time
from datetime import timedelta
from pathlib import Path

from sqlmodel import col, select

from agent_workspace.config import PROJECT_ROOT, settings
from agent_workspace.db import session_scope
from agent_workspace.models import Attachment

log = logging.getLogger(__name__)

# A file being written carries this suffix until it is complete and durable.
PART_SUFFIX = ".part"
# An upload is recorded within seconds of its file being written; a file this
# old that no row names was left by a crash (or a failed cleanup).
ORPHAN_AGE = timedelta(minutes=10)
# How often a process looks for orphans (and once at start-up): a directory scan, kept rare.
SWEEP_INTERVAL_SECONDS = 5 * 60
# Names looked up per query: well inside any database's limit on bound parameters.
SWEEP_CHUNK = 500
_last_sweep: float | None = None


def storage_root(storage_dir: Path | None = None) -> Path:
    """The attachment folder, refusing one the web server would publish."""
    directory = (storage_dir or settings().attachment_dir).resolve()
    for root in {PROJECT_ROOT, Path.cwd()}:
        for public in (root / "assets", root / ".web"):
            if directory.is_relative_to(public.resolve()):
                raise RuntimeError(
                    f"The attachment folder {directory} is inside {public}, which is served "
                    "to anyone; set AW_ATTACHMENT_DIR to a private folder."
                )
    return directory


def write_file(data: bytes, storage_dir: Path | None = None) -> str:
    """Write ``data`` under a new random name readable only by us; durable once this returns.

    The bytes go to a ``.part`` file first and take their final name only when
    complete, so a name a row may point to never holds half a file.
    """
    directory = storage_root(storage_dir)
    directory.mkdir(mode=0o700, parents=True, exist_ok=True)
    storage_name = secrets.token_hex(16)
    partial = directory / (storage_name + PART_SUFFIX)
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0)
    try:
        with os.fdopen(os.open(partial, flags, 0o600), "wb") as file:
            file.write(data)
            file.flush()
            os.fsync(file.fileno())
        os.rename(partial, directory / storage_name)
    except BaseException:
        partial.unlink(missing_ok=True)
        raise
    _sync_directory(directory)
    return storage_name


def copy_file(storage_name: str, storage_dir: Path | None = None) -> str:
    """A second name for a stored file: a hard link (files are never changed once
    written, so it is as independent as a copy, and costs no data write), or a
    real copy where the file system has no links."""
    directory = storage_root(storage_dir)
    copy_name = secrets.token_hex(16)
    try:
        os.link(directory / storage_name, directory / copy_name)
    except OSError:
        shutil.copyfile(directory / storage_name, directory / copy_name)
        os.chmod(directory / copy_name, 0o600)
    return copy_name


def sync_folder(storage_dir: Path | None = None) -> None:
    """Make the folder's new names durable (after ``copy_file``)."""
    _sync_directory(storage_root(storage_dir))


def discard(storage_name: str, storage_dir: Path | None = None) -> None:
    """Delete a file whose row was never committed."""
    (storage_root(storage_dir) / storage_name).unlink(missing_ok=True)


def sweep_orphans(*, storage_dir: Path | None = None, now: float | None = None) -> int:
    """Delete files (and unfinished ``.part`` files) older than ``ORPHAN_AGE`` at
    ``now`` (a wall-clock time, default the present) that no attachment row
    names; returns how many. It only reads the database (it asks for the old
    files' names only, ``SWEEP_CHUNK`` at a time, never for every stored name)
    and never takes the write lock.

    Safe in every worker at once: deleting is idempotent, and a file still on
    its way to being recorded is younger than ``ORPHAN_AGE`` (its age counts
    from its last change of name or links too, so a fresh copy is young).
    """
    directory = storage_root(storage_dir)
    if not directory.is_dir():
        return 0
    cutoff = (time.time() if now is None else now) - ORPHAN_AGE.total_seconds()
    candidates: list[Path] = []
    with os.scandir(directory) as entries:
        for entry in entries:
            if entry.is_file(follow_symlinks=False):
                stat = entry.stat(follow_symlinks=False)
                if max(stat.st_mtime, stat.st_ctime) < cutoff:
                    candidates.append(Path(entry.path))
    if not candidates:
        return 0
    recorded: set[str] = set()
    with session_scope(writer=False) as session:
        for start in range(0, len(candidates), SWEEP_CHUNK):
            names = [path.name for path in candidates[start : start + SWEEP_CHUNK]]
            recorded.update(
                session.exec(select(Attachment.storage_name).where(col(Attachment.storage_name).in_(names))).all()
            )
    orphans = [path for path in candidates if path.name not in recorded]
    for path in orphans:
        path.unlink(missing_ok=True)
    if orphans:
        log.warning("removed %d orphaned attachment file(s) from %s", len(orphans), directory)
    return len(orphans)


def sweep_orphans_when_due() -> int:
    """``sweep_orphans`` on the first call of this process and then every
    ``SWEEP_INTERVAL_SECONDS``: the app's sweeper loop calls this every tick."""
    global _last_sweep
    now = time.monotonic()
    if _last_sweep is not None and now - _last_sweep < SWEEP_INTERVAL_SECONDS:
        return 0
    _last_sweep = now
    return sweep_orphans()


def _sync_directory(directory: Path) -> None:
    if hasattr(os, "O_DIRECTORY"):
        directory_fd = os.open(directory, os.O_RDONLY | os.O_DIRECTORY)
        try:
            os.fsync(directory_fd)
        finally:
            os.close(directory_fd)
