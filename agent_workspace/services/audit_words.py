"""The audit trail in words: who did what, with names and field labels, never ids or JSON.

Every ``AuditAction`` has a sentence here ("Ann Agent transferred the chat from General
to Billing: customer asks about a refund"); an action without one still reads as words.
The names behind a batch of rows' ids are read in one statement per kind, so a hundred
rows cost the same few statements as one. Values' labels are ``value_labels``'.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlmodel import Session, col, select

from agent_workspace.models import AuditLog, CannedResponse, Interaction, Queue, SupportRecord, User
from agent_workspace.services.attachments import format_size
from agent_workspace.services.audit import AuditAction
from agent_workspace.services.value_labels import (
    MISMATCH_LABELS,
    ROLE_LABELS,
    duration_text,
    field_label,
    priority_label,
    record_state_label,
    words,
)


@dataclass(frozen=True)
class HistoryLine:
    """An audit entry in words: "Ann Agent transferred the chat from General to Billing"."""

    at: datetime
    actor: str  # a name, "The customer" or "System"
    text: str


def entries_about(session: Session, *, target_kind: str, target_ids: Collection[int]) -> list[AuditLog]:
    """The audit rows of these targets (say, every case of a chat), oldest first, in one statement."""
    if not target_ids:
        return []
    return list(
        session.exec(
            select(AuditLog)
            .where(AuditLog.target_kind == target_kind, col(AuditLog.target_id).in_(list(target_ids)))
            .order_by(col(AuditLog.at), col(AuditLog.id))
        )
    )


def describe(
    session: Session, entries: Sequence[AuditLog], *, here: tuple[str, int] | None = None
) -> list[HistoryLine]:
    """One line per entry, in the same order. ``here`` is the (target kind, id) of the
    page the lines are shown on: that chat reads "the chat", any other "the chat IMS0001028"."""
    parsed = [_detail(entry) for entry in entries]
    names = _Names.read(session, entries, parsed, here)
    return [_line(entry, detail, names) for entry, detail in zip(entries, parsed)]


def action_label(action: str) -> str:
    """A short name of the action for a column ("Chat transferred to a queue")."""
    known = _SENTENCES.get(action)
    return known[0] if known else words(action)


# ---------------------------------------------------------------- names behind the ids


_USER_KEYS = ("agent_id", "to_agent", "from_agent")
_QUEUE_KEYS = ("queue_id", "from_queue", "to_queue")


def _ids(values: Any) -> set[int]:
    return {value for value in values if isinstance(value, int) and not isinstance(value, bool)}


@dataclass(frozen=True)
class _Names:
    users: dict[int, str]
    queues: dict[int, str]
    chats: dict[int, str]
    records: dict[int, str]
    canned: dict[int, str]
    here: tuple[str, int] | None

    @classmethod
    def read(
        cls, session: Session, entries: Sequence[AuditLog], details: list[dict], here: tuple[str, int] | None
    ) -> _Names:
        def targets(kind: str) -> set[int]:
            return _ids(entry.target_id for entry in entries if entry.target_kind == kind)

        users = _ids(entry.actor_id for entry in entries) | targets("user")
        users |= _ids(detail.get(key) for detail in details for key in _USER_KEYS)
        queues = targets("queue") | _ids(detail.get(key) for detail in details for key in _QUEUE_KEYS)
        chats = targets("interaction") | _ids(detail.get("interaction_id") for detail in details)
        return cls(
            users=_lookup(session, User.id, User.display_name, users),
            queues=_lookup(session, Queue.id, Queue.name, queues),
            chats=_lookup(session, Interaction.id, Interaction.number, chats),
            records=_lookup(session, SupportRecord.id, SupportRecord.number, targets("record")),
            canned=_lookup(session, CannedResponse.id, CannedResponse.title, targets("canned")),
            here=here,
        )

    def user(self, user_id: Any) -> str:
        return self.users.get(user_id, "an unknown user")

    def queue(self, queue_id: Any) -> str:
        return self.queues.get(queue_id, "a queue that no longer exists")

    def chat(self, interaction_id: Any) -> str:
        if self.here == ("interaction", interaction_id):
            return "the chat"
        number = self.chats.get(interaction_id)
        return f"the chat {number}" if number else "a chat"

    def record(self, record_id: Any) -> str:
        return self.records.get(record_id) or "a case or incident"

    def target(self, entry: AuditLog) -> str:
        """The entry's target as a phrase ("the chat", "CS0001001", "Bob Agent", "General")."""
        kind, target_id = entry.target_kind, entry.target_id
        if kind == "interaction":
            return self.chat(target_id)
        if kind == "record":
            return self.record(target_id)
        if kind == "user":
            return self.user(target_id)
        if kind == "queue":
            return f"the queue {self.queue(target_id)}"
        if kind == "canned":
            title = self.canned.get(target_id) if target_id is not None else None
            return f"the canned response “{title}”" if title else "a canned response"
        return words(kind).lower() if kind else "the workspace"


