"""Route constants, so links and redirects never drift from the pages."""

HOME = "/"
LOGIN = "/login"
WORKSPACE = "/workspace"
CHAT = "/chat"
KB_ARTICLE = "/kb/[number]"
