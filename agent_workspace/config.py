"""Settings read from the environment, with the embedded defaults.

One place that knows every knob, so the app, the CLI and the tests agree.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parent.parent


def _int(name: str, default: int) -> int:
    raw = os.environ.get(name, "").strip()
    return int(raw) if raw else default


def _bool(name: str) -> bool:
    return os.environ.get(name, "").strip().lower() in ("1", "true", "yes", "on")


def database_url() -> str:
    """``AW_DATABASE_URL``, else ``REFLEX_DB_URL``, else SQLite under ``data/``."""
    url = os.environ.get("AW_DATABASE_URL") or os.environ.get("REFLEX_DB_URL")
    if url:
        return url
    data_dir = Path(os.environ.get("AW_DATA_DIR", PROJECT_ROOT / "data"))
    data_dir.mkdir(parents=True, exist_ok=True)
    return f"sqlite:///{data_dir / 'agent_workspace.db'}"


@dataclass(frozen=True)
class Settings:
    offer_timeout_seconds: int
    presence_grace_seconds: int
    delayed_claim_seconds: float
    # A customer's tab re-reads its chat on its 15 s tick only after this long
    # without a push (a lost push before the next message shows as a gap).
    resync_quiet_seconds: int
    session_hours: int
    # Also bind sessions to the client address; off by default because mobile
    # and roaming agents change addresses during a shift.
    session_bind_address: bool
    attachment_dir: Path
    attachment_max_bytes: int
    smtp_host: str
    smtp_port: int
    smtp_user: str
    smtp_password: str
    smtp_tls: str  # "none" | "starttls" | "ssl"
    mail_from: str
    public_base_url: str
    chats_per_address: int  # per 10 minutes, on the public chat page


def settings() -> Settings:
    data_dir = Path(os.environ.get("AW_DATA_DIR", PROJECT_ROOT / "data"))
    return Settings(
        offer_timeout_seconds=_int("AW_OFFER_TIMEOUT_SECONDS", 45),
        presence_grace_seconds=_int("AW_PRESENCE_GRACE_SECONDS", 60),
        delayed_claim_seconds=float(os.environ.get("AW_DELAYED_CLAIM_SECONDS", "1.5")),
        resync_quiet_seconds=_int("AW_RESYNC_QUIET_SECONDS", 14),
        session_hours=_int("AW_SESSION_HOURS", 12),
        session_bind_address=_bool("AW_SESSION_BIND_ADDRESS"),
        attachment_dir=Path(os.environ.get("AW_ATTACHMENT_DIR", data_dir / "attachments")),
        attachment_max_bytes=_int("AW_ATTACHMENT_MAX_BYTES", 10 * 1024 * 1024),
        smtp_host=os.environ.get("AW_SMTP_HOST", ""),
        smtp_port=_int("AW_SMTP_PORT", 25),
        smtp_user=os.environ.get("AW_SMTP_USER", ""),
        smtp_password=os.environ.get("AW_SMTP_PASSWORD", ""),
        smtp_tls=os.environ.get("AW_SMTP_TLS", "none"),
        mail_from=os.environ.get("AW_MAIL_FROM", "support@agent-workspace.local"),
        public_base_url=os.environ.get("AW_PUBLIC_URL", "http://localhost:3000").rstrip("/"),
        chats_per_address=_int("AW_CHATS_PER_ADDRESS", 20),
    )
