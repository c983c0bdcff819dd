"""The message box of a chat tab and its "/" quick actions, as an ARIA combobox.

The text box is the combobox; the quick actions are its listbox. The server
finds the options once the text settles; the arrow keys, Enter and Escape are
handled in the browser (assets/combobox.js) so moving through the list sends
nothing, and a pick is the option's own click.
"""

from __future__ import annotations

import reflex as rx
from reflex.event import no_args_event_spec

from agent_workspace.components.shortcut_targets import Target, shortcut_target
from agent_workspace.services.events import TYPING_THROTTLE_MS
from agent_workspace.state.tools import ToolsState
from agent_workspace.state.views import ChatTab
from agent_workspace.state.workspace import WorkspaceState


class ComboboxKeys(rx.Component):
    """A box whose combobox text box gets the listbox keys (ArrowDown/Up, Enter, Escape)."""

    library = "$/public/combobox.js"
    tag = "ComboboxKeys"

    listbox_id: rx.Var[str]
    # Reflex reads the spec from the subscript; mypy sees a plain class there.
    on_escape: rx.EventHandler[no_args_event_spec]  # type: ignore[type-arg, valid-type]


def _option(interaction_id: rx.Var[int], label: rx.Var[str], index: rx.Var[int]) -> rx.Component:
    return rx.el.li(
        label,
        id="quick-option-" + interaction_id.to_string() + "-" + index.to_string(),
        role="option",
        aria_selected="false",  # the active option is marked by assets/combobox.js
        on_click=ToolsState.run_quick_action(index),
        class_name="aw-quick",
    )


def composer_form_id(interaction_id: rx.Var[int]) -> rx.Var[str]:
    """The form the chat's outbox takes texts from."""
    return "composer-form-" + interaction_id.to_string()


def composer(tab: ChatTab) -> rx.Component:
    interaction_id = tab.interaction_id
    composer_id = "composer-" + interaction_id.to_string()
    listbox_id = "quick-actions-" + interaction_id.to_string()
    menu_open = ToolsState.quick_for == interaction_id
    expanded = menu_open & (ToolsState.quick_actions.length() > 0)
    return ComboboxKeys.create(
        rx.form(
            rx.hstack(
                rx.el.input(type="hidden", name="interaction_id", value=interaction_id),
                rx.box(
                    rx.el.label("Message", html_for=composer_id, class_name="aw-visually-hidden"),
                    rx.input(
                        id=composer_id,
                        name="body",
                        placeholder="Type a reply, or / for quick actions…",
                        width="100%",
                        auto_complete="off",
                        max_length=4000,
                        role="combobox",
                        aria_autocomplete="list",
                        aria_expanded=rx.cond(expanded, "true", "false"),
                        aria_controls=listbox_id,
                        data_menu_open=rx.cond(menu_open, "true", "false"),
                        **shortcut_target(Target.MESSAGE),
                        # Typing goes out on the first keystroke (throttled, not
                        # debounced: a debounce waits for a pause); "/" commands
                        # are looked up once the text settles.
                        on_change=[
                            ToolsState.composer_changed(interaction_id).debounce(300),
                            ToolsState.composer_typing(interaction_id).throttle(TYPING_THROTTLE_MS),
                        ],
                    ),
                    flex="1",
                ),
                rx.button("Send", type="submit"),
                width="100%",
            ),
            # A text is taken by the chat's outbox (interaction_panel.chat_outbox), which
            # empties the box first; a quick action typed out in full ("/kb printer",
            # Enter) it leaves to this submit, which runs it, never sends it.
            on_submit=[WorkspaceState.send_message, ToolsState.composer_submitted],
            reset_on_submit=True,
            id=composer_form_id(interaction_id),
            width="100%",
        ),
        rx.cond(
            menu_open,
            rx.box(
                rx.text("Quick actions", id=listbox_id + "-label", size="1", weight="bold"),
                rx.cond(
                    expanded,
                    rx.fragment(
                        rx.el.ul(
                            rx.foreach(
                                ToolsState.quick_actions,
                                lambda action, index: _option(interaction_id, action.label, index),
                            ),
                            id=listbox_id,
                            role="listbox",
                            aria_labelledby=listbox_id + "-label",
                            class_name="aw-quick-list",
                        ),
                        rx.text("↑↓ to choose, Enter to pick, Esc to close", size="1", color_scheme="gray"),
                    ),
                    rx.text("No quick action matches (Esc to close).", size="1", color_scheme="gray", role="status"),
                ),
                width="100%",
                class_name="aw-quick-menu",
            ),
        ),
        listbox_id=listbox_id,
        on_escape=ToolsState.close_quick_actions,
        width="100%",
    )
