"""Who hears a change: the tabs (``client_connection``) each change notice reaches.

The audience rules live here, beside the domain, without Reflex: a chat's
customer, its agent, the agent it is offered to and the one its transfer waits
for; a queue's members and its waiting customers; an agent's own tabs; a
supervisor's tab only for the chat it shows read-only. ``realtime`` resolves a
commit's notices through ``tokens_for`` and pushes to the tokens it returns;
the tabs' own account of the same rules is ``sync.*.concerns``.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import timedelta
from functools import lru_cache
from typing import cast

from sqlalchemy import BindParameter, CompoundSelect, Select, bindparam, delete, literal_column, or_, union_all
from sqlalchemy import select as sa_select
from sqlalchemy.engine import Connection
from sqlalchemy.sql.expression import literal
from sqlmodel import Session, col

from agent_workspace.models import ClientConnection, ClientKind, Interaction, QueueMember, utcnow
from agent_workspace.services.auth import SIGNED_OUT_TAB
from agent_workspace.services.availability import WAITING_STATES
from agent_workspace.services.events import (
    AgentChanged,
    Change,
    ChatOffered,
    InteractionChanged,
    Typing,
    TypingStopped,
)

Concern = tuple[str, int]  # ("user" | "chat" | "queue", id), as tokens_for tags tabs


def concern_of(change: Change) -> Concern | None:
    """What a change is about, in ``tokens_for``'s terms."""
    if isinstance(change, (AgentChanged, ChatOffered)):
        return None if change.user_id is None else ("user", change.user_id)
    if isinstance(change, (InteractionChanged, Typing, TypingStopped)):
        return ("chat", change.interaction_id)
    return ("queue", change.queue_id)


def register_client(
    session: Session, *, token: str, kind: str, user_id: int | None = None, interaction_id: int | None = None
) -> None:
    """Remember (or refresh) which tab belongs to whom. A tab marked signed out
    stays so until it is cleared (``sign_out_tabs``): an event that passed the
    session check just before the sign-out committed cannot register it again."""
    row = session.get(ClientConnection, token, with_for_update=True)
    if row is not None and row.kind == SIGNED_OUT_TAB:
        return
    if row is None:
        row = ClientConnection(token=token, kind=kind)
        session.add(row)
    row.kind = kind
    row.user_id = user_id
    row.interaction_id = interaction_id
    row.last_seen_at = utcnow()
    session.commit()


def forget_stale_clients(session: Session, *, older_than_seconds: int) -> int:
    cutoff = utcnow() - timedelta(seconds=older_than_seconds)
    result = session.exec(delete(ClientConnection).where(col(ClientConnection.last_seen_at) < cutoff))
    session.commit()
    return result.rowcount or 0


@dataclass(frozen=True)
class Target:
    """A tab that must hear about some changes: its kind and only the changes that
    concern it. A queue's members hear that the queue moved, not the messages
    and state changes of its chats, which would cost each of them a push."""

    kind: str
    changes: tuple[Change, ...]


def tokens_for(session: Session | Connection, changes: Iterable[Change]) -> dict[str, Target]:
    """Every tab that must hear about ``changes``, with the changes that concern it,
    in one statement: the agents named; for each touched chat its customer, its
    agent and the agent it is offered to; for each changed queue its members,
    and the customers of its waiting chats and the agents they are offered to.
    On a session's connection, or a bare one (``db.read_connection``)."""
    connection = session.connection() if isinstance(session, Session) else session
    wanted: dict[str, set[int]] = {"user": set(), "chat": set(), "queue": set()}
    changes = list(changes)
    for change in changes:
        concern = concern_of(change)
        if concern is not None:
            wanted[concern[0]].add(concern[1])
    if not any(wanted.values()):
        return {}
    statement = _tokens_statement(*(len(wanted[name]) for name in ("user", "chat", "queue")))
    params = {f"{name}_{n}": ref for name, ids in wanted.items() for n, ref in enumerate(sorted(ids))}
    kinds: dict[str, str] = {}
    concerns: dict[str, set[tuple[str, int]]] = {}
    rows = cast(Iterable[tuple[str, str, str, int]], connection.execute(statement, params))
    for token, kind, about, ref in rows:
        kinds[token] = kind
        concerns.setdefault(token, set()).add((about, ref))
    return {
        token: Target(kind, tuple(c for c in changes if concern_of(c) in concerns[token]))
        for token, kind in kinds.items()
    }


def _ids(name: str, count: int) -> tuple[BindParameter[int], ...]:
    """``count`` plain parameters ``name_0`` ...: an expanding one is rewritten on
    every execution, which cost more than running the lookup itself."""
    return tuple(bindparam(f"{name}_{n}") for n in range(count))


def _values(values: Iterable[str]) -> tuple[BindParameter[str], ...]:
    """Constant strings as plain parameters: an ``in_`` of a list is expanding, like ``_ids``'s."""
    return tuple(literal(str(value)) for value in values)


@lru_cache(maxsize=256)
def _tokens_statement(users: int, chats: int, queues: int) -> CompoundSelect:
    """The lookup for one shape of change set (how many users, chats and queues),
    built once: every message and queue change runs it, and building a statement
    costs more than running it. Each branch tags the tabs it finds with what they
    hear about. A supervisor's tab hears only the chat it shows read-only, not
    its user's queues or chats."""
    token, kind, user_id = col(ClientConnection.token), col(ClientConnection.kind), col(ClientConnection.user_id)
    chat_of_tab = col(ClientConnection.interaction_id)
    queue_ids = _ids("queue", queues)
    waiting_in_queues = col(Interaction.queue_id).in_(queue_ids) & col(Interaction.state).in_(_values(WAITING_STATES))
    agent = kind == ClientKind.AGENT
    branches: list[Select] = []
    if users:
        branches.append(
            sa_select(token, kind, literal_column("'user'"), user_id).where(agent, user_id.in_(_ids("user", users)))
        )
    if chats:
        chat_ids = _ids("chat", chats)
        branches += [
            sa_select(token, kind, literal_column("'chat'"), chat_of_tab).where(
                kind.in_(_values((ClientKind.CUSTOMER, ClientKind.SUPERVISOR))), chat_of_tab.in_(chat_ids)
            ),
            sa_select(token, kind, literal_column("'chat'"), col(Interaction.id))
            .join(
                Interaction,
                or_(
                    col(Interaction.agent_id) == user_id,
                    col(Interaction.offered_to_id) == user_id,
                    col(Interaction.transfer_to_id) == user_id,  # its transfer card shows the chat
                ),
            )
            .where(agent, col(Interaction.id).in_(chat_ids)),
        ]
    if queues:
        branches += [
            sa_select(token, kind, literal_column("'queue'"), col(QueueMember.queue_id))
            .join(QueueMember, col(QueueMember.user_id) == user_id)
            .where(agent, col(QueueMember.queue_id).in_(queue_ids)),
            sa_select(token, kind, literal_column("'queue'"), col(Interaction.queue_id))
            .join(Interaction, col(Interaction.id) == chat_of_tab)
            .where(kind == ClientKind.CUSTOMER, waiting_in_queues),
            sa_select(token, kind, literal_column("'queue'"), col(Interaction.queue_id))
            .join(Interaction, col(Interaction.offered_to_id) == user_id)
            .where(agent, waiting_in_queues),
        ]
    return union_all(*branches)
