"""Reflex configuration. Settings come from the environment (see README)."""

import os

import reflex as rx

from agent_workspace.config import database_url

# Embedded mode keeps page state in memory: the disk manager rewrites a file per
# event and rescans its folder, and every state here rebuilds itself from the
# database after a restart anyway. With REFLEX_REDIS_URL set, Reflex picks Redis.
STATE_MANAGER = {} if os.environ.get("REFLEX_REDIS_URL") else {"state_manager_mode": "memory"}

config = rx.Config(
    app_name="agent_workspace",
    db_url=database_url(),
    telemetry_enabled=False,
    show_built_with_reflex=False,
    plugins=[rx.plugins.RadixThemesPlugin(theme=rx.theme(accent_color="indigo", radius="medium"))],
    disable_plugins=[rx.plugins.SitemapPlugin],
    **STATE_MANAGER,
)
