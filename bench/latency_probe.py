"""What ``bench/latency_bench.py --profile`` writes into its temporary copies of the apps (never the repository).

``REFLEX_PROBE`` goes into both apps; ``PROBE`` (the same plus wrappers of our delivery path's steps) into ours.
"""

# --profile: timing wrappers written into the benchmark's temporary copies only.
# REFLEX_PROBE goes into both apps: when each event reaches the server and when
# each delta leaves it, per client token (wall clock, comparable with the pages).
REFLEX_PROBE = '''
"""Timing wrappers for the latency benchmark's copy of the app (never the repository)."""
import asyncio, functools, json, os, threading, time

_path = os.environ["LATENCY_PROBE_LOG"]
_buffer = []  # list.append never releases the GIL: recording costs microseconds
_flusher_pid = None


def _write(record):
    global _flusher_pid
    if _flusher_pid != os.getpid():  # the server may fork its workers after importing this
        _flusher_pid = os.getpid()
        threading.Thread(target=_flusher, daemon=True).start()
    _buffer.append(record)


def _flusher():
    # Written out only when the benchmark asks (a file appears), after measuring.
    while not os.path.exists(_path + ".flush"):
        time.sleep(0.2)
    with open(_path, "a") as f:
        for record in _buffer:
            f.write(json.dumps(record, default=str) + "\\n")
    _buffer.clear()
    open(_path + ".done", "w").close()



def _log(name, started):
    _write(["step", name, (time.perf_counter() - started) * 1000])


from reflex.app import EventNamespace

_on_event = EventNamespace.on_event
_emit_update = EventNamespace.emit_update


async def on_event(self, sid, data):
    _write(["in", self.sid_to_token.get(sid), time.time()])
    return await _on_event(self, sid, data)


async def emit_update(self, update, token):
    started = time.time()
    try:
        return await _emit_update(self, update, token)
    finally:
        # Size taken after the emit (the delta holds live objects that change later).
        _write(["out", token, started, len(json.dumps(update.delta, default=str)) if update.delta else 0])


EventNamespace.on_event = on_event
EventNamespace.emit_update = emit_update
'''

PROBE = (
    REFLEX_PROBE
    + """


def _wrap(module, attr, name, mark=None):
    fn = getattr(module, attr)
    if asyncio.iscoroutinefunction(fn):
        @functools.wraps(fn)
        async def wrapper(*a, **kw):
            started = time.perf_counter()
            if mark:
                _write(["mark", mark + " starts", time.time()])
            try:
                return await fn(*a, **kw)
            finally:
                _log(name, started)
                if mark:
                    _write(["mark", mark + " ends", time.time()])
    else:
        @functools.wraps(fn)
        def wrapper(*a, **kw):
            started = time.perf_counter()
            if mark:
                _write(["mark", mark + " starts", time.time()])
            try:
                return fn(*a, **kw)
            finally:
                _log(name, started)
                if mark:
                    _write(["mark", mark + " ends", time.time()])
    setattr(module, attr, wrapper)


from agent_workspace import realtime, security
from agent_workspace.services import audience, conversations, notices, views
from agent_workspace.services import customer_views
from agent_workspace.state import common
from agent_workspace.state import views as state_views

_wrap(security.DenyByDefault, "preprocess", "security.DenyByDefault.preprocess", "authorization middleware")
_wrap(state_views, "run_blocking", "state.views.run_blocking: store, from the loop", "store (loop)")
_wrap(state_views, "_post", "state.views._post (in thread)", "store (thread)")
_wrap(conversations, "post_message", "conversations.post_message (in thread)", "post_message (thread)")
_wrap(realtime, "publish", "realtime.publish: token lookup + all pushes", "publish")
_wrap(audience, "tokens_for", "audience.tokens_for (in thread)", "tokens_for (thread)")
_wrap(realtime, "push_to_tab", "realtime.push_to_tab: one push, lock + refresh + delta", "push_to_tab")
_wrap(views, "agent_snapshot", "views.agent_snapshot (in thread)", "agent_snapshot (thread)")
_wrap(customer_views, "customer_snapshot", "customer_views.customer_snapshot (in thread)", "customer_snapshot (thread)")
_wrap(notices, "unseen_notices", "notices.unseen_notices (in thread)", "unseen_notices (thread)")
_wrap(common, "_run", "state.common._run: one service call, session + commit")
"""
)
