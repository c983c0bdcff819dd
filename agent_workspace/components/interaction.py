"""Inside an interaction tab: Actions toolbar, its dialogs, Details and case/incident sub-tabs."""

from __future__ import annotations

import reflex as rx

from agent_workspace.components.confirm import confirm_dialog
from agent_workspace.components.form import error_callout, file_drop, labelled, text_area, text_field
from agent_workspace.components.server_dialog import server_dialog
from agent_workspace.components.shortcut_targets import Target, shortcut_target
from agent_workspace.services import records
from agent_workspace.services.chat_close import CATEGORIES
from agent_workspace.services.value_labels import PRIORITY_LABELS
from agent_workspace.state.tools import ToolsState
from agent_workspace.state.views import ChatTab, RecordView
from agent_workspace.state.workspace import WorkspaceState

PRIORITIES = [(str(value), label) for value, label in PRIORITY_LABELS.items()]
RECORD_STATES = list(records.STATE_LABELS.items())


def native_select(label: str, *, name: str, control_id: str, options, value=None) -> rx.Component:
    """A plain <select>: submits with the form and is found by its label."""
    if isinstance(options, rx.Var):
        children = [rx.foreach(options, lambda o: rx.el.option(o[1], value=o[0]))]
    else:
        children = [rx.el.option(text, value=val) for val, text in options]
    # Keyed on the value so a change saved elsewhere (an escalation) re-renders it.
    props = {"default_value": value, "key": value} if value is not None else {}
    return labelled(
        label,
        rx.el.select(*children, id=control_id, name=name, required=True, class_name="aw-native-select", **props),
        control_id=control_id,
    )


def actions_toolbar(tab: ChatTab) -> rx.Component:
    return rx.hstack(
        rx.button(
            rx.icon("paperclip", size=14),
            "Add attachment",
            size="1",
            variant="soft",
            on_click=ToolsState.open_dialog("attach", tab.interaction_id),
        ),
        rx.button(
            rx.icon("arrow-right-left", size=14),
            "Transfer to queue",
            size="1",
            variant="soft",
            on_click=ToolsState.open_dialog("transfer_queue", tab.interaction_id),
        ),
        rx.button(
            rx.icon("user-round", size=14),
            "Transfer to agent",
            size="1",
            variant="soft",
            on_click=ToolsState.open_dialog("transfer_agent", tab.interaction_id),
        ),
        rx.menu.root(
            rx.menu.trigger(
                rx.button(rx.icon("ellipsis", size=14), size="1", variant="soft", aria_label="More options")
            ),
            rx.menu.content(rx.menu.item("Send email", on_select=ToolsState.open_dialog("email", tab.interaction_id))),
        ),
        rx.cond(
            tab.transfer_pending_to != "",
            rx.badge("Waiting for ", tab.transfer_pending_to, " to accept the transfer", color_scheme="amber"),
        ),
        role="toolbar",
        aria_label="Actions",
        spacing="2",
        wrap="wrap",
        width="100%",
    )


def _dialog(title: str, kind: str, *body: rx.Component) -> rx.Component:
    return server_dialog(
        rx.dialog.content(
            rx.dialog.title(title),
            *body,
            max_width="520px",
        ),
        open=ToolsState.dialog == kind,
        on_close=ToolsState.close_dialog,
    )


def _cancel() -> rx.Component:
    """Closes the dialog in the browser at once; the server hears of it after."""
    return rx.dialog.close(rx.button("Cancel", type="button", variant="soft", color_scheme="gray"))


def _buttons(submit: str, **submit_props) -> rx.Component:
    return rx.hstack(
        _cancel(),
        rx.button(submit, type="submit", **submit_props),
        justify="end",
        width="100%",
    )


def transfer_queue_dialog() -> rx.Component:
    return _dialog(
        "Transfer to another queue",
        "transfer_queue",
        rx.form(
            rx.vstack(
                rx.text(
                    "You are released from the chat; it re-enters the queue in its original place with its whole history.",
                    size="2",
                    color_scheme="gray",
                ),
                native_select("Queue", name="queue_id", control_id="transfer-queue", options=ToolsState.choices),
                text_area("Note for the next agent", name="note", control_id="transfer-queue-note", max_length=1000),
                error_callout(ToolsState.error),
                _buttons("Transfer"),
                spacing="3",
            ),
            on_submit=ToolsState.transfer_to_queue,
        ),
    )


def transfer_agent_dialog() -> rx.Component:
    return _dialog(
        "Transfer to another agent",
        "transfer_agent",
        rx.form(
            rx.vstack(
                rx.text(
                    "Available agents with free capacity. The chat stays with you until they accept.",
                    size="2",
                    color_scheme="gray",
                ),
                rx.cond(
                    ToolsState.choices.length() > 0,
                    native_select("Agent", name="agent_id", control_id="transfer-agent", options=ToolsState.choices),
                    rx.callout("No other agent is Available with free capacity right now.", icon="info", size="1"),
                ),
                text_area("Note for the agent", name="note", control_id="transfer-agent-note", max_length=1000),
                error_callout(ToolsState.error),
                _buttons("Offer transfer", disabled=ToolsState.choices.length() == 0),
                spacing="3",
            ),
            on_submit=ToolsState.transfer_to_agent,
        ),
    )


