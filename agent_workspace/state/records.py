"""The record lists (/interactions, /cases, /incidents) and one record's page.

Thin states over ``services.record_lists`` and ``services.record_pages``: every
handler checks what the page sends (types, sizes, known values) before any work,
and what a viewer may see is the services' rule. Both states hold the signed-in
user's data (``_uid``), cleared by security.py for anyone else.
"""

from __future__ import annotations

import dataclasses
import math
from datetime import datetime
from urllib.parse import urlencode

import reflex as rx
from sqlmodel import Session, col, select

from agent_workspace import routes
from agent_workspace.models import QueueMember, User
from agent_workspace.security import Access, access, clear_fields, current_principal
from agent_workspace.services import record_lists, record_pages, routing
from agent_workspace.services.errors import NotFound, ServiceError, ValidationError
from agent_workspace.services.record_access import Viewer, queue_ids_of
from agent_workspace.services.record_lists import STATES_OF, ListKind, ListQuery, Scope, SortColumn
from agent_workspace.services.record_params import query_from_params
from agent_workspace.state.common import run_query
from agent_workspace.state.views import EmailView, MessageView, text_parts, wait_text

PAGE_SIZE = 25
SEARCH_CHARS = record_lists.MAX_SEARCH_LENGTH
NUMBER_CHARS = 20  # the longest record number a URL may carry
SCOPE_LABELS = {Scope.MINE: "Mine", Scope.MY_QUEUES: "My queues", Scope.ALL: "All"}
COLUMN_LABELS = {
    SortColumn.NUMBER: "Number",
    SortColumn.CUSTOMER: "Customer",
    SortColumn.QUEUE: "Queue",
    SortColumn.AGENT: "Agent",
    SortColumn.STATE: "State",
    SortColumn.OPENED: "Opened (UTC)",
    SortColumn.CLOSED: "Closed (UTC)",
    SortColumn.DURATION: "Duration",
    SortColumn.RATING: "Rating",
}
KIND_BY_LIST = {path: ListKind(kind) for kind, path in routes.LISTS.items()}


def when(at: datetime | None) -> str:
    return f"{at:%Y-%m-%d %H:%M}" if at else ""


@dataclasses.dataclass
class RowView:
    number: str = ""
    href: str = ""
    customer: str = ""
    customer_email: str = ""
    queue: str = ""
    agent: str = ""
    state: str = ""
    opened: str = ""
    closed: str = ""
    duration: str = ""
    rating: str = ""
    summary: str = ""


def row_view(kind: ListKind, row: record_lists.ListRow) -> RowView:
    return RowView(
        number=row.number,
        href=routes.record_path(kind.value, row.number),
        customer=row.customer,
        customer_email=row.customer_email,
        queue=row.queue,
        agent=row.agent or "—",
        state=row.state_label,
        opened=when(row.opened),
        closed=when(row.closed),
        duration=wait_text(row.duration_seconds),
        rating=f"{row.rating} / 5" if row.rating is not None else "—",
        summary=row.summary,
    )


def _filter_options(session: Session, *, viewer: Viewer) -> tuple[list[list[str]], list[list[str]]]:
    """The queues and agents a viewer may filter by: the queues they see, and the people working them."""
    visible = queue_ids_of(session, viewer)
    queues = [q for q in routing.active_queues(session) if visible is None or q.id in visible]
    people = select(User.id, User.display_name).where(col(User.active).is_(True)).order_by(User.display_name)
    if visible is not None:
        members = select(QueueMember.user_id).where(col(QueueMember.queue_id).in_(visible))
        people = people.where(col(User.id).in_(members) | (col(User.id) == viewer.user_id))
    return [[str(q.id), q.name] for q in queues], [[str(uid), name] for uid, name in session.exec(people)]


def _text(value: object, label: str) -> str:
    """A text field of the filter form (the service checks what it says)."""
    if not isinstance(value, str):
        raise ValidationError(f"{label}: could not be read.")
    return value


def _choice(value: object, options: list[str], label: str) -> str:
    if not isinstance(value, str) or (value and value not in options):
        raise ValidationError(f"{label}: pick one of the list.")
    return value


async def _viewer_of(state: RecordListState | RecordPageState) -> Viewer | None:
    """The signed-in caller as a record viewer; a tab that held someone else's view starts afresh."""
    principal = await current_principal(state)
    if principal is None:
        return None
    if state._uid != principal.user_id:
        clear_fields(state)
        state._uid = principal.user_id
    return Viewer.of(principal.user_id, principal.roles)


