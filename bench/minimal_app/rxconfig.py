"""A minimal Reflex chat between pairs of clients: the yardstick for bench/latency_bench.py and bench/load.py --baseline."""

import reflex as rx

config = rx.Config(
    app_name="minimal_chat",
    telemetry_enabled=False,
    show_built_with_reflex=False,
    plugins=[rx.plugins.RadixThemesPlugin()],
    disable_plugins=[rx.plugins.SitemapPlugin],
    state_manager_mode="memory",  # the same state manager as the app it is compared with
)
