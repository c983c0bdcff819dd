// The keyboard of the composer's quick actions, as the WAI-ARIA APG combobox
// pattern has it: the focus stays in the text box (role=combobox) and
// aria-activedescendant names the active option of its listbox. ArrowDown and
// ArrowUp move (wrapping), Enter picks the active option (a click, so the
// mouse and the keyboard run the same handler) instead of sending, Escape
// closes the menu (data-menu-open: the list, or its "no match" line); with
// the menu closed the keys do what they always do.
// The server renders the options; the active one lives here, in the browser,
// so moving through the list sends nothing over the websocket.
import { createElement, useCallback } from "react";

function activate(input, options, index) {
  options.forEach((option, i) => option.setAttribute("aria-selected", String(i === index)));
  if (index >= 0) {
    input.setAttribute("aria-activedescendant", options[index].id);
    options[index].scrollIntoView({ block: "nearest" });
  } else {
    input.removeAttribute("aria-activedescendant");
  }
}

function optionsOf(listboxId) {
  const listbox = document.getElementById(listboxId);
  return listbox ? Array.from(listbox.querySelectorAll('[role="option"]')) : [];
}

export function ComboboxKeys({ listboxId, onEscape, children, ...props }) {
  const onKeyDown = useCallback(
    (event) => {
      const input = event.target;
      if (input.getAttribute("role") !== "combobox" || event.nativeEvent.isComposing) return;
      const options = optionsOf(listboxId);
      if (input.dataset.menuOpen !== "true") {
        activate(input, options, -1);
        return;
      }
      if (event.key === "Escape") {
        event.preventDefault();
        event.stopPropagation(); // this Escape is the menu's; the next one is nobody's
        activate(input, options, -1);
        if (onEscape) onEscape();
        return;
      }
      if (input.getAttribute("aria-expanded") !== "true" || options.length === 0) return;
      const current = options.findIndex((o) => o.id === input.getAttribute("aria-activedescendant"));
      if (event.key === "ArrowDown" || event.key === "ArrowUp") {
        event.preventDefault();
        const step = event.key === "ArrowDown" ? 1 : -1;
        const from = current < 0 && step < 0 ? 0 : current;
        activate(input, options, (from + step + options.length) % options.length);
      } else if (event.key === "Enter" && current >= 0) {
        event.preventDefault(); // picks, never submits the form
        activate(input, options, -1);
        options[current].click();
      }
    },
    [listboxId, onEscape],
  );
  // New text means new options: nothing is active until an arrow key says so.
  const onInput = useCallback(
    (event) => {
      if (event.target.getAttribute("role") === "combobox") activate(event.target, optionsOf(listboxId), -1);
    },
    [listboxId],
  );
  return createElement("div", { ...props, onKeyDown, onInput }, children);
}