def _lookup(session: Session, key, value, ids: set[int]) -> dict[int, str]:
    if not ids:
        return {}
    return {row_id: text for row_id, text in session.exec(select(key, value).where(col(key).in_(sorted(ids))))}


# ---------------------------------------------------------------- sentences


@dataclass(frozen=True)
class _Said:
    """What a sentence reads from one entry."""

    entry: AuditLog
    detail: dict
    names: _Names
    actor: str

    def text(self, key: str) -> str:
        value = self.detail.get(key)
        return "" if value is None else _as_words(value)

    def note(self, key: str) -> str:
        """ ": the note" when there is one."""
        value = self.text(key).strip()
        return f": {value}" if value else ""

    @property
    def target(self) -> str:
        return self.names.target(self.entry)

    def _unless_here(self, word: str) -> str:
        here = (self.entry.target_kind, self.entry.target_id) == self.names.here
        return "" if here or not self.entry.target_kind else f" {word} {self.target}"

    @property
    def of_target(self) -> str:
        """ " of the chat IMS0001028" unless the page is that chat's own."""
        return self._unless_here("of")

    @property
    def about_target(self) -> str:
        return self._unless_here("about")


def _line(entry: AuditLog, detail: dict, names: _Names) -> HistoryLine:
    actor = _actor(entry, names)
    said = _Said(entry, detail, names, actor)
    known = _SENTENCES.get(entry.action)
    text = known[1](said) if known else _generic(said)
    shown_actor = "System" if entry.action in _DONE_BY_THE_SYSTEM else actor
    return HistoryLine(at=entry.at, actor=shown_actor, text=text)


def _actor(entry: AuditLog, names: _Names) -> str:
    if entry.actor_kind == "customer":
        return "The customer"
    if entry.actor_kind == "anonymous":
        return "Someone"
    if entry.actor_id is not None:
        return names.user(entry.actor_id)
    return "System"


def _detail(entry: AuditLog) -> dict:
    try:
        value = json.loads(entry.detail) if entry.detail else {}
    except ValueError:
        return {}
    return value if isinstance(value, dict) else {}


def _as_words(value: Any) -> str:
    """A detail value as text: lists and mappings joined, never printed as JSON."""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, list):
        return ", ".join(_as_words(item) for item in value)
    if isinstance(value, dict):
        return ", ".join(f"{field_label(key)} {_as_words(item)}" for key, item in value.items())
    return str(value)


def _generic(said: _Said) -> str:
    """An action without a sentence of its own: its name and details in words, ids left out."""
    shown = {key: value for key, value in said.detail.items() if not key.endswith(("_id", "_ids")) and key != "id"}
    extra = ", ".join(f"{field_label(key).lower()} {_as_words(value)}" for key, value in shown.items())
    target = f" ({said.target})" if said.entry.target_kind else ""
    return f"{said.actor}: {words(said.entry.action).lower()}{target}" + (f" — {extra}" if extra else "")


def _change(label: str, before: Any, after: Any, show: Callable[[Any], str]) -> str:
    return f"{label} {show(before)} → {show(after)}"


def _quoted(value: Any) -> str:
    return f"“{value}”"


# How an edited field's values read; any other field's are quoted ("“Printer offline”").
_SHOWN_AS: dict[str, Callable[[Any], str]] = {
    "priority": priority_label,
    "state": record_state_label,
    "category": words,
}


def _field_change(field: str, value: Any) -> str:
    """One field of an edit: "priority 4 - Low → 2 - High", "work notes edited (0 → 35 characters)"."""
    label = field_label(field).lower()
    length = value.get("length") if isinstance(value, dict) else None
    if isinstance(length, list) and len(length) == 2:
        return f"{label} edited ({length[0]} → {length[1]} characters)"
    if not (isinstance(value, list) and len(value) == 2):
        return f"{label} edited"  # a long text in a row written before lengths were kept: "(edited)"
    before, after = value
    show = _SHOWN_AS.get(field, _quoted)
    # A chat can start with no short description: "set to “Printer”", not "“” → “Printer”".
    return f"{label} set to {show(after)}" if before in (None, "") else _change(label, before, after, show)


