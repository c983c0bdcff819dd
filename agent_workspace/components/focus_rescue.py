"""Where the focus goes when the control that held it leaves the page with what it
did (Accept, Close, a transfer): to the selected tab of the tab list, not the page's
body (assets/focus_rescue.js)."""

from __future__ import annotations

import reflex as rx


class FocusRescue(rx.Component):
    """The workspace's watcher for a focused control taken off the page."""

    library = "$/public/focus_rescue.js"
    tag = "FocusRescue"


def focus_rescue() -> rx.Component:
    return FocusRescue.create()