def email_dialog() -> rx.Component:
    return _dialog(
        "Send email",
        "email",
        rx.form(
            rx.vstack(
                text_field(
                    "To", name="to_address", control_id="email-to", default_value=ToolsState.email_to, type="email"
                ),
                text_field(
                    "Subject",
                    name="subject",
                    control_id="email-subject",
                    default_value=ToolsState.email_subject,
                    max_length=200,
                ),
                text_area(
                    "Message", name="body", control_id="email-body", default_value=ToolsState.email_body, rows="8"
                ),
                rx.hstack(
                    rx.el.input(type="checkbox", id="email-transcript", name="include_transcript"),
                    rx.el.label("Include the chat transcript", html_for="email-transcript", class_name="aw-label"),
                    align="center",
                    spacing="2",
                ),
                error_callout(ToolsState.error),
                _buttons("Send email"),
                spacing="3",
            ),
            on_submit=ToolsState.send_email,
        ),
    )


def attach_dialog() -> rx.Component:
    return _dialog(
        "Add attachment",
        "attach",
        rx.vstack(
            file_drop(
                "attachments",
                "Choose files to attach",
                rx.vstack(
                    rx.icon("upload", size=24, aria_hidden="true"),
                    rx.text("Drop files here or click to choose"),
                    rx.text(
                        "Up to ",
                        ToolsState.max_upload_mb.to_string(),
                        " MB per upload: images, PDF, text, CSV, Office files.",
                        size="1",
                        color_scheme="gray",
                    ),
                    align="center",
                    spacing="1",
                ),
                border="1px dashed var(--gray-a8)",
                padding="24px",
                width="100%",
            ),
            rx.foreach(rx.selected_files("attachments"), lambda name: rx.text(name, size="1")),
            rx.cond(
                ToolsState.uploading, rx.hstack(rx.spinner(size="1"), rx.text("Uploading…", size="2"), role="status")
            ),
            error_callout(ToolsState.error),
            rx.hstack(
                _cancel(),
                rx.button(
                    "Upload",
                    on_click=ToolsState.upload(rx.upload_files(upload_id="attachments")),
                    disabled=ToolsState.uploading,
                ),
                justify="end",
                width="100%",
            ),
            spacing="3",
        ),
    )


def tool_dialogs() -> rx.Component:
    return rx.fragment(transfer_queue_dialog(), transfer_agent_dialog(), email_dialog(), attach_dialog())


# ---------------------------------------------------------------- Details


def details_tab(tab: ChatTab) -> rx.Component:
    prefix = "details-" + tab.interaction_id.to_string()
    return rx.vstack(
        rx.heading("Interaction ", tab.number, size="3", as_="h3"),
        rx.data_list.root(
            rx.data_list.item(rx.data_list.label("State"), rx.data_list.value("Work in progress")),
            rx.data_list.item(rx.data_list.label("Opened for"), rx.data_list.value(tab.customer_name)),
            rx.data_list.item(rx.data_list.label("Queue"), rx.data_list.value(tab.queue_name)),
            rx.data_list.item(rx.data_list.label("Assigned to"), rx.data_list.value(WorkspaceState.display_name)),
            rx.data_list.item(rx.data_list.label("Wait time"), rx.data_list.value(tab.wait_text)),
            rx.data_list.item(
                rx.data_list.label("Opened"), rx.data_list.value(rx.moment(tab.requested_at, format="YYYY-MM-DD HH:mm"))
            ),
            rx.data_list.item(
                rx.data_list.label("Accepted"),
                rx.data_list.value(rx.moment(tab.accepted_at, format="YYYY-MM-DD HH:mm")),
            ),
            size="1",
        ),
        rx.form(
            rx.vstack(
                rx.el.input(type="hidden", name="interaction_id", value=tab.interaction_id),
                text_field(
                    "Short description",
                    name="short_description",
                    control_id=prefix + "-short",
                    default_value=tab.short_description,
                    max_length=160,
                    key=tab.short_description,
                ),
                rx.hstack(
                    native_select(
                        "Category",
                        name="category",
                        control_id=prefix + "-category",
                        options=[(c, c.title()) for c in CATEGORIES],
                        value=tab.category,
                    ),
                    native_select(
                        "Priority",
                        name="priority",
                        control_id=prefix + "-priority",
                        options=PRIORITIES,
                        value=tab.priority,
                    ),
                    width="100%",
                    spacing="3",
                ),
                text_area(
                    "Work notes",
                    name="work_notes",
                    control_id=prefix + "-notes",
                    default_value=tab.work_notes,
                    rows="3",
                    key=tab.work_notes,
                ),
                error_callout(rx.cond(ToolsState.details_for == tab.interaction_id, ToolsState.details_error, "")),
                rx.hstack(
                    rx.button("Save", type="submit", variant="outline"),
                    rx.cond(
                        (ToolsState.details_status != "") & (ToolsState.details_for == tab.interaction_id),
                        rx.text(ToolsState.details_status, size="1", color_scheme="green", role="status"),
                    ),
                    align="center",
                    spacing="2",
                ),
                spacing="2",
                width="100%",
            ),
            on_submit=ToolsState.save_details,
            width="100%",
        ),
        rx.hstack(
            rx.button("Create case", variant="soft", on_click=ToolsState.create_record(tab.interaction_id, "case")),
            rx.button(
                "Create incident", variant="soft", on_click=ToolsState.create_record(tab.interaction_id, "incident")
            ),
            spacing="2",
        ),
        rx.cond(
            tab.emails.length() > 0,
            rx.vstack(
                rx.text("Emails", weight="bold", size="2"),
                rx.foreach(
                    tab.emails,
                    lambda e: rx.text(
                        e.time,
                        " · ",
                        e.subject,
                        " · to ",
                        e.to_address,
                        " · ",
                        e.status,
                        size="1",
                    ),
                ),
                spacing="1",
            ),
        ),
        rx.divider(),
        confirm_dialog(
            rx.button("Close", color_scheme="red", high_contrast=True, **shortcut_target(Target.CLOSE_CHAT)),
            title="Close the chat and save its transcript?",
            description=(
                "The chat with ",
                tab.customer_name,
                " ends for the customer, and its transcript is saved to the interaction record ",
                tab.number,
                ".",
            ),
            confirm="Close and save",
            cancel="Keep chat open",
            on_confirm=WorkspaceState.close_chat(tab.interaction_id),
        ),
        rx.text(
            "Close ends the chat and saves the conversation history to the interaction record.",
            size="1",
            color_scheme="gray",
        ),
        spacing="3",
        width="100%",
        align="start",
    )


