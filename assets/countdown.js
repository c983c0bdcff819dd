// The time left on an offer as m:ss, counted in the browser: a timer per card that
// fires only when the shown second changes, so no event goes to the server for it.
// React renders the text, so a re-render of the card cannot fight the count.
import { createElement, useEffect, useState } from "react";

export function Countdown({ expiresAt, label, ...props }) {
  const [, setTick] = useState(0);
  const left = Math.max(0, Date.parse(expiresAt) - Date.now() || 0);
  useEffect(() => {
    if (left === 0) return undefined; // 0:00 stays until the server takes the offer back
    const timer = setTimeout(() => setTick((n) => n + 1), (left % 1000) + 10);
    return () => clearTimeout(timer);
  });
  const seconds = Math.ceil(left / 1000);
  const text = `${label}: ${Math.floor(seconds / 60)}:${String(seconds % 60).padStart(2, "0")}`;
  return createElement("span", { ...props, role: "timer", "aria-label": text }, text);
}
