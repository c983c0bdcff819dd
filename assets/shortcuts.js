// The workspace's keyboard shortcuts. They are declared once, in
// agent_workspace/components/shortcuts.py, and arrive here as data: each names
// the control it works through by that control's data-shortcut id. The control
// is looked for in the tab panel shown (or the page, for the header and the tab
// strip), never by its text, so another button reading the same cannot take a key.
import { useEffect, useRef } from "react";

const WAIT_MS = 5000; // a backstop: how long a revealed tab may take to show up

// The panel shown: the outermost tab panel (a chat's panel holds its child tabs' panels).
const currentPanel = () =>
  [...document.querySelectorAll("[role=tabpanel]")].find(
    (panel) => !panel.parentElement || !panel.parentElement.closest("[role=tabpanel]"),
  );

// The first enabled control with this id in scope; one marked data-shortcut-first
// (an offer made to this agent, over a queue's oldest chat) comes before the others.
const find = (target, scope) => {
  const root = scope === "panel" ? currentPanel() : document;
  if (!root) return null;
  const found = [...root.querySelectorAll(`[data-shortcut="${target}"]`)].filter(
    (el) => !el.disabled && el.getAttribute("aria-disabled") !== "true",
  );
  return found.find((el) => el.dataset.shortcutFirst === "true") || found[0] || null;
};

const selected = (el) => Boolean(el) && el.getAttribute("aria-selected") === "true";
// A reveal is done once its tab is selected or its menu expanded.
const revealed = (el) => selected(el) || (Boolean(el) && el.getAttribute("aria-expanded") === "true");
// Laid out on the page: a control in a closed menu (display: none) is not, and
// could not take the focus back when the dialog it opens closes.
const shown = (el) => Boolean(el) && el.getClientRects().length > 0;

// Resolves with lookup()'s first answer other than undefined (null: settled, nothing there).
const waitFor = (lookup) =>
  new Promise((resolve) => {
    const first = lookup();
    if (first !== undefined) return resolve(first);
    const done = (value) => {
      observer.disconnect();
      clearTimeout(timer);
      resolve(value);
    };
    const observer = new MutationObserver(() => {
      const value = lookup();
      if (value !== undefined) done(value);
    });
    observer.observe(document.body, { childList: true, subtree: true, attributes: true });
    const timer = setTimeout(() => done(null), WAIT_MS);
  });

// The tab `step` places from the selected one, wrapping round the ends, selected and
// focused (as arrow keys in the tab list do), so a screen reader says where the agent
// is and Tab goes on from there.
const stepTab = (list, step) => {
  const tabs = [...list.querySelectorAll("[role=tab]")];
  if (!tabs.length) return;
  const to = tabs[(tabs.findIndex(selected) + step + tabs.length) % tabs.length];
  to.click();
  to.focus();
};

const perform = (shortcut, el) => {
  if (shortcut.act === "focus") {
    const field = el.matches("input, textarea, select") ? el : el.querySelector("input, textarea, select") || el;
    field.focus();
    // What the box holds (Agent Assist's automatic query) is selected: typing replaces it.
    if (typeof field.select === "function") field.select();
  } else if (shortcut.act === "next-tab") {
    stepTab(el, 1);
  } else if (shortcut.act === "previous-tab") {
    stepTab(el, -1);
  } else {
    el.click();
  }
};

const run = async (shortcut) => {
  let el = find(shortcut.target, shortcut.scope);
  const reveal = shortcut.reveal && !shown(el) ? find(shortcut.reveal, shortcut.reveal_scope) : null;
  if (reveal) {
    if (!revealed(reveal)) reveal.click();
    // The revealed tab (or menu) shows its control in the same render that marks it
    // selected (or expanded): once it is, what is not there yet will not come.
    const hidden = el;
    el = await waitFor(() => {
      const found = find(shortcut.target, shortcut.scope);
      if (shown(found)) return found;
      return revealed(find(shortcut.reveal, shortcut.reveal_scope)) ? null : undefined;
    });
    el = el || hidden; // still hidden once revealed: acted on all the same, as a click would
  }
  if (el) perform(shortcut, el);
};

// While a dialog is open its own keys apply (Enter, Escape, Tab): no shortcut acts behind it.
const dialogOpen = () => document.querySelector("[role=dialog], [role=alertdialog]") !== null;

export function ShortcutKeys({ shortcuts }) {
  const latest = useRef(shortcuts);
  latest.current = shortcuts;
  useEffect(() => {
    const onKeyDown = (event) => {
      if (!event.altKey || event.ctrlKey || event.metaKey || event.shiftKey || event.repeat) return;
      // The physical key: on a Mac, Alt+letter types another character.
      const shortcut = latest.current.find((s) => event.code === `Key${s.key.toUpperCase()}`);
      if (!shortcut || dialogOpen()) return;
      event.preventDefault();
      run(shortcut);
    };
    document.addEventListener("keydown", onKeyDown);
    return () => document.removeEventListener("keydown", onKeyDown);
  }, []);
  return null;
}
