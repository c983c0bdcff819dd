"""Reflex configuration. Settings come from the environment (see README)."""

import os

import reflex as rx

from agent_workspace.config import database_url, public_site

# Embedded mode keeps page state in memory: the disk manager rewrites a file per
# event and rescans its folder, and every state here rebuilds itself from the
# database after a restart anyway. With REFLEX_REDIS_URL set, Reflex picks Redis.
STATE_MANAGER = {} if os.environ.get("REFLEX_REDIS_URL") else {"state_manager_mode": "memory"}
# Behind a reverse proxy: X-Forwarded-For is believed through AW_TRUSTED_PROXY_HOPS
# proxies (websocket and our HTTP routes alike), and only AW_PUBLIC_URL's origin may
# open the websocket (python-socketio checks Origin) or call the API cross-origin.
SITE = public_site()

config = rx.Config(
    app_name="agent_workspace",
    db_url=database_url(),
    telemetry_enabled=False,
    show_built_with_reflex=False,
    plugins=[rx.plugins.RadixThemesPlugin(theme=rx.theme(accent_color="indigo", radius="medium"))],
    disable_plugins=[rx.plugins.SitemapPlugin],
    trusted_proxy_hops=SITE.trusted_proxy_hops,
    cors_allowed_origins=list(SITE.allowed_origins),
    **STATE_MANAGER,
)
