"""The sync contract (Zulip's verify_action): a view kept from notices equals a fresh read.

Random sequences of real service actions (the routing property test's, plus
transfers, typing and detail edits) run on a copy of a migrated SQLite
database. Every agent has a tab from the start, every customer from the
moment their chat starts; each hears what ``audience.tokens_for`` sends it,
one batch per commit. After each action some tabs get some of their batches:
in any order, several merged into one push, changes repeated, with the read
ahead taken at the commit (early), at delivery (late) or not at all; now and
then a push is lost, and the tab is marked to heal (``sync.*.heal``, the page's
periodic resync: a whole read after its cursors). A tab that has heard
everything must equal ``fresh``, checked at random points and at the end.
"""

from __future__ import annotations

import dataclasses
import itertools
import random
import shutil
from collections import Counter
from pathlib import Path

import pytest
from hypothesis import HealthCheck, Phase, given, note, settings
from hypothesis import strategies as st

from agent_workspace.models import ClientKind
from agent_workspace.services import events
from agent_workspace.services.availability import Availability
from tests.services import test_routing_properties as routing_properties
from tests.services.routing_world import N_AGENTS, N_QUEUES, drawn_steps
from tests.sync.world import SyncWorld, Tab, hear

STEPS = 40

WEIGHTS = {"accept_as_an_available_member": 8, "post": 6, "set_presence": 2, "tab_gone": 0}
OPERATIONS = [
    *((name, WEIGHTS.get(name, weight), args) for name, weight, args in routing_properties.OPERATIONS),
    ("typing", 2, lambda r: {"c": r.randrange(10**6), "agent_side": r.random() < 0.5}),
    ("transfer_to_queue", 3, lambda r: {"c": r.randrange(10**6), "q": r.randrange(N_QUEUES)}),
    ("transfer_to_agent", 3, lambda r: {"c": r.randrange(10**6), "a": r.randrange(N_AGENTS)}),
    ("answer_transfer", 3, lambda r: {"c": r.randrange(10**6), "accept": r.random() < 0.6}),
    ("edit_details", 1, lambda r: {"c": r.randrange(10**6), "priority": r.randint(1, 5)}),
]
NEEDS_A_CHAT = routing_properties.NEEDS_A_CHAT

_example = itertools.count()
TOTALS: Counter[str] = Counter()

pytestmark = pytest.mark.usefixtures("offer_timeout")


def differences(kept, fresh, path: str = "") -> list[str]:
    """Where the kept view and the fresh read disagree, down to the innermost fields."""
    if kept == fresh:
        return []
    if dataclasses.is_dataclass(kept) and type(kept) is type(fresh):
        return [
            line
            for f in dataclasses.fields(kept)
            if f.compare
            for line in differences(getattr(kept, f.name), getattr(fresh, f.name), f"{path}.{f.name}")
        ]
    if isinstance(kept, dict) and isinstance(fresh, dict):
        keys = sorted(set(kept) | set(fresh))
        return [line for k in keys for line in differences(kept.get(k), fresh.get(k), f"{path}[{k}]")]
    if isinstance(kept, (list, tuple)) and isinstance(fresh, (list, tuple)) and len(kept) == len(fresh):
        return [line for i, (k, f) in enumerate(zip(kept, fresh)) for line in differences(k, f, f"{path}[{i}]")]
    if (
        isinstance(kept, (list, tuple))
        and isinstance(fresh, (list, tuple))
        and all(hasattr(x, "id") for x in kept + fresh)
    ):
        kept_ids, fresh_ids = [x.id for x in kept], [x.id for x in fresh]
        return [f"  {path}: ids kept {kept_ids}, fresh {fresh_ids}"]
    return [f"  {path}: kept {kept!r}, fresh {fresh!r}"]


STAFFED = {Availability.AVAILABLE, Availability.BUSY}


def without_estimate(shown):
    """What a customer tab shows with the estimated wait left out (the place in line
    kept): a transfer between agents moves load without a queue notice (left open),
    and the page's quiet tick re-reads it."""
    outlook = getattr(shown.view, "outlook", None)
    if outlook is None or outlook.status not in STAFFED:
        return shown
    calm = dataclasses.replace(outlook, status=Availability.BUSY, wait_seconds=0)
    return dataclasses.replace(shown, view=dataclasses.replace(shown.view, outlook=calm))


def check(world: SyncWorld, tab: Tab, when: str) -> None:
    kept, fresh = without_estimate(tab.shown), without_estimate(world.fresh(tab))
    assert kept == fresh, (
        f"{tab.token} {when}, kept from notices != fresh read:\n{chr(10).join(differences(kept, fresh))}"
    )


def run(
    seed: int,
    template: Path,
    clock,
    *,
    steps: int = STEPS,
    shared_email: bool = False,
    one_queue_each: bool = False,
    operations=OPERATIONS,
) -> None:
    rng = random.Random(seed)
    path = template.with_name(f"sync-{next(_example)}.db")
    shutil.copyfile(template, path)
    world = SyncWorld(path, shared_email=shared_email)
    previous = hear(world)
    try:
        world.build(rng, one_queue_each=one_queue_each)
        for agent_id in world.agent_ids:
            world.open_tab(ClientKind.AGENT, agent_id)
        for step, name, kwargs in drawn_steps(rng, operations, steps, world, NEEDS_A_CHAT):
            clock.advance(0.001)  # system messages' ids hold the millisecond; waits are whole seconds
            note(f"step {step}: {name}({kwargs})")
            getattr(world, name)(**kwargs)
            note(
                "  chats: "
                + " ".join(f"{r.id}:{r.state}/q{r.queue_id}/a{r.agent_id or r.offered_to_id}" for r in world.rows())
            )
            for tab in world.tabs.values():
                if tab.pending and rng.random() < 0.4:
                    world.deliver(tab, rng)
                if not tab.pending and not tab.dropped and rng.random() < 0.2:
                    check(world, tab, f"after step {step}")
        for tab in world.tabs.values():
            while tab.pending:
                world.deliver(tab, rng, everything=rng.random() < 0.3)
            if tab.dropped:
                world.heal(tab)
            check(world, tab, "at the end")
    finally:
        events.set_publisher(previous)
        world.close_db()
        path.unlink(missing_ok=True)
    TOTALS.update(world.events)
    TOTALS["pushes delivered"] += world.delivered


EXAMPLES = settings(
    max_examples=40,
    deadline=None,
    derandomize=True,
    database=None,
    phases=[Phase.explicit, Phase.generate],  # a seed does not shrink; the failing steps are printed
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)


@EXAMPLES
@given(seed=st.integers(0, 2**32 - 1))
def test_views_kept_from_notices_equal_fresh_reads(seed: int, template: Path, clock) -> None:
    run(seed, template, clock, one_queue_each=seed % 2 == 0)


def test_the_random_runs_exercised_the_actions() -> None:
    """Guards against a driver that never reaches the paths the contract is about."""
    if not TOTALS:
        pytest.skip("run together with the contract test")
    for needed in [
        "accept: claimed an offer",
        "typing: sent",
        "transfer: to queue",
        "transfer: answered yes",
        "close: done",
        "sweep: offers lapsed",
        "post: stored (customer)",
        "post: stored (agent)",
        "push lost",
        "healed",
        "read ahead early",
        "read ahead late",
        "batches merged",
        "no read needed",
    ]:
        assert TOTALS[needed] >= 2, f"{needed!r} only {TOTALS[needed]} times: {dict(TOTALS)}"
