"""The workspace's keyboard shortcuts, declared once: the help dialog (Alt+H) and
the key handling (assets/shortcuts.js) are both rendered from SHORTCUTS.

A shortcut names the control it works through by a ``data-shortcut`` id, which
that control carries where it is built (``shortcut_target``). The script acts on
that control in the tab panel shown, never on a button's text, so a label that
changes (or another button that reads the same) cannot redirect a key."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from enum import StrEnum

import reflex as rx

from agent_workspace.components.layout import header_label
from agent_workspace.components.shortcut_targets import Target, shortcut_target


class Act(StrEnum):
    """What a shortcut does to its control."""

    CLICK = "click"
    FOCUS = "focus"
    NEXT_TAB = "next-tab"  # select the tab after the selected one in the tab list (the first after the last)
    PREVIOUS_TAB = "previous-tab"  # the tab before it (the last before the first)


class Scope(StrEnum):
    """Where the control is looked for."""

    PANEL = "panel"  # in the tab panel shown (the current chat, or the Inbox)
    PAGE = "page"  # anywhere on the page (the header, the tab strip)


@dataclass(frozen=True)
class Shortcut:
    """Alt + ``key`` does ``act`` to the control ``target`` found in ``scope``. When the
    shown panel has no such control, or only a hidden one, ``reveal`` (looked for in
    ``reveal_scope``) is clicked first, the way a person would open the tab or the
    menu that holds it."""

    key: str
    description: str
    target: Target
    act: Act = Act.CLICK
    scope: Scope = Scope.PANEL
    reveal: Target | None = None
    reveal_scope: Scope = Scope.PANEL

    @property
    def keys(self) -> str:
        return f"Alt+{self.key.upper()}"


SHORTCUTS: tuple[Shortcut, ...] = (
    Shortcut(
        "a",
        "Accept the first chat offered to you, from any tab",
        Target.ACCEPT,
        reveal=Target.INBOX_TAB,
        reveal_scope=Scope.PAGE,
    ),
    Shortcut("n", "Next tab", Target.TABS, act=Act.NEXT_TAB, scope=Scope.PAGE),
    # P: no browser on Linux, Windows or macOS binds Alt+P (Chromium's Alt keys are D, E, F,
    # Home, arrows and, on Linux, digits; Firefox's menus F, E, V, S, B, T, H), and screen
    # readers use Insert, Caps Lock or Ctrl+Option, not Alt.
    Shortcut("p", "Previous tab", Target.TABS, act=Act.PREVIOUS_TAB, scope=Scope.PAGE),
    Shortcut("m", "Focus the message box (Enter sends)", Target.MESSAGE, act=Act.FOCUS),
    Shortcut(
        "c",
        "Close the current chat and save its transcript (Details › Close, after you confirm)",
        Target.CLOSE_CHAT,
        reveal=Target.DETAILS_TAB,
    ),
    Shortcut("k", "Open Agent Assist (its search box)", Target.ASSIST_SEARCH, act=Act.FOCUS, reveal=Target.ASSIST_TAB),
    # On a phone the help's button is behind the header's Menu: opened first, it is the
    # button the dialog gives the focus back to (a hidden one could not take it).
    Shortcut("h", "This help", Target.HELP, scope=Scope.PAGE, reveal=Target.HEADER_MENU, reveal_scope=Scope.PAGE),
)


class ShortcutKeys(rx.Component):
    """The page's one key listener (assets/shortcuts.js), given the registry as data."""

    library = "$/public/shortcuts.js"
    tag = "ShortcutKeys"

    shortcuts: rx.Var[list[dict[str, str]]]


def shortcut_keys() -> rx.Component:
    return ShortcutKeys.create(
        shortcuts=[
            {k: str(v or "") for k, v in dataclasses.asdict(shortcut).items() if k != "description"}
            for shortcut in SHORTCUTS
        ]
    )


def shortcuts_help() -> rx.Component:
    """The Shortcuts button and its dialog: one row per entry of SHORTCUTS."""
    return rx.dialog.root(
        rx.dialog.trigger(
            rx.button(
                rx.icon("keyboard", size=14),
                header_label("Shortcuts"),
                size="2",
                variant="soft",
                title="Shortcuts",
                **shortcut_target(Target.HELP),
            )
        ),
        rx.dialog.content(
            rx.dialog.title("Keyboard shortcuts"),
            rx.dialog.description("Hold Alt and press the letter.", size="2", color_scheme="gray"),
            rx.table.root(
                rx.table.body(
                    *[
                        rx.table.row(rx.table.cell(rx.el.kbd(shortcut.keys)), rx.table.cell(shortcut.description))
                        for shortcut in SHORTCUTS
                    ]
                ),
                size="1",
            ),
            rx.dialog.close(rx.button("Close help", variant="soft", margin_top="12px")),
        ),
    )
