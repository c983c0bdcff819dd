"""Dialogs the server opens (a state var says which) and the browser closes at once.

Bound straight to a state var, a dialog dismissed with Escape, Cancel or a click
outside stayed on screen until the server had answered the close; and with no
Trigger part, Radix gave the focus back to nothing (the page's body). The root in
assets/server_dialog.js closes in the browser first, then runs ``on_close`` on the
server, and gives the focus back to what held it when the dialog opened."""

from __future__ import annotations

from typing import Any

import reflex as rx
from reflex.event import no_args_event_spec


class ServerDialogRoot(rx.Component):
    """Radix's Dialog.Root (AlertDialog.Root with ``alert``), open while the server says so."""

    library = "$/public/server_dialog.js"
    tag = "ServerDialogRoot"

    open: rx.Var[bool]
    alert: rx.Var[bool]
    # Reflex reads the spec from the subscript; mypy sees a plain class there.
    on_close: rx.EventHandler[no_args_event_spec]  # type: ignore[type-arg, valid-type]


def server_dialog(*content: rx.Component, open: rx.Var[bool], on_close: Any, alert: bool = False) -> rx.Component:
    """``content`` is an ``rx.dialog.content`` (``rx.alert_dialog.content`` with ``alert``);
    its Cancel is an ``rx.dialog.close`` (``rx.alert_dialog.cancel``) part, so it closes here."""
    return ServerDialogRoot.create(*content, open=open, alert=alert, on_close=on_close)
