"""Reflex configuration. Settings come from the environment (see README)."""

import reflex as rx

from agent_workspace.config import database_url

config = rx.Config(
    app_name="agent_workspace",
    db_url=database_url(),
    telemetry_enabled=False,
    show_built_with_reflex=False,
    plugins=[rx.plugins.RadixThemesPlugin(theme=rx.theme(accent_color="indigo", radius="medium"))],
    disable_plugins=[rx.plugins.SitemapPlugin],
)
