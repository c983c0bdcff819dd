// A dialog the server opens (its `open` is a state var: the data it shows is loaded
// first) but that closes in the browser at once. Bound straight to the var, Escape,
// Cancel or a click outside only asked the server to close it, and the dialog stayed
// up until the answer came back (as long as a busy server or a slow link takes). Here
// the browser closes it and then tells the server (onClose); the server still closes
// it by setting the var (after a form it took).
// Radix gives the focus back to a dialog's Trigger, and these have none (the button
// that opens one lives in a chat's toolbar, the dialog once on the page): the focus
// goes back to what held it when the dialog opened, if that is still on the page.
import { AlertDialog, Dialog } from "@radix-ui/themes";
import { createElement, useEffect, useLayoutEffect, useRef, useState } from "react";

// A dialog opened from a menu item (More options › Send email) opens while the menu is
// still fading out: its button (the menu's aria-labelledby) is what gets the focus back.
const openerOf = (el) => {
  const menu = el?.closest?.("[role=menu]");
  return (menu && document.getElementById(menu.getAttribute("aria-labelledby"))) || el;
};

export function ServerDialogRoot({ open, onClose, alert, children }) {
  const [shown, setShown] = useState(Boolean(open));
  const [heard, setHeard] = useState(Boolean(open));
  // What the server says is news only when it changes: a delta that repeats an open
  // the person just dismissed (sent before the server heard of it) does not reopen it.
  if (Boolean(open) !== heard) {
    setHeard(Boolean(open));
    setShown(Boolean(open));
  }
  const opener = useRef(null);
  // A layout effect runs before Radix moves the focus into the dialog (in an effect).
  useLayoutEffect(() => {
    if (shown) opener.current = openerOf(document.activeElement);
  }, [shown]);
  useEffect(() => {
    if (shown || !opener.current) return;
    const back = opener.current;
    opener.current = null;
    if (back.isConnected) back.focus();
  }, [shown]);
  const change = (next) => {
    if (next) return;
    setShown(false);
    onClose?.();
  };
  return createElement((alert ? AlertDialog : Dialog).Root, { open: shown, onOpenChange: change }, children);
}
