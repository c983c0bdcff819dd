"""Canned responses and the composer's quick actions."""

from __future__ import annotations

import pytest

from agent_workspace.services import canned
from agent_workspace.services.errors import NotFound, ValidationError
from tests.factories import make_customer, make_interaction, make_queue, make_user


def test_quick_actions_fill_placeholders_and_filter_by_queue(session):
    billing, tech = make_queue(session, name="Billing"), make_queue(session, name="Tech")
    agent = make_user(session, username="ann")
    boss = make_user(session, username="sam", roles="workspace_user,supervisor")
    chat = make_interaction(session, queue=billing, customer=make_customer(session, name="Grace Hopper"), agent=agent)
    canned.create(
        session,
        title="Greeting",
        body="Hi {customer_first_name}, I'm {agent_name} ({number}).",
        queue_id=None,
        created_by_id=boss.id,
    )
    canned.create(
        session, title="Refund policy", body="Refunds take 5 days.", queue_id=billing.id, created_by_id=boss.id
    )
    canned.create(session, title="Reboot", body="Please restart.", queue_id=tech.id, created_by_id=boss.id)

    menu = canned.quick_actions(session, interaction_id=chat.id, user_id=agent.id, typed="/r")
    assert [a.label for a in menu] == ["/r Greeting", "/r Refund policy"]  # not Tech's
    assert menu[0].text == f"Hi Grace, I'm {agent.display_name} ({chat.number})."
    assert [
        a.label for a in canned.quick_actions(session, interaction_id=chat.id, user_id=agent.id, typed="/r ref")
    ] == ["/r Refund policy"]
    assert [a.command for a in canned.quick_actions(session, interaction_id=chat.id, user_id=agent.id, typed="/")] == [
        "r",
        "r",
        "tq",
        "ta",
        "kb",
    ]
    kb = canned.quick_actions(session, interaction_id=chat.id, user_id=agent.id, typed="/kb vpn drops")
    assert [(a.command, a.text) for a in kb] == [("kb", "vpn drops")]
    with pytest.raises(NotFound):
        canned.quick_actions(session, interaction_id=chat.id, user_id=boss.id, typed="/r")


@pytest.mark.parametrize(
    ("title", "body", "message"), [("", "x", "title"), ("T", "", "reply"), ("T", "Hi {nme}", "placeholder")]
)
def test_bad_canned_responses_are_refused(session, title, body, message):
    boss = make_user(session, username="sam")
    with pytest.raises(ValidationError, match=message):
        canned.create(session, title=title, body=body, queue_id=None, created_by_id=boss.id)
    assert canned.list_all(session) == []


@pytest.mark.parametrize(
    "body",
    [
        "Hi {customer_name:>999999999}",  # a format spec: a billion spaces once filled
        "Hi {customer_name!r}",  # a conversion
        "Hi {customer_name.__class__}",  # attribute access
        "Hi {number[0]}",  # index access
        "Hi {0}",
        "Hi {}",
        "Hi { customer_name }",
        "A lone } brace",
    ],
)
def test_only_plain_listed_placeholders_are_accepted(session, body):
    boss = make_user(session, username="sam")
    with pytest.raises(ValidationError, match="Unknown placeholder .*use only \\{customer_first_name\\}"):
        canned.create(session, title="Bad", body=body, queue_id=None, created_by_id=boss.id)
    assert canned.list_all(session) == []


def test_filling_never_formats(session):
    """A value goes in as written, doubled braces are literal ones, and a reply
    stored before the check (a format spec in it) shows as text, not formatted."""
    filled = canned.fill(
        "{{Dear}} {customer_name}, {customer_name:>999999999} {number}",
        customer_name="Ann {number} {agent_name:>99}",
        agent_name="Bo",
        number="IMS0001001",
    )
    assert filled == "{Dear} Ann {number} {agent_name:>99}, {customer_name:>999999999} IMS0001001"


@pytest.mark.parametrize(
    ("text", "is_command"),
    [
        ("/kb printer", True),
        ("/KB", True),
        ("/k", True),
        ("/r warm", True),
        ("/t", True),
        ("/tq", True),
        ("/ta", True),
        ("/", True),
        ("  /kb\nprinter", True),
        ("/kbx", False),
        ("/etc/hosts", False),
        ("see /kb", False),
        ("", False),
    ],
)
def test_a_quick_action_is_any_command_the_menu_offers(text: str, is_command: bool) -> None:
    assert canned.is_command(text) is is_command
