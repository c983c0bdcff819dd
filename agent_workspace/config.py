"""Settings read from the environment, with the embedded defaults.

One place that knows every knob, so the app, the CLI and the tests agree.
"""

from __future__ import annotations

import os
import threading
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from urllib.parse import urlsplit

PROJECT_ROOT = Path(__file__).resolve().parent.parent


# The variables ``settings`` has read, in the order first read: what its cache is keyed on.
# A new tuple replaces it when a name is added, so a thread reading it never sees it change.
_names_read: tuple[str, ...] = ()
_names_lock = threading.Lock()


def _env(name: str, default: str = "") -> str:
    global _names_read
    if name not in _names_read:
        with _names_lock:
            if name not in _names_read:
                _names_read = (*_names_read, name)
    return os.environ.get(name, default)


def _int(name: str, default: int) -> int:
    raw = _env(name).strip()
    return int(raw) if raw else default


def _bool(name: str) -> bool:
    return _env(name).strip().lower() in ("1", "true", "yes", "on")


def database_url() -> str:
    """``AW_DATABASE_URL``, else ``REFLEX_DB_URL``, else SQLite under ``data/``.
    Every unit of work asks, so each environment's answer is worked out once."""
    return _database_url(
        os.environ.get("AW_DATABASE_URL"), os.environ.get("REFLEX_DB_URL"), os.environ.get("AW_DATA_DIR")
    )


@cache
def _database_url(url: str | None, reflex_url: str | None, data_dir: str | None) -> str:
    if url or reflex_url:
        return url or reflex_url or ""
    directory = Path(data_dir or PROJECT_ROOT / "data")
    directory.mkdir(parents=True, exist_ok=True)
    return f"sqlite:///{directory / 'agent_workspace.db'}"


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
    """The settings of the environment as it is now, parsed once for each
    environment seen (a server: once; a test that changes a variable: again).
    Every event reads them, so the environment is compared only on the
    variables a parse has read (``_env``), not copied whole."""
    found = _parsed_by_values.get(tuple(map(os.environ.get, _names_read)))
    if found is None:
        found = _parse()
        _parsed_by_values[tuple(map(os.environ.get, _names_read))] = found  # names only grow: one tuple per length
    return found


_parsed_by_values: dict[tuple[str | None, ...], Settings] = {}


def _parse() -> Settings:
    data_dir = Path(_env("AW_DATA_DIR", str(PROJECT_ROOT / "data")))
    return Settings(
        offer_timeout_seconds=_int("AW_OFFER_TIMEOUT_SECONDS", 45),
        presence_grace_seconds=_int("AW_PRESENCE_GRACE_SECONDS", 60),
        delayed_claim_seconds=float(_env("AW_DELAYED_CLAIM_SECONDS", "1.5")),
        resync_quiet_seconds=_int("AW_RESYNC_QUIET_SECONDS", 14),
        session_hours=_int("AW_SESSION_HOURS", 12),
        session_bind_address=_bool("AW_SESSION_BIND_ADDRESS"),
        attachment_dir=Path(_env("AW_ATTACHMENT_DIR", str(data_dir / "attachments"))),
        attachment_max_bytes=_int("AW_ATTACHMENT_MAX_BYTES", 10 * 1024 * 1024),
        smtp_host=_env("AW_SMTP_HOST", ""),
        smtp_port=_int("AW_SMTP_PORT", 25),
        smtp_user=_env("AW_SMTP_USER", ""),
        smtp_password=_env("AW_SMTP_PASSWORD", ""),
        smtp_tls=_env("AW_SMTP_TLS", "none"),
        mail_from=_env("AW_MAIL_FROM", "support@agent-workspace.local"),
        public_base_url=(_env("AW_PUBLIC_URL", "").strip() or default_public_url()).rstrip("/"),
        chats_per_address=_int("AW_CHATS_PER_ADDRESS", 20),
    )


@dataclass(frozen=True)
class UploadQuotas:
    """How many files may come in: per upload request, per chat, per hour.

    Counted from the attachment rows, so they hold across workers. The chat and
    hourly quotas count the customer's files (agents are signed-in staff).
    """

    files_per_upload: int
    files_per_chat: int
    bytes_per_chat: int
    files_per_chat_hour: int
    # Over every chat started from one address; behind a proxy, see AW_TRUSTED_PROXY_HOPS.
    files_per_address_hour: int


