"""Accounts, passwords, login sessions and roles.

Passwords are argon2id hashes. A login yields a random bearer token; only its
SHA-256 is stored, and every request re-checks it against the database, so a
logout or a password change takes effect on the very next event.

A session is bound to the browser that redeemed its ticket (its User-Agent,
and optionally its address). The same token from any other client was copied:
it is refused and the session revoked, so a stolen cookie works for nobody.
"""

from __future__ import annotations

import hashlib
import re
import secrets
from dataclasses import dataclass
from datetime import timedelta

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import Connection, Row, bindparam, update
from sqlalchemy import select as sa_select
from sqlmodel import Session, col, select

from agent_workspace.models import AuthSession, ClientConnection, Queue, QueueMember, Role, User, stored_id, utcnow
from agent_workspace.services import audit, lockout
from agent_workspace.services.audit import AuditAction
from agent_workspace.services.errors import Conflict, Forbidden, NotFound, ValidationError
from agent_workspace.services.text import clean_text

_hasher = PasswordHasher()
_USERNAME = re.compile(r"^[a-z0-9][a-z0-9._-]{1,63}$")
MIN_PASSWORD_LENGTH = 8
TICKET_LIFETIME = timedelta(seconds=60)
_DUMMY_HASH = _hasher.hash("timing-equaliser")

# Chats one agent may work at once; the workspace keeps a message list for each (state/chat_slots.py).
MAX_CAPACITY = 20


@dataclass(frozen=True)
class Principal:
    """Who is asking: the logged-in user behind a valid session token."""

    user_id: int
    username: str
    display_name: str
    roles: frozenset[str]

    def has(self, role: str) -> bool:
        return role in self.roles


@dataclass(frozen=True)
class Client:
    """The browser presenting a ticket or a token, as the server sees it."""

    user_agent: str
    address: str


class WrongClient(Forbidden):
    """A live session token presented by another client than the one it was issued to."""


def _fingerprint(value: str) -> str:
    return hash_token(value.strip()[:512])


def _mismatch(login: AuthSession | Row, client: Client) -> list[str]:
    """What about ``client`` differs from the browser the session is bound to."""
    wrong = []
    if login.user_agent_hash != _fingerprint(client.user_agent):
        wrong.append("user_agent")
    if login.address_hash is not None and login.address_hash != _fingerprint(client.address):
        wrong.append("address")
    return wrong


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def roles_of(user: User | Row) -> frozenset[str]:
    return roles_of_text(user.roles)


def roles_of_text(roles: str) -> frozenset[str]:
    return frozenset(r for r in roles.split(",") if r)


def _validate_roles(roles: list[str] | tuple[str, ...]) -> str:
    valid = {r.value for r in Role}
    unknown = [r for r in roles if r not in valid]
    if unknown:
        raise ValidationError(f"Unknown role {unknown[0]!r}; roles are: {', '.join(sorted(valid))}.")
    return ",".join(sorted(set(roles)))


def _validate_password(password: str) -> None:
    if len(password) < MIN_PASSWORD_LENGTH:
        raise ValidationError(f"The password must have at least {MIN_PASSWORD_LENGTH} characters.")


