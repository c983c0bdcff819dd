"""Who calls the app's handlers in the websocket security tests: every state class
the app registers, and a signed-in client's session cookie minted without a browser."""

from __future__ import annotations

from reflex.state import State

import agent_workspace.agent_workspace  # noqa: F401  (registers every page and state)
from agent_workspace import security
from agent_workspace.services import auth
from tests.e2e.ws_client import USER_AGENT


def app_states() -> list[type[State]]:
    """Every state class of the app (importing the app module registers them all)."""
    found, stack = [], list(State.get_substates())
    while stack:
        cls = stack.pop()
        stack.extend(cls.get_substates())
        if cls.__module__.startswith("agent_workspace."):
            found.append(cls)
    return found


def cookie_for(world, username: str, password: str) -> str:
    """A session cookie bound, like a browser's, to the client that will use it (EventClient)."""
    with world.session() as session:
        ticket, _ = auth.login(session, username=username, password=password)
        token = auth.redeem_ticket(
            session, ticket=ticket, client=auth.Client(user_agent=USER_AGENT, address="127.0.0.1")
        )
    return f"{security.SESSION_COOKIE}={token}"
