"""Demo data: queues, agents, a supervisor, a user without the workspace role, articles.

Applied by ``agent-workspace seed`` and by the run command, only to an empty
database, so a second run keeps everything people did.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from sqlmodel import Session, func, select

from agent_workspace.models import Role, User, stored_id
from agent_workspace.services import auth, canned, knowledge, routing

SEED_ARTICLES = Path(__file__).resolve().parent.parent / "seed_data" / "kb_articles.jsonl"

QUEUES = [
    ("General Support", "Questions about your account, orders and anything else."),
    ("Billing", "Invoices, payments, refunds and subscriptions."),
    ("Technical Support", "Passwords, VPN, email, devices and software problems."),
]


@dataclass(frozen=True)
class DemoLogin:
    username: str
    password: str
    roles: str
    note: str


DEMO_USERS = [
    # username, display name, password, roles, capacity, queues, note
    (
        "alice",
        "Alice Martin",
        "alice-demo-pass",
        [Role.WORKSPACE_USER],
        4,
        ["General Support", "Billing", "Technical Support"],
        "agent, all queues",
    ),
    ("bob", "Bob Chen", "bob-demo-pass", [Role.WORKSPACE_USER], 4, ["General Support", "Technical Support"], "agent"),
    ("carol", "Carol Diaz", "carol-demo-pass", [Role.WORKSPACE_USER], 4, ["Billing", "General Support"], "agent"),
    ("dan", "Dan Okafor", "dan-demo-pass", [Role.WORKSPACE_USER], 2, ["Technical Support"], "agent, capacity 2"),
    (
        "sam",
        "Sam Patel",
        "sam-demo-pass",
        [Role.WORKSPACE_USER, Role.SUPERVISOR],
        4,
        ["General Support", "Billing", "Technical Support"],
        "supervisor",
    ),
    ("nora", "Nora Quinn", "nora-demo-pass", [], 4, [], "no workspace_user role (sees the refusal)"),
]


CANNED_RESPONSES = [
    ("Greeting", "Hi {customer_first_name}, thanks for reaching out! I'm {agent_name} and I'll help you today."),
    ("One moment", "Thanks, {customer_first_name}. Give me a moment while I look into this."),
    ("Anything else", "Is there anything else I can help you with today?"),
    ("Closing", "Thanks for chatting with us, {customer_first_name}. Your reference is {number}. Have a great day!"),
]


def demo_logins() -> list[DemoLogin]:
    return [DemoLogin(u, p, ",".join(r) or "(none)", note) for u, _n, p, r, _c, _q, note in DEMO_USERS]


def is_empty(session: Session) -> bool:
    return session.exec(select(func.count()).select_from(User)).one() == 0


def seed_demo(session: Session, *, articles: Path | None = SEED_ARTICLES) -> bool:
    """Fill an empty database with the demo data. Returns False if it was not empty."""
    if not is_empty(session):
        return False
    for name, description in QUEUES:
        routing.create_queue(session, name=name, description=description)
    for username, display, password, roles, capacity, queues, _note in DEMO_USERS:
        auth.create_user(
            session,
            username=username,
            password=password,
            display_name=display,
            email=f"{username}@agent-workspace.local",
            roles=[r.value for r in roles],
            capacity=capacity,
            queues=queues,
        )
    sam = session.exec(select(User).where(User.username == "sam")).one()
    for title, body in CANNED_RESPONSES:
        canned.create(session, title=title, body=body, queue_id=None, created_by_id=stored_id(sam))
    if articles is not None and articles.exists():
        knowledge.import_jsonl(session, articles)
    return True
