"""The HTTP exports: a supervisor's CSV of a list, one record's transcript, and who is refused."""

from __future__ import annotations

import csv
import gc
import io
from collections.abc import Iterator

import pytest
from sqlmodel import Session
from starlette.requests import Request
from starlette.testclient import TestClient

from agent_workspace import db, exports
from agent_workspace.api import build_api
from agent_workspace.models import CloseReason, InteractionState
from agent_workspace.security import SESSION_COOKIE
from agent_workspace.services import auth, record_lists, routing
from tests.factories import BROWSER, add_message, make_customer
from tests.services.helpers import use_fast_argon2
from tests.services.record_list_helpers import chat

PASSWORD = "correct-horse-battery"


@pytest.fixture
def http(database_url: str) -> Iterator[TestClient]:
    """The app's HTTP routes, called from the browser the sessions were issued to."""
    with TestClient(build_api(), client=(BROWSER.address, 50000), headers={"user-agent": BROWSER.user_agent}) as client:
        yield client


def _person(
    session: Session, monkeypatch: pytest.MonkeyPatch, username: str, *, roles: tuple[str, ...], queues: list[str]
) -> str:
    """A user and their session cookie's value."""
    use_fast_argon2(monkeypatch)
    auth.create_user(session, username=username, password=PASSWORD, roles=list(roles), queues=queues)
    ticket, _ = auth.login(session, username=username, password=PASSWORD)
    return auth.redeem_ticket(session, ticket=ticket, client=BROWSER)


def _get(http: TestClient, path: str, token: str | None = None, **params: str):
    http.cookies.clear()
    if token:
        http.cookies.set(SESSION_COOKIE, token)
    return http.get(path, params=params)


@pytest.fixture
def world(session: Session, monkeypatch: pytest.MonkeyPatch) -> dict:
    """Two queues with a closed chat each (one customer's name is a formula), an agent
    of each queue and a supervisor."""
    billing, returns = routing.create_queue(session, name="Billing"), routing.create_queue(session, name="Returns")
    formula = make_customer(session, name='=HYPERLINK("http://evil.example","Click")', email="mallory@example.com")
    billing_chat = chat(session, queue=billing, customer=formula, messages=("Refund the double charge please",))
    add_message(session, billing_chat, "+1 555 0100 is my number", sender_name=formula.name)
    returns_chat = chat(session, queue=returns, question="Return a cracked kettle")
    open_chat = chat(session, queue=billing, state=InteractionState.WORK_IN_PROGRESS, question="Still talking")
    return {
        "billing": billing,
        "billing_chat": billing_chat,
        "returns_chat": returns_chat,
        "open_chat": open_chat,
        "billing_agent": _person(session, monkeypatch, "bella", roles=("workspace_user",), queues=["Billing"]),
        "returns_agent": _person(session, monkeypatch, "rory", roles=("workspace_user",), queues=["Returns"]),
        "supervisor": _person(session, monkeypatch, "sam", roles=("workspace_user", "supervisor"), queues=[]),
    }


def _rows(response) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(response.content.decode("utf-8-sig"))))


def test_the_export_is_refused_to_anyone_but_a_supervisor(http: TestClient, world: dict) -> None:
    path = "/api/export/interaction.csv"
    assert _get(http, path).status_code == 403  # anonymous
    assert _get(http, path, world["billing_agent"]).status_code == 403
    assert _get(http, path, "not-a-session-token").status_code == 403
    with TestClient(build_api(), client=("203.0.113.9", 50000), headers={"user-agent": "curl/8.5.0"}) as thief:
        thief.cookies.set(SESSION_COOKIE, world["supervisor"])
        assert thief.get(path).status_code == 403  # a copied cookie (and the session is now revoked)
    assert _get(http, path, world["supervisor"]).status_code == 403


def test_a_supervisor_exports_exactly_the_filtered_rows_with_formulas_neutralised(
    http: TestClient, world: dict
) -> None:
    response = _get(
        http,
        "/api/export/interaction.csv",
        world["supervisor"],
        scope="all",
        queue=str(world["billing"].id),
        state="closed_complete",
    )
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/csv")
    assert "attachment" in response.headers["content-disposition"]
    rows = _rows(response)
    assert [row["Number"] for row in rows] == [world["billing_chat"].number]  # not the other queue's, not the open chat
    assert rows[0]["Customer"] == '\'=HYPERLINK("http://evil.example","Click")'
    assert rows[0]["Queue"] == "Billing"
    everything = _rows(_get(http, "/api/export/interaction.csv", world["supervisor"], scope="all"))
    assert {row["Number"] for row in everything} == {
        world[name].number for name in ("billing_chat", "returns_chat", "open_chat")
    }


def test_a_chat_closed_by_closing_its_tab_reads_closed_not_saved_in_the_csv(
    http: TestClient, world: dict, session: Session
) -> None:
    item = world["returns_chat"]
    item.close_reason = CloseReason.TAB_CLOSED
    session.add(item)
    session.commit()
    rows = {
        row["Number"]: row["State"]
        for row in _rows(_get(http, "/api/export/interaction.csv", world["supervisor"], scope="all"))
    }
    assert (rows[item.number], rows[world["billing_chat"].number]) == ("Closed, not saved", "Closed complete")


