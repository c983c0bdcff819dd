"""Labelled form controls: every input has a visible label tied to it."""

from __future__ import annotations

import reflex as rx


def labelled(label: str, control: rx.Component, *, control_id: str) -> rx.Component:
    return rx.vstack(
        rx.el.label(label, html_for=control_id, class_name="aw-label"),
        control,
        spacing="1",
        width="100%",
    )


def text_field(label: str, *, name: str, control_id: str | None = None, **props) -> rx.Component:
    control_id = name if control_id is None else control_id
    return labelled(label, rx.input(id=control_id, name=name, width="100%", **props), control_id=control_id)


def text_area(label: str, *, name: str, control_id: str | None = None, **props) -> rx.Component:
    control_id = name if control_id is None else control_id
    return labelled(label, rx.text_area(id=control_id, name=name, width="100%", **props), control_id=control_id)


def error_callout(message: rx.Var) -> rx.Component:
    return rx.cond(
        message != "",
        rx.callout(message, icon="triangle_alert", color_scheme="red", role="alert", width="100%"),
    )


def file_drop(upload_id: str, label: str, *children: rx.Component, **props) -> rx.Component:
    """A drop zone and file picker whose file input carries an accessible name.

    rx.upload renders its <input type=file> with no way to pass attributes, so
    the name is set once the zone is mounted.
    """
    script = (
        f"document.querySelectorAll({('#' + upload_id + ' input[type=file]')!r})"
        f".forEach(input => input.setAttribute('aria-label', {label!r}))"
    )
    return rx.upload(*children, id=upload_id, multiple=True, on_mount=rx.call_script(script), **props)
