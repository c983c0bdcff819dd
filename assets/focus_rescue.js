// When the control that has the focus leaves the page with what it did (Accept takes
// the Inbox panel away, Close the chat's tab, a transfer the chat), the browser
// leaves the focus on the page's body: a screen reader says nothing, and Tab starts
// again from the top of the page. The focus goes to the selected tab of the tab list
// instead, which says where the agent now is.
import { useEffect } from "react";

const selectedTab = () => document.querySelector("[data-shortcut=tabs] [role=tab][aria-selected=true]");
// An open dialog keeps the focus in itself (Radix's focus scope): it is left alone.
const dialogOpen = () => document.querySelector("[role=dialog], [role=alertdialog]") !== null;
const gone = (element) => !element.isConnected || !element.checkVisibility();

export function FocusRescue() {
  useEffect(() => {
    let focused = document.activeElement;
    const onFocusIn = (event) => {
      focused = event.target;
    };
    const observer = new MutationObserver(() => {
      if (!focused || focused === document.body || !gone(focused) || dialogOpen()) return;
      const active = document.activeElement;
      if (active && active !== document.body && active !== focused) return; // the focus went somewhere on its own
      selectedTab()?.focus();
    });
    document.addEventListener("focusin", onFocusIn);
    observer.observe(document.body, { childList: true, subtree: true });
    return () => {
      observer.disconnect();
      document.removeEventListener("focusin", onFocusIn);
    };
  }, []);
  return null;
}