def _export_request(token: str) -> Request:
    """The export link as the browser sends it, for calling the route itself (the
    test client would read the whole response before handing it over)."""
    return Request(
        {
            "type": "http",
            "method": "GET",
            "scheme": "http",
            "server": ("testserver", 80),
            "path": "/api/export/interaction.csv",
            "path_params": {"kind": "interaction"},
            "query_string": b"scope=all&sort=customer&desc=0",
            "headers": [
                (b"cookie", f"{SESSION_COOKIE}={token}".encode()),
                (b"user-agent", BROWSER.user_agent.encode()),
            ],
            "client": (BROWSER.address, 50000),
        }
    )


async def test_a_stalled_export_holds_no_connection_and_a_second_one_of_the_same_user_waits(
    world: dict, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(record_lists, "EXPORT_CHUNK", 1)
    pool = db.get_engine(writer=False).pool
    response = await exports.export_list(_export_request(world["supervisor"]))
    assert response.status_code == 200
    body = response.body_iterator
    chunks = [await anext(body), await anext(body)]  # the client reads two chunks, then stalls
    assert pool.checkedout() == 0
    again = await exports.export_list(_export_request(world["supervisor"]))
    assert (again.status_code, again.body) == (429, b"Your last export is still downloading: wait for it to finish.")
    chunks += [chunk async for chunk in body]
    text = "".join(chunks)
    assert [row["Number"] for row in csv.DictReader(io.StringIO(text.removeprefix("\ufeff")))] == [
        world[name].number for name in ("billing_chat", "returns_chat", "open_chat")
    ]
    left = await exports.export_list(_export_request(world["supervisor"]))  # the first one's place is free again
    assert left.status_code == 200
    await anext(left.body_iterator)
    await left.body_iterator.aclose()  # a client that leaves frees it
    never_sent = await exports.export_list(_export_request(world["supervisor"]))
    assert never_sent.status_code == 200
    del never_sent  # a response that never started streaming frees it too
    gc.collect()
    assert (await exports.export_list(_export_request(world["supervisor"]))).status_code == 200


def test_a_few_exports_run_at_once_over_all_users() -> None:
    running = exports._Exports()
    releases = [running.claim(user)[0] for user in range(exports.MAX_EXPORTS)]
    assert running.claim(99) == (None, "Too many exports are running: try again in a minute.")
    releases[0]()
    again, _ = running.claim(0)
    releases[0]()  # a late second release of the old claim leaves the new one alone
    assert running.claim(0) == (None, "Your last export is still downloading: wait for it to finish.")
    again()
    assert running.claim(99)[0] is not None


def test_neutral_prefixes_every_formula_start() -> None:
    assert [exports.neutral(cell) for cell in ("=1+1", "+1", "-1", "@SUM(A1)", "\tx", "plain", "")] == [
        "'=1+1",
        "'+1",
        "'-1",
        "'@SUM(A1)",
        "'\tx",
        "plain",
        "",
    ]


@pytest.mark.parametrize(
    "params",
    [
        {"sort": "password"},
        {"scope": "everyone"},
        {"from": "2026-13-01"},
        {"from": "2026-05-02", "to": "2026-05-01"},
        {"q": "x" * 201},
        {"queue": "one"},
        {"state": "deleted"},
        {"desc": "maybe"},
    ],
)
def test_bad_parameters_are_a_400_with_a_message(http: TestClient, world: dict, params: dict[str, str]) -> None:
    response = _get(http, "/api/export/interaction.csv", world["supervisor"], **params)
    assert response.status_code == 400
    assert response.text


def test_an_unknown_list_is_a_404(http: TestClient, world: dict) -> None:
    assert _get(http, "/api/export/user.csv", world["supervisor"]).status_code == 404


def test_a_transcript_is_for_the_records_queue_not_for_an_agent_guessing_numbers(http: TestClient, world: dict) -> None:
    number = world["billing_chat"].number
    allowed = _get(http, f"/api/records/{number}/transcript.txt", world["billing_agent"])
    assert allowed.status_code == 200
    assert "Refund the double charge please" in allowed.text
    assert "attachment" in allowed.headers["content-disposition"] and number in allowed.headers["content-disposition"]
    base = int(number.removeprefix("IMS"))
    for guess in [number, number.lower(), *(f"IMS{n:07d}" for n in range(base - 3, base + 4))]:
        if guess.upper() == world["returns_chat"].number:
            continue  # rory's own queue
        assert _get(http, f"/api/records/{guess}/transcript.txt", world["returns_agent"]).status_code == 404, guess
    assert _get(http, f"/api/records/{number}/transcript.txt").status_code == 404  # anonymous
    assert _get(http, f"/api/records/{number}/transcript.txt", world["supervisor"]).status_code == 200
