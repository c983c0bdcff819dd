// The chat inside a host site's iframe (/widget): tells the host page's
// launcher (assets/widget.js) when the chat runs ("ready") or cannot
// ("blocked"), how many agent messages it holds and when Escape is pressed;
// takes focus when the visitor opens the panel. Only the frame's parent, from
// the origin the browser names as our ancestor, is heard and told anything
// (Content-Security-Policy frame-ancestors keeps every other site from framing us).
(() => {
  if (window.parent === window || window.__awWidgetFrame) return;
  window.__awWidgetFrame = true;
  const named = new URLSearchParams(location.search).get("host") || "";
  let hostOrigin = "";
  try {
    hostOrigin = new URL(named).origin;
  } catch (_) {
    hostOrigin = "";
  }
  const ancestors = location.ancestorOrigins;
  if (ancestors && ancestors.length) hostOrigin = ancestors[0]; // the browser's word over the URL's
  if (!hostOrigin || hostOrigin === "null") return;

  const tell = (message) => window.parent.postMessage({ source: "aw-widget", ...message }, hostOrigin);
  // A browser that gives a third-party frame no storage at all makes the app
  // fail on its first sessionStorage read: the launcher offers a tab of its own.
  try {
    window.sessionStorage.getItem("aw-widget");
  } catch (_) {
    tell({ type: "blocked" });
    return;
  }
  let focusWanted = false;
  let ready = false;
  let told = "";

  const focusFirst = () => {
    const target = document.querySelector(
      "#customer-message, main input:not([type=hidden]), main select, main textarea, main button",
    );
    if (!target) return false;
    target.focus();
    return true;
  };

  // How many agent messages the chat holds, once a chat is shown (its number
  // says which chat: the launcher counts what was read per chat).
  const report = () => {
    if (!ready && document.getElementById("aw-widget-loaded")) {
      ready = true; // the chat's state arrived and is shown: the app runs here
      tell({ type: "ready" });
    }
    const chat = (document.getElementById("aw-chat-number") || {}).textContent || "";
    const theirs = document.querySelectorAll(".aw-bubble.aw-theirs").length;
    if (chat && `${chat}:${theirs}` !== told) {
      told = `${chat}:${theirs}`;
      tell({ type: "messages", chat, theirs });
    }
    if (focusWanted && focusFirst()) focusWanted = false;
  };

  window.addEventListener("message", (event) => {
    if (event.source !== window.parent || event.origin !== hostOrigin) return;
    const data = event.data || {};
    if (data.source !== "aw-widget-host") return;
    if (data.type === "open") {
      focusWanted = !focusFirst();
    } else if (data.type === "collapse") {
      focusWanted = false;
    }
  });

  document.addEventListener("keydown", (event) => {
    if (event.key === "Escape" && !event.defaultPrevented) tell({ type: "close" });
  });

  // An attachment link would open a new top-level tab, where this frame's
  // partitioned chat cookie is not sent: fetch it here, with the cookie, and save it.
  document.addEventListener("click", async (event) => {
    const link = event.target instanceof Element && event.target.closest('a[href*="/api/attachments/"]');
    if (!link || new URL(link.href).origin !== location.origin) return;
    event.preventDefault();
    const response = await fetch(link.href, { credentials: "same-origin" });
    if (!response.ok) return;
    const url = URL.createObjectURL(await response.blob());
    const save = document.createElement("a");
    save.href = url;
    save.download = link.textContent.trim() || "attachment";
    document.body.append(save);
    save.click();
    save.remove();
    setTimeout(() => URL.revokeObjectURL(url), 60_000);
  });

  new MutationObserver(report).observe(document.documentElement, { childList: true, subtree: true });
  report();
})();
