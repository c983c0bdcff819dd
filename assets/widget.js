// The chat widget for a team's own site. Paste one tag (README, "Chat widget"):
//   <script src="https://support.example.com/widget.js" data-queue="3"
//           data-title="Chat with us" data-color="#3e63dd" async></script>
// Optional: data-position="left", data-greeting="Hi! Questions? We're here."
// It adds a launcher button and a panel with the chat in an iframe from the
// support site (/widget). Everything it draws lives in one shadow root styled by
// a constructed style sheet (no inline styles or <style> for the host's CSP to
// allow, nothing leaking either way); its one global is window.AgentWorkspaceWidget.
// Open or collapsed and the unread count are kept in this tab's sessionStorage,
// so a reload or another page of the site finds the chat as it was left.
(() => {
  const script = document.currentScript;
  if (!script || window.AgentWorkspaceWidget) return;
  const appOrigin = new URL(script.src, location.href).origin;
  const data = script.dataset;
  const queue = /^\d{1,12}$/.test(data.queue || "") ? data.queue : "";
  const title = (data.title || "Chat with us").slice(0, 60);
  const greeting = (data.greeting || "").slice(0, 160);
  const color = /^(#[0-9a-f]{3,8}|[a-z]{3,20})$/i.test(data.color || "") ? data.color : "#3e63dd";
  const side = data.position === "left" ? "left" : "right";
  const storageKey = `aw-widget:${appOrigin}:${queue || "all"}`;
  const POLL_MS = 30_000;

  // crypto.randomUUID exists in secure contexts only; a plain-http host page has getRandomValues.
  const newPageId = () =>
    crypto.randomUUID
      ? crypto.randomUUID()
      : Array.from(crypto.getRandomValues(new Uint8Array(16)), (byte) => byte.toString(16).padStart(2, "0")).join("");
  const read = () => {
    try {
      return JSON.parse(sessionStorage.getItem(storageKey) || "{}") || {};
    } catch (_) {
      return {};
    }
  };
  const kept = read();
  const saved = {
    open: kept.open === true,
    started: kept.started === true, // the chat was opened once: load it with the page
    seen: Number.isInteger(kept.seen) ? kept.seen : 0, // agent messages the visitor has seen
    theirs: Number.isInteger(kept.theirs) ? kept.theirs : 0,
    chat: typeof kept.chat === "string" ? kept.chat : "", // the number of the chat those messages are in
    page: typeof kept.page === "string" && /^[a-z0-9-]{8,64}$/.test(kept.page) ? kept.page : newPageId(),
  };
  const save = () => {
    try {
      sessionStorage.setItem(storageKey, JSON.stringify(saved));
    } catch (_) {
      // storage refused (private mode, quota): the widget still works for this page
    }
  };

  const CSS = `
    :host { all: initial; }
    .root { position: fixed; bottom: 20px; ${side}: 20px; z-index: 2147483000; display: flex;
      flex-direction: column; align-items: ${side === "left" ? "flex-start" : "flex-end"}; gap: 10px;
      font: 15px/1.4 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; color: #1c2024; }
    .launcher { display: inline-flex; align-items: center; gap: 8px; border: 0; border-radius: 999px;
      padding: 12px 18px; background: ${color}; color: #fff; font: inherit; font-weight: 600; cursor: pointer;
      box-shadow: 0 4px 14px rgba(0,0,0,.25); }
    .launcher:focus-visible, .close:focus-visible { outline: 3px solid #1c2024; outline-offset: 2px; }
    .dot { width: 10px; height: 10px; border-radius: 50%; background: #8b8d98; box-shadow: 0 0 0 2px #fff; }
    .dot.available { background: #30a46c; } .dot.busy { background: #f5d90a; }
    .dot.nobody, .dot.closed { background: #e5484d; }
    .badge { min-width: 20px; padding: 0 6px; border-radius: 999px; background: #e5484d; color: #fff;
      font-size: 13px; line-height: 20px; text-align: center; }
    .status { max-width: 300px; padding: 8px 12px; border-radius: 10px; background: #fff; color: #1c2024;
      box-shadow: 0 2px 10px rgba(0,0,0,.18); font-size: 14px; }
    .panel { width: 380px; height: min(640px, calc(100vh - 110px)); display: flex; flex-direction: column;
      background: #fff; border-radius: 14px; overflow: hidden; box-shadow: 0 10px 40px rgba(0,0,0,.3); }
    .head { display: flex; align-items: center; gap: 8px; padding: 10px 12px 10px 16px; background: ${color}; color: #fff; }
    .head h2 { margin: 0; font-size: 16px; font-weight: 650; }
    .head p { margin: 2px 0 0; font-size: 13px; opacity: .92; }
    .head div { flex: 1; }
    .close { border: 0; background: transparent; color: #fff; font: inherit; font-size: 22px; line-height: 1;
      width: 36px; height: 36px; border-radius: 8px; cursor: pointer; }
    .close:hover { background: rgba(255,255,255,.18); }
    iframe { flex: 1; width: 100%; border: 0; background: #fff; color-scheme: normal; }
    .fallback { margin: 0; padding: 16px; font-size: 14px; }
    .own-tab { color: inherit; font-weight: 600; }
    [hidden] { display: none !important; }
    @media (max-width: 480px) {
      .panel { position: fixed; inset: 0; width: 100vw; height: 100dvh; border-radius: 0; }
      .root.open .launcher, .root.open .status { display: none; }
    }
    @media (prefers-color-scheme: dark) {
      .root { color: #edeef0; }
      .status, .panel, iframe { background: #18191b; color: #edeef0; }
      .launcher:focus-visible, .close:focus-visible { outline-color: #edeef0; }
    }`;

  const make = (tag, props = {}, ...children) => {
    const element = document.createElement(tag);
    for (const [name, value] of Object.entries(props)) {
      if (name === "text") element.textContent = value;
      else element.setAttribute(name, value);
    }
    element.append(...children);
    return element;
  };

  const hostElement = document.createElement("aw-chat-widget");
  const shadow = hostElement.attachShadow({ mode: "open" });
  const sheet = new CSSStyleSheet();
  sheet.replaceSync(CSS);
  shadow.adoptedStyleSheets = [sheet];

  const close = make("button", { type: "button", class: "close", "aria-label": "Minimize chat", text: "×" });
  const heading = make("div", {}, make("h2", { text: title }), ...(greeting ? [make("p", { text: greeting })] : []));
  const panel = make("section", { class: "panel", role: "dialog", "aria-label": title, id: "aw-panel", hidden: "" },
    make("div", { class: "head" }, heading, close));
  const status = make("div", { class: "status", role: "status", "aria-label": "Support availability", hidden: "" });
  const dot = make("span", { class: "dot", "aria-hidden": "true" });
  const badge = make("span", { class: "badge", "aria-hidden": "true", hidden: "" });
  const launcher = make("button", { type: "button", class: "launcher", "aria-expanded": "false", "aria-controls": "aw-panel" },
    dot, make("span", { text: title }), badge);
  const root = make("div", { class: "root" }, panel, status, launcher);
  shadow.append(root);

  let frame = null;
  let frameReady = false;
  // The visitor opened the panel in this page view (a panel restored open on
  // reload or on another page of the site leaves the focus where the page put it).
  let focusWanted = false;
  const tellFrame = (type) => frameReady && frame.contentWindow.postMessage({ source: "aw-widget-host", type }, appOrigin);

  // A browser that refuses the support site any storage inside another site's
  // frame (all third-party storage blocked) cannot run the chat there, and one
  // that never says "ready" may not either: offer the chat in a tab of its own.
  const ownTab = new URL("/chat", appOrigin);
  if (queue) ownTab.searchParams.set("queue", queue);
  const fallback = make("p", { class: "fallback", hidden: "" }, "The chat could not start inside this page. ",
    make("a", { href: ownTab.href, target: "_blank", rel: "noopener", class: "own-tab", text: "Open the chat in a new tab" }));
  const offerOwnTab = ({ blocked }) => {
    if (frameReady) return;
    fallback.hidden = false;
    if (!blocked) return; // it may still start: the frame stays, the link below it
    const hadFocus = shadow.activeElement === frame;
    frame.hidden = true;
    if (hadFocus || (focusWanted && saved.open)) fallback.querySelector("a").focus();
  };

  const loadFrame = () => {
    if (frame) return;
    const src = new URL("/widget", appOrigin);
    src.searchParams.set("host", location.origin);
    if (queue) src.searchParams.set("queue", queue);
    frame = make("iframe", { src: src.href, title: `${title}: support chat`, allow: "clipboard-write" });
    panel.append(frame, fallback);
    setTimeout(() => offerOwnTab({ blocked: false }), 15_000);
  };

  // ---- unread messages and the title flash (only while the visitor is not looking)
  const pageTitle = { original: document.title, timer: 0 };
  const looking = () => saved.open && document.visibilityState === "visible" && document.hasFocus();
  const stopFlash = () => {
    if (!pageTitle.timer) return;
    clearInterval(pageTitle.timer);
    pageTitle.timer = 0;
    document.title = pageTitle.original;
  };
  const flash = () => {
    if (pageTitle.timer) return;
    pageTitle.original = document.title;
    let on = false;
    pageTitle.timer = setInterval(() => {
      on = !on;
      document.title = on ? `(${Math.max(1, saved.theirs - saved.seen)}) New message` : pageTitle.original;
    }, 1000);
  };
  const showUnread = () => {
    if (saved.open && document.visibilityState === "visible") saved.seen = saved.theirs;
    const unread = Math.max(0, saved.theirs - saved.seen);
    badge.textContent = String(unread);
    badge.hidden = unread === 0 || saved.open;
    launcher.setAttribute("aria-label", unread && !saved.open ? `${title} (${unread} unread)` : title);
    if (!unread || looking()) stopFlash();
    save();
  };

  // ---- open and collapsed
  const setOpen = (open, { moveFocus = true } = {}) => {
    saved.open = open;
    if (open) {
      saved.started = true;
      loadFrame();
    }
    panel.hidden = !open;
    root.classList.toggle("open", open);
    launcher.setAttribute("aria-expanded", String(open));
    status.hidden = open || !status.textContent;
    showUnread();
    focusWanted = open && moveFocus;
    if (open) {
      if (moveFocus) {
        (frame.hidden ? fallback.querySelector("a") : frame).focus();
        tellFrame("open");
      }
    } else {
      tellFrame("collapse");
      if (moveFocus) launcher.focus();
    }
  };
  launcher.addEventListener("click", () => setOpen(!saved.open));
  close.addEventListener("click", () => setOpen(false));
  panel.addEventListener("keydown", (event) => {
    if (event.key === "Escape") setOpen(false);
  });

  window.addEventListener("message", (event) => {
    if (!frame || event.source !== frame.contentWindow || event.origin !== appOrigin) return;
    const message = event.data || {};
    if (message.source !== "aw-widget") return;
    if (message.type === "ready") {
      frameReady = true;
      frame.hidden = false;
      fallback.hidden = true; // it came late: the chat runs after all
      if (saved.open && focusWanted) tellFrame("open"); // opened while it loaded: focus goes in once
      focusWanted = false;
    } else if (message.type === "blocked") {
      offerOwnTab({ blocked: true });
    } else if (message.type === "close") {
      setOpen(false);
    } else if (message.type === "messages" && Number.isInteger(message.theirs) && typeof message.chat === "string" && message.chat.length <= 40) {
      if (message.chat !== saved.chat) Object.assign(saved, { chat: message.chat, theirs: 0, seen: 0 });
      const more = message.theirs > saved.theirs;
      saved.theirs = message.theirs;
      showUnread();
      if (more && !looking() && saved.theirs > saved.seen) flash();
    }
  });
  window.addEventListener("focus", showUnread);
  document.addEventListener("visibilitychange", () => {
    showUnread();
    if (document.visibilityState === "visible") poll();
  });

  // ---- availability, asked of the support site every POLL_MS and when the page is shown again
  let polledAt = 0;
  const poll = async () => {
    if (Date.now() - polledAt < 5_000) return;
    polledAt = Date.now();
    const url = new URL("/api/widget/availability", appOrigin);
    if (queue) url.searchParams.set("queue", queue);
    url.searchParams.set("tz", Intl.DateTimeFormat().resolvedOptions().timeZone || "UTC");
    url.searchParams.set("page", saved.page);
    try {
      const response = await fetch(url, { credentials: "omit" });
      if (!response.ok) return;
      const found = await response.json();
      dot.className = `dot ${found.status}`;
      status.textContent = typeof found.text === "string" ? found.text.slice(0, 300) : "";
      status.hidden = saved.open || !status.textContent;
    } catch (_) {
      // the support site is unreachable: the launcher stays as it was
    }
  };

  const start = () => {
    document.body.append(hostElement);
    if (saved.started) loadFrame();
    setOpen(saved.open, { moveFocus: false });
    poll();
    setInterval(poll, POLL_MS);
  };
  window.AgentWorkspaceWidget = { open: () => setOpen(true), close: () => setOpen(false) };
  if (document.body) start();
  else document.addEventListener("DOMContentLoaded", start);
})();