@access(Access.WORKSPACE)
class RecordListState(rx.State):
    """One list page: its kind, scope, filters, sort, page and the rows shown."""

    _uid: int = 0
    loaded: bool = False
    sees_all: bool = False
    kind: str = ListKind.INTERACTION.value
    scope: str = Scope.MY_QUEUES.value
    state_filter: str = ""
    queue_filter: str = ""
    agent_filter: str = ""
    date_from: str = ""
    date_to: str = ""
    search_text: str = ""
    sort: str = SortColumn.OPENED.value
    descending: bool = True
    page: int = 1
    total: int = 0
    rows: list[RowView] = []
    error: str = ""
    state_options: list[list[str]] = []
    queue_options: list[list[str]] = []
    agent_options: list[list[str]] = []

    @rx.var
    def page_count(self) -> int:
        return max(1, math.ceil(self.total / PAGE_SIZE))

    @rx.var
    def filters_key(self) -> str:
        """Changes whenever the filters do, so the form shows them afresh (e.g. after Clear)."""
        return "|".join(
            (
                self.kind,
                self.state_filter,
                self.queue_filter,
                self.agent_filter,
                self.date_from,
                self.date_to,
                self.search_text,
            )
        )

    def _params(self) -> dict[str, str]:
        """The list's filters as the export link's parameters ("" left out)."""
        params = {
            "scope": self.scope,
            "state": self.state_filter,
            "queue": self.queue_filter,
            "agent": self.agent_filter,
            "from": self.date_from,
            "to": self.date_to,
            "q": self.search_text,
            "sort": self.sort,
            "desc": "1" if self.descending else "0",
        }
        return {key: value for key, value in params.items() if value}

    @rx.var
    def export_href(self) -> str:
        """The supervisor's CSV of this list, with the filters applied now."""
        return routes.export_path(self.kind) + "?" + urlencode(self._params())

    def _query(self) -> ListQuery:
        return query_from_params(ListKind(self.kind), self._params(), page=self.page, page_size=PAGE_SIZE)

    async def _show(self, viewer: Viewer) -> None:
        try:
            found = await run_query(record_lists.list_records, viewer=viewer, query=self._query())
        except ServiceError as error:
            self.error, self.rows, self.total = str(error), [], 0
            return
        kind = ListKind(self.kind)
        self.error = ""
        self.rows = [row_view(kind, row) for row in found.rows]
        self.total = found.total

    @rx.event
    async def load(self):
        """on_load: the list of the route's kind; filters start afresh when the kind changes."""
        viewer = await _viewer_of(self)
        if viewer is None:
            return rx.redirect(routes.LOGIN)
        kind = KIND_BY_LIST.get(str(self.router.url.path).rstrip("/") or "/", ListKind.INTERACTION)
        if kind.value != self.kind or not self.loaded:
            clear_fields(self)
            self._uid = viewer.user_id
            self.kind = kind.value
            self.scope = (Scope.ALL if viewer.sees_all else Scope.MY_QUEUES).value
            self.state_options = [[value, label] for value, label in STATES_OF[kind].items()]
        self.sees_all = viewer.sees_all
        self.queue_options, self.agent_options = await run_query(_filter_options, viewer=viewer)
        await self._show(viewer)
        self.loaded = True
        return None

    @rx.event
    async def choose_scope(self, value: str | list[str]):
        """Mine / My queues / All (supervisors only)."""
        viewer = await _viewer_of(self)
        if viewer is None:
            return None
        if (
            not isinstance(value, str)
            or value not in {s.value for s in Scope}
            or (value == Scope.ALL and not viewer.sees_all)
        ):
            self.error = "Pick Mine or My queues."
            return None
        self.scope, self.page = value, 1
        await self._show(viewer)
        return None

    @rx.event
    async def apply_filters(self, form: dict):
        viewer = await _viewer_of(self)
        if viewer is None:
            return None
        try:
            if not isinstance(form, dict):
                raise ValidationError("The filters could not be read.")
            queue = _choice(form.get("queue", ""), [q[0] for q in self.queue_options], "Queue")
            agent = _choice(form.get("agent", ""), [a[0] for a in self.agent_options], "Agent")
            state, date_from, date_to = (
                _text(form.get("state", ""), "State"),
                _text(form.get("from", ""), "Opened from"),
                _text(form.get("to", ""), "Opened to"),
            )
            query_from_params(ListKind(self.kind), {**self._params(), "state": state, "from": date_from, "to": date_to})
        except ValidationError as error:
            self.error = str(error)
            return None
        self.state_filter, self.queue_filter, self.agent_filter = state, queue, agent
        self.date_from, self.date_to, self.page = date_from, date_to, 1
        await self._show(viewer)
        return None

    @rx.event
    async def clear_filters(self):
        viewer = await _viewer_of(self)
        if viewer is None:
            return None
        self.state_filter = self.queue_filter = self.agent_filter = self.date_from = self.date_to = self.search_text = (
            ""
        )
        self.page = 1
        await self._show(viewer)
        return None

    @rx.event
    async def run_search(self, form: dict):
        """Enter in the search box: a record number opens its page, other words filter the list."""
        viewer = await _viewer_of(self)
        if viewer is None:
            return None
        text = form.get("q", "") if isinstance(form, dict) else None
        try:
            query_from_params(ListKind(self.kind), {**self._params(), "q": _text(text, "Search")})
        except ValidationError as error:
            self.error = str(error)
            return None
        number = record_lists.number_of(text)
        if number is not None:
            kind, canonical = number
            return rx.redirect(routes.record_path(kind.value, canonical))
        self.search_text, self.page = text.strip(), 1
        await self._show(viewer)
        return None

    @rx.event
    async def sort_by(self, column: str):
        """A column header: sort by it; the same header again reverses the order."""
        viewer = await _viewer_of(self)
        if viewer is None:
            return None
        if not isinstance(column, str) or column not in {c.value for c in SortColumn}:
            self.error = "That column cannot be sorted."
            return None
        self.descending = (
            not self.descending if column == self.sort else column in (SortColumn.OPENED, SortColumn.CLOSED)
        )
        self.sort, self.page = column, 1
        await self._show(viewer)
        return None

    @rx.event
    async def go_to_page(self, page: int):
        viewer = await _viewer_of(self)
        if viewer is None:
            return None
        if isinstance(page, bool) or not isinstance(page, int) or not 1 <= page <= self.page_count:
            self.error = f"Pick a page from 1 to {self.page_count}."
            return None
        self.page = page
        await self._show(viewer)
        return None


