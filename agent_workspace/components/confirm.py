"""A confirmation before an action that cannot be undone (Details › Close, the
customer's End chat): an alert dialog that says what will happen.

Focus moves into it onto the confirming button, so Enter confirms; Escape and the
other button cancel, and focus returns to the button that opened it (the dialog is
opened by its trigger, which Radix focuses again on closing)."""

from __future__ import annotations

from typing import Any

import reflex as rx


def confirm_dialog(
    trigger: rx.Component,
    *,
    title: str | rx.Var,
    description: tuple[str | rx.Var, ...],
    confirm: str,
    cancel: str,
    on_confirm: Any,
) -> rx.Component:
    """``trigger`` opens the dialog; ``description`` is its sentence in parts (text and vars);
    ``on_confirm`` runs when the person confirms."""
    return rx.alert_dialog.root(
        rx.alert_dialog.trigger(trigger),
        rx.alert_dialog.content(
            rx.alert_dialog.title(title),
            rx.alert_dialog.description(*description),
            rx.hstack(
                # Radix focuses its Cancel part when the dialog opens: the confirming
                # button is that part, so that Enter confirms. Both parts only close
                # the dialog; the handler sits on the part, not on its button (a
                # button with its own on_click would be wrapped and lose the focus).
                rx.alert_dialog.action(rx.button(cancel, variant="soft", color_scheme="gray")),
                rx.alert_dialog.cancel(rx.button(confirm, color_scheme="red", high_contrast=True), on_click=on_confirm),
                justify="end",
                spacing="3",
                margin_top="16px",
                wrap="wrap",
            ),
            max_width="480px",
        ),
    )
