"""Route constants, so links and redirects never drift from the pages."""

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


def export_path(kind: str) -> str:
    return f"/api/export/{kind}.csv"


def transcript_path(number: str) -> str:
    return f"/api/records/{number}/transcript.txt"
