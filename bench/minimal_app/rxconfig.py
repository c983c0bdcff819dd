"""A minimal two-client Reflex chat: the yardstick for bench/latency_bench.py."""

import reflex as rx

config = rx.Config(
    app_name="minimal_chat",
    telemetry_enabled=False,
    show_built_with_reflex=False,
    plugins=[rx.plugins.RadixThemesPlugin()],
    disable_plugins=[rx.plugins.SitemapPlugin],
    state_manager_mode="memory",  # the same state manager as the app it is compared with
)