def upload_quotas() -> UploadQuotas:
    return UploadQuotas(
        files_per_upload=_int("AW_FILES_PER_UPLOAD", 5),
        files_per_chat=_int("AW_FILES_PER_CHAT", 20),
        bytes_per_chat=_int("AW_BYTES_PER_CHAT", 50 * 1024 * 1024),
        files_per_chat_hour=_int("AW_FILES_PER_CHAT_HOUR", 10),
        files_per_address_hour=_int("AW_FILES_PER_ADDRESS_HOUR", 30),
    )


# Loopback host names, as urlsplit gives them and as they are written in a URL.
_LOOPBACK_HOSTS = {"localhost": "localhost", "127.0.0.1": "127.0.0.1", "::1": "[::1]"}


@dataclass(frozen=True)
class PublicSite:
    """How the app is reached from outside: its public URL and the proxies in front.

    Only the public URL's origin may open the websocket or make credentialed
    cross-origin requests; cookies are ``Secure`` when that URL is https, even
    when TLS ends at a reverse proxy and the app itself sees plain http.
    """

    public_url: str
    # Reverse proxies in front of the app that append to X-Forwarded-For (0: ignore the header).
    trusted_proxy_hops: int
    # AW_PUBLIC_URL was set. Unset (``make run`` on a laptop or a LAN), the websocket
    # takes the page's own origin, whatever host and port it was opened on.
    configured: bool = True

    @property
    def origin(self) -> str:
        parts = urlsplit(self.public_url)
        return f"{parts.scheme}://{parts.netloc}"

    @property
    def allowed_origins(self) -> tuple[str, ...]:
        """The public origin; on loopback also its loopback twins (localhost = 127.0.0.1)."""
        parts = urlsplit(self.public_url)
        if parts.hostname not in _LOOPBACK_HOSTS:
            return (self.origin,)
        port = f":{parts.port}" if parts.port else ""
        return tuple(
            dict.fromkeys([self.origin, *(f"{parts.scheme}://{host}{port}" for host in _LOOPBACK_HOSTS.values())])
        )

    @property
    def secure_cookies(self) -> bool:
        return self.public_url.startswith("https://")

    @property
    def embeddable_cookies(self) -> bool:
        """Whether the customer's cookies can be ``Partitioned; Secure; SameSite=None``
        (what the chat widget needs inside a host site's iframe): browsers keep
        ``Secure`` cookies only from https and from loopback over plain http. The
        cookie's attributes are compiled into the page, so this is decided for the
        one origin every page is served from: a loopback URL only counts when it
        is configured, since without AW_PUBLIC_URL the app is also opened by a LAN
        address over plain http, where a ``Secure`` cookie would be dropped."""
        return self.secure_cookies or (self.configured and urlsplit(self.public_url).hostname in _LOOPBACK_HOSTS)


def default_public_url() -> str:
    """Where ``make run`` serves: localhost on ``PORT`` (3000)."""
    return f"http://localhost:{_env('PORT').strip() or 3000}"


def public_site() -> PublicSite:
    """``AW_PUBLIC_URL`` (default ``default_public_url()``) and ``AW_TRUSTED_PROXY_HOPS`` (default 0)."""
    configured = bool(os.environ.get("AW_PUBLIC_URL", "").strip())
    url = (os.environ.get("AW_PUBLIC_URL", "").strip() or default_public_url()).rstrip("/")
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ValueError(f"AW_PUBLIC_URL must be an http:// or https:// URL, not {url!r}.")
    hops = _int("AW_TRUSTED_PROXY_HOPS", 0)
    if hops < 0:
        raise ValueError("AW_TRUSTED_PROXY_HOPS must be 0 or more.")
    return PublicSite(public_url=url, trusted_proxy_hops=hops, configured=configured)


def widget_origins() -> tuple[str, ...]:
    """``AW_WIDGET_ORIGINS``: the sites that may embed the chat widget, as origins
    (``https://shop.example.com``), separated by commas or spaces; none by default.
    Anything but a bare ``scheme://host[:port]`` is refused at start-up, so a typo
    cannot silently open framing to more than was meant (``*`` included)."""
    origins = []
    for raw in os.environ.get("AW_WIDGET_ORIGINS", "").replace(",", " ").split():
        parts = urlsplit(raw)
        try:
            port = parts.port
        except ValueError:
            port = -1
        if (
            parts.scheme not in ("http", "https")
            or not parts.hostname
            or "*" in raw
            or port == -1
            or parts.username is not None
            or parts.path not in ("", "/")
            or parts.query
            or parts.fragment
        ):
            raise ValueError(f"AW_WIDGET_ORIGINS takes origins like https://shop.example.com, not {raw!r}.")
        origins.append(f"{parts.scheme}://{parts.netloc.lower()}")
    return tuple(dict.fromkeys(origins))
