// What the page says about its connection, and only what is true. Reflex knows
// the websocket is down only once it closes, and a connection that dies without
// closing (a network that drops) is noticed at its next ping, some 20-45 s later.
// So the page says it is reconnecting while the socket is down or the browser
// says it is offline; it says a send is slow while one has waited STALL_MS for
// the server with the socket up (the outbox reports it: `reportStalled`); and
// it says it is waiting for the server while a page that has not loaded yet
// (hydrated) has waited STALL_MS, or its first connection failed.
import { useEffect, useRef, useState } from "react";

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

// Which of its three messages the page shows, if any: `opening` (not loaded
// yet), `lost` (reconnecting) or `slow` (a send waits, the socket is up).
function connectionNotice({ loadedOnce, loadWaited, down, offline, waiting }) {
  if (!loadedOnce && (loadWaited || down || offline)) return "opening";
  if (down || offline) return "lost";
  if (waiting) return "slow";
  return null;
}

// Shows the message (a component passed in each of `opening`, `lost`, `slow`) that is true now.
export function ConnectionWatch({ down, hydrated, opening, lost, slow }) {
  const [offline, setOffline] = useState(browserOffline);
  const [waiting, setWaiting] = useState(stalled.size > 0);
  const [loadWaited, setLoadWaited] = useState(false);
  const loadedOnce = useRef(false);
  if (hydrated) loadedOnce.current = true; // later hydrations (a reconnect, a new route) are no first load
  useEffect(() => {
    const onLine = () => setOffline(browserOffline());
    const onStall = () => setWaiting(stalled.size > 0);
    const loadTimer = window.setTimeout(() => setLoadWaited(true), STALL_MS);
    window.addEventListener("online", onLine);
    window.addEventListener("offline", onLine);
    window.addEventListener(STALLED_EVENT, onStall);
    return () => {
      window.clearTimeout(loadTimer);
      window.removeEventListener("online", onLine);
      window.removeEventListener("offline", onLine);
      window.removeEventListener(STALLED_EVENT, onStall);
    };
  }, []);
  const notice = connectionNotice({ loadedOnce: loadedOnce.current, loadWaited, down, offline, waiting });
  return { opening, lost, slow }[notice] ?? null;
}