def _changes(said: _Said) -> str:
    """ ": priority 4 - Low → 2 - High, …" from an edit's ``changes`` ({field: [old, new]})."""
    changes = said.detail.get("changes")
    if not isinstance(changes, dict) or not changes:
        return ""
    return ": " + ", ".join(_field_change(field, value) for field, value in changes.items())


def _state_move(said: _Said) -> str:
    value = said.detail.get("state")
    if isinstance(value, list) and len(value) == 2:
        return ": " + _change("state", value[0], value[1], record_state_label)
    return ""


def _escalated(said: _Said) -> str:
    priority = said.detail.get("priority")
    parts = []
    if isinstance(priority, list) and len(priority) == 2:
        parts.append(_change("priority", priority[0], priority[1], priority_label))
    if said.text("group"):
        parts.append(f"group {said.text('group')}")
    if said.text("level"):
        parts.append(f"level {said.text('level')}")
    reason = said.text("reason").strip()
    return f"{said.actor} escalated {said.target}: " + ", ".join(parts) + (f". Reason: {reason}" if reason else "")


def _record_created(said: _Said) -> str:
    kind = said.text("kind") or "record"
    if said.detail.get("source") == "left_message":
        return f"{said.actor} left a message in {said.names.queue(said.detail.get('queue_id'))}: {kind} {said.target} was opened"
    return f"{said.actor} created {kind} {said.target} from {said.names.chat(said.detail.get('interaction_id'))}"


def _closed(said: _Said) -> str:
    if said.detail.get("saved_history") is False:
        return f"{said.actor} closed {said.target} by closing its tab: the conversation history was not saved"
    return f"{said.actor} closed {said.target} and saved its history"


def _hours_changed(said: _Said) -> str:
    weekly = said.text("weekly_hours") or "open around the clock"
    zone = f" ({said.text('time_zone')})" if said.text("time_zone") and said.text("weekly_hours") else ""
    closures = f"; closed {said.text('closures')}" if said.text("closures") else ""
    return f"{said.actor} changed the business hours of {said.target}: {weekly}{zone}{closures}"


def _visibility_changed(said: _Said) -> str:
    listed = "listed {} on" if said.detail.get("public") else "hid {} from"
    return f"{said.actor} {listed.format(said.target)} the public chat page"


def _roles(said: _Said) -> str:
    roles = [ROLE_LABELS.get(role, words(role)) for role in said.text("roles").split(",") if role.strip()]
    return ", ".join(roles) if roles else "no role"


def _roles_changed(said: _Said) -> str:
    removed = said.detail.get("removed")
    lost = (
        f" (removed: {', '.join(ROLE_LABELS.get(r, words(r)) for r in removed)})"
        if isinstance(removed, list) and removed
        else ""
    )
    return f"{said.actor} set the roles of {said.target} to {_roles(said)}{lost}"


def _revoked(said: _Said) -> str:
    mismatch = said.detail.get("mismatch")
    reasons = " and ".join(MISMATCH_LABELS.get(m, words(m)) for m in mismatch) if isinstance(mismatch, list) else ""
    where = f" from {reasons}" if reasons else ""
    address = f" ({said.text('address')})" if said.text("address") else ""
    return f"{said.actor} ended a session of {said.target}: it was used{where}{address}"


def _email(outcome: str) -> Callable[[_Said], str]:
    def sentence(said: _Said) -> str:
        error = "" if said.entry.action == AuditAction.EMAIL_SENT else said.note("error")
        return f"The email to {said.text('to')} “{said.text('subject')}”{said.about_target} {outcome}{error}"

    return sentence


def _email_queued(said: _Said) -> str:
    return f"{said.actor} wrote an email to {said.text('to')}{said.about_target}: “{said.text('subject')}”"


def _uploaded(said: _Said) -> str:
    size = said.detail.get("size")
    shown_size = f" ({format_size(size)})" if isinstance(size, int) else ""
    return f"{said.actor} attached {said.text('filename')}{shown_size} to {said.target}"


def _copied(said: _Said) -> str:
    copied = said.detail.get("attachment_ids")
    count = len(copied) if isinstance(copied, list) else 0
    files = "1 file" if count == 1 else f"{count} files"
    return f"{said.actor} copied {files} from {said.names.chat(said.detail.get('interaction_id'))} to {said.target}"


