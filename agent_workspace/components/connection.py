"""Connection loss, said plainly: our banner instead of Reflex's raw toast, and
the outbox (assets/outbox.js) that keeps what was typed until the server has it."""

from __future__ import annotations

import reflex as rx
from reflex_components_core.core.banner import has_connection_errors  # type: ignore[import-untyped]

RECONNECTING = "Reconnecting… your messages will be sent when the connection is back."
SLOW = "Still sending… the server is slow to answer. Your messages are kept and will be sent."
OPENING = "Waiting for the server… this page opens by itself as soon as it answers."
PENDING_LABEL = "Waiting to be sent"
PENDING_STATUS = "Sending…"


class Outbox(rx.Component):
    """Pending messages of one composer: kept in sessionStorage, shown as
    Sending… bubbles in the order typed, sent (again) on every (re)connect
    until the server lists their client ids in ``taken``."""

    library = "$/public/outbox.js"
    tag = "Outbox"

    scope: rx.Var[str]  # one outbox per chat composer (the sessionStorage key)
    form_id: rx.Var[str]  # the composer form whose submit it takes over
    taken: rx.Var[list[str]]
    hydrated: rx.Var[bool]
    online: rx.Var[bool]
    fields: rx.Var[dict]  # sent along with each message (the agent's chat id)
    sender_name: rx.Var[str]
    label: rx.Var[str]
    status_text: rx.Var[str]
    leave_prefix: rx.Var[str]  # texts starting with it go to the form's own submit ("" = none do)

    # Reflex reads the argument spec from this annotation (pyright follows it, mypy cannot).
    on_send: rx.EventHandler[lambda message: [message]]  # type: ignore[type-arg, valid-type]


def outbox(*, scope, form_id: str | rx.Var, taken, on_send, sender_name, fields=None, leave_prefix="") -> rx.Component:
    return Outbox.create(
        scope=scope,
        form_id=form_id,
        taken=taken,
        hydrated=rx.State.is_hydrated,
        online=~has_connection_errors,
        fields=fields or {},
        sender_name=sender_name,
        label=PENDING_LABEL,
        status_text=PENDING_STATUS,
        leave_prefix=leave_prefix,
        on_send=on_send,
    )


class ConnectionWatch(rx.Component):
    """Shows the one of its messages that is true now (assets/connection.js):
    ``opening`` while a page not loaded yet waits for the server, ``lost`` while
    the websocket is down (``down``) or the browser offline, ``slow`` while a send
    has waited too long with the socket up (the server, or a connection that died
    without closing)."""

    library = "$/public/connection.js"
    tag = "ConnectionWatch"

    down: rx.Var[bool]
    hydrated: rx.Var[bool]
    opening: rx.Var[rx.Component]
    lost: rx.Var[rx.Component]
    slow: rx.Var[rx.Component]


def _notice(text: str, icon: str, color_scheme: str) -> rx.Component:
    return rx.callout(text, icon=icon, color_scheme=color_scheme, variant="surface", size="1")


@rx.memo
def connection_banner() -> rx.Component:
    """Always in the page (a live region), filled while the connection is gone or slow."""
    return rx.box(
        ConnectionWatch.create(
            down=has_connection_errors,
            hydrated=rx.State.is_hydrated,
            opening=_notice(OPENING, "hourglass", "amber"),
            lost=_notice(RECONNECTING, "wifi_off", "amber"),
            slow=_notice(SLOW, "clock", "blue"),
        ),
        role="status",
        aria_label="Connection",
        class_name="aw-connection",
        data_socket=rx.cond(has_connection_errors, "down", "up"),  # what Reflex knows, apart from the banner's hints
    )


def install(app: rx.App) -> None:
    """Every stateful page gets our banner in place of Reflex's overlay (its
    "Cannot connect to server" toast and pulsing icon)."""
    # A wrap gets the page as its children: a fragment holds both.
    app.app_wraps[(5, "Overlay")] = lambda stateful: rx.fragment(connection_banner()) if stateful else None