@dataclasses.dataclass
class FieldView:
    label: str = ""
    value: str = ""


@dataclasses.dataclass
class RelatedView:
    kind: str = ""
    number: str = ""
    href: str = ""
    summary: str = ""
    state: str = ""


@dataclasses.dataclass
class HistoryView:
    at: str = ""
    text: str = ""  # names who did it: "Ann Agent transferred the chat from General to Billing"


def history_views(lines: list[record_pages.HistoryLine]) -> list[HistoryView]:
    """Timed to the second, unlike the lists' minutes: several changes made in one
    minute still read as separate steps."""
    return [HistoryView(f"{h.at:%Y-%m-%d %H:%M:%S}", h.text) for h in lines]


def _line(line: record_pages.ConversationLine) -> MessageView:
    attachment = f"{routes.ATTACHMENTS}/{line.attachment_public_id}" if line.attachment_public_id else ""
    return MessageView(
        sender_kind=line.sender_kind,
        sender_name=line.sender_name,
        body=line.body,
        parts=text_parts(line.body),
        time=when(line.at),
        attachment_url=attachment,
        attachment_name=line.attachment_name,
    )


@access(Access.WORKSPACE)
class RecordPageState(rx.State):
    """One interaction, case or incident, read-only, by the number in the URL."""

    _uid: int = 0
    loaded: bool = False
    found: bool = False
    asked_number: str = ""  # what the URL named, for the not-found message
    kind: str = ""
    record_number: str = ""
    title: str = ""
    state_label: str = ""
    closed: bool = False
    history_notice: str = ""
    details: list[FieldView] = []
    description: str = ""
    resolution_notes: str = ""
    conversation: list[MessageView] = []
    work_notes: str = ""
    related: list[RelatedView] = []
    emails: list[EmailView] = []
    transfers: list[HistoryView] = []
    escalations: list[HistoryView] = []
    rating: str = ""
    rating_comment: str = ""
    history: list[HistoryView] = []
    transcript_href: str = ""

    @rx.var
    def list_href(self) -> str:
        return routes.LISTS.get(self.kind, routes.INTERACTIONS)

    @rx.event
    async def load(self):
        """on_load of /interaction/<number>, /case/<number>, /incident/<number>."""
        viewer = await _viewer_of(self)
        if viewer is None:
            yield rx.redirect(routes.LOGIN)
            return
        route_kind, _, number = str(self.router.url.path).strip("/").partition("/")
        number = number[:NUMBER_CHARS]
        self.loaded, self.asked_number = False, number
        yield
        try:
            page = await run_query(record_pages.record_page, viewer=viewer, number=number)
        except NotFound:
            clear_fields(self)
            self._uid, self.asked_number, self.loaded = viewer.user_id, number, True
            self.kind = route_kind if route_kind in routes.RECORDS else ""
            return
        if (page.kind, page.number) != (route_kind, number):  # ims1028 or /case/IMS…: the record's own address
            yield rx.redirect(routes.record_path(page.kind, page.number))
            return
        self._show(page)
        self.loaded = True

    def _show(self, page: record_pages.RecordPage) -> None:
        self.found, self.kind, self.record_number, self.title = True, page.kind, page.number, page.title
        self.state_label, self.closed, self.history_notice = page.state_label, page.closed, page.history_notice
        self.details = [FieldView(f.label, f.value) for f in page.details]
        self.description, self.resolution_notes = page.description, page.resolution_notes
        self.conversation = [_line(line) for line in page.conversation]
        self.work_notes = page.work_notes
        self.related = [
            RelatedView(r.kind, r.number, routes.record_path(r.kind, r.number), r.summary, r.state_label)
            for r in page.related
        ]
        self.emails = [EmailView(e.to_address, e.subject, e.status, when(e.at)) for e in page.emails]
        self.transfers, self.escalations, self.history = (
            history_views(page.transfers),
            history_views(page.escalations),
            history_views(page.history),
        )
        self.rating = f"{page.rating} / 5" if page.rating is not None else ""
        self.rating_comment = page.rating_comment
        has_chat = page.kind == ListKind.INTERACTION or any(r.kind == ListKind.INTERACTION for r in page.related)
        self.transcript_href = routes.transcript_path(page.number) if has_chat else ""
