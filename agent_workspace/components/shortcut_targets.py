"""The ``data-shortcut`` ids shortcuts work through, apart from the registry
(components/shortcuts.py), so the page chrome (components/layout.py) can mark its
controls without importing the registry that imports it."""

from __future__ import annotations

from enum import StrEnum


class Target(StrEnum):
    """The ``data-shortcut`` ids of the controls shortcuts work through."""

    ACCEPT = "accept"  # an offer card's Accept, or a transfer card's (Inbox)
    INBOX_TAB = "inbox-tab"
    TABS = "tabs"  # the Interactions tab list
    MESSAGE = "message"  # a chat's message box
    CLOSE_CHAT = "close-chat"  # Details › Close, which saves the transcript
    DETAILS_TAB = "details-tab"
    ASSIST_TAB = "assist-tab"
    ASSIST_SEARCH = "assist-search"  # Agent Assist's search box
    HELP = "help"
    HEADER_MENU = "header-menu"  # the phone header's Menu, which holds the help's button


def shortcut_target(target: Target) -> dict[str, str]:
    """The attribute that lets a shortcut find this control: ``rx.button(..., **shortcut_target(...))``."""
    return {"data_shortcut": target.value}
