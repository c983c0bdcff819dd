"""A countdown that ticks in the browser (assets/countdown.js), not over the websocket."""

from __future__ import annotations

import reflex as rx


class Countdown(rx.Component):
    """Renders ``label: m:ss`` until ``expires_at`` (ISO 8601), as a timer with that name."""

    library = "$/public/countdown.js"
    tag = "Countdown"

    expires_at: rx.Var[str]
    label: rx.Var[str]


countdown = Countdown.create