def create_user(
    session: Session,
    *,
    username: str,
    password: str,
    display_name: str | None = None,
    email: str = "",
    roles: list[str] | tuple[str, ...] = (Role.WORKSPACE_USER,),
    capacity: int = 4,
    queues: list[str] | tuple[str, ...] = (),
) -> User:
    username = username.strip().lower()
    if not _USERNAME.match(username):
        raise ValidationError("A username has 2-64 characters: lowercase letters, digits, '.', '_' or '-'.")
    if not 1 <= capacity <= MAX_CAPACITY:
        raise ValidationError(f"Chat capacity must be between 1 and {MAX_CAPACITY}.")
    _validate_password(password)
    role_text = _validate_roles(list(roles))
    if session.exec(select(User).where(User.username == username)).first():
        raise Conflict(f"The username {username!r} is taken.")
    queue_ids = []
    for queue_name in queues:
        queue = session.exec(select(Queue).where(Queue.name == queue_name)).first()
        if queue is None:
            raise NotFound(f"No queue named {queue_name!r}.")
        queue_ids.append(stored_id(queue))
    user = User(
        username=username,
        display_name=clean_text(display_name or username, field="The display name", limit=120, single_line=True),
        email=email.strip(),
        password_hash=hash_password(password),
        roles=role_text,
        capacity=capacity,
    )
    session.add(user)
    session.flush()
    for queue_id in queue_ids:
        session.add(QueueMember(queue_id=queue_id, user_id=stored_id(user)))
    audit.record(
        session,
        action=AuditAction.USER_CREATED,
        actor_kind="system",
        target_kind="user",
        target_id=user.id,
        roles=role_text,
    )
    session.commit()
    return user


@dataclass(frozen=True)
class LoginCheck:
    """What the read step of a login found, for the password check and the write step."""

    username: str
    client_address: str
    user_id: int | None  # None: no such user (the dummy hash is checked instead)
    password_hash: str


def begin_login(session: Session, *, username: str, client_address: str) -> LoginCheck:
    """The read step of a login: refuse a client that must wait, else find the account.

    Only reads, so it runs in a read transaction; the slow password check
    (``password_matches``) runs after it with no transaction open.
    """
    username = username.strip().lower()[: lockout.USERNAME_CHARS]
    client_address = lockout.client_key(client_address)
    lockout.refuse_if_waiting(lockout.recent_failures(session, username=username, client_address=client_address))
    user = session.exec(select(User).where(User.username == username)).first()
    return LoginCheck(
        username=username,
        client_address=client_address,
        user_id=user.id if user and user.active else None,
        password_hash=user.password_hash if user and user.active else _DUMMY_HASH,
    )


def password_matches(check: LoginCheck, password: str) -> bool:
    """The argon2 check (tens of milliseconds of CPU): never inside a transaction.
    An unknown or inactive user is checked against a dummy hash, so both take as long."""
    try:
        _hasher.verify(check.password_hash, password)
    except (VerificationError, InvalidHashError):
        return False
    return check.user_id is not None


def finish_login(session: Session, *, check: LoginCheck, ok: bool, session_hours: int = 12) -> tuple[str, Principal]:
    """The write step of a login: record the failure, or open a session and return
    (one-time ticket, principal). One message for unknown user and wrong password.

    The wait is checked again here: attempts that were checked at the same time
    as this one may have failed since, and their verdicts come first.
    """
    refusal = lockout.refusal(
        lockout.recent_failures(session, username=check.username, client_address=check.client_address)
    )
    user = session.get(User, check.user_id) if ok and refusal is None else None
    if user is None or not user.active or user.password_hash != check.password_hash:
        # A refused attempt counts like a failure whatever the password, so its answer reveals nothing.
        lockout.record_failure(session, username=check.username, client_address=check.client_address)
        audit.record(session, action=AuditAction.LOGIN_FAILED, actor_kind="anonymous", username=check.username)
        session.commit()
        raise refusal or ValidationError("Wrong username or password.")
    lockout.forget_failures(session, username=check.username, client_address=check.client_address)
    ticket = secrets.token_urlsafe(32)
    session.add(
        AuthSession(
            ticket_hash=hash_token(ticket),
            ticket_expires_at=utcnow() + TICKET_LIFETIME,
            user_id=stored_id(user),
            expires_at=utcnow() + timedelta(hours=session_hours),
        )
    )
    audit.record(
        session, action=AuditAction.LOGIN, actor_kind="agent", actor_id=user.id, target_kind="user", target_id=user.id
    )
    session.commit()
    return ticket, _principal(user)


