"""/widget: the customer chat inside a host site's iframe (assets/widget.js).

The same chat as /chat, without the page around it; the host page draws the
panel's frame, title and close button. assets/widget_frame.js talks to the
host page (unread messages, Escape, focus) and downloads attachments in place.
"""

from __future__ import annotations

import reflex as rx

from agent_workspace.pages.chat import chat_phase, chat_ticks
from agent_workspace.state.customer import CustomerChatState


def widget() -> rx.Component:
    return rx.el.main(
        rx.box(chat_phase(), padding="12px", width="100%"),
        # widget_frame.js tells the launcher "ready" once this is shown: the chat runs.
        rx.cond(CustomerChatState.loaded, rx.el.span(id="aw-widget-loaded", hidden=True)),
        chat_ticks(),
        rx.script(src="/widget_frame.js"),
        class_name="aw-widget",
    )
