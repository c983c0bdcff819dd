"""The shortcut registry and the page agree: every control a shortcut works
through carries its data-shortcut id where the workspace page builds it."""

from __future__ import annotations

from agent_workspace.components.shortcuts import SHORTCUTS, shortcut_keys
from agent_workspace.pages.workspace import workspace_body


def test_every_shortcut_control_is_marked_on_the_workspace_page():
    page = str(workspace_body())  # the JSX, with each chat tab's panel as a template
    for shortcut in SHORTCUTS:
        for target in filter(None, (shortcut.target, shortcut.reveal)):
            assert f'"data-shortcut":"{target}"' in page, (shortcut.keys, target)


def test_keys_are_unique_letters():
    keys = [shortcut.key for shortcut in SHORTCUTS]
    assert len(set(keys)) == len(keys)
    assert all(len(key) == 1 and key.isalpha() and key.islower() for key in keys)


def test_the_script_gets_every_shortcut():
    listener = str(shortcut_keys())
    for shortcut in SHORTCUTS:
        assert f'["target"] : "{shortcut.target}"' in listener, shortcut.keys