def login(
    session: Session,
    *,
    username: str,
    password: str,
    client_address: str = "",
    session_hours: int = 12,
) -> tuple[str, Principal]:
    """All three steps on one session, for the CLI and tests. The login page runs
    them in separate transactions (``state.auth``) so that argon2 never holds the
    SQLite write turn."""
    check = begin_login(session, username=username, client_address=client_address)
    session.commit()
    return finish_login(session, check=check, ok=password_matches(check, password), session_hours=session_hours)


def redeem_ticket(session: Session, *, ticket: str, client: Client, bind_address: bool = False) -> str:
    """Trade a login ticket, once and within its minute, for the session's bearer token.

    The session is bound to ``client`` from now on (its address too with ``bind_address``).
    """
    if not ticket or len(ticket) > 200:
        raise NotFound("That sign-in link is not valid. Sign in again.")
    token = secrets.token_urlsafe(32)
    result = session.exec(
        update(AuthSession)
        .where(
            col(AuthSession.ticket_hash) == hash_token(ticket),
            col(AuthSession.ticket_expires_at) > utcnow(),
            col(AuthSession.revoked_at).is_(None),
        )
        .values(
            ticket_hash=None,
            ticket_expires_at=None,
            token_hash=hash_token(token),
            user_agent_hash=_fingerprint(client.user_agent),
            address_hash=_fingerprint(client.address) if bind_address else None,
        )
    )
    if result.rowcount != 1:
        session.rollback()
        raise NotFound("That sign-in link is not valid. Sign in again.")
    session.commit()
    return token


def _principal(user: User | Row) -> Principal:
    return Principal(
        user_id=stored_id(user),
        username=user.username,
        display_name=user.display_name,
        roles=roles_of(user),
    )


def principal_for_token(session: Session, token: str | None, *, client: Client) -> Principal | None:
    """The principal behind a live session token, or None (expired, revoked, unknown).

    Raises ``WrongClient`` when the token is live but ``client`` is not the
    browser it was issued to; the caller then calls ``revoke_copied``.
    """
    return principal_on(session.connection(), token, client=client)


def principal_on(connection: Connection, token: str | None, *, client: Client) -> Principal | None:
    """``principal_for_token`` on a bare connection (the check before every event)."""
    if not token or len(token) > 200:
        return None
    params = {"token_hash": hash_token(token), "now": utcnow()}
    row = connection.execute(_LIVE_SESSION, params).first()
    if row is None:
        return None
    if _mismatch(row, client):
        raise WrongClient("This session belongs to another browser. Sign in again.")
    return _principal(row)


# Run before every event of a signed-in user: built once, and only the columns it needs.
_LIVE_SESSION = (
    sa_select(
        col(User.id),
        col(User.username),
        col(User.display_name),
        col(User.roles),
        col(AuthSession.user_agent_hash),
        col(AuthSession.address_hash),
    )
    .join(AuthSession, col(AuthSession.user_id) == col(User.id))
    .where(
        col(AuthSession.token_hash) == bindparam("token_hash"),
        col(AuthSession.revoked_at).is_(None),
        col(AuthSession.expires_at) > bindparam("now"),
        col(User.active).is_(True),
    )
)


def revoke_copied(session: Session, *, token: str, client: Client) -> bool:
    """End the session of a token that ``client`` presented although it was issued
    to another browser: the token was copied, so neither copy may go on. Audited;
    True if this call revoked it."""
    login = session.exec(
        select(AuthSession).where(AuthSession.token_hash == hash_token(token), col(AuthSession.revoked_at).is_(None))
    ).first()
    wrong = _mismatch(login, client) if login else []
    if login is None or not wrong:
        return False
    result = session.exec(
        update(AuthSession)
        .where(col(AuthSession.id) == login.id, col(AuthSession.revoked_at).is_(None))
        .values(revoked_at=utcnow())
    )
    if result.rowcount != 1:  # another event of the same client got there first
        session.rollback()
        return False
    audit.record(
        session,
        action=AuditAction.SESSION_REVOKED_OTHER_CLIENT,
        actor_kind="system",
        target_kind="user",
        target_id=login.user_id,
        session_id=login.id,
        mismatch=wrong,
        address=client.address[:64],
        user_agent=client.user_agent[:200],
    )
    session.commit()
    return True


