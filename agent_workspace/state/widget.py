"""The chat widget's page (/widget), and /chat opened from it: the snippet may name a queue."""

from __future__ import annotations

import reflex as rx

from agent_workspace.security import Access, access
from agent_workspace.state.customer import CustomerChatState


@access(Access.PUBLIC)
class WidgetState(rx.State):
    """Holds nothing: it only turns the snippet's ``data-queue`` into the topic."""

    @rx.event
    def choose_queue(self):
        """After the chat page's own load: the pre-chat form starts on the snippet's
        queue (``choose_topic`` sizes it, and ignores it once a chat runs)."""
        queue = self.router.url.query_parameters.get("queue", "")
        if queue:
            return CustomerChatState.choose_topic(queue)
