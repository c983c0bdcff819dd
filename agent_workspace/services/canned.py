"""Canned responses and the composer's quick actions (/r, /tq, /ta, /kb)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import StrEnum

from sqlmodel import Session, col, or_, select

from agent_workspace.models import CannedResponse, Customer, Interaction, Queue, User
from agent_workspace.services import audit
from agent_workspace.services.audit import AuditAction
from agent_workspace.services.errors import NotFound, ValidationError

PLACEHOLDERS = ("customer_first_name", "customer_name", "agent_name", "number")
# A reply's pieces: doubled braces (literal ones, as str.format wrote them), a
# plain placeholder, or any other brace. Only plain names from the list are
# placeholders: no format spec, conversion, attribute or index (``str.format``
# would run those, and never runs here).
_PIECE = re.compile(r"\{\{|\}\}|\{(" + "|".join(PLACEHOLDERS) + r")\}|[{}]")
_LITERAL = {"{{": "{", "}}": "}"}
_WORD = re.compile(r"(\S*)\s*(.*)", re.DOTALL)


class QuickCommand(StrEnum):
    REPLY = "r"
    TRANSFER_TO_QUEUE = "tq"
    TRANSFER_TO_AGENT = "ta"
    KNOWLEDGE = "kb"


COMMAND_PREFIX = "/"  # what a quick action starts with (the page's outbox leaves such texts to the form)
# The words after "/" the menu offers actions for: every command and its prefixes
# ("" is "/" alone, "t" both transfers, "k" the knowledge base).
MENU_WORDS = frozenset({"", "r", "t", "tq", "ta", "k", "kb"})


@dataclass(frozen=True)
class QuickAction:
    """One line of the menu that opens when the agent types "/"."""

    command: QuickCommand
    label: str
    text: str = ""  # for /r: the filled-in reply; for /kb: the query


def create(session: Session, *, title: str, body: str, queue_id: int | None, created_by_id: int) -> CannedResponse:
    title, body = title.strip(), body.strip()
    if not 1 <= len(title) <= 80:
        raise ValidationError("A title has 1-80 characters.")
    if not 1 <= len(body) <= 2000:
        raise ValidationError("The reply has 1-2,000 characters.")
    if queue_id is not None and session.get(Queue, queue_id) is None:
        raise ValidationError("Choose a queue, or all queues.")
    _check_placeholders(body)
    response = CannedResponse(title=title, body=body, queue_id=queue_id, created_by_id=created_by_id)
    session.add(response)
    session.flush()
    audit.record(
        session,
        action=AuditAction.CANNED_CREATED,
        actor_kind="agent",
        actor_id=created_by_id,
        target_kind="canned",
        target_id=response.id,
    )
    session.commit()
    return response


def delete(session: Session, *, response_id: int, actor_id: int) -> None:
    response = session.get(CannedResponse, response_id)
    if response is None:
        raise NotFound("No such canned response.")
    session.delete(response)
    audit.record(
        session,
        action=AuditAction.CANNED_DELETED,
        actor_kind="agent",
        actor_id=actor_id,
        target_kind="canned",
        target_id=response_id,
    )
    session.commit()


def list_all(session: Session) -> list[tuple[CannedResponse, str]]:
    """(response, queue name or "All queues") for the supervisor's list."""
    rows = session.exec(
        select(CannedResponse, Queue.name)
        .join(Queue, col(Queue.id) == col(CannedResponse.queue_id), isouter=True)
        .order_by(CannedResponse.title)
    ).all()
    return [(response, name or "All queues") for response, name in rows]


def _check_placeholders(body: str) -> None:
    """Refuse a reply with a brace that is neither a listed placeholder nor doubled."""
    for piece in _PIECE.finditer(body):
        if piece.group() in ("{", "}"):
            start = piece.start()
            end = body.find("}", start, start + 40)
            shown = body[start : end + 1 if end >= 0 else start + 40]
            names = ", ".join("{" + p + "}" for p in PLACEHOLDERS)
            raise ValidationError(f"Unknown placeholder {shown!r}: use only {names} (write {{{{ or }}}} for a brace).")


def fill(body: str, *, customer_name: str, agent_name: str, number: str) -> str:
    """The reply with its placeholders filled in, in one pass: a value is put in
    as it is (a name holding "{number}" stays that text). A stored reply saved
    before placeholders were checked shows any other brace as written."""
    values = {
        "customer_first_name": customer_name.split()[0] if customer_name.split() else customer_name,
        "customer_name": customer_name,
        "agent_name": agent_name,
        "number": number,
    }
    return _PIECE.sub(lambda m: values[m.group(1)] if m.group(1) else _LITERAL.get(m.group(), m.group()), body)


def _parse(typed: str) -> tuple[str, str]:
    """The word after "/" (lower case) and the rest, as the menu reads them."""
    word = _WORD.match(typed.strip().removeprefix(COMMAND_PREFIX))
    return (word.group(1).lower(), word.group(2).strip()) if word else ("", "")


def is_command(text: str) -> bool:
    """Whether an agent's text is a quick action the menu offers ("/kb printer", "/r", "/"):
    such a text runs as that action and is never sent to the customer as a message.
    Other text starting with "/" ("/etc/hosts is wrong") is a message."""
    return text.strip().startswith(COMMAND_PREFIX) and _parse(text)[0] in MENU_WORDS


def quick_actions(session: Session, *, interaction_id: int, user_id: int, typed: str) -> list[QuickAction]:
    """The menu for what the agent typed after "/" in a chat of theirs."""
    item = session.get(Interaction, interaction_id)
    if item is None or item.agent_id != user_id:
        raise NotFound("That chat is not yours.")
    command, rest = _parse(typed)
    actions: list[QuickAction] = []
    if command in ("", "r"):
        customer = session.get(Customer, item.customer_id)
        agent = session.get(User, user_id)
        responses = session.exec(
            select(CannedResponse)
            .where(or_(col(CannedResponse.queue_id).is_(None), CannedResponse.queue_id == item.queue_id))
            .order_by(CannedResponse.title)
        ).all()
        for response in responses:
            if rest.lower() in response.title.lower():
                actions.append(
                    QuickAction(
                        QuickCommand.REPLY,
                        f"/r {response.title}",
                        fill(
                            response.body,
                            customer_name=customer.name if customer else "",
                            agent_name=agent.display_name if agent else "",
                            number=item.number or "",
                        ),
                    )
                )
    if command in ("", "t", "tq"):
        actions.append(QuickAction(QuickCommand.TRANSFER_TO_QUEUE, "/tq Transfer to another queue"))
    if command in ("", "t", "ta"):
        actions.append(QuickAction(QuickCommand.TRANSFER_TO_AGENT, "/ta Transfer to another agent"))
    if command in ("", "k", "kb"):
        actions.append(
            QuickAction(QuickCommand.KNOWLEDGE, f"/kb Search the knowledge base{': ' + rest if rest else ''}", rest)
        )
    return actions[:12]
