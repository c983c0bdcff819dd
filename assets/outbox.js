// Messages the page has taken from its composer but the server has not yet
// confirmed, kept in sessionStorage (per tab, survives a reload of the tab).
//
// The composer's submit is caught here, before React and Reflex see it: the
// text gets a client id, is stored, shown at once as a pending bubble
// ("Sending…", at the end of the conversation, scrolled into view) and sent
// through `onSend` while the page is connected, one at a time in the order
// typed. A text leaves the outbox only when the server
// lists its id in `taken` (stored, failed with Retry, or refused with a reason
// shown); until then it is sent again after every reconnect (Reflex's
// connection errors clear, the page hydrates again) and after a reload. The
// server takes each client id once, so a second copy is harmless. A send the
// server has not taken within STALL_MS shows the connection banner (connection.js).
import { createElement, useCallback, useEffect, useRef, useState } from "react";
import { STALL_MS, reportStalled } from "./connection.js";

const PREFIX = "aw-outbox:";

const load = (scope) => {
  try {
    const items = JSON.parse(window.sessionStorage.getItem(PREFIX + scope) || "[]");
    return Array.isArray(items) ? items : [];
  } catch {
    return [];
  }
};

const save = (scope, items) => {
  try {
    if (items.length) window.sessionStorage.setItem(PREFIX + scope, JSON.stringify(items));
    else window.sessionStorage.removeItem(PREFIX + scope);
  } catch {
    // Storage full or blocked: the texts stay in memory until sent.
  }
};

// 32 hex characters: crypto.getRandomValues also works where randomUUID does not (plain http).
const newClientId = () =>
  "o" + Array.from(window.crypto.getRandomValues(new Uint8Array(16)), (b) => b.toString(16).padStart(2, "0")).join("");

export function Outbox({
  scope,
  formId,
  taken,
  hydrated,
  online,
  onSend,
  fields,
  senderName,
  label,
  statusText,
  leavePrefix,
}) {
  const [items, setItems] = useState(() => load(scope));
  const live = useRef({});
  live.current = { hydrated, online, onSend, fields };
  const inFlight = useRef(null); // the client id sent and not yet taken
  const stallTimer = useRef(null);
  const stalledId = useRef(null); // the client id that waited too long, until the server takes it
  const list = useRef(null);
  const typed = useRef(false); // a text was just typed: its bubble is scrolled into view

  const settle = useCallback(() => {
    window.clearTimeout(stallTimer.current);
    stalledId.current = null;
    reportStalled(scope, false);
  }, [scope]);

  // One at a time, oldest first: the next goes once the server has taken the one
  // before, so texts are stored in the order typed even when a send is lost.
  const pump = useCallback(() => {
    const { hydrated: ready, online: up, onSend: handler, fields: extra } = live.current;
    const head = load(scope)[0];
    if (!ready || !up || !head || inFlight.current === head.client_id) return;
    inFlight.current = head.client_id;
    window.clearTimeout(stallTimer.current);
    stallTimer.current = window.setTimeout(() => {
      if (inFlight.current !== head.client_id) return;
      stalledId.current = head.client_id;
      reportStalled(scope, true);
    }, STALL_MS);
    handler?.({ ...(extra || {}), body: head.body, client_id: head.client_id });
  }, [scope]);

  useEffect(() => settle, [settle]); // a chat closed while its send waited

  // Back online, and again once hydrated (Reflex hydrates on every connect): the
  // oldest text goes again; a second copy of a stored one is a no-op on the server.
  useEffect(() => {
    inFlight.current = null;
    pump();
  }, [hydrated, online, pump]);

  // The server has taken these: they leave the outbox (and its storage), and the next goes.
  const takenKey = (taken || []).join(" ");
  useEffect(() => {
    const done = new Set(takenKey.split(" "));
    const stored = load(scope);
    const left = stored.filter((item) => !done.has(item.client_id));
    if (left.length !== stored.length) save(scope, left);
    const tookInFlight = done.has(inFlight.current);
    if (tookInFlight) inFlight.current = null;
    // The one that waited is taken (a reconnect may have cleared what was in flight), or none is left.
    if (tookInFlight || done.has(stalledId.current) || !left.length) settle();
    setItems(left);
    pump();
  }, [scope, takenKey, pump, settle]);

  // The composer: caught in the capture phase, so the text is kept even while
  // Reflex's own event queue waits for the socket. The box is emptied before the
  // form's own submit reads it. A text starting with `leavePrefix` (the agent's "/"
  // quick actions) is left to that submit, untouched.
  useEffect(() => {
    const onSubmit = (event) => {
      const form = event.target;
      if (!(form instanceof HTMLFormElement) || form.id !== formId) return;
      const input = form.elements.namedItem("body");
      const body = (input?.value || "").trim();
      if (leavePrefix && body.startsWith(leavePrefix)) return;
      event.preventDefault();
      if (!body) return;
      const next = [...load(scope), { client_id: newClientId(), body }];
      save(scope, next);
      typed.current = true;
      setItems(next);
      input.value = "";
      pump();
    };
    document.addEventListener("submit", onSubmit, true);
    return () => document.removeEventListener("submit", onSubmit, true);
  }, [scope, formId, leavePrefix, pump]);

  // The conversation's box scrolls to the new bubble, even when the person had
  // scrolled back through it; the page itself stays where it is.
  useEffect(() => {
    if (!typed.current) return;
    typed.current = false;
    const bubble = list.current?.lastElementChild;
    const box = bubble?.closest(".aw-scroll");
    if (!box) return;
    const below = bubble.getBoundingClientRect().bottom - box.getBoundingClientRect().bottom;
    if (below > 0) box.scrollTop += below;
  }, [items]);

  if (!items.length) return null;
  return createElement(
    "ol",
    { className: "aw-outbox", "aria-label": label, ref: list },
    items.map((item) =>
      createElement(
        "li",
        { key: item.client_id, className: "aw-bubble aw-mine aw-pending" },
        createElement("span", { className: "aw-pending-sender" }, senderName),
        createElement("span", { className: "aw-body aw-pending-body" }, item.body),
        createElement("span", { className: "aw-status" }, statusText),
      ),
    ),
  );
}
