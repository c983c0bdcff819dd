"""Route constants, so links and redirects never drift from the pages."""

HOME = "/"
LOGIN = "/login"
WORKSPACE = "/workspace"
SUPERVISOR = "/supervisor"
CHAT = "/chat"
KB_ARTICLE = "/kb/[number]"
WIDGET = "/widget"  # the chat inside a host site's iframe (assets/widget.js)
