"""Route constants, so links and redirects never drift from the pages."""

import re
from urllib.parse import quote

HOME = "/"
LOGIN = "/login"
WORKSPACE = "/workspace"
SUPERVISOR = "/supervisor"
CHAT = "/chat"
KB_ARTICLE = "/kb/[number]"
WIDGET = "/widget"  # the chat inside a host site's iframe (assets/widget.js)

# The record lists and one record's page, per kind ("interaction", "case", "incident").
INTERACTIONS = "/interactions"
CASES = "/cases"
INCIDENTS = "/incidents"
INTERACTION_RECORD = "/interaction/[number]"
CASE_RECORD = "/case/[number]"
INCIDENT_RECORD = "/incident/[number]"
LISTS = {"interaction": INTERACTIONS, "case": CASES, "incident": INCIDENTS}
RECORDS = {"interaction": INTERACTION_RECORD, "case": CASE_RECORD, "incident": INCIDENT_RECORD}

# HTTP routes (api.py, exports.py).
ATTACHMENTS = "/api/attachments"


def list_path(kind: str) -> str:
    return LISTS[kind]


def record_path(kind: str, number: str) -> str:
    """The stable address of one record: /interaction/IMS0001028, /case/CS0001001."""
    return RECORDS[kind].replace("[number]", number)


def article_path(number: str) -> str:
    """A published knowledge article's public page: /kb/KB0010001."""
    return KB_ARTICLE.replace("[number]", quote(number, safe=""))


def export_path(kind: str) -> str:
    return f"/api/export/{kind}.csv"


def transcript_path(number: str) -> str:
    return f"/api/records/{number}/transcript.txt"


# Where a sign-in may send the browser back to: our own private pages, by path only
# (never another host, a scheme or "//host"), so ?next= cannot redirect off the site.
_RETURN_PATH = re.compile(
    r"^/(workspace|supervisor|interactions|cases|incidents|(interaction|case|incident)/[A-Za-z0-9]{1,20})$"
)


def return_path(path: object) -> str | None:
    """``path`` when it is one of our private pages to come back to after signing in, else None."""
    return path if isinstance(path, str) and _RETURN_PATH.fullmatch(path) else None


def login_path(back_to: str | None = None) -> str:
    """The sign-in page, remembering the private page a signed-out visitor asked for."""
    back = return_path(back_to)
    return f"{LOGIN}?next={quote(back, safe='')}" if back else LOGIN