def _accepted(said: _Said) -> str:
    wait = said.detail.get("wait_seconds")
    waited = f"; the customer had waited {duration_text(wait)}" if isinstance(wait, (int, float)) else ""
    return f"{said.actor} accepted {said.target}{waited}"


def _interaction_changed(said: _Said) -> str:
    if isinstance(said.detail.get("changes"), dict):
        return f"{said.actor} changed {said.target}{_changes(said)}"
    # Rows written before the old and new values were kept name only the fields.
    fields = said.detail.get("fields")
    named = ", ".join(field_label(f) for f in fields) if isinstance(fields, list) and fields else "the details"
    return f"{said.actor} changed {named}{said.of_target}"


def _kb_imported(said: _Said) -> str:
    counts = ", ".join(f"{said.text(key) or 0} {key}" for key in ("created", "updated", "skipped"))
    return f"{said.actor} imported {said.text('file')} into the knowledge base: {counts}"


# Done by the delivery worker, though the row names the email's author as its actor.
_DONE_BY_THE_SYSTEM = frozenset({AuditAction.EMAIL_SENT, AuditAction.EMAIL_FAILED, AuditAction.EMAIL_SENDING})
# action -> (short label for a column, sentence).
# Keyed by AuditAction, looked up by the text a row stores.
_SENTENCES: dict[str, tuple[str, Callable[[_Said], str]]] = {
    AuditAction.INTERACTION_REQUESTED: (
        "Chat requested",
        lambda s: f"{s.actor} started {s.target} in {s.names.queue(s.detail.get('queue_id'))}",
    ),
    AuditAction.INTERACTION_OFFERED: (
        "Chat offered",
        lambda s: f"{s.actor} offered {s.target} to {s.names.user(s.detail.get('agent_id'))}",
    ),
    AuditAction.INTERACTION_OFFER_TIMED_OUT: (
        "Offer timed out",
        lambda s: f"{s.names.user(s.detail.get('agent_id'))} did not answer the offer of {s.target} in time",
    ),
    AuditAction.INTERACTION_OFFER_WITHDRAWN: (
        "Offer withdrawn",
        lambda s: f"{s.actor} withdrew the offer of {s.target} from {s.names.user(s.detail.get('agent_id'))}: they are no longer Available",
    ),
    AuditAction.INTERACTION_RETURNED_TO_QUEUE: (
        "Back in line",
        lambda s: f"{s.actor} put {s.target} back in line: {s.names.user(s.detail.get('agent_id'))} was no longer connected",
    ),
    AuditAction.INTERACTION_ACCEPTED: ("Chat accepted", _accepted),
    AuditAction.INTERACTION_REJECTED: ("Chat rejected", lambda s: f"{s.actor} rejected {s.target}{s.note('reason')}"),
    AuditAction.INTERACTION_TRANSFERRED_TO_QUEUE: (
        "Chat transferred to a queue",
        lambda s: f"{s.actor} transferred {s.target} from {s.names.queue(s.detail.get('from_queue'))} to {s.names.queue(s.detail.get('to_queue'))}{s.note('note')}",
    ),
    AuditAction.INTERACTION_TRANSFER_REQUESTED: (
        "Transfer requested",
        lambda s: f"{s.actor} asked {s.names.user(s.detail.get('to_agent'))} to take over {s.target}{s.note('note')}",
    ),
    AuditAction.INTERACTION_TRANSFER_ACCEPTED: (
        "Transfer accepted",
        lambda s: f"{s.actor} accepted the transfer of {s.target} from {s.names.user(s.detail.get('from_agent'))}",
    ),
    AuditAction.INTERACTION_TRANSFER_DECLINED: (
        "Transfer declined",
        lambda s: f"{s.actor} declined the transfer of {s.target} from {s.names.user(s.detail.get('from_agent'))}",
    ),
    AuditAction.INTERACTION_CUSTOMER_ENDED: ("Customer left", lambda s: f"{s.actor} ended {s.target}"),
    AuditAction.INTERACTION_CLOSED: ("Chat closed", _closed),
    AuditAction.INTERACTION_UPDATED: ("Chat details changed", _interaction_changed),
    AuditAction.INTERACTION_RATED: ("Chat rated", lambda s: f"{s.actor} rated {s.target} {s.text('rating')} of 5"),
    AuditAction.INTERACTION_ARTICLE_SENT: (
        "Article sent",
        lambda s: f"{s.actor} sent knowledge article {s.text('article')} in {s.target}",
    ),
    AuditAction.RECORD_CREATED: ("Record created", _record_created),
    AuditAction.RECORD_UPDATED: ("Record changed", lambda s: f"{s.actor} changed {s.target}{_changes(s)}"),
    AuditAction.RECORD_ESCALATED: ("Record escalated", _escalated),
    AuditAction.RECORD_REPLIED: (
        "Replied by email",
        lambda s: f"{s.actor} replied to {s.target} by email{_state_move(s)}",
    ),
    AuditAction.RECORD_RESOLVED: (
        "Record resolved",
        lambda s: f"{s.actor} resolved {s.target}: the reply by email was delivered{_state_move(s)}",
    ),
    AuditAction.ATTACHMENT_UPLOADED: ("File attached", _uploaded),
    AuditAction.ATTACHMENT_DOWNLOADED: (
        "File downloaded",
        lambda s: f"{s.actor} downloaded {s.text('filename')} from {s.target}",
    ),
    AuditAction.ATTACHMENT_COPIED: ("Files copied", _copied),
    AuditAction.EMAIL_QUEUED: ("Email written", _email_queued),
    AuditAction.EMAIL_SENDING: ("Email sending", _email("is being sent")),
    AuditAction.EMAIL_SENT: ("Email sent", _email("was sent")),
    AuditAction.EMAIL_FAILED: ("Email failed", _email("could not be sent")),
    AuditAction.QUEUE_CREATED: ("Queue created", lambda s: f"{s.actor} created {s.target}"),
    AuditAction.QUEUE_HOURS_CHANGED: ("Business hours changed", _hours_changed),
    AuditAction.QUEUE_VISIBILITY_CHANGED: ("Public page changed", _visibility_changed),
    AuditAction.PRESENCE_CHANGED: (
        "Presence changed",
        lambda s: f"{s.actor} set their presence to {words(s.text('presence'))}",
    ),
    AuditAction.PRESENCE_AFTER_HOURS: (
        "After-hours chats",
        lambda s: f"{s.actor} opted {'in to' if s.detail.get('enabled') else 'out of'} chats outside business hours",
    ),
    AuditAction.PRESENCE_EXPIRED: (
        "Presence expired",
        lambda s: f"{s.actor} set {s.target} Offline: their workspace was not seen for a while",
    ),
    AuditAction.PRESENCE_AWAY_AFTER_MISSED_OFFER: (
        "Set Away after a missed offer",
        lambda s: f"{s.actor} set {s.target} Away: they did not answer an offer in time",
    ),
    AuditAction.LOGIN: ("Signed in", lambda s: f"{s.actor} signed in"),
    AuditAction.LOGOUT: ("Signed out", lambda s: f"{s.actor} signed out"),
    AuditAction.LOGIN_FAILED: ("Sign-in failed", lambda s: f"{s.actor} failed to sign in as “{s.text('username')}”"),
    AuditAction.SESSION_REVOKED_OTHER_CLIENT: ("Copied session ended", _revoked),
    AuditAction.USER_CREATED: (
        "User created",
        lambda s: f"{s.actor} created the user {s.target} with the roles {_roles(s)}",
    ),
    AuditAction.USER_PASSWORD_CHANGED: ("Password changed", lambda s: f"{s.actor} changed the password of {s.target}"),
    AuditAction.USER_DEACTIVATED: ("User deactivated", lambda s: f"{s.actor} deactivated {s.target}"),
    AuditAction.USER_ROLES_CHANGED: ("Roles changed", _roles_changed),
    AuditAction.CANNED_CREATED: ("Canned response added", lambda s: f"{s.actor} added {s.target}"),
    AuditAction.CANNED_DELETED: ("Canned response deleted", lambda s: f"{s.actor} deleted {s.target}"),
    AuditAction.KB_ARTICLE_CREATED: (
        "Article created",
        lambda s: f"{s.actor} created knowledge article {s.text('number')}",
    ),
    AuditAction.KB_ARTICLE_UPDATED: (
        "Article updated",
        lambda s: f"{s.actor} updated knowledge article {s.text('number')}",
    ),
    AuditAction.KB_IMPORTED: ("Knowledge imported", _kb_imported),
}
# Every action with a sentence of its own: the tests check it is every AuditAction.
KNOWN_ACTIONS = frozenset(_SENTENCES)
