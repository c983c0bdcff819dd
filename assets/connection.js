// When the page says it is reconnecting. Reflex knows the websocket is down only
// once it closes, and a connection that dies without closing (a network that
// drops) is noticed at its next ping, some 20-45 s later. So the banner also
// shows while the browser says it is offline, and while a message the page sent
// has waited STALL_MS for the server (the outbox reports it: `reportStalled`).
import { useEffect, useState } from "react";

const STALLED_EVENT = "aw-stalled";
export const STALL_MS = 5000;

// Per outbox scope: whether its message in flight has waited too long.
const stalled = new Set();

export function reportStalled(scope, isStalled) {
  const had = stalled.has(scope);
  if (isStalled) stalled.add(scope);
  else stalled.delete(scope);
  if (had !== isStalled) window.dispatchEvent(new Event(STALLED_EVENT));
}

const browserOffline = () => typeof navigator !== "undefined" && navigator.onLine === false;

// Shows its children (the banner) while any of the three says the connection is gone.
export function ConnectionWatch({ down, children }) {
  const [offline, setOffline] = useState(browserOffline);
  const [waiting, setWaiting] = useState(stalled.size > 0);
  useEffect(() => {
    const onLine = () => setOffline(browserOffline());
    const onStall = () => setWaiting(stalled.size > 0);
    window.addEventListener("online", onLine);
    window.addEventListener("offline", onLine);
    window.addEventListener(STALLED_EVENT, onStall);
    return () => {
      window.removeEventListener("online", onLine);
      window.removeEventListener("offline", onLine);
      window.removeEventListener(STALLED_EVENT, onStall);
    };
  }, []);
  return down || offline || waiting ? children : null;
}