def record_tab(record: RecordView) -> rx.Component:
    prefix = "record-" + record.id.to_string()
    return rx.vstack(
        rx.hstack(
            rx.heading(rx.cond(record.kind == "case", "Case ", "Incident "), record.number, size="3", as_="h3"),
            rx.badge(record.state),
            rx.cond(
                record.escalation_level > 0,
                rx.badge(
                    "Escalated L",
                    record.escalation_level.to_string(),
                    " · ",
                    record.escalation_group,
                    color_scheme="red",
                ),
            ),
            spacing="2",
            align="center",
            wrap="wrap",
        ),
        rx.form(
            rx.vstack(
                rx.el.input(type="hidden", name="record_id", value=record.id),
                text_field(
                    "Short description",
                    name="short_description",
                    control_id=prefix + "-short",
                    default_value=record.short_description,
                    max_length=160,
                    key=record.short_description,
                ),
                text_area(
                    "Description",
                    name="description",
                    control_id=prefix + "-description",
                    default_value=record.description,
                    rows="4",
                    key=record.description,
                ),
                rx.hstack(
                    native_select(
                        "Priority",
                        name="priority",
                        control_id=prefix + "-priority",
                        options=PRIORITIES,
                        value=record.priority,
                    ),
                    native_select(
                        "State", name="state", control_id=prefix + "-state", options=RECORD_STATES, value=record.state
                    ),
                    spacing="3",
                    width="100%",
                ),
                text_area(
                    "Resolution notes",
                    name="resolution_notes",
                    control_id=prefix + "-resolution",
                    default_value=record.resolution_notes,
                    rows="2",
                    key=record.resolution_notes,
                ),
                rx.button("Save record", type="submit", variant="outline"),
                spacing="2",
                width="100%",
            ),
            on_submit=ToolsState.save_record,
            width="100%",
        ),
        rx.form(
            rx.vstack(
                rx.text("Escalate", weight="bold", size="2"),
                rx.el.input(type="hidden", name="record_id", value=record.id),
                text_field(
                    "Escalation group",
                    name="group",
                    control_id=prefix + "-group",
                    placeholder="e.g. Network Operations",
                    max_length=80,
                ),
                text_area("Reason", name="reason", control_id=prefix + "-reason", rows="2", max_length=1000),
                rx.button("Escalate", type="submit", color_scheme="orange", high_contrast=True),
                spacing="2",
                width="100%",
            ),
            on_submit=ToolsState.escalate,
            reset_on_submit=True,
            width="100%",
        ),
        error_callout(ToolsState.record_error),
        rx.vstack(
            rx.text("Activity", weight="bold", size="2"),
            rx.foreach(record.activity, lambda line: rx.text(line, size="1")),
            spacing="1",
            aria_label="Record activity",
        ),
        spacing="3",
        width="100%",
        align="start",
    )