# A tab of a user whose sessions ended, waiting for the app to clear and sign it
# out (``realtime.sign_out_tabs``): no longer anyone's, so no change reaches it.
SIGNED_OUT_TAB = "signed_out"


def end_sessions(session: Session, *, user_id: int) -> list[str]:
    """Revoke every live session of the user and unregister their tabs, in the
    caller's transaction; returns the tabs' tokens. The tabs stay listed as
    signed out until the app has cleared them, which works from any process
    (the CLI included): every worker's sweep finds them in the database."""
    now = utcnow()
    session.execute(
        update(AuthSession)
        .where(col(AuthSession.user_id) == user_id, col(AuthSession.revoked_at).is_(None))
        .values(revoked_at=now)
    )
    tokens = list(session.exec(select(ClientConnection.token).where(ClientConnection.user_id == user_id)))
    if tokens:
        session.execute(
            update(ClientConnection)
            .where(col(ClientConnection.token).in_(tokens))
            .values(kind=SIGNED_OUT_TAB, user_id=None, interaction_id=None, last_seen_at=now)
        )
    return tokens


def logout(session: Session, *, token: str) -> list[str]:
    """Sign the session's user out everywhere: every session, every tab (a tab of
    another of their sessions would otherwise go on showing their chats). Returns
    the tabs' tokens, for the app to clear at once."""
    auth = session.exec(select(AuthSession).where(AuthSession.token_hash == hash_token(token))).first()
    if auth is None or auth.revoked_at is not None:
        return []
    tokens = end_sessions(session, user_id=auth.user_id)
    audit.record(
        session,
        action=AuditAction.LOGOUT,
        actor_kind="agent",
        actor_id=auth.user_id,
        target_kind="user",
        target_id=auth.user_id,
    )
    session.commit()
    return tokens


def _user_named(session: Session, username: str) -> User:
    user = session.exec(select(User).where(User.username == username.strip().lower())).first()
    if user is None:
        raise NotFound(f"No user named {username!r}.")
    return user


def set_password(session: Session, *, username: str, password: str) -> User:
    """Change a password and end every session and tab of that user."""
    _validate_password(password)
    user = _user_named(session, username)
    user.password_hash = hash_password(password)
    user.password_changed_at = utcnow()
    end_sessions(session, user_id=stored_id(user))
    audit.record(
        session, action=AuditAction.USER_PASSWORD_CHANGED, actor_kind="system", target_kind="user", target_id=user.id
    )
    session.commit()
    return user


def deactivate(session: Session, *, username: str) -> list[str]:
    """The account can no longer sign in; its sessions and tabs end now. Returns the tabs' tokens."""
    user = _user_named(session, username)
    if not user.active:
        return []
    user.active = False
    tokens = end_sessions(session, user_id=stored_id(user))
    audit.record(
        session, action=AuditAction.USER_DEACTIVATED, actor_kind="system", target_kind="user", target_id=user.id
    )
    session.commit()
    return tokens


def set_roles(session: Session, *, username: str, roles: list[str] | tuple[str, ...]) -> list[str]:
    """Give the user exactly ``roles``. Losing a role ends their sessions and tabs
    (what those tabs hold came with it); only gaining one keeps them. Returns the
    tabs' tokens."""
    role_text = _validate_roles(list(roles))
    user = _user_named(session, username)
    removed = roles_of(user) - roles_of_text(role_text)
    if role_text == user.roles:
        return []
    user.roles = role_text
    tokens = end_sessions(session, user_id=stored_id(user)) if removed else []
    audit.record(
        session,
        action=AuditAction.USER_ROLES_CHANGED,
        actor_kind="system",
        target_kind="user",
        target_id=user.id,
        roles=role_text,
        removed=sorted(removed),
    )
    session.commit()
    return tokens
